"""Figures of issue 20: the bisecting tree and a biclustered matrix (artists checked)."""

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import make_biclusters

import clusterlab
from clusterlab import plotting

matplotlib.use("Agg")


def test_bisecting_tree_artists():
    X = np.random.default_rng(0).normal(size=(300, 2))
    model = clusterlab.BisectingKMeans(n_clusters=5, random_state=0).fit(X)
    fig = plotting.plot_bisecting_tree(model)
    ax = fig.axes[0]
    assert len(ax.lines) == 2 * 4  # two edges per split
    leaf_texts = [t.get_text() for t in ax.texts if t.get_fontsize() != 8]
    assert sorted(leaf_texts) == ["0", "1", "2", "3", "4"]
    size_texts = [int(t.get_text()) for t in ax.texts if t.get_fontsize() == 8]
    assert max(size_texts) == 300 and len(size_texts) == 9
    # the leaves sit at height 0, ordered as the labels, root at the top
    offsets = ax.collections[0].get_offsets()
    np.testing.assert_array_equal(offsets[:, 1], 0)
    np.testing.assert_array_equal(offsets[:, 0], np.arange(5))
    assert max(line.get_ydata().max() for line in ax.lines) == 4
    assert "biggest_inertia" in ax.get_title()
    with pytest.raises(TypeError, match="BisectingKMeans"):
        plotting.plot_bisecting_tree(clusterlab.KMeans(2).fit(X))


def test_biclusters_artists():
    X, _, _ = make_biclusters((60, 40), 3, noise=1, random_state=0)
    model = clusterlab.SpectralCoclustering(3, random_state=0).fit(X)
    fig = plotting.plot_biclusters(model, X)
    first, second = fig.axes[:2]
    np.testing.assert_array_equal(first.images[0].get_array(), X)
    shown = np.asarray(second.images[0].get_array())
    rows = np.argsort(model.row_labels_, kind="stable")
    cols = np.argsort(model.column_labels_, kind="stable")
    np.testing.assert_array_equal(shown, X[np.ix_(rows, cols)])
    assert len(second.lines) == 2 + 2  # cuts between 3 row and 3 column clusters
    fig, ax = matplotlib.figure.Figure(), None
    ax = fig.add_subplot(111)
    assert plotting.plot_biclusters(model, X, ax=ax) is fig and len(fig.axes) == 1
    with pytest.raises(ValueError, match="shape"):
        plotting.plot_biclusters(model, X[:10])
