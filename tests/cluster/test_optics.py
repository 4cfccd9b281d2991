"""OPTICS: the same ordering, reachability and clusters as scikit-learn."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.cluster as skc
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.datasets import make_blobs
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import adjusted_rand_score, pairwise_distances
from sklearn.neighbors import kneighbors_graph
from sklearn.utils.estimator_checks import parametrize_with_checks

import clusterlab
from clusterlab import OPTICS, cluster_optics_dbscan, cluster_optics_xi, compute_optics_graph
from clusterlab._config import OPTICS_PARALLEL_MIN
from clusterlab.cluster.optics import _kd_blocks


@pytest.fixture(scope="module")
def blobs():
    X, _ = make_blobs(n_samples=400, centers=[[0, 0], [4, 4], [-4, 3], [3, -3]],
                      cluster_std=[0.4, 1.0, 0.6, 1.5], random_state=0)
    return X


def assert_same_as_sklearn(X, **params):
    ours = OPTICS(**params).fit(X)
    theirs = skc.OPTICS(**params).fit(X)
    np.testing.assert_array_equal(ours.ordering_, theirs.ordering_)
    np.testing.assert_allclose(ours.reachability_, theirs.reachability_, rtol=1e-12)
    np.testing.assert_allclose(ours.core_distances_, theirs.core_distances_, rtol=1e-12)
    np.testing.assert_array_equal(ours.predecessor_, theirs.predecessor_)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    if params.get("cluster_method", "xi") == "xi" and len(theirs.cluster_hierarchy_):
        np.testing.assert_array_equal(ours.cluster_hierarchy_, theirs.cluster_hierarchy_)
    for name in ("ordering_", "predecessor_", "labels_"):
        assert getattr(ours, name).dtype == getattr(theirs, name).dtype
    return ours, theirs


@pytest.mark.parametrize("params", [
    {},
    {"min_samples": 10, "xi": 0.1},
    {"min_samples": 0.03, "min_cluster_size": 0.1},
    {"min_samples": 7, "max_eps": 1.0},
    {"min_samples": 5, "max_eps": 0.3},
    {"xi": 0.02, "predecessor_correction": False},
    {"cluster_method": "dbscan", "eps": 0.5},
    {"cluster_method": "dbscan", "max_eps": 2.0, "eps": 1.2, "min_samples": 12},
    {"cluster_method": "dbscan", "max_eps": 0.8},
])
def test_blobs_same_as_sklearn(blobs, params):
    ours, _ = assert_same_as_sklearn(blobs, **params)
    assert len(set(ours.labels_) - {-1}) >= 2


@pytest.mark.parametrize("metric, p", [("minkowski", 1), ("minkowski", 3), ("manhattan", 2),
                                       ("chebyshev", 2), ("l1", 2), ("minkowski", 1.5)])
def test_kernel_metrics_same_as_sklearn(blobs, metric, p):
    assert_same_as_sklearn(blobs[::2], metric=metric, p=p, min_samples=6)


def test_euclidean_is_exact_minkowski(blobs):
    """scikit-learn computes metric='euclidean' reachabilities by the expansion
    |x|^2 - 2 x.y + |y|^2 (relative errors near 1e-8 for close points), which
    reorders near-ties; clusterlab computes the exact distance, as scikit-learn
    does for the default 'minkowski' (p=2)."""
    X = blobs[::2]
    ours = OPTICS(metric="euclidean", min_samples=6).fit(X)
    exact = skc.OPTICS(metric="minkowski", min_samples=6).fit(X)
    np.testing.assert_array_equal(ours.ordering_, exact.ordering_)
    np.testing.assert_array_equal(ours.labels_, exact.labels_)
    approx = skc.OPTICS(metric="euclidean", min_samples=6).fit(X)
    np.testing.assert_allclose(ours.core_distances_, approx.core_distances_, rtol=1e-12)
    assert adjusted_rand_score(ours.labels_, approx.labels_) > 0.95


@pytest.mark.parametrize("metric", ["cosine", "canberra", "braycurtis"])
def test_other_metrics_same_as_sklearn(blobs, metric):
    assert_same_as_sklearn(blobs[::3] + 10.0, metric=metric, min_samples=5)


def test_callable_metric_and_metric_params_same_as_sklearn(blobs):
    X = blobs[::4]
    assert_same_as_sklearn(X, metric=lambda a, b: np.abs(a - b).sum(), min_samples=4)
    assert_same_as_sklearn(X, metric="minkowski", metric_params={"p": 3}, min_samples=4)
    assert_same_as_sklearn(X, metric="minkowski", metric_params={"w": np.array([1.0, 3.0])},
                           min_samples=4)


def test_high_dimensional_same_as_sklearn():
    """Above 15 features scikit-learn's 'auto' neighbour search is brute force
    with the |x|^2 - 2 x.y + |y|^2 expansion (core distances off by ~1e-8);
    with its exact tree search the results are the same."""
    X, _ = make_blobs(n_samples=300, n_features=20, centers=5, random_state=3)
    ours = OPTICS(min_samples=8).fit(X)
    theirs = skc.OPTICS(min_samples=8, algorithm="kd_tree").fit(X)
    np.testing.assert_array_equal(ours.ordering_, theirs.ordering_)
    np.testing.assert_allclose(ours.reachability_, theirs.reachability_, rtol=1e-12)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)


def test_precomputed_dense_and_sparse_same_as_sklearn(blobs):
    X = blobs[::2]
    assert_same_as_sklearn(pairwise_distances(X), metric="precomputed", min_samples=6)
    G = kneighbors_graph(X, n_neighbors=15, mode="distance")
    before = G.copy()
    assert_same_as_sklearn(G, metric="precomputed", min_samples=6)
    assert (G != before).nnz == 0 and G.nnz == before.nnz  # input untouched


def test_sparse_features_same_as_sklearn(blobs):
    assert_same_as_sklearn(sp.csr_matrix(blobs[::2]), metric="euclidean", min_samples=6)


def test_float32_and_int_input(blobs):
    ours32 = OPTICS(min_samples=6).fit(blobs.astype(np.float32))
    theirs32 = skc.OPTICS(min_samples=6).fit(blobs.astype(np.float32))
    np.testing.assert_array_equal(ours32.ordering_, theirs32.ordering_)
    assert ours32.reachability_.dtype == np.float64
    Xi = np.round(blobs * 3).astype(np.int64)
    assert_same_as_sklearn(Xi, min_samples=6)


def test_duplicates_and_ties_same_as_sklearn():
    rng = np.random.default_rng(1)
    X = rng.integers(0, 4, size=(120, 2)).astype(float)  # many exact ties and duplicates
    for ms in (2, 3, 8):
        assert_same_as_sklearn(X, min_samples=ms)
        assert_same_as_sklearn(X, min_samples=ms, metric="manhattan")
        assert_same_as_sklearn(X, min_samples=ms, max_eps=1.0)


@settings(max_examples=40, deadline=None)
@given(arrays(np.int8, st.tuples(st.integers(2, 40), st.integers(1, 3)),
              elements=st.integers(-5, 5)),
       st.integers(2, 6), st.sampled_from([np.inf, 1.0, 2.5]),
       st.sampled_from(["minkowski", "manhattan", "chebyshev"]))
def test_property_same_as_sklearn_on_integer_data(Xi, min_samples, max_eps, metric):
    """Small integers: exact distances, many ties, duplicates, all-inf plots."""
    X = Xi.astype(float)
    min_samples = min(min_samples, len(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert_same_as_sklearn(X, min_samples=min_samples, max_eps=max_eps, metric=metric)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_property_core_distances_follow_permutation(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(60, 2))
    perm = rng.permutation(len(X))
    a = OPTICS(min_samples=4).fit(X)
    b = OPTICS(min_samples=4).fit(X[perm])
    np.testing.assert_array_equal(b.core_distances_, a.core_distances_[perm])
    # with max_eps=inf the first core point reaches every point: one seed only,
    # the first of the order (sample 0 of each input)
    for model in (a, b):
        assert np.isinf(model.reachability_).sum() == 1
        assert model.ordering_[0] == 0 and np.isinf(model.reachability_[0])
        assert set(model.ordering_) == set(range(len(X)))


def test_thread_count_does_not_change_result(parallel_kernels):
    X, _ = make_blobs(n_samples=OPTICS_PARALLEL_MIN + 2500, centers=6, random_state=2)
    one = OPTICS(min_samples=5, n_jobs=1).fit(X)
    two = OPTICS(min_samples=5, n_jobs=2).fit(X)
    np.testing.assert_array_equal(one.ordering_, two.ordering_)
    np.testing.assert_array_equal(one.reachability_, two.reachability_)
    np.testing.assert_array_equal(one.predecessor_, two.predecessor_)
    np.testing.assert_array_equal(one.labels_, two.labels_)


def test_kd_blocks_partition_the_rows(blobs):
    perm, start = _kd_blocks(blobs, 16)
    np.testing.assert_array_equal(np.sort(perm), np.arange(len(blobs)))
    assert start[0] == 0 and start[-1] == len(blobs)
    assert np.all(np.diff(start) >= 1) and np.all(np.diff(start) <= 16)


# a finite max_eps in the full tier only (scikit-learn's OPTICS takes most of the time)
@pytest.mark.parametrize("max_eps", [np.inf, pytest.param(0.5, marks=pytest.mark.slow)])
def test_block_pruning_exact_on_clustered_and_uniform_data(max_eps):
    rng = np.random.default_rng(5)
    X = np.r_[rng.normal(0, 0.2, (400, 2)), rng.uniform(-3, 3, (400, 2)),
              rng.normal(2, 0.05, (200, 2))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        assert_same_as_sklearn(X, min_samples=4, max_eps=max_eps)


@pytest.mark.slow
def test_parallel_steps_same_as_sklearn(parallel_kernels):
    X, _ = make_blobs(n_samples=OPTICS_PARALLEL_MIN + 2500, centers=6, random_state=2)
    assert_same_as_sklearn(X, min_samples=5)


def test_features_path_never_builds_a_distance_matrix(blobs, monkeypatch):
    import clusterlab.cluster.optics as mod

    def forbidden(*args, **kwargs):
        raise AssertionError("pairwise distances computed")

    monkeypatch.setattr(mod, "pairwise_distances", forbidden)
    monkeypatch.setattr(mod, "NearestNeighbors", forbidden)
    OPTICS(min_samples=5).fit(blobs)
    OPTICS(min_samples=5, max_eps=1.0, metric="manhattan").fit(blobs)


def test_functions_same_as_sklearn(blobs):
    args = dict(min_samples=5, max_eps=np.inf, metric="minkowski", p=2, metric_params=None,
                algorithm="auto", leaf_size=30, n_jobs=None)
    ours = compute_optics_graph(blobs, **args)
    theirs = skc.compute_optics_graph(blobs, **args)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    ordering, core, reach, pred = theirs
    for eps in (0.3, 0.7, 2.0):
        np.testing.assert_array_equal(
            cluster_optics_dbscan(reachability=reach, core_distances=core, ordering=ordering,
                                  eps=eps),
            skc.cluster_optics_dbscan(reachability=reach, core_distances=core,
                                      ordering=ordering, eps=eps))
    for xi, mcs, corr in [(0.05, None, True), (0.2, 0.1, False), (0.01, 3, True)]:
        kw = dict(reachability=reach, predecessor=pred, ordering=ordering, min_samples=5,
                  min_cluster_size=mcs, xi=xi, predecessor_correction=corr)
        la, ca = cluster_optics_xi(**kw)
        lb, cb = skc.cluster_optics_xi(**kw)
        np.testing.assert_array_equal(la, lb)
        np.testing.assert_array_equal(ca, cb)
        assert ca.shape[1] == 2 and len(ca) >= 2


def test_no_cluster_gives_empty_hierarchy_with_two_columns():
    X = np.arange(10, dtype=float).reshape(-1, 1)
    with pytest.warns(UserWarning, match="All reachability"):
        model = OPTICS(min_samples=2, max_eps=0.5).fit(X)  # nothing reachable
    assert model.cluster_hierarchy_.shape == (0, 2)
    np.testing.assert_array_equal(model.labels_, -1)
    with pytest.warns(UserWarning, match="All reachability"):
        theirs = skc.OPTICS(min_samples=2, max_eps=0.5).fit(X)
    assert theirs.cluster_hierarchy_.shape == (0,)  # scikit-learn's shape: documented


def test_warnings_and_errors(blobs):
    with pytest.warns(UserWarning, match="All reachability values are inf"):
        OPTICS(max_eps=1e-4).fit(blobs)
    with pytest.raises(ValueError, match="Specify an epsilon smaller than 0.5. Got 0.7"):
        OPTICS(max_eps=0.5, cluster_method="dbscan", eps=0.7).fit(blobs)
    with pytest.raises(ValueError, match="min_samples must be no greater than"):
        OPTICS(min_samples=500).fit(blobs)
    with pytest.raises(ValueError, match="min_cluster_size must be no greater than"):
        OPTICS(min_cluster_size=500).fit(blobs)
    with pytest.raises(ValueError, match="min_samples"):
        OPTICS(min_samples=1).fit(blobs)
    with pytest.raises(ValueError, match="metric"):
        OPTICS(metric="no-such-metric").fit(blobs)
    with pytest.raises(ValueError, match="p"):
        OPTICS(p=0.5).fit(blobs)


@pytest.mark.parametrize("metric", ["cosine", "correlation"])
def test_scale_free_metrics_on_huge_and_tiny_rows(metric):
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(10, 3), rng.randn(10, 3) + 6, rng.randn(10, 3) + [0, 8, 1]])
    # exact power-of-two scalings, per row too: cosine and correlation do not change
    scales = [2.0 ** 700, 2.0 ** -700, np.ldexp(1.0, rng.randint(-900, 900, (30, 1)))]
    ref = OPTICS(min_samples=3, metric=metric).fit(X)
    assert ref.labels_.max() >= 1
    for s in scales:
        model = OPTICS(min_samples=3, metric=metric).fit(X * s)
        np.testing.assert_array_equal(model.ordering_, ref.ordering_)
        np.testing.assert_array_equal(model.reachability_, ref.reachability_)
        np.testing.assert_array_equal(model.labels_, ref.labels_)


def test_boolean_metric_on_a_list_of_bools_does_not_warn():
    Xb = np.random.RandomState(0).rand(40, 4) > 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = OPTICS(metric="jaccard", min_samples=3).fit(Xb.tolist())
        np.testing.assert_array_equal(ours.ordering_,
                                      OPTICS(metric="jaccard", min_samples=3).fit(Xb).ordering_)
    with pytest.warns(DataConversionWarning, match="converted to boolean"):
        OPTICS(metric="jaccard", min_samples=3).fit(Xb * 1.0)


@pytest.mark.parametrize("metric", ["minkowski", "precomputed"])
def test_p_in_metric_params_warns_as_sklearn(blobs, metric):
    # scikit-learn's neighbour search warns whatever the metric; the kernels'
    # path (minkowski on dense X) gave no warning
    X = pairwise_distances(blobs[:60]) if metric == "precomputed" else blobs[:60]
    params = dict(min_samples=4, metric=metric, metric_params={"p": 3})
    with pytest.warns(SyntaxWarning, match="Parameter p is found in metric_params"):
        ours = OPTICS(**params).fit(X)
    with pytest.warns(SyntaxWarning, match="Parameter p is found in metric_params"):
        theirs = skc.OPTICS(**params).fit(X)
    np.testing.assert_array_equal(ours.ordering_, theirs.ordering_)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    with pytest.warns(SyntaxWarning, match="Parameter p is found"):
        compute_optics_graph(blobs[:30], min_samples=3, max_eps=np.inf, metric="minkowski",
                             p=2, metric_params={"p": 1}, algorithm="auto", leaf_size=30,
                             n_jobs=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compute_optics_graph(blobs[:30], min_samples=3, max_eps=np.inf, metric="minkowski",
                             p=None, metric_params={"p": 1}, algorithm="auto", leaf_size=30,
                             n_jobs=None)


def test_memory_caches_the_graph(blobs, tmp_path):
    a = OPTICS(memory=str(tmp_path)).fit(blobs)
    b = OPTICS(memory=str(tmp_path)).fit(blobs)
    np.testing.assert_array_equal(a.ordering_, b.ordering_)


def test_input_not_modified(blobs):
    X = blobs.copy()
    X.setflags(write=False)
    OPTICS().fit(X)
    np.testing.assert_array_equal(X, blobs)


def test_exported():
    assert clusterlab.OPTICS is OPTICS
    assert clusterlab.cluster.OPTICS is OPTICS
    assert clusterlab.cluster_optics_xi is cluster_optics_xi


def _expected_failed(est):
    if est.metric == "precomputed":
        return {"check_positive_only_tag_during_fit": "negative values are not distances",
                "check_clustering": "feeds feature matrices (negative values) as distances",
                "check_fit_idempotent": "feeds a non-square matrix as distances",
                "check_estimator_sparse_tag": (
                    "sparse precomputed distances are accepted (as scikit-learn's OPTICS "
                    "does), while the default tags say no sparse input")}
    return {}


@parametrize_with_checks([OPTICS(), OPTICS(metric="chebyshev", cluster_method="dbscan",
                                 eps=0.6),
                          OPTICS(max_eps=2.0, xi=0.1),
                          OPTICS(metric="precomputed")],
                         expected_failed_checks=_expected_failed)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_graph_functions_check_their_arrays():
    from clusterlab.cluster.optics import (cluster_optics_dbscan, cluster_optics_xi,
                                           compute_optics_graph)

    X = np.random.RandomState(0).randn(30, 2)
    o, c, r, p = compute_optics_graph(X, min_samples=3, max_eps=np.inf, metric="minkowski",
                                      p=2, metric_params=None, algorithm="auto",
                                      leaf_size=30, n_jobs=None)
    with pytest.raises(ValueError, match="one entry per sample"):
        cluster_optics_dbscan(reachability=r[:-1], core_distances=c, ordering=o, eps=0.5)
    with pytest.raises(ValueError, match="permutation"):
        cluster_optics_dbscan(reachability=r, core_distances=c, ordering=o * 2, eps=0.5)
    with pytest.raises(ValueError, match="one entry per sample"):
        cluster_optics_xi(reachability=r, predecessor=p[:-2], ordering=o, min_samples=3)


@pytest.mark.parametrize("bad, message", [(np.nan, "NaN"), (np.inf, "infinity")])
def test_compute_optics_graph_refuses_nonfinite_rows_as_sklearn(bad, message):
    # the estimator validates; the function called directly skipped the check on
    # the fast path and ordered a NaN row as infinitely far
    from clusterlab.cluster.optics import compute_optics_graph

    X = np.random.default_rng(0).random((10, 3))
    X[2, 1] = bad
    with pytest.raises(ValueError, match=f"Input X contains {message}"):
        compute_optics_graph(X, min_samples=3, max_eps=np.inf, metric="minkowski", p=2,
                             metric_params=None, algorithm="auto", leaf_size=30, n_jobs=None)
