"""Genie hierarchical clustering kernels (Gagolewski, Bartoszuk, Cena 2016,
"Genie: A new, fast, and outlier-resistant hierarchical clustering
algorithm", Information Sciences 363).

Genie is single linkage on the Euclidean minimum spanning tree with one
change: whenever the Gini index of the cluster sizes exceeds a threshold
``g``, the next merge must involve a cluster of the smallest size (through
the shortest unused tree edge that touches one). Single linkage's chaining
(one giant cluster swallowing everything while outliers stay alone) is what
the threshold prevents.

* :func:`euclidean_mst` — the minimum spanning tree by Prim's algorithm
  with distances computed on the fly, reporting true tree edges
  (``O(n²·d)`` time, ``O(n)`` memory).
* :func:`genie_merges` — the merge sequence for a Gini threshold, with the
  Gini index of the size distribution kept up to date in ``O(log n)`` per
  merge (two Fenwick trees over cluster sizes).
* :func:`cut_merges` — flat labels after the first ``n - k`` merges.

Arguments are marked IN (read), OUT (written) or INOUT; kernels never
validate their inputs.
"""

import numpy as np
from numba import njit

from clusterlab._kernels.neighbors.unionfind import _find

_JIT = dict(cache=True, nogil=True)


@njit(**_JIT)
def euclidean_mst(X, out_a, out_b, out_w):
    """Euclidean minimum spanning tree of the rows of ``X`` (Prim).

    Parameters
    ----------
    X : IN ndarray (n, d) float64, C-contiguous
    out_a, out_b : OUT ndarray (n-1,) int64, the two ends of each tree edge
    out_w : OUT ndarray (n-1,) float64, the edge lengths

    Edges are written in the order Prim adds them (not sorted); ties go to
    the lowest row index.
    """
    n, d = X.shape
    in_tree = np.zeros(n, np.bool_)
    best = np.full(n, np.inf)
    source = np.zeros(n, np.int64)
    current = 0
    in_tree[0] = True
    for e in range(n - 1):
        nearest = -1
        nearest_d = np.inf
        for j in range(n):
            if in_tree[j]:
                continue
            dist = 0.0
            for f in range(d):
                t = X[current, f] - X[j, f]
                dist += t * t
            if dist < best[j]:
                best[j] = dist
                source[j] = current
            # (nearest < 0: every distance overflowed to +inf; still a tree)
            if best[j] < nearest_d or nearest < 0:
                nearest_d = best[j]
                nearest = j
        in_tree[nearest] = True
        out_a[e] = source[nearest]
        out_b[e] = nearest
        out_w[e] = np.sqrt(nearest_d)
        current = nearest


@njit(**_JIT)
def _fenwick_add(tree, i, value):
    while i < tree.shape[0]:
        tree[i] += value
        i += i & (-i)


@njit(**_JIT)
def _fenwick_sum(tree, i):
    total = 0.0
    while i > 0:
        total += tree[i]
        i -= i & (-i)
    return total


@njit(**_JIT)
def _spread(count, total, n, s):
    """``sum_j |s - c_j|`` over the sizes ``c_j`` held in the two trees."""
    c_le = _fenwick_sum(count, s)
    s_le = _fenwick_sum(total, s)
    c_all = _fenwick_sum(count, n)
    s_all = _fenwick_sum(total, n)
    return (s * c_le - s_le) + ((s_all - s_le) - s * (c_all - c_le))


@njit(**_JIT)
def genie_merges(n, edge_a, edge_b, gini_threshold, out_merges):
    """Genie's merge sequence on a spanning tree whose edges are sorted by length.

    Parameters
    ----------
    n : IN int, number of points
    edge_a, edge_b : IN ndarray (n-1,) int64, tree edges in increasing length
    gini_threshold : IN float in [0, 1]; 1 gives single linkage
    out_merges : OUT ndarray (n-1, 2) int64, one point of each merged cluster
        per merge, in merge order

    Notes
    -----
    The Gini index of the sizes ``c_1..c_k`` is
    ``sum_{i<j} |c_i - c_j| / ((k - 1) n)``; the pairwise sum is updated in
    ``O(log n)`` per merge. The smallest size never decreases, so it is
    tracked by a pointer. When the index exceeds the threshold, the shortest
    unused edge touching a smallest cluster is found by a scan from the
    first unused edge: ``O(n)`` per such step, ``O(n²)`` in the worst case.
    """
    m = edge_a.shape[0]
    parent = np.arange(n)
    size = np.ones(n, np.int64)
    used = np.zeros(m, np.bool_)
    count = np.zeros(n + 2)
    total = np.zeros(n + 2)
    by_size = np.zeros(n + 1, np.int64)
    _fenwick_add(count, np.int64(1), float(n))
    _fenwick_add(total, np.int64(1), float(n))
    by_size[1] = n
    pair_sum = 0.0
    k = n
    smallest = 1
    first = 0
    for step in range(n - 1):
        gini = pair_sum / ((k - 1) * n) if k > 1 else 0.0
        while by_size[smallest] == 0:
            smallest += 1
        while first < m and used[first]:
            first += 1
        pick = first
        if gini > gini_threshold:
            for e in range(first, m):
                if used[e]:
                    continue
                if (size[_find(parent, edge_a[e])] == smallest
                        or size[_find(parent, edge_b[e])] == smallest):
                    pick = e
                    break
        used[pick] = True
        ra = _find(parent, edge_a[pick])
        rb = _find(parent, edge_b[pick])
        sa = size[ra]
        sb = size[rb]
        for s in (sa, sb):
            pair_sum -= _spread(count, total, n + 1, s)
            _fenwick_add(count, s, -1.0)
            _fenwick_add(total, s, -float(s))
            by_size[s] -= 1
        s = sa + sb
        pair_sum += _spread(count, total, n + 1, s)
        _fenwick_add(count, s, 1.0)
        _fenwick_add(total, s, float(s))
        by_size[s] += 1
        if sa < sb:
            ra, rb = rb, ra
        parent[rb] = ra
        size[ra] = s
        out_merges[step, 0] = edge_a[pick]
        out_merges[step, 1] = edge_b[pick]
        k -= 1


@njit(**_JIT)
def cut_merges(n, merges, n_clusters, out_labels):
    """Flat labels ``0..n_clusters-1`` after the first ``n - n_clusters`` merges.

    Parameters
    ----------
    n : IN int
    merges : IN ndarray (n-1, 2) int64, from :func:`genie_merges`
    n_clusters : IN int, 1 <= n_clusters <= n
    out_labels : OUT ndarray (n,) int64, numbered in order of first appearance
    """
    parent = np.arange(n)
    for s in range(n - n_clusters):
        ra = _find(parent, merges[s, 0])
        rb = _find(parent, merges[s, 1])
        parent[rb] = ra
    root_label = np.full(n, -1, np.int64)
    nxt = 0
    for i in range(n):
        r = _find(parent, i)
        if root_label[r] < 0:
            root_label[r] = nxt
            nxt += 1
        out_labels[i] = root_label[r]
