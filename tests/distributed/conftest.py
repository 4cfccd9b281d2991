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
                               host="127.0.0.1", protocol="tcp", dashboard_address=None,
                               memory_limit="2GiB", silence_logs=40)
        client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()
