"""AgglomerativeClustering against scikit-learn (and fastcluster when installed).

Cases (``quick`` uses the smaller sizes):

- Ward, no connectivity, 20000 x 10 (quick 4000 x 10): scikit-learn
  (scipy's O(n²)-memory NN-chain) and fastcluster's ``linkage_vector``
  (O(n·d) memory, the reference for speed).
- single linkage, 64000 x 2 (quick 8000 x 2): Prim's MST, O(n) memory.
- complete and average, 4000 x 10 (quick 1500 x 10), also against
  fastcluster's ``linkage`` (its ``linkage_vector`` has no such methods).
- Ward with a 10-nearest-neighbour connectivity graph, 20000 x 10
  (quick 4000 x 10).

Quality figure: the sum of the merge distances (equal when the trees are
equal). Peak memory (MiB above the data, fresh interpreter) is measured for
the big cases (not with ``quick``: each measurement is one more fit in a new
interpreter) and stored in each row's ``extra``.
"""

import numpy as np

from benchmarks._harness import compare, optional_import, peak_rss_mb

FAMILY = "agglomerative"


def _blobs(n, d, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(20, d))
    return np.ascontiguousarray(centers[rng.integers(0, 20, n)] + rng.normal(size=(n, d)))


def _memory(kind, X, linkage, connectivity=False):
    """Peak MiB above the data of one fit, in a fresh interpreter.

    The data is loaded from a .npy file (one allocation) so that the
    baseline peak is the data itself, not the temporaries that made it.
    """
    import os
    import sys
    import tempfile

    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    tmp = tempfile.NamedTemporaryFile(suffix=".npy", delete=False)
    tmp.close()
    np.save(tmp.name, X)
    setup = (
        f"import sys; sys.path.insert(0, {here!r})\n"
        "import numpy as np\n"
        f"X = np.load({tmp.name!r})\n"
    )
    if connectivity:
        setup += ("from sklearn.neighbors import kneighbors_graph\n"
                  "import warnings; warnings.simplefilter('ignore')\n"
                  "C = kneighbors_graph(X, 10, include_self=False)\n")
    conn = ", connectivity=C" if connectivity else ""
    if kind == "clusterlab":
        setup += "from clusterlab import AgglomerativeClustering as A\n"
        warm = ", connectivity=kneighbors_graph(X[:200], 10)" if connectivity else ""
        setup += f"A(linkage={linkage!r}{warm}).fit(X[:200])\n"
        code = f"A(linkage={linkage!r}, compute_distances=True{conn}).fit(X)"
    elif kind == "sklearn":
        setup += "from sklearn.cluster import AgglomerativeClustering as A\n"
        code = f"A(linkage={linkage!r}, compute_distances=True{conn}).fit(X)"
    else:
        setup += "import fastcluster\n"
        code = f"fastcluster.linkage_vector(X, method={linkage!r})"
    try:
        return round(peak_rss_mb(code, setup), 1)
    except Exception as exc:  # a peer running out of memory is a result
        print(f"  peak memory of {kind} failed: {exc}", file=sys.stderr)
        return float("nan")
    finally:
        os.unlink(tmp.name)


def _height_sum(out):
    return float(np.sum(out))


def _case(case, X, linkage, repeats, quick, connectivity=None, with_fastcluster=False,
          memory=False, slow_sklearn=False):
    from sklearn.cluster import AgglomerativeClustering as SK

    from clusterlab import AgglomerativeClustering as CL

    fastcluster = optional_import("fastcluster") if with_fastcluster else None
    n, d = X.shape
    # compile outside the timings
    CL(linkage=linkage, connectivity=None if connectivity is None else connectivity[:200, :200]
       ).fit(X[:200])

    def ours():
        return CL(linkage=linkage, connectivity=connectivity, compute_distances=True
                  ).fit(X).distances_

    def sk():
        return SK(linkage=linkage, connectivity=connectivity, compute_distances=True
                  ).fit(X).distances_

    peers = {"sklearn": sk}
    if fastcluster is not None and linkage in ("ward", "single"):
        peers["fastcluster.linkage_vector"] = lambda: fastcluster.linkage_vector(
            X, method=linkage)[:, 2]
    elif fastcluster is not None:  # linkage_vector has no complete/average
        peers["fastcluster.linkage"] = lambda: fastcluster.linkage(X, method=linkage)[:, 2]
    extra = {}
    if memory:
        has_conn = connectivity is not None
        extra["peak_mb_clusterlab"] = _memory("clusterlab", X, linkage, has_conn)
        extra["peak_mb_sklearn"] = _memory("sklearn", X, linkage, has_conn)
        if fastcluster is not None and linkage in ("ward", "single"):
            extra["peak_mb_fastcluster"] = _memory("fastcluster", X, linkage)
    params = f"linkage={linkage}" + (", knn-10 connectivity" if connectivity is not None else "")
    rows = []
    for name, fn in peers.items():
        # scikit-learn's slow big cases are timed once, the others `repeats` times
        reps = 1 if (name == "sklearn" and slow_sklearn) else repeats
        rows += compare(FAMILY, case, f"{n}x{d}", params, ours, {name: fn}, repeats=reps,
                        warmup=False, quality=_height_sum, quality_name="sum of heights",
                        extra=extra)
    return rows


def run(quick=False):
    import warnings

    from sklearn.neighbors import kneighbors_graph

    warnings.filterwarnings("ignore", message="the number of connected components")
    rows = []
    n_ward = 4000 if quick else 20000
    rows += _case("ward blobs", _blobs(n_ward, 10), "ward", 3, quick,
                  with_fastcluster=True, memory=not quick, slow_sklearn=not quick)
    # many features: Ward on the condensed matrix (from 96 features)
    rows += _case("ward, many features", _blobs(1000 if quick else 3000, 784), "ward", 3, quick,
                  with_fastcluster=True)
    n_single = 8000 if quick else 64000
    rows += _case("single blobs", _blobs(n_single, 2), "single", 1 if not quick else 3, quick,
                  memory=not quick, slow_sklearn=True)
    n_ca = 1500 if quick else 4000
    Xca = _blobs(n_ca, 10)
    for linkage in ("complete", "average"):
        rows += _case(f"{linkage} blobs", Xca, linkage, 3, quick, with_fastcluster=True)
    n_conn = 4000 if quick else 20000
    Xc = _blobs(n_conn, 10)
    conn = kneighbors_graph(Xc, 10, include_self=False)
    rows += _case("ward knn graph", Xc, "ward", 3, quick, connectivity=conn,
                  memory=not quick, slow_sklearn=not quick)
    for r in rows:
        if r.extra:
            print(f"  {r.case} {r.shape} vs {r.peer}: peak MiB {r.extra}")
    return rows
