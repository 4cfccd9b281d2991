"""Figures for Gaussian mixtures: density and decision contours, covariance types,
anomalies, and BIC/AIC against the number of components.

Every function returns a :class:`matplotlib.figure.Figure` and never calls
``plt.show()``; matplotlib is imported only when a function is called.
"""

import numpy as np

from clusterlab.plotting._common import (
    check_2d,
    grid_for,
    on_grid,
    label_axes,
    new_axes,
    new_figure,
    require,
    plot_centroids,
)

__all__ = [
    "plot_gaussian_mixture",
    "plot_covariance_types",
    "plot_anomalies",
    "plot_information_criteria",
]


def _check_2d_model(model, X, what):
    X = check_2d(X, what)
    if X.shape[1] != 2:
        raise ValueError(
            f"{what} draws densities over the plane, so the model must have been fitted "
            f"on 2 features; X has {X.shape[1]}. Fit the model on a 2-D projection first."
        )
    if not hasattr(model, "score_samples") or not hasattr(model, "predict"):
        raise TypeError(f"{what} needs a fitted mixture with score_samples and predict, "
                        f"got {type(model).__name__}.")
    return X


def plot_gaussian_mixture(model, X, resolution=1000, show_ylabels=True, ax=None,
                          show_xlabels=True):
    """The seed's Gaussian-mixture figure.

    Filled contours of the negative log-density on a log colour scale (levels
    ``logspace(0, 2, 12)``; when no density of the plane falls in them -- data
    on a much smaller or larger scale -- the negative log-density is counted
    from its lowest value, 1 at the densest point), black contour lines, dashed red decision
    boundaries between the components' regions, the data as small black
    dots and the weighted centroids (components with a weight below a tenth
    of the largest are not drawn).

    Parameters
    ----------
    model : fitted GaussianMixture or BayesianGaussianMixture (2 features)
    X : array-like of shape (n_samples, 2)
    resolution : int, default=1000
        Grid points per axis (the cost is ``resolution**2`` density evaluations).
    show_ylabels : bool, default=True
    ax : matplotlib Axes, default=None
        Draw there; a new Figure otherwise.
    show_xlabels : bool, default=True

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    from matplotlib.colors import LogNorm

    X = _check_2d_model(model, X, "plot_gaussian_mixture")
    fig, ax = new_axes(ax)
    xx, yy, _, _ = grid_for(X, resolution=resolution, margin=0.1)
    grid = np.c_[xx.ravel(), yy.ravel()]
    with on_grid():
        Z = -model.score_samples(grid).reshape(xx.shape)
        labels = model.predict(grid).reshape(xx.shape)
    levels = np.logspace(0, 2, 12)
    finite = Z[np.isfinite(Z)]
    if finite.size and (finite.max() < levels[0] or finite.min() > levels[-1]):
        # data on another scale: no density falls in the seed's levels, the panel
        # would be empty; the levels then count from the densest point (Z = 1 there)
        Z = Z - finite.min() + 1.0
    # densities above 1 (Z <= 0) lie below the first level and are not filled either
    # way; kept positive, the log colour scale does not mask them with a warning
    Z = np.maximum(Z, np.finfo(np.float64).tiny)
    norm = LogNorm(vmin=1.0, vmax=30.0)
    ax.contourf(xx, yy, Z, norm=norm, levels=levels)
    ax.contour(xx, yy, Z, norm=norm, levels=levels, linewidths=1, colors="k")
    if np.unique(labels).size > 1:
        ax.contour(xx, yy, labels, linewidths=2, colors="r", linestyles="dashed")
    ax.plot(X[:, 0], X[:, 1], "k.", markersize=2)
    plot_centroids(model.means_, model.weights_, ax=ax)
    label_axes(ax, show_xlabels=show_xlabels, show_ylabels=show_ylabels)
    return fig


def plot_covariance_types(X, types=("full", "tied", "spherical", "diag"), n_components=3,
                          resolution=300, figsize=None, **gm_params):
    """Fit one :class:`~clusterlab.GaussianMixture` per covariance type and draw them side by side.

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
    types : sequence of {'full', 'tied', 'diag', 'spherical'}
    n_components : int, default=3
    resolution : int, default=300
    figsize : tuple, default=None
        ``(4.5 * len(types), 4)`` when None.
    **gm_params
        More GaussianMixture parameters (``n_init``, ``random_state``...).

    Returns
    -------
    fig : matplotlib.figure.Figure
        One panel per type, titled ``covariance_type="..."``; the fitted models
        are in ``fig.models`` (a dict by type).
    """
    from clusterlab.mixture.gaussian import GaussianMixture

    X = check_2d(X, "plot_covariance_types")
    types = tuple(types)
    if not types:
        raise ValueError("types is empty; pass at least one covariance type.")
    fig = new_figure(figsize or (4.5 * len(types), 4))
    models = {}
    for i, kind in enumerate(types):
        ax = fig.add_subplot(1, len(types), i + 1)
        model = GaussianMixture(n_components=n_components, covariance_type=kind,
                                **gm_params).fit(X)
        models[kind] = model
        plot_gaussian_mixture(model, X, resolution=resolution, ax=ax, show_ylabels=i == 0)
        ax.set_title(f'covariance_type="{kind}"')
    fig.models = models
    return fig


def plot_anomalies(model, X, detector, resolution=500, ax=None):
    """The Gaussian-mixture figure with the detector's anomalies as red stars.

    Parameters
    ----------
    model : fitted mixture (2 features)
    X : array-like of shape (n_samples, 2)
    detector : fitted :class:`~clusterlab.anomaly.DensityAnomalyDetector`
        (or any fitted outlier detector whose ``predict`` gives -1 for anomalies).
    resolution : int, default=500
    ax : matplotlib Axes, default=None

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    X = _check_2d_model(model, X, "plot_anomalies")
    require(detector, ("predict",), "plot_anomalies",
            "an outlier detector with predict (-1 for anomalies) as detector")
    fig = plot_gaussian_mixture(model, X, resolution=resolution, ax=ax)
    ax = fig.axes[0] if ax is None else ax
    anomalies = X[detector.predict(X) == -1]
    ax.scatter(anomalies[:, 0], anomalies[:, 1], color="r", marker="*", zorder=12,
               label="anomalies")
    return fig


def plot_information_criteria(sweep, ax=None):
    """BIC and AIC against the number of components, the BIC minimum annotated.

    Reads only ``sweep.table`` (columns ``"k"``, ``"bic"``, ``"aic"``) and
    ``sweep.best("bic")`` of a :class:`clusterlab.selection.SweepResult`.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    require(sweep, ("table",), "plot_information_criteria",
            "the result of clusterlab.selection.sweep over a mixture")
    table = sweep.table
    missing = [c for c in ("bic", "aic") if c not in table]
    if missing:
        raise ValueError(
            f"this sweep has no {missing} column(s); run sweep(GaussianMixture(...), X, ks, "
            "criteria=('bic', 'aic'))."
        )
    k = np.asarray(table["k"], dtype=np.float64)
    order = np.argsort(k, kind="stable")
    k = k[order]
    bic = np.asarray(table["bic"], dtype=np.float64)[order]
    aic = np.asarray(table["aic"], dtype=np.float64)[order]
    own_figure = ax is None
    fig, ax = new_axes(ax, figsize=(8, 3))
    ax.plot(k, bic, "bo-", label="BIC")
    ax.plot(k, aic, "go--", label="AIC")
    best = sweep.best("bic")
    best_bic = bic[np.flatnonzero(k == best)[0]]
    span = np.nanmax(np.r_[bic, aic]) - np.nanmin(np.r_[bic, aic])
    ax.annotate("Minimum", xy=(best, best_bic), xytext=(best + 0.4, best_bic + 0.3 * span),
                horizontalalignment="center",
                arrowprops=dict(facecolor="black", shrink=0.1))
    ax.set_xlabel("$k$")
    ax.set_ylabel("Information Criterion")
    ax.legend()
    ax.grid(True)
    if own_figure:  # room for the x label inside the canvas (the default 0.11 cuts it)
        fig.subplots_adjust(bottom=0.17)
    return fig
