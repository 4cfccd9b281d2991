"""Single linkage: minimum spanning trees.

* :func:`prim_mst_on_the_fly` -- Prim's algorithm on the complete graph with
  distances computed on the fly (O(n) memory above the data);
* :func:`kruskal_select` -- Kruskal's minimum spanning forest on the sorted
  edges of a connectivity graph.
"""

import numba as nb
import numpy as np

from .common import EUCLIDEAN, _find, _pair_distance


@nb.njit(cache=True, nogil=True)
def _prim_relax(X, norms, metric, current, remaining, n_remaining, key):
    """Relax the keys of the nodes outside the tree with ``current``; return
    the position of the minimum (lexicographic on (key, node id)).

    X : IN (n, d) rows (PRECOMPUTED: (n, n) distances)
    remaining : IN (n,) int64, node ids outside the tree in [0, n_remaining)
    key : INOUT (n,) float64, distance of remaining[p] to the tree, by position
    """
    d = X.shape[1]
    bv = np.inf
    bp = -1
    bid = -1
    if metric == EUCLIDEAN:
        # compare squared distances; keys hold squared values until the end
        for p in range(n_remaining):
            j = remaining[p]
            acc = 0.0
            for f in range(d):
                diff = np.float64(X[current, f]) - np.float64(X[j, f])
                acc += diff * diff
            kv = key[p]
            if acc < kv:
                kv = acc
                key[p] = acc
            if kv < bv or (kv == bv and j < bid):
                bv = kv
                bp = p
                bid = j
    else:
        for p in range(n_remaining):
            j = remaining[p]
            dist = _pair_distance(X, norms, current, j, metric)
            kv = key[p]
            if dist < kv:
                kv = dist
                key[p] = dist
            if kv < bv or (kv == bv and j < bid):
                bv = kv
                bp = p
                bid = j
    return bp


@nb.njit(cache=True, nogil=True)
def prim_mst_on_the_fly(X, norms, metric, out_from, out_to, out_dist):
    """Minimum spanning tree of the complete graph on the rows of ``X``.

    Prim's algorithm from node 0; each step relaxes the distances to the
    tree with the node just added (computed on the fly) and adds the nearest
    outside node (lowest id on ties). Edges are reported as
    (node added just before, node added now, distance), the form
    scikit-learn's single-linkage labelling uses: after a stable sort by
    distance the union-find roots are those of the true MST edges.

    Parameters
    ----------
    X : IN ndarray (n, d) float32/float64 (PRECOMPUTED: (n, n) distances)
    norms : IN ndarray (n,) float64 (COSINE only; any (n,) array otherwise)
    metric : IN int, metric code
    out_from, out_to : OUT ndarray (n-1,) int64
    out_dist : OUT ndarray (n-1,) float64

    Notes
    -----
    Time O(n² d), memory O(n) (two length-n arrays). Euclidean keys are
    squared distances (the square root is taken once per edge), which orders
    them exactly as the distances.
    """
    n = X.shape[0]
    remaining = np.arange(1, n).astype(np.int64)
    key = np.full(n - 1, np.inf)
    n_remaining = n - 1
    current = 0
    for k in range(n - 1):
        bp = _prim_relax(X, norms, metric, current, remaining, n_remaining, key)
        new = remaining[bp]
        out_from[k] = current
        out_to[k] = new
        out_dist[k] = np.sqrt(key[bp]) if metric == EUCLIDEAN else key[bp]
        # drop position bp, keeping the arrays compact (order is irrelevant:
        # ties are resolved on node ids)
        last = n_remaining - 1
        remaining[bp] = remaining[last]
        key[bp] = key[last]
        n_remaining = last
        current = new


@nb.njit(cache=True, nogil=True)
def kruskal_select(a, b, w, n, keep_a, keep_b, keep_w):
    """Kruskal's minimum spanning forest on edges already sorted by weight.

    Parameters
    ----------
    a, b : IN ndarray (E,) int64, edge end points, in increasing weight order
    w : IN ndarray (E,) float64, edge weights
    n : IN int, number of nodes
    keep_a, keep_b : OUT ndarray (n-1,) int64, the tree edges in order
    keep_w : OUT ndarray (n-1,) float64

    Returns
    -------
    int, number of tree edges (n - 1 for a connected graph). Memory O(n).
    """
    parent = np.arange(n).astype(np.int64)
    cnt = 0
    for e in range(a.shape[0]):
        if cnt == n - 1:
            break
        ra = _find(parent, a[e])
        rb = _find(parent, b[e])
        if ra == rb:
            continue
        parent[ra] = rb
        keep_a[cnt] = a[e]
        keep_b[cnt] = b[e]
        keep_w[cnt] = w[e]
        cnt += 1
    return cnt
