"""The seed's K-Means figures: Voronoi decision boundaries, Lloyd iterations, two runs side by side.

Every function returns a :class:`matplotlib.figure.Figure` (or draws on the
``ax`` it is given) and never calls ``plt.show()``.
"""

import warnings

import numpy as np

from clusterlab.plotting._common import (
    check_2d,
    grid_for,
    on_grid,
    label_axes,
    new_axes,
    new_figure,
    plot_centroids,
    plot_data,
)

__all__ = ["plot_decision_boundaries", "plot_kmeans_iterations", "plot_clusterer_comparison"]


def _check_predictor(model, what):
    if not hasattr(model, "predict"):
        raise TypeError(
            f"{what} needs a model with a predict method, got {type(model).__name__}; "
            "for transductive clusterers (DBSCAN, agglomerative) plot their labels_ instead."
        )
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(model)
    n_in = getattr(model, "n_features_in_", 2)
    if n_in != 2:
        raise ValueError(
            f"{what} draws a 2-D plane, but the model was fitted on {n_in} features; fit it "
            "on two features (e.g. after PCA) to draw its decision boundaries."
        )


def plot_decision_boundaries(model, X, resolution=1000, show_centroids=True, show_xlabels=True,
                             show_ylabels=True, ax=None):
    """The regions a fitted model assigns to each cluster (a Voronoi diagram for K-Means).

    The plane around ``X`` is sampled on a ``resolution x resolution`` grid,
    every grid point is predicted, the regions are filled with the
    ``Pastel2`` colours with black boundaries, the data is drawn as dots and
    the centroids (``cluster_centers_``, if the model has them) as circles
    with crosses.

    Parameters
    ----------
    model : fitted estimator with ``predict``, fitted on 2 features
    X : array-like of shape (n_samples, 2)
    resolution : int, default=1000
        Grid points per axis (the seed's value; lower is faster).
    show_centroids : bool, default=True
    show_xlabels, show_ylabels : bool, default=True
        Label the axes ``$x_1$`` / ``$x_2$``, or hide the tick labels.
    ax : matplotlib Axes, default=None
        Draw here; a new 8 x 4 inch Figure otherwise.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Notes
    -----
    Time: one ``predict`` on ``resolution^2`` points; memory O(resolution^2).

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> from clusterlab.datasets import load_five_blobs
    >>> X = load_five_blobs()
    >>> fig = plot_decision_boundaries(KMeans(5, n_init=10, random_state=0).fit(X), X,
    ...                                resolution=200)
    >>> fig.axes[0].get_xlabel()
    '$x_1$'
    """
    X = check_2d(X, "plot_decision_boundaries")
    _check_predictor(model, "plot_decision_boundaries")
    if int(resolution) < 2:
        raise ValueError(f"resolution must be at least 2 grid points per axis, got {resolution}.")
    fig, ax = new_axes(ax)
    xx, yy, mins, maxs = grid_for(X, resolution=int(resolution))
    grid = np.c_[xx.ravel(), yy.ravel()].astype(X.dtype if X.dtype.kind == "f" else np.float64)
    with on_grid():
        Z = np.asarray(model.predict(grid)).reshape(xx.shape)
    if Z.dtype.kind not in "biuf":  # labels that are not numbers (a classifier's names)
        Z = np.unique(Z.ravel(), return_inverse=True)[1].reshape(xx.shape)
    extent = (mins[0], maxs[0], mins[1], maxs[1])
    ax.contourf(Z, extent=extent, cmap="Pastel2")
    if np.unique(Z).size > 1:
        ax.contour(Z, extent=extent, linewidths=1, colors="k")
    plot_data(X, ax=ax)
    centers = getattr(model, "cluster_centers_", None)
    if show_centroids and centers is not None:
        plot_centroids(centers, ax=ax)
    label_axes(ax, show_xlabels, show_ylabels)
    ax.set_axisbelow(True)
    ax.grid(True)
    return fig


def _default_kmeans():
    from clusterlab.cluster.kmeans import KMeans

    return KMeans


def plot_kmeans_iterations(X, k, n_steps=3, random_state=5, resolution=400, estimator=None):
    """How Lloyd's algorithm moves the centroids: the seed's 3 x 2 figure.

    Row ``i`` shows, on the left, the centroids after iteration ``i`` over the
    regions of iteration ``i - 1`` (just the data on the first row, titled
    "Update the centroids (initially randomly)"), and on the right the
    regions of iteration ``i`` ("Label the instances"). Every run starts
    from the same random initial centroids (``init="random", n_init=1``,
    ``max_iter=i``).

    Parameters
    ----------
    X : array-like of shape (n_samples, 2)
    k : int
        Number of clusters.
    n_steps : int, default=3
        Number of iterations (rows) shown.
    random_state : int, default=5
        Seed of the random initialisation (the seed notebook's 5).
    resolution : int, default=400
        Grid points per axis of the region plots.
    estimator : K-Means estimator class or instance, default=None
        What to run; :class:`clusterlab.KMeans` by default. It must accept
        ``n_clusters``, ``init``, ``n_init``, ``max_iter`` and ``random_state``.

    Returns
    -------
    fig : matplotlib.figure.Figure
        ``n_steps`` rows x 2 columns of axes.

    Notes
    -----
    Time: ``n_steps`` short K-Means fits plus ``2 n_steps - 1`` grid predictions.

    Examples
    --------
    >>> from clusterlab.datasets import load_five_blobs
    >>> fig = plot_kmeans_iterations(load_five_blobs(), 5, resolution=100)
    >>> fig.axes[1].get_title()
    'Label the instances'
    """
    from sklearn.base import clone

    X = check_2d(X, "plot_kmeans_iterations")
    if not isinstance(n_steps, (int, np.integer)) or isinstance(n_steps, bool) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}.")
    if estimator is None:
        estimator = _default_kmeans()()
    elif isinstance(estimator, type):
        estimator = estimator()
    models = []
    for step in range(1, n_steps + 1):
        model = clone(estimator).set_params(n_clusters=k, init="random", n_init=1,
                                            max_iter=step, random_state=random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # stopping after `step` iterations is the point
            model.fit(X)
        models.append(model)
    fig = new_figure(figsize=(10, 8 * n_steps / 3))
    axes = fig.subplots(n_steps, 2, squeeze=False)
    for row, model in enumerate(models):
        last = row == n_steps - 1
        left, right = axes[row]
        if row == 0:
            plot_data(X, ax=left)
            plot_centroids(model.cluster_centers_, ax=left, circle_color="r", cross_color="w")
            label_axes(left, show_xlabels=last, show_ylabels=True)
            left.set_axisbelow(True)
            left.grid(True)
            left.set_title("Update the centroids (initially randomly)")
        else:
            plot_decision_boundaries(models[row - 1], X, resolution=resolution,
                                     show_centroids=False, show_xlabels=last, ax=left)
            plot_centroids(model.cluster_centers_, ax=left)
        plot_decision_boundaries(model, X, resolution=resolution, show_xlabels=last,
                                 show_ylabels=False, ax=right)
        if row == 0:
            right.set_title("Label the instances")
    fig.tight_layout()
    return fig


def plot_clusterer_comparison(m1, m2, X, titles=None, resolution=500):
    """Two clusterers' decision boundaries side by side (e.g. two random inits).

    Models that are not fitted yet are fitted on ``X`` first (in place, as
    the seed does); fitted ones are drawn as they are.

    Parameters
    ----------
    m1, m2 : estimators with ``predict``
    X : array-like of shape (n_samples, 2)
    titles : pair of str, default=None
        Titles of the left and right panels.
    resolution : int, default=500
        Grid points per axis.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Two axes, 10 x 3.2 inches.

    Examples
    --------
    >>> from sklearn.cluster import KMeans
    >>> from clusterlab.datasets import load_five_blobs
    >>> fig = plot_clusterer_comparison(KMeans(3, n_init=10), KMeans(8, n_init=10),
    ...                                 load_five_blobs(), titles=("$k=3$", "$k=8$"),
    ...                                 resolution=100)
    >>> [ax.get_title() for ax in fig.axes]
    ['$k=3$', '$k=8$']
    """
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    X = check_2d(X, "plot_clusterer_comparison")
    if titles is not None:
        if isinstance(titles, str) or len(titles) != 2:
            raise ValueError(f"titles must be a pair of strings, got {titles!r}.")
    for model in (m1, m2):
        try:
            check_is_fitted(model)
        except NotFittedError:
            model.fit(X)
    fig = new_figure(figsize=(10, 3.2))
    ax1, ax2 = fig.subplots(1, 2)
    plot_decision_boundaries(m1, X, resolution=resolution, ax=ax1)
    plot_decision_boundaries(m2, X, resolution=resolution, show_ylabels=False, ax=ax2)
    if titles is not None:
        ax1.set_title(titles[0])
        ax2.set_title(titles[1])
    fig.tight_layout()
    return fig
