"""Density-based clustering validation (DBCV, Moulavi et al. 2014) kernels.

Three O(n^2) passes, none storing a distance matrix (O(n) memory):

1. :func:`all_points_core_distances` -- each point's all-points core
   distance within its cluster, ``(mean_q d(p, q)^-dim)^(-1/dim)`` over the
   other members q, computed as ``m * (mean (m / d)^dim)^(-1/dim)`` with ``m``
   the smallest distance so that no power overflows (a duplicate point makes
   it 0, the formula's limit).
2. :func:`cluster_msts` -- per cluster, Prim's minimum spanning tree of the
   complete graph of mutual reachability distances
   ``max(apcd(p), apcd(q), d(p, q))`` (ties: smallest index, for the next
   point and for its tree neighbour), giving each
   point's degree and the weight of the edge to its parent.
3. :func:`internal_separation` -- for each internal point, the smallest
   mutual reachability distance to an internal point of another cluster.

Points are grouped by cluster: ``order[starts[c]:starts[c + 1]]`` are the
members of cluster c. Distances come from the feature rows (metric codes
0 euclidean, 1 manhattan, 2 chebyshev, 3 minkowski with ``p``) or, when
``use_matrix``, from a dense precomputed matrix ``D``.
"""

import numpy as np
from numba import njit, prange
from clusterlab._kernels.row_groups import parallel_kernel

_JIT = dict(cache=True, nogil=True)


@njit(inline="always", **_JIT)
def _dist(X, D, use_matrix, i, j, metric, p):
    if use_matrix:
        return D[i, j]
    s = 0.0
    for k in range(X.shape[1]):
        t = abs(X[i, k] - X[j, k])
        if metric == 0:
            s += t * t
        elif metric == 1:
            s += t
        elif metric == 2:
            if t > s:
                s = t
        else:
            s += t ** p
    if metric == 0:
        return np.sqrt(s)
    if metric == 3:
        return s ** (1.0 / p)
    return s


@parallel_kernel(**_JIT)
def all_points_core_distances(X, D, use_matrix, metric, p, dim, order, starts, member, out):
    """All-points core distance of every clustered point.

    Parameters
    ----------
    X : (n, d) float64, IN -- features (ignored when ``use_matrix``).
    D : (n, n) float64, IN -- distances (used when ``use_matrix``).
    use_matrix : bool, IN; metric : int, IN; p : float64, IN
    dim : float64, IN -- the exponent (the data's dimensionality).
    order : (n_clustered,) int64, IN -- clustered points grouped by cluster.
    starts : (n_clusters + 1,) int64, IN -- group bounds in ``order``.
    member : (n_clustered,) int64, IN -- cluster of ``order[t]``.
    out : (n,) float64, OUT -- written at the clustered points (0 for a
        cluster of one point).
    """
    for t in prange(order.shape[0]):
        i = order[t]
        c = member[t]
        lo = starts[c]
        hi = starts[c + 1]
        if hi - lo < 2:
            out[i] = 0.0
            continue
        m = np.inf
        for u in range(lo, hi):
            j = order[u]
            if j != i:
                dd = _dist(X, D, use_matrix, i, j, metric, p)
                if dd < m:
                    m = dd
        if m == 0.0:
            out[i] = 0.0
            continue
        s = 0.0
        for u in range(lo, hi):
            j = order[u]
            if j != i:
                s += (m / _dist(X, D, use_matrix, i, j, metric, p)) ** dim
        out[i] = m * (s / (hi - lo - 1)) ** (-1.0 / dim)


@parallel_kernel(**_JIT)
def cluster_msts(X, D, use_matrix, metric, p, apcd, order, starts, degree, weight, parent):
    """Prim's MST of each cluster under the mutual reachability distance.

    Parameters
    ----------
    X, D, use_matrix, metric, p : as :func:`all_points_core_distances`.
    apcd : (n,) float64, IN -- all-points core distances.
    order, starts : IN -- the clusters' members.
    degree : (n_clustered,) int64, OUT -- MST degree of ``order[t]``.
    weight : (n_clustered,) float64, OUT -- weight of the edge joining
        ``order[t]`` to the tree (-1 for each cluster's first point, the root).
    parent : (n_clustered,) int64, OUT -- position in ``order`` of the tree
        neighbour ``order[t]`` was joined to (-1 for the root).
    """
    n_clusters = starts.shape[0] - 1
    for c in prange(n_clusters):
        lo = starts[c]
        hi = starts[c + 1]
        size = hi - lo
        best = np.full(size, np.inf)
        link = np.full(size, -1, dtype=np.int64)
        done = np.zeros(size, dtype=np.bool_)
        for a in range(size):
            degree[lo + a] = 0
        weight[lo] = -1.0
        parent[lo] = -1
        cur = 0
        done[0] = True
        for _ in range(size - 1):
            i = order[lo + cur]
            nxt = -1
            nv = np.inf
            for a in range(size):
                if done[a]:
                    continue
                j = order[lo + a]
                w = max(_dist(X, D, use_matrix, i, j, metric, p), apcd[i], apcd[j])
                # among equal edges (the core distances make many) the tree
                # neighbour is the member of smallest index, as the hdbscan
                # library's validity_index picks it
                if w < best[a] or (w == best[a] and cur < link[a]):
                    best[a] = w
                    link[a] = cur
                if best[a] < nv or nxt < 0:
                    nv = best[a]
                    nxt = a
            done[nxt] = True
            weight[lo + nxt] = nv
            parent[lo + nxt] = lo + link[nxt]
            degree[lo + nxt] += 1
            degree[lo + link[nxt]] += 1
            cur = nxt


@parallel_kernel(**_JIT)
def internal_separation(X, D, use_matrix, metric, p, apcd, order, member, internal, out):
    """Smallest mutual reachability distance from each internal point to an
    internal point of another cluster (inf for non-internal points).

    internal : (n_clustered,) bool, IN -- internal flag of ``order[t]``.
    out : (n_clustered,) float64, OUT.
    """
    n = order.shape[0]
    for t in prange(n):
        out[t] = np.inf
        if not internal[t]:
            continue
        i = order[t]
        c = member[t]
        v = np.inf
        for u in range(n):
            if not internal[u] or member[u] == c:
                continue
            j = order[u]
            w = max(_dist(X, D, use_matrix, i, j, metric, p), apcd[i], apcd[j])
            if w < v:
                v = w
        out[t] = v
