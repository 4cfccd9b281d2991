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
from numba import njit, prange
from clusterlab._kernels.row_groups import parallel_kernel

from .cell_grid import axis_range, box_gaps2, cell_run, column_range

_JIT = dict(cache=True, nogil=True)

#: Deepest tree the kernel expects (a path longer than this stops the insertion).
MAX_DEPTH = 128


@njit(inline="always", **_JIT)
def _dot(a, b):
    """np.dot of two contiguous float64 vectors (BLAS ddot, as numpy)."""
    return np.dot(a, b)


def farthest_pair(C):
    """Row-major argmax of scikit-learn's ``euclidean_distances(C, squared=True)``
    and its two rows (plain numpy, not compiled).

    Computed with numpy's operations in scikit-learn's order (which ignores
    ``Y_norm_squared`` when Y is X): the matrix is symmetric up to the
    rounding of the additions, and that rounding decides which of the two
    farthest subclusters comes first -- so it has to be numpy's own.
    """
    XX = np.einsum("ij,ij->i", C, C)[:, np.newaxis]
    D = -2 * (C @ C.T)
    D += XX
    D += XX.T
    np.maximum(D, 0, out=D)
    np.fill_diagonal(D, 0)
    m = D.shape[0]
    p, q = np.unravel_index(D.argmax(), (m, m))
    return int(p), D[p], D[q]


@njit(**_JIT)
def _set_centroid(sub, sub_n, sub_ls, sub_cent, sub_sqn):
    """centroid = ls / n and its squared norm (scikit-learn's ``update``)."""
    n = sub_n[sub]
    for k in range(sub_ls.shape[1]):
        sub_cent[sub, k] = sub_ls[sub, k] / n
    sub_sqn[sub] = _dot(sub_cent[sub], sub_cent[sub])


@njit(**_JIT)
def _split_node(v, p, dp, dq, node_leaf, node_nsub, node_subs, node_prev, node_next, sub_n,
                sub_ls, sub_ss, sub_cent, sub_sqn, sub_child, state, target_sub):
    """Split node v in two around its farthest pair (row ``p`` first; ``dp``/``dq``
    the two rows of distances, from :func:`farthest_pair`).

    Node v keeps the first half, a new node takes the second. The CF of the
    first half is written into subcluster ``target_sub`` (child v); a new
    subcluster gets the second half (child: the new node). Returns the new
    subcluster's id.
    """
    m = node_nsub[v]
    d = sub_ls.shape[1]
    subs = node_subs[v, :m].copy()
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


#: ``ctl[0]`` values of :func:`birch_insert`.
RUNNING, NEED_PAIR, HAVE_PAIR = 0, 1, 2


@njit(**_JIT)
def _export(v, node_nsub, node_subs, sub_cent, out):
    m = node_nsub[v]
    for j in range(m):  # element by element: a row copy compiles numba's shape-error message
        s = node_subs[v, j]
        for k in range(sub_cent.shape[1]):
            out[j, k] = sub_cent[s, k]
    return m


@njit(**_JIT)
def birch_insert(X, start, threshold2, branching_factor, node_leaf, node_nsub, node_subs,
                 node_prev, node_next, sub_n, sub_ls, sub_ss, sub_cent, sub_sqn, sub_child,
                 state, row_sub, ctl, path_node, path_pos, pair_c, pair_d):
    """Insert rows ``start:`` of X into the CF-tree; stops to ask for a split's pair.

    Parameters
    ----------
    X : (n, d) float32/float64, IN.
    start : int -- first row to insert (the interrupted row when resuming).
    threshold2 : float -- squared threshold.
    branching_factor : int.
    node_* , sub_* : the pools (see module doc), INOUT; ``node_subs`` has
        ``branching_factor + 1`` columns.
    state : (4,) int64, INOUT.
    row_sub : (n,) or (0,) int64, OUT -- when of length n, the leaf subcluster
        each row went into (leaf subcluster ids never change afterwards).
    ctl : (8,) int64, INOUT -- ``ctl[0]``: RUNNING, NEED_PAIR (on return: the
        centroids of the node to split are in ``pair_c[:ctl[5]]``; the caller
        puts :func:`farthest_pair`'s p in ``ctl[6]`` and its rows in
        ``pair_d[0]``, ``pair_d[1]``, sets HAVE_PAIR and calls again with the
        same ``start``), HAVE_PAIR; ``ctl[1:5]``: the interrupted walk
        (level, depth, split flag).
    path_node, path_pos : (MAX_DEPTH,) int64, INOUT -- the interrupted path.
    pair_c : (branching_factor + 1, d) float64, OUT; pair_d : (2, B + 1) float64, IN.

    Returns
    -------
    next_row : int -- ``n`` when every row is in; with ``ctl[0] == RUNNING``
        and less than n the pools are nearly full (the caller grows them and
        calls again from there); -1 when the tree is deeper than MAX_DEPTH.
    """
    n, d = X.shape
    B = branching_factor
    node_cap = node_leaf.shape[0]
    sub_cap = sub_n.shape[0]
    x = np.empty(d)
    cbuf = np.empty((B + 1, d))
    cnew = np.empty(d)
    track = row_sub.shape[0] == n
    resuming = ctl[0] == HAVE_PAIR
    i = start
    while i < n:
        have_pair = False
        if resuming:
            level = ctl[1]
            depth = ctl[2]
            split = ctl[3] == 1
            for k in range(d):
                x[k] = X[i, k]
            xsq = _dot(x, x)
            resuming = False
            have_pair = True
        else:
            if state[1] + MAX_DEPTH + 2 > node_cap or state[2] + 2 * MAX_DEPTH + 3 > sub_cap:
                ctl[0] = RUNNING
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
                i += 1
                continue
            # descend to the closest leaf subcluster
            v = root
            depth = 0
            while True:
                # scikit-learn: np.dot(centroids, x) * -2 + squared norms (BLAS gemv)
                m = node_nsub[v]
                for j in range(m):  # element by element (see _export)
                    s_j = node_subs[v, j]
                    for k in range(d):
                        cbuf[j, k] = sub_cent[s_j, k]
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
            level = depth - 1
        # walk back up
        while level >= 0:
            u = path_node[level]
            entry = node_subs[u, path_pos[level]]
            if not split:
                sub_n[entry] += 1
                for k in range(d):
                    sub_ls[entry, k] += x[k]
                sub_ss[entry] += xsq
                _set_centroid(entry, sub_n, sub_ls, sub_cent, sub_sqn)
                level -= 1
                continue
            child = sub_child[entry]
            if not have_pair:
                ctl[5] = _export(child, node_nsub, node_subs, sub_cent, pair_c)
                ctl[0] = NEED_PAIR
                ctl[1] = level
                ctl[2] = depth
                ctl[3] = 1
                return i
            have_pair = False
            w_sub = _split_node(child, ctl[6], pair_d[0], pair_d[1], node_leaf, node_nsub,
                                node_subs, node_prev, node_next, sub_n, sub_ls, sub_ss,
                                sub_cent, sub_sqn, sub_child, state, entry)
            node_subs[u, node_nsub[u]] = w_sub
            node_nsub[u] += 1
            split = node_nsub[u] > B
            level -= 1
        if split:
            # the root overflowed: a new root over its two halves
            root = state[0]
            if not have_pair:
                ctl[5] = _export(root, node_nsub, node_subs, sub_cent, pair_c)
                ctl[0] = NEED_PAIR
                ctl[1] = -1
                ctl[2] = depth
                ctl[3] = 1
                return i
            first = state[2]
            state[2] += 1
            second = _split_node(root, ctl[6], pair_d[0], pair_d[1], node_leaf, node_nsub,
                                 node_subs, node_prev, node_next, sub_n, sub_ls, sub_ss,
                                 sub_cent, sub_sqn, sub_child, state, first)
            r = state[1]
            state[1] += 1
            node_leaf[r] = False
            node_prev[r] = -1
            node_next[r] = -1
            node_subs[r, 0] = first
            node_subs[r, 1] = second
            node_nsub[r] = 2
            state[0] = r
        i += 1
    ctl[0] = RUNNING
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


@parallel_kernel(**_JIT)
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


@parallel_kernel(**_JIT)
def grid_nearest_center(Q, bound2, Cs, order, dims, origin, side, extents, cell_start, boxes,
                        out):
    """Exact nearest centre of every row of Q (smallest index on ties).

    The centres are sorted into a grid (``Cs``, ``order``: sorted -> original
    index; the grid arrays as in :mod:`clusterlab._kernels.cell_grid`).
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
        lo0, hi0 = axis_range(q, dims[0], origin[0], side, extents[0], np.sqrt(best))
        for a in range(lo0, hi0 + 1):
            lo1, hi1 = column_range(q, dims, origin, side, extents, a, best)
            for b in range(lo1, hi1 + 1):
                first, last = cell_run(q, dims, origin, side, extents, a, b, best)
                for c in range(first, last + 1):
                    start = cell_start[c]
                    stop = cell_start[c + 1]
                    if start == stop:
                        continue
                    near, _ = box_gaps2(q, boxes, c)
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
