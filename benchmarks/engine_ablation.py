"""Engine before/after: the per-step design of ``algos/_core.py`` before this harness, timed against the current one.

``python -m benchmarks.engine_ablation [--steps 2000] [--repeats 9]``

``run_impl_v0`` below is the run loop as it was before the performance work
(kept here only as the reference for this measurement): every step went through a
``lax.cond`` (frozen vs live), emitted its Info, its Cost and a flag as scan
outputs (stacked per record), and the costs were summed per record afterwards.
The current engine carries the last Info and the cumulative cost vector in the
loop and has no per-step ``cond`` (see the comment above ``_run_impl``). Both
produce identical traces (checked below). Times are interleaved, medians, per step.
"""

from __future__ import annotations

import argparse
import functools

import jax
import jax.numpy as jnp

from algos import _core
from benchmarks._common import interleaved, md_table, median, setup_jax


@functools.partial(jax.jit, static_argnames=("build", "metrics", "num_records", "every"))
def run_impl_v0(build, metrics, params, key, num_records: int, every: int):
    init, step = build(params)
    key_init, key_steps = jax.random.split(key)
    state0 = init(key_init)
    # One step's outputs with zeros: gives the metric/cost structure for frozen steps.
    _, info_shape = jax.eval_shape(step, key_init, state0)
    zero_cost = _core.Cost(*(jnp.zeros((), jnp.result_type(float)) for _ in _core.Cost._fields))

    def one_step(carry, k):
        state, dead, dead_at, t = carry

        def live(s):
            s2, info = step(k, s)
            c = _core.Cost(*(jnp.asarray(v, dtype=zero_cost.vectors.dtype) for v in info.cost))
            return s2, info, c

        def frozen(s):
            info = jax.tree_util.tree_map(lambda x: jnp.zeros(x.shape, x.dtype), info_shape)
            return s, info, zero_cost

        new_state, info, c = jax.lax.cond(dead, frozen, live, state)
        ok = _core._all_finite(new_state)
        now_dead = dead | ~ok
        dead_at = jnp.where(~dead & ~ok, t, dead_at)
        # Keep the last finite state so the frozen branch never computes on NaNs.
        state = jax.tree_util.tree_map(lambda a, b: jnp.where(ok & ~dead, a, b), new_state, state)
        return (state, now_dead, dead_at, t + 1), (info, c, ok & ~dead)

    def one_record(carry, ks):
        carry, (infos, costs, oks) = jax.lax.scan(one_step, carry, ks)
        state, dead = carry[0], carry[1]
        last_info = jax.tree_util.tree_map(lambda x: x[-1], infos)
        m = metrics(params, state, last_info)
        m = {k: jnp.where(dead, jnp.nan, jnp.asarray(v, dtype=jnp.result_type(float))) for k, v in m.items()}
        spent = _core.Cost(*(jnp.sum(jnp.where(oks, x, 0.0)) for x in costs))
        return carry, (m, spent)

    keys = jax.random.split(key_steps, num_records * every).reshape(num_records, every, -1)
    carry0 = (state0, jnp.array(False), jnp.array(-1, dtype=jnp.int32), jnp.array(0, dtype=jnp.int32))
    (state, dead, dead_at, _), (m, spent) = jax.lax.scan(one_record, carry0, keys)
    for field, name in _core.COST_FIELDS.items():
        m[name] = jnp.cumsum(getattr(spent, field))
    return state, m, dead, dead_at




def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args(argv)
    setup_jax(None)
    import numpy as np

    from benchmarks.run import ALGOS, FACTORIES
    from problems import convex, graphs, mixing

    p = convex.quadratic(20, 10, key=0)
    W = mixing.metropolis(graphs.ring(20))
    key = jax.random.PRNGKey(0)
    rows = []
    for name in ALGOS:
        a = FACTORIES[name](p, W, step_size=0.01)
        for every in (1, 100):
            nr = args.steps // every
            f0 = lambda: jax.block_until_ready(run_impl_v0(a.build, a.metrics, a.params, key, num_records=nr, every=every))  # noqa: E731
            f1 = lambda: jax.block_until_ready(_core._run_impl(a.build, a.metrics, a.params, key, num_records=nr, every=every))  # noqa: E731
            r0, r1 = f0(), f1()
            for k in r0[1]:
                np.testing.assert_array_equal(np.asarray(r0[1][k]), np.asarray(r1[1][k]))
            t = interleaved({"v0": f0, "now": f1}, args.repeats)
            v0, now = median(t["v0"]) / args.steps, median(t["now"]) / args.steps
            rows.append([name, every, f"{v0 * 1e6:.2f} us", f"{now * 1e6:.2f} us", f"{v0 / now:.2f}x"])
    print(md_table(["algo", "record_every", "before (per-step cond, stacked outputs)", "now", "speedup"], rows))


if __name__ == "__main__":
    main()
