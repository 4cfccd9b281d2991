"""clusterlab.semi_supervised: the seed's digits story end to end, the seed's own
recipes as oracles, active-learning queries, properties and bad input."""

import doctest

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import load_digits, make_blobs
from sklearn.linear_model import LogisticRegression

import clusterlab
from clusterlab import semi_supervised as ss
from clusterlab.semi_supervised import (
    propagate_labels,
    representative_indices,
    uncertainty_queries,
)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:1400], y[:1400], X[1400:], y[1400:]


@pytest.fixture(scope="module")
def digits_k50(digits):
    X_train = digits[0]
    idx, km = representative_indices(X_train, 50, random_state=42)
    return idx, km


def _score(X, y, X_test, y_test):
    return LogisticRegression(max_iter=10_000).fit(X, y).score(X_test, y_test)


def test_digits_story_end_to_end(digits, digits_k50):
    """EXPECTED.md: representatives >= 0.80 (clearly above 50 random images' 0.7582),
    propagation at or above the representatives, partial propagation >= 95% correct."""
    X_train, y_train, X_test, y_test = digits
    idx, km = digits_k50
    random50 = _score(X_train[:50], y_train[:50], X_test, y_test)
    assert random50 == pytest.approx(0.7582, abs=5e-4)
    # the true labels of the representatives: what a human labeller would type
    y_rep = y_train[idx]
    reps = _score(X_train[idx], y_rep, X_test, y_test)
    assert reps >= 0.80
    assert reps > random50 + 0.03
    labels, mask = propagate_labels(km, y_rep)
    assert mask.all()
    propagated = _score(X_train, labels, X_test, y_test)
    assert propagated >= reps
    labels99, mask99 = propagate_labels(km, y_rep, X_train, percentile=99)
    np.testing.assert_array_equal(labels99, labels)
    # the 99th percentile drops each cluster's farthest point or two (~28 points each)
    assert 1400 - 2 * 50 <= mask99.sum() < 1400
    assert (labels99[mask99] == y_train[mask99]).mean() >= 0.95
    partial = _score(X_train[mask99], labels99[mask99], X_test, y_test)
    assert partial >= reps


def test_representatives_are_the_seeds_argmin(digits, digits_k50):
    X_train = digits[0]
    idx, km = digits_k50
    X_dist = km.transform(X_train)
    np.testing.assert_array_equal(idx, X_dist.argmin(axis=0))
    assert isinstance(km, clusterlab.KMeans) and km.n_clusters == 50
    # a fitted model is reused, not refitted
    idx2, km2 = representative_indices(X_train, 50, model=km)
    assert km2 is km
    np.testing.assert_array_equal(idx2, idx)


def test_partial_propagation_is_the_seeds_loop(digits, digits_k50):
    X_train = digits[0]
    _, km = digits_k50
    # the seed's cell [55], verbatim logic
    X_digits_dist = km.transform(X_train)
    X_cluster_dist = X_digits_dist[np.arange(len(X_train)), km.labels_]
    for i in range(50):
        in_cluster = km.labels_ == i
        cutoff = np.percentile(X_cluster_dist[in_cluster], 99)
        X_cluster_dist[in_cluster & (X_cluster_dist > cutoff)] = -1
    expected = X_cluster_dist != -1
    _, mask = propagate_labels(km, np.arange(50), X_train, percentile=99)
    np.testing.assert_array_equal(mask, expected)


def test_propagate_to_new_points_uses_nearest_centre():
    X, y = make_blobs(n_samples=200, centers=[[0, 0], [10, 0]], random_state=0)
    idx, km = representative_indices(X, 2, random_state=0)
    X_new = np.array([[0.5, 0.0], [9.5, 0.0]])
    labels, mask = propagate_labels(km, y[idx], X_new)
    np.testing.assert_array_equal(labels, y[idx][km.predict(X_new)])
    np.testing.assert_array_equal(labels, [y[np.argmin(X[:, 0])], y[np.argmax(X[:, 0])]])
    assert mask.all()


def test_uncertainty_queries_without_clusters():
    X, y = make_blobs(n_samples=150, centers=3, random_state=1, cluster_std=3.0)
    clf = LogisticRegression(max_iter=1000).fit(X, y)
    q = uncertainty_queries(clf, X, 10)
    conf = clf.predict_proba(X).max(axis=1)
    np.testing.assert_array_equal(q, np.argsort(conf, kind="stable")[:10])
    assert conf[q].max() <= np.sort(conf)[10]


def test_uncertainty_queries_spread_over_clusters():
    X, y = make_blobs(n_samples=300, centers=3, random_state=1, cluster_std=3.0)
    clf = LogisticRegression(max_iter=1000).fit(X, y)
    clusters = clusterlab.KMeans(n_clusters=8, n_init=3, random_state=0).fit(X).labels_
    q = uncertainty_queries(clf, X, 12, clusters=clusters)
    assert len(q) == 12 and len(set(q.tolist())) == 12
    first_round = q[:8]
    assert len(set(clusters[first_round].tolist())) == 8  # one per cluster first
    conf = clf.predict_proba(X).max(axis=1)
    for i in first_round:  # each is its cluster's least confident point
        assert conf[i] == conf[clusters == clusters[i]].min()


@settings(max_examples=20)
@given(n_samples=st.integers(5, 60), n=st.integers(1, 80), n_clusters=st.integers(1, 6),
       seed=st.integers(0, 1000))
def test_property_queries_unique_and_round_robin(n_samples, n, n_clusters, seed):
    rng = np.random.RandomState(seed)

    class FakeClassifier:
        def predict_proba(self, X):
            p = rng.uniform(size=(X.shape[0], 3))
            return p / p.sum(axis=1, keepdims=True)

    X = rng.normal(size=(n_samples, 2))
    clusters = rng.randint(n_clusters, size=n_samples)
    q = uncertainty_queries(FakeClassifier(), X, n, clusters=clusters)
    assert len(q) == min(n, n_samples)
    assert len(set(q.tolist())) == len(q)
    present = len(set(clusters.tolist()))
    head = clusters[q[:present]]
    assert len(set(head.tolist())) == min(present, len(q))


@settings(max_examples=10)
@given(seed=st.integers(0, 1000), percentile=st.floats(1, 100))
def test_property_mask_keeps_at_least_the_percentile(seed, percentile):
    X, _ = make_blobs(n_samples=120, centers=3, random_state=seed % 10)
    _, km = representative_indices(X, 3, random_state=seed)
    labels, mask = propagate_labels(km, np.array([10, 20, 30]), X, percentile=percentile)
    assert set(labels.tolist()) <= {10, 20, 30}
    for i in range(3):
        members = km.labels_ == i
        # np.percentile interpolates: at least floor(p% of the members) are kept
        assert mask[members].sum() >= np.floor(percentile / 100 * members.sum())


def test_inputs_never_modified():
    X, _ = make_blobs(n_samples=60, centers=3, random_state=0)
    X0 = X.copy()
    idx, km = representative_indices(X, 3, random_state=0)
    rep = np.array([1, 2, 3])
    propagate_labels(km, rep, X, percentile=50)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(rep, [1, 2, 3])


def test_bad_inputs():
    X, _ = make_blobs(n_samples=30, centers=3, random_state=0)
    with pytest.raises(ValueError, match="n_clusters"):
        representative_indices(X, 31)
    with pytest.raises(ValueError, match="n_clusters"):
        representative_indices(X, 0)
    with pytest.raises(ValueError, match="NaN"):
        Xn = X.copy()
        Xn[0, 0] = np.nan
        representative_indices(Xn, 2)
    with pytest.raises(ValueError, match="2D array"):
        representative_indices(X[:, 0], 2)
    with pytest.raises(ValueError, match="0 sample"):
        representative_indices(np.empty((0, 2)), 2)
    _, km = representative_indices(X, 3, random_state=0)
    with pytest.raises(ValueError, match="3 cluster centres"):
        representative_indices(X, 4, model=km)
    with pytest.raises(ValueError, match="cluster_centers_"):
        representative_indices(X, 3, model=LogisticRegression().fit(X, np.arange(30) % 2))
    with pytest.raises(ValueError, match="one label per cluster"):
        propagate_labels(km, [1, 2])
    with pytest.raises(ValueError, match="pass X"):
        propagate_labels(km, [1, 2, 3], percentile=90)
    with pytest.raises(ValueError, match="percentile"):
        propagate_labels(km, [1, 2, 3], X, percentile=0)
    with pytest.raises(ValueError, match="percentile"):
        propagate_labels(km, [1, 2, 3], X, percentile=101)
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        propagate_labels(clusterlab.KMeans(3), [1, 2, 3])
    clf = LogisticRegression().fit(X, np.arange(30) % 2)
    with pytest.raises(ValueError, match="n must be"):
        uncertainty_queries(clf, X, 0)
    with pytest.raises(ValueError, match="predict_proba"):
        uncertainty_queries(km, X, 3)
    with pytest.raises(ValueError, match="one label per row"):
        uncertainty_queries(clf, X, 3, clusters=[0, 1])


def test_lazy_submodule_and_doctest():
    assert clusterlab.semi_supervised is ss
    result = doctest.testmod(ss)
    assert result.failed == 0 and result.attempted > 0


def test_user_guide_example_runs(tmp_path, monkeypatch, capsys):
    import re
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "docs" / "semi_supervised.md"
    blocks = re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__docs__"}
    for block in blocks:
        exec(compile(block, str(path), "exec"), namespace)
    out = capsys.readouterr().out
    assert "50 representatives" in out and "label these next" in out


def test_uncertainty_queries_hands_the_table_to_the_classifier_as_given():
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from clusterlab.semi_supervised import uncertainty_queries

    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 3))
    y = (X[:, 0] > 0).astype(int)
    df = pd.DataFrame(X, columns=list("abc")).assign(cat=np.where(X[:, 1] > 0, "u", "v"))
    pipe = make_pipeline(make_column_transformer((OneHotEncoder(), ["cat"]),
                                                 (StandardScaler(), ["a", "b", "c"])),
                         LogisticRegression()).fit(df, y)
    picks = uncertainty_queries(pipe, df, 3)  # the pipeline selects columns by name
    confidence = pipe.predict_proba(df).max(axis=1)
    np.testing.assert_array_equal(picks, np.argsort(confidence, kind="stable")[:3])
    multi = RandomForestClassifier(5, random_state=0).fit(
        X, np.c_[X[:, 0] > 0, X[:, 1] > 0].astype(int))
    with pytest.raises(ValueError, match="multi-output"):
        uncertainty_queries(multi, X, 3)
