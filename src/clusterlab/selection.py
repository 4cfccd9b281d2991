"""Choosing the number of clusters: sweep k, score every fit, find the elbow.

:func:`sweep` fits a clone of any clusterer (clusterlab's or scikit-learn's)
for every k, scores each fit with the applicable criteria (inertia,
silhouette, Calinski-Harabasz, Davies-Bouldin, BIC, AIC) and returns a
:class:`SweepResult` with the table, the fitted models, the best k per
criterion and the elbow of the inertia curve found by Kneedle
(:func:`knee_point`, Satopaa et al. 2011).

>>> from sklearn.cluster import KMeans
>>> from clusterlab.datasets import load_five_blobs
>>> from clusterlab.selection import sweep
>>> result = sweep(KMeans(n_init=10, random_state=42), load_five_blobs(), range(1, 10))
>>> result.best("silhouette"), result.elbow
(4, 3)
"""

import numbers

import numpy as np
from sklearn.base import clone

__all__ = ["sweep", "SweepResult", "knee_point", "CRITERIA", "gap_separation",
           "integrated_completed_likelihood"]

#: every criterion :func:`sweep` knows, in table order
CRITERIA = ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin", "bic", "aic")
_LABEL_CRITERIA = ("silhouette", "calinski_harabasz", "davies_bouldin")
_MAXIMISE = {"silhouette", "calinski_harabasz"}


def knee_point(x, y, curve="convex", direction="decreasing", S=1.0):
    """The knee (or elbow) of a curve, by Kneedle (Satopaa et al., 2011).

    Both axes are scaled to [0, 1]; the difference curve is the vertical
    distance between the scaled curve and the straight line joining its end
    points (taken on the side where the curve bends). Its local maxima are
    knee candidates; scanning from the steep end of the curve towards the
    flat end, the first candidate after which the difference drops below
    ``max - S * mean(diff(x_scaled))`` before the next candidate is the knee.

    Parameters
    ----------
    x : array-like of shape (n_points,)
        Strictly increasing abscissae (e.g. the numbers of clusters).
    y : array-like of shape (n_points,)
        The curve (e.g. inertia per number of clusters).
    curve : {"convex", "concave"}, default="convex"
        An inertia curve is convex; a log-likelihood curve is concave.
    direction : {"decreasing", "increasing"}, default="decreasing"
    S : float, default=1.0
        Sensitivity: larger values need a clearer knee.

    Returns
    -------
    knee : element of ``x`` or None
        None when the curve has fewer than three points, is flat, or has no
        knee by the rule above.

    Notes
    -----
    Time and memory O(n_points).

    References
    ----------
    .. [1] Satopaa, V., Albrecht, J., Irwin, D. and Raghavan, B. (2011).
       "Finding a 'Kneedle' in a haystack: detecting knee points in system
       behavior". 31st International Conference on Distributed Computing
       Systems Workshops, 166-171.

    Examples
    --------
    >>> knee_point([1, 2, 3, 4, 5, 6], [100, 40, 20, 15, 12, 10])
    3
    >>> knee_point([1, 2, 3, 4], [1, 2, 3, 4], curve="concave", direction="increasing") is None
    True
    """
    if curve not in ("convex", "concave"):
        raise ValueError(f"curve must be 'convex' or 'concave', got {curve!r}.")
    if direction not in ("decreasing", "increasing"):
        raise ValueError(f"direction must be 'decreasing' or 'increasing', got {direction!r}.")
    if not (isinstance(S, numbers.Real) and not isinstance(S, bool) and np.isfinite(S)
            and S >= 0):
        raise ValueError(f"S (the sensitivity) must be a finite number >= 0, got {S!r}.")
    x_in = np.asarray(x)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 1 or y.shape != x.shape:
        raise ValueError(
            f"x and y must be 1-D arrays of the same length, got shapes {x.shape} and {y.shape}."
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be finite; drop the points where the curve is NaN.")
    if x.size < 3:
        return None
    if np.any(np.diff(x) <= 0):
        raise ValueError("x must be strictly increasing.")
    top = max(np.max(np.abs(x)), np.max(np.abs(y)))
    if top > 1e300:  # differences would overflow; the knee does not depend on the scale
        x, y = x / top, y / top
    y_span = y.max() - y.min()
    if y_span == 0:
        return None
    xn = (x - x[0]) / (x[-1] - x[0])
    yn = (y - y.min()) / y_span
    # distance to the chord joining the end points, positive on the bending side
    if direction == "decreasing":
        chord = 1.0 - xn
        diff = chord - yn if curve == "convex" else yn - chord
    else:
        chord = xn
        diff = yn - chord if curve == "concave" else chord - yn
    # scan from the steep end: left for convex-decreasing / concave-increasing
    order = np.arange(x.size)
    steep_first = (curve == "convex") == (direction == "decreasing")
    if not steep_first:
        order = order[::-1]
    d = diff[order]
    threshold_step = S * np.mean(np.abs(np.diff(xn)))
    n = d.size
    maxima = [i for i in range(1, n - 1) if d[i] >= d[i - 1] and d[i] > d[i + 1]]
    for m_pos, i in enumerate(maxima):
        threshold = d[i] - threshold_step
        stop = maxima[m_pos + 1] if m_pos + 1 < len(maxima) else n
        if np.any(d[i + 1:stop] < threshold):
            return x_in[order[i]].item()
    return None


def _count_param(estimator, param):
    params = estimator.get_params(deep=False)
    if param is not None:
        if param not in estimator.get_params(deep=True):  # nested, e.g. "kmeans__n_clusters"
            raise ValueError(
                f"{type(estimator).__name__} has no parameter {param!r}; pass one of "
                f"{sorted(params)} as param."
            )
        return param
    for name in ("n_clusters", "n_components"):
        if name in params:
            return name
    raise ValueError(
        f"{type(estimator).__name__} has neither n_clusters nor n_components; pass the "
        "name of its number-of-clusters parameter as param=."
    )


def _labels_of(model, X):
    labels = getattr(model, "labels_", None)
    if labels is None and hasattr(model, "predict"):
        labels = model.predict(X)
    return None if labels is None else np.asarray(labels)


def _applicable(model):
    out = []
    if hasattr(model, "inertia_"):
        out.append("inertia")
    if getattr(model, "labels_", None) is not None or hasattr(model, "predict"):
        out.extend(_LABEL_CRITERIA)
    if callable(getattr(model, "bic", None)):
        out.append("bic")
    if callable(getattr(model, "aic", None)):
        out.append("aic")
    return out


def sweep(estimator, X, k_values, criteria=None, *, param=None, random_state=None,
          sample_size=None):
    """Fit ``clone(estimator)`` for every number of clusters and score each fit.

    Parameters
    ----------
    estimator : estimator
        Any clusterer with an ``n_clusters`` or ``n_components`` parameter
        (clusterlab's or scikit-learn's); it is cloned, never modified.
    X : array-like of shape (n_samples, n_features)
    k_values : iterable of int
        The numbers of clusters to try, each >= 1.
    criteria : str or sequence of str, default=None
        Among ``"inertia"``, ``"silhouette"``, ``"calinski_harabasz"``,
        ``"davies_bouldin"``, ``"bic"``, ``"aic"``. ``None`` means every one
        that applies: inertia needs an ``inertia_`` attribute, BIC/AIC need
        ``bic``/``aic`` methods, the others need labels (``labels_`` or
        ``predict``). Asking for one that does not apply is an error.
    param : str, default=None
        The parameter to vary; detected (``n_clusters``, then
        ``n_components``) when ``None``.
    random_state : int, RandomState instance or None, default=None
        When given and the estimator has a ``random_state`` parameter, every
        clone gets it (an int is used as is, so each k starts from the same
        seed; a RandomState draws one seed for the whole sweep).
        Also seeds the silhouette subsample.
    sample_size : int, default=None
        Compute the silhouette on a stratified subsample of this size
        (see :func:`clusterlab.metrics.silhouette_score`); all samples when
        ``None``.

    Returns
    -------
    result : SweepResult

    Notes
    -----
    Time: the fits, plus O(n_samples^2 * n_features) per k for the silhouette
    (O(sample_size^2 * n_features) with a subsample) and O(n_samples *
    n_features) per k for the other criteria. Memory: the fitted models plus
    O(n_samples * n_features) scratch; never an n_samples x n_samples matrix.

    Examples
    --------
    >>> from sklearn.mixture import GaussianMixture
    >>> from clusterlab.datasets import load_elongated_blobs
    >>> result = sweep(GaussianMixture(n_init=3, random_state=42), load_elongated_blobs(),
    ...                range(1, 6), criteria=("bic", "aic"))
    >>> result.best("bic")
    3
    """
    from sklearn.utils import check_random_state
    from sklearn.utils.validation import check_array

    from clusterlab import metrics

    if not (hasattr(estimator, "get_params") and hasattr(estimator, "fit")):
        raise TypeError(
            f"estimator must be a clusterer with get_params and fit (e.g. KMeans()), got "
            f"{type(estimator).__name__}.")
    X_checked = check_array(X, accept_sparse=False, dtype=[np.float64, np.float32])
    given = list(k_values) if not isinstance(k_values, (str, bytes)) else [k_values]
    k_values = np.asarray(given, dtype=object)
    if k_values.ndim != 1 or k_values.size == 0:
        raise ValueError("k_values must be a non-empty sequence of integers, e.g. range(1, 11).")
    # numbers only (True is not 1, "2" is not 2); 3.0 is read as 3
    if not all(isinstance(k, numbers.Real) and not isinstance(k, (bool, np.bool_))
               and float(k).is_integer() for k in k_values):
        raise ValueError(f"k_values must be integers, got {given!r}.")
    k_values = k_values.astype(np.int64)
    if np.any(k_values < 1):
        raise ValueError(f"every k must be >= 1, got {k_values.tolist()}.")
    if np.unique(k_values).size != k_values.size:
        repeated = sorted({int(k) for k in k_values if np.count_nonzero(k_values == k) > 1})
        raise ValueError(f"k_values must be distinct; {repeated} "
                         f"{'is' if len(repeated) == 1 else 'are'} repeated in "
                         f"{k_values.tolist()}.")
    if np.any(k_values > X_checked.shape[0]):
        raise ValueError(
            f"k_values go up to {int(k_values.max())} but X has only {X_checked.shape[0]} "
            "samples; use smaller k values."
        )
    if isinstance(criteria, str):
        criteria = (criteria,)
    if criteria is not None:
        criteria = tuple(criteria)
        unknown = [c for c in criteria if c not in CRITERIA]
        if unknown:
            raise ValueError(f"unknown criteria {unknown}; choose among {list(CRITERIA)}.")
        if not criteria:
            raise ValueError(f"criteria is empty; choose among {list(CRITERIA)} or pass None.")

    if sample_size is not None and (not isinstance(sample_size, numbers.Integral)
                                    or isinstance(sample_size, bool) or sample_size < 2):
        raise ValueError(f"sample_size must be an integer >= 2 or None, got {sample_size!r}.")
    if sample_size is None and (criteria is None or "silhouette" in criteria):
        # the silhouette of the largest k would be refused after every fit: say it first
        from clusterlab.metrics import _check_label_table_fits

        _check_label_table_fits(X_checked.shape[0], int(k_values.max()))
    name = _count_param(estimator, param)
    base_params = {}
    if random_state is not None and "random_state" in estimator.get_params(deep=False):
        seed = random_state
        if not isinstance(random_state, numbers.Integral):
            seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        base_params["random_state"] = seed
    sample_rng = random_state if isinstance(random_state, numbers.Integral) else \
        check_random_state(random_state)

    models = []
    for k in k_values:
        model = clone(estimator).set_params(**{name: int(k)}, **base_params)
        model.fit(X)
        models.append(model)
        if len(models) == 1:  # what a fitted model offers decides the criteria
            applicable = _applicable(model)
            if criteria is None:
                criteria = tuple(c for c in CRITERIA if c in applicable)
            missing = [c for c in criteria if c not in applicable]
            if missing:
                raise ValueError(
                    f"criteria {missing} do not apply to {type(estimator).__name__} "
                    f"(it supports {applicable}): inertia needs an inertia_ attribute, "
                    "bic/aic need bic()/aic() methods, the others need labels."
                )

    table = {"k": k_values.astype(np.float64)}
    for c in criteria:
        table[c] = np.full(k_values.size, np.nan)
    n_samples = X_checked.shape[0]
    for i, model in enumerate(models):
        if "inertia" in criteria:
            table["inertia"][i] = float(model.inertia_)
        if "bic" in criteria:
            table["bic"][i] = float(model.bic(X))
        if "aic" in criteria:
            table["aic"][i] = float(model.aic(X))
        if any(c in criteria for c in _LABEL_CRITERIA):
            labels = _labels_of(model, X)
            n_labels = np.unique(labels).size
            if not 1 < n_labels < n_samples:
                continue  # undefined: stays NaN
            if "silhouette" in criteria and (sample_size is None or n_labels < sample_size):
                # (a stratified sample of sample_size rows with as many clusters holds one
                # row per cluster: no silhouette, NaN like any undefined score)
                table["silhouette"][i] = metrics.silhouette_score(
                    X_checked, labels, sample_size=sample_size, random_state=sample_rng,
                    stratify=sample_size is not None)
            if "calinski_harabasz" in criteria:
                table["calinski_harabasz"][i] = metrics.calinski_harabasz_score(X_checked, labels)
            if "davies_bouldin" in criteria:
                table["davies_bouldin"][i] = metrics.davies_bouldin_score(X_checked, labels)
    return SweepResult(k_values, models, criteria, table, param=name)


class SweepResult:
    """What :func:`sweep` found: per-k scores, fitted models, best k, elbow.

    Attributes
    ----------
    k_values : ndarray of int
        The numbers of clusters tried, in the order given.
    models : list of estimators
        The fitted clone for every k (same order).
    criteria : tuple of str
        The criteria computed.
    table : dict of str -> ndarray
        ``"k"`` and one array per criterion (NaN where undefined, e.g. the
        silhouette at k=1).
    param : str
        The parameter that was varied (``n_clusters`` or ``n_components``).
    elbow : int or None
        Kneedle's elbow of the inertia curve (None without inertia or
        without a knee). With :attr:`base_inertia` set and k=1 not swept, the
        curve starts at k=1 with that inertia.
    base_inertia : float or None
        The inertia of one cluster (the sum of squared distances to the mean),
        when the sweep left k=1 out: Kneedle never picks the first point of a
        curve, so a sweep from k=2 could never find its elbow at k=2. Set by
        the caller; None by default.
    elbow_method : str
        The name of the method behind :attr:`elbow`.
    """

    elbow_method = "Kneedle (Satopaa et al. 2011)"

    def __init__(self, k_values, models, criteria, table, param="n_clusters"):
        self.k_values = np.asarray(k_values)
        self.models = list(models)
        self.criteria = tuple(criteria)
        self.table = table
        self.param = param
        self.base_inertia = None

    def __repr__(self):
        try:
            best = self.best() if self.criteria else None
        except ValueError:  # the criterion is undefined at every k (one cluster each)
            best = None
        return (f"SweepResult(k_values={self.k_values.tolist()}, criteria={self.criteria}, "
                f"best={best}, elbow={self.elbow})")

    @property
    def elbow(self):
        if "inertia" not in self.table:
            return None
        y = self.table["inertia"]
        keep = np.isfinite(y)
        x = self.k_values[keep]
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[keep][order]
        base = getattr(self, "base_inertia", None)  # absent from results pickled before
        if base is not None and np.isfinite(base) and (x.size == 0 or x[0] > 1):
            x, y = np.r_[1, x], np.r_[float(base), y]
        return knee_point(x, y, curve="convex", direction="decreasing")

    @property
    def best_(self):
        """:meth:`best` with the default criterion."""
        return self.best()

    def best(self, criterion=None):
        """The best k for ``criterion``.

        Maximum for ``"silhouette"`` and ``"calinski_harabasz"``, minimum for
        ``"davies_bouldin"``, ``"bic"`` and ``"aic"``, the Kneedle elbow for
        ``"inertia"`` (the smallest inertia is always at the largest k, so it
        is never the answer). Default: ``"silhouette"`` if computed, else
        ``"bic"``, else the first criterion. NaN entries are ignored.

        Returns
        -------
        k : int or None
            None for inertia without an elbow.
        """
        if criterion is None:
            for default in ("silhouette", "bic"):
                if default in self.criteria:
                    criterion = default
                    break
            else:
                if not self.criteria:
                    raise ValueError("this sweep computed no criterion.")
                criterion = self.criteria[0]
        if criterion not in self.criteria:
            raise ValueError(
                f"criterion {criterion!r} was not computed by this sweep; choose among "
                f"{list(self.criteria)}."
            )
        if criterion == "inertia":
            return self.elbow
        values = np.asarray(self.table[criterion], dtype=np.float64)
        if not np.any(np.isfinite(values)):
            raise ValueError(
                f"{criterion} is undefined for every k in {self.k_values.tolist()} "
                "(label-based criteria need at least 2 clusters)."
            )
        masked = np.where(np.isfinite(values), values,
                          -np.inf if criterion in _MAXIMISE else np.inf)
        idx = np.argmax(masked) if criterion in _MAXIMISE else np.argmin(masked)
        return int(self.k_values[idx])

    def to_frame(self):
        """The table as a :class:`pandas.DataFrame` indexed by k (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - pandas is installed in CI
            raise ImportError("SweepResult.to_frame needs pandas: pip install pandas") from exc
        data = {c: self.table[c] for c in self.criteria}
        return pd.DataFrame(data, index=pd.Index(self.k_values, name="k"))

    def plot(self, criterion=None, ax=None):
        """Draw one criterion against k; returns the Figure.

        ``criterion=None`` draws the inertia curve with its elbow when inertia
        was computed, else the default criterion of :meth:`best`.
        """
        if criterion is None:
            criterion = "inertia" if "inertia" in self.criteria else None
            if criterion is None:
                criterion = self.criteria[0] if self.criteria else None
                for default in ("silhouette", "bic"):
                    if default in self.criteria:
                        criterion = default
                        break
        if criterion == "inertia":
            from clusterlab.plotting._selection import plot_inertia_curve

            return plot_inertia_curve(self, ax=ax)
        if criterion == "silhouette":
            from clusterlab.plotting._selection import plot_silhouette_curve

            return plot_silhouette_curve(self, ax=ax)
        from clusterlab.plotting._selection import plot_criterion_curve

        return plot_criterion_curve(self, criterion, ax=ax)


def gap_separation(mst, labels, quantile=0.9):
    """How clearly a partition's clusters are separated by empty space.

    For every edge of the minimum spanning tree that joins two different
    clusters, its length is divided by the larger of the two clusters'
    ``quantile``-th edge length inside the cluster (their typical
    neighbour distance, robust to a few outliers); the index is the
    smallest such ratio, the weakest boundary of the partition.

    A value above ~2 means every boundary crosses a gap at least twice as
    wide as the spacing of points on either side: the clusters are
    separated whatever their shapes (rings, spirals, nested spheres), which
    is what single-linkage-like methods find and centroid methods cannot
    represent. A boundary drawn through a dense region gives a value near
    1 or below. The minimum spanning tree holds, for every cut of the data,
    the shortest edge crossing it, so the smallest distance between two
    clusters is always one of the cross edges examined.

    Parameters
    ----------
    mst : tuple (a, b, w)
        The tree's edges (ends ``a``, ``b``; lengths ``w``), e.g. from
        :func:`clusterlab.cluster.genie.minimum_spanning_tree`, over the rows
        that ``labels`` label.
    labels : array-like of shape (n_samples,)
        Cluster labels ``>= 0`` (leave noise rows out of the tree and the
        labels).
    quantile : float, default=0.9

    Returns
    -------
    ratio : float
        ``inf`` for a single cluster.

    Notes
    -----
    Time ``O(n log n)``, memory ``O(n)``. An index of the Dunn family
    (separation over within-cluster spread) on the tree, in the spirit of
    the near-neighbour Dunn indices of Gagolewski, Bartoszuk & Cena (2021),
    "Are cluster validity measures (in)valid?", Information Sciences 581.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.cluster.genie import minimum_spanning_tree
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [10.0], [11.0], [12.0], [13.0]])
    >>> round(gap_separation(minimum_spanning_tree(X), [0, 0, 0, 0, 1, 1, 1, 1]), 2)
    7.0
    """
    if not (isinstance(quantile, numbers.Real) and 0.0 <= quantile <= 1.0):
        raise ValueError(f"quantile must be a number in [0, 1], got {quantile!r}.")
    a, b, w = (np.asarray(v) for v in mst)
    if a.size == 0:  # no edge: integer vertex arrays
        a, b, w = a.astype(np.int64), b.astype(np.int64), w.astype(np.float64)
    if a.shape != b.shape or a.shape != w.shape or a.ndim != 1:
        raise ValueError("mst must be three 1-D arrays of the same length (vertex a, vertex b, "
                         f"edge length), got shapes {a.shape}, {b.shape}, {w.shape}.")
    if a.dtype.kind not in "iu" or b.dtype.kind not in "iu":
        raise ValueError("the tree's vertices must be integer row numbers, got "
                         f"{a.dtype} and {b.dtype}.")
    if len(a) and min(int(a.min()), int(b.min())) < 0:
        raise ValueError("the tree's vertices must be row numbers >= 0.")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("the tree's edge lengths must be finite and >= 0.")
    labels = np.asarray(labels)
    if labels.dtype.kind in "iuf" and np.any(labels < 0):
        raise ValueError("labels must be >= 0: leave the noise rows out of the tree and the "
                         "labels.")
    if len(a) and max(int(a.max()), int(b.max())) >= len(labels):
        raise ValueError(f"the tree joins vertices up to {max(int(a.max()), int(b.max()))}, "
                         f"but labels holds {len(labels)} rows (one per vertex).")
    _, lab = np.unique(labels, return_inverse=True)
    k = int(lab.max()) + 1 if len(lab) else 0
    if k < 2 or a.size == 0:  # one cluster, or no edge: nothing to compare
        return float("inf")
    la, lb = lab[a], lab[b]
    same = la == lb
    spread = _group_quantiles(w[same], la[same], k, quantile)
    inside = w[same][w[same] > 0]
    if inside.size:
        # a cluster of (nearly all) identical rows has no spacing to compare a
        # gap with: like a single row, it takes the typical spacing of the
        # clusters that have one -- else a repeated row beside a cloud would be
        # "a cluster beyond an infinite gap"
        spread[spread <= 0] = np.nan
        typical = np.quantile(inside, quantile)
    else:  # every cluster is identical rows (or one row): the distinct values
        typical = np.quantile(w[same], quantile) if same.any() else np.median(w)
    spread[np.isnan(spread)] = typical
    cross = ~same
    if not cross.any():  # no edge joins two clusters (a forest): nothing to compare
        return float("inf")
    denom = np.maximum(np.maximum(spread[la[cross]], spread[lb[cross]]), np.finfo(float).tiny)
    return float(np.min(w[cross] / denom))


def _group_quantiles(values, groups, k, q):
    """``np.quantile(values[groups == c], q)`` for every ``c < k`` (NaN where a
    group is empty), to the bit, from one sort instead of a call per group
    (the analysis computes ~2000 of them: 0.11 s of a warm run). numpy's
    default 'linear' method: virtual index ``(m - 1) q``, and its two-sided
    interpolation."""
    order = np.lexsort((values, groups))
    v = values[order]
    counts = np.bincount(groups, minlength=k)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    out = np.full(k, np.nan)
    has = counts > 0
    m = counts[has]
    first = starts[has]
    virtual = (m - 1) * q
    lo = np.floor(virtual).astype(np.int64)
    hi = np.minimum(lo + 1, m - 1)
    t = virtual - lo
    below, above = v[first + lo], v[first + hi]
    diff = above - below
    val = below + diff * t
    np.subtract(above, diff * (1 - t), out=val, where=t >= 0.5)
    out[has] = val
    return out


def integrated_completed_likelihood(model, X, *, bic=None):
    """ICL of a fitted Gaussian mixture (Biernacki, Celeux & Govaert, 2000).

    ``BIC + 2 * entropy of the soft assignments``: like BIC, lower is better,
    but a mixture whose components overlap (several Gaussians describing one
    non-Gaussian cluster) pays for the uncertain assignments, so ICL counts
    *clusters* where BIC counts density components. With one component it
    equals BIC.

    Parameters
    ----------
    model : fitted GaussianMixture (anything with ``bic`` and ``predict_proba``)
    X : array-like of shape (n_samples, n_features)
    bic : float, optional
        ``model.bic(X)`` when already known (a sweep has it), saving a pass.

    Returns
    -------
    icl : float

    References
    ----------
    C. Biernacki, G. Celeux, G. Govaert, "Assessing a mixture model for
    clustering with the integrated completed likelihood", IEEE TPAMI 22(7),
    2000.
    """
    resp = np.asarray(model.predict_proba(X), dtype=float)
    entropy = -np.sum(resp * np.log(np.clip(resp, 1e-300, None)))
    return float((model.bic(X) if bic is None else bic) + 2.0 * entropy)
