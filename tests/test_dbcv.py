"""dbcv_score against a direct implementation of Moulavi et al. (2014)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import cdist
from sklearn.datasets import make_blobs, make_moons

import clusterlab
from clusterlab.metrics import dbcv_score


def _prim(M):
    """MST of the complete graph M: (parent, weight) per node, node 0 the root.
    Ties: the next node and its tree neighbour are the ones of smallest index."""
    k = len(M)
    in_tree = np.zeros(k, bool)
    in_tree[0] = True
    parent = np.full(k, -1)
    weight = np.full(k, -1.0)
    best = M[0].copy()
    link = np.zeros(k, int)
    for _ in range(k - 1):
        cand = np.where(in_tree, np.inf, best)
        nxt = int(np.argmin(cand))
        in_tree[nxt] = True
        parent[nxt], weight[nxt] = link[nxt], best[nxt]
        better = (M[nxt] < best) | ((M[nxt] == best) & (nxt < link))
        best = np.where(better, M[nxt], best)
        link = np.where(better, nxt, link)
    return parent, weight


def dbcv_reference(D, labels, dim):
    """The paper's formulas on the full distance matrix D (O(n^2) memory)."""
    labels = np.asarray(labels)
    ids = np.unique(labels[labels >= 0])
    apcd = np.zeros(len(labels))
    internal, dsc = {}, {}
    for c in ids:
        idx = np.flatnonzero(labels == c)
        Dc = D[np.ix_(idx, idx)]
        k = len(idx)
        with np.errstate(divide="ignore"):
            inv = np.where(np.eye(k, dtype=bool), 0.0, Dc ** -float(dim))
        apcd[idx] = (inv.sum(1) / (k - 1)) ** (-1.0 / dim)
        M = np.maximum(Dc, np.maximum(apcd[idx][:, None], apcd[idx][None, :]))
        parent, weight = _prim(M)
        deg = np.bincount(np.r_[parent[1:], np.arange(1, k)], minlength=k)
        inner = deg >= 2
        if not inner.any():
            inner[:] = True
        e_in = inner[1:] & inner[parent[1:]]
        dsc[c] = weight[1:][e_in].max() if e_in.any() else weight[1:].max()
        internal[c] = idx[inner]
    V = []
    for c in ids:
        sep = min(np.maximum(D[np.ix_(internal[c], internal[o])],
                             np.maximum(apcd[internal[c]][:, None],
                                        apcd[internal[o]][None, :])).min()
                  for o in ids if o != c)
        V.append((sep - dsc[c]) / max(sep, dsc[c]))
    V = np.array(V)
    return float(sum((labels == c).sum() / len(labels) * v for c, v in zip(ids, V))), V


def test_blobs_with_noise_same_as_reference():
    X, y = make_blobs(300, centers=4, random_state=0)
    y[:15] = -1
    score, per = dbcv_score(X, y, per_cluster_scores=True)
    ref, ref_per = dbcv_reference(cdist(X, X), y, 2)
    assert score == pytest.approx(ref, abs=1e-12)
    np.testing.assert_allclose(per, ref_per, atol=1e-12)
    assert -1 <= score <= 1


@pytest.mark.parametrize("metric, p", [("manhattan", 2), ("chebyshev", 2), ("minkowski", 3)])
def test_metrics_same_as_reference(metric, p):
    X, y = make_blobs(150, n_features=3, centers=3, random_state=1)
    D = cdist(X, X, "minkowski", p=p) if metric == "minkowski" else cdist(
        X, X, {"manhattan": "cityblock"}.get(metric, metric))
    assert dbcv_score(X, y, metric=metric, p=p) == pytest.approx(
        dbcv_reference(D, y, 3)[0], abs=1e-10)


def test_precomputed_same_as_features():
    X, y = make_moons(200, noise=0.06, random_state=0)
    D = cdist(X, X)
    assert dbcv_score(D, y, metric="precomputed", d=2) == pytest.approx(dbcv_score(X, y),
                                                                        abs=1e-12)
    with pytest.raises(ValueError, match="pass d"):
        dbcv_score(D, y, metric="precomputed")


def test_same_as_hdbscan_validity_index():
    validity = pytest.importorskip("hdbscan.validity")
    for seed in range(3):
        X, y = make_blobs(200, centers=3, cluster_std=[0.5, 1.0, 1.5], random_state=seed)
        y[::17] = -1
        ours = dbcv_score(X, y)
        theirs = validity.validity_index(X, y)
        assert ours == pytest.approx(theirs, abs=1e-9)
    X, y = make_moons(300, noise=0.07, random_state=0)
    assert dbcv_score(X, y) == pytest.approx(validity.validity_index(X, y), abs=1e-9)


def test_good_partition_beats_bad_one_and_noise_costs_weight():
    X, y = make_moons(300, noise=0.05, random_state=0)
    wrong = (X[:, 0] > 0.5).astype(int)
    assert dbcv_score(X, y) > 0.3 > dbcv_score(X, wrong)
    noisy = y.copy()
    noisy[:60] = -1
    # the clusters lose members, the weights their share of n
    assert dbcv_score(X, noisy) < dbcv_score(X, y)


def test_duplicates_and_tiny_clusters():
    X = np.array([[0, 0], [0, 0], [0, 1], [5, 5], [5, 6], [9, 9.0]])
    y = np.array([0, 0, 0, 1, 1, 2])
    score, per = dbcv_score(X, y, per_cluster_scores=True)
    assert np.isfinite(score) and np.all(np.isfinite(per))
    assert per[2] == 1.0  # a single point: no spread, separated from the rest


def test_labels_renamed_and_rows_permuted():
    X, y = make_blobs(120, centers=3, random_state=4)
    y[:5] = -1
    renamed = np.where(y >= 0, 10 - 3 * y, -1)
    assert dbcv_score(X, renamed) == pytest.approx(dbcv_score(X, y), abs=1e-12)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_property_matches_reference_in_any_row_order(seed):
    """Not permutation invariant: the core distances make many mutual
    reachability edges equal, and which of the equal minimum spanning trees
    is taken (smallest row index first, as hdbscan's validity_index) changes
    the internal nodes. Any row order must match the reference."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(40, 2)) + np.repeat(rng.normal(0, 3, (2, 2)), 20, axis=0)
    y = np.repeat([0, 1], 20)
    y[rng.random(40) < 0.1] = -1
    if min((y == 0).sum(), (y == 1).sum()) < 2:
        return
    for rows in (np.arange(40), rng.permutation(40)):
        Xp, yp = X[rows], y[rows]
        assert dbcv_score(Xp, yp) == pytest.approx(dbcv_reference(cdist(Xp, Xp), yp, 2)[0],
                                                   abs=1e-12)


def test_errors():
    X, y = make_blobs(30, centers=2, random_state=0)
    with pytest.raises(ValueError, match="Number of labels is 1"):
        dbcv_score(X, np.where(y == 0, 0, -1))
    with pytest.raises(ValueError, match="NaN"):
        Xn = X.copy()
        Xn[0, 0] = np.nan
        dbcv_score(Xn, y)
    with pytest.raises(ValueError, match="inconsistent"):
        dbcv_score(X, y[:10])
    with pytest.raises(ValueError, match="metric"):
        dbcv_score(X, y, metric="cosine")


def test_a_few_thousand_points_run_quickly():
    import time

    X, y = make_blobs(3000, centers=5, random_state=0)
    dbcv_score(X[:100], y[:100])
    t0 = time.perf_counter()
    dbcv_score(X, y)
    assert time.perf_counter() - t0 < 5.0  # O(n^2) pairs in parallel kernels


def test_exported():
    assert clusterlab.dbcv_score is dbcv_score
