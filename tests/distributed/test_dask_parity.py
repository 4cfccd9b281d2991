"""The Dask path against the in-memory one where a probe found them apart: a callable
``init``, float16 rows, weights and labels filtered by a mask, a fit that fails part-way."""

import threading
import warnings

import dask
import dask.array as da
import numpy as np
import pytest
from sklearn.datasets import make_blobs

from clusterlab import GaussianMixture, KMeans, MiniBatchKMeans
from clusterlab import distributed as cd
from clusterlab.metrics import silhouette_score


@pytest.fixture
def threads():
    with dask.config.set(scheduler="threads"):
        yield


def _blobs(n=1200, seed=0):
    return make_blobs(n, centers=5, cluster_std=1.2, random_state=seed)[0]


def test_callable_init_sees_centred_rows_as_in_memory(threads):
    """The in-memory estimator (as scikit-learn's) calls ``init`` on the rows
    centred on their mean and shifts its centres back; the Dask path called it
    on the raw rows and kept its centres as they were (inertia 211.6 against
    219.8 for fixed centres)."""
    X = _blobs()
    fixed = np.array([[-3, 3], [-3, 2], [-3, 1], [-1, 2], [0, 2]], float)
    seen = []

    def init(Xc, k, random_state):
        seen.append(np.asarray(Xc).mean(axis=0))
        return fixed

    local = KMeans(5, init=init, n_init=1).fit(X)
    dist = KMeans(5, init=init, n_init=1).fit(da.from_array(X, chunks=300))
    np.testing.assert_allclose(seen[0], 0.0, atol=1e-12)
    np.testing.assert_allclose(seen[1], 0.0, atol=1e-12)
    np.testing.assert_allclose(dist.cluster_centers_, local.cluster_centers_, rtol=1e-12,
                               atol=1e-12)
    assert dist.inertia_ == pytest.approx(local.inertia_, rel=1e-12)


@pytest.mark.parametrize("make", [lambda: KMeans(4, n_init=1, random_state=0),
                                  lambda: MiniBatchKMeans(4, n_init=1, random_state=0,
                                                          batch_size=4096),
                                  lambda: GaussianMixture(3, random_state=0)])
def test_float16_rows_are_fitted_in_float64_as_in_memory(threads, make):
    X = _blobs(800).astype(np.float16)
    local = make().fit(X)
    dist = make().fit(da.from_array(X, chunks=800))
    attr = "means_" if hasattr(local, "means_") else "cluster_centers_"
    assert getattr(local, attr).dtype == np.float64
    assert getattr(dist, attr).dtype == np.float64


def test_weights_filtered_by_the_same_mask_as_the_rows(threads):
    """X's unknown chunk sizes were computed, the weights' were not: refused as
    "sample_weight has nan entries"."""
    X = _blobs()
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(X))
    keep = np.arange(len(X)) % 4 != 0
    dX, dw, dm = (da.from_array(a, chunks=300) for a in (X, w, keep))
    init = X[keep][:5]
    dist = KMeans(5, init=init, n_init=1).fit(dX[dm], sample_weight=dw[dm])
    local = KMeans(5, init=init, n_init=1).fit(X[keep], sample_weight=w[keep])
    np.testing.assert_allclose(dist.cluster_centers_, local.cluster_centers_, rtol=1e-12)
    assert dist.inertia_ == pytest.approx(local.inertia_, rel=1e-12)


def test_distributed_silhouette_takes_rows_in_memory_and_filtered_labels(threads):
    X = _blobs()
    labels = KMeans(5, n_init=1, random_state=0).fit(X).labels_
    want = silhouette_score(X, labels, sample_size=500, random_state=3)
    # rows in memory (an AttributeError on .chunks before)
    assert cd.silhouette_score(X, labels, sample_size=500, random_state=3) == want
    # labels filtered by the same mask as the rows (len() of unknown chunks before)
    keep = np.arange(len(X)) % 3 != 0
    dX, dl, dm = da.from_array(X, chunks=300), da.from_array(labels, chunks=300), \
        da.from_array(keep, chunks=300)
    got = cd.silhouette_score(dX[dm], dl[dm], sample_size=400, random_state=1)
    assert got == silhouette_score(X[keep], labels[keep], sample_size=400, random_state=1)


class _FailAfter:
    """A block function that raises OSError from its ``n``-th call on (threads scheduler)."""

    def __init__(self, n):
        self.n, self.calls, self.lock = n, 0, threading.Lock()

    def __call__(self, block):
        with self.lock:
            self.calls += 1
            if self.calls >= self.n:
                raise OSError("disk gone")
        return block


def _flaky(X, n, chunks=200):
    return da.from_array(X, chunks=(chunks, X.shape[1])).map_blocks(
        _FailAfter(n), dtype=X.dtype, meta=np.empty((0, 0)))


def _fitted_state(est):
    return {k: v.copy() if isinstance(v, np.ndarray) else v
            for k, v in vars(est).items() if k.endswith("_") and not k.startswith("_")}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("make,fail_at", [
    (lambda: GaussianMixture(3, random_state=0, max_iter=50, tol=0), 40),
    (lambda: GaussianMixture(3, random_state=0, init_params="random_from_data"), 20),
    (lambda: MiniBatchKMeans(3, n_init=1, random_state=0, batch_size=100), 15),
    (lambda: MiniBatchKMeans(3, n_init=1, random_state=0, batch_size=100), 23),
])
def test_a_fit_failing_part_way_leaves_the_previous_model(threads, make, fail_at):
    """A worker failure inside the EM loop left GaussianMixture with the old
    ``lower_bound_`` and ``n_iter_`` but no ``means_`` (``check_is_fitted``
    passed, ``predict`` raised AttributeError); MiniBatchKMeans raised the bare
    OSError outside its streaming loop, and a failure in its last pass left the
    new centres beside the old inertia."""
    X = _blobs(1200)
    est = make().fit(X[:400])
    before = _fitted_state(est)
    pred = est.predict(X[:50])
    with pytest.raises(RuntimeError, match="distributed computation failed") as info:
        est.fit(_flaky(X, fail_at))
    # said once, not wrapped again by the step around it
    assert str(info.value).count("distributed computation failed") == 1
    after = _fitted_state(est)
    assert after.keys() == before.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(after[key], value)
        else:
            assert after[key] == value
    np.testing.assert_array_equal(est.predict(X[:50]), pred)


def test_a_failed_first_fit_leaves_nothing(threads):
    X = _blobs(1200)
    gm = GaussianMixture(3, random_state=0, max_iter=50, tol=0)
    with pytest.raises(RuntimeError, match="distributed computation failed"):
        gm.fit(_flaky(X, 30))
    assert not [k for k in vars(gm) if k.endswith("_") and not k.startswith("_")]


def test_partial_fit_on_a_dask_batch_says_it_is_computed_here(threads):
    X = _blobs(600)
    mbk = MiniBatchKMeans(3, random_state=0)
    with pytest.warns(UserWarning, match="computed into this process's memory"):
        mbk.partial_fit(da.from_array(X, chunks=200))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mbk.partial_fit(X)  # numpy: no warning
