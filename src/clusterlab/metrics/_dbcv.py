"""DBCV, the density-based clustering validation index (Moulavi et al. 2014)."""

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array, check_consistent_length, column_or_1d

from clusterlab._dask import warn_if_dask
from clusterlab.metrics._scaling import _power_of_two_scaled

# metric name -> code of clusterlab._kernels.dbcv (3: minkowski with p)
_DBCV_METRICS = {"euclidean": 0, "l2": 0, "manhattan": 1, "cityblock": 1, "l1": 1,
                 "chebyshev": 2, "infinity": 2, "minkowski": 3}


@validate_params(
    {"X": ["array-like"], "labels": ["array-like"],
     "metric": [StrOptions(set(_DBCV_METRICS) | {"precomputed"})],
     "p": [Interval(Real, 1, None, closed="left")],
     "d": [Interval(Real, 0, None, closed="neither"), None],
     "per_cluster_scores": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def dbcv_score(X, labels, *, metric="euclidean", p=2, d=None, per_cluster_scores=False):
    """Density-based clustering validation (DBCV) index of a partition.

    Moulavi et al. (2014): within each cluster, the *all-points core
    distance* of a point p is ``(mean over the other members q of
    d(p, q)^-dim)^(-1/dim)``; the *density sparseness* DSC of a cluster is the
    largest edge between internal nodes (degree >= 2) of the minimum spanning
    tree of its mutual reachability distances ``max(apcd(p), apcd(q), d(p, q))``;
    the *density separation* DSPC of two clusters is the smallest mutual
    reachability distance between their internal nodes. A cluster scores
    ``V = (min DSPC - DSC) / max(min DSPC, DSC)`` in [-1, 1] and the index is
    the size-weighted mean ``sum |C| / n * V`` over clusters, where n counts
    the noise points too, so labelling points noise costs their weight.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), or (n_samples, n_samples)
        Samples, or a dense distance matrix with ``metric='precomputed'``.
    labels : array-like of shape (n_samples,)
        Cluster labels; negative labels (-1 and HDBSCAN's -2, -3) are noise.
    metric : {'euclidean', 'manhattan', 'chebyshev', 'minkowski', 'precomputed', ...}, \
            default='euclidean'
    p : float, default=2
        Minkowski exponent (``metric='minkowski'``).
    d : float, default=None
        The exponent of the all-points core distance: the data's
        dimensionality, ``n_features`` by default; required with
        ``metric='precomputed'``.
    per_cluster_scores : bool, default=False
        Also return each cluster's V (in the order of the sorted labels).

    Returns
    -------
    score : float
        In [-1, 1]; higher is better.
    per_cluster : ndarray of shape (n_clusters,)
        Only with ``per_cluster_scores=True``.

    Notes
    -----
    Time O(n^2 d) (three parallel passes over the pairs of clustered points),
    memory O(n): no distance matrix is built for feature input. A cluster
    whose minimum spanning tree has no internal node (at most two points) uses
    all its points, and one without an internal edge uses all its edges; a
    cluster of one point has DSC 0. Duplicate points give an all-points core
    distance of 0 (the formula's limit; the ``hdbscan`` library's
    ``validity_index`` instead skips zero distances in the sum). The core
    distances make many mutual reachability edges equal, so a cluster has
    several minimum spanning trees with different internal nodes: the one
    taken grows from the cluster's first row and prefers the smaller row
    index among equal edges, as ``hdbscan.validity.validity_index`` does
    (whose value this equals, to rounding, on data without duplicates) -- so
    the score can change when the rows are reordered.

    References
    ----------
    .. [1] Moulavi, D., Jaskowiak, P. A., Campello, R. J. G. B., Zimek, A. and
       Sander, J. (2014). "Density-Based Clustering Validation". SIAM SDM.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.metrics import dbcv_score
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(0, 0.3, (50, 2)), rng.normal(5, 0.3, (50, 2))])
    >>> labels = np.repeat([0, 1], 50)
    >>> bool(dbcv_score(X, labels) > 0.5)
    True
    """
    warn_if_dask(X, "dbcv_score")
    from clusterlab._kernels import dbcv as _dk

    precomputed = metric == "precomputed"
    X = check_array(X, dtype=np.float64, order="C")
    labels = column_or_1d(labels, warn=True)
    if labels.dtype.kind == "f" and np.isnan(labels).any():
        raise ValueError("labels contain NaN; use -1 for noise.")
    check_consistent_length(X, labels)
    if not precomputed:
        X = _power_of_two_scaled(X, metric, p)
    n = X.shape[0]
    if precomputed:
        if X.shape[0] != X.shape[1]:
            raise ValueError(
                f"Precomputed matrix must be square. Input is a {X.shape[0]}x{X.shape[1]} "
                "matrix.")
        if np.any(X < 0):
            raise ValueError("Negative values in data passed to precomputed distance matrix.")
        if d is None:
            raise ValueError("With metric='precomputed' pass d, the dimensionality of the "
                             "data the distances come from (the core distance's exponent).")
    dim = float(X.shape[1] if d is None else d)
    if labels.dtype.kind in "iuf":
        clustered = np.flatnonzero(np.asarray(labels) >= 0)
    elif labels.dtype.kind == "O":  # numbers among objects (a pandas column): -1 is noise
        clustered = np.flatnonzero([not (isinstance(v, Real) and v < 0)
                                    for v in labels])
    else:
        clustered = np.arange(n)
    classes, member = np.unique(labels[clustered], return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"Number of labels is {len(classes)} (noise excluded). DBCV needs at least 2 "
            "clusters.")
    member = member.astype(np.int64)
    sort = np.argsort(member, kind="stable")
    order = clustered[sort].astype(np.int64)
    member = member[sort]
    counts = np.bincount(member, minlength=len(classes))
    starts = np.zeros(len(classes) + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    code = _DBCV_METRICS.get(metric, 0)
    p_eff = float(p)
    if code == 3 and p_eff == 2:
        code = 0
    elif code == 3 and p_eff == 1:
        code = 1
    elif code == 3 and np.isinf(p_eff):
        code = 2
    feats, mat = (np.empty((1, 1)), X) if precomputed else (X, np.empty((1, 1)))
    apcd = np.zeros(n)
    _dk.all_points_core_distances(feats, mat, precomputed, code, p_eff, dim, order, starts,
                                  member, apcd)
    degree = np.empty(len(order), dtype=np.int64)
    weight = np.empty(len(order))
    parent = np.empty(len(order), dtype=np.int64)
    _dk.cluster_msts(feats, mat, precomputed, code, p_eff, apcd, order, starts, degree, weight,
                     parent)
    internal = degree >= 2
    sparseness = np.zeros(len(classes))
    for c in range(len(classes)):
        lo, hi = starts[c], starts[c + 1]
        if not internal[lo:hi].any():
            internal[lo:hi] = True  # no internal node (<= 2 points): every point counts
    for c in range(len(classes)):
        lo, hi = starts[c], starts[c + 1]
        w = weight[lo + 1:hi]  # the first member is the root of Prim's tree
        if w.size == 0:
            continue
        inner = internal[lo + 1:hi] & internal[parent[lo + 1:hi]]
        sparseness[c] = w[inner].max() if inner.any() else w.max()
    sep_point = np.empty(len(order))
    _dk.internal_separation(feats, mat, precomputed, code, p_eff, apcd, order, member, internal,
                            sep_point)
    separation = np.minimum.reduceat(sep_point, starts[:-1])
    with np.errstate(invalid="ignore"):
        validity = (separation - sparseness) / np.maximum(separation, sparseness)
    validity = np.where(np.isnan(validity), 0.0, validity)
    score = float(np.sum(counts / n * validity))
    if per_cluster_scores:
        return score, validity
    return score
