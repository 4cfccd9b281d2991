"""Mixture figures: they draw what the seed draws and return Figures."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from clusterlab import GaussianMixture
from clusterlab.anomaly import DensityAnomalyDetector
from clusterlab.plotting import (
    plot_anomalies,
    plot_covariance_types,
    plot_gaussian_mixture,
    plot_information_criteria,
)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = np.r_[rng.randn(150, 2), rng.randn(150, 2) * 0.5 + [4, 3], rng.randn(100, 2) - [3, 3]]
    gm = GaussianMixture(3, init_params="random_from_data", random_state=1).fit(X)
    return X, gm


def _dashed_red(ax):
    from matplotlib.colors import to_rgba

    for coll in ax.collections:
        styles = coll.get_linestyle() if hasattr(coll, "get_linestyle") else []
        colors = coll.get_edgecolor() if hasattr(coll, "get_edgecolor") else []
        if len(colors) and np.allclose(colors[0], to_rgba("r")) and any(
                s[1] is not None for s in styles):
            return True
    return False


def test_plot_gaussian_mixture_draws_contours_boundaries_centroids(data):
    X, gm = data
    fig = plot_gaussian_mixture(gm, X, resolution=80)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert _dashed_red(ax), "decision boundaries are dashed red lines"
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    assert len(ax.lines) >= 1  # the data dots
    assert any(c.get_label() == "centroids" for c in ax.collections)
    fig2 = plot_gaussian_mixture(gm, X, resolution=50, show_ylabels=False)
    assert fig2.axes[0].get_ylabel() == ""


def test_plot_gaussian_mixture_on_given_axes(data):
    X, gm = data
    from matplotlib.figure import Figure as F

    fig = F()
    ax = fig.add_subplot(121)
    assert plot_gaussian_mixture(gm, X, resolution=40, ax=ax) is fig


def test_plot_covariance_types(data):
    X, _ = data
    fig = plot_covariance_types(X, types=("tied", "spherical"), resolution=40,
                                init_params="random_from_data", random_state=0)
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == [
        'covariance_type="tied"', 'covariance_type="spherical"']
    assert set(fig.models) == {"tied", "spherical"}


def test_plot_anomalies_marks_the_detected_points(data):
    X, gm = data
    detector = DensityAnomalyDetector(gm, contamination=0.05).fit(X)
    fig = plot_anomalies(gm, X, detector, resolution=40)
    stars = [c for c in fig.axes[0].collections if c.get_label() == "anomalies"]
    assert len(stars) == 1 and len(stars[0].get_offsets()) == np.sum(detector.predict(X) == -1)


def test_plot_information_criteria_marks_the_minimum(data):
    X, _ = data
    from clusterlab.selection import sweep

    result = sweep(GaussianMixture(init_params="random_from_data", random_state=0), X,
                   range(1, 6), criteria=("bic", "aic"))
    fig = plot_information_criteria(result)
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.lines] == ["BIC", "AIC"]
    annotation = [t for t in ax.texts if t.get_text() == "Minimum"]
    assert len(annotation) == 1 and annotation[0].xy[0] == result.best("bic")


def test_bad_figure_input(data):
    X, gm = data
    with pytest.raises(ValueError, match="2"):
        plot_gaussian_mixture(gm, X[:, :1])
    rng = np.random.RandomState(0)
    X3 = rng.randn(50, 3)
    gm3 = GaussianMixture(2, init_params="random_from_data", random_state=0).fit(X3)
    with pytest.raises(ValueError, match="2 features"):
        plot_gaussian_mixture(gm3, X3)

    class NoBic:
        table = {"k": np.arange(1, 3.0), "inertia": np.ones(2)}

    with pytest.raises(ValueError, match="bic"):
        plot_information_criteria(NoBic())


def test_grid_resolution_and_one_column_data_are_refused_clearly():
    import numpy as np

    from clusterlab import GaussianMixture, plotting
    from clusterlab.anomaly import DensityAnomalyDetector

    X = np.random.RandomState(0).randn(100, 2)
    gm = GaussianMixture(2, random_state=0).fit(X)
    det = DensityAnomalyDetector(gm).fit(X)
    for resolution in (0, 1, 2.5):
        with pytest.raises(ValueError, match="resolution must be"):
            plotting.plot_anomalies(gm, X, det, resolution=resolution)
    with pytest.raises(ValueError, match="plot_data draws the first two columns"):
        plotting.plot_data(np.arange(5.0))
    with pytest.raises(ValueError, match="plot_centroids draws the first two columns"):
        plotting.plot_centroids(np.arange(3.0))


def test_figures_of_an_empty_X_say_it_has_no_rows(data):
    X, gm = data
    det = DensityAnomalyDetector(gm).fit(X)
    with pytest.raises(ValueError, match="plot_gaussian_mixture draws the rows of X, but X "
                                         "has no rows"):
        plot_gaussian_mixture(gm, X[:0], resolution=20)
    with pytest.raises(ValueError, match="plot_anomalies draws the rows of X, but X has no rows"):
        plot_anomalies(gm, X[:0], det, resolution=20)
    with pytest.raises(ValueError, match="plot_covariance_types draws the rows of X"):
        plot_covariance_types(X[:0], resolution=20)


def test_plot_anomalies_says_it_needs_a_detector(data):
    # None (or an object without predict) gave AttributeError 'predict'
    X, gm = data
    with pytest.raises(TypeError, match="plot_anomalies needs an outlier detector with predict"
                                        r" \(-1 for anomalies\) as detector, got NoneType"):
        plot_anomalies(gm, X, None, resolution=20)


def test_plot_centroids_needs_one_weight_per_centroid(data):
    # a raw IndexError came from masking the centroids with the weights
    from clusterlab import plotting

    _, gm = data
    with pytest.raises(ValueError, match=r"one weight per centroid: got weights of shape "
                                         r"\(2,\) for 3 centroids"):
        plotting.plot_centroids(gm.means_, weights=gm.weights_[:2])
    fig = plotting.plot_centroids(gm.means_, weights=[1.0, 1.0, 0.05])  # the last hidden
    assert [len(c.get_offsets()) for c in fig.axes[0].collections] == [2, 2]
