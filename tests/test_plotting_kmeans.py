"""The K-Means and choosing-k figures: rendered to PNG, checked for content and text."""

import io

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.cluster import DBSCAN as SkDBSCAN
from sklearn.cluster import KMeans as SkKMeans
from sklearn.exceptions import NotFittedError

import clusterlab
from clusterlab import plotting
from clusterlab.selection import sweep

matplotlib.use("Agg")
RES = 60  # grid resolution in tests: the drawing logic, not the pixels, is under test


def render(fig):
    """PNG bytes -> RGBA array; asserts the image is not blank."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=40)
    buf.seek(0)
    img = plt.imread(buf)
    assert img.ndim == 3 and img.shape[0] > 50 and img.shape[1] > 50
    rgb = img[..., :3]
    assert rgb.std() > 0.05, "the figure is blank"
    # more than a few colours: data, regions, lines
    assert np.unique((rgb * 255).astype(np.uint8).reshape(-1, 3), axis=0).shape[0] > 10
    return img


def texts(fig):
    out = []
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
    return out


@pytest.fixture(scope="module")
def X(five_blobs):
    return five_blobs[::4]


@pytest.fixture(scope="module")
def kmeans5(X):
    good_init = np.array([[-3, 3], [-3, 2], [-3, 1], [-1, 2], [0, 2]], dtype=float)
    return clusterlab.KMeans(n_clusters=5, init=good_init, n_init=1).fit(X)


@pytest.fixture(scope="module")
def blob_sweep(X):
    return sweep(clusterlab.KMeans(n_init=3, random_state=0), X, range(1, 9))


@pytest.fixture(autouse=True)
def no_pyplot_figures_leak():
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before, "a figure function went through pyplot"


def test_decision_boundaries(kmeans5, X):
    fig = plotting.plot_decision_boundaries(kmeans5, X, resolution=RES)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_xlabel() == "$x_1$" and ax.get_ylabel() == "$x_2$"
    assert ax.xaxis._major_tick_kw.get("gridOn", False)
    # filled regions (Pastel2) plus black boundaries
    filled = [c for c in ax.collections if hasattr(c, "get_cmap") and c.get_cmap() is not None]
    assert any(c.get_cmap().name == "Pastel2" for c in filled)
    # centroids: circles and crosses at the cluster centres
    offsets = [c.get_offsets() for c in ax.collections if len(getattr(c, "get_offsets")()) == 5]
    assert any(np.allclose(np.asarray(o), kmeans5.cluster_centers_) for o in offsets)
    render(fig)


def test_decision_boundaries_options_and_given_axes(kmeans5, X):
    fig = Figure()
    ax = fig.add_subplot(111)
    out = plotting.plot_decision_boundaries(kmeans5, X, resolution=RES, show_centroids=False,
                                            show_xlabels=False, show_ylabels=False, ax=ax)
    assert out is fig
    assert ax.get_xlabel() == "" and ax.get_ylabel() == ""
    assert not any(len(c.get_offsets()) == 5 for c in ax.collections)
    render(fig)


def test_decision_boundaries_bad_inputs(kmeans5, X):
    with pytest.raises(NotFittedError):
        plotting.plot_decision_boundaries(SkKMeans(3), X, resolution=RES)
    with pytest.raises(ValueError, match="first two columns"):
        plotting.plot_decision_boundaries(kmeans5, X[:, 0], resolution=RES)
    km3 = SkKMeans(2, n_init=1, random_state=0).fit(np.c_[X, X[:, :1]])
    with pytest.raises(ValueError, match="fitted on 3 features"):
        plotting.plot_decision_boundaries(km3, X, resolution=RES)
    with pytest.raises(TypeError, match="predict"):
        plotting.plot_decision_boundaries(SkDBSCAN().fit(X), X, resolution=RES)
    with pytest.raises(ValueError, match="resolution"):
        plotting.plot_decision_boundaries(kmeans5, X, resolution=1)
    # the grid's predictions skip the finiteness check: a NaN in X must stop it first
    Xnan = X.copy()
    Xnan[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or infinity"):
        plotting.plot_decision_boundaries(kmeans5, Xnan, resolution=RES)
    Xinf = X.copy()
    Xinf[0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or infinity"):
        plotting.plot_gaussian_mixture(clusterlab.GaussianMixture(2, random_state=0).fit(X),
                                       Xinf, resolution=RES)


def test_figures_of_an_empty_X_say_it_has_no_rows(kmeans5, X):
    # numpy's "zero-size array to reduction operation minimum" came from grid_for
    for draw in (lambda E: plotting.plot_decision_boundaries(kmeans5, E, resolution=RES),
                 lambda E: plotting.plot_clusterer_comparison(kmeans5, kmeans5, E,
                                                              resolution=RES),
                 lambda E: plotting.plot_kmeans_iterations(E, 3, resolution=RES)):
        with pytest.raises(ValueError, match=r"X has no rows \(shape \(0, 2\)\)"):
            draw(X[:0])


def test_kmeans_iterations(X):
    fig = plotting.plot_kmeans_iterations(X, 5, n_steps=3, random_state=5, resolution=RES)
    assert len(fig.axes) == 6
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "Update the centroids (initially randomly)"
    assert titles[1] == "Label the instances"
    # x labels on the bottom row only, y labels on the left column only
    assert [ax.get_xlabel() for ax in fig.axes] == ["", "", "", "", "$x_1$", "$x_1$"]
    assert [ax.get_ylabel() for ax in fig.axes] == ["$x_2$", "", "$x_2$", "", "$x_2$", ""]
    # the left panel of row i shows the centroids after i iterations, moving between rows
    centres = []
    for ax in fig.axes[0::2]:
        five = [np.asarray(c.get_offsets()) for c in ax.collections if len(c.get_offsets()) == 5]
        centres.append(five[0])
    assert not np.allclose(centres[0], centres[1])
    first = clusterlab.KMeans(5, init="random", n_init=1, max_iter=1, random_state=5).fit(X)
    np.testing.assert_allclose(np.sort(centres[0], axis=0),
                               np.sort(first.cluster_centers_, axis=0))
    render(fig)
    with pytest.raises(ValueError, match="n_steps"):
        plotting.plot_kmeans_iterations(X, 5, n_steps=0)


def test_kmeans_iterations_with_sklearn_estimator(X):
    fig = plotting.plot_kmeans_iterations(X, 3, n_steps=2, resolution=RES, estimator=SkKMeans)
    assert len(fig.axes) == 4
    render(fig)


def test_clusterer_comparison(X):
    m1 = clusterlab.KMeans(5, init="random", n_init=1, random_state=2)
    m2 = SkKMeans(5, init="random", n_init=1, random_state=9)
    fig = plotting.plot_clusterer_comparison(
        m1, m2, X, titles=("Solution 1", "Solution 2 (with a different random init)"),
        resolution=RES)
    assert [ax.get_title() for ax in fig.axes] == [
        "Solution 1", "Solution 2 (with a different random init)"]
    assert fig.axes[0].get_ylabel() == "$x_2$" and fig.axes[1].get_ylabel() == ""
    assert hasattr(m1, "cluster_centers_") and hasattr(m2, "cluster_centers_")  # fitted
    render(fig)
    with pytest.raises(ValueError, match="pair of strings"):
        plotting.plot_clusterer_comparison(m1, m2, X, titles="one", resolution=RES)


def test_inertia_curve(blob_sweep):
    fig = plotting.plot_inertia_curve(blob_sweep)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "$k$" and ax.get_ylabel() == "Inertia"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "inertia"
    assert f"$k={blob_sweep.elbow}$" in legend[1] and "Kneedle" in legend[1]
    assert "Elbow" in texts(fig)
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata(), blob_sweep.table["inertia"])
    render(fig)


def test_inertia_curve_needs_inertia(elongated_blobs):
    from sklearn.mixture import GaussianMixture

    r = sweep(GaussianMixture(random_state=0), elongated_blobs[0][::5], [1, 2, 3], ["bic"])
    with pytest.raises(ValueError, match="no 'inertia' column"):
        plotting.plot_inertia_curve(r)


def test_silhouette_curve(blob_sweep):
    fig = plotting.plot_silhouette_curve(blob_sweep)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "$k$" and ax.get_ylabel() == "Silhouette score"
    assert f"best $k={blob_sweep.best('silhouette')}$" in texts(fig)
    # k=1 (NaN) is not drawn
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), np.arange(2, 9))
    render(fig)


def test_silhouette_diagram_several_k(X, blob_sweep):
    fits = [blob_sweep.models[k - 1].labels_ for k in (3, 4, 5, 6)]
    fig = plotting.plot_silhouette_diagram(X, fits)
    assert [ax.get_title() for ax in fig.axes] == ["$k=3$", "$k=4$", "$k=5$", "$k=6$"]
    assert [ax.get_ylabel() for ax in fig.axes] == ["Cluster", "", "Cluster", ""]
    assert [ax.get_xlabel() for ax in fig.axes] == ["", "", "Silhouette Coefficient",
                                                    "Silhouette Coefficient"]
    for ax, labels in zip(fig.axes, fits):
        # one knife per cluster, the dashed red mean line at the silhouette score
        assert len(ax.collections) == np.unique(labels).size
        mean_line = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        assert len(mean_line) == 1 and mean_line[0].get_color() == "red"
        score = clusterlab.silhouette_score(X, labels)
        assert mean_line[0].get_xdata()[0] == pytest.approx(score)
        assert ax.get_legend().get_texts()[0].get_text() == f"mean = {score:.3f}"
        assert [t.get_text() for t in ax.get_yticklabels()] == [
            str(c) for c in np.unique(labels)]
    render(fig)


def test_silhouette_diagram_single_and_bad_inputs(X, kmeans5):
    fig = Figure()
    ax = fig.add_subplot(111)
    out = plotting.plot_silhouette_diagram(X, kmeans5.labels_, titles="five", ax=ax)
    assert out is fig and ax.get_title() == "five"
    assert ax.get_xlabel() == "Silhouette Coefficient" and ax.get_ylabel() == "Cluster"
    render(fig)
    with pytest.raises(ValueError, match="single labelling"):
        plotting.plot_silhouette_diagram(X, [kmeans5.labels_, kmeans5.labels_], ax=ax)
    with pytest.raises(ValueError, match="entries but X has"):
        plotting.plot_silhouette_diagram(X, kmeans5.labels_[:10])
    with pytest.raises(ValueError, match="titles"):
        plotting.plot_silhouette_diagram(X, [kmeans5.labels_], titles=["a", "b"])
    with pytest.raises(ValueError, match="Number of labels is 1"):
        plotting.plot_silhouette_diagram(X, np.zeros(len(X), int))


def test_sweep_plot_other_criteria(blob_sweep):
    fig = blob_sweep.plot("davies_bouldin")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Davies-Bouldin score"
    assert f"best $k={blob_sweep.best('davies_bouldin')}$" in texts(fig)
    render(fig)


def test_silhouette_diagram_names_at_most_twenty_clusters():
    # 105 cluster names ran together into a black smear on the axis
    from clusterlab.plotting import plot_silhouette_diagram

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1500, 2))
    many = plot_silhouette_diagram(X, rng.integers(0, 105, 1500))
    assert 10 <= len(many.axes[0].get_yticks()) <= 20
    few = plot_silhouette_diagram(X, rng.integers(0, 5, 1500))
    assert [t.get_text() for t in few.axes[0].get_yticklabels()] == ["0", "1", "2", "3", "4"]


def test_silhouette_diagram_colors_name_a_missing_cluster(X, kmeans5):
    # colors[label] ran off the end of a short list: "list index out of range"
    with pytest.raises(ValueError, match=r"colors has 1 colour\(s\) but the cluster labels "
                                         r"go up to 4"):
        plotting.plot_silhouette_diagram(X, kmeans5.labels_, colors=["r"])
    with pytest.raises(ValueError, match=r"no colour for cluster label\(s\) \[3, 4\]"):
        plotting.plot_silhouette_diagram(X, kmeans5.labels_, colors={0: "r", 1: "g", 2: "b"})
    with pytest.raises(ValueError, match="labels must be one array"):
        plotting.plot_silhouette_diagram(X, None)
    five = ["r", "g", "b", "c", "m"]
    fig = plotting.plot_silhouette_diagram(X, kmeans5.labels_, colors=five)
    assert [matplotlib.colors.to_hex(c.get_facecolor()[0]) for c in fig.axes[0].collections] \
        == [matplotlib.colors.to_hex(c) for c in five]


def test_silhouette_diagram_noise_is_a_grey_knife_not_a_cluster(X, kmeans5):
    # -1 was counted in the title's k and took the last colour of a colors list
    labels = kmeans5.labels_.copy()
    labels[::7] = -1
    colors = ["r", "g", "b", "c", "m"]
    fig = plotting.plot_silhouette_diagram(X, [kmeans5.labels_, labels], colors=colors)
    plain, noisy = fig.axes
    assert plain.get_title() == noisy.get_title() == "$k=5$"
    assert [t.get_text() for t in noisy.get_yticklabels()] == ["noise", "0", "1", "2", "3", "4"]
    faces = [matplotlib.colors.to_hex(c.get_facecolor()[0]) for c in noisy.collections]
    assert faces == [matplotlib.colors.to_hex("0.6")] + [matplotlib.colors.to_hex(c)
                                                         for c in colors]
    # the noise knife holds the noise rows; the mean line is still the score as given
    ys = noisy.collections[0].get_paths()[0].vertices[:, 1]
    assert ys.max() - ys.min() == np.count_nonzero(labels == -1) - 1  # one row per sample
    mean_line = [ln for ln in noisy.get_lines() if ln.get_linestyle() == "--"][0]
    assert mean_line.get_xdata()[0] == pytest.approx(clusterlab.silhouette_score(X, labels))
    # the default ramp spreads over the 5 clusters, not over 6 groups
    ramp = plotting.plot_silhouette_diagram(X, labels).axes[0].collections
    ref = plotting.plot_silhouette_diagram(X, kmeans5.labels_).axes[0].collections
    np.testing.assert_allclose([c.get_facecolor()[0] for c in ramp[1:]],
                               [c.get_facecolor()[0] for c in ref])
    render(fig)
