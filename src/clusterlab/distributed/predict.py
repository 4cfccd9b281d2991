"""Lazy predictions of fitted models on dask arrays, and a sampled silhouette score."""

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from clusterlab.distributed import _utils

#: Methods that may be mapped over blocks, and whether they return one value per row.
_METHODS = {
    "predict": True,
    "score_samples": True,
    "transform": False,
    "predict_proba": False,
    "membership_vectors": False,
}


def _apply_block(xb, estimator, method, width=None, dtype=None):
    if xb.shape[0] == 0:  # an empty row block (rows filtered out): an empty result
        return np.empty((0,) if width is None else (0, width), dtype=dtype)
    _utils.ensure_numba_threads()
    return getattr(estimator, method)(np.asarray(xb))


def predict_blocks(estimator, method, X):
    """``estimator.<method>`` mapped over the row blocks of ``X``; returns a lazy dask array.

    The model shipped to the workers is a copy without its lazy attributes
    (``labels_``), so tasks carry only the numpy state (centres, means...).
    Output dtype and width are found by calling the method on one row of zeros
    on the client.

    Raises ``ValueError`` for an unknown method or a wrong number of features,
    ``NotFittedError`` before fit.

    Notes
    -----
    Same complexity as the method on each block; memory per task is one block
    plus the method's own scratch.
    """
    if method not in _METHODS:
        raise ValueError(
            f"method must be one of {sorted(_METHODS)}, got {method!r}."
        )
    check_is_fitted(estimator)
    if not hasattr(estimator, method):
        raise ValueError(f"{type(estimator).__name__} has no method {method!r}.")
    X = _utils.check_dask_array(X, n_features=getattr(estimator, "n_features_in_", None),
                                caller=method)
    model = _utils.strip_lazy_state(estimator)
    probe = np.asarray(getattr(model, method)(np.zeros((1, X.shape[1]), dtype=X.dtype)))
    if _METHODS[method]:
        return X.map_blocks(_apply_block, model, method, None, probe.dtype, drop_axis=1,
                            dtype=probe.dtype, meta=np.empty((0,), dtype=probe.dtype))
    width = probe.shape[1]
    return X.map_blocks(_apply_block, model, method, width, probe.dtype,
                        chunks=(X.chunks[0], (width,)),
                        dtype=probe.dtype, meta=np.empty((0, 0), dtype=probe.dtype))


def silhouette_score(X, labels, *, sample_size, metric="euclidean", random_state=None, **kwds):
    """Silhouette coefficient of a dask array, estimated on a random sample of its rows.

    ``sample_size`` rows are drawn without replacement across all blocks (the
    same draw as ``sklearn.metrics.silhouette_score(..., sample_size=...)`` on
    the same number of rows and ``random_state``), fetched to the client, and
    scored with :func:`clusterlab.metrics.silhouette_score`.

    Parameters
    ----------
    X : dask.array.Array of shape (n_samples, n_features)
        (rows in memory are scored by :func:`clusterlab.metrics.silhouette_score`
        with the same ``sample_size`` and ``random_state``)
    labels : array-like or dask.array.Array of shape (n_samples,)
    sample_size : int
        Required: the full silhouette is O(n^2) and would not fit the client.
    metric : str, default="euclidean"
    random_state : int, RandomState instance or None

    Returns
    -------
    float

    Notes
    -----
    Time ``O(sample_size^2 d)`` on the client plus one read of the sampled rows;
    memory ``O(sample_size * d)`` plus the metric's own scratch.
    """
    import dask.array as da

    from clusterlab.metrics import silhouette_score as _silhouette

    if sample_size is None:
        raise ValueError(
            "sample_size is required for dask input: the silhouette of all n_samples rows "
            "needs O(n_samples^2) work; pass e.g. sample_size=10_000."
        )
    if isinstance(labels, da.Array) and labels.ndim == 1 and any(np.isnan(labels.chunks[0])):
        labels = labels.compute_chunk_sizes()  # filtered by a mask, as X may be
    if not isinstance(X, da.Array):  # rows in memory: the in-memory score, same draw
        if isinstance(labels, da.Array):
            labels = labels.compute()
        return float(_silhouette(X, labels, metric=metric, sample_size=sample_size,
                                 random_state=random_state, **kwds))
    X = _utils.check_dask_array(X, caller="silhouette_score")
    n = X.shape[0]
    if labels is None or np.ndim(labels) != 1 or len(labels) != n:
        raise ValueError(
            f"labels must be 1-D with one label per row of X ({n} rows); got "
            f"{None if labels is None else np.shape(labels)}."
        )
    if not (1 < int(sample_size) <= n):
        raise ValueError(f"sample_size must be in [2, n_samples={n}], got {sample_size}.")
    rs = check_random_state(random_state)
    indices = np.sort(rs.permutation(n)[: int(sample_size)])
    Xs = X[indices]
    ls = labels[indices] if isinstance(labels, da.Array) else np.asarray(labels)[indices]
    import dask

    Xs, ls = dask.compute(Xs, ls)
    return float(_silhouette(np.asarray(Xs), np.asarray(ls), metric=metric, **kwds))
