"""The shared driver of the bound-accelerated exact algorithms (Hamerly, Elkan, Yinyang).

:func:`bounded_run` runs the iterations (``mode`` 0 Hamerly, 1 Elkan, 2
Yinyang): a first full scan that sets the bounds, then per iteration the
centre update, the shifts, one bounded E-step (:func:`_bounded_estep`) and the
incremental sums. The sequence of labels and centres is Lloyd's.
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

from clusterlab._kernels.distances import (
    center_distances,
    center_half_min,
    sq_dist_row_to_all,
)
from clusterlab._kernels.gemm.blocks import (
    gemm_operands,
    row_sq_norms,
)
from clusterlab._kernels.gemm.passes import (
    gemm_full_scan_groups,
)
from clusterlab._kernels.kmeans.columnar import (
    COLUMNAR_MAX_FEATURES,
    columnar_pays,
    _full_scan_columnar,
)
from clusterlab._kernels.kmeans.common import (
    _NO_WEIGHTS,
    _reduce_groups,
    _sq_dist_to_assigned_groups,
    _sq_dist_to_assigned_range,
    _two_largest,
    average_centers,
    convergence,
    inertia_from_sums,
    relocate_empty_clusters,
    weighted_inertia,
)
from clusterlab._kernels.kmeans.elkan import (
    ELKAN_GEMM_FIRST_MIN_FEATURES,
    _NO_C32,
    _NO_CERR,
    _elkan_assign_groups,
    elkan_assign_range,
    elkan_first_interval,
    float32_sum_gamma,
    interval_centers,
    interval_rows,
)
from clusterlab._kernels.kmeans.hamerly import (
    _gemm_hamerly_groups,
    _hamerly_assign_groups,
    hamerly_assign_range,
    mover_bounds,
)
from clusterlab._kernels.kmeans.sums import (
    _apply_group_moves,
    _move_rows,
    cluster_sums,
    moves_pay_by_group,
)
from clusterlab._kernels.kmeans.yinyang import (
    _group_max_shift,
    _yinyang_assign_groups,
    _yinyang_init_groups,
    _yinyang_init_range,
    yinyang_assign_range,
)
from clusterlab._kernels.row_groups import on_threads

@nb.njit(cache=True, nogil=True)
def _full_scan_range(X, centers, start, stop, labels, upper, lower, lb):
    """Initial assignment with bounds for rows ``[start, stop)``.

    Hamerly (``lb.shape[0] == 0``): ``lower`` = distance to the second nearest.
    Elkan: ``lb[i, j]`` = distance to every centre.
    """
    if columnar_pays(X.shape[1], centers.shape[0]):
        _full_scan_columnar(X, centers, start, stop, labels, upper, lower, lb)
        return
    k = centers.shape[0]
    elkan = lb.shape[0] > 0
    dists = np.empty(k)
    for i in range(start, stop):
        d1 = np.inf
        d2 = np.inf
        j1 = 0
        sq_dist_row_to_all(X, i, centers, dists)
        for j in range(k):
            dist = dists[j]
            if elkan:
                lb[i, j] = np.sqrt(dist)
            if dist < d1:
                d2 = d1
                d1 = dist
                j1 = j
            elif dist < d2:
                d2 = dist
        labels[i] = j1
        upper[i] = np.sqrt(d1)
        if not elkan:
            lower[i] = np.sqrt(d2)


@parallel_kernel(cache=True, nogil=True)
def _full_scan_groups(X, centers, bounds, labels, upper, lower, lb):
    for g in nb.prange(bounds.shape[0] - 1):
        _full_scan_range(X, centers, bounds[g], bounds[g + 1], labels, upper, lower, lb)


def bounded_run(mode, X, sample_weight, centers_init, bounds, max_iter, tol, verbose,
                labels, centers_out, parallel, group_of, members, group_start, use_gemm=False,
                gemm_rescan=None, *, interval_copy_bytes, tighten_min_pass):
    """One complete exact K-Means run with Hamerly (``mode=0``), Elkan (``mode=1``) or
    Yinyang (``mode=2``) bounds.

    Same labels, centres and iteration count as :func:`lloyd_run` (up to
    floating-point rounding of near ties). A Python loop around one jitted
    pass per step, so only the kernels of this mode (and of the serial or the
    parallel path) are ever compiled.

    Parameters
    ----------
    mode : IN int, 0 Hamerly, 1 Elkan, 2 Yinyang
    X : IN (n, d) float32/float64
    sample_weight : IN (n,) float
    centers_init : IN (k, d) float64
    bounds : IN (G + 1,) int64
    max_iter : IN int; tol : IN float; verbose : IN int
    labels : OUT (n,) int32
    centers_out : OUT (k, d) float64
    parallel : IN bool, run row groups on threads (same result either way)
    group_of, members, group_start : IN int64 arrays, the centre groups of
        Yinyang (see :func:`yinyang_assign_range`); ignored by the other modes
    use_gemm : IN bool, default False, do the first assignment (Hamerly,
        Yinyang) and Hamerly's re-scans through BLAS
        (:mod:`clusterlab._kernels.gemm`; same labels; BLAS must be
        single-threaded when ``parallel``)
    gemm_rescan : IN bool or None, default None (= ``use_gemm``), whether
        Hamerly's re-scans go through BLAS too (gathering rows pays only with
        enough centres)

    Returns
    -------
    inertia : float64; n_iter : int

    Notes
    -----
    Yinyang: memory O(n Gc) for the group bounds; rows are skipped with one
    comparison per group, and scanned only in the groups that may hold a
    closer centre (no O(k^2 d) centre-distance matrix).
    Hamerly: memory O(n + G k d); an iteration costs O(n) bound updates plus
    O(k d) per examined row plus O(d) per relabelled row, plus O(k^2 d).
    Elkan: memory O(n k) for the lower bounds, plus the 16-bit copy of X
    (2 n d bytes, within ``interval_copy_bytes``) its distance
    intervals read.
    """
    n, d = X.shape
    k = centers_init.shape[0]
    n_groups = bounds.shape[0] - 1
    parallel = bool(parallel) and n_groups > 1
    centers = centers_init.copy()
    centers_new = np.empty_like(centers)
    upper = np.empty(n)
    lower = np.empty(n if mode == 0 else 0)
    lb = np.empty((n if mode == 1 else 0, k))
    n_cg = group_start.shape[0] - 1
    glb = np.empty((n if mode == 2 else 0, n_cg))
    group_shift = np.zeros(n_cg)
    moved_from = np.full(n, -1, np.int32)
    sums = np.zeros((k, d))
    weights = np.zeros(k)
    counts = np.zeros(k, np.int64)
    g_sums = np.empty((n_groups, k, d))
    g_weights = np.empty((n_groups, k))
    g_counts = np.empty((n_groups, k), np.int64)
    g_changed = np.zeros(n_groups, np.int64)
    shift = np.zeros(k)
    cc = np.empty((k, k) if mode == 1 else (0, 0))
    half_min = np.empty(k)
    min_sq = None

    rows = np.empty(n if mode == 0 else 0, np.int64)
    if gemm_rescan is None:
        gemm_rescan = use_gemm
    # Only Hamerly re-scans through BLAS; Elkan's k lower bounds per row come
    # faster from the direct first scan (measured 1.7x slower through BLAS on
    # 10^5 x 32, k=1000), so Elkan never needs the row norms.
    gemm_rescan = gemm_rescan and mode == 0
    elkan_gemm_first = use_gemm and mode == 1 and d >= ELKAN_GEMM_FIRST_MIN_FEATURES
    use_gemm = use_gemm and mode != 1
    # the BLAS first assignment writes the row norms (and the cluster sums)
    x_sq = (np.empty(n) if use_gemm else row_sq_norms(X, bounds, parallel) if gemm_rescan
            else None)
    x_sq_rescan = x_sq if gemm_rescan else None
    # Elkan with float32 distance intervals over a 16-bit copy of the rows
    # (written by the first assignment as it reads each row) within the
    # budget, else over float32 rows as they are; float64 rows beyond the
    # budget: float64 distances.
    irows = None
    if mode == 1 and d > COLUMNAR_MAX_FEATURES:
        irows = interval_rows(X, interval_copy_bytes)
        fill = irows is not None
        if irows is None and X.dtype == np.float32:
            irows = (X, _NO_CERR, 0.0, 1.0)
    if irows is not None:
        X32, xerr, offset, scale = irows
        x_sq = np.empty(n)
        elkan_first_interval(X, X32, xerr, centers, bounds, labels, upper, lb,
                             sample_weight, sums, weights, counts, g_sums, g_weights,
                             g_counts, parallel, fill, offset, scale, elkan_gemm_first, x_sq)
    elif use_gemm:
        ops = gemm_operands(X, centers)
        scan = on_threads(gemm_full_scan_groups, parallel)
        scan(X, x_sq, sample_weight, centers, *ops, bounds, labels, upper, lower, group_of, glb,
             g_sums, g_weights, g_counts)
        _reduce_groups(g_sums, sums)
        _reduce_groups(g_weights, weights)
        _reduce_groups(g_counts, counts)
    elif mode == 2:
        if parallel:
            _yinyang_init_groups(X, centers, group_of, n_cg, bounds, labels, upper, glb)
        else:
            _yinyang_init_range(X, centers, group_of, n_cg, 0, n, labels, upper, glb)
    elif parallel:
        _full_scan_groups(X, centers, bounds, labels, upper, lower, lb)
    else:
        _full_scan_range(X, centers, 0, n, labels, upper, lower, lb)
    if irows is None and not use_gemm:
        cluster_sums(X, sample_weight, labels, bounds, sums, weights, counts, g_sums,
                     g_weights, g_counts, parallel)
    # Hamerly's BLAS re-scans move the relabelled rows' statistics per row
    # group themselves (the row is in cache) whenever the grouped moves are
    # what _move_rows would do (moves_pay_by_group, a function of the data
    # only): the same sums, bit for bit
    fuse_moves = (x_sq_rescan is not None and mode == 0
                  and moves_pay_by_group(n, d, n_groups, k, 0))
    moves = (sample_weight, g_sums, g_weights, g_counts) if fuse_moves else None

    def move(n_changed):
        if fuse_moves:
            _apply_group_moves(sums, weights, counts, g_sums, g_weights, g_counts)
        else:
            _move_rows(X, sample_weight, labels, moved_from, bounds, n_changed, sums, weights,
                       counts, g_sums, g_weights, g_counts, parallel)

    n_changed = n
    need_full_sums = False
    strict = False
    it = 0
    for it in range(max_iter):
        if it > 0:
            n_changed = _bounded_estep(mode, X, centers, half_min, cc, shift, bounds, labels,
                                       upper, lower, lb, moved_from, g_changed, parallel,
                                       group_of, members, group_start, glb, group_shift,
                                       rows, x_sq_rescan, irows, moves, tighten_min_pass)
            if need_full_sums or n_changed * 8 > n:
                cluster_sums(X, sample_weight, labels, bounds, sums, weights, counts, g_sums,
                             g_weights, g_counts, parallel)
                need_full_sums = False
            elif n_changed > 0:
                move(n_changed)
        # clusters whose points all have zero weight are empty too
        if not weights.all():
            if min_sq is None:
                min_sq = np.empty(n)
            if parallel:
                _sq_dist_to_assigned_groups(X, centers, labels, bounds, min_sq)
            else:
                _sq_dist_to_assigned_range(X, centers, labels, 0, n, min_sq)
            if relocate_empty_clusters(X, sample_weight, labels, min_sq, sums, weights) > 0:
                need_full_sums = True  # sums no longer match the labels
        shift_tot = average_centers(sums, weights, centers, centers_new, shift)
        if verbose:
            print(f"Iteration {it}, inertia "
                  f"{weighted_inertia(X, sample_weight, centers, labels, bounds, parallel)}")
        centers, centers_new = centers_new, centers
        stop = convergence(it, it > 0 and n_changed == 0, shift_tot, tol, verbose)
        if stop:
            strict = stop == "strict"
            break
    # the inertia from the cluster sums (kept for the final labels) when the
    # rows' squared norms are known: no pass over X
    by_sums = x_sq is not None and not need_full_sums
    if not strict:
        n_changed = _bounded_estep(mode, X, centers, half_min, cc, shift, bounds, labels,
                                   upper, lower, lb, moved_from, g_changed, parallel, group_of,
                                   members, group_start, glb, group_shift, rows, x_sq_rescan,
                                   irows, moves, tighten_min_pass)
        if by_sums and n_changed > 0:
            move(n_changed)
    centers_out[:] = centers
    inertia = None
    if by_sums:
        # np.sum (pairwise), not np.dot: BLAS's order depends on its threads
        inertia = inertia_from_sums(float(np.sum(sample_weight * x_sq)), sums, weights, centers)
    if inertia is None:
        inertia = weighted_inertia(X, sample_weight, centers, labels, bounds, parallel)
    return inertia, it + 1


def _bounded_estep(mode, X, centers, half_min, cc, shift, bounds, labels, upper, lower, lb,
                   moved_from, g_changed, parallel, group_of, members, group_start, glb,
                   group_shift, rows, x_sq, irows=None, moves=None,
                   tighten_min_pass=0.0):
    # tighten_min_pass: Hamerly's tightening threshold with BLAS re-scans
    # (KMeansPlan.tighten_min_pass); moves: (sample_weight, g_sums, g_weights, g_counts) to move the
    # relabelled rows' statistics per row group during Hamerly's BLAS
    # re-scans (then apply them with _apply_group_moves), or None
    n = X.shape[0]
    if mode == 2:
        _group_max_shift(shift, group_of, group_shift)
        if not parallel:
            return yinyang_assign_range(X, centers, shift, group_shift, group_of, members,
                                        group_start, 0, n, labels, upper, glb, moved_from)
        _yinyang_assign_groups(X, centers, shift, group_shift, group_of, members, group_start,
                               bounds, labels, upper, glb, moved_from, g_changed)
        return int(g_changed.sum())
    if mode == 0:
        center_half_min(centers, half_min)
        s1, a1, s2 = _two_largest(shift)
        mover_tab = mover_bounds(centers, shift, half_min, s1, a1, s2)
        if x_sq is not None:
            ops = gemm_operands(X, centers)
            # a re-scan costs about k / 64 times more with more centres
            min_pass = tighten_min_pass * min(1.0, 64.0 / centers.shape[0])
            if moves is None:
                d = X.shape[1]
                moves = (_NO_WEIGHTS, np.empty((g_changed.shape[0], 0, d)),
                         np.empty((g_changed.shape[0], 0)),
                         np.empty((g_changed.shape[0], 0), np.int64))
            kernel = on_threads(_gemm_hamerly_groups, parallel)
            kernel(X, x_sq, centers, *ops, half_min, shift, mover_tab, bounds, labels, upper,
                   lower, moved_from, rows, g_changed, min_pass, *moves)
            return int(g_changed.sum())
        if not parallel:
            return hamerly_assign_range(X, centers, half_min, shift, mover_tab, 0, n, labels,
                                        upper, lower, moved_from, rows)
        _hamerly_assign_groups(X, centers, half_min, shift, mover_tab, bounds, labels, upper,
                               lower, moved_from, rows, g_changed)
        return int(g_changed.sum())
    center_distances(centers, cc, half_min)
    if irows is not None:
        X32, xerr, offset, scale = irows
        C32, cerr = interval_centers(centers, offset, scale)
        gamma = float32_sum_gamma(X.shape[1])
    else:
        X32, xerr, C32, cerr, gamma, scale = _NO_C32, _NO_CERR, _NO_C32, _NO_CERR, 0.0, 1.0
    if not parallel:
        return elkan_assign_range(X, centers, half_min, cc, shift, 0, n, labels, upper, lb,
                                  moved_from, X32, xerr, C32, cerr, gamma, scale)
    _elkan_assign_groups(X, centers, half_min, cc, shift, bounds, labels, upper, lb,
                         moved_from, g_changed, X32, xerr, C32, cerr, gamma, scale)
    return int(g_changed.sum())
