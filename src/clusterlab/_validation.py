"""Validation helpers shared by the estimators (thin layers over scikit-learn's)."""

import numbers

import numpy as np
from sklearn.utils.validation import _check_sample_weight


def check_sample_weight(sample_weight, X, dtype=None):
    """Validate ``sample_weight`` for ``X``: right length, finite, non-negative.

    Returns a contiguous 1-D array of ``dtype`` (``X.dtype`` by default);
    ``None`` gives unit weights. Raises ``ValueError`` naming the problem.
    """
    dtype = X.dtype if dtype is None else dtype
    n_samples = X.shape[0]
    if sample_weight is not None and not isinstance(sample_weight, numbers.Number):
        sw = np.asarray(sample_weight)
        if sw.ndim != 1:
            raise ValueError(
                f"sample_weight must be a 1-D array of length n_samples={n_samples}, "
                f"got an array of shape {sw.shape}."
            )
        if sw.shape[0] != n_samples:
            raise ValueError(
                f"sample_weight has {sw.shape[0]} entries but X has {n_samples} "
                f"samples; pass one weight per sample."
            )
    if sample_weight is not None and not isinstance(sample_weight, numbers.Number):
        if np.any(np.asarray(sample_weight) < 0):
            raise ValueError(
                "sample_weight has negative values; weights must be >= 0 (use 0 to ignore "
                "a sample)."
            )
    elif isinstance(sample_weight, numbers.Number) and sample_weight < 0:
        raise ValueError(f"sample_weight={sample_weight} is negative; weights must be >= 0.")
    sw = _check_sample_weight(sample_weight, X, dtype=dtype, ensure_non_negative=True)
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinity; pass finite weights.")
    return np.ascontiguousarray(sw)


def check_n_clusters(n_clusters, n_samples, name="n_clusters"):
    """Raise a clear ``ValueError`` when there are fewer samples than clusters."""
    if n_samples < n_clusters:
        raise ValueError(
            f"n_samples={n_samples} should be >= {name}={n_clusters}: "
            f"use a smaller {name} or pass more samples."
        )
