"""MeanShift: clusterlab vs scikit-learn.

Cases (issue 20): ``MeanShift()`` with the default (estimated) bandwidth on
Gaussian blobs, 10 000 x 2 (target >= 10x; scikit-learn about 37 s on a quiet
2-core machine) and, in ``--quick``, 2 000 x 2. Both get the same float64
array; the quality figure is the number of modes, ``extra["same_labels"]``
and ``extra["max_center_diff"]`` compare the results.
"""

import numpy as np

from benchmarks._harness import compare, optional_import

FAMILY = "meanshift"


def _case(n, repeats):
    from sklearn.datasets import make_blobs

    from clusterlab import MeanShift

    sk = optional_import("sklearn.cluster")
    X, _ = make_blobs(n, n_features=2, centers=5, random_state=0)
    MeanShift().fit(X[:300])  # load the compiled kernels
    out = {}

    def ours():
        out["ours"] = MeanShift().fit(X)
        return out["ours"]

    def peer():
        out["peer"] = sk.MeanShift().fit(X)
        return out["peer"]

    rows = compare(FAMILY, "blobs", f"{n}x2", "default bandwidth", ours,
                   {"scikit-learn": peer if sk else None}, repeats=repeats, warmup=False,
                   quality=lambda m: float(len(m.cluster_centers_)), quality_name="n_modes")
    for r in rows:
        a, b = out["ours"], out["peer"]
        r.extra["same_labels"] = bool(np.array_equal(a.labels_, b.labels_))
        same_shape = a.cluster_centers_.shape == b.cluster_centers_.shape
        r.extra["max_center_diff"] = (float(np.abs(a.cluster_centers_ - b.cluster_centers_).max())
                                      if same_shape else float("nan"))
    return rows


def run(quick=False):
    return _case(2000, repeats=3) if quick else _case(10_000, repeats=1)
