"""DBSCAN: oracle tests against scikit-learn, prediction, bad input, figure."""

import contextlib
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import sparse
from sklearn.cluster import DBSCAN as SkDBSCAN
from sklearn.datasets import make_blobs, make_moons
from sklearn.exceptions import NotFittedError
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import DBSCAN, dbscan
from clusterlab.plotting import plot_dbscan

SEED_POINTS = np.array([[-0.5, 0], [0, 0.5], [1, -0.1], [2, 1]])


def assert_same_as_sklearn(ours, X, sample_weight=None, **params):
    """Identical labels (cluster numbers included), core indices and components."""
    theirs = SkDBSCAN(**params).fit(X, sample_weight=sample_weight)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_array_equal(ours.core_sample_indices_, theirs.core_sample_indices_)
    comps = theirs.components_
    comps = comps.toarray() if sparse.issparse(comps) else comps
    ours_comps = ours.components_.toarray() if sparse.issparse(ours.components_) \
        else ours.components_
    np.testing.assert_allclose(ours_comps, comps, rtol=0, atol=0)
    return theirs


@contextlib.contextmanager
def _direct_fits(max_work=2**62):
    """Fits within the context take the small-data path up to ``max_work``
    (``n_samples**2 * n_features``; 0: never)."""
    from clusterlab import _config

    saved = _config.DBSCAN_DIRECT_MAX_WORK
    _config.DBSCAN_DIRECT_MAX_WORK = max_work
    try:
        yield saved
    finally:
        _config.DBSCAN_DIRECT_MAX_WORK = saved


@contextlib.contextmanager
def _interpreted(on):
    """Small inputs run the kernels the interpreter may run (``on``) or the
    compiled ones, whatever the process has spent so far."""
    from clusterlab import _config

    saved = _config.INTERPRET_BUDGET_S
    _config.INTERPRET_BUDGET_S = np.inf if on else -1.0
    try:
        yield
    finally:
        _config.INTERPRET_BUDGET_S = saved


@pytest.fixture(autouse=True, scope="module")
def _grid_kernels():
    """The tests of this module run the grid kernels on small data: the path
    small inputs take instead (numpy's distances) is tested by name, with
    :func:`_direct_fits` (and by scikit-learn's own tests). Yields the
    library's own limit."""
    with _direct_fits(0) as default:
        yield default


# ----------------------------------------------------------------------- oracle


@pytest.mark.parametrize("eps, min_samples", [(0.05, 5), (0.2, 5), (0.1, 3), (0.3, 20)])
def test_moons_same_as_sklearn(moons, eps, min_samples):
    ours = DBSCAN(eps=eps, min_samples=min_samples).fit(moons)
    assert_same_as_sklearn(ours, moons, eps=eps, min_samples=min_samples)


def test_float32_same_as_sklearn_and_dtype_kept(moons):
    X32 = moons.astype(np.float32)
    ours = DBSCAN(eps=0.05).fit(X32)
    assert ours.components_.dtype == np.float32
    theirs = SkDBSCAN(eps=0.05).fit(X32)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_array_equal(ours.core_sample_indices_, theirs.core_sample_indices_)
    np.testing.assert_allclose(ours.components_, theirs.components_, atol=1e-4)


METRICS = [("euclidean", None), ("manhattan", None), ("chebyshev", None),
           ("minkowski", 3), ("minkowski", 1.5), ("l1", None)]
EPS_BY_DIM = {1: 0.05, 2: 0.35, 3: 0.6, 6: 1.6}


@pytest.mark.parametrize("metric, p", METRICS)
@pytest.mark.parametrize("n_features", [1, 2, 3, 6])
@pytest.mark.parametrize("algorithm", ["auto", "brute"])
def test_blobs_metrics_same_as_sklearn(metric, p, n_features, algorithm):
    X, _ = make_blobs(400, n_features=n_features, centers=4, cluster_std=0.8, random_state=3)
    eps = EPS_BY_DIM[n_features] * (1.6 if metric in ("manhattan", "l1") else 1.0)
    ours = DBSCAN(eps=eps, metric=metric, p=p, algorithm=algorithm).fit(X)
    theirs = assert_same_as_sklearn(ours, X, eps=eps, metric=metric, p=p)
    # the case is meaningful: several clusters and some noise or borders
    assert theirs.labels_.max() >= 1


def test_minkowski_without_p_is_euclidean():
    # scikit-learn 1.9's DBSCAN(metric="minkowski", p=None) raises a TypeError inside
    # NearestNeighbors; its documentation says p=None means 2, which is what we do.
    X, _ = make_blobs(300, centers=3, random_state=0)
    np.testing.assert_array_equal(DBSCAN(eps=0.4, metric="minkowski").fit(X).labels_,
                                  SkDBSCAN(eps=0.4).fit(X).labels_)


def test_blocked_metrics_same_as_sklearn():
    X, _ = make_blobs(200, n_features=4, centers=3, random_state=0)
    for metric, eps in [("cosine", 0.01), ("braycurtis", 0.05),
                        (lambda a, b: np.abs(a - b).max(), 0.8)]:
        ours = DBSCAN(eps=eps, metric=metric, min_samples=4).fit(X)
        theirs = assert_same_as_sklearn(ours, X, eps=eps, metric=metric, min_samples=4)
        assert theirs.labels_.max() >= 1


def test_weighted_minkowski_params_same_as_sklearn():
    X, _ = make_blobs(200, n_features=3, centers=3, random_state=1)
    params = dict(eps=0.8, metric="minkowski", p=2, metric_params={"w": np.array([1.0, 2.0, 0.5])})
    assert_same_as_sklearn(DBSCAN(**params).fit(X), X, **params)


def test_minkowski_semimetric_p_below_one_as_sklearn():
    # 0 < p < 1: scikit-learn warns and runs brute force (exact scipy distances);
    # its tree algorithms refuse it
    X, _ = make_blobs(150, n_features=3, centers=3, random_state=2)
    for params in (dict(p=0.5), dict(p=0.5, algorithm="brute"), dict(metric_params={"p": 0.7})):
        params = dict(eps=4.0, metric="minkowski", min_samples=4, **params)
        with pytest.warns(UserWarning, match="0 < p < 1"):
            ours = DBSCAN(**params).fit(X)
        with pytest.warns(UserWarning, match="0 < p < 1"):
            theirs = assert_same_as_sklearn(ours, X, **params)
        assert theirs.labels_.max() >= 1
        core = ours.core_sample_indices_
        np.testing.assert_array_equal(ours.predict(X[core]), ours.labels_[core])
    for algorithm in ("kd_tree", "ball_tree"):
        with pytest.raises(ValueError, match=f'algorithm="{algorithm}" does not support 0 < p'):
            DBSCAN(metric="minkowski", p=0.5, algorithm=algorithm).fit(X)


def test_p_in_metric_params_warns_as_sklearn_whatever_the_metric(moons):
    D = pairwise_distances(moons[:80])
    for X, params in [(moons, dict(metric="minkowski", p=2, metric_params={"p": 3})),
                      (D, dict(metric="precomputed", p=2, metric_params={"p": 3}))]:
        with pytest.warns(SyntaxWarning, match="Parameter p is found in metric_params"):
            ours = DBSCAN(eps=0.1, **params).fit(X)
        with pytest.warns(SyntaxWarning, match="Parameter p is found in metric_params"):
            assert_same_as_sklearn(ours, X, eps=0.1, **params)
    with warnings.catch_warnings():  # p=None: metric_params's p alone, no warning
        warnings.simplefilter("error")
        DBSCAN(eps=0.1, metric="minkowski", metric_params={"p": 3}).fit(moons)
        ours.predict(D[:3])


@pytest.mark.parametrize("metric", ["dice", "jaccard", "yule"])
@pytest.mark.parametrize("n_features", [4, 20])
def test_boolean_metrics_same_labels_and_warnings_as_sklearn(metric, n_features):
    # boolean X gave 3 DataConversionWarnings (X was validated to float, then
    # converted back); scikit-learn warns once, only where its brute force converts
    Xb = np.random.RandomState(0).rand(120, n_features) > 0.5
    for X in (Xb, Xb * 1.0, Xb.tolist()):
        for algorithm in ("auto", "brute"):
            params = dict(metric=metric, eps=0.3, min_samples=3, algorithm=algorithm)
            with warnings.catch_warnings(record=True) as ours_w:
                warnings.simplefilter("always")
                ours = DBSCAN(**params).fit(X)
            with warnings.catch_warnings(record=True) as theirs_w:
                warnings.simplefilter("always")
                assert_same_as_sklearn(ours, np.asarray(X), **params)
            assert [str(w.message) for w in ours_w] == [str(w.message) for w in theirs_w]
            assert len(ours_w) == (0 if isinstance(X, list) or X.dtype == bool else
                                   int(algorithm == "brute" or metric == "yule"
                                       or n_features > 15))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(ours.predict(Xb), DBSCAN(**params).fit(Xb).predict(Xb))


def test_duplicates_and_ties_same_as_sklearn():
    # integer grid with duplicates: many distances are exactly eps
    rng = np.random.default_rng(0)
    X = rng.integers(0, 12, size=(300, 2)).astype(float)
    X = np.vstack([X, X[:40]])
    for eps, ms, metric in [(1.0, 4, "euclidean"), (1.0, 6, "chebyshev"), (2.0, 5, "manhattan"),
                            (np.sqrt(2), 7, "euclidean")]:
        ours = DBSCAN(eps=eps, min_samples=ms, metric=metric).fit(X)
        assert_same_as_sklearn(ours, X, eps=eps, min_samples=ms, metric=metric)


def test_all_duplicates_and_single_point():
    X = np.zeros((10, 3))
    ours = DBSCAN(eps=0.1, min_samples=10).fit(X)
    assert_same_as_sklearn(ours, X, eps=0.1, min_samples=10)
    ours = DBSCAN(eps=0.1, min_samples=11).fit(X)
    assert (ours.labels_ == -1).all() and ours.components_.shape == (0, 3)
    one = DBSCAN(min_samples=1).fit([[1.0, 2.0]])
    np.testing.assert_array_equal(one.labels_, [0])


def _two_clusters_and_a_border(first):
    a = np.array([[0.0, 0.0], [-0.01, 0.0], [-0.01, 0.01], [-0.01, -0.01]])
    b = a * [-1, 1] + [2.0, 0.0]
    border = np.array([[1.0, 0.0]])  # exactly eps from the two nearest cores
    parts = [a, b] if first == "a" else [b, a]
    return np.vstack(parts + [border])


@pytest.mark.parametrize("first", ["a", "b"])
def test_border_point_goes_to_smallest_label(first):
    """Documented rule: a border point reachable from two clusters gets the smaller label."""
    X = _two_clusters_and_a_border(first)
    ours = DBSCAN(eps=1.0, min_samples=4).fit(X)
    assert 8 not in ours.core_sample_indices_  # the border point is not core
    assert ours.labels_[0] == 0 and ours.labels_[4] == 1
    assert ours.labels_[8] == 0
    assert_same_as_sklearn(ours, X, eps=1.0, min_samples=4)


def test_sample_weight_same_as_sklearn(moons):
    rng = np.random.default_rng(1)
    w = rng.uniform(0, 3, len(moons))
    w[::7] = 0.0
    ours = DBSCAN(eps=0.05, min_samples=6).fit(moons, sample_weight=w)
    assert_same_as_sklearn(ours, moons, sample_weight=w, eps=0.05, min_samples=6)
    w[::11] = -2.0  # negative weights keep neighbours from being core (as scikit-learn)
    ours = DBSCAN(eps=0.05, min_samples=6).fit(moons, sample_weight=w)
    assert_same_as_sklearn(ours, moons, sample_weight=w, eps=0.05, min_samples=6)


def test_sample_weight_equals_duplication():
    X, _ = make_blobs(150, centers=3, random_state=2)
    # integer weights >= 1 (a zero-weight core sample still links its neighbours, while
    # a dropped duplicate does not)
    w = np.random.default_rng(0).integers(1, 4, len(X))
    weighted = DBSCAN(eps=0.5, min_samples=6).fit(X, sample_weight=w)
    dup = DBSCAN(eps=0.5, min_samples=6).fit(np.repeat(X, w, axis=0))
    core_w = np.zeros(len(X), bool)
    core_w[weighted.core_sample_indices_] = True
    core_d = np.zeros(len(dup.labels_), bool)
    core_d[dup.core_sample_indices_] = True
    np.testing.assert_array_equal(np.repeat(core_w, w), core_d)
    np.testing.assert_array_equal(np.repeat(weighted.labels_, w), dup.labels_)


def test_precomputed_dense_and_sparse_same_as_sklearn(moons):
    X = moons[:300]
    D = pairwise_distances(X)
    ours = DBSCAN(eps=0.1, metric="precomputed").fit(D)
    assert_same_as_sklearn(ours, D, eps=0.1, metric="precomputed")
    np.testing.assert_array_equal(ours.labels_, DBSCAN(eps=0.1).fit(X).labels_)
    # sparse: only stored entries are neighbours (a radius graph of a larger radius)
    S = sparse.csr_matrix(np.where(D <= 0.15, D, 0.0))
    ours_s = DBSCAN(eps=0.1, metric="precomputed").fit(S)
    np.testing.assert_array_equal(ours_s.labels_, ours.labels_)
    theirs = SkDBSCAN(eps=0.1, metric="precomputed").fit(S)
    np.testing.assert_array_equal(ours_s.labels_, theirs.labels_)
    np.testing.assert_array_equal(ours_s.core_sample_indices_, theirs.core_sample_indices_)


def test_sparse_features_same_as_sklearn():
    X, _ = make_blobs(200, n_features=5, centers=3, random_state=4)
    X[np.abs(X) < 3] = 0.0
    S = sparse.csr_matrix(X)
    ours = DBSCAN(eps=1.5, min_samples=4).fit(S)
    theirs = SkDBSCAN(eps=1.5, min_samples=4).fit(S)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_array_equal(ours.core_sample_indices_, theirs.core_sample_indices_)
    np.testing.assert_array_equal(DBSCAN(eps=1.5, min_samples=4).fit(X).labels_, ours.labels_)


def test_dbscan_function_matches_estimator(moons):
    core, labels = dbscan(moons, eps=0.2)
    model = DBSCAN(eps=0.2).fit(moons)
    np.testing.assert_array_equal(core, model.core_sample_indices_)
    np.testing.assert_array_equal(labels, model.labels_)


def test_thread_count_does_not_change_result(parallel_kernels):
    X, _ = make_blobs(3000, n_features=2, centers=6, cluster_std=1.5, random_state=5)
    one = DBSCAN(eps=0.2, n_jobs=1).fit(X)
    many = DBSCAN(eps=0.2, n_jobs=-1).fit(X)
    np.testing.assert_array_equal(one.labels_, many.labels_)


def test_input_not_modified(moons):
    X = moons.copy()
    DBSCAN(eps=0.05).fit(X).predict(X)
    np.testing.assert_array_equal(X, moons)


@given(arrays(np.int8, st.tuples(st.integers(1, 60), st.integers(1, 3)),
              elements=st.integers(-6, 6)),
       st.sampled_from([1.0, 1.5, 2.0, 3.0]), st.integers(1, 6),
       st.sampled_from(["euclidean", "manhattan", "chebyshev"]))
def test_property_same_as_sklearn_on_integer_data(Xi, eps, min_samples, metric):
    """Small integer data: exact arithmetic, many ties and duplicates."""
    X = Xi.astype(float)
    ours = DBSCAN(eps=eps, min_samples=min_samples, metric=metric).fit(X)
    theirs = SkDBSCAN(eps=eps, min_samples=min_samples, metric=metric).fit(X)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    np.testing.assert_array_equal(ours.core_sample_indices_, theirs.core_sample_indices_)


@given(st.integers(0, 2**31 - 1))
def test_property_permutation_invariance(seed):
    """Core samples follow the points; core clusters are the same up to renumbering."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(80, 2))
    perm = rng.permutation(len(X))
    a = DBSCAN(eps=0.3, min_samples=4).fit(X)
    b = DBSCAN(eps=0.3, min_samples=4).fit(X[perm])
    np.testing.assert_array_equal(np.sort(perm[b.core_sample_indices_]), a.core_sample_indices_)
    core = a.core_sample_indices_
    inv = np.empty_like(perm)
    inv[perm] = np.arange(len(perm))
    la, lb = a.labels_[core], b.labels_[inv[core]]
    # a bijection between the two numberings on the core samples
    pairs = set(zip(la.tolist(), lb.tolist()))
    assert len(pairs) == len(set(la.tolist())) == len(set(lb.tolist()))
    np.testing.assert_array_equal(a.labels_ == -1, b.labels_[inv] == -1)


# ------------------------------------------------------------------ the seed


def test_expected_moons_rows(moons):
    small = DBSCAN(eps=0.05, min_samples=5).fit(moons)
    n_clusters = small.labels_.max() + 1
    assert 5 <= n_clusters <= 9  # "several small clusters (about 7)"
    assert (small.labels_ == -1).any()  # plus noise
    big = DBSCAN(eps=0.2).fit(moons)
    assert big.labels_.max() + 1 == 2 and (big.labels_ >= 0).all()


def test_seed_knn_recipe_equals_predict(moons):
    model = DBSCAN(eps=0.2).fit(moons)
    knn = KNeighborsClassifier(n_neighbors=50)
    knn.fit(model.components_, model.labels_[model.core_sample_indices_])
    y_dist, y_pred_idx = knn.kneighbors(SEED_POINTS, n_neighbors=1)
    y_pred = model.labels_[model.core_sample_indices_][y_pred_idx]
    y_pred[y_dist > 0.2] = -1
    recipe = y_pred.ravel()
    ours = model.predict(SEED_POINTS)
    np.testing.assert_array_equal(ours, recipe)
    assert ours[0] == -1 and ours[3] == -1
    assert ours[1] >= 0 and ours[2] >= 0 and ours[1] != ours[2]


# ------------------------------------------------------------------ predict


@pytest.mark.parametrize("metric, p, n_features", [("euclidean", None, 2), ("manhattan", None, 3),
                                                   ("minkowski", 3, 5), ("cosine", None, 4)])
def test_predict_is_nearest_core_within_eps(metric, p, n_features):
    X, _ = make_blobs(500, n_features=n_features, centers=4, random_state=6)
    eps = {2: 0.5, 3: 1.2, 5: 1.5, 4: 0.01}[n_features]
    model = DBSCAN(eps=eps, metric=metric, p=p, min_samples=4).fit(X)
    assert len(model.core_sample_indices_) > 10
    Q = X + np.random.default_rng(0).normal(scale=0.4, size=X.shape)
    Q = np.vstack([Q, Q * 5])  # many far from every core sample
    kw = {"p": p} if p is not None else {}
    D = pairwise_distances(Q, model.components_, metric=metric, **kw)
    nearest = D.argmin(axis=1)
    expected = np.where(D.min(axis=1) <= eps,
                        model.labels_[model.core_sample_indices_][nearest], -1)
    got = model.predict(Q)
    np.testing.assert_array_equal(got, expected)
    assert (got == -1).any() and (got >= 0).any()


def test_predict_reproduces_core_labels(moons):
    for eps in (0.05, 0.2):
        model = DBSCAN(eps=eps).fit(moons)
        core = model.core_sample_indices_
        np.testing.assert_array_equal(model.predict(moons[core]), model.labels_[core])
        assert np.array_equal(model.fit_predict(moons), model.labels_)


def test_predict_precomputed(moons):
    X = moons[:300]
    model = DBSCAN(eps=0.1, metric="precomputed").fit(pairwise_distances(X))
    Q = moons[300:400]
    ref = DBSCAN(eps=0.1).fit(X).predict(Q)
    np.testing.assert_array_equal(model.predict(pairwise_distances(Q, X)), ref)


@pytest.mark.parametrize("n_features", [1, 2, 3, 5])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_predict_where_clusters_touch_is_nearest_core(n_features, dtype, monkeypatch):
    # clusters a little more than eps apart: many queries see cores of two
    # clusters within eps (the exact nearest-core path), most see one (the
    # label-only path); both must give the nearest core's label, ties to the
    # smallest core index, on 1 and on all threads
    rng = np.random.default_rng(n_features)
    eps = {1: 0.02, 2: 0.08, 3: 0.25, 5: 0.6}[n_features]
    centres = np.zeros((3, n_features))
    centres[:, 0] = np.arange(3) * (1.2 + 1.5 * eps)  # gaps between eps and 2 eps
    X = np.vstack([c + rng.uniform(-0.6, 0.6, size=(400, n_features)) for c in centres])
    X = X.astype(dtype)
    from clusterlab import _config

    # the grid's predict index is under test: in 5 features eps spans half a
    # cube, where the fit would rather take the products (no grid index)
    monkeypatch.setattr(_config, "DBSCAN_PRODUCTS_MIN_SHARE", 2.0)
    model = DBSCAN(eps=eps, min_samples=4).fit(X)
    assert model.labels_.max() >= 1
    Q = np.vstack([X + rng.normal(scale=eps, size=X.shape),
                   rng.uniform(-1, 4, size=(300, n_features))]).astype(dtype)
    comps = model.components_
    from scipy.spatial.distance import cdist

    # squared distances summed directly, compared with eps**2 as the kernels do
    D = cdist(Q.astype(np.float64), comps.astype(np.float64), "sqeuclidean")
    core_labels = model.labels_[model.core_sample_indices_]
    expected = np.where(D.min(axis=1) <= eps * eps, core_labels[D.argmin(axis=1)], -1)
    within = D <= eps * eps
    n_labels_within = np.array([len(np.unique(core_labels[w])) for w in within])
    assert (n_labels_within >= 2).any() and (n_labels_within == 1).any()
    for n_jobs in (1, -1):
        model.set_params(n_jobs=n_jobs)
        np.testing.assert_array_equal(model.predict(Q), expected)
    # the index kept from the fit and one built at predict time (when eps
    # changed since fit) give the same labels
    from clusterlab.cluster.dbscan import _predict_grid

    assert model._core_grid is not None
    np.testing.assert_array_equal(
        _predict_grid(Q.astype(np.float64), comps.astype(np.float64), core_labels, eps, 0, 2.0),
        expected)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_features=st.integers(1, 4),
       metric=st.sampled_from(["euclidean", "manhattan", "chebyshev"]),
       on_grid=st.booleans(), eps=st.sampled_from([0.5, 1.0, 1.5, 2.0]))
def test_predict_direct_equals_grid(seed, n_features, metric, on_grid, eps):
    # few queries: predict computes every query-core distance with numpy
    # instead of asking the grid; the labels are the grid kernels', ties
    # (integer coordinates, distances exactly eps) and all
    from clusterlab.cluster.dbscan import _predict_direct, _predict_grid

    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 8, size=(120, n_features))
    Q = rng.uniform(-1, 9, size=(30, n_features))
    if on_grid:
        X, Q = np.round(X), np.round(Q)
    model = DBSCAN(eps=eps, metric=metric, min_samples=3).fit(X)
    if len(model.core_sample_indices_) == 0:
        return
    comps = np.ascontiguousarray(model.components_, dtype=np.float64)
    core_labels = model.labels_[model.core_sample_indices_]
    code = {"euclidean": 0, "manhattan": 1, "chebyshev": 2}[metric]
    direct = _predict_direct(Q, comps, core_labels, eps, code, 2.0)
    np.testing.assert_array_equal(direct, _predict_grid(Q, comps, core_labels, eps, code, 2.0))
    np.testing.assert_array_equal(model.predict(Q), direct)  # 30 x <= 120 pairs: direct


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_features=st.integers(1, 4),
       metric=st.sampled_from(["euclidean", "manhattan", "chebyshev"]),
       on_grid=st.booleans(), eps=st.sampled_from([0.5, 1.0, 1.5, 2.0]),
       min_samples=st.integers(1, 6), weighted=st.booleans(), f32=st.booleans(),
       interpret=st.booleans())
def test_direct_fit_equals_grid(seed, n_features, metric, on_grid, eps, min_samples, weighted,
                                f32, interpret):
    # small data: the fit's radius tests come from numpy's distances through the
    # kernels of precomputed distances (their union-find passes interpreted or
    # compiled); labels (numbers included), core samples and components are the
    # grid's, ties at exactly eps and weights included
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 8, size=(150, n_features))
    if on_grid:
        X = np.round(X)
    X = X.astype(np.float32 if f32 else np.float64)
    w = rng.integers(-1, 4, size=len(X)).astype(float) if weighted else None
    params = dict(eps=eps, metric=metric, min_samples=min_samples)
    grid = DBSCAN(**params).fit(X, sample_weight=w)
    with _direct_fits(), _interpreted(interpret):
        direct = DBSCAN(**params).fit(X, sample_weight=w)
    assert direct._core_grid is None  # no grid was built
    np.testing.assert_array_equal(direct.labels_, grid.labels_)
    np.testing.assert_array_equal(direct.core_sample_indices_, grid.core_sample_indices_)
    np.testing.assert_array_equal(direct.components_, grid.components_)
    # predict without the fit's index: the same labels
    Q = rng.uniform(-1, 9, size=(400, n_features))
    np.testing.assert_array_equal(direct.predict(Q), grid.predict(Q))


def test_direct_fit_by_size(_grid_kernels):
    # the first fits of a new user (1000 moons) take numpy's distances; larger
    # or wider data the grid (the library's own limit, which this module's
    # fixture sets aside)
    from clusterlab.cluster.dbscan import _use_direct

    with _direct_fits(_grid_kernels):
        assert _use_direct(np.zeros((1000, 2)), (0, 2.0))
        assert not _use_direct(np.zeros((2000, 2)), (0, 2.0))
        assert not _use_direct(np.zeros((1000, 2)), (3, 3.0))  # general p: the grid


def test_predict_no_core_samples_is_all_noise():
    model = DBSCAN(eps=0.01, min_samples=3).fit([[0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(model.predict([[0.0, 0.0], [5.0, 5.0]]), [-1, -1])


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize("params, match", [
    ({"eps": 0.0}, "eps"), ({"eps": -1.0}, "eps"), ({"min_samples": 0}, "min_samples"),
    ({"min_samples": 2.5}, "min_samples"), ({"metric": "nope"}, "metric"),
    ({"algorithm": "fast"}, "algorithm"), ({"leaf_size": 0}, "leaf_size"),
    ({"metric": "minkowski", "p": np.inf}, "'p' parameter"),
    ({"metric": "minkowski", "metric_params": {"p": 0}}, "p=0 is not a valid Minkowski"),
])
def test_bad_parameters(moons, params, match):
    with pytest.raises(ValueError, match=match):
        DBSCAN(**params).fit(moons)


@pytest.mark.parametrize("X, match", [
    (np.array([[0.0, np.nan], [1.0, 1.0]]), "NaN"),
    (np.array([[0.0, np.inf], [1.0, 1.0]]), "infinity"),
    (np.empty((0, 2)), "0 sample"),
    (np.array([1.0, 2.0, 3.0]), "2D array"),
])
def test_bad_data(X, match):
    with pytest.raises(ValueError, match=match):
        DBSCAN().fit(X)


def test_bad_precomputed():
    with pytest.raises(ValueError, match="square"):
        DBSCAN(metric="precomputed").fit(np.ones((4, 3)))
    with pytest.raises(ValueError, match="square"):
        DBSCAN(metric="precomputed").fit(sparse.csr_matrix(np.ones((4, 3))))
    with pytest.raises(ValueError, match="Negative"):
        DBSCAN(metric="precomputed").fit(-np.ones((3, 3)))


def test_bad_sample_weight(moons):
    with pytest.raises(ValueError):
        DBSCAN().fit(moons, sample_weight=np.ones(3))


def test_predict_errors(moons):
    with pytest.raises(NotFittedError):
        DBSCAN().predict(moons)
    model = DBSCAN(eps=0.2).fit(moons)
    with pytest.raises(ValueError, match="features"):
        model.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="2D array"):
        model.predict(np.ones(2))


# ------------------------------------------------------------------ figure


def test_plot_dbscan(moons):
    model = DBSCAN(eps=0.05, min_samples=5).fit(moons)
    fig = plot_dbscan(model, moons, size=100)
    ax = fig.axes[0]
    assert ax.get_title() == "eps=0.05, min_samples=5"
    n_core = len(model.core_sample_indices_)
    n_noise = int((model.labels_ == -1).sum())
    sizes = [len(c.get_offsets()) for c in ax.collections]
    assert sizes == [n_core, n_core, n_noise, len(moons) - n_core - n_noise]
    from matplotlib.figure import Figure

    fig2 = Figure()
    ax2 = fig2.add_subplot(111)
    assert plot_dbscan(DBSCAN(eps=0.2).fit(moons), moons, size=600, ax=ax2,
                       show_ylabels=False) is fig2
    assert ax2.get_title() == "eps=0.20, min_samples=5"
    with pytest.raises(ValueError, match="rows"):
        plot_dbscan(model, moons[:10])


# ------------------------------------------------------------------ sklearn API

# metric="precomputed" is checked too; two checks feed it feature matrices with
# negative values, which are not distance matrices: scikit-learn's own
# DBSCAN(metric="precomputed") fails them the same way (ValueError on
# negative distances), so they are expected to fail for that instance only.
_PRECOMPUTED_FAILS = {
    "check_positive_only_tag_during_fit": "negative values are not distances",
    "check_clustering": "feeds feature matrices (negative values) as distances",
}


def _expected_failed(est):
    return _PRECOMPUTED_FAILS if est.metric == "precomputed" else {}


@parametrize_with_checks([DBSCAN(), DBSCAN(metric="manhattan", algorithm="brute"),
                          DBSCAN(metric="cosine"), DBSCAN(metric="precomputed")],
                         expected_failed_checks=_expected_failed)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_moons_make_moons_large_agrees():
    """A larger case crossing many grid cells (and crowded cells)."""
    X, _ = make_moons(20000, noise=0.05, random_state=0)
    ours = DBSCAN(eps=0.02, min_samples=8).fit(X)
    assert_same_as_sklearn(ours, X, eps=0.02, min_samples=8)


# ------------------------------------------------------------ radius queries


@pytest.mark.parametrize("n_features, metric, p", [(2, "euclidean", 2), (3, "manhattan", 1),
                                                   (5, "minkowski", 3), (2, "chebyshev", 2)])
@pytest.mark.parametrize("include_self", [False, True])
def test_radius_neighbors_csr_same_as_sklearn(n_features, metric, p, include_self):
    from sklearn.neighbors import radius_neighbors_graph

    from clusterlab._kernels.neighbors import radius_neighbors_csr

    X, _ = make_blobs(600, n_features=n_features, centers=3, random_state=0)
    X = np.vstack([X, X[:20]])  # duplicates: distance 0 entries
    ours = radius_neighbors_csr(X, 0.9, metric, p, include_self=include_self)
    theirs = radius_neighbors_graph(X, 0.9, mode="distance", metric=metric, p=p,
                                    include_self=include_self)
    theirs.sort_indices()
    assert ours.nnz > len(X)
    np.testing.assert_array_equal(ours.indptr, theirs.indptr)
    np.testing.assert_array_equal(ours.indices, theirs.indices)
    np.testing.assert_allclose(ours.data, theirs.data, rtol=1e-12, atol=1e-12)


def test_huge_spread_falls_back_to_coarser_grid():
    """Spread / eps beyond 62-bit cell keys: fewer grid coordinates, same labels."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(200, 2)) * 1e-3, rng.normal(size=(200, 2)) * 1e-3 + 1e9,
                   [[-1e9, 5e8]]])
    ours = DBSCAN(eps=1e-3, min_samples=4).fit(X)
    assert_same_as_sklearn(ours, X, eps=1e-3, min_samples=4)
    assert ours.labels_.max() == 1
    np.testing.assert_array_equal(ours.predict([[0, 0], [1e9, 1e9], [1e300, -1e300]]),
                                  [0, 1, -1])


@pytest.mark.parametrize("p", [None, 1, 2])
def test_sparse_input_with_default_minkowski_metric(p):
    # scipy's minkowski takes no sparse input: p = 1 / 2 run as manhattan /
    # euclidean, as scikit-learn's neighbour search runs them
    X, _ = make_blobs(150, centers=3, cluster_std=0.5, random_state=0)
    Xs = sparse.csr_matrix(X)
    ours = DBSCAN(eps=0.8, min_samples=5, p=p).fit(Xs)
    ref = SkDBSCAN(eps=0.8, min_samples=5, p=p).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
    np.testing.assert_array_equal(ours.predict(Xs[:20]), ours.labels_[:20])
    core, labels = dbscan(sparse.lil_matrix(X), eps=0.8, min_samples=5)
    np.testing.assert_array_equal(labels, ref.labels_)


def test_neighbour_kernel_names_importable_from_the_package():
    # the kernels live in one module per concern; callers keep importing them
    # from clusterlab._kernels.neighbors
    from clusterlab._kernels import neighbors as nk
    from clusterlab._kernels.neighbors import grid, radius

    for name in nk.__all__:
        assert getattr(nk, name) is not None
    assert nk.GridIndex is grid.GridIndex
    assert nk.radius_neighbors_csr is radius.radius_neighbors_csr


@given(arrays(np.float64, st.integers(0, 300),
              elements=st.sampled_from([-1.5, 0.0, 0.25, 2.0, 7.0]) | st.floats(-1e6, 1e6)))
def test_grid_split_sort_is_numpys_stable_argsort(vals):
    """The grid's block split orders rows with its own merge sort (numba's costs
    ~0.8 s to compile): the same permutation as numpy's stable sort, ties included."""
    from clusterlab._kernels.neighbors.grid import _stable_argsort

    idx = np.empty(len(vals), np.int64)
    _stable_argsort(vals, idx, np.empty(len(vals), np.int64))
    np.testing.assert_array_equal(idx, np.argsort(vals, kind="stable"))


# ------------------------------------------------- many features: BLAS products


def _many_features(n=900, d=40, seed=0, dtype=np.float64, offset=0.0):
    X, _ = make_blobs(n, d, centers=6, cluster_std=1.0, center_box=(-4, 4), random_state=seed)
    return (X + offset).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("offset", [0.0, 1e4])
@pytest.mark.parametrize("eps, min_samples", [(6.0, 5), (7.5, 20), (5.0, 3)])
def test_many_features_products_path_same_as_sklearn_and_grid(dtype, offset, eps, min_samples,
                                                              monkeypatch):
    from clusterlab import _config

    X = _many_features(dtype=dtype, offset=offset)
    assert X.shape[1] >= _config.DBSCAN_PRODUCTS_MIN_FEATURES
    ours = DBSCAN(eps=eps, min_samples=min_samples).fit(X)
    assert_same_as_sklearn(ours, X, eps=eps, min_samples=min_samples)
    # the grid path's exact distances decide the same way
    monkeypatch.setattr(_config, "DBSCAN_PRODUCTS_MIN_FEATURES", 10**6)
    monkeypatch.setattr(_config, "DBSCAN_PRODUCTS_MIN_SHARE", 2.0)
    grid = DBSCAN(eps=eps, min_samples=min_samples).fit(X)
    np.testing.assert_array_equal(grid.labels_, ours.labels_)
    np.testing.assert_array_equal(grid.core_sample_indices_, ours.core_sample_indices_)


@pytest.mark.parametrize("d", [12, 20])
def test_overlapping_clusters_in_a_few_dozen_features_take_the_products(d, monkeypatch):
    # eps near the spread of a coordinate: the grid over three coordinates left
    # every pair to test (20000 x 20: 12.8 s against scikit-learn's 1.4 s)
    from clusterlab import _config
    from clusterlab.cluster._dbscan_blocks import use_products as _use_products

    rng = np.random.default_rng(0)
    X = rng.normal(0, 1, (8, d))[rng.integers(0, 8, 3000)] + rng.normal(0, 1, (3000, d))
    eps = float(np.sqrt(d))
    assert _use_products(X, (0, 2.0), "auto", eps)
    ours = DBSCAN(eps=eps, min_samples=10).fit(X)
    assert_same_as_sklearn(ours, X, eps=eps, min_samples=10)
    monkeypatch.setattr(_config, "DBSCAN_PRODUCTS_MIN_SHARE", 2.0)
    grid = DBSCAN(eps=eps, min_samples=10).fit(X)
    np.testing.assert_array_equal(grid.labels_, ours.labels_)
    # in 6 features the grid's exact distances stay cheaper (20000 x 6 with half the
    # pairs as candidates: 0.28 s against the products' 0.95 s)
    six = rng.normal(0, 1, (8, 6))[rng.integers(0, 8, 3000)] + rng.normal(0, 1, (3000, 6))
    assert not _use_products(six, (0, 2.0), "auto", float(np.sqrt(6)))
    # separated blobs and a small eps keep the grid
    far, _ = make_blobs(3000, d, centers=20, cluster_std=1.0, center_box=(-50, 50),
                        random_state=0)
    assert not _use_products(far, (0, 2.0), "auto", 2.0)


def test_many_features_pairs_at_exactly_eps_decided_exactly():
    """Integer rows on many features: a great many pairs lie exactly at eps, where
    the product estimate is re-checked by the exact sum."""
    rng = np.random.default_rng(3)
    X = rng.integers(0, 3, size=(400, 36)).astype(float)
    X = np.vstack([X, X[:30]])
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    eps = 7.0
    assert (d2 == 49.0).sum() > 1000
    for ms in (4, 30):
        ours = DBSCAN(eps=eps, min_samples=ms).fit(X)
        assert_same_as_sklearn(ours, X, eps=eps, min_samples=ms)


@pytest.mark.slow  # compiles the over-budget path's kernels, a second variant of the passes
def test_many_features_weights_and_lists_beyond_their_budget(monkeypatch):
    from clusterlab import _config

    X = _many_features(n=700, seed=4)
    w = np.random.default_rng(2).uniform(0, 2.5, len(X))
    w[::9] = 0.0
    kept = DBSCAN(eps=6.5, min_samples=8).fit(X, sample_weight=w)
    assert_same_as_sklearn(kept, X, sample_weight=w, eps=6.5, min_samples=8)
    # lists too large for the budget: the passes compute the products again
    monkeypatch.setattr(_config, "DBSCAN_NEIGHBOUR_LIST_BYTES", 64)
    again = DBSCAN(eps=6.5, min_samples=8).fit(X, sample_weight=w)
    np.testing.assert_array_equal(again.labels_, kept.labels_)
    np.testing.assert_array_equal(again.core_sample_indices_, kept.core_sample_indices_)
    unit = DBSCAN(eps=6.5, min_samples=8).fit(X)
    assert_same_as_sklearn(unit, X, eps=6.5, min_samples=8)
    # predict on the products-fitted model: nearest core within eps
    new = X[::50] + 0.1
    lab = again.predict(new)
    dist = pairwise_distances(new, again.components_)
    near = dist.min(axis=1) <= 6.5
    np.testing.assert_array_equal(lab[~near], -1)
    np.testing.assert_array_equal(lab[near], again.labels_[again.core_sample_indices_][
        dist.argmin(axis=1)][near])


def test_many_features_neighbour_lists_are_the_exact_neighbourhoods():
    from clusterlab.cluster._dbscan_blocks import ProductBlocks as _ProductBlocks

    X = _many_features(n=650, seed=6)
    ws = np.random.default_rng(1).uniform(0.5, 2.0, len(X))
    source = _ProductBlocks(X, 6.0)
    source.rows = 100  # several blocks, pairs straddling them
    weights, (indptr, indices) = source.neighbour_lists(ws, 10**9)
    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    for i in range(len(X)):
        want = np.flatnonzero(d2[i] <= 36.0)
        np.testing.assert_array_equal(indices[indptr[i]:indptr[i + 1]], want[want != i])
        assert weights[i] == pytest.approx(ws[want].sum(), rel=1e-12)
    assert source.neighbour_lists(ws, 10) is None  # beyond the budget


def test_eps_whose_square_overflows_is_refused_and_huge_rows_stay_right():
    X = np.random.RandomState(0).randn(40, 3)
    s = 2.0 ** 520  # exact scaling: the same clustering, but eps**2 overflows
    with pytest.raises(ValueError, match="eps=.* is too large"):
        DBSCAN(eps=s, min_samples=3).fit(X * s)
    with pytest.raises(ValueError, match="eps=.* is too large"):
        DBSCAN(eps=2e200, min_samples=2, algorithm="brute").fit(
            np.array([[0.0, 0.0], [1e200, 0.0], [5e200, 0.0]]))
    model = DBSCAN(eps=1.0, min_samples=3).fit(X)
    with pytest.raises(ValueError, match="eps=.* is too large"):
        model.set_params(eps=s).predict(X)
    # rows far apart whose distances overflow are beyond a finite eps: all noise, as exact
    far = DBSCAN(eps=1.0, min_samples=3).fit(X * 2.0 ** 500)
    np.testing.assert_array_equal(far.labels_, -1)


@pytest.mark.parametrize("metric", ["cosine", "correlation"])
def test_scale_free_metrics_on_huge_and_tiny_rows(metric):
    # squared norms overflowed / underflowed: all noise, silently (as scikit-learn)
    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(10, 3), rng.randn(10, 3) + 6, rng.randn(10, 3) + [0, 8, 1]])
    # exact power-of-two scalings, per row too: cosine and correlation do not change
    scales = [2.0 ** 700, 2.0 ** -700, np.ldexp(1.0, rng.randint(-900, 900, (30, 1)))]
    ref = DBSCAN(eps=0.05, min_samples=3, metric=metric).fit(X)
    assert ref.labels_.max() >= 1
    for s in scales:
        model = DBSCAN(eps=0.05, min_samples=3, metric=metric).fit(X * s)
        np.testing.assert_array_equal(model.labels_, ref.labels_)
        np.testing.assert_array_equal(model.predict(X * s), ref.predict(X))
        if metric == "cosine":
            np.testing.assert_array_equal(
                DBSCAN(eps=0.05, min_samples=3, metric=metric).fit(
                    sparse.csr_matrix(X * s)).labels_, ref.labels_)


@pytest.mark.parametrize("n_features", [1, 2, 3, 6])
@pytest.mark.parametrize("eps", [5e-324, 1e-310])
def test_subnormal_eps_is_silent_and_exact(n_features, eps):
    # the grid's cell counts overflowed (numpy RuntimeWarnings); duplicates are
    # at distance 0 <= eps, everything else is beyond it
    X = np.random.RandomState(0).randn(45, n_features)
    X[1] = X[2] = X[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for metric in ("euclidean", "manhattan", "chebyshev"):
            model = DBSCAN(eps=eps, min_samples=3, metric=metric).fit(X)
            np.testing.assert_array_equal(model.labels_, [0, 0, 0] + [-1] * 42)
            np.testing.assert_array_equal(model.predict(X[:5]), [0, 0, 0, -1, -1])


@pytest.mark.parametrize("params, error", [
    ({"p": 0}, "'p' parameter"),
    ({"p": np.inf}, "'p' parameter"),
    ({"n_jobs": 0}, "n_jobs == 0"),
])
def test_parameters_sklearn_refuses(params, error):
    X = np.random.RandomState(0).randn(20, 2)
    with pytest.raises(ValueError, match=error):
        SkDBSCAN(**params).fit(X)
    with pytest.raises(ValueError, match=error):
        DBSCAN(**params).fit(X)


@pytest.mark.parametrize("algorithm,metric", [("ball_tree", "yule"), ("kd_tree", "dice"),
                                              ("kd_tree", "cosine"), ("ball_tree", "precomputed"),
                                              ("kd_tree", lambda a, b: float(abs(a - b).sum()))])
def test_a_tree_algorithm_refuses_a_metric_it_cannot_compute_as_sklearn(algorithm, metric):
    X = np.random.RandomState(0).rand(30, 3)
    if metric == "precomputed":
        X = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    with pytest.raises(ValueError) as ours:
        DBSCAN(eps=0.3, metric=metric, algorithm=algorithm).fit(X)
    with pytest.raises(ValueError) as ref:
        SkDBSCAN(eps=0.3, metric=metric, algorithm=algorithm).fit(X)
    assert str(ours.value) == str(ref.value)
    # what the tree can compute still fits
    DBSCAN(eps=0.3, metric="manhattan", algorithm=algorithm).fit(np.random.RandomState(1).rand(30, 3))


def test_a_p_in_metric_params_decides_whether_the_euclidean_magnitude_check_applies():
    """Manhattan distances (p=1 given in metric_params) of values near 1e-160 do
    not underflow: fitted as scikit-learn fits them, not refused as Euclidean."""
    X = np.random.RandomState(0).rand(40, 2) * 1e-160
    kw = dict(eps=3e-161, min_samples=3, metric="minkowski", metric_params={"p": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        ours = DBSCAN(**kw).fit(X)
        ref = SkDBSCAN(**kw).fit(X)
    np.testing.assert_array_equal(ours.labels_, ref.labels_)
