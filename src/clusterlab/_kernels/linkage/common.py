"""Codes and small pieces every linkage kernel shares.

Metric codes (:data:`EUCLIDEAN`, :data:`MANHATTAN`, :data:`COSINE`,
:data:`PRECOMPUTED`), linkage codes (:data:`WARD`, :data:`COMPLETE`,
:data:`AVERAGE`), the distance between two rows computed on the fly
(:func:`_pair_distance`), squared distances of one column to a run of columns of
a feature-major array (:func:`_sq_dists_to_column`, Ward and the condensed
matrix) and the union-find root with path compression (:func:`_find`).
"""

import numba as nb
import numpy as np

#: metric codes understood by the kernels
EUCLIDEAN = 0
MANHATTAN = 1
COSINE = 2
PRECOMPUTED = 3

#: linkage codes for :func:`.nn_chain.nn_chain_condensed` and
#: :func:`.connectivity.connectivity_merge`
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
