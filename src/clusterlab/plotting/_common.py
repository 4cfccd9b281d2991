"""Shared drawing helpers with the seed notebook's look.

The seed draws points as small black dots, centroids as large circles with
a cross on top, axes labelled ``$x_1$`` / ``$x_2$`` and a grid behind the
data. Every figure function in :mod:`clusterlab.plotting` builds on these.
"""

import numbers

import numpy as np


def _plt():
    import matplotlib

    if matplotlib.get_backend().lower() in ("", "template"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def require(obj, attrs, function, what):
    """A ``TypeError`` naming what ``function`` needs, when ``obj`` lacks any of
    ``attrs`` (a wrong object, or an estimator not fitted), instead of an
    ``AttributeError`` from inside the drawing."""
    if not all(hasattr(obj, a) for a in attrs):
        # "not fitted?" only for an estimator without fitted attributes (scikit-learn's
        # test): a fitted model of another kind is just the wrong model
        fitted = any(k.endswith("_") and not k.startswith("__") for k in vars(obj)) \
            if hasattr(obj, "__dict__") else False
        hint = " (not fitted?)." if hasattr(obj, "fit") and not fitted else "."
        raise TypeError(f"{function} needs {what}, got {type(obj).__name__}{hint}")


def new_axes(ax=None, figsize=(8, 4)):
    """Return ``(fig, ax)``: the given Axes and its Figure, or a new pair.

    New figures are created with :class:`matplotlib.figure.Figure` directly
    (not through pyplot), so they are never shown and never leak into
    pyplot's global figure list.
    """
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.add_subplot(111)


def new_figure(figsize=(8, 4)):
    """A new :class:`~matplotlib.figure.Figure` outside pyplot."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize)


def label_axes(ax, show_xlabels=True, show_ylabels=True, xlabel="$x_1$", ylabel="$x_2$"):
    """Label or hide the axes the way the seed does."""
    if show_xlabels:
        ax.set_xlabel(xlabel)
    else:
        ax.tick_params(labelbottom=False)
    if show_ylabels:
        ax.set_ylabel(ylabel, rotation=0)
    else:
        ax.tick_params(labelleft=False)


def plot_data(X, ax=None, c="k", markersize=2):
    """Scatter the first two columns of ``X`` as small dots; returns the Figure."""
    X = check_2d(X, "plot_data")
    fig, ax = new_axes(ax)
    ax.plot(X[:, 0], X[:, 1], ".", color=c, markersize=markersize)
    return fig


def plot_centroids(centroids, weights=None, ax=None, circle_color="w", cross_color="k"):
    """Draw centroids as circles with crosses (weights below 1/10 of the max are hidden)."""
    centroids = check_2d(centroids, "plot_centroids")
    fig, ax = new_axes(ax)
    if weights is not None:
        weights = np.asarray(weights)
        if weights.ndim != 1 or weights.shape[0] != centroids.shape[0]:
            raise ValueError(
                f"plot_centroids needs one weight per centroid: got weights of shape "
                f"{weights.shape} for {centroids.shape[0]} centroids.")
        centroids = centroids[weights > weights.max() / 10]
    ax.scatter(centroids[:, 0], centroids[:, 1], marker="o", s=35, linewidths=8,
               color=circle_color, zorder=10, alpha=0.9, label="centroids")
    ax.scatter(centroids[:, 0], centroids[:, 1], marker="x", s=2, linewidths=12,
               color=cross_color, zorder=11, alpha=1)
    return fig


def grid_for(X, resolution=400, margin=0.1):
    """A ``resolution``x``resolution`` grid covering ``X``'s first two columns.

    Returns ``(xx, yy, mins, maxs)``; raises ``ValueError`` when those columns
    hold NaN or infinity (the grid would not be finite). The grid's points are
    finite, so models may predict on them inside :func:`on_grid`.
    """
    if not (isinstance(resolution, numbers.Integral) and resolution >= 2):
        raise ValueError(f"resolution must be an integer >= 2 (points per side of the grid), "
                         f"got {resolution!r}.")
    X = np.asarray(X)
    mins = X[:, :2].min(axis=0) - margin
    maxs = X[:, :2].max(axis=0) + margin
    if not (np.all(np.isfinite(mins)) and np.all(np.isfinite(maxs))):
        raise ValueError("X holds NaN or infinity in its first two columns: no grid can "
                         "cover it; drop or impute those rows first.")
    xx, yy = np.meshgrid(np.linspace(mins[0], maxs[0], resolution),
                         np.linspace(mins[1], maxs[1], resolution))
    return xx, yy, mins, maxs


def on_grid():
    """A context in which models skip the NaN/infinity check of their input:
    for predictions on a grid from :func:`grid_for`, finite by construction
    (the check of a 400x400 grid is a parallel kernel of its own to compile)."""
    from sklearn import config_context

    return config_context(assume_finite=True)


def check_2d(X, what="this figure"):
    """Raise a clear error unless ``X`` is 2-D with at least two columns and a row."""
    if hasattr(X, "nnz") and hasattr(X, "toarray"):  # a scipy sparse matrix
        raise TypeError(f"{what} draws dense rows; pass X.toarray() (or the first two "
                        "columns of it).")
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(
            f"{what} draws the first two columns of X, got an array of shape {X.shape}; "
            "project your data to 2-D first (e.g. with sklearn.decomposition.PCA)."
        )
    if X.shape[0] == 0:  # nothing to draw, and no plane around it (grid_for)
        raise ValueError(f"{what} draws the rows of X, but X has no rows (shape {X.shape}).")
    return X
