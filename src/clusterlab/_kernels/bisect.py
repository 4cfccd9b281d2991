"""Kernels of bisecting K-Means around each two-centre K-Means run.

Two passes per bisection, both over the rows of the cluster being split:
gathering those rows (with the per-feature moments the K-Means tolerance
needs, so no separate variance pass) and the inertia of each side of the
split. Both reduce per-group partials in group order, so the results do not
depend on the number of threads.
"""

import numpy as np
from numba import prange
from clusterlab._kernels.row_groups import parallel_kernel


@parallel_kernel(cache=True, nogil=True)
def gather_rows_moments(X, idx, shift, bounds, out, partial):
    """Copy rows ``X[idx]`` into ``out`` and sum their shifted moments.

    Parameters
    ----------
    X : IN ndarray (n, d) float32/float64, C-contiguous
    idx : IN ndarray (m,) int64, rows to gather
    shift : IN ndarray (d,) float64, subtracted before summing (a value close
        to the mean, so the variance formula does not cancel)
    bounds : IN ndarray (G + 1,) int64, row groups of ``idx`` (0 .. m)
    out : OUT ndarray (m, d), dtype of X: ``out[i] = X[idx[i]]``
    partial : OUT ndarray (G, 2, d) float64: per group, the sums of
        ``x - shift`` and of ``(x - shift)**2`` per feature
    """
    d = X.shape[1]
    for g in prange(bounds.shape[0] - 1):
        for j in range(d):
            partial[g, 0, j] = 0.0
            partial[g, 1, j] = 0.0
        for i in range(bounds[g], bounds[g + 1]):
            r = idx[i]
            for j in range(d):
                v = X[r, j]
                out[i, j] = v
                t = v - shift[j]
                partial[g, 0, j] += t
                partial[g, 1, j] += t * t


@parallel_kernel(cache=True, nogil=True)
def column_moments(X, shift, bounds, partial):
    """Sums of ``x - shift`` and ``(x - shift)**2`` per feature (no copy of X).

    Parameters
    ----------
    X : IN ndarray (n, d) float32/float64, C-contiguous
    shift : IN ndarray (d,) float64
    bounds : IN ndarray (G + 1,) int64, row groups (0 .. n)
    partial : OUT ndarray (G, 2, d) float64, per group
    """
    d = X.shape[1]
    for g in prange(bounds.shape[0] - 1):
        for j in range(d):
            partial[g, 0, j] = 0.0
            partial[g, 1, j] = 0.0
        for i in range(bounds[g], bounds[g + 1]):
            for j in range(d):
                t = X[i, j] - shift[j]
                partial[g, 0, j] += t
                partial[g, 1, j] += t * t


@parallel_kernel(cache=True, nogil=True)
def split_inertia(X, sample_weight, labels, centers, bounds, partial):
    """Weighted sum of squared distances of each side of a split to its centre.

    Parameters
    ----------
    X : IN ndarray (m, d) float32/float64, C-contiguous
    sample_weight : IN ndarray (m,), dtype of X
    labels : IN ndarray (m,) int32, 0 or 1
    centers : IN ndarray (2, d) float64
    bounds : IN ndarray (G + 1,) int64, row groups (0 .. m)
    partial : OUT ndarray (G, 2) float64, per group and side
    """
    d = X.shape[1]
    for g in prange(bounds.shape[0] - 1):
        s0 = 0.0
        s1 = 0.0
        for i in range(bounds[g], bounds[g + 1]):
            c = labels[i]
            acc = 0.0
            for j in range(d):
                t = X[i, j] - centers[c, j]
                acc += t * t
            if c == 0:
                s0 += acc * sample_weight[i]
            else:
                s1 += acc * sample_weight[i]
        partial[g, 0] = s0
        partial[g, 1] = s1


def row_groups(n, rows_per_group=8192):
    """Row-group edges for the kernels above (a function of ``n`` only)."""
    n_groups = max(1, -(-n // rows_per_group))
    return np.round(np.linspace(0, n, n_groups + 1)).astype(np.int64)
