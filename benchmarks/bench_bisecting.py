"""BisectingKMeans: clusterlab vs scikit-learn.

Cases (issue 20): 10**6 x 16 float32 overlapping blobs, k=64, default
parameters (init='random', algorithm='lloyd', biggest_inertia), same
random_state (target >= 2x with inertia no worse than 2 %); 2*10**5 x 16
float64, k=32, where both follow the same tree (``extra["same_labels"]``).
The quality figure is the inertia.
"""

import numpy as np

from benchmarks._harness import compare, optional_import

FAMILY = "bisecting"


def _overlapping(n, d, k, dtype):
    from sklearn.datasets import make_blobs

    X, _ = make_blobs(n_samples=n, n_features=d, centers=k, cluster_std=3.0,
                      center_box=(-10, 10), random_state=0)
    return np.ascontiguousarray(X, dtype=dtype)


def _case(case, X, k, repeats, **params):
    from clusterlab import BisectingKMeans

    sk = optional_import("sklearn.cluster")
    BisectingKMeans(n_clusters=3, random_state=0, **params).fit(X[:3000])  # compile
    out = {}

    def ours():
        out["ours"] = BisectingKMeans(n_clusters=k, random_state=0, **params).fit(X)
        return out["ours"]

    def peer():
        out["peer"] = sk.BisectingKMeans(n_clusters=k, random_state=0, **params).fit(X)
        return out["peer"]

    text = ", ".join(f"{a}={b}" for a, b in params.items())
    rows = compare(FAMILY, case, f"{X.shape[0]}x{X.shape[1]} {X.dtype}", f"k={k} {text}".strip(),
                   ours, {"scikit-learn": peer if sk else None}, repeats=repeats,
                   warmup=False, quality=lambda est: est.inertia_, quality_name="inertia")
    for r in rows:
        r.extra["same_labels"] = bool(np.array_equal(out["ours"].labels_, out["peer"].labels_))
        r.extra["inertia_ratio"] = out["ours"].inertia_ / out["peer"].inertia_
    return rows


def run(quick):
    rows = []
    if quick:
        rows += _case("overlapping blobs", _overlapping(50000, 16, 16, np.float32), 16, 3)
        rows += _case("overlapping blobs", _overlapping(20000, 16, 16, np.float64), 16, 3,
                      bisecting_strategy="largest_cluster")
        return rows
    rows += _case("overlapping blobs", _overlapping(10**6, 16, 64, np.float32), 64, 2)
    rows += _case("overlapping blobs", _overlapping(2 * 10**5, 16, 32, np.float64), 32, 2)
    rows += _case("overlapping blobs", _overlapping(2 * 10**5, 16, 32, np.float64), 32, 2,
                  init="k-means++", bisecting_strategy="largest_cluster")
    return rows
