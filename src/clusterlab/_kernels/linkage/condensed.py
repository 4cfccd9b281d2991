"""The condensed (upper-triangle, row-major) distance matrix.

Pair ``i < j`` sits at ``n*i - i*(i+1)//2 + j - i - 1``. Euclidean distances
come from :func:`euclidean_condensed` (vectorised over a transposed copy, rows
split among threads by one range function, :func:`_euclidean_condensed_rows`,
run serially or per block in parallel -- each pair is computed the same way
either way); the other metrics from :func:`condensed_distances`.
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

from clusterlab import _config

from .common import EUCLIDEAN, PRECOMPUTED, _pair_distance, _sq_dists_to_column


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
    n_blocks = (_config.LINKAGE_CONDENSED_BLOCKS
                if parallel and n > _config.LINKAGE_PARALLEL_MIN_SAMPLES else 1)
    # block b covers the rows whose pairs fall in the b-th equal share
    pairs_before = np.concatenate(([0], np.cumsum(np.arange(n - 1, 0, -1))))
    cuts = np.searchsorted(pairs_before, np.linspace(0, pairs_before[-1], n_blocks + 1))
    cuts[0], cuts[-1] = 0, n - 1
    # one range function, run directly for one block (no parallel kernel to
    # compile for small inputs) or over the blocks by the parallel kernel
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


@parallel_kernel(cache=True, nogil=True)
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
