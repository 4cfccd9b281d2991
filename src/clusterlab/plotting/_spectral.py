"""The seed's spectral-clustering figure (section 1.4.1)."""

import numpy as np

from clusterlab.plotting._common import check_2d, label_axes, new_axes


def plot_spectral_clustering(model, X, size=500, alpha=0.1, show_xlabels=True,
                             show_ylabels=True, ax=None):
    """Draw a fitted spectral clustering as the seed does.

    Each point is a large translucent grey disc (``size``, ``alpha``: the
    reach of the RBF kernel at a glance), a white disc, and a small dot
    coloured by its cluster (``Paired`` colour map). The title gives the RBF
    gamma: ``"RBF gamma=100"``.

    Parameters
    ----------
    model : fitted SpectralClustering (or anything with ``labels_`` and ``gamma``)
    X : array-like of shape (n_samples, 2)
        The data the model was fitted on.
    size : float, default=500
        Marker area of the grey discs.
    alpha : float, default=0.1
        Opacity of the grey discs.
    show_xlabels, show_ylabels : bool, default=True
        Label the axes, or hide the tick labels.
    ax : matplotlib Axes, default=None
        Draw there; a new Figure otherwise.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Examples
    --------
    >>> from clusterlab import SpectralClustering
    >>> from clusterlab.datasets import load_moons
    >>> from clusterlab.plotting import plot_spectral_clustering
    >>> X = load_moons(n_samples=100)
    >>> sc = SpectralClustering(n_clusters=2, gamma=100, random_state=42).fit(X)
    >>> plot_spectral_clustering(sc, X).axes[0].get_title()
    'RBF gamma=100'
    """
    X = check_2d(X, "plot_spectral_clustering")
    labels = np.asarray(getattr(model, "labels_", None))
    if labels.ndim != 1 or labels.shape[0] != X.shape[0]:
        raise ValueError(
            "plot_spectral_clustering needs a fitted model whose labels_ match X's rows; "
            "fit the model on X first."
        )
    fig, ax = new_axes(ax, figsize=(4.5, 3.2))
    ax.scatter(X[:, 0], X[:, 1], marker="o", s=size, c="gray", alpha=alpha)
    ax.scatter(X[:, 0], X[:, 1], marker="o", s=30, c="w")
    ax.scatter(X[:, 0], X[:, 1], marker=".", s=10, c=labels, cmap="Paired")
    label_axes(ax, show_xlabels, show_ylabels)
    ax.set_title(f"RBF gamma={getattr(model, 'gamma', '?')}")
    return fig
