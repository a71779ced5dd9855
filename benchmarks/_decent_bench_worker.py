"""Time decent-bench 0.3.0; run by benchmarks/run.py with decent-bench's own interpreter.

This file is executed by decent-bench's virtual environment (Python >= 3.13,
created by ``benchmarks/setup_decent_bench.sh``); ratebench never imports it.
The problem (``A`` (n, d, d), ``b`` (n, d), ``W`` (n, n), ``edges``) comes from
an ``.npz`` file written by ``run.py``. Agents get ``QuadraticCost(A_i, -b_i)``
(decent-bench writes ``1/2 x^T A x + b^T x``, ratebench ``1/2 x^T A x - b^T x``)
on a networkx graph with the same weights ``W``; algorithms run through
decent-bench's own loop, ``Algorithm.run(network, iterations)``, with its
defaults (NumPy backend on the CPU, every agent's state snapshotted every
iteration). The ``benchmark()`` wrapper (progress bars, worker processes) is not
timed: its extra cost would only favour ratebench.

Modes:

``server PROBLEM.npz``
    Reads JSON commands from stdin, one per line, answers one JSON line each:
    ``{"cmd": "run", "algo": A, "iters": K, "step": s}`` ->
    ``{"build_s", "run_s", "X"}`` (network built fresh, then one run);
    ``{"cmd": "sweep", "algo": A, "iters": K, "steps": [...]}`` ->
    ``{"total_s"}`` (one fresh network and run per step size, sequentially);
    ``{"cmd": "quit"}``. The first line written is ``{"ready": true, "import_s": ...}``.
``oneshot PROBLEM.npz ALGO ITERS STEP``
    Import, build, run once, print ``{"import_s", "build_s", "run_s"}`` and exit
    (the parent times the whole process).
``oneshot_sweep PROBLEM.npz ALGO ITERS STEP K``
    The same for ``K`` runs with step sizes ``linspace(0.5, 1, K) * STEP``, one after the other.
``version``
    Print the versions in this environment.
"""

import json
import sys
import time

T_START = time.perf_counter()
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402
from decent_array import interoperability as iop  # noqa: E402
from decent_array.types import Devices, Frameworks  # noqa: E402

from decent_bench.agents import Agent  # noqa: E402
from decent_bench.algorithms import p2p  # noqa: E402
from decent_bench.benchmark import configure  # noqa: E402
from decent_bench.costs import QuadraticCost  # noqa: E402
from decent_bench.networks import P2PNetwork  # noqa: E402

configure(Frameworks.NUMPY, Devices.CPU, seed=0, log_level=40)
IMPORT_S = time.perf_counter() - T_START

# ratebench name -> decent-bench class. decent-bench 0.3.0 has no plain (non-ATC) DIGing;
# its gradient-tracking method with the same per-step work (two gossip rounds, one
# gradient) is Aug-DGM / ATC-DIGing, used for "gradient_tracking".
ALGOS = {"dgd": p2p.DGD, "extra": p2p.EXTRA, "nids": p2p.NIDS, "gradient_tracking": p2p.AugDGM}


def build(data):
    A, b, W = data["A"], data["b"], data["W"]
    agents = [Agent(QuadraticCost(iop.from_numpy(A[i]), iop.from_numpy(-b[i]))) for i in range(A.shape[0])]
    g = nx.Graph()
    g.add_nodes_from(range(A.shape[0]))
    g.add_edges_from([(int(i), int(j)) for i, j in data["edges"]])
    net = P2PNetwork(g, agents)
    net.weights = iop.from_numpy(W)
    return net, agents


def run_once(data, algo, iters, step):
    t0 = time.perf_counter()
    net, agents = build(data)
    alg = ALGOS[algo](step_size=step)
    t1 = time.perf_counter()
    alg.run(net, iters)
    t2 = time.perf_counter()
    X = np.stack([np.asarray(iop.to_numpy(a.x)) for a in agents])
    return {"build_s": t1 - t0, "run_s": t2 - t1, "X": X.tolist()}


def server(path):
    data = dict(np.load(path))
    print(json.dumps({"ready": True, "import_s": IMPORT_S}), flush=True)
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            break
        if cmd["cmd"] == "run":
            out = run_once(data, cmd["algo"], int(cmd["iters"]), float(cmd["step"]))
        elif cmd["cmd"] == "sweep":
            t0 = time.perf_counter()
            for s in cmd["steps"]:
                run_once(data, cmd["algo"], int(cmd["iters"]), float(s))
            out = {"total_s": time.perf_counter() - t0}
        else:
            out = {"error": f"unknown command {cmd['cmd']!r}"}
        print(json.dumps(out), flush=True)


def main():
    mode = sys.argv[1]
    if mode == "server":
        server(sys.argv[2])
    elif mode == "oneshot":
        data = dict(np.load(sys.argv[2]))
        out = run_once(data, sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
        out.pop("X")
        out["import_s"] = IMPORT_S
        print(json.dumps(out))
    elif mode == "oneshot_sweep":
        data = dict(np.load(sys.argv[2]))
        base, k = float(sys.argv[5]), int(sys.argv[6])
        t0 = time.perf_counter()
        for s in np.linspace(0.5, 1.0, k) * base:
            run_once(data, sys.argv[3], int(sys.argv[4]), float(s))
        print(json.dumps({"import_s": IMPORT_S, "sweep_s": time.perf_counter() - t0}))
    elif mode == "version":
        import importlib.metadata as md

        print(json.dumps({"decent_bench": md.version("decent-bench"), "python": sys.version.split()[0], "numpy": np.__version__}))
    else:
        raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
