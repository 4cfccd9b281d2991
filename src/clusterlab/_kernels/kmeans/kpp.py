"""Greedy k-means++ seeding: the pruned kernels (O(n) memory) and the buffered one.

Every row keeps ``closest`` (squared distance to its nearest chosen centre)
and ``owner`` (that centre). A candidate ``c`` cannot come closer to row ``x``
than ``owner`` already is when ``||c - owner|| >= 2 ||x - owner||`` (triangle
inequality), i.e. when ``closest <= ||c - owner||^2 / 4 = q[c, owner]``: the
row keeps ``closest`` and is not even read. The values are the ones an
unpruned pass computes, so the potentials, hence the chosen centres, are
unchanged (Raff, "Exact acceleration of K-Means++ and K-Means||", IJCAI 2021,
section 3). :func:`kpp_pass` is the buffered variant: one fused pass per centre
over an ``(n, candidates)`` buffer.
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

from clusterlab._kernels.distances import (
    sq_dist_row_to_all,
    sq_dist_rows,
)
from clusterlab._kernels.row_groups import on_threads

# ----------------------------------------------------------------------------
# k-means++ seeding (greedy variant), with triangle-inequality skips.
#
# Every row keeps ``closest`` (squared distance to its nearest chosen centre)
# and ``owner`` (that centre). A candidate ``c`` cannot come closer to row ``x``
# than ``owner`` already is when ``||c - owner|| >= 2 ||x - owner||``
# (triangle inequality), i.e. when ``closest <= ||c - owner||^2 / 4 = q[c,
# owner]``: the row keeps ``closest`` and is not even read. The values are
# the ones an unpruned pass computes (a skipped row's distance is provably not
# smaller), so the potentials, hence the chosen centres, are unchanged; only
# rows that may change are read (Raff, "Exact acceleration of K-Means++ and
# K-Means||", IJCAI 2021, section 3).

#: Relative margin of the skip test (distances carry rounding of ~d * 2^-53).
_KPP_SKIP = 1.0 - 1e-9


@nb.njit(cache=True, nogil=True)
def _kpp_first_range(X, sample_weight, center, start, stop, closest, owner):
    pot = 0.0
    for i in range(start, stop):
        v = sq_dist_rows(X, i, center, np.int64(0))
        closest[i] = v
        owner[i] = 0
        pot += np.float64(sample_weight[i]) * v
    return pot


@nb.njit(cache=True, nogil=True)
def _kpp_score_range(X, sample_weight, closest, owner, candidates, q, start, stop, pots):
    t = candidates.shape[0]
    for c in range(t):
        pots[c] = 0.0
    for i in range(start, stop):
        ci = closest[i]
        o = owner[i]
        w = np.float64(sample_weight[i])
        limit = ci / _KPP_SKIP
        for c in range(t):
            m = ci
            if q[c, o] < limit:
                dist = sq_dist_rows(X, i, candidates, c)
                if dist < ci:
                    m = dist
            pots[c] += w * m


@nb.njit(cache=True, nogil=True)
def _kpp_commit_range(X, closest, owner, candidates, best, q, new_id, start, stop):
    for i in range(start, stop):
        ci = closest[i]
        if q[best, owner[i]] < ci / _KPP_SKIP:
            dist = sq_dist_rows(X, i, candidates, best)
            if dist < ci:
                closest[i] = dist
                owner[i] = new_id


@parallel_kernel(cache=True, nogil=True)
def _kpp_first_groups(X, sample_weight, center, bounds, closest, owner, g_pots):
    for g in nb.prange(bounds.shape[0] - 1):
        g_pots[g, 0] = _kpp_first_range(X, sample_weight, center, bounds[g], bounds[g + 1],
                                        closest, owner)


@parallel_kernel(cache=True, nogil=True)
def _kpp_score_groups(X, sample_weight, closest, owner, candidates, q, bounds, g_pots):
    for g in nb.prange(bounds.shape[0] - 1):
        _kpp_score_range(X, sample_weight, closest, owner, candidates, q, bounds[g],
                         bounds[g + 1], g_pots[g])


@parallel_kernel(cache=True, nogil=True)
def _kpp_commit_groups(X, closest, owner, candidates, best, q, new_id, bounds):
    for g in nb.prange(bounds.shape[0] - 1):
        _kpp_commit_range(X, closest, owner, candidates, best, q, new_id, bounds[g],
                          bounds[g + 1])


@nb.njit(cache=True, nogil=True)
def kpp_skip_table(candidates, centers, n_centers, q):
    """``q[c, j] = ||candidates[c] - centers[j]||^2 / 4`` for the first ``n_centers`` centres.

    Parameters
    ----------
    candidates : IN (t, d); centers : IN (k, d); n_centers : IN int
    q : OUT (t, k) float64 (columns ``>= n_centers`` untouched)
    """
    for c in range(candidates.shape[0]):
        for j in range(n_centers):
            q[c, j] = 0.25 * sq_dist_rows(candidates, c, centers, j)


def kpp_first(X, sample_weight, center, bounds, closest, owner, g_pots, parallel):
    """First k-means++ step: ``closest`` = squared distance to ``center`` (1, d),
    ``owner`` = 0, and ``g_pots[g, 0]`` = the group's ``sum w_i closest_i``."""
    kernel = on_threads(_kpp_first_groups, parallel)
    kernel(X, sample_weight, center, bounds, closest, owner, g_pots)


def kpp_score(X, sample_weight, closest, owner, candidates, q, bounds, g_pots, parallel):
    """Potentials of the candidates: ``g_pots[g, c] = sum_i w_i min(closest_i, ||x_i - c||^2)``
    over group ``g``, reading only rows that the skip table ``q`` cannot rule out.

    Parameters
    ----------
    X : IN (n, d); sample_weight : IN (n,)
    closest : IN (n,) float64; owner : IN (n,) int32
    candidates : IN (t, d), rows of ``X``
    q : IN (t, k) float64, :func:`kpp_skip_table` of the candidates
    bounds : IN (G + 1,) int64
    g_pots : OUT (G, t) float64
    parallel : IN bool (same result either way; only the chosen kernel is compiled)

    Notes
    -----
    Time O(n t) plus O(d) per row and candidate not skipped; no O(n t) memory.
    """
    kernel = on_threads(_kpp_score_groups, parallel)
    kernel(X, sample_weight, closest, owner, candidates, q, bounds, g_pots)


def kpp_commit(X, closest, owner, candidates, best, q, new_id, bounds, parallel):
    """Adopt candidate ``best`` as centre ``new_id``: rows it is strictly closer to
    take it as their ``owner`` and its distance as ``closest`` (same values as
    :func:`kpp_score` summed for ``best``)."""
    kernel = on_threads(_kpp_commit_groups, parallel)
    kernel(X, closest, owner, candidates, best, q, new_id, bounds)


_KPP_BLOCKED_MIN_FEATURES = 32


@nb.njit(cache=True, nogil=True)
def _kpp_pass_range(X, sample_weight, closest, buf, prev, candidates, start, stop, pots):
    t = candidates.shape[0]
    dists = np.empty(t)
    # four candidates at a time pays for rows of at least
    # _KPP_BLOCKED_MIN_FEATURES; for shorter rows the per-row call costs more
    blocked = X.shape[1] >= _KPP_BLOCKED_MIN_FEATURES
    for c in range(t):
        pots[c] = 0.0
    for i in range(start, stop):
        if prev >= 0:
            closest[i] = buf[i, prev]
        ci = closest[i]
        w = np.float64(sample_weight[i])
        if blocked:
            sq_dist_row_to_all(X, i, candidates, dists)
            for c in range(t):
                dist = dists[c]
                m = dist if dist < ci else ci
                buf[i, c] = m
                pots[c] += w * m
        else:
            for c in range(t):
                dist = sq_dist_rows(X, i, candidates, c)
                m = dist if dist < ci else ci
                buf[i, c] = m
                pots[c] += w * m


@parallel_kernel(cache=True, nogil=True)
def _kpp_pass_groups(X, sample_weight, closest, buf, prev, candidates, bounds, g_pots):
    for g in nb.prange(bounds.shape[0] - 1):
        _kpp_pass_range(X, sample_weight, closest, buf, prev, candidates, bounds[g],
                        bounds[g + 1], g_pots[g])


def kpp_pass(X, sample_weight, closest, buf, prev, candidates, bounds, g_pots, parallel):
    """One k-means++ step: commit the previous choice, then score the candidates.

    For every row: first ``closest_i = buf[i, prev]`` (the distance to the
    nearest chosen centre, including the one chosen last step; skipped when
    ``prev < 0``), then ``buf[i, c] = min(closest_i, ||x_i - candidates[c]||^2)``
    and ``g_pots[g, c] += w_i buf[i, c]``. The potential of candidate ``c`` is
    ``g_pots[:, c].sum()`` (reduced in group order by the caller), and the
    per-group sums after choosing ``c`` are ``g_pots[:, c]``: no second pass.

    Parameters
    ----------
    X : IN (n, d); sample_weight : IN (n,)
    closest : INOUT (n,) float64
    buf : INOUT (n, t) float64, candidate-wise updated distances
    prev : IN int, column of ``buf`` chosen last step, or -1
    candidates : IN (t, d), candidate rows
    bounds : IN (G + 1,) int64
    g_pots : OUT (G, t) float64
    parallel : IN bool (same result either way; only the chosen kernel is compiled)

    Notes
    -----
    Time O(n t d); memory O(n t) for ``buf`` (as scikit-learn's candidate
    distance matrix).
    """
    if bounds.shape[0] == 2:  # one group: the range function itself (no thread start-up)
        _kpp_pass_range(X, sample_weight, closest, buf, prev, candidates, bounds[0], bounds[1],
                        g_pots[0])
        return
    kernel = on_threads(_kpp_pass_groups, parallel)
    kernel(X, sample_weight, closest, buf, prev, candidates, bounds, g_pots)


# Columnar k-means++ (low-dimensional data): distances from a transposed copy
# of X, vectorised across rows instead of across features.

_NO_BUF = np.empty((0, 0))


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _col_row_dist(XT, i, center):
    # ||x_i - center[0]||^2 from the transposed rows, features summed in order
    # with the same fused multiply-adds as _columnar_dist (bitwise equal).
    acc = 0.0
    for f in range(XT.shape[0]):
        diff = np.float64(XT[f, i]) - np.float64(center[0, f])
        acc += diff * diff
    return acc


@nb.njit(cache=True, nogil=True, inline="always")
def _search_value(i, closest, buf, col, XT, prev):
    # D_i of the sampling search (see kpp_search / kpp_columnar_search)
    if prev.shape[0] > 0:
        di = _col_row_dist(XT, i, prev)
        ci = closest[i]
        return di if di < ci else ci
    return buf[i, col] if col >= 0 else closest[i]


@nb.njit(cache=True, nogil=True, inline="always")
def _search(sample_weight, closest, buf, col, XT, prev, bounds, g_sums, values, out):
    n = closest.shape[0]
    n_groups = bounds.shape[0] - 1
    for v in range(values.shape[0]):
        r = values[v]
        acc = 0.0
        found = n - 1
        done = False
        for g in range(n_groups):
            if acc + g_sums[g] >= r:
                for i in range(bounds[g], bounds[g + 1]):
                    di = _search_value(i, closest, buf, col, XT, prev)
                    acc += np.float64(sample_weight[i]) * di
                    if acc >= r:
                        found = i
                        done = True
                        break
                if done:
                    break
            else:
                acc += g_sums[g]
        out[v] = found


@nb.njit(cache=True, nogil=True)
def kpp_search(sample_weight, closest, buf, col, bounds, g_sums, values, out):
    """Inverse-CDF sampling: for each ``v`` in ``values`` the first row whose
    cumulative ``w_i D_i`` reaches ``v`` (``searchsorted(side='left')``),
    clipped to ``n - 1``; ``D_i = buf[i, col]`` if ``col >= 0`` else ``closest[i]``.

    Parameters
    ----------
    sample_weight : IN (n,); closest : IN (n,) float64; buf : IN (n, t) float64
    col : IN int
    bounds : IN (G + 1,) int64; g_sums : IN (G,) float64, per-group ``sum w_i D_i``
    values : IN (t,) float64
    out : OUT (t,) int64

    Notes
    -----
    Time O(G + n / G) per value: the group is found from the group sums,
    then scanned.
    """
    _search(sample_weight, closest, buf, col, _NO_BUF, _NO_BUF, bounds, g_sums, values, out)


@nb.njit(cache=True, nogil=True)
def kpp_greedy_one_group(X, sample_weight, first_id, uniforms, closest, buf, candidates,
                         cand_ids, state, centers, indices):
    """The whole greedy k-means++ loop with the buffered kernel on one row
    group, in one compiled call: the same steps, in the same order, as
    :func:`clusterlab._core.kmeans_seeding._greedy_seeding` with
    ``_BufferedSeeding`` (:func:`kpp_pass` and :func:`kpp_search` on
    ``bounds = [0, n]``), so the same centres -- without the Python round
    trip per centre (~35 us of calls and small numpy operations, more than
    the pass itself on 2000 x 2 rows).

    Parameters
    ----------
    X : IN (n, d); sample_weight : IN (n,)
    first_id : IN int, the first centre's row
    uniforms : IN (k - 1, t) float64, k >= 2, U(0, 1) draws of each further
        centre, in the order the caller's random state gave them
    closest : scratch (n,) float64, all ``inf`` on entry
    buf : scratch (n, t) float64; candidates : scratch (t, d) float64
    cand_ids : scratch (t,) int64
    state : scratch (t + 1,) float64
    centers : OUT (k, d) in X's dtype; indices : OUT (k,) intp

    Notes
    -----
    Time O(k n t d); memory O(n t) (the buffer of :func:`kpp_pass`), all
    owned by the caller. Column indices are read from arrays, never passed
    as constants: numba would compile a variant of the callee per constant.
    """
    n, d = X.shape
    k = centers.shape[0]
    t = uniforms.shape[1]
    bounds = np.empty(2, np.int64)
    bounds[0] = 0
    bounds[1] = n
    pots = state[:t]
    g_sums = state[t:t + 1]
    values = uniforms[0].copy()
    for f in range(d):
        candidates[0, f] = np.float64(X[first_id, f])
        centers[0, f] = X[first_id, f]
    indices[0] = first_id
    col = np.empty(1, np.int64)  # col[0]: the buffer column chosen last (-1: none yet)
    col[0] = -1
    _kpp_pass_range(X, sample_weight, closest, buf, col[0], candidates[:1], bounds[0], n,
                    pots[:1])
    col[0] = 0
    g_sums[0] = pots[0]
    for c in range(1, k):
        potential = g_sums[0]
        for v in range(t):
            values[v] = uniforms[c - 1, v] * potential
        kpp_search(sample_weight, closest, buf, col[0], bounds, g_sums, values, cand_ids)
        for v in range(t):
            for f in range(d):
                candidates[v, f] = np.float64(X[cand_ids[v], f])
        _kpp_pass_range(X, sample_weight, closest, buf, col[0], candidates, bounds[0], n, pots)
        best = 0
        for v in range(1, t):  # np.argmin: the lowest index on ties
            if pots[v] < pots[best]:
                best = v
        col[0] = best
        g_sums[0] = pots[best]
        for f in range(d):
            centers[c, f] = X[cand_ids[best], f]
        indices[c] = cand_ids[best]
