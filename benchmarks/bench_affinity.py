"""AffinityPropagation: clusterlab vs scikit-learn, time and peak memory.

Case (issue 20): 3000 x 5 Gaussian blobs (10 centres), default parameters,
``random_state=0`` (target >= 5x; scikit-learn about 12.7 s on a quiet 2-core
machine); ``--quick``: 1000 x 5. The quality figure is the number of
exemplars; ``extra["same_labels"]`` compares the labels and the peaks give
the memory each adds above its input (clusterlab: three n x n matrices,
scikit-learn: four plus the noise matrix).
"""

import numpy as np

from benchmarks._harness import compare, optional_import, peak_rss_mb

FAMILY = "affinity"


def _case(n, repeats, memory):
    from sklearn.datasets import make_blobs

    from clusterlab import AffinityPropagation

    sk = optional_import("sklearn.cluster")
    X, _ = make_blobs(n, n_features=5, centers=10, random_state=0)
    AffinityPropagation(random_state=0).fit(X[:100])
    out = {}

    def ours():
        out["ours"] = AffinityPropagation(random_state=0).fit(X)
        return out["ours"]

    def peer():
        out["peer"] = sk.AffinityPropagation(random_state=0).fit(X)
        return out["peer"]

    rows = compare(FAMILY, "blobs", f"{n}x5", "defaults, random_state=0", ours,
                   {"scikit-learn": peer if sk else None}, repeats=repeats, warmup=False,
                   quality=lambda m: float(len(m.cluster_centers_indices_)),
                   quality_name="n_exemplars")
    setup = ("from sklearn.datasets import make_blobs\n"
             f"X, _ = make_blobs({n}, n_features=5, centers=10, random_state=0)\n")
    for r in rows:
        r.extra["same_labels"] = bool(np.array_equal(out["ours"].labels_, out["peer"].labels_))
        r.extra["n_iter"] = [int(out["ours"].n_iter_), int(out["peer"].n_iter_)]
        if memory:
            code = "AffinityPropagation(random_state=0).fit(X)"
            r.extra["ours_peak_mb"] = peak_rss_mb(
                code, setup + "from clusterlab import AffinityPropagation\n"
                              "AffinityPropagation(random_state=0).fit(X[:50])\n")
            r.extra["peer_peak_mb"] = peak_rss_mb(
                code, setup + "from sklearn.cluster import AffinityPropagation\n")
    return rows


def run(quick=False):
    return _case(1000, 3, memory=False) if quick else _case(3000, 1, memory=True)
