"""Per-cluster weighted sums, and their incremental update from the rows that changed label.

Hamerly, Elkan and Yinyang keep ``sums``/``weights``/``counts`` across
iterations and move only the contributions of rows whose label changed
(:func:`apply_moves`, per row group when enough rows moved:
:func:`moves_pay_by_group`); :func:`cluster_sums` recomputes them from scratch.
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

from clusterlab._kernels.distances import (
    add_row,
    move_row,
    prefetch_row,
)
from clusterlab._kernels.kmeans.common import (
    _PREFETCH_AHEAD,
    _reduce_groups,
)
from clusterlab._kernels.row_groups import on_threads

@nb.njit(cache=True, nogil=True)
def _sums_range(X, sample_weight, labels, start, stop, sums, weights, counts):
    for i in range(start, stop):
        add_row(X, sample_weight, i, labels[i], sums, weights, counts)


@parallel_kernel(cache=True, nogil=True)
def _sums_groups(X, sample_weight, labels, bounds, g_sums, g_weights, g_counts):
    for g in nb.prange(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_counts[g] = 0
        _sums_range(X, sample_weight, labels, bounds[g], bounds[g + 1], g_sums[g],
                    g_weights[g], g_counts[g])


def cluster_sums(X, sample_weight, labels, bounds, sums, weights, counts, g_sums, g_weights,
                 g_counts, parallel):
    """Weighted sums, weights and non-zero-weight counts per cluster, from labels.

    Parameters
    ----------
    X : IN (n, d); sample_weight : IN (n,); labels : IN (n,) int32
    bounds : IN (G + 1,) int64
    sums : OUT (k, d) float64; weights : OUT (k,) float64; counts : OUT (k,) int64
    g_sums, g_weights, g_counts : scratch (G, k, d), (G, k), (G, k)
    parallel : IN bool (same result either way)
    """
    if bounds.shape[0] == 2:
        sums[:] = 0.0
        weights[:] = 0.0
        counts[:] = 0
        _sums_range(X, sample_weight, labels, 0, X.shape[0], sums, weights, counts)
        return
    kernel = on_threads(_sums_groups, parallel)
    kernel(X, sample_weight, labels, bounds, g_sums, g_weights, g_counts)
    _reduce_groups(g_sums, sums)
    _reduce_groups(g_weights, weights)
    _reduce_groups(g_counts, counts)


@nb.njit(cache=True, nogil=True)
def _moves_range(X, sample_weight, labels, moved_from, start, stop, sums, weights, counts):
    # move the contribution of relabelled rows [start, stop), in row order. The
    # relabelled rows of each chunk are listed first (sixteen entries of
    # moved_from tested at a time: late E-steps relabel a few rows in 10^6,
    # and a row-by-row scan cost ~0.7 ms per E-step on 10^6 rows), then
    # moved with the row _PREFETCH_AHEAD places ahead prefetched (they are
    # scattered: the hardware prefetcher does not see them coming)
    d = X.shape[1]
    buf = np.empty(_MOVES_CHUNK + 16, np.int64)
    for c0 in range(start, stop, _MOVES_CHUNK):
        m = _list_moved(moved_from, c0, min(stop, c0 + _MOVES_CHUNK), buf)
        for t in range(m):
            if t + _PREFETCH_AHEAD < m:
                prefetch_row(X, buf[t + _PREFETCH_AHEAD])
            i = buf[t]
            move_row(X, sample_weight, i, moved_from[i], labels[i], sums, weights, counts)


#: Rows of moved_from listed at a time by :func:`_moves_range`.
_MOVES_CHUNK = 4096


@nb.njit(cache=True, nogil=True, inline="always")
def _list_moved(moved_from, start, stop, buf):
    # the rows i in [start, stop) with moved_from[i] >= 0, in order, into buf
    # (len >= stop - start + 16); returns their number
    m = 0
    i = start
    while i + 16 <= stop:
        mx = moved_from[i]
        for q in range(1, 16):
            mx = max(mx, moved_from[i + q])
        if mx >= 0:
            for q in range(16):
                buf[m] = i + q
                m += moved_from[i + q] >= 0
        i += 16
    while i < stop:
        buf[m] = i
        m += moved_from[i] >= 0
        i += 1
    return m


@nb.njit(cache=True, nogil=True)
def _clear_emptied(sums, weights, counts):
    for j in range(sums.shape[0]):
        if counts[j] == 0:  # no drift: an emptied cluster is exactly empty
            weights[j] = 0.0
            sums[j] = 0.0


@nb.njit(cache=True, nogil=True)
def apply_moves(X, sample_weight, labels, moved_from, sums, weights, counts):
    """Move the contribution of relabelled rows between cluster sums (serial, row order).

    Parameters
    ----------
    X : IN (n, d); sample_weight : IN (n,)
    labels : IN (n,) int32, new labels
    moved_from : IN (n,) int32, old label or -1
    sums : INOUT (k, d) float64; weights : INOUT (k,) float64; counts : INOUT (k,) int64
    """
    _moves_range(X, sample_weight, labels, moved_from, np.int64(0), X.shape[0], sums, weights,
                 counts)
    _clear_emptied(sums, weights, counts)


@parallel_kernel(cache=True, nogil=True)
def _moves_groups(X, sample_weight, labels, moved_from, bounds, g_sums, g_weights, g_counts):
    for g in nb.prange(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_counts[g] = 0
        _moves_range(X, sample_weight, labels, moved_from, bounds[g], bounds[g + 1], g_sums[g],
                     g_weights[g], g_counts[g])


def moves_pay_by_group(n_samples, n_features, n_groups, n_clusters, n_changed):
    """Whether :func:`apply_moves_grouped` (per-group deltas, then a reduction
    of ``n_groups * n_clusters * n_features`` numbers) beats the serial
    :func:`apply_moves` (a scan of every row plus ``2 d`` per moved row).
    A function of the data only, never of the thread count. With one group
    the serial update does the same work without the reduction."""
    if n_groups < 2:
        return False
    return n_groups * n_clusters * n_features <= n_samples + 2 * n_features * n_changed


def apply_moves_grouped(X, sample_weight, labels, moved_from, bounds, sums, weights, counts,
                        g_sums, g_weights, g_counts, parallel):
    """:func:`apply_moves` by row groups: each group's moves go to its own
    deltas (row order), which are then added in group order; the result does
    not depend on the thread count (it may differ from :func:`apply_moves` in
    the last bits)."""
    kernel = on_threads(_moves_groups, parallel)
    kernel(X, sample_weight, labels, moved_from, bounds, g_sums, g_weights, g_counts)
    _apply_group_moves(sums, weights, counts, g_sums, g_weights, g_counts)


def _apply_group_moves(sums, weights, counts, g_sums, g_weights, g_counts):
    # add the per-group moved statistics, in group order
    sums += np.sum(g_sums, axis=0)
    weights += np.sum(g_weights, axis=0)
    counts += np.sum(g_counts, axis=0)
    _clear_emptied(sums, weights, counts)


def _move_rows(X, sample_weight, labels, moved_from, bounds, n_changed, sums, weights, counts,
               g_sums, g_weights, g_counts, parallel):
    # the relabelled rows' contributions moved between cluster sums, by
    # group or serially (moves_pay_by_group: a function of the data only)
    n, d = X.shape
    if moves_pay_by_group(n, d, bounds.shape[0] - 1, sums.shape[0], n_changed):
        apply_moves_grouped(X, sample_weight, labels, moved_from, bounds, sums, weights,
                            counts, g_sums, g_weights, g_counts, parallel)
    else:
        apply_moves(X, sample_weight, labels, moved_from, sums, weights, counts)
