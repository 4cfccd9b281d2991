"""GaussianMixture: oracle against scikit-learn, estimator checks, properties, bad input."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.mixture import GaussianMixture as SkGaussianMixture
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import GaussianMixture

COV_TYPES = ["full", "tied", "diag", "spherical"]


def _data(n=240, seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    X = np.r_[rng.randn(n // 3, 3),
              rng.randn(n // 3, 3) * 0.6 + [3, 1, 0],
              rng.randn(n - 2 * (n // 3), 3) * [1.2, 2.0, 0.4] - [2, 2, 1]]
    return X.astype(dtype)


def _initial_parameters(X, k, covariance_type, seed=0):
    """A common, explicit starting point for both implementations."""
    rng = np.random.RandomState(seed)
    n, d = X.shape
    weights = rng.uniform(0.5, 1.5, size=k)
    weights /= weights.sum()
    means = X[rng.choice(n, size=k, replace=False)].astype(np.float64)
    scales = rng.uniform(0.5, 2.0, size=k)
    precisions = {
        "full": np.stack([np.eye(d) * s + 0.1 * np.ones((d, d)) for s in scales]),
        "tied": np.eye(d) * scales[0] + 0.1 * np.ones((d, d)),
        "diag": np.outer(scales, np.linspace(0.5, 1.5, d)),
        "spherical": scales,
    }[covariance_type]
    return dict(weights_init=weights, means_init=means, precisions_init=precisions)


def _assert_same_model(ours, theirs, rtol, atol):
    assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=rtol, atol=atol)
    assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=rtol, atol=atol)
    assert_allclose(ours.weights_, theirs.weights_, rtol=rtol, atol=atol)
    assert_allclose(ours.means_, theirs.means_, rtol=rtol, atol=atol)
    assert_allclose(ours.covariances_, theirs.covariances_, rtol=rtol, atol=atol)
    assert_allclose(ours.precisions_, theirs.precisions_, rtol=rtol, atol=atol)
    assert_allclose(ours.precisions_cholesky_, theirs.precisions_cholesky_, rtol=rtol,
                    atol=atol)
    assert ours.n_iter_ == theirs.n_iter_
    assert ours.converged_ == theirs.converged_


@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_same_init_same_result_as_sklearn_float64(covariance_type):
    X = _data()
    init = _initial_parameters(X, 3, covariance_type)
    params = dict(n_components=3, covariance_type=covariance_type, max_iter=25, tol=0, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(**params).fit(X)
        theirs = SkGaussianMixture(**params).fit(X)
    _assert_same_model(ours, theirs, rtol=1e-6, atol=1e-8)
    assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=1e-6, atol=1e-8)
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)
    assert_array_equal(ours.predict(X), theirs.predict(X))
    assert_allclose(ours.bic(X), theirs.bic(X), rtol=1e-9)
    assert_allclose(ours.aic(X), theirs.aic(X), rtol=1e-9)
    assert ours._n_parameters() == theirs._n_parameters()


@pytest.mark.parametrize("covariance_type", COV_TYPES)
@pytest.mark.parametrize("init_params", ["random", "random_from_data", "kmeans", "k-means++"])
def test_random_inits_consume_the_stream_as_sklearn(covariance_type, init_params):
    X = _data(seed=1)
    params = dict(n_components=3, covariance_type=covariance_type, init_params=init_params,
                  n_init=3, random_state=7, max_iter=30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(**params).fit(X)
        theirs = SkGaussianMixture(**params).fit(X)
    _assert_same_model(ours, theirs, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_float32_kept_and_close_to_sklearn(covariance_type):
    X = _data(dtype=np.float32)
    init = _initial_parameters(X, 3, covariance_type)
    params = dict(n_components=3, covariance_type=covariance_type, max_iter=3, tol=0, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(**params).fit(X)
        theirs = SkGaussianMixture(**params).fit(X.astype(np.float64))
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_"):
        assert getattr(ours, name).dtype == np.float32, name
        assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-4, atol=1e-4)
    assert_allclose(ours.lower_bound_, theirs.lower_bound_, rtol=1e-4)
    assert ours.score_samples(X).dtype == np.float32
    assert ours.predict_proba(X).dtype == np.float32


def test_parallel_path_matches_sklearn_and_is_thread_count_independent(parallel_kernels):
    import numba

    rng = np.random.RandomState(3)
    X = np.r_[rng.randn(6000, 2), rng.randn(6000, 2) * 0.5 + 2]  # above PARALLEL_MIN_ROWS
    init = _initial_parameters(X, 2, "full", seed=3)
    params = dict(n_components=2, max_iter=5, tol=0, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = SkGaussianMixture(**params).fit(X)
        ours = GaussianMixture(**params).fit(X)
        before = numba.get_num_threads()
        try:
            numba.set_num_threads(1)
            single = GaussianMixture(**params).fit(X)
        finally:
            numba.set_num_threads(before)
    _assert_same_model(ours, theirs, rtol=1e-6, atol=1e-8)
    assert_array_equal(ours.means_, single.means_)
    assert_array_equal(ours.covariances_, single.covariances_)
    assert ours.lower_bound_ == single.lower_bound_


def test_warm_start_continues_like_sklearn():
    X = _data(seed=2)
    init = _initial_parameters(X, 3, "full", seed=2)
    params = dict(n_components=3, max_iter=4, tol=0, warm_start=True, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = GaussianMixture(**params).fit(X).fit(X)
        theirs = SkGaussianMixture(**params).fit(X).fit(X)
        straight = GaussianMixture(**{**params, "max_iter": 8, "warm_start": False}).fit(X)
    _assert_same_model(ours, theirs, rtol=1e-6, atol=1e-8)
    assert_allclose(ours.means_, straight.means_, rtol=1e-10)


def test_fit_predict_equals_fit_then_predict_and_input_untouched():
    X = _data(seed=4)
    X_copy = X.copy()
    gm = GaussianMixture(3, init_params="random_from_data", random_state=0)
    labels = gm.fit_predict(X)
    assert_array_equal(labels, gm.predict(X))
    assert_array_equal(X, X_copy)


def test_convergence_warning_and_verbose_output(capsys):
    X = _data(seed=5)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        GaussianMixture(3, init_params="random", max_iter=1, random_state=0, verbose=2,
                        verbose_interval=1).fit(X)
    out = capsys.readouterr().out
    assert "Initialization 0" in out and "Iteration 1" in out


@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_sample_grouped_by_component(covariance_type):
    X = _data(seed=6)
    gm = GaussianMixture(3, covariance_type=covariance_type, init_params="random_from_data",
                         random_state=0).fit(X)
    Xs, ys = gm.sample(500)
    assert Xs.shape == (500, 3) and ys.shape == (500,)
    assert np.all(np.diff(ys) >= 0)  # grouped, in component order
    sk = SkGaussianMixture(3, covariance_type=covariance_type, random_state=0)
    sk.weights_, sk.means_, sk.covariances_ = gm.weights_, gm.means_, gm.covariances_
    sk.precisions_cholesky_ = gm.precisions_cholesky_
    Xk, yk = sk.sample(500)
    assert_array_equal(ys, yk)
    assert_allclose(Xs, Xk)
    with pytest.raises(ValueError, match="n_samples"):
        gm.sample(0)


# ---------------------------------------------------------------- properties
@given(perm_seed=st.integers(0, 1000), covariance_type=st.sampled_from(COV_TYPES))
def test_permuting_components_permutes_the_model(perm_seed, covariance_type):
    X = _data(n=90, seed=8)
    init = _initial_parameters(X, 3, covariance_type, seed=8)
    perm = np.random.RandomState(perm_seed).permutation(3)
    permuted = dict(init)
    permuted["weights_init"] = init["weights_init"][perm]
    permuted["means_init"] = init["means_init"][perm]
    if covariance_type != "tied":
        permuted["precisions_init"] = init["precisions_init"][perm]
    params = dict(n_components=3, covariance_type=covariance_type, max_iter=10, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = GaussianMixture(**params, **init).fit(X)
        b = GaussianMixture(**params, **permuted).fit(X)
    assert_allclose(a.weights_[perm], b.weights_, rtol=1e-9, atol=1e-12)
    assert_allclose(a.means_[perm], b.means_, rtol=1e-9, atol=1e-12)
    assert_allclose(a.lower_bound_, b.lower_bound_, rtol=1e-10)
    assert_array_equal(a.predict(X), perm[b.predict(X)])


@given(seed=st.integers(0, 10_000), covariance_type=st.sampled_from(COV_TYPES))
def test_float32_agrees_with_float64(seed, covariance_type):
    X = _data(n=60, seed=seed % 50)
    init = _initial_parameters(X, 2, covariance_type, seed=seed)
    params = dict(n_components=2, covariance_type=covariance_type, max_iter=2, tol=0, **init)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = GaussianMixture(**params).fit(X)
        b = GaussianMixture(**params).fit(X.astype(np.float32))
    assert b.means_.dtype == np.float32
    assert_allclose(b.means_, a.means_, rtol=1e-4, atol=1e-4)
    assert_allclose(b.lower_bound_, a.lower_bound_, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_float32_small_far_component_has_the_float64_covariances(covariance_type):
    """A 5-point cluster of spread 0.01 at distance 100 from the data mean: the
    float32 fit gives the covariances of the float64 fit of the same values
    (and scikit-learn's float64 ones). Adding float32's eps to the component
    weights made its variances 40-400 times too large."""
    rng = np.random.RandomState(1)
    X = np.r_[rng.normal(size=(500, 2)), 100 + 0.01 * rng.normal(size=(5, 2))]
    X32 = X.astype(np.float32)
    X64 = X32.astype(np.float64)
    kw = dict(n_components=2, covariance_type=covariance_type, random_state=0)
    a = GaussianMixture(**kw).fit(X64)
    b = GaussianMixture(**kw).fit(X32)
    ref = SkGaussianMixture(**kw).fit(X64)
    small = np.argmin(a.weights_)
    assert np.argmin(b.weights_) == small
    assert_allclose(b.covariances_, a.covariances_, rtol=1e-4)
    order = np.argsort(ref.means_[:, 0])
    assert_allclose(a.covariances_[np.argsort(a.means_[:, 0])], ref.covariances_[order],
                    rtol=1e-6)


# ---------------------------------------------------------------- degenerate data
@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_degenerate_data_gives_finite_models(covariance_type):
    rng = np.random.RandomState(0)
    base = rng.randn(40, 2)
    cases = {
        "duplicated": np.r_[base, base, base],
        "constant_feature": np.c_[base, np.full(40, 3.0)],
        "collapsing": np.r_[base, [[30.0, 30.0]]],  # one far point gets its own component
    }
    for name, X in cases.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            k = 2
            means = np.r_[X[:1], X[-1:]]
            gm = GaussianMixture(k, covariance_type=covariance_type, means_init=means,
                                 random_state=0).fit(X)
        for attr in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
            assert np.all(np.isfinite(getattr(gm, attr))), (name, attr)
        assert np.all(np.isfinite(gm.score_samples(X))), name


def test_collapsed_component_without_regularisation_is_a_clear_error():
    X = np.r_[np.random.RandomState(0).randn(30, 2), [[50.0, 50.0]]]
    gm = GaussianMixture(2, reg_covar=0.0, means_init=[[0.0, 0.0], [50.0, 50.0]])
    with pytest.raises(ValueError, match="reg_covar"):
        gm.fit(X)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "X, match",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0], [3.0, 1.0]]), "NaN"),
        (np.array([[0.0, np.inf], [1.0, 2.0], [3.0, 1.0]]), "infinity"),
        (np.empty((0, 2)), "0 sample"),
        (np.arange(5.0), "2D array"),
        (np.array([[1.0, 2.0], [3.0, 4.0]]), "n_components"),  # k=3 > n=2
    ],
)
def test_bad_input_raises_value_error(X, match):
    with pytest.raises(ValueError, match=match):
        GaussianMixture(3).fit(X)


def test_bad_parameters_and_unfitted_use():
    X = _data()
    with pytest.raises(ValueError, match="covariance_type"):
        GaussianMixture(covariance_type="banana").fit(X)
    with pytest.raises(ValueError, match="normalized"):
        GaussianMixture(2, weights_init=[0.2, 0.2]).fit(X)
    with pytest.raises(ValueError, match="shape"):
        GaussianMixture(2, means_init=np.zeros((3, 3))).fit(X)
    with pytest.raises(ValueError, match="positive-definite"):
        GaussianMixture(2, precisions_init=-np.stack([np.eye(3)] * 2)).fit(X)
    with pytest.raises(ValueError, match="positive"):
        GaussianMixture(2, covariance_type="diag", precisions_init=-np.ones((2, 3))).fit(X)
    with pytest.raises(NotFittedError):
        GaussianMixture().predict(X)
    gm = GaussianMixture(2, init_params="random_from_data", random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        gm.predict(X[:, :2])
    with pytest.raises(NotFittedError):
        GaussianMixture().sample(3)


# scikit-learn itself skips its array-API check when SCIPY_ARRAY_API is unset; we do not
# claim array-API support (the tag is False), so that one skip is expected.
@parametrize_with_checks([GaussianMixture()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_private_initialize_signatures_as_sklearn(covariance_type):
    # _initialize(X, resp) and _initialize_parameters(X, random_state), as
    # scikit-learn's private methods (code written against them runs)
    from sklearn.mixture import GaussianMixture as SkGM

    rng = np.random.RandomState(0)
    X = rng.randn(60, 3)
    resp = rng.rand(60, 4)
    resp /= resp.sum(1, keepdims=True)
    ours = GaussianMixture(n_components=4, covariance_type=covariance_type)
    ref = SkGM(n_components=4, covariance_type=covariance_type)
    ours._initialize(X, resp)
    ref._initialize(X, resp)
    np.testing.assert_allclose(ours.means_, ref.means_)
    np.testing.assert_allclose(ours.precisions_cholesky_, ref.precisions_cholesky_)
    ours = GaussianMixture(n_components=3, covariance_type=covariance_type)
    ref = SkGM(n_components=3, covariance_type=covariance_type)
    ours._initialize_parameters(X, np.random.RandomState(1))
    ref._initialize_parameters(X, np.random.RandomState(1))
    np.testing.assert_allclose(ours.means_, ref.means_)
    np.testing.assert_allclose(ours.weights_, ref.weights_)


def test_score_is_mean_of_score_samples_in_data_dtype():
    X = np.random.RandomState(0).randn(200, 2).astype(np.float32)
    gm = GaussianMixture(2, random_state=0).fit(X)
    s = gm.score(X)
    assert isinstance(s, float)
    assert s == float(gm.score_samples(X).mean())  # the float32 mean, as scikit-learn's
    assert isinstance(gm.bic(X), float)


@pytest.mark.parametrize("covariance_type", ["full", "tied"])
def test_many_features_lapack_factorisation_same_as_sklearn(covariance_type, monkeypatch):
    """From MIXTURE_LAPACK_MIN_FEATURES features the precision Cholesky factors come
    from LAPACK (scikit-learn's way): the same fit as scikit-learn and as the
    kernel's factorisation; a singular covariance is still refused."""
    from sklearn.mixture import GaussianMixture as SKGM

    from clusterlab import GaussianMixture, _config
    from clusterlab.mixture._base import precision_cholesky_from_covariances

    rng = np.random.default_rng(5)
    d = _config.MIXTURE_LAPACK_MIN_FEATURES
    X = rng.normal(size=(600, d)) + 3.0 * rng.integers(0, 3, 600)[:, None]
    kw = dict(n_components=3, covariance_type=covariance_type, max_iter=5, tol=0,
              reg_covar=1e-3, random_state=0)
    ours = GaussianMixture(**kw).fit(X)
    ref = SKGM(**kw).fit(X)
    np.testing.assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=1e-6)
    np.testing.assert_allclose(ours.precisions_, ref.precisions_, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    # the pass on one numba thread shares its wide products with BLAS's threads;
    # held to one BLAS thread, the same fit
    monkeypatch.setattr(_config, "MIXTURE_WIDE_BLAS_MIN_FEATURES", 10**6)
    one = GaussianMixture(**kw).fit(X)
    np.testing.assert_allclose(one.lower_bound_, ours.lower_bound_, rtol=1e-12)
    np.testing.assert_allclose(one.means_, ours.means_, rtol=1e-12, atol=1e-12)
    monkeypatch.setattr(_config, "MIXTURE_LAPACK_MIN_FEATURES", 10**6)
    loops = GaussianMixture(**kw).fit(X)
    np.testing.assert_allclose(loops.lower_bound_, ours.lower_bound_, rtol=1e-10)
    monkeypatch.undo()
    singular = np.zeros((1, d, d))
    with pytest.raises(ValueError, match="ill-defined"):
        precision_cholesky_from_covariances(singular, "full")
    not_finite = np.eye(d)[np.newaxis].copy()
    not_finite[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="ill-defined"):
        precision_cholesky_from_covariances(not_finite, "full")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("start", ["kmeans", "precisions", "bayesian"])
def test_wide_statistics_equal_the_fused_pass(dtype, start, monkeypatch):
    """Full covariances on MIXTURE_WIDE_EM_MIN_FEATURES features and few
    rows: each EM iteration by BLAS over all rows at once (``_FitContext``'s
    ``wide_estep``, a triangular product per component, and ``wide_stats``, a
    symmetric one). The same fit as the fused pass, to rounding: the k-means
    start (statistics of given responsibilities), user precisions, and the
    Bayesian mixture."""
    from clusterlab import BayesianGaussianMixture, _config
    from clusterlab.mixture import _base

    rng = np.random.default_rng(11)
    d = _config.MIXTURE_WIDE_EM_MIN_FEATURES
    # clusters 1.7 standard deviations apart: soft responsibilities
    X = (rng.normal(size=(500, d)) + 0.15 * rng.integers(0, 3, 500)[:, None]).astype(dtype)
    kw = dict(n_components=3, covariance_type="full", max_iter=4, tol=0, reg_covar=1e-3,
              random_state=0)
    if start == "precisions":
        labels = rng.integers(0, 3, 500)
        kw.update(means_init=np.array([X[labels == j].mean(0) for j in range(3)]),
                  precisions_init=np.array([np.eye(d) * (1.0 + j) for j in range(3)]),
                  weights_init=np.full(3, 1 / 3))
    model = BayesianGaussianMixture if start == "bayesian" else GaussianMixture
    calls = []
    real = _base._FitContext.wide_stats
    monkeypatch.setattr(_base._FitContext, "wide_stats",
                        lambda ctx, resp: calls.append(1) or real(ctx, resp))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        wide = model(**kw).fit(X)
        assert calls  # the wide statistics ran
        monkeypatch.setattr(_config, "MIXTURE_WIDE_EM_MIN_FEATURES", 10**6)
        calls.clear()
        fused = model(**kw).fit(X)
        assert not calls
    # float32 input keeps float32 attributes: the float64 fits agree to ~1e-12,
    # their float32 roundings to an ulp
    tol = 1e-9 if dtype == np.float64 else 1e-6
    assert_allclose(wide.lower_bound_, fused.lower_bound_, rtol=1e-10)
    assert_allclose(wide.means_, fused.means_, rtol=tol, atol=tol)
    assert_allclose(wide.covariances_, fused.covariances_, rtol=10 * tol, atol=tol)
    assert_allclose(wide.covariances_, np.swapaxes(wide.covariances_, 1, 2))
    assert_array_equal(wide.predict(X), fused.predict(X))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_wide_statistics_of_soft_responsibilities(dtype):
    """``wide_stats`` on soft responsibilities (some rows with none for a
    component): the counts, means and covariances of the fused pass's
    statistics of the same responsibilities."""
    from clusterlab import _config
    from clusterlab.mixture._base import _FitContext

    rng = np.random.default_rng(4)
    d = _config.MIXTURE_WIDE_EM_MIN_FEATURES
    X = (rng.normal(size=(300, d)) * rng.uniform(0.5, 3.0, d) + 7.0).astype(dtype)
    resp = rng.dirichlet(np.full(4, 0.3), 300)
    resp[:20, 1] = 0.0
    resp /= resp.sum(axis=1, keepdims=True)
    ctx = _FitContext(X, 4, "full")
    assert ctx.wide
    wide = ctx.stats_from_resp(resp, 1e-6)
    ctx.wide = False
    fused = ctx.stats_from_resp(resp, 1e-6)
    for a, b in zip(wide, fused):
        assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_a_component_no_row_belongs_to_has_sklearns_mean():
    # scikit-learn's mean is sum(r x) / (sum(r) + 10 eps): 0 for an empty component;
    # a mean taken about the data mean must weigh the shift by sum(r) / nk to agree
    X = np.ones((20, 2))
    T = np.array([[0.0, 0.0], [1.0, 1.0]])
    theirs = SkGaussianMixture(2, random_state=0).fit(X)
    ours = GaussianMixture(2, random_state=0).fit(X)
    np.testing.assert_allclose(ours.means_, theirs.means_, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(T), theirs.predict(T))
    np.testing.assert_allclose(ours.score_samples(T), theirs.score_samples(T), rtol=1e-9)
    Y = np.random.RandomState(0).randn(200, 3) + 5.0
    theirs = SkGaussianMixture(2, weights_init=[0.0, 1.0], random_state=0).fit(Y)
    ours = GaussianMixture(2, weights_init=[0.0, 1.0], random_state=0).fit(Y)
    np.testing.assert_allclose(ours.means_, theirs.means_, atol=1e-9)


def test_per_row_results_take_the_wider_of_the_two_dtypes():
    X = np.random.RandomState(0).randn(100, 3)
    X32 = X.astype(np.float32)
    for fit_on, score_on, dtype in ((X, X32, np.float64), (X32, X, np.float64),
                                    (X32, X32, np.float32)):
        theirs = SkGaussianMixture(2, random_state=0).fit(fit_on)
        ours = GaussianMixture(2, random_state=0).fit(fit_on)
        for method in ("score_samples", "predict_proba"):
            assert getattr(theirs, method)(score_on).dtype == dtype
            assert getattr(ours, method)(score_on).dtype == dtype
