"""HDBSCAN: scikit-learn's API on numba kernels, with the hdbscan library's
prediction, soft clustering and outlier scores.

The pipeline (see :mod:`._hdbscan_graph` and :mod:`._hdbscan_tree`):

1. core distances: the distance of each point to its ``min_samples``-th
   nearest neighbour, the point itself counted (scikit-learn's definition);
2. the minimum spanning tree of the mutual-reachability graph -- Borůvka on a
   KD-tree for euclidean data (never an n x n matrix), Prim on the dense
   mutual-reachability matrix for other metrics and ``metric='precomputed'``;
3. the single-linkage tree, the condensed tree, the cluster selection (excess
   of mass or leaves), labels and probabilities -- the same rules as
   scikit-learn, so the same labels on data in general position.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.metrics import pairwise_distances
from sklearn.metrics._dist_metrics import DistanceMetric
from sklearn.metrics.pairwise import _VALID_METRICS
from sklearn.neighbors import BallTree, KDTree
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from sklearn.utils.validation import (_allclose_dense_sparse, check_is_fitted,
                                      validate_data)

from .._validation import (canonical_sparse, check_magnitude, check_sparse_structure,
                           is_euclidean, refuse_semimetric_tree, rescale_rows)
from .._dask import is_dask_array, predict_blocks, warn_if_dask
from . import _hdbscan_graph as _graph
from ._hdbscan_tree import HIERARCHY_dtype, CondensedTree
from .. import _config
from .._config import numba_threads as _numba_threads

__all__ = ["HDBSCAN"]

FAST_METRICS = set(KDTree.valid_metrics + BallTree.valid_metrics)
_INFINITE, _MISSING = -2, -3




def _symmetric(X):
    """scikit-learn's ``_allclose_dense_sparse(X, X.T)``; dense matrices compared
    a block of rows at a time (no n x n temporaries)."""
    if sparse.issparse(X):
        return _allclose_dense_sparse(X, X.T)
    n = X.shape[0]
    step = _config.chunk_rows(n, 8)
    return all(np.allclose(X[start:start + step], X[:, start:start + step].T,
                           rtol=1e-7, atol=1e-9) for start in range(0, n, step))


class HDBSCAN(ClusterMixin, BaseEstimator):
    """Hierarchical density-based clustering (HDBSCAN*).

    Same parameters, defaults, attributes, warnings and errors as
    :class:`sklearn.cluster.HDBSCAN`; beyond it: :attr:`outlier_scores_`
    (GLOSH), :attr:`condensed_tree_` and :attr:`single_linkage_tree_`,
    :meth:`tree_frame`, :meth:`predict` for new points and
    :meth:`membership_vectors` (soft clustering), as the hdbscan library.

    Parameters
    ----------
    min_cluster_size : int, default=5
        Smallest group that counts as a cluster.
    min_samples : int, default=None
        ``k`` of the core distance (the distance to the k-th nearest neighbour,
        the point itself included); ``None`` means ``min_cluster_size``.
    cluster_selection_epsilon : float, default=0.0
        Clusters split below this distance are merged.
    max_cluster_size : int, default=None
        Largest cluster the ``"eom"`` selection returns (no limit if None).
    metric : str or callable, default='euclidean'
        Euclidean data (also ``minkowski`` with ``p=2``) takes the KD-tree
        path; every other metric of :func:`sklearn.metrics.pairwise_distances`,
        callables and ``"precomputed"`` take the dense O(n^2) path.
    metric_params : dict, default=None
        Arguments of the metric (``max_distance`` for sparse precomputed input).
    alpha : float, default=1.0
        Distance scaling of robust single linkage.
    algorithm : {"auto", "brute", "kd_tree", "ball_tree"}, default="auto"
        Accepted and validated as scikit-learn does (a tree algorithm with a
        metric the tree does not support is an error). Euclidean data always
        takes clusterlab's own path (its KD-tree, or from 20 features the
        points themselves); ``alpha`` follows the convention of the
        algorithm named (tree algorithms scale the pairwise distance only,
        ``brute`` the core distances too), as in scikit-learn.
    leaf_size : int, default=40
        Points per leaf of the KD-tree.
    n_jobs : int, default=None
        Threads of the numba kernels (None: numba's default, all cores unless
        ``NUMBA_NUM_THREADS`` says otherwise); also passed to
        ``pairwise_distances`` on the dense path.
    cluster_selection_method : {"eom", "leaf"}, default="eom"
    allow_single_cluster : bool, default=False
    store_centers : {None, "centroid", "medoid", "both"}, default=None
    copy : bool or 'warn', default='warn'
        With ``False`` a precomputed distance matrix is overwritten (as in
        scikit-learn); the default 'warn' behaves as ``False`` and warns of
        scikit-learn's coming change of default (FutureWarning).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster labels; -1 noise, -2 rows with infinite values, -3 rows with NaN.
        int64, but int32 when X has such rows (as scikit-learn).
    probabilities_ : ndarray of shape (n_samples,)
        Membership strength (0 for noise and infinite rows, NaN for NaN rows).
    outlier_scores_ : ndarray of shape (n_samples,)
        GLOSH outlier scores in [0, 1] (the hdbscan library's definition); 1
        for rows with infinite values, NaN for rows with NaN.
    condensed_tree_ : structured ndarray
        Rows ``(parent, child, lambda_val, child_size)`` as the hdbscan
        library's raw tree; points are input rows, clusters are numbered from
        ``n_samples`` (the root) on.
    single_linkage_tree_ : ndarray of shape (n_samples - 1, 4)
        The single-linkage tree of mutual reachability in scipy's linkage
        format (rows with non-finite values join last, at infinity).
    selected_clusters_ : ndarray of shape (n_clusters,)
        The condensed-tree clusters selected; label ``i`` is cluster
        ``selected_clusters_[i]``.
    centroids_, medoids_ : ndarray of shape (n_clusters, n_features)
        With ``store_centers``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Notes
    -----
    Euclidean data: O(n log n) expected time for the tree, Borůvka's O(log n)
    rounds of tree queries for the spanning tree, and O(n * min_samples)
    memory. Other metrics and precomputed input: O(n^2) time and memory (the
    size is checked first, see ``clusterlab._config.HDBSCAN_DENSE_MAX_BYTES``).
    The condensed tree and the selection are O(n).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import HDBSCAN
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 0.3, (50, 2)), rng.normal(5, 0.3, (50, 2))])
    >>> hdb = HDBSCAN(min_cluster_size=10, copy=True).fit(X)
    >>> sorted(set(hdb.labels_.tolist()))
    [0, 1]
    >>> hdb.predict([[0.1, 0.0], [5.0, 5.1]]).tolist()
    [0, 1]
    """

    _parameter_constraints = {
        "min_cluster_size": [Interval(Integral, left=2, right=None, closed="left")],
        "min_samples": [Interval(Integral, left=1, right=None, closed="left"), None],
        "cluster_selection_epsilon": [Interval(Real, left=0, right=None, closed="left")],
        "max_cluster_size": [None, Interval(Integral, left=1, right=None, closed="left")],
        "metric": [StrOptions(FAST_METRICS | set(_VALID_METRICS) | {"precomputed"}),
                   callable],
        "metric_params": [dict, None],
        "alpha": [Interval(Real, left=0, right=None, closed="neither")],
        "algorithm": [StrOptions({"auto", "brute", "kd_tree", "ball_tree"})],
        "leaf_size": [Interval(Integral, left=1, right=None, closed="left")],
        "n_jobs": [Integral, None],
        "cluster_selection_method": [StrOptions({"eom", "leaf"})],
        "allow_single_cluster": ["boolean"],
        "store_centers": [None, StrOptions({"centroid", "medoid", "both"})],
        "copy": ["boolean", Hidden(StrOptions({"warn"}))],
    }

    def __init__(self, min_cluster_size=5, min_samples=None, cluster_selection_epsilon=0.0,
                 max_cluster_size=None, metric="euclidean", metric_params=None, alpha=1.0,
                 algorithm="auto", leaf_size=40, n_jobs=None, cluster_selection_method="eom",
                 allow_single_cluster=False, store_centers=None, copy="warn"):
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.alpha = alpha
        self.max_cluster_size = max_cluster_size
        self.cluster_selection_epsilon = cluster_selection_epsilon
        self.metric = metric
        self.metric_params = metric_params
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.n_jobs = n_jobs
        self.cluster_selection_method = cluster_selection_method
        self.allow_single_cluster = allow_single_cluster
        self.store_centers = store_centers
        self.copy = copy

    # ------------------------------------------------------------------ fit
    def _validate(self, X):
        """scikit-learn's validation; returns (X, finite_index or None, n_total)."""
        if self.metric != "precomputed":
            X = validate_data(self, X, accept_sparse=["csr", "lil"], ensure_all_finite=False,
                              dtype=np.float64)
            if sparse.issparse(X) and X.format == "csr":
                X = canonical_sparse(X)  # duplicate entries summed, as the matrix's values are
            data = X.tocsr().data if sparse.issparse(X) else X
            if np.isfinite(data).all():
                if is_euclidean(self.metric):
                    check_magnitude(X, self)
                return X, None, None, None, X.shape[0]
            if sparse.issparse(X):
                Xl = X.tolil()
                finite = np.array([i for i, row in enumerate(Xl.data)
                                   if np.all(np.isfinite(row))], dtype=np.int64)
                rows = np.asarray(X.sum(axis=1)).ravel()
            else:
                rows = X.sum(axis=1)
                finite = np.flatnonzero(np.isfinite(rows))
            missing = np.flatnonzero(np.isnan(rows))
            infinite = np.flatnonzero(np.isinf(rows))
            Xf = X[finite]
            if is_euclidean(self.metric):
                check_magnitude(Xf, self)
            return Xf, finite, infinite, missing, X.shape[0]
        if sparse.issparse(X):
            X = validate_data(self, X, accept_sparse=["csr", "lil"], dtype=np.float64,
                              force_writeable=True)
            check_sparse_structure(X, "the precomputed distance matrix")
        else:
            X = validate_data(self, X, ensure_all_finite=False, dtype=np.float64,
                              force_writeable=True)
            if np.isnan(X).any():
                raise ValueError("np.nan values found in precomputed-dense")
        return X, None, None, None, X.shape[0]

    def _check_algorithm(self, X):
        if self.algorithm == "kd_tree" and self.metric not in KDTree.valid_metrics:
            raise ValueError(f"{self.metric} is not a valid metric for a KDTree-based "
                             "algorithm. Please select a different metric.")
        if self.algorithm == "ball_tree" and self.metric not in BallTree.valid_metrics:
            raise ValueError(f"{self.metric} is not a valid metric for a BallTree-based "
                             "algorithm. Please select a different metric.")
        if (self.algorithm not in ("auto", "brute") and self.metric != "precomputed"
                and sparse.issparse(X)):
            raise ValueError("Sparse data matrices only support algorithm `brute`.")
        # scikit-learn's tree algorithms (and "auto", which picks one for dense
        # data and a tree metric) refuse minkowski's semi-metrics, p < 1
        tree = self.algorithm in ("kd_tree", "ball_tree") or (
            self.algorithm == "auto" and not sparse.issparse(X)
            and self.metric in FAST_METRICS)
        p = self._metric_params.get("p", 2)
        if (tree and self.metric == "minkowski" and isinstance(p, Real)
                and not isinstance(p, bool) and p < 1):
            refuse_semimetric_tree(self.algorithm if self.algorithm != "auto" else "kd_tree")

    def _spanning_tree(self, X, copy):
        """Returns (u, v, w, core) over the rows of X, and records the path."""
        k = self._min_samples
        params = self._metric_params
        n = X.shape[0]
        brute = (self.algorithm == "brute"
                 or (self.algorithm == "auto"
                     and (sparse.issparse(X) or self.metric not in FAST_METRICS)))
        self._index = None
        if self.metric == "precomputed":
            self._path = "precomputed"
            if X.shape[0] != X.shape[1]:
                raise ValueError(
                    "The precomputed distance matrix is expected to be symmetric, however"
                    f" it has shape {X.shape}. Please verify that the"
                    " distance matrix was constructed correctly.")
            if not _symmetric(X):
                raise ValueError(
                    "The precomputed distance matrix is expected to be symmetric, however"
                    " its values appear to be asymmetric. Please verify that the distance"
                    " matrix was constructed correctly.")
            D = X.copy() if copy else X
            if sparse.issparse(D):
                return _graph.sparse_mst(D, k, self.alpha, params.get("max_distance", 0.0))
            return _graph.dense_mst(D, k, self.alpha, brute=True)
        if not sparse.issparse(X) and _graph.is_euclidean(self.metric, params):
            self._path = "kd_tree"
            u, v, w, core, index = _graph.kd_mst(X, k, self.alpha, self.leaf_size,
                                                 scale_core=not brute)
            self._index = index
            return u, v, w, core
        self._path = "dense"
        # scikit-learn's pairwise_distances may hold a temporary second matrix
        _graph.check_dense_fits(n, copies=2 if brute else 1)
        X = rescale_rows(X, self.metric)  # cosine, correlation: exact, no overflow
        if brute:
            D = pairwise_distances(X, metric=self.metric, n_jobs=self.n_jobs, **params)
        else:
            D = DistanceMetric.get_metric(self.metric, **params).pairwise(X)
        return _graph.dense_mst(np.ascontiguousarray(D, dtype=np.float64), k, self.alpha,
                                brute=brute)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Find the clusters.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or \
                (n_samples, n_samples) with ``metric='precomputed'``
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        warn_if_dask(X, type(self).__name__)
        if self.copy == "warn":
            warnings.warn(
                "The default value of `copy` will change from False to True in 1.10."
                " Explicitly set a value for `copy` to silence this warning.",
                FutureWarning)
            copy = False
        else:
            copy = self.copy
        if self.metric == "precomputed" and self.store_centers is not None:
            raise ValueError("Cannot store centers when using a precomputed distance matrix.")
        self._metric_params = self.metric_params or {}
        Xf, finite, infinite, missing, n_total = self._validate(X)
        if Xf.shape[0] == 0:
            raise ValueError("HDBSCAN needs at least one row without infinite or NaN "
                             "values; every row of X has one.")
        if Xf.shape[0] == 1 or n_total == 1:
            raise ValueError("n_samples=1 while HDBSCAN requires more than one sample")
        self._min_samples = (self.min_cluster_size if self.min_samples is None
                             else self.min_samples)
        if self._min_samples > Xf.shape[0]:
            raise ValueError(f"min_samples ({self._min_samples}) must be at most the number"
                             f" of samples in X ({Xf.shape[0]})")
        self._check_algorithm(Xf)
        with _numba_threads(self.n_jobs):
            u, v, w, core = self._spanning_tree(Xf, copy)
            _graph.warn_infinite(w)
            u, v, w = _graph.sorted_tree(u, v, w)
            tree = CondensedTree(u, v, w, self.min_cluster_size)
            labels, probs = tree.select(self.cluster_selection_method,
                                        self.allow_single_cluster,
                                        self.cluster_selection_epsilon,
                                        self.max_cluster_size)
            scores = tree.outlier_scores()
        self._tree = tree
        self._core_distances = core
        self._train = None if self.metric == "precomputed" else Xf
        self._finite_index = finite
        self.selected_clusters_ = tree.selected.copy()
        hierarchy = tree.hierarchy()
        if finite is None:
            self.labels_ = labels
            self.probabilities_ = probs
            self.outlier_scores_ = scores
            self.condensed_tree_ = tree.condensed()
            self._single_linkage_tree_ = hierarchy
        else:
            # int32 here, int64 on finite data: scikit-learn's dtypes
            self.labels_ = np.full(n_total, -1, dtype=np.int32)
            self.labels_[finite] = labels
            self.labels_[infinite] = _INFINITE
            self.labels_[missing] = _MISSING
            self.probabilities_ = np.zeros(n_total, dtype=np.float64)
            self.probabilities_[finite] = probs
            self.probabilities_[missing] = np.nan
            self.outlier_scores_ = np.ones(n_total, dtype=np.float64)
            self.outlier_scores_[finite] = scores
            self.outlier_scores_[missing] = np.nan
            self.condensed_tree_ = tree.condensed(finite, n_total)
            self.selected_clusters_ += n_total - tree.n
            non_finite = np.union1d(infinite, missing)
            self._single_linkage_tree_ = _remap_hierarchy(hierarchy, finite, non_finite,
                                                          n_total)
        slt = self._single_linkage_tree_
        self.single_linkage_tree_ = np.column_stack(
            [slt["left_node"], slt["right_node"], slt["value"], slt["cluster_size"]]
        ).astype(np.float64)
        if self.store_centers:
            self._weighted_cluster_center()
        return self

    def fit_predict(self, X, y=None):
        """Cluster X and return the labels (see :meth:`fit`)."""
        self.fit(X)
        return self.labels_

    def _weighted_cluster_center(self):
        Xt = self._train
        labels = self.labels_ if self._finite_index is None else \
            self.labels_[self._finite_index]
        probs = self.probabilities_ if self._finite_index is None else \
            self.probabilities_[self._finite_index]
        n_clusters = int(labels.max()) + 1 if labels.size else 0
        make_centroids = self.store_centers in ("centroid", "both")
        make_medoids = self.store_centers in ("medoid", "both")
        dense = Xt.toarray() if sparse.issparse(Xt) else Xt
        if make_centroids:
            self.centroids_ = np.empty((n_clusters, dense.shape[1]), dtype=np.float64)
        if make_medoids:
            self.medoids_ = np.empty((n_clusters, dense.shape[1]), dtype=np.float64)
        for idx in range(n_clusters):
            mask = labels == idx
            data = dense[mask]
            strength = probs[mask]
            if make_centroids:
                self.centroids_[idx] = np.average(data, weights=strength, axis=0)
            if make_medoids:
                dist = pairwise_distances(data, metric=self.metric, **self._metric_params)
                self.medoids_[idx] = data[np.argmin((dist * strength).sum(axis=1))]

    def dbscan_clustering(self, cut_distance, min_cluster_size=5):
        """DBSCAN* labels at ``cut_distance`` (no border points), from the
        single-linkage tree: components merged strictly below the cut,
        smaller than ``min_cluster_size`` are noise; rows with infinite or NaN
        values keep -2 / -3.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "labels_")
        labels = self._tree.labels_at_cut(cut_distance, min_cluster_size)
        if self._finite_index is None:
            return labels
        out = np.full(self.labels_.shape[0], -1, dtype=np.int64)
        out[self._finite_index] = labels
        bad = self.labels_ < -1
        out[bad] = self.labels_[bad]
        return out

    # ----------------------------------------------------- beyond sklearn
    def tree_frame(self, kind="condensed"):
        """The condensed tree (``kind="condensed"``: columns parent, child,
        lambda_val, child_size) or the single-linkage tree
        (``kind="single_linkage"``: left, right, distance, size) as a pandas
        DataFrame; without pandas, the structured array itself."""
        check_is_fitted(self, "labels_")
        if kind == "condensed":
            data = self.condensed_tree_
        elif kind == "single_linkage":
            slt = self._single_linkage_tree_
            data = np.empty(slt.shape[0], dtype=[("left", np.intp), ("right", np.intp),
                                                 ("distance", np.float64),
                                                 ("size", np.intp)])
            data["left"], data["right"] = slt["left_node"], slt["right_node"]
            data["distance"], data["size"] = slt["value"], slt["cluster_size"]
        else:
            raise ValueError(f"kind must be 'condensed' or 'single_linkage', got {kind!r}")
        try:
            import pandas as pd
        except ImportError:  # pragma: no cover - pandas is a test dependency
            return data
        return pd.DataFrame(data)

    def predict(self, X):
        """Label new points with the fitted clustering, without refitting.

        The hdbscan library's approximate prediction: a new point's core
        distance is its distance to its ``min_samples``-th nearest training
        point; it attaches to its nearest training point under mutual
        reachability (found exactly, where the library looks among the
        ``2 * min_samples`` nearest), at lambda = 1 / that distance, and takes
        the label of the cluster it would join at that lambda in the condensed
        tree (noise, -1, if that cluster is not within a selected one).

        Parameters
        ----------
        X : array-like or dask array of shape (n_queries, n_features)
            A dask array gives a lazy dask array (one task per block).

        Returns
        -------
        labels : ndarray of shape (n_queries,)
        """
        if is_dask_array(X):  # lazy, one task per block (clusterlab.distributed)
            return predict_blocks(self, "predict", X)
        from ._hdbscan_predict import approximate_predict

        return approximate_predict(self, X)[0]

    def membership_vectors(self, X=None):
        """Soft clustering: the probability of each point to belong to each
        cluster (the hdbscan library's ``all_points_membership_vectors`` for
        the training points when ``X`` is None, its ``membership_vector``
        for new points). ``X`` may be a dask array: the result is then lazy.

        Returns
        -------
        vectors : ndarray of shape (n, n_clusters)
            Rows sum to at most 1 (the rest is the chance of being noise).
        """
        if X is not None and is_dask_array(X):
            return predict_blocks(self, "membership_vectors", X)
        from ._hdbscan_predict import membership_vectors

        return membership_vectors(self, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.allow_nan = self.metric != "precomputed"
        return tags


def _remap_hierarchy(tree, finite, non_finite, n_total):
    """Single-linkage tree over all rows in scipy's numbering: finite rows'
    numbers mapped back to input rows, merge ``j`` creating node
    ``n_total + j``; the non-finite rows join one by one at the end, at
    infinity (as scikit-learn)."""
    tree = tree.copy()
    n_f = finite.shape[0]
    shift = n_total - n_f
    for field in ("left_node", "right_node"):
        col = tree[field].copy()
        is_pt = col < n_f
        col[is_pt] = finite[col[is_pt]]
        col[~is_pt] += shift
        tree[field] = col
    extra = np.zeros(len(non_finite), dtype=HIERARCHY_dtype)
    for i, row in enumerate(non_finite):
        other = finite[0] if (n_f == 1 and i == 0) else n_total + n_f - 2 + i
        extra[i] = (row, other, np.inf, n_f + 1 + i)
    return np.concatenate([tree, extra])
