"""The one door from the estimators to Dask: "is this a dask array?" and "hand it over".

Estimators import only this module (``tests/test_layers.py`` enforces it);
it imports :mod:`clusterlab.distributed` only inside the hand-over functions,
so ``import clusterlab`` never imports dask nor the distributed code. The
distributed functions receive resolved parameters and return results; the
estimator stores them.
"""

import sys


def is_dask_array(X):
    """Whether ``X`` is a ``dask.array.Array``, without importing dask.

    If dask has not been imported by anyone, nothing can be a dask array, so the
    answer is False at the cost of one dictionary look-up.

    >>> import numpy as np
    >>> is_dask_array(np.zeros((2, 2)))
    False
    """
    module = sys.modules.get("dask.array")
    if module is None:
        return False
    array_type = getattr(module, "Array", None)
    return array_type is not None and isinstance(X, array_type)


def is_dask_frame(X):
    """Whether ``X`` is a dask DataFrame or Series, without importing dask."""
    module = sys.modules.get("dask.dataframe")
    if module is None:
        return False
    types = tuple(t for t in (getattr(module, "DataFrame", None),
                              getattr(module, "Series", None)) if isinstance(t, type))
    return bool(types) and isinstance(X, types)


def warn_if_dask(X, who):
    """Warn that ``who`` (an estimator or function that is not distributed, or
    one given a dask DataFrame) computes the dask collection ``X`` into this
    process's memory."""
    import math
    import warnings

    if is_dask_frame(X):
        warnings.warn(
            f"{who} computes the dask DataFrame X into this process's memory. KMeans, "
            "MiniBatchKMeans and GaussianMixture fit dask arrays where they lie: pass "
            "X.to_dask_array(lengths=True) to fit it distributed.", UserWarning, stacklevel=3)
        return
    if not is_dask_array(X):
        return

    size = X.nbytes
    size = ("of unknown size" if not math.isfinite(size) else
            f"{size / 2**20:.1f} MiB" if size >= 2**20 else f"{size / 2**10:.0f} kB")
    warnings.warn(
        f"{who} is not distributed: the dask array X ({size}) is computed into this "
        "process's memory. Use a sample (X[idx].compute()) if it may not fit; KMeans, "
        "MiniBatchKMeans and GaussianMixture fit dask arrays where they lie.",
        UserWarning, stacklevel=3)


def computed_state(state):
    """A fitted estimator's ``__getstate__`` with its lazy dask attributes
    (``labels_`` of a fit on a dask array) computed: a pickle then holds the
    labels, not the task graph -- which carries the training data itself, or
    keys of a cluster that may be gone when the pickle is read."""
    return {key: (value.compute() if is_dask_array(value) else value)
            for key, value in state.items()}


def forget_feature_names(estimator):
    """Drop ``feature_names_in_`` left by an earlier fit on a DataFrame: a fit on
    a dask array has no column names (scikit-learn's ``reset`` does the same)."""
    if hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_


def fit_kmeans(X, sample_weight, **params):
    """Distributed K-Means on a dask array (see :func:`clusterlab.distributed.kmeans.fit_kmeans`).

    Returns a dict of the fitted attributes for the estimator to store.
    """
    from clusterlab.distributed.kmeans import fit_kmeans as _fit

    return _fit(X, sample_weight, **params)


def fit_minibatch_kmeans(estimator, X, y=None, sample_weight=None):
    """Fit a :class:`clusterlab.MiniBatchKMeans` on a dask array (``distributed.minibatch``)."""
    from clusterlab.distributed.minibatch import fit_minibatch_kmeans as _fit

    return _fit(estimator, X, y=y, sample_weight=sample_weight)


def fit_gaussian_mixture(estimator, X, y=None):
    """Fit a :class:`clusterlab.GaussianMixture` on a dask array (:mod:`.distributed.mixture`)."""
    from clusterlab.distributed.mixture import fit_gaussian_mixture as _fit

    return _fit(estimator, X, y=y)


def predict_blocks(estimator, method, X):
    """``estimator.<method>`` on every row block of ``X`` as a lazy dask array.

    See :func:`clusterlab.distributed.predict.predict_blocks`.
    """
    from clusterlab.distributed.predict import predict_blocks as _predict

    return _predict(estimator, method, X)
