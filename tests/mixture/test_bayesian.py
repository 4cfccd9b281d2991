"""BayesianGaussianMixture: oracle against scikit-learn, estimator checks, priors, bad input."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture as SkBayesianGaussianMixture
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import BayesianGaussianMixture

COV_TYPES = ["full", "tied", "diag", "spherical"]


def _data(n=210, seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    X = np.r_[rng.randn(n // 3, 3), rng.randn(n // 3, 3) * 0.5 + 3,
              rng.randn(n - 2 * (n // 3), 3) * [1, 2, 0.3] - 2]
    return X.astype(dtype)


def _fit_both(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return (BayesianGaussianMixture(**params).fit(X),
                SkBayesianGaussianMixture(**params).fit(X))


def _assert_same(ours, theirs, rtol=1e-6, atol=1e-8):
    assert_allclose(ours.lower_bound_, np.ravel(theirs.lower_bound_)[0], rtol=rtol, atol=atol)
    assert_allclose(ours.weights_, theirs.weights_, rtol=rtol, atol=atol)
    assert_allclose(ours.means_, theirs.means_, rtol=rtol, atol=atol)
    assert_allclose(ours.covariances_, theirs.covariances_, rtol=rtol, atol=atol)
    assert_allclose(ours.precisions_cholesky_, theirs.precisions_cholesky_, rtol=rtol,
                    atol=atol)
    assert_allclose(ours.mean_precision_, theirs.mean_precision_, rtol=rtol)
    assert_allclose(ours.degrees_of_freedom_, theirs.degrees_of_freedom_, rtol=rtol)
    if isinstance(theirs.weight_concentration_, tuple):
        for a, b in zip(ours.weight_concentration_, theirs.weight_concentration_):
            assert_allclose(a, b, rtol=rtol)
    else:
        assert_allclose(ours.weight_concentration_, theirs.weight_concentration_, rtol=rtol)
    assert ours.n_iter_ == theirs.n_iter_


@pytest.mark.parametrize("covariance_type", COV_TYPES)
@pytest.mark.parametrize("prior_type", ["dirichlet_process", "dirichlet_distribution"])
@pytest.mark.parametrize("init_params", ["random", "random_from_data"])
def test_same_result_as_sklearn(covariance_type, prior_type, init_params):
    X = _data()
    ours, theirs = _fit_both(X, n_components=5, covariance_type=covariance_type,
                             weight_concentration_prior_type=prior_type,
                             init_params=init_params, random_state=0, max_iter=20, tol=0)
    _assert_same(ours, theirs)
    assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=1e-6, atol=1e-8)
    assert_array_equal(ours.predict(X), theirs.predict(X))
    assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_user_priors_same_as_sklearn(covariance_type):
    X = _data(seed=1)
    d = X.shape[1]
    cov_prior = {"full": np.eye(d) * 2.0, "tied": np.eye(d) * 2.0,
                 "diag": np.full(d, 2.0), "spherical": 2.0}[covariance_type]
    ours, theirs = _fit_both(
        X, n_components=4, covariance_type=covariance_type, init_params="random",
        random_state=3, max_iter=15, weight_concentration_prior=0.5,
        mean_precision_prior=0.8, mean_prior=np.ones(d), degrees_of_freedom_prior=d + 1.5,
        covariance_prior=cov_prior, n_init=2)
    _assert_same(ours, theirs)
    assert ours.weight_concentration_prior_ == theirs.weight_concentration_prior_
    assert_allclose(ours.mean_prior_, theirs.mean_prior_)
    assert_allclose(ours.covariance_prior_, theirs.covariance_prior_)


def test_float32_kept():
    X = _data(dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = BayesianGaussianMixture(n_components=3, init_params="random_from_data",
                                       random_state=0, max_iter=3).fit(X)
        ref = BayesianGaussianMixture(n_components=3, init_params="random_from_data",
                                      random_state=0, max_iter=3).fit(X.astype(np.float64))
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        assert getattr(ours, name).dtype == np.float32
        assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-4, atol=1e-4)


def test_unneeded_components_switch_off():
    rng = np.random.RandomState(0)
    X = np.r_[rng.randn(200, 2), rng.randn(200, 2) + [8, 8]]
    bgm = BayesianGaussianMixture(n_components=6, random_state=0, max_iter=500,
                                  init_params="random_from_data",
                                  weight_concentration_prior=1e-3).fit(X)
    assert np.sum(bgm.weights_ > 0.05) == 2
    assert_allclose(bgm.weights_.sum(), 1.0)


def test_bad_priors_raise_value_error():
    X = _data()
    with pytest.raises(ValueError, match="degrees_of_freedom_prior"):
        BayesianGaussianMixture(degrees_of_freedom_prior=1.0).fit(X)
    with pytest.raises(ValueError, match="shape"):
        BayesianGaussianMixture(mean_prior=np.zeros(2)).fit(X)
    with pytest.raises(ValueError, match="shape"):
        BayesianGaussianMixture(covariance_prior=np.eye(2)).fit(X)
    with pytest.raises(ValueError, match="positive-definite"):
        BayesianGaussianMixture(covariance_prior=-np.eye(3)).fit(X)
    with pytest.raises(ValueError, match="weight_concentration_prior_type"):
        BayesianGaussianMixture(weight_concentration_prior_type="pitman-yor").fit(X)
    with pytest.raises(ValueError, match="NaN"):
        BayesianGaussianMixture().fit(np.array([[np.nan, 1.0], [1.0, 2.0]]))


# scikit-learn itself skips its array-API check when SCIPY_ARRAY_API is unset; we do not
# claim array-API support (the tag is False), so that one skip is expected.
@parametrize_with_checks([BayesianGaussianMixture()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
