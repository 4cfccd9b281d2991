"""FeatureAgglomeration and ward_tree: oracle tests against scikit-learn, API."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.cluster import FeatureAgglomeration as SKFeatureAgglomeration
from sklearn.cluster import ward_tree as sk_ward_tree
from sklearn.feature_extraction.image import grid_to_graph
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import FeatureAgglomeration, ward_tree
from clusterlab.cluster import feature_agglomeration as fa


def factor_table(n_samples=40, n_features=300, seed=0):
    """Features driven by a few latent factors (so they form clusters)."""
    rng = np.random.RandomState(seed)
    F = rng.normal(size=(n_samples, 8))
    W = rng.normal(size=(8, n_features)) * (rng.rand(8, n_features) < 0.3)
    return F @ W + 0.3 * rng.normal(size=(n_samples, n_features))


@pytest.mark.parametrize("shape", [(300, 40), (50, 3), (250, 20)])
def test_ward_tree_unstructured_same_as_sklearn(shape):
    X = np.random.RandomState(1).normal(size=shape)
    assert fa._use_dense_ward(*shape) == (shape[0] >= 200 and shape[1] >= 16)
    ours = ward_tree(X, return_distance=True)
    ref = sk_ward_tree(X, return_distance=True)
    np.testing.assert_array_equal(ours[0], ref[0])
    assert ours[1:4] == (1, shape[0], None)
    np.testing.assert_allclose(ours[4], ref[4], rtol=1e-10)


def test_ward_tree_structured_and_partial_same_as_sklearn():
    X = np.random.RandomState(2).normal(size=(36, 3))
    conn = grid_to_graph(6, 6)
    for n_clusters in (None, 5):
        ours = ward_tree(X, connectivity=conn, n_clusters=n_clusters, return_distance=True)
        ref = sk_ward_tree(X, connectivity=conn, n_clusters=n_clusters, return_distance=True)
        np.testing.assert_array_equal(ours[0], ref[0])
        assert ours[1] == ref[1] and ours[2] == ref[2]
        np.testing.assert_array_equal(ours[3], ref[3])
        np.testing.assert_allclose(ours[4], ref[4], rtol=1e-10)
    with pytest.warns(UserWarning, match="Partial build"):
        children = ward_tree(X, n_clusters=3)[0]
    assert children.shape == (35, 2)


def test_dense_ward_refines_cancelled_distances():
    # far from the origin with near-duplicate rows: the BLAS identity alone
    # would cancel to noise; the direct sums keep scipy's tree
    rng = np.random.RandomState(3)
    base = rng.normal(size=(60, 30)) * 1e-3 + 1e4
    X = np.vstack([base, base + 1e-9 * rng.normal(size=base.shape),
                   base + 1e-6 * rng.normal(size=base.shape), rng.normal(size=(100, 30))])
    children, dist = fa._ward_dense(X)
    ref = sk_ward_tree(X, return_distance=True)
    np.testing.assert_array_equal(children, ref[0])
    np.testing.assert_allclose(dist, ref[4], rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("linkage", ["ward", "complete", "average", "single"])
def test_feature_agglomeration_same_as_sklearn(linkage):
    X = factor_table()
    kw = dict(n_clusters=7, linkage=linkage, compute_distances=True)
    ours = FeatureAgglomeration(**kw).fit(X)
    ref = SKFeatureAgglomeration(**kw).fit(X)
    np.testing.assert_array_equal(ours.children_, ref.children_)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.distances_, ref.distances_, rtol=1e-9)
    assert ours.n_features_in_ == 300 and ours.n_leaves_ == 300 and ours.n_clusters_ == 7
    Xt = ours.transform(X)
    np.testing.assert_allclose(Xt, ref.transform(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(ours.inverse_transform(Xt), ref.inverse_transform(Xt))
    np.testing.assert_array_equal(ours.inverse_transform(Xt[0]), ref.inverse_transform(Xt[0]))
    names = ours.get_feature_names_out()
    assert names[0] == "featureagglomeration0" and len(names) == 7


def test_feature_agglomeration_threshold_connectivity_pooling():
    X = factor_table(n_features=64, seed=4)
    conn = grid_to_graph(8, 8)
    for kw in (dict(n_clusters=None, distance_threshold=5.0),
               dict(n_clusters=6, connectivity=conn),
               dict(n_clusters=5, pooling_func=np.median),
               dict(n_clusters=4, metric="manhattan", linkage="average")):
        ours = FeatureAgglomeration(**kw).fit(X)
        ref = SKFeatureAgglomeration(**kw).fit(X)
        np.testing.assert_array_equal(ours.labels_, ref.labels_)
        assert ours.n_clusters_ == ref.n_clusters_
        np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-12)
    # the dense Ward path with a threshold
    X = factor_table(n_features=250, seed=5)
    ours = FeatureAgglomeration(n_clusters=None, distance_threshold=20.0).fit(X)
    ref = SKFeatureAgglomeration(n_clusters=None, distance_threshold=20.0).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_allclose(ours.distances_, ref.distances_, rtol=1e-9)


def test_feature_agglomeration_api_and_errors():
    X = factor_table(n_features=20)
    est = FeatureAgglomeration(n_clusters=3)
    assert not hasattr(est, "fit_predict")
    with pytest.raises(ValueError, match="Exactly one of n_clusters and distance_threshold"):
        FeatureAgglomeration(n_clusters=2, distance_threshold=1.0).fit(X)
    with pytest.raises(ValueError, match="more clusters than samples"):
        FeatureAgglomeration(n_clusters=30).fit(X)
    with pytest.raises(ValueError, match="more clusters than samples"):
        FeatureAgglomeration(n_clusters=300).fit(factor_table(n_features=250))
    with pytest.raises(ValueError, match="minimum of 2 is required"):
        FeatureAgglomeration(n_clusters=1).fit(X[:, :1])
    with pytest.raises(ValueError, match="pooling_func"):
        FeatureAgglomeration(pooling_func="mean").fit(X)
    est.fit(X.astype(np.float32))
    assert est.transform(X.astype(np.float32)).shape == (40, 3)
    with pytest.raises(ValueError, match="features"):
        est.transform(X[:, :5])


def test_feature_names_kept():
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(factor_table(n_features=5), columns=list("abcde"))
    est = FeatureAgglomeration(n_clusters=2).fit(X)
    assert list(est.feature_names_in_) == list("abcde") and est.n_features_in_ == 5


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 40), d=st.integers(1, 5))
def test_ward_tree_properties(seed, n, d):
    # a valid full tree, monotone distances, and permuting the samples
    # permutes the leaves without changing the merge distances
    X = np.random.RandomState(seed).normal(size=(n, d))
    children, _, n_leaves, _, dist = ward_tree(X, return_distance=True)
    assert children.shape == (n - 1, 2) and n_leaves == n
    assert sorted(children.ravel().tolist()) == list(range(2 * n - 2))
    assert np.all(np.diff(dist) >= -1e-12 * max(1.0, dist.max()))
    perm = np.random.RandomState(seed + 1).permutation(n)
    dist_perm = ward_tree(X[perm], return_distance=True)[4]
    np.testing.assert_allclose(np.sort(dist_perm), np.sort(dist), rtol=1e-9, atol=1e-12)


@parametrize_with_checks([FeatureAgglomeration(n_clusters=2)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_both_ward_paths_build_the_same_tree(monkeypatch):
    from clusterlab import _config

    X = factor_table(n_samples=30, n_features=260, seed=7)
    dense = FeatureAgglomeration(n_clusters=9, compute_distances=True).fit(X)
    monkeypatch.setattr(_config, "WARD_DENSE_MIN_POINTS", 10**9)
    assert not fa._use_dense_ward(260, 30)
    centroid = FeatureAgglomeration(n_clusters=9, compute_distances=True).fit(X)
    np.testing.assert_array_equal(dense.children_, centroid.children_)
    np.testing.assert_array_equal(dense.labels_, centroid.labels_)
    np.testing.assert_allclose(dense.distances_, centroid.distances_, rtol=1e-9)
    monkeypatch.setattr(_config, "WARD_DENSE_MIN_POINTS", 200)
    monkeypatch.setattr(_config, "WARD_DENSE_MAX_BYTES", 10)
    assert not fa._use_dense_ward(260, 30)


def test_inverse_transform_of_a_sparse_matrix_is_sparse():
    # np.asarray of a sparse matrix is a 0-d object array: indexing it raised IndexError
    import scipy.sparse as sp

    X = np.random.default_rng(0).random((20, 5))
    agg = FeatureAgglomeration(n_clusters=2).fit(X)
    reduced = agg.transform(X)
    back = agg.inverse_transform(sp.csr_matrix(reduced))
    assert sp.issparse(back) and back.shape == X.shape
    np.testing.assert_array_equal(back.toarray(), agg.inverse_transform(reduced))
