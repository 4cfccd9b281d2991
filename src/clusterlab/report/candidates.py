"""The candidate clusterings ``clusterlab analyze`` runs: a registry.

Each :class:`Candidate` knows how to fit on the table (or on the analysis
sample), label every row and say what it costs. It returns one or more
:class:`Partition` objects (a K-Means sweep returns one per k, a hierarchy
one per cut); the evidence and the recommendation (``report/choose.py``)
read partitions only, so a new estimator plugs in by registering a
candidate here, without touching the selection logic.

The cost estimate (rough seconds on two cores, warm caches) decides whether
a candidate runs on every row, on the sample, or not at all, so that the
first analysis of a new user stays quick as candidates are added.
"""

import copy
import time
from dataclasses import dataclass, field

import numpy as np

#: rows above which the k sweeps of the mixtures run on a random sample
#: (the chosen mixture is then refitted on every row)
MIXTURE_SWEEP_SAMPLE = 20000

#: an analysis step estimated above this many seconds is skipped (and said so)
STEP_BUDGET_SECONDS = 60.0


@dataclass
class Partition:
    """One clustering of every row."""

    name: str  # the candidate that made it
    k: int  # clusters, noise not counted
    labels: np.ndarray  # (n,) int64; -1 noise, -2 not computed
    model: object = None
    params: dict = field(default_factory=dict)
    evidence: dict = field(default_factory=dict)  # filled by the selection


@dataclass
class Candidate:
    """An entry of the registry.

    ``run(ctx)`` returns a list of partitions (and may store sweeps for the
    report on ``ctx.res``); ``cost(n, d, ctx)`` estimates its seconds;
    ``needs_k`` candidates (agglomerative, spectral) run after the selection
    at the recommended number of clusters.
    """

    name: str
    title: str
    run: object
    cost: object
    needs_k: bool = False
    default: bool = True  # run when the user names no algorithms


REGISTRY = {}


def register(name, title, cost, needs_k=False, default=True):
    """Decorator adding a ``run(ctx)`` function to the registry."""

    def wrap(run):
        REGISTRY[name] = Candidate(name, title, run, cost, needs_k, default)
        return run

    return wrap


def title(name):
    """Display name of a candidate (the name itself for unknown ones)."""
    entry = REGISTRY.get(name)
    return entry.title if entry is not None else name


def nearest_sample_rows(X, sample_index, block=2048):
    """For every row, the position (in ``sample_index``) of its nearest sample row
    (``O(n·m·d)`` time in blocks of ``block`` rows, ``O(block·m)`` memory); the
    sample rows map to themselves."""
    S = X[sample_index]
    sq = np.einsum("ij,ij->i", S, S)
    out = np.empty(X.shape[0], dtype=np.int64)
    for start in range(0, X.shape[0], block):
        rows = X[start:start + block]
        out[start:start + block] = np.argmin(sq[None, :] - 2.0 * rows @ S.T, axis=1)
    out[sample_index] = np.arange(len(sample_index))
    return out


def extend_to_all_rows(ctx, sample_labels):
    """Labels for every row from labels of the sample rows: each row takes the
    label of its nearest sample row (found once per analysis and kept on ``ctx``)."""
    sample_labels = np.asarray(sample_labels, dtype=np.int64)
    if len(ctx.sample_index) == ctx.X.shape[0]:
        return sample_labels
    if getattr(ctx, "nearest_sample", None) is None:
        ctx.nearest_sample = nearest_sample_rows(ctx.X, ctx.sample_index)
    return sample_labels[ctx.nearest_sample]


def _available(module):
    """Whether this installation has the estimator module ``clusterlab.cluster.<module>``."""
    import importlib.util

    return importlib.util.find_spec(f"clusterlab.cluster.{module}") is not None


def n_found(labels):
    """Number of clusters in ``labels`` (noise and not-computed rows left out)."""
    lab = np.asarray(labels)
    return int(len(np.unique(lab[lab >= 0])))


# --------------------------------------------------------------------------
# K-Means: a sweep over the k grid on every row
# --------------------------------------------------------------------------

#: fewest rows a sweep sized to the step budget runs on (below this the step
#: is skipped, and said so)
SWEEP_MIN_ROWS = 2000


def _budget_rows(n, per_row, fixed, cap=None):
    """The rows a sweep runs on: every row (at most ``cap``) when its estimated
    cost ``fixed + per_row * rows`` fits :data:`STEP_BUDGET_SECONDS`, else the
    most rows that fit, but never fewer than :data:`SWEEP_MIN_ROWS` (then the
    estimate says it does not fit and the step is skipped)."""
    m = n if cap is None else min(n, cap)
    fit = int((STEP_BUDGET_SECONDS - fixed) / max(per_row, 1e-300))
    return max(min(m, fit), min(m, SWEEP_MIN_ROWS))


def _sweep_rows(X, m, seed):
    """``X`` or a sorted random sample of ``m`` of its rows."""
    if m >= len(X):
        return X
    rng = np.random.default_rng(seed)
    return X[np.sort(rng.choice(len(X), m, replace=False))]


def _kmeans_work(n, d, ctx):
    """(seconds per row, fixed seconds) of the K-Means sweep."""
    return 2e-8 * d * float(np.sum(ctx.ks)) * 10, 0.01 * len(ctx.ks)


def _kmeans_cost(n, d, ctx):
    per_row, fixed = _kmeans_work(n, d, ctx)
    return fixed + per_row * _budget_rows(n, per_row, fixed)


@register("kmeans", "K-Means", _kmeans_cost)
def _kmeans(ctx):
    from clusterlab.cluster.kmeans import KMeans
    from clusterlab.selection import sweep

    res = ctx.res
    n, d = ctx.X.shape
    m = _budget_rows(n, *_kmeans_work(n, d, ctx))
    Xs = _sweep_rows(ctx.X, m, ctx.seed)
    res.kmeans_sweep = sweep(KMeans(n_init=10, random_state=ctx.seed), Xs, ctx.ks,
                             criteria=("inertia", "silhouette", "calinski_harabasz",
                                       "davies_bouldin"),
                             random_state=ctx.seed, sample_size=ctx.sil_sample)
    if Xs is not ctx.X:
        res.sweep_rows["kmeans"] = m
        res.notes.append(
            f"The K-Means sweep ran on a random sample of {m} rows (the whole sweep would "
            "take over a minute); every row takes the label of its nearest centre.")
    sw = res.kmeans_sweep
    if int(np.min(sw.k_values)) > 1:  # the elbow may be the first k swept (see SweepResult)
        centred = Xs - Xs.mean(axis=0, dtype=np.float64)
        sw.base_inertia = float(np.einsum("ij,ij->", centred, centred))
    sil = np.asarray(sw.table["silhouette"], dtype=float)
    best_k = int(sw.best("silhouette")) if np.isfinite(sil).any() else int(ctx.ks[-1])
    parts = []
    for i, (k, model) in enumerate(zip(sw.k_values.tolist(), sw.models)):
        labels = model.labels_ if Xs is ctx.X else model.predict(ctx.X)
        evidence = {"own_best": int(k) == best_k}
        if Xs is ctx.X:  # the sweep's score is this partition's: shown once, the same
            evidence["silhouette"] = float(sil[i])
        parts.append(Partition("kmeans", int(k), np.asarray(labels, dtype=np.int64),
                               model, {"n_clusters": int(k)}, evidence))
    return parts


# --------------------------------------------------------------------------
# Gaussian mixtures: every covariance type over the k grid, BIC and ICL
# --------------------------------------------------------------------------

#: above this many features, full and tied covariances (d² parameters per
#: component, d³ work per step) are left out of the comparison
FULL_COVARIANCE_MAX_FEATURES = 30


def covariance_types(d):
    """The covariance types compared for ``d`` features."""
    if d > FULL_COVARIANCE_MAX_FEATURES:
        return ("diag", "spherical")
    return ("full", "tied", "diag", "spherical")


#: the coarse k grid of the mixture sweeps (refined next to the best k)
MIXTURE_COARSE_KS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 65, 80, 100)
#: a mixture criterion whose best k lies in the last step of a coarse grid of
#: at least this many steps has found no optimum
#: (:func:`clusterlab.report.choose.recommend`)
OPEN_END_MIN_STEPS = 8


def _gmm_work(n, d, ctx):
    """(seconds per row, fixed seconds) of the mixture sweeps."""
    ks = [k for k in MIXTURE_COARSE_KS if k <= ctx.gmm_k_max]
    per_type = {"full": 1.0 + d / 30.0, "tied": 1.0 + d / 30.0, "diag": 1.0, "spherical": 1.0}
    work = sum(per_type[c] for c in covariance_types(d)) * 1.5 * float(np.sum(ks))
    return 2e-7 * d * work, 0.01 * len(ks) * len(covariance_types(d))


def _gmm_rows(n, d, ctx):
    return _budget_rows(n, *_gmm_work(n, d, ctx), cap=MIXTURE_SWEEP_SAMPLE)


def _gmm_cost(n, d, ctx):
    per_row, fixed = _gmm_work(n, d, ctx)
    return fixed + per_row * _gmm_rows(n, d, ctx)


@register("gmm", "Gaussian mixture", _gmm_cost)
def _gmm(ctx):
    from clusterlab.mixture.gaussian import GaussianMixture
    from clusterlab.selection import integrated_completed_likelihood, sweep

    res = ctx.res
    X = ctx.X
    n, d = X.shape
    Xs = _sweep_rows(X, _gmm_rows(n, d, ctx), ctx.seed)
    table = {}  # (cov, k) -> (bic, icl, model)
    coarse = [k for k in MIXTURE_COARSE_KS if k <= ctx.gmm_k_max]

    def fit_all(cov, ks):
        ks = [k for k in ks if (cov, k) not in table and k < len(Xs)]
        if not ks:
            return
        sw = sweep(GaussianMixture(covariance_type=cov, n_init=1, random_state=ctx.seed),
                   Xs, ks, criteria=("bic", "aic"), random_state=ctx.seed)
        for k, model, bic in zip(sw.k_values.tolist(), sw.models, sw.table["bic"]):
            icl = integrated_completed_likelihood(model, Xs, bic=bic)
            table[(cov, int(k))] = (float(bic), icl, model)
        return sw

    def every_row(key):
        """The mixture ``key`` = (covariance_type, k) of the table, refitted on
        every row when the sweep ran on a sample."""
        if Xs is X:
            return table[key][2]
        return GaussianMixture(n_components=key[1], covariance_type=key[0], n_init=2,
                               random_state=ctx.seed).fit(X)

    for cov in covariance_types(d):
        sw = fit_all(cov, coarse)
        if cov == covariance_types(d)[0]:
            res.gmm_sweep = sw
    # refine next to the best coarse k (by ICL and by BIC) of each covariance type
    for cov in covariance_types(d):
        for crit in (0, 1):
            mine = {k: v for (c, k), v in table.items() if c == cov}
            best_k = min(mine, key=lambda k: mine[k][crit])
            i = coarse.index(best_k) if best_k in coarse else 0
            lo = coarse[max(0, i - 1)]
            hi = coarse[min(len(coarse) - 1, i + 1)]
            fit_all(cov, range(max(2, lo), hi + 1))
    res.gmm_table = {key: (bic, icl) for key, (bic, icl, _) in table.items()}
    best_icl = min(table, key=lambda key: table[key][1])
    ctx.gmm_icl_best = best_icl
    ones = [key for key in table if key[1] == 1]
    if ones:  # the best single Gaussian (the best mixture itself when ICL picks one)
        one = min(ones, key=lambda key: table[key][1])
        ctx.gmm_one = Partition("gmm", 1, np.zeros(n, dtype=np.int64), table[one][2],
                                {"n_components": 1, "covariance_type": one[0]},
                                {"icl": table[one][1]})
    ctx.gmm_bic_best = min(table, key=lambda key: table[key][0])
    if best_icl[1] == 1 and ctx.gmm_bic_best[1] == 2:
        # BIC finds exactly two Gaussians where ICL, charging for the overlap,
        # prefers one: the selection tests the valley between them
        two_cov = ctx.gmm_bic_best[0]
        two = every_row(ctx.gmm_bic_best)
        two_labels = np.asarray(two.predict(X), dtype=np.int64)
        ctx.gmm_two = Partition("gmm", n_found(two_labels), two_labels, two,
                                {"n_components": 2, "covariance_type": two_cov},
                                {"bic": table[ctx.gmm_bic_best][0],
                                 "icl": table[ctx.gmm_bic_best][1]})
    # the mixture shown and compared: ICL's choice among two or more components
    # (clusters, where BIC counts density components)
    several = [key for key in table if key[1] >= 2]
    if not several:
        return []
    best = min(several, key=lambda key: table[key][1])
    cov, k = best
    # ICL still improving into the last step of the coarse grid (several
    # steps long; single-start fits make the last points noisy, so a best k
    # anywhere in that step counts): the mixture is not counting clusters
    # (discrete values, a continuum, noise dimensions), so its k is no estimate
    ctx.gmm_open_end = len(coarse) >= OPEN_END_MIN_STEPS and k > coarse[-2]
    ctx.gmm_k_tried = max(kk for _, kk in table)
    for c in covariance_types(d):
        at_k = table.get((c, k))
        if at_k is not None:
            res.covariance_bic[c] = (at_k[0], at_k[2])
    model = every_row(best)
    if Xs is not X:
        res.notes.append(
            f"The Gaussian-mixture sweep ran on a random sample of {len(Xs)} rows; the "
            "chosen mixture was refitted on every row.")
    labels = np.asarray(model.predict(X), dtype=np.int64)
    return [Partition("gmm", n_found(labels), labels, model,
                      {"n_components": int(k), "covariance_type": cov},
                      {"own_best": True, "bic": table[best][0], "icl": table[best][1]})]


# --------------------------------------------------------------------------
# Genie: the whole hierarchy on the sample, cut at every k up to k_max
# --------------------------------------------------------------------------

def _genie_cost(n, d, ctx):
    m = len(ctx.sample_index)
    return 3e-9 * m * m * d + 2e-6 * m * ctx.k_max + 1e-8 * n * m * d


@register("genie", "Genie (hierarchical)", _genie_cost)
def _genie(ctx):
    from clusterlab.cluster.genie import Genie

    model = Genie(n_clusters=2).fit(ctx.Xs)
    ctx.mst = model.mst_  # the evidence reuses the sample's spanning tree
    parts = []
    top = min(ctx.k_max, len(ctx.Xs) - 1)
    for k in range(2, top + 1):
        sample_labels = model.cut(k)
        labels = extend_to_all_rows(ctx, sample_labels)
        # each cut as the model Genie(n_clusters=k) fits (its parameters are what the
        # summary and the report's code show): the same hierarchy, shared
        cut = copy.copy(model)
        cut.n_clusters = k
        cut.labels_ = sample_labels
        parts.append(Partition("genie", k, labels, cut,
                               {"n_clusters": k, "gini_threshold": model.gini_threshold}))
    return parts


# --------------------------------------------------------------------------
# DBSCAN with eps from the knee of the k-distance curve
# --------------------------------------------------------------------------

def _dbscan_cost(n, d, ctx):
    m = len(ctx.sample_index)
    return 2e-9 * m * m * d + 1e-7 * n * d


@register("dbscan", "DBSCAN", _dbscan_cost)
def _dbscan(ctx):
    from clusterlab.cluster.dbscan import DBSCAN
    from clusterlab.report.neighbours import knn_sample
    from clusterlab.selection import knee_point

    res = ctx.res
    X = ctx.X
    n, d = X.shape
    min_samples = max(5, 2 * d)
    knn_idx, knn_nbrs, knn_dist = knn_sample(X, min_samples - 1, max_rows=ctx.sample,
                                             random_state=ctx.seed)
    res.knn = (knn_idx, knn_nbrs)
    kd = np.sort(knn_dist[:, -1])
    knee = knee_point(np.arange(len(kd)), kd, curve="convex", direction="increasing")
    eps = float(kd[int(knee)]) if knee is not None else float(np.median(kd))
    eps = eps if eps > 0 else float(kd[kd > 0].min()) if (kd > 0).any() else 1e-3
    res.kdist, res.dbscan_eps, res.dbscan_min_samples = kd, eps, min_samples
    db = DBSCAN(eps=eps, min_samples=min_samples)
    if d > 3 and ctx.sampled:
        db.fit(ctx.Xs)
        labels = np.asarray(db.predict(X), dtype=np.int64)
    else:
        db.fit(X)
        labels = np.asarray(db.labels_, dtype=np.int64)
    return [Partition("dbscan", n_found(labels), labels, db,
                      {"eps": eps, "min_samples": min_samples}, {"own_best": True})]


# --------------------------------------------------------------------------
# HDBSCAN (when this installation has it): k-free, a few minimum sizes
# --------------------------------------------------------------------------

def _hdbscan_cost(n, d, ctx):
    if not _available("hdbscan"):
        return float("inf")
    m = len(ctx.sample_index)
    return 3 * (2e-8 * m * np.log2(m + 2) * d * 10 + 1e-7 * n * d)


@register("hdbscan", "HDBSCAN", _hdbscan_cost)
def _hdbscan(ctx):
    from clusterlab.cluster.hdbscan import HDBSCAN

    parts = []
    m = len(ctx.Xs)
    sizes = sorted({5, 10, 20, max(5, m // 100)})
    for size in sizes:
        if size >= m:
            continue
        model = HDBSCAN(min_cluster_size=size, copy=True).fit(ctx.Xs)
        sample_labels = np.asarray(model.labels_, dtype=np.int64)
        if ctx.sampled:
            labels = np.asarray(model.predict(ctx.X), dtype=np.int64)
            labels[ctx.sample_index] = sample_labels
        else:
            labels = sample_labels
        parts.append(Partition("hdbscan", n_found(labels), labels, model,
                               {"min_cluster_size": size}, {"own_best": size == 5}))
    return parts


# --------------------------------------------------------------------------
# Methods run at the recommended number of clusters, on the sample
# --------------------------------------------------------------------------

def _quadratic_cost(n, d, ctx):
    m = len(ctx.sample_index)
    return 2e-9 * m * m * d + 1e-3


@register("agglomerative", "Agglomerative (Ward)", _quadratic_cost, needs_k=True)
def _agglomerative(ctx):
    from clusterlab.cluster.agglomerative import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=ctx.k, linkage="ward",
                                    compute_distances=True).fit(ctx.Xs)
    labels = np.full(ctx.X.shape[0], -2, dtype=np.int64)
    labels[ctx.sample_index] = model.labels_
    return [Partition("agglomerative", ctx.k, labels, model,
                      {"n_clusters": ctx.k, "linkage": "ward"}, {"own_best": True})]


@register("spectral", "Spectral", _quadratic_cost, needs_k=True)
def _spectral(ctx):
    from clusterlab.cluster.spectral import SpectralClustering

    model = SpectralClustering(n_clusters=ctx.k, affinity="nearest_neighbors",
                               n_neighbors=min(10, len(ctx.Xs) - 1),
                               random_state=ctx.seed).fit(ctx.Xs)
    labels = np.full(ctx.X.shape[0], -2, dtype=np.int64)
    labels[ctx.sample_index] = model.labels_
    return [Partition("spectral", ctx.k, labels, model,
                      {"n_clusters": ctx.k, "affinity": "nearest_neighbors"},
                      {"own_best": True})]


def run_candidate(entry, ctx, tick=None):
    """Run one registry entry; returns ``(partitions, seconds, failure)``.

    A candidate that raises is reported as failed with the reason in plain
    words and the analysis goes on without it.
    """
    t0 = time.perf_counter()
    try:
        parts = entry.run(ctx)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError, MemoryError,
            RuntimeError) as exc:
        reason = str(exc).strip().split("\n")[0] or type(exc).__name__
        return [], time.perf_counter() - t0, f"{entry.title} failed: {reason}"
    return parts, time.perf_counter() - t0, None


# --------------------------------------------------------------------------
# k-free candidates on small tables, and BIRCH for very large ones (when this
# installation has them). Mean shift and affinity propagation run only when
# named in ``--algorithms``: on the development benchmarks they were never the
# best-supported partition, affinity propagation's default preference gives
# hundreds of clusters on a few thousand rows, and their first-run compilation
# costs about 10 s of the first analysis's budget.
# --------------------------------------------------------------------------

#: mean shift runs on the sample when the table has at most this many columns
#: (kernel density modes are meaningless in many dimensions)
MEANSHIFT_MAX_FEATURES = 10
#: affinity propagation holds three m x m matrices: its sample size
AFFINITY_SAMPLE = 2000
#: BIRCH summarises tables with more rows than this
BIRCH_MIN_ROWS = 200_000


def _meanshift_cost(n, d, ctx):
    if not _available("mean_shift") or d > MEANSHIFT_MAX_FEATURES:
        return float("inf")
    m = len(ctx.sample_index)
    return 2e-8 * m * m * d + 1e-7 * n * d


@register("meanshift", "Mean shift", _meanshift_cost, default=False)
def _meanshift(ctx):
    from clusterlab.cluster.mean_shift import MeanShift, estimate_bandwidth

    bandwidth = estimate_bandwidth(ctx.Xs, random_state=ctx.seed, n_samples=min(len(ctx.Xs), 1000))
    if not bandwidth > 0:
        raise ValueError("the estimated bandwidth is 0 (too many identical rows)")
    model = MeanShift(bandwidth=bandwidth, bin_seeding=True).fit(ctx.Xs)
    labels = np.asarray(model.predict(ctx.X), dtype=np.int64)
    labels[ctx.sample_index] = model.labels_
    return [Partition("meanshift", n_found(labels), labels, model,
                      {"bandwidth": float(bandwidth), "bin_seeding": True},
                      {"own_best": True})]


def _affinity_cost(n, d, ctx):
    if not _available("affinity_propagation"):
        return float("inf")
    m = min(len(ctx.sample_index), AFFINITY_SAMPLE)
    return 2e-8 * m * m * 20 + 1e-7 * n * d


@register("affinity", "Affinity propagation", _affinity_cost, default=False)
def _affinity(ctx):
    from clusterlab.cluster.affinity_propagation import AffinityPropagation

    m = len(ctx.Xs)
    if m > AFFINITY_SAMPLE:
        rng = np.random.default_rng(ctx.seed)
        rows = np.sort(rng.choice(m, AFFINITY_SAMPLE, replace=False))
    else:
        rows = np.arange(m)
    model = AffinityPropagation(random_state=ctx.seed).fit(ctx.Xs[rows])
    if len(model.cluster_centers_indices_) == 0:
        raise ValueError("affinity propagation did not converge to any exemplar")
    labels = np.asarray(model.predict(ctx.X), dtype=np.int64)
    return [Partition("affinity", n_found(labels), labels, model,
                      {"damping": model.damping}, {"own_best": True})]


def why_not(name, n, d):
    """Why the candidate ``name`` does not run on a table of ``n`` rows and
    ``d`` columns (its cost estimate is infinite): what the report says when
    the user asked for it (``--algorithms``)."""
    entry = REGISTRY[name]
    module = {"hdbscan": "hdbscan", "meanshift": "mean_shift",
              "affinity": "affinity_propagation", "birch": "birch"}.get(name)
    if module is not None and not _available(module):
        return f"{entry.title} was not run: this installation does not have it."
    if name == "birch" and n < BIRCH_MIN_ROWS:
        return (f"{entry.title} was not run: it summarises tables of at least "
                f"{BIRCH_MIN_ROWS} rows, and this one has {n}; the other methods read every "
                "row.")
    if name == "meanshift" and d > MEANSHIFT_MAX_FEATURES:
        return (f"{entry.title} was not run: it runs on at most {MEANSHIFT_MAX_FEATURES} "
                f"columns (its kernel density estimate needs many more rows than columns), "
                f"and the analysis has {d}.")
    return f"{entry.title} was not run: it does not apply to this table."


def _birch_cost(n, d, ctx):
    if not _available("birch") or n < BIRCH_MIN_ROWS:
        return float("inf")
    return 2e-6 * n * d


@register("birch", "BIRCH", _birch_cost, needs_k=True)
def _birch(ctx):
    from clusterlab.cluster.birch import Birch

    model = Birch(n_clusters=ctx.k, threshold=_birch_threshold(ctx)).fit(ctx.X)
    labels = np.asarray(model.labels_, dtype=np.int64)
    return [Partition("birch", n_found(labels), labels, model,
                      {"n_clusters": ctx.k, "threshold": model.threshold}, {"own_best": True})]


def _birch_threshold(ctx):
    """A subcluster radius that keeps the CF-tree to a few thousand entries:
    a fifth of the median nearest-neighbour distance scaled up to the
    sample's spread."""
    from clusterlab.report.neighbours import knn_sample

    _, _, dist = knn_sample(ctx.Xs, 1, max_rows=2000, random_state=ctx.seed)
    return float(max(np.median(dist[:, 0]) * 5.0, 1e-12))
