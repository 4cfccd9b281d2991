"""Mean of the per-feature variances of X (the scale of ``tol``), without a temporary copy.
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

from clusterlab._kernels.kmeans.common import _reduce_groups
from clusterlab._kernels.row_groups import on_threads

# ----------------------------------------------------------------------------
# Tolerance scale: mean of the per-feature variances, without a temporary copy of X.


@nb.njit(cache=True, nogil=True)
def _column_moments_range(X, start, stop, means, out):
    d = X.shape[1]
    use_means = means.shape[0] == d
    for f in range(d):
        out[f] = 0.0
    for i in range(start, stop):
        for f in range(d):
            v = np.float64(X[i, f])
            if use_means:
                v -= means[f]
                out[f] += v * v
            else:
                out[f] += v


@parallel_kernel(cache=True, nogil=True)
def _column_moments_groups(X, bounds, means, g_out):
    for g in nb.prange(bounds.shape[0] - 1):
        _column_moments_range(X, bounds[g], bounds[g + 1], means, g_out[g])


def mean_feature_variance(X, bounds, parallel=False):
    """Mean over features of the (population) variance of each column of ``X``.

    Parameters
    ----------
    X : IN (n, d) float32/float64
    bounds : IN (G + 1,) int64, row groups
    parallel : IN bool, default False, run the groups on threads (same result)

    Returns
    -------
    float64

    Notes
    -----
    Two passes over X (means, then squared deviations), float64 accumulation,
    O(G d) scratch; no copy of X.
    """
    n, d = X.shape
    n_groups = bounds.shape[0] - 1
    g_out = np.empty((n_groups, d))
    if n_groups == 1:  # one group: the range function itself (no thread start-up)
        def kernel(X, bounds, means, g_out):
            _column_moments_range(X, bounds[0], bounds[1], means, g_out[0])
    else:
        kernel = on_threads(_column_moments_groups, parallel)
    kernel(X, bounds, np.empty(0), g_out)
    means = np.zeros(d)
    _reduce_groups(g_out, means)
    means /= n
    kernel(X, bounds, means, g_out)
    var = np.zeros(d)
    _reduce_groups(g_out, var)
    return float(np.sum(var / n) / d)
