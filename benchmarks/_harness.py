"""Shared measuring code for the benchmark scripts.

Rules (DESIGN.md section 5): the same data, dtype and initial state for
every contender; contenders alternate within one process; each is timed
``repeats`` times and the median is kept; the ratio is
``peer seconds / clusterlab seconds`` (> 1 means clusterlab is faster).

A benchmark module ``benchmarks/bench_<family>.py`` defines
``run(quick: bool) -> list[Row]`` and builds its rows with :func:`compare`.
"""

import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field


@dataclass
class Row:
    family: str
    case: str
    shape: str
    params: str
    ours_s: float
    peer: str
    peer_s: float
    ratio: float
    quality_name: str = ""
    ours_quality: float = float("nan")
    peer_quality: float = float("nan")
    extra: dict = field(default_factory=dict)

    def as_dict(self):
        return asdict(self)


#: Seconds of rest before each timed call of a case whose warm-up call of some
#: contender took more than SETTLE_MIN_CALL_S: the previous contender's idle
#: thread pools (OpenBLAS, TBB, OpenMP) spin for a while after their work and
#: would otherwise take cores from the next one (measured: clusterlab's K-Means
#: iteration on 60000 x 784 right after scikit-learn-intelex 15-16 ms, after a
#: 50 ms rest 11-13 ms; 100 ms leaves a margin). Not for short calls: after a
#: rest, threads wake up and caches refill inside the timing (a 12 ms fit took
#: 17-19 ms after 50-100 ms of rest, its peer's likewise, and the ratio moved by
#: noise alone).
SETTLE_S = 0.1
SETTLE_MIN_CALL_S = 0.2


def _time_once(fn, settle=0.0):
    gc.collect()
    if settle:
        time.sleep(settle)
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def compare(family, case, shape, params, ours, peers, repeats=3, warmup=True,
            quality=None, quality_name="", extra=None):
    """Time ``ours`` against each of ``peers`` (name -> callable), alternating.

    ``quality(result) -> float`` turns a contender's return value into its
    quality figure (inertia, log-likelihood, ARI...). Peers whose callable is
    ``None`` (not installed) are skipped. Returns a list of :class:`Row`.
    """
    peers = {name: fn for name, fn in peers.items() if fn is not None}
    contenders = {"clusterlab": ours, **peers}
    settle = 0.0
    if warmup:  # JIT compilation and caches are not what we measure
        for fn in contenders.values():
            t0 = time.perf_counter()
            fn()
            if time.perf_counter() - t0 > SETTLE_MIN_CALL_S:
                settle = SETTLE_S
    times = {name: [] for name in contenders}
    results = {}
    for _ in range(repeats):
        for name, fn in contenders.items():
            seconds, out = _time_once(fn, settle)
            times[name].append(seconds)
            results[name] = out
    med = {name: statistics.median(ts) for name, ts in times.items()}
    q = {name: (quality(out) if quality else float("nan")) for name, out in results.items()}
    rows = []
    for name in peers:
        rows.append(Row(family, case, shape, params, med["clusterlab"], name, med[name],
                        med[name] / med["clusterlab"] if med["clusterlab"] > 0 else float("inf"),
                        quality_name, float(q["clusterlab"]), float(q[name]), dict(extra or {})))
    return rows


def optional_import(name):
    """Import a peer library if installed, else return None."""
    try:
        return __import__(name, fromlist=["_"])
    except Exception:
        return None


def peak_rss_mb(code, setup=""):
    """Peak resident memory (MiB) that ``code`` adds above ``setup``, in a fresh interpreter.

    ``setup`` runs first (imports, data creation, warm-up). The figure is the
    high-water mark ``VmHWM`` of /proc/self/status after ``code``, minus the
    resident size after ``setup``, with the high-water mark reset in between
    through /proc/self/clear_refs (Linux >= 4.0). ``ru_maxrss`` is not used:
    it survives exec and starts at the parent's peak, so a benchmark process
    holding a large array would read 0 for every child.
    """
    prog = (
        "def _status(key):\n"
        "    for line in open('/proc/self/status'):\n"
        "        if line.startswith(key):\n"
        "            return int(line.split()[1]) / 1024.0\n"
        f"{setup}\n"
        "import gc\n"
        "gc.collect()\n"
        "try:\n"
        "    open('/proc/self/clear_refs', 'w').write('5')\n"
        "    base = _status('VmRSS:')\n"
        "except OSError:\n"
        "    base = _status('VmHWM:')\n"
        f"{code}\n"
        "print(_status('VmHWM:') - base)\n"
    )
    env = dict(os.environ)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, env=env,
                         check=True)
    return float(out.stdout.strip().splitlines()[-1])


def thread_info():
    """Thread counts in effect (numba and BLAS), printed with every table."""
    info = {}
    try:
        import numba

        info["numba_threads"] = numba.get_num_threads()
    except Exception:
        pass
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = [
            {k: d.get(k) for k in ("internal_api", "num_threads", "architecture")}
            for d in threadpool_info()
        ]
    except Exception:
        pass
    info["cpu_count"] = os.cpu_count()
    try:  # what clusterlab's thread policy sees (clusterlab._config)
        from clusterlab import _config

        info["available_cores"] = _config.available_cores()
        info["other_runnable_threads"] = _config.other_runnable_threads()
    except Exception:
        pass
    return info


def write_json(rows, path, meta):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        json.dump({"meta": meta, "rows": [r.as_dict() for r in rows]}, fh, indent=2)


# --------------------------------------------------------------------------
# Background load (``python -m benchmarks.run --under-load``)
# --------------------------------------------------------------------------

#: Busy processes started by ``--under-load`` (issue 22: "two CPU-bound processes").
LOAD_PROCESSES = 2


#: The busy loop each load process runs: pure Python (no BLAS, no threads), until
#: SIGTERM (it then prints how many loop blocks it ran) or until its parent is gone
#: (``os.getppid()`` changes), so that a killed benchmark leaves no spinner behind.
#: Ctrl-C is ignored: the parent stops it.
_SPIN = """
import os, signal, sys
parent = int(sys.argv[1])
blocks = 0
def _done(*_):
    sys.stdout.write(str(blocks)); sys.stdout.flush(); os._exit(0)
signal.signal(signal.SIGTERM, _done)
signal.signal(signal.SIGINT, signal.SIG_IGN)
sys.stdout.write("ready\\n"); sys.stdout.flush()
while True:
    x = 0
    for i in range(100000):
        x += i * i
    blocks += 1
    if os.getppid() != parent:
        os._exit(0)
"""


class BusyLoad:
    """``n`` CPU-bound processes running beside this one while the context is open.

    ``with BusyLoad(2) as load: ...`` starts them (each a fresh interpreter
    running a plain Python loop, so it takes one core and nothing else), waits
    until each is spinning, and stops and reaps them when the block ends, also
    when it ends by an exception or KeyboardInterrupt (SIGTERM, then SIGKILL
    after ``timeout`` seconds). After the block, :meth:`summary` says how many
    ran, for how long, and whether all were alive to the end.
    """

    def __init__(self, n=LOAD_PROCESSES, timeout=5.0):
        self.n = int(n)
        self.timeout = float(timeout)
        self.processes = []
        self.blocks = []
        self._t0 = self._t1 = None
        self.alive_at_end = None

    def __enter__(self):
        try:
            for _ in range(self.n):
                p = subprocess.Popen([sys.executable, "-c", _SPIN, str(os.getpid())],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     text=True)
                self.processes.append(p)
            for p in self.processes:
                if p.stdout.readline().strip() != "ready":
                    raise RuntimeError("a benchmark load process failed to start")
        except BaseException:
            self.stop()
            raise
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self):
        """Stop and reap every load process (idempotent)."""
        if self._t0 is not None and self._t1 is None:
            self._t1 = time.perf_counter()
        if self.alive_at_end is None and self.processes:
            self.alive_at_end = self.running() == self.n
        for p in self.processes:
            if p.poll() is None:
                p.terminate()
        for p in self.processes:
            try:
                out, _ = p.communicate(timeout=self.timeout)
            except subprocess.TimeoutExpired:  # pragma: no cover - SIGTERM ignored
                p.kill()
                out, _ = p.communicate()
            if len(self.blocks) < len(self.processes):
                self.blocks.append(int(out) if (out or "").strip().isdigit() else -1)

    def running(self):
        """Number of load processes alive now."""
        return sum(p.poll() is None for p in self.processes)

    def summary(self):
        """What the JSON's ``meta["under_load"]`` records."""
        return {
            "processes": self.n,
            "kind": "pure-Python busy loop per process (no BLAS, no threads)",
            "seconds": (None if self._t0 is None else
                        (self._t1 or time.perf_counter()) - self._t0),
            "alive_to_end": self.alive_at_end,
            "loop_blocks": list(self.blocks),
        }


@contextlib.contextmanager
def maybe_under_load(n):
    """:class:`BusyLoad` of ``n`` processes, or nothing when ``n`` is 0."""
    if not n:
        yield None
        return
    with BusyLoad(n) as load:
        yield load
