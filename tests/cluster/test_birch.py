"""Birch: oracle tests against scikit-learn, streaming, the bounded global step."""

import warnings

import numpy as np
import pytest
import sklearn.cluster as skc
from hypothesis import given
from hypothesis import strategies as st
from scipy import sparse
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import Birch, KMeans
from clusterlab import _config
from clusterlab.cluster.birch import partial_fit_stream


def _blobs(n=600, d=3, seed=0, std=1.0):
    X, _ = make_blobs(n, n_features=d, centers=5, cluster_std=std, random_state=seed)
    return X


def assert_same(ours, theirs):
    np.testing.assert_array_equal(ours.subcluster_centers_, theirs.subcluster_centers_)
    np.testing.assert_array_equal(ours.subcluster_labels_, theirs.subcluster_labels_)
    if hasattr(theirs, "labels_"):
        np.testing.assert_array_equal(ours.labels_, theirs.labels_)


PARAMS = [dict(), dict(threshold=0.3), dict(threshold=0.5, branching_factor=5),
          dict(threshold=2.0, n_clusters=5), dict(threshold=0.05, branching_factor=3,
                                                   n_clusters=None)]


@pytest.mark.parametrize("params", PARAMS, ids=str)
@pytest.mark.parametrize("d", [2, 3, 10])
def test_same_subclusters_as_sklearn(params, d):
    X = _blobs(500, d, seed=d)
    assert_same(Birch(**params).fit(X), skc.Birch(**params).fit(X))


def test_tree_views_match_sklearn():
    X = _blobs(300, 2)
    ours, theirs = Birch(threshold=0.4, branching_factor=4).fit(X), \
        skc.Birch(threshold=0.4, branching_factor=4).fit(X)

    def shape(node):
        return (node.is_leaf, [(sc.n_samples_, round(sc.radius, 9),
                                None if sc.child_ is None else shape(sc.child_))
                               for sc in node.subclusters_])
    assert shape(ours.root_) == shape(theirs.root_)
    np.testing.assert_array_equal(ours.root_.centroids_, theirs.root_.centroids_)
    assert len(ours._get_leaves()) == len(theirs._get_leaves())
    assert ours.dummy_leaf_.next_leaf_.prev_leaf_ is not None


def test_partial_fit_equals_fit_and_sklearn():
    X = _blobs(400)
    ours = Birch(n_clusters=None)
    theirs = skc.Birch(n_clusters=None)
    for lo in range(0, 400, 70):
        ours.partial_fit(X[lo:lo + 70])
        theirs.partial_fit(X[lo:lo + 70])
    assert_same(ours, theirs)
    np.testing.assert_array_equal(ours.subcluster_centers_,
                                  Birch(n_clusters=None).fit(X).subcluster_centers_)
    ours.set_params(n_clusters=4)
    theirs.set_params(n_clusters=4)
    ours.partial_fit()
    theirs.partial_fit()
    np.testing.assert_array_equal(ours.subcluster_labels_, theirs.subcluster_labels_)


def test_predict_transform_same_as_sklearn():
    X = _blobs(400)
    ours, theirs = Birch(n_clusters=4).fit(X), skc.Birch(n_clusters=4).fit(X)
    Q = np.random.default_rng(0).normal(scale=5, size=(60, 3))
    np.testing.assert_array_equal(ours.predict(Q), theirs.predict(Q))
    np.testing.assert_allclose(ours.transform(Q), theirs.transform(Q), rtol=1e-10, atol=1e-10)


def test_float32_and_sparse():
    X = _blobs(300)
    ours = Birch(n_clusters=3).fit(X.astype(np.float32))
    theirs = skc.Birch(n_clusters=3).fit(X.astype(np.float32))
    assert ours.subcluster_centers_.dtype == np.float32
    assert ours.transform(X.astype(np.float32)).dtype == np.float32
    assert ours.subcluster_centers_.shape == theirs.subcluster_centers_.shape
    np.testing.assert_allclose(ours.subcluster_centers_, theirs.subcluster_centers_, atol=1e-4)
    Xs = np.where(np.abs(X) < 1, 0, X)
    a = Birch(n_clusters=3).fit(sparse.csr_matrix(Xs))
    b = Birch(n_clusters=3).fit(Xs)
    assert_same(a, b)


def test_estimator_as_global_step_and_too_few_subclusters():
    X = _blobs(300)
    ours = Birch(n_clusters=KMeans(n_clusters=3, n_init=1, random_state=0)).fit(X)
    assert set(ours.subcluster_labels_) == {0, 1, 2}
    with pytest.warns(ConvergenceWarning, match="Number of subclusters found"):
        Birch(threshold=100.0, n_clusters=5).fit(X)


def test_approximate_global_step_warns_and_is_bounded(monkeypatch):
    monkeypatch.setattr(_config, "BIRCH_EXACT_GLOBAL_MAX_SUBCLUSTERS", 50)
    X = _blobs(1000, 2, std=0.5)
    with pytest.warns(UserWarning, match="Raise the threshold"):
        est = Birch(threshold=0.1, n_clusters=5).fit(X)
    assert len(est.subcluster_centers_) > 50
    assert set(np.unique(est.subcluster_labels_)) == set(range(5))
    exact = skc.Birch(threshold=1.0, n_clusters=5).fit(X)
    from sklearn.metrics import adjusted_rand_score
    assert adjusted_rand_score(est.labels_, exact.labels_) > 0.9


def test_partial_fit_stream_sources(tmp_path):
    X = _blobs(500, 2)
    reference = Birch(n_clusters=None).fit(X)
    np.save(tmp_path / "x.npy", X)
    np.savetxt(tmp_path / "x.csv", X, delimiter=",", header="a,b", comments="")
    for source in (X, tmp_path / "x.npy", str(tmp_path / "x.csv"),
                   (X[lo:lo + 77] for lo in range(0, 500, 77)),
                   np.load(tmp_path / "x.npy", mmap_mode="r")):
        est = partial_fit_stream(Birch(n_clusters=3), source, chunk_size=64)
        np.testing.assert_allclose(est.subcluster_centers_, reference.subcluster_centers_,
                                   rtol=1e-12)
        assert est.n_clusters == 3 and est.subcluster_labels_.max() == 2
    with pytest.raises(ValueError, match="npy and .csv"):
        partial_fit_stream(Birch(), tmp_path / "x.txt")


@given(st.integers(0, 10_000))
def test_every_sample_counted_and_radius_bounded(seed):
    X = _blobs(150, 2, seed=seed % 11, std=2.0)
    est = Birch(threshold=0.7, branching_factor=4, n_clusters=None).fit(X)
    assert sum(sc.n_samples_ for sc in est.root_.subclusters_) == len(X)
    for leaf in est._get_leaves():
        for sc in leaf.subclusters_:
            assert sc.radius <= 0.7 + 1e-9
    again = Birch(threshold=0.7, branching_factor=4, n_clusters=None).fit(X)
    np.testing.assert_array_equal(est.subcluster_centers_, again.subcluster_centers_)


@pytest.mark.slow
def test_default_parameters_on_1e5_points_complete():
    X, _ = make_blobs(100_000, n_features=10, centers=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        est = Birch(n_clusters=10).fit(X)
    assert len(np.unique(est.labels_)) == 10


@parametrize_with_checks([Birch(), Birch(n_clusters=None, threshold=0.2)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_grid_nearest_search_same_labels_as_sklearn(monkeypatch):
    # large label searches use a grid over the centres seeded by a tree descent
    monkeypatch.setattr(_config, "BIRCH_GRID_SEARCH_MIN_PAIRS", 0)
    X = _blobs(800, 5, std=1.5)
    ours = Birch(threshold=0.6, n_clusters=4).fit(X)
    theirs = skc.Birch(threshold=0.6, n_clusters=4).fit(X)
    assert_same(ours, theirs)
    Q = np.random.default_rng(1).normal(scale=6, size=(200, 5))
    np.testing.assert_array_equal(ours.predict(Q), theirs.predict(Q))


def test_a_tree_parameter_changed_between_partial_fits_is_refused():
    X = np.random.default_rng(0).uniform(0, 10, (300, 2))
    online = Birch(threshold=2.0, branching_factor=5, n_clusters=None)
    online.partial_fit(X[:3])
    online.set_params(threshold=0.2)
    with pytest.raises(ValueError, match="threshold or branching_factor changed"):
        online.partial_fit(X[3:])
    online.fit(X)  # fit builds a new tree with the new value
    assert online._tree_params == (0.2, 5)
    model = Birch(n_clusters=3).fit(X)
    assert model.transform(X[:3].astype(np.float32)).dtype == np.float64


def test_global_step_before_a_fit_and_a_huge_threshold():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Birch().partial_fit()
    X = np.random.RandomState(0).randn(60, 2)
    # threshold ** 2 raised OverflowError; such a threshold holds every row in one subcluster
    model = Birch(threshold=1e300, n_clusters=None).fit(X)
    assert model.subcluster_centers_.shape == (1, 2)
    np.testing.assert_allclose(model.subcluster_centers_[0], X.mean(axis=0))
