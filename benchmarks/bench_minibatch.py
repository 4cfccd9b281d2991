"""MiniBatchKMeans against scikit-learn's, at equal batch size and steps.

Cases (DESIGN.md section 5): overlapping Gaussian clusters, float32, the same
explicit initial centres for both, ``n_init=1``, ``tol=0`` and
``max_no_improvement=None`` so that both run exactly ``max_iter * n //
batch_size`` steps, and -- because clusterlab consumes the random stream the
way scikit-learn does -- both see the same mini-batches and end at the same
inertia. Then the seed's workflow: an MNIST-shaped float32 memmap fitted with
``MiniBatchKMeans(n_clusters=10, batch_size=10, n_init=3, random_state=42)``
(early stopping on, as in the seed: both stop at the same step), with the peak
private (anonymous) memory each fit adds.

scikit-learn is timed twice: as it comes (its OpenMP threads) and limited to
one OpenMP thread (``scikit-learn[omp=1]``), which on a small shared machine is
often faster and is the fairer peer. The machine is shared and noisy: read
ratios, not seconds.
"""

import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np

from benchmarks._harness import Row, compare


def _overlapping(n, d, k, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=1.5, size=(k, d))
    X = np.empty((n, d), dtype=np.float32)
    step = 100_000
    for s in range(0, n, step):
        e = min(s + step, n)
        X[s:e] = centers[rng.integers(k, size=e - s)] + rng.normal(size=(e - s, d))
    init = X[rng.choice(n, k, replace=False)].copy()
    return X, init


def _peers(kw, X, quick):
    from sklearn.cluster import MiniBatchKMeans as Sk
    from threadpoolctl import threadpool_limits

    def sk():
        return Sk(**kw).fit(X)

    def sk_one_thread():
        with threadpool_limits(limits=1, user_api="openmp"):
            return Sk(**kw).fit(X)

    peers = {"scikit-learn[omp=1]": sk_one_thread}
    if not quick:  # on a busy machine its threads can cost minutes
        peers["scikit-learn"] = sk
    return peers


def _speed_case(name, n, d, k, max_iter, repeats, batch_size=1024, quick=False):
    from clusterlab import MiniBatchKMeans

    X, init = _overlapping(n, d, k)
    kw = dict(n_clusters=k, init=init, n_init=1, batch_size=batch_size, max_iter=max_iter,
              tol=0.0, max_no_improvement=None, random_state=0)
    MiniBatchKMeans(**{**kw, "max_iter": 1}).fit(X[:5000])  # compile / load the cache
    steps = (max_iter * n) // batch_size
    return compare("minibatch", name, f"{n}x{d} float32", f"k={k} batch={batch_size} "
                   f"steps={steps}", lambda: MiniBatchKMeans(**kw).fit(X), _peers(kw, X, quick),
                   repeats=repeats, warmup=False, quality=lambda m: m.inertia_,
                   quality_name="inertia")


_ANON_SCRIPT = textwrap.dedent("""
    import re, sys, threading, time
    import numpy as np

    def anon_kib():
        with open("/proc/self/status") as fh:
            return int(re.search(r"RssAnon:\\s+(\\d+)", fh.read()).group(1))

    which, path, n, d = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    X = np.memmap(path, dtype=np.float32, mode="r", shape=(n, d))
    if which == "clusterlab":
        from clusterlab import MiniBatchKMeans
    else:
        from sklearn.cluster import MiniBatchKMeans
    from threadpoolctl import threadpool_limits
    # load the compiled kernels (the parallel ones need >= 8192 rows)
    MiniBatchKMeans(10, batch_size=100, max_iter=1, random_state=0).fit(X[:10000])
    base = anon_kib()
    peak = [base]
    done = threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], anon_kib())
            time.sleep(0.005)

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    with threadpool_limits(limits=1, user_api="openmp"):
        t0 = time.perf_counter()
        km = MiniBatchKMeans(n_clusters=10, batch_size=10, n_init=3, random_state=42).fit(X)
        seconds = time.perf_counter() - t0
    done.set()
    t.join()
    print(max(peak[0], anon_kib()) / 1024.0 - base / 1024.0, seconds, km.n_steps_, km.inertia_)
""")


def _peak_anon(which, path, n, d):
    env = dict(os.environ)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", _ANON_SCRIPT, which, path, str(n), str(d)],
                         capture_output=True, text=True, env=env, check=True)
    mib, seconds, steps, inertia = out.stdout.split()
    return float(mib), float(seconds), int(steps), float(inertia)


def _seed_memmap_case(n):
    """The seed's call on an MNIST-shaped memmap; one timed fit each, in fresh processes."""
    from clusterlab.datasets import make_mnist_like, to_memmap

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mnist.mmap")
        X = to_memmap(make_mnist_like(n, 784, random_state=0), path)
        del X
        ours = _peak_anon("clusterlab", path, n, 784)
        peer = _peak_anon("sklearn", path, n, 784)
    array_mib = n * 784 * 4 / 2**20
    return [Row("minibatch", "seed memmap workflow", f"{n}x784 float32 memmap",
                f"k=10 batch=10 n_init=3 rs=42 steps={ours[2]}/{peer[2]}", ours[1],
                "scikit-learn[omp=1]", peer[1], peer[1] / ours[1] if ours[1] else float("inf"),
                "inertia", ours[3], peer[3],
                {"array_mib": round(array_mib, 1),
                 "ours_peak_anon_mib": round(ours[0], 1),
                 "peer_peak_anon_mib": round(peer[0], 1),
                 "note": "one fit per process; peak private memory above the loaded memmap"})]


def _seed_memmap_timing(n):
    """The seed's call on an MNIST-shaped memmap, timed in this process (no memory figure)."""
    from sklearn.cluster import MiniBatchKMeans as Sk
    from threadpoolctl import threadpool_limits

    from clusterlab import MiniBatchKMeans
    from clusterlab.datasets import make_mnist_like, to_memmap

    kw = dict(n_clusters=10, batch_size=10, n_init=3, random_state=42)

    def sk_one_thread():
        with threadpool_limits(limits=1, user_api="openmp"):
            return Sk(**kw).fit(X)

    with tempfile.TemporaryDirectory() as tmp:
        X = to_memmap(make_mnist_like(n, 784, random_state=0), os.path.join(tmp, "m.mmap"))
        MiniBatchKMeans(10, batch_size=100, max_iter=1, random_state=0).fit(X)  # warm
        rows = compare("minibatch", "seed memmap workflow", f"{n}x784 float32 memmap",
                       "k=10 batch=10 n_init=3 rs=42", lambda: MiniBatchKMeans(**kw).fit(X),
                       {"scikit-learn[omp=1]": sk_one_thread}, repeats=1, warmup=False,
                       quality=lambda m: m.inertia_, quality_name="inertia")
        del X
    return rows


def run(quick):
    rows = []
    if quick:
        rows += _speed_case("overlapping blobs", 20_000, 16, 16, max_iter=3, repeats=3,
                            quick=True)
        rows += _seed_memmap_timing(10_000)
    else:
        rows += _speed_case("overlapping blobs", 100_000, 32, 64, max_iter=5, repeats=1)
        rows += _speed_case("overlapping blobs", 1_000_000, 16, 64, max_iter=1, repeats=1)
        rows += _seed_memmap_case(60_000)
    return rows


if __name__ == "__main__":
    from benchmarks.run import format_table

    rows = run(quick="--quick" in sys.argv)
    print(format_table(rows))
    for r in rows:
        if r.extra:
            print(r.case, r.extra)
