"""Birch: clusterlab vs scikit-learn, time and peak memory.

Cases (issue 20):

* 100 000 x 10 Gaussian blobs (10 centres), ``threshold=3, n_clusters=10``
  (target >= 3x); ``--quick``: 20 000 x 10;
* the same data with the default threshold (0.5) and ``n_clusters=10``:
  clusterlab only (target: completes in < 2 GB; scikit-learn's global Ward
  step asks for about 36 GiB there, so it is skipped).

The quality figure is the number of subclusters; ``extra["same_labels"]``
compares the labels.
"""

import time
import warnings

import numpy as np

from benchmarks._harness import Row, compare, optional_import, peak_rss_mb

FAMILY = "birch"


def _setup(n):
    return ("from sklearn.datasets import make_blobs\n"
            f"X, _ = make_blobs({n}, n_features=10, centers=10, random_state=0)\n")


def _case(X, repeats):
    from clusterlab import Birch

    sk = optional_import("sklearn.cluster")
    Birch(threshold=3, n_clusters=10).fit(X[:2000])
    out = {}

    def ours():
        out["ours"] = Birch(threshold=3, n_clusters=10).fit(X)
        return out["ours"]

    def peer():
        out["peer"] = sk.Birch(threshold=3, n_clusters=10).fit(X)
        return out["peer"]

    rows = compare(FAMILY, "blobs", f"{X.shape[0]}x10", "threshold=3, n_clusters=10", ours,
                   {"scikit-learn": peer if sk else None}, repeats=repeats, warmup=False,
                   quality=lambda m: float(len(m.subcluster_centers_)),
                   quality_name="n_subclusters")
    for r in rows:
        r.extra["same_labels"] = bool(np.array_equal(out["ours"].labels_, out["peer"].labels_))
    return rows


def _defaults(n):
    from sklearn.datasets import make_blobs

    from clusterlab import Birch

    X, _ = make_blobs(n, n_features=10, centers=10, random_state=0)
    Birch(n_clusters=10).fit(X[:3000])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # the approximate global step
        t0 = time.perf_counter()
        est = Birch(n_clusters=10).fit(X)
        seconds = time.perf_counter() - t0
    peak = peak_rss_mb(
        "import warnings\nwarnings.simplefilter('ignore')\nBirch(n_clusters=10).fit(X)",
        _setup(n) + "from clusterlab import Birch\n")
    return [Row(FAMILY, "blobs, default threshold", f"{n}x10", "threshold=0.5, n_clusters=10",
                seconds, "scikit-learn (skipped: its Ward step needs ~36 GiB)", float("nan"),
                float("nan"), "n_subclusters", float(len(est.subcluster_centers_)),
                float("nan"), {"ours_peak_mb": peak})]


def run(quick=False):
    from sklearn.datasets import make_blobs

    n = 20_000 if quick else 100_000
    X, _ = make_blobs(n, n_features=10, centers=10, random_state=0)
    rows = _case(X, repeats=3 if quick else 1)
    if not quick:
        rows += _defaults(100_000)
    return rows
