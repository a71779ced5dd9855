"""Large-n measurements in float32 with achieved memory bandwidth (GPU, or CPU at small sizes).

Usage::

    python -m benchmarks.gpu                  # on a GPU: n up to 16384, d = 100
    python -m benchmarks.gpu --quick          # CPU-sized: n up to 1024, d = 16
    python -m benchmarks.gpu --ns 1024,4096 --d 64 --steps 200 --out results.json

For DGD and gradient tracking on quadratics (``grad f_i(x) = A_i x - b_i``), a ring
with Metropolis weights, and three forms of gossip (dense ``W``, circulant rolls,
edge list; ``algos._gossip``), it reports per-iteration time and the *achieved
bandwidth*: the bytes one iteration must move at least, divided by its time.

Bytes per iteration (float32, 4 bytes; reads + writes of one step, ignoring
caching across steps, i.e. a lower bound on traffic when the data does not fit in
cache): the gradient reads every ``A_i`` (``n d^2``) and ``b`` (``n d``); a dense
gossip reads ``W`` (``n^2``) and ``X``; a structured gossip reads ``X`` once per
offset (``k n d``) and an edge list the nonzeros and their indices
(``nnz (d + 2)``); the state ``X`` (and ``Y`` for gradient tracking) is read and
written. On a GPU the interesting number is this bandwidth against the card's
peak (about 3.35 TB/s on an H100 SXM, 4.8 TB/s on an H200): at large ``n`` every
method here is memory bound.

float32 is used because that is what a GPU run would use; JAX's default, so no
x64 flag is set here.
"""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks._common import dump, fmt_time, machine, md_table, median


def bytes_per_iter(algo: str, form: str, n: int, d: int, nnz: int, k: int, item: int = 4) -> int:
    grad = n * d * d + n * d + 2 * n * d  # A, b, read X, write G
    if form == "dense":
        gossip = n * n + 2 * n * d
    elif form == "circulant":
        gossip = k * n * d + n * d
    else:
        gossip = nnz * d + 2 * nnz + 2 * n * d
    rounds = 2 if algo == "gradient_tracking" else 1
    state = (2 if algo == "gradient_tracking" else 1) * 2 * n * d
    return item * (grad + rounds * gossip + state)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--ns", default=None)
    ap.add_argument("--d", type=int, default=None)
    ap.add_argument("--steps", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)

    import jax
    import numpy as np

    import algos
    from algos import _gossip
    from algos._core import make_algorithm
    from algos.convex import dgd, gradient_tracking
    from problems import convex, graphs, mixing

    on_gpu = jax.default_backend() == "gpu"
    if args.ns:
        ns = [int(x) for x in args.ns.split(",")]
    elif args.quick:
        ns = [64, 256]
    else:
        ns = [1024, 4096, 16384] if on_gpu else [256, 1024]
    d = args.d or (16 if args.quick else (100 if on_gpu else 32))
    steps = args.steps or (50 if args.quick else 200)
    factories = {"dgd": dgd.dgd, "gradient_tracking": gradient_tracking.gradient_tracking}
    rows, results = [], {"machine": machine(), "backend": jax.default_backend(), "devices": [str(x) for x in jax.devices()], "d": d, "steps": steps, "cases": []}
    for n in ns:
        p64 = convex.quadratic(n, d, key=0)
        # float32 copy of the problem's arrays (the problem is a pytree)
        p = jax.tree_util.tree_map(lambda x: np.asarray(x, np.float32) if hasattr(x, "dtype") and np.issubdtype(np.asarray(x).dtype, np.floating) else x, p64)
        W = mixing.metropolis(graphs.ring(n))
        for name, fac in factories.items():
            base = fac(p64, W)
            alpha = np.float32(base.hparams["step_size"])
            params = dict(base.params, problem=p, alpha=alpha, x0=np.asarray(base.params["x0"], np.float32))
            forms = {
                "dense": np.asarray(W, np.float32),
                "circulant": _gossip.circulant(W.astype(np.float32)),
                "edges": _gossip.edges(W.astype(np.float32)),
            }
            if n * n * 4 > 8 * 2**30:  # dense W over 8 GiB: skip
                forms.pop("dense")
            for form, Wf in forms.items():
                a = make_algorithm(base.build, dict(params, W=Wf), base.metrics, name, base.hparams)
                run = lambda: jax.block_until_ready(algos.run(a, 0, steps, record_every=steps)[0].X)  # noqa: E731
                t0 = time.perf_counter()
                run()
                first = time.perf_counter() - t0
                ts = []
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    run()
                    ts.append(time.perf_counter() - t0)
                per = median(ts) / steps
                nnz = int(np.count_nonzero(W))
                k = len(forms["circulant"].offsets)
                b = bytes_per_iter(name, form, n, d, nnz, k)
                r = {"n": n, "algo": name, "form": form, "per_iter_s": per, "first_call_s": first, "bytes_per_iter": b, "GB_per_s": b / per / 1e9}
                results["cases"].append(r)
                rows.append([n, name, form, fmt_time(per), f"{b / 2**20:.2f} MiB", f"{r['GB_per_s']:.1f} GB/s"])
                print(f"n={n} {name} {form}: {fmt_time(per)}/iter, {r['GB_per_s']:.1f} GB/s", file=sys.stderr, flush=True)
    print(f"backend: {results['backend']} ({', '.join(results['devices'])}), float32, d={d}, {steps} steps per run\n")
    print(md_table(["n", "algo", "gossip", "per iter", "bytes / iter (lower bound)", "achieved bandwidth"], rows))
    if args.out:
        dump(args.out, results)
    return results


if __name__ == "__main__":
    main()
