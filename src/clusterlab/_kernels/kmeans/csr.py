"""Lloyd's algorithm on sparse CSR rows (``data``, ``indices``, ``indptr``).

Distances go through ``||x||^2 + ||c||^2 - 2 x.c`` with the row norms
precomputed; the loop (:func:`csr_lloyd_run`) shares the convergence rules
and messages of the dense Lloyd loop.
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

from clusterlab._kernels.distances import (
    csr_sq_dist_row,
    dense_row_sq_norms,
)
from clusterlab._kernels.kmeans.common import (
    _any_positive,
    _farthest_rows,
    _reduce_groups,
    average_centers,
    convergence,
)
from clusterlab._kernels.row_groups import on_threads

# ----------------------------------------------------------------------------
# Sparse CSR Lloyd statistics


@nb.njit(cache=True, nogil=True)
def csr_lloyd_stats_range(data, indices, indptr, x_sq_norms, sample_weight, centers,
                          c_sq_norms, start, stop, labels, min_sq_dist, sums, weights):
    """:func:`lloyd_stats_range` for CSR rows (norms trick in float64).

    Parameters
    ----------
    data, indices, indptr : IN CSR arrays of X (n, d)
    x_sq_norms : IN (n,) float64; sample_weight : IN (n,)
    centers : IN (k, d) float64; c_sq_norms : IN (k,) float64
    start, stop : IN int
    labels : OUT (n,) int32; min_sq_dist : OUT (n,) float64
    sums : INOUT (k, d) float64; weights : INOUT (k,) float64
    """
    k = centers.shape[0]
    inertia = 0.0
    for i in range(start, stop):
        best = 0
        best_d = np.inf
        for j in range(k):
            dist = csr_sq_dist_row(data, indices, indptr, x_sq_norms, i, centers, c_sq_norms, j)
            if dist < best_d:
                best_d = dist
                best = j
        labels[i] = best
        min_sq_dist[i] = best_d
        w = np.float64(sample_weight[i])
        weights[best] += w
        inertia += w * best_d
        for p in range(indptr[i], indptr[i + 1]):
            sums[best, indices[p]] += w * data[p]
    return inertia


@parallel_kernel(cache=True, nogil=True)
def _csr_lloyd_groups(data, indices, indptr, x_sq_norms, sample_weight, centers, c_sq_norms,
                      bounds, labels, min_sq_dist, g_sums, g_weights, g_inertia):
    for g in nb.prange(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_inertia[g] = csr_lloyd_stats_range(data, indices, indptr, x_sq_norms, sample_weight,
                                             centers, c_sq_norms, bounds[g], bounds[g + 1],
                                             labels, min_sq_dist, g_sums[g], g_weights[g])


def csr_lloyd_stats(data, indices, indptr, x_sq_norms, sample_weight, centers, c_sq_norms,
                    bounds, labels, min_sq_dist, sums, weights, g_sums, g_weights, g_inertia,
                    parallel):
    """:func:`lloyd_stats` for CSR rows; same arguments plus the CSR arrays and norms."""
    sums[:] = 0.0
    weights[:] = 0.0
    if bounds.shape[0] == 2:
        return csr_lloyd_stats_range(data, indices, indptr, x_sq_norms, sample_weight,
                                     centers, c_sq_norms, 0, indptr.shape[0] - 1, labels,
                                     min_sq_dist, sums, weights)
    kernel = on_threads(_csr_lloyd_groups, parallel)
    kernel(data, indices, indptr, x_sq_norms, sample_weight, centers, c_sq_norms, bounds,
           labels, min_sq_dist, g_sums, g_weights, g_inertia)
    _reduce_groups(g_sums, sums)
    _reduce_groups(g_weights, weights)
    return float(np.sum(g_inertia))


@nb.njit(cache=True, nogil=True)
def csr_relocate_empty_clusters(data, indices, indptr, sample_weight, labels, min_sq_dist,
                                sums, weights):
    """:func:`relocate_empty_clusters` for CSR rows."""
    k = weights.shape[0]
    if not _any_positive(min_sq_dist):
        return 0
    chosen = _farthest_rows(weights, min_sq_dist)
    n_empty = chosen.shape[0]
    e = 0
    for j in range(k):
        if weights[j] != 0.0 or e >= n_empty:
            continue
        i = chosen[e]
        e += 1
        w = np.float64(sample_weight[i])
        old = labels[i]
        sums[j] = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            sums[old, indices[p]] -= w * data[p]
            sums[j, indices[p]] = w * data[p]
        weights[j] = w
        weights[old] -= w
    return e


def csr_lloyd_run(data, indices, indptr, x_sq_norms, sample_weight, centers_init, bounds,
                  max_iter, tol, verbose, labels, centers_out, parallel):
    """:func:`lloyd_run` for CSR input.

    Notes
    -----
    Time O(nnz k) per iteration; memory O(n + G k d).
    """
    n = indptr.shape[0] - 1
    k, d = centers_init.shape
    centers = centers_init.copy()
    centers_new = np.empty_like(centers)
    c_sq = np.empty(k)
    labels_old = np.full(n, -1, np.int32)
    min_sq = np.empty(n)
    sums = np.zeros((k, d))
    weights = np.zeros(k)
    shift = np.zeros(k)
    n_groups = bounds.shape[0] - 1
    g_sums = np.empty((n_groups, k, d))
    g_weights = np.empty((n_groups, k))
    g_inertia = np.empty(n_groups)
    strict = False
    it = 0
    for it in range(max_iter):
        dense_row_sq_norms(centers, c_sq)
        inertia = csr_lloyd_stats(data, indices, indptr, x_sq_norms, sample_weight, centers,
                                  c_sq, bounds, labels, min_sq, sums, weights, g_sums,
                                  g_weights, g_inertia, parallel)
        if not weights.all():
            csr_relocate_empty_clusters(data, indices, indptr, sample_weight, labels, min_sq,
                                        sums, weights)
        shift_tot = average_centers(sums, weights, centers, centers_new, shift)
        if verbose:
            print(f"Iteration {it}, inertia {inertia}.")
        centers, centers_new = centers_new, centers
        stop = convergence(it, np.array_equal(labels, labels_old), shift_tot, tol, verbose)
        if stop:
            strict = stop == "strict"
            break
        labels_old[:] = labels
    if not strict:
        dense_row_sq_norms(centers, c_sq)
        csr_lloyd_stats(data, indices, indptr, x_sq_norms, sample_weight, centers, c_sq,
                        bounds, labels, min_sq, sums, weights, g_sums, g_weights, g_inertia,
                        parallel)
    centers_out[:] = centers
    dense_row_sq_norms(centers, c_sq)
    return _csr_inertia(data, indices, indptr, x_sq_norms, sample_weight, centers, c_sq,
                        labels), it + 1


@nb.njit(cache=True, nogil=True)
def _csr_inertia(data, indices, indptr, x_sq_norms, sample_weight, centers, c_sq, labels):
    inertia = 0.0
    for i in range(indptr.shape[0] - 1):
        inertia += np.float64(sample_weight[i]) * csr_sq_dist_row(
            data, indices, indptr, x_sq_norms, i, centers, c_sq, labels[i])
    return inertia
