"""Repeated general-sum Stackelberg (leader-follower) games with finite actions and bandit feedback.

Setting (VERIFIED in the abstract of Yu & Chen, "Decentralized Online Learning in General-Sum
Stackelberg Games", UAI 2024, arXiv:2405.03158; see ``/work/shared/papers``): a leader and a
follower play a matrix game repeatedly. Each round the leader commits to an action ``a``, the follower
observes it and answers with ``b``; each player receives a noisy reward of the pair ``(a, b)``. The
leader sees only its own reward (bandit feedback). A follower with *limited information* sees only
its own reward (myopic best response is then its best strategy); a follower with *side information*
knows (or observes) the leader's rewards and may *manipulate*: answer something other than its best
response, to steer a learning leader to an outcome better for the follower.

What an instance knows exactly (computed from the mean matrices, numpy, no sampling). Every tie rule
below is ratebench's construction (the paper's are NOT FOUND); random instances have no ties with
probability one.

* ``best_response[a] = argmax_b follower_means[a, b]`` (ties: lowest ``b``);
* ``stackelberg_equilibrium = (a*, best_response[a*])`` with ``a* = argmax_a leader_means[a, best_response[a]]``
  (the leader's optimal pure commitment against a best-responding follower; ties: lowest ``a``);
* ``worst_response[a] = argmin_b leader_means[a, b]`` (the leader's worst response; ties: lowest ``b``);
* a pair ``(a, b)`` is *qualified* when a response function can steer the leader to it, i.e. when
  ``leader_means[a, b] > max_{a' != a} leader_means[a', worst_response[a']]`` (strict; always true with
  one leader action). Answering ``b`` to ``a`` and the worst response to every other action then makes
  ``a`` the leader's unique best action. Conversely a response function ``F`` that makes ``a`` the unique
  maximiser of ``leader_means[a', F(a')]`` has ``leader_means[a, F(a)] > leader_means[a', F(a')] >=
  leader_means[a', worst_response[a']]``, so ``(a, F(a))`` is qualified: the qualified pairs are
  exactly the pairs reachable by a response function (math fact; brute-forced over all response
  functions in ``tests/problems/test_games.py``). This tabular form of the manipulation is the one
  described in the reference note (third-party code of a later paper, "a hypothesis", not Yu & Chen's text);
* ``best_manipulation``: the qualified pair of highest follower mean (ties: lowest row-major index),
  and ``manipulation_response``: the response function steering to it (``b*`` at ``a*``, the worst
  response elsewhere). When the Stackelberg equilibrium is qualified (generic), the best manipulation is
  worth at least the equilibrium to the follower; ``manipulation_pays`` says whether it is strictly more.

Rewards: ``noise="bernoulli"`` draws each player's reward as an independent Bernoulli of its mean
(means must lie in [0, 1]); ``noise="none"`` returns the means themselves.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Game", "matrix_game", "random_game", "manipulation_game", "NOISE_KINDS", "brute_force_manipulation"]

NOISE_KINDS = ("bernoulli", "none")


@dataclasses.dataclass(frozen=True)
class Game:
    """A two-player leader-follower matrix game (a pytree: the arrays are leaves).

    Attributes:
        leader_means: (n_leader, n_follower) expected leader reward of each pair.
        follower_means: (n_leader, n_follower) expected follower reward of each pair.
        manipulation_response: (n_leader,) int, the response function of the best manipulation.
        best_response_table: (n_leader,) int, the follower's best response to each leader action.
        noise: static; ``"bernoulli"`` or ``"none"``.
        name: static kind of game.
    """

    leader_means: Any
    follower_means: Any
    manipulation_response: Any
    best_response_table: Any
    noise: str = dataclasses.field(default="bernoulli", metadata=dict(static=True))
    name: str = dataclasses.field(default="matrix_game", metadata=dict(static=True))

    # --- exact quantities (numpy, concrete values only) -------------------------------------------
    def _ml(self) -> np.ndarray:
        return np.asarray(self.leader_means, dtype=np.float64)

    def _mf(self) -> np.ndarray:
        return np.asarray(self.follower_means, dtype=np.float64)

    @property
    def n_leader(self) -> int:
        return int(np.shape(self.leader_means)[0])

    @property
    def n_follower(self) -> int:
        return int(np.shape(self.leader_means)[1])

    @property
    def best_response(self) -> np.ndarray:
        """(n_leader,) the follower's best response to each leader action (ties: lowest index)."""
        return np.argmax(self._mf(), axis=1)

    @property
    def worst_response(self) -> np.ndarray:
        """(n_leader,) the leader's worst response to each leader action (ties: lowest index)."""
        return np.argmin(self._ml(), axis=1)

    @property
    def stackelberg_equilibrium(self) -> tuple[int, int]:
        """``(a*, b*)``: the leader's optimal pure commitment and the follower's best response to it."""
        br = self.best_response
        vals = self._ml()[np.arange(self.n_leader), br]
        a = int(np.argmax(vals))
        return a, int(br[a])

    def manipulation_margin(self) -> np.ndarray:
        """(n_leader, n_follower): ``leader_means[a, b] - max_{a' != a} leader_means[a', worst_response[a']]``."""
        ml = self._ml()
        worst_vals = ml[np.arange(self.n_leader), self.worst_response]
        other = np.full(self.n_leader, -np.inf)
        for a in range(self.n_leader):  # n_leader is small; exact numpy
            rest = np.delete(worst_vals, a)
            other[a] = rest.max() if rest.size else -np.inf
        return ml - other[:, None]

    @property
    def qualified(self) -> np.ndarray:
        """(n_leader, n_follower) bool: the pairs a response function can steer the leader to."""
        return self.manipulation_margin() > 0.0

    @property
    def best_manipulation(self) -> tuple[int, int]:
        """The qualified pair of highest follower mean (ties: lowest row-major index)."""
        vals = np.where(self.qualified, self._mf(), -np.inf)
        flat = int(np.argmax(vals))
        return flat // self.n_follower, flat % self.n_follower

    @property
    def manipulation_pays(self) -> bool:
        """True when the best manipulation is worth strictly more to the follower than the equilibrium."""
        a, b = self.best_manipulation
        ae, be = self.stackelberg_equilibrium
        return bool(self._mf()[a, b] > self._mf()[ae, be])

    def gaps(self) -> dict:
        """The game's identification gaps (ratebench's definitions; all positive means generic and learnable).

        * ``follower_response``: ``min_a`` of the follower's best minus second-best mean in row ``a``
          (a unique best response in every row; what a UCB follower must resolve);
        * ``leader_commitment``: ``leader_means[a*, BR(a*)] - max_{a != a*} leader_means[a, BR(a)]``
          (a unique Stackelberg commitment; the leader's arm gap against a best-responding follower);
        * ``leader_worst_response``: ``min_a`` of the leader's second-smallest minus smallest mean in row
          ``a`` (a unique worst response; what a manipulating follower must resolve in every row);
        * ``manipulation_margin``: the best manipulation's qualification margin (the leader's arm gap
          against the manipulation response, see :meth:`manipulation_margin`);
        * ``manipulation_value``: the follower's mean at the best manipulation minus the best other
          qualified pair's (a unique target);
        * ``unqualified_margin``: ``min`` of ``-manipulation_margin`` over the pairs worth at least the best
          manipulation to the follower but not qualified (``+inf`` if none): no tempting pair sits on the
          qualification boundary.

        With one action on a side the corresponding second-best does not exist: that gap is ``+inf``.
        """
        ml, mf = self._ml(), self._mf()
        nL, nF = ml.shape

        def top2(x):  # best minus second best along the last axis
            if x.shape[-1] < 2:
                return np.full(x.shape[:-1], np.inf)
            s = np.sort(x, axis=-1)
            return s[..., -1] - s[..., -2]

        br_vals = ml[np.arange(nL), self.best_response]
        margin = self.manipulation_margin()
        a, b = self.best_manipulation
        q = self.qualified.copy()
        q[a, b] = False
        tempting = (~self.qualified) & (mf >= mf[a, b])
        return {
            "follower_response": float(top2(mf).min()),
            "leader_commitment": float(top2(br_vals)),
            "leader_worst_response": float(top2(-ml).min()),
            "manipulation_margin": float(margin[a, b]) if nL > 1 else np.inf,
            "manipulation_value": float(mf[a, b] - mf[q].max()) if q.any() else np.inf,
            "unqualified_margin": float((-margin[tempting]).min()) if tempting.any() else np.inf,
        }

    def values(self, pair) -> tuple[float, float]:
        """``(leader mean, follower mean)`` of an action pair."""
        a, b = int(pair[0]), int(pair[1])
        return float(self._ml()[a, b]), float(self._mf()[a, b])

    def rewards(self) -> tuple[np.ndarray, np.ndarray]:
        """Both players' expected rewards for every pair: ``(leader_means, follower_means)``."""
        return self._ml().copy(), self._mf().copy()


jax.tree_util.register_dataclass(
    Game,
    data_fields=["leader_means", "follower_means", "manipulation_response", "best_response_table"],
    meta_fields=["noise", "name"],
)


def _response_function(ml: np.ndarray, mf: np.ndarray) -> np.ndarray:
    g = Game(ml, mf, np.zeros(ml.shape[0], np.int32), np.zeros(ml.shape[0], np.int32))
    a, b = g.best_manipulation
    F = g.worst_response.copy()
    F[a] = b
    return F.astype(np.int32)


def matrix_game(leader_means, follower_means, noise: str = "bernoulli", key=0, *, name: str = "matrix_game") -> Game:
    """A leader-follower game from its two mean-reward matrices.

    Args:
        leader_means: (n_leader, n_follower) expected leader rewards.
        follower_means: (n_leader, n_follower) expected follower rewards, same shape.
        noise: ``"bernoulli"`` (rewards are Bernoulli draws of the means, which must lie in [0, 1]) or
            ``"none"`` (rewards are the means).
        key: unused by a given game (kept so every game constructor takes a key); the rewards'
            randomness comes from the run's key.
        name: static label.

    Raises:
        ValueError: shapes that are not 2-D and equal, fewer than one action, non-finite entries, or
            Bernoulli means outside [0, 1]; an unknown ``noise``.
    """
    del key
    if noise not in NOISE_KINDS:
        raise ValueError(f"noise must be one of {NOISE_KINDS}, got {noise!r}")
    ml = np.asarray(leader_means, dtype=np.float64)
    mf = np.asarray(follower_means, dtype=np.float64)
    if ml.ndim != 2 or ml.shape[0] < 1 or ml.shape[1] < 1:
        raise ValueError(f"leader_means must be a 2-D (n_leader, n_follower) array, got shape {ml.shape}")
    if mf.shape != ml.shape:
        raise ValueError(
            f"follower_means must have the shape of leader_means {ml.shape}, got {mf.shape}: one entry per action pair"
        )
    for nm, m in (("leader_means", ml), ("follower_means", mf)):
        if not np.all(np.isfinite(m)):
            raise ValueError(f"{nm} must be finite")
        if noise == "bernoulli" and (m.min() < 0.0 or m.max() > 1.0):
            raise ValueError(
                f"{nm} are Bernoulli means with noise='bernoulli' and must lie in [0, 1]; got range "
                f"[{m.min():.4g}, {m.max():.4g}] (rescale them, or pass noise='none')"
            )
    g = Game(ml, mf, np.zeros(ml.shape[0], np.int32), np.zeros(ml.shape[0], np.int32), noise=noise, name=name)
    return dataclasses.replace(
        g,
        leader_means=jnp.asarray(ml),
        follower_means=jnp.asarray(mf),
        manipulation_response=jnp.asarray(_response_function(ml, mf)),
        best_response_table=jnp.asarray(g.best_response.astype(np.int32)),
    )


def _rng(key) -> np.random.Generator:
    """A numpy Generator seeded by an int seed or by the data of a ``jax.random`` key (no eager jax op)."""
    if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
        return np.random.default_rng(int(key))
    data = jax.random.key_data(key) if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key) else key
    return np.random.default_rng(np.asarray(data, dtype=np.uint32).ravel().tolist())


def random_game(n_leader: int, n_follower: int, key=0, noise: str = "bernoulli", *, min_gap: float = 0.0,
                max_draws: int = 200_000) -> Game:  # fmt: skip
    """A game with every mean drawn independently and uniformly from [0, 1] (ratebench's choice).

    With ``min_gap > 0`` the draw is conditioned on the gap assumption: the means are redrawn (from the
    same key's stream) until every identification gap of :meth:`Game.gaps` is at least ``min_gap``: a
    unique best response, Stackelberg commitment, worst response and best manipulation, each separated
    by ``min_gap``, the best manipulation qualified by a margin ``min_gap`` and every pair the follower
    would prefer disqualified by ``min_gap``. This is the minimum-gap assumption of gap-dependent
    bandit sample-complexity statements (ratebench's form of it; Yu & Chen's is NOT FOUND), part of
    the generator's contract: every returned game satisfies it (``min_gap=0``: the unconditioned law).

    Args:
        n_leader, n_follower: numbers of actions (positive integers).
        key: int seed or ``jax.random`` key.
        noise: as in :func:`matrix_game`.
        min_gap: the minimum of every gap, in [0, 1).
        max_draws: how many draws to try before giving up.

    Raises:
        ValueError: non-positive sizes, ``min_gap`` outside [0, 1), or no draw within ``max_draws``
            meets the gaps (lower ``min_gap``, or use fewer actions).
    """
    for nm, v in (("n_leader", n_leader), ("n_follower", n_follower)):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{nm} must be a positive integer, got {v!r}")
    min_gap = float(min_gap)
    if not 0.0 <= min_gap < 1.0:
        raise ValueError(f"min_gap must lie in [0, 1), got {min_gap}")
    rng = _rng(key)
    shape = (2, int(n_leader), int(n_follower))
    for _ in range(int(max_draws)):
        u = rng.uniform(0.0, 1.0, size=shape)
        if min_gap == 0.0:
            break
        g = Game(u[0], u[1], np.zeros(shape[1], np.int32), np.zeros(shape[1], np.int32))
        if min(g.gaps().values()) >= min_gap:
            break
    else:
        raise ValueError(
            f"random_game: no draw out of max_draws={max_draws} has every gap >= min_gap={min_gap} for a "
            f"{n_leader}x{n_follower} game; lower min_gap or raise max_draws"
        )
    return matrix_game(u[0], u[1], noise=noise, name="random_game")


def manipulation_game(noise: str = "bernoulli") -> Game:
    """ratebench's 2x2 game where manipulation pays (our construction, not the paper's).

    Leader means ``[[0.30, 0.35], [0.60, 0.20]]``, follower means ``[[0.70, 0.90], [0.30, 0.20]]``.
    Best responses (1, 0); Stackelberg equilibrium (1, 0), worth (0.6, 0.3). Worst responses (0, 1);
    the best manipulation is (0, 1), worth (0.35, 0.9): answering 1 to leader action 1 makes action 0
    (0.35) better for the leader than action 1 (0.20), a margin of 0.15.
    """
    return matrix_game([[0.30, 0.35], [0.60, 0.20]], [[0.70, 0.90], [0.30, 0.20]], noise=noise, name="manipulation_2x2")


def brute_force_manipulation(game: Game) -> tuple[float, list]:
    """Best follower value over *all* response functions ``F`` that make one leader action the unique
    maximiser of ``leader_means[a, F(a)]``, and the pairs attaining it (for tests; exponential in n_leader)."""
    import itertools

    ml, mf = game.rewards()
    nL, nF = ml.shape
    best, pairs = -np.inf, []
    for F in itertools.product(range(nF), repeat=nL):
        vals = ml[np.arange(nL), list(F)]
        a = int(np.argmax(vals))
        if np.sum(vals == vals[a]) > 1:
            continue  # the leader's choice is not determined: F steers nowhere
        v = mf[a, F[a]]
        if v > best:
            best, pairs = v, [(a, F[a])]
        elif v == best and (a, F[a]) not in pairs:
            pairs.append((a, F[a]))
    return float(best), pairs
