"""Decentralized learning in a repeated Stackelberg game: a learning leader and a (manipulating) follower.

Problem class: :class:`problems.games.Game` (finite actions, rewards in [0, 1], bandit feedback).
Round ``t``: the leader draws ``a_t`` from its own rule, the follower observes ``a_t`` and answers
``b_t``; rewards ``r_l ~ Bern(leader_means[a_t, b_t])`` and ``r_f ~ Bern(follower_means[a_t, b_t])``.
The leader only sees ``r_l`` (it does not use ``b_t``).

What comes from where. The setting, the two information regimes and the names of the rules
(EXP3 / UCB leaders; best-response, FBM and FMUCB followers) are VERIFIED (Yu & Chen, UAI 2024,
abstract; the FBM/FMUCB names are SECONDARY). Their update rules, parameters and theorems are
NOT FOUND, so every rule below is ratebench's construction unless a classical source is named:

Leaders
  * ``"exp3"``: Exp3 exactly as in Auer, Cesa-Bianchi, Freund & Schapire, "The nonstochastic
    multiarmed bandit problem", SIAM J. Comput. 32(1), 2002, Fig. 1: ``p = (1 - gamma) w / sum w +
    gamma / K``; ``x_hat = r / p_a`` on the played action; ``w_a <- w_a exp(gamma x_hat / K)``
    (kept as log-weights). Default ``gamma`` is their Corollary 3.2's
    ``min(1, sqrt(K ln K / ((e - 1) g)))`` with ``g = horizon`` (an upper bound on the best total reward).
  * ``"ucb"``: UCB1 (Auer, Cesa-Bianchi & Fischer, "Finite-time analysis of the multiarmed bandit
    problem", Mach. Learn. 2002): play every action once, then ``argmax mean_a + sqrt(2 ln n / n_a)``
    with ``n`` the plays so far. Unplayed actions carry a ``+inf`` index (a legal sentinel).

Followers
  * ``"best_response"`` (limited information, our construction): UCB1 on its own rewards, one UCB per
    leader action: ``b = argmax_b mean_f(a, b) + sqrt(2 ln N_a / n(a, b))``, ``N_a`` the rounds the leader
    played ``a`` so far, ``+inf`` for unplayed pairs. Its target is the Stackelberg equilibrium.
  * ``"fbm"`` (omniscient manipulation): answers with the game's ``manipulation_response`` (the best
    manipulation ``b*`` at ``a*``, the leader's worst response elsewhere: the tabular rule of the
    reference note, a hypothesis about FBM). Its target is the best manipulation. No feedback needed.
  * ``"fmucb"`` (manipulation with confidence bounds, our construction): the follower observes both
    rewards of the pair played and keeps, for every pair, empirical means ``ml_hat``, ``mf_hat`` with
    radius ``rad = sqrt(c ln(t + 2) / n)`` (``c = confidence``, default 2 as UCB1; ``+inf`` when ``n = 0``).
    Each round, with the leader's action ``a``:

    1. estimated worst response ``W(a') = argmin_b (ml_hat - rad)(a', b)`` (optimistic about being the
       worst: it explores each row's pairs, unseen ones first);
    2. plug-in worst-response values ``w(a') = min_b ml_hat(a', b)`` (``-inf`` while a pair of row ``a'``
       is unseen) and plug-in qualification ``ml_hat(a, b) > max_{a' != a} w(a')``: the game's
       qualification rule with the means replaced by their estimates;
    3. target ``(ta, tb)``: the seen plug-in-qualified pair of highest ``mf_hat`` (ties: lowest row-major
       index, the game's rule); if none exists, answer ``argmax_b (mf_hat + rad)(a, b)``;
    4. exploration, one round at a time: among the pairs of row ``a`` that are *optimistically*
       qualified (``ml_hat + rad > max_{a' != a} w(a')``, unseen pairs included), take the one of highest
       ``mf_hat + rad``; if that UCB exceeds ``mf_hat(ta, tb)`` answer it;
    5. otherwise answer the estimated manipulation response: ``tb`` at ``ta``, ``W(a)`` elsewhere.

    Why this shape (derivations, ours). A target is changed only when the estimates change their
    order; exploration happens in single rounds, in the row the leader chose, so a learning leader's
    long memory (EXP3's log-weights, UCB1's averages over ~t plays) is not pulled away from the target
    to test a candidate. Exploring a pair ``P`` that is not qualified never makes its row better for
    the leader than the target's row (``ml(P) < max_{a' != ta} ml(a', W(a')) < ml(target)`` when the
    target is the true best manipulation). Qualification is a plug-in test, not a confidence test: a
    leader avoids the row of a target that is not qualified, so that row's pairs are sampled only at
    the leader's exploration rate (about ``2 ln t / Delta^2`` plays for UCB1: the follower's radius on
    them is then about ``Delta`` itself, and an optimistic test never rejects the target; EXP3 gives only
    ``gamma t / K`` plays, too few for a ``sqrt(ln t / n)`` radius at this scale), while a plug-in estimate
    from those plays converges. The exploration step keeps optimism so that a pair misjudged early is
    sampled again (a plug-in-only rule locked out the best manipulation of the 2x2 game after two
    unlucky samples). With exact means (``noise="none"``) and ``c = 0`` every step is exact once
    every pair has been seen, and FMUCB answers FBM's ``manipulation_response`` (tested). Earlier
    rule (replaced): an optimistic test ``UCB_l(a, b) > max_{a'} LCB_l(a', W(a'))`` with the UCB_f-best
    plausible pair as the target kept targeting pairs the leader avoided and collapsed onto the
    leader's maximin pair (the issue 12 finding).

Trace (metrics of :data:`problems.games` family, see :data:`STACKELBERG_METRICS`), accumulated every
step: ``leader_reward``/``follower_reward`` (expected reward of the pair played), ``pair_counts``
((n_leader, n_follower) counts), ``leader_regret``/``follower_regret`` against the follower rule's
target pair (the Stackelberg equilibrium for ``best_response``, the best manipulation for ``fbm`` and
``fmucb``; ratebench's definition), ``error_rounds`` (rounds with ``b_t != manipulation_response[a_t]``:
the follower did not play its best manipulation), ``off_target_rounds`` (pair != target).
Instantaneous: ``leader_target_prob`` (the leader's probability of the target action next round: the
last iterate). Costs: ``rounds``, ``leader_feedback`` (observations the leader gets), ``follower_feedback``
(reward signals the follower observes: 1, 0 for FBM, 2 for FMUCB), ``best_response_calls``.

Matching bounds: :func:`bounds.stackelberg_exp3` (Auer et al.'s Theorem 3.1, on the mean over seeds),
:func:`bounds.stackelberg_ucb` (Auer et al.'s UCB1 Theorem 1), both for a follower with a fixed
response function (FBM); :func:`bounds.stackelberg_error_rounds` and
:func:`bounds.stackelberg_manipulation` (orders).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from algos._core import make_algorithm
from problems._metrics import Metrics
from problems.games import Game

__all__ = ["stackelberg", "StackelbergState", "StackelbergInfo", "LEADERS", "FOLLOWERS", "STACKELBERG_METRICS",
           "exp3_gamma"]  # fmt: skip

LEADERS = ("exp3", "ucb")
FOLLOWERS = ("best_response", "fbm", "fmucb")


class StackelbergState(NamedTuple):
    log_w: jax.Array  # (nL,) EXP3 log-weights (zeros for UCB)
    l_counts: jax.Array  # (nL,) leader plays per action
    l_sums: jax.Array  # (nL,) leader reward sums per action
    l_index: jax.Array  # (nL,) UCB index for the next round; +inf for unplayed actions (sentinel)
    f_counts: jax.Array  # (nL, nF) pair counts seen by the follower
    f_sums: jax.Array  # (nL, nF) follower reward sums
    fl_sums: jax.Array  # (nL, nF) leader reward sums observed by the follower (side information)


class StackelbergInfo(NamedTuple):
    cost: dict
    a: jax.Array  # leader action played
    b: jax.Array  # follower action played
    target_prob: jax.Array  # leader's probability of the target action next round


def exp3_gamma(n_leader: int, horizon: int) -> float:
    """Auer et al. (2002) Corollary 3.2: ``gamma = min(1, sqrt(K ln K / ((e - 1) g)))`` with ``g = horizon``."""
    K = int(n_leader)
    return min(1.0, math.sqrt(K * math.log(K) / ((math.e - 1.0) * float(horizon))))


def _exp3_probs(log_w, gamma):
    K = log_w.shape[0]
    w = jax.nn.softmax(log_w)
    return (1.0 - gamma) * w + gamma / K


def _ucb_index(counts, sums, n_total):
    safe = jnp.maximum(counts, 1.0)
    bonus = jnp.sqrt(2.0 * jnp.log(jnp.maximum(n_total, 1.0)) / safe)
    return jnp.where(counts > 0, sums / safe + bonus, jnp.inf)


def _follower_best_response(s, a):
    counts, sums = s.f_counts[a], s.f_sums[a]
    return jnp.argmax(_ucb_index(counts, sums, jnp.sum(counts)))


def _fmucb_target(s, t, c):
    """FMUCB's estimates and target (module docstring): ``(W_hat, target_a, target_b, has_target, ucb_f, mf_hat)``."""
    n = s.f_counts
    safe = jnp.maximum(n, 1.0)
    seen = n > 0
    rad = jnp.where(seen, jnp.sqrt(c * jnp.log(t + 2.0) / safe), jnp.inf)
    ml_hat = jnp.where(seen, s.fl_sums / safe, 0.0)
    mf_hat = jnp.where(seen, s.f_sums / safe, 0.0)
    lcb_l = jnp.where(seen, ml_hat - rad, -jnp.inf)
    ucb_f = jnp.where(seen, mf_hat + rad, jnp.inf)
    nL, nF = n.shape
    W = jnp.argmin(lcb_l, axis=1)  # optimistic worst response: unseen pairs (-inf) first
    # plug-in worst-response values: the smallest empirical leader mean of each row (-inf while a pair of
    # the row is unseen: optimistic for qualification)
    comp = jnp.where(jnp.all(seen, axis=1), jnp.min(ml_hat, axis=1), -jnp.inf)
    eye = jnp.eye(nL, dtype=bool)
    other = jnp.max(jnp.where(eye, -jnp.inf, jnp.broadcast_to(comp[None, :], (nL, nL))), axis=1)  # (nL,)
    q_hat = jnp.where(seen, ml_hat > other[:, None], True)  # plug-in qualification; unseen pairs plausible
    q_opt = jnp.where(seen, ml_hat + rad > other[:, None], True)  # optimistic qualification (exploration)
    score = jnp.where(q_hat & seen, mf_hat, -jnp.inf).reshape(-1)
    flat = jnp.argmax(score)  # ties: lowest row-major index (the game's rule)
    has_target = jnp.isfinite(score[flat])
    return W, flat // nF, flat % nF, has_target, q_opt, ucb_f, mf_hat.reshape(-1)[flat]


def _follower_fmucb(s, a, t, c):
    W, ta, tb, has_target, q_opt, ucb_f, target_value = _fmucb_target(s, t, c)
    # exploration: the plausibly qualified pair of this row with the highest UCB_f, if that UCB beats the
    # target's estimated value; otherwise the estimated manipulation response (tb at ta, W_hat elsewhere)
    row = jnp.where(q_opt[a], ucb_f[a], -jnp.inf)
    b_explore = jnp.argmax(row)
    explore = row[b_explore] > target_value
    manip = jnp.where(explore, b_explore, jnp.where(a == ta, tb, W[a]))
    fallback = jnp.argmax(ucb_f[a])  # nothing seen is qualified yet: optimistic best response
    return jnp.where(has_target, manip, fallback)


def _build(params):
    game: Game = params["problem"]
    ml, mf = game.leader_means, game.follower_means
    F_star = game.manipulation_response
    gamma = params["gamma"]
    c_conf = params["confidence"]
    target_a = params["target"][0]
    leader_code, follower_code = params["leader_code"], params["follower_code"]
    nL, nF = ml.shape
    dt = ml.dtype
    is_exp3 = leader_code == 0

    def init(key):
        del key
        zL, zP = jnp.zeros(nL, dt), jnp.zeros((nL, nF), dt)
        return StackelbergState(zL, zL, zL, jnp.full(nL, jnp.inf, dt), zP, zP, zP)

    def step(key, s, t):
        k_leader, k_rl, k_rf = jax.random.split(key, 3)
        tf = jnp.asarray(t, dt)
        # 1. the leader commits (the rule is a traced code: one compiled program serves every rule)
        p = _exp3_probs(s.log_w, gamma)
        a = jnp.where(is_exp3, jax.random.categorical(k_leader, jnp.log(p)),
                           jnp.argmax(_ucb_index(s.l_counts, s.l_sums, tf))).astype(jnp.int32)  # fmt: skip
        # 2. the follower observes a and answers
        b = jax.lax.switch(follower_code, [lambda: _follower_best_response(s, a).astype(jnp.int32),
                                           lambda: F_star[a].astype(jnp.int32),
                                           lambda: _follower_fmucb(s, a, tf, c_conf).astype(jnp.int32)])  # fmt: skip
        # 3. rewards
        if game.noise == "bernoulli":
            r_l = (jax.random.uniform(k_rl, dtype=dt) < ml[a, b]).astype(dt)
            r_f = (jax.random.uniform(k_rf, dtype=dt) < mf[a, b]).astype(dt)
        else:
            r_l, r_f = ml[a, b], mf[a, b]
        # 4. the leader learns from its own reward only
        log_w = jnp.where(is_exp3, s.log_w.at[a].add(gamma * (r_l / p[a]) / nL), s.log_w)
        l_counts = s.l_counts.at[a].add(1.0)
        l_sums = s.l_sums.at[a].add(r_l)
        l_index = _ucb_index(l_counts, l_sums, tf + 1.0)
        target_prob = jnp.where(is_exp3, _exp3_probs(log_w, gamma)[target_a],
                                (jnp.argmax(l_index) == target_a).astype(dt))  # fmt: skip
        # 5. the follower's statistics
        f_counts = s.f_counts.at[a, b].add(1.0)
        f_sums = s.f_sums.at[a, b].add(r_f)
        fl_sums = s.fl_sums.at[a, b].add(r_l)
        fb = jnp.asarray([1.0, 0.0, 2.0], dt)[follower_code]
        cost = {"rounds": 1.0, "leader_feedback": 1.0, "follower_feedback": fb, "best_response_calls": 1.0}
        new = StackelbergState(log_w, l_counts, l_sums, l_index, f_counts, f_sums, fl_sums)
        return new, StackelbergInfo(cost, a, b, target_prob)

    return init, step


def _finite(state: StackelbergState):
    return (state.log_w, state.l_counts, state.l_sums, state.f_counts, state.f_sums, state.fl_sums)  # l_index may be +inf


def _accumulate(params, state, info, t):
    game = params["problem"]
    ml, mf = game.leader_means, game.follower_means
    ta, tb = params["target"][0], params["target"][1]
    a, b = info.a, info.b
    nL, nF = ml.shape
    onehot = jnp.zeros((nL, nF), ml.dtype).at[a, b].set(1.0)
    return {
        "leader_reward": ml[a, b],
        "follower_reward": mf[a, b],
        "pair_counts": onehot,
        "leader_regret": ml[ta, tb] - ml[a, b],
        "follower_regret": mf[ta, tb] - mf[a, b],
        "error_rounds": (b != game.manipulation_response[a]).astype(ml.dtype),
        "off_target_rounds": ((a != ta) | (b != tb)).astype(ml.dtype),
    }


def _instant(params, state, info):
    return {"leader_target_prob": info.target_prob}


#: The Stackelberg family's recorder (module level: one compiled program per family and shapes).
STACKELBERG_METRICS = Metrics(instant=_instant, accumulate=_accumulate, primary=None)


def stackelberg(game: Game, leader: str = "exp3", follower: str = "best_response", *, horizon: int | None = None,
                gamma: float | None = None, confidence: float = 2.0) -> "Algorithm":  # noqa: F821  # fmt: skip
    """A learning leader against a best-responding or manipulating follower (see the module docstring).

    Args:
        game: a :class:`problems.games.Game`.
        leader: ``"exp3"`` or ``"ucb"``.
        follower: ``"best_response"``, ``"fbm"`` or ``"fmucb"``.
        horizon: the number of rounds ``g`` in EXP3's default ``gamma`` (Corollary 3.2); required for an
            EXP3 leader unless ``gamma`` is given.
        gamma: EXP3's exploration rate in (0, 1].
        confidence: FMUCB's radius constant ``c`` in ``sqrt(c ln(t + 2) / n)`` (>= 0; default 2, UCB1's);
            ``c = 0`` makes every FMUCB decision a plug-in of the empirical means (with exact rewards,
            ``noise="none"``, FMUCB then plays FBM's response once every pair has been seen).

    Returns:
        An :class:`algos.Algorithm` named ``"stackelberg"``; ``hparams`` has ``leader``, ``follower``,
        ``gamma``, ``horizon``, ``n_leader``, ``target`` (the target pair) and ``noise``.

    Example:
        >>> g = games.manipulation_game()
        >>> algo = algos.stackelberg(g, "exp3", "fbm", horizon=5000)
        >>> _, tr = algos.run(algo, 0, 5000, record_every=50)
        >>> tr.pair_counts[-1]  # concentrated on g.best_manipulation
    """
    if not isinstance(game, Game):
        raise TypeError(f"stackelberg: game must be a problems.games.Game (games.matrix_game(...)), got {type(game).__name__}")
    if leader not in LEADERS:
        raise ValueError(f"stackelberg: leader must be one of {LEADERS}, got {leader!r}")
    if follower not in FOLLOWERS:
        raise ValueError(f"stackelberg: follower must be one of {FOLLOWERS}, got {follower!r}")
    nL = game.n_leader
    if leader == "exp3":
        if nL < 2:
            raise ValueError("stackelberg: an EXP3 leader needs at least 2 actions (gamma involves ln K)")
        if gamma is None:
            if horizon is None:
                raise ValueError("stackelberg: an EXP3 leader needs horizon= (for Corollary 3.2's gamma) or gamma=")
            if isinstance(horizon, bool) or int(horizon) != horizon or horizon < 1:
                raise ValueError(f"stackelberg: horizon must be a positive integer, got {horizon!r}")
            gamma = exp3_gamma(nL, int(horizon))
        gamma = float(gamma)
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"stackelberg: gamma must lie in (0, 1], got {gamma}")
    else:
        if gamma is not None:
            raise ValueError("stackelberg: gamma is EXP3's parameter; a UCB leader takes none")
        gamma = 0.0
    if isinstance(confidence, bool) or not np.isfinite(float(confidence)) or float(confidence) < 0.0:
        raise ValueError(f"stackelberg: confidence must be a finite number >= 0 (FMUCB's radius constant), got {confidence!r}")
    target = game.stackelberg_equilibrium if follower == "best_response" else game.best_manipulation
    params = {"problem": game, "gamma": jnp.asarray(gamma), "confidence": jnp.asarray(float(confidence)), "target": jnp.asarray(np.array(target, np.int32)),
              "leader_code": jnp.asarray(LEADERS.index(leader), jnp.int32),
              "follower_code": jnp.asarray(FOLLOWERS.index(follower), jnp.int32)}
    hp = {"leader": leader, "follower": follower, "gamma": gamma if leader == "exp3" else None,
          "horizon": None if horizon is None else int(horizon), "n_leader": nL, "target": tuple(int(x) for x in target),
          "noise": game.noise, "confidence": float(confidence) if follower == "fmucb" else None}  # fmt: skip
    return make_algorithm(_build, params, STACKELBERG_METRICS, "stackelberg", hp, finite=_finite)
