"""Decentralized algorithms as pure functions, and the engine that runs them.

Every method is a factory ``algos.NAME(problem, W, **hyperparameters)``
returning an :class:`Algorithm`; :func:`run` executes it under one jitted scan.
"""

from algos._core import Algorithm, Cost, Metrics, Trace, enable_compilation_cache, make_algorithm, run
from algos._errors import StepSizeError
from algos.consensus.chebyshev_gossip import chebyshev_gossip, heavy_ball_gossip
from algos.consensus.gossip import gossip
from algos.convex.adom_plus import adom_plus
from algos.convex.dadao import dadao
from algos.convex.dgd import dgd
from algos.convex.dsgd import dsgd
from algos.convex.exact_diffusion import exact_diffusion
from algos.convex.extra import extra
from algos.convex.gradient_tracking import gradient_tracking
from algos.convex.msda import msda
from algos.convex.nids import nids
from algos.convex.opapc import apapc, opapc
from algos.games.stackelberg import stackelberg
from algos.online.dual_averaging import delayed_dual_averaging, optimistic_dual_averaging, tuned_dual_averaging
from algos.bandits import BanditCost, collab_ucb, decbe_lucb, disbe_lucb, dislinucb, gosine, linucb, ucb
from algos.bilevel import BilevelCost, dsbo, exact_dsbo, gossip_dsbo, ma_dsbo

__all__ = [
    "Algorithm",
    "Cost",
    "Metrics",
    "Trace",
    "make_algorithm",
    "run",
    "enable_compilation_cache",
    "StepSizeError",
    # consensus
    "gossip",
    "chebyshev_gossip",
    "heavy_ball_gossip",
    # convex
    "dgd",
    "dsgd",
    "extra",
    "nids",
    "exact_diffusion",
    "gradient_tracking",
    "msda",
    "apapc",
    "opapc",
    # time-varying and asynchronous networks (issue 13)
    "dadao",
    "adom_plus",
    # games
    "stackelberg",
    # online
    "delayed_dual_averaging",
    "optimistic_dual_averaging",
    "tuned_dual_averaging",
    # bandits
    "BanditCost",
    "ucb",
    "gosine",
    "collab_ucb",
    "linucb",
    "dislinucb",
    "disbe_lucb",
    "decbe_lucb",
    # decentralized stochastic bilevel (issue 10)
    "BilevelCost",
    "dsbo",
    "ma_dsbo",
    "exact_dsbo",
    "gossip_dsbo",
]

# stochastic and federated methods (issue 14)
from algos.federated.dfedsam import dfedavg, dfedsam, dfedsam_mgs  # noqa: E402

__all__ += ["dfedavg", "dfedsam", "dfedsam_mgs"]
from algos.federated.anarchic import afa_cd, afa_cs, skewed_participation  # noqa: E402

__all__ += ["afa_cd", "afa_cs", "skewed_participation"]
from algos.federated.local_sgd import local_sgd, modest  # noqa: E402

__all__ += ["local_sgd", "modest"]
# issue 8: the public module of structured gossip operators (``algos.operators.from_matrix``)
from algos import operators  # noqa: E402

__all__ += ["operators"]
