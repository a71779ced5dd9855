"""Shared instance builders for the classical convex tests (graphs, problems, rate fits)."""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

from bounds import fit_rate
from problems import convex, graphs, mixing

N_NODES = 8  # one size: one compilation per method
DIM = 2
KINDS = ("ring", "path", "grid", "erdos_renyi", "geometric")


def make_graph(kind: str, n: int, seed: int):
    if kind == "ring":
        return graphs.ring(n)
    if kind == "path":
        return graphs.path(n)
    if kind == "grid":
        return graphs.grid(2, n // 2)
    if kind == "erdos_renyi":
        return graphs.erdos_renyi(n, 0.5, seed=seed)
    return graphs.geometric(n, seed=seed)


instances = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(KINDS),
        "kappa": st.floats(2.0, 100.0),
        "seed": st.integers(0, 2**16),
    }
)


def build(inst, *, heterogeneity: float = 1.0, centered: bool = False):
    """(problem, W, x0) for a drawn instance; ``centered`` translates the optimum to 0 (see below)."""
    W = mixing.metropolis(make_graph(inst["kind"], N_NODES, inst["seed"]))
    p = convex.quadratic(N_NODES, DIM, L=1.0, mu=1.0 / inst["kappa"], key=inst["seed"], heterogeneity=heterogeneity)
    if centered:
        # Homogeneous linear instance: b = 0, x* = 0. The iteration matrix is that of the original
        # instance (it does not depend on b), but no constant term keeps round-off relative to the
        # error, so a run shows its asymptotic rate over ~13 decades instead of ~10.
        p = dataclasses.replace(p, data={**p.data, "b": jnp.zeros_like(p.data["b"])}, x_star=jnp.zeros(DIM), f_star=0.0)
    x0 = np.random.default_rng(inst["seed"]).standard_normal((N_NODES, DIM))
    return p, W, x0


def observed_rate(values) -> float:
    """``bounds.fit_rate`` (which cuts a trace 3 decades above its round-off floor) over up to 13 decades."""
    return fit_rate(np.asarray(values, dtype=np.float64), floor_rel=1e-250)[0]


def observable(spec, decades: float = 12.0, margin: float = 30.0) -> bool:
    """Does a float64 run show ``spec.rate``? True when the slowest excited modes outgrow the next
    modulus by ``margin`` within the second half of the ``decades`` a run spans above round-off."""
    r, nxt, w = spec.rate, spec.next_modulus, spec.weight
    if nxt <= 0.0 or r <= 0.0:
        return True
    if w <= 0.0:
        return False
    k = decades * math.log(10.0) / -math.log(r)
    return math.log(w) + 0.5 * k * math.log(r / nxt) >= math.log(margin)
