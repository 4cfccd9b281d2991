"""Ward, complete and average linkage by the nearest-neighbour chain on a condensed matrix.

The algorithm needs every pairwise cluster distance (O(n^2) memory); merged
clusters are updated in place by the Lance-Williams formula.
"""

import numba as nb
import numpy as np

from ..search import lower_bound
from .common import AVERAGE, COMPLETE


@nb.njit(cache=True, nogil=True)
def _cidx(n, i, j):
    if i > j:
        i, j = j, i
    return n * i - (i * (i + 1)) // 2 + j - i - 1


@nb.njit(cache=True, nogil=True)
def nn_chain_condensed(D, n, method, out_a, out_b, out_dist):
    """Ward, complete or average linkage by the nearest-neighbour chain.

    Parameters
    ----------
    D : INOUT ndarray (n*(n-1)//2,) float64, condensed distances; overwritten
        with cluster distances (Lance–Williams updates)
    n : IN int, number of points
    method : IN int, WARD, COMPLETE or AVERAGE (Ward on Euclidean distances,
        scipy's update: the merge heights are Ward's distances)
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
    # in memory order (strided below the diagonal, contiguous above); beside
    # each, the offset of its row in ``D`` (pair (i, j), i < j, at base[i] + j).
    # Offsets and indices are unsigned in the loops: numba then drops its
    # wrap-around test for negative indices (1500 points, average linkage:
    # 17 -> 11 ms, scipy's loop 12.5 ms)
    active = np.arange(n).astype(np.int64)
    base = np.empty(n, dtype=np.uint64)
    for i in range(n):
        base[i] = np.uint64(n * i - (i * (i + 1)) // 2 - i - 1 + n)  # + n: never negative
    un = np.uint64(n)
    abase = base.copy()  # base of active[p], compacted with it
    m = n
    chain = np.empty(n, dtype=np.int64)
    chain_len = 0
    for k in range(n - 1):
        if chain_len == 0:
            chain[0] = active[0]
            chain_len = 1
        while True:
            x = chain[chain_len - 1]
            ux = np.uint64(x)
            bv = np.inf
            y = -1
            # ids increase along ``active``: the clusters below x (column x of
            # their rows, strided), then those above (row x, contiguous); no
            # branch on the side inside the loops. Strict < keeps the lowest id.
            px = lower_bound(active, m, x)
            if px > 0:
                bv = D[abase[0] + ux - un]
                y = active[0]
            for p in range(1, px):
                v = D[abase[p] + ux - un]
                if v < bv:
                    bv = v
                    y = active[p]
            bx = base[x] - un
            for p in range(px + 1, m):
                i = active[p]
                v = D[bx + np.uint64(i)]
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
        q = 0
        for p in range(m):
            if active[p] != x:
                active[q] = active[p]
                abase[q] = abase[p]
                q += 1
        m = q
        size[y] = nx + ny
        # Lance-Williams update of row/column y (x < y), in three ranges of
        # active ids so that each index is one formula: i < x, x < i < y, y < i
        py = lower_bound(active, m, y)
        pxm = lower_bound(active, py, x)
        ux = np.uint64(x)
        uy = np.uint64(y)
        for p in range(pxm):
            b_i = abase[p] - un
            _lance_williams(D, b_i + ux, b_i + uy, nx, ny, method, bv, size[active[p]])
        base_x = base[x] - un
        for p in range(pxm, py):
            i = active[p]
            _lance_williams(D, base_x + np.uint64(i), abase[p] - un + uy, nx, ny,
                            method, bv, size[i])
        base_y = base[y] - un
        for p in range(py + 1, m):
            ui = np.uint64(active[p])
            _lance_williams(D, base_x + ui, base_y + ui, nx, ny, method, bv, size[active[p]])


@nb.njit(cache=True, nogil=True, inline="always")
def _lance_williams(D, ixi, iyi, nx, ny, method, dxy, ni):
    # D[iyi] = the distance from the merged cluster (x + y) to i, given
    # D[ixi] = d(x, i), D[iyi] = d(y, i), d(x, y) = dxy and the sizes; the
    # operations of scipy's _hierarchy updates, in their order (same bits)
    dxi = D[ixi]
    dyi = D[iyi]
    if method == COMPLETE:
        D[iyi] = dxi if dxi > dyi else dyi
    elif method == AVERAGE:
        D[iyi] = (nx * dxi + ny * dyi) / (nx + ny)
    else:
        t = 1.0 / (nx + ny + ni)
        D[iyi] = np.sqrt((ni + nx) * t * dxi * dxi + (ni + ny) * t * dyi * dyi
                         - ni * t * dxy * dxy)
