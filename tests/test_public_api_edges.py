"""Edges of the public functions around the estimators (analysis, plotting, selection,
datasets, metrics, semi-supervised) where an independent probe found a crash without a
clear message or a silently wrong result."""

import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure
from sklearn.datasets import make_moons

import clusterlab
from clusterlab import GaussianMixture, KMeans, plotting
from clusterlab.datasets import load_five_blobs, to_memmap
from clusterlab.metrics import dbcv_score
from clusterlab.report.data import DataError
from clusterlab.selection import gap_separation, knee_point


def _two_blobs():
    rng = np.random.default_rng(0)
    return np.r_[rng.normal(0, .3, (60, 2)), rng.normal(4, .3, (60, 2))]


# -- analyze(y=...) -----------------------------------------------------------

def test_analyze_takes_a_column_vector_y():
    """A (n, 1) y failed after the whole analysis ("labels_true must be 1D" or an
    IndexError); scikit-learn flattens it."""
    X = _two_blobs()
    y = np.repeat([0, 1], 60)
    flat = clusterlab.analyze(X, algorithms=("kmeans",), y=y)
    column = clusterlab.analyze(X, algorithms=("kmeans",), y=y[:, None])
    assert column.scores == flat.scores


@pytest.mark.parametrize("y,match", [(3, "one known label per row"),
                                     ({0: 1}, "one known label per row"),
                                     (np.zeros((120, 2)), "must be 1-D"),
                                     (np.zeros(7), "y has 7 entries for 120 rows")])
def test_analyze_says_what_is_wrong_with_y_before_it_runs(y, match):
    with pytest.raises(DataError, match=match):
        clusterlab.analyze(_two_blobs(), algorithms=("kmeans",), y=y)


def test_analyze_refuses_labels_given_twice_and_y_beside_a_file(tmp_path):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(_two_blobs(), columns=["a", "b"]).assign(c=np.repeat([0, 1], 60))
    with pytest.raises(DataError, match="as y or as label_column, not both"):
        clusterlab.analyze(df, label_column="c", y=np.zeros(120))
    path = tmp_path / "t.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DataError, match="name the column of known labels"):
        clusterlab.analyze(str(path), y=np.zeros(120))


# -- plotting ---------------------------------------------------------------

def test_decision_boundaries_of_a_classifier_with_named_classes():
    from sklearn.neighbors import KNeighborsClassifier

    X = load_five_blobs()
    knn = KNeighborsClassifier().fit(X, np.where(X[:, 0] > -1, "east", "west"))
    fig = plotting.plot_decision_boundaries(knn, X, resolution=50)
    assert isinstance(fig, Figure)


def test_silhouette_diagram_draws_every_negative_label_as_one_noise_knife():
    X = load_five_blobs()
    labels = KMeans(3, n_init=1, random_state=0).fit(X).labels_.copy()
    labels[:10] = -2
    labels[10:20] = -1
    fig = plotting.plot_silhouette_diagram(X, labels)
    names = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert names == ["noise", "0", "1", "2"]


@pytest.mark.parametrize("labels", [np.repeat([0.5, 1.5], 1000), np.repeat(["a", "b"], 1000)])
def test_silhouette_colours_as_a_sequence_need_integer_labels(labels):
    X = load_five_blobs()
    with pytest.raises(ValueError, match="give colors as a mapping"):
        plotting.plot_silhouette_diagram(X, labels, colors=["r", "b"])
    fig = plotting.plot_silhouette_diagram(X, labels, colors=dict(zip(np.unique(labels),
                                                                      ["r", "b"])))
    assert isinstance(fig, Figure)


@pytest.mark.parametrize("ncols", [0, -1, 1.5, True])
def test_silhouette_diagram_refuses_a_bad_ncols(ncols):
    X = load_five_blobs()
    labels = KMeans(3, n_init=1, random_state=0).fit(X).labels_
    with pytest.raises(ValueError, match="ncols"):
        plotting.plot_silhouette_diagram(X, [labels, labels], ncols=ncols)


def test_plotting_says_what_it_needs_instead_of_failing_inside():
    import scipy.sparse as sp
    from sklearn.cluster import BisectingKMeans as SkBisecting

    from clusterlab import Birch

    X = load_five_blobs()
    with pytest.raises(TypeError, match="needs a fitted clusterlab BisectingKMeans"):
        plotting.plot_bisecting_tree(SkBisecting(3, random_state=0).fit(X))
    with pytest.raises(ValueError, match="first two columns"):
        plotting.plot_birch_subclusters(Birch(n_clusters=None).fit(X[:, :1]))
    with pytest.raises(TypeError, match="dense rows"):
        plotting.plot_data(sp.csr_matrix(X))
    with pytest.raises(ValueError, match="n_steps"):
        plotting.plot_kmeans_iterations(X, 3, n_steps=True)


def test_gaussian_mixture_figure_without_masking_warnings_and_on_any_scale():
    X = load_five_blobs()
    for scale in (1.0, 1e-3, 1e3):
        Xs = X * scale
        gm = GaussianMixture(3, random_state=0).fit(Xs)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # "Log scale: values of z <= 0 have been masked"
            fig = plotting.plot_gaussian_mixture(gm, Xs, resolution=80)
        filled = fig.axes[0].collections[0]
        assert len(filled.get_paths()) > 0 and any(len(p.vertices) for p in filled.get_paths())


def test_dbscan_title_keeps_a_small_eps():
    from clusterlab import DBSCAN

    X = load_five_blobs()
    assert "eps=0.001," in plotting.plot_dbscan(DBSCAN(eps=0.001).fit(X), X).axes[0].get_title()
    assert "eps=0.20," in plotting.plot_dbscan(DBSCAN(eps=0.2).fit(X), X).axes[0].get_title()


def test_density_figures_of_duplicate_rows_without_warnings():
    from clusterlab import OPTICS

    X = np.zeros((30, 2))  # every reachability 0: "identical low and high ylims"
    model = OPTICS(min_samples=3).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plotting.plot_reachability(model)


# -- datasets, metrics, selection, semi-supervised -----------------------------

def test_to_memmap_refuses_to_overwrite_its_own_input(tmp_path):
    path = str(tmp_path / "v.mmap")
    m = to_memmap(np.eye(3), path)
    with pytest.raises(ValueError, match="overwrite its own input"):
        to_memmap(m[1:], path)
    np.testing.assert_array_equal(np.asarray(m), np.eye(3))  # untouched
    with pytest.raises(ValueError, match="scalar"):
        to_memmap(np.float64(3), str(tmp_path / "s.mmap"))


@pytest.mark.parametrize("p", [3, 1.5])
def test_dbcv_minkowski_is_the_same_on_any_scale(p):
    """|x - y|^p overflowed or underflowed: the score became 0.0 silently."""
    X, y = make_moons(200, noise=0.06, random_state=0)
    base = dbcv_score(X, y, metric="minkowski", p=p)
    assert base > 0.3
    for scale in (1e150, 1e300, 1e-200, 1e-300):
        assert dbcv_score(X * scale, y, metric="minkowski", p=p) == pytest.approx(base,
                                                                                   rel=1e-9)


def test_gap_separation_and_knee_point_refuse_what_they_cannot_read():
    with pytest.raises(ValueError, match="labels must be >= 0"):
        gap_separation(([0, 1, 2], [1, 2, 3], [1.0, 1.0, 1.0]), [0, 0, -1, -1])
    with pytest.raises(ValueError, match="integer row numbers"):
        gap_separation(([0.0, 1.0], [1.0, 2.0], [1.0, 1.0]), [0, 0, 1])
    with pytest.raises(ValueError, match="finite and >= 0"):
        gap_separation(([0, 1], [1, 2], [1.0, np.nan]), [0, 0, 1])
    assert gap_separation(([], [], []), [0, 1]) == float("inf")  # no edge: nothing to compare
    with pytest.raises(ValueError, match="sensitivity"):
        knee_point([1, 2, 3, 4], [4, 2, 1, 0.5], S=-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert knee_point([1, 2, 3, 4, 5, 6], [1e308, 4e307, 2e307, 1.5e307, 1.2e307, -1e308]) \
            == knee_point([1, 2, 3, 4, 5, 6], [1.0, 0.4, 0.2, 0.15, 0.12, -1.0])


def test_uncertainty_queries_refuses_nan_cluster_labels():
    from sklearn.linear_model import LogisticRegression

    from clusterlab.semi_supervised import uncertainty_queries

    X = _two_blobs()
    clf = LogisticRegression().fit(X, np.repeat([0, 1], 60))
    clusters = np.repeat([0.0, 1.0], 60)
    clusters[5] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        uncertainty_queries(clf, X, 4, clusters=clusters)
