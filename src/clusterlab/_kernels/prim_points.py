"""Prim's minimum spanning tree on points, distances computed as needed from
the points (O(n) memory above a transposed copy, O(n^2 d) time): the tree of
HDBSCAN's mutual-reachability graph, and of single linkage.

For HDBSCAN it is scikit-learn's ``mst_from_data_matrix`` (the MST of its
tree algorithms), with the same edges in the same order: each step adds the
point outside the tree with the smallest reachability to the tree (ties to
the lowest index), joined to the tree point that gave it. For single linkage
it is scikit-learn's ``mst_linkage_core`` on squared distances, each edge
reported from the point added just before (the form its labelling uses; see
:func:`clusterlab._kernels.linkage.single`). The distances are summed feature
by feature in order, as scikit-learn's and the KD-tree kernels'
(:func:`clusterlab._kernels.kdtree.row_rdist`), so the weights are the same
bits. Where a KD-tree prunes badly -- many features -- this is faster than
Borůvka's algorithm on the tree, and it does not depend on the data's
structure at all.

The points outside the tree are kept transposed (features x points) and
compacted (the chosen point swapped with the last), so that each step is one
vectorised sweep over the remaining points; the sweep runs on numba's threads
in fixed chunks whose best candidates are compared by ``(reachability,
index)``, a strict order: the result does not depend on the thread count.
"""

import numpy as np
from numba import prange

from clusterlab._kernels.gemm.products import tile_products
from clusterlab._kernels.row_groups import parallel_kernel
from clusterlab._kernels.search import insert_smallest

#: Points per chunk of a step's sweep (its running sums stay in L1).
CHUNK = 512


@parallel_kernel(cache=True, nogil=True)
def prim_mst_points(X, core, alpha, scale_core, single, out_u, out_v, out_w):
    """Prim's MST of the mutual-reachability graph of the rows of X (or, with
    ``single``, of their Euclidean distances).

    Parameters
    ----------
    X : IN (n, d) float32/float64, C-contiguous
    core : IN (n,) float64, core distances (unused with ``single``)
    alpha : IN float, distance scaling (unused with ``single``)
    scale_core : IN bool, the tree algorithms' convention
        ``max(core_p, core_q, d / alpha)``; else brute's
        ``max(core_p, core_q, d) / alpha``
    single : IN bool, single linkage: keys are the squared distances (the
        square root taken once per edge) and edge ``i`` is reported from the
        point added just before, not from the tree point that gave it
    out_u, out_v : OUT (n - 1,) int64, edge ``i`` joins tree point ``out_u[i]``
        to the point ``out_v[i]`` it adds, in the order added (from point 0)
    out_w : OUT (n - 1,) float64, the edges' distances
    """
    n, d = X.shape
    if n < 2:
        return
    m = n - 1  # points outside the tree, in slots 0..m-1
    XT = np.empty((d, m))
    idx = np.empty(m, np.int64)
    core_a = np.empty(m)
    reach = np.full(m, np.inf)
    src = np.zeros(m, np.int64)
    for p in range(m):
        idx[p] = p + 1
        core_a[p] = core[p + 1]
    for f in range(d):
        for p in range(m):
            XT[f, p] = np.float64(X[p + 1, f])
    n_chunks_max = (m + CHUNK - 1) // CHUNK
    acc = np.empty((n_chunks_max, CHUNK))
    best_r = np.empty(n_chunks_max)
    best_i = np.empty(n_chunks_max, np.int64)
    best_p = np.empty(n_chunks_max, np.int64)
    current = 0
    for step in range(n - 1):
        xc = X[current]
        core_c = core[current]
        n_chunks = (m + CHUNK - 1) // CHUNK
        for g in prange(n_chunks):
            s = g * CHUNK
            e = min(m, s + CHUNK)
            a = acc[g]
            w = np.uint64(e - s)
            for q in range(w):
                a[q] = 0.0
            for f in range(d):
                xf = np.float64(xc[f])
                row = XT[f, s:e]
                for q in range(w):  # unsigned: no wrap-around test, vectorised
                    t = xf - row[q]
                    a[q] += t * t
            if not single:
                # the candidates' mutual reachability, in place of their
                # squared distances; inf where the core distances alone
                # already reach the point's reachability (no update)
                for q in range(w):
                    p = s + q
                    mc = max(core_c, core_a[p])
                    if (mc if scale_core else mc / alpha) < reach[p]:
                        dist = np.sqrt(a[q])
                        a[q] = max(mc, dist / alpha) if scale_core else max(mc, dist) / alpha
                    else:
                        a[q] = np.inf
            br = np.inf
            bi = -1
            bp = -1
            for q in range(w):
                p = s + q
                r = reach[p]
                if a[q] < r:
                    r = a[q]
                    reach[p] = r
                    src[p] = current
                if bi < 0 or r < br or (r == br and idx[p] < bi):
                    br = r
                    bi = idx[p]
                    bp = p
            best_r[g] = br
            best_i[g] = bi
            best_p[g] = bp
        br = best_r[0]
        bi = best_i[0]
        bp = best_p[0]
        for g in range(1, n_chunks):
            if best_r[g] < br or (best_r[g] == br and best_i[g] < bi):
                br = best_r[g]
                bi = best_i[g]
                bp = best_p[g]
        out_u[step] = current if single else src[bp]
        out_v[step] = bi
        out_w[step] = np.sqrt(br) if single else br
        current = bi
        # the chosen point leaves: the last slot takes its place
        m -= 1
        if bp != m:
            for f in range(d):
                XT[f, bp] = XT[f, m]
            idx[bp] = idx[m]
            core_a[bp] = core_a[m]
            reach[bp] = reach[m]
            src[bp] = src[m]


#: Query rows per block and points per chunk of :func:`core_rdist_points`.
CORE_ROWS = 8
CORE_CHUNK = 256


@parallel_kernel(cache=True, nogil=True)
def core_rdist_points(X, Xc, tiles, sq, norms, k, a, c, out):
    """The k-th smallest squared distance of every row of X to the rows of X
    (itself included), exact: the value of the KD-tree's k-nearest-neighbour
    query, found without the tree.

    Products of a block of query rows with every (centred) point, four
    features at a time over the transposed points
    (:func:`clusterlab._kernels.gemm.products.tile_products`), give estimates
    ``sq_i + sq_j - 2 x_i.x_j`` within ``a (|x_i| + |x_j|)^2 + c`` of the
    exact sum (:func:`knn_tolerance_consts`). The k smallest upper ends bound
    the k-th distance; only the points whose lower end is below that bound
    are summed exactly, feature by feature in order (the KD-tree's
    :func:`~clusterlab._kernels.kdtree.row_rdist`), so the result is that
    query's to the bit. Chunks in which no estimate can matter are passed
    over after one vectorised count.

    Parameters
    ----------
    X : IN (n, d) float64, the rows; Xc : IN (n, d) float64, the rows centred
    tiles : IN (ceil(n / CORE_CHUNK), d, CORE_CHUNK) float64, ``Xc``
        transposed chunk by chunk (each tile C-contiguous, so that the
        products vectorise; zeros past the last row)
    sq, norms : IN (n,) float64, squared norms and norms of the rows of Xc
    k : IN int, ``1 <= k <= n``
    a, c : IN float, :func:`knn_tolerance_consts`
    out : OUT (n,) float64
    """
    n, d = X.shape
    n_blocks = (n + CORE_ROWS - 1) // CORE_ROWS
    for b in prange(n_blocks):
        i0 = b * CORE_ROWS
        r = min(n, i0 + CORE_ROWS) - i0
        Q = Xc[i0:i0 + r]
        P = np.empty((r, CORE_CHUNK))
        E = np.empty((r, n))
        upper = np.full((r, k), np.inf)
        limit = np.full(r, np.inf)
        for g in range(tiles.shape[0]):
            s = g * CORE_CHUNK
            m = min(n, s + CORE_CHUNK) - s
            tile_products(Q, tiles[g], m, P)
            for rr in range(r):
                i = i0 + rr
                si = sq[i]
                ni = norms[i]
                lim = limit[rr]
                p_row = P[rr]
                e_row = E[rr, s:s + m]
                sq_c = sq[s:s + m]
                norms_c = norms[s:s + m]
                below = 0
                for q in range(np.uint64(m)):
                    t = ni + norms_c[q]
                    est = si + sq_c[q] - 2.0 * p_row[q]
                    e_row[q] = est
                    below += est + (a * t * t + c) < lim
                if below > 0:
                    up = upper[rr]
                    for q in range(m):
                        t = ni + norms_c[q]
                        insert_smallest(up, e_row[q] + (a * t * t + c))
                    limit[rr] = up[k - 1]
        for rr in range(r):
            i = i0 + rr
            ni = norms[i]
            lim = limit[rr]
            best = np.full(k, np.inf)
            e_all = E[rr]
            for s in range(0, n, CORE_CHUNK):
                m = min(n, s + CORE_CHUNK) - s
                e_row = e_all[s:s + m]
                norms_c = norms[s:s + m]
                near = 0
                for q in range(np.uint64(m)):
                    t = ni + norms_c[q]
                    near += e_row[q] - (a * t * t + c) <= lim
                if near == 0:
                    continue
                for q in range(m):
                    t = ni + norms_c[q]
                    if e_row[q] - (a * t * t + c) <= lim:
                        j = s + q
                        acc = 0.0
                        for f in range(d):
                            v = X[i, f] - X[j, f]
                            acc += v * v
                        insert_smallest(best, acc)
            out[i] = best[k - 1]


def knn_tolerance_consts(n_features):
    """``(a, c)`` for :func:`core_rdist_points`: the products and norms of
    centred float64 rows (``gamma_{d+2} + 3u``) plus the exact sum's own
    rounding (``gamma_d D <= gamma_d (|x| + |y|)^2``), doubled for margin, and
    underflow."""
    u = 2.0 ** -53
    d = n_features + 2
    gamma = d * u / (1.0 - d * u)
    a = 2.0 * (gamma + 3.0 * u + gamma)
    c = 2.0 * 4.0 * d * np.finfo(np.float64).tiny
    return a, c
