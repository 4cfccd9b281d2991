"""HDBSCAN's first half: from the data to the sorted minimum spanning tree.

Two paths, chosen by :func:`mst_for`:

* **KD-tree** (euclidean feature data, whatever ``algorithm`` says): core
  distances from the tree's exact k-nearest-neighbour queries, then Borůvka's
  MST on the tree -- or, from ``HDBSCAN_PRIM_MIN_FEATURES`` features, Prim's
  on the points (:func:`use_prim`). O(n * min_samples) memory; nothing
  quadratic in memory.
* **dense** (any other metric, callables, sparse feature data, and
  ``metric='precomputed'``): the (n, n) distance matrix, turned into mutual
  reachability in place, and Prim's MST -- O(n^2) memory and time. Before
  allocating it the size is checked against
  :data:`clusterlab._config.HDBSCAN_DENSE_MAX_BYTES`, with a clear error.
* **sparse precomputed** graphs: mutual reachability on the stored entries and
  scipy's sparse minimum spanning tree (as scikit-learn).

``alpha`` follows scikit-learn on each path: the tree algorithms (``auto``,
``kd_tree``, ``ball_tree``) divide only the pairwise distance by ``alpha``
(``max(core_p, core_q, d / alpha)``); ``brute`` divides the whole distance
matrix first, core distances included (``max(core_p, core_q, d) / alpha``).
"""

import os
import warnings

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from .. import _config
from .._kernels import hdbscan_mst as _mst
from .._kernels import prim_points as _prim
from .._kernels import kdtree as _kd

EUCLIDEAN = {"euclidean", "l2"}


class KDIndex:
    """A built KD-tree with the training data in tree order (fitted state)."""

    def __init__(self, X, leaf_size):
        X = np.ascontiguousarray(X, dtype=np.float64)
        n, d = X.shape
        n_levels, n_nodes = _kd.tree_shape(n, leaf_size)
        self.perm = np.empty(n, dtype=np.int64)
        self.start = np.empty(n_nodes, dtype=np.int64)
        self.end = np.empty(n_nodes, dtype=np.int64)
        self.lo = np.empty((n_nodes, d), dtype=np.float64)
        self.hi = np.empty((n_nodes, d), dtype=np.float64)
        _kd.build_kdtree(X, n_levels, self.perm, self.start, self.end, self.lo, self.hi)
        self.Xr = X[self.perm]

    def knn(self, Q, k):
        """Squared distances and tree-order indices of the k nearest, (m, k) each."""
        Q = np.ascontiguousarray(Q, dtype=np.float64)
        rd = np.empty((Q.shape[0], k), dtype=np.float64)
        ix = np.empty((Q.shape[0], k), dtype=np.int64)
        _kd.kdtree_knn(Q, self.Xr, self.start, self.end, self.lo, self.hi, k, rd, ix)
        return rd, ix


def is_euclidean(metric, metric_params):
    """True when the metric is the euclidean distance (the KD-tree path)."""
    if callable(metric):
        return False
    params = dict(metric_params or {})
    if metric in EUCLIDEAN:
        return not params
    if metric in ("minkowski", "p"):
        p = params.pop("p", 2)
        return p == 2 and not params
    return False


def dense_limit_bytes():
    """Largest (n, n) float64 matrix the dense path may allocate."""
    if _config.HDBSCAN_DENSE_MAX_BYTES is not None:
        return int(_config.HDBSCAN_DENSE_MAX_BYTES)
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        total = 8 * 2**30
    limit = int(total * _config.HDBSCAN_DENSE_MEMORY_FRACTION)
    avail = _config.available_memory()  # a process limit (ulimit -v, a cgroup) binds too
    return limit if avail is None else min(limit, int(avail))


def check_dense_fits(n, copies=1):
    """A clear ``MemoryError`` unless ``copies`` (n, n) float64 matrices fit
    :func:`dense_limit_bytes` (scikit-learn's ``pairwise_distances`` makes a
    second one for some metrics: cosine's clip)."""
    need = 8 * n * n * copies
    limit = dense_limit_bytes()
    if need > limit:
        raise MemoryError(
            f"HDBSCAN with this metric needs the dense {n} x {n} distance matrix "
            f"({need / 2**30:.1f} GiB{' with its temporary copy' if copies > 1 else ''}), "
            f"more than the {limit / 2**30:.1f} GiB allowed "
            "(clusterlab._config.HDBSCAN_DENSE_MAX_BYTES). Use metric='euclidean' "
            "(KD-tree path, no quadratic memory), a sparse precomputed "
            "neighbourhood graph, or a sample of the data.")


def sorted_tree(u, v, w):
    """Edges given in Prim order, sorted by weight with numpy's default sort
    (as scikit-learn, so that equal weights keep the same relative order)."""
    order = np.argsort(w)
    return u[order], v[order], w[order]


def _prim_order(u, v, w, knn_u, knn_v, knn_w, n):
    """scikit-learn's Prim tree and order, from our tree plus the kNN graph
    (see :func:`clusterlab._kernels.hdbscan_mst.prim_on_graph`)."""
    adj_start, nbr, wt = _mst.union_adjacency(u, v, w, knn_u, knn_v, knn_w, n)
    ou = np.empty(n - 1, dtype=np.int64)
    ov = np.empty(n - 1, dtype=np.int64)
    ow = np.empty(n - 1, dtype=np.float64)
    _mst.prim_on_graph(adj_start, nbr, wt, ou, ov, ow)
    return ou, ov, ow


def use_prim(n_samples, n_features):
    """Whether the KD-tree path builds its spanning tree by Prim's algorithm on
    the points (:func:`clusterlab._kernels.prim_points.prim_mst_points`,
    O(n^2 d) time, O(n d) memory) rather than Borůvka's on the tree: from
    ``HDBSCAN_PRIM_MIN_FEATURES`` features, where the tree prunes badly (up
    to ``HDBSCAN_PRIM_MAX_SAMPLES`` points below
    ``HDBSCAN_PRIM_ANY_SAMPLES_FEATURES`` features), and on small data
    (``HDBSCAN_PRIM_SMALL_WORK``). Prim's is scikit-learn's tree; Borůvka's,
    put in Prim's order, is the same tree unless many equal distances leave
    a choice (tested)."""
    return many_features(n_samples, n_features) or (
        2 <= n_samples and n_samples * n_samples * (n_features + 8)
        <= _config.HDBSCAN_PRIM_SMALL_WORK)


def many_features(n_samples, n_features):
    """The many-features case of :func:`use_prim`, where the core distances too
    come from the points (:func:`core_rdist`) rather than the tree."""
    return (n_samples >= 2 and n_features >= _config.HDBSCAN_PRIM_MIN_FEATURES
            and (n_samples <= _config.HDBSCAN_PRIM_MAX_SAMPLES
                 or n_features >= _config.HDBSCAN_PRIM_ANY_SAMPLES_FEATURES))


def core_rdist(X, k):
    """Squared core distances (to the k-th nearest row, itself included) of the
    rows of float64 X without the tree, exact -- the KD-tree query's values
    (:func:`clusterlab._kernels.prim_points.core_rdist_points`). O(n^2 d) time,
    O(n d) memory (a centred, transposed copy)."""
    n, d = X.shape
    Xc = X - X.mean(axis=0)
    ch = _prim.CORE_CHUNK
    tiles = np.zeros((-(-n // ch), d, ch))
    for g in range(tiles.shape[0]):
        block = Xc[g * ch:(g + 1) * ch]
        tiles[g, :, :block.shape[0]] = block.T
    sq = np.einsum("ij,ij->i", Xc, Xc)
    a, c = _prim.knn_tolerance_consts(d)
    out = np.empty(n)
    _prim.core_rdist_points(X, Xc, tiles, sq, np.sqrt(sq), int(k), a, c, out)
    return out


def kd_mst(X, min_samples, alpha, leaf_size, scale_core):
    """Euclidean path. Returns ``(u, v, w, core, index)`` with core distances
    in input order and the :class:`KDIndex` (for prediction)."""
    n, d = X.shape
    index = KDIndex(X, leaf_size)
    u = np.empty(max(n - 1, 0), dtype=np.int64)
    v = np.empty(max(n - 1, 0), dtype=np.int64)
    w = np.empty(max(n - 1, 0), dtype=np.float64)
    # the k-NN table and the graph built from it take ~48 bytes a (row, neighbour):
    # where that cannot fit (100000 rows with min_samples=3000: 2.2 GiB and more),
    # the core distances alone and Prim's tree on the points, O(n) memory
    need = 48 * n * min_samples
    avail = _config.available_memory() if need > _config.MEMORY_CHECK_FLOOR_BYTES else None
    low_memory = avail is not None and need > avail // 2
    if many_features(n, d) or low_memory:
        # the KD-tree prunes badly for the k-NN queries too, and Prim's tree
        # (below) needs only the core distances
        core = np.sqrt(core_rdist(np.ascontiguousarray(X, dtype=np.float64), min_samples))
    else:
        rd, ix = index.knn(index.Xr, min_samples)
        rcore = np.ascontiguousarray(rd[:, -1])
        core_r = np.sqrt(rcore)
        core = np.empty(n, dtype=np.float64)
        core[index.perm] = core_r
    if use_prim(n, d) or low_memory:
        # scikit-learn's Prim on the points: the same tree, in its order
        _prim.prim_mst_points(np.ascontiguousarray(X, dtype=np.float64), core, float(alpha),
                              bool(scale_core), False, u, v, w)
        return u, v, w, core, index
    if n > 1:
        # mutual reachability max(a*core_p, a*core_q, d) / alpha, a = alpha on
        # the tree algorithms' convention, 1 on brute's (see module docstring)
        rcore_used = (core_r * alpha) ** 2 if scale_core and alpha != 1.0 else rcore
        _mst.boruvka_mst(index.Xr, index.start, index.end, index.lo, index.hi,
                         rcore_used, ix, u, v, w)
        rows = np.repeat(np.arange(n), ix.shape[1])
        cols = ix.ravel()
        if alpha == 1.0:
            kw = np.sqrt(np.maximum(np.maximum(rd.ravel(), rcore[rows]), rcore[cols]))
        else:
            # scikit-learn's arithmetic, so that equal weights stay equal
            w = _weights(index.Xr, core_r, u, v, alpha, scale_core)
            kw = _weights(index.Xr, core_r, rows, cols, alpha, scale_core)
        p = index.perm
        u, v, w = _prim_order(p[u], p[v], w, p[rows], p[cols], kw, n)
    return u, v, w, core, index


def _weights(Xr, core_r, u, v, alpha, scale_core):
    d = np.empty(u.shape[0], dtype=np.float64)
    _mst.pair_distances(Xr, u, v, d)
    if scale_core:  # tree algorithms: max(core_p, core_q, d / alpha)
        return np.maximum(np.maximum(core_r[u], core_r[v]), d / alpha)
    return np.maximum(np.maximum(core_r[u], core_r[v]), d) / alpha


def dense_mst(D, min_samples, alpha, brute):
    """Dense path on the distance matrix ``D`` (modified in place)."""
    n = D.shape[0]
    k = min_samples - 1
    if brute:
        if alpha != 1.0:
            D /= alpha
        core = _mst.dense_core_distances(D, k)
    else:
        core = _mst.dense_core_distances(D, k)
        if alpha != 1.0:
            D /= alpha
    _mst.dense_mutual_reachability(D, core)
    u = np.empty(n - 1, dtype=np.int64)
    v = np.empty(n - 1, dtype=np.int64)
    w = np.empty(n - 1, dtype=np.float64)
    _mst.prim_mst_dense(D, not brute, u, v, w)
    return u, v, w, core


def sparse_mst(G, min_samples, alpha, max_distance):
    """Sparse precomputed path (scikit-learn's checks and messages)."""
    G = G.tocsr()
    if alpha != 1.0:
        G.data /= alpha
    n = G.shape[0]
    core = _mst.sparse_mutual_reachability(G.data, G.indices.astype(np.int64),
                                           G.indptr.astype(np.int64), min_samples - 1,
                                           float(max_distance))
    counts = np.diff(G.indptr)
    if np.any(counts < min_samples):
        raise ValueError(
            f"There exists points with fewer than {min_samples} neighbors. Ensure"
            " your distance matrix has non-zero values for at least"
            f" `min_sample`={min_samples} neighbors for each points (i.e. K-nn"
            " graph), or specify a `max_distance` in `metric_params` to use when"
            " distances are missing.")
    n_components = csgraph.connected_components(G, directed=False, return_labels=False)
    if n_components > 1:
        raise ValueError(
            f"Sparse mutual reachability matrix has {n_components} connected"
            " components. HDBSCAN cannot be performed on a disconnected graph. Ensure"
            " that the sparse distance matrix has only one connected component.")
    T = csgraph.minimum_spanning_tree(G).tocoo()
    u = T.row.astype(np.int64)
    v = T.col.astype(np.int64)
    w = T.data.astype(np.float64)
    if u.shape[0] < n - 1:  # zero-weight edges are not stored by scipy
        raise ValueError(
            "The sparse mutual-reachability graph has zero-weight edges the minimum "
            "spanning tree cannot represent; remove duplicate points.")
    return u, v, w, core


def warn_infinite(w):
    if np.isinf(w).any():
        warnings.warn(
            "The minimum spanning tree contains edge weights with value "
            "infinity. Potentially, you are missing too many distances "
            "in the initial distance matrix for the given neighborhood "
            "size.", UserWarning)


def is_sparse(X):
    return sparse.issparse(X)
