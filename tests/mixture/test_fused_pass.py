"""The fused mixture pass (clusterlab._kernels.mixture.gmm_pass): oracle against
scikit-learn through both estimators on the multi-chunk, threaded path (float64
and float32), thread-count independence, and float32 stability on hostile data."""

import warnings

import numba
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture as SkBGM
from sklearn.mixture import GaussianMixture as SkGM

from clusterlab import BayesianGaussianMixture, GaussianMixture, _config
from clusterlab._kernels import mixture as kmix

COV_TYPES = ["full", "tied", "diag", "spherical"]
# above MIXTURE_PARALLEL_MIN_ROWS, several chunks, and not a multiple of the block
N_ROWS = _config.MIXTURE_PARALLEL_MIN_ROWS + kmix.BLOCK + 37


def _overlapping(n=N_ROWS, d=5, k=4, seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    centres = rng.normal(scale=1.5, size=(k, d))
    X = centres[rng.randint(k, size=n)] + rng.normal(size=(n, d)) * rng.uniform(0.5, 1.5, d)
    return X.astype(dtype)


def _start(X, k, covariance_type, seed=0):
    rng = np.random.RandomState(seed)
    d = X.shape[1]
    scales = rng.uniform(0.5, 2.0, size=k)
    precisions = {
        "full": np.stack([np.eye(d) * s + 0.1 * np.ones((d, d)) for s in scales]),
        "tied": np.eye(d) * scales[0] + 0.1 * np.ones((d, d)),
        "diag": np.outer(scales, np.linspace(0.5, 1.5, d)),
        "spherical": scales,
    }[covariance_type]
    means = X[rng.choice(X.shape[0], size=k, replace=False)].astype(np.float64)
    return dict(weights_init=np.full(k, 1.0 / k), means_init=means, precisions_init=precisions)


def _fit(cls, X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(**params).fit(X)


@pytest.mark.slow  # compiles the fused pass's parallel kernel (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-6), (np.float32, 1e-4)])
@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_gaussian_mixture_matches_sklearn_on_threaded_path(covariance_type, dtype, rtol):
    X = _overlapping(dtype=dtype)
    params = dict(n_components=4, covariance_type=covariance_type, max_iter=8, tol=0,
                  **_start(X, 4, covariance_type))
    ours, theirs = _fit(GaussianMixture, X, **params), _fit(SkGM, X, **params)
    assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=rtol)
    assert_allclose(ours.means_, theirs.means_, rtol=rtol * 10, atol=rtol * 10)
    assert_allclose(ours.covariances_, theirs.covariances_, rtol=rtol * 10, atol=rtol * 10)
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert getattr(ours, name).dtype == dtype, name  # X's dtype whatever the inits'
    assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=rtol * 10)
    agree = np.mean(ours.predict(X) == theirs.predict(X))
    assert agree == 1.0 if dtype == np.float64 else agree > 0.999


@pytest.mark.slow  # compiles the fused pass's parallel kernel (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-6), (np.float32, 1e-4)])
@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_bayesian_mixture_matches_sklearn_on_threaded_path(covariance_type, dtype, rtol):
    X = _overlapping(seed=1, dtype=dtype)
    params = dict(n_components=5, covariance_type=covariance_type, max_iter=6, tol=0,
                  init_params="random_from_data", random_state=0)
    ours, theirs = _fit(BayesianGaussianMixture, X, **params), _fit(SkBGM, X, **params)
    # (scikit-learn's tied bounds are (1,)-shaped arrays: compare the values)
    assert_allclose(np.ravel(ours.lower_bounds_), np.ravel(theirs.lower_bounds_), rtol=rtol)
    assert_allclose(ours.means_, theirs.means_, rtol=rtol * 10, atol=rtol * 10)
    assert_allclose(ours.covariances_, theirs.covariances_, rtol=rtol * 10, atol=rtol * 10)
    assert ours.means_.dtype == dtype


@pytest.mark.slow  # compiles the fused pass's parallel kernel (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_pass_is_thread_count_independent(covariance_type):
    X = _overlapping(n=3 * 4096 + 5, d=6, k=3, seed=2)
    gm = _fit(GaussianMixture, X[:500], n_components=3, covariance_type=covariance_type,
              max_iter=2, random_state=0)
    means, prec, log_const = gm._kernel_model()
    code = kmix.COV_CODES[covariance_type]
    a = {"full": 6, "tied": 0}.get(covariance_type, 1)
    shift = X.mean(axis=0)
    outs = []
    for parallel, threads in ((True, numba.get_num_threads()), (True, 1), (False, None)):
        stats = (np.zeros((4, 3)), np.zeros((4, 3, 6)), np.zeros((4, 3, a, 6)),
                 np.zeros(4), np.zeros(4))
        before = numba.get_num_threads()
        try:
            if threads is not None:
                numba.set_num_threads(threads)
            kmix.gmm_pass(X, kmix.MODE_EM, code, means, prec, log_const, shift, 4096,
                          parallel, *stats)
        finally:
            numba.set_num_threads(before)
        outs.append(stats)
    for other in outs[1:]:
        for x, y in zip(outs[0], other):
            assert_array_equal(x, y)
    # the statistics are those of the responsibilities the scoring pass returns
    log_norm = np.empty(X.shape[0])
    labels = np.empty(X.shape[0], dtype=np.int64)
    resp = np.empty((X.shape[0], 3))
    kmix.gmm_pass(X, kmix.MODE_SCORE, code, means, prec, log_const, shift, 4096, True,
                  np.zeros((0, 3)), np.zeros((0, 3, 6)), np.zeros((0, 3, a, 6)),
                  log_norm=log_norm, labels=labels, resp_out=resp)
    nk, sx = outs[0][0].sum(axis=0), outs[0][1].sum(axis=0)
    assert_allclose(nk, resp.sum(axis=0), rtol=1e-10)
    assert_allclose(sx, resp.T @ (X - shift), rtol=1e-9, atol=1e-9)
    assert_allclose(outs[0][3].sum(), log_norm.sum(), rtol=1e-12)
    assert_array_equal(labels, resp.argmax(axis=1))
    if covariance_type == "full":
        xs = X - shift
        assert_allclose(outs[0][2].sum(axis=0), np.einsum("nk,ni,nj->kij", resp, xs, xs),
                        rtol=1e-9, atol=1e-9)


def _hostile(n=4000, d=3, seed=0):
    """Two tight clusters (sd 0.01) 1e4 away from the origin, one unit apart, in float32."""
    rng = np.random.RandomState(seed)
    centres = np.array([[0.0] * d, [1.0] * d]) + 1e4
    X = centres[rng.randint(2, size=n)] + 1e-2 * rng.normal(size=(n, d))
    return X.astype(np.float32), centres


@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_float32_stable_on_large_offset_small_variance(covariance_type):
    # scikit-learn's float32 path cancels here (diag/tied/spherical raise "ill-defined
    # empirical covariance", full gets a wrong likelihood); the fused pass reads float32
    # rows into float64 blocks, shifted by the data mean, and sums in float64
    X, centres = _hostile()
    params = dict(n_components=2, covariance_type=covariance_type, means_init=centres,
                  max_iter=10, tol=0)
    ours = _fit(GaussianMixture, X, **params)
    ref = _fit(GaussianMixture, X.astype(np.float64), **params)
    cov = np.asarray(ours.covariances_, dtype=np.float64)
    if covariance_type == "full":
        diag = np.diagonal(cov, axis1=1, axis2=2)
    else:
        diag = np.diag(cov) if covariance_type == "tied" else cov
    assert np.all(diag > 0.5e-4) and np.all(diag < 2e-4)  # 0.01 ** 2 per feature
    assert ours.covariances_.dtype == np.float32
    assert_allclose(cov, ref.covariances_, rtol=1e-4, atol=1e-8)
    assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=1e-6)
    assert np.all(np.isfinite(ours.score_samples(X)))


def test_one_compiled_kernel_per_input_dtype():
    X = _overlapping(n=600, d=3, k=2)
    for dtype in (np.float64, np.float32):
        for covariance_type in COV_TYPES:
            _fit(GaussianMixture, X.astype(dtype), n_components=2,
                 covariance_type=covariance_type, max_iter=2, random_state=0)
    # small fits run the chunks one by one, with no serial copy of the loop
    assert kmix._chunk.signatures and not kmix._gmm_groups.serial.signatures
    # in each compilation (a chunk, the parallel loop), every argument but X has
    # one type, whatever the mode and covariance type; X varies only by dtype
    # (and read-only inputs, e.g. memmaps, are a type of their own). A chunk's
    # index (its first argument) is int64 from Python, and the parallel loop's
    # own integer type where that loop compiled _chunk in this process.
    for signatures, x in ((kmix._chunk.signatures, 1),
                          (kmix._gmm_groups.parallel.signatures, 0)):
        assert len({sig[x + 1:] + sig[1:x] for sig in signatures}) <= 1
        assert {sig[x].dtype.name for sig in signatures} <= {"float32", "float64"}
        assert len({sig[x] for sig in signatures if sig[x].mutable}) <= 2


def test_vectorised_exp_matches_libm():
    rng = np.random.RandomState(0)
    x = np.r_[0.0, -0.0, -1e-300, -0.3465, -0.3466, -1.0, -707.9, -708.0, -708.1, -745.0,
              -np.inf, np.nan, -rng.rand(kmix.BLOCK - 12) * 700]
    out = np.empty(kmix.BLOCK)
    kmix._exp_row(x, out, kmix.BLOCK)
    ref = np.exp(x)
    normal = ref >= np.exp(-708.0)
    assert_allclose(out[normal], ref[normal], rtol=4e-16, atol=0)
    assert np.all(out[~normal] == 0.0)  # below 3e-308, -inf and NaN: 0
