"""Cluster metrics and the k sweep against scikit-learn.

Cases (same data, same labels for both; ratio = sklearn seconds / ours):

- ``silhouette_score`` on overlapping Gaussian clusters, 10 labels, n x 20
  (quick: 5000 x 20; full: 20000 x 20 and 60000 x 20), with the peak extra
  resident memory of one call in a fresh interpreter for both contenders;
- ``silhouette_score`` on many features (the BLAS path): 5000 x 100 float64
  and an MNIST-shaped 3000 x 784 float32 (quick: 2000 x 100, 2000 x 784);
- ``calinski_harabasz_score`` and ``davies_bouldin_score`` on 200000 x 20;
- the seed's k sweep on the five blobs: k = 1..10, K-Means with
  ``n_init=10`` (3 in quick mode) and the silhouette of every fit, written as
  :func:`clusterlab.selection.sweep` with clusterlab's KMeans against the
  same loop written by hand with scikit-learn.
"""

import numpy as np


from benchmarks._harness import compare, peak_rss_mb

FAMILY = "metrics"


def _blobs(n, d=20, k=10, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(k, d))
    labels = rng.integers(0, k, n)
    X = (centers[labels] + rng.normal(size=(n, d))).astype(dtype)
    return X, labels


_MEM_SETUP = (
    "import numpy as np\n"
    "rng = np.random.default_rng(0)\n"
    "centers = rng.normal(scale=3.0, size=(10, 20))\n"
    "labels = rng.integers(0, 10, {n})\n"
    "X = centers[labels] + rng.normal(size=({n}, 20))\n"
    "from {module} import silhouette_score\n"
    "silhouette_score(X[:200], labels[:200])\n"  # imports and JIT are not what we measure
)


def _silhouette_rows(n, repeats):
    import sklearn.metrics as skm

    from clusterlab import metrics

    X, labels = _blobs(n)
    metrics.silhouette_score(X[:500], labels[:500])  # compile / load the kernel
    rows = compare(
        FAMILY, "silhouette_score", f"{n}x20", "k=10, euclidean",
        lambda: metrics.silhouette_score(X, labels),
        {"sklearn": lambda: skm.silhouette_score(X, labels)},
        repeats=repeats, warmup=False, quality=float, quality_name="silhouette",
    )
    code = "silhouette_score(X, labels)"
    ours_mb = peak_rss_mb(code, _MEM_SETUP.format(n=n, module="clusterlab.metrics"))
    peer_mb = peak_rss_mb(code, _MEM_SETUP.format(n=n, module="sklearn.metrics"))
    for row in rows:
        row.extra.update({"ours_peak_extra_mb": round(ours_mb, 1),
                          "peer_peak_extra_mb": round(peer_mb, 1),
                          "data_mb": round(X.nbytes / 2**20, 1)})
    return rows


def _wide_silhouette_rows(n, d, dtype, repeats):
    import sklearn.metrics as skm

    from clusterlab import metrics

    X, labels = _blobs(n, d=d, dtype=dtype)
    metrics.silhouette_score(X[:300], labels[:300])  # compile / load the kernel
    return compare(
        FAMILY, "silhouette_score (many features)", f"{n}x{d} {np.dtype(dtype).name}",
        "k=10, euclidean", lambda: metrics.silhouette_score(X, labels),
        {"sklearn": lambda: skm.silhouette_score(X, labels)},
        repeats=repeats, warmup=False, quality=float, quality_name="silhouette",
    )


def _dispersion_rows(n, repeats):
    import sklearn.metrics as skm

    from clusterlab import metrics

    X, labels = _blobs(n, seed=1)
    rows = []
    for name in ("calinski_harabasz_score", "davies_bouldin_score"):
        ours, peer = getattr(metrics, name), getattr(skm, name)
        rows += compare(FAMILY, name, f"{n}x20", "k=10",
                        lambda ours=ours: ours(X, labels),
                        {"sklearn": lambda peer=peer: peer(X, labels)},
                        repeats=repeats, quality=float, quality_name="score")
    return rows


def _sweep_rows(repeats, n_init=10):
    import sklearn.cluster
    import sklearn.metrics as skm

    import clusterlab
    from clusterlab.datasets import load_five_blobs
    from clusterlab.selection import sweep

    X = load_five_blobs()
    k_values = range(1, 11)

    def ours():
        result = sweep(clusterlab.KMeans(n_init=n_init, random_state=0), X, k_values,
                       criteria=("inertia", "silhouette"))
        return result.table["silhouette"]

    def peer():
        scores = []
        for k in k_values:
            km = sklearn.cluster.KMeans(n_clusters=k, n_init=n_init, random_state=0).fit(X)
            scores.append(skm.silhouette_score(X, km.labels_) if k > 1 else np.nan)
        return np.asarray(scores)

    # load the JIT-compiled kernels once, on a few points (compilation is not measured)
    sweep(clusterlab.KMeans(n_init=1, random_state=0), X[:50], [1, 2],
          criteria=("inertia", "silhouette"))
    return compare(FAMILY, f"sweep k=1..10 (KMeans n_init={n_init} + silhouette)", "2000x2",
                   "five blobs", ours, {"sklearn loop": peer}, repeats=repeats, warmup=False,
                   quality=lambda s: float(np.nanmax(s)), quality_name="best silhouette")


def run(quick):
    rows = []
    if quick:
        rows += _silhouette_rows(5000, repeats=3)
        rows += _wide_silhouette_rows(2000, 100, np.float64, repeats=3)
        rows += _wide_silhouette_rows(2000, 784, np.float32, repeats=3)
        rows += _dispersion_rows(50000, repeats=3)
        rows += _sweep_rows(repeats=1, n_init=3)
    else:
        rows += _silhouette_rows(20000, repeats=3)
        rows += _silhouette_rows(60000, repeats=1)
        rows += _wide_silhouette_rows(5000, 100, np.float64, repeats=3)
        rows += _wide_silhouette_rows(3000, 784, np.float32, repeats=3)
        rows += _dispersion_rows(200000, repeats=5)
        rows += _sweep_rows(repeats=5)
    return rows
