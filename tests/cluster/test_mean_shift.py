"""MeanShift: oracle tests against scikit-learn, properties, estimator checks."""

import numpy as np
import pytest
import sklearn.cluster as skc
from hypothesis import given
from hypothesis import strategies as st
from sklearn.datasets import make_blobs
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import MeanShift, estimate_bandwidth, get_bin_seeds, mean_shift
from clusterlab._kernels import mean_shift as _ms


def _blobs(n=400, d=2, seed=0, std=0.6):
    X, _ = make_blobs(n, n_features=d, centers=4, cluster_std=std, random_state=seed)
    return X


def assert_same(ours, theirs, atol=1e-6):
    assert ours.cluster_centers_.shape == theirs.cluster_centers_.shape
    np.testing.assert_allclose(ours.cluster_centers_, theirs.cluster_centers_, rtol=0, atol=atol)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.cluster_centers_.dtype == theirs.cluster_centers_.dtype


PARAMS = [
    dict(bandwidth=1.0),
    dict(bandwidth=1.0, cluster_all=False),
    dict(bandwidth=0.4, cluster_all=False),
    dict(),
    dict(bin_seeding=True),
    dict(bandwidth=0.7, bin_seeding=True, min_bin_freq=5),
    dict(bandwidth=1.0, max_iter=2),
    dict(bandwidth=1.0, max_iter=0),
]


# 2, 3 and 5 features in the full tier only: scikit-learn's own mean shift
# takes most of this test's time (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("params", PARAMS, ids=str)
@pytest.mark.parametrize("d", [1, pytest.param(2, marks=pytest.mark.slow),
                               pytest.param(3, marks=pytest.mark.slow),
                               pytest.param(5, marks=pytest.mark.slow)])
def test_same_as_sklearn(params, d):
    X = _blobs(300, d, seed=d)
    try:
        theirs = skc.MeanShift(**params).fit(X)
    except ValueError:
        # no bin holds min_bin_freq points: scikit-learn fails on max() of an
        # empty sequence; clusterlab says no seed reached a point
        with pytest.raises(ValueError, match="No point was within"):
            MeanShift(**params).fit(X)
        return
    assert_same(MeanShift(**params).fit(X), theirs)


def test_float32_same_as_sklearn():
    X = _blobs(300).astype(np.float32)
    ours = MeanShift(bandwidth=1.0).fit(X)
    theirs = skc.MeanShift(bandwidth=1.0).fit(X)
    assert ours.cluster_centers_.dtype == np.float32
    assert_same(ours, theirs, atol=1e-4)


def test_given_seeds_and_integer_input_same_as_sklearn():
    X = np.round(_blobs(200) * 3).astype(np.int64)
    seeds = X[::7] + 0.25
    assert_same(MeanShift(bandwidth=3.0, seeds=seeds).fit(X),
                skc.MeanShift(bandwidth=3.0, seeds=seeds).fit(X))


def test_predict_and_function_same_as_sklearn():
    X = _blobs(300)
    ours = MeanShift(bandwidth=1.0).fit(X)
    theirs = skc.MeanShift(bandwidth=1.0).fit(X)
    Q = np.random.default_rng(1).normal(scale=5, size=(50, 2))
    np.testing.assert_array_equal(ours.predict(Q), theirs.predict(Q))
    centers, labels = mean_shift(X, bandwidth=1.0)
    np.testing.assert_allclose(centers, theirs.cluster_centers_, atol=1e-6)
    np.testing.assert_array_equal(labels, theirs.labels_)


@pytest.mark.parametrize("quantile", [0.05, 0.3, 0.5, 1.0])
@pytest.mark.parametrize("n_samples", [None, 1, 120])
def test_estimate_bandwidth_same_as_sklearn(quantile, n_samples):
    X = _blobs(333, 3)
    for random_state in (0, 5):
        ours = estimate_bandwidth(X, quantile=quantile, n_samples=n_samples,
                                  random_state=random_state)
        theirs = skc.estimate_bandwidth(X, quantile=quantile, n_samples=n_samples,
                                        random_state=random_state)
        assert isinstance(ours, np.float64)
        assert ours == pytest.approx(theirs, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("bin_size, min_bin_freq", [(1.0, 1), (0.5, 3), (2.0, 10)])
def test_get_bin_seeds_same_as_sklearn(bin_size, min_bin_freq):
    X = _blobs(500) - 1.0  # points around zero: -0.0 and 0.0 bins meet
    ours = get_bin_seeds(X, bin_size, min_bin_freq)
    theirs = skc.get_bin_seeds(X, bin_size, min_bin_freq)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_get_bin_seeds_failed_binning_warns_and_returns_x():
    X = _blobs(30)
    with pytest.warns(UserWarning, match="Binning data failed"):
        assert get_bin_seeds(X, 1e-6) is X
    assert get_bin_seeds(X, 0) is X


def test_no_point_within_bandwidth_error():
    X = _blobs(50)
    with pytest.raises(ValueError, match="No point was within bandwidth=0.1"):
        MeanShift(bandwidth=0.1, seeds=[[-90, -90], [-100, -100]]).fit(X)


def test_seeds_of_wrong_width_are_refused():
    with pytest.raises(ValueError, match="seeds"):
        MeanShift(bandwidth=1.0, seeds=[[0.0, 0.0, 0.0]]).fit(_blobs(20))


def test_grid_capped_for_tiny_bandwidth():
    # a bandwidth tiny against the spread: the grid side grows, results stay exact
    X = np.vstack([_blobs(200), [[1e6, -1e6]]])
    assert_same(MeanShift(bandwidth=0.5).fit(X), skc.MeanShift(bandwidth=0.5).fit(X))


def test_threads_do_not_change_the_result(parallel_kernels):
    X = _blobs(400, 3)
    a = MeanShift(n_jobs=1).fit(X)
    b = MeanShift(n_jobs=-1).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(a.labels_, b.labels_)


def test_select_kernel_matches_sort():
    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(1, 80))
        a = rng.integers(0, 6, n).astype(float) if trial % 2 else rng.random(n)
        k = int(rng.integers(0, n))
        assert _ms._select(a.copy(), k) == np.sort(a)[k]


@given(st.integers(0, 10_000), st.booleans())
def test_row_permutation_keeps_centres(seed, bin_seeding):
    X = _blobs(120, 2, seed=seed % 7, std=0.3)
    perm = np.random.default_rng(seed).permutation(len(X))
    a = MeanShift(bandwidth=1.5, bin_seeding=bin_seeding).fit(X)
    b = MeanShift(bandwidth=1.5, bin_seeding=bin_seeding).fit(X[perm])
    np.testing.assert_allclose(np.sort(a.cluster_centers_, axis=0),
                               np.sort(b.cluster_centers_, axis=0), atol=1e-9)
    c = MeanShift(bandwidth=1.5, bin_seeding=bin_seeding).fit(X)
    np.testing.assert_array_equal(a.labels_, c.labels_)  # deterministic


@pytest.mark.slow
def test_larger_case_same_as_sklearn():
    X, _ = make_blobs(2000, centers=5, random_state=0)
    assert_same(MeanShift().fit(X), skc.MeanShift().fit(X))


@parametrize_with_checks([MeanShift(), MeanShift(bin_seeding=True, max_iter=50)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("bin_seeding", [False, True])
@pytest.mark.parametrize("bandwidth", [1e160, 1e300])
def test_a_bandwidth_whose_square_overflows_gives_one_mode_at_the_mean(bandwidth, bin_seeding):
    # every ball holds every point: one mode, the mean (scikit-learn's answer
    # up to 1e300 without bin seeding); it was refused with "No point was
    # within bandwidth" (its square overflowed) and the advice to increase it
    X = np.random.RandomState(0).randn(60, 2)
    ms = MeanShift(bandwidth=bandwidth, bin_seeding=bin_seeding).fit(X)
    np.testing.assert_allclose(ms.cluster_centers_, X.mean(axis=0, keepdims=True))
    assert (ms.labels_ == 0).all() and (ms.predict(X + 5) == 0).all()
    far = MeanShift(bandwidth=bandwidth, seeds=[[1e10, -1e10]]).fit(X)
    np.testing.assert_allclose(far.cluster_centers_, X.mean(axis=0, keepdims=True))


def test_bin_size_must_be_finite():
    with pytest.raises(ValueError, match="bin_size must be > 0"):
        get_bin_seeds(np.zeros((3, 2)), np.inf)


@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_estimate_bandwidth_refuses_magnitudes_whose_squares_leave_float64(scale):
    X = np.random.RandomState(0).randn(60, 2) * scale  # it returned inf or 0.0
    with pytest.raises(ValueError, match="estimate_bandwidth: .*(overflow|underflow)"):
        estimate_bandwidth(X)
