"""Clustering for semi-supervised learning (the seed's section 1.2).

With plenty of unlabelled data and a small labelling budget:

1. :func:`representative_indices` clusters the data and returns, for each
   cluster, the point nearest its centre: the images worth labelling.
2. :func:`propagate_labels` spreads each representative's label to its
   whole cluster, or only to the points within a percentile of distance from
   the centre (dropping the outliers whose propagated label is least sure).
3. :func:`uncertainty_queries` (active learning) picks the points a
   classifier is least sure about, spread over distinct clusters, to label
   next.

Examples
--------
>>> import numpy as np
>>> from sklearn.datasets import load_digits
>>> from clusterlab.semi_supervised import representative_indices, propagate_labels
>>> X, y = load_digits(return_X_y=True)
>>> X, y = X[:300], y[:300]
>>> idx, km = representative_indices(X, 10, random_state=0)
>>> labels, mask = propagate_labels(km, y[idx], X, percentile=90)
>>> labels.shape, bool(mask.mean() > 0.85)
((300,), True)
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

__all__ = ["representative_indices", "propagate_labels", "uncertainty_queries"]


def _distances_to_centres(model, X):
    """``(n_samples, n_clusters)`` distances from X's rows to the model's centres."""
    if hasattr(model, "transform"):
        return np.asarray(model.transform(X), dtype=np.float64)
    centres = np.asarray(model.cluster_centers_, dtype=np.float64)
    Xf = np.asarray(X, dtype=np.float64)
    sq = (np.einsum("ij,ij->i", Xf, Xf)[:, None] - 2.0 * Xf @ centres.T
          + np.einsum("ij,ij->i", centres, centres)[None, :])
    return np.sqrt(np.maximum(sq, 0.0))


def _check_clustering_model(model):
    check_is_fitted(model)
    if not hasattr(model, "cluster_centers_"):
        raise ValueError(
            f"{type(model).__name__} has no cluster_centers_: pass a fitted centroid model "
            "such as clusterlab.KMeans."
        )


def representative_indices(X, n_clusters, random_state=None, model=None):
    """The index of the point nearest each cluster centre.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Unlabelled data.
    n_clusters : int
        Number of clusters, i.e. of representatives (the labelling budget).
    random_state : int, RandomState instance or None, default=None
        Seeds the k-means runs when ``model`` is None.
    model : fitted centroid model, default=None
        A fitted :class:`clusterlab.KMeans` (or anything with
        ``cluster_centers_`` and ``transform``) with ``n_clusters`` centres;
        when None, ``clusterlab.KMeans(n_clusters, n_init=10,
        random_state=random_state)`` is fitted on ``X``.

    Returns
    -------
    indices : ndarray of shape (n_clusters,), int64
        ``indices[i]`` is the row of ``X`` nearest centre ``i``.
    model : the fitted model

    Raises
    ------
    ValueError
        Bad X (NaN/inf, empty, 1-D), ``n_clusters`` < 1 or > n_samples, or a
        model whose number of centres is not ``n_clusters``.

    Notes
    -----
    O(n k d) time for the distances (plus the k-means fit), O(n k) memory.
    """
    X = check_array(X, dtype=[np.float64, np.float32], accept_sparse=False)
    if not isinstance(n_clusters, Integral) or isinstance(n_clusters, bool) or n_clusters < 1:
        raise ValueError(f"n_clusters must be a positive integer, got {n_clusters!r}.")
    if n_clusters > X.shape[0]:
        raise ValueError(
            f"n_samples={X.shape[0]} should be >= n_clusters={n_clusters}: ask for fewer "
            "representatives or pass more samples."
        )
    if model is None:
        from clusterlab.cluster.kmeans import KMeans

        model = KMeans(n_clusters=n_clusters, n_init=10, random_state=random_state).fit(X)
    else:
        _check_clustering_model(model)
        k = np.asarray(model.cluster_centers_).shape[0]
        if k != n_clusters:
            raise ValueError(f"model has {k} cluster centres but n_clusters={n_clusters}; "
                             "pass matching values.")
    dist = _distances_to_centres(model, X)
    return np.argmin(dist, axis=0).astype(np.int64), model


def propagate_labels(model, representative_labels, X=None, percentile=None):
    """Give every point the label of its cluster's representative.

    Parameters
    ----------
    model : fitted centroid model
        The model of :func:`representative_indices` (``labels_``,
        ``cluster_centers_``).
    representative_labels : array-like of shape (n_clusters,)
        ``representative_labels[i]`` is the label of cluster ``i``'s
        representative.
    X : array-like of shape (n_samples, n_features), default=None
        Points to label. None: the model's training points (``model.labels_``);
        needed when ``percentile`` is given (distances to the centres).
    percentile : float in (0, 100], default=None
        Keep only the points whose distance to their centre is at most this
        percentile of their cluster's distances (the seed's
        ``percentile_closest=99``). None: keep every point.

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        The propagated label of every point (also those outside ``mask``).
    mask : ndarray of shape (n_samples,), bool
        True for the points whose propagated label is kept.

    Raises
    ------
    ValueError
        When the model is not fitted, ``representative_labels`` has the wrong
        length, ``percentile`` is out of (0, 100], or it is given without X.

    Notes
    -----
    O(n k d) time when ``percentile`` is given (distances), O(n) otherwise.
    """
    _check_clustering_model(model)
    k = np.asarray(model.cluster_centers_).shape[0]
    rep = np.asarray(representative_labels)
    if rep.ndim != 1 or rep.shape[0] != k:
        raise ValueError(
            f"representative_labels must have one label per cluster ({k}), got shape "
            f"{rep.shape}."
        )
    if percentile is not None:
        if (not isinstance(percentile, Real) or isinstance(percentile, bool)
                or not 0 < percentile <= 100):
            raise ValueError(f"percentile must be a number in (0, 100], got {percentile!r}.")
        if X is None:
            raise ValueError("percentile needs the points' distances to their centres: pass X "
                             "(the data the model was fitted on).")
    if X is None:
        clusters = np.asarray(model.labels_)
    else:
        X = check_array(X, dtype=[np.float64, np.float32])
        dist = _distances_to_centres(model, X)
        clusters = np.argmin(dist, axis=1)
    labels = rep[clusters]
    mask = np.ones(clusters.shape[0], dtype=bool)
    if percentile is not None:
        own = dist[np.arange(clusters.shape[0]), clusters]
        for i in range(k):
            members = clusters == i
            if not members.any():
                continue
            cutoff = np.percentile(own[members], percentile)
            mask[members & (own > cutoff)] = False
    return labels, mask


def uncertainty_queries(classifier, X, n, clusters=None):
    """The ``n`` points a classifier is least sure about (active learning).

    Confidence is the largest class probability of ``predict_proba``; the
    least confident points come first. With ``clusters``, the picks are spread
    over distinct clusters: the least confident point of each cluster in turn
    (clusters ordered by that point's confidence), then a second round, and so
    on, so that one confusing cluster does not take the whole budget.

    Parameters
    ----------
    classifier : fitted classifier with ``predict_proba``
    X : array-like of shape (n_samples, n_features)
        Unlabelled candidate points.
    n : int
        How many to query (at most n_samples are returned).
    clusters : array-like of shape (n_samples,), default=None
        A cluster label per point (e.g. ``kmeans.labels_``).

    Returns
    -------
    indices : ndarray of shape (min(n, n_samples),), int64
        Rows of ``X`` to label next, least confident first within a round.

    Notes
    -----
    O(n_samples log n_samples) for the sort plus ``predict_proba``.
    """
    if not hasattr(classifier, "predict_proba"):
        raise ValueError(f"{type(classifier).__name__} has no predict_proba; pass a "
                         "probabilistic classifier (e.g. LogisticRegression).")
    if not isinstance(n, Integral) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}.")
    # X goes to the classifier as given (a pipeline may select DataFrame columns by name)
    proba = classifier.predict_proba(X)
    if isinstance(proba, list):
        raise ValueError("the classifier's predict_proba returned one array per output (a "
                         "multi-output classifier); pass a single-output classifier.")
    proba = np.asarray(proba)
    if proba.ndim != 2:
        raise ValueError(f"predict_proba must return an array of shape (n_samples, n_classes), "
                         f"got shape {proba.shape}.")
    n_samples = proba.shape[0]
    confidence = proba.max(axis=1)
    order = np.argsort(confidence, kind="stable")
    n = min(int(n), n_samples)
    if clusters is None:
        return order[:n].astype(np.int64)
    clusters = np.asarray(clusters)
    if clusters.dtype.kind == "f" and np.isnan(clusters).any():
        raise ValueError("clusters contains NaN; give every row a cluster label (e.g. -1 for "
                         "noise).")
    if clusters.shape != (n_samples,):
        raise ValueError(f"clusters must have one label per row of X ({n_samples}), got "
                         f"shape {clusters.shape}.")
    # rank of each point within its cluster (0 = least confident of its cluster)
    ordered_clusters = clusters[order]
    rank = np.empty(order.shape[0], dtype=np.int64)
    seen = {}
    for pos, c in enumerate(ordered_clusters.tolist()):
        r = seen.get(c, 0)
        rank[pos] = r
        seen[c] = r + 1
    # round by round (rank), least confident first within a round
    picks = np.lexsort((np.arange(order.shape[0]), rank))[:n]
    return order[picks].astype(np.int64)
