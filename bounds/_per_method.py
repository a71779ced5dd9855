"""``bounds.<method>(algo)`` for the methods whose bounds carry other names.

The convex and consensus methods have a bound named after them (``bounds.extra``, ...). For the
other families the statements are named after what they bound (``bounds.anchored_regret``,
``bounds.elimination_regret``, ``bounds.instance``, ...). So that every public algorithm has a
``bounds.<its name>`` beside it, each function here returns the first of its method's registered
bounds that covers the run's configuration (:data:`PER_METHOD`, in order of preference: run-by-run
statements first). When none covers it, the error lists every refusal and its reason.
``algos.skewed_participation`` is not here: it returns a probability vector for ``afa_cd`` /
``afa_cs``, and it is not an algorithm.
"""

from __future__ import annotations

__all__ = ["PER_METHOD", "stackelberg", "ucb", "gosine", "collab_ucb", "dislinucb", "disbe_lucb", "decbe_lucb", "dsbo",
           "ma_dsbo", "exact_dsbo", "gossip_dsbo", "dfedavg", "dfedsam", "dfedsam_mgs", "afa_cd", "afa_cs", "local_sgd",
           "modest"]  # fmt: skip


def _stackelberg_leader(algo):
    import bounds

    leader = (getattr(algo, "hparams", None) or {}).get("leader")
    if leader == "exp3":
        return bounds.stackelberg_exp3(algo)
    if leader == "ucb":
        return bounds.stackelberg_ucb(algo)
    raise ValueError(f"the leader {leader!r} has no explicit bound (exp3 and ucb have)")


#: method name -> the names (in ``bounds``) of its bounds, preferred first; a callable is a rule.
PER_METHOD = {
    "stackelberg": (_stackelberg_leader, "stackelberg_error_rounds"),
    "ucb": ("ucb1", "collab_group_regret"),
    "gosine": ("anchored_regret", "collab_group_regret"),
    "collab_ucb": ("anchored_regret", "collab_group_regret"),
    "dislinucb": ("dislinucb_syncs", "dislinucb_regret"),
    "disbe_lucb": ("elimination_regret", "disbe_lucb_regret"),
    "decbe_lucb": ("elimination_regret", "disbe_lucb_regret"),
    # instance: bilevel.quadratic with sigma = 0; otherwise the order of the averaged hypergradient norm
    "dsbo": ("instance", "dsbo_rate"),
    "ma_dsbo": ("instance", "dsbo_rate"),
    "exact_dsbo": ("instance", "dsbo_rate"),
    "gossip_dsbo": ("dsbo_rate",),  # not affine (no instance rate); its costs: bounds.check_dsbo_costs
    # the federated family: the instance rate where the step is affine and time-invariant (bounds.instance)
    "dfedavg": ("instance",),
    "dfedsam": ("instance",),
    "dfedsam_mgs": ("instance",),
    "afa_cd": ("instance",),
    "afa_cs": ("instance",),
    "local_sgd": ("instance",),
    "modest": ("instance",),
}


def _first(method: str, algo):
    import bounds

    got = getattr(algo, "name", None)
    if got != method:
        raise TypeError(f"bounds.{method} takes the run's algorithm from algos.{method}(...), got "
                        f"{got or type(algo).__name__!r}")  # fmt: skip
    refusals = []
    for maker in PER_METHOD[method]:
        fn = maker if callable(maker) else getattr(bounds, maker)
        label = getattr(fn, "__name__", str(maker)).lstrip("_")
        try:
            return fn(algo)
        except (ValueError, TypeError) as e:
            refusals.append(f"{label}: {e}")
    raise ValueError(f"bounds.{method}: no bound covers this configuration of algos.{method}: " + "; ".join(refusals))


def _make(method: str):
    def per_method(algo):
        return _first(method, algo)

    per_method.__name__ = per_method.__qualname__ = method
    per_method.__doc__ = (f"The first of algos.{method}'s bounds that covers the run's configuration, in the order "
                          f"{[m if isinstance(m, str) else m.__name__.lstrip('_') for m in PER_METHOD[method]]} "
                          "(see bounds._per_method).")  # fmt: skip
    return per_method


for _m in PER_METHOD:
    globals()[_m] = _make(_m)
del _m
