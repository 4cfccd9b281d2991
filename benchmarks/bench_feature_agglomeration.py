"""FeatureAgglomeration: clusterlab vs scikit-learn.

Cases (issue 20): a 500 x 20000 table (features driven by 60 latent factors
plus noise), n_clusters=50, Ward (target >= 3x); 500 x 5000. Both build the
same tree (``extra["same_labels"]``); the quality figure is the number of
feature clusters. scikit-learn (scipy's linkage) and clusterlab both hold
the condensed 20000 x 20000 distance matrix (1.6 GB).
"""

import numpy as np

from benchmarks._harness import compare, optional_import

FAMILY = "feature_agglomeration"


def _table(n_samples, n_features):
    rng = np.random.RandomState(0)
    F = rng.normal(size=(n_samples, 60))
    W = rng.normal(size=(60, n_features)) * (rng.rand(60, n_features) < 0.05)
    return F @ W + rng.normal(size=(n_samples, n_features))


def _case(case, X, n_clusters, repeats, **params):
    from clusterlab import FeatureAgglomeration

    sk = optional_import("sklearn.cluster")
    FeatureAgglomeration(n_clusters=3, **params).fit(X[:, :300])  # compile
    out = {}

    def ours():
        out["ours"] = FeatureAgglomeration(n_clusters=n_clusters, **params).fit(X)
        return out["ours"]

    def peer():
        out["peer"] = sk.FeatureAgglomeration(n_clusters=n_clusters, **params).fit(X)
        return out["peer"]

    rows = compare(FAMILY, case, f"{X.shape[0]}x{X.shape[1]}", f"n_clusters={n_clusters}",
                   ours, {"scikit-learn": peer if sk else None}, repeats=repeats,
                   warmup=False, quality=lambda est: est.n_clusters_,
                   quality_name="n_clusters")
    for r in rows:
        r.extra["same_labels"] = bool(np.array_equal(out["ours"].labels_, out["peer"].labels_))
    return rows


def run(quick):
    if quick:
        return _case("factor table", _table(200, 2000), 50, 3)
    rows = _case("factor table", _table(500, 5000), 50, 2)
    rows += _case("factor table", _table(500, 20000), 50, 1)
    return rows
