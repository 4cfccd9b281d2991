"""The first-run compile helper of the analysis (clusterlab.report.prewarm)."""

import os
import time

import numpy as np
import pytest

from clusterlab.report import analysis, candidates, prewarm
from clusterlab.report.analysis import candidate_context


def _rows(n=300, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    return np.ascontiguousarray(centres[rng.integers(0, 3, n)] + rng.normal(size=(n, 2)))


def test_does_not_start_when_disabled_or_warm(monkeypatch):
    X = _rows()
    monkeypatch.setenv("CLUSTERLAB_PREWARM", "0")
    assert prewarm.start(X, ["kmeans", "gmm"], 2, 10, 2000, 0) is None
    monkeypatch.setenv("CLUSTERLAB_PREWARM", "1")
    monkeypatch.setattr("clusterlab.report.warmup.cold_modules", lambda modules=None: [])
    assert prewarm.start(X, ["kmeans", "gmm"], 2, 10, 2000, 0) is None
    monkeypatch.setattr("clusterlab.report.warmup.cold_modules", lambda modules=None: ["kmeans"])
    # nothing left for a helper when the analysis runs only its first candidate
    assert prewarm.start(X, ["kmeans"], 2, 10, 2000, 0) is None


def test_helper_order_and_meeting_the_analysis(monkeypatch, tmp_path):
    """The helper runs the second candidate first, then the rest backwards, and
    skips whatever the analysis has reached."""
    X = _rows()
    ran = []
    monkeypatch.setattr(candidates, "run_candidate",
                        lambda entry, ctx: ran.append(entry.name) or ([], 0.0, None))
    order = ["agglomerative", "dbscan", "genie", "gmm"]
    path = str(tmp_path / "job.npz")
    np.savez(path, X=X, params=np.array([2, 10, 2000, 0]), algorithms=np.array(order))
    open(path + ".ready", "w").close()  # the analysis has handed the job over
    prewarm.run(path)
    assert ran == order
    ran.clear()
    for name in ("kmeans", "gmm", "genie", "dbscan"):  # the analysis has started these
        prewarm.reached((None, path), name)
    prewarm.run(path)
    assert ran == ["agglomerative"]  # dbscan, genie, gmm: the analysis got there first
    assert prewarm.busy((None, path)) is None  # the helper says it is done


def test_analysis_leaves_to_the_helper_what_it_is_compiling(tmp_path):
    """A candidate the helper is running comes after the others; when it is the
    last one left, the analysis waits for the helper instead of compiling it too."""
    import subprocess
    import sys
    import threading

    path = str(tmp_path / "job.npz")
    handle = (None, path)
    assert list(prewarm.helper_aware(["a", "b", "c"], None)) == ["a", "b", "c"]
    assert list(prewarm.helper_aware(["a", "b", "c"], handle)) == ["a", "b", "c"]
    prewarm._mark_busy(path, "a")
    order = prewarm.helper_aware(["a", "b", "c"], handle)
    assert [next(order), next(order)] == ["b", "c"]
    threading.Timer(0.3, prewarm._mark_busy, (path, "")).start()
    t0 = time.monotonic()
    assert next(order) == "a"
    assert time.monotonic() - t0 >= 0.25
    # a helper that has stopped is busy with nothing, whatever its file says
    prewarm._mark_busy(path, "a")
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    assert prewarm.busy((done, path)) is None
    assert list(prewarm.helper_aware(["a", "b"], (done, path))) == ["a", "b"]


def test_helper_context_matches_the_analysis():
    X = _rows(500)
    a = candidate_context(X, 2, 12, 200, 7)
    b = candidate_context(X, 2, 12, 200, 7)
    np.testing.assert_array_equal(a.sample_index, b.sample_index)
    assert a.sampled and len(a.sample_index) == 200
    np.testing.assert_array_equal(a.ks, analysis.k_grid(2, 12))
    assert not candidate_context(X, 2, 12, 1000, 7).sampled


def test_helper_process_starts_and_is_stopped(monkeypatch):
    X = _rows()
    monkeypatch.setenv("CLUSTERLAB_PREWARM", "1")
    monkeypatch.setattr("clusterlab.report.warmup.cold_modules", lambda modules=None: ["kmeans"])
    monkeypatch.setattr(prewarm, "_usable_cores", lambda: 2)
    handle = prewarm.start(X, ["kmeans", "gmm", "genie"], 2, 10, 2000, 0)
    assert handle is not None
    proc, path = handle
    assert os.path.exists(path)
    with np.load(path) as data:
        # the candidates after the first, from the last one back
        assert [str(a) for a in data["algorithms"]] == ["genie", "gmm"]
        np.testing.assert_array_equal(data["X"], X)
    prewarm.reached(handle, "gmm")
    time.sleep(0.2)
    prewarm.stop(handle)
    assert proc.poll() is not None
    assert not os.path.exists(path) and not os.path.exists(path + ".at")


@pytest.mark.parametrize("n_threads", [1, 2])
def test_threaded_kernel_picks_its_compilation(monkeypatch, n_threads):
    """Small inputs and one thread run the serial compilation; both agree.
    (The kernel is the smallest parallel one, the finiteness check's maximum
    of exponent bits: the mechanism is the same for every parallel kernel.)"""
    import numba

    from clusterlab import _config
    from clusterlab._kernels import distances as kern
    from clusterlab._kernels.row_groups import on_threads

    if numba.config.NUMBA_NUM_THREADS < n_threads:
        pytest.skip("needs two numba threads")
    rng = np.random.default_rng(1)
    u = rng.normal(size=5000).view(np.uint64)
    mask = np.uint64(0x7FF0000000000000)
    outs = [on_threads(kern._max_exponent_bits, parallel)(u, mask, 16)
            for parallel in (False, True)]
    assert outs[0] == outs[1] == np.max(u & mask)
    assert on_threads(kern._max_exponent_bits, False) is kern._max_exponent_bits.serial
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(n_threads)
        monkeypatch.setattr(_config, "THREADED_KERNEL_MIN_BYTES", 0)
        auto = kern._max_exponent_bits(u, mask, 16)
    finally:
        numba.set_num_threads(before)
    assert auto == outs[0]
    # the serial copy is cached under its own name, beside the parallel one
    assert kern._max_exponent_bits.serial.py_func.__qualname__ == "_max_exponent_bits__serial"


def test_helper_runs_only_what_the_analysis_will_run():
    """Candidates the analysis skips on this table (BIRCH below its row
    threshold, mean shift in many columns) are not handed to the helper."""
    X = _rows(500)
    ctx = candidate_context(X, 2, 10, 2000, 0)
    names = ["kmeans", "gmm", "birch", "agglomerative"]
    assert analysis.would_run(ctx, names) == ["kmeans", "gmm", "agglomerative"]
    wide = candidate_context(np.c_[X, X, X, X, X, X], 2, 10, 2000, 0)
    assert "meanshift" not in analysis.would_run(wide, ["kmeans", "meanshift"])
    assert "meanshift" in analysis.would_run(ctx, ["kmeans", "meanshift"])


def test_helper_starts_with_the_second_half_of_the_k_free_candidates():
    order = prewarm.helper_order(["kmeans", "gmm", "genie", "dbscan", "hdbscan",
                                  "agglomerative", "spectral"])
    # DBSCAN and HDBSCAN (reached late), then the candidates that need k, then
    # Genie and the mixtures backwards (the analysis may get there first)
    assert order == ["dbscan", "hdbscan", "agglomerative", "spectral", "genie", "gmm"]
    assert prewarm.helper_order(["kmeans"]) == []
    assert prewarm.helper_order(["kmeans", "gmm", "genie"]) == ["genie", "gmm"]


def _cold(monkeypatch):
    monkeypatch.setenv("CLUSTERLAB_PREWARM", "1")
    monkeypatch.setattr("clusterlab.report.warmup.cold_modules", lambda modules=None: ["kmeans"])
    monkeypatch.setattr(prewarm, "_usable_cores", lambda: 2)


def test_early_helper_waits_for_its_job_and_the_analysis_claims_it(monkeypatch):
    """The command line launches the helper before reading the table; it waits
    (importing what the candidates need) until the analysis hands it the rows."""
    _cold(monkeypatch)
    X = _rows()
    prewarm.launch_early()
    handle = prewarm._early
    assert handle is not None
    proc, path = handle
    try:
        time.sleep(0.3)
        assert proc.poll() is None and not os.path.exists(path + ".ready")
        assert prewarm.start(X, ["kmeans", "gmm", "genie"], 2, 10, 2000, 0) is handle
        assert prewarm._early is None and os.path.exists(path + ".ready")
        with np.load(path) as data:
            assert [str(a) for a in data["algorithms"]] == ["genie", "gmm"]
    finally:
        prewarm.stop(handle)
    assert proc.poll() is not None and not os.path.exists(path)


def test_early_helper_is_stopped_when_unclaimed_or_idle(monkeypatch):
    _cold(monkeypatch)
    prewarm.launch_early()
    proc, path = prewarm._early
    prewarm.discard_early()  # e.g. the table could not be read
    assert proc.poll() is not None and not os.path.exists(path) and prewarm._early is None
    prewarm.launch_early()
    proc, path = prewarm._early
    # nothing for the helper to do: it is stopped when the job would be handed over
    assert prewarm.start(_rows(), ["kmeans"], 2, 10, 2000, 0) is None
    assert proc.poll() is not None and not os.path.exists(path)
    # a helper whose job file is gone (the analysis ended) stops waiting
    assert prewarm._wait_for_job(path, timeout=5.0) is False
    monkeypatch.setenv("CLUSTERLAB_PREWARM", "0")
    prewarm.launch_early()
    assert prewarm._early is None


def test_analysis_compiles_a_later_candidate_while_it_waits(tmp_path, monkeypatch):
    """Waiting for the helper, the analysis runs (and throws away) the next
    candidate needing k that nobody has started, marking it started."""
    import threading

    path = str(tmp_path / "job.npz")
    handle = (None, path)
    calls = []

    def idle():
        calls.append(1)
        return len(calls) < 3

    prewarm._mark_busy(path, "a")
    threading.Timer(0.3, prewarm._mark_busy, (path, "")).start()
    assert list(prewarm.helper_aware(["a"], handle, idle)) == ["a"]
    assert len(calls) == 3  # called until it had nothing left to do

    ran = []
    monkeypatch.setattr(analysis, "run_candidate",
                        lambda entry, ctx: ran.append((entry.name, ctx.k)) or ([], 0.0, None))
    ctx = candidate_context(_rows(), 2, 10, 2000, 0)
    names = ["kmeans", "gmm", "agglomerative", "spectral"]
    prewarm._mark_busy(path, "agglomerative")  # the helper is on it
    warm = analysis._warm_later(ctx, names, handle)
    assert analysis._warm_later(ctx, names, None) is None
    prepared = []
    monkeypatch.setattr("clusterlab.report.drawing.prepare_drawing", lambda: prepared.append(1))
    assert warm() is True and ran == [("spectral", 3)]
    assert "spectral" in prewarm.started(handle)
    assert warm() is True and prepared == [1]  # then, once, the report's drawing
    assert warm() is False  # agglomerative is the helper's, spectral done
    assert not ctx.res.models and getattr(ctx, "k", None) is None  # the analysis's own state untouched
