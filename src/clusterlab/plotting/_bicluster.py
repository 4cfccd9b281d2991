"""A biclustered matrix: :class:`~clusterlab.SpectralCoclustering` and
:class:`~clusterlab.SpectralBiclustering`."""

import numpy as np

from clusterlab.plotting._common import new_figure


def plot_biclusters(model, X, ax=None, cmap="Blues"):
    """Draw a matrix with its rows and columns reordered by bicluster.

    With a new figure, two panels: the matrix as given, and reordered so that
    the rows (columns) of each row (column) cluster are adjacent, with lines
    between the clusters -- the block structure a
    :class:`~clusterlab.SpectralCoclustering` or
    :class:`~clusterlab.SpectralBiclustering` found. With ``ax``, only the
    reordered matrix.

    Parameters
    ----------
    model : SpectralCoclustering or SpectralBiclustering
        Fitted (it needs ``row_labels_`` and ``column_labels_``).
    X : array-like or sparse matrix of shape (n_rows, n_columns)
        The matrix the model was fitted on.
    ax : matplotlib Axes, optional
    cmap : str, default='Blues'

    Returns
    -------
    fig : matplotlib.figure.Figure

    Notes
    -----
    Draws the dense n_rows x n_columns matrix (a sparse X is densified).

    Examples
    --------
    >>> from sklearn.datasets import make_biclusters
    >>> from clusterlab import SpectralCoclustering
    >>> from clusterlab.plotting import plot_biclusters
    >>> X, _, _ = make_biclusters((40, 30), 3, noise=1, random_state=0)
    >>> fig = plot_biclusters(SpectralCoclustering(3, random_state=0).fit(X), X)
    >>> [ax.get_title() for ax in fig.axes]
    ['matrix', 'reordered by bicluster']
    """
    if not hasattr(model, "row_labels_"):
        raise TypeError(
            "plot_biclusters needs a fitted SpectralCoclustering or SpectralBiclustering, got "
            f"{type(model).__name__} without row_labels_."
        )
    M = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
    rows = np.argsort(model.row_labels_, kind="stable")
    cols = np.argsort(model.column_labels_, kind="stable")
    if M.shape != (rows.shape[0], cols.shape[0]):
        raise ValueError(
            f"X has shape {M.shape} but the model was fitted on a "
            f"{rows.shape[0]} x {cols.shape[0]} matrix."
        )
    if ax is None:
        fig = new_figure(figsize=(10, 4.5))
        first = fig.add_subplot(1, 2, 1)
        first.matshow(M, cmap=cmap, aspect="auto")
        first.set_title("matrix")
        ax = fig.add_subplot(1, 2, 2)
    else:
        fig = ax.figure
    ax.matshow(M[np.ix_(rows, cols)], cmap=cmap, aspect="auto")
    for cuts, draw in ((np.cumsum(np.bincount(model.row_labels_))[:-1], ax.axhline),
                       (np.cumsum(np.bincount(model.column_labels_))[:-1], ax.axvline)):
        for cut in cuts:
            draw(cut - 0.5, color="r", linewidth=1)
    ax.set_title("reordered by bicluster")
    return fig
