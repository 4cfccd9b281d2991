"""Minimum spanning trees of the mutual-reachability graph.

The mutual-reachability distance of two points is
``max(core[p], core[q], d(p, q))``; its minimum spanning tree (MST) is the
whole of HDBSCAN's geometry.

* :func:`boruvka_mst` -- euclidean feature data: Borůvka's algorithm on the
  KD-tree of :mod:`clusterlab._kernels.kdtree`. Each round every point looks
  for its nearest point of *another* component under the mutual-reachability
  distance, pruning a tree node when all its points are in the point's own
  component, or when ``max(core[p], min core in node, box distance)`` already
  exceeds the best edge found (for the point, or for its whole component: a
  shared per-component bound). Each component then takes its lightest edge.
  O(n) memory above the tree and the k-nearest-neighbour lists.
* :func:`dense_mutual_reachability` + :func:`prim_mst_dense` -- a dense
  (n, n) distance matrix (``metric='precomputed'`` or any other metric):
  O(n^2) memory and time.
* :func:`sparse_mutual_reachability` -- a CSR distance graph, in place.

Ties: edges are compared by ``(weight, min(p, q), max(p, q))``, a strict
total order, so Borůvka never closes a cycle and the tree found does not
depend on the number of threads (a point prunes only nodes whose bound is
*strictly* above its best edge, so every point whose best edge is at most the
shared bound reports exactly that edge, whatever the timing of the writes).

All weights are handled squared inside :func:`boruvka_mst` (``rcore`` are
squared core distances) and returned as distances.
"""

import heapq

import numpy as np
from numba import njit, prange
from clusterlab._kernels.linkage.common import _find
from clusterlab._kernels.row_groups import parallel_kernel

from .kdtree import QUERY_BLOCK, push_children, row_rdist

_JIT = dict(cache=True, nogil=True)


@njit(**_JIT)
def node_min_values(values, start, end, out):
    """Minimum of ``values[start[i]:end[i]]`` for every node, bottom-up.

    values : float64 (n,) IN (tree order); start, end : int64 (n_nodes,) IN;
    out : float64 (n_nodes,) OUT.
    """
    n_nodes = start.shape[0]
    first_leaf = n_nodes // 2
    for node in range(n_nodes - 1, -1, -1):
        if node >= first_leaf:
            m = np.inf
            for j in range(start[node], end[node]):
                if values[j] < m:
                    m = values[j]
            out[node] = m
        else:
            out[node] = min(out[2 * node + 1], out[2 * node + 2])


@njit(**_JIT)
def _node_components(comp, start, end, out):
    """``out[node]`` = the component of all the node's points, or -1 if mixed."""
    n_nodes = start.shape[0]
    first_leaf = n_nodes // 2
    for node in range(n_nodes - 1, -1, -1):
        if node >= first_leaf:
            s = start[node]
            e = end[node]
            c = comp[s] if e > s else -1
            for j in range(s + 1, e):
                if comp[j] != c:
                    c = -1
                    break
            out[node] = c
        else:
            a = out[2 * node + 1]
            out[node] = a if a == out[2 * node + 2] else -1


@njit(inline="always", **_JIT)
def _better(w, p, q, bw, bp, bq):
    """Edge (w, p, q) precedes edge (bw, bp, bq) in the strict total order."""
    if w != bw:
        return w < bw
    a0 = min(p, q)
    b0 = min(bp, bq)
    if a0 != b0:
        return a0 < b0
    return max(p, q) < max(bp, bq)


@parallel_kernel(**_JIT)
def _boruvka_round(Xr, start, end, lo, hi, rcore, node_min_rcore, comp, node_comp,
                   knn_index, comp_bound, best_w, best_q):
    n = Xr.shape[0]
    n_nodes = start.shape[0]
    first_leaf = n_nodes // 2
    depth = 2 * (int(np.log2(n_nodes + 1)) + 2)
    k = knn_index.shape[1]
    n_blocks = (n + QUERY_BLOCK - 1) // QUERY_BLOCK
    for b in prange(n_blocks):
        stack = np.empty(depth, dtype=np.int64)
        stack_d = np.empty(depth, dtype=np.float64)
        for p in range(b * QUERY_BLOCK, min(n, (b + 1) * QUERY_BLOCK)):
            c = comp[p]
            cp = rcore[p]
            bw = comp_bound[c]
            best_w[p] = np.inf
            best_q[p] = -1
            if cp > bw:
                continue
            q = Xr[p]
            # a first bound from the point's own k nearest neighbours
            w_best = np.inf
            q_best = -1
            for t in range(k):
                j = knn_index[p, t]
                if comp[j] == c:
                    continue
                w = max(cp, rcore[j], row_rdist(q, Xr, j))
                if q_best < 0 or _better(w, p, j, w_best, p, q_best):
                    w_best = w
                    q_best = j
            limit = min(w_best, bw)
            stack[0] = 0
            stack_d[0] = 0.0
            top = 1
            if q_best >= 0 and w_best <= cp:
                # the lower bound of every edge of p is reached; ties beyond the
                # k nearest would need a distance exactly equal to the core
                # distance, which the kNN list already resolves by index
                top = 0
            while top > 0:
                top -= 1
                node = stack[top]
                if node_comp[node] == c:
                    continue
                if max(stack_d[top], node_min_rcore[node], cp) > limit:
                    continue
                if node >= first_leaf:
                    for j in range(start[node], end[node]):
                        if comp[j] == c:
                            continue
                        w = max(cp, rcore[j])
                        if w > limit:
                            continue
                        w = max(w, row_rdist(q, Xr, j))
                        if w > limit:
                            continue
                        if q_best < 0 or _better(w, p, j, w_best, p, q_best):
                            w_best = w
                            q_best = j
                            if w < limit:
                                limit = w
                else:
                    top = push_children(q, lo, hi, node, stack, stack_d, top)
            best_w[p] = w_best
            best_q[p] = q_best
            # a shared upper bound for the component (a racy write is harmless:
            # whatever value lands is the weight of a real edge leaving c)
            if q_best >= 0 and w_best < comp_bound[c]:
                comp_bound[c] = w_best


@njit(**_JIT)
def _relabel(parent, comp):
    for i in range(comp.shape[0]):
        comp[i] = _find(parent, i)


def boruvka_mst(Xr, start, end, lo, hi, rcore, knn_index, out_u, out_v, out_w):
    """Minimum spanning tree of the mutual-reachability graph (euclidean).

    A plain Python loop over Borůvka's rounds (O(log n) of them): each round is
    one parallel search (:func:`_boruvka_round`, its serial compilation on small
    inputs) and one serial merge (:func:`_boruvka_merge`).

    Parameters
    ----------
    Xr : float64 (n, d), IN -- data in tree order.
    start, end, lo, hi : IN -- the KD-tree (:func:`kdtree.build_kdtree`).
    rcore : float64 (n,), IN -- squared core distances, tree order.
    knn_index : int64 (n, k), IN -- each point's k nearest rows (tree order).
    out_u, out_v : int64 (n - 1,), OUT -- edge end points (tree order).
    out_w : float64 (n - 1,), OUT -- edge weights (distances, not squared).

    Returns
    -------
    n_edges : int -- n - 1 (the graph is complete, hence connected).
    """
    n = Xr.shape[0]
    n_nodes = start.shape[0]
    node_min_rcore = np.empty(n_nodes, dtype=np.float64)
    node_min_values(rcore, start, end, node_min_rcore)
    node_comp = np.empty(n_nodes, dtype=np.int64)
    parent = np.arange(n)
    comp = np.arange(n)
    comp_bound = np.full(n, np.inf)
    best_w = np.empty(n, dtype=np.float64)
    best_q = np.empty(n, dtype=np.int64)
    cand_w = np.empty(n, dtype=np.float64)
    cand_p = np.empty(n, dtype=np.int64)
    cand_q = np.empty(n, dtype=np.int64)
    counts = np.array([0, n], dtype=np.int64)  # edges so far, components left
    while counts[1] > 1:
        _node_components(comp, start, end, node_comp)
        _boruvka_round(Xr, start, end, lo, hi, rcore, node_min_rcore, comp, node_comp,
                       knn_index, comp_bound, best_w, best_q)
        _boruvka_merge(parent, comp, comp_bound, best_w, best_q, cand_w, cand_p, cand_q,
                       out_u, out_v, out_w, counts)
    return int(counts[0])


@njit(**_JIT)
def _boruvka_merge(parent, comp, comp_bound, best_w, best_q, cand_w, cand_p, cand_q,
                   out_u, out_v, out_w, counts):
    """One Borůvka merge: each component's lightest outgoing edge (from the
    per-point candidates ``best_w``/``best_q``) joins two components; the edges
    go to ``out_*`` from ``counts[0]`` on; ``counts`` (edges, components) are
    updated, ``comp`` relabelled and ``comp_bound`` reset for the next round."""
    n = comp.shape[0]
    n_edges = counts[0]
    n_comp = counts[1]
    for c in range(n):
        cand_q[c] = -1
    for p in range(n):
        qb = best_q[p]
        if qb < 0:
            continue
        c = comp[p]
        if cand_q[c] < 0 or _better(best_w[p], p, qb, cand_w[c], cand_p[c], cand_q[c]):
            cand_w[c] = best_w[p]
            cand_p[c] = p
            cand_q[c] = qb
    for c in range(n):
        if cand_q[c] < 0:
            continue
        a = _find(parent, cand_p[c])
        b = _find(parent, cand_q[c])
        if a == b:
            continue
        if a < b:
            parent[b] = a
        else:
            parent[a] = b
        out_u[n_edges] = cand_p[c]
        out_v[n_edges] = cand_q[c]
        out_w[n_edges] = np.sqrt(cand_w[c])
        n_edges += 1
        n_comp -= 1
    _relabel(parent, comp)
    # last round's edges that still leave their (merged) component bound
    # its lightest edge from the start of the next round
    comp_bound[:] = np.inf
    for p in range(n):
        qb = best_q[p]
        if qb >= 0 and comp[qb] != comp[p] and best_w[p] < comp_bound[comp[p]]:
            comp_bound[comp[p]] = best_w[p]
    counts[0] = n_edges
    counts[1] = n_comp


@njit(**_JIT)
def _kth_smallest(buf, m, kth):
    """The ``kth`` smallest (0-based) of ``buf[:m]``, reordering ``buf``
    (quickselect; cheaper to compile than ``np.partition``)."""
    left = 0
    right = m - 1
    while right > left:
        mid = (left + right) // 2
        a = buf[left]
        b = buf[mid]
        c = buf[right]
        if a < b:
            pivot = b if b < c else (c if a < c else a)
        else:
            pivot = a if a < c else (c if b < c else b)
        i = left
        j = right
        while i <= j:
            while buf[i] < pivot:
                i += 1
            while buf[j] > pivot:
                j -= 1
            if i <= j:
                t = buf[i]
                buf[i] = buf[j]
                buf[j] = t
                i += 1
                j -= 1
        if kth <= j:
            right = j
        elif kth >= i:
            left = i
        else:
            break
    return buf[kth]


@parallel_kernel(**_JIT)
def dense_core_distances(D, k_index):
    """core[i] = the ``k_index``-th smallest (0-based) of row i of ``D`` (the
    diagonal, i.e. the point itself, included). D : float64 (n, n) IN."""
    n = D.shape[0]
    core = np.empty(n, dtype=np.float64)
    n_blocks = (n + QUERY_BLOCK - 1) // QUERY_BLOCK
    for b in prange(n_blocks):
        buf = np.empty(n, dtype=np.float64)
        for i in range(b * QUERY_BLOCK, min(n, (b + 1) * QUERY_BLOCK)):
            for j in range(n):
                buf[j] = D[i, j]
            core[i] = _kth_smallest(buf, n, k_index)
    return core


@parallel_kernel(**_JIT)
def dense_mutual_reachability(D, core):
    """``D[i, j] = max(core[i], core[j], D[i, j])`` in place.

    D : float64 (n, n), IN/OUT -- the caller's O(n^2) matrix; core : (n,) IN.
    """
    n = D.shape[0]
    for i in prange(n):
        ci = core[i]
        for j in range(n):
            v = D[i, j]
            if ci > v:
                v = ci
            if core[j] > v:
                v = core[j]
            D[i, j] = v


@parallel_kernel(**_JIT)
def pair_distances(X, u, v, out):
    """Euclidean distance of each pair (u[i], v[i]) of rows of X (float64 (n, d)
    IN; u, v int64 (m,) IN; out float64 (m,) OUT), accumulated as the tree
    kernels do."""
    for i in prange(u.shape[0]):
        s = 0.0
        for f in range(X.shape[1]):
            t = X[u[i], f] - X[v[i], f]
            s += t * t
        out[i] = np.sqrt(s)


@njit(**_JIT)
def prim_mst_dense(M, record_source, out_u, out_v, out_w):
    """Prim's minimum spanning tree of the dense weight matrix ``M`` from node 0.

    M : float64 (n, n) IN; record_source : bool IN; out_v : int64 (n - 1,) OUT
    -- the nodes in the order added; out_u : int64 OUT -- the tree neighbour
    (``record_source``) or the node added just before (scikit-learn's record
    on a precomputed or brute matrix: not always the tree neighbour, but the
    sequence gives the same single-linkage merges); out_w : float64 (n - 1,) OUT
    -- the reach of the new node. O(n^2) time, O(n) scratch.
    """
    n = M.shape[0]
    in_tree = np.zeros(n, dtype=np.bool_)
    reach = np.full(n, np.inf)
    source = np.zeros(n, dtype=np.int64)
    current = 0
    for i in range(n - 1):
        in_tree[current] = True
        best = np.inf
        nxt = -1
        for j in range(n):
            if in_tree[j]:
                continue
            v = M[current, j]
            if v < reach[j]:
                reach[j] = v
                source[j] = current
            if nxt < 0 or reach[j] < best:
                best = reach[j]
                nxt = j
        # scikit-learn's Prim on a mutual-reachability matrix records the node
        # added just before; its Prim on a data matrix the tree neighbour
        out_u[i] = source[nxt] if record_source else current
        out_v[i] = nxt
        out_w[i] = best
        current = nxt


@njit(**_JIT)
def sparse_mutual_reachability(data, indices, indptr, k_index, max_distance):
    """Mutual reachability of a CSR distance graph, in place (scikit-learn's
    rule: a row with at most ``k_index`` stored entries has an infinite core
    distance; an infinite result becomes ``max_distance`` when it is > 0).

    data : float64 (nnz,) IN/OUT; indices, indptr : int (CSR) IN.
    """
    n = indptr.shape[0] - 1
    core = np.empty(n, dtype=np.float64)
    for i in range(n):
        a = indptr[i]
        b = indptr[i + 1]
        if k_index < b - a:
            core[i] = _kth_smallest(data[a:b].copy(), b - a, k_index)
        else:
            core[i] = np.inf
    for i in range(n):
        for t in range(indptr[i], indptr[i + 1]):
            v = max(core[i], core[indices[t]], data[t])
            if np.isfinite(v):
                data[t] = v
            elif max_distance > 0:
                data[t] = max_distance
    return core


@njit(**_JIT)
def prim_order_of_tree(u, v, w, adj_start):
    """Re-emit a spanning tree's edges in the order Prim's algorithm from node
    0 adds them (lightest first, ties to the lower node number), oriented
    (node already in the tree, new node).

    u, v : int64 (m,) IN; w : float64 (m,) IN; adj_start : int64 (n + 1,) IN --
    cumulative degree counts. Returns three new arrays (m,). O(m log m).
    """
    m = u.shape[0]
    n = adj_start.shape[0] - 1
    fill = adj_start[:-1].copy()
    nbr = np.empty(2 * m, dtype=np.int64)
    wt = np.empty(2 * m, dtype=np.float64)
    for e in range(m):
        nbr[fill[u[e]]] = v[e]
        wt[fill[u[e]]] = w[e]
        fill[u[e]] += 1
        nbr[fill[v[e]]] = u[e]
        wt[fill[v[e]]] = w[e]
        fill[v[e]] += 1
    in_tree = np.zeros(n, dtype=np.bool_)
    ou = np.empty(m, dtype=np.int64)
    ov = np.empty(m, dtype=np.int64)
    ow = np.empty(m, dtype=np.float64)
    heap = [(0.0, 0, 0)]
    heap.pop()
    in_tree[0] = True
    for t in range(adj_start[0], adj_start[1]):
        heapq.heappush(heap, (wt[t], nbr[t], 0))
    k = 0
    while len(heap) > 0:
        wj, j, src = heapq.heappop(heap)
        if in_tree[j]:
            continue
        in_tree[j] = True
        ou[k] = src
        ov[k] = j
        ow[k] = wj
        k += 1
        for t in range(adj_start[j], adj_start[j + 1]):
            x = nbr[t]
            if not in_tree[x]:
                heapq.heappush(heap, (wt[t], x, j))
    return ou, ov, ow


@parallel_kernel(**_JIT)
def mrd_nearest(Q, rcore_q, Xr, start, end, lo, hi, rcore, node_min_rcore, out_w, out_j):
    """Each query's nearest training point under mutual reachability (squared):
    ``min_j max(rcore_q[i], rcore[j], |Q[i] - Xr[j]|^2)``, ties to the nearer
    point, then to the lower tree-order index.

    Q : float64 (m, d) IN; rcore_q : float64 (m,) IN; the tree IN (tree order);
    rcore, node_min_rcore : IN; out_w : float64 (m,) OUT (squared);
    out_j : int64 (m,) OUT (tree order).
    """
    m = Q.shape[0]
    n_nodes = start.shape[0]
    first_leaf = n_nodes // 2
    depth = 2 * (int(np.log2(n_nodes + 1)) + 2)
    n_blocks = (m + QUERY_BLOCK - 1) // QUERY_BLOCK
    for b in prange(n_blocks):
        stack = np.empty(depth, dtype=np.int64)
        stack_d = np.empty(depth, dtype=np.float64)
        for i in range(b * QUERY_BLOCK, min(m, (b + 1) * QUERY_BLOCK)):
            q = Q[i]
            cq = rcore_q[i]
            bw = np.inf
            bd = np.inf
            bj = -1
            stack[0] = 0
            stack_d[0] = 0.0
            top = 1
            while top > 0:
                top -= 1
                node = stack[top]
                if max(stack_d[top], node_min_rcore[node], cq) > bw:
                    continue
                if node >= first_leaf:
                    for j in range(start[node], end[node]):
                        d = row_rdist(q, Xr, j)
                        w = max(cq, rcore[j], d)
                        if w < bw or (w == bw and (d < bd or (d == bd and j < bj))):
                            bw = w
                            bd = d
                            bj = j
                else:
                    top = push_children(q, lo, hi, node, stack, stack_d, top)
            out_w[i] = bw
            out_j[i] = bj


@njit(**_JIT)
def prim_on_graph(adj_start, nbr, wt, out_u, out_v, out_w):
    """Prim's algorithm from node 0 on a sparse graph, with scikit-learn's tie
    rules: the next node is the lowest-numbered one of least reach, and a
    node's source changes only on a strict improvement.

    Run on the union of a minimum spanning tree and the k-nearest-neighbour
    graph it returns the tree scikit-learn's Prim returns on the complete
    mutual-reachability graph (for data in general position: every edge tied
    with a tree edge is a core-distance edge, hence a k-nearest-neighbour
    edge), in the same order and orientation.

    adj_start : int64 (n + 1,) IN; nbr : int64 IN; wt : float64 IN (CSR
    adjacency, both directions); out_u (source), out_v (new node) : int64
    (n - 1,) OUT; out_w : float64 (n - 1,) OUT.
    """
    n = adj_start.shape[0] - 1
    in_tree = np.zeros(n, dtype=np.bool_)
    reach = np.full(n, np.inf)
    source = np.zeros(n, dtype=np.int64)
    heap = [(0.0, 0)]
    heap.pop()
    current = 0
    for i in range(n - 1):
        in_tree[current] = True
        for t in range(adj_start[current], adj_start[current + 1]):
            j = nbr[t]
            if in_tree[j]:
                continue
            if wt[t] < reach[j]:
                reach[j] = wt[t]
                source[j] = current
                heapq.heappush(heap, (wt[t], j))
        while True:
            r, j = heapq.heappop(heap)
            if not in_tree[j] and r == reach[j]:
                break
        out_u[i] = source[j]
        out_v[i] = j
        out_w[i] = r
        current = j


@njit(**_JIT)
def union_adjacency(u, v, w, ku, kv, kw, n):
    """CSR adjacency (both directions) of the union of two edge lists -- a
    spanning tree (u, v, w) and the k-nearest-neighbour edges (ku, kv, kw),
    self-loops dropped. All int64 / float64 (m,) IN. Returns
    ``(adj_start (n + 1,), nbr, wt)``, O(n + m) memory."""
    adj_start = np.zeros(n + 1, dtype=np.int64)
    for e in range(u.shape[0]):
        adj_start[u[e] + 1] += 1
        adj_start[v[e] + 1] += 1
    for e in range(ku.shape[0]):
        if ku[e] != kv[e]:
            adj_start[ku[e] + 1] += 1
            adj_start[kv[e] + 1] += 1
    for i in range(n):
        adj_start[i + 1] += adj_start[i]
    fill = adj_start[:-1].copy()
    nbr = np.empty(adj_start[n], dtype=np.int64)
    wt = np.empty(adj_start[n], dtype=np.float64)
    for e in range(u.shape[0]):
        a = u[e]
        b = v[e]
        nbr[fill[a]] = b
        wt[fill[a]] = w[e]
        fill[a] += 1
        nbr[fill[b]] = a
        wt[fill[b]] = w[e]
        fill[b] += 1
    for e in range(ku.shape[0]):
        a = ku[e]
        b = kv[e]
        if a == b:
            continue
        nbr[fill[a]] = b
        wt[fill[a]] = kw[e]
        fill[a] += 1
        nbr[fill[b]] = a
        wt[fill[b]] = kw[e]
        fill[b] += 1
    return adj_start, nbr, wt
