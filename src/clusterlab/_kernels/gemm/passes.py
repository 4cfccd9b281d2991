"""Passes over row groups built on :mod:`.blocks`: nearest centre, Lloyd, full scans, re-scans.
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

from clusterlab._kernels.distances import (
    add_row,
    move_row,
    prefetch_row,
    sq_dist_rows,
)
from clusterlab._kernels.gemm.blocks import (
    GATHER_AHEAD,
    _all_finite,
    _row_sq_norms_range,
    approx_row,
    block_scratch,
    block_top2,
    gemm_operands,
    resolve_block,
    scan_block,
    sweep32_scratch,
    tile_view,
)

# ----------------------------------------------------------------------------
# Nearest centre (predict, score)


@nb.njit(cache=True, nogil=True)
def gemm_nearest_range(X, centers, Cx, csq, consts, start, stop, labels, min_sq_dist):
    """Nearest centre of rows ``[start, stop)`` through BLAS products: the labels
    of :func:`clusterlab._kernels.distances.nearest_center_range` (near ties
    re-checked exactly), and ``min_sq_dist`` the exact squared distance to
    the chosen centre (:func:`sq_dist_rows`), not the product's estimate.

    Parameters
    ----------
    X : IN (n, d); centers : IN (k, d) float64
    Cx, csq, consts : IN, see :func:`gemm_operands`
    start, stop : IN int
    labels : OUT (n,) int32; min_sq_dist : OUT (n,) float64
    """
    k = centers.shape[0]
    br, buf, m1, m2, j1, tie, dist, T = block_scratch(X, k)
    xsq = np.empty(br)
    for s in range(start, stop, br):
        e = min(stop, s + br)
        m = e - s
        block = X[s:e]
        _row_sq_norms_range(block, 0, m, xsq)
        out = buf if m == br else np.empty((k, m), X.dtype)
        block_top2(block, Cx, csq, out, m1, m2, j1, T, True)
        resolve_block(block, m, xsq, out, m1, m2, j1, tie, centers, csq, consts, dist, True)
        for r in range(m):
            labels[s + r] = j1[r]
            min_sq_dist[s + r] = sq_dist_rows(block, r, centers, j1[r])


@parallel_kernel(cache=True, nogil=True)
def _gemm_nearest_groups(X, centers, Cx, csq, consts, bounds, labels, min_sq_dist):
    for g in nb.prange(bounds.shape[0] - 1):
        gemm_nearest_range(X, centers, Cx, csq, consts, bounds[g], bounds[g + 1], labels,
                           min_sq_dist)


def gemm_nearest(X, centers, bounds, labels, min_sq_dist, parallel):
    """:func:`gemm_nearest_range` over row groups (``parallel``: on numba's
    threads, with BLAS on one thread -- the caller's job)."""
    ops = gemm_operands(X, centers)
    if parallel and bounds.shape[0] > 2:
        _gemm_nearest_groups(X, centers, *ops, bounds, labels, min_sq_dist)
    else:
        gemm_nearest_range(X, centers, *ops, 0, X.shape[0], labels, min_sq_dist)


# ----------------------------------------------------------------------------
# Lloyd: assignment + statistics


@nb.njit(cache=True, nogil=True)
def gemm_lloyd_range(X, XT, tiles, x_sq, sample_weight, centers, Cx, csq, consts, start, stop,
                     labels, min_sq_dist, sums, weights, counts, delta, estimates):
    """GEMM twin of :func:`clusterlab._kernels.kmeans.lloyd.lloyd_stats_range`.

    Without ``delta`` the same outputs (every row added to its cluster's
    ``sums``/``weights``, and ``counts`` += 1 per row of non-zero weight).
    With ``delta``, ``labels`` holds the previous labels on entry and only
    the rows whose label changed are moved: added to the new cluster and
    subtracted from the old one (a label < 0 counts as none), so that the
    caller's running statistics plus these deltas are those of the new
    labels (cost O(d) per changed row instead of per row).
    With ``estimates``, ``min_sq_dist`` and the returned inertia are filled:
    ``min_sq_dist`` is exact for re-checked rows and otherwise within ``delta``
    (plus :func:`~.blocks.sweep_error` for float32 rows, swept in float32);
    without, neither is touched and the pass returns 0 (Lloyd's loop needs
    them only to print its progress).

    ``tiles``: 0, the blocks are copied transposed into scratch (see
    :func:`~.blocks.block_products`); 1, into their tiles of ``XT`` (flat, n * d,
    :func:`~.blocks.tile_view`), which later passes then read; 2, ``XT``
    already holds them (no copy). ``XT`` is unused (may be empty) with 0.
    """
    k = centers.shape[0]
    d = X.shape[1]
    br, buf, m1, m2, j1, tie, dist, T = block_scratch(X, k)
    f1, f2, g1 = sweep32_scratch(br)
    moved = np.empty(br, np.int64)
    inertia = 0.0
    for s in range(start, stop, br):
        e = min(stop, s + br)
        m = e - s
        block = X[s:e]
        out = buf if m == br else np.empty((k, m), X.dtype)
        Tb = T if tiles == 0 else tile_view(XT, s, e, d)
        scan_block(block, m, x_sq[s:e], Cx, csq, consts, out, m1, m2, j1, tie, centers, dist,
                   f1, f2, g1, Tb, True, tiles != 2)
        if estimates:
            acc = 0.0
            for r in range(m):
                d1 = max(m1[r], 0.0)
                min_sq_dist[s + r] = d1
                acc += np.float64(sample_weight[s + r]) * d1
            inertia += acc
        n_moved = 0
        for r in range(m):  # the rows that change label (every row without delta)
            moved[n_moved] = r
            n_moved += (not delta) or labels[s + r] != j1[r]
        # the moved rows' values from the transposed block where there is one: it
        # is in cache, X's rows are not once the tiles are kept (10^6 x 16
        # float32, k=64, 270000 rows moved: 11 -> 2 ms a pass, one thread)
        src_T = Tb.shape[1] >= m
        for t in range(n_moved):  # in row order, as the sums always were
            r = moved[t]
            i = s + r
            j = j1[r]
            a = labels[i] if delta else -1
            labels[i] = j
            w = np.float64(sample_weight[i])
            weights[j] += w
            counts[j] += w != 0.0
            if a >= 0:
                weights[a] -= w
                counts[a] -= w != 0.0
            for f in range(d):
                v = w * (Tb[f, r] if src_T else X[i, f])
                sums[j, f] += v
                if a >= 0:
                    sums[a, f] -= v
    return inertia


@parallel_kernel(cache=True, nogil=True)
def gemm_lloyd_groups(X, XT, tiles, x_sq, sample_weight, centers, Cx, csq, consts, bounds,
                      labels, min_sq_dist, g_sums, g_weights, g_counts, g_inertia, delta,
                      estimates):
    for g in nb.prange(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_counts[g] = 0
        g_inertia[g] = gemm_lloyd_range(X, XT, tiles, x_sq, sample_weight, centers, Cx, csq,
                                        consts, bounds[g], bounds[g + 1], labels, min_sq_dist,
                                        g_sums[g], g_weights[g], g_counts[g], delta, estimates)


# ----------------------------------------------------------------------------
# First assignment of the bounded algorithms


@nb.njit(cache=True, nogil=True)
def gemm_full_scan_range(X, x_sq, sample_weight, centers, Cx, csq, consts, start, stop,
                         labels, upper, lower, group_of, glb, sums, weights, counts):
    """First assignment with bounds for rows ``[start, stop)``, through GEMM.

    Fills what the bounded mode needs (the other is an empty array):
    ``lower`` (Hamerly: distance to the second nearest) or ``glb`` (Yinyang:
    to the nearest other centre of each group). ``upper`` is an upper bound on
    the distance to the assigned centre. (Elkan's first assignment uses the
    direct kernel: filling k bounds per row from the product was slower.)
    While each block is in cache it also writes the rows' squared norms
    ``x_sq`` (OUT) and adds the rows to ``sums``/``weights``/``counts``
    (INOUT, :func:`clusterlab._kernels.distances.add_row`, row order): no
    separate passes over X for them (measured 4 + 6 ms on 10^6 x 16 float32).
    """
    k = centers.shape[0]
    hamerly = lower.shape[0] > 0
    yinyang = glb.shape[0] > 0
    br, buf, m1, m2, j1, tie, dist, T = block_scratch(X, k)
    f1, f2, g1 = sweep32_scratch(br)
    for s in range(start, stop, br):
        e = min(stop, s + br)
        block = X[s:e]
        _row_sq_norms_range(X, s, e, x_sq)
        out = buf if e - s == br else np.empty((k, e - s), X.dtype)
        scan_block(block, e - s, x_sq[s:e], Cx, csq, consts, out, m1, m2, j1, tie, centers,
                   dist, f1, f2, g1, T, False, True)
        for r in range(e - s):
            add_row(X, sample_weight, s + r, j1[r], sums, weights, counts)
        if hamerly:  # a tight loop of its own: measured 1.5x faster than sharing it
            for r in range(e - s):
                i = s + r
                up = m1[r]
                lo = m2[r]
                labels[i] = j1[r]
                upper[i] = np.sqrt(up) if up > 0.0 else 0.0
                lower[i] = np.sqrt(lo) if lo > 0.0 else 0.0
            continue
        for r in range(e - s):
            i = s + r
            j = j1[r]
            up = m1[r]
            labels[i] = j
            upper[i] = np.sqrt(up) if up > 0.0 else 0.0
            if yinyang:
                # a non-finite value (overflow) gives the trivial bound 0
                delta, _ = approx_row(x_sq[i], out[:, r], csq, consts, dist)
                finite = _all_finite(dist, delta)
                for g in range(glb.shape[1]):
                    glb[i, g] = np.inf
                for jj in range(k):
                    if jj != j:
                        g = group_of[jj]
                        if dist[jj] < glb[i, g]:
                            glb[i, g] = dist[jj]
                for g in range(glb.shape[1]):
                    v = glb[i, g] - delta
                    glb[i, g] = np.sqrt(v) if finite and 0.0 < v < np.inf else 0.0


@parallel_kernel(cache=True, nogil=True)
def gemm_full_scan_groups(X, x_sq, sample_weight, centers, Cx, csq, consts, bounds, labels,
                          upper, lower, group_of, glb, g_sums, g_weights, g_counts):
    """:func:`gemm_full_scan_range` over row groups on numba's threads, each
    group's statistics into its own ``g_sums[g]``, ``g_weights[g]``, ``g_counts[g]``."""
    for g in nb.prange(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_counts[g] = 0
        gemm_full_scan_range(X, x_sq, sample_weight, centers, Cx, csq, consts, bounds[g],
                             bounds[g + 1], labels, upper, lower, group_of, glb, g_sums[g],
                             g_weights[g], g_counts[g])


# ----------------------------------------------------------------------------
# Hamerly re-scans: rows whose bounds failed, gathered and scanned by GEMM


@nb.njit(cache=True, nogil=True)
def gemm_rescan_rows(X, x_sq, rows, n_rows, centers, Cx, csq, consts, labels,
                     upper, lower, moved_from, sample_weight, sums, weights, counts):
    """Re-scan ``rows[:n_rows]`` against every centre (Hamerly), gathered in blocks.

    Updates ``labels``, ``upper``, ``lower`` and ``moved_from`` (old label of
    a relabelled row, else left as it is). Returns the number of relabelled rows.
    With ``sums`` of shape (k, d) (not (0, d)), each relabelled row's
    contribution is also moved between ``sums``/``weights``/``counts``
    (:func:`clusterlab._kernels.distances.move_row`, row order) while the row
    is in cache: no separate pass over the moved rows.
    """
    k, d = centers.shape
    br, buf, m1, m2, j1, tie, dist, T = block_scratch(X, k)
    f1, f2, g1 = sweep32_scratch(br)
    block = np.empty((br, d), X.dtype)
    xsq = np.empty(br)
    n_changed = 0
    for s in range(0, n_rows, br):
        e = min(n_rows, s + br)
        m = e - s
        for r in range(m):
            if s + r + GATHER_AHEAD < n_rows:  # scattered rows: prefetched
                ahead = rows[s + r + GATHER_AHEAD]
                prefetch_row(X, ahead)
                prefetch_row(x_sq, ahead)
            i = rows[s + r]
            xsq[r] = x_sq[i]
            for f in range(d):
                block[r, f] = X[i, f]
        blk = block[:m]
        out = buf if m == br else np.empty((k, m), X.dtype)
        scan_block(blk, m, xsq, Cx, csq, consts, out, m1, m2, j1, tie, centers, dist, f1, f2,
                   g1, T, False, True)
        n_changed += _store_block(X, rows[s:e], m, j1, m1, m2, labels, upper, lower,
                                  moved_from, sample_weight, sums, weights, counts)
    return n_changed


@nb.njit(cache=True, nogil=True, inline="always")
def _store_block(X, idx, m, j1, m1, m2, labels, upper, lower, moved_from, sample_weight, sums,
                 weights, counts):
    # store_rescan for the m rows idx[:m] of a re-scanned block, moving the
    # relabelled rows' statistics when sums is (k, d)
    n_changed = 0
    fuse = sums.shape[0] > 0
    for r in range(m):
        i = idx[r]
        b = labels[i]
        changed = store_rescan(i, j1[r], m1[r], m2[r], labels, upper, lower, moved_from)
        if fuse and changed:
            move_row(X, sample_weight, i, b, j1[r], sums, weights, counts)
        n_changed += changed
    return n_changed


@nb.njit(cache=True, nogil=True)
def gemm_rescan_span(X, x_sq, start, stop, centers, Cx, csq, consts, labels, upper, lower,
                     moved_from, sample_weight, sums, weights, counts):
    """:func:`gemm_rescan_rows` for every row of ``[start, stop)``, read in place
    (no gather): when nearly every row of a range fails its bounds, scanning
    the few that pass too costs less than gathering the others (16 float32
    features against 64 centres, 2 threads: 10^6 rows in place 20.6 ms,
    the 98 % of them that failed gathered 22.2 ms)."""
    k = centers.shape[0]
    br, buf, m1, m2, j1, tie, dist, T = block_scratch(X, k)
    f1, f2, g1 = sweep32_scratch(br)
    n_changed = 0
    for s in range(start, stop, br):
        e = min(stop, s + br)
        m = e - s
        out = buf if m == br else np.empty((k, m), X.dtype)
        scan_block(X[s:e], m, x_sq[s:e], Cx, csq, consts, out, m1, m2, j1, tie, centers, dist,
                   f1, f2, g1, T, False, True)
        n_changed += _store_block(X, np.arange(s, e), m, j1, m1, m2, labels, upper, lower,
                                  moved_from, sample_weight, sums, weights, counts)
    return n_changed


@nb.njit(cache=True, nogil=True, inline="always")
def store_rescan(i, j, up_sq, lo_sq, labels, upper, lower, moved_from):
    """Write one re-scanned row (Hamerly): nearest centre ``j``, bounds from
    the squared distances ``up_sq`` / ``lo_sq`` (a negative lower bound gives
    0), ``moved_from[i]`` = the old label if it changed. Returns 1 if it did.

    Branch-free on purpose: with a branch (``if j == a: return 0``) numba
    could not prune the reference counting of the four arrays once this was
    inlined, and the loops storing re-scanned rows made eight atomic
    increments/decrements per row (22.5 -> 3.9 ns per row, one thread)."""
    upper[i] = np.sqrt(max(up_sq, 0.0))
    lower[i] = np.sqrt(max(lo_sq, 0.0))
    a = labels[i]
    changed = np.int32(j != a)
    labels[i] = j
    old = moved_from[i]
    moved_from[i] = old + changed * (a - old)
    return changed
