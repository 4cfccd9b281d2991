"""Ward linkage on a condensed distance matrix, for many dimensions.

With d features, the nearest-neighbour chain on centroids costs O(n d) per
chain step; when d is large (feature agglomeration clusters thousands of
features described by hundreds of samples) it is cheaper to compute all n²/2
distances once -- as matrix products, in BLAS (:func:`condensed_from_gram`) --
and run the chain with Lance–Williams updates on them (O(n²) after the
distances: :func:`clusterlab._kernels.linkage.nn_chain_condensed`), the
algorithm scipy's ``linkage(method='ward')`` runs, with its tie rules.
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
