"""A worker killed mid-fit: Dask retries and the model is the undisturbed one, or a clear error.

Runs last (file name order): restarted workers reload numba's cache, which the
other test files then need not wait for.
"""

import os
import sys

import dask.array as da
import numpy as np
import pytest
from sklearn.datasets import make_blobs

from clusterlab.cluster.kmeans import KMeans


def _blobs(n, seed):
    return make_blobs(n_samples=n, n_features=4, centers=5, cluster_std=1.5,
                      random_state=seed)[0]


def _die_once(block, marker):
    """Kill this worker process the first time any task runs this (the nanny restarts it)."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return block
    os.close(fd)
    os._exit(1)


def _die_always(block, in_worker):
    if in_worker:
        os._exit(1)
    return block


@pytest.mark.slow  # starts and kills Dask workers (quick tier: see tests/conftest.py)
def test_worker_killed_mid_fit_recovers_with_the_same_model(dask_client, dask_fit, tmp_path):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    X = _blobs(1500, 15)
    init = X[:5]
    dX = da.from_array(X, chunks=300)
    undisturbed = dask_fit(KMeans(5, init=init, n_init=1), dX)
    marker = str(tmp_path / "killed")
    fragile = dX.map_blocks(_die_once, marker, dtype=dX.dtype, meta=np.empty((0, 0)))
    n_workers = len(dask_client.scheduler_info()["workers"])
    km = dask_fit(KMeans(5, init=init, n_init=1), fragile)
    assert os.path.exists(marker)  # a worker really died during the fit
    np.testing.assert_array_equal(km.cluster_centers_, undisturbed.cluster_centers_)
    assert km.inertia_ == undisturbed.inertia_
    assert km.n_iter_ == undisturbed.n_iter_
    dask_client.wait_for_workers(n_workers, timeout=60)


def test_worker_dying_every_time_raises_a_clear_error(dask_client, dask_fit,
                                                     allowed_failures):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    X = _blobs(300, 16)
    n_workers = len(dask_client.scheduler_info()["workers"])
    doomed = da.from_array(X, chunks=300).map_blocks(_die_always, True, dtype=X.dtype,
                                                     meta=np.empty((0, 0)))
    km = KMeans(3, init=X[:3], n_init=1)
    allowed_failures(0)  # the first death is final: no need to kill four workers
    with pytest.raises(RuntimeError, match="distributed computation failed"):
        dask_fit(km, doomed)
    assert not hasattr(km, "cluster_centers_")  # no half-fitted model
    dask_client.wait_for_workers(n_workers, timeout=60)

