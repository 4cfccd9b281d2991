"""Figures of MeanShift, AffinityPropagation and Birch: the artists drawn."""

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.patches import Circle
from sklearn.datasets import make_blobs

from clusterlab import AffinityPropagation, Birch, KMeans, MeanShift
from clusterlab.plotting import plot_affinity_exemplars, plot_birch_subclusters, plot_mean_shift


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(150, centers=3, cluster_std=0.6, random_state=0)
    return X


def test_plot_mean_shift(blobs):
    model = MeanShift(bandwidth=1.5).fit(blobs)
    fig = plot_mean_shift(model, blobs)
    ax = fig.axes[0]
    points, modes = ax.collections
    assert len(points.get_offsets()) == len(blobs)
    np.testing.assert_allclose(modes.get_offsets(), model.cluster_centers_[:, :2])
    assert ax.get_title() == f"mean shift: {len(model.cluster_centers_)} modes"
    with pytest.raises(ValueError, match="rows"):
        plot_mean_shift(model, blobs[:10])


def test_plot_affinity_exemplars(blobs):
    model = AffinityPropagation(random_state=0).fit(blobs)
    fig2 = Figure()
    ax = fig2.add_subplot(111)
    assert plot_affinity_exemplars(model, blobs, ax=ax) is fig2
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines) == 1
    k = len(model.cluster_centers_indices_)
    segments = lines[0].get_segments()
    assert len(segments) == len(blobs) - k
    # every segment ends at its point's exemplar
    ends = np.array([s[1] for s in segments])
    assert set(map(tuple, ends)) <= set(map(tuple, blobs[model.cluster_centers_indices_]))
    exemplars = ax.collections[-1]
    assert len(exemplars.get_offsets()) == k


def test_plot_birch_subclusters(blobs):
    model = Birch(threshold=0.6, n_clusters=3).fit(blobs)
    fig = plot_birch_subclusters(model, blobs)
    ax = fig.axes[0]
    circles = [p for p in ax.patches if isinstance(p, Circle)]
    assert len(circles) == len(model.subcluster_centers_)
    assert max(c.get_radius() for c in circles) <= 0.6 + 1e-9
    np.testing.assert_allclose(sorted(c.center for c in circles),
                               sorted(map(tuple, model.subcluster_centers_[:, :2])))
    assert "threshold=0.6" in ax.get_title()


def test_figures_say_they_need_a_fitted_model(blobs):
    # an AttributeError 'labels_' / 'cluster_centers_indices_' came from the drawing
    with pytest.raises(TypeError, match=r"plot_mean_shift needs a fitted MeanShift, got "
                                        r"MeanShift \(not fitted\?\)"):
        plot_mean_shift(MeanShift(), blobs)
    with pytest.raises(TypeError, match=r"plot_affinity_exemplars needs a fitted "
                                        r"AffinityPropagation, got AffinityPropagation "
                                        r"\(not fitted\?\)"):
        plot_affinity_exemplars(AffinityPropagation(), blobs)
    with pytest.raises(TypeError, match=r"needs a fitted AffinityPropagation, got KMeans\.$"):
        plot_affinity_exemplars(KMeans(3, n_init=1, random_state=0).fit(blobs), blobs)
    with pytest.raises(TypeError, match=r"plot_mean_shift needs a fitted MeanShift, got "
                                        r"ndarray\.$"):
        plot_mean_shift(blobs, blobs)
