"""A dense grid of cells over up to three coordinates: its statistics and its ball walk.

Shared by mean shift (the rows within a bandwidth of a seed) and BIRCH
(the nearest subcluster centre). The grid is built by the estimator
(:func:`clusterlab.cluster.mean_shift._grid_index`):

* ``Xs`` holds the points sorted by their linear cell id, so the points of
  cell ``c`` are rows ``cell_start[c]:cell_start[c + 1]``;
* ``dims[k]`` is the coordinate of grid axis ``k`` (``-1``: an axis of one
  cell, used when X has fewer than three columns), ``origin[k]`` its lower
  edge, ``side`` the cell side and ``extents[k]`` the number of cells along
  it; cell ``(a, b, c)`` has id ``(a * extents[1] + b) * extents[2] + c``;
* ``boxes[c]`` is the bounding box of cell c's points (:func:`grid_cell_stats`).

A query at ``q`` with squared radius ``r2`` walks the cells of the first two
axes that intersect the ball (:func:`axis_range` for the first,
:func:`column_range` for the second) and, for each, the *contiguous* run of
cells of the last axis that the ball still reaches (:func:`cell_run`: its
half-width shrinks with the gaps already spent on the first axes), so the
candidates cover little more than the ball::

    lo0, hi0 = axis_range(q, dims[0], origin[0], side, extents[0], sqrt(r2))
    for a in range(lo0, hi0 + 1):
        lo1, hi1 = column_range(q, dims, origin, side, extents, a, r2)
        for b in range(lo1, hi1 + 1):
            first, last = cell_run(q, dims, origin, side, extents, a, b, r2)
            for c in range(first, last + 1):
                ...  # box test (box_gaps2), then the cell's rows

The radius may shrink during the walk (a nearest-neighbour search passes its
current best at every call).
"""

import math

import numpy as np
from numba import njit, prange
from clusterlab._kernels.row_groups import parallel_kernel

_JIT = dict(cache=True, nogil=True)


@njit(inline="always", **_JIT)
def axis_range(q, dim, origin, side, extent, half):
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
def gap2(q, dim, origin, side, cell):
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


@njit(inline="always", **_JIT)
def column_range(q, dims, origin, side, extents, a, r2):
    """Cells b along the second axis that the ball reaches in slab a of the first.

    Returns ``(lo, hi)``, empty (``hi < lo``) when slab a is beyond ``r2``.
    """
    g0 = gap2(q, dims[0], origin[0], side, a)
    if g0 > r2:
        return 0, -1
    return axis_range(q, dims[1], origin[1], side, extents[1], math.sqrt(r2 - g0))


@njit(inline="always", **_JIT)
def cell_run(q, dims, origin, side, extents, a, b, r2):
    """Ids ``first..last`` of the cells of column (a, b) that the ball reaches.

    Empty (``last < first``) when the column is beyond ``r2``.
    """
    g1 = gap2(q, dims[0], origin[0], side, a) + gap2(q, dims[1], origin[1], side, b)
    if g1 > r2:
        return 0, -1
    lo2, hi2 = axis_range(q, dims[2], origin[2], side, extents[2], math.sqrt(r2 - g1))
    base = (a * extents[1] + b) * extents[2]
    return base + lo2, base + hi2


@njit(inline="always", **_JIT)
def box_gaps2(q, boxes, c):
    """Squared distances from q to the nearest and to the farthest point of box c.

    Every point of cell c is at least ``near`` and at most ``far`` (squared)
    from q, each summed over the features in order.
    """
    near = 0.0
    far = 0.0
    for k in range(q.shape[0]):
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
    return near, far


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
