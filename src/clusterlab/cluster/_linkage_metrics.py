"""Distances for agglomerative clustering: which metrics the linkage kernels
compute themselves, the rows they read (scale-free metrics brought to unit
scale first), and the full matrices of the other metrics (refused where a
distance is not a number, as scikit-learn refuses them).
"""

import numpy as np

from clusterlab import _config
from clusterlab._kernels import linkage as _lk
from clusterlab._validation import rescale_rows, unit_scale

# metrics computed by our kernels (name -> kernel code)
_KERNEL_METRICS = {
    "euclidean": _lk.EUCLIDEAN,
    "l2": _lk.EUCLIDEAN,
    "l1": _lk.MANHATTAN,
    "manhattan": _lk.MANHATTAN,
    "cityblock": _lk.MANHATTAN,
    "cosine": _lk.COSINE,
    "precomputed": _lk.PRECOMPUTED,
}

# other metrics scikit-learn accepts: computed as a full distance matrix with
# sklearn.metrics.pairwise_distances, then treated as 'precomputed'
_OTHER_METRICS = {
    "braycurtis", "canberra", "chebyshev", "correlation", "dice", "hamming",
    "jaccard", "mahalanobis", "matching", "minkowski", "rogerstanimoto",
    "russellrao", "seuclidean", "sokalsneath", "sqeuclidean", "yule",
    "wminkowski", "nan_euclidean", "haversine",
}


def _norms(X, code):
    if code == _lk.COSINE:
        return np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64))
    return np.zeros(1)


def _check_copy_fits(a):
    """A clear MemoryError when the float64 copy :func:`_f64` would make of a
    large (precomputed) matrix cannot fit."""
    if a.dtype == np.float64 and a.flags.c_contiguous:
        return
    need = 8 * a.size
    _config.refuse_beyond_memory(need, lambda avail: (
        f"the {a.shape[0]}x{a.shape[1]} matrix of {a.dtype} is read as float64: its copy "
        f"needs {need / 2**30:.1f} GiB but about {avail / 2**30:.1f} GiB is free. Pass a "
        "C-contiguous float64 matrix, or fit on a sample."))


def _f64(a):
    # the kernels widen every value to float64 before computing with it: giving
    # them float64 arrays changes no result and compiles one variant, not two
    return np.ascontiguousarray(a, dtype=np.float64)


#: metrics that a positive factor on one row does not change: rows are brought
#: to unit scale first (a power of two, exact), so 1e200 or 1e-200 rows neither
#: overflow nor underflow
_ROW_SCALE_FREE = frozenset({"cosine", "correlation"})
#: metrics that one positive factor on the whole X does not change
_SCALE_FREE = frozenset({"seuclidean", "mahalanobis", "canberra", "braycurtis"})


def _finite_distances(D, metric):
    """``D`` when every distance is a number, else a ValueError that says why."""
    if np.all(np.isfinite(D)):
        return D
    i, j = np.argwhere(~np.isfinite(D))[0]
    name = getattr(metric, "__name__", metric)
    why = {"correlation": " (a constant row has no correlation)",
           "dice": " (two all-zero boolean rows)", "sokalsneath": " (two all-zero boolean rows)",
           "jaccard": " (two all-zero boolean rows)"}.get(name, "")
    raise ValueError(
        f"metric={name!r} gives a non-finite distance ({D[i, j]}) between samples {i} and "
        f"{j}{why}: scikit-learn refuses such a matrix too; remove those samples or use "
        "another metric.")


def _metric_input(X, metric):
    """Return (array the kernels read, kernel metric code, row norms)."""
    if callable(metric):
        D = np.ascontiguousarray(metric(X), dtype=np.float64)
        return _finite_distances(D, metric), _lk.PRECOMPUTED, np.zeros(1)
    if metric in _ROW_SCALE_FREE:
        X = rescale_rows(np.asarray(X, dtype=np.float64), metric)
    elif metric in _SCALE_FREE:
        X = unit_scale(X)
    if metric in _KERNEL_METRICS:
        code = _KERNEL_METRICS[metric]
        return X, code, _norms(X, code)
    from sklearn.metrics.pairwise import PAIRWISE_BOOLEAN_FUNCTIONS, pairwise_distances

    if metric in PAIRWISE_BOOLEAN_FUNCTIONS and np.all((X == 0) | (X == 1)):
        # boolean data (validated to float here): as booleans, as scikit-learn
        # passes a boolean X (its "converted to boolean" warning is for other values)
        X = X.astype(bool)
    D = np.ascontiguousarray(pairwise_distances(X, metric=metric), dtype=np.float64)
    return _finite_distances(D, metric), _lk.PRECOMPUTED, np.zeros(1)


def _edge_kernel_distances(data, norms, code, rows, cols, out):
    # small helper kept in Python: the per-edge distance is a kernel call on
    # vectors; a numpy formulation is as fast for these sizes
    if code == _lk.PRECOMPUTED:
        out[:] = data[rows, cols]
        return
    diff = None
    for start in range(0, rows.shape[0], 65536):
        r = rows[start:start + 65536]
        c = cols[start:start + 65536]
        if code == _lk.COSINE:
            dots = np.einsum("ij,ij->i", data[r], data[c], dtype=np.float64)
            out[start:start + r.shape[0]] = np.maximum(1.0 - dots / (norms[r] * norms[c]), 0.0)
            continue
        diff = data[r].astype(np.float64) - data[c]
        if code == _lk.EUCLIDEAN:
            out[start:start + r.shape[0]] = np.sqrt(np.einsum("ij,ij->i", diff, diff))
        else:
            out[start:start + r.shape[0]] = np.abs(diff).sum(axis=1)
