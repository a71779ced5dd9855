"""The run engine shared by every algorithm family.

An :class:`Algorithm` is a pair of pure functions ``init(key) -> State`` and
``step(key, state[, t]) -> (State, Info)`` (as in optax / blackjax). A factory
such as ``algos.extra(problem, W, step_size=...)`` closes them over the
problem, the mixing matrix and the hyperparameters.

To keep large arrays out of compiled programs (captured constants are baked
into the executable, and a fresh closure per call defeats jit's cache), every
factory also records *how* it closed them: a module-level ``build(params) ->
(init, step)`` and the ``params`` pytree (problem, W, hyperparameters).
:func:`run` jits one module-level function whose static arguments are
``build``, the family's :class:`~problems._metrics.Metrics`, the finiteness
selector and the lengths, and whose traced arguments are ``params`` and
``key``: a second run with arrays of the same shapes reuses the compiled
program, and ``jax.vmap`` over any float leaf of ``params`` (a step size, a
seed's key) works. Such a sweep goes through a custom batching rule
(:func:`_run_batched`): one loop whose steps are ``vmap``-ped with the sweep
axis last on every state leaf, which is the layout XLA:CPU's batched products
run fastest in (4-10x the sequential runs at n = 20, d = 10; benchmarks/RESULTS.md,
section 3c); derivatives of a run are those of the plain loop.

The loop. ``run`` records the initial state (step 0, zero cost) and then the
state after every ``record_every`` steps, so ``trace.steps == [0, e, 2e, ...,
num_steps]``. Step ``t`` (0-based: the number of steps taken before it) gets
the key ``fold_in(k, t)`` of one run key ``k``, derived inside the loop (no
array of keys: memory does not grow with ``num_steps``), and, when its
signature has a third parameter, the step index ``t`` itself (a ``1/sqrt(t+1)``
step size, UCB's ``log t``).

What a trace records belongs to the problem family (:mod:`problems._metrics`):
instantaneous metrics at each record, per-step amounts accumulated over every
step by the engine (regret, reward) whatever ``record_every`` is, and every
scalar field of ``Info`` other than ``cost`` (per-step diagnostics such as
DGD's increment norm). Costs are open: ``Info.cost`` is a NamedTuple or a dict
of per-node amounts whose field names *are* the trace's names (the convex
family's :class:`Cost`: ``communications``, ``floats_sent``,
``gradient_calls``, ``hvp_calls``, ``jvp_calls``; a bandit family's
``arm_pulls``, ``bits_up``...); the trace holds their running sums, and
``bits_sent`` (floats at the run's precision) when ``floats_sent`` is a field.

Broken runs. A family declares which state leaves must stay finite (the
``finite`` selector of :func:`make_algorithm`; default: every floating-point
leaf), so sentinels such as ``+inf`` indices of unpulled arms are legal. A run
is flagged ``diverged`` when a selected leaf becomes non-finite, or when the
family's primary metric becomes non-finite or grows past ``Metrics.blowup``
(default 1e8) times its step-0 value; ``trace.diverged_at`` is the step (in
``trace.steps`` numbering) where it was detected. From there on the state is
frozen (later steps are computed on the frozen state and discarded), metrics
are NaN and costs stop accumulating.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from problems._metrics import Metrics

__all__ = [
    "Algorithm",
    "Cost",
    "Metrics",
    "Trace",
    "make_algorithm",
    "run",
    "split_key",
    "is_concrete",
    "takes_step_index",
    "COST_FIELDS",
]


class Cost(NamedTuple):
    """What one step of a convex or consensus method spends, per node.

    The field names are the trace's names (cumulative sums in the trace). Values may
    be fractional for randomized methods; an array value is summed.

    Attributes:
        communications: d-dimensional vectors sent by one node (rounds x vectors per round).
        floats_sent: floating-point numbers sent by one node.
        gradient_calls: gradient (or stochastic gradient) oracle calls per node.
        hvp_calls: Hessian-vector products per node.
        jvp_calls: Jacobian-vector products per node.
    """

    communications: Any = 0.0
    floats_sent: Any = 0.0
    gradient_calls: Any = 0.0
    hvp_calls: Any = 0.0
    jvp_calls: Any = 0.0


#: The convex family's cost fields, as they are named in ``Info.cost`` and in the trace.
COST_FIELDS = Cost._fields


class Algorithm(NamedTuple):
    """A decentralized method as two pure functions plus what ``run`` needs to compile it once.

    Attributes:
        init: ``init(key) -> State``.
        step: ``step(key, state, t=None) -> (State, Info)``; ``Info`` has a ``cost`` field. ``t``
            (the 0-based step index) is required by methods whose kernel reads it.
        build: module-level ``build(params) -> (init, step)``.
        params: pytree of arrays and floats the kernels read (problem, W, hyperparameters).
        metrics: the family's :class:`Metrics` (what a trace records).
        name: method name (used in figures, reports and by ``bounds.compare``).
        hparams: the resolved hyperparameters (Python floats where concrete), for bounds and reports.
        finite: module-level ``finite(state) -> pytree`` selecting the leaves that must stay finite,
            or None (every floating-point leaf).
        spectrum: the :class:`problems.mixing.Spectrum` of the factory's ``W``, computed once and
            reused by the method's bounds; None for methods without a fixed ``W``.
    """

    init: Callable
    step: Callable
    build: Callable | None = None
    params: Any = None
    metrics: Metrics | None = None
    name: str = ""
    hparams: dict | None = None
    finite: Callable | None = None
    spectrum: Any = None


def takes_step_index(step: Callable) -> bool:
    """True when ``step`` has a third positional parameter (the step index ``t``)."""
    try:
        sig = inspect.signature(step)
    except (TypeError, ValueError):  # builtins without a signature
        return False
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = list(sig.parameters.values())
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return True
    return sum(p.kind in kinds for p in params) >= 3


def _indexed(step: Callable) -> Callable:
    """``step`` as a function of ``(key, state, t)``."""
    if takes_step_index(step):
        return step
    return lambda key, state, t: step(key, state)


def make_algorithm(
    build: Callable,
    params: Any,
    metrics,
    name: str,
    hparams: dict | None = None,
    *,
    finite: Callable | None = None,
    spectrum: Any = None,
) -> Algorithm:
    """Create an :class:`Algorithm` whose ``init``/``step`` are ``build(params)``.

    Args:
        build: module-level ``build(params) -> (init, step)``; ``step(key, state)`` or
            ``step(key, state, t)``.
        params: the pytree ``build`` reads.
        metrics: the family's :class:`Metrics` (or a plain ``(params, state, info) -> dict``, which
            becomes its ``instant`` part). Use a module-level value: it is part of the jit cache key.
        name: method name.
        hparams: resolved hyperparameters for bounds and reports.
        finite: module-level selector of the state leaves that must stay finite (default: all).
        spectrum: the factory's :class:`problems.mixing.Spectrum`, if it has one.

    ``build`` is traced once abstractly here (``jax.eval_shape``), so its argument
    checks raise now, but none of its array operations runs eagerly: in a fresh
    process every distinct eager operation costs a small compilation (tens of ms
    each), and :func:`run` builds the kernels again inside its own jitted program
    anyway. ``init``/``step`` call ``build(params)`` when they are called (nothing is
    cached, so no tracer can leak out of a transformation that calls them).
    """
    metrics = Metrics.of(metrics)
    if finite is not None and not callable(finite):
        raise TypeError(f"make_algorithm: finite must be a function state -> pytree of leaves, got {type(finite).__name__}")

    def _probe(p):
        out = build(p)
        if not (isinstance(out, tuple) and len(out) == 2 and all(callable(f) for f in out)):
            raise TypeError(f"make_algorithm: build(params) must return (init, step), got {type(out).__name__}")
        return jnp.zeros(())

    jax.eval_shape(_probe, params)

    def init(key):
        return build(params)[0](key)

    def step(key, state, t=None):
        kernel = build(params)[1]
        if takes_step_index(kernel):
            if t is None:
                raise TypeError(f"{name}: this method's step reads the step index; call step(key, state, t)")
            return kernel(key, state, t)
        return kernel(key, state)

    return Algorithm(
        init=init, step=step, build=build, params=params, metrics=metrics, name=name,
        hparams=dict(hparams or {}), finite=finite, spectrum=spectrum,
    )  # fmt: skip


def is_concrete(x) -> bool:
    """True when ``x`` has a value now (not a tracer inside jit/vmap)."""
    return not isinstance(x, jax.core.Tracer)


def split_key(key, num: int = 2):
    """``jax.random.split`` accepting an int seed too."""
    if isinstance(key, (int, np.integer)):
        key = jax.random.PRNGKey(int(key))
    return jax.random.split(key, num)


@jax.tree_util.register_pytree_node_class
class Trace:
    """What a run recorded: one entry at step 0 and one after every ``record_every`` steps.

    Fields are attributes (``trace.dist_to_opt``, ``trace.communications``; ``trace.fields``
    lists them), each of length ``num_records + 1`` (a leading batch axis when the run was
    ``vmap``-ped). ``trace.steps`` gives the step of each entry, ``[0, e, 2e, ...]``. Cost
    fields (``trace.cost_fields``) are cumulative and 0 at step 0. ``diverged`` is True
    when the run broke (see :mod:`algos._core`); ``diverged_at`` is the step where it was
    detected, in ``trace.steps`` numbering (-1 if none); entries from there on are NaN.
    ``precision`` is the floating-point type the run computed in; ``algorithm`` the name of the
    algorithm that ran (``Algorithm.name``; ``bounds.compare`` refuses a bound of another method).
    """

    def __init__(self, metrics: dict, diverged, diverged_at, record_every: int = 1, num_records: int | None = None,
                 cost_fields: tuple = (), precision: str = "float64", algorithm: str = ""):  # fmt: skip
        self._metrics = dict(metrics)
        self.diverged = diverged
        self.diverged_at = diverged_at
        self.record_every = int(record_every)
        if num_records is None:
            num_records = int(np.shape(next(iter(self._metrics.values())))[-1]) - 1 if self._metrics else 0
        self.num_records = int(num_records)
        self.cost_fields = tuple(cost_fields)
        self.precision = str(precision)
        self.algorithm = str(algorithm)

    def tree_flatten(self):
        keys = tuple(sorted(self._metrics))
        aux = (keys, self.record_every, self.num_records, self.cost_fields, self.precision, self.algorithm)
        return (tuple(self._metrics[k] for k in keys), self.diverged, self.diverged_at), aux

    @classmethod
    def tree_unflatten(cls, aux, children):
        keys, every, num_records, cost_fields, precision, algorithm = aux
        vals, diverged, diverged_at = children
        return cls(dict(zip(keys, vals)), diverged, diverged_at, every, num_records, cost_fields, precision, algorithm)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(sorted(self._metrics))

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._metrics[name]
        except KeyError:
            raise AttributeError(f"this trace has no field {name!r}; it records {sorted(self._metrics)}") from None

    def __getitem__(self, name):
        try:
            return self._metrics[name]
        except KeyError:
            raise KeyError(f"this trace has no field {name!r}; it records {sorted(self._metrics)}") from None

    def __contains__(self, name) -> bool:
        return name in self._metrics

    @property
    def steps(self) -> np.ndarray:
        """Step of each recorded entry: ``0, record_every, 2 record_every, ..., num_steps``."""
        return np.arange(self.num_records + 1) * self.record_every

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Leading batch axes of a ``vmap``-ped run (``()`` for one run)."""
        return tuple(np.shape(self.diverged))

    def as_dict(self) -> dict:
        out = {k: np.asarray(v) for k, v in self._metrics.items()}
        out["steps"] = self.steps
        out["diverged"] = np.asarray(self.diverged)
        out["diverged_at"] = np.asarray(self.diverged_at)
        return out

    def __repr__(self):
        return f"Trace(fields={list(self.fields)}, steps=0..{self.num_records * self.record_every}, diverged={self.diverged})"


def _inexact_leaves(tree) -> list:
    return [x for x in jax.tree_util.tree_leaves(tree) if jnp.issubdtype(jnp.result_type(x), jnp.inexact)]


#: Leaves of at most this many entries (per run) are checked by ``isfinite(sum(x * 0))``, larger ones
#: by ``all(isfinite(x))``: measured on the 64-run sweeps of benchmarks/RESULTS.md (section 3c, 2 cores,
#: XLA:CPU), the float sum is the faster reduction at n = 20, d = 10 (200 entries: 25 ms against 39 ms
#: for the sweep) and the boolean one at n = 64, d = 50 (3,200 entries: 450 ms against 560 ms).
SMALL_LEAF = 1024


def _all_finite(tree) -> jax.Array:
    """True when every floating-point entry of ``tree`` is finite.

    ``x * 0`` is 0 where ``x`` is finite and NaN where it is +-inf or NaN, and a sum propagates NaN
    (IEEE addition) without overflowing, so ``isfinite(sum(x * 0)) == all(isfinite(x))``; which of
    the two is cheaper depends on the size (:data:`SMALL_LEAF`). Not a max-reduction of ``|x|``:
    XLA:CPU's vectorized max drops NaNs (seen with 3,200 entries per run, 2026-12-05).
    """
    leaves = [jnp.isfinite(jnp.sum(x * 0)) if x.size <= SMALL_LEAF else jnp.all(jnp.isfinite(x)) for x in _inexact_leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)


def _cost_items(cost) -> dict:
    """``Info.cost`` (a NamedTuple or a mapping) as an ordered dict of name -> value."""
    if cost is None:
        return {}
    if hasattr(cost, "_asdict"):
        return dict(cost._asdict())
    if isinstance(cost, dict):
        return dict(cost)
    raise TypeError(f"Info.cost must be a NamedTuple or a dict of per-node amounts, got {type(cost).__name__}")


def _diagnostics(info) -> dict:
    """Scalar fields of ``Info`` other than ``cost`` (recorded as instantaneous metrics)."""
    if not hasattr(info, "_asdict"):
        return {}
    return {k: v for k, v in info._asdict().items() if k != "cost" and jnp.ndim(v) == 0}


def _raw_key(key):
    """Inside the jitted program: an int seed or a typed key as a raw ``uint32[2]`` key."""
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        data = jax.random.key_data(key)
        return data if data.shape == (2,) else key  # non-threefry implementations stay typed
    if jnp.ndim(key) == 0:
        return jax.random.PRNGKey(key)
    return key


def _pieces(build, metrics: Metrics, finite, shard):
    """The per-run parts of :func:`_run_impl`, each a function of explicit arguments (so a sweep can
    ``vmap`` them one by one, see :func:`_run_batched`).

    ``start(params, key) -> carry``; ``advance(params, carry, t) -> carry`` takes step
    ``t`` (0-based); ``record(params, carry, t) -> (carry, (metrics, spent))`` after ``t`` steps;
    ``finish(params, state, info, ms, spent, dead, dead_at)`` assembles the outputs (``ms`` and
    ``spent`` hold one row per record, step 0 included).
    The carry is ``(state, info, dead, dead_at, spent, acc, key_steps, ref)``.
    """
    constrain = (lambda tree: tree) if shard is None else functools.partial(_constrain_nodes, *shard)
    select = finite if finite is not None else (lambda s: s)
    ftype = jnp.result_type(float)

    def kernels(params):
        init, step = build(params)
        return init, _indexed(step)

    def names(params, state, key):
        _, step = kernels(params)
        _, info_shape = jax.eval_shape(step, key, state, jnp.zeros((), jnp.int32))
        return info_shape, tuple(_cost_items(info_shape.cost))

    def cost_vector(info, cost_names):
        items = _cost_items(info.cost)
        if not items:
            return jnp.zeros((0,), ftype)
        return jnp.stack([jnp.sum(jnp.asarray(items[k], dtype=ftype)) for k in cost_names])

    def accumulated(params, state, info, t):
        if metrics.accumulate is None:
            return {}
        return {k: jnp.asarray(v, dtype=ftype) for k, v in metrics.accumulate(params, state, info, t).items()}

    def observe(params, state, info, acc, cost_names):
        m = {}
        if metrics.instant is not None:
            m.update({k: jnp.asarray(v, dtype=ftype) for k, v in metrics.instant(params, state, info).items()})
        for part in (_diagnostics(info), acc):
            for k, v in part.items():
                if k in m or k in cost_names:
                    raise ValueError(f"metric {k!r} is recorded twice (instant, accumulated, Info or cost); rename one")
                m[k] = jnp.asarray(v, dtype=ftype)
        return m

    def broken(m, ref):
        if metrics.primary is not None:
            v = jnp.abs(m[metrics.primary])
            bad = ~jnp.all(jnp.isfinite(v))
            if np.isfinite(metrics.blowup):
                bad = bad | ((ref > 0) & (jnp.max(v) > metrics.blowup * ref))
            return bad
        flags = [~jnp.all(jnp.isfinite(v)) for v in m.values()]
        return jnp.any(jnp.stack(flags)) if flags else jnp.array(False)

    def start(params, key):
        init, _ = kernels(params)
        key = _raw_key(key)
        key_init, key_steps = jax.random.split(key)
        state0 = constrain(init(key_init))
        info_shape, cost_names = names(params, state0, key_init)
        info0 = jax.tree_util.tree_map(lambda x: jnp.zeros(x.shape, x.dtype), info_shape)
        acc_shape = jax.eval_shape(lambda s, i: accumulated(params, s, i, jnp.zeros((), jnp.int32)), state0, info0)
        acc0 = jax.tree_util.tree_map(lambda x: jnp.zeros(x.shape, x.dtype), acc_shape)
        # The step-0 record (the initial state, zero cost) is taken by the loop's first record
        # (:func:`_loop`), so the metrics are compiled once; here only their names are checked.
        m_shape = jax.eval_shape(lambda s, i, a: observe(params, s, i, a, cost_names), state0, info0, acc0)
        if metrics.primary is not None and metrics.primary not in m_shape:
            raise ValueError(f"the primary metric {metrics.primary!r} is not recorded; the metrics are {sorted(m_shape)}")
        dead0 = ~_all_finite(select(state0))
        dead_at0 = jnp.where(dead0, 0, -1).astype(jnp.int32)
        # ``ref`` (the primary metric's size at step 0, for the blow-up test) is set by the step-0 record
        carry = (state0, info0, dead0, dead_at0, jnp.zeros(len(cost_names), ftype), acc0, key_steps, jnp.zeros((), ftype))
        return carry

    def advance(params, carry, t, skip=None):
        """Step ``t``; with ``skip`` (a traced bool) True, the step is computed and discarded, the
        carry returned unchanged (:func:`_loop`'s step-0 record at ``record_every=1``)."""
        _, step = kernels(params)
        state, info, dead, dead_at, spent, acc, key_steps, ref = carry
        cost_names = tuple(_cost_items(info.cost))
        new_state, new_info = step(jax.random.fold_in(key_steps, t), state, t)
        new_state = constrain(new_state)
        ok = _all_finite(select(new_state))
        if skip is not None:
            ok = ok | skip
        dead_at = jnp.where(~dead & ~ok, t + 1, dead_at)
        now_dead = dead | ~ok
        frozen = now_dead if skip is None else now_dead | skip
        # keep the last finite state (and its Info) once the run has broken
        keep = lambda new, old: jnp.where(frozen, old, new)  # noqa: E731
        state = jax.tree_util.tree_map(keep, new_state, state)
        info = jax.tree_util.tree_map(keep, new_info, info)
        spent = spent + jnp.where(frozen, 0.0, cost_vector(new_info, cost_names))
        inc = accumulated(params, new_state, new_info, t)
        acc = {k: acc[k] + jnp.where(frozen, 0.0, inc[k]) for k in acc}
        return (state, info, now_dead, dead_at, spent, acc, key_steps, ref)

    def record(params, carry, t):
        state, info, dead, dead_at, spent, acc, key_steps, ref = carry
        m = observe(params, state, info, acc, tuple(_cost_items(info.cost)))
        # at step 0 (the first record) the blow-up test is off (``ref`` is still 0) and sets ``ref``
        bad = ~dead & broken(m, ref)
        if metrics.primary is not None:
            ref = jnp.where(t == 0, jnp.asarray(jnp.max(jnp.abs(m[metrics.primary])), ftype), ref)
        dead_at = jnp.where(bad, t, dead_at)
        dead = dead | bad
        m = {k: jnp.where(dead, jnp.nan, v) for k, v in m.items()}
        return (state, info, dead, dead_at, spent, acc, key_steps, ref), (m, spent)

    def finish(params, state, info, ms, spent, dead, dead_at):
        cost_names = tuple(_cost_items(info.cost))
        out = dict(ms)
        if metrics.deferred is not None:
            out = _with_deferred(metrics, params, out, cost_names, ftype)
        costs = {name: spent[:, i] for i, name in enumerate(cost_names)}
        if "floats_sent" in costs and "bits_sent" not in costs:
            # bits on the wire, at the precision the run computes in (64 under jax_enable_x64, else 32)
            costs["bits_sent"] = costs["floats_sent"] * (8 * jnp.dtype(ftype).itemsize)
        return state, out, costs, dead, dead_at

    return start, advance, record, finish


def _loop(advance, record, carry, num_records: int, every: int):
    """The record loop: ``num_records + 1`` records, the first of the initial state (step 0), each
    later one after ``every`` more steps; the step index is a loop counter shared by every run of a
    sweep (not part of the carry).

    The step-0 record is the loop's first iteration, so the metrics are compiled once instead of once
    in the loop and once outside it: XLA:CPU compiles each small kernel separately, and a run program
    is mostly small kernels (benchmarks/RESULTS.md 7i, 7j). From ``every = 2`` the first iteration's
    steps are skipped by a ``cond`` on the (unbatched) record counter; at ``every = 1``, where a
    ``cond`` per step would cost about 0.7 us of a 3-5 us step (RESULTS.md 7j), the first iteration
    takes step 0 and discards it through the divergence guard's selects instead."""

    if every == 1:
        def one_record(carry, r):
            carry = advance(carry, jnp.maximum(r - 1, 0), r == 0)
            return record(carry, r)
    else:
        def one_record(carry, r):
            first = (r - 1) * every

            def steps(c):
                return jax.lax.scan(lambda c, t: (advance(c, t, None), None), c, first + jnp.arange(every, dtype=jnp.int32))[0]

            carry = jax.lax.cond(r > 0, steps, lambda c: c, carry)
            return record(carry, r * every)

    return jax.lax.scan(one_record, carry, jnp.arange(num_records + 1, dtype=jnp.int32))


def _run_single(pieces, params, key, num_records: int, every: int):
    start, advance, record, finish = pieces
    carry0 = start(params, key)
    carry, (ms, spent) = _loop(functools.partial(advance, params), functools.partial(record, params), carry0, num_records, every)
    state, info, dead, dead_at = carry[:4]
    return finish(params, state, info, ms, spent, dead, dead_at)


def _sweep_rule(pieces, num_records: int, every: int, axis_size: int, in_batched, params, key):
    """The custom batching rule of :func:`_run_impl`: a sweep of ``axis_size`` runs, computed by
    :func:`_run_batched` through :func:`_flat_sweep` (so that a sweep of sweeps is one flat sweep)."""
    out = _flat_sweep(pieces, num_records, every, axis_size, tuple(in_batched))(params, key)
    return out, jax.tree_util.tree_map(lambda _: True, out)


def _flat_sweep(pieces, num_records: int, every: int, size: int, flags):
    """``(params, key) ->`` the outputs of a sweep of ``size`` runs (batch axis 0), whose batched
    arguments ``flags`` marks. Under a further ``vmap`` of ``size2`` its rule merges the two batch
    axes into one sweep of ``size2 * size`` runs (an argument batched at one level only is
    broadcast) and splits the outputs again: a nested sweep (seeds x step sizes) gets the same
    batch-last loop as a flat one, not a ``vmap`` of it."""
    fn = jax.custom_batching.custom_vmap(lambda params, key: _run_batched(pieces, num_records, every, flags, params, key))

    def merged(size2, flags2, params, key):
        def merge(x, inner, outer):
            if not (inner or outer):
                return x
            if not outer:
                x = jnp.broadcast_to(x[None], (size2,) + x.shape)
            elif not inner:
                x = jnp.broadcast_to(x[:, None], (size2, size) + x.shape[1:])
            return x.reshape((size2 * size,) + x.shape[2:])

        args, both = (params, key), tuple(flags2)
        flat = jax.tree_util.tree_map(merge, args, tuple(flags), both)
        union = jax.tree_util.tree_map(lambda a, b: a or b, tuple(flags), both)
        out = _flat_sweep(pieces, num_records, every, size2 * size, union)(*flat)
        out = jax.tree_util.tree_map(lambda x: x.reshape((size2, size) + x.shape[1:]), out)
        return out, jax.tree_util.tree_map(lambda _: True, out)

    fn.def_vmap(merged)
    return fn


def _run_batched(pieces, num_records: int, every: int, in_batched, params, key):
    """A ``vmap`` of :func:`_run_single` over the arguments ``in_batched`` marks, computed
    as one loop whose every step is a ``vmap`` of one step with the sweep axis **last** on every
    carried leaf, ``(n, d, B)`` instead of the ``(B, n, d)`` that ``vmap`` of the whole scan carries.

    The arithmetic is the same, operation for operation, so the results are identical (tests);
    what changes is the layout XLA sees. A per-node product ``A_i x_i`` over a sweep of B runs
    becomes one batched matrix-matrix product ``A_i [x_i^1 ... x_i^B]`` whose output is already in
    the carried layout, and dense gossip ``W X`` one ``(n, n) @ (n, d B)`` product; with the sweep
    axis first, XLA transposes around each product on every step. Measured in benchmarks/RESULTS.md
    (section 3c).
    """
    start, advance, record, finish = pieces
    axes = lambda flags: jax.tree_util.tree_map(lambda b: 0 if b else None, flags)  # noqa: E731
    pax, kax = axes(in_batched[0]), axes(in_batched[1])
    carry0 = jax.vmap(start, in_axes=(pax, kax), out_axes=-1)(params, key)
    advance_b = jax.vmap(advance, in_axes=(pax, -1, None, None), out_axes=-1)
    record_b = jax.vmap(record, in_axes=(pax, -1, None), out_axes=(-1, 0))
    carry, (ms, spent) = _loop(functools.partial(advance_b, params), functools.partial(record_b, params), carry0, num_records, every)
    first = lambda tree: jax.tree_util.tree_map(lambda x: jnp.moveaxis(x, -1, 0), tree)  # noqa: E731
    state, info, dead, dead_at = first(carry[:4])
    out = jax.vmap(finish, in_axes=(pax, 0, 0, 1, 1, 0, 0))(params, state, info, ms, spent, dead, dead_at)
    return out


# Performance notes (measured in benchmarks/RESULTS.md): on small problems a step is a
# handful of tiny kernels, so the engine's own per-step operations dominate. The loop
# therefore carries everything it needs (state, the last Info, the divergence flag, the
# cumulative cost vector and the accumulated metrics) and emits nothing per step, and
# uses no ``lax.cond``: a diverged run keeps stepping on its frozen (last finite) state
# and discards the results. Under ``vmap`` (sweeps) a ``cond`` with a batched predicate
# becomes a ``select`` over the whole carry, which made a 64-way sweep at n = 256,
# d = 100 five times slower than without it. A ``vmap`` of a run (a sweep) goes through the
# custom batching rule :func:`_run_batched`.
#: XLA options of every run's program. XLA:CPU's newer MLIR fusion emitters compile each of a run's
#: many small kernels (scalar bookkeeping, metrics) about twice as slowly as the classic LLVM IR
#: emitters, and a ratebench run is mostly small kernels: the 70 run programs of
#: benchmarks/compile_options.py compile in 531 ms each with them and 337 ms without (1.58x). Outputs
#: are bit-identical in 69 of the 70; dgd on the float32 quadratic differs by 7.9e-8 relative (RESULTS.md 7i).
RUN_COMPILER_OPTIONS = {"xla_cpu_use_fusion_emitters": False}


def _run_program(build, metrics: Metrics, finite, params, key, num_records: int, every: int, shard=None):
    pieces = _pieces(build, metrics, finite, shard)
    if shard is not None:
        return _run_single(pieces, params, key, num_records, every)
    plain = functools.partial(_run_single, pieces, num_records=num_records, every=every)
    batched = jax.custom_batching.custom_vmap(plain)
    batched.def_vmap(functools.partial(_sweep_rule, pieces, num_records, every))
    # custom_vmap alone has no reverse mode; derivatives (jvp, grad, and vmaps of them) are those
    # of the plain loop
    fn = jax.custom_jvp(batched)
    fn.defjvp(lambda primals, tangents: jax.jvp(plain, primals, tangents))
    return fn(params, key)


_RUN_STATIC = ("build", "metrics", "finite", "num_records", "every", "shard")
#: A run called outside any transformation or under eager ``vmap``s only (:func:`_at_top_level`): its
#: own program, compiled with :data:`RUN_COMPILER_OPTIONS`.
_run_impl = jax.jit(_run_program, static_argnames=_RUN_STATIC, compiler_options=RUN_COMPILER_OPTIONS)
#: A run inside a caller's ``jit`` or under ``grad``/``jvp``: JAX accepts compiler options only on the
#: outermost jit, so this one has none (it keeps XLA's default emitters).
_run_impl_nested = jax.jit(_run_program, static_argnames=_RUN_STATIC)


#: Records evaluated together by a deferred metric (one vectorized call per block): large enough
#: that a data pass becomes a matrix-matrix product (the logistic ``f(x_bar) - f*`` at n = 64,
#: d = 50, m = 100 costs 9.8 us per record in a block of 64 against 58.7 us for one record alone,
#: a one-off probe on 2026-12-05; the in-run overhead is in benchmarks/engine.py), small enough
#: that a block's intermediates stay small (64 x 6,400 floats there).
DEFERRED_BLOCK = 64


def _with_deferred(metrics: Metrics, params, out: dict, cost_names, ftype) -> dict:
    """``out`` (the recorded instant values, one row per record) with the deferred metrics added,
    evaluated block by block over the records, and the hidden entries removed. A record that was
    masked (a diverged run) has NaN inputs, so its deferred values are NaN too."""
    names = set(out) - set(metrics.hidden)

    def one(rec):
        vals = metrics.deferred(params, rec)
        return {k: jnp.asarray(v, dtype=ftype) for k, v in vals.items()}

    num = int(next(iter(out.values())).shape[0])
    later = jax.lax.map(one, out, batch_size=min(num, DEFERRED_BLOCK))
    for k in later:
        if k in names or k in cost_names:
            raise ValueError(f"metric {k!r} is recorded twice (deferred and instant, accumulated, Info or cost); rename one")
    kept = {k: v for k, v in out.items() if k not in metrics.hidden}
    kept.update(later)
    return kept


def _node_sharding(mesh, n: int, x):
    """``P("nodes")`` for an array whose leading axis is the node axis, else replicated."""
    from jax.sharding import NamedSharding, PartitionSpec

    if getattr(x, "ndim", 0) >= 1 and x.shape[0] == n:
        return NamedSharding(mesh, PartitionSpec("nodes"))
    return NamedSharding(mesh, PartitionSpec())


def _constrain_nodes(mesh, n: int, tree):
    """Inside the program: keep every node-stacked leaf of ``tree`` split over the mesh's ``"nodes"`` axis."""
    return jax.tree_util.tree_map(
        lambda x: jax.lax.with_sharding_constraint(x, _node_sharding(mesh, n, x)) if getattr(x, "ndim", 0) >= 1 and x.shape[0] == n else x,
        tree,
    )


def _node_count(algo) -> int:
    p = algo.params.get("problem") if isinstance(algo.params, dict) else None
    if p is not None and hasattr(p, "n_nodes"):
        return int(p.n_nodes)
    W = algo.params.get("W") if isinstance(algo.params, dict) else None
    if W is not None and hasattr(W, "shape"):
        return int(W.shape[0])
    raise ValueError(f"mesh: cannot tell the number of nodes of algos.{algo.name} (no params['problem'] or params['W'])")


def _shard_params(algo, mesh) -> tuple:
    """Validate ``mesh`` and place ``algo.params`` on it: node-stacked leaves split, the rest replicated."""
    from jax.sharding import Mesh

    if not isinstance(mesh, Mesh):
        raise TypeError(f"mesh must be a jax.sharding.Mesh with an axis named 'nodes', got {type(mesh).__name__}")
    if "nodes" not in mesh.axis_names:
        raise ValueError(f"mesh must have an axis named 'nodes' (it splits the node axis), got axes {mesh.axis_names}")
    n = _node_count(algo)
    size = mesh.shape["nodes"]
    if n % size:
        raise ValueError(
            f"mesh: {n} nodes cannot be split evenly over {size} devices on the 'nodes' axis; "
            f"use a mesh whose 'nodes' axis size divides {n}"
        )
    params = jax.tree_util.tree_map(lambda x: jax.device_put(x, _node_sharding(mesh, n, x)) if hasattr(x, "shape") else x, algo.params)
    return params, (mesh, n)


def _at_top_level() -> bool:
    """True when ``run`` is called outside any JAX transformation, or only under eager ``vmap``s (a
    sweep not inside a ``jit``): there the run's jit is the outermost one, since ``vmap`` of a jitted
    function binds a batched jit at the level below. Inside a caller's ``jit`` (at any depth under
    ``vmap``s), or under ``grad``/``jvp``, the run uses the program without compiler options: JAX
    accepts those only on the outermost jit."""
    from jax._src import core
    from jax._src.interpreters import batching

    if core.trace_state_clean():
        return True
    t = core.trace_ctx.trace
    while isinstance(t, batching.BatchTrace):
        t = t.parent_trace
    return isinstance(t, core.EvalTrace)


def _check_count(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        else:
            raise TypeError(f"{name} must be a positive integer, got {value!r} ({type(value).__name__})")
    if int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def _key_argument(key):
    """Validate ``run``'s key: an int seed (any Python int) or a ``jax.random`` key (typed or raw)."""
    if isinstance(key, bool):
        raise TypeError("key must be a jax.random key or an int seed, got a bool")
    if isinstance(key, (int, np.integer)):
        k = int(key)
        # made into a key inside the jitted program: an eager PRNGKey is one more compilation
        if 0 <= k < 2**32:
            return np.uint32(k)
        if -(2**63) <= k < 2**64:
            return jax.random.PRNGKey(k)
        raise ValueError(f"key: int seeds must lie in [-2**63, 2**64), got {k}")
    if isinstance(key, (jax.Array, np.ndarray)):
        dt = key.dtype
        if jax.dtypes.issubdtype(dt, jax.dtypes.prng_key):
            if key.ndim != 0:
                raise ValueError(f"key: pass one key per run (vmap over a batch of keys), got shape {key.shape}")
            return key
        if dt == np.uint32 and key.shape == (2,):
            return key
        if jnp.issubdtype(dt, jnp.integer) and key.ndim == 0:
            return key
        raise TypeError(
            f"key must be a jax.random key (jax.random.key(0) or jax.random.PRNGKey(0)) or an int seed, "
            f"got an array of dtype {dt} and shape {key.shape}"
        )
    raise TypeError(f"key must be a jax.random key or an int seed, got {type(key).__name__} {key!r}")


def run(algo: Algorithm, key, num_steps: int, *, record_every: int = 1, mesh=None):
    """Run ``algo`` for ``num_steps`` steps under one jitted ``lax.scan``.

    Args:
        algo: an :class:`Algorithm` from a factory such as ``algos.extra``.
        key: a ``jax.random`` key (``jax.random.key(0)`` or ``jax.random.PRNGKey(0)``) or an int
            seed. The same key gives the same trace, bit for bit; a typed key and the raw key
            with the same data give the same trace.
        num_steps: number of steps (a multiple of ``record_every``).
        record_every: record the instantaneous metrics after every ``record_every`` steps
            (accumulated metrics and costs are summed over every step regardless). Memory: a
            trace holds ``num_steps // record_every + 1`` entries per field, never iterates or keys.
        mesh: a ``jax.sharding.Mesh`` with an axis ``"nodes"``: the node axis of the problem's
            data, of ``W`` and of the state is split over that axis's devices (every array whose
            leading dimension is the number of nodes; the rest is replicated), and XLA's SPMD
            partitioner turns the program into one per device: dense gossip ``W @ X`` becomes a
            sharded matrix product, a structured ring or torus operator (rolls) a neighbour
            exchange (collective permutes). The trace equals the unsharded run's to round-off
            (``tests/algos/test_sharding.py``). The number of nodes must be a multiple of the axis
            size. Multi-host: call ``jax.distributed.initialize()`` in every process first and
            build the mesh over ``jax.devices()`` (README).

    Returns:
        ``(final_state, trace)``; ``trace.steps == [0, record_every, ..., num_steps]``.
    """
    if not isinstance(algo, Algorithm):
        raise TypeError(f"algo must be an algos.Algorithm from a factory (e.g. algos.extra(p, W)), got {type(algo).__name__}")
    if algo.build is None:
        raise ValueError("algo has no build function; create algorithms with their factory (e.g. algos.extra)")
    num_steps = _check_count(num_steps, "num_steps")
    record_every = _check_count(record_every, "record_every")
    if num_steps % record_every:
        raise ValueError(
            f"num_steps={num_steps} must be a multiple of record_every={record_every}; "
            f"e.g. num_steps={num_steps - num_steps % record_every or record_every}"
        )
    key = _key_argument(key)
    metrics = algo.metrics if isinstance(algo.metrics, Metrics) else Metrics.of(algo.metrics)
    params, shard = (algo.params, None) if mesh is None else _shard_params(algo, mesh)
    impl = _run_impl if _at_top_level() else _run_impl_nested
    state, m, costs, dead, dead_at = impl(
        algo.build, metrics, algo.finite, params, key, num_records=num_steps // record_every, every=record_every, shard=shard
    )
    precision = str(jnp.dtype(jnp.result_type(float)))
    return state, Trace({**m, **costs}, dead, dead_at, record_every, num_steps // record_every, tuple(costs), precision,
                        str(algo.name or ""))  # fmt: skip


def enable_compilation_cache(cache_dir=None) -> str | None:
    """Turn on JAX's persistent compilation cache, so a second process running the same
    experiment loads its compiled programs instead of compiling them again.

    Args:
        cache_dir: folder for the cache; default ``$RATEBENCH_JAX_CACHE`` or
            ``~/.cache/ratebench/jax``. An empty ``RATEBENCH_JAX_CACHE`` turns the cache off.

    Returns:
        The folder used, or None when turned off. The size and compile-time thresholds are
        lowered to zero: ratebench's programs compile in well under a second, and JAX's
        defaults would not cache them.
    """
    import os
    from pathlib import Path

    if cache_dir is None:
        env = os.environ.get("RATEBENCH_JAX_CACHE")
        if env == "":
            return None
        cache_dir = env or Path.home() / ".cache" / "ratebench" / "jax"
    Path(cache_dir).mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(cache_dir))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return str(cache_dir)
