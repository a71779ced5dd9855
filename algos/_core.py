"""The run engine shared by every algorithm family.

An :class:`Algorithm` is a pair of pure functions ``init(key) -> State`` and
``step(key, state) -> (State, Info)`` (as in optax / blackjax). A factory such
as ``algos.extra(problem, W, step_size=...)`` closes them over the problem,
the mixing matrix and the hyperparameters.

To keep large arrays out of compiled programs (captured constants are baked
into the executable, and a fresh closure per call defeats jit's cache), every
factory also records *how* it closed them: a module-level ``build(params) ->
(init, step)`` and the ``params`` pytree (problem, W, hyperparameters).
:func:`run` jits one module-level function whose static arguments are
``build``, the metric function and the lengths, and whose traced arguments are
``params`` and ``key``: a second run with arrays of the same shapes reuses the
compiled program, and ``jax.vmap`` over any float leaf of ``params`` (a step
size, a seed's key) works.

What a trace records is pluggable: ``metrics(params, state, info)`` returns a
dict of per-step scalars (the convex family records distance to optimum,
consensus error and suboptimality; bilevel, bandit, game and online families
record their own). Every ``Info`` carries a :class:`Cost` — what one step
spends per node — which :func:`run` accumulates into cumulative communication
and oracle counts.

A run whose iterates become non-finite is flagged: from the first non-finite
step on, the state is frozen (later steps are computed on the frozen state and
discarded), metrics are NaN, costs stop accumulating, and ``trace.diverged`` / ``trace.diverged_at`` say so.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Algorithm", "Cost", "Trace", "make_algorithm", "run", "split_key", "is_concrete", "COST_FIELDS"]


class Cost(NamedTuple):
    """What one step spends, per node (scalars; may be fractional for randomized methods).

    Attributes:
        vectors: d-dimensional vectors sent by one node (communication rounds x vectors per round).
        floats: floating-point numbers sent by one node.
        grads: gradient (or stochastic gradient) oracle calls per node.
        hvps: Hessian-vector products per node.
        jvps: Jacobian-vector products per node.
    """

    vectors: Any = 0.0
    floats: Any = 0.0
    grads: Any = 0.0
    hvps: Any = 0.0
    jvps: Any = 0.0


COST_FIELDS = {
    "vectors": "communications",
    "floats": "floats_sent",
    "grads": "gradient_calls",
    "hvps": "hvp_calls",
    "jvps": "jvp_calls",
}


class Algorithm(NamedTuple):
    """A decentralized method as two pure functions plus what ``run`` needs to compile it once.

    Attributes:
        init: ``init(key) -> State``.
        step: ``step(key, state) -> (State, Info)``; ``Info`` has a ``cost`` field (a :class:`Cost`).
        build: module-level ``build(params) -> (init, step)``.
        params: pytree of arrays and floats the kernels read (problem, W, hyperparameters).
        metrics: module-level ``metrics(params, state, info) -> dict[str, scalar]``.
        name: method name (used in figures and reports).
        hparams: the resolved hyperparameters (Python floats where concrete), for bounds and reports.
    """

    init: Callable
    step: Callable
    build: Callable | None = None
    params: Any = None
    metrics: Callable | None = None
    name: str = ""
    hparams: dict | None = None


def make_algorithm(build: Callable, params: Any, metrics: Callable, name: str, hparams: dict | None = None) -> Algorithm:
    """Create an :class:`Algorithm` whose ``init``/``step`` are ``build(params)``.

    ``build`` is traced once abstractly here (``jax.eval_shape``), so its argument
    checks raise now, but none of its array operations runs eagerly: in a fresh
    process every distinct eager operation costs a small compilation (tens of ms
    each), and :func:`run` builds the kernels again inside its own jitted program
    anyway. ``init``/``step`` call ``build(params)`` when they are called (nothing is
    cached, so no tracer can leak out of a transformation that calls them).
    """

    def _probe(p):
        build(p)
        return jnp.zeros(())

    jax.eval_shape(_probe, params)

    def init(key):
        return build(params)[0](key)

    def step(key, state):
        return build(params)[1](key, state)

    return Algorithm(init=init, step=step, build=build, params=params, metrics=metrics, name=name, hparams=hparams or {})


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
    """Per-step metrics of a run (arrays of length ``num_steps // record_every``).

    Fields are attributes: ``trace.dist_to_opt``, ``trace.communications``, ...
    (``trace.fields`` lists them). Cost fields are cumulative (after each
    recorded step): ``communications`` (vectors sent per node), ``floats_sent``,
    ``bits_sent`` (floats at the run's precision), ``gradient_calls``, ``hvp_calls``,
    ``jvp_calls``. ``diverged`` is True when an iterate became non-finite;
    ``diverged_at`` is the first such step (-1 if none).
    """

    def __init__(self, metrics: dict, diverged, diverged_at, record_every: int = 1):
        self._metrics = dict(metrics)
        self.diverged = diverged
        self.diverged_at = diverged_at
        self.record_every = record_every

    def tree_flatten(self):
        keys = tuple(sorted(self._metrics))
        return (tuple(self._metrics[k] for k in keys), self.diverged, self.diverged_at), (keys, self.record_every)

    @classmethod
    def tree_unflatten(cls, aux, children):
        keys, every = aux
        vals, diverged, diverged_at = children
        return cls(dict(zip(keys, vals)), diverged, diverged_at, every)

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
        return self._metrics[name]

    @property
    def steps(self) -> np.ndarray:
        """Step index (1-based count of steps taken) of each recorded entry."""
        n = len(next(iter(self._metrics.values())))
        return np.arange(1, n + 1) * self.record_every

    def as_dict(self) -> dict:
        out = {k: np.asarray(v) for k, v in self._metrics.items()}
        out["diverged"] = np.asarray(self.diverged)
        out["diverged_at"] = np.asarray(self.diverged_at)
        return out

    def __repr__(self):
        return f"Trace(fields={list(self.fields)}, diverged={self.diverged})"


def _all_finite(tree) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree) if jnp.issubdtype(jnp.result_type(x), jnp.inexact)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)


# Performance notes (measured in benchmarks/RESULTS.md): on small problems a step is a
# handful of tiny kernels, so the engine's own per-step operations dominate. The loop
# therefore carries everything it needs (state, the last Info, the divergence flag and
# the cumulative cost vector) and emits nothing per step: no stacking of Info or cost
# per step, and no ``lax.cond`` at all. A diverged run keeps stepping on its frozen
# (last finite) state and discards the results; skipping that work with a ``cond``
# (per step, or per record chunk) is not worth it: under ``vmap`` (sweeps) a ``cond``
# with a batched predicate becomes a ``select`` over the whole carry, which made a
# 64-way sweep at n = 256, d = 100 five times slower than without it.
@functools.partial(jax.jit, static_argnames=("build", "metrics", "num_records", "every"))
def _run_impl(build, metrics, params, key, num_records: int, every: int):
    init, step = build(params)
    if jnp.ndim(key) == 0:  # an integer seed (see run)
        key = jax.random.PRNGKey(key)
    key_init, key_steps = jax.random.split(key)
    state0 = init(key_init)
    # One step's output structure: the Info carried before the first step (zeros).
    _, info_shape = jax.eval_shape(step, key_init, state0)
    info0 = jax.tree_util.tree_map(lambda x: jnp.zeros(x.shape, x.dtype), info_shape)
    ftype = jnp.result_type(float)

    def one_step(carry, k):
        state, info, dead, dead_at, t, spent = carry
        new_state, new_info = step(k, state)
        ok = _all_finite(new_state)
        now_dead = dead | ~ok
        dead_at = jnp.where(~dead & ~ok, t, dead_at)
        # Keep the last finite state (and its Info) once the run has diverged.
        keep = lambda new, old: jnp.where(now_dead, old, new)  # noqa: E731
        state = jax.tree_util.tree_map(keep, new_state, state)
        info = jax.tree_util.tree_map(keep, new_info, info)
        cost = jnp.stack([jnp.sum(jnp.asarray(v, dtype=ftype)) for v in new_info.cost])
        spent = spent + jnp.where(now_dead, jnp.zeros_like(cost), cost)
        return (state, info, now_dead, dead_at, t + 1, spent), None

    def one_record(carry, ks):
        carry = jax.lax.scan(one_step, carry, ks)[0]
        state, info, dead, spent = carry[0], carry[1], carry[2], carry[5]
        m = metrics(params, state, info)
        m = {k: jnp.where(dead, jnp.nan, jnp.asarray(v, dtype=ftype)) for k, v in m.items()}
        return carry, (m, spent)

    keys = jax.random.split(key_steps, num_records * every).reshape(num_records, every, -1)
    carry0 = (
        state0,
        info0,
        jnp.array(False),
        jnp.array(-1, dtype=jnp.int32),
        jnp.array(0, dtype=jnp.int32),
        jnp.zeros(len(Cost._fields), ftype),
    )
    (state, _, dead, dead_at, _, _), (m, spent) = jax.lax.scan(one_record, carry0, keys)
    for i, field in enumerate(Cost._fields):
        m[COST_FIELDS[field]] = spent[:, i]
    # bits on the wire, at the precision the run computes in (64 under jax_enable_x64, else 32)
    m["bits_sent"] = m["floats_sent"] * (8 * jnp.dtype(ftype).itemsize)
    return state, m, dead, dead_at


def run(algo: Algorithm, key, num_steps: int, *, record_every: int = 1):
    """Run ``algo`` for ``num_steps`` steps under one jitted ``lax.scan``.

    Args:
        algo: an :class:`Algorithm` from a factory such as ``algos.extra``.
        key: a ``jax.random`` key or an int seed. The same key gives the same trace, bit for bit.
        num_steps: number of steps (a multiple of ``record_every``).
        record_every: record metrics after every ``record_every`` steps (memory:
            a trace holds ``num_steps // record_every`` entries per field, never iterates).

    Returns:
        ``(final_state, trace)``.
    """
    if algo.build is None:
        raise ValueError("algo has no build function; create algorithms with their factory (e.g. algos.extra)")
    if int(num_steps) < 1 or int(record_every) < 1:
        raise ValueError(f"num_steps and record_every must be positive, got {num_steps}, {record_every}")
    if num_steps % record_every:
        raise ValueError(f"num_steps={num_steps} must be a multiple of record_every={record_every}")
    if isinstance(key, (int, np.integer)):
        # made into a key inside the jitted program: an eager PRNGKey is one more compilation
        key = np.uint32(int(key) & 0xFFFFFFFF) if 0 <= int(key) < 2**32 else jax.random.PRNGKey(int(key))
    state, m, dead, dead_at = _run_impl(
        algo.build, algo.metrics, algo.params, key, num_records=int(num_steps) // int(record_every), every=int(record_every)
    )
    return state, Trace(m, dead, dead_at, int(record_every))


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
