"""Radius queries on a grid index: the radius-neighbour graph.

:func:`radius_neighbors_csr` lists all pairs of rows within a radius as a
sparse distance matrix (two passes of :func:`grid_radius_pairs`: count, then
fill). ``DBSCAN.predict``'s query pass is :func:`.dbscan.grid_predict_labels`.
"""

import numpy as np
from numba import njit, prange
from clusterlab._kernels.row_groups import parallel_kernel

from .grid import GridIndex, _neighbour_cells, grid_cell_boxes
from .metric import (
    _JIT,
    CHUNK,
    _box_within_t,
    _chunk_rdist,
    metric_code,
    reduced_radius,
)


@parallel_kernel(**_JIT)
def grid_radius_pairs(XT, cell_keys, cell_start, extents, strides, offsets, item_cell, item_lo,
                      item_hi, metric, p, reps, cell_block, block_start, boxes, include_self,
                      order, indptr, indices, distances, counts):
    """Count, or list, every pair of indexed points within the radius.

    Two calls: first with ``indptr`` of length 0 to fill ``counts``, then with
    the row pointers (cumulative counts, sorted-row order) to write
    ``indices`` / ``distances``.

    Parameters
    ----------
    XT, cell_keys, cell_start, extents, strides, offsets, item_cell, item_lo,
    item_hi, metric, p, reps, cell_block, block_start, boxes : IN -- as in
        :func:`grid_core_points` (a grid built with ``clique_ok=False``).
    include_self : bool, IN -- list each point as its own neighbour.
    order : (n,) int64, IN -- sorted row -> original row (written as column
        indices).
    indptr : (n + 1,) int64 or (0,), IN -- row pointers in sorted-row order.
    indices : (nnz,) int64, OUT -- original column indices.
    distances : (nnz,) float64, OUT -- true distances (not reduced).
    counts : (n,) int64, OUT -- neighbours per sorted row.

    Notes
    -----
    Rows are listed in a fixed order whatever the thread count. Memory: the
    output (nnz entries) only.
    """
    n_off = offsets.shape[0]
    fill = indptr.shape[0] > 0
    for it in prange(item_cell.shape[0]):
        c = item_cell[it]
        buf = np.empty(n_off, np.int64)
        acc = np.empty(CHUNK, np.float64)
        m = _neighbour_cells(c, cell_keys, extents, strides, offsets, buf)
        for i in range(item_lo[it], item_hi[it]):
            w = indptr[i] if fill else 0
            cnt = 0
            for q in range(m):
                b = buf[q]
                for k in range(cell_block[b], cell_block[b + 1]):
                    if not _box_within_t(XT, i, boxes, k, metric, p, reps):
                        continue
                    for lo in range(block_start[k], block_start[k + 1], CHUNK):
                        hi = min(lo + CHUNK, block_start[k + 1])
                        _chunk_rdist(XT, i, lo, hi, metric, p, acc)
                        for t in range(hi - lo):
                            j = lo + t
                            if acc[t] <= reps and (include_self or j != i):
                                if fill:
                                    indices[w] = order[j]
                                    r = acc[t]
                                    if metric == 0:
                                        r = np.sqrt(r)
                                    elif metric == 3:
                                        r = r ** (1.0 / p)
                                    distances[w] = r
                                    w += 1
                                cnt += 1
            counts[i] = cnt


def radius_neighbors_csr(X, radius, metric="euclidean", p=2.0, include_self=False):
    """All pairs of rows of X within ``radius``, as a sparse distance matrix.

    The same graph as ``sklearn.neighbors.radius_neighbors_graph(X, radius,
    mode="distance", include_self=include_self)`` for Minkowski metrics
    (a distance equal to the radius is included; entries hold true
    distances, 0 for duplicates), built from the grid index in two passes
    (count, then fill).

    Parameters
    ----------
    X : (n, d) float32/float64 ndarray, C-contiguous, finite (not validated).
    radius : float > 0.
    metric : {'euclidean', 'manhattan', 'chebyshev', 'minkowski', ...}
    p : float, Minkowski exponent (metric='minkowski').
    include_self : bool, default=False

    Returns
    -------
    graph : scipy.sparse.csr_matrix of shape (n, n), float64, sorted indices.

    Notes
    -----
    Time: the candidate pairs of neighbouring cells (see :class:`GridIndex`).
    Memory: O(nnz) for the output plus O(n d) for the index.
    """
    from scipy import sparse

    code, p = metric_code(metric, p)
    X = np.ascontiguousarray(X)
    n = X.shape[0]
    grid = GridIndex(X, radius, code, p, clique_ok=False)
    XT = np.ascontiguousarray(X[grid.order].T)
    boxes = np.empty((len(grid.block_start) - 1, 2, X.shape[1]), dtype=np.float64)
    grid_cell_boxes(np.ascontiguousarray(XT.T), grid.block_start, np.ones(n, np.bool_), boxes)
    reps = reduced_radius(radius, code, p)
    args = (XT, grid.cell_keys, grid.cell_start, grid.extents, grid.strides, grid.offsets,
            grid.item_cell, grid.item_lo, grid.item_hi, code, p, reps, grid.cell_block,
            grid.block_start, boxes, bool(include_self), grid.order)
    counts = np.empty(n, dtype=np.int64)
    empty_i = np.empty(0, np.int64)
    grid_radius_pairs(*args, empty_i, empty_i, np.empty(0), counts)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int64)
    distances = np.empty(indptr[-1], dtype=np.float64)
    grid_radius_pairs(*args, indptr, indices, distances, counts)
    # rows are in sorted order: put them back in X's order
    graph = sparse.csr_matrix((distances, indices, indptr), shape=(n, n))
    inverse = np.empty(n, dtype=np.int64)
    inverse[grid.order] = np.arange(n)
    graph = graph[inverse]
    graph.sort_indices()
    return graph
