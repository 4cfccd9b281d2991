"""clusterlab.selection: Kneedle, sweep over k, SweepResult."""

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.figure import Figure
from sklearn.cluster import DBSCAN as SkDBSCAN
from sklearn.cluster import KMeans as SkKMeans
from sklearn.mixture import GaussianMixture as SkGaussianMixture

import clusterlab
from clusterlab.selection import CRITERIA, SweepResult, knee_point, sweep

# ---------------------------------------------------------------------- Kneedle


def test_knee_of_textbook_curves():
    x = np.arange(1, 11)
    # a sharp bend at x=3 in a convex decreasing curve
    y = np.array([100, 50, 10, 9, 8, 7, 6, 5, 4, 3], dtype=float)
    assert knee_point(x, y) == 3
    # 1/x-like curves bend early; a straight line has no knee
    assert knee_point(x, 1.0 / x) in (2, 3)
    assert knee_point(x, 10.0 - x) is None
    assert knee_point(x, np.ones(10)) is None
    assert knee_point([1, 2], [5, 1]) is None
    # a concave increasing curve (saturating gain) bends at its shoulder
    assert knee_point(x, np.minimum(x, 4.0), curve="concave", direction="increasing") == 4


def test_knee_returns_the_x_value_not_an_index():
    x = np.array([2, 4, 8, 16, 32])
    y = np.array([100.0, 20.0, 10.0, 8.0, 7.0])
    assert knee_point(x, y) == 4


convex_decreasing = st.lists(st.floats(0.01, 100.0), min_size=4, max_size=15).map(
    lambda steps: np.cumsum(sorted(steps, reverse=False))[::-1].astype(float))


@given(y=convex_decreasing)
def test_knee_is_consistent_under_reflections(y):
    """The four (curve, direction) cases are mirror images of one another."""
    x = np.arange(1, y.size + 1)
    knee = knee_point(x, y, "convex", "decreasing")
    # -y is concave and increasing: same knee
    assert knee_point(x, -y, "concave", "increasing") == knee
    # reversing the curve left to right mirrors the knee
    mirrored = knee_point(x, y[::-1], "convex", "increasing")
    assert mirrored == (None if knee is None else y.size + 1 - knee)
    assert knee_point(x, -y[::-1], "concave", "decreasing") == mirrored


def test_knee_bad_inputs():
    with pytest.raises(ValueError, match="curve must be"):
        knee_point([1, 2, 3], [3, 2, 1], curve="wiggly")
    with pytest.raises(ValueError, match="direction must be"):
        knee_point([1, 2, 3], [3, 2, 1], direction="up")
    with pytest.raises(ValueError, match="strictly increasing"):
        knee_point([1, 3, 2], [3, 2, 1])
    with pytest.raises(ValueError, match="finite"):
        knee_point([1, 2, 3], [3, np.nan, 1])
    with pytest.raises(ValueError, match="same length"):
        knee_point([1, 2, 3], [3, 2])


# ---------------------------------------------------------------------- sweep


@pytest.fixture(scope="module")
def blob_sweep(five_blobs):
    return sweep(clusterlab.KMeans(n_init=10, random_state=0), five_blobs, range(1, 10))


def test_five_blobs_sweep_matches_the_seed(blob_sweep, five_blobs):
    """EXPECTED.md: silhouette highest at k=4 (~0.688), k=5 next (~0.655); Kneedle elbow 3."""
    r = blob_sweep
    assert r.criteria == ("inertia", "silhouette", "calinski_harabasz", "davies_bouldin")
    assert r.best("silhouette") == 4 == r.best() == r.best_
    sil = dict(zip(r.k_values.tolist(), r.table["silhouette"]))
    assert np.isnan(sil[1])
    ranked = sorted((k for k in range(2, 9)), key=lambda k: -sil[k])
    assert ranked[:2] == [4, 5]
    assert sil[4] == pytest.approx(0.688, abs=1e-3)
    assert sil[5] == pytest.approx(0.655517642572828, abs=1e-6)
    assert r.elbow == 3 == r.best("inertia")
    inertia = r.table["inertia"]
    assert inertia[2] == pytest.approx(653.2167190021553, rel=1e-6)
    assert np.all(np.diff(inertia) < 0)
    for k, model in zip(r.k_values, r.models):
        assert model.n_clusters == k
        assert model.inertia_ == dict(zip(r.k_values, inertia))[k]
    # the label-based criteria are exactly the metrics on each model's labels
    m4 = r.models[3]
    assert r.table["silhouette"][3] == pytest.approx(skm.silhouette_score(five_blobs, m4.labels_),
                                                     abs=1e-9)
    assert r.table["calinski_harabasz"][3] == pytest.approx(
        skm.calinski_harabasz_score(five_blobs, m4.labels_), rel=1e-9)
    assert r.table["davies_bouldin"][3] == pytest.approx(
        skm.davies_bouldin_score(five_blobs, m4.labels_), rel=1e-9)
    ch = r.table["calinski_harabasz"]
    assert r.best("calinski_harabasz") == int(r.k_values[np.nanargmax(ch)])
    assert r.best("davies_bouldin") == int(r.k_values[np.nanargmin(r.table["davies_bouldin"])])


def test_table_to_frame_and_plot(blob_sweep):
    r = blob_sweep
    assert set(r.table) == {"k", *r.criteria}
    for values in r.table.values():
        assert values.dtype.kind == "f" and values.shape == (9,)
    frame = r.to_frame()
    assert list(frame.columns) == list(r.criteria)
    assert frame.index.name == "k" and frame.index.tolist() == list(range(1, 10))
    np.testing.assert_array_equal(frame["inertia"].to_numpy(), r.table["inertia"])
    for criterion in (None, "silhouette", "calinski_harabasz", "davies_bouldin"):
        assert isinstance(r.plot(criterion), Figure)
    assert "elbow=3" in repr(r)


def test_sweep_with_sklearn_kmeans_equals_hand_written_loop(five_blobs):
    X = five_blobs[::4]
    r = sweep(SkKMeans(n_init=2), X, [2, 3, 5], ["silhouette", "inertia"], random_state=1)
    assert r.criteria == ("silhouette", "inertia")
    for i, k in enumerate([2, 3, 5]):
        km = SkKMeans(n_clusters=k, n_init=2, random_state=1).fit(X)
        assert r.table["inertia"][i] == pytest.approx(km.inertia_, rel=1e-12)
        assert r.table["silhouette"][i] == pytest.approx(skm.silhouette_score(X, km.labels_),
                                                         abs=1e-9)


def test_sweep_information_criteria_with_a_mixture(elongated_blobs):
    X, _ = elongated_blobs
    r = sweep(SkGaussianMixture(n_init=2, random_state=42), X, range(1, 6))
    assert r.param == "n_components"
    assert r.criteria == ("silhouette", "calinski_harabasz", "davies_bouldin", "bic", "aic")
    assert "inertia" not in r.table and r.elbow is None
    for i, model in enumerate(r.models):
        assert model.n_components == i + 1
        assert r.table["bic"][i] == pytest.approx(model.bic(X), rel=1e-12)
        assert r.table["aic"][i] == pytest.approx(model.aic(X), rel=1e-12)
    assert r.best("bic") == int(np.argmin(r.table["bic"])) + 1
    # EXPECTED.md: BIC and AIC both lowest at k=3
    assert r.best("bic") == 3 and r.best("aic") == 3
    assert r.best() == r.best("silhouette")
    r_ic = sweep(SkGaussianMixture(random_state=0), X, [1, 2, 3], criteria=("bic", "aic"))
    assert r_ic.best() == r_ic.best("bic")


def test_sweep_with_clusterlab_gaussian_mixture(elongated_blobs):
    X, _ = elongated_blobs
    r = sweep(clusterlab.GaussianMixture(random_state=0), X[::5], [1, 2, 3], ["bic", "aic"])
    for i, model in enumerate(r.models):
        assert r.table["bic"][i] == pytest.approx(model.bic(X[::5]))
    assert r.best("aic") in (1, 2, 3)


def test_sweep_clones_and_respects_param(five_blobs):
    X = five_blobs[::10]
    est = clusterlab.KMeans(n_clusters=7, n_init=1, random_state=0)
    r = sweep(est, X, [2, 3], param="n_clusters", criteria="inertia")
    assert est.n_clusters == 7 and not hasattr(est, "labels_")
    assert all(m is not est for m in r.models)
    # an int random_state is given to every clone; the same seed twice gives the same table
    r1 = sweep(SkKMeans(n_init=1), X, [2, 4], random_state=3)
    r2 = sweep(SkKMeans(n_init=1), X, [2, 4], random_state=3)
    assert all(m.random_state == 3 for m in r1.models)
    for c in r1.criteria:
        np.testing.assert_array_equal(r1.table[c], r2.table[c])
    # a nested parameter of a pipeline
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), SkKMeans(n_init=1, random_state=0))
    rp = sweep(pipe, X, [2, 3], param="kmeans__n_clusters")
    assert [m[-1].n_clusters for m in rp.models] == [2, 3]
    assert rp.criteria == ("silhouette", "calinski_harabasz", "davies_bouldin")


def test_sweep_silhouette_subsample(five_blobs):
    r = sweep(clusterlab.KMeans(n_init=1, random_state=0), five_blobs, [2, 5], "silhouette",
              sample_size=300, random_state=0)
    full = [skm.silhouette_score(five_blobs, m.labels_) for m in r.models]
    np.testing.assert_allclose(r.table["silhouette"], full, atol=0.05)
    assert not np.allclose(r.table["silhouette"], full, atol=1e-12)


def test_sweep_bad_inputs(five_blobs):
    X = five_blobs[:50]
    km = SkKMeans(n_init=1)
    with pytest.raises(ValueError, match="unknown criteria"):
        sweep(km, X, [2, 3], criteria=["gap"])
    with pytest.raises(ValueError, match=r"do not apply.*bic"):
        sweep(km, X, [2, 3], criteria=["bic"])
    with pytest.raises(ValueError, match="only 50 samples"):
        sweep(km, X, [2, 60])
    with pytest.raises(ValueError, match=">= 1"):
        sweep(km, X, [0, 2])
    with pytest.raises(ValueError, match="non-empty"):
        sweep(km, X, [])
    with pytest.raises(ValueError, match="integers"):
        sweep(km, X, [2.5])
    with pytest.raises(ValueError, match="neither n_clusters nor n_components"):
        sweep(SkDBSCAN(), X, [2])
    with pytest.raises(ValueError, match="no parameter 'n_things'"):
        sweep(km, X, [2], param="n_things")
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sweep(km, bad, [2])
    with pytest.raises(ValueError, match="Expected 2D array"):
        sweep(km, X[:, 0], [2])


def test_best_errors():
    r = SweepResult([1, 2], [None, None], ("silhouette",),
                    {"k": np.array([1.0, 2.0]), "silhouette": np.array([np.nan, np.nan])})
    with pytest.raises(ValueError, match="undefined for every k"):
        r.best()
    with pytest.raises(ValueError, match="not computed"):
        r.best("bic")
    assert r.elbow is None
    assert set(CRITERIA) == {"inertia", "silhouette", "calinski_harabasz", "davies_bouldin",
                             "bic", "aic"}


def test_top_level_export():
    assert clusterlab.sweep is sweep


@given(st.lists(st.tuples(st.integers(0, 6), st.sampled_from([0.0, 0.5, 1.0, 2.5])
                          | st.floats(0, 1e3)), min_size=1, max_size=120),
       st.sampled_from([0.9, 0.5, 0.1, 0.75]))
def test_group_quantiles_are_numpys_to_the_bit(pairs, q):
    """gap_separation's per-cluster quantiles come from one sort: the same bits as
    one np.quantile per cluster (ties, single edges and empty clusters included)."""
    from clusterlab.selection import _group_quantiles

    groups = np.array([g for g, _ in pairs], dtype=np.int64)
    values = np.array([v for _, v in pairs], dtype=np.float64)
    got = _group_quantiles(values, groups, 8, q)
    ref = np.array([np.quantile(values[groups == c], q) if (groups == c).any() else np.nan
                    for c in range(8)])
    np.testing.assert_array_equal(got, ref)


def test_sweep_result_repr_and_sample_size_edges():
    from clusterlab import KMeans
    from clusterlab.selection import sweep

    X = np.random.RandomState(0).randn(50, 2)
    one = sweep(KMeans(n_init=1, random_state=0), X, [1])
    assert "best=None" in repr(one)  # silhouette undefined at k=1: shown, not raised
    small = sweep(KMeans(n_init=1, random_state=0), X, range(2, 9), sample_size=6,
                  random_state=0)
    sil = small.table["silhouette"]
    assert np.isfinite(sil[:4]).all() and np.isnan(sil[4:]).all()
    with pytest.raises(ValueError, match="sample_size must be"):
        sweep(KMeans(n_init=1, random_state=0), X, [2, 3], sample_size=0)


def test_gap_separation_checks_its_input():
    from clusterlab.cluster.genie import minimum_spanning_tree
    from clusterlab.selection import gap_separation

    X = np.array([[0.0], [1.0], [2.0], [3.0], [10.0], [11.0], [12.0], [13.0]])
    tree = minimum_spanning_tree(X)
    labels = [0, 0, 0, 0, 1, 1, 1, 1]
    assert gap_separation(tree, labels) == pytest.approx(7.0)
    with pytest.raises(ValueError, match="quantile"):
        gap_separation(tree, labels, quantile=2)
    with pytest.raises(ValueError, match="one per vertex"):
        gap_separation(tree, [0, 1])


@pytest.mark.parametrize("k_values", [[True, 2], ["2"], "23", [2.5], [float("nan")]])
def test_sweep_refuses_k_values_that_are_not_integers(k_values):
    X = np.random.RandomState(0).normal(size=(60, 2))
    with pytest.raises(ValueError, match="k_values must be integers"):
        sweep(clusterlab.KMeans(n_init=1), X, k_values)


def test_sweep_refuses_what_is_not_an_estimator():
    X = np.random.RandomState(0).normal(size=(60, 2))
    with pytest.raises(TypeError, match="estimator must be a clusterer"):
        sweep("kmeans", X, [2])
    assert sweep(clusterlab.KMeans(n_init=1), X, [2.0, 3], random_state=0).k_values.tolist() == [2, 3]


def test_repeated_k_values_are_refused():
    """A repeated k was fitted twice, then repr, elbow and the plots raised
    "x must be strictly increasing"."""
    X = np.random.default_rng(0).normal(size=(60, 2))
    with pytest.raises(ValueError, match=r"distinct; \[3\] is repeated"):
        sweep(clusterlab.KMeans(n_init=1, random_state=0), X, [2, 3, 3, 4])


def test_base_inertia_lets_a_sweep_from_two_find_its_elbow_at_two():
    """Kneedle never picks a curve's first point: a sweep from k=2 over two
    clean blobs said the elbow was at k=6. With the inertia of one cluster
    the curve starts at k=1 and the elbow is k=2 (as a sweep from 1 says)."""
    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, .3, (60, 2)), rng.normal(4, .3, (60, 2))]
    from_one = sweep(clusterlab.KMeans(n_init=3, random_state=0), X, range(1, 11), criteria="inertia")
    from_two = sweep(clusterlab.KMeans(n_init=3, random_state=0), X, range(2, 11), criteria="inertia")
    assert from_one.elbow == 2
    assert from_two.elbow != 2  # Kneedle alone cannot say 2 here
    from_two.base_inertia = float(((X - X.mean(axis=0)) ** 2).sum())
    assert from_two.elbow == 2
    from_one.base_inertia = 1e9  # k=1 was swept: its own inertia is used
    assert from_one.elbow == 2


def test_analysis_elbow_starts_at_one_cluster():
    import clusterlab

    rng = np.random.default_rng(0)
    X = np.r_[rng.normal(0, .3, (60, 2)), rng.normal(4, .3, (60, 2))]
    res = clusterlab.analyze(X, algorithms=("kmeans",)).result
    assert res.kmeans_sweep.k_values[0] == 2
    assert res.kmeans_sweep.elbow == 2
    assert res.kmeans_sweep.base_inertia == pytest.approx(((X - X.mean(axis=0)) ** 2).sum())
