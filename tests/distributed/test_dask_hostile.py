"""Hostile input on the Dask path: refused as the in-memory estimators refuse it."""

import warnings

import dask
import dask.array as da
import numpy as np
import pytest
from sklearn.datasets import make_blobs

from clusterlab import GaussianMixture, KMeans, MiniBatchKMeans


@pytest.fixture
def threads():
    with dask.config.set(scheduler="threads"):
        yield


def _blobs():
    X, _ = make_blobs(2000, centers=5, random_state=0)
    return X


@pytest.mark.parametrize("estimator", [KMeans(5, n_init=1, random_state=0),
                                       MiniBatchKMeans(5, n_init=1, random_state=0),
                                       GaussianMixture(2, random_state=0)])
@pytest.mark.parametrize("scale,match", [(1e200, "overflow float64"),
                                         (1e-200, "underflow float64")])
def test_magnitudes_squared_distances_cannot_hold_are_refused(threads, estimator, scale, match):
    """X * 1e200 gave an infinite inertia and four one-row clusters, X * 1e-200
    one cluster and a zero inertia, GaussianMixture two identical components:
    the in-memory estimators refuse such data, and so does the Dask path."""
    X = _blobs() * scale
    with pytest.raises(ValueError, match=match):
        estimator.fit(X)
    with pytest.raises(ValueError, match=match):
        estimator.fit(da.from_array(X, chunks=500))


def test_tied_mixture_from_one_hot_starts_fits_as_in_memory(threads):
    X = _blobs()
    kw = dict(n_components=3, covariance_type="tied", init_params="random_from_data",
              random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = GaussianMixture(**kw).fit(da.from_array(X, chunks=300))
        ref = GaussianMixture(**kw).fit(X)
    np.testing.assert_allclose(ours.lower_bound_, ref.lower_bound_, rtol=1e-10)
    np.testing.assert_allclose(ours.covariances_, ref.covariances_, rtol=1e-8)


def test_random_init_with_too_few_weighted_rows_says_so(threads):
    X = _blobs()[:50]
    w = np.zeros(50)
    w[:2] = 1.0
    message = "only 2 sample\\(s\\) have a non-zero weight"
    with pytest.raises(ValueError, match=message):
        KMeans(3, init="random", n_init=1).fit(X, sample_weight=w)
    with pytest.raises(ValueError, match=message):
        KMeans(3, init="random", n_init=1).fit(da.from_array(X, chunks=10),
                                                sample_weight=da.from_array(w, chunks=10))


def test_a_dask_dataframe_is_computed_with_a_warning(threads):
    dd = pytest.importorskip("dask.dataframe")  # optional: needs pyarrow
    import pandas as pd

    frame = dd.from_pandas(pd.DataFrame(_blobs(), columns=["a", "b"]), npartitions=3)
    for estimator in (KMeans(5, n_init=1, random_state=0), GaussianMixture(2, random_state=0)):
        with pytest.warns(UserWarning, match="computes the dask DataFrame X"):
            estimator.fit(frame)
