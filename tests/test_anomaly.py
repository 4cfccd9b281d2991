"""DensityAnomalyDetector: outlier API, fitted/unfitted models, estimator checks."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.neighbors import KernelDensity
from sklearn.utils.estimator_checks import parametrize_with_checks

from clusterlab import GaussianMixture
from clusterlab.anomaly import DensityAnomalyDetector


def _data():
    rng = np.random.RandomState(0)
    return np.r_[rng.randn(300, 2), rng.randn(200, 2) * 0.5 + [4, 4]]


def test_threshold_is_the_contamination_quantile():
    X = _data()
    det = DensityAnomalyDetector(GaussianMixture(2, init_params="random_from_data",
                                                 random_state=0), contamination=0.05).fit(X)
    scores = det.score_samples(X)
    assert_allclose(det.threshold_, np.percentile(scores, 5))
    labels = det.predict(X)
    assert set(np.unique(labels)) == {-1, 1}
    assert_array_equal(labels == -1, scores < det.threshold_)
    assert_array_equal(det.fit_predict(X), labels)
    assert_allclose(det.decision_function(X), scores - det.threshold_)
    assert np.sum(labels == -1) == 25  # 5% of 500


def test_fitted_model_used_as_is_unfitted_model_cloned():
    X = _data()
    fitted = GaussianMixture(2, init_params="random_from_data", random_state=0).fit(X)
    means = fitted.means_.copy()
    det = DensityAnomalyDetector(fitted).fit(X[:50])  # threshold only, no refit
    assert det.estimator_ is fitted
    assert_array_equal(fitted.means_, means)
    unfitted = GaussianMixture(2, init_params="random_from_data", random_state=0)
    det = DensityAnomalyDetector(unfitted).fit(X)
    assert det.estimator_ is not unfitted and not hasattr(unfitted, "means_")


def test_any_density_model_with_score_samples():
    X = _data()
    det = DensityAnomalyDetector(KernelDensity(bandwidth=0.5), contamination=0.1).fit(X)
    assert np.sum(det.predict(X) == -1) == 50


def test_default_estimator_is_a_gaussian_mixture():
    det = DensityAnomalyDetector().fit(_data())
    assert isinstance(det.estimator_, GaussianMixture)


def test_bad_parameters():
    X = _data()
    with pytest.raises(ValueError, match="contamination"):
        DensityAnomalyDetector(contamination=0.7).fit(X)
    with pytest.raises(ValueError, match="estimator"):
        DensityAnomalyDetector(estimator="gmm").fit(X)
    with pytest.raises(ValueError, match="NaN"):
        DensityAnomalyDetector().fit(np.array([[np.nan, 1.0], [1.0, 2.0], [0.0, 0.0]]))


# scikit-learn itself skips its array-API check when SCIPY_ARRAY_API is unset.
@parametrize_with_checks([DensityAnomalyDetector()])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_a_density_without_fit_is_used_as_is():
    class FixedDensity:
        def __init__(self):
            self.mean_ = np.zeros(2)

        def score_samples(self, X):
            return -np.sum((np.asarray(X) - self.mean_) ** 2, axis=1)

    X = np.random.RandomState(0).normal(size=(50, 2))
    density = FixedDensity()
    detector = DensityAnomalyDetector(density, contamination=0.1).fit(X)
    assert detector.estimator_ is density
    assert detector.threshold_ == pytest.approx(np.quantile(density.score_samples(X), 0.1))
