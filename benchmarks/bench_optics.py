"""OPTICS: clusterlab vs scikit-learn.

Cases (issue 19, section 3): 10 000 x 2 Gaussian blobs (5 centres, std 1),
default parameters (min_samples=5, max_eps=inf, xi=0.05) -- target >= 10x;
scikit-learn's loop is O(n^2) with a radius query and an argmin in Python per
point. ``--quick``: 3 000 x 2. A bounded ``max_eps`` case (10 000 x 2,
max_eps=1.0) as well in the full run, and the DBCV index
(``clusterlab.metrics.dbcv_score``) of the true blob labels with 5 % noise
labels against the hdbscan library's ``validity_index`` (3 000 x 2; quality:
the score itself, equal to ~1e-12).

Both contenders get the same float64 array. The quality figure is the number
of clusters; ``extra["same_ordering"]`` / ``extra["same_labels"]`` say whether
the orderings and label vectors are identical.
"""

import numpy as np

from benchmarks._harness import compare, optional_import

FAMILY = "optics"


def _n_clusters(labels):
    return float(np.asarray(labels).max() + 1)


def _case(case, X, params, repeats):
    from clusterlab import OPTICS

    sk = optional_import("sklearn.cluster")
    OPTICS(**params).fit(X[:500])  # load the compiled kernels
    out = {}

    def ours():
        out["ours"] = OPTICS(**params).fit(X)
        return out["ours"].labels_

    def peer():
        out["peer"] = sk.OPTICS(**params).fit(X)
        return out["peer"].labels_

    label = ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
    rows = compare(FAMILY, case, f"{X.shape[0]}x{X.shape[1]}", label, ours,
                   {"scikit-learn": peer if sk else None}, repeats=repeats, warmup=False,
                   quality=_n_clusters, quality_name="n_clusters")
    for r in rows:
        r.extra["same_ordering"] = bool(np.array_equal(out["ours"].ordering_,
                                                       out["peer"].ordering_))
        r.extra["same_labels"] = bool(np.array_equal(out["ours"].labels_, out["peer"].labels_))
    return rows


def _dbcv_case(n):
    from sklearn.datasets import make_blobs

    from clusterlab.metrics import dbcv_score

    validity = optional_import("hdbscan.validity")
    X, y = make_blobs(n, n_features=2, centers=5, cluster_std=1.0, random_state=0)
    y[::20] = -1
    dbcv_score(X[:200], y[:200])  # load the compiled kernels
    return compare(FAMILY, "dbcv_score", f"{n}x2", "5 blobs, 5% noise",
                   lambda: dbcv_score(X, y),
                   {"hdbscan validity_index":
                    (lambda: validity.validity_index(X, y)) if validity else None},
                   repeats=3, warmup=False, quality=float, quality_name="DBCV")


def run(quick=False):
    from sklearn.datasets import make_blobs

    n = 3_000 if quick else 10_000
    X, _ = make_blobs(n, n_features=2, centers=5, cluster_std=1.0, random_state=0)
    rows = _case("blobs", X, {}, repeats=3 if quick else 2)
    if not quick:
        rows += _case("blobs", X, {"max_eps": 1.0}, repeats=2)
    rows += _dbcv_case(3_000)
    return rows
