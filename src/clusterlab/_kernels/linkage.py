"""Hierarchical-clustering kernels (Müllner 2011, "Modern hierarchical,
agglomerative clustering algorithms", arXiv:1109.2378).

* :func:`prim_mst_on_the_fly` — minimum spanning tree by Prim's algorithm with
  distances computed on the fly: single linkage in O(n) memory above the data.
* :func:`ward_nn_chain` — nearest-neighbour chain for Ward's method on
  centroids and cluster sizes: O(n·d) memory, no distance matrix.
* :func:`nn_chain_condensed` — nearest-neighbour chain on a condensed distance
  matrix for complete and average linkage (O(n²) memory: the algorithm needs
  every pairwise cluster distance).
* :func:`connectivity_merge` — greedy merging along a sparse connectivity
  graph with a lazy-deletion binary heap (scikit-learn's structured
  clustering): Ward from moments, complete (max) and average (size-weighted
  mean of the values that exist) updates.
* :func:`relabel_merges` — turn a list of merges between point
  representatives, already in merge order, into ``children`` in
  scikit-learn's numbering (leaves ``0..n-1``, new nodes ``n, n+1, ...``).

Conventions shared by the chain algorithms (so that ties resolve as in
scipy, whose ``linkage`` scikit-learn calls): a chain starts at the lowest
active cluster id; the nearest neighbour of the chain's top is the previous
chain element whenever it is among the nearest, otherwise the lowest id at the
minimal distance; the merged cluster takes the larger of the two ids.

All kernels are plain numba functions on C-contiguous arrays and never
validate their inputs. Arguments are marked IN (read), OUT (written) or INOUT
(read and written).
"""

import numba as nb
import numpy as np

#: metric codes understood by the kernels
EUCLIDEAN = 0
MANHATTAN = 1
COSINE = 2
PRECOMPUTED = 3

#: linkage codes for :func:`nn_chain_condensed` and :func:`connectivity_merge`
WARD = 0
COMPLETE = 1
AVERAGE = 2


@nb.njit(cache=True, nogil=True)
def _pair_distance(X, norms, i, j, metric):
    """Distance between rows ``i`` and ``j`` of ``X`` (float64).

    X : IN (n, d) float32/float64 (for PRECOMPUTED: (n, n), upper triangle read)
    norms : IN (n,) float64, row norms (read for COSINE only)
    """
    if metric == PRECOMPUTED:
        if i < j:
            return np.float64(X[i, j])
        return np.float64(X[j, i])
    acc = 0.0
    if metric == EUCLIDEAN:
        for f in range(X.shape[1]):
            diff = np.float64(X[i, f]) - np.float64(X[j, f])
            acc += diff * diff
        return np.sqrt(acc)
    if metric == MANHATTAN:
        for f in range(X.shape[1]):
            acc += abs(np.float64(X[i, f]) - np.float64(X[j, f]))
        return acc
    # cosine distance, 1 - <u, v> / (|u| |v|), clipped at 0 as scipy does
    for f in range(X.shape[1]):
        acc += np.float64(X[i, f]) * np.float64(X[j, f])
    out = 1.0 - acc / (norms[i] * norms[j])
    return max(out, 0.0)


def euclidean_condensed(X, out, parallel):
    """Fill the condensed Euclidean distance matrix (the values of
    :func:`condensed_distances`, bitwise: each pair's squares are summed in
    feature order, without contraction).

    Row ``i``'s distances to the rows after it come from a transposed float64
    copy of X, vectorised across those rows (the row-by-row loop spent its
    time in per-pair horizontal sums: 4.5 ns per pair for 10 features, 1500
    rows). Rows are split in blocks of equal pair counts for the threads.
    """
    n = X.shape[0]
    XT = np.ascontiguousarray(np.asarray(X, dtype=np.float64).T)
    n_blocks = 8 if parallel and n > 256 else 1
    # block b covers the rows whose pairs fall in the b-th equal share
    pairs_before = np.concatenate(([0], np.cumsum(np.arange(n - 1, 0, -1))))
    cuts = np.searchsorted(pairs_before, np.linspace(0, pairs_before[-1], n_blocks + 1))
    cuts[0], cuts[-1] = 0, n - 1
    if n_blocks == 1:
        _euclidean_condensed_rows(XT, 0, n - 1, out, np.empty(n))
    else:
        _euclidean_condensed_blocks(XT, np.asarray(cuts, dtype=np.int64), out)


@nb.njit(cache=True, nogil=True)
def _euclidean_condensed_rows(XT, start, stop, out, acc):
    n = XT.shape[1]
    for i in range(start, stop):
        pos = n * i - (i * (i + 1)) // 2
        m = np.uint64(n - i - 1)
        _sq_dists_to_column(XT, i, np.uint64(i + 1), m, acc)
        for t in range(m):
            out[pos + t] = np.sqrt(acc[t])


@nb.njit(cache=True, nogil=True, inline="always")
def _sq_dists_to_column(T, col, first, m, acc):
    # acc[t] = ||T[:, col] - T[:, first + t]||^2 for t < m, columns stored
    # feature-major, features summed in order (the caller's flags: no
    # contraction in this module). first and m are unsigned: numba then omits
    # its negative-index wraparound, which otherwise blocks vectorisation.
    for t in range(m):
        acc[t] = 0.0
    for f in range(T.shape[0]):
        x = T[f, col]
        row = T[f]
        for t in range(m):
            diff = x - row[first + t]
            acc[t] += diff * diff


@nb.njit(cache=True, nogil=True, parallel=True)
def _euclidean_condensed_blocks(XT, cuts, out):
    for b in nb.prange(cuts.shape[0] - 1):
        acc = np.empty(XT.shape[1])
        _euclidean_condensed_rows(XT, cuts[b], cuts[b + 1], out, acc)


@nb.njit(cache=True, nogil=True)
def condensed_distances(X, norms, metric, out):
    """Fill the condensed (upper-triangle, row-major) distance matrix
    (Euclidean runs faster through :func:`euclidean_condensed`).

    Parameters
    ----------
    X : IN ndarray (n, d) float32/float64, C-contiguous
    norms : IN ndarray (n,) float64, row norms (read for COSINE)
    metric : IN int, EUCLIDEAN / MANHATTAN / COSINE / PRECOMPUTED
    out : OUT ndarray (n * (n - 1) // 2,) float64; pair ``i < j`` at
        ``n*i - i*(i+1)//2 + j - i - 1``
    """
    n = X.shape[0]
    d = X.shape[1]
    pos = 0
    for i in range(n - 1):
        if metric == EUCLIDEAN:
            for j in range(i + 1, n):
                acc = 0.0
                for f in range(d):
                    diff = np.float64(X[i, f]) - np.float64(X[j, f])
                    acc += diff * diff
                out[pos] = np.sqrt(acc)
                pos += 1
        elif metric == PRECOMPUTED:
            for j in range(i + 1, n):
                out[pos] = X[i, j]
                pos += 1
        else:
            for j in range(i + 1, n):
                out[pos] = _pair_distance(X, norms, i, j, metric)
                pos += 1


@nb.njit(cache=True, nogil=True)
def _lex_less(v1, i1, v2, i2):
    return v1 < v2 or (v1 == v2 and i1 < i2)


# ---------------------------------------------------------------- single


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


# ---------------------------------------------------------------- ward


@nb.njit(cache=True, nogil=True)
def _ward_value(CT, sizes, p, q):
    s2 = 0.0
    for f in range(CT.shape[0]):
        diff = CT[f, q] - CT[f, p]
        s2 += diff * diff
    sp = sizes[p]
    sq = sizes[q]
    return (sp * sq) / (sp + sq) * s2


@nb.njit(cache=True, nogil=True)
def ward_nn_chain(CT, out_a, out_b, out_dist):
    """Ward's method by the nearest-neighbour chain on centroids.

    The Ward distance between clusters A and B is
    ``sqrt(2 |A||B| / (|A|+|B|)) * ||c_A - c_B||`` (the value scipy and
    scikit-learn report). Merges are written in the order the chain finds
    them (not sorted by distance); ``out_a < out_b`` are the ids of the two
    clusters, a cluster's id being the largest point index it contains.

    The centroids are stored feature-major (one row per feature) and kept
    compact (the last active column moves into a merged-away one), so that
    each nearest-neighbour search streams through contiguous memory and
    vectorises over clusters.

    Parameters
    ----------
    CT : INOUT ndarray (d, n) float64, C-contiguous: the points (transposed)
        on entry, scratch afterwards (columns are moved and overwritten)
    out_a, out_b : OUT ndarray (n-1,) int64
    out_dist : OUT ndarray (n-1,) float64

    Notes
    -----
    Time O(n² d) in the worst case, memory O(n) above ``CT``. Serial: one
    search is too short for a parallel loop to pay off.
    """
    d, n = CT.shape
    sizes = np.ones(n)  # by column
    ids = np.arange(n).astype(np.int64)  # cluster id at column
    col_of = np.arange(n).astype(np.int64)  # column of cluster id (-1: merged away)
    chain = np.empty(n, dtype=np.int64)
    s2 = np.empty(n)
    chain_len = 0
    lowest = 0
    m = n
    for k in range(n - 1):
        if chain_len == 0:
            while col_of[lowest] < 0:
                lowest += 1
            chain[0] = lowest
            chain_len = 1
        while True:
            x = chain[chain_len - 1]
            px = col_of[x]
            _sq_dists_to_column(CT, px, np.uint64(0), np.uint64(m), s2)
            sx = sizes[px]
            bv = np.inf
            bp = -1
            for q in range(m):
                sq = sizes[q]
                val = (sx * sq) / (sx + sq) * s2[q]
                if q != px and (val < bv or (val == bv and ids[q] < ids[bp])):
                    bv = val
                    bp = q
            y = ids[bp]
            if chain_len > 1:
                prev = chain[chain_len - 2]
                pv = _ward_value(CT, sizes, px, col_of[prev])
                if pv <= bv:
                    y = prev
                    bv = pv
            if chain_len > 1 and y == chain[chain_len - 2]:
                break
            chain[chain_len] = y
            chain_len += 1
        chain_len -= 2
        if x > y:
            x, y = y, x
        px = col_of[x]
        py = col_of[y]
        out_a[k] = x
        out_b[k] = y
        out_dist[k] = np.sqrt(2.0 * bv)
        sx = sizes[px]
        sy = sizes[py]
        tot = sx + sy
        for f in range(d):
            CT[f, py] = (sx * CT[f, px] + sy * CT[f, py]) / tot
        sizes[py] = tot
        last = m - 1
        if px != last:
            for f in range(d):
                CT[f, px] = CT[f, last]
            sizes[px] = sizes[last]
            ids[px] = ids[last]
            col_of[ids[px]] = px
        col_of[x] = -1
        m = last


# ---------------------------------------------------- complete / average


@nb.njit(cache=True, nogil=True)
def _cidx(n, i, j):
    if i > j:
        i, j = j, i
    return n * i - (i * (i + 1)) // 2 + j - i - 1


@nb.njit(cache=True, nogil=True)
def nn_chain_condensed(D, n, method, out_a, out_b, out_dist):
    """Complete or average linkage by the nearest-neighbour chain.

    Parameters
    ----------
    D : INOUT ndarray (n*(n-1)//2,) float64, condensed distances; overwritten
        with cluster distances (Lance–Williams updates)
    n : IN int, number of points
    method : IN int, COMPLETE or AVERAGE
    out_a, out_b : OUT ndarray (n-1,) int64, cluster ids (largest point index
        of the cluster), ``out_a < out_b``, in the order found
    out_dist : OUT ndarray (n-1,) float64

    Notes
    -----
    Time O(n²), memory O(n²) for ``D`` (needed: every pair of clusters may
    become the nearest) plus O(n).
    """
    size = np.ones(n)
    # active cluster ids in increasing order: the row of ``D`` is then read
    # in memory order (strided below the diagonal, contiguous above)
    active = np.arange(n).astype(np.int64)
    alive = np.ones(n, dtype=np.bool_)
    m = n
    chain = np.empty(n, dtype=np.int64)
    chain_len = 0
    for k in range(n - 1):
        if chain_len == 0:
            chain[0] = active[0]
            chain_len = 1
        while True:
            x = chain[chain_len - 1]
            bv = np.inf
            y = -1
            # ids increase along ``active``: the clusters below x (column x of
            # their rows, strided), then those above (row x, contiguous); no
            # branch on the side inside the loops. Strict < keeps the lowest id.
            px = np.searchsorted(active[:m], x)
            for p in range(px):
                i = active[p]
                v = D[n * i - (i * (i + 1)) // 2 + x - i - 1]
                if v < bv or y < 0:
                    bv = v
                    y = i
            base = n * x - (x * (x + 1)) // 2 - x - 1
            for p in range(px + 1, m):
                i = active[p]
                v = D[base + i]
                if v < bv or y < 0:
                    bv = v
                    y = i
            if chain_len > 1:
                prev = chain[chain_len - 2]
                pv = D[_cidx(n, x, prev)]
                if pv <= bv:
                    y = prev
                    bv = pv
                if y == prev:
                    break
            chain[chain_len] = y
            chain_len += 1
        chain_len -= 2
        if x > y:
            x, y = y, x
        out_a[k] = x
        out_b[k] = y
        out_dist[k] = bv
        nx = size[x]
        ny = size[y]
        # drop x from the (sorted) active list
        alive[x] = False
        q = 0
        for p in range(m):
            if active[p] != x:
                active[q] = active[p]
                q += 1
        m = q
        size[y] = nx + ny
        # Lance-Williams update of row/column y (x < y), in three ranges of
        # active ids so that each index is one formula: i < x, x < i < y, y < i
        py = np.searchsorted(active[:m], y)
        pxm = np.searchsorted(active[:py], x)
        for p in range(pxm):
            i = active[p]
            base_i = n * i - (i * (i + 1)) // 2 - i - 1
            _lance_williams(D, base_i + x, base_i + y, nx, ny, method)
        base_x = n * x - (x * (x + 1)) // 2 - x - 1
        for p in range(pxm, py):
            i = active[p]
            _lance_williams(D, base_x + i, n * i - (i * (i + 1)) // 2 + y - i - 1, nx, ny,
                            method)
        base_y = n * y - (y * (y + 1)) // 2 - y - 1
        for p in range(py + 1, m):
            i = active[p]
            _lance_williams(D, base_x + i, base_y + i, nx, ny, method)


@nb.njit(cache=True, nogil=True, inline="always")
def _lance_williams(D, ixi, iyi, nx, ny, method):
    # D[iyi] = the distance from the merged cluster (x + y) to i, given
    # D[ixi] = d(x, i) and D[iyi] = d(y, i)
    dxi = D[ixi]
    dyi = D[iyi]
    if method == COMPLETE:
        D[iyi] = dxi if dxi > dyi else dyi
    else:
        D[iyi] = (nx * dxi + ny * dyi) / (nx + ny)


# ------------------------------------------------------------ labelling


@nb.njit(cache=True, nogil=True)
def _find(parent, i):
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        nxt = parent[i]
        parent[i] = root
        i = nxt
    return root


@nb.njit(cache=True, nogil=True)
def relabel_merges(a, b, n, sort_pair, children, counts):
    """Number the clusters of a merge list as scikit-learn does.

    Parameters
    ----------
    a, b : IN ndarray (n-1,) int64, a point of each merged cluster, in merge
        order
    n : IN int, number of leaves
    sort_pair : IN bool, write the lower node id first (scipy's convention)
        instead of (cluster of ``a``, cluster of ``b``)
    children : OUT ndarray (n-1, 2) int64, node ids (leaves ``0..n-1``, the
        cluster made by merge ``k`` is ``n + k``)
    counts : OUT ndarray (n-1,) int64, points in each new cluster
    """
    parent = np.arange(2 * n - 1).astype(np.int64)
    size = np.ones(2 * n - 1, dtype=np.int64)
    for k in range(a.shape[0]):
        ra = _find(parent, a[k])
        rb = _find(parent, b[k])
        if sort_pair and ra > rb:
            ra, rb = rb, ra
        children[k, 0] = ra
        children[k, 1] = rb
        node = n + k
        parent[ra] = node
        parent[rb] = node
        size[node] = size[ra] + size[rb]
        counts[k] = size[node]


# ---------------------------------------------------- connectivity


@nb.njit(cache=True, nogil=True)
def _heap_less(hv, ha, hb, i, j):
    if hv[i] != hv[j]:
        return hv[i] < hv[j]
    if ha[i] != ha[j]:
        return ha[i] < ha[j]
    return hb[i] < hb[j]


@nb.njit(cache=True, nogil=True)
def _heap_swap(hv, ha, hb, i, j):
    hv[i], hv[j] = hv[j], hv[i]
    ha[i], ha[j] = ha[j], ha[i]
    hb[i], hb[j] = hb[j], hb[i]


@nb.njit(cache=True, nogil=True)
def _heap_push(hv, ha, hb, size, v, a, b):
    hv[size] = v
    ha[size] = a
    hb[size] = b
    i = size
    while i > 0:
        parent = (i - 1) // 2
        if _heap_less(hv, ha, hb, i, parent):
            _heap_swap(hv, ha, hb, i, parent)
            i = parent
        else:
            break
    return size + 1


@nb.njit(cache=True, nogil=True)
def _heap_pop(hv, ha, hb, size):
    """Move the minimum to position ``size - 1``; returns the new size."""
    last = size - 1
    _heap_swap(hv, ha, hb, 0, last)
    i = 0
    while True:
        left = 2 * i + 1
        if left >= last:
            break
        small = left
        right = left + 1
        if right < last and _heap_less(hv, ha, hb, right, left):
            small = right
        if _heap_less(hv, ha, hb, small, i):
            _heap_swap(hv, ha, hb, small, i)
            i = small
        else:
            break
    return last


@nb.njit(cache=True, nogil=True)
def _grow_int(arr, need):
    if need <= arr.shape[0]:
        return arr
    out = np.empty(max(need, 2 * arr.shape[0]), dtype=arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@nb.njit(cache=True, nogil=True)
def _grow_float(arr, need):
    if need <= arr.shape[0]:
        return arr
    out = np.empty(max(need, 2 * arr.shape[0]), dtype=arr.dtype)
    out[: arr.shape[0]] = arr
    return out


@nb.njit(cache=True, nogil=True)
def connectivity_merge(indptr, indices, weights, moments, n_merges, method,
                       children, out_dist, parent):
    """Greedy agglomeration along a connectivity graph.

    Repeatedly merges the connected pair of active clusters with the smallest
    linkage value (ties: the lexicographically smallest (value, newer id,
    older id)), as scikit-learn's structured ``ward_tree``/``linkage_tree``.

    Parameters
    ----------
    indptr, indices : IN CSR structure (n+1,), (nnz,) int64 of a symmetric
        graph without self loops, column indices sorted within each row
    weights : IN (nnz,) float64, edge distances (complete/average; unused
        for Ward)
    moments : IN (n, d) float64, the points (Ward; any (n, 1) array
        otherwise)
    n_merges : IN int, merges to perform (n-1 for the full tree)
    method : IN int, WARD / COMPLETE / AVERAGE
    children : OUT (n_merges, 2) int64, lower id first
    out_dist : OUT (n_merges,) float64 (Ward: sqrt(2 * inertia increase))
    parent : OUT (n + n_merges,) int64, parent node of every node (itself
        for the roots)

    Notes
    -----
    Time O(E log E + merges · degree), memory O(n·d + E), E the number of
    edges. Neighbour lists live in one growing pool: a merged cluster's list
    is the union of its children's lists (average: size-weighted mean where
    both children see the neighbour, the one value otherwise; complete: max).
    """
    n = indptr.shape[0] - 1
    n_nodes = n + n_merges
    d = moments.shape[1]
    size = np.zeros(n_nodes)
    size[:n] = 1.0
    used = np.zeros(n_nodes, dtype=np.bool_)
    used[:n] = True
    for i in range(n_nodes):
        parent[i] = i
    if method == WARD:
        sums = np.zeros((n_nodes, d))
        sums[:n] = moments
    else:
        sums = np.zeros((1, 1))
    # neighbour lists: node -> [start, start+length) in the pool, capacity cap
    nnz = indices.shape[0]
    pool_k = np.empty(2 * nnz + 16, dtype=np.int64)
    pool_v = np.empty(2 * nnz + 16)
    start = np.zeros(n_nodes, dtype=np.int64)
    length = np.zeros(n_nodes, dtype=np.int64)
    cap = np.zeros(n_nodes, dtype=np.int64)
    top = 0
    for i in range(n):
        deg = indptr[i + 1] - indptr[i]
        start[i] = top
        length[i] = deg
        cap[i] = deg
        for t in range(deg):
            pool_k[top + t] = indices[indptr[i] + t]
            pool_v[top + t] = weights[indptr[i] + t]
        top += deg
    # heap of candidate merges (value, newer id, older id)
    hcap = nnz + 16
    hv = np.empty(hcap)
    ha = np.empty(hcap, dtype=np.int64)
    hb = np.empty(hcap, dtype=np.int64)
    hsize = 0
    for i in range(n):
        for t in range(indptr[i], indptr[i + 1]):
            j = indices[t]
            if j < i:
                if method == WARD:
                    s2 = 0.0
                    for f in range(d):
                        diff = sums[i, f] - sums[j, f]
                        s2 += diff * diff
                    v = 0.5 * s2
                else:
                    v = weights[t]
                hsize = _heap_push(hv, ha, hb, hsize, v, i, j)
    scratch_k = np.empty(16, dtype=np.int64)
    scratch_v = np.empty(16)
    for k in range(n, n_nodes):
        while True:
            hsize = _heap_pop(hv, ha, hb, hsize)
            i = ha[hsize]
            j = hb[hsize]
            if used[i] and used[j]:
                break
        v = hv[hsize]
        parent[i] = k
        parent[j] = k
        children[k - n, 0] = min(i, j)
        children[k - n, 1] = max(i, j)
        out_dist[k - n] = np.sqrt(2.0 * v) if method == WARD else v
        ni = size[i]
        nj = size[j]
        size[k] = ni + nj
        used[i] = False
        used[j] = False
        used[k] = True
        if method == WARD:
            for f in range(d):
                sums[k, f] = sums[i, f] + sums[j, f]
        # merge the two neighbour lists (sorted by id) into scratch
        la = length[i]
        lb = length[j]
        scratch_k = _grow_int(scratch_k, la + lb)
        scratch_v = _grow_float(scratch_v, la + lb)
        sa = start[i]
        sb = start[j]
        ia = 0
        ib = 0
        cnt = 0
        while ia < la or ib < lb:
            if ib >= lb or (ia < la and pool_k[sa + ia] < pool_k[sb + ib]):
                key = pool_k[sa + ia]
                val = pool_v[sa + ia]
                ia += 1
            elif ia >= la or pool_k[sb + ib] < pool_k[sa + ia]:
                key = pool_k[sb + ib]
                val = pool_v[sb + ib]
                ib += 1
            else:  # both lists see this neighbour
                key = pool_k[sa + ia]
                va = pool_v[sa + ia]
                vb = pool_v[sb + ib]
                if method == COMPLETE:
                    val = va if va > vb else vb
                else:
                    val = (ni * va + nj * vb) / (ni + nj)
                ia += 1
                ib += 1
            if used[key]:
                scratch_k[cnt] = key
                scratch_v[cnt] = val
                cnt += 1
        # the new node's list goes to the end of the pool
        pool_k = _grow_int(pool_k, top + cnt + 1)
        pool_v = _grow_float(pool_v, top + cnt + 1)
        start[k] = top
        length[k] = cnt
        cap[k] = cnt + 1
        for t in range(cnt):
            pool_k[top + t] = scratch_k[t]
            pool_v[top + t] = scratch_v[t]
        top += cnt + 1
        length[i] = 0
        length[j] = 0
        # append k to each neighbour's list (k is the largest id: stays sorted)
        for t in range(cnt):
            col = scratch_k[t]
            if method == WARD:
                s2 = 0.0
                for f in range(d):
                    diff = sums[k, f] / size[k] - sums[col, f] / size[col]
                    s2 += diff * diff
                val = (size[k] * size[col]) / (size[k] + size[col]) * s2
            else:
                val = scratch_v[t]
            if length[col] == cap[col]:
                newcap = 2 * cap[col] + 4
                pool_k = _grow_int(pool_k, top + newcap)
                pool_v = _grow_float(pool_v, top + newcap)
                for u in range(length[col]):
                    pool_k[top + u] = pool_k[start[col] + u]
                    pool_v[top + u] = pool_v[start[col] + u]
                start[col] = top
                cap[col] = newcap
                top += newcap
            pool_k[start[col] + length[col]] = k
            pool_v[start[col] + length[col]] = val
            length[col] += 1
            if hsize == hv.shape[0]:
                hv = _grow_float(hv, hsize + 1)
                ha = _grow_int(ha, hsize + 1)
                hb = _grow_int(hb, hsize + 1)
            hsize = _heap_push(hv, ha, hb, hsize, val, k, col)


# ------------------------------------------------ connected components


@nb.njit(cache=True, nogil=True)
def closest_pair_between(X, norms, metric, idx_a, idx_b):
    """The closest pair (first in row-major order on ties) between two sets.

    X : IN (n, d) rows (PRECOMPUTED: (n, n) distances)
    idx_a, idx_b : IN int64 arrays of row indices
    Returns (i, j, distance) with ``i`` from ``idx_a`` and ``j`` from ``idx_b``.
    Memory O(1).
    """
    bv = np.inf
    bi = -1
    bj = -1
    for p in range(idx_a.shape[0]):
        i = idx_a[p]
        for q in range(idx_b.shape[0]):
            j = idx_b[q]
            if metric == PRECOMPUTED:
                v = np.float64(X[i, j])
            else:
                v = _pair_distance(X, norms, i, j, metric)
            if bi < 0 or v < bv:
                bv = v
                bi = i
                bj = j
    return bi, bj, bv


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


@nb.njit(cache=True, nogil=True)
def closest_pairs_between_components(Xg, norms_g, metric, offsets, out_i, out_j):
    """For every pair of components, their closest pair of points.

    Parameters
    ----------
    Xg : IN ndarray (n, d) float32/float64: the rows grouped by component
        (component ``c`` in rows ``offsets[c]:offsets[c+1]``, in increasing
        original index within a component)
    norms_g : IN ndarray (n,) float64, row norms of ``Xg`` (COSINE only)
    metric : IN int, EUCLIDEAN / MANHATTAN / COSINE (not PRECOMPUTED)
    offsets : IN ndarray (n_components + 1,) int64
    out_i, out_j : OUT ndarray (n_components * (n_components - 1) // 2,)
        int64: for the pair (ci, cj), cj < ci, at ``ci*(ci-1)//2 + cj``, the
        rows of ``Xg`` (in ci and cj) of the first closest pair in row-major
        order

    Notes
    -----
    Time O(n² d) over all pairs of components, memory O(1). Euclidean
    compares squared distances (same order).
    """
    n_comp = offsets.shape[0] - 1
    d = Xg.shape[1]
    for ci in range(n_comp):
        for cj in range(ci):
            bv = np.inf
            bi = -1
            bj = -1
            for i in range(offsets[ci], offsets[ci + 1]):
                for j in range(offsets[cj], offsets[cj + 1]):
                    acc = 0.0
                    if metric == EUCLIDEAN:
                        for f in range(d):
                            diff = np.float64(Xg[i, f]) - np.float64(Xg[j, f])
                            acc += diff * diff
                    elif metric == MANHATTAN:
                        for f in range(d):
                            acc += abs(np.float64(Xg[i, f]) - np.float64(Xg[j, f]))
                    else:
                        acc = _pair_distance(Xg, norms_g, i, j, metric)
                    if bi < 0 or acc < bv:
                        bv = acc
                        bi = i
                        bj = j
            slot = ci * (ci - 1) // 2 + cj
            out_i[slot] = bi
            out_j[slot] = bj
