"""Mean-shift kernels: a flat-kernel hill climb per seed, k-th neighbour distances.

The neighbour structure is a dense grid over up to three coordinates of the
(float64, C-contiguous) points, built by the estimator:

* ``Xs`` holds the points sorted by their linear cell id, so the points of
  cell ``c`` are rows ``cell_start[c]:cell_start[c + 1]``;
* ``dims[k]`` is the coordinate of grid axis ``k`` (``-1``: an axis of one
  cell, used when X has fewer than three columns), ``origin[k]`` its lower
  edge, ``side`` the cell side and ``extents[k]`` the number of cells along
  it; cell ``(a, b, c)`` has id ``(a * extents[1] + b) * extents[2] + c``.

A query at ``q`` with radius ``r`` walks the cells of the first two axes that
intersect the ball and, for each, the *contiguous* run of cells of the last
axis that the ball still reaches (its half-width shrinks with the gaps already
spent on the first axes), so the candidates cover little more than the ball.
Every candidate is checked with the exact squared distance over all features
(summed in feature order, compared with ``r * r`` -- the same test as
scikit-learn's trees).
"""

import math

import numpy as np
from numba import njit, prange
from clusterlab._kernels.row_groups import parallel_kernel

_JIT = dict(cache=True, nogil=True)


@njit(inline="always", **_JIT)
def _axis_range(q, dim, origin, side, extent, half):
    """First and last cell along one grid axis within ``half`` of ``q[dim]``."""
    if dim < 0:
        return 0, 0
    slack = half * 1e-9 + 1e-300
    lo = int(math.floor((q[dim] - half - slack - origin) / side))
    hi = int(math.floor((q[dim] + half + slack - origin) / side))
    if lo < 0:
        lo = 0
    if hi > extent - 1:
        hi = extent - 1
    return lo, hi


@njit(inline="always", **_JIT)
def _gap2(q, dim, origin, side, cell):
    """Squared distance from ``q[dim]`` to the slab of ``cell`` along one axis."""
    if dim < 0:
        return 0.0
    left = origin + cell * side
    v = q[dim]
    if v < left:
        return (left - v) * (left - v)
    right = left + side
    if v > right:
        return (v - right) * (v - right)
    return 0.0


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
    lo0, hi0 = _axis_range(q, dims[0], origin[0], side, extents[0], r)
    for a in range(lo0, hi0 + 1):
        g0 = _gap2(q, dims[0], origin[0], side, a)
        if g0 > r2:
            continue
        lo1, hi1 = _axis_range(q, dims[1], origin[1], side, extents[1], math.sqrt(r2 - g0))
        for b in range(lo1, hi1 + 1):
            g1 = g0 + _gap2(q, dims[1], origin[1], side, b)
            if g1 > r2:
                continue
            lo2, hi2 = _axis_range(q, dims[2], origin[2], side, extents[2],
                                   math.sqrt(r2 - g1))
            base = (a * extents[1] + b) * extents[2]
            for c in range(base + lo2, base + hi2 + 1):
                start = cell_start[c]
                stop = cell_start[c + 1]
                if start == stop:
                    continue
                near = 0.0
                far = 0.0
                for k in range(d):
                    lo = boxes[c, 0, k]
                    hi = boxes[c, 1, k]
                    v = q[k]
                    if v < lo:
                        near += (lo - v) * (lo - v)
                        far += (hi - v) * (hi - v)
                    elif v > hi:
                        near += (v - hi) * (v - hi)
                        far += (v - lo) * (v - lo)
                    else:
                        u = max(v - lo, hi - v)
                        far += u * u
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
def grid_cell_stats(Xs, cell_start, boxes, cell_sums):
    """Bounding box and coordinate sum of the rows of every cell.

    Xs : (n, d) float64, IN; cell_start : (n_cells + 1,) int64, IN;
    boxes : (n_cells, 2, d) float64, OUT (min, max; untouched for empty cells);
    cell_sums : (n_cells, d) float64, OUT (sequential sums in row order).
    """
    n_cells = cell_start.shape[0] - 1
    d = Xs.shape[1]
    for c in prange(n_cells):
        start = cell_start[c]
        stop = cell_start[c + 1]
        for k in range(d):
            cell_sums[c, k] = 0.0
            boxes[c, 0, k] = np.inf
            boxes[c, 1, k] = -np.inf
        for j in range(start, stop):
            for k in range(d):
                v = Xs[j, k]
                cell_sums[c, k] += v
                if v < boxes[c, 0, k]:
                    boxes[c, 0, k] = v
                if v > boxes[c, 1, k]:
                    boxes[c, 1, k] = v


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
