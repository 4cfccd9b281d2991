"""AffinityPropagation: oracle tests against scikit-learn, memory check, estimator checks."""

import warnings

import numpy as np
import pytest
import sklearn.cluster as skc
from hypothesis import given
from hypothesis import strategies as st
from scipy import sparse
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import AffinityPropagation, affinity_propagation
from clusterlab import _config


def _blobs(n=200, d=3, std=1.0, seed=0):
    X, _ = make_blobs(n, n_features=d, centers=4, cluster_std=std, random_state=seed)
    return X


def fit_both(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return AffinityPropagation(**params).fit(X), skc.AffinityPropagation(**params).fit(X)


def assert_same(ours, theirs, n_iter=True):
    np.testing.assert_array_equal(ours.cluster_centers_indices_, theirs.cluster_centers_indices_)
    np.testing.assert_array_equal(ours.labels_, theirs.labels_)
    if n_iter:
        assert ours.n_iter_ == theirs.n_iter_


PARAMS = [dict(), dict(damping=0.9), dict(preference=-50.0), dict(max_iter=20),
          dict(convergence_iter=3), dict(damping=0.75, convergence_iter=30)]


@pytest.mark.parametrize("params", PARAMS, ids=str)
@pytest.mark.parametrize("random_state", [0, 7])
def test_same_as_sklearn(params, random_state):
    X = _blobs(150, 3, std=1.5, seed=random_state)
    ours, theirs = fit_both(X, random_state=random_state, **params)
    assert_same(ours, theirs)
    np.testing.assert_array_equal(ours.affinity_matrix_, theirs.affinity_matrix_)
    np.testing.assert_array_equal(ours.cluster_centers_, theirs.cluster_centers_)


def test_precomputed_and_preference_array_same_as_sklearn():
    X = _blobs(120)
    S = -((X[:, None] - X[None]) ** 2).sum(-1)
    pref = np.linspace(-80, -20, len(X))
    ours, theirs = fit_both(S, affinity="precomputed", preference=pref, random_state=1)
    assert_same(ours, theirs)
    assert not hasattr(ours, "cluster_centers_")
    with pytest.raises(ValueError, match="precomputed"):
        ours.predict(S[:3])


def test_function_and_copy_false_writes_into_s():
    X = _blobs(80)
    S = -((X[:, None] - X[None]) ** 2).sum(-1)
    theirs = skc.affinity_propagation(S.copy(), random_state=0, return_n_iter=True)
    ours = affinity_propagation(S, random_state=0, return_n_iter=True)
    np.testing.assert_array_equal(ours[0], theirs[0])
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert ours[2] == theirs[2]
    assert np.all(np.diagonal(S) == 0)  # copy=True: untouched
    affinity_propagation(S, preference=-5.0, copy=False, random_state=0)
    np.testing.assert_allclose(np.diagonal(S), -5.0)


def test_float32_labels_agree_and_memory_is_float32():
    X = _blobs(200, 5).astype(np.float32)
    ours, theirs = fit_both(X, random_state=0)
    assert ours.affinity_matrix_.dtype == np.float32
    assert_same(ours, theirs, n_iter=False)


def test_sparse_input_same_as_dense():
    X = np.round(_blobs(100), 0)
    X[X < 0] = 0
    a, _ = fit_both(sparse.csr_matrix(X), random_state=0)
    b, theirs = fit_both(X, random_state=0)
    assert_same(a, b)
    assert_same(b, theirs)
    np.testing.assert_array_equal(a.predict(sparse.csr_matrix(X[:7])), b.predict(X[:7]))


def test_predict_same_as_sklearn():
    X = _blobs(150)
    ours, theirs = fit_both(X, random_state=0)
    Q = np.random.default_rng(0).normal(scale=6, size=(40, 3))
    np.testing.assert_array_equal(ours.predict(Q), theirs.predict(Q))


def test_non_convergence_warns_and_labels_minus_one():
    X = np.array([[0, 0], [1, 1], [-2, -2]], dtype=float)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        ap = AffinityPropagation(preference=-10, max_iter=1, random_state=82).fit(X)
    assert list(ap.cluster_centers_indices_) == []
    np.testing.assert_array_equal(ap.labels_, [-1, -1, -1])
    with pytest.warns(ConvergenceWarning, match="Labeling every sample as '-1'"):
        np.testing.assert_array_equal(ap.predict(X), [-1, -1, -1])


@pytest.mark.parametrize("preference, expected", [(0.0, [0, 1]), (-10.0, [0])])
def test_equal_similarities_degenerate_case(preference, expected):
    X = np.array([[-1, 1], [1, -1]], dtype=float)
    with pytest.warns(UserWarning, match="mutually equal similarities"):
        ap = AffinityPropagation(preference=preference, random_state=0).fit(X)
    np.testing.assert_array_equal(ap.cluster_centers_indices_, expected)


def test_random_state_instance_left_as_sklearn_leaves_it():
    # the noise is drawn on a thread while the similarities are computed; the
    # generator must end where scikit-learn's does, also when no noise is needed
    for X, pref in [(_blobs(60), None), (np.array([[-1, 1], [1, -1]], dtype=float), -10.0)]:
        ours, theirs = np.random.RandomState(3), np.random.RandomState(3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            AffinityPropagation(preference=pref, random_state=ours).fit(X)
            skc.AffinityPropagation(preference=pref, random_state=theirs).fit(X)
        assert ours.standard_normal() == theirs.standard_normal()


@pytest.mark.parametrize("size", [0, 1, 2, 7, 1000, 100_001])
@pytest.mark.parametrize("drawn_before", [0, 1, 4])
@pytest.mark.parametrize("bit_generator", [None, "PCG64"])
def test_standard_normal_equals_numpy_values_and_state(size, drawn_before, bit_generator):
    from clusterlab.cluster.affinity_propagation import _standard_normal

    def make():
        if bit_generator is None:
            return np.random.RandomState(size + drawn_before)
        return np.random.RandomState(np.random.PCG64(size + drawn_before))

    ours, theirs = make(), make()
    ours.standard_normal(drawn_before)  # an odd count leaves a cached normal
    theirs.standard_normal(drawn_before)
    np.testing.assert_array_equal(_standard_normal(ours, size), theirs.standard_normal(size))
    a, b = ours.get_state(legacy=False), theirs.get_state(legacy=False)
    assert (a["has_gauss"], a["gauss"]) == (b["has_gauss"], b["gauss"])
    np.testing.assert_array_equal(ours.standard_normal(3), theirs.standard_normal(3))
    np.testing.assert_array_equal(ours.random_sample(3), theirs.random_sample(3))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 3), (7, 5), (64, 64), (301, 301)])
def test_median_without_copy_equals_numpy(shape, dtype):
    from clusterlab.cluster.affinity_propagation import _median

    rng = np.random.default_rng(shape[0])
    for S in (rng.standard_normal(shape), rng.integers(-3, 3, shape), np.zeros(shape),
              -np.abs(rng.standard_normal(shape)) ** 3):
        S = np.ascontiguousarray(S, dtype=dtype)
        got, want = _median(S), np.median(S)
        assert got == want and got.dtype == want.dtype


def test_memory_budget_refused_with_clear_error(monkeypatch):
    monkeypatch.setattr(_config, "AFFINITY_PROPAGATION_MAX_BYTES", 100_000)
    with pytest.raises(ValueError, match=r"needs about .* GiB for n_samples=200"):
        AffinityPropagation().fit(_blobs(200))
    monkeypatch.setattr(_config, "AFFINITY_PROPAGATION_MAX_BYTES", 10**9)
    AffinityPropagation(random_state=0).fit(_blobs(200))


def test_not_square_error():
    with pytest.raises(ValueError, match="must be a square array"):
        affinity_propagation(np.zeros((5, 4)))


def test_parallel_parts_agree_with_sklearn(monkeypatch, parallel_kernels):
    # large inputs split the rows into parts (column sums added part by part)
    monkeypatch.setattr(_config, "AFFINITY_PROPAGATION_PARALLEL_MIN_ROWS", 10)
    X = _blobs(300, 4, std=1.0, seed=3)
    ours, theirs = fit_both(X, random_state=0)
    assert_same(ours, theirs, n_iter=False)


@given(st.integers(0, 2**31 - 1))
def test_deterministic_and_permutation_consistent(seed):
    X = _blobs(40, 2, std=0.5, seed=seed % 13)
    a = AffinityPropagation(random_state=seed).fit(X)
    b = AffinityPropagation(random_state=seed).fit(X)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert set(a.labels_) == set(range(len(a.cluster_centers_indices_)))
    # every exemplar labels itself
    for k, idx in enumerate(a.cluster_centers_indices_):
        assert a.labels_[idx] == k


# (the precomputed variant is left out: scikit-learn's checks call predict,
# which precomputed affinity refuses, and scikit-learn's own precomputed
# instance fails the same eleven checks)
@parametrize_with_checks([AffinityPropagation(random_state=0),
                          AffinityPropagation(damping=0.8, random_state=0)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("precomputed", [False, True])
def test_the_memory_estimate_covers_the_fits_peak(dtype, precomputed, monkeypatch):
    """The bytes a pair that the refusal counts are at least what a fit takes at
    its peak (traced): the float64 noise was left out for precomputed and
    float32 input (estimates 8-20 bytes a pair against 20-28 taken)."""
    import importlib
    import tracemalloc

    ap = importlib.import_module("clusterlab.cluster.affinity_propagation")

    seen = {}
    real = ap._check_memory

    def spy(n, itemsize, per_pair, **kwargs):
        seen["per_pair"] = per_pair
        return real(n, itemsize, per_pair, **kwargs)

    monkeypatch.setattr(ap, "_check_memory", spy)
    n = 1200
    X = np.random.RandomState(0).rand(n, 3).astype(dtype)
    if precomputed:
        X = -((X[:, None, :] - X[None]) ** 2).sum(-1).astype(dtype)
    est = AffinityPropagation(affinity="precomputed" if precomputed else "euclidean",
                              preference=-1.0, random_state=0, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # compiled before tracing: the same size, so the same (serial or
        # threaded) kernels -- numba's compiler allocates under the tracer too
        est.fit(X)
        tracemalloc.start()
        est.fit(X)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seen["per_pair"] * n * n >= 0.9 * peak


def test_the_refusal_suggests_float32_only_where_it_saves_memory(monkeypatch):
    """float32 features peak higher than float64 ones (the float64 distances meet
    the float32 copy): the refusal of float64 features no longer suggests them."""
    from clusterlab import _config

    monkeypatch.setattr(_config, "AFFINITY_PROPAGATION_MAX_BYTES", 1 << 20)
    X = np.random.RandomState(0).rand(600, 3)
    with pytest.raises(ValueError, match="needs about") as features:
        AffinityPropagation(random_state=0).fit(X)
    assert "float32" not in str(features.value)
    S = -((X[:, None, :] - X[None]) ** 2).sum(-1)
    with pytest.raises(ValueError, match="pass float32 similarities"):
        AffinityPropagation(affinity="precomputed", random_state=0).fit(S)
