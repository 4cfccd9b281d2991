"""Distributed Gaussian mixtures: EM by per-block sufficient statistics, on the LocalCluster."""

import warnings

import dask
import dask.array as da
import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from clusterlab.mixture.gaussian import GaussianMixture

COV_TYPES = ["full", "tied", "diag", "spherical"]


def _initial_parameters(X, covariance_type, k=3, seed=0):
    """Same starting point for every contender: a few EM-free moments from random rows."""
    rng = np.random.default_rng(seed)
    means = X[rng.choice(len(X), k, replace=False)].astype(np.float64)
    weights = np.full(k, 1.0 / k)
    d = X.shape[1]
    var = X.var(axis=0).mean()
    if covariance_type == "full":
        precisions = np.stack([np.eye(d) / var] * k)
    elif covariance_type == "tied":
        precisions = np.eye(d) / var
    elif covariance_type == "diag":
        precisions = np.full((k, d), 1.0 / var)
    else:
        precisions = np.full(k, 1.0 / var)
    return {"weights_init": weights, "means_init": means, "precisions_init": precisions}


@pytest.mark.slow  # a Dask cluster per case, compiled in its workers (quick tier: see tests/conftest.py)
@pytest.mark.parametrize("covariance_type", COV_TYPES)
def test_same_initial_parameters_same_likelihood_as_in_memory(dask_client, dask_fit,
                                                               elongated_blobs,
                                                               covariance_type):
    X, _ = elongated_blobs
    init = _initial_parameters(X, covariance_type)
    kw = dict(n_components=3, covariance_type=covariance_type, max_iter=30, tol=1e-8, **init)
    ours = dask_fit(GaussianMixture(**kw), da.from_array(X, chunks=(400, 2)))
    ref = GaussianMixture(**kw).fit(X)
    oracle = SkGaussianMixture(**kw).fit(X)
    assert ours.n_iter_ == ref.n_iter_
    np.testing.assert_allclose(ours.lower_bounds_, ref.lower_bounds_, rtol=1e-9, atol=1e-9)
    assert ours.lower_bound_ == pytest.approx(oracle.lower_bound_, rel=1e-6)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(ref, name), rtol=1e-6,
                                   atol=1e-8, err_msg=name)
    assert ours.converged_ == ref.converged_


def test_float32_stays_float32_and_matches(dask_client, dask_fit, elongated_blobs):
    X, _ = elongated_blobs
    X32 = X.astype(np.float32)
    kw = dict(n_components=3, max_iter=20, **_initial_parameters(X32, "full"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = dask_fit(GaussianMixture(**kw), da.from_array(X32, chunks=300))
        ref = GaussianMixture(**kw).fit(X32)
    assert ours.means_.dtype == np.float32
    np.testing.assert_allclose(ours.means_, ref.means_, rtol=1e-4, atol=1e-4)
    assert ours.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-4)


def test_chunking_does_not_change_the_fit(dask_client, dask_fit, elongated_blobs):
    X, _ = elongated_blobs
    kw = dict(n_components=3, init_params="random_from_data", random_state=1, max_iter=40)
    fits = [dask_fit(GaussianMixture(**kw), da.from_array(X, chunks=(c, 2)))
            for c in [(1250,), (3, 600, 647), 100]]
    ref = GaussianMixture(**kw).fit(X)  # random_from_data draws the same rows as in memory
    for g in fits:
        np.testing.assert_allclose(g.means_, ref.means_, rtol=1e-6, atol=1e-8)
        assert g.lower_bound_ == pytest.approx(ref.lower_bound_, rel=1e-9)


def test_kmeans_init_reaches_the_seed_solution(dask_fit, elongated_blobs):
    # EXPECTED.md, Gaussian mixture on the elongated blobs: weights, means, BIC. The seed's
    # figures are where scikit-learn's EM stopped (tol=1e-3) from its own start; run EM to the
    # maximum from our distributed K-Means start: its BIC must be at least as good and close.
    X, _ = elongated_blobs
    with dask.config.set(scheduler="threads"):
        gm = dask_fit(GaussianMixture(n_components=3, random_state=42, tol=1e-8, max_iter=2000),
                      da.from_array(X, chunks=500))
    assert gm.converged_
    np.testing.assert_allclose(np.sort(gm.weights_), np.sort([0.40005972, 0.20961444,
                                                             0.39032584]), atol=0.01)
    expected_means = np.array([[-1.40764129, 1.42712848], [3.39947665, 1.05931088],
                               [0.05145113, 0.07534576]])
    order = np.argsort(gm.means_[:, 0])
    np.testing.assert_allclose(gm.means_[order], expected_means[np.argsort(expected_means[:, 0])],
                               atol=0.1)
    assert 8189.733705221636 * (1 - 1e-3) <= gm.bic(X) <= 8189.733705221636 + 1e-6
    assert gm._n_parameters() == 17


def test_predictions_are_lazy_and_match_numpy(dask_client, dask_fit, dask_call,
                                              elongated_blobs):
    X, _ = elongated_blobs
    gm = GaussianMixture(n_components=3, random_state=0).fit(X)
    dX = da.from_array(X, chunks=400)
    for method in ("predict", "predict_proba", "score_samples"):
        out = dask_call(gm, method, dX)
        assert isinstance(out, da.Array)
        np.testing.assert_allclose(out.compute(), getattr(gm, method)(X), rtol=1e-10,
                                   atol=1e-12)


def test_bad_inputs(dask_fit, elongated_blobs):
    X, _ = elongated_blobs
    with dask.config.set(scheduler="sync"):
        with pytest.raises(ValueError, match="k-means\\+\\+"):
            dask_fit(GaussianMixture(3, init_params="k-means++"), da.from_array(X, chunks=500))
        with pytest.raises(ValueError, match="n_samples >= n_components"):
            dask_fit(GaussianMixture(5), da.from_array(X[:4], chunks=2))
        bad = X.copy()
        bad[3, 0] = np.inf
        gm = GaussianMixture(2)
        with pytest.raises(ValueError, match="NaN or infinite"):
            dask_fit(gm, da.from_array(bad, chunks=500))
        assert not hasattr(gm, "means_")
        with pytest.raises(ValueError, match="2-D"):
            dask_fit(GaussianMixture(2), da.from_array(X[:, 0], chunks=500))
        with pytest.raises(ValueError, match="covariance_type"):
            dask_fit(GaussianMixture(2, covariance_type="round"), da.from_array(X, chunks=500))
