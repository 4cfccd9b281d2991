"""A common power of two for the metrics' inputs whose squared distances
would overflow or underflow (the scores are ratios of distances: unchanged)."""

import numpy as np
from scipy import sparse


def _power_of_two_scaled(X, metric="euclidean", p=None):
    """``X`` times a power of two when its values are so large that squared
    distances overflow float64, or all so small that they underflow (for
    Euclidean distances: the ends :func:`clusterlab._validation.check_magnitude`
    refuses; for Minkowski distances with another ``p``, where ``|x|^p``
    overflows or underflows); the scores here are ratios of distances,
    unchanged by a common factor, which a power of two applies exactly.
    Otherwise ``X``."""
    from clusterlab._validation import is_euclidean, magnitude_out_of_range

    minkowski = (metric == "minkowski" and p is not None and np.isfinite(p)
                 and not is_euclidean(metric, p))
    if not (is_euclidean(metric, p) or metric == "sqeuclidean" or minkowski):
        return X
    data = X.data if sparse.issparse(X) else X
    if data.size == 0 or data.dtype.kind != "f":
        return X
    top = float(np.max(np.abs(data)))
    if minkowski:  # sums of |x - y|^p: out of range where that power is
        if not (top > (1e300 / max(1, X.shape[1])) ** (1.0 / p)
                or 0.0 < top < 1e-290 ** (1.0 / p)):
            return X
        exponent = -int(np.ceil(np.log2(top)))
        X = X.astype(np.float64)
        if sparse.issparse(X):
            X.data = np.ldexp(X.data, exponent)
            return X
        return np.ldexp(X, exponent)
    if data.dtype == np.float32 and (top > FLOAT32_SQUARES_MAX / np.sqrt(max(1, X.shape[1]))
                                     or 0.0 < top < FLOAT32_SQUARES_MIN):
        X = X.astype(np.float64)  # float32 squares would overflow or underflow: widen (exact)
    if not magnitude_out_of_range(top, X.shape[1]):
        return X
    # np.ldexp: 2**-e itself overflows to inf when top is subnormal (e > 1023)
    exponent = -int(np.ceil(np.log2(top)))
    if sparse.issparse(X):
        X = X.copy()
        X.data = np.ldexp(X.data, exponent)
        return X
    return np.ldexp(X, exponent)


#: float32 rows whose largest value lies beyond these are scored in float64:
#: the kernels square float32 differences (overflow above ~1.8e19, underflow
#: into subnormals below ~1e-19)
FLOAT32_SQUARES_MAX = 1e18
FLOAT32_SQUARES_MIN = 1e-15
