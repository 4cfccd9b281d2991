"""Ward's method by the nearest-neighbour chain on centroids (no distance matrix)."""

import numba as nb
import numpy as np

from .common import _sq_dists_to_column


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
