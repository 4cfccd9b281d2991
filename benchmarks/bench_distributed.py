"""Distributed K-Means on a memmap-backed dask array with bounded worker memory.

Case: ``n x 16`` float32 (10^7 rows = 640 MB; 10^6 in ``--quick``), eight
overlapping Gaussian clusters, written once to a raw memmap file and read block
by block by the workers (:func:`clusterlab.distributed.from_memmap`). A
``LocalCluster`` of 2 worker processes x 1 thread with a per-worker memory limit
below the data size (full mode) runs both contenders:

- clusterlab: ``KMeans(init=<same 8 rows>, n_init=1, max_iter=N, tol=0)`` on the
  dask array (:func:`clusterlab.distributed.fit_kmeans`);
- dask-ml (if importable): ``dask_ml.cluster.KMeans`` with the same initial
  centres, ``max_iter=N``, ``tol=0``.

Reported: median fit seconds (the ratio is peer / clusterlab), seconds per
Lloyd iteration, the final inertia of both (recomputed the same way for both), and
the peak resident memory of the workers (sampled every 0.1 s during the timed
fits; it includes each worker's baseline of about 300 MiB for Python, numba,
scikit-learn and dask). Our fit makes ``N + 2`` passes over the data
(input check + N Lloyd passes + final inertia); time per iteration is fit time
divided by that. The machine is shared and noisy: read ratios, not seconds.
"""

import os
import sys
import tempfile
import threading
import time

import numpy as np

from benchmarks._harness import compare, optional_import

N_FEATURES = 16
N_CLUSTERS = 8


def _rss():
    import psutil

    return psutil.Process().memory_info().rss


class _PeakWorkerMemory:
    """Peak RSS (MiB) of the workers while the block runs (polled every ``interval`` s)."""

    def __init__(self, client, interval=0.1):
        self.client, self.interval = client, interval
        self.peak = 0.0
        self._stop = threading.Event()

    def _poll(self):
        while not self._stop.is_set():
            try:
                rss = self.client.run(_rss)
                self.peak = max(self.peak, max(rss.values()) / 2**20)
            except Exception:  # noqa: BLE001 - a worker restarting; keep polling
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _write_data(path, n, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.uniform(-4, 4, size=(N_CLUSTERS, N_FEATURES))
    out = np.memmap(path, dtype=np.float32, mode="w+", shape=(n, N_FEATURES))
    step = 1_000_000
    for start in range(0, n, step):
        stop = min(n, start + step)
        labels = rng.integers(N_CLUSTERS, size=stop - start)
        out[start:stop] = centers[labels] + rng.normal(0, 2.5, size=(stop - start, N_FEATURES))
    out.flush()
    del out


def run(quick=False):
    from distributed import Client, LocalCluster

    from clusterlab.cluster.kmeans import KMeans
    from clusterlab.distributed import fit_kmeans, from_memmap

    n = 1_000_000 if quick else 10_000_000
    max_iter = 3 if quick else 10
    rows_per_block = 125_000 if quick else 250_000
    data_mb = n * N_FEATURES * 4 / 2**20
    memory_limit = "1GiB" if quick else "600MiB"
    tmp = tempfile.mkdtemp(prefix="clusterlab-bench-")
    path = os.path.join(tmp, "X.f32")
    _write_data(path, n)
    X = from_memmap(path, np.float32, (n, N_FEATURES), chunks=rows_per_block)
    mm = np.memmap(path, dtype=np.float32, mode="r", shape=(n, N_FEATURES))
    init = np.array(mm[np.linspace(0, n - 1, N_CLUSTERS).astype(int)], dtype=np.float64)
    del mm

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=":0", memory_limit=memory_limit, silence_logs=40)
    client = Client(cluster)
    try:
        def ours():
            return fit_kmeans(KMeans(N_CLUSTERS, init=init, n_init=1, max_iter=max_iter,
                                     tol=0.0), X)

        dask_ml_cluster = optional_import("dask_ml.cluster")
        peer = None
        if dask_ml_cluster is not None:
            def peer():
                return dask_ml_cluster.KMeans(n_clusters=N_CLUSTERS, init=init.astype(np.float32),
                                              max_iter=max_iter, tol=0.0).fit(X)

        def quality(model):
            # the same inertia computation for both: our distributed pass with their centres
            from clusterlab.distributed.kmeans import _inertia_block
            from clusterlab.distributed._utils import map_blocks_compute, ordered_sum, row_blocks

            centers = np.asarray(model.cluster_centers_, dtype=np.float64)
            xb, wb, _ = row_blocks(X)
            parts = map_blocks_compute(_inertia_block, xb, wb, centers)  # (inertia, counts)
            return float(ordered_sum([p[0] for p in parts]))

        peaks = {}

        def probed(name, fn):
            """``fn`` timed by the harness while the workers' peak RSS is sampled."""
            if fn is None:
                return None

            def call():
                with _PeakWorkerMemory(client) as probe:
                    out = fn()
                peaks[name] = max(peaks.get(name, 0.0), probe.peak)
                return out

            return call

        for fn in (ours, peer):  # warm-up: numba's cache in the workers, imports
            if fn is not None:
                fn()
        rows = compare(
            "distributed", "kmeans-memmap", f"{n}x{N_FEATURES} f32",
            f"k={N_CLUSTERS},iter={max_iter},blocks={rows_per_block},workers=2x1,"
            f"limit={memory_limit}",
            probed("clusterlab", ours), {"dask-ml": probed("dask-ml", peer)},
            repeats=1 if quick else 3, warmup=False, quality=quality, quality_name="inertia",
            extra={"data_mb": round(data_mb, 1), "worker_memory_limit": memory_limit,
                   "peak_worker_rss_mb": peaks, "passes_per_fit_ours": max_iter + 2},
        )
        for row in rows:
            row.extra["ours_s_per_iter"] = row.ours_s / (max_iter + 2)
            row.extra["peer_s_per_iter"] = row.peer_s / max_iter
        if not rows:  # no peer installed: still report our timing
            t0 = time.perf_counter()
            model = probed("clusterlab", ours)()
            secs = time.perf_counter() - t0
            from benchmarks._harness import Row

            rows = [Row("distributed", "kmeans-memmap", f"{n}x{N_FEATURES} f32",
                        f"k={N_CLUSTERS},iter={max_iter}", secs, "none", float("nan"),
                        float("nan"), "inertia", quality(model), float("nan"),
                        {"ours_s_per_iter": secs / (max_iter + 2),
                         "peak_worker_rss_mb": peaks, "data_mb": data_mb})]
        return rows
    finally:
        client.close()
        cluster.close()
        try:
            os.remove(path)
            os.rmdir(tmp)
        except OSError:
            pass


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for r in run(quick=args.quick):
        print(r)
