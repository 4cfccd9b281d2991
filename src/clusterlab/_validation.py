"""Validation helpers shared by the estimators (thin layers over scikit-learn's)."""

import numbers
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.utils import assert_all_finite
from sklearn.utils.validation import _check_sample_weight

#: Arrays with at least this many values are checked for NaN/inf by one
#: parallel pass (:func:`check_finite`); smaller ones by scikit-learn directly.
FAST_FINITE_MIN_SIZE = 1 << 18


def check_sparse_structure(X, what="X"):
    """Raise a clear ``ValueError`` when a CSR/CSC matrix's index arrays are
    inconsistent (an index beyond the shape, a broken ``indptr``): the kernels
    index with them unchecked, and such a matrix crashed the interpreter.
    Returns ``X``."""
    if sp.issparse(X) and X.format in ("csr", "csc"):
        try:
            X.check_format(full_check=True)
        except ValueError as exc:
            raise ValueError(f"{what} is not a valid sparse matrix: {exc}.") from exc
    return X


def canonical_sparse(X):
    """``X`` itself, or for a CSR/CSC matrix holding duplicate entries (or
    unsorted indices) a copy with them summed: the value of a cell is the sum
    of its entries, and kernels that walk the stored entries (row norms, for
    one) would otherwise count each entry apart."""
    check_sparse_structure(X)
    if sp.issparse(X) and not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    return X


def check_finite(X, estimator):
    """scikit-learn's check that ``X`` holds no NaN or infinity (the same
    errors, naming ``estimator``), for data already validated with
    ``ensure_all_finite=False``. Large float arrays with every value finite
    (the common case) are cleared by one parallel pass
    (:func:`clusterlab._kernels.distances.all_finite_flat`; scikit-learn sums
    the array on one thread: 13 ms of a 200 ms K-Means fit on MNIST-shaped
    data); anything else goes through scikit-learn's check. Honours
    ``sklearn.set_config(assume_finite=True)``.

    Returns the pass's bound on ``max |X|`` (a power of two, see
    :func:`check_magnitude`'s ``bound``) when the parallel pass ran, else None.
    """
    if get_config()["assume_finite"]:
        return None
    data = X.data if sp.issparse(X) else X
    if (isinstance(data, np.ndarray) and data.dtype in (np.float32, np.float64)
            and data.size >= FAST_FINITE_MIN_SIZE and data.flags.c_contiguous):
        from clusterlab._kernels.distances import finite_and_bound

        finite, bound = finite_and_bound(data, 16)
        if finite:
            return bound
    assert_all_finite(X, estimator_name=type(estimator).__name__, input_name="X")
    return None


#: Below this largest magnitude, squared differences of the values fall near
#: or under float64's smallest normal number (2.2e-308): the samples of X
#: would look identical (or nearly) to every distance-based algorithm.
TINY_MAGNITUDE = 1e-150


def magnitude_limit(n_features):
    """The largest magnitude whose squared Euclidean norms stay finite in
    float64, ``d m^2 <= 1.79e308`` (beyond it the norms of some rows overflow;
    distances between far-apart rows overflow from half of it)."""
    return float(np.sqrt(np.finfo(np.float64).max / max(1, n_features)))


def magnitude_out_of_range(top, n_features):
    """Whether ``max |X| = top`` is beyond :func:`magnitude_limit` (squared
    norms overflow) or below :data:`TINY_MAGNITUDE` and not zero (squared
    distances underflow): the two ends :func:`check_magnitude` refuses."""
    return top > magnitude_limit(n_features) or 0.0 < top < TINY_MAGNITUDE


def input_dtype(X):
    """X's dtype before validation; a list's as numpy reads it (a list of bools
    is boolean data); None when numpy cannot read it."""
    if hasattr(X, "dtype"):
        return X.dtype
    try:
        return np.asarray(X).dtype
    except (ValueError, TypeError):
        return None  # validate_data says what is wrong


def warn_boolean_conversion(metric, dtype_in, algorithm, n_features, stacklevel=4):
    """The DataConversionWarning scikit-learn's radius-neighbour search gives for
    a boolean metric on non-boolean input: only its brute force (chosen, or for
    ``auto`` a metric its BallTree lacks or more than 15 features) converts."""
    if dtype_in is None or dtype_in == bool or not isinstance(metric, str):
        return  # (no import of scikit-learn's neighbours for the common case)
    from sklearn.metrics.pairwise import PAIRWISE_BOOLEAN_FUNCTIONS

    if metric not in PAIRWISE_BOOLEAN_FUNCTIONS:
        return
    from sklearn.exceptions import DataConversionWarning
    from sklearn.neighbors import BallTree
    if algorithm == "brute" or metric not in BallTree.valid_metrics or (
            algorithm == "auto" and n_features > 15):
        warnings.warn(f"Data was converted to boolean for metric {metric}",
                      DataConversionWarning, stacklevel=stacklevel)


def unit_scale(X):
    """``X`` (dense) times the power of two that brings its largest absolute value
    into [0.5, 1): exact, and every metric unchanged by one positive factor on
    the whole data (seuclidean, mahalanobis, canberra, braycurtis) unchanged."""
    X = np.asarray(X, dtype=np.float64)
    top = float(np.max(np.abs(X))) if X.size else 0.0
    if top == 0.0 or not np.isfinite(top):
        return X
    return np.ldexp(X, -np.frexp(top)[1])


def rescale_rows(X, metric):
    """For ``metric`` 'cosine' or 'correlation' (whose distances do not depend on
    a row's scale), each row of X times the power of two that brings its largest
    absolute value into [0.5, 1): exact in floating point, the same distances as
    for moderate rows, where huge rows' squared norms overflowed and tiny ones'
    underflowed (all-noise labels). Other metrics: X unchanged."""
    if not (isinstance(metric, str) and metric in ("cosine", "correlation")) \
            or X.shape[0] == 0 or X.shape[1] == 0:
        return X
    if sp.issparse(X):
        X = sp.csr_matrix(X, copy=True)
        top = np.zeros(X.shape[0])
        rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
        np.maximum.at(top, rows, np.abs(X.data))
        X.data = np.ldexp(X.data, -np.frexp(top)[1][rows]).astype(X.dtype, copy=False)
        return X
    X = np.asarray(X)
    exp = np.frexp(np.abs(X).max(axis=1))[1]
    return np.ldexp(X, -exp[:, None]).astype(X.dtype, copy=False)


def refuse_semimetric_tree(algorithm):
    """scikit-learn's error for Minkowski with 0 < p < 1 (a semi-metric) on a tree."""
    raise ValueError(
        f'algorithm="{algorithm}" does not support 0 < p < 1 for the Minkowski '
        'metric. To resolve this problem either set p >= 1 or algorithm="brute".')


def check_algorithm_metric(algorithm, metric):
    """scikit-learn's check of a tree ``algorithm`` against the ``metric``
    (its ``NearestNeighbors``): a metric the tree cannot compute is refused
    with scikit-learn's message, also where clusterlab computes it another way."""
    if algorithm not in ("kd_tree", "ball_tree"):
        return
    if callable(metric):
        if algorithm == "kd_tree":
            raise ValueError(  # scikit-learn's words, to the letter
                f"kd_tree does not support callable metric '{metric}'Function call "
                "overhead will resultin very poor performance.")
        return
    from sklearn.neighbors import VALID_METRICS

    if metric not in VALID_METRICS[algorithm]:
        raise ValueError(
            f"Metric '{metric}' not valid. Use sorted(sklearn.neighbors.VALID_METRICS"
            f"['{algorithm}']) to get valid options. Metric can also be a callable function.")


def warn_p_in_metric_params(p, metric_params, stacklevel=3):
    """scikit-learn's neighbour search warns (whatever the metric) when ``p`` is
    given both ways; ``metric_params``'s wins."""
    if metric_params is not None and "p" in metric_params and p is not None:
        warnings.warn("Parameter p is found in metric_params. The corresponding parameter "
                      "from __init__ is ignored.", SyntaxWarning, stacklevel=stacklevel)


def is_euclidean(metric, p=None, metric_params=None):
    """Whether ``metric`` (with Minkowski's ``p``, which a ``p`` in
    ``metric_params`` overrides, as in scikit-learn's neighbour search)
    compares samples by Euclidean distance, the distances
    :func:`check_magnitude` guards."""
    if metric_params and metric_params.get("p") is not None:
        p = metric_params["p"]
    return isinstance(metric, str) and (
        metric in ("euclidean", "l2", "sqeuclidean")
        or (metric == "minkowski" and (p is None or p == 2)))


def check_magnitude(X, estimator, n_features=None, huge=True, tiny=True, bound=None):
    """Raise a clear ``ValueError`` when the values of ``X`` are so large that
    squared distances between samples overflow float64, or so small (all of
    them) that they underflow: every distance-based result would be silently
    meaningless (scikit-learn returns such results).

    ``X`` is finite (already validated); ``n_features`` is the length of the
    vectors compared (default ``X.shape[1]``; the number of samples for
    feature agglomeration); ``huge=False`` checks the small end only (for an
    estimator that rescales huge values itself), ``tiny=False`` the large end
    only (new rows at ``predict``: their distances are to the fitted model,
    not among themselves). Arrays of
    :data:`FAST_FINITE_MIN_SIZE` values or more are bounded first by one
    parallel pass over the exponent bits (``bound``, a power of two with
    ``bound / 2 <= max |X| < bound``, when :func:`check_finite` has made that
    pass already); the exact maximum is computed only near a limit.
    """
    data = X.data if sp.issparse(X) else X
    if not isinstance(data, np.ndarray) or data.dtype.kind != "f" or data.size == 0:
        return
    d = X.shape[1] if n_features is None else n_features
    limit = magnitude_limit(d)
    if (data.dtype in (np.float32, np.float64) and data.size >= FAST_FINITE_MIN_SIZE
            and data.flags.c_contiguous):
        if bound is None:
            from clusterlab._kernels.distances import abs_max_bound

            bound = abs_max_bound(data)  # max |X| lies in [bound / 2, bound)
        if ((bound <= limit or not huge)
                and (bound == 0.0 or bound / 2 >= TINY_MAGNITUDE or not tiny)):
            return
    top = float(np.max(np.abs(data)))
    name = estimator if isinstance(estimator, str) else type(estimator).__name__
    if huge and top > limit:
        raise ValueError(
            f"{name}: X has values up to {top:.3g} in magnitude; with {d} features, squared "
            f"norms and distances of values above {limit:.3g} overflow float64 (beyond "
            f"1.8e308), and every distance-based result would be meaningless. Divide X by a "
            f"constant first (e.g. X / {top:.0e}).")
    if tiny and 0.0 < top < TINY_MAGNITUDE:
        raise ValueError(
            f"{name}: every value of X is below {TINY_MAGNITUDE:g} in magnitude (the largest "
            f"is {top:.3g}); squared distances between samples underflow float64, and the "
            f"samples would look identical. Multiply X by a constant first "
            f"(e.g. X * {1 / top:.0e}).")


def check_sample_weight(sample_weight, X, dtype=None):
    """Validate ``sample_weight`` for ``X``: right length, finite, non-negative.

    Returns a contiguous 1-D array of ``dtype`` (``X.dtype`` by default);
    ``None`` gives unit weights. Raises ``ValueError`` naming the problem.
    """
    dtype = X.dtype if dtype is None else dtype
    n_samples = X.shape[0]
    if sample_weight is None and np.dtype(dtype) in (np.float32, np.float64):
        # unit weights: nothing to check (scikit-learn's helper would check
        # the n ones it makes for finiteness and sign: ~1.5 ms per 10^6)
        return np.ones(n_samples, dtype=dtype)
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
        # numbers only: strings and objects are converted (or refused) by
        # scikit-learn's check below, which refuses negative ones too
        sw = np.asarray(sample_weight)
        if sw.dtype.kind in "biuf" and np.any(sw < 0):
            raise ValueError(
                "sample_weight has negative values; weights must be >= 0 (use 0 to ignore "
                "a sample)."
            )
    elif isinstance(sample_weight, numbers.Number) and sample_weight < 0:
        raise ValueError(f"sample_weight={sample_weight} is negative; weights must be >= 0.")
    sw = _check_sample_weight(sample_weight, X, dtype=dtype, ensure_non_negative=True)
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinity; pass finite weights.")
    with np.errstate(over="ignore"):
        total = float(np.sum(sw, dtype=np.float64))
    if not np.isfinite(total):
        raise ValueError("sample_weight sums to more than the largest float; divide the "
                         "weights by a common factor (the result is the same).")
    return np.ascontiguousarray(sw)


def check_weighted_draw(sample_weight, n_clusters):
    """Raise a clear ``ValueError`` when ``init='random'`` cannot draw
    ``n_clusters`` distinct samples with probability proportional to
    ``sample_weight`` (fewer samples have a non-zero weight)."""
    nonzero = int(np.count_nonzero(sample_weight))
    if nonzero < n_clusters:
        raise ValueError(
            f"init='random' draws n_clusters={n_clusters} distinct samples with probability "
            f"proportional to sample_weight, but only {nonzero} sample(s) have a non-zero "
            "weight; use fewer clusters or init='k-means++'.")


def check_n_clusters(n_clusters, n_samples, name="n_clusters"):
    """Raise a clear ``ValueError`` when there are fewer samples than clusters."""
    if n_samples < n_clusters:
        raise ValueError(
            f"n_samples={n_samples} should be >= {name}={n_clusters}: "
            f"use a smaller {name} or pass more samples."
        )


def check_table_fits(n_rows, n_cols, itemsize, what, copies=1):
    """A clear ``MemoryError`` before an ``(n_rows, n_cols)`` result (``copies``
    of it at the peak) is allocated that the memory this process may still
    allocate cannot hold (numpy's own error names neither the call nor a way
    out). Tables under 64 MiB are not checked."""
    from clusterlab import _config

    need = int(n_rows) * int(n_cols) * int(itemsize) * copies
    _config.refuse_beyond_memory(need, lambda avail: (
        f"{what} returns a {n_rows} x {n_cols} table: about {need / 2**30:.2f} GiB at its "
        f"peak, more than the {avail / 2**30:.2f} GiB this process may still allocate. "
        "Call it on a block of rows at a time, or use predict (the nearest centre, O(n))."),
        floor=_config.MEMORY_CHECK_FLOOR_BYTES)
