"""Tree of splits of a fitted :class:`~clusterlab.BisectingKMeans`."""

import numpy as np

from clusterlab.plotting._common import new_axes


def _tree_layout(tree):
    """x of every node (leaves 0..k-1 left to right, a parent midway between
    its children) and y (the root at the number of splits, a node split at
    step s at height n_splits - s, leaves at 0)."""
    n_nodes = len(tree.left)
    x = np.zeros(n_nodes)
    y = np.zeros(n_nodes)
    n_splits = len(tree.order)
    for step, node in enumerate(tree.order):
        y[node] = n_splits - step
    for pos, leaf in enumerate(tree.leaves()):
        x[leaf] = pos
    for node in reversed(tree.order):  # children are placed before parents
        x[node] = 0.5 * (x[tree.left[node]] + x[tree.right[node]])
    return x, y


def plot_bisecting_tree(model, ax=None, show_sizes=True):
    """Draw the hierarchy of splits of a fitted :class:`~clusterlab.BisectingKMeans`.

    The root (all samples) is at the top; each split is drawn at the height
    of its step (the first split highest), the leaves -- the final clusters,
    labelled by their index in ``cluster_centers_`` -- at the bottom. Edge
    widths grow with the number of samples of the child.

    Parameters
    ----------
    model : BisectingKMeans
        Fitted.
    ax : matplotlib Axes, optional
        Where to draw; a new Figure is made otherwise.
    show_sizes : bool, default=True
        Write each node's number of training samples beside it.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Notes
    -----
    O(k) artists for k clusters.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import BisectingKMeans
    >>> from clusterlab.plotting import plot_bisecting_tree
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> fig = plot_bisecting_tree(BisectingKMeans(n_clusters=4, random_state=0).fit(X))
    >>> len(fig.axes[0].lines)  # two edges per split
    6
    """
    tree = getattr(model, "_bisecting_tree", None)
    if tree is None or not all(hasattr(tree, a) for a in ("size", "order", "left", "right")):
        # (scikit-learn's BisectingKMeans has a private tree of another kind)
        raise TypeError(
            "plot_bisecting_tree needs a fitted clusterlab BisectingKMeans, got "
            f"{type(model).__name__}."
        )
    x, y = _tree_layout(tree)
    fig, ax = new_axes(ax, figsize=(8, 4))
    n_total = max(1, tree.size[0])
    for node in tree.order:
        for child in (tree.left[node], tree.right[node]):
            width = 0.8 + 4.0 * tree.size[child] / n_total
            ax.plot([x[node], x[child], x[child]], [y[node], y[node], y[child]], color="k",
                    linewidth=width, solid_capstyle="butt")
    leaves = tree.leaves()
    ax.scatter(x[leaves], y[leaves], s=40, c=[tree.label[i] for i in leaves], cmap="tab10",
               zorder=3, edgecolors="k")
    for leaf in leaves:
        ax.annotate(str(tree.label[leaf]), (x[leaf], y[leaf]), textcoords="offset points",
                    xytext=(0, -14), ha="center", va="top")
    if show_sizes:
        for node in range(len(tree.left)):
            ax.annotate(str(tree.size[node]), (x[node], y[node]), textcoords="offset points",
                        xytext=(4, 4), fontsize=8, color="0.3")
    ax.set_xticks([])
    ax.set_ylim(-0.8, len(tree.order) + 0.6)
    ax.set_ylabel("split step (top: first)")
    ax.set_xlabel("clusters (label below, training samples beside each node)")
    ax.set_title(f"Bisecting K-Means: {len(leaves)} clusters, {model.bisecting_strategy}")
    return fig
