"""HDBSCAN: clusterlab vs scikit-learn's HDBSCAN and fast_hdbscan.

Cases (issue 19, section 3):

* 20000 x 2 and 50000 x 10 Gaussian blobs (5 centres, std 1), default
  parameters (min_cluster_size=5) vs scikit-learn ``HDBSCAN`` (target >= 10x);
  ``extra["same_labels"]`` says whether the two label vectors are identical;
* 100000 x 2 blobs vs ``fast_hdbscan.HDBSCAN`` (numba, parallel; target >= 1x);
  ``extra["ari"]`` is the agreement of the two labelings (its tie rules and
  its counting of ``min_samples`` differ from scikit-learn's);
* predict of 10^5 new points (models fitted on 20000 x 2 blobs) vs the
  library's ``approximate_predict`` (target >= 5x);
* 10^6 x 2 blobs, clusterlab alone (target < 60 s);
* overlapping blobs in many features (std 4), where a KD-tree prunes badly:
  10000 x 50 vs scikit-learn, 30000 x 30 vs fast_hdbscan (whose exact path
  ends at 30 features);
* quick: 5000 x 2 blobs vs scikit-learn.

Every contender gets the same float64 array and is compiled/warmed up on
it first; they alternate within the process (median of the repeats).
"""

import numpy as np

from benchmarks._harness import compare, optional_import

FAMILY = "hdbscan"


def _n_clusters(labels):
    return float(np.asarray(labels).max() + 1)


def _blobs(n, d, std=1.0):
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n, n_features=d, centers=5, cluster_std=std, random_state=0)
    return X


def _vs_sklearn(case, X, repeats):
    import warnings

    from clusterlab import HDBSCAN

    sk = optional_import("sklearn.cluster")
    out = {}

    def ours():
        out["ours"] = HDBSCAN(copy=True).fit(X).labels_
        return out["ours"]

    def peer():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            out["peer"] = sk.HDBSCAN(copy=True).fit(X).labels_
        return out["peer"]

    ours()  # compile
    rows = compare(FAMILY, case, f"{X.shape[0]}x{X.shape[1]}", "min_cluster_size=5", ours,
                   {"scikit-learn": peer if sk else None}, repeats=repeats, warmup=False,
                   quality=_n_clusters, quality_name="n_clusters")
    for r in rows:
        r.extra["same_labels"] = bool(np.array_equal(out["ours"], out["peer"]))
    return rows


def _vs_fast_hdbscan(case, X, repeats):
    from sklearn.metrics import adjusted_rand_score

    from clusterlab import HDBSCAN

    fh = optional_import("fast_hdbscan")
    out = {}

    def ours():
        out["ours"] = HDBSCAN(copy=True).fit(X).labels_
        return out["ours"]

    def peer():
        out["peer"] = fh.HDBSCAN(min_cluster_size=5).fit(X).labels_
        return out["peer"]

    rows = compare(FAMILY, case, f"{X.shape[0]}x{X.shape[1]}", "min_cluster_size=5", ours,
                   {"fast_hdbscan": peer if fh else None}, repeats=repeats, warmup=True,
                   quality=_n_clusters, quality_name="n_clusters")
    for r in rows:
        r.extra["ari"] = float(adjusted_rand_score(out["ours"], out["peer"]))
    return rows


def _predict_vs_library(case, X, Q, repeats):
    """predict of new points vs the hdbscan library's approximate_predict, both
    fitted on X beforehand (only the prediction is timed)."""
    from clusterlab import HDBSCAN

    lib = optional_import("hdbscan")
    ours_model = HDBSCAN(copy=True).fit(X)
    ours_model.predict(Q[:10])
    peer = None
    if lib is not None:
        from hdbscan import prediction

        lib_model = lib.HDBSCAN(min_cluster_size=5, min_samples=4, prediction_data=True).fit(X)

        def peer():
            return prediction.approximate_predict(lib_model, Q)[0]

    out = {}

    def ours():
        out["ours"] = ours_model.predict(Q)
        return out["ours"]

    rows = compare(FAMILY, case, f"{Q.shape[0]} new, fit {X.shape[0]}x{X.shape[1]}",
                   "predict, min_cluster_size=5", ours,
                   {"hdbscan approximate_predict": peer}, repeats=repeats, warmup=True,
                   quality=lambda labels: float(np.mean(np.asarray(labels) >= 0)),
                   quality_name="share labelled")
    return rows


def _million(repeats=1):
    """10^6 x 2 blobs: clusterlab alone (no peer finishes in reasonable time)."""
    import time

    from benchmarks._harness import Row
    from clusterlab import HDBSCAN

    X = _blobs(1_000_000, 2)
    HDBSCAN(copy=True).fit(X[:5000])
    t0 = time.perf_counter()
    labels = HDBSCAN(copy=True).fit(X).labels_
    seconds = time.perf_counter() - t0
    return [Row(FAMILY, "blobs", "1000000x2", "min_cluster_size=5", seconds,
                "(none: target < 60 s)", float("nan"), float("nan"), "n_clusters",
                _n_clusters(labels), float("nan"), {})]


def run(quick=False):
    if quick:
        return _vs_sklearn("blobs", _blobs(5000, 2), repeats=3)
    rows = []
    rows += _vs_sklearn("blobs", _blobs(20000, 2), repeats=3)
    rows += _vs_sklearn("blobs", _blobs(50000, 10), repeats=1)
    rows += _vs_fast_hdbscan("blobs", _blobs(100000, 2), repeats=3)
    rows += _vs_sklearn("overlapping blobs", _blobs(10000, 50, std=4.0), repeats=1)
    rows += _vs_fast_hdbscan("overlapping blobs", _blobs(30000, 30, std=4.0), repeats=1)
    Q = np.random.default_rng(0).uniform(-12, 12, (100000, 2))
    rows += _predict_vs_library("blobs", _blobs(20000, 2), Q, repeats=3)
    rows += _million()
    return rows
