"""Bisecting K-Means: :class:`BisectingKMeans`.

The same API, defaults, attributes, warnings and errors as scikit-learn 1.9's
``sklearn.cluster.BisectingKMeans``. Each bisection is a two-centre run of
clusterlab's K-Means core (:mod:`clusterlab._core.kmeans_run`, the runs of
:class:`~clusterlab.KMeans`, on the rows of the cluster being split), drawing
its initial centres from one random state shared by all bisections, in the
order scikit-learn draws them; so for the
same ``random_state`` the tree, labels and inertia are scikit-learn's (up to
rounding, see the class Notes).
"""

from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from clusterlab._dask import warn_if_dask
from clusterlab._core import kmeans_plan as _plan
from clusterlab._core import kmeans_run as _run
from clusterlab._core import kmeans_setup as _setup
from clusterlab._kernels import bisect as _bk
from clusterlab import _config
from clusterlab._validation import check_n_clusters, check_sample_weight, check_table_fits

__all__ = ["BisectingKMeans"]


class _BisectTree:
    """The hierarchy of bisections as flat lists (node 0 is the root).

    ``left[i]``/``right[i]`` are the children of node ``i`` (-1 for a leaf),
    ``center[i]`` its centre (in the dtype of X), ``size[i]`` its number of
    training rows, ``score[i]`` what the bisecting strategy compares, and
    ``label[i]`` the cluster of a leaf (-1 for an inner node).
    """

    def __init__(self, center, size):
        self.left, self.right = [-1], [-1]
        self.center, self.size, self.score = [center], [size], [0.0]
        self.inertia = [np.nan]
        self.label = [-1]
        self.order = []  # the split nodes, in the order they were split

    def add(self, center, size, score, inertia):
        self.left.append(-1)
        self.right.append(-1)
        self.center.append(center)
        self.size.append(size)
        self.score.append(score)
        self.inertia.append(inertia)
        self.label.append(-1)
        return len(self.left) - 1

    def leaves(self):
        """Leaves from left to right (depth first, left child first)."""
        out, stack = [], [0]
        while stack:
            i = stack.pop()
            if self.left[i] < 0:
                out.append(i)
            else:
                stack.append(self.right[i])
                stack.append(self.left[i])
        return out

    def to_bisect(self):
        """The leaf with the largest score; the leftmost among equal ones."""
        best, best_score = None, None
        for i in self.leaves():
            if best_score is None or self.score[i] > best_score:
                best, best_score = i, self.score[i]
        return best


def _sq_dist_to(X, center):
    """Squared distance (float64) of every row of X to one centre."""
    c = np.asarray(center, dtype=np.float64)
    if sp.issparse(X):
        x_sq = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
        d2 = x_sq - 2.0 * np.asarray(X @ c, dtype=np.float64).ravel() + c @ c
        return np.maximum(d2, 0.0)
    diff = X - c.astype(X.dtype)
    return np.einsum("ij,ij->i", diff, diff, dtype=np.float64)


def _mean_variance(X):
    """Mean of the feature variances of a sparse X (as K-Means' tolerance uses)."""
    from sklearn.utils.sparsefuncs import mean_variance_axis

    return float(np.mean(mean_variance_axis(X, axis=0)[1]))


def _side_inertias(X, sample_weight, labels, centers):
    """Weighted inertia of each side of a split, float64 (2,)."""
    if sp.issparse(X):
        out = np.empty(2)
        for side in (0, 1):
            mask = labels == side
            d2 = _sq_dist_to(X[mask], centers[side])
            out[side] = float(np.dot(d2, sample_weight[mask]))
        return out
    bounds = _bk.row_groups(X.shape[0])
    partial = np.empty((bounds.shape[0] - 1, 2))
    _bk.split_inertia(X, sample_weight, labels, np.asarray(centers, dtype=np.float64),
                      bounds, partial)
    return partial.sum(axis=0)


class BisectingKMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin,
                      BaseEstimator):
    """Bisecting K-Means clustering.

    Start from one cluster holding every sample; repeatedly pick a leaf
    cluster (the one with the largest inertia, or the one with the most
    samples) and split it in two with a two-centre K-Means, until there are
    ``n_clusters`` leaves. A drop-in for ``sklearn.cluster.BisectingKMeans``.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters (leaves of the bisection tree).
    init : {'k-means++', 'random'} or callable, default='random'
        Initial centres of each bisection: 'random' draws two distinct rows of
        the cluster with probability proportional to their weights;
        'k-means++' seeds as :func:`clusterlab.kmeans_plusplus`; a callable
        ``init(X, n_clusters, random_state=...)`` gets the cluster's rows and
        ``n_clusters=2`` and returns the two centres.
    n_init : int, default=1
        Runs of K-Means per bisection; the one with the lowest inertia is kept.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisations (one stream for every bisection).
    max_iter : int, default=300
        Maximum K-Means iterations per bisection.
    verbose : int, default=0
        Print progress.
    tol : float, default=1e-4
        A bisection converges when its total squared centre shift is at most
        ``tol`` (absolute, as scikit-learn's BisectingKMeans — unlike KMeans,
        where it is relative to the data's variance).
    copy_x : bool, default=True
        Kept for compatibility: X is never modified.
    algorithm : {'lloyd', 'elkan'}, default='lloyd'
        K-Means algorithm of each bisection. Both give the same result
        (clusterlab's exact algorithms agree with Lloyd's); 'elkan' skips
        distance computations with triangle-inequality bounds.
    bisecting_strategy : {'biggest_inertia', 'largest_cluster'}, default='biggest_inertia'
        Which leaf to split next: the one with the largest weighted sum of
        squared distances to its centre, or the one with the most samples.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Centres of the leaves, in the dtype of X.
    labels_ : ndarray of shape (n_samples,), int32
        Leaf of each training sample.
    inertia_ : float
        Weighted sum of squared distances of the samples to their leaf's centre.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when X has string column names.

    See Also
    --------
    clusterlab.KMeans : all centres at once.
    clusterlab.plotting.plot_bisecting_tree : draw the hierarchy of splits.

    Notes
    -----
    Time: each level of the tree costs about one K-Means run with two centres
    over the rows split at that level, so O(n d i log k) for balanced splits
    (i iterations per bisection), O(n d i k) at worst. Memory: the rows of the
    cluster being split are gathered (at most one copy of X), plus O(n) for
    labels and indices.

    ``predict`` walks down the tree as scikit-learn does: a new sample goes to
    the closer of the two centres of each split, so it may land in a leaf
    whose centre is not its closest; ``score`` and ``transform`` use
    ``cluster_centers_`` directly.

    scikit-learn subtracts the mean of X before fitting (to reduce rounding)
    and computes in the dtype of X; clusterlab's K-Means accumulates in
    float64 and needs no centring. Results are therefore the same up to
    rounding: identical on well-conditioned data, and may differ where two
    centres are at almost the same distance from a sample.

    References
    ----------
    Steinbach, M., Karypis, G. and Kumar, V. "A comparison of document
    clustering techniques", KDD workshop on text mining, 2000.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import BisectingKMeans
    >>> X = np.array([[1, 1], [10, 1], [3, 1], [10, 0], [2, 1], [10, 2],
    ...               [10, 8], [10, 9], [10, 10]], dtype=float)
    >>> bkm = BisectingKMeans(n_clusters=3, random_state=0).fit(X)
    >>> sorted(bkm.cluster_centers_.tolist())
    [[2.0, 1.0], [10.0, 1.0], [10.0, 9.0]]
    >>> int(bkm.predict([[0, 0]])[0]) == int(bkm.labels_[0])
    True
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "random"}), callable],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "copy_x": ["boolean"],
        "algorithm": [StrOptions({"lloyd", "elkan"})],
        "bisecting_strategy": [StrOptions({"biggest_inertia", "largest_cluster"})],
    }

    def __init__(self, n_clusters=8, *, init="random", n_init=1, random_state=None,
                 max_iter=300, verbose=0, tol=1e-4, copy_x=True, algorithm="lloyd",
                 bisecting_strategy="biggest_inertia"):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.random_state = random_state
        self.max_iter = max_iter
        self.verbose = verbose
        self.tol = tol
        self.copy_x = copy_x
        self.algorithm = algorithm
        self.bisecting_strategy = bisecting_strategy

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -- fitting -----------------------------------------------------------------

    def _validate_X(self, X, reset):
        return _setup.validate_input(self, X, reset)

    def _bisect(self, X, sample_weight, mean_variance, random_state, origin=None):
        """Two-centre K-Means on the rows of one cluster: (labels, centres).

        Runs K-Means' core (plan, seeding, driver) directly, as scikit-learn's
        bisections call its single-run function: X was validated once, in
        ``fit``, and ``tol`` is absolute (scikit-learn's bisections do not
        scale it by the variance). A cluster of identical rows splits into
        one cluster and an empty one, silently (as scikit-learn's).
        """
        check_n_clusters(2, X.shape[0])
        tol = self.tol if mean_variance > 0 else 0.0
        plan = _plan.make_plan(X, 2, self.algorithm)
        best_inertia = None
        for _ in range(self.n_init):
            centers_init = _setup.init_centers(X, 2, self.init, random_state, sample_weight,
                                               origin=origin)
            labels, inertia, centers, _ = _run.run(X, sample_weight, centers_init, plan,
                                                   self.max_iter, tol, self.verbose)
            # a small tolerance, as scikit-learn: equal inertias up to rounding
            # keep the first run
            if best_inertia is None or inertia < best_inertia * (1 - 1e-6):
                best_labels, best_centers, best_inertia = labels, centers, inertia
        if self.verbose:
            print(f"New centroids from bisection: {best_centers}")
        return best_labels, best_centers

    @staticmethod
    def _rows_of(X, sample_weight, idx, center):
        """The rows of a cluster (X itself for the root), their weights and the
        mean of their feature variances."""
        if sp.issparse(X):
            Xn = X if idx.shape[0] == X.shape[0] else X[idx]
            return Xn, sample_weight[idx], _mean_variance(Xn)
        bounds = _bk.row_groups(idx.shape[0])
        partial = np.empty((bounds.shape[0] - 1, 2, X.shape[1]))
        shift = np.asarray(center, dtype=np.float64)
        if idx.shape[0] == X.shape[0]:  # the root: every row, in order
            Xn, wn = X, sample_weight
            _bk.column_moments(X, shift, bounds, partial)
        else:
            Xn = np.empty((idx.shape[0], X.shape[1]), dtype=X.dtype)
            wn = sample_weight[idx]
            _bk.gather_rows_moments(X, idx, shift, bounds, Xn, partial)
        sums = partial.sum(axis=0) / idx.shape[0]
        variances = np.maximum(sums[1] - sums[0] ** 2, 0.0)
        return Xn, wn, float(np.mean(variances))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute the bisecting k-means clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (float32 stays float32; CSR accepted). Never modified.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples (non-negative). Not used by a callable ``init``.

        Returns
        -------
        self : BisectingKMeans
        """
        warn_if_dask(X, type(self).__name__)
        X, random_state, sample_weight = _setup.fit_inputs(self, X, sample_weight)
        n_samples = X.shape[0]

        root_center = np.asarray(X.mean(axis=0), dtype=X.dtype).ravel()
        # scikit-learn centres dense X first: a callable init sees its rows centred
        origin = root_center if callable(self.init) and not sp.issparse(X) else None
        tree = _BisectTree(root_center, n_samples)
        rows = {0: np.arange(n_samples)}
        by_inertia = self.bisecting_strategy == "biggest_inertia"
        for _ in range(self.n_clusters - 1):
            node = tree.to_bisect()
            idx = rows.pop(node)
            Xn, wn, mean_variance = self._rows_of(X, sample_weight, idx, tree.center[node])
            labels, centers = self._bisect(Xn, wn, mean_variance, random_state, origin)
            inertias = _side_inertias(Xn, wn, labels, centers)
            counts = np.bincount(labels, minlength=2)
            for side in (0, 1):
                score = inertias[side] if by_inertia else int(counts[side])
                child = tree.add(centers[side], int(counts[side]), score, inertias[side])
                rows[child] = idx[labels == side]
                if side == 0:
                    tree.left[node] = child
                else:
                    tree.right[node] = child
            tree.order.append(node)

        self.labels_ = np.empty(n_samples, dtype=np.int32)
        leaves = tree.leaves()
        self.cluster_centers_ = np.empty((len(leaves), X.shape[1]), dtype=X.dtype)
        for label, leaf in enumerate(leaves):
            idx = rows[leaf]
            self.labels_[idx] = label
            self.cluster_centers_[label] = tree.center[leaf]
            tree.label[leaf] = label
        if self.n_clusters == 1:
            inertia = float(np.dot(_sq_dist_to(X, root_center), sample_weight))
        else:
            inertia = float(sum(tree.inertia[leaf] for leaf in leaves))
        self.inertia_ = inertia
        self._bisecting_tree = tree
        self._n_features_out = self.cluster_centers_.shape[0]
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit and return the leaf of each training sample (``labels_``)."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit and return the distances of X to the leaf centres (see :meth:`transform`)."""
        return self.fit(X, sample_weight=sample_weight)._transform(self._validate_X(X, False))

    # -- inference ---------------------------------------------------------------

    def predict(self, X):
        """Leaf of each sample, going down the tree of bisections.

        At each split a sample goes to the closer of the split's two centres
        (the first on a tie), as scikit-learn's ``BisectingKMeans.predict``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,), int32
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        tree = self._bisecting_tree
        labels = np.full(X.shape[0], -1, dtype=np.int32)
        stack = [(0, np.arange(X.shape[0]))]
        while stack:
            node, idx = stack.pop()
            if tree.left[node] < 0:
                labels[idx] = tree.label[node]
                continue
            if idx.shape[0] == 0:
                continue
            Xn = X[idx]
            left, right = tree.left[node], tree.right[node]
            to_left = _sq_dist_to(Xn, tree.center[left]) <= _sq_dist_to(Xn, tree.center[right])
            stack.append((right, idx[~to_left]))
            stack.append((left, idx[to_left]))
        return labels

    def _sq_distances(self, X):
        centers = np.asarray(self.cluster_centers_, dtype=np.float64)
        if sp.issparse(X):
            x_sq = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
            d2 = x_sq[:, None] - 2.0 * np.asarray(X @ centers.T) + (centers ** 2).sum(1)
            return np.maximum(d2, 0.0)
        out = np.empty((X.shape[0], centers.shape[0]), dtype=np.float64)
        for j, c in enumerate(centers):
            diff = X - c.astype(X.dtype)
            out[:, j] = np.einsum("ij,ij->i", diff, diff, dtype=np.float64)
        return out

    def transform(self, X):
        """Euclidean distance of each sample to every leaf centre.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters)
            float32 when both X and the centres are float32, else float64,
            computed in that dtype (as scikit-learn).
        """
        check_is_fitted(self)
        return self._transform(self._validate_X(X, reset=False))

    def _transform(self, X):
        dtype = np.result_type(X.dtype, self.cluster_centers_.dtype)
        check_table_fits(X.shape[0], len(self.cluster_centers_), 8, "BisectingKMeans.transform",
                         copies=2)
        out = self._sq_distances(X.astype(dtype, copy=False))
        return np.sqrt(out, out=out).astype(dtype, copy=False)

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the weighted sum of squared distances of X to the
        closest leaf centre.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        # a block of rows at a time: (rows, k) within the working memory (the whole
        # n x k table, 3.7 GiB for 100000 rows and 5000 leaves, only to take its minimum)
        n = X.shape[0]
        step = max(1, _config.WORKING_MEMORY_BYTES // (8 * len(self.cluster_centers_)))
        min_sq = np.empty(n)
        for i0 in range(0, n, step):
            min_sq[i0:i0 + step] = self._sq_distances(X[i0:i0 + step]).min(axis=1)
        return -float(np.dot(min_sq, sample_weight.astype(np.float64)))
