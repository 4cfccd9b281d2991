"""Shared K-Means reductions: group partials, inertia, empty-cluster relocation, centre update.

Every pass of the package cuts the rows into the groups of ``bounds`` and
reduces per-group partials in group order (:func:`_reduce_groups`), so a
result depends on ``bounds`` only, never on the number of threads. This module
holds what every algorithm shares after its assignment step: the weighted
inertia, the relocation of empty clusters to the farthest points (as
scikit-learn), the move of each centre to its points' weighted mean with the
shift, and the relative safety margins of the bound tests.
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

from clusterlab._kernels.distances import sq_dist_rows
from clusterlab._kernels.row_groups import on_threads

# Relative safety margin on bound tests: a point is skipped only if its
# upper bound is below its lower bound by more than accumulated rounding.
_HI = 1.0 + 1e-9
_LO = 1.0 - 1e-9

#: Elkan's E-step prefetches the interval row this many rows ahead
#: (:func:`clusterlab._kernels.distances.prefetch_row`; 2 and 4 measured alike).
_PREFETCH_AHEAD = 2
_EPS64 = 2.0 ** -52
_NO_WEIGHTS = np.empty(0)


@nb.njit(cache=True, nogil=True)
def n_distinct_labels(labels, k):
    """How many of the ``k`` clusters have at least one row in ``labels``
    (int32, values in ``[0, k)``): ``np.count_nonzero(np.bincount(labels))``
    without bincount's conversion of the labels to int64 (10^6 rows: 1.5 ->
    0.4 ms)."""
    seen = np.zeros(k, np.uint8)
    for i in range(labels.shape[0]):
        seen[labels[i]] = 1
    n = 0
    for j in range(k):
        n += seen[j]
    return n


def _reduce_groups(g_parts, out):
    """``out[:] = sum_g g_parts[g]`` over the leading axis (numpy: a fixed order for a
    fixed shape, so the result never depends on the thread count)."""
    np.sum(g_parts, axis=0, out=out)


@parallel_kernel(cache=True, nogil=True)
def _inertia_groups(X, sample_weight, centers, labels, bounds, g_inertia):
    for g in nb.prange(bounds.shape[0] - 1):
        g_inertia[g] = _inertia_range(X, sample_weight, centers, labels, bounds[g],
                                      bounds[g + 1])


@nb.njit(cache=True, nogil=True)
def _inertia_range(X, sample_weight, centers, labels, start, stop):
    acc = 0.0
    for i in range(start, stop):
        acc += np.float64(sample_weight[i]) * sq_dist_rows(X, i, centers, np.int64(labels[i]))
    return acc


def weighted_inertia(X, sample_weight, centers, labels, bounds, parallel):
    """``sum_i w_i ||x_i - centers[labels_i]||^2`` over row groups (float64).

    Parameters
    ----------
    X : IN (n, d); sample_weight : IN (n,); centers : IN (k, d);
    labels : IN (n,) int32; bounds : IN (G + 1,) int64; parallel : IN bool
    """
    if bounds.shape[0] == 2:
        return _inertia_range(X, sample_weight, centers, labels, 0, X.shape[0])
    g_inertia = np.zeros(bounds.shape[0] - 1)
    kernel = on_threads(_inertia_groups, parallel)
    kernel(X, sample_weight, centers, labels, bounds, g_inertia)
    return float(np.sum(g_inertia))


@parallel_kernel(cache=True, nogil=True)
def _sq_dist_to_assigned_groups(X, centers, labels, bounds, out):
    for g in nb.prange(bounds.shape[0] - 1):
        _sq_dist_to_assigned_range(X, centers, labels, bounds[g], bounds[g + 1], out)


@nb.njit(cache=True, nogil=True)
def _sq_dist_to_assigned_range(X, centers, labels, start, stop, out):
    for i in range(start, stop):
        out[i] = sq_dist_rows(X, i, centers, np.int64(labels[i]))


@nb.njit(cache=True, nogil=True)
def _farthest_rows(weights, min_sq_dist):
    """The rows that relocation gives to the empty clusters (``weights == 0``):
    as many as there are empty clusters (at most n), largest ``min_sq_dist``
    first, ties to the lowest row."""
    n = min_sq_dist.shape[0]
    n_empty = 0
    for j in range(weights.shape[0]):
        if weights[j] == 0.0:
            n_empty += 1
    n_empty = min(n_empty, n)
    chosen = np.empty(n_empty, np.int64)
    taken = np.zeros(n, np.bool_)
    for e in range(n_empty):
        best = -1
        best_d = -1.0
        for i in range(n):
            if not taken[i] and min_sq_dist[i] > best_d:
                best_d = min_sq_dist[i]
                best = i
        taken[best] = True
        chosen[e] = best
    return chosen


@nb.njit(cache=True, nogil=True)
def _any_positive(min_sq_dist):
    # Every row on its centre (more clusters than distinct rows): scikit-learn
    # does not relocate then -- there is no point farther than another.
    for i in range(min_sq_dist.shape[0]):
        if min_sq_dist[i] > 0.0:
            return True
    return False


@nb.njit(cache=True, nogil=True)
def relocate_empty_clusters(X, sample_weight, labels, min_sq_dist, sums, weights):
    """Move each empty cluster onto one of the points farthest from their centres.

    As scikit-learn: clusters with zero total weight, in index order, take the
    points with the largest ``min_sq_dist`` (largest first; ties to the lowest
    row). The point's contribution leaves its old cluster's sums; labels are
    not changed (the next E-step reassigns).

    Parameters
    ----------
    X : IN (n, d); sample_weight : IN (n,)
    labels : IN (n,) int32
    min_sq_dist : IN (n,) float64, squared distance of each row to its centre
    sums : INOUT (k, d) float64
    weights : INOUT (k,) float64

    Returns
    -------
    n_relocated : int

    Notes
    -----
    Time O(n * n_empty + n_empty d).
    """
    k = weights.shape[0]
    if not _any_positive(min_sq_dist):
        return 0
    chosen = _farthest_rows(weights, min_sq_dist)
    n_empty = chosen.shape[0]
    e = 0
    d = X.shape[1]
    for j in range(k):
        if weights[j] != 0.0 or e >= n_empty:
            continue
        i = chosen[e]
        e += 1
        w = np.float64(sample_weight[i])
        old = labels[i]
        for f in range(d):
            sums[old, f] -= w * X[i, f]
            sums[j, f] = w * X[i, f]
        weights[j] = w
        weights[old] -= w
    return e


@nb.njit(cache=True, nogil=True)
def average_centers(sums, weights, centers_old, centers_new, shift):
    """New centres = sums / weights; returns the total squared centre shift.

    A cluster of zero weight (left empty: relocation found no point off its
    centre, i.e. more clusters than distinct points) is placed on the new
    centre of the heaviest cluster (the first on ties), as scikit-learn means
    to place it. (scikit-learn's in-place loop copies that centre before
    dividing it when the heaviest cluster comes later: a weighted sum of the
    centred data plus the mean; clusterlab always uses the averaged centre.)

    Parameters
    ----------
    sums : IN (k, d) float64; weights : IN (k,) float64
    centers_old : IN (k, d) float64
    centers_new : OUT (k, d) float64
    shift : OUT (k,) float64, ``||centers_new[j] - centers_old[j]||``

    Returns
    -------
    float64, ``sum_j shift[j] ** 2``
    """
    k, d = sums.shape
    heaviest = 0
    for j in range(1, k):
        if weights[j] > weights[heaviest]:
            heaviest = j
    total = 0.0
    for j in range(k):
        wj = weights[j]
        s = 0.0
        for f in range(d):
            if wj > 0.0:
                v = sums[j, f] / wj
            elif weights[heaviest] > 0.0:
                v = sums[heaviest, f] / weights[heaviest]
            else:  # no weight anywhere
                v = sums[j, f]
            centers_new[j, f] = v
            diff = v - centers_old[j, f]
            s += diff * diff
        shift[j] = np.sqrt(s)
        total += s
    return total


def inertia_from_sums(x_sq_w, sums, weights, centers):
    """``sum_i w_i ||x_i - c_{l_i}||^2`` from the clusters' weighted sums:
    ``sum_i w_i ||x_i||^2 - sum_j (2 c_j . S_j - W_j ||c_j||^2)`` with
    ``x_sq_w = sum_i w_i ||x_i||^2``, ``S_j`` (``sums``) and ``W_j``
    (``weights``) those of the rows labelled ``j``.

    None when the subtraction would cancel more than 10 bits (the inertia
    below ``x_sq_w / 1024``: data far from the origin compared with their
    spread); the caller then sums the distances directly. Otherwise the
    relative error stays within about ``1024`` times that of the sums.
    """
    c_sq = np.einsum("ij,ij->i", centers, centers)
    value = x_sq_w - (2.0 * np.einsum("ij,ij->", centers, sums) - np.dot(weights, c_sq))
    if not (np.isfinite(value) and value > x_sq_w * 2.0 ** -10):
        return None
    return float(value)


@nb.njit(cache=True, nogil=True)
def _two_largest(shift):
    """Largest shift, its (first) index, and the largest shift of any other centre."""
    s1 = -1.0
    a1 = -1
    s2 = 0.0
    for j in range(shift.shape[0]):
        if shift[j] > s1:
            s2 = s1 if s1 > 0.0 else 0.0
            s1 = shift[j]
            a1 = j
        elif shift[j] > s2:
            s2 = shift[j]
    if shift.shape[0] == 1:
        s2 = 0.0
    return s1, a1, s2


def convergence(it, unchanged, shift_tot, tol, verbose):
    """scikit-learn's stopping rule and messages, shared by every K-Means loop.

    Parameters
    ----------
    it : int, the iteration just done (0-based)
    unchanged : bool, no label changed in this iteration (strict convergence)
    shift_tot : float, squared centre shift summed over clusters
    tol : float, absolute tolerance
    verbose : int, print "Converged at iteration ..." when non-zero

    Returns
    -------
    {"strict", "tol", None} : why the loop stops, or None to go on.
    """
    if unchanged:
        if verbose:
            print(f"Converged at iteration {it}: strict convergence.")
        return "strict"
    if shift_tot <= tol:
        if verbose:
            print(f"Converged at iteration {it}: center shift {shift_tot} within "
                  f"tolerance {tol}.")
        return "tol"
    return None

