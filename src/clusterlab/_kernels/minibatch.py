"""Numba kernels for mini-batch K-Means.

Every kernel works on C-contiguous ``float32`` or ``float64`` arrays and is
specialised lazily by numba on the dtype it is first called with (so a
float32 fit and a float64 fit compile one signature each). No kernel
validates its input: the estimator in :mod:`clusterlab.cluster.minibatch`
does that. Arguments are marked IN (read), OUT (written) or INOUT.

The step of mini-batch K-Means (Sculley 2010, "Web-scale k-means
clustering"), in the per-centre-count form that scikit-learn uses, is split
in two so that a batch can be streamed through in row chunks:

1. :func:`assign_accumulate_dots` -- nearest centre of every row of a chunk
   (read from the chunk's BLAS product with the centres, as scikit-learn
   assigns), and the per-centre weighted sums ``sum_i w_i x_i`` and
   ``sum_i w_i`` of the rows assigned to it, accumulated in X's dtype onto
   ``c * count`` (:func:`start_sums`), in scikit-learn's order of operations;
2. :func:`finalize_minibatch_step` -- for every centre that received weight
   in this batch, ``c <- (c * count + sum w x) / (count + sum w)`` and
   ``count += sum w`` (a learning rate of ``1 / count`` per sample); centres
   that received nothing are copied unchanged.

:func:`labels_inertia` (the BLAS product chunk by chunk, then
:func:`labels_inertia_dots`) serves the initialisations' comparison,
``labels_``, ``predict`` and ``score``; :func:`center_distances` serves
``transform``. Every assignment reads the nearest centre from the same
expansion ``||c||^2 - 2 x.c``, so a step, the final labels and ``predict``
agree on near-ties; inertias are always computed exactly, by differences.
"""

import numba
import numpy as np

from clusterlab import _config
from clusterlab._kernels.row_groups import on_threads, parallel_kernel

# ``reassoc`` lets LLVM vectorise the squared-distance reduction over
# features; the data are validated finite before any kernel runs, so no
# NaN/inf semantics are relaxed.
_FASTMATH = {"reassoc", "contract", "nsz"}

#: Rows per parallel block: a block is the unit of work of one thread.
_BLOCK = 256


@numba.njit(cache=True, nogil=True)
def _row_sq_dist64(X, i, centers, c):
    """Squared distance between row ``i`` and centre ``c``, summed in float64."""
    acc = 0.0
    for j in range(X.shape[1]):
        diff = np.float64(X[i, j]) - np.float64(centers[c, j])
        acc += diff * diff
    return acc


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
    sums : ndarray of shape (n_clusters, n_features), same dtype  (IN)
        ``c_old * count + sum_i w_i x_i``: the old centre times its count
        (:func:`start_sums`), then the batch rows assigned to it added one by
        one in row order.
    weight_in_batch : ndarray of shape (n_clusters,), same dtype  (IN)
        ``sum_i w_i`` of the batch rows assigned to each centre.

    Notes
    -----
    ``c_new = (c_old * count + sum_i w_i x_i) * (1 / (count + sum_i w_i))``:
    the per-sample learning rate is ``1 / count``. The operations and their
    order are scikit-learn's (the old centre scaled first, each row added to
    it, then one reciprocal), so float64 centres are its bits and near-ties
    at the next assignment fall the same way. Time and memory
    O(n_clusters * n_features).
    """
    n_clusters, n_features = centers_old.shape
    one = np.ones(1, counts.dtype)[0]  # the reciprocal in the centres' dtype
    for c in range(n_clusters):
        w = weight_in_batch[c]
        if w > 0:
            counts[c] += w
            alpha = one / counts[c]
            for j in range(n_features):
                centers_new[c, j] = sums[c, j] * alpha
        else:
            for j in range(n_features):
                centers_new[c, j] = centers_old[c, j]


def start_sums(centers, counts, sums):
    """``sums = centers * counts`` per centre (in the centres' dtype, as
    scikit-learn scales them): where a step's accumulation starts
    (:func:`finalize_minibatch_step`)."""
    np.multiply(centers, counts[:, None], out=sums, casting="unsafe")


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
    # in the arrays' dtype, as scikit-learn's GEMM gives it (dot + dot is 2 dot
    # exactly; an integer 2 would make numba compute float32 rows in float64)
    best = 0
    best_val = center_sq[0] - (dots[i, 0] + dots[i, 0])
    for c in range(1, center_sq.shape[0]):
        val = center_sq[c] - (dots[i, c] + dots[i, c])
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
    """Assign the rows of a batch chunk (nearest centre read from ``dots``) and
    accumulate per-centre sums.

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
    sums : ndarray of shape (n_clusters, n_features), same dtype  (INOUT)
        Each row's ``x * w`` added in row order, in X's dtype (scikit-learn's
        arithmetic: float32 rows sum in float32).
    weight_in_batch : ndarray of shape (n_clusters,), same dtype  (INOUT)

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
        w = sample_weight[i]  # in X's dtype, as scikit-learn's sums
        weight_in_batch[c] += w
        for j in range(n_features):
            sums[c, j] += X[i, j] * w
    return total


@parallel_kernel(cache=True, nogil=True)
def labels_inertia_dots(X, sample_weight, centers, center_sq, dots, labels, row_inertia):
    """Nearest centre read from ``dots`` and exact weighted squared distance of every row.

    Arguments as in :func:`assign_accumulate_dots` (``labels`` and
    ``row_inertia`` OUT). Returns the weighted inertia summed in row order.
    Called through :func:`labels_inertia`, which computes ``dots``.

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


def sample_from_cdf_numpy(cdf, uniform, out):
    """:func:`sample_from_cdf` by numpy's binary search (the same indices, by
    its definition): for small ``cdf``, where its galloping saves nothing and
    a first run would compile it."""
    out[:] = np.searchsorted(cdf, uniform, side="right")


def labels_inertia_numpy(X, sample_weight, centers, center_sq, dots, labels, row_inertia):
    """:func:`labels_inertia_dots` by numpy's element-wise operations, in the
    kernel's order (the same bits; a test compares them): for small inputs,
    where it costs microseconds more and a first run compiles no kernel
    (~0.5 s). Arguments and result as there; falls back on the kernel where
    an expansion is NaN (numpy's argmin would take it)."""
    vals = center_sq[None, :] - (dots + dots)  # the kernel's values, in its dtype
    if np.isnan(vals).any():
        return labels_inertia_dots.serial(X, sample_weight, centers, center_sq, dots, labels,
                                          row_inertia)
    best = np.argmin(vals, axis=1)  # the first on ties, as the kernel's strict <
    labels[:] = best
    diff = X.astype(np.float64) - centers[best].astype(np.float64)
    acc = np.zeros(X.shape[0])
    for j in range(X.shape[1]):  # features in order, as the kernel sums them
        acc += diff[:, j] * diff[:, j]
    row_inertia[:] = sample_weight.astype(np.float64) * acc
    # the kernel's running sum from 0.0, row by row
    return float(np.add.accumulate(np.concatenate(([0.0], row_inertia)))[-1])


def labels_inertia(X, sample_weight, centers, labels, row_inertia, parallel=None, chunk=None):
    """Nearest centre and weighted squared distance of every row; the inertia.

    Parameters
    ----------
    X : ndarray of shape (n_rows, n_features), float32 or float64, C-contiguous  (IN)
    sample_weight : ndarray of shape (n_rows,), same dtype as X  (IN)
    centers : ndarray of shape (n_clusters, n_features), same dtype  (IN)
    labels : ndarray of shape (n_rows,), int32  (OUT)
        ``argmin_c ||c||^2 - 2 x.c`` (the first on ties), as scikit-learn.
    row_inertia : ndarray of shape (n_rows,), float64  (OUT)
        ``sample_weight[i] * ||X[i] - centers[labels[i]]||^2``, computed in
        float64 by differences.
    parallel : bool or None
        Run :func:`labels_inertia_dots` on numba's threads; None decides by
        the work (``MINIBATCH_PARALLEL_MIN_WORK``).
    chunk : int or None
        Rows per BLAS product; None: :func:`clusterlab._config.chunk_rows` of
        ``max(n_features, n_clusters)`` columns.

    Returns
    -------
    inertia : float
        Sum of ``row_inertia`` in row order (independent of the thread count).

    Notes
    -----
    The products ``X @ centers.T`` are computed by BLAS on one thread, a
    chunk of rows at a time: scratch O(chunk * n_clusters).
    """
    n_rows, n_features = X.shape
    n_clusters = centers.shape[0]
    if parallel is None:
        parallel = (n_rows * n_clusters * max(n_features, 1)
                    >= _config.MINIBATCH_PARALLEL_MIN_WORK)
    if (not parallel and n_rows * max(n_clusters, n_features)
            <= _config.MINIBATCH_NUMPY_MAX_CELLS):
        kernel = labels_inertia_numpy
    else:
        kernel = on_threads(labels_inertia_dots, parallel)
    if chunk is None:
        chunk = _config.chunk_rows(max(n_features, n_clusters), X.dtype.itemsize)
    chunk = max(1, int(chunk))
    center_sq = np.einsum("ij,ij->i", centers, centers)
    inertia = 0.0
    # BLAS on one thread even when the kernel runs on numba's threads: a
    # multi-threaded product leaves its OpenMP threads spinning while numba's
    # start (seed memmap workflow, 10000 x 784: the final labels took 53 ms
    # instead of ~5, the whole fit 178 -> 121 ms)
    with _config.single_threaded_blas():
        for start in range(0, n_rows, chunk):
            stop = min(n_rows, start + chunk)
            block = X[start:stop]
            inertia += kernel(block, sample_weight[start:stop], centers, center_sq,
                              block @ centers.T, labels[start:stop],
                              row_inertia[start:stop])
    return inertia
