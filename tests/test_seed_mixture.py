"""The seed's Gaussian-mixture, Bayesian and iris rows of ../shared/seed/EXPECTED.md."""

import warnings
from collections import Counter

import numpy as np
import pytest
from numpy.testing import assert_allclose

from clusterlab import BayesianGaussianMixture, GaussianMixture
from clusterlab.anomaly import DensityAnomalyDetector

EXPECTED_WEIGHTS = np.array([0.40005972, 0.20961444, 0.39032584])
EXPECTED_MEANS = np.array([[-1.40764129, 1.42712848], [3.39947665, 1.05931088],
                           [0.05145113, 0.07534576]])
EXPECTED_COVARIANCES = np.array([
    [[0.63478217, 0.72970097], [0.72970097, 1.16094925]],
    [[1.14740131, -0.03271106], [-0.03271106, 0.95498333]],
    [[0.68825143, 0.79617956], [0.79617956, 1.21242183]],
])


@pytest.fixture(scope="module")
def X(elongated_blobs):
    return elongated_blobs[0]


@pytest.fixture(scope="module")
def gm(X):
    return GaussianMixture(n_components=3, n_init=10, random_state=42).fit(X)


def _match_components(means, expected_means):
    """Order of our components that lines them up with the expected ones."""
    order = [int(np.argmin(np.linalg.norm(means - m, axis=1))) for m in expected_means]
    assert sorted(order) == list(range(len(expected_means)))
    return order


def test_parameters_converged_and_criteria(gm, X):
    order = _match_components(gm.means_, EXPECTED_MEANS)
    assert_allclose(gm.weights_[order], EXPECTED_WEIGHTS, atol=1e-6)
    assert_allclose(gm.means_[order], EXPECTED_MEANS, atol=1e-6)
    assert_allclose(gm.covariances_[order], EXPECTED_COVARIANCES, atol=1e-6)
    assert gm.converged_
    assert_allclose(gm.bic(X), 8189.733705221636, rtol=1e-9)
    assert_allclose(gm.aic(X), 8102.508425106598, rtol=1e-9)
    assert gm._n_parameters() == 17
    # the seed's manual computation of the criteria agrees with the methods
    log_l = gm.score(X) * len(X)
    assert_allclose(np.log(len(X)) * 17 - 2 * log_l, gm.bic(X), rtol=1e-12)


@pytest.mark.slow  # 4 million grid points: the mixture pass's parallel compilation (quick tier: see tests/conftest.py)
def test_density_integrates_to_one(gm):
    grid = np.arange(-10, 10, 0.01)
    xx, yy = np.meshgrid(grid, grid)
    pdf = np.exp(gm.score_samples(np.c_[xx.ravel(), yy.ravel()]))
    assert_allclose(pdf.sum() * 0.01**2, 1.0, atol=1e-6)


def test_samples_grouped_by_component(gm):
    X_new, y_new = gm.sample(6)
    assert X_new.shape == (6, 2)
    assert np.all(np.diff(y_new) >= 0)


def test_25_anomalies_at_the_2nd_percentile(gm, X):
    densities = gm.score_samples(X)
    seed_way = X[densities < np.percentile(densities, 2)]
    assert len(seed_way) == 25
    detector = DensityAnomalyDetector(gm, contamination=0.02).fit(X)
    flagged = detector.predict(X) == -1
    assert flagged.sum() == 25
    assert_allclose(np.sort(X[flagged], axis=0), np.sort(seed_way, axis=0))
    unfitted = DensityAnomalyDetector(GaussianMixture(3, n_init=10, random_state=42)).fit(X)
    assert np.sum(unfitted.predict(X) == -1) == 25


def test_bic_and_aic_lowest_at_three_components(X):
    from clusterlab.selection import sweep

    result = sweep(GaussianMixture(n_init=10, random_state=42), X, range(1, 11),
                   criteria=("bic", "aic"))
    assert result.best("bic") == 3
    assert result.best("aic") == 3
    assert int(result.k_values[np.argmin(result.table["aic"])]) == 3


def test_bayesian_keeps_three_components_on_elongated_blobs(X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the seed's settings do not all converge
        bgm = BayesianGaussianMixture(n_components=10, n_init=10, random_state=42).fit(X)
    assert np.sum(bgm.weights_ > 0.1) == 3
    assert np.sort(bgm.weights_)[:-3].sum() < 0.01


def test_bayesian_uses_many_ellipsoids_on_the_moons(moons):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bgm = BayesianGaussianMixture(n_components=10, n_init=10, random_state=42).fit(moons)
    n_used = int(np.sum(bgm.weights_ > 0.01))
    assert 6 <= n_used <= 10  # "several (about 8) ellipsoidal components, not 2"


def test_iris_accuracy_with_most_common_class_mapping():
    from clusterlab.datasets import load_iris

    X, y = load_iris()
    y_pred = GaussianMixture(n_components=3, random_state=42).fit(X).predict(X)
    mapping = {c: Counter(y[y_pred == c]).most_common(1)[0][0] for c in np.unique(y_pred)}
    accuracy = np.mean(np.array([mapping[c] for c in y_pred]) == y)
    assert_allclose(accuracy, 0.9667, atol=5e-5)
    assert np.sum(np.array([mapping[c] for c in y_pred]) == y) == 145


@pytest.mark.slow  # its density integral compiles the mixture pass's parallel variant
# (~6 s cold), which no other quick test needs
def test_user_guide_examples_run(tmp_path):
    """Every python block of docs/mixture.md runs and gives the numbers it shows."""
    import os
    import re

    docs = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "docs",
                        "mixture.md")
    with open(docs) as fh:
        code = "\n".join(re.findall(r"```python\n(.*?)```", fh.read(), re.S))
    code = code.replace('"gaussian_mixture.png"', repr(str(tmp_path / "gm.png")))
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(code, docs, "exec"), namespace)
    assert namespace["gm"].n_iter_ == 4
    assert (namespace["labels"] == -1).sum() == 25
    assert namespace["result"].best("bic") == 3
    assert_allclose(namespace["pdf"].sum() * 0.01**2, 1.0, atol=1e-6)
    assert (tmp_path / "gm.png").exists()
