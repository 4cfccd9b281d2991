"""Dendrogram of a fitted :class:`~clusterlab.AgglomerativeClustering`."""

from clusterlab.plotting._common import new_axes


def plot_dendrogram(model, ax=None, **kwargs):
    """Draw the merge tree of a fitted agglomerative clustering.

    Parameters
    ----------
    model : AgglomerativeClustering
        Fitted with the merge distances (``compute_distances=True`` or a
        ``distance_threshold``) and the full tree.
    ax : matplotlib Axes, optional
        Where to draw; a new Figure is made otherwise.
    **kwargs
        Passed to :func:`scipy.cluster.hierarchy.dendrogram` (for example
        ``truncate_mode="level", p=3`` or ``color_threshold``).

    Returns
    -------
    fig : matplotlib.figure.Figure

    Notes
    -----
    Drawing is O(n) in time and memory (scipy lays out the n - 1 merges).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import AgglomerativeClustering
    >>> from clusterlab.plotting import plot_dendrogram
    >>> X = np.array([0, 2, 5, 8.5]).reshape(-1, 1)
    >>> agg = AgglomerativeClustering(linkage="complete", compute_distances=True).fit(X)
    >>> fig = plot_dendrogram(agg)
    >>> len(fig.axes)
    1
    """
    from scipy.cluster.hierarchy import dendrogram

    if not hasattr(model, "to_linkage_matrix"):
        raise TypeError(
            f"plot_dendrogram needs a fitted clusterlab AgglomerativeClustering, got "
            f"{type(model).__name__}."
        )
    Z = model.to_linkage_matrix()
    fig, ax = new_axes(ax, figsize=(8, 4))
    dendrogram(Z, ax=ax, **kwargs)
    ax.set_xlabel("samples (or cluster sizes in parentheses)")
    ax.set_ylabel("merge distance")
    ax.set_title(f"{model.linkage} linkage")
    return fig
