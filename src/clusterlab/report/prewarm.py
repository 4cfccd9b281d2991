"""First run: compile the later candidates' kernels in a second process.

On a cold numba cache most of a first ``clusterlab analyze`` is compilation,
and numba compiles on one core. While the analysis fits the K-Means sweep
(the first candidate), a helper process runs the other
candidates the analysis will run on the same prepared rows (in the order of
:func:`helper_order`: DBSCAN, HDBSCAN, agglomerative and spectral
clustering, Genie, the Gaussian mixtures), skipping what the analysis has
reached, which compiles their kernels into numba's on-disk cache; when the
analysis reaches them it loads the cache instead of compiling. The helper's
results are thrown away: it only warms the cache, so it can never change an
answer, and if it fails or is slow the analysis compiles what it needs itself.

The two processes share the work through small files beside the job: the
analysis notes each candidate it starts (:func:`reached`; the helper skips
those), the helper notes the one it is running (:func:`busy`); the analysis
runs that one after its other candidates, or waits for it when nothing else is
left (:func:`helper_aware`), rather than compiling the same kernels beside it;
while it waits, it compiles a candidate needing k that nobody has started.
The command line launches the helper before it reads the table
(:func:`launch_early`), so the helper's start-up overlaps the reading.

It starts only when it can help: a cold cache of the kernel modules
(:func:`clusterlab.report.warmup.cold_modules`), at least two usable cores, a
table small enough that repeating the candidates costs little (at most
:data:`MAX_ROWS` rows, else the first rows), and not disabled by
``CLUSTERLAB_PREWARM=0``. It is stopped when the analysis ends.
"""

import os
import subprocess
import sys
import tempfile
import time

import numpy as np

#: the helper repeats the candidates on at most this many rows (the first ones)
MAX_ROWS = 5000
#: the candidate the analysis runs first: the helper leaves it alone
FIRST = "kmeans"


def _usable_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


#: a helper launched by :func:`launch_early`, not yet given its job
_early = None


def _enabled():
    return os.environ.get("CLUSTERLAB_PREWARM", "1") != "0" and _usable_cores() >= 2


def launch():
    """Start a helper process that waits for its job (:func:`hand_over`).

    Returns a handle, or None when no helper is wanted: disabled, one core,
    or every kernel module already cached.
    """
    if not _enabled():
        return None
    try:
        from clusterlab.report.warmup import cold_modules

        if not cold_modules():
            return None
        fd, path = tempfile.mkstemp(prefix="clusterlab-prewarm-", suffix=".npz")
        os.close(fd)
        proc = subprocess.Popen([sys.executable, "-m", "clusterlab.report.prewarm", path],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=dict(os.environ))
    except Exception:  # never let the helper stop the analysis
        return None
    return proc, path


def launch_early():
    """Launch the helper before the data is read, for the next :func:`start`.

    The command line calls this first: the helper's start-up (Python, numpy,
    scikit-learn, numba: about 1.3 s) then overlaps the reading and preparing
    of the table instead of delaying the helper's first compilation.
    :func:`discard_early` stops it if no analysis claims it.
    """
    global _early
    discard_early()
    _early = launch()


def discard_early():
    """Stop a helper from :func:`launch_early` that no analysis has claimed."""
    global _early
    handle, _early = _early, None
    stop(handle)


def hand_over(handle, X, algorithms, lo, hi, sample, seed):
    """Give a launched helper its job: the prepared rows ``X`` and the
    candidates the analysis will run. Returns the handle, or None (the helper
    stopped) when the helper has nothing to do."""
    if handle is None:
        return None
    order = helper_order(algorithms)
    if not order:
        stop(handle)
        return None
    path = handle[1]
    try:
        np.savez(path, X=np.ascontiguousarray(X[:MAX_ROWS]),
                 params=np.array([lo, hi, sample, seed], dtype=np.int64),
                 algorithms=np.array(order))
        with open(path + ".ready", "w"):
            pass
    except Exception:  # never let the helper stop the analysis
        stop(handle)
        return None
    return handle


def start(X, algorithms, lo, hi, sample, seed):
    """Start the helper for the analysis of ``X`` (prepared rows), or give its
    job to the one :func:`launch_early` started; returns a handle for
    :func:`stop`, or None when no helper runs."""
    global _early
    handle, _early = _early, None
    if handle is None:
        if not _enabled() or not helper_order(algorithms):
            return None
        handle = launch()
    return hand_over(handle, X, algorithms, lo, hi, sample, seed)


def helper_order(algorithms):
    """The order in which the helper runs the analysis's candidates.

    The analysis runs the candidates that need no k in order, then those
    that need it (agglomerative, spectral). The helper leaves the first to
    the analysis and starts with the second half of the others: the analysis
    reaches those late, and their kernels share nothing with K-Means (the
    mixtures start from K-Means: the helper would compile K-Means' kernels
    beside the analysis); then the ones needing k; then the first half
    backwards. Each skips what the other has started (:func:`reached`,
    :func:`helper_aware`). With the default candidates: DBSCAN, HDBSCAN,
    agglomerative, spectral, Genie, the mixtures (measured: taking them in
    the analysis's order instead made a first run 2 s slower).
    """
    from clusterlab.report.candidates import REGISTRY

    later = [a for a in algorithms if a != FIRST]
    free = [a for a in later if not REGISTRY[a].needs_k]
    with_k = [a for a in later if REGISTRY[a].needs_k]
    mid = len(free) // 2
    return free[mid:] + with_k + free[:mid][::-1]


def reached(handle, name):
    """Tell the helper that the analysis now runs candidate ``name``: the
    helper skips it."""
    if handle is None:
        return
    try:
        with open(handle[1] + ".at", "a") as fh:
            fh.write(name + "\n")
    except OSError:
        pass


def _analysis_started(path):
    """The candidates the analysis has started (see :func:`reached`)."""
    try:
        with open(path + ".at") as fh:
            return {line.strip() for line in fh if line.strip()}
    except OSError:
        return set()


def _mark_busy(path, name):
    try:
        with open(path + ".busy", "w") as fh:
            fh.write(name)
    except OSError:
        pass


def busy(handle):
    """The candidate the helper is running now (None when it runs none or has stopped)."""
    if handle is None:
        return None
    proc, path = handle
    if proc is not None and proc.poll() is not None:
        return None
    try:
        with open(path + ".busy") as fh:
            return fh.read().strip() or None
    except OSError:
        return None


def wait_while_busy(handle, name, timeout=60.0, poll=0.01):
    """Wait (at most ``timeout`` seconds) while the helper runs candidate ``name``.

    The analysis calls this when the only candidates it has left are the one
    the helper is compiling: waiting for the helper's cache is quicker than
    compiling the same kernels again beside it.
    """
    deadline = time.monotonic() + timeout
    while busy(handle) == name and time.monotonic() < deadline:
        time.sleep(poll)


def helper_aware(names, handle, idle=None):
    """``names`` in order, except that a candidate the helper is running now
    comes after the others (by then its kernels are in the cache); when it is
    the only one left, wait for the helper to finish it, calling ``idle()``
    meanwhile until it returns False (the analysis compiles a later candidate
    nobody has started). Without a helper: ``names`` as they are."""
    todo = list(names)
    while todo:
        now = busy(handle)
        pick = next((n for n in todo if n != now), None)
        if pick is None:
            while idle is not None and busy(handle) == todo[0] and idle():
                pass
            wait_while_busy(handle, todo[0])
            pick = todo[0]
        todo.remove(pick)
        yield pick


def started(handle):
    """The candidates the analysis has started (an empty set without a helper)."""
    return set() if handle is None else _analysis_started(handle[1])


def stop(handle):
    """Stop the helper (if still running) and remove its input file."""
    if handle is None:
        return
    proc, path = handle
    try:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover - ignores SIGTERM
                proc.kill()
                proc.wait()
    finally:
        for leftover in (path, path + ".at", path + ".busy", path + ".ready"):
            try:
                os.unlink(leftover)
            except OSError:
                pass


#: modules the candidates use, imported by the helper before its job arrives
CANDIDATE_MODULES = (
    "clusterlab.cluster.kmeans", "clusterlab.mixture.gaussian", "clusterlab.cluster.genie",
    "clusterlab.cluster.dbscan", "clusterlab.cluster.hdbscan",
    "clusterlab.cluster.agglomerative", "clusterlab.cluster.spectral", "clusterlab.metrics",
)


def _wait_for_job(path, timeout=600.0, poll=0.01):
    """Wait until the analysis has handed over the job at ``path``; False when
    it never comes (the analysis ended, or this process's parent is gone)."""
    parent = os.getppid()
    deadline = time.monotonic() + timeout
    while not os.path.exists(path + ".ready"):
        if (not os.path.exists(path) or os.getppid() != parent
                or time.monotonic() > deadline):
            return False
        time.sleep(poll)
    return True


def run(path):
    """The helper's work: run the named candidates on the saved rows."""
    from clusterlab.report.analysis import candidate_context
    from clusterlab.report.candidates import REGISTRY, run_candidate

    # what the candidates import (scikit-learn, numba, the estimators and their
    # kernel modules: ~1.3 s), imported while the analysis reads its table
    import importlib

    for module in CANDIDATE_MODULES:
        try:
            importlib.import_module(module)
        except Exception:  # pragma: no cover - the candidate reports it itself
            pass
    if not _wait_for_job(path):
        return
    with np.load(path) as data:
        X = data["X"]
        lo, hi, sample, seed = (int(v) for v in data["params"])
        algorithms = [str(a) for a in data["algorithms"]]
    hi = int(min(hi, len(X) - 1))
    ctx = candidate_context(X, max(2, min(lo, hi)), hi, sample, seed)
    ctx.k = int(min(3, len(ctx.Xs) - 1))
    for name in algorithms:
        if name in _analysis_started(path):
            continue  # the analysis got there first
        _mark_busy(path, name)
        if name not in _analysis_started(path):  # (or just now)
            run_candidate(REGISTRY[name], ctx)
        _mark_busy(path, "")


if __name__ == "__main__":  # pragma: no cover - run as the helper process
    import warnings

    warnings.simplefilter("ignore")
    run(sys.argv[1])
