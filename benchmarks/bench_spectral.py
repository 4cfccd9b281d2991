"""Spectral clustering: clusterlab vs scikit-learn, with peak memory beside each.

Cases (same data, same parameters, same random_state for both; the quality
figure is the adjusted Rand index against the moons' true labels):

* the seed's moons (1000 points, gamma=100, random_state=42);
* 5000 moons, dense rbf, gamma=1 (scikit-learn's default) and gamma=100;
* 10^5 moons, clusterlab only: affinity='nearest_neighbors', and the sparse
  thresholded rbf with gamma=10000 (~490 stored entries per row) and
  gamma=20000 (~250 per row), embedded by the factorisation-free path (see
  docs/spectral.md). scikit-learn's dense rbf is skipped there: its affinity
  alone is an n x n float64 matrix, 8 n^2 bytes = 80 GB for n = 10^5 (plus the
  same again for the dense LU of its shift-invert ARPACK), which does not fit.

``--quick`` runs the seed's case only, without the peak-memory figures.
Peak memory (MiB above the data) is measured in a fresh interpreter for each
contender (``_harness.peak_rss_mb``) and stored in each row's ``extra``.
"""

from benchmarks._harness import Row, compare, peak_rss_mb

FAMILY = "spectral"

_SETUP = (
    "import warnings; warnings.simplefilter('ignore')\n"
    "from sklearn.datasets import make_moons\n"
    "X, y = make_moons(n_samples={n}, noise=0.05, random_state=42)\n"
    "from clusterlab.cluster.spectral import SpectralClustering as Ours\n"
    "from sklearn.cluster import SpectralClustering as Theirs\n"
    "import numpy as np\n"
    "Ours(n_clusters=2, random_state=0, n_init=1).fit(X[:300])\n"  # numba compile outside
)


def _moons(n):
    from sklearn.datasets import make_moons

    return make_moons(n_samples=n, noise=0.05, random_state=42)


def _params_str(params):
    return ",".join(f"{k}={v}" for k, v in params.items())


def _case(case, n, params, with_peer=True, repeats=3, memory=True):
    import warnings

    from sklearn.cluster import SpectralClustering as Theirs
    from sklearn.metrics import adjusted_rand_score

    from clusterlab.cluster.spectral import SpectralClustering as Ours

    X, y = _moons(n)

    def ours():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Ours(**params).fit(X).labels_

    def theirs():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Theirs(**params).fit(X).labels_

    fit = f"Ours(**{params!r}).fit(X)"
    extra = {}
    if memory:  # each figure costs a fresh interpreter (imports, numba cache load)
        extra["ours_peak_mib"] = peak_rss_mb(fit, _SETUP.format(n=n))
        if with_peer:
            extra["peer_peak_mib"] = peak_rss_mb(fit.replace("Ours", "Theirs"),
                                                 _SETUP.format(n=n))
    if with_peer:
        rows = compare(FAMILY, case, f"{n}x2", _params_str(params), ours,
                       {"scikit-learn": theirs}, repeats=repeats,
                       quality=lambda labels: adjusted_rand_score(y, labels),
                       quality_name="ARI vs truth", extra=extra)
        ours_labels, peer_labels = ours(), theirs()
        for r in rows:
            r.extra["ARI ours vs peer"] = float(adjusted_rand_score(ours_labels, peer_labels))
        return rows
    # clusterlab only: time it once (plus a warm-up on a small sample)
    import time

    t0 = time.perf_counter()
    labels = ours()
    seconds = time.perf_counter() - t0
    extra["peer_skipped"] = (
        f"scikit-learn's dense rbf needs an n x n float64 affinity: 8 n^2 bytes = "
        f"{8 * n * n / 1e9:.0f} GB at n={n} (plus a dense LU of the same size)"
    )
    return [Row(FAMILY, case, f"{n}x2", _params_str(params), seconds, "scikit-learn (skipped)",
                float("nan"), float("nan"), "ARI vs truth",
                float(adjusted_rand_score(y, labels)), float("nan"), extra)]


def run(quick=False):
    rows = []
    rows += _case("seed moons rbf", 1000, dict(n_clusters=2, gamma=100, random_state=42),
                  repeats=2 if quick else 3, memory=not quick)
    if quick:
        return rows
    rows += _case("moons rbf (default gamma)", 5000, dict(n_clusters=2, gamma=1.0,
                                                         random_state=0), repeats=2)
    rows += _case("moons rbf", 5000, dict(n_clusters=2, gamma=100, random_state=0), repeats=2)
    rows += _case("moons nearest_neighbors", 100_000,
                  dict(n_clusters=2, affinity="nearest_neighbors", random_state=0),
                  with_peer=False)
    for gamma in (20000, 10000):
        rows += _case("moons sparse rbf", 100_000,
                      dict(n_clusters=2, gamma=gamma, random_state=0), with_peer=False)
    return rows
