"""Gaussian mixtures against scikit-learn's, from the same starting point.

Cases (DESIGN.md section 5):

* EM iteration speed, every covariance type, float64 and float32, at the
  issue's size (200000 x 20, k=16, 20 iterations; ``--quick``: 20000 rows, 3
  iterations): overlapping Gaussian clusters, the same explicit
  ``weights_init`` / ``means_init`` / ``precisions_init`` for both, ``tol=0``
  and a fixed ``max_iter`` so both run exactly the same iterations (and reach
  the same log-likelihood). Each row prints its time per iteration beside the
  arithmetic floor (:func:`_floor`: the least flops of an iteration at the
  float64 GEMM rate measured in the same run). The float32 rows compare with
  scikit-learn on float32 (which computes in float32; clusterlab accumulates
  in float64 and keeps float32 attributes);
* BayesianGaussianMixture, every covariance type: ``init_params='random_from_data'``
  with the same ``random_state`` (both draw the same starting points),
  ``tol=0``, fixed ``max_iter``;
* full covariances on many features (1500 x 784, k=10, 10 iterations;
  ``--quick``: 1500 x 256, k=8, 3 iterations), where each iteration is a few
  large products and factorisations rather than a pass over many rows;
* the seed's fit: ``GaussianMixture(3, n_init=10, random_state=42)`` on the
  elongated blobs, the whole fit (k-means initialisations included).

Quality is the final lower bound (average log-likelihood for EM, the ELBO
for the Bayesian mixture) -- equal for both when the implementations agree.
Peak memory (MiB above the data, fresh interpreter, ``peak_rss_mb``) is in
each row's ``extra`` (full runs only; ``--quick`` skips it), beside the peak of
numpy allocations during the fit (tracemalloc, every run). The machine is shared and noisy: read ratios, not seconds.
"""

import warnings

import numpy as np

from benchmarks._harness import compare, peak_rss_mb


def _overlapping(n, d, k, seed=0):
    """Overlapping Gaussian clusters, written in blocks (no n x d temporaries, so that
    the peak-memory figures of the fits are not hidden by the data's creation)."""
    rng = np.random.RandomState(seed)
    centers = rng.normal(scale=1.5, size=(k, d))
    X = np.empty((n, d))
    step = 10_000
    for start in range(0, n, step):
        stop = min(n, start + step)
        X[start:stop] = centers[rng.randint(k, size=stop - start)]
        X[start:stop] += rng.normal(size=(stop - start, d))
    return X


def _initial(X, k, covariance_type, seed=0):
    rng = np.random.RandomState(seed)
    d = X.shape[1]
    means = X[rng.choice(X.shape[0], k, replace=False)].astype(np.float64)
    precisions = {"full": np.stack([np.eye(d)] * k), "diag": np.ones((k, d)),
                  "tied": np.eye(d), "spherical": np.ones(k)}[covariance_type]
    return dict(weights_init=np.full(k, 1.0 / k), means_init=means,
                precisions_init=precisions)


_RATE = {}


def _gemm_rate():
    """The machine's float64 GEMM rate now (flop/s): a 1500 x 1500 product through
    numpy's BLAS on all its threads, best of 3 (measured once per run, in this
    process, so that the floor reflects the same load as the timings)."""
    if "rate" not in _RATE:
        import time

        a = np.random.RandomState(0).rand(1500, 1500)
        best = np.inf
        for _ in range(3):
            t0 = time.perf_counter()
            a @ a
            best = min(best, time.perf_counter() - t0)
        _RATE["rate"] = 2 * 1500**3 / best
    return _RATE["rate"]


def _floor(covariance_type, n, d, k):
    """Least arithmetic of one EM iteration (flops) and that time at the GEMM rate.

    full: the E-step's triangular products ``(x - mu_k) U_k``, n k d (d+1) flops,
    and the M-step's symmetric ``sum r x x^T``, n k d (d+1); tied: n d (d+1) for
    ``x U`` plus 3 n k d for the distances and 2 n k d for ``sum r x``;
    diag/spherical: 3 n k d (E-step) + 4 n k d (``sum r x``, ``sum r x^2``). The
    n k exponentials of the responsibilities and the read of X (8 n d bytes)
    come on top (the read is ~2 ms at 200000 x 20: not the bound here).
    """
    if covariance_type == "full":
        flops = 2 * n * k * d * (d + 1)
    elif covariance_type == "tied":
        flops = n * d * (d + 1) + 5 * n * k * d
    else:
        flops = 7 * n * k * d
    return flops, flops / _gemm_rate()


_SETUP = """
import warnings, numpy as np
warnings.simplefilter("ignore")
from benchmarks.bench_mixture import _overlapping, _initial
from clusterlab import GaussianMixture, BayesianGaussianMixture
from sklearn.mixture import GaussianMixture as SkGM, BayesianGaussianMixture as SkBGM
{data}
kw = {kw}
{warm}
"""


_MEASURE_MEMORY = [True]


def _traced_peak_mb(fn):
    """Peak MiB of Python/numpy allocations while ``fn`` runs (tracemalloc).

    numpy registers its buffers with tracemalloc, so this counts every array
    a fit allocates (numba's per-chunk scratch inside kernels is not counted:
    it is O(BLOCK * (k + d)) floats per chunk). Complements the RSS figure,
    which the interpreter's and the JIT's own memory can hide.
    """
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
    finally:
        tracemalloc.stop()


def _with_traced(extra, ours, peer):
    extra = dict(extra)
    extra["ours_traced_peak_mb"] = _traced_peak_mb(ours)
    extra["peer_traced_peak_mb"] = _traced_peak_mb(peer)
    return extra


def _memory(data, kw, ours_code, peer_code, warm):
    if not _MEASURE_MEMORY[0]:
        return {}
    try:
        setup = _SETUP.format(data=data, kw=kw, warm=warm)
        return {"ours_peak_mb": round(peak_rss_mb(ours_code, setup), 1),
                "peer_peak_mb": round(peak_rss_mb(peer_code, setup), 1)}
    except Exception as exc:  # memory is informative; never fail the timing for it
        return {"memory_error": repr(exc)[:200]}


def _peers(fit):
    """scikit-learn as installed, and on one BLAS thread: on a busy machine its
    multi-threaded BLAS calls can run several times slower than on one thread
    (measured 1341 vs 285 ms per iteration at 20000 x 20, k=16, full, with ~8
    runnable processes on 2 cores), which would flatter the first ratio."""

    def one_thread():
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, user_api="blas"):
            return fit()

    return {"scikit-learn": fit, "scikit-learn (BLAS 1 thread)": one_thread}


def _em_case(covariance_type, n, d, k, max_iter, repeats, dtype=np.float64, memory=False):
    from sklearn.mixture import GaussianMixture as SkGM

    from clusterlab import GaussianMixture

    X = _overlapping(n, d, k).astype(dtype, copy=False)
    kw = dict(n_components=k, covariance_type=covariance_type, max_iter=max_iter, tol=0.0,
              **_initial(X, k, covariance_type))
    GaussianMixture(**{**kw, "max_iter": 1}).fit(X[:2000])  # load the numba cache
    GaussianMixture(**{**kw, "max_iter": 1}).fit(X[:20000])  # and the threaded variant
    extra = {}
    if memory:
        data = f"X = _overlapping({n}, {d}, {k})"
        kws = (f"dict(n_components={k}, covariance_type={covariance_type!r}, "
               f"max_iter={max_iter}, tol=0.0, **_initial(X, {k}, {covariance_type!r}))")
        extra = _memory(data, kws, "GaussianMixture(**kw).fit(X)", "SkGM(**kw).fit(X)",
                        "GaussianMixture(**{**kw, 'max_iter': 1}).fit(X[:2000])")
        extra = _with_traced(extra, lambda: GaussianMixture(**kw).fit(X),
                             lambda: SkGM(**kw).fit(X))
    rows = compare("mixture", f"EM {covariance_type}", f"{n}x{d} {np.dtype(dtype).name}",
                   f"k={k} iters={max_iter}", lambda: GaussianMixture(**kw).fit(X),
                   _peers(lambda: SkGM(**kw).fit(X)), repeats=repeats,
                   warmup=False, quality=lambda m: m.lower_bound_,
                   quality_name="mean log-lik", extra=extra)
    return _with_floor(rows, covariance_type, n, d, k, max_iter)


def _with_floor(rows, covariance_type, n, d, k, max_iter):
    """Per-iteration times beside the arithmetic floor (printed and in ``extra``)."""
    flops, floor_s = _floor(covariance_type, n, d, k)
    for row in rows:
        row.extra.update(floor_gflop_per_iter=round(flops / 1e9, 3),
                         gemm_gflops=round(_gemm_rate() / 1e9, 1),
                         floor_ms_per_iter=round(1e3 * floor_s, 1),
                         ours_ms_per_iter=round(1e3 * row.ours_s / max_iter, 1),
                         peer_ms_per_iter=round(1e3 * row.peer_s / max_iter, 1))
        print(f"  {row.case} {row.shape}: ours {row.extra['ours_ms_per_iter']} ms/iteration, "
              f"{row.peer} {row.extra['peer_ms_per_iter']}, floor "
              f"{row.extra['floor_ms_per_iter']} ms ({row.extra['floor_gflop_per_iter']} GFLOP "
              f"at {row.extra['gemm_gflops']} GFLOP/s measured GEMM)", flush=True)
    return rows


def _seed_case(repeats):
    from sklearn.mixture import GaussianMixture as SkGM

    from clusterlab import GaussianMixture
    from clusterlab.datasets import load_elongated_blobs

    X = load_elongated_blobs()
    kw = dict(n_components=3, n_init=10, random_state=42)
    GaussianMixture(**kw).fit(X)
    extra = _memory("from clusterlab.datasets import load_elongated_blobs\n"
                    "X = load_elongated_blobs()", "dict(n_components=3, n_init=10, "
                    "random_state=42)", "GaussianMixture(**kw).fit(X)", "SkGM(**kw).fit(X)",
                    "GaussianMixture(**kw).fit(X)")
    extra = _with_traced(extra, lambda: GaussianMixture(**kw).fit(X), lambda: SkGM(**kw).fit(X))
    return compare("mixture", "seed elongated blobs", "1250x2 float64",
                   "k=3 n_init=10 kmeans init", lambda: GaussianMixture(**kw).fit(X),
                   {"scikit-learn": lambda: SkGM(**kw).fit(X)}, repeats=repeats,
                   warmup=False, quality=lambda m: m.lower_bound_,
                   quality_name="mean log-lik", extra=extra)


def _bayes_case(covariance_type, n, d, k, max_iter, repeats, dtype=np.float64, memory=False):
    from sklearn.mixture import BayesianGaussianMixture as SkBGM

    from clusterlab import BayesianGaussianMixture

    X = _overlapping(n, d, k, seed=1).astype(dtype, copy=False)
    kw = dict(n_components=k, covariance_type=covariance_type, init_params="random_from_data",
              random_state=0, max_iter=max_iter, tol=0.0)
    BayesianGaussianMixture(**{**kw, "max_iter": 1}).fit(X[:2000])
    BayesianGaussianMixture(**{**kw, "max_iter": 1}).fit(X[:20000])
    extra = {}
    if memory:
        data = f"X = _overlapping({n}, {d}, {k}, seed=1)"
        kws = (f"dict(n_components={k}, covariance_type={covariance_type!r}, "
               f"init_params='random_from_data', random_state=0, max_iter={max_iter}, tol=0.0)")
        extra = _memory(data, kws, "BayesianGaussianMixture(**kw).fit(X)", "SkBGM(**kw).fit(X)",
                        "BayesianGaussianMixture(**{**kw, 'max_iter': 1}).fit(X[:2000])")
        extra = _with_traced(extra, lambda: BayesianGaussianMixture(**kw).fit(X),
                             lambda: SkBGM(**kw).fit(X))
    rows = compare("mixture", f"Bayesian {covariance_type}", f"{n}x{d} {np.dtype(dtype).name}",
                   f"k={k} iters={max_iter}", lambda: BayesianGaussianMixture(**kw).fit(X),
                   _peers(lambda: SkBGM(**kw).fit(X)), repeats=repeats,
                   warmup=False, quality=lambda m: float(np.ravel(m.lower_bound_)[0]),
                   quality_name="lower bound", extra=extra)
    return _with_floor(rows, covariance_type, n, d, k, max_iter)


#: The issue's case: 200000 x 20, k=16, 20 iterations. scikit-learn's full and tied
#: fits take seconds per iteration, so those run once per contender.
_N, _D, _K, _ITERS = 200_000, 20, 16, 20
_REPEATS = {"full": 1, "tied": 1, "diag": 2, "spherical": 2}


def run(quick=False):
    warnings.simplefilter("ignore")  # fixed max_iter with tol=0 never "converges"
    rows = []
    _MEASURE_MEMORY[0] = not quick  # fresh interpreters cost more than the quick cases
    if quick:
        rows += _em_case("full", 20_000, 20, 16, 3, repeats=1)
        rows += _em_case("diag", 20_000, 20, 16, 3, repeats=1)
        rows += _em_case("full", 20_000, 20, 16, 3, repeats=1, dtype=np.float32)
        rows += _seed_case(repeats=1)
        rows += _bayes_case("full", 10_000, 10, 10, 3, repeats=1)
        rows += _em_case("full", 1500, 256, 8, 3, repeats=1)  # many features
        return rows
    for covariance_type in ("full", "diag", "tied", "spherical"):
        rows += _em_case(covariance_type, _N, _D, _K, _ITERS, _REPEATS[covariance_type],
                         memory=covariance_type in ("full", "diag"))
    for covariance_type in ("full", "diag", "tied", "spherical"):
        rows += _em_case(covariance_type, _N, _D, _K, _ITERS, _REPEATS[covariance_type],
                         dtype=np.float32)
    for covariance_type in ("full", "diag", "tied", "spherical"):
        rows += _bayes_case(covariance_type, _N, _D, _K, _ITERS, _REPEATS[covariance_type],
                            memory=covariance_type == "full")
    rows += _em_case("full", 1500, 784, 10, 10, repeats=1)  # many features (MNIST-wide)
    rows += _seed_case(repeats=5)
    return rows
