"""SpectralCoclustering / SpectralBiclustering: clusterlab vs scikit-learn.

Same data, same random_state; the quality figure is the consensus score of
the found biclusters with the planted ones (1 = all found). Both use the
same randomized SVD draws, so they find the same biclusters.
"""

import numpy as np

from benchmarks._harness import compare, optional_import

FAMILY = "bicluster"


def _case(case, name, X, truth, repeats, **params):
    import clusterlab
    from clusterlab.metrics import consensus_score

    sk = optional_import("sklearn.cluster")
    ours_cls = getattr(clusterlab, name)
    ours_cls(**params).fit(X[:200, :150])  # compile
    shape = f"{X.shape[0]}x{X.shape[1]}"

    def ours():
        return ours_cls(random_state=0, **params).fit(X)

    def peer():
        return getattr(sk, name)(random_state=0, **params).fit(X)

    text = ", ".join(f"{a}={b}" for a, b in params.items())
    return compare(FAMILY, f"{name} {case}", shape, text, ours,
                   {"scikit-learn": peer if sk else None}, repeats=repeats, warmup=False,
                   quality=lambda est: consensus_score(est.biclusters_, truth),
                   quality_name="consensus")


def run(quick):
    from sklearn.datasets import make_biclusters, make_checkerboard

    n = 300 if quick else 2000
    X, rows, cols = make_biclusters((n, n * 2 // 3), 8, noise=5, random_state=0)
    out = _case("planted", "SpectralCoclustering", X, (rows, cols), 3, n_clusters=8)
    X, rows, cols = make_checkerboard((n, n // 2), (4, 3), noise=10, random_state=0)
    out += _case("checkerboard", "SpectralBiclustering", X, (rows, cols), 3,
                 n_clusters=(4, 3))
    return out
