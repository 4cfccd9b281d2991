"""clusterlab.metrics against scikit-learn's, on random and degenerate data."""

import numba
import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

import clusterlab
from clusterlab import metrics

FAST_METRICS = ["euclidean", "sqeuclidean", "manhattan", "cosine", "l1", "l2", "cityblock"]


def random_problem(n=120, d=4, k=4, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    X = rng.normal(size=(n, d)) + labels[:, None] * 1.5
    return X, labels


def degenerate_problem():
    """Duplicated rows, a one-point cluster, a cluster of identical points, a zero row."""
    X, labels = random_problem(60, 3, 3, seed=1)
    X[5] = X[6]
    X[7] = X[6]
    labels[5:8] = labels[6]
    labels[10] = 7  # singleton
    X[20:24] = X[20]
    labels[20:24] = 9  # four identical points
    X[30] = 0.0  # zero vector (cosine distance 1 to everything)
    return X, labels


def tol(dtype):
    return 1e-4 if dtype == np.float32 else 1e-6


@pytest.mark.parametrize("metric", FAST_METRICS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("problem", ["random", "degenerate"])
def test_silhouette_samples_matches_sklearn(metric, dtype, problem):
    X, labels = random_problem() if problem == "random" else degenerate_problem()
    X = X.astype(dtype)
    ours = metrics.silhouette_samples(X, labels, metric=metric)
    theirs = skm.silhouette_samples(X, labels, metric=metric)
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=tol(dtype))


def test_one_point_clusters_get_zero():
    X, labels = degenerate_problem()
    sil = metrics.silhouette_samples(X, labels)
    assert sil[10] == 0.0
    # identical points of a cluster have a = 0, hence coefficient 1
    np.testing.assert_allclose(sil[20:24], 1.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_precomputed_matches_sklearn(dtype):
    X, labels = degenerate_problem()
    D = skm.pairwise_distances(X).astype(dtype)
    np.testing.assert_allclose(metrics.silhouette_samples(D, labels, metric="precomputed"),
                               skm.silhouette_samples(D, labels, metric="precomputed"),
                               atol=tol(dtype))
    np.testing.assert_allclose(
        metrics.silhouette_score(D, labels, metric="precomputed", sample_size=40,
                                 random_state=3),
        skm.silhouette_score(D, labels, metric="precomputed", sample_size=40, random_state=3),
        atol=tol(dtype))


def test_precomputed_integer_and_bad_diagonal():
    X = np.array([[0, 1], [0, 2], [5, 5], [6, 5]])
    D = np.abs(X[:, None, :] - X[None, :, :]).sum(-1)  # integer Manhattan distances
    labels = [0, 0, 1, 1]
    np.testing.assert_allclose(metrics.silhouette_samples(D, labels, metric="precomputed"),
                               skm.silhouette_samples(D, labels, metric="precomputed"))
    D_bad = D.astype(float) + 0.5
    with pytest.raises(ValueError, match="non-zero elements on the diagonal"):
        metrics.silhouette_samples(D_bad, labels, metric="precomputed")
    with pytest.raises(ValueError, match="non-zero elements on the diagonal"):
        metrics.silhouette_samples(D + 1, labels, metric="precomputed")


@pytest.mark.parametrize("metric", ["chebyshev", "minkowski", "correlation"])
def test_other_metrics_fall_back_to_chunked_distances(metric):
    X, labels = random_problem(80, 3, 3)
    np.testing.assert_allclose(metrics.silhouette_samples(X, labels, metric=metric),
                               skm.silhouette_samples(X, labels, metric=metric), atol=1e-6)


def test_metric_keywords_and_callable():
    X, labels = random_problem(50, 3, 3)
    np.testing.assert_allclose(metrics.silhouette_samples(X, labels, metric="minkowski", p=3),
                               skm.silhouette_samples(X, labels, metric="minkowski", p=3),
                               atol=1e-6)

    def l_inf(a, b):
        return np.abs(a - b).max()

    np.testing.assert_allclose(metrics.silhouette_samples(X, labels, metric=l_inf),
                               skm.silhouette_samples(X, labels, metric=l_inf), atol=1e-6)
    # speed-only keywords are accepted by the fast path
    np.testing.assert_allclose(metrics.silhouette_samples(X, labels, n_jobs=1),
                               skm.silhouette_samples(X, labels), atol=1e-6)


def test_sparse_input_matches_sklearn():
    X, labels = random_problem(60, 5, 3)
    X[X < 0.5] = 0.0
    Xs = sparse.csr_matrix(X)
    np.testing.assert_allclose(metrics.silhouette_samples(Xs, labels),
                               skm.silhouette_samples(Xs, labels), atol=1e-6)
    np.testing.assert_allclose(metrics.silhouette_score(sparse.csc_matrix(X), labels,
                                                        sample_size=30, random_state=0),
                               skm.silhouette_score(sparse.csc_matrix(X), labels,
                                                    sample_size=30, random_state=0), atol=1e-6)


@pytest.mark.parametrize("sample_size", [None, 25, 60, 500])
def test_silhouette_score_sampling_matches_sklearn(sample_size):
    X, labels = random_problem(100, 3, 4)
    ours = metrics.silhouette_score(X, labels, sample_size=sample_size, random_state=7)
    theirs = skm.silhouette_score(X, labels, sample_size=sample_size, random_state=7)
    assert isinstance(ours, float)
    assert ours == pytest.approx(theirs, abs=1e-6)


def test_stratified_sample_keeps_every_cluster():
    rng = np.random.default_rng(0)
    big = rng.normal(size=(3000, 2))
    small = rng.normal(size=(6, 2)) * 0.05 + 20  # 6 points far away
    X = np.r_[big, small]
    labels = np.r_[np.zeros(3000, int) + (big[:, 0] > 0), np.full(6, 2)]
    codes = labels.astype(np.int64)
    for seed in range(5):
        idx = metrics._stratified_indices(codes, 3, 50, np.random.RandomState(seed))
        assert idx.size == 50 and np.unique(idx).size == 50
        assert set(labels[idx]) == {0, 1, 2}
        assert (labels[idx] == 2).sum() >= 2
        # proportional: the two large clusters get roughly their share
        assert abs((labels[idx] == 0).sum() - (labels[idx] == 1).sum()) <= 6
        score = metrics.silhouette_score(X, labels, sample_size=50, random_state=seed,
                                         stratify=True)
        assert score == pytest.approx(metrics.silhouette_score(X[idx], labels[idx]), abs=1e-12)
    # a uniform sample of 50 can lose the small cluster entirely
    lost = [set(labels[np.random.RandomState(s).permutation(len(X))[:50]]) != {0, 1, 2}
            for s in range(20)]
    assert any(lost)
    with pytest.raises(ValueError, match="stratified sample needs at least one point"):
        metrics.silhouette_score(X, labels, sample_size=2, stratify=True)
    # stratify is deterministic under a fixed seed
    a = metrics.silhouette_score(X, labels, sample_size=40, random_state=3, stratify=True)
    b = metrics.silhouette_score(X, labels, sample_size=40, random_state=3, stratify=True)
    assert a == b


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("problem", ["random", "degenerate"])
def test_calinski_harabasz_and_davies_bouldin_match_sklearn(dtype, problem):
    X, labels = random_problem() if problem == "random" else degenerate_problem()
    X = X.astype(dtype)
    assert metrics.calinski_harabasz_score(X, labels) == pytest.approx(
        skm.calinski_harabasz_score(X, labels), rel=tol(dtype))
    assert metrics.davies_bouldin_score(X, labels) == pytest.approx(
        skm.davies_bouldin_score(X, labels), rel=tol(dtype))


def test_degenerate_dispersion_conventions():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0]])
    labels = [0, 0, 1, 1]
    assert metrics.calinski_harabasz_score(X, labels) == skm.calinski_harabasz_score(X, labels)
    assert metrics.calinski_harabasz_score(X, labels) == 1.0
    assert metrics.davies_bouldin_score(X, labels) == skm.davies_bouldin_score(X, labels) == 0.0
    # all centroids equal
    X2 = np.array([[0.0], [2.0], [1.0], [1.0]])
    assert metrics.davies_bouldin_score(X2, labels) == skm.davies_bouldin_score(X2, labels)


def test_string_labels_and_top_level_exports():
    X, labels = random_problem(40, 2, 3)
    names = np.array(["a", "b", "c"])[labels]
    assert clusterlab.silhouette_score(X, names) == pytest.approx(
        skm.silhouette_score(X, labels), abs=1e-12)
    assert clusterlab.calinski_harabasz_score is metrics.calinski_harabasz_score
    assert clusterlab.davies_bouldin_score is metrics.davies_bouldin_score
    assert clusterlab.silhouette_samples is metrics.silhouette_samples


@pytest.mark.parametrize("fn", [metrics.silhouette_samples, metrics.silhouette_score,
                                metrics.calinski_harabasz_score, metrics.davies_bouldin_score],
                         ids=lambda f: f.__name__)
def test_bad_inputs(fn):
    X, labels = random_problem(30, 2, 3)
    bad = X.copy()
    bad[2, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        fn(bad, labels)
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        fn(bad, labels)
    with pytest.raises(ValueError, match=r"Number of labels is 1\. Valid values are 2 to "
                                         r"n_samples - 1 \(inclusive\)"):
        fn(X, np.zeros(30, int))
    with pytest.raises(ValueError, match="Number of labels is 30"):
        fn(X, np.arange(30))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fn(X, labels[:10])
    with pytest.raises(ValueError, match="0 sample"):
        fn(X[:0], labels[:0])
    with pytest.raises(ValueError, match="Expected 2D array"):
        fn(X[:, 0], labels)


def test_bad_parameters():
    X, labels = random_problem(30, 2, 3)
    with pytest.raises(ValueError, match="metric"):
        metrics.silhouette_samples(X, labels, metric="no-such-metric")
    with pytest.raises(ValueError, match="sample_size"):
        metrics.silhouette_score(X, labels, sample_size=0)
    with pytest.raises(ValueError, match="stratify"):
        metrics.silhouette_score(X, labels, stratify="yes")


def test_inputs_not_modified():
    X, labels = degenerate_problem()
    X0, l0 = X.copy(), labels.copy()
    for metric in ("euclidean", "cosine"):
        metrics.silhouette_samples(X, labels, metric=metric)
    metrics.silhouette_score(X, labels, sample_size=20, stratify=True, random_state=0)
    metrics.calinski_harabasz_score(X, labels)
    metrics.davies_bouldin_score(X, labels)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(labels, l0)


def test_same_result_for_any_thread_count(parallel_kernels):
    X, labels = random_problem(301, 5, 6, seed=4)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = metrics.silhouette_samples(X, labels)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        many = metrics.silhouette_samples(X, labels)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one, many)


def test_seed_silhouette_of_best_five_blob_solution(five_blobs):
    """EXPECTED.md: silhouette 0.655517642572828 of the 211.5985 solution (k=5)."""
    good_init = np.array([[-3, 3], [-3, 2], [-3, 1], [-1, 2], [0, 2]], dtype=float)
    km = clusterlab.KMeans(n_clusters=5, init=good_init, n_init=1, random_state=42).fit(five_blobs)
    assert km.inertia_ == pytest.approx(211.59853725816836, rel=1e-9)
    assert metrics.silhouette_score(five_blobs, km.labels_) == pytest.approx(
        0.655517642572828, abs=1e-9)
    assert metrics.silhouette_score(five_blobs.astype(np.float32), km.labels_) == pytest.approx(
        0.655517642572828, abs=1e-4)


label_arrays = st.lists(st.integers(0, 3), min_size=12, max_size=40).filter(
    lambda labs: 2 <= len(set(labs)) < len(labs))


@given(labs=label_arrays, seed=st.integers(0, 1000), shift=st.floats(-100, 100),
       scale=st.floats(0.1, 10))
def test_properties(labs, seed, shift, scale):
    labels = np.asarray(labs)
    X = np.random.default_rng(seed).normal(size=(labels.size, 3))
    sil = metrics.silhouette_samples(X, labels)
    assert np.all(sil >= -1 - 1e-12) and np.all(sil <= 1 + 1e-12)
    # renaming the clusters changes nothing
    perm = np.random.default_rng(seed).permutation(4)
    np.testing.assert_allclose(metrics.silhouette_samples(X, perm[labels]), sil, atol=1e-12)
    # the silhouette is invariant to translation and uniform scaling
    np.testing.assert_allclose(metrics.silhouette_samples(X * scale + shift, labels), sil,
                               atol=1e-6)
    # reordering the samples reorders the coefficients
    order = np.random.default_rng(seed + 1).permutation(labels.size)
    np.testing.assert_allclose(metrics.silhouette_samples(X[order], labels[order]), sil[order],
                               atol=1e-12)
    # float32 agrees with float64
    np.testing.assert_allclose(metrics.silhouette_samples(X.astype(np.float32), labels), sil,
                               atol=1e-4)
    # CH is invariant to translation; both match scikit-learn
    ch = metrics.calinski_harabasz_score(X, labels)
    assert ch == pytest.approx(skm.calinski_harabasz_score(X, labels), rel=1e-6)
    assert metrics.calinski_harabasz_score(X + shift, labels) == pytest.approx(ch, rel=1e-6)
    assert metrics.davies_bouldin_score(X, labels) == pytest.approx(
        skm.davies_bouldin_score(X, labels), rel=1e-6)


# the tiled schedule runs from 5000 samples: its compilations are the full tier's
@pytest.mark.parametrize("kernel", [pytest.param("tiles", marks=pytest.mark.slow), "rows"])
@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "cosine"])
def test_large_enough_for_several_tiles_per_block(metric, kernel, monkeypatch):
    """n > 32 super-blocks x 128-row tiles: tiles straddle clusters and blocks
    (the tiled schedule, and the row kernel that small inputs run)."""
    from clusterlab._kernels import silhouette as kern

    monkeypatch.setattr(kern, "_ROWS_MAX_SAMPLES", 0 if kernel == "tiles" else 10**9)
    X, labels = random_problem(4500, 3, 37, seed=5)
    labels[:7] = 40  # a small cluster among many
    np.testing.assert_allclose(metrics.silhouette_samples(X, labels, metric=metric),
                               skm.silhouette_samples(X, labels, metric=metric), atol=1e-6)
    # float32 against the float64 truth: for cosine, scikit-learn's own float32 result is
    # ~2e-4 off here (1 - <x, y> cancels in float32), so it cannot be the oracle
    X32 = X.astype(np.float32)
    np.testing.assert_allclose(metrics.silhouette_samples(X32, labels, metric=metric),
                               skm.silhouette_samples(X32.astype(np.float64), labels,
                                                      metric=metric), atol=1e-4)


@pytest.mark.slow  # compiles the tiled schedule (see above)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row_kernel_agrees_with_the_tiled_schedule(dtype):
    """Small inputs take the row kernel: the same sums as the tiled schedule, up to
    the order of additions, for every metric."""
    from clusterlab._kernels import silhouette as kern

    X, labels = random_problem(700, 5, 6, seed=8)
    order = np.argsort(labels, kind="stable")
    Xt = np.ascontiguousarray(np.take(X.T, order, axis=1).astype(dtype))
    codes = labels[order].astype(np.int64)
    bounds = np.r_[0, np.cumsum(np.bincount(codes))].astype(np.int64)
    for metric in (kern.METRIC_EUCLIDEAN, kern.METRIC_SQEUCLIDEAN, kern.METRIC_MANHATTAN,
                   kern.METRIC_COSINE):
        rows = np.empty((700, 6))
        tiles = np.empty((700, 6))
        kern._sums_rows(Xt, codes, bounds, metric, rows, np.empty((6, 700)))
        kern._sums_sorted.serial(Xt, codes, bounds, metric, tiles)
        np.testing.assert_allclose(rows, tiles, rtol=1e-12 if dtype == np.float64 else 1e-6)


@pytest.mark.slow  # compiles the parallel silhouette schedule (quick tier: see tests/conftest.py)
def test_parallel_and_serial_schedules_agree_bitwise():
    """Large inputs run the tile rounds in parallel, small ones serially: same bits."""
    from clusterlab._kernels import silhouette as kern

    X, labels = random_problem(3000, 4, 7, seed=6)
    order = np.argsort(labels, kind="stable")
    Xt = np.take(X.T, order, axis=1)
    codes = labels[order].astype(np.int64)
    bounds = np.r_[0, np.cumsum(np.bincount(codes))].astype(np.int64)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        for metric in (kern.METRIC_EUCLIDEAN, kern.METRIC_MANHATTAN):
            par = np.empty((3000, 7))
            ser = np.empty((3000, 7))
            kern._sums_sorted.parallel(Xt, codes, bounds, metric, par)
            kern._sums_sorted.serial(Xt, codes, bounds, metric, ser)
            np.testing.assert_array_equal(par, ser)
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("scale", [2.0 ** 1000, 1e300, 1e-300, 2.0 ** -1030])
def test_scores_unchanged_by_magnitudes_beyond_float64_squares(scale):
    # ratios of distances: squared distances of such values overflow to +inf
    # or underflow to 0 (the scores came out 0 or NaN); a power of two brings
    # the values back exactly (2**-1030: subnormal values, whose power of two
    # 2**1031 itself overflows unless applied as an exponent shift)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    X[30:] += 4
    labels = np.r_[np.zeros(30, int), np.ones(30, int)]
    for score in (metrics.silhouette_score, metrics.calinski_harabasz_score,
                  metrics.davies_bouldin_score, metrics.dbcv_score):
        np.testing.assert_allclose(score(X * scale, labels), score(X, labels), rtol=1e-9)


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cosine", "manhattan"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("offset", [0.0, 1e4])
def test_many_features_blas_path_matches_sklearn(metric, dtype, offset):
    """From SILHOUETTE_GEMM_MIN_FEATURES features the sums come from BLAS products,
    block by block (1100 samples: three blocks of 512, clusters straddling them);
    centring keeps the product form exact enough far from the origin."""
    X, labels = random_problem(1100, 40, 7, seed=11)
    X[100] = X[101]  # a duplicated row
    X = (X + offset).astype(dtype)
    ours = metrics.silhouette_samples(X, labels, metric=metric)
    theirs = skm.silhouette_samples(X.astype(np.float64), labels, metric=metric)
    assert ours.dtype == dtype
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=tol(dtype))


@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean", "cosine"])
def test_blas_and_direct_sums_agree(metric, monkeypatch):
    from clusterlab import _config

    X, labels = random_problem(700, 30, 5, seed=12)
    X[:, 0] += 50.0
    blas = metrics.silhouette_samples(X, labels, metric=metric)
    monkeypatch.setattr(_config, "SILHOUETTE_GEMM_MIN_FEATURES", 10**6)
    direct = metrics.silhouette_samples(X, labels, metric=metric)
    np.testing.assert_allclose(blas, direct, rtol=0, atol=1e-10)
    # and the score of a sample does not depend on the blocks
    from clusterlab._kernels import silhouette as kern

    order = np.argsort(labels, kind="stable")
    Xs = X[order] - X.mean(axis=0)
    codes = labels[order].astype(np.int64)
    code = {"euclidean": 0, "sqeuclidean": 1, "cosine": 3}[metric]
    if code == 3:
        Xs = X[order] / np.linalg.norm(X[order], axis=1)[:, None]
    a, b = np.empty((700, 5)), np.empty((700, 5))
    kern.cluster_distance_sums_gemm(Xs, codes, 5, code, a, block=512)
    kern.cluster_distance_sums_gemm(Xs, codes, 5, code, b, block=96)
    np.testing.assert_allclose(a, b, rtol=1e-11)


def test_precomputed_silhouette_checks_shape_and_sign_as_sklearn():
    from sklearn.metrics import pairwise_distances
    from sklearn.metrics import silhouette_score as sk_silhouette_score

    from clusterlab.metrics import silhouette_score

    rng = np.random.RandomState(0)
    X = rng.randn(30, 3)
    labels = rng.randint(0, 3, 30)
    D = pairwise_distances(X)
    negative = D.copy()
    negative[0, 1] = -5.0
    # a (20, 30) matrix made the kernel read labels past their end (a segfault)
    for M, lab, match in ((D[:, :20], labels, "requires shape"),
                          (D[:20], labels[:20], "requires shape"),
                          (negative, labels, "Negative values")):
        for score in (silhouette_score, sk_silhouette_score):
            with pytest.raises(ValueError, match=match):
                score(M, lab, metric="precomputed")


@pytest.mark.parametrize("scale", [1e19, 1e20, 1e-20, 1e-22])
@pytest.mark.parametrize("metric", ["euclidean", "sqeuclidean"])
def test_float32_rows_whose_squares_leave_float32_are_scored_exactly(scale, metric):
    from scipy.spatial.distance import cdist
    from sklearn.metrics import silhouette_samples as sk_silhouette_samples

    from clusterlab.metrics import silhouette_samples

    rng = np.random.RandomState(0)
    X = (rng.randn(40, 3) * scale).astype(np.float32)
    labels = rng.randint(0, 3, 40)
    X64 = X.astype(np.float64)
    exact = sk_silhouette_samples(cdist(X64, X64, metric), labels, metric="precomputed")
    ours = silhouette_samples(X, labels, metric=metric)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, exact, atol=1e-6)


def test_dbcv_reads_negative_numbers_among_objects_as_noise():
    from clusterlab.metrics import dbcv_score

    rng = np.random.RandomState(0)
    X = np.vstack([rng.randn(20, 2), rng.randn(20, 2) + 5])
    labels = np.repeat([0, 1], 20).astype(object)
    labels[:5] = -1
    assert dbcv_score(X, labels) == pytest.approx(dbcv_score(X, labels.astype(int)))


def test_silhouette_refuses_tables_that_cannot_fit(monkeypatch):
    from clusterlab import _config
    from clusterlab.metrics import silhouette_score

    X = np.random.RandomState(0).randn(1000, 2)
    labels = np.arange(1000) // 2  # 500 clusters of two: (n, k) tables
    expected = silhouette_score(X, labels)
    monkeypatch.setattr(_config, "available_memory", lambda: 10**6)
    with pytest.raises(MemoryError, match="500 clusters.*sample_size"):
        silhouette_score(X, labels)
    # a sample small enough fits
    assert np.isfinite(silhouette_score(X, labels, sample_size=200, random_state=0))
    monkeypatch.setattr(_config, "available_memory", lambda: None)
    assert silhouette_score(X, labels) == expected


def test_consensus_of_biclusters_of_different_matrices_is_refused():
    from clusterlab.metrics import consensus_score

    rows = np.array([[True, True, False], [False, False, True]])
    cols = np.array([[True, False], [False, True]])
    assert consensus_score((rows, cols), (rows[::-1], cols[::-1])) == 1.0
    with pytest.raises(ValueError, match="different shapes"):
        consensus_score((rows, cols), (rows[:, :2], cols))


@given(st.integers(1, 200), st.integers(1, 6), st.integers(1, 8), st.integers(0, 2**31 - 1),
       st.booleans(), st.sampled_from([np.float32, np.float64]))
@settings(max_examples=60, deadline=None)
def test_numpy_twins_give_the_kernels_values(n, d, k, seed, grid, dtype):
    # small inputs take numpy twins of the silhouette's last step and of the
    # cluster statistics: the kernels' values bit for bit (empty and
    # one-point clusters, ties on integer grids, both dtypes)
    from clusterlab._kernels import silhouette as ks

    rng = np.random.default_rng(seed)
    X = (rng.integers(-2, 3, size=(n, d)) if grid else rng.normal(size=(n, d)) * 100)
    X = np.ascontiguousarray(X.astype(dtype))
    labels = rng.integers(0, k, size=n).astype(np.int64)
    pairs = [((ks.cluster_sums, ks.cluster_sums_numpy),
              lambda: (X, labels, k, np.empty((k, d)), np.empty(k, np.int64)), (3, 4))]
    centers = rng.normal(size=(k, d))
    pairs.append(((ks.cluster_dispersions, ks.cluster_dispersions_numpy),
                  lambda: (X, labels, centers, np.empty(k), np.empty(k)), (3, 4)))
    sums = np.abs(rng.normal(size=(n, k))) * 10
    if grid:
        sums = np.round(sums)
    counts = np.bincount(labels, minlength=k).astype(np.int64)
    pairs.append(((ks.silhouette_from_sums, ks.silhouette_from_sums_numpy),
                  lambda: (sums, labels, counts, np.empty(n)), (3,)))
    for (kernel, twin), make, outs in pairs:
        a, b = make(), make()
        kernel(*a)
        twin(*b)
        for i in outs:
            np.testing.assert_array_equal(a[i], b[i])


def test_davies_bouldin_with_many_clusters_in_blocks_equals_the_whole_matrix():
    """The k x k x d differences were held at once (8000 clusters of 5 features:
    2.4 GiB); now a block of rows at a time, with the same sums."""
    import sklearn.metrics as skm

    from clusterlab.metrics import davies_bouldin_score

    rng = np.random.RandomState(0)
    X = rng.rand(2400, 5)
    labels = np.arange(2400) // 2  # 1200 clusters: blocks of 174 rows
    centers = (X[0::2] + X[1::2]) / 2  # two rows a cluster, in order
    intra = np.linalg.norm(X - centers[labels], axis=1).reshape(1200, 2).mean(axis=1)
    diff = centers[:, None, :] - centers[None, :, :]
    dist = np.sqrt(np.einsum("ijk,ijk->ij", diff, diff))
    ratio = (intra[:, None] + intra[None, :]) / dist
    np.fill_diagonal(ratio, -np.inf)
    whole = np.mean(np.max(ratio, axis=1))
    import tracemalloc

    davies_bouldin_score(X, labels)  # compiled before tracing
    tracemalloc.start()
    got = davies_bouldin_score(X, labels)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < diff.nbytes / 2  # the k x k x d differences at once: 58 MB here
    assert got == pytest.approx(whole, rel=1e-12)
    assert got == pytest.approx(skm.davies_bouldin_score(X, labels), rel=1e-9)
