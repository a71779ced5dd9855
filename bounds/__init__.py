"""The papers' theorems as pure functions of constants, and their comparison with runs.

Each bound has the name of the algorithm it is about (``bounds.extra`` for
``algos.extra``) and takes either the run's Algorithm (``bounds.extra(algo)``) or
the factory's arguments (``bounds.extra(problem, W, step_size=0.05)``); it returns
a :class:`Bound` saying what kind of statement it is (``"explicit"``,
``"computed"``, ``"instance"``, ``"order"``, ``"lower"``), its guaranteed curve
(``envelope``), its validity conditions and its source.
``bounds.compare(trace, bound, algo=algo)`` checks a run (or a vmapped batch of
runs) against it at every recorded step; ``bounds.instance(algo)`` is the exact
asymptotic rate of a linear method on a quadratic (``bounds.exact_rate``) as a
two-sided, run-by-run checkable bound.
"""

from bounds import envelopes
from bounds._check import (
    ArrayTrace,
    BatchReport,
    Bound,
    Report,
    StepSizeError,
    check_scaling,
    compare,
    fit_exponent,
    fit_rate,
    signature,
)
from bounds._instance import instance
from bounds.consensus.gossip import chebyshev_gossip, gossip, heavy_ball_gossip
from bounds.consensus.time_varying import gossip_product
from bounds.convex.async_tv import adom_plus, dadao
from bounds.convex.dadao_moments import dadao_second_moment
from bounds.convex.dgd import dgd, dgd_bias
from bounds.convex.dsgd import dsgd, dsgd_expectation
from bounds.convex.exact import ExactSpectrum, exact_rate, exact_spectrum
from bounds.convex.exact_diffusion import exact_diffusion
from bounds.convex.extra import extra
from bounds.convex.gradient_tracking import gradient_tracking
from bounds.convex.lower import scaman_lower_bound
from bounds.convex.msda import msda
from bounds.convex.nids import nids
from bounds.convex.opapc import apapc, opapc
from bounds import pep  # certified worst cases by performance estimation (bounds.pep.<method>)
from bounds.games.stackelberg import stackelberg_error_rounds, stackelberg_exp3, stackelberg_manipulation, stackelberg_ucb
from bounds.online.dual_averaging import (
    delayed_dual_averaging,
    delayed_dual_averaging_order,
    optimistic_dual_averaging,
    optimistic_dual_averaging_order,
    tuned_dual_averaging,
)
from bounds.bandits.collab import anchored_regret, collab_group_regret, log_growth_check
from bounds.bandits.linear import (
    communication_lower_bound,
    disbe_lucb_communication,
    disbe_lucb_regret,
    dislinucb_communication,
    dislinucb_regret,
    dislinucb_syncs,
    elimination_regret,
    scaling_check,
)
from bounds.bandits.linucb import linucb
from bounds.bandits.ucb import ucb1
from bounds.bilevel import check_dsbo_costs, dsbo_costs, dsbo_rate, dsbo_sample_complexity

from bounds._per_method import (  # noqa: E402  bounds.<method> for the families whose bounds carry other names
    afa_cd, afa_cs, collab_ucb, decbe_lucb, dfedavg, dfedsam, dfedsam_mgs, disbe_lucb, dislinucb, dsbo, exact_dsbo,
    gosine, gossip_dsbo, local_sgd, ma_dsbo, modest, stackelberg, ucb,
)

__all__ = [
    "Bound",
    "Report",
    "BatchReport",
    "ArrayTrace",
    "envelopes",
    "instance",
    "signature",
    "StepSizeError",
    "check_scaling",
    "compare",
    "fit_exponent",
    "fit_rate",
    "exact_rate",
    "exact_spectrum",
    "ExactSpectrum",
    "gossip",
    "chebyshev_gossip",
    "heavy_ball_gossip",
    "dgd",
    "dgd_bias",
    "dsgd",
    "dsgd_expectation",
    "extra",
    "nids",
    "exact_diffusion",
    "gradient_tracking",
    "msda",
    "apapc",
    "opapc",
    "scaman_lower_bound",
    # time-varying and asynchronous networks (issue 13)
    "gossip_product",
    "dadao",
    "adom_plus",
    "dadao_second_moment",
    "pep",
    # games
    "stackelberg_exp3",
    "stackelberg_ucb",
    "stackelberg_error_rounds",
    "stackelberg_manipulation",
    # online
    "delayed_dual_averaging",
    "tuned_dual_averaging",
    "delayed_dual_averaging_order",
    "optimistic_dual_averaging",
    "optimistic_dual_averaging_order",
    # bandits
    "ucb1",
    "linucb",
    "disbe_lucb_regret",
    "disbe_lucb_communication",
    "communication_lower_bound",
    "dislinucb_regret",
    "dislinucb_communication",
    "dislinucb_syncs",
    # bounds.<method> for every public algorithm whose bounds carry other names (bounds/_per_method.py)
    "stackelberg", "ucb", "gosine", "collab_ucb", "dislinucb", "disbe_lucb", "decbe_lucb", "dsbo", "ma_dsbo",
    "exact_dsbo", "gossip_dsbo", "dfedavg", "dfedsam", "dfedsam_mgs", "afa_cd", "afa_cs", "local_sgd", "modest",
    "elimination_regret",
    "scaling_check",
    "collab_group_regret",
    "anchored_regret",
    "log_growth_check",
    # decentralized stochastic bilevel (issue 10)
    "dsbo_rate",
    "dsbo_sample_complexity",
    "dsbo_costs",
    "check_dsbo_costs",
]

# stochastic and federated methods (issue 14)
from bounds.stochastic.sam import hessian_term, gaussian_smoothed_grad, sam_residuals  # noqa: E402

__all__ += ["sam_residuals", "hessian_term", "gaussian_smoothed_grad"]
from bounds.stochastic.dsgd_local import dsgd_local_orders  # noqa: E402

__all__ += ["dsgd_local_orders"]
from bounds.stochastic.dfedsam import dfedsam_orders, mgs_consensus_ratio, mgs_factor  # noqa: E402

__all__ += ["dfedsam_orders", "mgs_factor", "mgs_consensus_ratio"]
from bounds.stochastic.anarchic import afa_orders  # noqa: E402

__all__ += ["afa_orders"]
# issue 8: float32 rate checks warn with this category (bounds.compare)
from bounds._check import PrecisionWarning  # noqa: E402

__all__ += ["PrecisionWarning"]
