"""Completing a disconnected connectivity graph: closest pairs between components."""

import numba as nb
import numpy as np

from .common import EUCLIDEAN, MANHATTAN, PRECOMPUTED, _pair_distance


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
