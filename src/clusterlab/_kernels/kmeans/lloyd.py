"""Lloyd's algorithm on dense rows: one E-step with the M-step statistics per pass.

:func:`lloyd_stats` dispatches a pass to the direct kernel, the columnar one
(few features) or the BLAS one (:mod:`clusterlab._kernels.gemm`, when the
caller passes squared row norms); :func:`lloyd_run` is the iteration loop;
:func:`kmeans_partial_stats` is the per-chunk pass of the Dask path.
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

from clusterlab._kernels.distances import (
    FASTMATH,
    _nearest_center_parallel,
    nearest_center_range,
    nearest_of_row,
    sq_dist_rows,
)
from clusterlab._kernels.gemm.blocks import (
    gemm_operands,
    row_sq_norms,
)
from clusterlab._kernels.gemm.passes import (
    gemm_lloyd_groups,
)
from clusterlab._kernels.kmeans.columnar import (
    _lloyd_stats_columnar,
    columnar_nearest,
    columnar_pays,
)
from clusterlab._kernels.kmeans.common import (
    _reduce_groups,
    _sq_dist_to_assigned_groups,
    _sq_dist_to_assigned_range,
    average_centers,
    inertia_from_sums,
    convergence,
    relocate_empty_clusters,
    weighted_inertia,
)
from clusterlab._kernels.kmeans.sums import _clear_emptied
from clusterlab._kernels.row_groups import on_threads

@nb.njit(cache=True, nogil=True)
def lloyd_stats_range(X, sample_weight, centers, start, stop, labels, min_sq_dist, sums,
                      weights, estimates=True):
    """Assign rows ``[start, stop)`` and accumulate their statistics (serial).

    Parameters
    ----------
    X : IN (n, d) float32/float64
    sample_weight : IN (n,) float
    centers : IN (k, d) float
    start, stop : IN int
    labels : OUT (n,) int32, rows ``[start, stop)``
    min_sq_dist : OUT (n,) float64, squared distance to the assigned centre
    sums : INOUT (k, d) float64, ``+= w_i x_i`` per assigned cluster
    weights : INOUT (k,) float64, ``+= w_i`` per assigned cluster
    estimates : IN bool, default True: False lets the two-centre kernel leave
        ``min_sq_dist`` untouched and return 0.0 (the others fill both anyway)

    Returns
    -------
    inertia : float64, sum of ``w_i * min_sq_dist[i]`` over the range
    """
    if columnar_pays(X.shape[1], centers.shape[0]):
        return _lloyd_stats_columnar(X, sample_weight, centers, start, stop, labels,
                                     min_sq_dist, sums, weights)
    if centers.shape[0] == 2:
        return _lloyd_stats_two(X, sample_weight, centers, start, stop, labels, min_sq_dist,
                                sums, weights, estimates)
    return _lloyd_stats_direct(X, sample_weight, centers, start, stop, labels, min_sq_dist,
                               sums, weights)


@nb.njit(cache=True, nogil=True)
def _lloyd_stats_direct(X, sample_weight, centers, start, stop, labels, min_sq_dist, sums,
                        weights):
    """:func:`lloyd_stats_range` where the columnar blocks do not pay (:func:`columnar_pays`)
    (row by row, :func:`nearest_of_row`)."""
    k = centers.shape[0]
    d = X.shape[1]
    inertia = 0.0
    dists = np.empty(k)
    for i in range(start, stop):
        best, best_d = nearest_of_row(X, i, centers, dists)
        labels[i] = best
        min_sq_dist[i] = best_d
        w = np.float64(sample_weight[i])
        weights[best] += w
        inertia += w * best_d
        for f in range(d):
            sums[best, f] += w * X[i, f]
    return inertia


#: rows per block of :func:`_lloyd_stats_two` (its sides array)
_TWO_BLOCK = 256
_U64 = 2.0 ** -53
_TINY64 = 2.2250738585072014e-308


@nb.njit(cache=True, nogil=True)
def _lloyd_stats_two(X, sample_weight, centers, start, stop, labels, min_sq_dist, sums,
                     weights, estimates):
    """:func:`_lloyd_stats_direct` for two centres, the same outputs bit for bit
    (the bisections of :class:`~clusterlab.BisectingKMeans` run millions of these rows).

    Each block's sides come first (:func:`_two_sides`, vectorised): a row is
    nearer ``c1`` exactly when ``x . (c1 - c0)`` exceeds ``t = (||c1||^2 -
    ||c0||^2) / 2``. Where that difference is beyond its error bound, the sign
    is the one :func:`_lloyd_stats_direct`'s distances give; rows within it
    (ties, or values that overflow) take :func:`nearest_of_row`'s answer, as
    there. Then, row by row in order as there, the statistics and, with
    ``estimates``, the squared distance to the chosen centre
    (:func:`sq_dist_rows`, the one :func:`nearest_of_row` returns for two
    centres) and the inertia; without, ``min_sq_dist`` is left as it is and
    the pass returns 0.0 (Lloyd's loop needs them only to print its progress
    or to relocate an emptied cluster, and then computes them).
    """
    d = X.shape[1]
    c0 = centers[0]
    c1 = centers[1]
    w_dir = np.empty(d)
    n0 = 0.0
    n1 = 0.0
    for f in range(d):
        w_dir[f] = np.float64(c1[f]) - np.float64(c0[f])
        n0 += np.float64(c0[f]) * np.float64(c0[f])
        n1 += np.float64(c1[f]) * np.float64(c1[f])
    half = 0.5 * (n1 - n0)
    c_max = np.sqrt(max(n0, n1)) * (1.0 + 4.0 * _U64)
    # |computed - exact| of both the side test and the direct distances'
    # comparison is within 3 gamma_(d+3) (||x|| + c_max)^2; twice that for safety
    gamma = (d + 3) * _U64 / (1.0 - (d + 3) * _U64)
    coef = 6.0 * gamma * (1.0 + 4.0 * _U64)
    floor = 4.0 * (d + 2) * _TINY64
    side = np.empty(_TWO_BLOCK, np.int8)
    dists = np.empty(2)
    inertia = 0.0
    for s in range(start, stop, _TWO_BLOCK):
        e = min(stop, s + _TWO_BLOCK)
        _two_sides(X, s, e, w_dir, half, c_max, coef, floor, side)
        for i in range(s, e):
            best = np.int64(side[i - s])
            if best < 0:
                best, best_d = nearest_of_row(X, i, centers, dists)
            elif estimates:
                best_d = sq_dist_rows(X, i, centers, best)
            labels[i] = best
            w = np.float64(sample_weight[i])
            weights[best] += w
            if estimates:
                min_sq_dist[i] = best_d
                inertia += w * best_d
            for f in range(d):
                sums[best, f] += w * X[i, f]
    return inertia


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def _two_sides(X, s, e, w_dir, half, c_max, coef, floor, side):
    """``side[i - s]``, rows ``[s, e)``: 1 where ``x . w_dir - half`` is above
    ``coef (||x|| + c_max)^2 + floor``, 0 where below its negative, -1 in
    between (or when a value is not finite): see :func:`_lloyd_stats_two`.
    The sums may be reassociated (any order is within the bound)."""
    for i in range(s, e):
        x = X[i]  # a row view: no negative-index wraparound in the loop, which vectorises
        dot = 0.0
        sq = 0.0
        for f in range(x.shape[0]):
            v = np.float64(x[f])
            dot += v * w_dir[f]
            sq += v * v
        diff = dot - half
        r = np.sqrt(sq) + c_max
        margin = coef * r * r + floor
        # 2 above + below - 1 (1, 0 or -1) without a branch: overlapping
        # clusters put half the rows on each side, which a branch mispredicts
        side[i - s] = 2 * np.int8(diff > margin) + np.int8(-diff > margin) - 1


@parallel_kernel(cache=True, nogil=True)
def _lloyd_stats_groups(X, sample_weight, centers, bounds, labels, min_sq_dist, g_sums,
                        g_weights, g_inertia, estimates):
    n_groups = bounds.shape[0] - 1
    for g in nb.prange(n_groups):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_inertia[g] = lloyd_stats_range(X, sample_weight, centers, bounds[g], bounds[g + 1],
                                         labels, min_sq_dist, g_sums[g], g_weights[g],
                                         estimates)


def _two_centre_pass(d, k):
    """Whether :func:`lloyd_stats_range` runs :func:`_lloyd_stats_two` for ``d``
    features and ``k`` centres (from Python)."""
    return k == 2 and not columnar_pays.py_func(d, k)


def lloyd_stats(X, sample_weight, centers, bounds, labels, min_sq_dist, sums, weights,
                g_sums, g_weights, g_inertia, parallel, x_sq=None, running=None, tiles=None,
                estimates=True):
    """One Lloyd E-step with the M-step statistics, over row groups.

    A plain Python dispatcher: it calls the serial or the parallel kernel, so
    numba compiles only the one a fit uses (a parallel kernel called from a
    jitted function is compiled with it even when the branch never runs).

    Parameters
    ----------
    X : IN (n, d) float32/float64
    sample_weight : IN (n,) float
    centers : IN (k, d) float
    bounds : IN (G + 1,) int64, row groups
    labels : OUT (n,) int32
    min_sq_dist : OUT (n,) float64
    sums : OUT (k, d) float64, weighted sum of the rows of each cluster
    weights : OUT (k,) float64, total weight of each cluster
    g_sums : scratch (G, k, d) float64 (unused when G == 1)
    g_weights : scratch (G, k) float64
    g_inertia : scratch (G,) float64
    parallel : IN bool, run the groups on threads (same result either way)
    x_sq : IN (n,) float64 or None, default None, squared row norms: when
        given, the distances go through BLAS (:mod:`clusterlab._kernels.gemm`:
        same labels; ``min_sq_dist`` within its error bound instead of exact;
        BLAS must be single-threaded when ``parallel``)
    running : tuple or None, default None, with ``x_sq`` only:
        ``(counts, g_counts, delta)``, counts (k,) int64 of non-zero-weight
        rows per cluster and its (G, k) scratch. With ``delta`` true,
        ``labels``/``sums``/``weights``/``counts`` hold the previous labels
        and their statistics on entry and only the rows whose label changed
        are moved (:func:`clusterlab._kernels.gemm.passes.gemm_lloyd_range`;
        a cluster left without rows gets exactly zero sums); else they are
        recomputed from scratch.
    tiles : tuple or None, default None, with ``x_sq`` only: ``(XT, mode)``,
        a flat (n * d,) array in X's dtype for X transposed block by block and
        whether this pass fills it (1) or reads it (2) (see
        :func:`clusterlab._kernels.gemm.passes.gemm_lloyd_range`); None: each
        block is copied into scratch.
    estimates : bool, default True: fill ``min_sq_dist`` and return the
        inertia; else the BLAS pass and the two-centre kernel
        (:func:`_lloyd_stats_two`) do neither (and return 0.0), the others
        fill both anyway.

    Returns
    -------
    inertia : float64, w.r.t. ``centers``

    Notes
    -----
    Time O(n k d); memory O(G k d) scratch, owned by the caller.
    """
    if x_sq is not None:
        if running is None:
            running = (np.zeros(weights.shape[0], np.int64),
                       np.empty((bounds.shape[0] - 1, weights.shape[0]), np.int64), False)
        counts, g_counts, delta = running
        XT, mode = (np.empty(0, X.dtype), 0) if tiles is None else tiles
        ops = gemm_operands(X, centers)
        kernel = on_threads(gemm_lloyd_groups, parallel)
        kernel(X, XT, mode, x_sq, sample_weight, centers, *ops, bounds, labels, min_sq_dist,
               g_sums, g_weights, g_counts, g_inertia, delta, estimates)
        if delta:  # running statistics + the group deltas, in group order
            sums += np.sum(g_sums, axis=0)
            weights += np.sum(g_weights, axis=0)
            counts += np.sum(g_counts, axis=0)
            _clear_emptied(sums, weights, counts)
        else:
            _reduce_groups(g_sums, sums)
            _reduce_groups(g_weights, weights)
            _reduce_groups(g_counts, counts)
        return float(np.sum(g_inertia))
    sums[:] = 0.0
    weights[:] = 0.0
    if bounds.shape[0] == 2:
        # lloyd_stats_range's choice, made from Python: numba compiles only the
        # kernel this shape runs (lloyd_stats_range, jitted, would compile all three)
        n = X.shape[0]
        if columnar_pays.py_func(X.shape[1], centers.shape[0]):
            return _lloyd_stats_columnar(X, sample_weight, centers, 0, n, labels,
                                         min_sq_dist, sums, weights)
        if _two_centre_pass(X.shape[1], centers.shape[0]):
            return _lloyd_stats_two(X, sample_weight, centers, 0, n, labels, min_sq_dist,
                                    sums, weights, estimates)
        return _lloyd_stats_direct(X, sample_weight, centers, 0, n, labels, min_sq_dist, sums,
                                   weights)
    else:
        kernel = on_threads(_lloyd_stats_groups, parallel)
        kernel(X, sample_weight, centers, bounds, labels, min_sq_dist, g_sums, g_weights,
               g_inertia, estimates)
    _reduce_groups(g_sums, sums)
    _reduce_groups(g_weights, weights)
    return float(np.sum(g_inertia))


def kmeans_partial_stats(X, sample_weight, centers, chunk, parallel=True):
    """Per-chunk K-Means statistics: what a distributed Lloyd step reduces.

    Parameters
    ----------
    X : IN (n, d) float32/float64, one chunk of rows
    sample_weight : IN (n,) float
    centers : IN (k, d) float
    chunk : IN int, rows per parallel group inside this call
    parallel : IN bool, default True, run the groups on threads (same result either way)

    Returns
    -------
    sums : (k, d) float64, ``sum_i w_i x_i`` over rows assigned to each centre
    weights : (k,) float64, ``sum_i w_i`` per centre
    inertia : float64, ``sum_i w_i ||x_i - c_{label_i}||^2``
    labels : (n,) int32, nearest centre of each row

    Notes
    -----
    Time O(n k d), memory O(ceil(n / chunk) k d) scratch. Summing ``sums``,
    ``weights`` and ``inertia`` over chunks (in a fixed order) and dividing
    gives the next Lloyd centres.
    """
    n = X.shape[0]
    k, d = centers.shape
    chunk = max(1, chunk)
    n_groups = max(1, (n + chunk - 1) // chunk)
    bounds = np.empty(n_groups + 1, np.int64)
    bounds[:] = np.minimum(np.arange(n_groups + 1) * chunk, n)
    labels = np.empty(n, np.int32)
    min_sq = np.empty(n, np.float64)
    sums = np.zeros((k, d), np.float64)
    weights = np.zeros(k, np.float64)
    g_sums = np.empty((n_groups, k, d), np.float64)
    g_weights = np.empty((n_groups, k), np.float64)
    g_inertia = np.empty(n_groups, np.float64)
    inertia = lloyd_stats(X, sample_weight, centers, bounds, labels, min_sq, sums, weights,
                          g_sums, g_weights, g_inertia, parallel)
    return sums, weights, inertia, labels


def lloyd_run(X, sample_weight, centers_init, bounds, chunk, max_iter, tol, verbose, labels,
              centers_out, parallel, use_gemm=False, tiled=False):
    """One complete Lloyd K-Means run from ``centers_init``.

    The loop is plain Python around one jitted pass per iteration (a few
    microseconds of call overhead per iteration), so numba compiles only the
    kernels this run uses: the serial ones on small data, the parallel ones
    when ``parallel``.

    Parameters
    ----------
    X : IN (n, d) float32/float64
    sample_weight : IN (n,) float
    centers_init : IN (k, d) float64
    bounds : IN (G + 1,) int64, row groups
    chunk : IN int, rows per parallel task for the final assignment
    max_iter : IN int; tol : IN float (absolute, already scaled)
    verbose : IN int
    labels : OUT (n,) int32
    centers_out : OUT (k, d) float64
    parallel : IN bool, run row groups on threads (same result either way)
    use_gemm : IN bool, default False, distances through BLAS (see :func:`lloyd_stats`)
    tiled : IN bool, default False, with ``use_gemm``: keep X transposed block by
        block (a copy the size of X, made by the first pass while it copies the
        blocks anyway), so that later passes skip that copy

    Returns
    -------
    inertia : float64; n_iter : int

    Notes
    -----
    Time O(n k d) per iteration; memory O(n + G k d), plus O(n d) with ``tiled``.
    """
    n, d = X.shape
    k = centers_init.shape[0]
    centers = centers_init.copy()
    centers_new = np.empty_like(centers)
    labels_old = np.full(n, -1, np.int32)
    x_sq = row_sq_norms(X, bounds, parallel) if use_gemm else None
    min_sq = np.empty(n, np.float64)
    sums = np.zeros((k, d))
    weights = np.zeros(k)
    shift = np.zeros(k)
    n_groups = bounds.shape[0] - 1
    g_sums = np.empty((n_groups, k, d))
    g_weights = np.empty((n_groups, k))
    g_inertia = np.empty(n_groups)
    # on BLAS with float32 rows: running statistics, moved by the rows that
    # changed label (a full recount on the first pass and after a
    # relocation). Their float64 centres differ from the direct path's in
    # the last bits (another order of the same sums), equal once rounded to
    # float32; float64 rows keep full recounts, bit for bit the direct path's.
    running = X.dtype == np.float32
    counts = np.zeros(k, np.int64)
    g_counts = np.empty((n_groups, k), np.int64)
    delta = False
    strict = False
    tiles = None  # (XT, 1): the next pass writes X's tiles into XT; (XT, 2): it reads them
    if use_gemm and tiled:
        try:  # a speed choice: without the memory, each pass copies its blocks
            tiles = (np.empty(n * d, X.dtype), 1)
        except MemoryError:
            pass
    # the passes leave exact distances in min_sq on the direct paths, except
    # the two-centre kernel without verbose (none) and BLAS (estimates)
    exact_min_sq = x_sq is None and (bool(verbose) or not _two_centre_pass(d, k))
    it = 0
    for it in range(max_iter):
        inertia = lloyd_stats(X, sample_weight, centers, bounds, labels, min_sq, sums,
                              weights, g_sums, g_weights, g_inertia, parallel, x_sq,
                              (counts, g_counts, delta), tiles, bool(verbose))
        if tiles is not None:
            tiles = (tiles[0], 2)
        delta = running
        if not weights.all():
            if not exact_min_sq:  # choose the rows to move from exact distances
                if parallel:
                    _sq_dist_to_assigned_groups(X, centers, labels, bounds, min_sq)
                else:
                    _sq_dist_to_assigned_range(X, centers, labels, 0, n, min_sq)
            if relocate_empty_clusters(X, sample_weight, labels, min_sq, sums, weights) > 0:
                delta = False  # the sums no longer match the labels
        shift_tot = average_centers(sums, weights, centers, centers_new, shift)
        if verbose:
            print(f"Iteration {it}, inertia {inertia}.")  # as scikit-learn's lloyd
        centers, centers_new = centers_new, centers
        stop = convergence(it, np.array_equal(labels, labels_old), shift_tot, tol, verbose)
        if stop:
            strict = stop == "strict"
            break
        labels_old[:] = labels
    if not strict:
        if x_sq is not None:
            # the fused BLAS pass labels the rows (exact labels) and sums them
            # for those labels: 2x faster than the direct nearest-centre pass
            # on 60000 x 784, k=10, no other kernel to compile, and the
            # inertia then comes from the sums (no pass over X) unless that
            # would cancel (inertia_from_sums)
            lloyd_stats(X, sample_weight, centers, bounds, labels, min_sq, sums, weights,
                        g_sums, g_weights, g_inertia, parallel, x_sq, (counts, g_counts, delta),
                        tiles, False)
            inertia = inertia_from_sums(float(np.sum(sample_weight * x_sq)), sums, weights,
                                        centers)
            if inertia is not None:
                centers_out[:] = centers
                return inertia, it + 1
        elif parallel:
            _nearest_center_parallel(X, centers, chunk, labels, min_sq)
        elif columnar_pays.py_func(d, k):
            # the kernel of the passes (KMeans.predict's on few rows too): nothing
            # more to compile, the same distances as the bounded algorithms'
            columnar_nearest(X, centers, labels, min_sq)
        else:
            nearest_center_range(X, centers, 0, n, labels, min_sq)
    centers_out[:] = centers
    return weighted_inertia(X, sample_weight, centers, labels, bounds, parallel), it + 1
