"""Agglomerative (hierarchical) clustering with scikit-learn's API.

The algorithms are those of Müllner (2011), chosen by linkage so that memory
stays as low as the linkage allows:

=========  ==========================================  ==================
linkage    algorithm (no connectivity)                 memory above ``X``
=========  ==========================================  ==================
single     Prim's minimum spanning tree, distances     O(n)
           computed on the fly
ward       nearest-neighbour chain on centroids and    O(n·d)
           cluster sizes
complete   nearest-neighbour chain on a condensed      O(n²) (needed)
average    distance matrix (Lance–Williams updates)
=========  ==========================================  ==================

With a ``connectivity`` graph, clusters are merged greedily along the graph
(a heap of candidate merges), as scikit-learn's structured clustering does:
O(n·d + E) memory for E edges.

The kernels live in :mod:`clusterlab._kernels.linkage`.
"""

import heapq
import numbers
import warnings

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.utils import check_array
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import check_is_fitted, check_memory, validate_data

from clusterlab._dask import warn_if_dask
from clusterlab import _config
from clusterlab._kernels import interpret as _interp
from clusterlab._kernels import linkage as _lk
from clusterlab._kernels import prim_points as _prim
from clusterlab._validation import check_magnitude, check_sparse_structure, is_euclidean
from clusterlab.cluster._linkage_metrics import (_KERNEL_METRICS, _OTHER_METRICS,
                                                 _check_copy_fits, _edge_kernel_distances,
                                                 _f64, _metric_input)

__all__ = ["AgglomerativeClustering", "linkage_tree"]

# metrics for which scikit-learn's single linkage lists a merge as (cluster
# of the tree side, cluster of the new point) instead of (lower, higher id)
_UNSORTED_SINGLE_METRICS = {
    "euclidean", "l2", "l1", "manhattan", "cityblock", "braycurtis", "canberra",
    "chebyshev", "dice", "hamming", "haversine", "jaccard", "mahalanobis",
    "matching", "minkowski", "rogerstanimoto", "russellrao", "seuclidean",
    "sokalmichener", "sokalsneath",
}

_LINKAGES = {"ward": _lk.WARD, "complete": _lk.COMPLETE, "average": _lk.AVERAGE, "single": -1}


def _as_float(X):
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64)
    return np.ascontiguousarray(X)


def _check_square(X, metric):
    if metric == "precomputed" and X.shape[0] != X.shape[1]:
        raise ValueError(
            f"Distance matrix should be square, got matrix of shape {X.shape}: with "
            "metric='precomputed' pass the (n_samples, n_samples) matrix of distances."
        )


def _sort_and_relabel(a, b, dist, n, sort_pair, interpret=False):
    order = np.argsort(dist, kind="mergesort")
    a = np.ascontiguousarray(a[order])
    b = np.ascontiguousarray(b[order])
    dist = dist[order]
    children = np.empty((n - 1, 2), dtype=np.int64)
    counts = np.empty(n - 1, dtype=np.int64)
    _interp.pick(_lk.relabel_merges, interpret)(a, b, n, sort_pair, children, counts)
    return children.astype(np.intp, copy=False), dist


def _ward_condensed(n, n_features):
    """Whether Ward's tree comes from the condensed distance matrix (scipy's
    NN-chain with Ward's update, O(n^2) memory) rather than from centroids
    (O(n d) memory, O(n^2 d) time): on many features, while the matrix takes
    at most ``LINKAGE_WARD_CONDENSED_MAX_BYTES``."""
    need = n * (n - 1) // 2 * 8
    return (n_features >= _config.LINKAGE_WARD_CONDENSED_MIN_FEATURES
            and need <= _config.LINKAGE_WARD_CONDENSED_MAX_BYTES)


def _check_condensed_fits(n, linkage):
    """Fail early, with the figure, when the condensed matrix cannot fit."""
    need = n * (n - 1) // 2 * 8
    _config.refuse_beyond_memory(need, lambda avail: (
        f"{linkage} linkage of {n} items (the samples; the features for "
        f"FeatureAgglomeration) needs the {n * (n - 1) // 2} pairwise "
        f"distances ({need / 2**30:.1f} GiB) but about {avail / 2**30:.1f} GiB is free. "
        "Use linkage='ward' (O(n*d) memory) or 'single' (O(n)), or pass a sparse "
        "connectivity graph (e.g. sklearn.neighbors.kneighbors_graph)."))


def _unstructured_tree(X, linkage, metric):
    """Full tree without connectivity: (children, distances)."""
    n = X.shape[0]
    if n == 1:
        return np.empty((0, 2), dtype=np.intp), np.empty(0)
    a = np.empty(n - 1, dtype=np.int64)
    b = np.empty(n - 1, dtype=np.int64)
    dist = np.empty(n - 1)
    # a few samples: the kernels' source in the interpreter, nothing to compile
    interpret = (linkage != "single"
                 and _interp.use_interpreter(n <= _config.LINKAGE_INTERPRET_MAX_SAMPLES))
    if linkage == "ward" and not _ward_condensed(n, X.shape[1]):
        CT = np.ascontiguousarray(X.T, dtype=np.float64)
        if CT is X or np.shares_memory(CT, X):
            CT = CT.copy()
        _interp.pick(_lk.ward_nn_chain, interpret)(CT, a, b, dist)
        return _sort_and_relabel(a, b, dist, n, True, interpret)
    data, code, norms = _metric_input(X, metric)
    if code == _lk.PRECOMPUTED:
        _check_copy_fits(data)
    if linkage == "single":
        sort_pair = not (isinstance(metric, str) and metric in _UNSORTED_SINGLE_METRICS)
        if code == _lk.EUCLIDEAN:
            # vectorised over the points outside the tree, on numba's threads
            # (the same squared keys, ties and edges as the serial kernel)
            _prim.prim_mst_points(np.ascontiguousarray(data), np.zeros(n), 1.0, True, True,
                                  a, b, dist)
        else:
            _lk.prim_mst_on_the_fly(_f64(data), norms, code, a, b, dist)
        return _sort_and_relabel(a, b, dist, n, sort_pair)
    if linkage != "ward":
        _check_condensed_fits(n, linkage)
    D = np.empty(n * (n - 1) // 2)
    if code == _lk.EUCLIDEAN and not interpret:
        _lk.euclidean_condensed(data, D, parallel=True)
    else:  # Euclidean: the same values, bit for bit
        _interp.pick(_lk.condensed_distances, interpret)(_f64(data), norms, code, D)
    _interp.pick(_lk.nn_chain_condensed, interpret)(D, n, _LINKAGES[linkage], a, b, dist)
    del D
    return _sort_and_relabel(a, b, dist, n, True, interpret)


def _closest_pairs(X, members, metric, kernel_input):
    """For each two components (ci > cj, in that order), the first closest
    pair of samples in row-major order, as scikit-learn's completion."""
    n_components = len(members)
    if not callable(metric):
        data, code, norms = kernel_input()
        if code != _lk.PRECOMPUTED:
            # rows grouped by component, contiguous: one streaming pass
            order = np.concatenate(members)
            offsets = np.zeros(n_components + 1, dtype=np.int64)
            offsets[1:] = np.cumsum([len(m) for m in members])
            n_pairs = n_components * (n_components - 1) // 2
            out_i = np.empty(n_pairs, dtype=np.int64)
            out_j = np.empty(n_pairs, dtype=np.int64)
            norms_g = norms[order] if code == _lk.COSINE else norms
            _lk.closest_pairs_between_components(_f64(data[order]), norms_g,
                                                 code, offsets, out_i, out_j)
            return order[out_i], order[out_j]
    rows, cols = [], []
    for ci in range(n_components):
        for cj in range(ci):
            if callable(metric):
                # as scikit-learn: a callable is a metric between two rows here
                from sklearn.metrics import pairwise_distances

                D = pairwise_distances(X[members[ci]], X[members[cj]], metric=metric)
                ii, jj = np.unravel_index(np.argmin(D), D.shape)
                i, j = members[ci][ii], members[cj][jj]
            else:
                i, j, _ = _lk.closest_pair_between(data, norms, code, members[ci], members[cj])
            rows.append(i)
            cols.append(j)
    return np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)


def _prepare_connectivity(X, connectivity, metric, kernel_input):
    """Symmetric CSR graph without self loops, completed if disconnected.

    Returns (graph, n_connected_components).
    """
    from scipy.sparse.csgraph import connected_components

    n = X.shape[0]
    if connectivity.shape[0] != n or connectivity.shape[1] != n:
        raise ValueError(
            f"Wrong shape for connectivity matrix: {connectivity.shape} when X is {X.shape}; "
            "connectivity must be (n_samples, n_samples), e.g. "
            "sklearn.neighbors.kneighbors_graph(X, n_neighbors)."
        )
    graph = sparse.csr_matrix(connectivity, dtype=np.float64)
    graph = (graph + graph.T).tocsr()
    n_components, labels = connected_components(graph)
    if n_components > 1:
        warnings.warn(
            f"the number of connected components of the connectivity matrix is "
            f"{n_components} > 1. Completing it to avoid stopping the tree early.",
            stacklevel=3,
        )
        members = [np.flatnonzero(labels == c).astype(np.int64) for c in range(n_components)]
        i, j = _closest_pairs(X, members, metric, kernel_input)
        rows = np.concatenate([i, j])
        cols = np.concatenate([j, i])
        extra = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
        graph = (graph + extra).tocsr()
    graph = graph.tocoo()
    keep = graph.row != graph.col
    graph = sparse.csr_matrix((np.ones(int(keep.sum())), (graph.row[keep], graph.col[keep])),
                              shape=(n, n))
    graph.sum_duplicates()
    graph.sort_indices()
    return graph, n_components


def _edge_distances(X, graph, metric, kernel_input):
    rows = np.repeat(np.arange(graph.shape[0]), np.diff(graph.indptr))
    cols = graph.indices
    if callable(metric):
        from sklearn.metrics.pairwise import paired_distances

        return np.asarray(paired_distances(X[rows], X[cols], metric=metric), dtype=np.float64)
    data, code, norms = kernel_input()
    out = np.empty(rows.shape[0])
    _edge_kernel_distances(data, norms, code, rows, cols, out)
    return out


def _structured_tree(X, connectivity, n_clusters, linkage, metric):
    """Tree along a connectivity graph:
    (children, n_connected_components, parents, distances)."""
    n = X.shape[0]
    cache = {}

    def kernel_input():
        if "v" not in cache:
            cache["v"] = _metric_input(X, metric)
        return cache["v"]

    graph, n_components = _prepare_connectivity(X, connectivity, metric, kernel_input)
    if n_clusters is not None and n_clusters > n:
        raise ValueError(
            f"Cannot provide more clusters than samples. {n_clusters} n_clusters was "
            f"asked, and there are {n} samples; use n_clusters <= n_samples."
        )
    n_merges = n - 1 if n_clusters is None else n - n_clusters
    indptr = graph.indptr.astype(np.int64)
    indices = graph.indices.astype(np.int64)
    if linkage == "ward":
        weights = np.zeros(indices.shape[0])
        moments = np.array(X, dtype=np.float64, order="C", copy=True)
    else:
        weights = _edge_distances(X, graph, metric, kernel_input)
        moments = np.zeros((1, 1))
    if linkage == "single":
        children, dist, parents = _single_on_graph(n, indptr, indices, weights, n_merges)
        return children, n_components, parents, dist
    children = np.empty((n_merges, 2), dtype=np.int64)
    dist = np.empty(n_merges)
    parents = np.empty(n + n_merges, dtype=np.int64)
    _lk.connectivity_merge(indptr, indices, weights, moments, n_merges, _LINKAGES[linkage],
                           children, dist, parents)
    return children.astype(np.intp, copy=False), n_components, parents.astype(np.intp), dist


def _single_on_graph(n, indptr, indices, weights, n_merges):
    """Single linkage on a connected graph: Kruskal's minimum spanning tree
    (edges in (distance, row, column) order); the full tree, with parents
    for the first ``n_merges`` merges."""
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    upper = indices > rows
    rows, cols, w = rows[upper], indices[upper], weights[upper]
    order = np.lexsort((cols, rows, w))
    a = np.ascontiguousarray(rows[order])
    b = np.ascontiguousarray(cols[order])
    w = np.ascontiguousarray(w[order])
    children = np.empty((n - 1, 2), dtype=np.int64)
    dist = np.empty(n - 1)
    _kruskal_children(a, b, w, n, children, dist)
    # as scikit-learn: the whole tree is returned (it costs nothing more),
    # the parents stop at ``n_merges``
    parents = np.arange(n + n_merges, dtype=np.intp)
    for k, (left, right) in enumerate(children[:n_merges], n):
        parents[left] = k
        parents[right] = k
    return children.astype(np.intp), dist, parents


def _kruskal_children(a, b, w, n, children, dist):
    keep_a = np.empty(n - 1, dtype=np.int64)
    keep_b = np.empty(n - 1, dtype=np.int64)
    cnt = _lk.kruskal_select(a, b, w, n, keep_a, keep_b, dist)
    assert cnt == n - 1
    counts = np.empty(n - 1, dtype=np.int64)
    # (cluster of the first endpoint, of the second), unsorted, as scikit-learn's
    # _single_linkage_label on the rows and columns of scipy's spanning tree
    _lk.relabel_merges(keep_a, keep_b, n, False, children, counts)


def _roots(parents, n):
    roots = np.arange(n)
    parents = np.asarray(parents)
    for _ in range(parents.shape[0]):
        nxt = parents[roots]
        if np.array_equal(nxt, roots):
            break
        roots = nxt
    return roots


def _cut_tree(children, n_leaves, n_clusters):
    """Labels after the first ``n_leaves - n_clusters`` merges, numbered as
    scikit-learn's ``_hc_cut`` numbers them: the clusters are found by undoing
    the last merges from the root with a heap of negated node ids, and a
    cluster's label is its node's position in that heap's list."""
    if n_clusters > n_leaves:
        raise ValueError(
            f"Cannot extract more clusters than samples: {n_clusters} clusters were given "
            f"for a tree with {n_leaves} leaves; use n_clusters <= n_samples."
        )
    if n_clusters == 1:
        return np.zeros(n_leaves, dtype=np.intp)
    ch = np.asarray(children)
    heap = [-(n_leaves + ch.shape[0] - 1)]  # the root
    for _ in range(n_clusters - 1):
        a, b = ch[-heap[0] - n_leaves]
        heapq.heappush(heap, -int(a))
        heapq.heappushpop(heap, -int(b))
    # each leaf's cluster node: its ancestor after the first n_leaves - n_clusters merges
    n_merges = n_leaves - n_clusters
    parents = np.arange(n_leaves + n_merges)
    new = np.arange(n_leaves, n_leaves + n_merges)
    parents[ch[:n_merges, 0]] = new
    parents[ch[:n_merges, 1]] = new
    position = np.empty(n_leaves + ch.shape[0], dtype=np.intp)
    position[[-node for node in heap]] = np.arange(len(heap))
    return position[_roots(parents, n_leaves)]


def _build_tree(X, connectivity, n_clusters, linkage, metric, return_distance):
    """(children, n_connected_components, n_leaves, parents, distances)."""
    n = X.shape[0]
    if isinstance(metric, str) and metric == "cosine" and np.any(~np.any(X, axis=1)):
        raise ValueError(
            "Cosine affinity cannot be used when X contains zero vectors: remove the "
            "all-zero rows or use another metric."
        )
    if connectivity is None:
        _check_square(X, metric)
        if n_clusters is not None and n_clusters > n:
            raise ValueError(
                f"Cannot provide more clusters than samples. {n_clusters} n_clusters was "
                f"asked, and there are {n} samples; use n_clusters <= n_samples."
            )
        children, dist = _unstructured_tree(X, linkage, metric)
        return children, 1, n, None, (dist if return_distance else None)
    _check_square(X, metric)
    children, n_cc, parents, dist = _structured_tree(X, connectivity, n_clusters, linkage, metric)
    return children, n_cc, n, parents, (dist if return_distance else None)


@validate_params(
    {
        "X": ["array-like"],
        "connectivity": ["array-like", "sparse matrix", None],
        "n_clusters": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "linkage": [StrOptions(set(_LINKAGES))],
        "affinity": [StrOptions(set(_KERNEL_METRICS) | _OTHER_METRICS), callable],
        "return_distance": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def linkage_tree(X, connectivity=None, n_clusters=None, linkage="complete",
                 affinity="euclidean", return_distance=False):
    """Hierarchical clustering tree, as :func:`sklearn.cluster.linkage_tree`.

    Without ``connectivity``, complete and average linkage hold the condensed
    distance matrix (O(n_samples^2) memory, 8 bytes a pair; refused with the
    figure when it cannot fit) and take O(n_samples^2) time; single and Ward
    linkage O(n_samples * n_features) memory.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The data (or distances with ``affinity='precomputed'``). A 1-D array
        is one feature.
    connectivity : sparse matrix of shape (n_samples, n_samples), default=None
        Neighbours each sample may merge with; ``None`` means all.
    n_clusters : int, default=None
        Stop early at this many clusters (only with ``connectivity``; without
        it the full tree is built and a warning says so).
    linkage : {'complete', 'average', 'single', 'ward'}, default='complete'
        Linkage criterion ('ward' is an extension: scikit-learn's
        ``ward_tree``; it needs a euclidean ``affinity``).
    affinity : str or callable, default='euclidean'
        The metric.
    return_distance : bool, default=False
        Also return the merge distances.

    Returns
    -------
    children : ndarray of shape (n_nodes - 1, 2)
        Children of each non-leaf node (leaves ``0..n-1``, node ``n + i`` is
        made by merge ``i``).
    n_connected_components : int
        Components of the connectivity graph (1 without one).
    n_leaves : int
        Number of samples.
    parents : ndarray of shape (n_nodes,) or None
        Parent of each node (``None`` without connectivity).
    distances : ndarray of shape (n_nodes - 1,)
        Only with ``return_distance=True``.

    Notes
    -----
    See :class:`AgglomerativeClustering` for the algorithms and their cost.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import linkage_tree
    >>> children, n_cc, n_leaves, parents = linkage_tree(np.array([[0.], [2.], [5.], [8.5]]))
    >>> children.tolist()
    [[0, 1], [2, 3], [4, 5]]
    """
    X = np.asarray(X)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    X = _as_float(check_array(X, dtype=[np.float64, np.float32]))
    if linkage == "ward" and affinity not in ("euclidean", "l2"):
        raise ValueError(
            f"{affinity} was provided as affinity. Ward can only work with euclidean "
            "distances (i.e. 'euclidean' and 'l2')."
        )
    if connectivity is None and n_clusters is not None:
        warnings.warn(
            "Partial build of the tree is implemented only for structured clustering "
            "(i.e. with explicit connectivity). The algorithm will build the full tree "
            "and only retain the lower branches required for the specified number of "
            "clusters",
            stacklevel=2,
        )
        n_clusters = None
    if connectivity is not None:
        connectivity = check_sparse_structure(
            check_array(connectivity, accept_sparse=["csr", "coo", "lil"]), "connectivity")
    children, n_cc, n_leaves, parents, dist = _build_tree(
        X, connectivity, n_clusters, linkage, affinity, return_distance)
    if return_distance:
        return children, n_cc, n_leaves, parents, dist
    return children, n_cc, n_leaves, parents


class AgglomerativeClustering(ClusterMixin, BaseEstimator):
    """Agglomerative clustering: recursively merge the closest pair of clusters.

    Same parameters, attributes and results as
    :class:`sklearn.cluster.AgglomerativeClustering`, with algorithms that
    need far less memory (see Notes).

    Parameters
    ----------
    n_clusters : int or None, default=2
        Number of clusters to find; ``None`` when ``distance_threshold`` is
        given.
    metric : str or callable, default='euclidean'
        'euclidean', 'l2', 'l1', 'manhattan', 'cityblock', 'cosine' and
        'precomputed' run in our kernels; the other metrics scikit-learn
        accepts (and callables, which receive ``X`` and return the distance
        matrix) go through a full distance matrix. Ward needs 'euclidean'
        (or 'l2').
    memory : str or object with the joblib.Memory interface, default=None
        Cache the tree in this directory / Memory.
    connectivity : array-like, sparse matrix or callable, default=None
        (n_samples, n_samples) graph of the samples each sample may merge
        with, or a callable ``connectivity(X)`` returning one (e.g.
        ``kneighbors_graph``). A graph with several components is completed
        with the closest pair between each two components, with a warning.
    compute_full_tree : 'auto' or bool, default='auto'
        Stop early at ``n_clusters`` (with a connectivity graph only).
        'auto' stops early when ``n_clusters < max(100, 0.02 * n_samples)``
        is false. Must be true with ``distance_threshold``.
    linkage : {'ward', 'complete', 'average', 'single'}, default='ward'
        Linkage criterion.
    distance_threshold : float, default=None
        Linkage distance at or above which clusters are not merged;
        ``n_clusters`` must then be ``None``.
    compute_distances : bool, default=False
        Store ``distances_`` even without ``distance_threshold``.

    Attributes
    ----------
    n_clusters_ : int
        Number of clusters found.
    labels_ : ndarray of shape (n_samples,)
        Cluster of each sample (numbered by the order of the clusters' node
        ids, so labels equal scikit-learn's up to a renumbering).
    n_leaves_ : int
        Number of leaves of the tree.
    n_connected_components_ : int
        Connected components of the connectivity graph (1 without one).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when ``X`` has string column names.
    children_ : ndarray of shape (n_samples - 1, 2)
        Children of each non-leaf node: node ``n_samples + i`` merges
        ``children_[i]``; values below ``n_samples`` are samples.
    distances_ : ndarray of shape (n_nodes - 1,)
        Merge distances (only with ``distance_threshold`` or
        ``compute_distances=True``), float64 whatever the input dtype (as in
        scikit-learn).

    See Also
    --------
    linkage_tree : the tree as arrays.
    clusterlab.plotting.plot_dendrogram : draw the tree.

    Notes
    -----
    Algorithms (Müllner 2011), with n samples, d features:

    - single: Prim's minimum spanning tree with distances computed on the
      fly — time O(n² d), memory O(n).
    - ward: nearest-neighbour chain on centroids and sizes — time O(n² d)
      (worst case), memory O(n·d) (one float64 copy of ``X``). The distance
      reported is ``sqrt(2 |A||B| / (|A|+|B|)) * ||c_A - c_B||``.
    - complete, average: nearest-neighbour chain on a condensed distance
      matrix — time O(n² d), memory O(n²): n(n-1)/2 float64 values, which the
      algorithm needs (any two clusters may become the closest pair).
    - with ``connectivity`` (E edges): a heap of candidate merges along the
      graph — time O((E + merges · degree) log E), memory O(n·d + E).
    - metrics other than the kernel ones and callables: an n×n distance
      matrix (O(n²) memory).

    Ties (equal distances): without connectivity they resolve as in scipy's
    ``linkage`` (which scikit-learn calls): the chain starts at the lowest
    cluster, prefers the previous chain element, else the lowest id; merges
    with equal distances keep the order the algorithm found them. Ward's
    distances are computed from centroids rather than scipy's Lance–Williams
    recurrence, so two merges whose distances differ only in the last bits
    may order differently. With connectivity, candidate merges are ordered by
    (distance, newer node, older node) — scikit-learn's order for Ward; for
    complete/average scikit-learn's heap leaves equal-distance merges in an
    unspecified order. In every case the merge distances are the same.

    References
    ----------
    D. Müllner, "Modern hierarchical, agglomerative clustering algorithms",
    arXiv:1109.2378, 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import AgglomerativeClustering
    >>> X = np.array([0, 2, 5, 8.5]).reshape(-1, 1)
    >>> agg = AgglomerativeClustering(linkage="complete").fit(X)
    >>> agg.children_.tolist()
    [[0, 1], [2, 3], [4, 5]]
    >>> agg.labels_.tolist()
    [1, 1, 0, 0]
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "metric": [StrOptions(set(_KERNEL_METRICS) | _OTHER_METRICS), callable],
        "memory": [str, HasMethods("cache"), None],
        "connectivity": ["array-like", "sparse matrix", callable, None],
        "compute_full_tree": [StrOptions({"auto"}), "boolean"],
        "linkage": [StrOptions(set(_LINKAGES))],
        "distance_threshold": [Interval(numbers.Real, 0, None, closed="left"), None],
        "compute_distances": ["boolean"],
    }

    def __init__(self, n_clusters=2, *, metric="euclidean", memory=None, connectivity=None,
                 compute_full_tree="auto", linkage="ward", distance_threshold=None,
                 compute_distances=False):
        self.n_clusters = n_clusters
        self.metric = metric
        self.memory = memory
        self.connectivity = connectivity
        self.compute_full_tree = compute_full_tree
        self.linkage = linkage
        self.distance_threshold = distance_threshold
        self.compute_distances = compute_distances

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build the tree and cut it into clusters.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
            Samples, or distances with ``metric='precomputed'``.
        y : Ignored

        Returns
        -------
        self : AgglomerativeClustering
        """
        warn_if_dask(X, type(self).__name__)
        X = validate_data(self, X, ensure_min_samples=2, dtype=[np.float64, np.float32])
        if self.linkage == "ward" or is_euclidean(self.metric):
            check_magnitude(X, self)
        X = _as_float(X)
        memory = check_memory(self.memory)
        if not ((self.n_clusters is None) ^ (self.distance_threshold is None)):
            raise ValueError(
                "Exactly one of n_clusters and distance_threshold has to be set, and the "
                "other needs to be None: pass n_clusters=None with a distance_threshold, "
                "or distance_threshold=None with n_clusters."
            )
        if self.distance_threshold is not None and not self.compute_full_tree:
            raise ValueError(
                "compute_full_tree must be True if distance_threshold is set."
            )
        if self.linkage == "ward" and self.metric not in ("euclidean", "l2"):
            raise ValueError(
                f"{self.metric} was provided as metric. Ward can only work with euclidean "
                "distances (i.e. 'euclidean' and 'l2'); use another linkage for this metric."
            )
        n_samples = X.shape[0]
        connectivity = self.connectivity
        if connectivity is not None:
            if callable(connectivity):
                connectivity = connectivity(X)
            connectivity = check_sparse_structure(
                check_array(connectivity, accept_sparse=["csr", "coo", "lil"]), "connectivity")
        compute_full_tree = self.compute_full_tree
        if connectivity is None:
            compute_full_tree = True
        if compute_full_tree == "auto":
            if self.distance_threshold is not None:
                compute_full_tree = True
            else:
                compute_full_tree = self.n_clusters < max(100, 0.02 * n_samples)
        if not compute_full_tree and self.n_clusters > n_samples:
            raise ValueError(
                f"Cannot provide more clusters than samples. {self.n_clusters} n_clusters "
                f"was asked, and there are {n_samples} samples; use n_clusters <= n_samples."
            )
        n_clusters = None if compute_full_tree else self.n_clusters
        return_distance = self.distance_threshold is not None or self.compute_distances

        children, n_cc, n_leaves, parents, dist = memory.cache(_build_tree)(
            X, connectivity, n_clusters, self.linkage, self.metric, return_distance)
        self.children_ = children
        self.n_connected_components_ = n_cc
        self.n_leaves_ = n_leaves
        if return_distance:
            self.distances_ = dist
        if self.distance_threshold is not None:
            self.n_clusters_ = int(np.count_nonzero(self.distances_ >= self.distance_threshold)) + 1
        else:
            self.n_clusters_ = self.n_clusters
        if compute_full_tree:
            self.labels_ = _cut_tree(self.children_, self.n_leaves_, self.n_clusters_)
        else:
            roots = _roots(parents, n_samples)
            self.labels_ = np.searchsorted(np.unique(roots), roots).astype(np.intp)
        return self

    def fit_predict(self, X, y=None):
        """Fit and return ``labels_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, n_samples)
        y : Ignored

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return super().fit_predict(X, y)

    def to_linkage_matrix(self):
        """The tree in scipy's linkage format.

        Returns
        -------
        Z : ndarray of shape (n_samples - 1, 4), float64
            Row ``i``: the two merged nodes, their distance and the number of
            samples in the new cluster, usable with
            :mod:`scipy.cluster.hierarchy` (``dendrogram``, ``fcluster``...).

        Raises
        ------
        ValueError
            If the distances were not computed (fit with
            ``compute_distances=True`` or a ``distance_threshold``) or the tree
            is not complete (``compute_full_tree=False``).
        """
        check_is_fitted(self, "children_")
        if not hasattr(self, "distances_"):
            raise ValueError(
                "The merge distances were not computed: fit with compute_distances=True "
                "(or a distance_threshold) to get a linkage matrix."
            )
        n = self.n_leaves_
        if self.children_.shape[0] != n - 1:
            raise ValueError(
                f"The tree is not complete ({self.children_.shape[0]} of {n - 1} merges): "
                "fit with compute_full_tree=True to get a linkage matrix."
            )
        counts = np.ones(2 * n - 1)
        for k, (a, b) in enumerate(self.children_):
            counts[n + k] = counts[a] + counts[b]
        Z = np.empty((n - 1, 4))
        Z[:, :2] = self.children_
        Z[:, 2] = self.distances_
        Z[:, 3] = counts[n:]
        return Z
