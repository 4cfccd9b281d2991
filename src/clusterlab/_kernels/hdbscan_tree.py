"""HDBSCAN's trees: single linkage, condensed tree, cluster selection, scores.

Node numbering follows scipy and scikit-learn: points are ``0..n-1``; the
single-linkage merge ``i`` creates node ``n + i``; the condensed tree's
clusters are ``n, n+1, ...`` (``n`` the root), numbered in the breadth-first
order in which the single-linkage tree is walked, so that the condensed tree
here equals scikit-learn's row for row, and cluster labels are given in the
order of the selected clusters' numbers, as scikit-learn does.

A condensed tree is four arrays of one length: ``parent``, ``child``
(int64), ``lam`` (float64: 1 / distance at which the child leaves the parent)
and ``child_size`` (int64). Its cluster rows (``child_size > 1``) form a
binary tree over the cluster numbers; ``cluster_parent``, ``cluster_birth``
and ``cluster_size`` (indexed by ``cluster - n``) describe it.

Every pass is O(n) (or O(n log n) with the sort of the MST edges done by the
caller), except :func:`merge_heights`, O(n * n_clusters * depth).
"""

import numpy as np
from numba import njit, prange
from clusterlab._kernels.linkage.common import _find
from clusterlab._kernels.row_groups import parallel_kernel

_JIT = dict(cache=True, nogil=True)


@njit(**_JIT)
def single_linkage(u, v, w, left, right, dist, size):
    """Single-linkage tree of MST edges sorted by weight.

    u, v : int64 (n - 1,) IN -- edge end points; w : float64 (n - 1,) IN, ascending.
    left, right : int64 (n - 1,) OUT -- the two nodes merged by merge i
    (``left`` is u's side); dist : float64 OUT -- merge height; size : int64 OUT.
    """
    m = u.shape[0]
    n = m + 1
    parent = np.arange(2 * n - 1)
    count = np.ones(2 * n - 1, dtype=np.int64)
    for i in range(m):
        a = _find(parent, u[i])
        b = _find(parent, v[i])
        left[i] = a
        right[i] = b
        dist[i] = w[i]
        size[i] = count[a] + count[b]
        parent[a] = n + i
        parent[b] = n + i
        count[n + i] = size[i]


@njit(**_JIT)
def _node_size(node, n, size):
    return 1 if node < n else size[node - n]


@njit(**_JIT)
def condense_tree(left, right, dist, size, min_cluster_size,
                  parent, child, lam, child_size):
    """Condense the single-linkage tree (runt pruning at ``min_cluster_size``).

    left, right, dist, size : IN -- :func:`single_linkage`'s output.
    parent, child, lam, child_size : OUT, length >= 2 n -- the rows.

    Returns the number of rows written. Rows come in scikit-learn's order: the
    single-linkage nodes are visited breadth first from the top; a split into
    two parts of at least ``min_cluster_size`` points gives two cluster rows,
    a smaller part gives one row per point it holds (its sub-tree walked
    breadth first), all at lambda = 1 / merge height (inf at height 0).
    """
    m = left.shape[0]
    n = m + 1
    root = 2 * m
    relabel = np.empty(root + 1, dtype=np.int64)
    ignore = np.zeros(root + 1, dtype=np.bool_)
    queue = np.empty(root + 1, dtype=np.int64)
    sub = np.empty(root + 1, dtype=np.int64)
    relabel[root] = n
    next_label = n + 1
    rows = 0
    queue[0] = root
    q_end = 1
    q_pos = 0
    while q_pos < q_end:
        node = queue[q_pos]
        q_pos += 1
        if node >= n:
            queue[q_end] = left[node - n]
            queue[q_end + 1] = right[node - n]
            q_end += 2
        if ignore[node] or node < n:
            continue
        a = left[node - n]
        b = right[node - n]
        d = dist[node - n]
        lv = 1.0 / d if d > 0.0 else np.inf
        ca = _node_size(a, n, size)
        cb = _node_size(b, n, size)
        if ca >= min_cluster_size and cb >= min_cluster_size:
            relabel[a] = next_label
            next_label += 1
            parent[rows] = relabel[node]
            child[rows] = relabel[a]
            lam[rows] = lv
            child_size[rows] = ca
            rows += 1
            relabel[b] = next_label
            next_label += 1
            parent[rows] = relabel[node]
            child[rows] = relabel[b]
            lam[rows] = lv
            child_size[rows] = cb
            rows += 1
            continue
        for side in range(2):
            top = a if side == 0 else b
            big = (ca if side == 0 else cb) >= min_cluster_size
            if big:
                relabel[top] = relabel[node]
                continue
            sub[0] = top
            s_end = 1
            s_pos = 0
            while s_pos < s_end:
                x = sub[s_pos]
                s_pos += 1
                if x < n:
                    parent[rows] = relabel[node]
                    child[rows] = x
                    lam[rows] = lv
                    child_size[rows] = 1
                    rows += 1
                else:
                    sub[s_end] = left[x - n]
                    sub[s_end + 1] = right[x - n]
                    s_end += 2
                ignore[x] = True
    return rows


@njit(**_JIT)
def cluster_arrays(parent, child, lam, child_size, n, n_clusters,
                   cluster_parent, cluster_birth, cluster_size, stability,
                   direct_max, last_run_max):
    """Per-cluster facts of a condensed tree (index ``cluster - n``), all OUT:

    cluster_parent (int64; -1 for the root), cluster_birth (float64 lambda at
    which the cluster appears; 0 for the root), cluster_size (int64),
    stability (float64: sum over its rows of (lambda - birth) * child_size),
    direct_max (float64: largest lambda among its own rows), last_run_max
    (float64: largest lambda among its *last contiguous run* of rows --
    scikit-learn's ``max_lambdas``, which its probabilities use).
    """
    rows = parent.shape[0]
    for c in range(n_clusters):
        cluster_parent[c] = -1
        cluster_birth[c] = 0.0
        cluster_size[c] = 0
        stability[c] = 0.0
        direct_max[c] = 0.0
        last_run_max[c] = 0.0
    for r in range(rows):
        if child[r] >= n:
            c = child[r] - n
            cluster_parent[c] = parent[r]
            cluster_birth[c] = lam[r]
            cluster_size[c] = child_size[r]
    cluster_size[0] = n
    for r in range(rows):
        c = parent[r] - n
        stability[c] += (lam[r] - cluster_birth[c]) * child_size[r]
        if lam[r] > direct_max[c]:
            direct_max[c] = lam[r]
    if rows > 0:
        current = parent[0]
        run = lam[0]
        for r in range(1, rows):
            if parent[r] == current:
                run = max(run, lam[r])
            else:
                last_run_max[current - n] = run
                current = parent[r]
                run = lam[r]
        last_run_max[current - n] = run


@njit(**_JIT)
def _traverse_upwards(leaf, n, cluster_parent, cluster_birth, epsilon, allow_single):
    while True:
        par = cluster_parent[leaf - n]
        if par == n:
            return par if allow_single else leaf
        if 1.0 / cluster_birth[par - n] > epsilon:
            return par
        leaf = par


@njit(**_JIT)
def _epsilon_search(candidates, n, cluster_parent, cluster_birth, epsilon, allow_single,
                    out_selected):
    """scikit-learn's epsilon search over the candidate clusters (ascending)."""
    n_clusters = cluster_parent.shape[0]
    processed = np.zeros(n_clusters, dtype=np.bool_)
    for c in range(n_clusters):
        out_selected[c] = False
    for c in range(n_clusters):
        if not candidates[c]:
            continue
        leaf = n + c
        if 1.0 / cluster_birth[c] < epsilon:
            if not processed[c]:
                top = _traverse_upwards(leaf, n, cluster_parent, cluster_birth, epsilon,
                                        allow_single)
                out_selected[top - n] = True
                # mark every strict descendant of top as processed (ids grow downwards)
                below = np.zeros(n_clusters, dtype=np.bool_)
                below[top - n] = True
                for x in range(top - n + 1, n_clusters):
                    p = cluster_parent[x]
                    if p >= 0 and below[p - n]:
                        below[x] = True
                        processed[x] = True
        else:
            out_selected[c] = True


@njit(**_JIT)
def select_clusters(n, cluster_parent, cluster_size, stability, leaf, allow_single,
                    max_cluster_size, selected):
    """Choose the flat clustering (scikit-learn's rules), ``selected`` OUT (bool,
    per cluster); a non-zero ``cluster_selection_epsilon`` is applied after, by
    :func:`epsilon_selection` (called from Python only then: default fits
    compile none of its search).

    leaf : bool -- 'leaf' selection (every leaf cluster), else excess of mass ('eom').
    max_cluster_size : int -- 0 for no limit (eom only).
    """
    n_clusters = cluster_parent.shape[0]
    has_child = np.zeros(n_clusters, dtype=np.bool_)
    kids = np.full((n_clusters, 2), -1, dtype=np.int64)
    for c in range(1, n_clusters):
        p = cluster_parent[c] - n
        kids[p, 1 if has_child[p] else 0] = c
        has_child[p] = True
    for c in range(n_clusters):
        selected[c] = False
    if not leaf:
        stab = stability.copy()
        local = np.zeros(n_clusters, dtype=np.bool_)
        sizes = cluster_size.copy()
        root_size = 0
        for c in range(1, n_clusters):
            if cluster_parent[c] == n:
                root_size += cluster_size[c]
        sizes[0] = root_size
        lowest = 0 if allow_single else 1
        for c in range(n_clusters - 1, lowest - 1, -1):
            sub = 0.0
            for t in range(2):  # splits are binary
                if kids[c, t] >= 0:
                    sub += stab[kids[c, t]]
            too_big = max_cluster_size > 0 and sizes[c] > max_cluster_size
            if sub > stab[c] or too_big:
                stab[c] = sub
            else:
                local[c] = True
        blocked = np.zeros(n_clusters, dtype=np.bool_)
        for c in range(lowest, n_clusters):
            if c > 0:
                p = cluster_parent[c] - n
                if p >= lowest and (local[p] or blocked[p]):
                    blocked[c] = True
            selected[c] = local[c] and not blocked[c]
    elif n_clusters > 1:
        for c in range(1, n_clusters):
            selected[c] = not has_child[c]


@njit(**_JIT)
def epsilon_selection(n, cluster_parent, cluster_birth, leaf, allow_single, epsilon,
                      selected):
    """Apply ``cluster_selection_epsilon`` (non-zero) to :func:`select_clusters`'s
    choice, ``selected`` INOUT: scikit-learn's epsilon search from the clusters
    chosen by excess of mass, or from the leaves; an excess-of-mass choice of
    the root alone stays (without ``allow_single``: nothing)."""
    n_clusters = cluster_parent.shape[0]
    if n_clusters <= 1:
        return
    if not leaf:
        n_sel = 0
        for c in range(n_clusters):
            if selected[c]:
                n_sel += 1
        if n_sel == 1 and selected[0]:
            if not allow_single:
                selected[0] = False
            return
    cand = selected.copy()
    _epsilon_search(cand, n, cluster_parent, cluster_birth, epsilon, allow_single, selected)


@njit(**_JIT)
def label_points(parent, child, lam, n, cluster_parent, selected, cluster_label,
                 allow_single, epsilon, root_direct_max, labels):
    """Labels (OUT, int64 (n,)) from the selection: a point takes the label of
    its nearest selected ancestor cluster, -1 if none. When the root is the only
    cluster (``allow_single``), a point is in it when its lambda reaches
    ``1 / epsilon`` (or, with ``epsilon == 0``, the largest lambda of the root's
    own rows, ``root_direct_max``), as scikit-learn does."""
    n_clusters = cluster_parent.shape[0]
    top = np.empty(n_clusters, dtype=np.int64)
    n_sel = 0
    for c in range(n_clusters):
        if selected[c]:
            n_sel += 1
    for c in range(n_clusters):
        if selected[c]:
            top[c] = c
        elif c == 0:
            top[c] = -1
        else:
            top[c] = top[cluster_parent[c] - n]
    for r in range(parent.shape[0]):
        x = child[r]
        if x >= n:
            continue
        t = top[parent[r] - n]
        if t > 0:
            labels[x] = cluster_label[t]
        elif t == 0 and allow_single and n_sel == 1:
            thr = 1.0 / epsilon if epsilon != 0.0 else root_direct_max
            labels[x] = cluster_label[0] if lam[r] >= thr else -1
        else:
            labels[x] = -1


@njit(**_JIT)
def point_probabilities(parent, child, lam, n, labels, label_cluster, deaths, probs):
    """scikit-learn's membership strengths: min(lambda, death) / death of the
    point's cluster (``deaths`` per cluster index, ``label_cluster`` maps a label
    to its cluster index); 1 for a death of 0 or an infinite lambda; 0 for noise.
    probs : float64 (n,) OUT."""
    for i in range(probs.shape[0]):
        probs[i] = 0.0
    for r in range(parent.shape[0]):
        x = child[r]
        if x >= n or labels[x] < 0:
            continue
        dmax = deaths[label_cluster[labels[x]]]
        if dmax == 0.0 or np.isinf(lam[r]):
            probs[x] = 1.0
        else:
            probs[x] = min(lam[r], dmax) / dmax


@njit(**_JIT)
def subtree_max(cluster_parent, direct_max, n):
    """Largest lambda anywhere in each cluster's sub-tree (GLOSH's lambda_max)."""
    out = direct_max.copy()
    for c in range(cluster_parent.shape[0] - 1, 0, -1):
        p = cluster_parent[c] - n
        if out[c] > out[p]:
            out[p] = out[c]
    return out


@njit(**_JIT)
def glosh_scores(parent, child, lam, n, lambda_max, scores):
    """GLOSH outlier scores (OUT, float64 (n,)): (lambda_max(C) - lambda_x) /
    lambda_max(C), C the cluster x leaves; 0 when lambda_max is 0 or lambda_x
    infinite."""
    for r in range(parent.shape[0]):
        x = child[r]
        if x >= n:
            continue
        lm = lambda_max[parent[r] - n]
        if lm == 0.0 or not np.isfinite(lam[r]):
            scores[x] = 0.0
        else:
            scores[x] = (lm - lam[r]) / lm


@njit(**_JIT)
def point_rows(parent, child, n, row_of):
    """row_of (OUT, int64 (n,)): the condensed-tree row of each point."""
    for r in range(parent.shape[0]):
        if child[r] < n:
            row_of[child[r]] = r


@njit(**_JIT)
def _tuf_find(data, x):
    root = x
    while data[root, 0] != root:
        root = data[root, 0]
    while data[x, 0] != root:
        nxt = data[x, 0]
        data[x, 0] = root
        x = nxt
    return root


@njit(**_JIT)
def labels_at_cut(left, right, dist, cut, min_cluster_size, labels):
    """DBSCAN* labels from cutting the single-linkage tree at ``cut`` (merges
    strictly below it), components smaller than ``min_cluster_size`` are
    noise; numbered in the order of their union-find roots, with the same
    union-by-rank as scikit-learn so that the numbers agree. labels OUT (n,)."""
    m = left.shape[0]
    n = m + 1
    root = 2 * m
    data = np.zeros((root + 1, 2), dtype=np.int64)
    for i in range(root + 1):
        data[i, 0] = i
    for i in range(m):
        if dist[i] < cut:
            cluster = n + i
            for side in range(2):
                y = left[i] if side == 0 else right[i]
                xr = _tuf_find(data, y)
                yr = _tuf_find(data, cluster)
                if data[xr, 1] < data[yr, 1]:
                    data[xr, 0] = yr
                elif data[xr, 1] > data[yr, 1]:
                    data[yr, 0] = xr
                else:
                    data[yr, 0] = xr
                    data[xr, 1] += 1
    comp_size = np.zeros(root + 1, dtype=np.int64)
    rep = np.empty(n, dtype=np.int64)
    for i in range(n):
        rep[i] = _tuf_find(data, i)
        comp_size[rep[i]] += 1
    number = np.full(root + 1, -1, dtype=np.int64)
    next_label = 0
    for c in range(root + 1):
        if comp_size[c] >= min_cluster_size and comp_size[c] > 0:
            number[c] = next_label
            next_label += 1
    for i in range(n):
        labels[i] = number[rep[i]]


@parallel_kernel(**_JIT)
def merge_heights(point_cluster, point_lambda, clusters, cluster_parent, cluster_birth,
                  n, out):
    """hdbscan's merge height of each point with each selected cluster.

    point_cluster : int64 (m,) IN -- cluster the point (or its neighbour) leaves;
    point_lambda : float64 (m,) IN; clusters : int64 (K,) IN -- selected ids.
    out : float64 (m, K) OUT -- the birth lambda of the child of the lowest
    common ancestor on the point's side when the two are in different
    branches, else the point's lambda.
    """
    m = point_cluster.shape[0]
    K = clusters.shape[0]
    for i in prange(m):
        for j in range(K):
            took_left = False
            took_right = False
            lc = point_cluster[i]
            rc = clusters[j]
            last = lc
            while lc != rc:
                if lc > rc:
                    took_left = True
                    last = lc
                    lc = cluster_parent[lc - n]
                else:
                    took_right = True
                    last = rc
                    rc = cluster_parent[rc - n]
            if took_left and took_right:
                out[i, j] = cluster_birth[last - n]
            else:
                out[i, j] = point_lambda[i]


@parallel_kernel(**_JIT)
def min_dist_to_sets(Q, E, set_start, out):
    """Euclidean distance from each query to the nearest point of each set.

    Q : float64 (m, d) IN; E : float64 (e, d) IN -- the sets' points, set j in
    rows ``set_start[j]:set_start[j + 1]``; out : float64 (m, K) OUT.
    """
    m = Q.shape[0]
    K = set_start.shape[0] - 1
    for i in prange(m):
        for j in range(K):
            best = np.inf
            for r in range(set_start[j], set_start[j + 1]):
                s = 0.0
                for f in range(Q.shape[1]):
                    t = Q[i, f] - E[r, f]
                    s += t * t
                if s < best:
                    best = s
            out[i, j] = np.sqrt(best)


@njit(**_JIT)
def predict_walk(parent, lam_rows, row_of, cluster_parent, cluster_birth, n, nbr, lam,
                 cluster_label, cluster_max_lambda, labels, probs):
    """The hdbscan library's approximate prediction, given each new point's
    connecting training point ``nbr`` (int64 (m,) IN) and lambda (float64 (m,)
    IN): start from the cluster that point leaves; when the point stays longer
    than the new one, climb while the cluster was born at or after the new
    lambda. ``cluster_label`` / ``cluster_max_lambda`` (per cluster index, IN)
    give the label of the enclosing selected cluster (-1 if none) and that
    cluster's largest lambda. labels (int64), probs (float64) (m,) OUT."""
    for i in range(nbr.shape[0]):
        r = row_of[nbr[i]]
        pc = parent[r]
        lv = lam[i]
        if lam_rows[r] > lv:
            while pc > n:
                if cluster_birth[pc - n] >= lv:
                    pc = cluster_parent[pc - n]
                else:
                    break
        label = cluster_label[pc - n]
        labels[i] = label
        if label >= 0:
            ml = cluster_max_lambda[pc - n]
            probs[i] = min(ml, lv) / ml if ml > 0.0 else 1.0
        else:
            probs[i] = 0.0
