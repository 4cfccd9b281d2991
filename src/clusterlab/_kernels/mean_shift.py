"""Mean-shift kernels: a flat-kernel hill climb per seed, k-th neighbour distances.

The neighbour structure is the dense grid of
:mod:`clusterlab._kernels.cell_grid` (points sorted by cell, per-cell
bounding boxes and coordinate sums), built by the estimator; a query walks
the cells that intersect the ball. Every candidate is checked with the exact
squared distance over all features (summed in feature order, compared with
``r * r`` -- the same test as scikit-learn's trees).
"""

import math

import numpy as np
from numba import njit, prange
from clusterlab._kernels.row_groups import parallel_kernel

from .cell_grid import axis_range, box_gaps2, cell_run, column_range

_JIT = dict(cache=True, nogil=True)


@njit(**_JIT)
def _ball_sum(q, Xs, dims, origin, side, extents, cell_start, boxes, cell_sums, r2, acc):
    """Sum (into ``acc``, OUT) and count of the rows of Xs within sqrt(r2) of q.

    A cell whose bounding box lies inside the ball (with a relative margin
    of 1e-12, so that rounding cannot matter) adds its precomputed sum; a
    cell whose box misses the ball is skipped; the others are checked point
    by point.
    """
    d = Xs.shape[1]
    for k in range(d):
        acc[k] = 0.0
    count = 0
    r = math.sqrt(r2)
    inside = r2 * (1.0 - 1e-12)
    lo0, hi0 = axis_range(q, dims[0], origin[0], side, extents[0], r)
    for a in range(lo0, hi0 + 1):
        lo1, hi1 = column_range(q, dims, origin, side, extents, a, r2)
        for b in range(lo1, hi1 + 1):
            first, last = cell_run(q, dims, origin, side, extents, a, b, r2)
            for c in range(first, last + 1):
                start = cell_start[c]
                stop = cell_start[c + 1]
                if start == stop:
                    continue
                near, far = box_gaps2(q, boxes, c)
                if near > r2:
                    continue
                if far <= inside:
                    count += stop - start
                    for k in range(d):
                        acc[k] += cell_sums[c, k]
                    continue
                for j in range(start, stop):
                    s = 0.0
                    for k in range(d):
                        t = Xs[j, k] - q[k]
                        s += t * t
                    if s <= r2:
                        count += 1
                        for k in range(d):
                            acc[k] += Xs[j, k]
    return count


@parallel_kernel(**_JIT)
def mean_shift_seeds(seeds, Xs, dims, origin, side, extents, cell_start, boxes, cell_sums,
                     bandwidth, max_iter, stop_thresh, means, counts, iters):
    """Climb from every seed to a mode of the flat-kernel density.

    Per seed, as scikit-learn's ``_mean_shift_single_seed``: replace the
    current point by the mean of the rows within ``bandwidth``; stop when
    no row is within reach (count 0), when the mean moved by at most
    ``stop_thresh``, or after ``max_iter`` completed iterations.

    Parameters
    ----------
    seeds : (n_seeds, d) float64, IN.
    Xs : (n, d) float64, IN -- the points in cell order (see module doc).
    dims : (3,) int64, IN; origin : (3,) float64, IN; side : float;
    extents : (3,) int64, IN; cell_start : (n_cells + 1,) int64, IN;
    boxes : (n_cells, 2, d) float64, IN; cell_sums : (n_cells, d) float64, IN
    (from :func:`grid_cell_stats`).
    bandwidth : float; max_iter : int; stop_thresh : float.
    means : (n_seeds, d) float64, OUT -- last mean (the seed if count is 0).
    counts : (n_seeds,) int64, OUT -- rows within reach of the last mean.
    iters : (n_seeds,) int64, OUT -- completed iterations.
    """
    n_seeds, d = seeds.shape
    r2 = bandwidth * bandwidth
    for i in prange(n_seeds):
        cur = seeds[i].copy()
        acc = np.empty(d)
        done = 0
        count = 0
        while True:
            count = _ball_sum(cur, Xs, dims, origin, side, extents, cell_start, boxes, cell_sums,
                              r2, acc)
            if count == 0:
                break
            shift = 0.0
            for k in range(d):
                m = acc[k] / count
                t = m - cur[k]
                shift += t * t
                cur[k] = m
            if math.sqrt(shift) <= stop_thresh or done == max_iter:
                break
            done += 1
        for k in range(d):
            means[i, k] = cur[k]
        counts[i] = count
        iters[i] = done


@njit(**_JIT)
def suppress_near_duplicates(centers, bandwidth, unique):
    """Keep a centre unless an earlier kept centre lies within ``bandwidth``.

    Parameters
    ----------
    centers : (m, d) float64, IN -- sorted by decreasing intensity.
    bandwidth : float.
    unique : (m,) bool, OUT.

    Time O(m * n_kept * d); no scratch.
    """
    m, d = centers.shape
    r2 = bandwidth * bandwidth
    for i in range(m):
        unique[i] = True
    for i in range(m):
        if not unique[i]:
            continue
        for j in range(m):
            s = 0.0
            for k in range(d):
                t = centers[j, k] - centers[i, k]
                s += t * t
            if s <= r2:
                unique[j] = False
        unique[i] = True


@parallel_kernel(**_JIT)
def nearest_center(X, centers, labels, distances):
    """Index of (first) nearest centre and its euclidean distance, per row.

    X : (n, d) float32/float64, IN; centers : (m, d) float64, IN, m >= 1;
    labels : (n,) int64, OUT; distances : (n,) float64, OUT.
    """
    n, d = X.shape
    m = centers.shape[0]
    for i in prange(n):
        best = np.inf
        arg = 0
        for c in range(m):
            s = 0.0
            for k in range(d):
                t = np.float64(X[i, k]) - centers[c, k]
                s += t * t
            if s < best:
                best = s
                arg = c
        labels[i] = arg
        distances[i] = math.sqrt(best)


@njit(**_JIT)
def _select(a, kth):
    """The kth smallest value of ``a`` (INOUT: reordered in place; quickselect)."""
    lo = 0
    hi = a.shape[0] - 1
    while hi > lo:
        mid = (lo + hi) // 2
        # median of three as the pivot
        x, y, z = a[lo], a[mid], a[hi]
        if x > y:
            x, y = y, x
        if y > z:
            y = z
            if x > y:
                y = x
        pivot = y
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                t = a[i]
                a[i] = a[j]
                a[j] = t
                i += 1
                j -= 1
        if kth <= j:
            hi = j
        elif kth >= i:
            lo = i
        else:
            return a[kth]
    return a[kth]


@parallel_kernel(**_JIT)
def kth_neighbor_distance_sum(XT, kth, block_rows, out):
    """Sum over rows of the distance to their ``kth`` nearest row (0: itself).

    Rows are taken ``block_rows`` at a time; each block's sum lands in
    ``out[block]`` (the caller adds the blocks in order).

    XT : (d, n) float64, IN -- the points feature-major (X.T, C-contiguous),
    so that the inner loop over rows vectorises; kth : int in [0, n);
    block_rows : int; out : (ceil(n / block_rows),) float64, OUT.
    Scratch: one (n,) float64 buffer per block.  Time O(n^2 d).
    """
    d, n = XT.shape
    n_blocks = (n + block_rows - 1) // block_rows
    for b in prange(n_blocks):
        buf = np.empty(n)
        total = 0.0
        for i in range(b * block_rows, min(n, (b + 1) * block_rows)):
            v = XT[0, i]
            for j in range(n):
                t = XT[0, j] - v
                buf[j] = t * t
            for k in range(1, d):
                v = XT[k, i]
                for j in range(n):
                    t = XT[k, j] - v
                    buf[j] += t * t
            total += math.sqrt(_select(buf, kth))
        out[b] = total
