"""The seed's analysis, run on any table: what ``clusterlab analyze`` does.

Stages (each reported to a progress callback):

1. **K-Means sweep** over k: inertia with its Kneedle elbow, silhouette.
2. **Gaussian-mixture sweep** over k: BIC/AIC, then the four covariance
   types compared by BIC at the chosen k.
3. **DBSCAN** with ``eps`` read off the knee of the sorted k-distance curve
   (``min_samples = max(5, 2 * n_features)``).
4. **Agglomerative** (Ward) and **spectral** (nearest-neighbours affinity)
   clustering at the chosen k, when the size allows.
5. **Anomalies**: a density threshold on the chosen Gaussian mixture.
6. A **recommendation** with its reasons.

Large data: the quadratic steps (silhouette, DBSCAN above three dimensions,
agglomerative and spectral clustering) run on a uniform random sample of
``sample`` rows (default :data:`QUADRATIC_SAMPLE`); K-Means and the mixtures
always use every row. The report says when sampling happened.
"""

import time
from dataclasses import dataclass, field

import numpy as np

#: Rows above which the quadratic steps work on a random sample.
QUADRATIC_SAMPLE = 5000

#: ``scale="auto"`` standardises the columns when their standard deviations
#: differ by more than this factor (columns in different units); otherwise
#: the data are clustered as given, as the seed does.
AUTO_SCALE_RATIO = 10.0

ALGORITHMS = ("kmeans", "gmm", "dbscan", "agglomerative", "spectral")


@dataclass
class AnalysisResult:
    dataset: object
    X_fit: np.ndarray  # the scaled matrix the models were fitted on
    projection: np.ndarray  # 2-D view for the figures
    projection_note: str
    scale: str
    sample_index: np.ndarray  # rows used by quadratic steps
    sampled: bool
    kmeans_sweep: object = None
    gmm_sweep: object = None
    covariance_bic: dict = field(default_factory=dict)
    models: dict = field(default_factory=dict)  # name -> fitted model
    labels: dict = field(default_factory=dict)  # name -> labels for every row (-2: not computed)
    scores: dict = field(default_factory=dict)  # name -> dict of quality figures
    dbscan_eps: float = None
    dbscan_min_samples: int = None
    kdist: np.ndarray = None
    knn: tuple = None  # (sample rows, their k nearest neighbours among the sample)
    anomaly_detector: object = None
    anomaly_scores: np.ndarray = None
    anomalies: np.ndarray = None
    recommendation: str = None
    reasons: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    failures: dict = field(default_factory=dict)  # name -> plain-words reason; no labels then


def project_2d(X):
    """Principal-component projection to two dimensions (identity for 2-D data).

    Computed from the d×d covariance (``O(n·d²)`` time, ``O(d²)`` extra
    memory), so it works on millions of rows.
    """
    if X.shape[1] == 2:
        return X.copy(), "the data's own two columns"
    if X.shape[1] == 1:
        return np.column_stack([X[:, 0], np.zeros(len(X))]), "one column (plotted against 0)"
    mean = X.mean(axis=0)
    cov = np.zeros((X.shape[1], X.shape[1]))
    for start in range(0, len(X), 65536):
        block = X[start:start + 65536] - mean
        cov += block.T @ block
    cov /= max(1, len(X) - 1)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1][:2]
    explained = vals[order].sum() / max(vals.sum(), 1e-300)
    P = (X - mean) @ vecs[:, order]
    return P, f"first two principal components ({explained:.0%} of the variance)"


def knn_sample(X, k, max_rows=QUADRATIC_SAMPLE, random_state=0):
    """k nearest neighbours of (a sample of) the rows, among that sample.

    Returns ``(sample_index, neighbours, distances)`` with ``neighbours`` and
    ``distances`` of shape ``(m, k)`` (the point itself excluded). Brute force
    in blocks: ``O(m²·d)`` time, ``O(512·m)`` memory for ``m <= max_rows``.
    """
    rng = np.random.default_rng(random_state)
    idx = np.sort(rng.choice(len(X), size=min(len(X), max_rows), replace=False))
    S = X[idx]
    sq = (S * S).sum(axis=1)
    kk = min(k, len(S) - 1)
    nbrs = np.empty((len(S), kk), dtype=np.int64)
    dist = np.empty((len(S), kk))
    for start in range(0, len(S), 512):
        stop = min(start + 512, len(S))
        d2 = sq[start:stop, None] - 2 * S[start:stop] @ S.T + sq[None, :]
        np.maximum(d2, 0, out=d2)
        d2[np.arange(stop - start), np.arange(start, stop)] = np.inf  # not its own neighbour
        part = np.argpartition(d2, kk - 1, axis=1)[:, :kk]
        pd = np.take_along_axis(d2, part, axis=1)
        order = np.argsort(pd, axis=1)
        nbrs[start:stop] = np.take_along_axis(part, order, axis=1)
        dist[start:stop] = np.sqrt(np.take_along_axis(pd, order, axis=1))
    return idx, nbrs, dist


def cross_edge_fraction(labels, nbrs):
    """Share of k-nearest-neighbour edges joining two different clusters (noise ignored).

    Low for a partition that cuts only through empty space, high for one
    that cuts through dense regions (K-Means on moons, for instance).
    """
    lab_i = np.repeat(labels, nbrs.shape[1])
    lab_j = labels[nbrs.ravel()]
    valid = (lab_i >= 0) & (lab_j >= 0)
    if not valid.any():
        return float("nan")
    return float(np.mean(lab_i[valid] != lab_j[valid]))


def _silhouette(X, labels, sample_size, seed):
    from clusterlab.metrics import silhouette_score

    mask = labels >= 0
    lab = labels[mask]
    n_labels = len(np.unique(lab))
    if n_labels < 2 or n_labels >= mask.sum():
        return float("nan")
    Xm = X[mask]
    if sample_size is not None and len(Xm) > sample_size:
        return float(silhouette_score(Xm, lab, sample_size=sample_size, random_state=seed))
    return float(silhouette_score(Xm, lab))


def run_analysis(dataset, k_range=(2, 10), algorithms=ALGORITHMS, contamination=0.02,
                 sample=None, seed=42, scale="auto", progress=None):
    """Run the seed's analysis on ``dataset`` (a :class:`~clusterlab.report.data.Dataset`).

    ``progress(stage, step, total)`` is called as the work advances.
    Returns an :class:`AnalysisResult`.
    """
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = _run(dataset, k_range, algorithms, contamination, sample, seed, scale, progress)
    seen = set()
    for w in caught:
        text = f"{w.category.__name__}: {w.message}"
        if text not in seen and not issubclass(w.category, DeprecationWarning):
            seen.add(text)
            res.notes.append(f"Warning during the analysis: {text}")
    return res


def _run(dataset, k_range, algorithms, contamination, sample, seed, scale, progress):
    from clusterlab.selection import knee_point, sweep

    def tick(stage, step=0, total=1):
        if progress is not None:
            progress(stage, step, total)

    algorithms = tuple(a for a in ALGORITHMS if a in set(algorithms))
    X_raw = dataset.X
    n, d = X_raw.shape
    lo, hi = k_range
    if n <= hi:
        raise ValueError(
            f"{dataset.name}: {n} rows but k goes up to {hi}; need more rows than clusters "
            f"(lower --k)."
        )
    std = X_raw.std(axis=0)
    spread = std[std > 0]
    if scale == "auto":
        ratio = spread.max() / spread.min() if len(spread) else 1.0
        scale = "standard" if ratio > AUTO_SCALE_RATIO else "none"
    if scale == "standard":
        std[std == 0] = 1.0
        X = (X_raw - X_raw.mean(axis=0)) / std
    else:
        X = np.array(X_raw, dtype=float)
    sample = QUADRATIC_SAMPLE if sample is None else int(sample)
    rng = np.random.default_rng(seed)
    sampled = n > sample
    sample_index = np.sort(rng.choice(n, size=sample, replace=False)) if sampled else np.arange(n)
    proj, note = project_2d(X)
    res = AnalysisResult(dataset=dataset, X_fit=X, projection=proj, projection_note=note,
                         scale=scale, sample_index=sample_index, sampled=sampled)
    if sampled:
        res.notes.append(
            f"{n} rows: silhouette scores, agglomerative and spectral clustering"
            f"{' and DBSCAN' if d > 3 else ''} used a random sample of {sample} rows "
            f"(--sample); K-Means and the Gaussian mixtures used every row."
        )
    sil_sample = sample if sampled else None
    ks = np.arange(max(1, lo), hi + 1)

    # 1. K-Means sweep -------------------------------------------------------
    chosen_k = None
    if "kmeans" in algorithms:
        from clusterlab.cluster.kmeans import KMeans

        t0 = time.perf_counter()
        tick("k-means sweep", 0, len(ks))
        res.kmeans_sweep = sweep(KMeans(n_init=10, random_state=seed), X, ks,
                                 criteria=("inertia", "silhouette", "calinski_harabasz",
                                           "davies_bouldin"),
                                 random_state=seed, sample_size=sil_sample)
        tick("k-means sweep", len(ks), len(ks))
        sil = np.asarray(res.kmeans_sweep.table["silhouette"], dtype=float)
        chosen_k = (int(res.kmeans_sweep.best("silhouette")) if np.isfinite(sil).any()
                    else int(ks[-1]))
        km = res.kmeans_sweep.models[list(res.kmeans_sweep.k_values).index(chosen_k)]
        res.models["kmeans"] = km
        res.labels["kmeans"] = np.asarray(km.labels_)
        res.timings["kmeans"] = time.perf_counter() - t0

    # 2. Gaussian mixtures ---------------------------------------------------
    gm_best = None
    if "gmm" in algorithms:
        from clusterlab.mixture.gaussian import GaussianMixture

        t0 = time.perf_counter()
        gks = np.arange(1, hi + 1)
        tick("gaussian mixtures", 0, len(gks) + 4)
        res.gmm_sweep = sweep(GaussianMixture(n_init=3, random_state=seed), X, gks,
                              criteria=("bic", "aic"), random_state=seed)
        gmm_k = int(res.gmm_sweep.best("bic"))
        for i, cov in enumerate(("full", "tied", "diag", "spherical")):
            tick("gaussian mixtures", len(gks) + i, len(gks) + 4)
            gm = GaussianMixture(n_components=gmm_k, covariance_type=cov, n_init=3,
                                 random_state=seed).fit(X)
            res.covariance_bic[cov] = (float(gm.bic(X)), gm)
        best_cov = min(res.covariance_bic, key=lambda c: res.covariance_bic[c][0])
        gm_best = res.covariance_bic[best_cov][1]
        res.models["gmm"] = gm_best
        res.labels["gmm"] = np.asarray(gm_best.predict(X))
        res.timings["gmm"] = time.perf_counter() - t0
        if chosen_k is None:
            chosen_k = max(2, gmm_k)
    if chosen_k is None:
        chosen_k = max(2, lo)

    # 3. DBSCAN --------------------------------------------------------------
    if "dbscan" in algorithms:
        from clusterlab.cluster.dbscan import DBSCAN

        t0 = time.perf_counter()
        tick("dbscan", 0, 2)
        min_samples = max(5, 2 * d)
        knn_idx, knn_nbrs, knn_dist = knn_sample(X, min_samples - 1, max_rows=sample,
                                                 random_state=seed)
        res.knn = (knn_idx, knn_nbrs)
        kd = np.sort(knn_dist[:, -1])
        knee = knee_point(np.arange(len(kd)), kd, curve="convex", direction="increasing")
        eps = float(kd[int(knee)]) if knee is not None else float(np.median(kd))
        eps = eps if eps > 0 else float(kd[kd > 0].min()) if (kd > 0).any() else 1e-3
        res.kdist, res.dbscan_eps, res.dbscan_min_samples = kd, eps, min_samples
        tick("dbscan", 1, 2)
        db = DBSCAN(eps=eps, min_samples=min_samples)
        if d > 3 and sampled:
            db.fit(X[sample_index])
            res.labels["dbscan"] = np.asarray(db.predict(X))
        else:
            db.fit(X)
            res.labels["dbscan"] = np.asarray(db.labels_)
        res.models["dbscan"] = db
        res.timings["dbscan"] = time.perf_counter() - t0

    # 4. Agglomerative and spectral on the (sampled) rows -----------------------
    for name in ("agglomerative", "spectral"):
        if name not in algorithms:
            continue
        t0 = time.perf_counter()
        tick(name, 0, 1)
        Xs = X[sample_index]
        if name == "agglomerative":
            from clusterlab.cluster.agglomerative import AgglomerativeClustering

            model = AgglomerativeClustering(n_clusters=chosen_k, linkage="ward",
                                            compute_distances=True).fit(Xs)
        else:
            from clusterlab.cluster.spectral import SpectralClustering

            model = SpectralClustering(n_clusters=chosen_k, affinity="nearest_neighbors",
                                       n_neighbors=min(10, len(Xs) - 1),
                                       random_state=seed).fit(Xs)
        labels = np.full(n, -2, dtype=np.int64)
        labels[sample_index] = model.labels_
        res.models[name] = model
        res.labels[name] = labels
        res.timings[name] = time.perf_counter() - t0
        tick(name, 1, 1)

    # 5. Anomalies -----------------------------------------------------------
    if gm_best is not None:
        from clusterlab.anomaly import DensityAnomalyDetector

        tick("anomalies", 0, 1)
        det = DensityAnomalyDetector(estimator=gm_best, contamination=contamination).fit(X)
        res.anomaly_detector = det
        res.anomaly_scores = np.asarray(det.score_samples(X))
        res.anomalies = np.asarray(det.predict(X)) == -1
        tick("anomalies", 1, 1)

    # Quality figures -----------------------------------------------------------
    tick("scoring", 0, 1)
    for name, labels in res.labels.items():
        mask = labels != -2
        lab = labels[mask]
        scores = {"n_clusters": int(len(np.unique(lab[lab >= 0]))),
                  "noise_fraction": float(np.mean(lab == -1)),
                  "silhouette": _silhouette(X[mask], lab, sil_sample, seed)}
        if dataset.y is not None:
            from sklearn.metrics import adjusted_rand_score

            scores["ari_vs_labels"] = float(adjusted_rand_score(np.asarray(dataset.y)[mask], lab))
        res.scores[name] = scores
    tick("scoring", 1, 1)
    _recommend(res, chosen_k)
    return res


def nearest_centroid_agreement(X, labels):
    """Share of clustered points whose nearest cluster mean is their own cluster's.

    1 for convex, blob-like clusters (what K-Means can represent); well below
    1 for interleaved or curved clusters such as the moons.
    """
    mask = labels >= 0
    ids = np.unique(labels[mask])
    if len(ids) < 2:
        return 1.0
    centres = np.array([X[labels == c].mean(axis=0) for c in ids])
    Xm, lab = X[mask], labels[mask]
    nearest = np.empty(len(Xm), dtype=np.int64)
    for start in range(0, len(Xm), 8192):
        block = Xm[start:start + 8192]
        d2 = ((block[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        nearest[start:start + 8192] = ids[d2.argmin(axis=1)]
    return float(np.mean(nearest == lab))


def _recommend(res, chosen_k):
    """Pick one clustering and say why (the seed's reasoning, as rules).

    1. Gaussian mixture, when BIC has a clear minimum inside the k range and
       prefers full or tied covariances to spherical ones by a wide margin
       (elongated clusters, as in the seed's section 2).
    2. DBSCAN, when its clusters are clean (few points of noise, borders that
       cut almost no nearest-neighbour links where K-Means at the same k cuts
       some, no tiny clusters) and not convex (assigning each point to the
       nearest cluster mean disagrees with DBSCAN for over 10% of them), as the
       seed's moons.
    3. Otherwise K-Means at the k of the best silhouette score.
    """
    from sklearn.metrics import adjusted_rand_score

    reasons = []
    sw = res.kmeans_sweep
    if sw is not None:
        sil = dict(zip(sw.k_values.tolist(), np.asarray(sw.table["silhouette"]).tolist()))
        reasons.append(
            f"K-Means: the silhouette score peaks at k={chosen_k} ({sil[chosen_k]:.3f})"
            + (f"; the inertia elbow (Kneedle) is at k={sw.elbow}" if sw.elbow else "") + "."
        )
    if res.covariance_bic:
        bics = {c: b for c, (b, _) in res.covariance_bic.items()}
        best = min(bics, key=bics.get)
        gm = res.models["gmm"]
        margin = bics["spherical"] - bics[best]
        k_max = int(np.max(res.gmm_sweep.table["k"]))
        if (best in ("full", "tied") and margin > 10 * np.log(res.X_fit.shape[0])
                and gm.n_components < k_max):
            res.recommendation = "gmm"
            reasons.append(
                f"Gaussian mixture: BIC is lowest at {gm.n_components} components with "
                f"covariance_type='{best}', beating spherical clusters by {margin:.0f}: the "
                "clusters are elongated or of different shapes, which K-Means cannot represent."
            )
    db = res.scores.get("dbscan")
    if (res.recommendation is None and db and sw is not None and res.knn is not None
            and 2 <= db["n_clusters"] <= 20 and db["noise_fraction"] < 0.1
            and db["n_clusters"] in sw.k_values.tolist()):
        knn_idx, nbrs = res.knn
        db_labels = res.labels["dbscan"]
        sizes = np.bincount(db_labels[db_labels >= 0])
        km_same_k = np.asarray(sw.models[sw.k_values.tolist().index(db["n_clusters"])].labels_)
        cut_db = cross_edge_fraction(db_labels[knn_idx], nbrs)
        cut_km = cross_edge_fraction(km_same_k[knn_idx], nbrs)
        agree = float(adjusted_rand_score(db_labels, km_same_k))
        convex = nearest_centroid_agreement(res.X_fit, db_labels)
        if (sizes.min() >= 0.02 * sizes.sum() and agree < 0.8 and cut_km > 0
                and cut_db < 0.25 * cut_km and convex < 0.9):
            res.recommendation = "dbscan"
            reasons.append(
                f"DBSCAN (eps={res.dbscan_eps:.3g} from the k-distance knee, "
                f"min_samples={res.dbscan_min_samples}) finds {db['n_clusters']} clusters with "
                f"{db['noise_fraction']:.1%} noise whose borders cut {cut_db:.1%} of the "
                f"nearest-neighbour links, where K-Means with the same k cuts {cut_km:.1%}; "
                f"the clusters are not convex (the nearest cluster mean is the wrong one for "
                f"{1 - convex:.0%} of the points), so a density-based clustering describes "
                "them better than K-Means."
            )
    if res.recommendation is None:
        res.recommendation = "kmeans" if "kmeans" in res.labels else next(iter(res.labels), None)
        if res.recommendation == "kmeans":
            reasons.append(
                f"The clusters look like compact blobs: K-Means with k={chosen_k} is recommended."
            )
    if res.anomalies is not None:
        reasons.append(
            f"{int(res.anomalies.sum())} rows lie in the lowest-density "
            f"{res.anomaly_detector.contamination:.0%} of the Gaussian mixture and are flagged "
            "as anomalies."
        )
    res.reasons = reasons
