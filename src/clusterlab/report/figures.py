"""The report's own figures: scatters of the 2-D view, the k-distance curve, the
dendrogram's top, rows of silhouette diagrams, one colour per cluster, and the
names of the axes.

Each function returns a matplotlib Figure; :class:`clusterlab.report.html.Page`
draws them (:func:`name_axes` puts the data's names on the axes the plotting
functions label ``$x_1$`` / ``$x_2$``).
"""

import numpy as np

#: A scatter names its classes in a legend up to this many (more would hide the points).
MAX_LEGEND_NAMES = 12

#: Leaves of the dendrogram shown (the merges below them are contracted).
DENDROGRAM_LEAVES = 30


def cluster_colors(labels):
    """One colour per cluster label (index = label), the same in every figure of a model."""
    from matplotlib import colormaps

    labels = np.asarray(labels) if labels is not None else np.zeros(0, int)
    n = int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 1
    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def scatter_figure(P, labels=None, title="", highlight=None, xlabel="$x_1$", ylabel="$x_2$",
                   colors=None, names=None):
    """Scatter of a 2-D view coloured by ``labels`` (-1 noise as red crosses, -2 hidden).

    ``colors[c]`` is the colour of cluster ``c`` (default :func:`cluster_colors`);
    ``names[c]``, when given, its name in a legend (at most
    :data:`MAX_LEGEND_NAMES` of them: with more, none).
    """
    from clusterlab.plotting._common import label_axes, new_axes

    fig, ax = new_axes(figsize=(9, 5))
    if labels is None:
        ax.plot(P[:, 0], P[:, 1], "k.", markersize=3)
    else:
        labels = np.asarray(labels)
        colors = colors if colors is not None else cluster_colors(labels)
        shown = (labels != -2) & (labels != -1)
        noise = labels == -1
        # one marker line per cluster: matplotlib stamps a line's markers
        # from one rendered marker, a scatter renders every point's path
        present = np.unique(labels[shown])
        named = names is not None and len(present) <= MAX_LEGEND_NAMES
        for c in present:
            rows = labels == c
            ax.plot(P[rows, 0], P[rows, 1], "o", markersize=6 ** 0.5, markeredgewidth=0,
                    color=colors[c % len(colors)],
                    label=_plain_label(str(names[c])) if named else None)
        if noise.any():
            ax.scatter(P[noise, 0], P[noise, 1], c="r", marker="x", s=20, label="noise")
        if noise.any() or named:
            ax.legend(loc="best", markerscale=2.5 if named else 1.0)
    if highlight is not None and np.any(highlight):
        ax.scatter(P[highlight, 0], P[highlight, 1], color="r", marker="*", s=60,
                   label="anomalies")
        ax.legend(loc="best")
    label_axes(ax, xlabel=xlabel, ylabel=ylabel)
    ax.grid(True)
    ax.set_axisbelow(True)
    ax.set_title(title)
    return fig


def kdistance_figure(kd, eps, min_samples):
    from clusterlab.plotting._common import new_axes

    fig, ax = new_axes(figsize=(9, 4))
    ax.plot(np.arange(len(kd)), kd, "b-")
    ax.axhline(eps, color="r", linestyle="--", label=f"eps = {eps:.3g} (knee)")
    ax.set_xlabel("points sorted by distance")
    ax.set_ylabel(f"distance to neighbour {min_samples - 1}")
    ax.set_title("k-distance curve (Kneedle knee gives eps)")
    ax.grid(True)
    ax.legend(loc="upper left")
    return fig


def dendrogram_figure(model, n_clusters, colors=None):
    """The top of the merge tree: the last :data:`DENDROGRAM_LEAVES` merges, cut at k clusters.

    Branches below the cut take the colour of their cluster (``colors[label]``,
    as in the model's other figures); branches above it are grey.
    """
    from matplotlib.colors import to_hex
    from scipy.cluster.hierarchy import dendrogram

    from clusterlab.plotting._common import new_axes

    Z = model.to_linkage_matrix()
    n = len(Z) + 1
    fig, ax = new_axes(figsize=(10, 4.5))
    heights = np.sort(Z[:, 2])
    cut = None
    if 2 <= n_clusters <= len(heights):
        cut = float((heights[-n_clusters] + heights[-n_clusters + 1]) / 2)
    kwargs = {}
    labels = getattr(model, "labels_", None)
    if cut is not None and colors is not None and labels is not None and len(labels) == n:
        node_label = np.empty(2 * n - 1, dtype=np.int64)
        node_label[:n] = labels
        for j in range(len(Z)):
            node_label[n + j] = node_label[int(Z[j, 0])]
        grey = "#888888"

        def link_color(node):
            if node >= n and Z[node - n, 2] <= cut:
                return to_hex(colors[int(node_label[node]) % len(colors)])
            return grey

        kwargs["link_color_func"] = link_color
    else:
        kwargs["color_threshold"] = cut if cut is not None else 0.7 * heights[-1]
        kwargs["above_threshold_color"] = "#888"
    p = min(DENDROGRAM_LEAVES, n)
    dendrogram(Z, ax=ax, truncate_mode="lastp", p=p, show_contracted=False, leaf_rotation=90,
               leaf_font_size=9, **kwargs)
    if cut is not None:
        ax.axhline(cut, color="r", linestyle="--", linewidth=1,
                   label=f"cut into {n_clusters} clusters")
        ax.legend(loc="upper right")
    ax.set_xlabel("groups of rows (their size in parentheses)")
    ax.set_ylabel("merge distance")
    ax.set_title(f"{model.linkage} linkage: the last {p} merges")
    # room below for the rotated leaf labels and the x label: a figure that
    # fits its canvas is drawn once (figure_to_data_uri)
    fig.subplots_adjust(bottom=0.2)
    return fig


def silhouette_row(Xs, labs, colors):
    """Silhouette diagrams of the labellings ``labs`` of ``Xs`` in one row, sized so
    their text stays readable at the page width, with ticks every 0.2 on the
    shared x range."""
    from clusterlab.plotting._selection import silhouette_panels

    # laid out once, at its final size
    fig = silhouette_panels(Xs, labs, ncols=len(labs), colors=colors)
    n = len(fig.axes)
    fig.set_size_inches(4.0 * n, 3.8)
    for ax in fig.axes:
        lo = ax.get_xlim()[0]
        ax.set_xticks(np.round(np.arange(np.ceil(lo / 0.2) * 0.2, 1.0001, 0.2), 1))
    fig.tight_layout()
    return fig


def axis_names(res):
    """The names of the figures' two axes: the data's own columns when the table
    has two (marked when the figures show them standardised or shifted), else
    the principal components of the projection."""
    ds = res.dataset
    columns = [str(c) for c in getattr(ds, "columns", [])]
    if res.X_fit.shape[1] == 2 and len(columns) == 2:
        suffix = ""
        if res.scale == "standard":
            suffix = " (standardised)"
        elif not np.array_equal(res.X_fit, ds.X):
            suffix = " (rescaled)"
        return tuple(_plain_label(c) + suffix for c in columns)
    if res.X_fit.shape[1] == 1 and len(columns) == 1:
        return _plain_label(columns[0]), ""
    return "principal component 1", "principal component 2"


def _plain_label(name, width=40):
    """A column name as matplotlib prints it literally: ``$`` escaped (it would
    start mathtext), shortened to ``width`` characters."""
    name = name if len(name) <= width else name[:width - 1] + "…"
    return name.replace("$", r"\$")


def name_axes(fig, names):
    """Put ``names`` on the axes of ``fig`` still labelled ``$x_1$`` / ``$x_2$``
    (the plotting functions' default labels)."""
    if names is None:
        return
    for ax in fig.axes:
        if ax.get_xlabel() == "$x_1$":
            ax.set_xlabel(names[0])
        if ax.get_ylabel() == "$x_2$":
            # the seed's $x_2$ is upright; a name reads along the axis
            ax.set_ylabel(names[1], rotation=90 if len(names[1]) > 4 else 0)
