"""HDBSCAN: oracle tests against scikit-learn and the hdbscan library, kernels,
properties, prediction, soft clustering, threads."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.cluster import hierarchy
from scipy.sparse import csgraph
from sklearn.cluster import HDBSCAN as SkHDBSCAN
from sklearn.cluster._hdbscan._tree import _condense_tree
from sklearn.datasets import make_blobs, make_moons
from sklearn.metrics import adjusted_rand_score, pairwise_distances
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import HDBSCAN, _config
from clusterlab.cluster import _hdbscan_graph as graph



def blobs(seed, n=300):
    X, _ = make_blobs(n, centers=4, cluster_std=[0.5, 1.0, 1.5, 0.8], random_state=seed)
    return X


def fit_both(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs = SkHDBSCAN(copy=True, **params).fit(X)
    ours = HDBSCAN(copy=True, **params).fit(X)
    return ours, theirs


def assert_same(ours, theirs):
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.probabilities_, theirs.probabilities_, rtol=0, atol=1e-12)


# ----------------------------------------------------------------------- oracle

SETTINGS = [
    {},
    {"min_cluster_size": 10, "min_samples": 3},
    {"cluster_selection_method": "leaf"},
    {"cluster_selection_epsilon": 0.5},
    {"allow_single_cluster": True, "min_cluster_size": 30},
    {"max_cluster_size": 60},
    {"alpha": 1.3, "algorithm": "kd_tree", "min_samples": 1},
    {"metric": "manhattan"},
    {"metric": "chebyshev", "algorithm": "ball_tree"},
    {"metric": "cosine", "min_cluster_size": 8},
]


def _ids(params):
    return ",".join(f"{k}={v}" for k, v in params.items()) or "default"


@pytest.mark.parametrize("params", SETTINGS, ids=_ids)
@pytest.mark.parametrize("seed", [0, 3])
def test_same_labels_and_probabilities_as_sklearn(seed, params):
    assert_same(*fit_both(blobs(seed), **params))


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(1, 6))
@pytest.mark.parametrize("params", SETTINGS[:7])
def test_same_as_sklearn_more_seeds(seed, params):
    assert_same(*fit_both(blobs(seed, n=500), **params))


def test_leaf_selection_with_epsilon():
    """'leaf' with a cluster_selection_epsilon (scikit-learn 1.9 raises a TypeError
    there, so no comparison): an epsilon below every split distance keeps the
    leaves; a larger one merges leaves born closer than it, never adds clusters."""
    X = blobs(0)
    leaf = HDBSCAN(cluster_selection_method="leaf", copy=True).fit(X)
    tiny = HDBSCAN(cluster_selection_method="leaf", cluster_selection_epsilon=1e-12,
                   copy=True).fit(X)
    np.testing.assert_array_equal(tiny.labels_, leaf.labels_)
    counts = [len(set(leaf.labels_) - {-1})]
    for eps in (0.3, 1.0, 3.0):
        merged = HDBSCAN(cluster_selection_method="leaf", cluster_selection_epsilon=eps,
                         copy=True).fit(X)
        counts.append(len(set(merged.labels_) - {-1}))
        assert 1 <= counts[-1] <= counts[-2]
        # every leaf cluster lies inside one merged cluster
        for c in set(leaf.labels_) - {-1}:
            assert len(set(merged.labels_[leaf.labels_ == c]) - {-1}) <= 1
    assert counts[-1] < counts[0]  # the epsilon search did merge


def test_moons_and_float32_same_as_sklearn():
    X, _ = make_moons(400, noise=0.08, random_state=0)
    assert_same(*fit_both(X, min_cluster_size=10))
    ours = HDBSCAN(min_cluster_size=10, copy=True).fit(X.astype(np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs = SkHDBSCAN(min_cluster_size=10).fit(X.astype(np.float32))
    assert_same(ours, theirs)


def test_alpha_same_tree_heights_as_sklearn():
    # with alpha != 1 ties can reach beyond the k nearest neighbours, so the
    # binary order of equal merges may differ; the merge heights may not
    X = blobs(4, n=500)
    ours, theirs = fit_both(X, alpha=1.3)
    np.testing.assert_array_equal(ours._single_linkage_tree_["value"],
                                  theirs._single_linkage_tree_["value"])
    assert adjusted_rand_score(ours.labels_, theirs.labels_) > 0.98


@pytest.mark.parametrize("form", ["dense", "csr"])
def test_precomputed_same_as_sklearn(form):
    X = blobs(2)
    D = pairwise_distances(X)
    if form == "csr":
        D[D > np.percentile(D, 30)] = 0.0
        D = sparse.csr_matrix(D)
    ours, theirs = fit_both(D, metric="precomputed")
    assert_same(ours, theirs)


def test_condensed_tree_row_for_row_as_sklearn():
    X = blobs(1)
    ours, theirs = fit_both(X, min_cluster_size=7)
    ref = _condense_tree(theirs._single_linkage_tree_, 7)
    got = ours.condensed_tree_
    for a, b in [("parent", "parent"), ("child", "child"), ("child_size", "cluster_size")]:
        np.testing.assert_array_equal(got[a], ref[b])
    np.testing.assert_array_equal(got["lambda_val"], ref["value"])


def test_nonfinite_rows_as_sklearn():
    X = blobs(0)
    X[0] = [np.inf, 1]
    X[5] = [np.nan, np.inf]
    X[9] = [1, -np.inf]
    ours, theirs = fit_both(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_allclose(ours.probabilities_, theirs.probabilities_, atol=1e-12)
    # scikit-learn's dtypes: int32 labels here (int64 on finite data)
    assert ours.labels_.dtype == theirs.labels_.dtype == np.int32
    assert ours.probabilities_.dtype == theirs.probabilities_.dtype == np.float64
    assert ours.fit_predict(X).dtype == np.int32
    assert ours.dbscan_clustering(0.3).dtype == theirs.dbscan_clustering(0.3).dtype
    assert list(np.flatnonzero(ours.labels_ == -2)) == [0, 9]
    assert list(np.flatnonzero(ours.labels_ == -3)) == [5]
    assert np.isnan(ours.outlier_scores_[5]) and ours.outlier_scores_[0] == 1.0
    clean = np.delete(np.arange(len(X)), [0, 5, 9])
    again = HDBSCAN(copy=True).fit(X[clean])
    np.testing.assert_array_equal(again.labels_, ours.labels_[clean])
    # the trees speak of input rows
    Z = ours.single_linkage_tree_
    assert Z.shape == (len(X) - 1, 4) and np.isinf(Z[-3:, 2]).all()
    pts = ours.condensed_tree_["child"][ours.condensed_tree_["child_size"] == 1]
    assert sorted(pts) == sorted(clean)
    labels = ours.dbscan_clustering(0.3, min_cluster_size=5)
    assert labels[0] == -2 and labels[5] == -3


@pytest.mark.parametrize("cut", [0.2, 0.4, 1.0])
def test_dbscan_clustering_as_sklearn(cut):
    ours, theirs = fit_both(blobs(2))
    np.testing.assert_array_equal(ours.dbscan_clustering(cut, 4),
                                  theirs.dbscan_clustering(cut, 4))


@pytest.mark.parametrize("store", ["centroid", "medoid", "both"])
def test_centers_as_sklearn(store):
    ours, theirs = fit_both(blobs(3), store_centers=store)
    for attr in ("centroids_", "medoids_"):
        if hasattr(theirs, attr):
            np.testing.assert_allclose(getattr(ours, attr), getattr(theirs, attr), atol=1e-12)


def test_errors_as_sklearn():
    X = blobs(0, n=50)
    # the tree algorithms (and auto, which picks the KD-tree) refuse p < 1
    for algorithm in ("kd_tree", "ball_tree", "auto"):
        for p in (0.5, 0, -1):
            with pytest.raises(ValueError, match="does not support 0 < p < 1"):
                HDBSCAN(algorithm=algorithm, metric="minkowski", metric_params={"p": p},
                        copy=True).fit(X)
    ours, theirs = fit_both(X, algorithm="brute", metric="minkowski", metric_params={"p": 0.5})
    assert_same(ours, theirs)
    with pytest.raises(ValueError, match="min_samples"):
        HDBSCAN(min_samples=51, copy=True).fit(X)
    with pytest.raises(ValueError, match="not a valid metric for a KDTree"):
        HDBSCAN(algorithm="kd_tree", metric="cosine", copy=True).fit(X)
    with pytest.raises(ValueError, match="Cannot store centers"):
        HDBSCAN(metric="precomputed", store_centers="centroid", copy=True).fit(
            pairwise_distances(X))
    with pytest.warns(FutureWarning, match="copy"):
        HDBSCAN().fit(X)
    with pytest.raises(ValueError, match="precomputed"):
        HDBSCAN(metric="precomputed", copy=True).fit(pairwise_distances(X)).predict(X)


@pytest.mark.parametrize("big", [10**20, np.uint64(2**63), 2**63 - 1])
def test_cluster_sizes_beyond_int64_mean_no_limit(big):
    # scikit-learn accepts any max_cluster_size >= 1 (no cluster is that big);
    # the kernels take int64, so the bound is clamped (it was a numba TypingError)
    X = blobs(0, n=120)
    ours, theirs = fit_both(X, max_cluster_size=big)
    assert_same(ours, theirs)
    assert len(set(ours.labels_.tolist()) - {-1}) >= 2
    # min_cluster_size beyond int64 (scikit-learn: OverflowError): no cluster
    assert (HDBSCAN(min_cluster_size=big, min_samples=2, copy=True).fit(X).labels_ == -1).all()
    assert (ours.dbscan_clustering(0.5, min_cluster_size=big) == -1).all()


@pytest.mark.parametrize("metric", ["cosine", "correlation"])
def test_scale_free_metrics_on_huge_and_tiny_rows(metric):
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(10, 3), rng.randn(10, 3) + 6, rng.randn(10, 3) + [0, 8, 1]])
    # exact power-of-two scalings, per row too: cosine and correlation do not change
    scales = [2.0 ** 700, 2.0 ** -700, np.ldexp(1.0, rng.randint(-900, 900, (30, 1)))]
    ref = HDBSCAN(min_samples=3, metric=metric, copy=True).fit(X)
    assert ref.labels_.max() >= 1
    for s in scales:
        model = HDBSCAN(min_samples=3, metric=metric, copy=True).fit(X * s)
        assert_same(model, ref)
        np.testing.assert_array_equal(model.predict(X * s), ref.predict(X))


def test_dense_path_refuses_a_matrix_that_does_not_fit(monkeypatch):
    monkeypatch.setattr(_config, "HDBSCAN_DENSE_MAX_BYTES", 8 * 100 * 100)
    HDBSCAN(metric="manhattan", copy=True).fit(blobs(0, n=100))
    with pytest.raises(MemoryError, match="dense 101 x 101"):
        HDBSCAN(metric="manhattan", copy=True).fit(blobs(0, n=101))
    HDBSCAN(copy=True).fit(blobs(0, n=3000))  # euclidean: no dense matrix


# ------------------------------------------- Prim on the points, Borůvka on the tree


def _spanning_tree(X, prim, monkeypatch, alpha=1.0, scale_core=True, min_samples=5):
    monkeypatch.setattr(_config, "HDBSCAN_PRIM_MIN_FEATURES", 1 if prim else 10**9)
    monkeypatch.setattr(_config, "HDBSCAN_PRIM_SMALL_WORK", 0)
    assert graph.use_prim(X.shape[0], X.shape[1]) == prim
    return graph.kd_mst(X, min_samples, alpha, 40, scale_core)[:4]


def _rows(data, n=700):
    rng = np.random.default_rng(7)
    if data == "normal":
        return rng.normal(size=(n, 5))
    if data == "grid":  # repeated rows, many equal distances
        return rng.integers(0, 4, size=(n, 3)).astype(np.float64)
    return make_blobs(n, 12, centers=5, cluster_std=3.0, random_state=1)[0]


@pytest.mark.parametrize("alpha", [1.0, 1.3, 0.6])
@pytest.mark.parametrize("data", ["normal", "grid", "blobs"])
def test_prim_on_points_is_sklearns_spanning_tree(data, alpha, monkeypatch):
    # Prim's algorithm on the points is scikit-learn's mst_from_data_matrix:
    # the same edges, in the same order, the same weights to the bit -- ties
    # (repeated rows on an integer grid) and alpha != 1 included
    from sklearn.cluster._hdbscan._linkage import mst_from_data_matrix
    from sklearn.metrics import DistanceMetric
    from sklearn.neighbors import NearestNeighbors

    X = _rows(data)
    core = NearestNeighbors(n_neighbors=5).fit(X).kneighbors(X, 5)[0][:, -1].copy()
    mst = mst_from_data_matrix(X, core, DistanceMetric.get_metric("euclidean"), alpha)
    u, v, w, ours_core = _spanning_tree(X, True, monkeypatch, alpha=alpha)
    np.testing.assert_array_equal(ours_core, core)
    np.testing.assert_array_equal(u, mst["current_node"])
    np.testing.assert_array_equal(v, mst["next_node"])
    np.testing.assert_array_equal(w, mst["distance"])


@pytest.mark.parametrize("data", ["normal", "blobs"])
def test_prim_on_points_is_the_boruvka_tree_in_prim_order(data, monkeypatch):
    # without exact ties Borůvka's tree on the KD-tree, put in Prim's order,
    # is the same (on an integer grid the two can pick different equal edges)
    X = _rows(data)
    prim = _spanning_tree(X, True, monkeypatch)
    boruvka = _spanning_tree(X, False, monkeypatch)
    for a, b in zip(prim, boruvka):
        np.testing.assert_array_equal(a, b)


def test_small_data_with_ties_same_labels_as_sklearn():
    # small data takes Prim's tree: integer-grid rows, many equal distances,
    # the clusters numbered as scikit-learn numbers them
    X = _rows("grid", n=600)
    assert graph.use_prim(*X.shape)
    assert_same(*fit_both(X))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 700), d=st.integers(1, 40),
       scale=st.sampled_from([1e-120, 1e-3, 1.0, 1e5, 1e120]),
       offset=st.sampled_from([0.0, 1.0, 1e6]), grid=st.booleans(), k=st.integers(1, 12))
def test_core_distances_from_the_points_are_the_kd_trees(seed, n, d, scale, offset, grid, k):
    # many features: the core distances come from products with the points,
    # bounded, the few near each row's k-th summed exactly -- the KD-tree
    # query's values to the bit, ties (grid rows), offsets and scales included
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(n, d)).astype(np.float64) if grid else rng.normal(size=(n, d))
    X = (X + offset) * scale
    k = min(k, n)
    index = graph.KDIndex(X, 40)
    rd, _ = index.knn(index.Xr, k)
    expected = np.empty(n)
    expected[index.perm] = rd[:, -1]
    np.testing.assert_array_equal(graph.core_rdist(X, k), expected)


def test_prim_on_points_same_on_one_thread_and_many():
    # chunks of the sweep compared by (reachability, index): no dependence on
    # the thread count, with ties (repeated rows) across chunks
    from clusterlab._kernels import prim_points

    rng = np.random.default_rng(3)
    n = 3 * prim_points.CHUNK + 17
    X = rng.integers(0, 3, size=(n, 4)).astype(np.float64)
    core = np.sort(rng.integers(0, 3, size=n).astype(np.float64))[::-1].copy()
    outs = []
    for kernel in (prim_points.prim_mst_points.serial, prim_points.prim_mst_points.parallel):
        u, v, w = np.empty(n - 1, np.int64), np.empty(n - 1, np.int64), np.empty(n - 1)
        kernel(X, core, 1.0, True, False, u, v, w)
        outs.append((u, v, w))
    for a, b in zip(*outs):
        np.testing.assert_array_equal(a, b)
    # a spanning tree: every point but the first added once
    np.testing.assert_array_equal(np.sort(outs[0][1]), np.arange(1, n))


@pytest.mark.parametrize("params", [{}, {"alpha": 1.3, "min_samples": 3},
                                    {"alpha": 0.6, "algorithm": "kd_tree"}], ids=_ids)
def test_many_features_same_as_sklearn(params):
    # 40 features: Prim on the points, scikit-learn's own algorithm, so even
    # with alpha != 1 the single-linkage tree is the same row for row
    X, _ = make_blobs(400, 40, centers=4, cluster_std=[2.0, 3.0, 4.0, 2.5], random_state=5)
    assert graph.use_prim(*X.shape)
    ours, theirs = fit_both(X, **params)
    assert_same(ours, theirs)
    for field in ("left_node", "right_node", "value", "cluster_size"):
        np.testing.assert_array_equal(ours._single_linkage_tree_[field],
                                      theirs._single_linkage_tree_[field])


# ------------------------------------------------------- the hdbscan library


def library(X, min_cluster_size, min_samples, **kw):
    # the library counts min_samples without the point itself; its Prim on a
    # KD-tree resolves ties as scikit-learn's. Only these comparisons need the
    # hdbscan library (the [bench] extra): the rest of the module runs without
    hdbscan_lib = pytest.importorskip("hdbscan")
    return hdbscan_lib.HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples - 1,
                               algorithm="prims_kdtree", approx_min_span_tree=False,
                               prediction_data=True, **kw).fit(X)


@pytest.mark.parametrize("mcs, ms", [(5, 5), (10, 4), (15, 8)])
@pytest.mark.parametrize("seed", [0, 2])
def test_outlier_scores_and_soft_clustering_as_hdbscan_library(seed, mcs, ms):
    X = blobs(seed, n=400)
    lib = library(X, mcs, ms)
    from hdbscan import prediction as lib_prediction
    ours = HDBSCAN(min_cluster_size=mcs, min_samples=ms, copy=True).fit(X)
    np.testing.assert_array_equal(ours.labels_, lib.labels_)
    np.testing.assert_allclose(ours.outlier_scores_, lib.outlier_scores_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.membership_vectors(),
                               lib_prediction.all_points_membership_vectors(lib), atol=1e-12)
    # new points: the library's prediction data take core distances with one
    # neighbour fewer than its clustering did; with the clustering's own core
    # distances (ours) the definitions match exactly
    Q = np.random.default_rng(seed).uniform(X.min(0), X.max(0), (300, 2))
    lib.prediction_data_.core_distances = ours._core_distances.copy()
    lib_labels, lib_probs = lib_prediction.approximate_predict(lib, Q)
    from clusterlab.cluster._hdbscan_predict import approximate_predict

    labels, probs, _ = approximate_predict(ours, Q)
    np.testing.assert_array_equal(labels, lib_labels)
    np.testing.assert_allclose(probs, lib_probs, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(Q), lib_labels)
    np.testing.assert_allclose(ours.membership_vectors(Q),
                               lib_prediction.membership_vector(lib, Q), atol=1e-12)


def test_soft_clustering_rows_at_most_one_and_consistent_with_labels():
    X, _ = make_moons(500, noise=0.1, random_state=1)
    est = HDBSCAN(min_cluster_size=15, copy=True).fit(X)
    M = est.membership_vectors()
    assert M.shape == (500, est.labels_.max() + 1)
    assert (M >= 0).all() and (M.sum(axis=1) <= 1 + 1e-9).all()
    inside = est.labels_ >= 0
    assert (M[inside].argmax(axis=1) == est.labels_[inside]).mean() > 0.95


@pytest.mark.parametrize("data", ["moons", "blobs"])
def test_predict_on_training_points_agrees_with_labels(data):
    if data == "moons":
        X, _ = make_moons(1000, noise=0.08, random_state=0)
    else:
        X = blobs(5, n=1000)
    est = HDBSCAN(min_cluster_size=15, copy=True).fit(X)
    assert (est.predict(X) == est.labels_).mean() >= 0.98


def test_predict_dense_metric_path():
    X = blobs(1, n=300)
    est = HDBSCAN(metric="manhattan", copy=True).fit(X)
    assert (est.predict(X) == est.labels_).mean() >= 0.98
    assert est.membership_vectors(X[:10]).shape == (10, est.labels_.max() + 1)


# ------------------------------------------------------------------- kernels


def _dense_mst_weight(X, k):
    D = pairwise_distances(X)
    core = np.sort(D, axis=1)[:, k - 1]
    M = np.maximum(np.maximum(D, core[:, None]), core[None, :]) + 1.0  # scipy drops zeros
    np.fill_diagonal(M, 0)
    return csgraph.minimum_spanning_tree(M).sum() - (len(X) - 1), core


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 120), d=st.integers(1, 5), k=st.integers(1, 6),
       grid=st.booleans(), seed=st.integers(0, 10**6), leaf=st.sampled_from([1, 3, 40]))
def test_boruvka_tree_is_a_minimum_spanning_tree(n, d, k, grid, seed, leaf):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    if grid:  # many ties and duplicates
        X = np.round(X)
    k = min(k, n)
    u, v, w, core, _ = graph.kd_mst(X, k, 1.0, leaf, True)
    ref_weight, ref_core = _dense_mst_weight(X, k)
    np.testing.assert_allclose(core, ref_core, atol=1e-12)
    assert len(u) == n - 1
    tree = sparse.coo_matrix((np.ones(n - 1), (u, v)), shape=(n, n))
    assert csgraph.connected_components(tree, directed=False)[0] == 1
    np.testing.assert_allclose(w.sum(), ref_weight, rtol=1e-12, atol=1e-12)


def test_kdtree_knn_exact():
    from sklearn.neighbors import KDTree

    X = np.round(np.random.default_rng(0).normal(size=(2000, 3)), 1)
    idx = graph.KDIndex(X, 7)
    rd, ix = idx.knn(X, 6)
    ref, _ = KDTree(X).query(X, 6)
    np.testing.assert_array_equal(np.sqrt(rd), ref)


# ---------------------------------------------------------------- properties


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(20, 150))
def test_row_permutation_gives_the_same_clustering(seed, n):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0, 1, (n // 2, 2)), rng.normal(6, 1, (n - n // 2, 2))])
    perm = rng.permutation(n)
    a = HDBSCAN(min_cluster_size=5, copy=True).fit(X)
    b = HDBSCAN(min_cluster_size=5, copy=True).fit(X[perm])
    np.testing.assert_array_equal(np.sort(a.single_linkage_tree_[:, 2]),
                                  np.sort(b.single_linkage_tree_[:, 2]))
    # (ties between equal mutual-reachability distances are resolved in row
    # order, as in scikit-learn, so the outlier scores of tied points may move)
    assert adjusted_rand_score(a.labels_[perm], b.labels_) == 1.0


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), n_dup=st.integers(1, 30))
def test_duplicated_points_share_their_label(seed, n_dup):
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(0, 1, (60, 2)), rng.normal(5, 1, (60, 2))])
    dup = rng.choice(120, n_dup)
    Xd = np.vstack([X, X[dup]])
    est = HDBSCAN(min_cluster_size=5, copy=True).fit(Xd)
    np.testing.assert_array_equal(est.labels_[120:], est.labels_[dup])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs = SkHDBSCAN(min_cluster_size=5).fit(Xd)
    assert adjusted_rand_score(est.labels_, theirs.labels_) > 0.9


def test_same_result_on_one_and_two_threads(parallel_kernels):
    import numba

    X = np.vstack([blobs(0, n=3000), np.round(blobs(1, n=2000), 1)])
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        a = HDBSCAN(min_cluster_size=10, copy=True).fit(X)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        b = HDBSCAN(min_cluster_size=10, copy=True).fit(X)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_array_equal(a.single_linkage_tree_, b.single_linkage_tree_)
    c = HDBSCAN(min_cluster_size=10, copy=True, n_jobs=1).fit(X)
    np.testing.assert_array_equal(a.labels_, c.labels_)


# ------------------------------------------------------------------ exports


def test_trees_usable_by_scipy_and_pandas():
    X = blobs(0)
    est = HDBSCAN(copy=True).fit(X)
    Z = est.single_linkage_tree_
    assert hierarchy.is_valid_linkage(Z)
    assert hierarchy.fcluster(Z, 2, criterion="maxclust").shape == (len(X),)
    ct = est.condensed_tree_
    assert ct.dtype.names == ("parent", "child", "lambda_val", "child_size")
    assert ct["parent"].min() == len(X)
    assert list(est.selected_clusters_) == sorted(est.selected_clusters_)
    pd = pytest.importorskip("pandas")
    frame = est.tree_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(ct)
    assert list(est.tree_frame("single_linkage").columns) == ["left", "right", "distance",
                                                               "size"]


@parametrize_with_checks([HDBSCAN(copy=True)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_predict_and_membership_vectors_on_a_dask_array_stay_lazy():
    da = pytest.importorskip("dask.array")
    X = blobs(0, n=400)
    est = HDBSCAN(copy=True).fit(X)
    Q = np.random.default_rng(0).uniform(X.min(0), X.max(0), (250, 2))
    dQ = da.from_array(Q, chunks=100)
    lazy = est.predict(dQ)
    soft = est.membership_vectors(dQ)
    assert isinstance(lazy, da.Array) and isinstance(soft, da.Array)
    np.testing.assert_array_equal(lazy.compute(scheduler="synchronous"), est.predict(Q))
    np.testing.assert_allclose(soft.compute(scheduler="synchronous"), est.membership_vectors(Q))


def test_predict_with_the_root_as_the_single_cluster():
    X = np.random.default_rng(3).normal(size=(200, 2))
    est = HDBSCAN(allow_single_cluster=True, copy=True).fit(X)
    assert list(est.selected_clusters_) == [200]
    pred = est.predict(X)
    # points the threshold keeps in the cluster are predicted in it; the
    # library would call every new point noise here (no split in its tree)
    assert set(pred.tolist()) <= {-1, 0}
    assert (pred[est.labels_ == 0] == 0).all()
    assert est.membership_vectors().shape == (200, 1)


def test_prediction_with_mahalanobis_given_V_and_before_fit():
    from sklearn.exceptions import NotFittedError

    rng = np.random.default_rng(0)
    Y = np.vstack([rng.normal(0, 0.3, (40, 2)), rng.normal(4, 0.3, (40, 2))])
    model = HDBSCAN(copy=True, metric="mahalanobis", metric_params={"V": np.cov(Y.T)}).fit(Y)
    np.testing.assert_array_equal(model.predict(Y), model.labels_)
    assert model.membership_vectors(Y[:2]).shape == (2, len(set(model.labels_) - {-1}))
    with pytest.raises(NotFittedError):
        HDBSCAN().membership_vectors()


def test_the_dense_limit_follows_the_process_limit(monkeypatch):
    from clusterlab import _config
    from clusterlab.cluster import _hdbscan_graph as graph

    monkeypatch.setattr(_config, "HDBSCAN_DENSE_MAX_BYTES", None)
    monkeypatch.setattr(_config, "available_memory", lambda: 10**6)
    assert graph.dense_limit_bytes() == 10**6
    with pytest.raises(MemoryError, match="dense 1000 x 1000 distance matrix"):
        graph.check_dense_fits(1000)
