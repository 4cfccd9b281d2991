"""One real Dask cluster for the whole test session.

Two worker processes (each supervised by a nanny, so a killed worker is
restarted), one thread each, talking TCP on 127.0.0.1. The ``Client`` becomes the
default scheduler, so ``dask.compute`` inside clusterlab runs on it; tests of the
local threaded scheduler override that with ``dask.config.set(scheduler="threads")``.

A task may be on up to three dying workers and still be retried
(``allowed-failures=3``, Dask's default); the test of the error path lowers
that to 0 on the scheduler for its duration (see ``allowed_failures``).
"""

import pytest


@pytest.fixture(scope="session")
def dask_client():
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 3,
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


def _set_allowed_failures(dask_scheduler, n):
    previous = dask_scheduler.allowed_failures
    dask_scheduler.allowed_failures = n
    return previous


@pytest.fixture
def allowed_failures(dask_client):
    """``allowed_failures(n)``: how often a task may die with its worker, until the test ends."""
    previous = []

    def set_(n):
        previous.append(dask_client.run_on_scheduler(_set_allowed_failures, n=n))

    yield set_
    if previous:
        dask_client.run_on_scheduler(_set_allowed_failures, n=previous[0])


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
