"""DBSCAN: clusterlab vs scikit-learn, time and peak memory.

Cases (issue 5, section 6):

* moons (noise 0.05), eps=0.05, min_samples=5 at 10**5 points (target >= 10x)
  and 10**6 points (clusterlab only, target < 1 GB extra memory;
  scikit-learn is skipped there: it stores every eps-neighbourhood, about
  600 neighbours per point at this density, i.e. several GB);
* 10**5 x 10 Gaussian blobs (5 centres, std 1), eps=2 and eps=3,
  min_samples=5 (target >= 3x);
* ``predict``: 10**5 new moons (another random_state) labelled by a model
  fitted on 10**6 moons, eps=0.05 (issue 22: no more per point than the fit,
  <= 0.2 s); the peer is scikit-learn's 1-nearest-neighbour search on the
  core samples with the cut at eps (the seed notebook's recipe).
  ``extra["fit_s"]`` is our fit of the model, ``extra["per_point_ratio"]`` the
  fit's seconds per training point over predict's seconds per query (>= 1:
  predicting costs no more per point than fitting).

Both contenders get the same float64 array. The quality figure is the number
of clusters found; ``extra["same_labels"]`` says whether the two label
vectors are identical, ``extra["ours_peak_mb"]`` / ``extra["peer_peak_mb"]``
give the peak memory each added above its input, in a fresh interpreter
(:func:`benchmarks._harness.peak_rss_mb`).
"""

import numpy as np


from benchmarks._harness import Row, compare, optional_import, peak_rss_mb

FAMILY = "dbscan"


def _n_clusters(labels):
    return float(np.asarray(labels).max() + 1)


def _moons_setup(n):
    return ("from sklearn.datasets import make_moons\n"
            f"X, _ = make_moons({n}, noise=0.05, random_state=0)\n")


def _blobs_setup(n):
    return ("from sklearn.datasets import make_blobs\n"
            f"X, _ = make_blobs({n}, n_features=10, centers=5, cluster_std=1.0, "
            "random_state=0)\n")


def _peaks(setup, eps, with_peer):
    ours = peak_rss_mb(
        f"DBSCAN(eps={eps}, min_samples=5).fit(X)",
        setup + "from clusterlab import DBSCAN\n"
                f"DBSCAN(eps={eps}, min_samples=5).fit(X[:2000])\n")
    peer = float("nan")
    if with_peer:
        peer = peak_rss_mb(
            f"DBSCAN(eps={eps}, min_samples=5).fit(X)",
            setup + "from sklearn.cluster import DBSCAN\n"
                    f"DBSCAN(eps={eps}, min_samples=5).fit(X[:2000])\n")
    return ours, peer


def _case(case, X, setup, eps, quick, repeats, measure_memory=True):
    from clusterlab import DBSCAN

    sk = optional_import("sklearn.cluster")
    DBSCAN(eps=eps, min_samples=5).fit(X[:2000])  # load the compiled kernels
    out = {}

    def ours():
        out["ours"] = DBSCAN(eps=eps, min_samples=5).fit(X).labels_
        return out["ours"]

    def peer():
        out["peer"] = sk.DBSCAN(eps=eps, min_samples=5).fit(X).labels_
        return out["peer"]

    rows = compare(FAMILY, case, f"{X.shape[0]}x{X.shape[1]}", f"eps={eps}, min_samples=5",
                   ours, {"scikit-learn": peer if sk else None}, repeats=repeats,
                   warmup=False, quality=_n_clusters, quality_name="n_clusters")
    for r in rows:
        r.extra["same_labels"] = bool(np.array_equal(out["ours"], out["peer"]))
        if measure_memory:
            r.extra["ours_peak_mb"], r.extra["peer_peak_mb"] = _peaks(setup, eps, True)
    return rows


def _ours_only(case, X, setup, eps):
    """A size scikit-learn cannot hold in memory: time and memory of ours only."""
    import time

    from clusterlab import DBSCAN

    DBSCAN(eps=eps, min_samples=5).fit(X[:2000])
    t0 = time.perf_counter()
    labels = DBSCAN(eps=eps, min_samples=5).fit(X).labels_
    seconds = time.perf_counter() - t0
    ours_mb, _ = _peaks(setup, eps, False)
    return [Row(FAMILY, case, f"{X.shape[0]}x{X.shape[1]}", f"eps={eps}, min_samples=5",
                seconds, "scikit-learn (skipped: stores all neighbourhoods)", float("nan"),
                float("nan"), "n_clusters", _n_clusters(labels), float("nan"),
                {"ours_peak_mb": ours_mb, "peer_peak_mb": float("nan")})]


def _predict_case(n_fit, n_query, eps, repeats):
    import time

    from sklearn.datasets import make_moons

    from clusterlab import DBSCAN

    nn_mod = optional_import("sklearn.neighbors")
    X, _ = make_moons(n_fit, noise=0.05, random_state=0)
    Q, _ = make_moons(n_query, noise=0.05, random_state=1)
    DBSCAN(eps=eps, min_samples=5).fit(X[:2000]).predict(Q[:100])  # compiled kernels
    t0 = time.perf_counter()
    model = DBSCAN(eps=eps, min_samples=5).fit(X)
    fit_s = time.perf_counter() - t0
    core_labels = model.labels_[model.core_sample_indices_]
    out = {}

    def ours():
        out["ours"] = model.predict(Q)
        return out["ours"]

    def peer():
        nn = nn_mod.NearestNeighbors(n_neighbors=1).fit(model.components_)
        dist, ind = nn.kneighbors(Q)
        out["peer"] = np.where(dist[:, 0] <= eps, core_labels[ind[:, 0]], -1)
        return out["peer"]

    rows = compare(FAMILY, "moons predict", f"{n_query} vs fit {n_fit}x2",
                   f"eps={eps}, min_samples=5", ours,
                   {"scikit-learn 1-NN on core samples": peer if nn_mod else None},
                   repeats=repeats, warmup=False, quality=_n_clusters, quality_name="n_clusters")
    for r in rows:
        r.extra["same_labels"] = bool(np.array_equal(out["ours"], out["peer"]))
        r.extra["fit_s"] = fit_s
        r.extra["per_point_ratio"] = (fit_s / n_fit) / (r.ours_s / n_query)
    return rows


def run(quick=False):
    from sklearn.datasets import make_blobs, make_moons

    rows = []
    n_moons = 20_000 if quick else 100_000
    X, _ = make_moons(n_moons, noise=0.05, random_state=0)
    rows += _case("moons", X, _moons_setup(n_moons), 0.05, quick, repeats=3,
                  measure_memory=not quick)
    n_blobs = 10_000 if quick else 100_000
    X, _ = make_blobs(n_blobs, n_features=10, centers=5, cluster_std=1.0, random_state=0)
    for eps in ((2.0,) if quick else (2.0, 3.0)):
        rows += _case("blobs", X, _blobs_setup(n_blobs), eps, quick, repeats=1 if not quick else 3,
                      measure_memory=not quick and eps == 2.0)
    # many features (the BLAS products path): 20 overlapping blobs in 50 / 100-d
    for n, d, eps in (((3000, 50, 7.0),) if quick else ((10_000, 50, 7.0), (5000, 100, 11.0))):
        X, _ = make_blobs(n, n_features=d, centers=20, cluster_std=1.0, center_box=(-5, 5),
                          random_state=2)
        rows += _case("blobs, many features", X, None, eps, quick, repeats=3,
                      measure_memory=False)
    if not quick:
        X, _ = make_moons(1_000_000, noise=0.05, random_state=0)
        rows += _ours_only("moons", X, _moons_setup(1_000_000), 0.05)
    if quick:
        rows += _predict_case(100_000, 20_000, 0.05, repeats=3)
    else:
        rows += _predict_case(1_000_000, 100_000, 0.05, repeats=3)
    return rows
