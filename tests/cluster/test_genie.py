"""Genie: single linkage at threshold 1, scikit-learn's estimator checks,
invariances, and the spanning tree."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse.csgraph import minimum_spanning_tree as scipy_mst
from scipy.spatial.distance import pdist, squareform
from sklearn.datasets import make_blobs, make_moons
from sklearn.metrics import adjusted_rand_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab.cluster.genie import Genie, minimum_spanning_tree


@parametrize_with_checks([Genie(n_clusters=3)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_threshold_one_is_single_linkage():
    X, _ = make_blobs(300, centers=4, cluster_std=1.5, random_state=0)
    for k in (2, 3, 4, 7):
        ours = Genie(n_clusters=k, gini_threshold=1.0).fit(X).labels_
        ref = fcluster(linkage(X, "single"), k, criterion="maxclust")
        assert adjusted_rand_score(ours, ref) == 1.0


def test_tree_is_the_minimum_spanning_tree():
    X = np.random.default_rng(1).normal(size=(120, 3))
    a, b, w = minimum_spanning_tree(X)
    ref = scipy_mst(squareform(pdist(X))).toarray()
    assert np.isclose(w.sum(), ref.sum())
    assert np.all(np.diff(w) >= 0)
    D = squareform(pdist(X))
    assert np.allclose(D[a, b], w)
    # a spanning tree: n - 1 edges joining every row
    parent = list(range(len(X)))

    def find(i):
        while parent[i] != i:
            i = parent[i]
        return i
    for i, j in zip(a, b):
        parent[find(i)] = find(j)
    assert len({find(i) for i in range(len(X))}) == 1


@pytest.mark.parametrize("scale", [2.0 ** 1000, 1e300])
def test_huge_values_give_the_same_tree(scale):
    # squared distances of such values overflow float64; the tree is built on
    # X scaled by a power of two (it segfaulted on 1e300 before: no finite
    # distance left, no nearest row)
    X, _ = make_blobs(60, centers=3, random_state=2)
    a, b, w = minimum_spanning_tree(X)
    a2, b2, w2 = minimum_spanning_tree(X * scale)
    np.testing.assert_array_equal(a, a2)
    np.testing.assert_array_equal(b, b2)
    np.testing.assert_allclose(w2, w * scale, rtol=1e-12)
    assert adjusted_rand_score(Genie(3).fit(X).labels_, Genie(3).fit(X * scale).labels_) == 1
    # distances beyond float64 are +inf, and still a spanning tree
    a, b, w = minimum_spanning_tree(np.array([[1e308, 0.0], [-1e308, 0.0], [0.0, 0.0]]))
    assert sorted(set(a) | set(b)) == [0, 1, 2] and np.all(w == 1e308)


def test_genie_finds_the_moons_and_resists_outliers():
    X, y = make_moons(400, noise=0.05, random_state=0)
    X = np.vstack([X, [[4.0, 4.0], [-3.0, 3.5]]])  # two far outliers
    labels = Genie(n_clusters=2).fit(X).labels_
    assert adjusted_rand_score(y, labels[:400]) == 1.0
    single = Genie(n_clusters=2, gini_threshold=1.0).fit(X).labels_
    assert len(np.unique(single[:400])) == 1  # single linkage chains: the outlier is a cluster


def test_cut_gives_every_level_without_refitting():
    X, _ = make_blobs(200, centers=5, random_state=3)
    model = Genie(n_clusters=5).fit(X)
    for k in (1, 2, 5, 9, 200):
        labels = model.cut(k)
        assert len(np.unique(labels)) == k
        assert np.array_equal(Genie(n_clusters=k).fit(X).labels_, labels)
    # nested: each cluster at k+1 lies inside one cluster at k
    for k in range(1, 10):
        coarse, fine = model.cut(k), model.cut(k + 1)
        for c in np.unique(fine):
            assert len(np.unique(coarse[fine == c])) == 1
    with pytest.raises(ValueError, match="n_clusters"):
        model.cut(0)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(1, 6))
def test_row_permutation_permutes_the_labels(seed, k):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 2)) + rng.integers(0, 3, size=(40, 1)) * 5.0
    perm = rng.permutation(len(X))
    a = Genie(n_clusters=k).fit(X).labels_
    b = Genie(n_clusters=k).fit(X[perm]).labels_
    # ties in distances could order merges differently; generic data has none
    assert adjusted_rand_score(a[perm], b) == 1.0


def test_bad_input():
    with pytest.raises(ValueError, match="n_clusters"):
        Genie(n_clusters=5).fit(np.zeros((3, 2)) + np.arange(3)[:, None])
    with pytest.raises(ValueError, match="NaN"):
        Genie().fit([[0.0, np.nan], [1.0, 2.0], [3.0, 4.0]])
