"""AffinityPropagation: clusterlab vs scikit-learn, time and peak memory.

Case (issue 20): 3000 x 5 Gaussian blobs (10 centres), default parameters,
``random_state=0`` (target >= 5x; scikit-learn about 12.7 s on a quiet 2-core
machine); ``--quick``: 1000 x 5. The quality figure is the number of
exemplars; ``extra["same_labels"]`` compares the labels and the peaks give
the memory each adds above its input (clusterlab: three n x n matrices,
scikit-learn: four plus the noise matrix).

The message passing is memory bound, so the run also prints its floor:
each iteration must read S and read and write A and R (five streams of n^2
values, 360 MB at n = 3000 in float64); a kernel that only streams those
bytes (same row parts and threads, no arithmetic) measures the bandwidth in
the same process, and ``n_iter`` times its time is the fastest the
iterations could be (``extra["floor"]``).
"""

import sys
import time

import numpy as np
from numba import njit, prange

from benchmarks._harness import compare, optional_import, peak_rss_mb

FAMILY = "affinity"


@njit(parallel=True, nogil=True)
def _five_streams(S, A, R, n_parts):
    """Stream the bytes of one message-passing iteration: read S, A, R; write A, R."""
    n = S.shape[0]
    for p in prange(n_parts):
        for i in range(p * n // n_parts, (p + 1) * n // n_parts):
            a = A[i]
            r = R[i]
            s = S[i]
            for k in range(n):
                a[k] = a[k] * 0.5 + s[k]
                r[k] = r[k] * 0.5 + s[k]


def _floor(n, n_iter, repeats=7):
    """Bytes per iteration, streaming bandwidth and the iterations' floor in seconds."""
    from clusterlab import _config

    S = np.full((n, n), -1.0)
    A = np.zeros((n, n))
    R = np.zeros((n, n))
    parts = _config.AFFINITY_PROPAGATION_ROW_PARTS
    _five_streams(S, A, R, parts)
    best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        _five_streams(S, A, R, parts)
        best = min(best, time.perf_counter() - t0)
    nbytes = 5 * S.nbytes
    return {"bytes_per_iter": nbytes, "bandwidth_gb_s": round(nbytes / best / 1e9, 1),
            "floor_iter_ms": round(best * 1e3, 2), "floor_fit_s": round(best * n_iter, 3)}


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
    floor = _floor(n, int(out["ours"].n_iter_))
    print(f"[affinity] floor at {n}x5: {floor['bytes_per_iter'] / 1e6:.0f} MB per iteration "
          f"(read S, read+write A and R) at {floor['bandwidth_gb_s']} GB/s streamed = "
          f"{floor['floor_iter_ms']} ms/iteration, x {out['ours'].n_iter_} iterations = "
          f"{floor['floor_fit_s']} s (clusterlab's whole fit: {rows[0].ours_s:.2f} s)"
          if rows else "", file=sys.stderr)
    for r in rows:
        r.extra["floor"] = floor
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
    return _case(1000, 3, memory=False) if quick else _case(3000, 3, memory=True)
