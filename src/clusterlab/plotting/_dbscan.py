"""DBSCAN figure: core samples, border samples and anomalies (noise)."""

import numpy as np

from ._common import check_2d, label_axes, new_axes, require


def plot_dbscan(model, X, size=100, ax=None, show_xlabels=True, show_ylabels=True):
    """Draw a fitted DBSCAN the way the seed notebook does.

    Core samples are large discs coloured by cluster (``cmap="Paired"``)
    with a small star on top, border samples small dots coloured by
    cluster, anomalies (label -1) red crosses. The title gives ``eps`` and
    ``min_samples``, e.g. ``"eps=0.05, min_samples=5"``.

    Parameters
    ----------
    model : fitted DBSCAN (clusterlab's or scikit-learn's)
        Needs ``labels_``, ``core_sample_indices_``, ``components_``, ``eps``
        and ``min_samples``.
    X : array-like of shape (n_samples, n_features >= 2)
        The training data (its first two columns are drawn).
    size : float, default=100
        Marker area of the core-sample discs.
    ax : matplotlib Axes, optional
        Where to draw; a new Figure is created when omitted.
    show_xlabels, show_ylabels : bool, default=True
        Label the axes, or hide their tick labels.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Notes
    -----
    O(n) time and memory.

    Examples
    --------
    >>> from clusterlab import DBSCAN
    >>> from clusterlab.datasets import load_moons
    >>> from clusterlab.plotting import plot_dbscan
    >>> X = load_moons()
    >>> fig = plot_dbscan(DBSCAN(eps=0.05, min_samples=5).fit(X), X)
    >>> fig.axes[0].get_title()
    'eps=0.05, min_samples=5'
    """
    require(model, ("labels_", "core_sample_indices_", "eps", "min_samples"), "plot_dbscan",
            "a fitted DBSCAN")
    X = check_2d(X, "plot_dbscan")
    labels = np.asarray(model.labels_)
    if labels.shape[0] != X.shape[0]:
        raise ValueError(
            f"X has {X.shape[0]} rows but the model was fitted on {labels.shape[0]} samples; "
            "pass the data the model was fitted on.")
    own_figure = ax is None
    fig, ax = new_axes(ax, figsize=(4.5, 3.2))
    core_mask = np.zeros(labels.shape[0], dtype=bool)
    core_mask[np.asarray(model.core_sample_indices_)] = True
    anomalies_mask = labels == -1
    non_core_mask = ~(core_mask | anomalies_mask)
    cores = X[core_mask]
    anomalies = X[anomalies_mask]
    non_cores = X[non_core_mask]
    ax.scatter(cores[:, 0], cores[:, 1], c=labels[core_mask], marker="o", s=size,
               cmap="Paired")
    ax.scatter(cores[:, 0], cores[:, 1], marker="*", s=20, c=labels[core_mask])
    ax.scatter(anomalies[:, 0], anomalies[:, 1], c="r", marker="x", s=100)
    ax.scatter(non_cores[:, 0], non_cores[:, 1], c=labels[non_core_mask], marker=".")
    label_axes(ax, show_xlabels, show_ylabels)
    # the seed's two decimals, more where they would hide the value (eps=0.001)
    eps = f"{model.eps:.2f}" if round(model.eps, 2) == model.eps else f"{model.eps:.3g}"
    ax.set_title(f"eps={eps}, min_samples={model.min_samples}")
    ax.grid()
    ax.set_axisbelow(True)
    if own_figure and show_xlabels:  # room for the x label inside the canvas
        fig.subplots_adjust(bottom=0.15)
    return fig
