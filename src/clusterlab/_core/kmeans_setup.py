"""The K-Means setup shared by ``KMeans``, ``MiniBatchKMeans``, ``BisectingKMeans``, Dask.

Validating the input and the fit's other arguments, resolving ``n_init``, checking an array ``init`` and the shape of initial
centres, drawing initial centres, the tolerance scale, the comparison of two
clusterings and the "fewer distinct clusters" warning: written once, with
scikit-learn's messages.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state
from sklearn.utils.validation import validate_data

from clusterlab import _config
from clusterlab._core.kmeans_plan import use_parallel
from clusterlab._core.kmeans_seeding import kmeans_plusplus
from clusterlab._kernels.kmeans import moments as _k_moments
from clusterlab._kernels.kmeans.common import n_distinct_labels
from clusterlab._validation import (canonical_sparse, check_finite, check_magnitude,
                                    check_n_clusters, check_sample_weight,
                                    check_weighted_draw)

#: ``init`` strings that mean greedy k-means++ in memory (k-means|| is the
#: distributed seeding; in memory the k-means++ it approximates runs).
KPP_INITS = ("k-means++", "k-means||")


def validate_input(estimator, X, reset):
    """``X`` validated as scikit-learn's K-Means does: CSR or C-ordered, float64 or
    float32 (kept), 32-bit sparse indices; NaN/inf refused by :func:`check_finite`
    (scikit-learn's messages, without its extra pass when the data are finite)."""
    X = validate_data(estimator, X, accept_sparse="csr", reset=reset,
                      dtype=[np.float64, np.float32], order="C",
                      accept_large_sparse=False, ensure_all_finite=False)
    X = canonical_sparse(X)
    bound = check_finite(X, estimator)  # the same pass bounds the magnitude
    check_magnitude(X, estimator, tiny=reset, bound=bound)  # new rows: distances to the centres
    return X


def fit_inputs(estimator, X, sample_weight):
    """The checks that open a K-Means ``fit`` (``KMeans``, ``BisectingKMeans``).

    Returns ``(X, random_state, sample_weight)``: ``X`` from
    :func:`validate_input` (resetting ``n_features_in_``), ``n_clusters``
    checked against its rows, the estimator's ``random_state`` as a
    RandomState, and the weights (ones when None) in X's dtype.
    """
    X = validate_input(estimator, X, reset=True)
    check_n_clusters(estimator.n_clusters, X.shape[0])
    random_state = check_random_state(estimator.random_state)
    sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
    return X, random_state, sample_weight


def is_array_init(init):
    """Whether ``init`` is an explicit array of centres (not a string or a callable)."""
    if isinstance(init, str) or callable(init):
        return False
    return hasattr(init, "__len__") or hasattr(init, "shape") or hasattr(init, "__array__")


def resolve_n_init(n_init, init, estimator_name, *, auto_runs=10, auto_single=KPP_INITS,
                   stacklevel=4):
    """The number of runs: ``"auto"`` gives 1 for an array ``init`` or one of
    ``auto_single``, else ``auto_runs``; an array ``init`` runs once (with
    scikit-learn's RuntimeWarning when more were asked for)."""
    array_init = is_array_init(init)
    if n_init == "auto":
        single = array_init or (isinstance(init, str) and init in auto_single)
        n_init = 1 if single else auto_runs
    if array_init and n_init != 1:
        warnings.warn(
            "Explicit initial center position passed: performing only one init in "
            f"{estimator_name} instead of n_init={n_init}.",
            RuntimeWarning,
            stacklevel=stacklevel,
        )
        n_init = 1
    return n_init


def check_center_shape(centers, n_clusters, n_features, hint=False):
    """Raise scikit-learn's ValueError when ``centers`` is not (n_clusters, n_features).

    ``hint`` appends the expected shape to the message (MiniBatchKMeans's wording).
    """
    tail = f": pass an array of shape ({n_clusters}, {n_features})." if hint else "."
    if centers.ndim != 2 or centers.shape[0] != n_clusters:
        raise ValueError(
            f"The shape of the initial centers {centers.shape} does not match "
            f"the number of clusters {n_clusters}{tail}"
        )
    if centers.shape[1] != n_features:
        raise ValueError(
            f"The shape of the initial centers {centers.shape} does not match "
            f"the number of features of the data {n_features}{tail}"
        )


def check_init_array(init, n_clusters, n_features, dtype, hint=False):
    """An array ``init`` as a C-contiguous copy in ``dtype``, its shape checked."""
    init = check_array(init, dtype=dtype, copy=True, order="C")
    check_center_shape(init, n_clusters, n_features, hint=hint)
    return init


def init_centers(X, n_clusters, init, random_state, sample_weight, init_size=None,
                 check_shape=True, origin=None):
    """Initial centres on validated ``X`` (scikit-learn's ``_init_centroids``).

    ``init`` is "k-means++"/"k-means||", "random", a callable
    ``init(X, n_clusters, random_state=...)`` or an array (returned as is).
    With ``init_size`` < n, the centres are drawn from that many random rows.
    With ``origin`` (scikit-learn's dense K-Means and bisecting K-Means: the
    data mean), a callable sees ``X - origin`` and its centres are read in
    those coordinates, as scikit-learn's, which centres X before calling it
    (a temporary copy of X).
    """
    n_samples = X.shape[0]
    if sample_weight is None:
        sample_weight = np.ones(n_samples, dtype=X.dtype)
    if init_size is not None and init_size < n_samples:
        init_indices = random_state.randint(0, n_samples, init_size)
        X = X[init_indices]
        sample_weight = sample_weight[init_indices]
        n_samples = X.shape[0]
    if isinstance(init, str) and init in KPP_INITS:
        centers, _ = kmeans_plusplus(X, n_clusters, sample_weight, random_state)
    elif isinstance(init, str) and init == "random":
        check_weighted_draw(sample_weight, n_clusters)
        seeds = random_state.choice(n_samples, size=n_clusters, replace=False,
                                    p=sample_weight / sample_weight.sum())
        centers = X[seeds]
    elif callable(init):
        seen = X if origin is None else X - origin
        centers = init(seen, n_clusters, random_state=random_state)
        del seen
        centers = check_array(centers, dtype=X.dtype, copy=origin is not None, order="C",
                              accept_sparse="csr")
        if check_shape:
            check_center_shape(centers, n_clusters, X.shape[1])
        if origin is not None:
            if sp.issparse(centers):
                centers = centers.toarray()
            centers += origin
    else:
        centers = init
    if sp.issparse(centers):
        centers = centers.toarray()
    if not np.all(np.isfinite(centers)):
        raise ValueError("The initial centers contain NaN or infinity; pass finite values.")
    return centers


def tolerance(X, tol, bounds):
    """Absolute tolerance: ``tol`` times the mean of the feature variances."""
    if tol == 0:
        return 0.0
    if sp.issparse(X):
        from sklearn.utils.sparsefuncs import mean_variance_axis

        return float(np.mean(mean_variance_axis(X, axis=0)[1]) * tol)
    if X.shape[0] * X.shape[1] <= _config.KMEANS_NUMPY_MAX_SIZE:
        # numpy (as scikit-learn's _tolerance, in float64): its temporary copy
        # is small here, and a first fit of small data compiles no moments kernel
        return float(np.mean(np.var(X, axis=0, dtype=np.float64)) * tol)
    parallel = use_parallel(X.shape[0] * X.shape[1] * 8)
    return float(_k_moments.mean_feature_variance(X, bounds, parallel) * tol)


def is_same_clustering(labels1, labels2, n_clusters):
    """True when ``labels2`` is a relabelling of ``labels1`` (O(n), no sort)."""
    mapping = np.full(n_clusters, -1, dtype=np.int64)
    mapping[labels1] = labels2
    return bool(np.array_equal(mapping[labels1], labels2))


def warn_if_fewer_clusters(n_distinct, n_clusters, stacklevel=3):
    """scikit-learn's ConvergenceWarning when fewer distinct clusters than asked were found."""
    if n_distinct < n_clusters:
        warnings.warn(
            f"Number of distinct clusters ({n_distinct}) found smaller than "
            f"n_clusters ({n_clusters}). Possibly due to duplicate points in X.",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )


def count_distinct(labels, n_clusters):
    """Number of distinct labels in ``labels`` (int32, values in [0, n_clusters)):
    numpy up to ``KMEANS_NUMPY_MAX_SIZE`` labels (nothing to compile
    for small fits), else a kernel that skips bincount's int64 copy."""
    if labels.shape[0] <= _config.KMEANS_NUMPY_MAX_SIZE:
        return int(np.count_nonzero(np.bincount(labels, minlength=n_clusters)))
    return int(n_distinct_labels(labels, n_clusters))
