"""k-means++ seeding from a transposed copy of X (few features).

Distances are vectorised across rows of the ``(d, n)`` copy
(:func:`transpose_rows`); the candidates' potentials and the adoption of the
best one are those of the row-major kernels of :mod:`.kpp`.
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

from clusterlab._kernels.distances import FASTMATH
from clusterlab._kernels.kmeans.columnar import (
    _COL_BLOCK,
    _columnar_dist,
)
from clusterlab._kernels.kmeans.kpp import (
    _NO_BUF,
    _search,
)
from clusterlab._kernels.row_groups import on_threads

@parallel_kernel(cache=True, nogil=True)
def transpose_rows(X, XT):
    """``XT[f, i] = X[i, f]`` in parallel over blocks of rows (about 10x faster
    than ``np.ascontiguousarray(X.T)`` for a few tens of columns).

    Parameters
    ----------
    X : IN (n, d); XT : OUT (d, n), same dtype, C-contiguous
    """
    n, d = X.shape
    n_blocks = (n + _COL_BLOCK - 1) // _COL_BLOCK
    for blk in nb.prange(n_blocks):
        s = np.uint64(blk * _COL_BLOCK)
        m = np.uint64(min(_COL_BLOCK, n - blk * _COL_BLOCK))
        for f in range(d):
            out = XT[f]
            for b in range(m):
                out[s + b] = X[s + b, f]


@nb.njit(cache=True, nogil=True)
def _kpp_col_range(XT, sample_weight, closest, prev, candidates, start, stop, pots, D):
    t = candidates.shape[0]
    for c in range(t):
        pots[c] = 0.0
    for s0 in range(start, stop, _COL_BLOCK):
        s = np.uint64(s0)
        m = np.uint64(min(_COL_BLOCK, stop - s0))
        if prev.shape[0] > 0:
            _columnar_dist(XT, s, m, prev, 0, D)
            for b in range(m):
                ci = closest[s + b]
                closest[s + b] = D[b] if D[b] < ci else ci
        for c in range(t):
            _columnar_dist(XT, s, m, candidates, c, D)
            acc = 0.0
            for b in range(m):
                ci = closest[s + b]
                v = D[b] if D[b] < ci else ci
                acc += np.float64(sample_weight[s + b]) * v
            pots[c] += acc


# fastmath on the wrappers: numba compiles inline="always" code with the
# caller's flags, and the block distances must be contracted (fused
# multiply-adds) as in _col_row_dist to be bitwise equal.
@parallel_kernel(cache=True, nogil=True, fastmath=FASTMATH)
def _kpp_col_groups(XT, sample_weight, closest, prev, candidates, bounds, g_pots):
    for g in nb.prange(bounds.shape[0] - 1):
        D = np.empty(_COL_BLOCK)
        _kpp_col_range(XT, sample_weight, closest, prev, candidates, bounds[g],
                       bounds[g + 1], g_pots[g], D)


def kpp_columnar(XT, sample_weight, closest, prev, candidates, bounds, g_pots, parallel):
    """One k-means++ step on the transposed rows ``XT`` (d, n): adopt the
    previous choice, then score the candidates.

    For every row: first ``closest_i = min(closest_i, ||x_i - prev[0]||^2)``
    (skipped when ``prev`` has no row), then ``g_pots[g, c] += w_i
    min(closest_i, ||x_i - candidates[c]||^2)`` over the rows of group ``g``.
    The first centre is scored as the only candidate with ``closest = inf``.

    Parameters
    ----------
    XT : IN (d, n) float32/float64, C-contiguous (``X.T`` copied)
    sample_weight : IN (n,); closest : INOUT (n,) float64
    prev : IN (0 or 1, d) float64; candidates : IN (t, d) float64
    bounds : IN (G + 1,) int64
    g_pots : OUT (G, t) float64
    parallel : IN bool (same result either way; only the chosen kernel is compiled)

    Notes
    -----
    Time O(n (t + 1) d), no pruning, one pass over ``XT`` per centre: for a few
    tens of features the distances vectorise across 256-row blocks (no
    per-row horizontal sums), several times faster than the row-wise kernels.
    Memory: the caller's (d, n) copy of X plus 2 KiB per thread. Distances
    are bitwise those of :func:`kpp_columnar_search`.
    """
    kernel = on_threads(_kpp_col_groups, parallel)
    kernel(XT, sample_weight, closest, prev, candidates, bounds, g_pots)


@nb.njit(cache=True, nogil=True)
def kpp_columnar_search(XT, sample_weight, closest, prev, bounds, g_sums, values, out):
    """:func:`kpp_search` for the columnar kernel, where ``closest`` does not
    include the last choice yet: ``D_i = min(closest_i, ||x_i - prev[0]||^2)``,
    computed for the rows scanned (about one group per value).

    Parameters
    ----------
    XT : IN (d, n); sample_weight : IN (n,); closest : IN (n,) float64
    prev : IN (1, d) float64; bounds : IN (G + 1,) int64; g_sums : IN (G,) float64
    values : IN (t,) float64; out : OUT (t,) int64
    """
    _search(sample_weight, closest, _NO_BUF, -1, XT, prev, bounds, g_sums, values, out)
