"""Reachability plot, condensed tree and single linkage tree figures; DBSCAN's inputs."""

from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Ellipse
from sklearn.datasets import make_blobs

from clusterlab import DBSCAN, OPTICS, KMeans
from clusterlab.plotting import (
    plot_condensed_tree,
    plot_dbscan,
    plot_reachability,
    plot_single_linkage_tree,
)
from clusterlab.plotting._density import selected_clusters


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(300, centers=[[0, 0], [5, 5], [-5, 4]], cluster_std=[0.4, 0.8, 0.6],
                      random_state=0)
    return X


def test_reachability_plot_one_line_per_cluster_and_noise(blobs):
    model = OPTICS(min_samples=10).fit(blobs)
    fig = plot_reachability(model)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    n_clusters = len(set(model.labels_) - {-1})
    assert n_clusters >= 2
    labels = [line.get_label() for line in ax.lines]
    assert sum(lab.startswith("cluster") for lab in labels) == n_clusters
    assert ("noise" in labels) == bool((model.labels_ == -1).any())
    # every point drawn once, at its reachability in cluster order
    drawn = sum(len(line.get_xdata()) for line in ax.lines)
    assert drawn == len(blobs)
    line = next(line for line in ax.lines if line.get_label() == "cluster 0")
    order = model.ordering_
    xs = np.asarray(line.get_xdata(), dtype=int)
    np.testing.assert_allclose(line.get_ydata(), model.reachability_[order][xs])
    assert np.all(model.labels_[order][xs] == 0)
    assert ax.get_ylabel() == "reachability distance"


def test_reachability_plot_marks_dbscan_eps(blobs):
    model = OPTICS(min_samples=10, cluster_method="dbscan", eps=0.7).fit(blobs)
    ax = plot_reachability(model).axes[0]
    eps_lines = [line for line in ax.lines if line.get_label() == "eps=0.7"]
    assert len(eps_lines) == 1 and eps_lines[0].get_ydata()[0] == 0.7


@pytest.fixture(scope="module")
def hdbscan_model(blobs):
    hdbscan = pytest.importorskip("hdbscan")
    fitted = hdbscan.HDBSCAN(min_cluster_size=15).fit(blobs)
    # the layout clusterlab's HDBSCAN exposes: plain arrays
    return fitted, SimpleNamespace(condensed_tree_=fitted.condensed_tree_._raw_tree,
                                   single_linkage_tree_=fitted.single_linkage_tree_.to_numpy(),
                                   labels_=fitted.labels_)


def test_selected_clusters_are_hdbscans_selection(hdbscan_model):
    fitted, model = hdbscan_model
    chosen = selected_clusters(model.condensed_tree_, model.labels_)
    assert sorted(chosen.values()) == sorted(int(c) for c in
                                             fitted.condensed_tree_._select_clusters())
    assert sorted(chosen) == sorted(set(model.labels_) - {-1})


def test_condensed_tree_polygons_and_circles(hdbscan_model):
    fitted, model = hdbscan_model
    fig = plot_condensed_tree(model)
    ax = fig.axes[0]
    tree = model.condensed_tree_
    n_cluster_nodes = len(np.unique(tree["parent"]))  # clusters with children
    n_nodes = len(set(tree["parent"]) | set(tree["child"][tree["child_size"] > 1]))
    polys = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(polys) == 1 and len(polys[0].get_paths()) == n_nodes >= n_cluster_nodes
    ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
    assert len(ellipses) == len(set(model.labels_) - {-1})
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines) == 1
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # lambda grows downwards
    assert len(fig.axes) == 2  # the colour bar
    assert not [p for p in plot_condensed_tree(model, select_clusters=False).axes[0].patches
                if isinstance(p, Ellipse)]


def test_condensed_tree_widths_follow_cluster_sizes(hdbscan_model):
    _, model = hdbscan_model
    ax = plot_condensed_tree(model).axes[0]
    poly = next(c for c in ax.collections if isinstance(c, PolyCollection))
    widths = sorted(np.ptp(path.vertices[:, 0]) for path in poly.get_paths())
    tree = model.condensed_tree_
    sizes = sorted([len(model.labels_)]
                   + list(tree["child_size"][tree["child_size"] > 1].astype(float)))
    np.testing.assert_allclose(widths, sizes)


def test_single_linkage_tree_truncated(hdbscan_model):
    _, model = hdbscan_model
    fig = plot_single_linkage_tree(model, p=12)
    ax = fig.axes[0]
    segs = [c for c in ax.collections if isinstance(c, LineCollection)]
    n_links = sum(len(c.get_segments()) for c in segs) + len(ax.lines)
    assert n_links == 11  # p leaves -> p - 1 merges drawn
    assert ax.get_ylabel() == "mutual reachability distance"
    full = plot_single_linkage_tree(model, truncate_mode=None).axes[0]
    n_full = sum(len(c.get_segments()) for c in full.collections
                 if isinstance(c, LineCollection)) + len(full.lines)
    assert n_full == len(model.labels_) - 1


def test_plot_dbscan_says_it_needs_a_fitted_dbscan(blobs):
    # an AttributeError 'labels_' / 'core_sample_indices_' came from the drawing
    with pytest.raises(TypeError, match=r"plot_dbscan needs a fitted DBSCAN, got DBSCAN "
                                        r"\(not fitted\?\)"):
        plot_dbscan(DBSCAN(), blobs)
    with pytest.raises(TypeError, match=r"plot_dbscan needs a fitted DBSCAN, got KMeans\.$"):
        plot_dbscan(KMeans(3, n_init=1, random_state=0).fit(blobs), blobs)
    fig = plot_dbscan(DBSCAN(eps=0.5).fit(blobs), blobs)
    assert fig.axes[0].get_title() == "eps=0.50, min_samples=5"
