"""AgglomerativeClustering / linkage_tree: oracle tests against scikit-learn
and scipy, scikit-learn's estimator checks, properties and bad input."""

import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import sparse
from scipy.cluster import hierarchy
from sklearn import cluster as skcluster
from sklearn.metrics import adjusted_rand_score, pairwise_distances
from sklearn.neighbors import kneighbors_graph
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import AgglomerativeClustering, _config, linkage_tree
from clusterlab._kernels import interpret as _interp
from clusterlab.plotting import plot_dendrogram

LINKAGE_METRICS = [
    ("ward", "euclidean"),
    ("complete", "euclidean"),
    ("complete", "manhattan"),
    ("complete", "cosine"),
    ("average", "euclidean"),
    ("average", "l1"),
    ("average", "cosine"),
    ("single", "euclidean"),
    ("single", "manhattan"),
    ("single", "cosine"),
]


def _data(n=80, d=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=4, size=(4, d))
    return centers[rng.integers(0, 4, n)] + rng.normal(size=(n, d))


def _fit_pair(X, **params):
    ours = AgglomerativeClustering(**params).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = skcluster.AgglomerativeClustering(**params).fit(X)
    return ours, theirs


def _same_partition(a, b):
    # equal up to a renumbering: a bijection between the label sets
    pairs = set(zip(a.tolist(), b.tolist()))
    return len(pairs) == len(set(a.tolist())) == len(set(b.tolist()))


# ------------------------------------------------------------ oracle


@pytest.mark.parametrize("linkage,metric", LINKAGE_METRICS)
def test_same_tree_as_sklearn(linkage, metric):
    X = _data()
    ours, theirs = _fit_pair(X, n_clusters=4, linkage=linkage, metric=metric,
                             compute_distances=True)
    np.testing.assert_array_equal(ours.children_, theirs.children_)
    np.testing.assert_allclose(ours.distances_, theirs.distances_, rtol=1e-6, atol=1e-9)
    assert _same_partition(ours.labels_, theirs.labels_)
    assert ours.n_clusters_ == theirs.n_clusters_ == 4
    assert ours.n_leaves_ == theirs.n_leaves_
    assert ours.n_connected_components_ == theirs.n_connected_components_ == 1


@pytest.mark.parametrize("linkage", ["ward", "complete", "average", "single"])
def test_float32_matches_sklearn(linkage):
    X = _data(seed=1).astype(np.float32)
    ours, theirs = _fit_pair(X, n_clusters=3, linkage=linkage, compute_distances=True)
    np.testing.assert_array_equal(ours.children_, theirs.children_)
    np.testing.assert_allclose(ours.distances_, theirs.distances_, rtol=1e-4, atol=1e-4)
    assert _same_partition(ours.labels_, theirs.labels_)
    # and close to the float64 tree
    ours64 = AgglomerativeClustering(n_clusters=3, linkage=linkage,
                                     compute_distances=True).fit(X.astype(np.float64))
    np.testing.assert_allclose(ours.distances_, ours64.distances_, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("linkage", ["ward", "complete", "average", "single"])
def test_matches_scipy_linkage_matrix(linkage):
    X = _data(n=50, seed=2)
    ours = AgglomerativeClustering(linkage=linkage, compute_distances=True).fit(X)
    Z = hierarchy.linkage(X, method=linkage)
    ZZ = ours.to_linkage_matrix()
    np.testing.assert_allclose(ZZ[:, 2], Z[:, 2], rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(np.sort(ZZ[:, :2], axis=1), np.sort(Z[:, :2], axis=1))
    np.testing.assert_array_equal(ZZ[:, 3], Z[:, 3])
    assert hierarchy.is_valid_linkage(ZZ)
    # the flat clusters scipy cuts from our matrix are ours
    flat = hierarchy.fcluster(ZZ, 4, criterion="maxclust")
    assert _same_partition(flat, AgglomerativeClustering(
        n_clusters=len(set(flat)), linkage=linkage).fit(X).labels_)


@pytest.mark.parametrize("linkage", ["complete", "average", "single"])
def test_precomputed_and_callable_and_other_metrics(linkage):
    X = _data(n=40, seed=3)
    D = pairwise_distances(X, metric="manhattan")
    ours, theirs = _fit_pair(D, linkage=linkage, metric="precomputed", compute_distances=True)
    np.testing.assert_array_equal(ours.children_, theirs.children_)
    np.testing.assert_allclose(ours.distances_, theirs.distances_, rtol=1e-6)

    def cheb(A):
        return pairwise_distances(A, metric="chebyshev")

    ours, theirs = _fit_pair(X, linkage=linkage, metric=cheb, compute_distances=True)
    np.testing.assert_array_equal(ours.children_, theirs.children_)
    np.testing.assert_allclose(ours.distances_, theirs.distances_, rtol=1e-6)
    ours, theirs = _fit_pair(X, linkage=linkage, metric="chebyshev", compute_distances=True)
    np.testing.assert_allclose(ours.distances_, theirs.distances_, rtol=1e-6)
    assert _same_partition(ours.labels_, theirs.labels_)


@pytest.mark.slow  # the connectivity merge kernel compiles for ~10 s (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("linkage", ["ward", "complete", "average", "single"])
@pytest.mark.parametrize("full", [True, False])
def test_connectivity_matches_sklearn(linkage, full):
    X = _data(n=120, seed=4)
    conn = kneighbors_graph(X, 6, include_self=False)
    ours, theirs = _fit_pair(X, n_clusters=5, linkage=linkage, connectivity=conn,
                             compute_full_tree=full, compute_distances=True)
    assert ours.children_.shape == theirs.children_.shape
    if linkage == "single":
        # scikit-learn lists each single-linkage merge in the orientation
        # scipy's minimum_spanning_tree happened to keep; we list the lower
        # node first
        np.testing.assert_array_equal(np.sort(ours.children_, 1), np.sort(theirs.children_, 1))
    else:
        np.testing.assert_array_equal(ours.children_, theirs.children_)
    np.testing.assert_allclose(ours.distances_, theirs.distances_, rtol=1e-6, atol=1e-12)
    assert _same_partition(ours.labels_, theirs.labels_)
    assert ours.n_clusters_ == 5 and len(set(ours.labels_)) == 5


@pytest.mark.slow  # the connectivity merge kernel compiles for ~10 s (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("linkage", ["ward", "complete", "average", "single"])
def test_disconnected_graph_is_completed_with_warning(linkage):
    rng = np.random.default_rng(5)
    X = np.concatenate([rng.normal(loc=c, scale=0.2, size=(15, 2)) for c in (0, 5, 10, 15)])
    conn = kneighbors_graph(X, 2, include_self=False)
    with pytest.warns(UserWarning, match="connected components"):
        ours = AgglomerativeClustering(n_clusters=3, linkage=linkage, connectivity=conn,
                                       compute_distances=True).fit(X)
    with pytest.warns(UserWarning, match="connected components"):
        theirs = skcluster.AgglomerativeClustering(
            n_clusters=3, linkage=linkage, connectivity=conn, compute_distances=True).fit(X)
    assert ours.n_connected_components_ == theirs.n_connected_components_ > 1
    np.testing.assert_array_equal(np.sort(ours.children_, 1), np.sort(theirs.children_, 1))
    np.testing.assert_allclose(ours.distances_, theirs.distances_, rtol=1e-6, atol=1e-12)
    assert _same_partition(ours.labels_, theirs.labels_)


@pytest.mark.slow  # the connectivity merge kernel compiles for ~10 s (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("linkage", ["complete", "average", "single"])
def test_connectivity_with_callable_row_metric(linkage):
    # with connectivity scikit-learn calls a callable metric on pairs of rows
    rng = np.random.default_rng(15)
    X = np.concatenate([rng.normal(loc=c, scale=0.2, size=(10, 2)) for c in (0, 5, 10)])
    conn = kneighbors_graph(X, 2, include_self=False)

    def chebyshev(a, b):
        return np.abs(a - b).max()

    ours, theirs = _fit_pair(X, linkage=linkage, metric=chebyshev, connectivity=conn,
                             compute_distances=True)
    np.testing.assert_array_equal(np.sort(ours.children_, 1), np.sort(theirs.children_, 1))
    np.testing.assert_allclose(ours.distances_, theirs.distances_, rtol=1e-6)


@pytest.mark.slow  # the connectivity kernels (7 s to compile), like the other connectivity tests
def test_connectivity_callable_and_dense():
    X = _data(n=60, seed=6)

    def graph(A):
        return kneighbors_graph(A, 5, include_self=False)

    ours, theirs = _fit_pair(X, n_clusters=3, connectivity=graph)
    np.testing.assert_array_equal(ours.children_, theirs.children_)
    dense = graph(X).toarray()
    ours2 = AgglomerativeClustering(n_clusters=3, connectivity=dense).fit(X)
    np.testing.assert_array_equal(ours.children_, ours2.children_)


@pytest.mark.parametrize("linkage", ["ward", "complete", "average", "single"])
@pytest.mark.parametrize("threshold", [0.5, 2.0, 6.0])
def test_distance_threshold(linkage, threshold):
    X = _data(n=70, seed=7)
    ours, theirs = _fit_pair(X, n_clusters=None, distance_threshold=threshold, linkage=linkage)
    assert ours.n_clusters_ == theirs.n_clusters_
    assert ours.n_clusters_ == np.count_nonzero(ours.distances_ >= threshold) + 1
    assert _same_partition(ours.labels_, theirs.labels_)
    assert len(set(ours.labels_)) == ours.n_clusters_


@pytest.mark.parametrize("linkage", ["ward", "complete", "average", "single"])
def test_compute_full_tree_gives_same_partition(linkage):
    X = _data(n=90, seed=8)
    conn = kneighbors_graph(X, 8, include_self=False)
    full = AgglomerativeClustering(n_clusters=6, linkage=linkage, connectivity=conn,
                                   compute_full_tree=True).fit(X)
    part = AgglomerativeClustering(n_clusters=6, linkage=linkage, connectivity=conn,
                                   compute_full_tree=False).fit(X)
    # the same partition; numbered as scikit-learn numbers each (a cut of the
    # full tree, the merge heads of a partial one)
    assert adjusted_rand_score(full.labels_, part.labels_) == 1.0
    for ours, compute_full_tree in ((full, True), (part, False)):
        ref = skcluster.AgglomerativeClustering(
            n_clusters=6, linkage=linkage, connectivity=conn,
            compute_full_tree=compute_full_tree).fit(X)
        np.testing.assert_array_equal(ours.labels_, ref.labels_)
    if linkage != "single":
        assert part.children_.shape == (90 - 6, 2)


@pytest.mark.parametrize("linkage", ["complete", "average", "single", "ward"])
def test_linkage_tree_matches_sklearn(linkage):
    X = _data(n=50, seed=9)
    conn = kneighbors_graph(X, 5, include_self=False)
    if linkage == "ward":
        theirs = skcluster.ward_tree(X, connectivity=conn, return_distance=True)
    else:
        theirs = skcluster.linkage_tree(X, connectivity=conn, linkage=linkage,
                                        return_distance=True)
    ours = linkage_tree(X, connectivity=conn, linkage=linkage, return_distance=True)
    np.testing.assert_array_equal(np.sort(ours[0], 1), np.sort(theirs[0], 1))
    assert ours[1:3] == theirs[1:3]
    np.testing.assert_allclose(ours[4], theirs[4], rtol=1e-6)
    # unstructured
    ours = linkage_tree(X, linkage=linkage, return_distance=True)
    assert ours[3] is None
    assert len(ours) == 5
    with pytest.warns(UserWarning, match="Partial build"):
        out = linkage_tree(X, linkage=linkage, n_clusters=3)
    assert out[0].shape == (49, 2)


# ------------------------------------------------------------- ties


@pytest.mark.parametrize("linkage", ["complete", "average", "single"])
def test_ties_resolve_as_sklearn(linkage):
    # integer grid with duplicates: many equal distances
    rng = np.random.default_rng(10)
    X = rng.integers(0, 4, size=(40, 2)).astype(np.float64)
    ours, theirs = _fit_pair(X, linkage=linkage, compute_distances=True)
    np.testing.assert_array_equal(ours.children_, theirs.children_)
    np.testing.assert_array_equal(ours.distances_, theirs.distances_)


def test_ward_ties_on_exact_data():
    # duplicates and a symmetric layout: equal Ward distances are computed
    # exactly from centroids, so they order as in scipy
    X = np.array([[0.0], [0.0], [1.0], [1.0], [3.0], [3.0], [4.0], [4.0]])
    ours, theirs = _fit_pair(X, compute_distances=True)
    np.testing.assert_array_equal(ours.children_, theirs.children_)
    np.testing.assert_allclose(ours.distances_, theirs.distances_, rtol=1e-12)


def test_ward_ties_with_connectivity_follow_sklearn_order():
    X = np.arange(12, dtype=np.float64).reshape(-1, 1)  # all neighbours at 1
    conn = kneighbors_graph(X, 2, include_self=False)
    ours, theirs = _fit_pair(X, n_clusters=2, connectivity=conn, compute_distances=True)
    np.testing.assert_array_equal(ours.children_, theirs.children_)


# ---------------------------------------------------------- seed row


def test_expected_md_complete_linkage_row():
    X = np.array([0, 2, 5, 8.5]).reshape(-1, 1)
    agg = AgglomerativeClustering(linkage="complete").fit(X)
    assert agg.children_.tolist() == [[0, 1], [2, 3], [4, 5]]
    learned = [a for a in dir(agg) if a.endswith("_") and not a.startswith("_")]
    assert learned == ["children_", "labels_", "n_clusters_", "n_connected_components_",
                       "n_features_in_", "n_leaves_"]
    agg = AgglomerativeClustering(linkage="complete", compute_distances=True).fit(X)
    assert "distances_" in dir(agg)


# ------------------------------------------------------- properties


@given(arrays(np.float64, st.tuples(st.integers(3, 25), st.integers(1, 3)),
              elements=st.floats(-100, 100, allow_nan=False, width=32)),
       st.sampled_from(["ward", "complete", "average", "single"]))
def test_property_matches_sklearn_distances(X, linkage):
    ours, theirs = _fit_pair(X, linkage=linkage, compute_distances=True)
    np.testing.assert_allclose(ours.distances_, theirs.distances_, rtol=1e-6, atol=1e-6)
    assert ours.children_.shape == (X.shape[0] - 1, 2)
    # every node is merged exactly once
    assert sorted(ours.children_.ravel().tolist()) == list(range(2 * X.shape[0] - 2))


@given(st.integers(5, 30), st.floats(0.1, 10), st.floats(-50, 50),
       st.sampled_from(["ward", "complete", "average", "single"]))
def test_property_scale_translation(n, scale, shift, linkage):
    X = _data(n=n, d=2, seed=n)
    base = AgglomerativeClustering(linkage=linkage, compute_distances=True).fit(X)
    moved = AgglomerativeClustering(linkage=linkage, compute_distances=True).fit(
        X * scale + shift)
    np.testing.assert_allclose(moved.distances_, base.distances_ * scale, rtol=1e-6, atol=1e-6)


@given(st.permutations(list(range(20))))
def test_property_permutation_invariance(perm):
    X = _data(n=20, d=2, seed=11)
    perm = np.asarray(perm)
    base = AgglomerativeClustering(n_clusters=3, linkage="average",
                                   compute_distances=True).fit(X)
    shuffled = AgglomerativeClustering(n_clusters=3, linkage="average",
                                       compute_distances=True).fit(X[perm])
    np.testing.assert_allclose(shuffled.distances_, base.distances_, rtol=1e-9)
    assert _same_partition(shuffled.labels_, base.labels_[perm])


def test_deterministic_and_input_untouched():
    X = _data(n=60, seed=12)
    X32 = X.astype(np.float32)
    copy = X32.copy()
    a = AgglomerativeClustering(n_clusters=4, compute_distances=True).fit(X32)
    b = AgglomerativeClustering(n_clusters=4, compute_distances=True).fit(X32)
    np.testing.assert_array_equal(X32, copy)
    np.testing.assert_array_equal(a.children_, b.children_)
    np.testing.assert_array_equal(a.labels_, b.labels_)


# ---------------------------------------------------- linkage matrix/plot


def test_to_linkage_matrix_and_dendrogram():
    X = _data(n=30, seed=13)
    agg = AgglomerativeClustering(compute_distances=True).fit(X)
    Z = agg.to_linkage_matrix()
    assert Z.shape == (29, 4) and Z[-1, 3] == 30
    fig = plot_dendrogram(agg, truncate_mode="level", p=3)
    assert len(fig.axes) == 1 and fig.axes[0].get_ylabel() == "merge distance"
    from matplotlib.figure import Figure

    ax = Figure().add_subplot(111)
    assert plot_dendrogram(agg, ax=ax) is ax.figure
    with pytest.raises(ValueError, match="compute_distances=True"):
        AgglomerativeClustering().fit(X).to_linkage_matrix()
    with pytest.raises(ValueError, match="compute_full_tree=True"):
        AgglomerativeClustering(
            n_clusters=5, compute_full_tree=False, compute_distances=True,
            connectivity=kneighbors_graph(X, 5)).fit(X).to_linkage_matrix()
    with pytest.raises(TypeError):
        plot_dendrogram(object())


def test_memory_cache(tmp_path):
    X = _data(n=40, seed=14)
    a = AgglomerativeClustering(n_clusters=3, memory=str(tmp_path)).fit(X)
    b = AgglomerativeClustering(n_clusters=3, memory=str(tmp_path)).fit(X)
    np.testing.assert_array_equal(a.children_, b.children_)
    assert any(tmp_path.iterdir())


# ------------------------------------------------------------ bad input


X_OK = np.arange(20, dtype=np.float64).reshape(10, 2)


@pytest.mark.parametrize(
    "params,X,match",
    [
        ({"n_clusters": 11}, X_OK, "more clusters than samples"),
        ({"n_clusters": 11, "connectivity": sparse.eye(10), "compute_full_tree": False}, X_OK,
         "more clusters than samples"),
        ({"connectivity": sparse.eye(9)}, X_OK, "connectivity"),
        ({"n_clusters": None}, X_OK, "Exactly one of n_clusters and distance_threshold"),
        ({"n_clusters": 2, "distance_threshold": 1.0}, X_OK, "Exactly one of"),
        ({"n_clusters": None, "distance_threshold": 1.0, "compute_full_tree": False}, X_OK,
         "compute_full_tree must be True"),
        ({"metric": "manhattan"}, X_OK, "Ward can only work with euclidean"),
        ({"linkage": "average", "metric": "precomputed"}, X_OK, "square"),
        ({"linkage": "average", "metric": "cosine"}, np.zeros((4, 2)), "zero vectors"),
        ({}, np.array([[0.0, 1.0], [np.nan, 2.0]]), "NaN"),
        ({}, np.array([[0.0, 1.0], [np.inf, 2.0]]), "infinity"),
        ({}, np.empty((0, 2)), "0 sample"),
        ({}, np.array([[1.0, 2.0]]), "minimum of 2"),
        ({}, np.arange(5.0), "2D array"),
        ({"linkage": "median"}, X_OK, "linkage"),
        ({"metric": "nope"}, X_OK, "metric"),
        ({"n_clusters": 0}, X_OK, "n_clusters"),
        ({"n_clusters": None, "distance_threshold": -1.0}, X_OK, "distance_threshold"),
    ],
)
def test_bad_input(params, X, match):
    with pytest.raises(ValueError, match=match):
        AgglomerativeClustering(**params).fit(X)


def test_condensed_matrix_too_large_fails_early(monkeypatch):
    from clusterlab import _config

    monkeypatch.setattr(_config, "available_memory", lambda: 1000)
    with pytest.raises(MemoryError, match="connectivity"):
        AgglomerativeClustering(linkage="average").fit(_data(n=30))
    # Ward and single do not need the matrix
    AgglomerativeClustering(linkage="ward").fit(_data(n=30))
    AgglomerativeClustering(linkage="single").fit(_data(n=30))


def test_bad_input_linkage_tree():
    with pytest.raises(ValueError, match="Ward can only work"):
        linkage_tree(X_OK, linkage="ward", affinity="cosine")
    with pytest.raises(ValueError, match="connectivity"):
        linkage_tree(X_OK, connectivity=sparse.eye(3))
    with pytest.raises(ValueError):
        linkage_tree(X_OK, linkage="median")


# ------------------------------------------------- estimator checks


class KNNGraph2:
    """``kneighbors_graph(X, 2)`` as a callable with a stable repr: test ids built
    from a ``functools.partial`` carry a memory address, which differs between
    pytest-xdist workers (and makes ``pytest -n`` refuse to run)."""

    def __call__(self, X):
        return kneighbors_graph(X, n_neighbors=2)

    def __repr__(self):
        return "KNNGraph2()"


@parametrize_with_checks(
    [
        AgglomerativeClustering(),
        AgglomerativeClustering(linkage="single", metric="manhattan"),
        AgglomerativeClustering(linkage="average", metric="l1"),
        AgglomerativeClustering(linkage="complete", connectivity=KNNGraph2()),
    ]
)
def test_sklearn_estimator_checks(estimator, check):
    # (the checks set n_clusters, so a distance_threshold configuration cannot
    # be run through them; it is covered by test_distance_threshold. The two
    # array-API checks are skipped by scikit-learn itself unless
    # SCIPY_ARRAY_API is set.)
    check(estimator)


@pytest.mark.parametrize("linkage", ["ward", "complete", "average", "single"])
# with a connectivity graph: the connectivity merge kernel (~10 s to compile), full tier
@pytest.mark.parametrize("structured", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_distance_threshold_labels_numbered_as_sklearn(linkage, structured):
    # a cut of the full tree is numbered as scikit-learn's _hc_cut numbers it
    X = np.random.RandomState(42).randn(100, 50)
    conn = kneighbors_graph(X, 10, include_self=False) if structured else None
    kw = dict(n_clusters=None, distance_threshold=10, linkage=linkage, connectivity=conn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ours = AgglomerativeClustering(**kw).fit(X)
        ref = skcluster.AgglomerativeClustering(**kw).fit(X)
    assert ours.n_clusters_ == ref.n_clusters_
    np.testing.assert_array_equal(ours.labels_, ref.labels_)


@pytest.mark.parametrize("n,d", [(2, 1), (3, 2), (300, 7), (700, 3)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("parallel", [False, True])
def test_columnar_euclidean_condensed_equals_row_wise(n, d, dtype, parallel):
    # the columnar (and threaded) fill sums each pair's squares in feature
    # order as the row-wise one does: bitwise the same matrix
    from clusterlab._kernels import linkage as lk

    X = np.random.default_rng(n + d).normal(size=(n, d)).astype(dtype) * 3
    ref = np.empty(n * (n - 1) // 2)
    lk.condensed_distances(X, np.empty(n), lk.EUCLIDEAN, ref)
    out = np.full_like(ref, -1.0)
    lk.euclidean_condensed(X, out, parallel)
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_allclose(out, pdist_reference(X), rtol=1e-12)


def test_condensed_fill_same_on_one_and_all_threads(parallel_kernels):
    # one blocked kernel for both (a single block is the serial run): the
    # matrix must not depend on the block count or on numba's thread count
    import numba

    from clusterlab._kernels import linkage as lk

    X = np.random.default_rng(1).normal(size=(900, 5))
    n_pairs = 900 * 899 // 2
    old = numba.get_num_threads()
    outs = []
    try:
        for threads in (1, old):
            numba.set_num_threads(threads)
            for parallel in (False, True):
                out = np.empty(n_pairs)
                lk.euclidean_condensed(X, out, parallel)
                outs.append(out)
    finally:
        numba.set_num_threads(old)
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])


def pdist_reference(X):
    from scipy.spatial.distance import pdist

    return pdist(X.astype(np.float64))


def test_linkage_kernel_names_importable_from_the_package():
    # one module per linkage family; the estimator imports them all from
    # clusterlab._kernels.linkage
    from clusterlab._kernels import linkage as lk
    from clusterlab._kernels.linkage import nn_chain, ward

    for name in lk.__all__:
        assert getattr(lk, name) is not None
    assert lk.ward_nn_chain is ward.ward_nn_chain
    assert lk.nn_chain_condensed is nn_chain.nn_chain_condensed


@pytest.mark.parametrize("integer", [False, True])
def test_ward_on_many_features_condensed_path_same_as_sklearn(integer, monkeypatch):
    """From LINKAGE_WARD_CONDENSED_MIN_FEATURES features Ward runs scipy's NN-chain
    on the condensed matrix: the same tree as scikit-learn and as the centroid path
    (integer rows: many equal distances)."""
    from sklearn.cluster import AgglomerativeClustering as SK

    from clusterlab import _config

    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 120)) + rng.integers(0, 4, 300)[:, None]
    if integer:
        X = np.round(X)
    assert X.shape[1] >= _config.LINKAGE_WARD_CONDENSED_MIN_FEATURES
    ours = AgglomerativeClustering(n_clusters=4, compute_distances=True).fit(X)
    ref = SK(n_clusters=4, compute_distances=True).fit(X)
    np.testing.assert_array_equal(ours.children_, ref.children_)
    np.testing.assert_allclose(ours.distances_, ref.distances_, rtol=1e-12)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    monkeypatch.setattr(_config, "LINKAGE_WARD_CONDENSED_MIN_FEATURES", 10**6)
    centroids = AgglomerativeClustering(n_clusters=4, compute_distances=True).fit(X)
    np.testing.assert_allclose(np.sort(centroids.distances_), np.sort(ours.distances_),
                               rtol=1e-12)
    if not integer:  # on exact ties the centroid path may merge equal pairs in another order
        np.testing.assert_array_equal(centroids.children_, ours.children_)


@pytest.mark.parametrize("linkage", ["average", "complete", "single"])
@pytest.mark.parametrize("metric", ["cosine", "correlation", "seuclidean"])
@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_scale_free_metrics_give_the_same_tree_at_any_magnitude(linkage, metric, scale):
    """cosine and correlation ignore a row's scale, seuclidean the data's: a
    scaled X gives the tree of X (it overflowed to NaN merge heights, or
    divided by an underflowed norm)."""
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(10, 3), rng.randn(10, 3) + 6, rng.randn(10, 3) + [0, 8, 1]])
    kw = dict(n_clusters=3, linkage=linkage, metric=metric, compute_distances=True)
    a = AgglomerativeClustering(**kw).fit(X)
    b = AgglomerativeClustering(**kw).fit(X * scale)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    np.testing.assert_allclose(a.distances_, b.distances_, rtol=1e-9, atol=1e-12)
    if not (linkage == "single" and metric == "seuclidean"):  # scikit-learn's fails there
        ref = skcluster.AgglomerativeClustering(**kw).fit(X)
        assert adjusted_rand_score(ref.labels_, a.labels_) == 1.0


@pytest.mark.parametrize("metric", ["correlation", "dice"])
def test_non_finite_distances_are_refused(metric):
    rng = np.random.RandomState(0)
    X = (rng.rand(12, 4) > 0.5).astype(float)
    X[[2, 5]] = 0.0  # constant rows (correlation), two all-False rows (dice)
    with pytest.raises(ValueError, match=f"metric='{metric}' gives a non-finite distance"):
        AgglomerativeClustering(n_clusters=2, linkage="average", metric=metric).fit(X)


def test_boolean_data_with_a_boolean_metric_warns_nothing():
    X = np.random.RandomState(0).rand(30, 4) > 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = AgglomerativeClustering(n_clusters=3, linkage="average", metric="jaccard").fit(X)
    ref = skcluster.AgglomerativeClustering(n_clusters=3, linkage="average",
                                            metric="jaccard").fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)


def test_a_float32_precomputed_matrix_whose_float64_copy_cannot_fit_is_refused(monkeypatch):
    from clusterlab import _config

    rng = np.random.RandomState(0)
    P = rng.rand(300, 2)
    D = np.sqrt(((P[:, None] - P[None]) ** 2).sum(-1)).astype(np.float32)
    monkeypatch.setattr(_config, "available_memory", lambda: 500_000)
    with pytest.raises(MemoryError, match="300x300 matrix of float32 is read as float64"):
        AgglomerativeClustering(3, metric="precomputed", linkage="single").fit(D)
    monkeypatch.setattr(_config, "available_memory", lambda: None)
    ref = skcluster.AgglomerativeClustering(3, metric="precomputed", linkage="single").fit(D)
    ours = AgglomerativeClustering(3, metric="precomputed", linkage="single").fit(D)
    assert adjusted_rand_score(ref.labels_, ours.labels_) == 1.0


@pytest.mark.parametrize("method", ["ward", "average", "complete"])
@pytest.mark.parametrize("rounded", [False, True], ids=["plain", "ties"])
def test_nn_chain_on_condensed_distances_is_scipys_bit_for_bit(method, rounded):
    # the chain behind the condensed paths (average/complete linkage, the
    # dense Ward of feature agglomeration): scipy's merges and heights to the
    # bit on the same distances, ties included (rounded rows)
    from scipy.spatial.distance import pdist

    from clusterlab._kernels import linkage as lk

    X = np.random.default_rng(4).normal(size=(600, 12))
    if rounded:
        X = np.round(X)
    D = pdist(X)
    n = X.shape[0]
    a, b = np.empty(n - 1, np.int64), np.empty(n - 1, np.int64)
    dist = np.empty(n - 1)
    lk.nn_chain_condensed(D.copy(), n, getattr(lk, method.upper()), a, b, dist)
    Z = hierarchy.linkage(D, method=method)
    np.testing.assert_array_equal(np.sort(dist), Z[:, 2])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rounded", [False, True], ids=["plain", "ties"])
def test_single_linkage_vectorised_prim_is_the_serial_one(dtype, rounded):
    # Euclidean single linkage runs Prim's tree vectorised over the points
    # outside the tree, on threads: the same squared keys, ties and edges as
    # the serial kernel, bit for bit, on one thread and several (more points
    # than one chunk of the sweep)
    from clusterlab._kernels import linkage as lk
    from clusterlab._kernels import prim_points

    X = np.random.default_rng(6).normal(size=(2 * prim_points.CHUNK + 33, 7))
    if rounded:
        X = np.round(X * 2)
    X = X.astype(dtype)
    n = X.shape[0]

    def run(kernel, *args):
        out = (np.empty(n - 1, np.int64), np.empty(n - 1, np.int64), np.empty(n - 1))
        kernel(*args, *out)
        return out

    ref = run(lk.prim_mst_on_the_fly, X, np.zeros(n), lk.EUCLIDEAN)
    for kernel in (prim_points.prim_mst_points.serial, prim_points.prim_mst_points.parallel):
        got = run(kernel, X, np.zeros(n), 1.0, True, True)
        for g, r in zip(got, ref):
            np.testing.assert_array_equal(g, r)


# ------------------------------------------- tiny inputs, interpreted


@contextlib.contextmanager
def _interpreter(on):
    """Small inputs interpreted (``on``) or compiled, whatever their size."""
    saved = (_config.LINKAGE_INTERPRET_MAX_SAMPLES, _config.INTERPRET_BUDGET_S)
    _config.LINKAGE_INTERPRET_MAX_SAMPLES = 10**6 if on else 0
    _config.INTERPRET_BUDGET_S = np.inf
    try:
        yield
    finally:
        _config.LINKAGE_INTERPRET_MAX_SAMPLES, _config.INTERPRET_BUDGET_S = saved


@given(st.integers(2, 40), st.integers(1, 3), st.integers(0, 2**31 - 1), st.booleans(),
       st.sampled_from([("ward", "euclidean"), ("complete", "euclidean"),
                        ("complete", "manhattan"), ("average", "cosine"),
                        ("average", "euclidean"), ("complete", "precomputed")]))
def test_interpreted_kernels_give_the_compiled_trees(n, d, seed, grid, linkage_metric):
    # the kernels' source run by the interpreter: the same merges and heights,
    # bit for bit (ties on integer grids included)
    linkage, metric = linkage_metric
    rng = np.random.default_rng(seed)
    X = (rng.integers(0, 3, size=(n, d)).astype(np.float64) if grid
         else rng.normal(size=(n, d)) * 10.0 ** rng.integers(-3, 4))
    if metric == "cosine":
        X += 0.5  # no zero rows
    data = pairwise_distances(X) if metric == "precomputed" else X
    trees = []
    for on in (True, False):
        with _interpreter(on):
            est = AgglomerativeClustering(linkage=linkage, metric=metric,
                                          compute_distances=True).fit(data)
        trees.append((est.children_, est.distances_, est.labels_))
    for a, b in zip(*trees):
        np.testing.assert_array_equal(a, b)


def test_interpreted_kernel_calls_nothing_compiled():
    from numba.core.dispatcher import Dispatcher

    from clusterlab._kernels import linkage as _lk

    for kernel in (_lk.nn_chain_condensed, _lk.ward_nn_chain, _lk.relabel_merges,
                   _lk.condensed_distances):
        fn = _interp.interpreted(kernel)
        assert fn is not kernel.py_func
        assert not any(isinstance(v, Dispatcher) for v in fn.__globals__.values())


def test_interpreter_budget_hands_over_to_the_compiled_kernels(monkeypatch):
    # once a process has spent its budget interpreting, small inputs compile
    assert _interp.use_interpreter(True) == (_interp._SPENT[0] < _config.INTERPRET_BUDGET_S)
    assert not _interp.use_interpreter(False)
    monkeypatch.setattr(_interp, "_SPENT", [_config.INTERPRET_BUDGET_S])
    assert not _interp.use_interpreter(True)
    X = np.array([[0.0], [2.0], [5.0], [8.5]])
    calls = []
    real = _interp.interpreted
    monkeypatch.setattr(_interp, "interpreted", lambda k: calls.append(k) or real(k))
    agg = AgglomerativeClustering(linkage="complete").fit(X)
    assert calls == []
    assert agg.children_.tolist() == [[0, 1], [2, 3], [4, 5]]
    monkeypatch.setattr(_interp, "_SPENT", [0.0])
    AgglomerativeClustering(linkage="complete").fit(X)
    assert len(calls) == 3  # distances, the chain, the relabelling
