"""K-Means benchmarks: clusterlab.KMeans / kmeans_plusplus against scikit-learn.

Fair by construction (DESIGN.md section 5): the same data, dtype and initial
centres for every contender; iteration-speed cases use overlapping clusters,
a fixed ``max_iter`` and ``tol=0`` so that every contender runs the same
iterations, and report both final inertias. scikit-learn runs as two peers
(``algorithm='lloyd'`` and ``'elkan'``); the faster one is the bar. faiss (trained on every point)
and scikit-learn-intelex rows are added when they are installed.

The ``unstructured`` cases (issue 22: overlapping clusters where bounds prune
nothing) also print, per case, our time per iteration against its floor: the
larger of the iteration's GEMM at the measured float32 GEMM rate and one read
of X at the measured bandwidth (``[kmeans floor]`` lines on stderr, and in
each row's ``extra``).

Also measured (in ``extra`` of the five-blobs row): numba's cold compile time
of a first fit (empty cache, new process) and the first-fit overhead with a
warm cache (new process), both for the default path.
"""

import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchmarks._harness import compare, optional_import

FAMILY = "kmeans"


def _inertia(est):
    return est.inertia_


def _sk_fit(KM, X, k, init, max_iter, tol, algorithm, n_init=1):
    def fn():
        return KM(n_clusters=k, init=init, n_init=n_init, max_iter=max_iter, tol=tol,
                  algorithm=algorithm).fit(X)
    return fn


def _peers_fit(X, k, init, max_iter, tol):
    from sklearn.cluster import KMeans as SK

    peers = {
        "sklearn-lloyd": _sk_fit(SK, X, k, init, max_iter, tol, "lloyd"),
        "sklearn-elkan": _sk_fit(SK, X, k, init, max_iter, tol, "elkan"),
    }
    sklearnex = optional_import("sklearnex.cluster")
    if sklearnex is not None:
        peers["sklearnex"] = _sk_fit(sklearnex.KMeans, X, k, init, max_iter, tol, "lloyd")
    faiss = optional_import("faiss")
    if faiss is not None:
        def faiss_fit():
            # trains on every point (its default samples 256 points per centre)
            km = faiss.Kmeans(X.shape[1], k, niter=max_iter, verbose=False,
                              max_points_per_centroid=X.shape[0])
            km.train(np.ascontiguousarray(X, dtype=np.float32),
                     init_centroids=np.ascontiguousarray(init, dtype=np.float32))

            class Result:
                inertia_ = float(km.obj[-1]) if len(km.obj) else float("nan")
            return Result()
        peers["faiss"] = faiss_fit
    return peers


def _digits_canvas(n, dtype, seed=0):
    """An MNIST stand-in that behaves like MNIST under K-Means: scikit-learn's
    8x8 handwritten digits, zoomed to 20x20 and placed at a random offset on a
    28x28 canvas, plus noise, in [0, 255]. Unlike ``make_mnist_like`` (which
    converges in about 5 iterations) labels keep changing for tens of
    iterations, so a fixed ``max_iter=20`` measures 20 real iterations."""
    from scipy import ndimage
    from sklearn.datasets import load_digits

    rng = np.random.default_rng(seed)
    images = load_digits().images
    big = np.stack([ndimage.zoom(im, 2.5, order=1) for im in images])
    big = np.clip(big, 0, None) * (255.0 / 16.0)
    X = np.zeros((n, 28, 28), dtype=dtype)
    idx = rng.integers(len(images), size=n)
    off = rng.integers(2, 7, size=(n, 2))
    for i in range(n):
        X[i, off[i, 0]:off[i, 0] + 20, off[i, 1]:off[i, 1] + 20] = big[idx[i]]
    X += rng.normal(0, 20, size=X.shape).astype(dtype)
    np.clip(X, 0, 255, out=X)
    return X.reshape(n, 784)


def _overlapping(n, d, k, seed, dtype):
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=3.0,
                      center_box=(-10, 10), random_state=seed)
    return np.ascontiguousarray(X, dtype=dtype)


def _unstructured(n, d, k, spread, seed=0):
    """Overlapping clusters without easy structure: k centres drawn from
    N(0, spread^2) per coordinate, each row its centre + N(0, 1) noise, float32."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, spread, size=(k, d))
    X = centers[rng.integers(k, size=n)]
    X += rng.normal(0.0, 1.0, size=(n, d))
    return X.astype(np.float32)


def _timed(fn, repeats=5):
    fn()
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def machine_rates():
    """(float32 GEMM flop/s on every BLAS thread, bytes/s of one parallel read)."""
    from clusterlab._kernels.gemm.blocks import row_sq_norms

    A = np.random.default_rng(0).normal(size=(2048, 2048)).astype(np.float32)
    gemm_rate = 2 * 2048 ** 3 / _timed(lambda: A @ A, 3)
    X = np.ones((2 ** 16, 1024), np.float32)  # 256 MiB, beyond every cache
    bounds = np.linspace(0, X.shape[0], 65).astype(np.int64)
    read_rate = X.nbytes / _timed(lambda: row_sq_norms(X, bounds, True))
    return gemm_rate, read_rate


def iteration_floor(X, k, rates):
    """The floor of one Lloyd iteration: the larger of its GEMM (2 n k d flops
    at the measured GEMM rate) and one read of X at the measured bandwidth
    (fused, the two overlap)."""
    n, d = X.shape
    flops = 2.0 * n * k * d
    gemm_s, read_s = flops / rates[0], X.nbytes / rates[1]
    return {"gemm_gflop": round(flops / 1e9, 3), "gemm_ms": round(1e3 * gemm_s, 2),
            "read_mb": round(X.nbytes / 1e6, 1), "read_ms": round(1e3 * read_s, 2),
            "floor_ms": round(1e3 * max(gemm_s, read_s), 2)}


def _unstructured_case(rows, case, n, d, k, spread, max_iter, repeats, rates):
    from sklearn.cluster import kmeans_plusplus as sk_kpp

    from clusterlab import KMeans

    X = _unstructured(n, d, k, spread)
    init, _ = sk_kpp(X[:20000], k, random_state=0)
    floor = iteration_floor(X, k, rates)
    ours = _sk_fit(KMeans, X, k, init, max_iter, 0.0, "auto")
    shape = f"{n}x{d} float32"
    params = f"k={k} max_iter={max_iter} tol=0 same init"
    case_rows = compare(FAMILY, case, shape, params, ours,
                        _peers_fit(X, k, init, max_iter, 0.0), repeats=repeats,
                        quality=_inertia, quality_name="inertia", extra=floor)
    for r in case_rows:
        r.extra["ours_ms_per_iter"] = round(1e3 * r.ours_s / max_iter, 2)
    rows += case_rows
    per_iter = 1e3 * case_rows[0].ours_s / max_iter
    print(f"[kmeans floor] {case} {shape} k={k}: ours {per_iter:.2f} ms/iteration; floor "
          f"{floor['floor_ms']:.2f} ms = max(GEMM {floor['gemm_gflop']} GFLOP at "
          f"{rates[0] / 1e9:.0f} GFLOP/s = {floor['gemm_ms']:.2f} ms, read {floor['read_mb']} MB "
          f"at {rates[1] / 1e9:.1f} GB/s = {floor['read_ms']:.2f} ms); "
          f"{per_iter / floor['floor_ms']:.2f}x the floor", file=sys.stderr, flush=True)


def _iteration_case(rows, case, X, k, max_iter, repeats, extra=None):
    from sklearn.cluster import kmeans_plusplus as sk_kpp

    from clusterlab import KMeans

    init, _ = sk_kpp(X, k, random_state=0)
    ours = _sk_fit(KMeans, X, k, init, max_iter, 0.0, "auto")
    shape = f"{X.shape[0]}x{X.shape[1]} {X.dtype.name}"
    params = f"k={k} max_iter={max_iter} tol=0 same init"
    rows += compare(FAMILY, case, shape, params, ours, _peers_fit(X, k, init, max_iter, 0.0),
                    repeats=repeats, quality=_inertia, quality_name="inertia",
                    extra=extra)


def _kpp_case(rows, case, X, k, repeats):
    from sklearn.cluster import kmeans_plusplus as sk_kpp

    from clusterlab import kmeans_plusplus

    def pot(result):
        centers = result[0].astype(np.float64)
        # potential of the seeding on a subsample (same rows for both)
        sub = X[:: max(1, X.shape[0] // 20000)].astype(np.float64)
        d2 = ((sub ** 2).sum(1)[:, None] - 2 * sub @ centers.T + (centers ** 2).sum(1)[None])
        return float(np.maximum(d2, 0).min(1).sum())

    shape = f"{X.shape[0]}x{X.shape[1]} {X.dtype.name}"
    rows += compare(FAMILY, case, shape, f"k={k} seeding only",
                    lambda: kmeans_plusplus(X, k, random_state=0),
                    {"sklearn": lambda: sk_kpp(X, k, random_state=0)},
                    repeats=repeats, quality=pot, quality_name="potential(sub)")


_FIRST_FIT = (
    "import time; t0 = time.perf_counter()\n"
    "from clusterlab import KMeans\n"
    "from clusterlab.datasets import load_five_blobs\n"
    "X = load_five_blobs()\n"
    "t1 = time.perf_counter()\n"
    "KMeans(5, n_init=10, random_state=0).fit(X)\n"
    "t2 = time.perf_counter()\n"
    "KMeans(5, n_init=10, random_state=1).fit(X)\n"
    "t3 = time.perf_counter()\n"
    "print(t2 - t1, t3 - t2)\n"
)


def _first_fit_seconds(cache_dir):
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([sys.executable, "-c", _FIRST_FIT], capture_output=True, text=True,
                         env=env, check=True)
    first, second = map(float, out.stdout.split())
    return first - second


def compile_overheads():
    """(cold compile seconds, warm-cache first-fit overhead seconds) for the default path."""
    with tempfile.TemporaryDirectory() as cache:
        cold = _first_fit_seconds(cache)
        warm = _first_fit_seconds(cache)
    return cold, warm


def run(quick):
    from sklearn.cluster import KMeans as SK

    from clusterlab import KMeans
    from clusterlab.datasets import load_five_blobs

    rows = []
    repeats = 2 if quick else 3

    # 1. the seed's five blobs, whole fit with n_init=10 (small-data overhead counts)
    X = load_five_blobs()
    extra = {}
    if not quick or os.environ.get("CLUSTERLAB_BENCH_COMPILE"):
        cold, warm = compile_overheads()
        extra = {"numba_cold_first_fit_overhead_s": round(cold, 3),
                 "numba_warm_cache_first_fit_overhead_s": round(warm, 3)}
    rows += compare(FAMILY, "five-blobs n_init=10", "2000x2 float64", "k=5 k-means++ seed 0",
                    lambda: KMeans(5, n_init=10, random_state=0).fit(X),
                    {"sklearn-lloyd": lambda: SK(5, n_init=10, random_state=0).fit(X),
                     "sklearn-elkan": lambda: SK(5, n_init=10, random_state=0,
                                                 algorithm="elkan").fit(X)},
                    repeats=2 if quick else 5, quality=_inertia, quality_name="inertia", extra=extra)

    # 2. MNIST-shaped data (digits on a 28x28 canvas): 20 real iterations
    n_mnist = 4000 if quick else 60000
    for dtype in (np.float32, np.float64):
        X = _digits_canvas(n_mnist, dtype)
        _iteration_case(rows, "mnist-shaped", X, 10, 10 if quick else 20, repeats)

    # 2b. unstructured data (overlapping clusters, bounds prune nothing): the
    # iteration against its floor; initial centres from k-means++ on the first
    # 20000 rows, tol=0, the same iterations for every contender
    rates = machine_rates()
    print(f"[kmeans floor] measured: float32 GEMM {rates[0] / 1e9:.0f} GFLOP/s, read "
          f"{rates[1] / 1e9:.1f} GB/s", file=sys.stderr, flush=True)
    if quick:
        _unstructured_case(rows, "unstructured mnist-shaped", 6000, 784, 10, 0.05, 10, 2, rates)
        _unstructured_case(rows, "unstructured 16-d", 50000, 16, 64, 0.7, 10, 2, rates)
        _unstructured_case(rows, "unstructured many clusters", 10000, 32, 100, 0.7, 10, 2,
                           rates)
        _unstructured_case(rows, "unstructured few clusters", 200000, 16, 4, 0.7, 10, 2, rates)
    else:
        _unstructured_case(rows, "unstructured mnist-shaped", 60000, 784, 10, 0.05, 30, 3,
                           rates)
        _unstructured_case(rows, "unstructured 16-d", 10**6, 16, 64, 0.7, 20, 3, rates)
        _unstructured_case(rows, "unstructured many clusters", 10**5, 32, 1000, 0.7, 10, 2,
                           rates)
        _unstructured_case(rows, "unstructured few clusters", 10**6, 16, 4, 0.7, 20, 3, rates)

    # 3. many points, few features
    X = _overlapping(3 * 10**4 if quick else 10**6, 16, 64, 0, np.float32)
    _iteration_case(rows, "blobs 16-d", X, 64, 10, repeats)
    _kpp_case(rows, "k-means++ 16-d", X, 64, 1 if not quick else 2)

    # 4. many clusters
    k = 1000 if not quick else 100
    X = _overlapping(5000 if quick else 10**5, 32, k, 1, np.float32)
    _iteration_case(rows, "many clusters", X, k, 10, 2)
    _kpp_case(rows, "k-means++ many clusters", X, k, 1)
    return rows


if __name__ == "__main__":
    from benchmarks.run import format_table

    t0 = time.perf_counter()
    print(format_table(run(quick="--quick" in sys.argv)))
    print(f"{time.perf_counter() - t0:.1f}s")
