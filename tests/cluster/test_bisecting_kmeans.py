"""BisectingKMeans: oracle tests against scikit-learn, API, properties."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import BisectingKMeans as SKBisectingKMeans
from sklearn.datasets import make_blobs
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import BisectingKMeans
from clusterlab._kernels import bisect as bk


def overlapping(n=1500, d=4, k=10, seed=0, dtype=np.float64):
    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=2.0,
                      random_state=seed)
    return X.astype(dtype)


def assert_same_as_sklearn(ours, ref, X, rtol=1e-9):
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.inertia_, ref.inertia_, rtol=rtol)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-7,
                               atol=1e-9)


# two combinations in the quick tier, all eight in the slow one
_QUICK = {("random", "biggest_inertia", "lloyd"), ("k-means++", "largest_cluster", "elkan")}
_COMBOS = [pytest.param(i, s, a, marks=() if (i, s, a) in _QUICK else pytest.mark.slow)
           for i in ("random", "k-means++") for s in ("biggest_inertia", "largest_cluster")
           for a in ("lloyd", "elkan")]


@pytest.mark.parametrize("init, strategy, algorithm", _COMBOS)
def test_oracle_same_tree_as_sklearn(init, strategy, algorithm):
    X = overlapping()
    kw = dict(n_clusters=7, init=init, bisecting_strategy=strategy, algorithm=algorithm,
              random_state=3)
    ours = BisectingKMeans(**kw).fit(X)
    ref = SKBisectingKMeans(**kw).fit(X)
    assert_same_as_sklearn(ours, ref, X)
    Xnew = overlapping(n=300, seed=5) * 1.5
    np.testing.assert_array_equal(ours.predict(Xnew), ref.predict(Xnew))
    np.testing.assert_allclose(ours.transform(Xnew), ref.transform(Xnew), rtol=1e-9)
    np.testing.assert_allclose(ours.score(Xnew), ref.score(Xnew), rtol=1e-9)


def test_oracle_sample_weight_n_init_and_tol():
    X = overlapping(seed=1)
    sw = np.random.RandomState(0).uniform(0.2, 3.0, X.shape[0])
    kw = dict(n_clusters=6, n_init=3, random_state=0, tol=1e-2, max_iter=50)
    ours = BisectingKMeans(**kw).fit(X, sample_weight=sw)
    ref = SKBisectingKMeans(**kw).fit(X, sample_weight=sw)
    assert_same_as_sklearn(ours, ref, X)


def test_oracle_sparse():
    X = overlapping(n=400, d=6, seed=2)
    X[X < 0] = 0
    Xs = sp.csr_matrix(X)
    ours = BisectingKMeans(n_clusters=5, random_state=0).fit(Xs)
    ref = SKBisectingKMeans(n_clusters=5, random_state=0).fit(Xs)
    assert_same_as_sklearn(ours, ref, Xs, rtol=1e-7)
    dense = BisectingKMeans(n_clusters=5, random_state=0).fit(X)
    np.testing.assert_array_equal(dense.labels_, ours.labels_)
    np.testing.assert_array_equal(ours.predict(Xs), ours.labels_)


def test_float32_keeps_dtype_and_matches_float64():
    # clusterlab's K-Means accumulates in float64, so float32 data follow
    # the float64 tree (scikit-learn's float32 run may take another one)
    X = overlapping(n=3000, d=8, k=16)
    a = BisectingKMeans(n_clusters=12, random_state=0).fit(X)
    b = BisectingKMeans(n_clusters=12, random_state=0).fit(X.astype(np.float32))
    assert b.cluster_centers_.dtype == np.float32
    assert b.transform(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.inertia_, b.inertia_, rtol=1e-5)


def test_tree_structure_and_inertia():
    X = overlapping()
    est = BisectingKMeans(n_clusters=6, random_state=0).fit(X)
    tree = est._bisecting_tree
    leaves = tree.leaves()
    assert len(leaves) == 6 and len(tree.order) == 5
    assert [tree.label[leaf] for leaf in leaves] == list(range(6))
    # inertia_ is the sum over points of the squared distance to their centre
    d2 = ((X - est.cluster_centers_[est.labels_]) ** 2).sum(axis=1)
    np.testing.assert_allclose(est.inertia_, d2.sum(), rtol=1e-10)
    np.testing.assert_array_equal(np.bincount(est.labels_), [tree.size[i] for i in leaves])
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    np.testing.assert_array_equal(est.fit_predict(X), est.labels_)


def test_one_cluster_and_duplicates():
    X = overlapping(n=50)
    est = BisectingKMeans(n_clusters=1).fit(X)
    np.testing.assert_allclose(est.cluster_centers_[0], X.mean(axis=0))
    assert np.all(est.labels_ == 0)
    same = np.ones((20, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = BisectingKMeans(n_clusters=3, random_state=0).fit(same)
    assert est.inertia_ == 0.0


def test_errors():
    X = overlapping(n=20)
    with pytest.raises(NotFittedError):
        BisectingKMeans().predict(X)
    with pytest.raises(ValueError, match="n_samples=20 should be >= n_clusters=30"):
        BisectingKMeans(n_clusters=30).fit(X)
    with pytest.raises(ValueError, match="algorithm"):
        BisectingKMeans(algorithm="hamerly").fit(X)
    with pytest.raises(ValueError, match="bisecting_strategy"):
        BisectingKMeans(bisecting_strategy="x").fit(X)
    with pytest.raises(ValueError, match="n_init"):
        BisectingKMeans(n_init="auto").fit(X)
    with pytest.raises(ValueError, match="sample_weight"):
        BisectingKMeans(n_clusters=2).fit(X, sample_weight=np.ones(3))


def test_kernels_against_numpy():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(1000, 5))
    idx = rng.permutation(1000)[:700].astype(np.int64)
    bounds = bk.row_groups(700, rows_per_group=64)
    out = np.empty((700, 5))
    partial = np.empty((bounds.shape[0] - 1, 2, 5))
    shift = X[idx].mean(axis=0)
    bk.gather_rows_moments(X, idx, shift, bounds, out, partial)
    np.testing.assert_array_equal(out, X[idx])
    sums = partial.sum(axis=0) / 700
    np.testing.assert_allclose(sums[1] - sums[0] ** 2, X[idx].var(axis=0), rtol=1e-12)
    whole = np.empty((bounds.shape[0] - 1, 2, 5))
    bk.column_moments(out, shift, bounds, whole)
    np.testing.assert_allclose(whole, partial, rtol=1e-12)
    labels = (rng.rand(700) < 0.3).astype(np.int32)
    centers = rng.normal(size=(2, 5))
    w = rng.rand(700)
    part = np.empty((bounds.shape[0] - 1, 2))
    bk.split_inertia(out, w, labels, centers, bounds, part)
    ref = [(w * ((out - centers[s]) ** 2).sum(1))[labels == s].sum() for s in (0, 1)]
    np.testing.assert_allclose(part.sum(axis=0), ref, rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), k=st.integers(1, 6))
def test_deterministic_and_consistent(seed, k):
    X = np.random.RandomState(seed).normal(size=(60, 3))
    a = BisectingKMeans(n_clusters=k, random_state=seed).fit(X)
    b = BisectingKMeans(n_clusters=k, random_state=seed).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert len(np.unique(a.labels_)) <= k
    np.testing.assert_array_equal(a.predict(X), a.labels_)
    assert a.transform(X).shape == (60, k)
    np.testing.assert_allclose(-a.score(X), (a.transform(X).min(axis=1) ** 2).sum(),
                               rtol=1e-9)


# as scikit-learn's own BisectingKMeans: the random draws of each bisection's
# initial centres depend on the weights, so weighting is not repeating rows
_EXPECTED_FAILED = {
    "check_sample_weight_equivalence_on_dense_data":
        "sample_weight is not equivalent to removing/repeating samples",
    "check_sample_weight_equivalence_on_sparse_data":
        "sample_weight is not equivalent to removing/repeating samples",
}


@parametrize_with_checks([BisectingKMeans(n_clusters=3, random_state=0)],
                         expected_failed_checks=lambda est: _EXPECTED_FAILED)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_callable_init_sees_the_rows_centred_as_scikit_learn():
    def fixed(X, n_clusters, random_state=None):
        return np.array([[0.0, -1.0], [0.0, 1.0]])

    X, _ = make_blobs(300, centers=[[5, 4], [5, 6], [6, 5]], cluster_std=0.5, random_state=0)
    ours = BisectingKMeans(3, init=fixed, random_state=0).fit(X)
    ref = SKBisectingKMeans(3, init=fixed, random_state=0).fit(X)
    np.testing.assert_allclose(ours.cluster_centers_, ref.cluster_centers_, rtol=1e-6)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
