"""Genie: outlier-resistant hierarchical clustering on the minimum spanning tree."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from clusterlab._dask import warn_if_dask
from clusterlab._kernels import genie as _gk
from clusterlab._validation import check_magnitude


class Genie(ClusterMixin, BaseEstimator):
    """Genie hierarchical clustering (Gagolewski, Bartoszuk & Cena, 2016).

    Single linkage merges along the Euclidean minimum spanning tree and is
    ruined by chaining: one cluster swallows everything while outliers stay
    alone. Genie merges along the same tree, but whenever the Gini index of
    the cluster sizes exceeds ``gini_threshold``, the next merge must
    involve a cluster of the smallest size. It finds clusters of arbitrary
    shape (rings, spirals, nested spheres) as single linkage does, and
    balanced blobs nearly as well as Ward's method, and is one of the most
    accurate hierarchical methods on public clustering benchmarks.

    Parameters
    ----------
    n_clusters : int, default=2
        The number of clusters to find.
    gini_threshold : float in [0, 1], default=0.3
        Gini index of the cluster sizes above which the smallest clusters
        are merged first. ``1.0`` is single linkage.

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster labels ``0..n_clusters-1``.
    merges_ : ndarray of shape (n_samples - 1, 2)
        One row of each merged pair of clusters, in merge order: the whole
        hierarchy, so that :meth:`cut` gives any other number of clusters
        without refitting.
    mst_ : tuple of three ndarrays
        The minimum spanning tree: edge ends ``(n-1,)``, ``(n-1,)`` and
        lengths ``(n-1,)``, sorted by length.
    n_features_in_ : int

    Notes
    -----
    Time ``O(n²·d)`` for the spanning tree (Prim's algorithm with distances
    computed on the fly) plus ``O(n log n)`` to ``O(n²)`` for the merges;
    memory ``O(n)`` above the data: no distance matrix is stored.

    References
    ----------
    M. Gagolewski, M. Bartoszuk, A. Cena, "Genie: A new, fast, and
    outlier-resistant hierarchical clustering algorithm", Information
    Sciences 363 (2016) 8-23.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.cluster.genie import Genie
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.3]])
    >>> Genie(n_clusters=2).fit(X).labels_.tolist()
    [0, 0, 0, 1, 1, 1]
    """

    _parameter_constraints = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "gini_threshold": [Interval(Real, 0, 1, closed="both")],
    }

    def __init__(self, n_clusters=2, gini_threshold=0.3):
        self.n_clusters = n_clusters
        self.gini_threshold = gini_threshold

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build the hierarchy and cut it at ``n_clusters``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        warn_if_dask(X, type(self).__name__)
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2, order="C")
        check_magnitude(X, self, huge=False)  # huge values: the tree rescales them
        n = X.shape[0]
        if self.n_clusters > n:
            raise ValueError(
                f"n_clusters={self.n_clusters} is larger than the number of samples ({n}).")
        a, b, w = minimum_spanning_tree(X)
        merges = np.empty((n - 1, 2), np.int64)
        _gk.genie_merges(n, a, b, float(self.gini_threshold), merges)
        self.mst_ = (a, b, w)
        self.merges_ = merges
        self.labels_ = self.cut(self.n_clusters)
        return self

    def cut(self, n_clusters):
        """Labels for ``n_clusters`` clusters from the fitted hierarchy (no refit).

        Parameters
        ----------
        n_clusters : int, 1 <= n_clusters <= n_samples

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        check_is_fitted(self, "merges_")
        n = self.merges_.shape[0] + 1
        if not 1 <= int(n_clusters) <= n:
            raise ValueError(f"n_clusters must be in [1, {n}], got {n_clusters}.")
        labels = np.empty(n, np.int64)
        _gk.cut_merges(n, self.merges_, int(n_clusters), labels)
        return labels


def minimum_spanning_tree(X):
    """Euclidean minimum spanning tree of the rows of ``X``, edges sorted by length.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), n_samples >= 2

    Returns
    -------
    a, b : ndarray of shape (n_samples - 1,), int64
        The two ends of each edge.
    w : ndarray of shape (n_samples - 1,), float64
        The edge lengths, increasing.

    Notes
    -----
    Prim's algorithm with distances computed on the fly: ``O(n²·d)`` time,
    ``O(n)`` memory.

    >>> a, b, w = minimum_spanning_tree([[0.0], [1.0], [3.0]])
    >>> w.tolist()
    [1.0, 2.0]
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 2:
        raise ValueError("minimum_spanning_tree needs a 2-D array with at least 2 rows.")
    n = X.shape[0]
    a = np.empty(n - 1, np.int64)
    b = np.empty(n - 1, np.int64)
    w = np.empty(n - 1)
    # squared distances of values near 1e154 and beyond overflow: compute on X
    # scaled by a power of two (exact, the same tree), then scale the lengths back
    top = float(np.max(np.abs(X))) if X.size else 0.0
    exp = max(0, int(np.frexp(top)[1]) - 500) if np.isfinite(top) else 0
    _gk.euclidean_mst(np.ldexp(X, -exp) if exp else X, a, b, w)
    if exp:
        w = np.ldexp(w, exp)
    order = np.argsort(w, kind="stable")
    return a[order], b[order], w[order]
