"""Density-hierarchy figures: OPTICS's reachability plot, HDBSCAN's trees.

* :func:`plot_reachability` -- a fitted OPTICS (``reachability_``,
  ``ordering_``, ``labels_``): the reachability distance of each point in
  cluster order, coloured by cluster; valleys are clusters.
* :func:`plot_condensed_tree` -- a fitted model with ``condensed_tree_`` (a
  structured array with fields ``parent``, ``child``, ``lambda_val``,
  ``child_size``: the layout of the hdbscan library's
  ``condensed_tree_._raw_tree``) and ``labels_``: an icicle plot, each
  cluster a column whose width is its number of points as lambda
  (1 / distance) grows downwards, the selected clusters circled.
* :func:`plot_single_linkage_tree` -- ``single_linkage_tree_`` in scipy's
  linkage format: a truncated dendrogram.
"""

import numpy as np

from ._common import new_axes, require

_NOISE_COLOR = "0.35"


def _cluster_colors(n):
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]


def plot_reachability(model, ax=None, noise_color=_NOISE_COLOR, markersize=3):
    """Reachability plot of a fitted OPTICS, coloured by cluster.

    Points are drawn in ``ordering_``, at their reachability distance; each
    cluster of ``labels_`` has its own colour, points with label -1 are grey.
    Seeds (infinite reachability) are drawn as triangles at the top of the
    axes. With ``cluster_method='dbscan'`` a dashed line marks the ``eps``
    the labels were cut at.

    Parameters
    ----------
    model : fitted OPTICS (clusterlab's or scikit-learn's)
        Needs ``reachability_``, ``ordering_`` and ``labels_``.
    ax : matplotlib Axes, optional
    noise_color : color, default='0.35'
    markersize : float, default=3

    Returns
    -------
    fig : matplotlib.figure.Figure

    Notes
    -----
    O(n) time and memory.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import OPTICS
    >>> from clusterlab.plotting import plot_reachability
    >>> X = np.r_[np.random.default_rng(0).normal(0, 0.3, (40, 2)),
    ...           np.random.default_rng(1).normal(4, 0.3, (40, 2))]
    >>> fig = plot_reachability(OPTICS(min_samples=5).fit(X))
    >>> fig.axes[0].get_ylabel()
    'reachability distance'
    """
    require(model, ("ordering_", "reachability_", "labels_"), "plot_reachability",
            "a fitted OPTICS")
    order = np.asarray(model.ordering_)
    reach = np.asarray(model.reachability_, dtype=float)[order]
    labels = np.asarray(model.labels_)[order]
    own = ax is None
    fig, ax = new_axes(ax, figsize=(8, 3.2))
    x = np.arange(len(order))
    finite = np.isfinite(reach)
    top = float(reach[finite].max()) * 1.08 if finite.any() else 1.0
    ids = [c for c in np.unique(labels) if c >= 0]
    noise = labels < 0
    if noise.any():
        m = noise & finite
        ax.plot(x[m], reach[m], ".", color=noise_color, markersize=markersize, alpha=0.6,
                label="noise")
    for c, color in zip(ids, _cluster_colors(len(ids))):
        m = (labels == c) & finite
        ax.plot(x[m], reach[m], ".", color=color, markersize=markersize,
                label=f"cluster {c}")
    if (~finite).any():
        ax.plot(x[~finite], np.full((~finite).sum(), top), "v", color="k",
                markersize=markersize + 2, label="seed (inf)")
    if getattr(model, "cluster_method", None) == "dbscan":
        eps = model.eps if model.eps is not None else model.max_eps
        if np.isfinite(eps):
            ax.axhline(eps, color="k", linestyle="--", linewidth=1, label=f"eps={eps:g}")
    ax.set_xlim(-0.5, max(len(order) - 0.5, 0.5))
    ax.set_ylim(0, top * 1.04 if top > 0 else 1.0)  # all reachabilities 0: duplicate rows
    ax.set_xlabel("position in the cluster order")
    ax.set_ylabel("reachability distance")
    ax.set_title("Reachability plot")
    if len(ids) <= 12:
        ax.legend(loc="upper right", fontsize="small", markerscale=2)
    if own:
        fig.tight_layout()
    return fig


def _tree_arrays(tree):
    tree = np.asarray(tree)
    return (np.asarray(tree["parent"], dtype=np.int64), np.asarray(tree["child"], dtype=np.int64),
            np.asarray(tree["lambda_val"], dtype=float),
            np.asarray(tree["child_size"], dtype=np.int64))


def selected_clusters(condensed_tree, labels):
    """Cluster nodes of a condensed tree that ``labels`` selected.

    A label's node is the lowest common ancestor (in the cluster tree) of the
    nodes its points fell out of.

    Parameters
    ----------
    condensed_tree : structured array (parent, child, lambda_val, child_size)
    labels : array of shape (n_points,); negative labels are noise.

    Returns
    -------
    nodes : dict label -> cluster node id
    """
    parent, child, _, size = _tree_arrays(condensed_tree)
    labels = np.asarray(labels)
    n_points = len(labels)
    up = {int(c): int(p) for p, c, s in zip(parent, child, size) if c >= n_points}
    fell_from = np.full(n_points, -1, dtype=np.int64)
    pts = child < n_points
    fell_from[child[pts]] = parent[pts]

    def chain(node):
        out = [node]
        while node in up:
            node = up[node]
            out.append(node)
        return out

    nodes = {}
    for c in np.unique(labels[labels >= 0]):
        starts = np.unique(fell_from[labels == c])
        common = None
        for s in starts:
            anc = chain(int(s))
            if common is None:
                common = anc
            else:
                keep = set(anc)
                common = [a for a in common if a in keep]
        nodes[int(c)] = common[0]
    return nodes


def _layout(parent, child, lam, size, n_points):
    """x centre, birth and death lambda and size of every cluster node."""
    root = int(parent.min())
    is_cluster = child >= n_points
    kids = {}
    birth = {root: 0.0}
    csize = {}
    for p, c, lv, s in zip(parent[is_cluster], child[is_cluster], lam[is_cluster],
                           size[is_cluster]):
        kids.setdefault(int(p), []).append(int(c))
        birth[int(c)] = float(lv)
        csize[int(c)] = int(s)
    csize[root] = int(size[parent == root].sum())
    finite = lam[np.isfinite(lam)]
    cap = float(finite.max()) * 1.1 if finite.size else 1.0
    death = {}
    for node in birth:
        m = parent == node
        vals = lam[m]
        vals = np.where(np.isfinite(vals), vals, cap)
        death[node] = float(vals.max()) if vals.size else birth[node]
    # each subtree gets an interval as wide as the larger of its cluster and
    # its children's intervals side by side; a node is centred in its own
    gap = 0.05 * csize[root]
    span = {}

    def measure(node):
        ch = kids.get(node, [])
        inner = sum(measure(c) for c in ch) + gap * max(len(ch) - 1, 0)
        span[node] = max(float(csize[node]), inner)
        return span[node]

    x = {}

    def place(node, left):
        x[node] = left + span[node] / 2.0
        ch = sorted(kids.get(node, []))
        inner = sum(span[c] for c in ch) + gap * max(len(ch) - 1, 0)
        start = left + (span[node] - inner) / 2.0
        for c in ch:
            place(c, start)
            start += span[c] + gap

    import sys

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(birth) + 100))
    try:
        measure(root)
        place(root, 0.0)
    finally:
        sys.setrecursionlimit(limit)
    return root, kids, x, birth, death, csize, cap


def plot_condensed_tree(model, select_clusters=True, ax=None, cmap="viridis",
                        selection_color="r"):
    """Icicle plot of a condensed tree, the selected clusters circled.

    Each cluster of the condensed tree is a column centred at its x position,
    starting at the lambda (1 / distance) where it split off its parent and
    narrowing, as lambda grows downwards, by the points that fall out of it;
    its colour gives the log of its size. Horizontal lines join the clusters
    that split from one parent; with ``select_clusters`` an ellipse is drawn
    around each cluster that ``labels_`` selected.

    Parameters
    ----------
    model : fitted model (clusterlab's HDBSCAN, the hdbscan library's through
        a small wrapper, ...)
        Needs ``condensed_tree_`` (structured array with fields parent,
        child, lambda_val, child_size, point ids below the root's id) and
        ``labels_``.
    select_clusters : bool, default=True
    ax : matplotlib Axes, optional
    cmap : str, default='viridis'
    selection_color : color, default='r'

    Returns
    -------
    fig : matplotlib.figure.Figure

    Notes
    -----
    One polygon per cluster: O(rows of the tree) time, independent of how
    many distinct lambda values there are in the drawing.
    """
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.patches import Ellipse

    require(model, ("condensed_tree_", "labels_"), "plot_condensed_tree", "a fitted HDBSCAN")
    parent, child, lam, size = _tree_arrays(model.condensed_tree_)
    labels = np.asarray(model.labels_)
    n_points = len(labels)
    fig, ax = new_axes(ax, figsize=(7, 4.5))
    root, kids, x, birth, death, csize, cap = _layout(parent, child, lam, size, n_points)
    nodes = sorted(birth)
    polys, sizes = [], []
    for node in nodes:
        m = parent == node
        lv = np.where(np.isfinite(lam[m]), lam[m], cap)
        leaving = size[m]
        order = np.argsort(lv, kind="stable")
        lv, leaving = lv[order], leaving[order]
        width = float(csize[node])
        ys, ws = [birth[node]], [width]
        for value, k in zip(lv, leaving):
            ys.append(value)
            ws.append(width)
            width -= k
            ys.append(value)
            ws.append(max(width, 0.0))
        ys, ws = np.array(ys), np.array(ws)
        right = np.c_[x[node] + ws / 2, ys]
        left = np.c_[x[node] - ws / 2, ys][::-1]
        polys.append(np.r_[right, left])
        sizes.append(csize[node])
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import LogNorm

    norm = LogNorm(vmin=max(min(sizes), 1), vmax=max(max(sizes), 2))
    colors = colormaps[cmap](norm(np.array(sizes, dtype=float)))
    ax.add_collection(PolyCollection(polys, facecolors=colors, edgecolors="none"))
    segments = []
    for p, ch in kids.items():
        ch = sorted(ch)
        segments.append([(x[ch[0]], birth[ch[0]]), (x[ch[-1]], birth[ch[-1]])])
    ax.add_collection(LineCollection(segments, colors="k", linewidths=1))
    if select_clusters:
        chosen = selected_clusters(model.condensed_tree_, labels)
        for node in chosen.values():
            height = max(death[node] - birth[node], 1e-12)
            ax.add_patch(Ellipse((x[node], birth[node] + height / 2), csize[node] * 1.25,
                                 height * 1.2, fill=False, edgecolor=selection_color,
                                 linewidth=2))
    xs = [x[n] for n in nodes]
    half = max(csize.values()) / 2
    ax.set_xlim(min(xs) - half * 1.2, max(xs) + half * 1.2)
    deepest = max(death.values())
    ax.set_ylim(deepest * 1.05 if deepest > 0 else 1.0, 0)  # lambda grows downwards
    ax.set_xticks([])
    ax.set_ylabel(r"$\lambda$ value")
    ax.set_title("Condensed tree")
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="number of points")
    return fig


def plot_single_linkage_tree(model, p=30, truncate_mode="lastp", ax=None, color="k"):
    """Truncated dendrogram of ``single_linkage_tree_`` (scipy linkage format).

    Parameters
    ----------
    model : fitted model with ``single_linkage_tree_`` of shape (n - 1, 4).
    p : int, default=30
        Leaves shown (``truncate_mode='lastp'``) or levels
        (``truncate_mode='level'``).
    truncate_mode : {'lastp', 'level', None}, default='lastp'
    ax : matplotlib Axes, optional
    color : color, default='k'

    Returns
    -------
    fig : matplotlib.figure.Figure

    Notes
    -----
    O(n) time and memory (scipy's dendrogram).
    """
    from scipy.cluster.hierarchy import dendrogram

    require(model, ("single_linkage_tree_",), "plot_single_linkage_tree", "a fitted HDBSCAN")
    Z = np.array(model.single_linkage_tree_, dtype=float, copy=True)
    finite = np.isfinite(Z[:, 2])
    if not finite.all():  # infinite merges (unreachable points) drawn just above the rest
        Z[~finite, 2] = (Z[finite, 2].max() if finite.any() else 1.0) * 1.1
    fig, ax = new_axes(ax, figsize=(8, 4))
    dendrogram(Z, p=p, truncate_mode=truncate_mode, ax=ax, color_threshold=0,
               above_threshold_color=color, no_labels=False, leaf_font_size=7)
    ax.set_ylabel("mutual reachability distance")
    ax.set_title("Single linkage tree")
    return fig
