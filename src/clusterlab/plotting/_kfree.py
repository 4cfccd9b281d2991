"""Figures for the clusterers that choose the number of clusters themselves.

Mean shift (the modes over the data), affinity propagation (each exemplar
with lines to its members) and BIRCH (the leaf subclusters as circles of
their radius, coloured by global cluster).
"""

import numpy as np

from ._common import check_2d, label_axes, new_axes, require


def _check_rows(X, labels, name):
    if labels.shape[0] != X.shape[0]:
        raise ValueError(
            f"{name}: X has {X.shape[0]} rows but the model was fitted on {labels.shape[0]} "
            "samples; pass the data the model was fitted on.")


def plot_mean_shift(model, X, ax=None, show_xlabels=True, show_ylabels=True):
    """Points coloured by mode, and the modes as large crosses.

    Parameters
    ----------
    model : fitted MeanShift (clusterlab's or scikit-learn's)
        Needs ``labels_`` and ``cluster_centers_``.
    X : array-like of shape (n_samples, n_features >= 2)
        The training data (its first two columns are drawn).
    ax : matplotlib Axes, optional
    show_xlabels, show_ylabels : bool, default=True

    Returns
    -------
    fig : matplotlib.figure.Figure
        Its axes hold two collections: the points, then the modes. The title
        gives the number of modes.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import MeanShift
    >>> from clusterlab.plotting import plot_mean_shift
    >>> X = np.array([[1, 1], [2, 1], [1, 0], [4, 7], [3, 5], [3, 6]], dtype=float)
    >>> fig = plot_mean_shift(MeanShift(bandwidth=2).fit(X), X)
    >>> fig.axes[0].get_title()
    'mean shift: 2 modes'
    """
    require(model, ("labels_", "cluster_centers_"), "plot_mean_shift", "a fitted MeanShift")
    X = check_2d(X, "plot_mean_shift")
    labels = np.asarray(model.labels_)
    _check_rows(X, labels, "plot_mean_shift")
    centers = np.asarray(model.cluster_centers_)
    fig, ax = new_axes(ax, figsize=(4.5, 3.2))
    ax.scatter(X[:, 0], X[:, 1], c=labels, s=6, cmap="Paired")
    ax.scatter(centers[:, 0], centers[:, 1], marker="x", s=120, linewidths=3, c="k",
               zorder=10)
    label_axes(ax, show_xlabels, show_ylabels)
    ax.set_title(f"mean shift: {len(centers)} modes")
    return fig


def plot_affinity_exemplars(model, X, ax=None, show_xlabels=True, show_ylabels=True):
    """Every point joined by a line to its exemplar; exemplars as large discs.

    Parameters
    ----------
    model : fitted AffinityPropagation (clusterlab's or scikit-learn's)
        Needs ``labels_`` and ``cluster_centers_indices_``.
    X : array-like of shape (n_samples, n_features >= 2)
        The training data (its first two columns are drawn).
    ax : matplotlib Axes, optional
    show_xlabels, show_ylabels : bool, default=True

    Returns
    -------
    fig : matplotlib.figure.Figure
        Its axes hold a LineCollection (one segment per non-exemplar point)
        and two point collections (members, exemplars).

    Notes
    -----
    O(n) artists' data: one segment per sample.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import AffinityPropagation
    >>> from clusterlab.plotting import plot_affinity_exemplars
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [4, 2], [4, 4], [4, 0]], dtype=float)
    >>> fig = plot_affinity_exemplars(AffinityPropagation(random_state=5).fit(X), X)
    >>> fig.axes[0].get_title()
    'affinity propagation: 2 exemplars'
    """
    from matplotlib.collections import LineCollection

    require(model, ("labels_", "cluster_centers_indices_"), "plot_affinity_exemplars",
            "a fitted AffinityPropagation")
    X = check_2d(X, "plot_affinity_exemplars")
    labels = np.asarray(model.labels_)
    _check_rows(X, labels, "plot_affinity_exemplars")
    exemplars = np.asarray(model.cluster_centers_indices_, dtype=np.int64)
    fig, ax = new_axes(ax, figsize=(4.5, 3.2))
    if len(exemplars):
        members = np.flatnonzero(labels >= 0)
        members = members[~np.isin(members, exemplars)]
        heads = X[exemplars[labels[members]], :2]
        segments = np.stack([X[members, :2], heads], axis=1)
        ax.add_collection(LineCollection(segments, colors="0.6", linewidths=0.6, zorder=1))
    ax.scatter(X[:, 0], X[:, 1], c=labels, s=10, cmap="Paired", zorder=2)
    ax.scatter(X[exemplars, 0], X[exemplars, 1], c=np.arange(len(exemplars)), s=120,
               cmap="Paired", edgecolors="k", zorder=3)
    ax.autoscale_view()
    label_axes(ax, show_xlabels, show_ylabels)
    ax.set_title(f"affinity propagation: {len(exemplars)} exemplars")
    return fig


def plot_birch_subclusters(model, X=None, ax=None, show_xlabels=True, show_ylabels=True):
    """The leaf subclusters as circles of their radius, coloured by global cluster.

    Parameters
    ----------
    model : fitted clusterlab Birch
        Needs ``subcluster_centers_``, ``subcluster_labels_`` and the leaves
        (``_get_leaves()``, for the radii).
    X : array-like of shape (n_samples, n_features >= 2), optional
        Drawn underneath as small grey dots.
    ax : matplotlib Axes, optional
    show_xlabels, show_ylabels : bool, default=True

    Returns
    -------
    fig : matplotlib.figure.Figure
        Its axes hold one circle patch per subcluster (radius from the CF
        statistics, in the first two coordinates' plane) and the centres.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import Birch
    >>> from clusterlab.plotting import plot_birch_subclusters
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> model = Birch(threshold=0.5, n_clusters=3).fit(X)
    >>> fig = plot_birch_subclusters(model, X)
    >>> len(fig.axes[0].patches) == len(model.subcluster_centers_)
    True
    """
    from matplotlib.patches import Circle

    require(model, ("subcluster_centers_", "subcluster_labels_"), "plot_birch_subclusters",
            "a fitted Birch")
    centers = check_2d(model.subcluster_centers_, "plot_birch_subclusters (a Birch fitted on "
                       "2-D rows)")
    labels = np.asarray(model.subcluster_labels_)
    radii = np.array([sc.radius for leaf in model._get_leaves() for sc in leaf.subclusters_])
    fig, ax = new_axes(ax, figsize=(4.5, 3.2))
    if X is not None:
        X = check_2d(X, "plot_birch_subclusters")
        ax.scatter(X[:, 0], X[:, 1], s=2, c="0.7", zorder=1)
    import matplotlib

    cmap = matplotlib.colormaps["Paired"]
    top = max(int(labels.max()), 1) if len(labels) else 1
    for (x, y), r, lab in zip(centers[:, :2], radii, labels):
        ax.add_patch(Circle((x, y), max(r, 1e-12), fill=False, lw=1,
                            ec=cmap(lab / top), zorder=2))
    ax.scatter(centers[:, 0], centers[:, 1], c=labels, cmap="Paired", s=8, zorder=3)
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    label_axes(ax, show_xlabels, show_ylabels)
    ax.set_title(f"BIRCH: {len(centers)} subclusters, threshold={model.threshold:g}")
    return fig
