"""Figures for choosing k: inertia curve with its elbow, silhouette curve, silhouette diagram.

The curve functions read only ``sweep.table`` and ``sweep.best(...)`` of a
:class:`clusterlab.selection.SweepResult` (and ``sweep.elbow``); they return
a :class:`matplotlib.figure.Figure` and never call ``plt.show()``.
"""

import numbers

import numpy as np

from clusterlab.plotting._common import new_axes, new_figure, require

__all__ = [
    "plot_inertia_curve",
    "plot_silhouette_curve",
    "plot_silhouette_diagram",
    "plot_criterion_curve",
]

_YLABELS = {
    "inertia": "Inertia",
    "silhouette": "Silhouette score",
    "calinski_harabasz": "Calinski-Harabasz score",
    "davies_bouldin": "Davies-Bouldin score",
    "bic": "BIC",
    "aic": "AIC",
}


def _curve(sweep, criterion):
    require(sweep, ("table",), "plot_inertia_curve / plot_silhouette_curve",
            "the result of clusterlab.selection.sweep")
    if criterion not in sweep.table:
        raise ValueError(
            f"this sweep has no {criterion!r} column (it has {sorted(sweep.table)}); run "
            f"sweep(..., criteria=[..., {criterion!r}]) with an estimator it applies to."
        )
    k = np.asarray(sweep.table["k"], dtype=np.float64)
    y = np.asarray(sweep.table[criterion], dtype=np.float64)
    order = np.argsort(k, kind="stable")
    return k[order], y[order]


def _finish(fig, ax, criterion, own_figure):
    ax.set_xlabel("$k$")
    ax.set_ylabel(_YLABELS.get(criterion, criterion))
    ax.set_axisbelow(True)
    ax.grid(True)
    ax.legend(loc="best")
    if own_figure:  # keep the axis labels inside the canvas
        fig.tight_layout()


def plot_inertia_curve(sweep, ax=None):
    """Inertia against k with the elbow annotated and its method named.

    Parameters
    ----------
    sweep : SweepResult
        Must contain the ``"inertia"`` criterion.
    ax : matplotlib Axes, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
        The legend names the elbow and the method (Kneedle, Satopaa et al.
        2011); without a knee, the title says so.

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> from clusterlab.datasets import load_five_blobs
    >>> from clusterlab.selection import sweep
    >>> result = sweep(KMeans(n_init=3, random_state=0), load_five_blobs(), range(1, 10),
    ...                criteria="inertia")
    >>> fig = plot_inertia_curve(result)
    >>> fig.axes[0].get_legend().get_texts()[1].get_text()
    'elbow at $k=3$ (Kneedle, Satopaa et al. 2011)'
    """
    k, y = _curve(sweep, "inertia")
    own = ax is None
    fig, ax = new_axes(ax, figsize=(8, 3.5))
    ax.plot(k, y, "bo-", label="inertia")
    elbow = sweep.best("inertia")
    if elbow is not None:
        y_elbow = y[np.flatnonzero(k == elbow)[0]]
        ax.plot([elbow], [y_elbow], "rs", markersize=10, fillstyle="none",
                label=f"elbow at $k={elbow}$ (Kneedle, Satopaa et al. 2011)")
        span = np.nanmax(y) - np.nanmin(y)
        ax.annotate("Elbow", xy=(elbow, y_elbow),
                    xytext=(elbow + 0.25 * max(1.0, k[-1] - k[0]) / 2, y_elbow + 0.3 * span),
                    fontsize=14, arrowprops=dict(facecolor="black", shrink=0.1))
    else:
        ax.set_title("no elbow found by Kneedle (Satopaa et al. 2011)")
    _finish(fig, ax, "inertia", own)
    return fig


def plot_silhouette_curve(sweep, ax=None):
    """Silhouette score against k, the best k marked.

    Parameters
    ----------
    sweep : SweepResult
        Must contain the ``"silhouette"`` criterion (NaN at k=1 is skipped).
    ax : matplotlib Axes, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    k, y = _curve(sweep, "silhouette")
    own = ax is None
    fig, ax = new_axes(ax, figsize=(8, 3))
    keep = np.isfinite(y)
    ax.plot(k[keep], y[keep], "bo-", label="silhouette score")
    if np.any(keep):
        best = sweep.best("silhouette")
        ax.plot([best], [y[np.flatnonzero(k == best)[0]]], "rs", markersize=10,
                fillstyle="none", label=f"best $k={best}$")
    _finish(fig, ax, "silhouette", own)
    return fig


def plot_criterion_curve(sweep, criterion, ax=None):
    """Any criterion of a sweep against k, with the best k marked."""
    k, y = _curve(sweep, criterion)
    own = ax is None
    fig, ax = new_axes(ax, figsize=(8, 3))
    keep = np.isfinite(y)
    ax.plot(k[keep], y[keep], "bo-", label=_YLABELS.get(criterion, criterion))
    best = sweep.best(criterion) if np.any(keep) else None
    if best is not None:
        ax.plot([best], [y[np.flatnonzero(k == best)[0]]], "rs", markersize=10,
                fillstyle="none", label=f"best $k={best}$")
    _finish(fig, ax, criterion, own)
    return fig


#: cluster names shown at most on a silhouette diagram's axis (every other,
#: every third, ... beyond)
MAX_CLUSTER_TICKS = 20

#: colour of the noise knife (label -1, and any other negative label)
NOISE_COLOR = "0.6"


def _is_noise(labels):
    """True for the noise labels (negative numbers); string labels are never noise."""
    labels = np.asarray(labels)
    return labels < 0 if labels.dtype.kind in "iuf" else np.zeros(labels.shape, dtype=bool)


def _check_colors(colors, labellings):
    """A ``ValueError`` unless ``colors`` has a colour for every cluster label (>= 0)."""
    if colors is None:
        return
    from collections.abc import Mapping

    labels = np.unique(np.concatenate([np.unique(lab) for lab in labellings]))
    labels = labels[~_is_noise(labels)]
    if isinstance(colors, Mapping):
        missing = [c.item() for c in labels if c.item() not in colors]
        if missing:
            raise ValueError(f"colors has no colour for cluster label(s) {missing[:10]}"
                             + (" ..." if len(missing) > 10 else "")
                             + "; give every cluster label a colour.")
    elif len(labels) and labels.dtype.kind not in "iu" and not (
            labels.dtype.kind == "f" and np.all(labels == np.round(labels))):
        raise ValueError(
            f"colors is a sequence, indexed by the cluster labels, but the labels are not "
            f"integers ({labels[:3].tolist()}...); give colors as a mapping from label to "
            "colour.")
    elif len(labels) and int(labels[-1]) >= len(colors):
        raise ValueError(
            f"colors has {len(colors)} colour(s) but the cluster labels go up to "
            f"{int(labels[-1])}: colors[label] is each cluster's colour, so give at least "
            f"{int(labels[-1]) + 1}.")


def _one_diagram(ax, coeffs, labels, title, show_xlabel, show_ylabel, xmin, colors=None):
    from collections.abc import Mapping

    from matplotlib import colormaps
    from matplotlib.ticker import FixedFormatter, FixedLocator

    labels = np.asarray(labels)
    mean = float(np.mean(coeffs, dtype=np.float64))
    if labels.dtype.kind in "iuf" and np.any(labels < 0):  # every negative label: one knife
        labels = np.where(labels < 0, -1, labels)
    clusters = np.unique(labels)
    n_clusters = clusters.size
    noise = _is_noise(clusters)
    n_noise = int(np.count_nonzero(noise))  # noise (-1) sorts first
    cmap = colormaps["Spectral"]
    padding = max(1, len(coeffs) // 30)
    pos = padding
    ticks = []
    for i, c in enumerate(clusters):
        vals = np.sort(coeffs[labels == c])
        if noise[i]:
            color = NOISE_COLOR
        else:
            color = (cmap((i - n_noise) / (n_clusters - n_noise)) if colors is None
                     else colors[c] if isinstance(colors, Mapping) else colors[int(c)])
        ax.fill_betweenx(np.arange(pos, pos + vals.size), 0, vals, facecolor=color,
                         edgecolor=color, alpha=0.7)
        ticks.append(pos + vals.size // 2)
        pos += vals.size + padding
    # at most about 20 cluster names on the axis (105 clusters' names ran together)
    step = -(-n_clusters // MAX_CLUSTER_TICKS)
    ax.yaxis.set_major_locator(FixedLocator(ticks[::step]))
    ax.yaxis.set_major_formatter(FixedFormatter(
        ["noise" if noisy else str(c) for c, noisy in zip(clusters[::step], noise[::step])]))
    ax.axvline(x=mean, color="red", linestyle="--", label=f"mean = {mean:.3f}")
    ax.set_xlim(xmin, 1)
    ax.set_xticks([-0.1, 0, 0.2, 0.4, 0.6, 0.8, 1])
    if show_xlabel:
        ax.set_xlabel("Silhouette Coefficient")
    else:
        ax.tick_params(labelbottom=False)
    if show_ylabel:
        ax.set_ylabel("Cluster")
    ax.set_title(title if title is not None else f"$k={n_clusters - n_noise}$")
    ax.legend(loc="lower right")


def plot_silhouette_diagram(X, labels, metric="euclidean", titles=None, ncols=2, ax=None,
                            colors=None):
    """Silhouette diagram: one knife per cluster, for one labelling or several side by side.

    Every sample's silhouette coefficient is drawn as a horizontal bar,
    grouped by cluster and sorted within it (the "knives"); the dashed red
    line is the mean (the silhouette score). Clusters whose knife stays
    left of the line are weaker than average.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    labels : array-like of shape (n_samples,), or a sequence of them
        One labelling, or several (e.g. the fits for k = 3, 4, 5, 6) drawn
        in a grid of ``ncols`` columns.
    metric : str, default="euclidean"
        Passed to :func:`clusterlab.metrics.silhouette_samples`.
    titles : str or sequence of str, default=None
        Panel titles; ``"$k=<number of clusters>$"`` by default.
    ncols : int, default=2
        Columns of the grid for several labellings.
    ax : matplotlib Axes, default=None
        Only for a single labelling.
    colors : mapping or sequence, default=None
        The colour of each cluster, indexed by its label (so that a cluster
        keeps its colour across figures); a ``Spectral`` colour ramp by default.
        Colours are not cycled: a sequence shorter than the largest label + 1,
        or a mapping without some label, is a ``ValueError``.

    Noise (label -1, as DBSCAN, OPTICS and HDBSCAN give; any negative label)
    is not counted as a cluster: its coefficients are drawn as one grey knife
    named "noise" on the axis, outside ``colors`` and the colour ramp, and
    ``k`` in the default title counts only the labels >= 0. The mean line
    stays :func:`clusterlab.metrics.silhouette_score` of the labelling as
    given (which, like scikit-learn's, scores the noise as one more group).

    Every panel shares one x range (from the lowest coefficient of any
    panel to 1), so the knives and the mean lines compare across panels.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Notes
    -----
    Time: one exact silhouette per labelling (O(n_samples^2 * n_features));
    memory O(n_samples * n_features).

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> from clusterlab.datasets import load_five_blobs
    >>> X = load_five_blobs()
    >>> fits = [KMeans(k, n_init=3, random_state=0).fit_predict(X) for k in (3, 4, 5, 6)]
    >>> fig = plot_silhouette_diagram(X, fits)
    >>> [a.get_title() for a in fig.axes]
    ['$k=3$', '$k=4$', '$k=5$', '$k=6$']
    """
    fig = silhouette_panels(X, labels, metric, titles, ncols, ax, colors)
    if ax is None:
        fig.tight_layout()
    return fig


def silhouette_panels(X, labels, metric="euclidean", titles=None, ncols=2, ax=None,
                      colors=None):
    """:func:`plot_silhouette_diagram` without its final ``tight_layout``, for a
    caller that resizes the figure and lays it out once itself (a layout costs
    ~35 ms on three panels)."""
    from sklearn.utils.validation import check_array

    X = check_array(X, accept_sparse=False, dtype=[np.float64, np.float32])
    arr = labels if not isinstance(labels, (list, tuple)) else None
    if labels is None:
        labellings = None
    elif arr is not None and np.ndim(arr) == 1:
        labellings = [np.asarray(arr)]
    elif arr is not None and np.ndim(arr) == 2:
        labellings = [np.asarray(row) for row in arr]
    elif arr is None and len(labels) > 0 and np.ndim(labels[0]) == 1:
        labellings = [np.asarray(lab) for lab in labels]
    elif arr is None and len(labels) > 0 and np.ndim(labels[0]) == 0:
        labellings = [np.asarray(labels)]
    else:
        labellings = None
    if labellings is None:
        raise ValueError(
            "labels must be one array of shape (n_samples,) or a sequence of such arrays."
        )
    for lab in labellings:
        if lab.shape[0] != X.shape[0]:
            raise ValueError(
                f"labels have {lab.shape[0]} entries but X has {X.shape[0]} samples."
            )
    _check_colors(colors, labellings)
    if isinstance(titles, str):
        titles = [titles]
    if titles is not None and len(titles) != len(labellings):
        raise ValueError(f"got {len(titles)} titles for {len(labellings)} labellings.")
    n = len(labellings)
    if ax is not None:
        if n != 1:
            raise ValueError("ax can only be given for a single labelling.")
        fig = ax.figure
        axes = [ax]
        ncols_used, nrows = 1, 1
    else:
        if not isinstance(ncols, numbers.Integral) or isinstance(ncols, bool) or ncols < 1:
            raise ValueError(f"ncols must be a whole number >= 1, got {ncols!r}.")
        ncols_used = max(1, min(int(ncols), n))
        nrows = (n + ncols_used - 1) // ncols_used
        fig = new_figure(figsize=(5.5 * ncols_used, 4.5 * nrows))
        axes = list(np.ravel(fig.subplots(nrows, ncols_used, squeeze=False)))
        for extra in axes[n:]:
            fig.delaxes(extra)
        axes = axes[:n]
    from clusterlab.metrics import silhouette_samples

    coeffs = [silhouette_samples(X, lab, metric=metric) for lab in labellings]
    xmin = min(-0.1, min(float(c.min()) for c in coeffs) - 0.05)
    for i, (a, lab, co) in enumerate(zip(axes, labellings, coeffs)):
        col = i % ncols_used
        below = i + ncols_used >= n  # nothing below this panel
        _one_diagram(a, co, lab, None if titles is None else titles[i],
                     show_xlabel=below, show_ylabel=col == 0, xmin=xmin, colors=colors)
    return fig
