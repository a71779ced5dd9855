"""ratebench performance harness.

Usage (from the repository root)::

    python -m benchmarks.run                 # everything (~15-25 min on a 2-core VM)
    python -m benchmarks.run --quick         # seconds: tiny sizes, no decent-bench, for CI smoke tests
    python -m benchmarks.run --only decent_bench,numpy --repeats 7
    python -m benchmarks.run --only numpy --algos all --record-every 1   # issue 15's NumPy-parity condition
    python -m benchmarks.run --out benchmarks/results/full.json

Sections (``--only`` takes a comma-separated subset):

``decent_bench``  DGD, EXTRA, NIDS, gradient tracking vs decent-bench 0.3.0 on its problem
                  shape (20 agents, ring, d = 10, quadratic, 500 iterations): steady state per
                  iteration, end to end in fresh processes (cold and warm compilation cache),
                  and a sweep of 20 runs. Needs ``benchmarks/setup_decent_bench.sh``.
``numpy``         the same iterations in vectorized NumPy on the same data (quadratic n=20 d=10,
                  logistic n=64 m=100 d=50, quadratic n=256 d=100; the consensus methods on
                  ``convex.averaging`` with the same n and d), for the twelve classical methods of
                  ``NUMPY_ALGOS`` (``--algos``; MSDA is skipped on logistic: no conjugate oracle),
                  metrics recorded every ``--record-every`` steps (default 10).
``sweep``         64 step sizes in one ``vmap`` vs 64 sequential runs.
``scaling``       n = 16..1024 on ring / torus / exponential graphs, dense W vs structured gossip
                  (``algos._gossip``).
``sdp``           FMMC / FDLA solve time, ratebench's solver vs the naive dense cvxpy model.
``memory``        peak RSS of a 100,000-step run at n = 256, d = 100 (fresh process).

Every comparison is a ratio measured within one run, contenders interleaved,
medians over ``--repeats``; see ``benchmarks/_common.py``. Results go to a JSON
file and a Markdown summary is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import (
    DEFAULT_CACHE,
    DEFAULT_DB_VENV,
    REPO,
    block,
    dump,
    fmt_time,
    interleaved,
    loadavg,
    machine,
    md_table,
    median,
    setup_jax,
)


def _factories():
    from algos.consensus import chebyshev_gossip, gossip
    from algos.convex import dgd, dsgd, exact_diffusion, extra, gradient_tracking, msda, nids, opapc

    return {
        "dgd": dgd.dgd, "extra": extra.extra, "nids": nids.nids, "gradient_tracking": gradient_tracking.gradient_tracking,
        "dsgd": dsgd.dsgd, "exact_diffusion": exact_diffusion.exact_diffusion, "msda": msda.msda, "apapc": opapc.apapc,
        "opapc": opapc.opapc, "gossip": gossip.gossip, "chebyshev_gossip": chebyshev_gossip.chebyshev_gossip,
        "heavy_ball_gossip": chebyshev_gossip.heavy_ball_gossip,
    }  # fmt: skip


class _Lazy(dict):
    def __missing__(self, k):
        self.update(_factories())
        return dict.__getitem__(self, k)


FACTORIES = _Lazy()
ALGOS = ("dgd", "extra", "nids", "gradient_tracking")  # decent_bench and sweep: the methods decent-bench has
#: The ``numpy`` section's methods: every classical method with a baseline in ``numpy_baselines``.
NUMPY_ALGOS = ("dgd", "dsgd", "extra", "nids", "exact_diffusion", "gradient_tracking", "msda", "apapc", "opapc",
               "gossip", "chebyshev_gossip", "heavy_ball_gossip")  # fmt: skip
SECTIONS = ("decent_bench", "numpy", "sweep", "scaling", "sdp", "memory")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def _with_W(algo, W_new):
    """The same algorithm with ``params["W"]`` replaced (e.g. by a structured gossip operator)."""
    from algos._core import make_algorithm

    params = dict(algo.params)
    params["W"] = W_new
    return make_algorithm(algo.build, params, algo.metrics, algo.name, algo.hparams)


# ----------------------------------------------------------------------------------------------
# 1. decent-bench
# ----------------------------------------------------------------------------------------------
class DecentBench:
    """decent-bench's worker process in server mode (JSON lines over a pipe)."""

    def __init__(self, python: Path, npz: Path):
        self.proc = subprocess.Popen(
            [str(python), str(REPO / "benchmarks" / "_decent_bench_worker.py"), "server", str(npz)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = json.loads(self.proc.stdout.readline())

    def ask(self, **cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        try:
            self.ask(cmd="quit")
        except (OSError, ValueError):
            pass
        self.proc.wait(timeout=30)


def _timed_process(cmd, cwd=REPO, env=None) -> tuple[float, dict]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"{cmd} failed:\n{out.stderr[-3000:]}")
    return wall, json.loads(out.stdout.strip().splitlines()[-1])


def section_decent_bench(cfg) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np

    import algos
    from problems import convex, graphs, mixing

    py = Path(cfg.db_venv) / "bin" / "python"
    if not py.exists():
        return {"skipped": f"decent-bench environment not found at {cfg.db_venv}; run benchmarks/setup_decent_bench.sh"}
    ver = json.loads(subprocess.run([str(py), str(REPO / "benchmarks/_decent_bench_worker.py"), "version"], capture_output=True, text=True, check=True).stdout)
    n, d, iters, step = 20, 10, cfg.db_iters, 0.01
    p = convex.quadratic(n, d, key=0)
    g = graphs.ring(n)
    W = mixing.metropolis(g)
    tmp = Path(tempfile.mkdtemp(prefix="ratebench-db-"))
    npz = tmp / "problem.npz"
    np.savez(npz, A=np.asarray(p.data["A"]), b=np.asarray(p.data["b"]), W=W, edges=np.asarray(g.edges))
    res = {"versions": ver, "problem": f"quadratic n={n} d={d} ring Metropolis, step_size={step}, {iters} iterations, record_every=1", "algos": {}}
    db = DecentBench(py, npz)
    res["db_import_s"] = db.ready["import_s"]
    try:
        for name in cfg.algos:
            log(f"[decent_bench] {name}: steady state")
            a = FACTORIES[name](p, W, step_size=step)
            rb_state = {}

            def rb():
                s, tr = algos.run(a, 0, iters)
                rb_state["X"] = block(s.X)

            db_runs = []

            def dbf():
                db_runs.append(db.ask(cmd="run", algo=name, iters=iters, step=step))

            t = interleaved({"ratebench": rb, "decent_bench": dbf}, cfg.repeats)
            db_run = [r["run_s"] for r in db_runs[1:]]  # drop the warm-up call
            X_db = np.asarray(db_runs[-1]["X"])
            agree = float(np.abs(X_db - np.asarray(rb_state["X"])).max()) if name != "gradient_tracking" else None
            r = {
                "rb_per_iter_s": median(t["ratebench"]) / iters,
                "db_per_iter_s": median(db_run) / iters,
                "db_build_s": median([r["build_s"] for r in db_runs[1:]]),
                "max_abs_diff_final_X": agree,
            }
            r["per_iter_speedup"] = r["db_per_iter_s"] / r["rb_per_iter_s"]

            # sweep of K runs: decent-bench sequentially (its only way), ratebench one vmap call
            K = cfg.db_sweep
            steps = list(np.linspace(0.5, 1.0, K) * step)
            fs = jax.jit(jax.vmap(lambda s: algos.run(FACTORIES[name](p, W, step_size=s), 0, iters)[1].dist_to_opt))
            sw_db = []

            def rb_sweep():
                block(fs(jnp.asarray(steps)))

            def db_sweep():
                sw_db.append(db.ask(cmd="sweep", algo=name, iters=iters, steps=steps)["total_s"])

            log(f"[decent_bench] {name}: sweep of {K}")
            ts = interleaved({"ratebench": rb_sweep, "decent_bench": db_sweep}, max(1, cfg.repeats // 3), warmup=0 if K > 4 else 1)
            # ratebench's first sweep call compiled; time it again warm
            tw = interleaved({"ratebench": rb_sweep}, cfg.repeats)
            r["sweep_K"] = K
            r["sweep_rb_first_call_s"] = ts["ratebench"][0]
            r["sweep_rb_s"] = median(tw["ratebench"])
            r["sweep_db_s"] = median(sw_db)
            r["sweep_speedup_steady"] = r["sweep_db_s"] / r["sweep_rb_s"]
            r["sweep_speedup_incl_compile"] = r["sweep_db_s"] / r["sweep_rb_first_call_s"]
            res["algos"][name] = r
    finally:
        db.close()

    # end to end in fresh processes: decent-bench oneshot, ratebench cold cache, ratebench warm cache
    for name in cfg.algos:
        log(f"[decent_bench] {name}: end to end (fresh processes)")
        walls = {"decent_bench": [], "rb_cold": [], "rb_warm": [], "rb_nocache": []}
        inner = {"rb_cold": [], "rb_warm": []}
        for _ in range(cfg.e2e_repeats):
            w, _ = _timed_process([str(py), str(REPO / "benchmarks/_decent_bench_worker.py"), "oneshot", str(npz), name, str(iters), str(step)])
            walls["decent_bench"].append(w)
            cache = tempfile.mkdtemp(prefix="ratebench-jaxcache-")
            cmd = [sys.executable, "-m", "benchmarks._e2e", "--algo", name, "--steps", str(iters), "--step-size", str(step), "--cache", cache]
            w, info = _timed_process(cmd)
            walls["rb_cold"].append(w)
            inner["rb_cold"].append(info)
            w, info = _timed_process(cmd)
            walls["rb_warm"].append(w)
            inner["rb_warm"].append(info)
        r = res["algos"][name]
        r["e2e_db_s"] = median(walls["decent_bench"])
        r["e2e_rb_cold_s"] = median(walls["rb_cold"])
        r["e2e_rb_warm_s"] = median(walls["rb_warm"])
        r["e2e_rb_cold_run_s"] = median([i["run_s"] for i in inner["rb_cold"]])
        r["e2e_rb_warm_run_s"] = median([i["run_s"] for i in inner["rb_warm"]])
        r["e2e_rb_import_s"] = median([i["import_s"] for i in inner["rb_warm"]])
        r["e2e_speedup_cold"] = r["e2e_db_s"] / r["e2e_rb_cold_s"]
        r["e2e_speedup_warm"] = r["e2e_db_s"] / r["e2e_rb_warm_s"]
    # end to end sweep of K runs in fresh processes (one repeat each: they are long)
    for name in cfg.algos[:1] if cfg.quick else cfg.algos:
        log(f"[decent_bench] {name}: end-to-end sweep of {cfg.db_sweep} (fresh processes)")
        cache = tempfile.mkdtemp(prefix="ratebench-jaxcache-")
        cmd = [sys.executable, "-m", "benchmarks._e2e", "--algo", name, "--steps", str(iters), "--step-size", str(step), "--sweep", str(cfg.db_sweep), "--cache", cache]
        w_rb, _ = _timed_process(cmd)
        w_db, _ = _timed_process([str(py), str(REPO / "benchmarks/_decent_bench_worker.py"), "oneshot_sweep", str(npz), name, str(iters), str(step), str(cfg.db_sweep)])
        w_rb_warm, _ = _timed_process(cmd)
        r = res["algos"][name]
        r["e2e_sweep_rb_cold_s"], r["e2e_sweep_rb_warm_s"], r["e2e_sweep_db_s"] = w_rb, w_rb_warm, w_db
        r["e2e_sweep_speedup_cold"] = w_db / w_rb
        r["e2e_sweep_speedup_warm"] = w_db / w_rb_warm
    return res


# ----------------------------------------------------------------------------------------------
# 2. NumPy
# ----------------------------------------------------------------------------------------------
def _numpy_problems(cfg):
    """``(label, problem, W, steps, methods)`` per case.

    The convex methods run on the quadratic / logistic instances of ``cfg.numpy_sizes``; the three
    consensus methods (gossip, Chebyshev and heavy-ball gossip: no gradients) on
    :func:`problems.convex.averaging` with the same ``n`` and ``d`` (a quadratic case's size: the
    node-stacked iterate is (n, d) and a gossip round is the same (n, n) x (n, d) product; a
    logistic case's ``m`` does not enter gossip), once per distinct ``(n, d)``. MSDA needs the
    conjugate-gradient oracle, which the logistic problem lacks (ratebench raises
    ``NotImplementedError``): it is left out there and the case lists it under ``skipped``.
    """
    from benchmarks import numpy_baselines as nb
    from problems import convex, graphs, mixing

    out, seen = [], set()
    for kind, n, d, m, steps in cfg.numpy_sizes:
        W = mixing.metropolis(graphs.ring(n))
        if kind == "logistic":
            p = convex.logistic(n, d, samples_per_node=m, key=0)
        else:
            p = convex.quadratic(n, d, key=0)
        names = [a for a in cfg.numpy_algos if a in nb.CONVEX]
        skipped = {a: "no conjugate-gradient oracle on logistic (ratebench raises NotImplementedError)"
                   for a in names if kind == "logistic" and a in nb.NEEDS_CONJUGATE}  # fmt: skip
        names = [a for a in names if a not in skipped]
        if names or skipped:
            out.append((f"{kind} n={n} d={d}" + (f" m={m}" if m else ""), p, W, steps, names, skipped))
        consensus = [a for a in cfg.numpy_algos if a in nb.CONSENSUS]
        if consensus and (n, d) not in seen:
            seen.add((n, d))
            out.append((f"averaging n={n} d={d}", convex.averaging(n, d, key=0), W, steps, consensus, {}))
    return out


def section_numpy(cfg) -> dict:
    """ratebench against the vectorized NumPy baselines, at ``cfg.record_every``, interleaved.

    Every case also records how far the baseline's final iterate and recorded metrics are from
    ratebench's (the baseline runs the same iteration, so they agree to rounding; D-SGD's noise is
    drawn independently, so its difference is reported as not comparable unless the problem is
    noiseless)."""
    import numpy as np

    import algos
    from benchmarks import numpy_baselines as nb

    res = {"record_every": cfg.record_every, "cases": [], "skipped": []}
    for label, p, W, steps, names, skipped in _numpy_problems(cfg):
        res["skipped"] += [{"case": label, "algo": a, "why": why} for a, why in skipped.items()]
        P = nb.NumpyProblem(p)
        for name in names:
            log(f"[numpy] {label} {name}")
            a = FACTORIES[name](p, W)  # the factory's default hyperparameters
            hp, X0 = nb.inputs(a)
            steps_n = steps - steps % cfg.record_every
            out = {}

            def rb():
                s, tr = algos.run(a, 0, steps_n, record_every=cfg.record_every)
                out["rb"] = (block(s.X), tr)

            def npf():
                out["np"] = nb.run(name, P, W, hp, steps_n, cfg.record_every, X0)

            t0 = time.perf_counter()
            rb()
            first = time.perf_counter() - t0
            fns = {"ratebench": rb, "numpy": npf}
            t = interleaved(fns, cfg.repeats, warmup=0)
            X_rb, tr = out["rb"]
            X_np, rec = out["np"]
            comparable = name != "dsgd" or (p.noise == "gaussian" and float(p.sigma) == 0.0)
            diff = float(np.abs(np.asarray(X_rb) - X_np).max()) if comparable else None
            mdiff = None
            if comparable:
                # largest metric difference relative to that metric's largest recorded value
                mdiff = max(float(np.max(np.abs(np.asarray(getattr(tr, k)) - v)) / max(float(np.max(np.abs(v))), 1e-300)) for k, v in rec.items())
            r = {
                "case": label,
                "algo": name,
                "steps": steps_n,
                "hparams": {k: v for k, v in hp.items() if isinstance(v, (int, float))},
                "metrics": list(rec),
                "rb_per_iter_s": median(t["ratebench"]) / steps_n,
                "np_per_iter_s": median(t["numpy"]) / steps_n,
                "rb_first_call_s": first,
                "np_run_s": median(t["numpy"]),
                "max_abs_diff_final_X": diff,
                "max_rel_diff_metrics": mdiff,
            }
            r["speedup"] = r["np_per_iter_s"] / r["rb_per_iter_s"]
            r["speedup_incl_compile"] = r["np_run_s"] / first
            res["cases"].append(r)
    return res


# ----------------------------------------------------------------------------------------------
# 3. sweeps
# ----------------------------------------------------------------------------------------------
def _bare_scan(algo, steps: int, every: int):
    """The algorithm's own step in a plain scan (no divergence guard, costs or metrics; one norm per record).

    The engine-free reference of the sweep section: how much of a vmapped sweep's time is the method's
    arithmetic and how much the engine's per-step work.
    """
    import jax
    import jax.numpy as jnp

    from algos._core import _indexed

    init, step = algo.build(algo.params)
    step = _indexed(step)
    key = jax.random.PRNGKey(1)

    def body(state, t):
        return step(jax.random.fold_in(key, t), state, t)[0], None

    def record(state, r):
        state = jax.lax.scan(body, state, r * every + jnp.arange(every))[0]
        return state, jnp.linalg.norm(jax.tree_util.tree_leaves(state)[0])

    return jax.lax.scan(record, init(jax.random.PRNGKey(0)), jnp.arange(steps // every))[1]


def _bare_scan_last(factory, sizes, steps: int, every: int):
    """The engine-free reference in the engine's sweep layout: one plain scan whose every step is a
    ``vmap`` of the method's step with the sweep axis last on every state leaf (what
    ``algos._core._run_batched`` does, without its divergence guard, costs or metrics)."""
    import jax
    import jax.numpy as jnp

    from algos._core import _indexed

    def parts(s):
        a = factory(s)
        init, step = a.build(a.params)
        return init, _indexed(step)

    key = jax.random.PRNGKey(1)
    state = jax.vmap(lambda s: parts(s)[0](jax.random.PRNGKey(0)), out_axes=-1)(sizes)
    step_b = jax.vmap(lambda s, st, t: parts(s)[1](jax.random.fold_in(key, t), st, t)[0], in_axes=(0, -1, None), out_axes=-1)

    def record(state, r):
        state = jax.lax.scan(lambda st, t: (step_b(sizes, st, t), None), state, r * every + jnp.arange(every))[0]
        x = jax.tree_util.tree_leaves(state)[0]
        return state, jnp.sqrt(jnp.sum(x * x, axis=tuple(range(x.ndim - 1))))

    return jax.lax.scan(record, state, jnp.arange(steps // every))[1]


def section_sweep(cfg) -> dict:
    import jax
    import jax.numpy as jnp

    import algos
    from problems import convex, graphs, mixing

    res = {"K": cfg.sweep_K, "record_every": cfg.record_every, "cases": []}
    for n, d, steps in cfg.sweep_sizes:
        p = convex.quadratic(n, d, key=0)
        W = mixing.metropolis(graphs.ring(n))
        for name in ("dgd", "extra"):
            log(f"[sweep] n={n} d={d} {name}")
            base = FACTORIES[name](p, W).hparams["step_size"]
            sizes = jnp.linspace(0.25, 1.0, cfg.sweep_K) * base
            f = jax.jit(jax.vmap(lambda s: algos.run(FACTORIES[name](p, W, step_size=s), 0, steps, record_every=cfg.record_every)[1].dist_to_opt))
            one = [FACTORIES[name](p, W, step_size=float(s)) for s in sizes]

            fb = jax.jit(jax.vmap(lambda s, name=name: _bare_scan(FACTORIES[name](p, W, step_size=s), steps, cfg.record_every)))
            fl = jax.jit(lambda ss, name=name: _bare_scan_last(lambda s: FACTORIES[name](p, W, step_size=s), ss, steps, cfg.record_every))

            def seq():
                for a in one:
                    block(algos.run(a, 0, steps, record_every=cfg.record_every)[1].dist_to_opt)

            def vm():
                block(f(sizes))

            def bare():
                block(fb(sizes))

            def bare_last():
                block(fl(sizes))

            t = interleaved({"sequential": seq, "vmap": vm, "bare_vmap": bare, "bare_last": bare_last}, max(2, cfg.repeats // 2))
            r = {"n": n, "d": d, "algo": name, "steps": steps, "sequential_s": median(t["sequential"]), "vmap_s": median(t["vmap"]),
                 "bare_vmap_s": median(t["bare_vmap"]), "bare_last_s": median(t["bare_last"])}  # fmt: skip
            r["throughput_ratio"] = r["sequential_s"] / r["vmap_s"]
            r["bare_throughput_ratio"] = r["sequential_s"] / r["bare_vmap_s"]
            r["bare_last_throughput_ratio"] = r["sequential_s"] / r["bare_last_s"]
            res["cases"].append(r)
    return res


# ----------------------------------------------------------------------------------------------
# 4. scaling in n, dense vs structured gossip
# ----------------------------------------------------------------------------------------------
def section_scaling(cfg) -> dict:
    import numpy as np

    import algos
    from algos import _gossip
    from problems import convex, graphs, mixing

    d, steps = cfg.scaling_d, cfg.scaling_steps
    res = {"d": d, "steps": steps, "algo": "dgd", "cases": []}
    for topo in ("ring", "torus", "exponential"):
        for n in cfg.scaling_ns:
            side = int(round(n**0.5))
            if topo == "torus" and side * side != n:
                continue
            g = {"ring": lambda: graphs.ring(n), "torus": lambda: graphs.torus(side), "exponential": lambda: graphs.exponential(n)}[topo]()
            W = mixing.metropolis(g)
            p = convex.quadratic(n, d, key=0)
            a = FACTORIES["dgd"](p, W)
            grid = (side, side) if topo == "torus" else None
            forms = {"dense": a, "circulant": _with_W(a, _gossip.circulant(W, grid)), "edges": _with_W(a, _gossip.edges(W))}
            log(f"[scaling] {topo} n={n}")
            outs = {}

            def mk(k, alg):
                def f():
                    outs[k] = block(algos.run(alg, 0, steps, record_every=steps)[0].X)

                return f

            t = interleaved({k: mk(k, alg) for k, alg in forms.items()}, max(2, cfg.repeats // 2))
            nnz = int(np.count_nonzero(W))
            for k in forms:
                err = float(np.abs(np.asarray(outs[k]) - np.asarray(outs["dense"])).max())
                res["cases"].append(
                    {"topology": topo, "n": n, "form": k, "nnz": nnz, "per_iter_s": median(t[k]) / steps, "work": nnz * d + n * d * d, "dense_work": n * n * d + n * d * d, "max_abs_diff_vs_dense": err}
                )
    return res


# ----------------------------------------------------------------------------------------------
# 5. SDP weights
# ----------------------------------------------------------------------------------------------
_NAIVE_SNIPPET = """
import json, sys, time
import numpy as np
from problems import graphs, _sdp, mixing
n, kind = int(sys.argv[1]), sys.argv[2]
g = graphs.geometric(n, seed=0)
fn = _sdp.solve_fmmc_naive if kind == "fmmc" else _sdp.solve_fdla_naive
timing = {}
t0 = time.perf_counter()
W = fn(g.n, g.edges, timing=timing)
print(json.dumps({"solve_s": time.perf_counter() - t0, "slem": mixing.slem(W), **timing}))
"""


def section_sdp(cfg) -> dict:
    from problems import graphs, mixing

    res = {"cases": [], "timeout_s": cfg.sdp_timeout}
    skip_naive_from = {}
    # warm-up: first-call imports (scipy pieces) are not solve time
    mixing.fastest_mixing(graphs.ring(6))
    mixing.fastest_averaging(graphs.ring(6))
    for n in cfg.sdp_ns:
        g = graphs.geometric(n, seed=0)
        for kind, fn in (("fmmc", mixing.fastest_mixing), ("fdla", mixing.fastest_averaging)):
            log(f"[sdp] {kind} n={n} (m={len(g.edges)} edges)")
            ts, W = [], None
            for _ in range(max(1, cfg.repeats // 3)):
                t0 = time.perf_counter()
                W = fn(g)
                ts.append(time.perf_counter() - t0)
            r = {"kind": kind, "n": n, "edges": int(len(g.edges)), "rb_s": median(ts), "rb_slem": mixing.slem(W)}
            if kind in skip_naive_from and n > skip_naive_from[kind]:
                r["naive"] = f"skipped: the naive model at n={skip_naive_from[kind]} already exceeded {cfg.sdp_timeout} s"
            else:
                try:
                    t0 = time.perf_counter()
                    out = subprocess.run([sys.executable, "-c", _NAIVE_SNIPPET, str(n), kind], cwd=REPO, capture_output=True, text=True, timeout=cfg.sdp_timeout)
                    wall = time.perf_counter() - t0
                    if out.returncode != 0:
                        r["naive"] = "failed: " + out.stderr.strip().splitlines()[-1][:200]
                    else:
                        info = json.loads(out.stdout.strip().splitlines()[-1])
                        r.update(naive_s=info["solve_s"], naive_wall_s=wall, naive_slem=info["slem"], naive_compile_s=info.get("compile_s"), naive_solver_s=info.get("solver_s"))
                        r["speedup"] = r["naive_s"] / r["rb_s"]
                        r["slem_diff"] = r["rb_slem"] - r["naive_slem"]
                except subprocess.TimeoutExpired:
                    r["naive"] = f"timeout: did not finish within {cfg.sdp_timeout} s"
                    skip_naive_from[kind] = n
            res["cases"].append(r)
    return res


# ----------------------------------------------------------------------------------------------
# 6. memory
# ----------------------------------------------------------------------------------------------
def section_memory(cfg) -> dict:
    n, d, steps = cfg.mem_size
    log(f"[memory] n={n} d={d} steps={steps} (fresh process)")
    _, info = _timed_process([sys.executable, "-m", "benchmarks._memory", "--n", str(n), "--d", str(d), "--steps", str(steps), "--record-every", "1"])
    info["ratio_run_increase_to_data"] = info["run_increase"] / info["data_bytes"]
    info["ratio_since_import_to_data"] = info["increase_since_import"] / info["data_bytes"]
    return info


# ----------------------------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------------------------
def markdown(results: dict) -> str:
    out = []
    db = results.get("decent_bench")
    if db and "algos" in db:
        rows = []
        for k, r in db["algos"].items():
            rows.append(
                [
                    k,
                    fmt_time(r["db_per_iter_s"]),
                    fmt_time(r["rb_per_iter_s"]),
                    f"{r['per_iter_speedup']:.0f}x",
                    fmt_time(r.get("e2e_db_s", float("nan"))),
                    fmt_time(r.get("e2e_rb_cold_s", float("nan"))),
                    fmt_time(r.get("e2e_rb_warm_s", float("nan"))),
                    f"{r.get('e2e_speedup_cold', float('nan')):.2f}x / {r.get('e2e_speedup_warm', float('nan')):.2f}x",
                    f"{r['sweep_speedup_steady']:.0f}x ({r['sweep_speedup_incl_compile']:.0f}x)",
                    f"{r['e2e_sweep_speedup_cold']:.1f}x / {r['e2e_sweep_speedup_warm']:.1f}x" if "e2e_sweep_speedup_cold" in r else "-",
                    "-" if r["max_abs_diff_final_X"] is None else f"{r['max_abs_diff_final_X']:.1e}",
                ]
            )
        out.append("### vs decent-bench " + db["versions"]["decent_bench"] + f" ({db['problem']})\n")
        out.append(
            md_table(
                ["algo", "db / iter", "rb / iter", "per-iter speedup", "db e2e", "rb e2e cold", "rb e2e warm", "e2e speedup cold / warm", f"sweep {next(iter(db['algos'].values()))['sweep_K']} in-process steady (incl. compile)", "sweep e2e (fresh procs) cold / warm", "max |X_db - X_rb|"],
                rows,
            )
        )
    elif db:
        out.append(f"### vs decent-bench\n\n{db.get('skipped')}")
    if "numpy" in results:
        def e(v):
            return "n/a (own noise draws)" if v is None else f"{v:.1e}"

        rows = [
            [r["case"], r["algo"], r["steps"], fmt_time(r["np_per_iter_s"]), fmt_time(r["rb_per_iter_s"]), f"{r['speedup']:.1f}x", f"{r['speedup_incl_compile']:.3g}x", e(r["max_abs_diff_final_X"]), e(r.get("max_rel_diff_metrics"))]
            for r in results["numpy"]["cases"]
        ]
        out.append(f"\n### vs vectorized NumPy (record_every={results['numpy']['record_every']})\n")
        out.append(md_table(["problem", "algo", "steps", "NumPy / iter", "rb / iter", "speedup (steady)", "speedup incl. compile (one cold run)", "max |X_np - X_rb|", "max metric diff / metric scale"], rows))
        for sk in results["numpy"].get("skipped", []):
            out.append(f"\nskipped: {sk['algo']} on {sk['case']}: {sk['why']}")
    if "sweep" in results:
        s = results["sweep"]
        rows = [[f"n={r['n']} d={r['d']}", r["algo"], r["steps"], fmt_time(r["sequential_s"]), fmt_time(r["vmap_s"]), f"{r['throughput_ratio']:.1f}x",
                 fmt_time(r["bare_vmap_s"]) if "bare_vmap_s" in r else "-",
                 f"{r['bare_throughput_ratio']:.1f}x" if "bare_throughput_ratio" in r else "-",
                 fmt_time(r["bare_last_s"]) if "bare_last_s" in r else "-",
                 f"{r['bare_last_throughput_ratio']:.1f}x" if "bare_last_throughput_ratio" in r else "-"] for r in s["cases"]]  # fmt: skip
        out.append(f"\n### Sweeps: {s['K']} step sizes, one vmap vs sequential runs\n")
        out.append(md_table(["problem", "algo", "steps", f"{s['K']} sequential", "one vmap", "throughput ratio", "bare vmap of a scan",
                             "ratio", "bare scan of a batch-last vmap", "ratio"], rows))  # fmt: skip
    if "scaling" in results:
        s = results["scaling"]
        out.append(f"\n### Scaling in n (DGD, quadratic d={s['d']}, per iteration)\n")
        by = {}
        for r in s["cases"]:
            by.setdefault((r["topology"], r["n"]), {})[r["form"]] = r
        rows = []
        for (topo, n), f in by.items():
            rows.append([topo, n, f["dense"]["nnz"], fmt_time(f["dense"]["per_iter_s"]), fmt_time(f["circulant"]["per_iter_s"]), fmt_time(f["edges"]["per_iter_s"]), f"{f['dense']['per_iter_s'] / f['circulant']['per_iter_s']:.1f}x"])
        out.append(md_table(["graph", "n", "nnz(W)", "dense W", "circulant (rolls)", "edge list", "dense / circulant"], rows))
    if "sdp" in results:
        rows = []
        for r in results["sdp"]["cases"]:
            naive = fmt_time(r["naive_s"]) if "naive_s" in r else r.get("naive", "-")
            rows.append([r["kind"].upper(), r["n"], r["edges"], fmt_time(r["rb_s"]), naive, f"{r['speedup']:.0f}x" if "speedup" in r else "-", f"{r['slem_diff']:.1e}" if "slem_diff" in r else "-"])
        out.append("\n### SDP weights (random geometric graphs)\n")
        out.append(md_table(["problem", "n", "edges", "ratebench", "naive cvxpy (Clarabel)", "speedup", "SLEM(rb) - SLEM(naive)"], rows))
    if "memory" in results:
        m = results["memory"]
        mb = 1 / 2**20
        out.append(f"\n### Memory: {m['steps']} steps of {m['algo']}, n={m['n']}, d={m['d']}, record_every={m['record_every']}\n")
        out.append(
            md_table(
                ["problem data", "trace", "peak RSS increase during run", "ratio to data", "peak since import (data + program + run)", "ratio", "XLA temp buffers"],
                [[f"{m['data_bytes'] * mb:.1f} MiB", f"{m['trace_bytes'] * mb:.1f} MiB", f"{m['run_increase'] * mb:.1f} MiB", f"{m['ratio_run_increase_to_data']:.2f}", f"{m['increase_since_import'] * mb:.1f} MiB", f"{m['ratio_since_import_to_data']:.2f}", f"{m['xla_static'].get('temp_size_in_bytes', -1) * mb:.1f} MiB"]],
            )
        )
    return "\n".join(out)


def config(args):
    c = argparse.Namespace(**vars(args))
    c.algos = list(ALGOS)
    c.numpy_algos = list(NUMPY_ALGOS)
    if args.quick:
        c.repeats = args.repeats or 2
        c.db_iters, c.db_sweep, c.e2e_repeats = 50, 3, 1
        c.numpy_sizes = [("quadratic", 8, 4, 0, 100), ("logistic", 8, 5, 10, 100)]
        c.algos = ["dgd", "extra"]
        c.numpy_algos = ["dgd", "extra"]
        c.sweep_sizes, c.sweep_K = [(8, 4, 100)], 4
        c.scaling_ns, c.scaling_d, c.scaling_steps = [16], 4, 100
        c.sdp_ns, c.sdp_timeout = [8], 60
        c.mem_size = (16, 8, 1000)
        c.record_every = 10
    else:
        c.repeats = args.repeats or 7
        c.db_iters, c.db_sweep, c.e2e_repeats = 500, 20, 3
        c.numpy_sizes = [("quadratic", 20, 10, 0, 5000), ("logistic", 64, 50, 100, 2000), ("quadratic", 256, 100, 0, 500)]
        c.sweep_sizes, c.sweep_K = [(20, 10, 2000), (64, 50, 1000), (256, 100, 200)], 64
        c.scaling_ns, c.scaling_d, c.scaling_steps = [16, 64, 256, 1024], 10, 500
        c.sdp_ns, c.sdp_timeout = [20, 50, 100, 200], 120
        c.mem_size = (256, 100, 100_000)
        c.record_every = 10
    if args.record_every is not None:
        if args.record_every < 1:
            raise SystemExit(f"benchmarks.run: --record-every must be a positive integer, got {args.record_every}; pass 1 to record every step")
        c.record_every = args.record_every
    if args.algos is not None:
        names = list(NUMPY_ALGOS) if args.algos == "all" else [a.strip() for a in args.algos.split(",") if a.strip()]
        bad = [a for a in names if a not in NUMPY_ALGOS]
        if bad or not names:
            raise SystemExit(f"benchmarks.run: --algos got unknown methods {bad or args.algos!r}; pass 'all' or a comma-separated subset of {','.join(NUMPY_ALGOS)}")
        c.numpy_algos = names
        # decent_bench and sweep compare step-size methods decent-bench also has: the named ones among them
        c.algos = [a for a in names if a in ALGOS]
    return c


def main(argv=None):
    ap = argparse.ArgumentParser(description="ratebench performance harness")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, seconds; for the CI smoke test")
    ap.add_argument("--only", default=None, help=f"comma-separated subset of {','.join(SECTIONS)}")
    ap.add_argument("--repeats", type=int, default=0, help="timing repeats (default 7; quick: 2)")
    ap.add_argument("--out", default=None, help="JSON results file (default benchmarks/results/<full|quick>.json)")
    ap.add_argument("--algos", default=None, help=f"methods, comma-separated, or 'all': the numpy section takes any of {','.join(NUMPY_ALGOS)} (default: all; quick: dgd,extra); decent_bench and sweep use those among {','.join(ALGOS)}")
    ap.add_argument("--record-every", type=int, default=None, help="record the metrics every N steps in the numpy and sweep sections (default 10; the issue-15 parity condition is 1)")
    ap.add_argument("--db-venv", default=str(DEFAULT_DB_VENV), help="decent-bench virtual environment")
    ap.add_argument("--cache", default=None, help=f"persistent JAX compilation cache for this process (e.g. {DEFAULT_CACHE}); default none, so in-process first-call times include compilation")
    args = ap.parse_args(argv)
    cfg = config(args)
    sections = args.only.split(",") if args.only else [s for s in SECTIONS if not (args.quick and s == "decent_bench")]
    bad = set(sections) - set(SECTIONS)
    if bad:
        ap.error(f"unknown sections {sorted(bad)}; choose from {SECTIONS}")
    setup_jax(args.cache)

    results = {"command": "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:]), "machine": machine(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    for s in sections:
        t0 = time.perf_counter()
        results[s] = globals()[f"section_{s}"](cfg)
        results[s]["section_s"] = time.perf_counter() - t0
        results[s]["loadavg_after"] = loadavg()
    results["machine"]["loadavg_end"] = loadavg()
    out = Path(args.out) if args.out else REPO / "benchmarks" / "results" / ("quick.json" if args.quick else "full.json")
    dump(out, results)
    print(markdown(results))
    log(f"results written to {out}")
    return results


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
