"""Ward linkage on a condensed distance matrix, for many dimensions.

With d features, the nearest-neighbour chain on centroids costs O(n d) per
chain step; when d is large (feature agglomeration clusters thousands of
features described by hundreds of samples) it is cheaper to compute all n²/2
distances once -- as matrix products, in BLAS -- and run the chain with
Lance–Williams updates on them (O(n²) after the distances), the algorithm
scipy's ``linkage(method='ward')`` runs, with its tie rules.
"""

import numba
import numpy as np
from numba import prange
from clusterlab._kernels.row_groups import parallel_kernel


@numba.njit(cache=True, nogil=True, inline="always")
def _cidx(n, i, j):
    # position of the pair (i, j), i < j, in the condensed matrix
    return n * i - (i * (i + 1)) // 2 + j - i - 1


@parallel_kernel(cache=True, nogil=True)
def condensed_from_gram(G, sq, X, i0, refine, D):
    """Write the distances of rows ``i0 .. i0 + b - 1`` to every later row.

    ``d(i, j)² = |x_i|² + |x_j|² - 2 x_i·x_j`` from a block of the Gram
    matrix; where that difference is at most ``refine`` times
    ``|x_i|² + |x_j|²`` (where the identity may have cancelled) the distance
    is summed directly over the features instead.

    Parameters
    ----------
    G : IN ndarray (b, n - i0) float64, ``G[r, c] = x_{i0+r} · x_{i0+c}``
    sq : IN ndarray (n,) float64, squared row norms
    X : IN ndarray (n, d) float64, C-contiguous (for the direct sums)
    i0 : IN int, first row of the block
    refine : IN float, relative threshold of the direct sums
    D : OUT ndarray (n*(n-1)//2,) float64, condensed distances, the entries
        of rows ``i0 .. i0 + b - 1`` written
    """
    n = X.shape[0]
    d = X.shape[1]
    b = G.shape[0]
    for r in prange(b):
        i = i0 + r
        base = _cidx(n, i, i + 1) - (i + 1)
        for j in range(i + 1, n):
            s = sq[i] + sq[j]
            v = s - 2.0 * G[r, j - i0]
            if v <= refine * s:
                v = 0.0
                for f in range(d):
                    t = X[i, f] - X[j, f]
                    v += t * t
            D[base + j] = np.sqrt(max(v, 0.0))


@numba.njit(cache=True, nogil=True)
def ward_chain(D, n, out_x, out_y, out_dist):
    """Ward linkage by the nearest-neighbour chain on condensed distances.

    Parameters
    ----------
    D : INOUT ndarray (n*(n-1)//2,) float64, Euclidean distances; overwritten
        with Ward distances between clusters (Lance–Williams updates)
    n : IN int, number of points
    out_x, out_y : OUT ndarray (n-1,) int64, the merged clusters, each named
        by one of its points (``out_x < out_y``; the merged cluster keeps the
        name ``out_y``), in the order found
    out_dist : OUT ndarray (n-1,) float64, Ward distance of each merge

    Notes
    -----
    Time O(n²) (each merge scans and updates one row of the active
    clusters), memory: ``D`` plus O(n). Ties as scipy's ``nn_chain``: the
    chain starts at the lowest active cluster, keeps the previous chain
    element on a tie, else the lowest index.
    """
    size = np.ones(n, dtype=np.int64)
    active = np.arange(n)
    n_active = n
    chain = np.empty(n, dtype=np.int64)
    chain_len = 0
    for k in range(n - 1):
        if chain_len == 0:
            chain[0] = active[0]
            chain_len = 1
        while True:
            x = chain[chain_len - 1]
            if chain_len > 1:
                y = chain[chain_len - 2]
                current = D[_cidx(n, min(x, y), max(x, y))]
            else:
                y = -1
                current = np.inf
            for a in range(n_active):
                i = active[a]
                if i == x:
                    continue
                dist = D[_cidx(n, i, x)] if i < x else D[_cidx(n, x, i)]
                if dist < current:
                    current = dist
                    y = i
            if chain_len > 1 and y == chain[chain_len - 2]:
                break
            chain[chain_len] = y
            chain_len += 1
        chain_len -= 2
        if x > y:
            x, y = y, x
        nx = size[x]
        ny = size[y]
        out_x[k] = x
        out_y[k] = y
        out_dist[k] = current
        size[x] = 0
        size[y] = nx + ny
        # drop x from the (sorted) active list
        pos = 0
        while active[pos] != x:
            pos += 1
        for a in range(pos, n_active - 1):
            active[a] = active[a + 1]
        n_active -= 1
        dxy2 = current * current
        for a in range(n_active):
            i = active[a]
            if i == y:
                continue
            ni = size[i]
            ix = _cidx(n, i, x) if i < x else _cidx(n, x, i)
            iy = _cidx(n, i, y) if i < y else _cidx(n, y, i)
            dxi = D[ix]
            dyi = D[iy]
            t = 1.0 / (nx + ny + ni)
            D[iy] = np.sqrt((ni + nx) * t * dxi * dxi + (ni + ny) * t * dyi * dyi
                            - ni * t * dxy2)


@numba.njit(cache=True, nogil=True)
def label_merges(x, y, n, children):
    """Rename merges of point-named clusters to tree node ids.

    Parameters
    ----------
    x, y : IN ndarray (n-1,) int64, merges (clusters named by a point), in
        the order of the tree (sorted by distance)
    n : IN int
    children : OUT ndarray (n-1, 2) int64: node ids (leaves ``0..n-1``, merge
        ``k`` makes node ``n + k``), the smaller id first
    """
    node_of = np.arange(n)  # the current node of the cluster named by a point

    for k in range(n - 1):
        a = node_of[x[k]]
        b = node_of[y[k]]
        if a < b:
            children[k, 0] = a
            children[k, 1] = b
        else:
            children[k, 0] = b
            children[k, 1] = a
        node_of[x[k]] = n + k
        node_of[y[k]] = n + k
