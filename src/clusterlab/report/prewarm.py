"""First run: compile the later candidates' kernels in a second process.

On a cold numba cache most of a first ``clusterlab analyze`` is compilation,
and numba compiles on one core. While the analysis fits the K-Means sweep and
the Gaussian mixtures (the first candidates), a helper process runs the other
candidates the analysis will run on the same prepared rows (in the order of
:func:`helper_order`: DBSCAN, HDBSCAN, agglomerative and spectral
clustering, Genie, the Gaussian mixtures), skipping what the analysis has
reached, which compiles their kernels into numba's on-disk cache; when the
analysis reaches them it loads the cache instead of compiling. The helper's
results are thrown away: it only warms the cache, so it can never change an
answer, and if it fails or is slow the analysis compiles what it needs itself.

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


def start(X, algorithms, lo, hi, sample, seed):
    """Start the helper for the analysis of ``X`` (prepared rows); returns a
    handle for :func:`stop`, or None when it does not start."""
    if os.environ.get("CLUSTERLAB_PREWARM", "1") == "0" or _usable_cores() < 2:
        return None
    order = helper_order(algorithms)
    if not order:
        return None
    try:
        from clusterlab.report.warmup import cold_modules

        if not cold_modules():
            return None
        fd, path = tempfile.mkstemp(prefix="clusterlab-prewarm-", suffix=".npz")
        os.close(fd)
        np.savez(path, X=np.ascontiguousarray(X[:MAX_ROWS]),
                 params=np.array([lo, hi, sample, seed], dtype=np.int64),
                 algorithms=np.array(order), main_order=np.array(list(algorithms)))
        proc = subprocess.Popen([sys.executable, "-m", "clusterlab.report.prewarm", path],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=dict(os.environ))
    except Exception:  # never let the helper stop the analysis
        return None
    return proc, path


def helper_order(algorithms):
    """The order in which the helper runs the analysis's candidates.

    The analysis runs the candidates that need no k in order, then those
    that need it (agglomerative, spectral). The helper leaves the first to
    the analysis and starts with the second half of the others: the analysis
    reaches those late, so each is done before it arrives; then the ones
    needing k; then the first half backwards, until it meets the analysis
    (see :func:`reached`). With the default candidates: DBSCAN, HDBSCAN,
    agglomerative, spectral, Genie, the mixtures (measured: the helper
    finishes DBSCAN before the analysis reaches it, where going backwards
    from the end both compiled it at the same time).
    """
    from clusterlab.report.candidates import REGISTRY

    later = [a for a in algorithms if a != FIRST]
    free = [a for a in later if not REGISTRY[a].needs_k]
    with_k = [a for a in later if REGISTRY[a].needs_k]
    mid = len(free) // 2
    return free[mid:] + with_k + free[:mid][::-1]


def reached(handle, name):
    """Tell the helper that the analysis now runs candidate ``name``: the
    helper skips it and every candidate before it."""
    if handle is None:
        return
    try:
        with open(handle[1] + ".at", "w") as fh:
            fh.write(name)
    except OSError:
        pass


def _analysis_at(path):
    try:
        with open(path + ".at") as fh:
            return fh.read().strip()
    except OSError:
        return None


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
        for leftover in (path, path + ".at"):
            try:
                os.unlink(leftover)
            except OSError:
                pass


def run(path):
    """The helper's work: run the named candidates on the saved rows."""
    from clusterlab.report.analysis import candidate_context
    from clusterlab.report.candidates import REGISTRY, run_candidate

    with np.load(path) as data:
        X = data["X"]
        lo, hi, sample, seed = (int(v) for v in data["params"])
        algorithms = [str(a) for a in data["algorithms"]]
        main_order = [str(a) for a in data["main_order"]]
    hi = int(min(hi, len(X) - 1))
    ctx = candidate_context(X, max(2, min(lo, hi)), hi, sample, seed)
    ctx.k = int(min(3, len(ctx.Xs) - 1))
    for name in algorithms:
        if name not in main_order:
            continue
        at = _analysis_at(path)
        if at in main_order and main_order.index(at) >= main_order.index(name):
            continue  # the analysis got there first
        entry = REGISTRY.get(name)
        if entry is not None:
            run_candidate(entry, ctx)


if __name__ == "__main__":  # pragma: no cover - run as the helper process
    import warnings

    warnings.simplefilter("ignore")
    run(sys.argv[1])
