"""Exact Euclidean radius tests from BLAS products, for many features.

With many features a grid over three coordinates prunes few pairs, and the
direct distance (feature by feature) is the cost. A block of rows against
every row is then one matrix product of the centred data: ``|x|^2 + |y|^2 -
2 x.y`` estimates each squared distance within a bound computed per pair,
and only the pairs whose estimate lies within that bound of ``eps^2`` are
computed again exactly -- by :func:`.metric._rdist`, the grid kernels' own
sum -- so every comparison with ``eps^2`` comes out as theirs.
"""

import numpy as np
from numba import njit, prange

from clusterlab._kernels.row_groups import parallel_kernel

from .metric import _JIT, _rdist
from .unionfind import _union

_U = 2.0 ** -53


def product_tolerance_consts(n_features, eps):
    """``(a, b, c)`` of the per-pair bound ``a (|x| + |y|)^2 + b (|x| + |y|) + c``
    on the distance between a squared-distance estimate of
    :func:`product_upper_counts` and the kernels' exact value, for centred
    float64 rows of ``n_features`` features (twice the rounding analysis, for
    margin): ``a`` the products and norms (``gamma_{d+2} + 3u``), ``b`` the
    rounding of the centring near the radius, ``c`` the exact sum's own
    error at the radius plus underflow."""
    d = n_features + 2
    gamma = d * _U / (1.0 - d * _U)
    eps = float(eps)
    a = 2.0 * (gamma + 3.0 * _U)
    b = 2.0 * 4.0 * eps * _U
    c = 2.0 * (2.0 * gamma * eps * eps + 4.0 * d * np.finfo(np.float64).tiny)
    return a, b, c


@parallel_kernel(**_JIT)
def product_upper_counts(P, row0, col0, sq, norms, X, reps, a, b, c, counts):
    """Products turned into squared distances, exact wherever they decide, and
    per row ``i`` the number of rows ``j > i`` within the radius.

    ``P`` (r, n - col0), INOUT: the products of the centred rows ``row0:row0
    + r`` with the centred rows ``col0..`` (``col0 <= row0``); on return their
    squared distances: the estimate ``sq_i + sq_j - 2 P`` where it lies beyond
    the bound of :func:`product_tolerance_consts` from ``reps`` (``eps**2``),
    else the exact :func:`.metric._rdist` of the rows of ``X`` (IN, not
    centred). ``sq``, ``norms`` (IN (n,) float64): squared norms and norms of
    the centred rows. ``counts[q]`` (OUT (r,) int64): the rows ``j > i``
    within the radius. The estimate, the count of pairs near the radius and the
    count inside share one loop, which vectorises; only rows with a pair near
    the radius take the exact sums. Pairs ``j <= i`` are computed too (the
    loop over the whole row is faster than one with a variable start) and
    taken off the count."""
    m = P.shape[1]
    # the columns' own views, indexed from 0: an index col0 + u could be
    # negative for numba, whose wrap-around test then keeps the loop scalar
    # (6 ns an entry against 1.2)
    sq_c = sq[col0:]
    norms_c = norms[col0:]
    for q in prange(P.shape[0]):
        i = row0 + q
        xi = sq[i]
        ni = norms[i]
        row = P[q]
        near = 0
        inside = 0
        for u in range(m):
            est = xi + sq_c[u] - 2.0 * row[u]
            t = ni + norms_c[u]
            near += abs(est - reps) <= (a * t + b) * t + c
            inside += est <= reps
            row[u] = est
        if near > 0:
            inside = 0
            for u in range(m):
                t = ni + norms_c[u]
                if abs(row[u] - reps) <= (a * t + b) * t + c:
                    row[u] = _rdist(X, i, X, col0 + u, np.int64(0), 2.0)
                inside += row[u] <= reps
        for u in range(min(m, i - col0 + 1)):  # j <= i: not counted
            inside -= row[u] <= reps
        counts[q] = inside


@parallel_kernel(**_JIT)
def product_upper_fill(P, row0, col0, reps, offsets, indices):
    """The rows ``j > i`` within the radius of each row ``i`` of a resolved
    block (:func:`product_upper_counts`), in increasing order, into
    ``indices[offsets[q]:offsets[q + 1]]`` (OUT)."""
    for q in prange(P.shape[0]):
        i = row0 + q
        k = offsets[q]
        row = P[q]
        for u in range(max(0, i - col0 + 1), P.shape[1]):
            if row[u] <= reps:
                indices[k] = col0 + u
                k += 1


@njit(**_JIT)
def symmetric_lists(up_ptr, up_idx, indptr, indices):
    """Every row's neighbours, in increasing order, from the pairs ``i < j``
    (``up_idx[up_ptr[i]:up_ptr[i + 1]]``: the ``j > i`` of row ``i``).
    ``indptr`` (IN, n + 1) comes from the degrees; ``indices`` OUT."""
    n = up_ptr.shape[0] - 1
    fill = indptr[:-1].copy()
    for i in range(n):  # rows j < i come first, in increasing j: from j's own pairs
        for e in range(up_ptr[i], up_ptr[i + 1]):
            j = up_idx[e]
            indices[fill[j]] = i
            fill[j] += 1
    for i in range(n):  # then the rows j > i, already increasing
        k = fill[i]
        for e in range(up_ptr[i], up_ptr[i + 1]):
            indices[k] = up_idx[e]
            k += 1


@njit(**_JIT)
def list_weights(indptr, indices, ws, out):
    """Weighted neighbour count of each row, the row itself included, summed in
    increasing row order (OUT ``out``)."""
    for i in range(indptr.shape[0] - 1):
        t = 0.0
        own = False
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if j > i and not own:
                t += ws[i]
                own = True
            t += ws[j]
        if not own:
            t += ws[i]
        out[i] = t


@njit(**_JIT)
def list_union_cores(indptr, indices, is_core, parent):
    """Union-find over core rows joined by their neighbour lists (INOUT parent)."""
    for i in range(indptr.shape[0] - 1):
        if is_core[i]:
            for e in range(indptr[i], indptr[i + 1]):
                j = indices[e]
                if is_core[j]:
                    _union(parent, i, j)


@parallel_kernel(**_JIT)
def list_border_labels(indptr, indices, is_core, labels):
    """Smallest label among the core neighbours of each non-core row (INOUT labels)."""
    for i in prange(indptr.shape[0] - 1):
        if is_core[i]:
            continue
        best = -1
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if is_core[j] and (best < 0 or labels[j] < best):
                best = labels[j]
        labels[i] = best
