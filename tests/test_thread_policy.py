"""The thread policy of clusterlab._config (issue 22: no collapse under load).

BLAS is limited to one thread inside numba-parallel passes, numba to one thread
inside multi-threaded BLAS blocks, factorisations are sized by the cores free
right now, and the results do not depend on those thread counts.
"""

import os

import numba
import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from clusterlab import _config
from clusterlab.cluster import _spectral_embedding as se


def _blas_threads():
    return sorted({d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"})


def _blas_max():
    return min(d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas")


def test_available_cores_is_the_affinity_at_most():
    n = _config.available_cores()
    assert 1 <= n <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize("others, expected", [(None, "avail"), (0, "avail"), (10_000, 1)])
def test_free_cores_follows_other_runnable_threads(monkeypatch, others, expected):
    monkeypatch.setattr(_config, "other_runnable_threads", lambda: others)
    monkeypatch.setattr(_config, "available_cores", lambda: 3)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    assert _config.free_cores() == (3 if expected == "avail" else expected)
    monkeypatch.setattr(_config, "other_runnable_threads", lambda: 2)
    assert _config.free_cores() == 2  # 4 cpus - 2 busy, within the 3 available


def test_factorization_threads_switch(monkeypatch):
    monkeypatch.setattr(_config, "free_cores", lambda: 1)
    monkeypatch.setattr(_config, "available_cores", lambda: 2)
    assert _config.factorization_threads() == 1
    monkeypatch.setattr(_config, "LOAD_AWARE_FACTORIZATION", False)
    assert _config.factorization_threads() == 2


@pytest.mark.skipif(not os.path.exists("/proc/loadavg"), reason="needs Linux /proc")
def test_other_runnable_threads_sees_busy_processes():
    import subprocess
    import sys
    import time

    spin = "import sys\nsys.stdout.write('go\\n'); sys.stdout.flush()\nwhile True: pass\n"
    procs = [subprocess.Popen([sys.executable, "-c", spin], stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "go"
        time.sleep(0.05)
        counts = [_config.other_runnable_threads() for _ in range(5)]
        # both spinners are runnable at every instant (running or waiting for a core)
        assert min(counts) >= 2
        assert _config.free_cores() <= max(1, (os.cpu_count() or 1) - 2)
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_own_running_threads_counts_this_thread():
    assert _config._own_running_threads() >= 1


def test_numba_threads_capped_by_available_cores(monkeypatch):
    monkeypatch.setattr(_config, "available_cores", lambda: 1)
    before = numba.get_num_threads()
    with _config.numba_threads(-1):
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


def test_single_threaded_blas_limits_and_restores():
    before = _blas_threads()
    with _config.single_threaded_blas():
        assert _blas_threads() == [1]
    assert _blas_threads() == before


def test_blas_threads_sets_numba_to_one_and_restores_on_error():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has a single thread here")
    before_blas, before_numba = _blas_threads(), numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        with pytest.raises(RuntimeError):
            with _config.blas_threads(2):
                assert numba.get_num_threads() == 1
                assert _blas_threads() == [min(2, _blas_max())]
                raise RuntimeError("boom")
        assert numba.get_num_threads() == 2
        with _config.blas_threads(1):  # one BLAS thread: numba keeps its threads
            assert numba.get_num_threads() == 2
            assert _blas_threads() == [1]
    finally:
        numba.set_num_threads(before_numba)
    assert _blas_threads() == before_blas


def _two_moons(n, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, np.pi, n)
    half = n // 2
    X = np.empty((n, 2))
    X[:half, 0], X[:half, 1] = np.cos(t[:half]), np.sin(t[:half])
    X[half:, 0], X[half:, 1] = 1 - np.cos(t[half:]), 0.5 - np.sin(t[half:])
    return X + rng.normal(scale=0.05, size=X.shape)


def test_spectral_laplacian_runs_with_one_blas_thread_and_solver_with_policy(monkeypatch):
    """The numba-parallel Laplacian sees one BLAS thread; the factorisation sees the
    policy's count (forced to 2 here) with numba on one thread."""
    from clusterlab.cluster.spectral import rbf_affinity

    seen = {}
    lap, fact = se._normalized_laplacian, se._factorize_shifted

    def spy_lap(A):
        seen["lap_blas"] = _blas_threads()
        return lap(A)

    def spy_fact(L):
        seen["fact_blas"] = _blas_threads()
        seen["fact_numba"] = numba.get_num_threads()
        return fact(L)

    monkeypatch.setattr(se, "_normalized_laplacian", spy_lap)
    monkeypatch.setattr(se, "_factorize_shifted", spy_fact)
    monkeypatch.setattr(_config, "SPECTRAL_SMALL_BLAS_SAMPLES", 100)
    monkeypatch.setattr(_config, "factorization_threads", lambda: 2)
    A = rbf_affinity(_two_moons(300), 100.0)
    se.spectral_embedding_normalized(A, 2, random_state=0)
    assert seen["lap_blas"] == [1]
    # what the BLAS library gives when asked for 2 threads (1 on a one-core build),
    # whatever limit an earlier test in this process left behind
    with threadpool_limits(limits=2, user_api="blas"):
        two = _blas_threads()
    assert seen["fact_blas"] == two
    if seen["fact_blas"] != [1]:
        assert seen["fact_numba"] == 1
    # below SPECTRAL_SMALL_BLAS_SAMPLES the solver keeps one BLAS thread
    monkeypatch.setattr(_config, "SPECTRAL_SMALL_BLAS_SAMPLES", 10_000)
    se.spectral_embedding_normalized(A, 2, random_state=0)
    assert seen["fact_blas"] == [1]


@pytest.mark.filterwarnings("ignore:Graph is not fully connected")
@pytest.mark.parametrize("affinity", ["rbf", "nearest_neighbors"])
def test_spectral_result_independent_of_thread_counts(monkeypatch, affinity):
    """1 or 2 BLAS threads in the solver and 1 or 2 numba threads in the kernels:
    the same labels, and embeddings equal to rounding."""
    from clusterlab import SpectralClustering

    X = _two_moons(400, seed=1)
    monkeypatch.setattr(_config, "SPECTRAL_SMALL_BLAS_SAMPLES", 100)
    # the dense affinity's kernels on numba's threads when there are two
    monkeypatch.setattr(_config, "SPECTRAL_DENSE_THREADS_MIN_SAMPLES", 100)
    results = []
    for blas, nb in ((1, 1), (2, 2), (1, 2), (2, 1)):
        monkeypatch.setattr(_config, "factorization_threads", lambda blas=blas: blas)
        with _config.numba_threads(nb):
            sc = SpectralClustering(n_clusters=2, gamma=50, affinity=affinity,
                                    random_state=0).fit(X)
            A = sc.affinity_matrix_
            maps = se.spectral_embedding_normalized(A, 2, random_state=0)
        results.append((sc.labels_, A, maps))
    labels0, A0, maps0 = results[0]
    for labels, A, maps in results[1:]:
        np.testing.assert_array_equal(labels, labels0)
        if affinity == "rbf":  # numba kernels: bit-identical whatever the thread count
            np.testing.assert_array_equal(A, A0)
        np.testing.assert_allclose(maps, maps0, rtol=1e-7, atol=1e-9)


def test_spectral_n_jobs_sets_numba_threads(monkeypatch):
    from clusterlab import SpectralClustering

    seen = []
    lap = se._normalized_laplacian

    def spy_lap(A):
        seen.append(numba.get_num_threads())
        return lap(A)

    monkeypatch.setattr(se, "_normalized_laplacian", spy_lap)
    before = numba.get_num_threads()
    X = _two_moons(120)
    SpectralClustering(n_clusters=2, gamma=50, random_state=0, n_jobs=1).fit(X)
    SpectralClustering(n_clusters=2, gamma=50, random_state=0).fit(X)
    assert seen == [1, before]
    assert numba.get_num_threads() == before


def test_free_cores_keeps_the_busiest_reading(monkeypatch):
    readings = iter([0, 3, 1])
    monkeypatch.setattr(_config, "other_runnable_threads", lambda: next(readings))
    monkeypatch.setattr(_config, "available_cores", lambda: 4)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(_config, "FREE_CORES_SAMPLES", 3)
    assert _config.free_cores() == 1  # 4 cpus - 3 busy at the busiest reading


def test_one_load_reading_holds_the_first_reading(monkeypatch):
    readings = iter([3, 0, 0, 0, 0, 0, 0, 0])
    monkeypatch.setattr(_config, "other_runnable_threads", lambda: next(readings))
    monkeypatch.setattr(_config, "FREE_CORES_SAMPLES", 1)
    monkeypatch.setattr(_config, "available_cores", lambda: 4)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    with _config.one_load_reading():
        assert _config.free_cores() == 1  # 4 cpus - 3 busy, read once
        with _config.one_load_reading():  # a nested block keeps the outer reading
            assert _config.free_cores() == 1
        assert _config.factorization_threads() == 1
    assert _config.free_cores() == 4  # read again outside


def test_wide_mixture_factorises_on_the_free_cores(monkeypatch):
    """Full covariances on many features: every LAPACK factorisation runs on
    the cores free at the start of the fit (one reading), the thin ones on one
    thread without reading the load; the fit equals the one-thread fit."""
    from scipy.linalg import lapack

    from clusterlab import GaussianMixture

    seen = []
    potrf = lapack.dpotrf  # the factorisation of every component's covariance

    def spy(a, *args, **kwargs):
        seen.append((a.shape[0], _blas_threads()))
        return potrf(a, *args, **kwargs)

    monkeypatch.setattr(lapack, "dpotrf", spy)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 130))
    kw = dict(n_components=2, covariance_type="full", max_iter=3, tol=0, random_state=0)
    monkeypatch.setattr(_config, "available_cores", lambda: 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(_config, "other_runnable_threads", lambda: 1)  # 1 core free
    one = GaussianMixture(**kw).fit(X)
    assert seen and all(threads == [1] for _, threads in seen)
    seen.clear()
    readings = []
    monkeypatch.setattr(_config, "other_runnable_threads", lambda: readings.append(1) or 0)
    two = GaussianMixture(**kw).fit(X)
    # scipy's BLAS (the factorisations', and numba's products') on the two
    # free cores; where numpy loads another library, that one stays on one
    # thread (one_blas_pool: its spinning threads slowed the passes)
    want = [2] if _config._blas_pools() is None else [1, 2]
    assert seen and all(threads == want for _, threads in seen)
    assert len(readings) == _config.FREE_CORES_SAMPLES  # the load read once for the fit
    np.testing.assert_allclose(two.lower_bound_, one.lower_bound_, rtol=1e-9)
    np.testing.assert_array_equal(two.predict(X), one.predict(X))


def test_one_blas_pool_holds_the_other_libraries_to_one_thread():
    """Inside one_blas_pool, blas_threads(n) sizes only the library numba's
    kernels call (scipy's); every other BLAS library stays on one thread, and
    all come back as they were."""
    pools = _config._blas_pools()
    if pools is None:
        pytest.skip("numpy and scipy share one BLAS library here: nothing to hold")
    numbas, others = pools
    before = (numbas.info(), others.info())
    with threadpool_limits(limits=2, user_api="blas"):
        with _config.one_blas_pool():
            assert {d["num_threads"] for d in others.info()} == {1}
            assert {d["num_threads"] for d in numbas.info()} == {2}
            with _config.blas_threads(2):
                assert {d["num_threads"] for d in others.info()} == {1}
                assert {d["num_threads"] for d in numbas.info()} == {2}
            with _config.single_threaded_blas():
                assert _blas_threads() == [1]
            assert {d["num_threads"] for d in others.info()} == {1}
        assert _blas_threads() == [2]
    assert (numbas.info(), others.info()) == before


def test_silhouette_products_on_the_free_cores(monkeypatch):
    """The silhouette's BLAS products (many features) run on the cores free
    now: one thread when another process holds a core, else all; the score
    does not depend on it."""
    from clusterlab._kernels import silhouette as ks
    from clusterlab.metrics import silhouette_score

    seen = []
    gemm = ks.cluster_distance_sums_gemm

    def spy(*args, **kwargs):
        seen.append(_blas_threads())
        return gemm(*args, **kwargs)

    monkeypatch.setattr(ks, "cluster_distance_sums_gemm", spy)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 40))
    labels = rng.integers(0, 4, 600)
    monkeypatch.setattr(_config, "available_cores", lambda: 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    monkeypatch.setattr(_config, "other_runnable_threads", lambda: 1)
    busy = silhouette_score(X, labels)
    monkeypatch.setattr(_config, "other_runnable_threads", lambda: 0)
    quiet = silhouette_score(X, labels)
    with threadpool_limits(limits=2, user_api="blas"):
        two = _blas_threads()
    assert seen == [[1], two]
    np.testing.assert_allclose(busy, quiet, rtol=1e-12)


def test_dbscan_products_on_the_free_cores(monkeypatch):
    """DBSCAN's BLAS products (many features) run on the cores free when the
    fit starts; the labels do not depend on it."""
    from clusterlab import DBSCAN

    asked = []
    limit = _config.blas_threads

    def spy(n):
        asked.append(n)
        return limit(n)

    monkeypatch.setattr(_config, "blas_threads", spy)
    monkeypatch.setattr(_config, "available_cores", lambda: 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(c, 1.0, size=(150, 40)) for c in (0.0, 6.0)])
    monkeypatch.setattr(_config, "other_runnable_threads", lambda: 1)
    busy = DBSCAN(eps=8.0).fit(X)
    assert asked and set(asked) == {1}
    asked.clear()
    monkeypatch.setattr(_config, "other_runnable_threads", lambda: 0)
    quiet = DBSCAN(eps=8.0).fit(X)
    assert asked and set(asked) == {2}
    np.testing.assert_array_equal(busy.labels_, quiet.labels_)
    assert len(set(busy.labels_)) >= 2


def test_spectral_dense_kernels_threads_by_size(monkeypatch):
    """The dense affinity's kernels run on numba's threads only from
    SPECTRAL_DENSE_THREADS_MIN_SAMPLES samples (below, one thread is faster and
    a first run compiles only the serial variants)."""
    from clusterlab.cluster import _spectral_affinity as sa
    from clusterlab.cluster.spectral import rbf_affinity

    asked = []

    def spy(kernel, parallel):
        asked.append((kernel.__name__, parallel))
        return kernel.serial

    monkeypatch.setattr(sa, "on_threads", spy)
    monkeypatch.setattr(se, "on_threads", spy)
    monkeypatch.setattr(_config, "SPECTRAL_DENSE_THREADS_MIN_SAMPLES", 300)
    for n in (299, 300):
        A = rbf_affinity(_two_moons(n), 50.0)
        se._normalized_laplacian(A)
    assert asked == [("rbf_dense", False), ("dense_normalized_laplacian", False),
                     ("rbf_dense", True), ("dense_normalized_laplacian", True)]
