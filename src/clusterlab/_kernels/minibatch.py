"""Numba kernels for mini-batch K-Means.

Every kernel works on C-contiguous ``float32`` or ``float64`` arrays and is
specialised lazily by numba on the dtype it is first called with (so a
float32 fit and a float64 fit compile one signature each). No kernel
validates its input: the estimator in :mod:`clusterlab.cluster.minibatch`
does that. Arguments are marked IN (read), OUT (written) or INOUT.

The step of mini-batch K-Means (Sculley 2010, "Web-scale k-means
clustering"), in the per-centre-count form that scikit-learn uses, is split
in two so that a batch can be streamed through in row chunks:

1. :func:`assign_accumulate` -- nearest centre of every row of a chunk, and
   the per-centre weighted sums ``sum_i w_i x_i`` and ``sum_i w_i`` of the
   rows assigned to it, accumulated in float64;
2. :func:`finalize_minibatch_step` -- for every centre that received weight
   in this batch, ``c <- (c * count + sum w x) / (count + sum w)`` and
   ``count += sum w`` (a learning rate of ``1 / count`` per sample); centres
   that received nothing are copied unchanged.

:func:`labels_inertia` and :func:`center_distances` serve ``labels_``,
``predict``, ``score`` and ``transform``.
"""

import numba
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

# ``reassoc`` lets LLVM vectorise the squared-distance reduction over
# features; the data are validated finite before any kernel runs, so no
# NaN/inf semantics are relaxed.
_FASTMATH = {"reassoc", "contract", "nsz"}

#: Rows per parallel block: a block is the unit of work of one thread.
_BLOCK = 256


@numba.njit(cache=True, nogil=True, fastmath=_FASTMATH, inline="always")
def _nearest(X, i, centers):
    """Index of the centre nearest to row ``i`` of ``X`` (first one on ties)."""
    n_clusters, n_features = centers.shape
    best = 0
    best_dist = X.dtype.type(np.inf)
    for c in range(n_clusters):
        dist = X.dtype.type(0)
        for j in range(n_features):
            diff = X[i, j] - centers[c, j]
            dist += diff * diff
        if dist < best_dist:
            best_dist = dist
            best = c
    return best


@numba.njit(cache=True, nogil=True)
def _row_sq_dist64(X, i, centers, c):
    """Squared distance between row ``i`` and centre ``c``, summed in float64."""
    acc = 0.0
    for j in range(X.shape[1]):
        diff = np.float64(X[i, j]) - np.float64(centers[c, j])
        acc += diff * diff
    return acc


@numba.njit(cache=True, nogil=True, fastmath=_FASTMATH)
def _assign_rows(X, sample_weight, centers, labels, row_inertia, start, stop):
    for i in range(start, stop):
        best = _nearest(X, i, centers)
        labels[i] = best
        row_inertia[i] = np.float64(sample_weight[i]) * _row_sq_dist64(X, i, centers,
                                                                    np.int64(best))


@parallel_kernel(cache=True, nogil=True)
def labels_inertia(X, sample_weight, centers, labels, row_inertia):
    """Nearest centre and weighted squared distance of every row (parallel).

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features), float32 or float64  (IN)
        Rows to assign.
    sample_weight : ndarray of shape (n_rows,), same dtype as X  (IN)
        Weight of each row (multiplies its squared distance).
    centers : ndarray of shape (n_clusters, n_features), same dtype  (IN)
        Cluster centres.
    labels : ndarray of shape (n_rows,), int32  (OUT)
        Index of the nearest centre (the lowest index on exact ties).
    row_inertia : ndarray of shape (n_rows,), float64  (OUT)
        ``sample_weight[i] * ||X[i] - centers[labels[i]]||^2``, computed in
        float64 for the chosen centre.

    Returns
    -------
    inertia : float
        Sum of ``row_inertia`` in row order (independent of the thread count).

    Notes
    -----
    Time O(n_rows * n_clusters * n_features), parallel over blocks of
    ``_BLOCK`` rows; no scratch memory. Meant for large chunks (full passes
    over the data); a mini-batch step uses :func:`labels_inertia_serial`,
    because waking threads costs more than a small batch on a busy machine.
    """
    n_rows = X.shape[0]
    n_blocks = (n_rows + _BLOCK - 1) // _BLOCK
    for b in numba.prange(n_blocks):
        start = b * _BLOCK
        _assign_rows(X, sample_weight, centers, labels, row_inertia, start,
                     min(start + _BLOCK, n_rows))
    total = 0.0
    for i in range(n_rows):
        total += row_inertia[i]
    return total


@numba.njit(cache=True, nogil=True)
def labels_inertia_serial(X, sample_weight, centers, labels, row_inertia):
    """Same as :func:`labels_inertia` on one thread (for small batches)."""
    _assign_rows(X, sample_weight, centers, labels, row_inertia, np.int64(0), X.shape[0])
    total = 0.0
    for i in range(X.shape[0]):
        total += row_inertia[i]
    return total


@numba.njit(cache=True, nogil=True)
def sample_from_cdf(cdf, uniform, out):
    """Invert a cumulative distribution: ``out[s] = #{i : cdf[i] <= uniform[s]}``.

    Parameters
    ----------
    cdf : ndarray of shape (n,), float64  (IN)
        Non-decreasing, ``cdf[-1] == 1``.
    uniform : ndarray of shape (m,), float64 in [0, 1)  (IN)
    out : ndarray of shape (m,), int64  (OUT)
        Same as ``cdf.searchsorted(uniform, side="right")``.

    Notes
    -----
    Each search starts at the guess ``uniform * n`` (exact for unit weights)
    and gallops outwards, so a draw costs O(1) for near-uniform weights and
    O(log n) at worst, touching a few cache lines instead of the ~log2(n)
    scattered ones of a plain binary search. Time O(m log n), no scratch.
    """
    n = cdf.shape[0]
    for s in range(uniform.shape[0]):
        x = uniform[s]
        g = int(x * n)
        if g < 0:
            g = 0
        elif g > n - 1:
            g = n - 1
        # invariant sought: lo == -1 or cdf[lo] <= x, and hi == n or cdf[hi] > x
        if cdf[g] > x:
            hi = g
            step = 1
            lo = g - 1
            while lo >= 0 and cdf[lo] > x:
                hi = lo
                step *= 2
                lo = g - step
            if lo < -1:
                lo = -1
        else:
            lo = g
            step = 1
            hi = g + 1
            while hi < n and cdf[hi] <= x:
                lo = hi
                step *= 2
                hi = g + step
            if hi > n:
                hi = n
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if cdf[mid] > x:
                hi = mid
            else:
                lo = mid
        out[s] = hi


@numba.njit(cache=True, nogil=True)
def assign_accumulate(X, sample_weight, centers, labels, row_inertia, sums, weight_in_batch):
    """Assign the rows of a batch chunk and accumulate per-centre sums.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features), float32 or float64  (IN)
        A chunk of the mini-batch.
    sample_weight : ndarray of shape (n_rows,), same dtype as X  (IN)
        Weight of each row.
    centers : ndarray of shape (n_clusters, n_features), same dtype  (IN)
        Centres before this step.
    labels : ndarray of shape (n_rows,), int32  (OUT)
        Nearest centre of each row.
    row_inertia : ndarray of shape (n_rows,), float64  (OUT)
        Weighted squared distance of each row to its centre.
    sums : ndarray of shape (n_clusters, n_features), float64  (INOUT)
        ``sum_i w_i x_i`` over the rows assigned to each centre; the rows of
        this chunk are added in row order.
    weight_in_batch : ndarray of shape (n_clusters,), float64  (INOUT)
        ``sum_i w_i`` over the rows assigned to each centre.

    Returns
    -------
    inertia : float
        Weighted inertia of the chunk with respect to ``centers``.

    Notes
    -----
    Time O(n_rows * n_clusters * n_features); the assignment is parallel,
    the accumulation sequential in row order, so the result does not depend
    on the number of threads.
    """
    inertia = labels_inertia_serial(X, sample_weight, centers, labels, row_inertia)
    n_features = X.shape[1]
    for i in range(X.shape[0]):
        c = labels[i]
        w = np.float64(sample_weight[i])
        weight_in_batch[c] += w
        for j in range(n_features):
            sums[c, j] += w * X[i, j]
    return inertia


@numba.njit(cache=True, nogil=True)
def finalize_minibatch_step(centers_old, centers_new, counts, sums, weight_in_batch):
    """Move every centre that received weight to the running mean.

    Parameters
    ----------
    centers_old : ndarray of shape (n_clusters, n_features)  (IN)
        Centres before the step.
    centers_new : ndarray of shape (n_clusters, n_features), same dtype  (OUT)
        Centres after the step; may be the same array as ``centers_old``.
    counts : ndarray of shape (n_clusters,), same dtype  (INOUT)
        Total weight each centre has absorbed so far; ``weight_in_batch`` is
        added to it.
    sums : ndarray of shape (n_clusters, n_features), float64  (IN)
        ``sum_i w_i x_i`` of the batch rows assigned to each centre.
    weight_in_batch : ndarray of shape (n_clusters,), float64  (IN)
        ``sum_i w_i`` of the batch rows assigned to each centre.

    Notes
    -----
    ``c_new = (c_old * count + sum_i w_i x_i) / (count + sum_i w_i)``: the
    per-sample learning rate is ``1 / count``. Time and memory
    O(n_clusters * n_features).
    """
    n_clusters, n_features = centers_old.shape
    for c in range(n_clusters):
        w = weight_in_batch[c]
        if w > 0:
            old_count = np.float64(counts[c])
            counts[c] += w
            total = np.float64(counts[c])
            for j in range(n_features):
                centers_new[c, j] = (np.float64(centers_old[c, j]) * old_count + sums[c, j]) / total
        else:
            for j in range(n_features):
                centers_new[c, j] = centers_old[c, j]


@parallel_kernel(cache=True, nogil=True, fastmath=_FASTMATH)
def center_distances(X, centers, out, squared):
    """Euclidean distance of every row to every centre.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features), float32 or float64  (IN)
    centers : ndarray of shape (n_clusters, n_features), same dtype  (IN)
    out : ndarray of shape (n_rows, n_clusters), same dtype  (OUT)
        ``||X[i] - centers[c]||`` (squared if ``squared``), summed in float64.
    squared : bool  (IN)
        Return squared distances.

    Notes
    -----
    Time O(n_rows * n_clusters * n_features), parallel over rows; memory is
    the output only.
    """
    n_rows = X.shape[0]
    n_clusters = centers.shape[0]
    n_blocks = (n_rows + _BLOCK - 1) // _BLOCK
    for b in numba.prange(n_blocks):
        start = b * _BLOCK
        stop = min(start + _BLOCK, n_rows)
        for i in range(start, stop):
            for c in range(n_clusters):
                d = _row_sq_dist64(X, i, centers, c)
                out[i, c] = d if squared else np.sqrt(d)


@numba.njit(cache=True, nogil=True)
def chunk_moments(X, col_sum, col_sq_dev, shift):
    """Add a chunk's column sums and squared deviations from ``shift``.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features)  (IN)
    col_sum : ndarray of shape (n_features,), float64  (INOUT)
        ``sum_i (X[i, j] - shift[j])`` is added.
    col_sq_dev : ndarray of shape (n_features,), float64  (INOUT)
        ``sum_i (X[i, j] - shift[j])**2`` is added.
    shift : ndarray of shape (n_features,), float64  (IN)
        A provisional mean (the first row), for a numerically stable
        one-pass variance.

    Returns
    -------
    all_finite : bool
        False if the chunk holds a NaN or an infinity.

    Notes
    -----
    Time O(n_rows * n_features), no scratch memory: this is how a memory
    mapped array is validated and its per-feature variance computed without
    a full-size temporary.
    """
    finite = True
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            v = np.float64(X[i, j])
            if not np.isfinite(v):
                finite = False
            dv = v - shift[j]
            col_sum[j] += dv
            col_sq_dev[j] += dv * dv
    return finite


# ----------------------------------------------------------------------------
# assignment from a precomputed X @ centers.T (BLAS), as scikit-learn does:
# ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2, and ||x||^2 does not change the argmin
# ----------------------------------------------------------------------------
@numba.njit(cache=True, nogil=True)
def _argmin_from_dots(dots, center_sq, i):
    best = 0
    best_val = center_sq[0] - 2 * dots[i, 0]
    for c in range(1, center_sq.shape[0]):
        val = center_sq[c] - 2 * dots[i, c]
        if val < best_val:
            best_val = val
            best = c
    return best


@numba.njit(cache=True, nogil=True)
def _assign_rows_dots(X, sample_weight, centers, center_sq, dots, labels, row_inertia,
                      start, stop):
    for i in range(start, stop):
        best = _argmin_from_dots(dots, center_sq, i)
        labels[i] = best
        row_inertia[i] = np.float64(sample_weight[i]) * _row_sq_dist64(X, i, centers,
                                                                    np.int64(best))


@numba.njit(cache=True, nogil=True)
def assign_accumulate_dots(X, sample_weight, centers, center_sq, dots, labels, row_inertia,
                           sums, weight_in_batch):
    """:func:`assign_accumulate` with the nearest centre read from ``dots``.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features), float32 or float64  (IN)
    sample_weight : ndarray of shape (n_rows,), same dtype  (IN)
    centers : ndarray of shape (n_clusters, n_features), same dtype  (IN)
    center_sq : ndarray of shape (n_clusters,), same dtype  (IN)
        ``||centers[c]||^2``.
    dots : ndarray of shape (n_rows, n_clusters), same dtype  (IN)
        ``X @ centers.T`` (one BLAS call by the caller).
    labels : ndarray of shape (n_rows,), int32  (OUT)
        ``argmin_c ||c||^2 - 2 x.c`` (the first on ties).
    row_inertia : ndarray of shape (n_rows,), float64  (OUT)
        Weighted squared distance to the chosen centre, computed exactly
        (by differences, in float64), not from the expansion.
    sums : ndarray of shape (n_clusters, n_features), float64  (INOUT)
    weight_in_batch : ndarray of shape (n_clusters,), float64  (INOUT)

    Returns
    -------
    inertia : float

    Notes
    -----
    Time O(n_rows * (n_clusters + n_features)) here, after the caller's
    O(n_rows * n_clusters * n_features) matrix product; sequential, in row
    order. The expansion can pick a centre that is farther by a rounding
    error when two centres are almost equidistant, exactly as scikit-learn's
    assignment does.
    """
    _assign_rows_dots(X, sample_weight, centers, center_sq, dots, labels, row_inertia,
                      np.int64(0), X.shape[0])
    total = 0.0
    n_features = X.shape[1]
    for i in range(X.shape[0]):
        total += row_inertia[i]
        c = labels[i]
        w = np.float64(sample_weight[i])
        weight_in_batch[c] += w
        for j in range(n_features):
            sums[c, j] += w * X[i, j]
    return total


@parallel_kernel(cache=True, nogil=True)
def labels_inertia_dots(X, sample_weight, centers, center_sq, dots, labels, row_inertia):
    """:func:`labels_inertia` with the nearest centre read from ``dots`` (parallel).

    Arguments as in :func:`assign_accumulate_dots` (``labels`` and
    ``row_inertia`` OUT). Returns the weighted inertia summed in row order.

    Notes
    -----
    Time O(n_rows * (n_clusters + n_features)) after the caller's matrix
    product, parallel over blocks of rows; no scratch memory.
    """
    n_rows = X.shape[0]
    n_blocks = (n_rows + _BLOCK - 1) // _BLOCK
    for b in numba.prange(n_blocks):
        start = b * _BLOCK
        _assign_rows_dots(X, sample_weight, centers, center_sq, dots, labels, row_inertia,
                          start, min(start + _BLOCK, n_rows))
    total = 0.0
    for i in range(n_rows):
        total += row_inertia[i]
    return total


@numba.njit(cache=True, nogil=True)
def labels_inertia_dots_serial(X, sample_weight, centers, center_sq, dots, labels,
                               row_inertia):
    """Same as :func:`labels_inertia_dots` on one thread (for small inputs)."""
    _assign_rows_dots(X, sample_weight, centers, center_sq, dots, labels, row_inertia,
                      np.int64(0), X.shape[0])
    total = 0.0
    for i in range(X.shape[0]):
        total += row_inertia[i]
    return total
