"""Float32 k-means++ scoring with exact adoption.

For float32 rows the candidates are scored in float32 (``KPP32_LANES``
candidates per pass over a transposed copy of X), which only serves to
choose: every score carries an error bound (:func:`kpp32_rel_error`), a close
call is settled with exact float64 potentials (:func:`kpp32_exact`), and the
adopted centre's distances are computed exactly. ``closest``, the per-group
sums and the picks are those of the exact kernels.
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

from clusterlab._kernels.distances import (
    FASTMATH,
    abs_max_bound,
    sq_dist_rows,
)
from clusterlab._kernels.kmeans.columnar import _U0
from clusterlab._kernels.kmeans.elkan import float32_sum_gamma
from clusterlab._kernels.row_groups import on_threads

# ----------------------------------------------------------------------------
# Float32 k-means++ scoring with exact adoption. For float32 rows the
# candidates are scored in float32 (eight candidates per pass over a
# transposed copy of X, vectorised across rows: about twice the lanes of the
# float64 kernels), which only serves to choose: every score carries an error
# bound, a close call is settled with exact float64 potentials, and the
# adopted centre's distances are computed exactly, on the rows its float32
# distance says it may take over (flagged in the scoring pass). ``closest``,
# the per-group sums and the picks are the ones of the exact kernels.

#: Candidates scored per pass (one float32 lane each in the block loop).
KPP32_LANES = 8
#: Rows per block of the float32 scoring (measured 128 a little faster than 256).
_KPP32_BLOCK = 128


@nb.njit(cache=True, nogil=True, inline="always")
def _kpp32_block(XT, s, m, C, ch, D):
    # D[j, b] = float32 ||XT[:, s + b] - C[8 ch + j]||^2: eight candidates
    # share each load of the block's feature rows (vectorised across b), two
    # features per sweep of D (12 -> 9 ns per row for 32 features)
    for j in range(_U0, np.uint64(KPP32_LANES)):
        Dj = D[j]
        for b in range(m):
            Dj[b] = 0.0
    D0, D1, D2, D3 = D[0], D[1], D[2], D[3]
    D4, D5, D6, D7 = D[4], D[5], D[6], D[7]
    r = ch * KPP32_LANES  # signed: uint64 + int64 is float64 in numba
    d = np.uint64(XT.shape[0])
    for f in range(_U0, d - (d & np.uint64(1)), np.uint64(2)):
        g = f + np.uint64(1)
        c0, c1, c2, c3 = C[r, f], C[r + 1, f], C[r + 2, f], C[r + 3, f]
        c4, c5, c6, c7 = C[r + 4, f], C[r + 5, f], C[r + 6, f], C[r + 7, f]
        e0, e1, e2, e3 = C[r, g], C[r + 1, g], C[r + 2, g], C[r + 3, g]
        e4, e5, e6, e7 = C[r + 4, g], C[r + 5, g], C[r + 6, g], C[r + 7, g]
        Tf = XT[f]
        Tg = XT[g]
        for b in range(m):
            x = Tf[s + b]
            y = Tg[s + b]
            t0, t1, t2, t3 = x - c0, x - c1, x - c2, x - c3
            t4, t5, t6, t7 = x - c4, x - c5, x - c6, x - c7
            u0, u1, u2, u3 = y - e0, y - e1, y - e2, y - e3
            u4, u5, u6, u7 = y - e4, y - e5, y - e6, y - e7
            D0[b] += t0 * t0 + u0 * u0
            D1[b] += t1 * t1 + u1 * u1
            D2[b] += t2 * t2 + u2 * u2
            D3[b] += t3 * t3 + u3 * u3
            D4[b] += t4 * t4 + u4 * u4
            D5[b] += t5 * t5 + u5 * u5
            D6[b] += t6 * t6 + u6 * u6
            D7[b] += t7 * t7 + u7 * u7
    if d & np.uint64(1):
        f = d - np.uint64(1)
        c0, c1, c2, c3 = C[r, f], C[r + 1, f], C[r + 2, f], C[r + 3, f]
        c4, c5, c6, c7 = C[r + 4, f], C[r + 5, f], C[r + 6, f], C[r + 7, f]
        Tf = XT[f]
        for b in range(m):
            x = Tf[s + b]
            t0, t1, t2, t3 = x - c0, x - c1, x - c2, x - c3
            t4, t5, t6, t7 = x - c4, x - c5, x - c6, x - c7
            D0[b] += t0 * t0
            D1[b] += t1 * t1
            D2[b] += t2 * t2
            D3[b] += t3 * t3
            D4[b] += t4 * t4
            D5[b] += t5 * t5
            D6[b] += t6 * t6
            D7[b] += t7 * t7


@nb.njit(cache=True, nogil=True)
def _kpp32_score_range(XT, sample_weight, closest, C, slack, start, stop, pots, flags, D, fl):
    n_chunks = C.shape[0] // KPP32_LANES
    for c in range(C.shape[0]):
        pots[c] = 0.0
    for s0 in range(start, stop, _KPP32_BLOCK):
        s = np.uint64(s0)
        m = np.uint64(min(_KPP32_BLOCK, stop - s0))
        for ch in range(n_chunks):
            _kpp32_block(XT, s, m, C, ch, D)
            for b in range(m):
                fl[b] = 0
            for j in range(KPP32_LANES):
                Dj = D[j]
                acc = 0.0
                bit = np.uint8(1 << j)
                for b in range(m):
                    ci = closest[s + b]
                    v = np.float64(Dj[b])
                    acc += np.float64(sample_weight[s + b]) * (v if v < ci else ci)
                    fl[b] |= bit if v < ci * slack[0] + slack[1] else np.uint8(0)
                pots[ch * KPP32_LANES + j] += acc
            out = flags[ch]
            for b in range(m):
                out[s + b] = fl[b]


@parallel_kernel(cache=True, nogil=True, fastmath=FASTMATH)
def _kpp32_score_groups(XT, sample_weight, closest, C, slack, bounds, g_pots, flags):
    for g in nb.prange(bounds.shape[0] - 1):
        D = np.empty((KPP32_LANES, _KPP32_BLOCK), dtype=np.float32)
        fl = np.empty(_KPP32_BLOCK, dtype=np.uint8)
        _kpp32_score_range(XT, sample_weight, closest, C, slack, bounds[g], bounds[g + 1],
                           g_pots[g], flags, D, fl)


def kpp32_slack(n_features):
    """``(scale, shift)`` of the float32 scoring: a float32 squared distance
    ``v`` proves ``||x - c||^2 >= closest`` when ``v >= closest * scale + shift``.

    The float32 distance of d features (differences of float32 values,
    squared and summed in any order) is within ``gamma * ||x - c||^2`` of
    the exact value (:func:`float32_sum_gamma`), plus ``2^-149`` per term
    where squares underflow; the scale doubles gamma (and covers the float64
    rounding of the test), the shift covers the underflow. Returns a (2,)
    float64 array.
    """
    gamma = float32_sum_gamma(n_features)
    return np.array([1.0 + 2.0 * gamma + 2.0 ** -50, (2 * n_features + 2) * 2.0 ** -149])


def kpp32_score(XT, sample_weight, closest, C, slack, bounds, g_pots, flags, parallel):
    """Float32 potentials of the candidates and the rows each may take over.

    For every row ``i`` of group ``g`` and candidate ``c``, with ``v`` the
    float32 squared distance: ``g_pots[g, c] += w_i min(closest_i, v)``, and
    bit ``c % 8`` of ``flags[c // 8, i]`` is set when ``v < closest_i * scale +
    shift`` (:func:`kpp32_slack`), i.e. unless the row provably keeps
    ``closest_i``. The potential of ``c`` (summed over groups) is within
    :func:`kpp32_rel_error` of the exact one.

    Parameters
    ----------
    XT : IN (d, n) float32, C-contiguous (``X.T`` copied)
    sample_weight : IN (n,); closest : IN (n,) float64
    C : IN (8 m, d) float32, candidates (padded with copies to a multiple of 8)
    slack : IN (2,) float64, :func:`kpp32_slack`
    bounds : IN (G + 1,) int64
    g_pots : OUT (G, 8 m) float64
    flags : OUT (m, n) uint8
    parallel : IN bool (same result either way)

    Notes
    -----
    Time O(n m d) in 256-row blocks vectorised across rows (eight float32
    candidates share each load); memory: the caller's (d, n) copy of X, the
    (m, n) flags, 8 KiB per thread.
    """
    kernel = on_threads(_kpp32_score_groups, parallel)
    kernel(XT, sample_weight, closest, C, slack, bounds, g_pots, flags)


def kpp32_rel_error(n_samples, n_features):
    """Relative bound on the difference between a :func:`kpp32_score`
    potential and the exact one as a float64 sum (either way of summing):
    the float32 distances' gamma (:func:`kpp32_slack`), doubled, plus the
    float64 rounding of both sums."""
    gamma = float32_sum_gamma(n_features)
    return 2.0 * gamma + 4.0 * (n_samples + n_features + 4) * 2.0 ** -53


@nb.njit(cache=True, nogil=True)
def _kpp32_exact_range(X, sample_weight, closest, C, cands, flags, start, stop, out, commit):
    # out[c] = sum over rows of w * min(closest, d) for candidate cands[c],
    # d computed exactly (float64) on the flagged rows only: the sum of
    # w * closest (once, after the commit if any) plus each candidate's
    # corrections; with commit, closest takes the value (one candidate).
    corr = np.zeros(cands.shape[0])
    for c in range(cands.shape[0]):
        j = cands[c]
        Fj = flags[j // KPP32_LANES]
        bit = np.uint8(1 << (j % KPP32_LANES))
        for i in range(start, stop):
            if Fj[i] & bit:
                ci = closest[i]
                v = sq_dist_rows(X, i, C, j)
                if v < ci:
                    if commit:
                        closest[i] = v
                    else:
                        corr[c] += np.float64(sample_weight[i]) * (v - ci)
    acc = 0.0
    for i in range(start, stop):
        acc += np.float64(sample_weight[i]) * closest[i]
    for c in range(cands.shape[0]):
        out[c] = acc + corr[c]


@parallel_kernel(cache=True, nogil=True, fastmath=FASTMATH)
def _kpp32_exact_groups(X, sample_weight, closest, C, cands, flags, bounds, g_out, commit):
    for g in nb.prange(bounds.shape[0] - 1):
        _kpp32_exact_range(X, sample_weight, closest, C, cands, flags, bounds[g],
                           bounds[g + 1], g_out[g], commit)


def kpp32_exact(X, sample_weight, closest, C, cands, flags, bounds, g_out, commit, parallel):
    """Exact (float64) potentials of the candidates ``cands`` from the rows
    :func:`kpp32_score` flagged for them; with ``commit`` (one candidate) it
    is adopted: ``closest_i = min(closest_i, ||x_i - c||^2)``.

    Parameters
    ----------
    X : IN (n, d) float32; sample_weight : IN (n,); closest : INOUT (n,) float64
    C : IN (8 m, d) float32; cands : IN (r,) int64, rows of ``C``
    flags : IN (m, n) uint8, from :func:`kpp32_score` with the same ``closest``
    bounds : IN (G + 1,) int64
    g_out : OUT (G, r) float64, per-group ``sum w_i min(closest_i, d_i)``
        (after ``commit``: the new per-group ``sum w_i closest_i``)
    commit : IN bool; parallel : IN bool (same result either way)

    Notes
    -----
    Unflagged rows provably keep ``closest_i`` (:func:`kpp32_slack`), so
    the values are those of an exact pass over every row, up to the order of
    the float64 sums. Time O(n r + flagged rows * d).
    """
    kernel = on_threads(_kpp32_exact_groups, parallel)
    kernel(X, sample_weight, closest, C, cands, flags, bounds, g_out, commit)


def kpp32_safe(X):
    """Whether float32 squared distances between rows of ``X`` cannot
    overflow (``4 d max|X|^2 <= 1e37``, with ``max|X|`` bounded by its
    largest exponent, :func:`clusterlab._kernels.distances.abs_max_bound`),
    as :func:`kpp32_score` assumes."""
    return 4.0 * X.shape[1] * abs_max_bound(X) ** 2 <= 1e37
