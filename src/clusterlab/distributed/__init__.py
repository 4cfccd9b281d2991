"""Scale-out on Dask: the same estimators over ``dask.array.Array`` input.

When a clusterlab estimator's ``fit`` (or ``predict``, ``transform``,
``predict_proba``, ``score_samples``) receives a dask array, it hands over to the
functions of this package, which run the same algorithm as one map-reduce per
iteration over the array's row blocks, calling the same numba kernels per block
as the in-memory estimator. The fitted model is plain numpy (except ``labels_``,
a lazy dask array), so it pickles and predicts on numpy without a client.

Importing this package never imports dask: :func:`is_dask_array` only looks at
``sys.modules``; the implementations import dask when they are first called.

Functions
---------
is_dask_array(X)
    True if ``X`` is a ``dask.array.Array`` (without importing dask).
fit_kmeans(estimator, X, y=None, sample_weight=None)
    ``estimator.fit(X)``: distributed Lloyd with k-means|| seeding (:func:`.kmeans.fit_kmeans`).
fit_minibatch_kmeans(estimator, X, y=None, sample_weight=None)
    Mini-batch K-Means streaming over the row blocks.
fit_gaussian_mixture(estimator, X, y=None)
    EM with per-block sufficient statistics.
predict_blocks(estimator, method, X)
    ``estimator.<method>`` on every block as a lazy dask array.
kmeans_parallel_init(X, n_clusters, ...)
    The k-means|| seeding on its own (Bahmani et al. 2012).
silhouette_score(X, labels, *, sample_size, ...)
    Silhouette coefficient of a sample drawn across the blocks.
from_memmap(path, dtype, shape, chunks)
    A dask array over a raw memmap file whose tasks carry the file name, not the data.
"""

from clusterlab._dask import is_dask_array

__all__ = [
    "fit_gaussian_mixture",
    "fit_kmeans",
    "fit_minibatch_kmeans",
    "from_memmap",
    "is_dask_array",
    "kmeans_parallel_init",
    "predict_blocks",
    "silhouette_score",
]


def fit_kmeans(estimator, X, y=None, sample_weight=None):
    """Fit a :class:`clusterlab.KMeans` on a dask array: ``estimator.fit(X)``.

    The estimator hands the dask array over to :func:`.kmeans.fit_kmeans`
    (through :mod:`clusterlab._dask`) and stores what it returns.
    """
    return estimator.fit(X, y=y, sample_weight=sample_weight)


def kmeans_parallel_init(X, n_clusters, **kwargs):
    """k-means|| seeding (Bahmani et al. 2012) of a dask array; see :mod:`.kmeans`."""
    from clusterlab.distributed.kmeans import kmeans_parallel_init as _init

    return _init(X, n_clusters, **kwargs)


def fit_minibatch_kmeans(estimator, X, y=None, sample_weight=None):
    """Fit a :class:`clusterlab.MiniBatchKMeans` on a dask array; see :mod:`.minibatch`."""
    from clusterlab.distributed.minibatch import fit_minibatch_kmeans as _fit

    return _fit(estimator, X, y=y, sample_weight=sample_weight)


def fit_gaussian_mixture(estimator, X, y=None):
    """Fit a :class:`clusterlab.GaussianMixture` on a dask array; see :mod:`.mixture`."""
    from clusterlab.distributed.mixture import fit_gaussian_mixture as _fit

    return _fit(estimator, X, y=y)


def predict_blocks(estimator, method, X):
    """Apply ``estimator.<method>`` to every row block of ``X`` lazily (``map_blocks``).

    Parameters
    ----------
    estimator : fitted clusterlab estimator
    method : {"predict", "transform", "predict_proba", "score_samples"}
    X : dask.array.Array of shape (n_samples, n_features)

    Returns
    -------
    dask.array.Array
        1-D for ``predict`` and ``score_samples``, 2-D for the others, chunked
        like ``X``'s rows. Nothing is computed until you call ``.compute()``.
    """
    from clusterlab.distributed.predict import predict_blocks as _predict

    return _predict(estimator, method, X)


def silhouette_score(X, labels, *, sample_size, metric="euclidean", random_state=None, **kwds):
    """Silhouette coefficient of a dask array on a sample drawn across its blocks."""
    from clusterlab.distributed.predict import silhouette_score as _silhouette

    return _silhouette(X, labels, sample_size=sample_size, metric=metric,
                       random_state=random_state, **kwds)


def from_memmap(path, dtype, shape, chunks=None):
    """A dask array reading row blocks of a raw ``np.memmap`` file on demand.

    ``da.from_array(np.memmap(...))`` would pickle the *contents* of the
    memmap into every task sent to a distributed worker; this array's tasks
    carry only the path, and each task opens the file and copies its rows.
    Every worker must see the file at the same path (one machine, or a shared
    file system).

    Parameters
    ----------
    path : str
        File written by ``np.memmap(path, dtype, mode="w+", shape=shape)`` (or
        :func:`clusterlab.datasets.to_memmap`).
    dtype : numpy dtype
    shape : tuple of int, (n_samples, n_features)
    chunks : int or tuple, optional
        Rows per block; default: about 64 MiB per block.

    Returns
    -------
    dask.array.Array
    """
    from clusterlab.distributed._utils import from_memmap as _from_memmap

    return _from_memmap(path, dtype, shape, chunks)
