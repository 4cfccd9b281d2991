"""A new user's first minutes: cold and warm start of the main job and of the README tour.

Each case runs in a new Python process, as a user runs it, with numba's cache
in a temporary folder: empty for a *cold* run (everything compiles), filled
by that run for the *warm* ones (median of the repeats). Cases:

* ``clusterlab analyze`` on the built-in five blobs (the README's first
  command), cold and warm;
* the README's tour: every ``python`` block of the repository's README.md
  run as one script, cold and warm, and after the README's first command
  (``clusterlab analyze``, which compiles most of what the tour runs) on an
  otherwise empty cache -- a new user's order;
* the first ``KMeans(5).fit`` of five blobs in a new process (warm cache),
  against scikit-learn's first fit in a new process;
* the floor of the warm rows: a new process that only imports what the tour
  imports from other projects (numpy, scipy, scikit-learn, numba,
  matplotlib's figure and PNG backend) and exits, against the tour's warm
  target. Whatever clusterlab does, a warm tour takes this long and more.

Before the first case the package's modules are byte-compiled, as ``pip
install`` leaves them (the README's first command; an editable install
writes the same files on its first import unless ``PYTHONDONTWRITEBYTECODE``
is set, and this development machine sets it: every run then compiled ~140
modules from source again, ~0.2 s of CPU in the command and its drawing
process together that no user's second run pays).

The peer of the first five rows and of the last is issue 21's target (its
``peer s`` is the target in seconds: a ratio >= 1 meets it); the first fit's
is scikit-learn.
"""

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks._harness import Row

FAMILY = "startup"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: issue 21's targets, seconds (quiet 2-core machine)
TARGETS = {"analyze cold": 20.0, "analyze warm": 3.0, "README tour cold": 12.0,
           "README tour warm": 2.0}

#: what the README tour imports from other projects (the floor of a warm run)
_IMPORTS_ALONE = ("import numpy, scipy.sparse, scipy.linalg, sklearn.base, numba, "
                  "matplotlib.figure, matplotlib.backends.backend_agg")

_FIRST_FIT = """
import time
t0 = time.perf_counter()
from {module} import KMeans
from clusterlab.datasets import load_five_blobs
X = load_five_blobs()
t1 = time.perf_counter()
KMeans(n_clusters=5, n_init=10, random_state=0).fit(X)
print(time.perf_counter() - t1)
"""


def readme_tour():
    """The README's python blocks as one script, or None without a README."""
    path = os.path.join(ROOT, "README.md")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        blocks = re.findall(r"```python\n(.*?)```", f.read(), re.S)
    return "\n".join(blocks) if blocks else None


def _seconds(cmd, cache, cwd):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache, MPLBACKEND="Agg")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed: {proc.stderr[-2000:]}")
    return seconds, proc.stdout


def _cold_and_warm(cmd, repeats):
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as work:
        cold, _ = _seconds(cmd, cache, work)
        warm = [_seconds(cmd, cache, work)[0] for _ in range(repeats)]
    return cold, statistics.median(warm)


def _target_rows(case, shape, params, cold, warm):
    rows = []
    for when, seconds in (("cold", cold), ("warm", warm)):
        name = f"{case} {when}"
        target = TARGETS[name]
        rows.append(Row(FAMILY, name, shape, params, seconds, "target (issue 21)", target,
                        target / seconds))
    return rows


def _byte_compile_package():
    """Write the package's ``__pycache__`` as ``pip install`` does (quietly; a
    read-only installation is left as it is)."""
    import compileall
    import importlib.util

    spec = importlib.util.find_spec("clusterlab")
    for where in spec.submodule_search_locations or ():
        try:
            compileall.compile_dir(where, quiet=2)
        except OSError:
            pass


def run(quick):
    repeats = 2 if quick else 3
    rows = []
    _byte_compile_package()
    analyze = [sys.executable, "-m", "clusterlab", "analyze", "--out", "out"]
    cold, warm = _cold_and_warm(analyze, repeats)
    rows += _target_rows("analyze", "2000x2 float64", "five-blobs, defaults", cold, warm)

    tour = readme_tour()
    if tour is not None:
        with tempfile.TemporaryDirectory() as work:
            script = os.path.join(work, "tour.py")
            with open(script, "w", encoding="utf-8") as f:
                f.write(tour)
            cold, warm = _cold_and_warm([sys.executable, script], repeats)
            rows += _target_rows("README tour", "-", "every python block of README.md", cold,
                                 warm)
            # a new user's order: the README's first command, then its tour
            with tempfile.TemporaryDirectory() as cache:
                _seconds(analyze, cache, work)
                after, _ = _seconds([sys.executable, script], cache, work)
            rows.append(Row(FAMILY, "README tour after the first analyze", "-",
                            "cache filled by clusterlab analyze only", after,
                            "target (issue 21, cold)", TARGETS["README tour cold"],
                            TARGETS["README tour cold"] / after))

    # the first fit in a new process, numba's cache warm (a short script's cost)
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as work:
        ours_cmd = [sys.executable, "-c", _FIRST_FIT.format(module="clusterlab")]
        peer_cmd = [sys.executable, "-c", _FIRST_FIT.format(module="sklearn.cluster")]
        _seconds(ours_cmd, cache, work)  # fills the cache
        ours, peer = [], []
        for _ in range(repeats + 1):
            ours.append(float(_seconds(ours_cmd, cache, work)[1]))
            peer.append(float(_seconds(peer_cmd, cache, work)[1]))
        o, p = statistics.median(ours), statistics.median(peer)
        rows.append(Row(FAMILY, "first KMeans fit in a new process", "2000x2 float64",
                        "k=5 n_init=10, warm cache", o, "sklearn", p, p / o,
                        extra={"target_s": 0.1}))

    # the warm rows' floor: the other projects' imports and the interpreter's exit
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as work:
        floor = statistics.median(_seconds([sys.executable, "-c", _IMPORTS_ALONE], cache, work)[0]
                                  for _ in range(repeats + 1))
    target = TARGETS["README tour warm"]
    rows.append(Row(FAMILY, "imports alone (the warm rows' floor)", "-",
                    "numpy, scipy, scikit-learn, numba, matplotlib", floor,
                    "target (issue 21, tour warm)", target, target / floor))
    return rows
