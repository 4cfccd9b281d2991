"""A KD-tree as plain arrays, with parallel exact k-nearest-neighbour queries.

The tree is implicit and complete, as scikit-learn's ``KDTree``: node ``i``
has children ``2 i + 1`` and ``2 i + 2``; a node's points are the contiguous
rows ``start[i]:end[i]`` of the *reordered* data ``Xr = X[perm]``; a node is
split at the median of its widest coordinate, so its two children hold
``floor(m / 2)`` and ``ceil(m / 2)`` points and every leaf at most
``leaf_size`` points. Each node keeps its bounding box (``lo``, ``hi``),
which gives the lower bound on the distance from a query to any of its points.

Euclidean only; the kernels compare *squared* distances, accumulated in
float64 one coordinate after the other (``t = a - b; s += t * t``), the same
arithmetic as scikit-learn's ``DistanceMetric`` so that distances agree to
the last bit.

Work per query is independent: queries run in ``prange`` over blocks of
``QUERY_BLOCK`` queries, each block allocating its scratch (a sorted list of
the ``k`` best and a DFS stack) once.
"""

import numpy as np
from numba import njit, prange
from clusterlab._kernels.row_groups import parallel_kernel

_JIT = dict(cache=True, nogil=True)

#: Queries handled by one parallel task (one scratch allocation).
QUERY_BLOCK = 256


def tree_shape(n_samples, leaf_size):
    """Number of levels and nodes of the complete tree over ``n_samples``.

    Levels are added while a node would hold more than ``leaf_size`` points
    (scikit-learn's rule): ``n_levels = floor(log2(max(1, (n - 1) / leaf_size))) + 1``.

    >>> tree_shape(100, 40)
    (2, 3)
    """
    n_levels = int(np.log2(max(1.0, (n_samples - 1) / leaf_size))) + 1
    return n_levels, 2 ** n_levels - 1


@njit(**_JIT)
def _select(perm, X, dim, lo, hi, kth):
    """Reorder ``perm[lo:hi]`` so that ``perm[kth]`` holds the row whose
    coordinate ``dim`` is the (kth - lo)-th smallest, smaller ones before it,
    larger ones after (quickselect with a median-of-three pivot)."""
    left = lo
    right = hi - 1
    while right > left:
        mid = (left + right) // 2
        a = X[perm[left], dim]
        b = X[perm[mid], dim]
        c = X[perm[right], dim]
        if a < b:
            pivot = b if b < c else (c if a < c else a)
        else:
            pivot = a if a < c else (c if b < c else b)
        i = left
        j = right
        while i <= j:
            while X[perm[i], dim] < pivot:
                i += 1
            while X[perm[j], dim] > pivot:
                j -= 1
            if i <= j:
                t = perm[i]
                perm[i] = perm[j]
                perm[j] = t
                i += 1
                j -= 1
        if kth <= j:
            right = j
        elif kth >= i:
            left = i
        else:
            return


@njit(**_JIT)
def _bounds(X, perm, lo_out, hi_out, node, start, end):
    d = X.shape[1]
    for f in range(d):
        lo_out[node, f] = np.inf
        hi_out[node, f] = -np.inf
    for r in range(start, end):
        row = perm[r]
        for f in range(d):
            v = X[row, f]
            if v < lo_out[node, f]:
                lo_out[node, f] = v
            if v > hi_out[node, f]:
                hi_out[node, f] = v


@parallel_kernel(**_JIT)
def build_kdtree(X, n_levels, perm, start, end, lo, hi):
    """Build the implicit KD-tree over the rows of ``X``.

    Parameters
    ----------
    X : float64 (n, d), IN -- the data.
    n_levels : int, IN -- from :func:`tree_shape`.
    perm : int64 (n,), OUT -- ``Xr = X[perm]`` is the tree order.
    start, end : int64 (n_nodes,), OUT -- each node's rows of ``Xr``.
    lo, hi : float64 (n_nodes, d), OUT -- each node's bounding box.
    """
    n = X.shape[0]
    for i in range(n):
        perm[i] = i
    start[0] = 0
    end[0] = n
    for level in range(n_levels):
        first = 2 ** level - 1
        count = 2 ** level
        for t in prange(count):
            node = first + t
            s = start[node]
            e = end[node]
            _bounds(X, perm, lo, hi, node, s, e)
            if level + 1 < n_levels:
                # np.int64, not a literal 0: numba would compile _select a
                # second time, for Literal[int](0)
                best = np.int64(0)
                spread = -1.0
                for f in range(X.shape[1]):
                    w = hi[node, f] - lo[node, f]
                    if w > spread:
                        spread = w
                        best = f
                mid = s + (e - s) // 2
                if e - s > 1:
                    _select(perm, X, best, s, e, mid)
                start[2 * node + 1] = s
                end[2 * node + 1] = mid
                start[2 * node + 2] = mid
                end[2 * node + 2] = e


@njit(inline="always", **_JIT)
def box_rdist(q, lo, hi, node):
    """Squared distance from point ``q`` to the bounding box of ``node``."""
    s = 0.0
    for f in range(q.shape[0]):
        v = q[f]
        if v < lo[node, f]:
            t = lo[node, f] - v
            s += t * t
        elif v > hi[node, f]:
            t = v - hi[node, f]
            s += t * t
    return s


@njit(inline="always", **_JIT)
def row_rdist(q, Xr, j):
    s = 0.0
    for f in range(q.shape[0]):
        t = q[f] - Xr[j, f]
        s += t * t
    return s


@njit(inline="always", **_JIT)
def push_children(q, lo, hi, node, stack, stack_d, top):
    """Push the two children of inner ``node`` on a depth-first query stack.

    The child whose box is nearer to ``q`` (squared distance, ties to the
    left child) goes on top, so it is visited first; ``stack_d`` keeps each
    pushed node's box distance for the pruning test when it is popped.
    Shared by every k-d tree query (k nearest here, the mutual-reachability
    searches of :mod:`clusterlab._kernels.hdbscan_mst`).

    q : (d,) float64, IN; lo, hi : (n_nodes, d) float64, IN; node : int;
    stack : (depth,) int64, INOUT; stack_d : (depth,) float64, INOUT;
    top : int -- the stack size before. Returns the stack size after (top + 2).
    """
    a = 2 * node + 1
    b = a + 1
    da = box_rdist(q, lo, hi, a)
    db = box_rdist(q, lo, hi, b)
    if da <= db:
        stack[top] = b
        stack_d[top] = db
        stack[top + 1] = a
        stack_d[top + 1] = da
    else:
        stack[top] = a
        stack_d[top] = da
        stack[top + 1] = b
        stack_d[top + 1] = db
    return top + 2


@njit(**_JIT)
def _knn_one(q, Xr, start, end, lo, hi, k, best_d, best_i, stack, stack_d):
    """Exact k nearest rows of ``Xr`` to ``q`` (squared distances, ascending)."""
    n_nodes = start.shape[0]
    first_leaf = n_nodes // 2
    for t in range(k):
        best_d[t] = np.inf
        best_i[t] = -1
    top = 0
    stack[0] = 0
    stack_d[0] = 0.0
    top = 1
    while top > 0:
        top -= 1
        node = stack[top]
        if stack_d[top] > best_d[k - 1]:
            continue
        if node >= first_leaf:
            for j in range(start[node], end[node]):
                dj = row_rdist(q, Xr, j)
                if dj < best_d[k - 1]:
                    pos = k - 1
                    while pos > 0 and best_d[pos - 1] > dj:
                        best_d[pos] = best_d[pos - 1]
                        best_i[pos] = best_i[pos - 1]
                        pos -= 1
                    best_d[pos] = dj
                    best_i[pos] = j
        else:
            top = push_children(q, lo, hi, node, stack, stack_d, top)


@parallel_kernel(**_JIT)
def kdtree_knn(Q, Xr, start, end, lo, hi, k, out_rdist, out_index):
    """Exact k nearest neighbours (euclidean) of every row of ``Q``.

    Parameters
    ----------
    Q : float64 (m, d), IN -- queries (may be ``Xr`` itself).
    Xr, start, end, lo, hi : IN -- the tree (:func:`build_kdtree`, reordered data).
    k : int, IN -- neighbours per query, ``1 <= k <= n``.
    out_rdist : float64 (m, k), OUT -- squared distances, ascending.
    out_index : int64 (m, k), OUT -- rows of ``Xr`` (tree order).
    """
    m = Q.shape[0]
    depth = 2 * (int(np.log2(start.shape[0] + 1)) + 2)
    n_blocks = (m + QUERY_BLOCK - 1) // QUERY_BLOCK
    for b in prange(n_blocks):
        stack = np.empty(depth, dtype=np.int64)
        stack_d = np.empty(depth, dtype=np.float64)
        best_d = np.empty(k, dtype=np.float64)
        best_i = np.empty(k, dtype=np.int64)
        for i in range(b * QUERY_BLOCK, min(m, (b + 1) * QUERY_BLOCK)):
            _knn_one(Q[i], Xr, start, end, lo, hi, k, best_d, best_i, stack, stack_d)
            for t in range(k):
                out_rdist[i, t] = best_d[t]
                out_index[i, t] = best_i[t]
