"""Feature agglomeration and Ward's tree: :class:`FeatureAgglomeration`, :func:`ward_tree`.

The same API, defaults, attributes and errors as scikit-learn 1.9's. Both
build on :mod:`clusterlab.cluster.agglomerative`; Ward's linkage without a
connectivity graph on many points in many dimensions -- the usual shape of
feature agglomeration, thousands of features described by hundreds of
samples -- takes the condensed-matrix path of
:mod:`clusterlab._kernels.ward_dense` (distances from BLAS products, then
the nearest-neighbour chain with Lance–Williams updates, as scipy's
``linkage(method='ward')`` that scikit-learn calls).
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.sparse import issparse
from sklearn.base import ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted, check_memory, validate_data

from clusterlab._dask import warn_if_dask
from clusterlab import _config
from clusterlab._validation import check_magnitude, is_euclidean
from clusterlab._kernels import linkage as _lk
from clusterlab._kernels import ward_dense as _wd
from clusterlab.cluster._linkage_metrics import _KERNEL_METRICS, _OTHER_METRICS
from clusterlab.cluster.agglomerative import (
    _LINKAGES,
    AgglomerativeClustering,
    _cut_tree,
    linkage_tree,
)

__all__ = ["FeatureAgglomeration", "ward_tree"]

#: A squared distance from the BLAS identity within this fraction of
#: |x|² + |y|² may have cancelled: it is summed directly instead.
_REFINE = 1e-8


def _use_dense_ward(n, d):
    if n < _config.WARD_DENSE_MIN_POINTS or d < _config.WARD_DENSE_MIN_FEATURES:
        return False
    need = n * (n - 1) // 2 * 8
    free = _config.available_memory()
    return need <= _config.WARD_DENSE_MAX_BYTES and (free is None or need <= free // 2)


def _ward_dense(X):
    """Full Ward tree of the rows of X through the condensed matrix:
    (children (n-1, 2) intp, distances (n-1,) float64)."""
    X = np.asarray(X, dtype=np.float64)
    X = X - X.mean(axis=0)  # less cancellation in the BLAS identity
    n = X.shape[0]
    sq = np.einsum("ij,ij->i", X, X)
    D = np.empty(n * (n - 1) // 2)
    block = max(1, min(n, _config.chunk_rows(n, 8)))
    for i0 in range(0, n - 1, block):
        i1 = min(n, i0 + block)
        G = X[i0:i1] @ X[i0:].T
        _wd.condensed_from_gram(G, sq, X, i0, _REFINE, D)
    del G
    x = np.empty(n - 1, dtype=np.int64)
    y = np.empty(n - 1, dtype=np.int64)
    dist = np.empty(n - 1)
    _lk.nn_chain_condensed(D, n, _lk.WARD, x, y, dist)
    del D
    order = np.argsort(dist, kind="mergesort")
    children = np.empty((n - 1, 2), dtype=np.int64)
    _wd.label_merges(np.ascontiguousarray(x[order]), np.ascontiguousarray(y[order]), n,
                     children)
    return children.astype(np.intp), dist[order]


_PARTIAL_BUILD_WARNING = (
    "Partial build of the tree is implemented only for structured clustering (i.e. with "
    "explicit connectivity). The algorithm will build the full tree and only retain the "
    "lower branches required for the specified number of clusters"
)


@validate_params(
    {
        "X": ["array-like"],
        "connectivity": ["array-like", "sparse matrix", None],
        "n_clusters": [Interval(Integral, 1, None, closed="left"), None],
        "return_distance": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def ward_tree(X, *, connectivity=None, n_clusters=None, return_distance=False):
    """Ward's hierarchical clustering tree, as :func:`sklearn.cluster.ward_tree`.

    Recursively merge the pair of clusters whose merge least increases the
    within-cluster sum of squares.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The samples (a 1-D array is one feature).
    connectivity : {array-like, sparse matrix}, default=None
        (n_samples, n_samples) graph of the samples each may merge with;
        ``None`` means all. A graph with several components is completed
        with the closest pair between components, with a warning.
    n_clusters : int, default=None
        Stop after ``n_samples - n_clusters`` merges (only with
        ``connectivity``; without it the full tree is built, with a warning).
    return_distance : bool, default=False
        Also return the merge distances.

    Returns
    -------
    children : ndarray of shape (n_nodes - 1, 2)
        Children of each non-leaf node: node ``n_samples + i`` merges
        ``children[i]``.
    n_connected_components : int
        Components of the connectivity graph (1 without one).
    n_leaves : int
        Number of samples.
    parents : ndarray of shape (n_nodes,) or None
        Parent of each node (``None`` without connectivity).
    distances : ndarray of shape (n_nodes - 1,)
        Only with ``return_distance=True``: ``sqrt(2 |A||B| / (|A|+|B|)) *
        ||c_A - c_B||`` for the merge of A and B.

    Notes
    -----
    Without connectivity, for at least ``clusterlab._config.WARD_DENSE_MIN_POINTS``
    samples in at least ``WARD_DENSE_MIN_FEATURES`` dimensions (and when the matrix fits
    in memory): all pairwise distances as BLAS products (O(n² d) time, n²/2
    float64 memory), then the nearest-neighbour chain with Lance–Williams
    updates, O(n²) -- scipy's algorithm, which scikit-learn runs. Otherwise
    the nearest-neighbour chain on centroids (O(n d) memory) or, with
    connectivity, merges along the graph (see
    :class:`clusterlab.AgglomerativeClustering`).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import ward_tree
    >>> children, n_cc, n_leaves, parents = ward_tree(np.array([[0.], [1.], [5.], [7.]]))
    >>> children.tolist()
    [[0, 1], [2, 3], [4, 5]]
    """
    X = np.asarray(X)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if connectivity is None:
        from sklearn.utils import check_array

        X = check_array(X, dtype=[np.float64, np.float32])
        if n_clusters is not None:
            warnings.warn(_PARTIAL_BUILD_WARNING, stacklevel=2)
        if _use_dense_ward(*X.shape):
            children, dist = _ward_dense(X)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                children, _, _, _, dist = linkage_tree(X, linkage="ward", return_distance=True)
        if return_distance:
            return children, 1, X.shape[0], None, dist
        return children, 1, X.shape[0], None
    return linkage_tree(X, connectivity=connectivity, n_clusters=n_clusters, linkage="ward",
                        return_distance=return_distance)


class FeatureAgglomeration(ClassNamePrefixFeaturesOutMixin, TransformerMixin,
                           AgglomerativeClustering):
    """Agglomerate features: hierarchical clustering of the columns of X.

    A drop-in for :class:`sklearn.cluster.FeatureAgglomeration`: the features
    are clustered as :class:`clusterlab.AgglomerativeClustering` clusters
    samples, and :meth:`transform` pools each cluster of features into one.

    Parameters
    ----------
    n_clusters : int or None, default=2
        Number of feature clusters; ``None`` with ``distance_threshold``.
    metric : str or callable, default='euclidean'
        Distance between features (see :class:`clusterlab.AgglomerativeClustering`).
    memory : str or object with the joblib.Memory interface, default=None
        Cache the tree.
    connectivity : array-like, sparse matrix or callable, default=None
        (n_features, n_features) graph of the features each may merge with
        (e.g. ``sklearn.feature_extraction.image.grid_to_graph`` for pixels),
        or a callable returning it from ``X.T``.
    compute_full_tree : 'auto' or bool, default='auto'
        Stop early at ``n_clusters`` (with connectivity only).
    linkage : {'ward', 'complete', 'average', 'single'}, default='ward'
        Linkage criterion.
    pooling_func : callable, default=np.mean
        Combines the values of a cluster's features:
        ``pooling_func(values, axis=1)`` on an (n_samples, cluster size) block.
    distance_threshold : float, default=None
        Linkage distance at or above which clusters are not merged
        (``n_clusters`` must then be ``None``).
    compute_distances : bool, default=False
        Store ``distances_`` even without ``distance_threshold``.

    Attributes
    ----------
    n_clusters_ : int
        Number of feature clusters.
    labels_ : ndarray of shape (n_features,)
        Cluster of each feature.
    n_leaves_ : int
        Number of leaves of the tree (features).
    n_connected_components_ : int
        Connected components of the connectivity graph.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string column names.
    children_ : ndarray of shape (n_nodes - 1, 2)
        Children of each non-leaf node.
    distances_ : ndarray of shape (n_nodes - 1,)
        Merge distances (with ``distance_threshold`` or ``compute_distances``).

    See Also
    --------
    ward_tree, clusterlab.AgglomerativeClustering

    Notes
    -----
    With n_features = p and n_samples = m: Ward's linkage without
    connectivity (the default) on at least 200 features clusters them through
    a condensed p×p distance matrix -- O(p² m) time in BLAS for the
    distances, O(p²) for the merges, p²/2 float64 of memory (scikit-learn,
    through scipy, needs the same matrix) -- when it fits in memory; else on
    centroids, O(p m) memory. ``transform`` with ``np.mean`` costs O(m p).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import FeatureAgglomeration
    >>> X = np.array([[0., 0.1, 5., 5.2], [1., 1.1, 3., 3.1], [2., 2.2, 0., 0.1]])
    >>> agglo = FeatureAgglomeration(n_clusters=2).fit(X)
    >>> agglo.labels_.tolist()
    [1, 1, 0, 0]
    >>> agglo.transform(X).round(2).tolist()
    [[5.1, 0.05], [3.05, 1.05], [0.05, 2.1]]
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left"), None],
        "metric": [StrOptions(set(_KERNEL_METRICS) | _OTHER_METRICS), callable],
        "memory": [str, HasMethods("cache"), None],
        "connectivity": ["array-like", "sparse matrix", callable, None],
        "compute_full_tree": [StrOptions({"auto"}), "boolean"],
        "linkage": [StrOptions(set(_LINKAGES))],
        "pooling_func": [callable],
        "distance_threshold": [Interval(Real, 0, None, closed="left"), None],
        "compute_distances": ["boolean"],
    }

    def __init__(self, n_clusters=2, *, metric="euclidean", memory=None, connectivity=None,
                 compute_full_tree="auto", linkage="ward", pooling_func=np.mean,
                 distance_threshold=None, compute_distances=False):
        super().__init__(n_clusters=n_clusters, metric=metric, memory=memory,
                         connectivity=connectivity, compute_full_tree=compute_full_tree,
                         linkage=linkage, distance_threshold=distance_threshold,
                         compute_distances=compute_distances)
        self.pooling_func = pooling_func

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build the tree of the features and cut it into clusters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        self : FeatureAgglomeration
        """
        warn_if_dask(X, type(self).__name__)
        X = validate_data(self, X, ensure_min_features=2)
        if self.linkage == "ward" or is_euclidean(self.metric):
            # the compared vectors are the columns: n_samples long
            check_magnitude(X, self, n_features=X.shape[0])
        n_features_in = self.n_features_in_
        names = getattr(self, "feature_names_in_", None)
        XT = np.ascontiguousarray(X.T, dtype=np.float64 if X.dtype != np.float32 else None)
        if (self.linkage == "ward" and self.connectivity is None
                and self.metric in ("euclidean", "l2") and _use_dense_ward(*XT.shape)
                and ((self.n_clusters is None) ^ (self.distance_threshold is None))
                and (self.distance_threshold is None or self.compute_full_tree)):
            self._fit_dense_ward(XT)
        else:
            # the sample clustering of the transposed table (it validates the
            # parameters against the data and raises the same errors)
            super().fit(XT)
            self.n_features_in_ = n_features_in
            if names is None:
                self.__dict__.pop("feature_names_in_", None)
        if names is not None:
            self.feature_names_in_ = names
        self._n_features_out = self.n_clusters_
        return self

    def _fit_dense_ward(self, XT):
        memory = check_memory(self.memory)
        children, dist = memory.cache(_ward_dense)(XT)
        n = XT.shape[0]
        self.children_ = children
        self.n_connected_components_ = 1
        self.n_leaves_ = n
        if self.distance_threshold is not None or self.compute_distances:
            self.distances_ = dist
        if self.distance_threshold is not None:
            self.n_clusters_ = int(np.count_nonzero(dist >= self.distance_threshold)) + 1
        else:
            if self.n_clusters > n:
                raise ValueError(
                    f"Cannot extract more clusters than samples: {self.n_clusters} clusters "
                    f"were given for a tree with {n} leaves; use n_clusters <= n_samples."
                )
            self.n_clusters_ = self.n_clusters
        self.labels_ = _cut_tree(children, n, self.n_clusters_)

    @property
    def fit_predict(self):
        """Not available: FeatureAgglomeration clusters features, not samples."""
        raise AttributeError("'FeatureAgglomeration' has no attribute 'fit_predict'")

    def transform(self, X):
        """Pool the features of each cluster.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        Y : ndarray of shape (n_samples, n_clusters_)
            ``pooling_func`` of each cluster's features (clusters in label order).
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        labels = self.labels_
        if self.pooling_func == np.mean and not issparse(X):
            # features sorted by cluster (stably: each cluster keeps the
            # feature order), one summing pass over each row
            order = np.argsort(labels, kind="stable")
            size = np.bincount(labels)
            starts = np.concatenate([[0], np.cumsum(size)[:-1]])
            sums = np.add.reduceat(np.asarray(X, dtype=np.float64)[:, order], starts, axis=1)
            return sums / size
        pooled = [self.pooling_func(X[:, labels == lab], axis=1) for lab in np.unique(labels)]
        return np.array(pooled).T

    def inverse_transform(self, X):
        """Give each feature the value of its cluster.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_clusters_) or (n_clusters_,)

        Returns
        -------
        X_original : ndarray or sparse matrix of shape (n_samples, n_features) or (n_features,)
            Sparse (CSR) for a sparse ``X``, as in scikit-learn.
        """
        check_is_fitted(self)
        _, inverse = np.unique(self.labels_, return_inverse=True)
        if issparse(X):
            return X.tocsr()[:, inverse]
        return np.asarray(X)[..., inverse]
