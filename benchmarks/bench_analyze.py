"""``clusterlab analyze`` on data with known partitions: is the answer right?

Per data set, run as a new user runs it (no k given): the adjusted Rand
index (ARI) of the recommended clustering, of the best clustering the
analysis ran (what a perfect chooser would have recommended), of
``HDBSCAN()`` with its defaults and of K-Means given the true k; the chosen
model and k, and the time. Scoring: rows whose reference label is 0
(noise) are left out; a predicted noise label (-1) counts as one more
cluster; for a data set with one reference cluster (no structure), a
recommendation of one cluster scores 1 and anything else 0.

Data:

* the development batteries of Gagolewski's clustering benchmark suite
  (FCPS, Graves), read from ``../shared/benchdata`` beside the repository
  or ``$CLUSTERLAB_BENCHDATA`` when present, skipped otherwise (never
  copied into the repository);
* scikit-learn's bundled iris, wine, breast cancer and digits (reported
  separately, not in the benchmark mean);
* generated cases the batteries cannot exercise: 30 and 100 clusters,
  two overlapping Gaussians, one-dimensional data,
  50 dimensions, a wide table, uniform noise.

The row's ``ratio`` is the time of K-Means with the true k over the
analysis's time (the analysis runs many models: expect well below 1); the
quality columns are the ARI of the recommendation and of K-Means with the
true k.
"""

import glob
import os
import time
import warnings

import numpy as np

from benchmarks._harness import Row

FAMILY = "analyze"
HERE = os.path.dirname(os.path.abspath(__file__))


def benchdata_dir():
    """The development data folder, or None."""
    env = os.environ.get("CLUSTERLAB_BENCHDATA")
    candidates = [env] if env else []
    candidates.append(os.path.join(HERE, "..", "..", "shared", "benchdata"))
    for path in candidates:
        if path and os.path.isdir(path):
            return os.path.abspath(path)
    return None


def battery_sets():
    root = benchdata_dir()
    if root is None:
        return
    for path in sorted(glob.glob(os.path.join(root, "*", "*.data.gz"))):
        name = os.path.basename(os.path.dirname(path)) + "/" + os.path.basename(path)[:-8]
        X = np.loadtxt(path, ndmin=2)
        y = np.loadtxt(path.replace(".data.gz", ".labels0.gz"), dtype=np.int64)
        yield name, X, y


def sklearn_sets():
    from sklearn import datasets

    for name in ("iris", "wine", "breast_cancer", "digits"):
        d = getattr(datasets, f"load_{name}")()
        yield f"sklearn/{name}", d.data.astype(float), d.target + 1


def generated_sets(quick):
    from sklearn import datasets

    rng = np.random.default_rng(0)
    X, y = datasets.make_blobs(3000, centers=30, n_features=2, cluster_std=0.5,
                               center_box=(-40, 40), random_state=1)
    yield "generated/blobs-30-2d", X, y + 1
    X, y = datasets.make_blobs(3000, centers=20, n_features=50, cluster_std=1.0,
                               center_box=(-5, 5), random_state=2)
    yield "generated/blobs-20-50d", X, y + 1
    X, y = datasets.make_moons(1000, noise=0.06, random_state=0)
    yield "generated/moons", X, y + 1
    X, y = datasets.make_circles(1000, noise=0.04, factor=0.5, random_state=0)
    yield "generated/circles", X, y + 1
    X, y = datasets.make_blobs(1500, centers=3, random_state=170)
    yield "generated/anisotropic", X @ np.array([[0.6, -0.64], [-0.41, 0.85]]), y + 1
    yield "generated/uniform-2d", rng.uniform(size=(1000, 2)), np.ones(1000, np.int64)
    if quick:
        return
    centres = np.stack(np.meshgrid(np.arange(10), np.arange(10)), -1).reshape(-1, 2) * 6.0
    y = np.repeat(np.arange(100), 80)
    yield "generated/grid-100-2d", centres[y] + rng.normal(size=(8000, 2)), y + 1
    X, y = datasets.make_blobs(60, centers=3, n_features=5000, cluster_std=1.0,
                               center_box=(-1, 1), random_state=3)
    yield "generated/wide-60x5000", X, y + 1
    X, y = datasets.make_blobs(2000, centers=10, n_features=100, cluster_std=2.0,
                               center_box=(-3, 3), random_state=5)
    yield "generated/blobs-10-100d", X, y + 1
    # two Gaussian clusters whose means are 3.3 standard deviations apart (as in
    # the G2 sets), in 8 and in 1 dimensions; and uniform noise on a line
    y = rng.integers(2, size=2048)
    X = rng.normal(size=(2048, 8))
    X[:, 0] += 3.3 * y
    yield "generated/two-gaussians-8d", X, y + 1
    y = rng.integers(2, size=2048)
    yield "generated/two-gaussians-1d", rng.normal(size=(2048, 1)) + 3.3 * y[:, None], y + 1
    yield "generated/uniform-1d", rng.uniform(size=(1000, 1)), np.ones(1000, np.int64)
    # two Gaussians 3.8 sd apart (touching, a density valley between them) and a
    # third far away: the gap test sees two groups, the mixture's ICL three
    y = np.repeat([0, 1, 2], 400)
    X = np.random.default_rng(1).normal(size=(1200, 2)) + np.array([[0, 0], [3.8, 0],
                                                                    [30, 0]])[y]
    yield "generated/touching-pair-far-group", X, y + 1
    # three Z letters (strokes 0.05 wide), apart: K-Means halves them at the
    # diagonal, where the projection between the halves thins out
    zr = np.random.default_rng(2)

    def stroke(n, p, q):
        t = zr.uniform(size=(n, 1))
        return np.asarray(p) + t * (np.asarray(q) - np.asarray(p)) + zr.normal(0, 0.05, (n, 2))

    X = np.vstack([np.vstack([stroke(120, (x - 1, 1), (x + 1, 1)),
                              stroke(170, (x + 1, 1), (x - 1, -1)),
                              stroke(120, (x - 1, -1), (x + 1, -1))]) for x in (0.0, 2.6, 5.2)])
    yield "generated/z-letters", X, np.repeat(np.arange(3), 410) + 1


def score(y, labels):
    """ARI on the non-noise reference rows (1 / 0 for one reference cluster)."""
    from sklearn.metrics import adjusted_rand_score

    keep = y > 0
    lab = np.asarray(labels)[keep]
    if len(np.unique(y[keep])) == 1:
        return 1.0 if len(np.unique(lab[lab >= 0])) <= 1 else 0.0
    return float(adjusted_rand_score(y[keep], lab))


def hdbscan_defaults(X):
    try:
        from clusterlab.cluster.hdbscan import HDBSCAN
    except ImportError:
        from sklearn.cluster import HDBSCAN
    return HDBSCAN(copy=True).fit(X).labels_  # the defaults (copy only silences a FutureWarning)


def evaluate(name, X, y):
    """One data set: a dict of the figures."""
    from clusterlab.cluster.kmeans import KMeans
    from clusterlab.report.analysis import run_analysis
    from clusterlab.report.data import Dataset

    ds = Dataset(X=X, columns=[f"x{i}" for i in range(X.shape[1])], name=name)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = run_analysis(ds)
    seconds = time.perf_counter() - t0
    rec = res.recommendation
    if rec is None or res.verdict == "no structure":
        rec_labels = np.zeros(len(X), np.int64)
    else:
        rec_labels = res.labels[rec]
    k_rec = len(np.unique(rec_labels[rec_labels >= 0]))
    best = max((score(y, p.labels) for p in res.partitions if (p.labels != -2).all()),
               default=float("nan"))
    best = max(best, max((score(y, lab) for lab in res.labels.values()
                          if (lab != -2).all()), default=float("nan")))
    Xs = res.X_fit
    true_k = len(np.unique(y[y > 0]))
    t1 = time.perf_counter()
    km = KMeans(n_clusters=true_k, n_init=10, random_state=0).fit(Xs).labels_ if true_k > 1 \
        else np.zeros(len(X), np.int64)
    km_s = time.perf_counter() - t1
    return dict(name=name, n=X.shape[0], d=X.shape[1], true_k=true_k, model=rec or "none",
                verdict=res.verdict, k=k_rec, seconds=seconds, km_s=km_s,
                ari=score(y, rec_labels), best=best, hdbscan=score(y, hdbscan_defaults(Xs)),
                kmeans_true_k=score(y, km))


def _table(results):
    head = f"{'data set':30s} {'n':>6s} {'d':>5s} {'k*':>4s} {'chosen':>14s} {'k':>4s} " \
           f"{'ARI':>6s} {'best':>6s} {'HDBSCAN':>8s} {'KM(k*)':>7s} {'s':>6s}"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(f"{r['name']:30s} {r['n']:6d} {r['d']:5d} {r['true_k']:4d} "
                     f"{r['model']:>14s} {r['k']:4d} {r['ari']:6.3f} {r['best']:6.3f} "
                     f"{r['hdbscan']:8.3f} {r['kmeans_true_k']:7.3f} {r['seconds']:6.1f}")
    return "\n".join(lines)


def _means(results, prefix):
    sel = [r for r in results if r["name"].startswith(prefix)]
    if not sel:
        return None
    keys = ("ari", "best", "hdbscan", "kmeans_true_k")
    return {k: float(np.mean([r[k] for r in sel])) for k in keys} | {"sets": len(sel)}


def run(quick=False):
    results = []
    sources = [battery_sets(), sklearn_sets(), generated_sets(quick)]
    for source in sources:
        for name, X, y in source:
            if quick and name.startswith("sklearn/digits"):
                continue
            results.append(evaluate(name, X, y))
    print(_table(results))
    for label, prefix in (("benchmark batteries", ("fcps/", "graves/")),
                          ("scikit-learn sets", ("sklearn/",)), ("generated", ("generated/",))):
        m = _means(results, prefix)
        if m:
            print(f"mean over {m['sets']} {label}: recommendation {m['ari']:.3f}, best model "
                  f"run {m['best']:.3f}, HDBSCAN() {m['hdbscan']:.3f}, K-Means with true k "
                  f"{m['kmeans_true_k']:.3f}")
    if benchdata_dir() is None:
        print("(development batteries not found: set CLUSTERLAB_BENCHDATA to include them)")
    rows = []
    for r in results:
        rows.append(Row(FAMILY, r["name"], f"{r['n']}x{r['d']}",
                        f"true k={r['true_k']}; chose {r['model']} k={r['k']}",
                        r["seconds"], "kmeans(true k)", r["km_s"],
                        r["km_s"] / max(r["seconds"], 1e-9), "ARI", r["ari"],
                        r["kmeans_true_k"],
                        extra={"best_model_ari": r["best"], "hdbscan_ari": r["hdbscan"],
                               "verdict": r["verdict"]}))
    return rows
