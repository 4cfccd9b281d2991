"""Hamerly's bounds: one upper and one lower bound per point.

A point is skipped when its upper bound is below ``max(lower, half the
distance from its centre to the nearest other centre)``; the first test
(:func:`_first_bounds`, :func:`_table_lower`) uses the per-centre table of
:func:`mover_bounds`, the failed points are tightened with one exact distance
and re-scanned (directly, columnar, or through BLAS: :func:`gemm_hamerly_range`).
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

from clusterlab._kernels.distances import (
    prefetch_row,
    sq_dist_row_to_all,
    sq_dist_rows,
)
from clusterlab._kernels.gemm.passes import (
    gemm_rescan_rows,
    gemm_rescan_span,
    store_rescan,
)
from clusterlab._kernels.kmeans.columnar import (
    _rescan_columnar,
    columnar_pays,
)
from clusterlab._kernels.kmeans.common import (
    _HI,
    _LO,
)

_TIGHTEN_AHEAD = 8
#: Hamerly's tightening re-checks its pass rate every this many rows.
_TIGHTEN_PROBE = 256
#: Hamerly's tightening also measures the centres that moved most exactly:
#: the fewest (up to _MAX_MOVERS) after which the largest remaining shift is
#: at most _MOVERS_RATIO of the largest, else the top one alone when the
#: second largest shift is at most _TOP_MOVER_RATIO of the largest (more
#: movers save re-scans but cost more distances; figures in benchmarks/NOTES.md).
_TOP_MOVER_RATIO = 0.9
#: A BLAS Hamerly row group skips its bound pass when at least this share
#: of every _FAIL_SAMPLE-th row fails the first test: the share from which
#: its re-scan reads every row in place anyway (gemm_hamerly_range).
_ALL_FAIL_SHARE = 0.92
#: Hamerly's first test bounds the distance to this many centres that moved
#: most through the centre-centre distance (see _first_bounds).
_CC_MOVERS = 4
_CC_LO = 1.0 - 4.0 * 2.0 ** -52
_CC_HI = 1.0 + 4.0 * 2.0 ** -52
_FAIL_SAMPLE = 16
_MAX_MOVERS = 4
_MOVERS_RATIO = 0.25


@nb.njit(cache=True, nogil=True, inline="always")
def _top_shifts(shift, n_keep):
    # The n_keep centres that moved most, largest first (lowest index on
    # ties; top[0] = shift_arg1 of _two_largest), kept by insertion: O(k).
    # Fewer centres than n_keep: the missing entries are -1 with shift 0.
    top = np.full(n_keep, -1, np.int64)
    s_top = np.full(n_keep, -1.0)
    for j in range(shift.shape[0]):
        sj = shift[j]
        if sj > s_top[n_keep - 1]:
            q = n_keep - 1
            while q > 0 and sj > s_top[q - 1]:
                top[q] = top[q - 1]
                s_top[q] = s_top[q - 1]
                q -= 1
            top[q] = j
            s_top[q] = sj
    for q in range(n_keep):
        s_top[q] = max(s_top[q], 0.0)
    return top, s_top


@nb.njit(cache=True, nogil=True, inline="always")
def _first_bounds(u_old, lo_old, t):
    # Hamerly's first test for a row of centre a, from ``t = tab[a]`` of
    # :func:`mover_bounds`: its upper bound moved by a's shift, its plain
    # lower bound ``lo_old - s_a`` (s_a: the largest shift of any other
    # centre) and a better one when a few centres moved most: the others
    # (every centre but a and the movers) moved at most ``srest_a``, and a
    # mover c is at least ``||c_a - c|| - u`` away (triangle inequality; the
    # smallest such centre distance is rounded down in the table and u
    # rounded up here). Returns (upper, better lower); scalars only, no
    # branches (see store_rescan). One row of the table per centre: a
    # separate array per value kept the bound pass from running as fast
    # (6.7 vs 3.6 ns per row, one thread).
    u = u_old + t[0]
    return u, _table_lower(u, lo_old, t)


@nb.njit(cache=True, nogil=True, inline="always")
def _table_lower(u, lo_old, t):
    # the lower bound of _first_bounds for a row whose distance to its
    # centre is at most u (moved or exact) and whose previous bound is lo_old
    lo = lo_old - t[1]
    lc = lo_old - t[2]
    lm = t[3] - u * _CC_HI
    lc = lm if lm < lc else lc
    return lc if lc > lo else lo


@nb.njit(cache=True, nogil=True)
def mover_bounds(centers, shift, half_min, s1, a1, s2):
    """Per-centre table of Hamerly's first test (:func:`_first_bounds`), shape
    (k, 5), float64: for centre ``j``, its shift; the largest shift of any
    other centre (``s2`` for ``a1``, else ``s1``); the largest shift of any
    centre other than ``j`` and the :data:`_CC_MOVERS` centres that moved
    most; the distance from ``j`` to the nearest of those movers other than
    itself, rounded down (``inf`` if none); ``half_min[j]``. One jitted
    call per E-step (the five blobs run ~200 E-steps in 4 ms)."""
    k = shift.shape[0]
    top, s_top = _top_shifts(shift, _CC_MOVERS + 2)
    m = min(_CC_MOVERS, k)
    out1 = s_top[m]
    out2 = s_top[m + 1]
    tab = np.empty((k, 5))
    for j in range(k):
        tab[j, 0] = shift[j]
        tab[j, 1] = s2 if j == a1 else s1
        tab[j, 2] = out2 if j == top[m] else out1
        best = np.inf
        for q in range(m):
            t = top[q]
            if t != j:
                dist = np.sqrt(sq_dist_rows(centers, j, centers, t))
                best = dist if dist < best else best
        tab[j, 3] = best * _CC_LO
        tab[j, 4] = half_min[j]
    return tab


@nb.njit(cache=True, nogil=True)
def hamerly_filter_range(X, centers, half_min, shift, mover_tab, start, stop, labels, upper,
                         lower, moved_from, rows, min_pass):
    """The bound tests of one Hamerly E-step for rows ``[start, stop)`` (serial).

    First moves the bounds by the last centre shift, then tightens the upper
    bound (one exact distance) of rows whose upper bound is not below
    ``max(lower, half_min[label])``; rows that still fail must be re-scanned
    against every centre and are listed in ``rows[start:start + n_rescan]``.

    Parameters
    ----------
    X : IN (n, d)
    centers : IN (k, d) float64
    half_min : IN (k,) float64, half the distance from each centre to its nearest other centre
    shift : IN (k,) float64, distance each centre moved in the last M-step
    mover_tab : IN (k, 5) float64, the per-centre table of :func:`mover_bounds`
    start, stop : IN int
    labels : IN (n,) int32
    upper : INOUT (n,) float64, upper bound on the distance to the assigned centre
    lower : INOUT (n,) float64, lower bound on the distance to any other centre
    moved_from : OUT (n,) int32, set to -1 for rows ``[start, stop)``
    rows : OUT (n,) int64, the rows to re-scan, from ``rows[start]`` on
    min_pass : IN float, tightening continues only while at least this share of
        the tightened rows passes (checked after :data:`_TIGHTEN_PROBE` rows and
        every :data:`_TIGHTEN_PROBE` rows after that); the rest go to the
        re-scan with their loose upper bound (the re-scan computes it anew).
        0 tightens every failed row.

    Returns
    -------
    n_rescan : int
    """
    # Branch-free passes: the bound updates of every row with a pass/fail
    # flag (vectorised: slices from 0 and unsigned centre indices, so numba
    # adds no negative-index checks), the failed rows compacted into
    # ``rows``, then the tightening (failed rows only), compacting again: the
    # branch on the bound test was mispredicted for a large share of the rows.
    m_rows = stop - start
    lab = labels[start:stop]
    up = upper[start:stop]
    low = lower[start:stop]
    moved = moved_from[start:stop]
    fail = np.empty(m_rows, np.uint8)
    prev = np.empty(m_rows)  # the lower bounds before this E-step (tightening)
    for r in range(m_rows):
        a = np.uint32(lab[r])
        t = mover_tab[a]
        moved[r] = -1
        lo_old = low[r]
        prev[r] = lo_old
        u, lo = _first_bounds(up[r], lo_old, t)
        hm = t[4]
        m = hm if hm > lo else lo
        low[r] = lo
        up[r] = u
        fail[r] = not (u * _HI < m * _LO)
    listed = rows[start:stop]
    n_fail = 0
    for r in range(m_rows):
        listed[n_fail] = start + r
        n_fail += fail[r]
    n_rescan = 0
    end = start + n_fail
    # The centres that moved most: a row that fails after tightening may
    # still pass if those centres stay at least as far as the assigned one.
    # Its lower bound without them drops only by the largest shift among the
    # others, ``s_rest``; the top movers' exact distances are computed for
    # every tightened row (the bound with them is kept, which pays in the
    # next E-steps too). On 10^6 x 16, k=64, after the first E-steps one to
    # four centres move 3-100x more than the median centre (shifts 9.22,
    # 4.99, 0.97, ... in the 7th E-step; median 0).
    top, s_top = _top_shifts(shift, _MAX_MOVERS + 2)
    # How many of them the tightening measures exactly: the fewest after
    # which the largest remaining shift is at most _MOVERS_RATIO of the
    # largest; else the top one alone if it stands out (_TOP_MOVER_RATIO).
    n_top = 0
    for q in range(_MAX_MOVERS, 0, -1):
        if s_top[q] <= _MOVERS_RATIO * s_top[0]:
            n_top = q
    if n_top == 0 and s_top[1] <= _TOP_MOVER_RATIO * s_top[0]:
        n_top = 1
    t = start
    while t < end:
        if t + _TIGHTEN_AHEAD < end:
            prefetch_row(X, rows[t + _TIGHTEN_AHEAD])
        i = rows[t]
        a = labels[i]
        u = np.sqrt(sq_dist_rows(X, i, centers, a))
        upper[i] = u
        lo_old = prev[i - start]
        # the first test's bound again, with the exact distance to the
        # row's centre
        lo_m = _table_lower(u, lo_old, mover_tab[a])
        hm = half_min[a]
        if n_top > 0:  # the same for every row of this E-step
            # without the top movers the bound drops by s_rest only
            s_rest = s_top[n_top + 1] if top[n_top] == a else s_top[n_top]
            lo_rest = lo_old - s_rest
            for q in range(n_top):
                c = top[q]
                d_c = np.sqrt(sq_dist_rows(X, i, centers, c)) if c != a else np.inf
                lo_rest = d_c if d_c < lo_rest else lo_rest
            lo_m = lo_rest if lo_rest > lo_m else lo_m
        lower[i] = lo_m
        m = hm if hm > lo_m else lo_m
        rows[start + n_rescan] = i
        n_rescan += not (u * _HI < m * _LO)
        t += 1
        done = t - start
        if done % _TIGHTEN_PROBE == 0 and (done - n_rescan) < min_pass * done:
            break  # tightening does not pay here: the rest go straight to the re-scan
    for t2 in range(t, end):
        rows[start + n_rescan] = rows[t2]
        n_rescan += 1
    return n_rescan


@nb.njit(cache=True, nogil=True)
def direct_rescan_rows(X, rows, start, n_rows, centers, labels, upper, lower, moved_from):
    """Re-scan ``rows[start:start + n_rows]`` against every centre with the direct kernel.

    Updates ``labels``, ``upper`` (exact), ``lower`` (second nearest) and
    ``moved_from``; returns the number of relabelled rows.
    """
    if columnar_pays(X.shape[1], centers.shape[0]):
        return _rescan_columnar(X, rows, start, n_rows, centers, labels, upper, lower,
                                moved_from)
    k = centers.shape[0]
    dists = np.empty(k)
    n_changed = 0
    for t in range(start, start + n_rows):
        i = rows[t]
        d1 = np.inf
        d2 = np.inf
        j1 = 0
        sq_dist_row_to_all(X, i, centers, dists)
        for j in range(k):
            dist = dists[j]
            if dist < d1:
                d2 = d1
                d1 = dist
                j1 = j
            elif dist < d2:
                d2 = dist
        n_changed += store_rescan(i, j1, d1, d2, labels, upper, lower, moved_from)
    return n_changed


@nb.njit(cache=True, nogil=True)
def hamerly_assign_range(X, centers, half_min, shift, mover_tab, start, stop, labels, upper,
                         lower, moved_from, rows):
    """One Hamerly E-step for rows ``[start, stop)`` (serial): the bound tests of
    :func:`hamerly_filter_range`, then a direct re-scan of the rows that failed them.

    Returns the number of relabelled rows (their old label is in ``moved_from``).
    """
    n_rescan = hamerly_filter_range(X, centers, half_min, shift, mover_tab, start, stop, labels,
                                    upper, lower, moved_from, rows, 1.0 / centers.shape[0])
    return direct_rescan_rows(X, rows, start, n_rescan, centers, labels, upper, lower,
                              moved_from)


@parallel_kernel(cache=True, nogil=True)
def _hamerly_assign_groups(X, centers, half_min, shift, mover_tab, bounds, labels, upper,
                           lower, moved_from, rows, g_changed):
    for g in nb.prange(bounds.shape[0] - 1):
        g_changed[g] = hamerly_assign_range(X, centers, half_min, shift, mover_tab, bounds[g],
                                            bounds[g + 1], labels, upper, lower, moved_from,
                                            rows)


@nb.njit(cache=True, nogil=True, inline="always")
def _sample_fails(labels, upper, lower, mover_tab, start, stop):
    # True when at least _ALL_FAIL_SHARE of every _FAIL_SAMPLE-th row of
    # [start, stop) fails Hamerly's first bound test (no writes). From that
    # share on the re-scan reads every row in place anyway, so the bound
    # pass would only cost time: the first E-step after a k-means++ start
    # on 10^6 x 16, k=64 fails 97.7 % of its rows, and its bound pass took
    # 3.1 ms (2 threads) of the E-step's 22.7 (21.3 without).
    n_s = 0
    n_f = 0
    for i in range(start, stop, _FAIL_SAMPLE):
        t = mover_tab[labels[i]]
        u, lo = _first_bounds(upper[i], lower[i], t)
        hm = t[4]
        m = hm if hm > lo else lo
        n_f += not (u * _HI < m * _LO)
        n_s += 1
    return n_f >= _ALL_FAIL_SHARE * n_s and n_s >= 16


@nb.njit(cache=True, nogil=True)
def gemm_hamerly_range(X, x_sq, centers, Cx, csq, consts, half_min, shift, mover_tab, start,
                       stop, labels, upper, lower, moved_from, rows, min_pass,
                       sample_weight, sums, weights, counts):
    """:func:`hamerly_assign_range` with the re-scans done by GEMM (same labels);
    relabelled rows' statistics moved into ``sums``/``weights``/``counts``
    when ``sums`` is (k, d) (see :func:`gemm_rescan_rows`)."""
    if _sample_fails(labels, upper, lower, mover_tab, start, stop):
        # (almost) every row will fail: no bound pass, every row re-scanned
        # in place (the re-scan sets the bounds anew)
        moved_from[start:stop] = -1
        return gemm_rescan_span(X, x_sq, start, stop, centers, Cx, csq, consts, labels, upper,
                                lower, moved_from, sample_weight, sums, weights, counts)
    n_rescan = hamerly_filter_range(X, centers, half_min, shift, mover_tab, start, stop, labels,
                                    upper, lower, moved_from, rows, min_pass)
    # nearly every row failed: all of them, in place (replayed 10^6 x 16,
    # k=64: 98 % failed, 22.2 ms gathered vs 20.6 in place; 70 %: 16.8 vs 20.7)
    if n_rescan * 100 >= (stop - start) * 92:
        return gemm_rescan_span(X, x_sq, start, stop, centers, Cx, csq, consts, labels, upper,
                                lower, moved_from, sample_weight, sums, weights, counts)
    return gemm_rescan_rows(X, x_sq, rows[start:start + n_rescan], n_rescan, centers, Cx, csq,
                            consts, labels, upper, lower, moved_from, sample_weight, sums,
                            weights, counts)


@parallel_kernel(cache=True, nogil=True)
def _gemm_hamerly_groups(X, x_sq, centers, Cx, csq, consts, half_min, shift, mover_tab,
                         bounds, labels, upper, lower, moved_from, rows, g_changed, min_pass,
                         sample_weight, g_sums, g_weights, g_counts):
    # g_sums (G, k, d) or (G, 0, d): per-group moved statistics, or none
    for g in nb.prange(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_counts[g] = 0
        g_changed[g] = gemm_hamerly_range(X, x_sq, centers, Cx, csq, consts, half_min,
                                          shift, mover_tab, bounds[g], bounds[g + 1], labels,
                                          upper, lower, moved_from, rows, min_pass,
                                          sample_weight, g_sums[g], g_weights[g], g_counts[g])


