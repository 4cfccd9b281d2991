"""DBSCAN's passes on precomputed distances: dense row blocks and CSR matrices.

The same three passes as :mod:`.dbscan` (neighbour weights -> cores,
union-find over cores, border labels) when the distances are given instead of
points: a dense block of rows of the distance matrix at a time, or a sparse
distance matrix whose missing entries are infinitely far.
"""

from numba import njit, prange
from clusterlab._kernels.row_groups import parallel_kernel

from .metric import _JIT
from .unionfind import _union


@parallel_kernel(**_JIT)
def dense_neighbour_weights(D, row0, eps, ws, out):
    """Weighted count of entries ``<= eps`` in each row of a distance block.

    D : (r, n) float, IN -- rows ``row0:row0 + r`` of a distance matrix.
    ws : (n,) float64, IN. out : (n,) float64, OUT (rows row0.. written).
    """
    for a in prange(D.shape[0]):
        t = 0.0
        for j in range(D.shape[1]):
            if D[a, j] <= eps:
                t += ws[j]
        out[row0 + a] = t


@njit(**_JIT)
def dense_union_cores(D, row0, eps, is_core, parent):
    """Join core rows ``row0..`` of a distance block to their core neighbours.

    parent : (n,) int64, INOUT -- union-find forest over all rows.
    """
    for a in range(D.shape[0]):
        i = row0 + a
        if not is_core[i]:
            continue
        for j in range(D.shape[1]):
            if j != i and is_core[j] and D[a, j] <= eps:
                _union(parent, i, j)


@parallel_kernel(**_JIT)
def dense_border_labels(D, row0, eps, is_core, labels):
    """Smallest label among cores within eps for non-core rows of a block (INOUT labels)."""
    for a in prange(D.shape[0]):
        i = row0 + a
        if is_core[i]:
            continue
        best = -1
        for j in range(D.shape[1]):
            if is_core[j] and D[a, j] <= eps and (best < 0 or labels[j] < best):
                best = labels[j]
        labels[i] = best


@parallel_kernel(**_JIT)
def csr_neighbour_weights(indptr, indices, data, diag_in, eps, ws, out):
    """Weighted neighbour counts from a sparse distance matrix.

    Only stored entries ``<= eps`` are neighbours (missing entries are
    infinitely far); stored diagonal entries are ignored and the point itself
    counts when ``diag_in[i]`` (IN, bool). out : (n,) float64, OUT.
    """
    n = indptr.shape[0] - 1
    for i in prange(n):
        t = ws[i] if diag_in[i] else 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if j != i and data[e] <= eps:
                t += ws[j]
        out[i] = t


@njit(**_JIT)
def csr_union_cores(indptr, indices, data, eps, is_core, parent):
    """Union-find over core rows of a sparse distance matrix (INOUT parent)."""
    n = indptr.shape[0] - 1
    for i in range(n):
        if not is_core[i]:
            continue
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if j != i and is_core[j] and data[e] <= eps:
                _union(parent, i, j)


@parallel_kernel(**_JIT)
def csr_border_labels(indptr, indices, data, eps, is_core, labels):
    """Smallest core label within eps for each non-core row (INOUT labels)."""
    n = indptr.shape[0] - 1
    for i in prange(n):
        if is_core[i]:
            continue
        best = -1
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if j != i and is_core[j] and data[e] <= eps and (best < 0 or labels[j] < best):
                best = labels[j]
        labels[i] = best
