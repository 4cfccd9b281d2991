"""Gaussian mixtures against scikit-learn's, from the same starting point.

Cases (DESIGN.md section 5):

* EM iteration speed, 'full' and 'diag': overlapping Gaussian clusters, the
  same explicit ``weights_init`` / ``means_init`` / ``precisions_init`` for
  both, ``tol=0`` and a fixed ``max_iter`` so both run exactly the same
  iterations (and reach the same log-likelihood);
* the seed's fit: ``GaussianMixture(3, n_init=10, random_state=42)`` on the
  elongated blobs, the whole fit (k-means initialisations included);
* BayesianGaussianMixture: ``init_params='random_from_data'`` with the same
  ``random_state`` (both draw the same starting points), ``tol=0``, fixed
  ``max_iter``.

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
    means = X[rng.choice(X.shape[0], k, replace=False)]
    precisions = {"full": np.stack([np.eye(d)] * k), "diag": np.ones((k, d))}[covariance_type]
    return dict(weights_init=np.full(k, 1.0 / k), means_init=means,
                precisions_init=precisions)


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


def _em_case(covariance_type, n, d, k, max_iter, repeats):
    from sklearn.mixture import GaussianMixture as SkGM

    from clusterlab import GaussianMixture

    X = _overlapping(n, d, k)
    kw = dict(n_components=k, covariance_type=covariance_type, max_iter=max_iter, tol=0.0,
              **_initial(X, k, covariance_type))
    GaussianMixture(**{**kw, "max_iter": 1}).fit(X[:2000])  # load the numba cache
    data = f"X = _overlapping({n}, {d}, {k})"
    kws = (f"dict(n_components={k}, covariance_type={covariance_type!r}, "
           f"max_iter={max_iter}, tol=0.0, **_initial(X, {k}, {covariance_type!r}))")
    extra = _memory(data, kws, "GaussianMixture(**kw).fit(X)", "SkGM(**kw).fit(X)",
                    "GaussianMixture(**{**kw, 'max_iter': 1}).fit(X[:2000])")
    extra = _with_traced(extra, lambda: GaussianMixture(**kw).fit(X), lambda: SkGM(**kw).fit(X))
    return compare("mixture", f"EM {covariance_type}", f"{n}x{d} float64",
                   f"k={k} iters={max_iter}", lambda: GaussianMixture(**kw).fit(X),
                   {"scikit-learn": lambda: SkGM(**kw).fit(X)}, repeats=repeats,
                   warmup=False, quality=lambda m: m.lower_bound_,
                   quality_name="mean log-lik", extra=extra)


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


def _bayes_case(n, d, k, max_iter, repeats):
    from sklearn.mixture import BayesianGaussianMixture as SkBGM

    from clusterlab import BayesianGaussianMixture

    X = _overlapping(n, d, k, seed=1)
    kw = dict(n_components=k, init_params="random_from_data", random_state=0,
              max_iter=max_iter, tol=0.0)
    BayesianGaussianMixture(**{**kw, "max_iter": 1}).fit(X[:2000])
    data = f"X = _overlapping({n}, {d}, {k}, seed=1)"
    kws = (f"dict(n_components={k}, init_params='random_from_data', random_state=0, "
           f"max_iter={max_iter}, tol=0.0)")
    extra = _memory(data, kws, "BayesianGaussianMixture(**kw).fit(X)", "SkBGM(**kw).fit(X)",
                    "BayesianGaussianMixture(**{**kw, 'max_iter': 1}).fit(X[:2000])")
    extra = _with_traced(extra, lambda: BayesianGaussianMixture(**kw).fit(X),
                         lambda: SkBGM(**kw).fit(X))
    return compare("mixture", "Bayesian full", f"{n}x{d} float64", f"k={k} iters={max_iter}",
                   lambda: BayesianGaussianMixture(**kw).fit(X),
                   {"scikit-learn": lambda: SkBGM(**kw).fit(X)}, repeats=repeats,
                   warmup=False, quality=lambda m: float(np.ravel(m.lower_bound_)[0]),
                   quality_name="lower bound", extra=extra)


def run(quick=False):
    warnings.simplefilter("ignore")  # fixed max_iter with tol=0 never "converges"
    rows = []
    _MEASURE_MEMORY[0] = not quick  # fresh interpreters cost more than the quick cases
    if quick:
        rows += _em_case("full", 20_000, 20, 16, 2, repeats=1)
        rows += _em_case("diag", 20_000, 20, 16, 3, repeats=1)
        rows += _seed_case(repeats=1)
        rows += _bayes_case(10_000, 10, 10, 3, repeats=1)
    else:
        rows += _em_case("full", 200_000, 20, 16, 5, repeats=3)
        rows += _em_case("diag", 200_000, 20, 16, 10, repeats=3)
        rows += _seed_case(repeats=5)
        rows += _bayes_case(50_000, 10, 10, 10, repeats=3)
    return rows
