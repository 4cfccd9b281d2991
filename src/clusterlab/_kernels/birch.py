"""BIRCH kernels: the CF-tree as flat arrays, filled one sample at a time.

Nodes and subclusters live in pools (rows of preallocated arrays, grown by
the caller). Node 0 is the dummy leaf that heads the linked list of leaves.

Nodes (``node_*``, one row per node):
  ``node_leaf[v]`` (bool), ``node_nsub[v]`` (number of subclusters),
  ``node_subs[v, :node_nsub[v]]`` (their ids, in insertion order -- the order
  matters: it decides ties and the order of ``subcluster_centers_``),
  ``node_prev[v]`` / ``node_next[v]`` (leaf links, -1 for none).
Subclusters (``sub_*``, one row per subcluster):
  ``sub_n`` (int64 count), ``sub_ls`` (n, d) linear sums, ``sub_ss`` squared
  sums, ``sub_cent`` (n, d) centroids, ``sub_sqn`` squared centroid norms,
  ``sub_child`` (node id or -1).
``state`` (int64[4]): root id, nodes used, subclusters used, unused.

The insertion follows scikit-learn's ``_CFNode.insert_cf_subcluster``
step by step (closest subcluster by ``-2 c.x + |c|^2``; merge when the
merged radius is within the threshold; append while there is room; split
an overflowing node around its two farthest subclusters, the parent's
entry replaced by the first half and the second half appended), written
iteratively: descend recording the path, then walk back up. All statistics
are float64.
"""

import numpy as np
from numba import njit, objmode, prange

from .mean_shift import _axis_range, _gap2

_JIT = dict(cache=True, nogil=True)

#: Deepest tree the kernel expects (a path longer than this stops the insertion).
MAX_DEPTH = 128


@njit(inline="always", **_JIT)
def _dot(a, b):
    """np.dot of two contiguous float64 vectors (BLAS ddot, as numpy)."""
    return np.dot(a, b)


def _farthest_pair(C):
    """Row-major argmax of scikit-learn's ``euclidean_distances(C, squared=True)``
    (its ``Y_norm_squared`` is ignored when Y is X) and the two rows of it,
    computed by numpy with the same operations so that near ties resolve alike."""
    XX = np.einsum("ij,ij->i", C, C)[:, np.newaxis]
    D = -2 * (C @ C.T)
    D += XX
    D += XX.T
    np.maximum(D, 0, out=D)
    np.fill_diagonal(D, 0)
    m = D.shape[0]
    p, q = np.unravel_index(D.argmax(), (m, m))
    return int(p), np.ascontiguousarray(D[p]), np.ascontiguousarray(D[q])


@njit(**_JIT)
def _set_centroid(sub, sub_n, sub_ls, sub_cent, sub_sqn):
    """centroid = ls / n and its squared norm (scikit-learn's ``update``)."""
    n = sub_n[sub]
    for k in range(sub_ls.shape[1]):
        sub_cent[sub, k] = sub_ls[sub, k] / n
    sub_sqn[sub] = _dot(sub_cent[sub], sub_cent[sub])


@njit(cache=True)  # no nogil: the farthest pair is found by numpy (object mode)
def _split_node(v, node_leaf, node_nsub, node_subs, node_prev, node_next, sub_n, sub_ls,
                sub_ss, sub_cent, sub_sqn, sub_child, state, target_sub):
    """Split node v in two around its farthest pair of subclusters.

    Node v keeps the first half, a new node takes the second. The CF of the
    first half is written into subcluster ``target_sub`` (child v); a new
    subcluster gets the second half (child: the new node). Returns the new
    subcluster's id.
    """
    m = node_nsub[v]
    d = sub_ls.shape[1]
    subs = node_subs[v, :m].copy()
    C = np.empty((m, d))
    for i in range(m):
        C[i] = sub_cent[subs[i]]
    with objmode(p="int64", dp="float64[::1]", dq="float64[::1]"):
        p, dp, dq = _farthest_pair(C)
    w = state[1]
    state[1] += 1
    node_leaf[w] = node_leaf[v]
    node_nsub[w] = 0
    node_prev[w] = -1
    node_next[w] = -1
    if node_leaf[v]:
        after = node_next[v]
        node_next[v] = w
        node_prev[w] = v
        node_next[w] = after
        if after != -1:
            node_prev[after] = w
    new_sub = state[2]
    state[2] += 1
    for s in (target_sub, new_sub):
        sub_n[s] = 0
        sub_ss[s] = 0.0
        for k in range(d):
            sub_ls[s, k] = 0.0
    sub_child[target_sub] = v
    sub_child[new_sub] = w
    node_nsub[v] = 0
    for i in range(m):
        s = subs[i]
        if i == p or dp[i] < dq[i]:
            node, agg = v, target_sub
        else:
            node, agg = w, new_sub
        node_subs[node, node_nsub[node]] = s
        node_nsub[node] += 1
        sub_n[agg] += sub_n[s]
        for k in range(d):
            sub_ls[agg, k] += sub_ls[s, k]
        sub_ss[agg] += sub_ss[s]
    _set_centroid(target_sub, sub_n, sub_ls, sub_cent, sub_sqn)
    _set_centroid(new_sub, sub_n, sub_ls, sub_cent, sub_sqn)
    return new_sub


@njit(cache=True)  # no nogil: see _split_node
def birch_insert(X, start, threshold2, branching_factor, node_leaf, node_nsub, node_subs,
                 node_prev, node_next, sub_n, sub_ls, sub_ss, sub_cent, sub_sqn, sub_child,
                 state, row_sub):
    """Insert rows ``start:`` of X into the CF-tree until done or a pool is nearly full.

    Parameters
    ----------
    X : (n, d) float32/float64, IN.
    start : int -- first row to insert.
    threshold2 : float -- squared threshold.
    branching_factor : int.
    node_* , sub_* : the pools (see module doc), INOUT; ``node_subs`` has
        ``branching_factor + 1`` columns.
    state : (4,) int64, INOUT.
    row_sub : (n,) or (0,) int64, OUT -- when of length n, the leaf subcluster
        each row went into (leaf subcluster ids never change afterwards).

    Returns
    -------
    next_row : int -- ``n`` when every row is in; otherwise the caller grows
        the pools and calls again from there.
    """
    n, d = X.shape
    B = branching_factor
    node_cap = node_leaf.shape[0]
    sub_cap = sub_n.shape[0]
    x = np.empty(d)
    cbuf = np.empty((B + 1, d))
    cnew = np.empty(d)
    path_node = np.empty(MAX_DEPTH, dtype=np.int64)
    path_pos = np.empty(MAX_DEPTH, dtype=np.int64)
    track = row_sub.shape[0] == n
    for i in range(start, n):
        if state[1] + MAX_DEPTH + 2 > node_cap or state[2] + 2 * MAX_DEPTH + 3 > sub_cap:
            return i
        for k in range(d):
            x[k] = X[i, k]
        xsq = _dot(x, x)
        root = state[0]
        if node_nsub[root] == 0:
            s = state[2]
            state[2] += 1
            sub_n[s] = 1
            sub_ss[s] = xsq
            sub_sqn[s] = xsq
            sub_child[s] = -1
            for k in range(d):
                sub_ls[s, k] = x[k]
                sub_cent[s, k] = x[k]
            node_subs[root, 0] = s
            node_nsub[root] = 1
            if track:
                row_sub[i] = s
            continue
        # descend to the closest leaf subcluster
        v = root
        depth = 0
        while True:
            # scikit-learn: np.dot(centroids, x) * -2 + squared norms (BLAS gemv)
            m = node_nsub[v]
            for j in range(m):
                cbuf[j] = sub_cent[node_subs[v, j]]
            dots = np.dot(cbuf[:m], x)
            best = np.inf
            pos = 0
            for j in range(m):
                t = dots[j] * -2.0 + sub_sqn[node_subs[v, j]]
                if t < best:
                    best = t
                    pos = j
            path_node[depth] = v
            path_pos[depth] = pos
            child = sub_child[node_subs[v, pos]]
            if child == -1:
                break
            v = child
            depth += 1
            if depth >= MAX_DEPTH:
                return -1
        # leaf level: merge, append, or append and split
        s = node_subs[v, path_pos[depth]]
        new_n = sub_n[s] + 1
        new_ss = sub_ss[s] + xsq
        inv = 1.0 / new_n
        for k in range(d):
            cnew[k] = inv * (sub_ls[s, k] + x[k])
        sq = _dot(cnew, cnew)
        split = False
        if new_ss / new_n - sq <= threshold2:
            sub_n[s] = new_n
            sub_ss[s] = new_ss
            for k in range(d):
                sub_ls[s, k] += x[k]
                sub_cent[s, k] = cnew[k]
            sub_sqn[s] = sq
        else:
            s = state[2]
            state[2] += 1
            sub_n[s] = 1
            sub_ss[s] = xsq
            sub_sqn[s] = xsq
            sub_child[s] = -1
            for k in range(d):
                sub_ls[s, k] = x[k]
                sub_cent[s, k] = x[k]
            node_subs[v, node_nsub[v]] = s
            node_nsub[v] += 1
            split = node_nsub[v] > B
        if track:
            row_sub[i] = s
        # walk back up
        for level in range(depth - 1, -1, -1):
            u = path_node[level]
            entry = node_subs[u, path_pos[level]]
            if not split:
                sub_n[entry] += 1
                for k in range(d):
                    sub_ls[entry, k] += x[k]
                sub_ss[entry] += xsq
                _set_centroid(entry, sub_n, sub_ls, sub_cent, sub_sqn)
            else:
                w_sub = _split_node(sub_child[entry], node_leaf, node_nsub, node_subs,
                                    node_prev, node_next, sub_n, sub_ls, sub_ss, sub_cent,
                                    sub_sqn, sub_child, state, entry)
                node_subs[u, node_nsub[u]] = w_sub
                node_nsub[u] += 1
                split = node_nsub[u] > B
        if split:
            # the root overflowed: a new root over its two halves
            first = state[2]
            state[2] += 1
            second = _split_node(root, node_leaf, node_nsub, node_subs, node_prev, node_next,
                                 sub_n, sub_ls, sub_ss, sub_cent, sub_sqn, sub_child, state,
                                 first)
            r = state[1]
            state[1] += 1
            node_leaf[r] = False
            node_prev[r] = -1
            node_next[r] = -1
            node_subs[r, 0] = first
            node_subs[r, 1] = second
            node_nsub[r] = 2
            state[0] = r
    return n


@njit(**_JIT)
def birch_leaf_subclusters(node_nsub, node_subs, node_next, out):
    """Subcluster ids of the leaves, leaf list order then node order (OUT ``out``).

    Returns the number written.
    """
    m = 0
    v = node_next[0]
    while v != -1:
        for j in range(node_nsub[v]):
            out[m] = node_subs[v, j]
            m += 1
        v = node_next[v]
    return m


@njit(parallel=True, **_JIT)
def birch_descend(Q, root, node_nsub, node_subs, sub_cent, sub_sqn, sub_child, out):
    """Closest subcluster of the leaf reached by a greedy descent of the tree, per row.

    Q : (n, d) float64, IN; the tree arrays, IN; out : (n,) int64, OUT
    (subcluster ids). A cheap upper bound for the nearest-centre search.
    """
    n, d = Q.shape
    for i in prange(n):
        v = root
        while True:
            best = np.inf
            pick = node_subs[v, 0]
            for j in range(node_nsub[v]):
                s = node_subs[v, j]
                t = 0.0
                for k in range(d):
                    t += sub_cent[s, k] * Q[i, k]
                t = t * -2.0 + sub_sqn[s]
                if t < best:
                    best = t
                    pick = s
            if sub_child[pick] == -1:
                # the closest of the leaf's subclusters by exact distance
                best = np.inf
                for j in range(node_nsub[v]):
                    s = node_subs[v, j]
                    t = 0.0
                    for k in range(d):
                        u = sub_cent[s, k] - Q[i, k]
                        t += u * u
                    if t < best:
                        best = t
                        pick = s
                out[i] = pick
                break
            v = sub_child[pick]


@njit(parallel=True, **_JIT)
def grid_nearest_center(Q, bound2, Cs, order, dims, origin, side, extents, cell_start, boxes,
                        out):
    """Exact nearest centre of every row of Q (smallest index on ties).

    The centres are sorted into a grid (``Cs``, ``order``: sorted -> original
    index; the grid arrays as in :mod:`clusterlab._kernels.mean_shift`).
    ``bound2[i]`` must be at least the squared distance from row i to some
    centre (e.g. the one :func:`birch_descend` reaches); only the cells whose
    bounding boxes come within the current best distance are searched.

    Q : (n, d) float64, IN; bound2 : (n,) float64, IN; out : (n,) int64, OUT.
    """
    n, d = Q.shape
    for i in prange(n):
        q = Q[i]
        best = bound2[i] * (1.0 + 1e-9) + 1e-300
        arg = -1
        r = np.sqrt(best)
        lo0, hi0 = _axis_range(q, dims[0], origin[0], side, extents[0], r)
        for a in range(lo0, hi0 + 1):
            g0 = _gap2(q, dims[0], origin[0], side, a)
            if g0 > best:
                continue
            lo1, hi1 = _axis_range(q, dims[1], origin[1], side, extents[1], np.sqrt(best - g0))
            for b in range(lo1, hi1 + 1):
                g1 = g0 + _gap2(q, dims[1], origin[1], side, b)
                if g1 > best:
                    continue
                lo2, hi2 = _axis_range(q, dims[2], origin[2], side, extents[2],
                                       np.sqrt(best - g1))
                base = (a * extents[1] + b) * extents[2]
                for c in range(base + lo2, base + hi2 + 1):
                    start = cell_start[c]
                    stop = cell_start[c + 1]
                    if start == stop:
                        continue
                    near = 0.0
                    for k in range(d):
                        v = q[k]
                        if v < boxes[c, 0, k]:
                            near += (boxes[c, 0, k] - v) ** 2
                        elif v > boxes[c, 1, k]:
                            near += (v - boxes[c, 1, k]) ** 2
                    if near > best:
                        continue
                    for j in range(start, stop):
                        t = 0.0
                        for k in range(d):
                            u = Cs[j, k] - q[k]
                            t += u * u
                        if t < best or (t == best and arg >= 0 and order[j] < arg):
                            best = t
                            arg = order[j]
        out[i] = arg
