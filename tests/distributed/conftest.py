"""One real Dask cluster for the whole test session.

Two worker processes (each supervised by a nanny, so a killed worker is
restarted), one thread each, talking TCP on 127.0.0.1. The ``Client`` becomes the
default scheduler, so ``dask.compute`` inside clusterlab runs on it; tests of the
local threaded scheduler override that with ``dask.config.set(scheduler="threads")``.

A task may fail once on a dying worker and be retried (``allowed-failures=1``);
a second death raises ``KilledWorker``. The worker-killing tests rely on this.
"""

import pytest


@pytest.fixture(scope="session")
def dask_client():
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                          "distributed.worker.daemon": False,
                          "distributed.admin.tick.limit": "10s"}):
        cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                               host="127.0.0.1", protocol="tcp", dashboard_address=":0",
                               memory_limit="2GiB", silence_logs=40)
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def _wired(estimator_cls):
    """Whether the estimator's module already dispatches dask input to clusterlab.distributed."""
    import inspect
    import sys

    return "is_dask_array" in inspect.getsource(sys.modules[estimator_cls.__module__])


@pytest.fixture(scope="session")
def dask_fit():
    """``dask_fit(estimator, dask_X, **kw)``: the estimator API once wired, else our function.

    The lead adds ``if is_dask_array(X): return fit_xxx(self, X, ...)`` to each
    estimator's ``fit`` at integration; until then the tests call the
    distributed functions directly, with the same arguments.
    """
    from clusterlab import distributed as cd
    from clusterlab.cluster.kmeans import KMeans
    from clusterlab.cluster.minibatch import MiniBatchKMeans
    from clusterlab.mixture.gaussian import GaussianMixture

    direct = {KMeans: cd.fit_kmeans, MiniBatchKMeans: cd.fit_minibatch_kmeans,
              GaussianMixture: cd.fit_gaussian_mixture}

    def fit(estimator, X, **kwargs):
        cls = type(estimator)
        if _wired(cls):
            return estimator.fit(X, **kwargs)
        return direct[cls](estimator, X, **kwargs)

    return fit


@pytest.fixture(scope="session")
def dask_call():
    """``dask_call(fitted, method, dask_X)``: ``fitted.<method>(dask_X)`` once wired."""
    from clusterlab import distributed as cd

    def call(estimator, method, X):
        if _wired(type(estimator)):
            return getattr(estimator, method)(X)
        return cd.predict_blocks(estimator, method, X)

    return call
