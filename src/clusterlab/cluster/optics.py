"""OPTICS: the density-based cluster ordering, in O(n) memory.

scikit-learn's :class:`sklearn.cluster.OPTICS` runs its main loop in Python:
for every point a radius-neighbour query, a distance computation and an
``argmin`` over the unprocessed points (7 s for 10 000 2-D points). Here the
whole ordering is one numba kernel that, for each processed point, relaxes
the unprocessed points with distances computed on the fly -- skipping the
spatial blocks of rows that a bound on the distance proves cannot improve --
and finds the next point among the blocks' best; nothing of size n x n (nor
any neighbourhood) is stored. The result is scikit-learn's: the same ordering, reachability,
core distances and predecessors (the same tie-breaking: smallest index among
equal reachabilities; the same rounding to 15 decimals), and the same xi and
DBSCAN extractions.

Paths, chosen automatically:

* **features** (dense X with 'minkowski', 'euclidean', 'manhattan',
  'chebyshev' and their aliases): exact k-nearest-neighbour core distances
  (rows sorted along the widest coordinate, each scan stopped by the gap
  along it) and the block-pruned ordering, both numba kernels, O(n) memory.
* **rows** (``metric='precomputed'``, dense or sparse, and every other metric
  or callable scikit-learn accepts, sparse X included): core distances by
  scikit-learn's neighbour search, then for each processed point its row of
  distances to the unprocessed points (read from the matrix, or computed by
  :func:`sklearn.metrics.pairwise_distances` as scikit-learn does), relaxed
  and scanned by a numba kernel.
"""

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.sparse import SparseEfficiencyWarning, issparse
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import pairwise_distances
from sklearn.metrics.pairwise import _VALID_METRICS, PAIRWISE_BOOLEAN_FUNCTIONS
from sklearn.neighbors import NearestNeighbors, sort_graph_by_row_values
from sklearn.utils import assert_all_finite, gen_batches
from sklearn.utils._chunking import get_chunk_n_rows
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import check_memory, validate_data

from clusterlab._dask import warn_if_dask
from .._validation import (check_magnitude, input_dtype, is_euclidean, rescale_rows,
                           warn_p_in_metric_params)
from .._config import OPTICS_BLOCK_ROWS, OPTICS_PARALLEL_MIN
from .._kernels import optics as _ok
from .._config import numba_threads as _numba_threads

__all__ = ["OPTICS", "compute_optics_graph", "cluster_optics_dbscan", "cluster_optics_xi"]

# metric name -> kernel code (0 euclidean, 1 manhattan, 2 chebyshev, 3 minkowski p)
_KERNEL_METRICS = {"euclidean": 0, "l2": 0, "manhattan": 1, "cityblock": 1, "l1": 1,
                   "chebyshev": 2, "infinity": 2}

_MIN_SAMPLES = [Interval(Integral, 2, None, closed="left"),
                Interval(RealNotInt, 0, 1, closed="both")]


def _kernel_metric(metric, p, metric_params):
    """``(code, p)`` when the features kernels compute ``metric``, else None."""
    if not isinstance(metric, str):
        return None
    params = dict(metric_params or {})
    if metric in _KERNEL_METRICS:
        return None if params else (_KERNEL_METRICS[metric], 2.0)
    if metric != "minkowski":
        return None
    p_eff = params.pop("p", p)
    if params or p_eff is None:
        return None if params else (0, 2.0)
    p_eff = float(p_eff)
    if p_eff == 2:
        return 0, 2.0
    if p_eff == 1:
        return 1, 1.0
    if np.isinf(p_eff):
        return 2, np.inf
    if p_eff < 1:
        return None  # scikit-learn's neighbour search raises its own error
    return 3, p_eff


def _validate_size(size, n_samples, param_name):
    if size > n_samples:
        raise ValueError(
            "%s must be no greater than the number of samples (%d). Got %d"
            % (param_name, n_samples, size))


def _n_threads(n_jobs):
    """Threads for ``n_jobs`` (None: numba's current count; -1: all; -2: all but one)."""
    import numba

    if n_jobs is None:
        return numba.get_num_threads()
    limit = numba.config.NUMBA_NUM_THREADS
    n = n_jobs if n_jobs > 0 else limit + 1 + n_jobs
    return int(min(max(n, 1), limit))




def _sorted_knn_core(X, k, code, p):
    """k-th neighbour distances by the kernel, over rows sorted along the
    coordinate of widest spread."""
    n = X.shape[0]
    if n == 0 or X.shape[1] == 0:
        return np.zeros(n)
    dim = int(np.argmax(np.ptp(X, axis=0)))
    order = np.argsort(X[:, dim], kind="stable")
    Xs = np.ascontiguousarray(X[order])
    key = np.ascontiguousarray(Xs[:, dim])
    out = np.empty(n)
    _ok.knn_core_distances(Xs, key, k, code, p, out)
    core = np.empty(n)
    core[order] = out
    return core


def _kd_blocks(X, leaf):
    """Rows grouped into spatial blocks of at most ``leaf`` rows (the leaves of a
    median-split k-d tree): ``(perm, start)``, block b being rows
    ``perm[start[b]:start[b + 1]]``."""
    n = X.shape[0]
    perm = np.arange(n, dtype=np.int64)
    starts = []
    stack = [(0, n)]
    while stack:
        lo, hi = stack.pop()
        if hi - lo <= leaf:
            starts.append(lo)
            continue
        sub = X[perm[lo:hi]]
        dim = int(np.argmax(np.ptp(sub, axis=0)))
        mid = (hi - lo) // 2
        part = np.argpartition(sub[:, dim], mid, kind="introselect")
        perm[lo:hi] = perm[lo:hi][part]
        stack.append((lo + mid, hi))
        stack.append((lo, lo + mid))
    start = np.array(sorted(starts) + [n], dtype=np.int64)
    return perm, start


def _blocks_with_boxes(X):
    perm, start = _kd_blocks(X, OPTICS_BLOCK_ROWS)
    Xs = np.ascontiguousarray(X[perm])
    lo_box = np.ascontiguousarray(np.minimum.reduceat(Xs, start[:-1], axis=0))
    hi_box = np.ascontiguousarray(np.maximum.reduceat(Xs, start[:-1], axis=0))
    return perm, start, Xs, lo_box, hi_box


def _features_graph(X, min_samples, max_eps, code, p, n_threads):
    """Core distances, ordering, reachability and predecessors on the kernels."""
    n = X.shape[0]
    perm, start, Xs, lo_box, hi_box = _blocks_with_boxes(X)
    core = _finish_core(_sorted_knn_core(X, min_samples, code, p), max_eps)
    ordering = np.empty(n, dtype=np.int64)
    reach = np.empty(n)
    pred = np.empty(n, dtype=np.int64)
    parallel = n >= OPTICS_PARALLEL_MIN and n_threads > 1
    _ok.optics_order_blocks(Xs, perm, start, lo_box, hi_box, np.ascontiguousarray(core[perm]),
                            max_eps, code, p, parallel, ordering, reach, pred)
    return ordering, core, reach, pred


def _sklearn_core_distances(X, nbrs, min_samples):
    """k-th neighbour distance by scikit-learn's search, a memory-bounded chunk at a time.

    A brute-force search holds a row of n distances per query row (two for
    metrics whose scikit-learn function makes a temporary copy, cosine's clip):
    its chunks, and scikit-learn's own inside ``kneighbors``, are sized within a
    quarter of the memory this process may still allocate (scikit-learn's 1 GiB
    working memory, with the copy, failed at 30000 cosine rows under a 3 GB limit)."""
    from sklearn import config_context, get_config

    from .. import _config

    n = X.shape[0]
    core = np.empty(n)
    working_mb = float(get_config()["working_memory"])
    avail = _config.available_memory()
    if avail is not None:
        working_mb = max(8.0, min(working_mb, avail / 4 / 2**20))
    brute = getattr(nbrs, "_fit_method", None) == "brute"
    with config_context(working_memory=working_mb):
        rows = get_chunk_n_rows(row_bytes=16 * (n if brute else min_samples), max_n_rows=n)
        for sl in gen_batches(n, rows):
            core[sl] = nbrs.kneighbors(X[sl], min_samples)[0][:, -1]
    return core


def _finish_core(core, max_eps):
    core[core > max_eps] = np.inf
    np.around(core, decimals=np.finfo(core.dtype).precision, out=core)
    return core


def _order_by_rows(X, core, max_eps, metric, p, metric_params):
    """Ordering with one row of distances per processed point (every metric)."""
    n = X.shape[0]
    reach = np.full(n, np.inf)
    pred = np.full(n, -1, dtype=np.int64)
    ordering = np.empty(n, dtype=np.int64)
    rem = np.arange(n, dtype=np.int64)  # unprocessed points are rem[:m]
    pos = np.arange(n, dtype=np.int64)  # rem[pos[i]] == i
    params = dict(metric_params or {})
    if metric == "minkowski" and "p" not in params:
        params["p"] = p
    sparse_rows = metric == "precomputed" and issparse(X)
    if sparse_rows:
        X = X.tocsr()
        row = np.full(n, np.inf)
    # every reachability is inf at first: the first point is 0; take it out of rem
    cur = 0
    rem[0], pos[n - 1] = n - 1, 0
    m = n - 1
    empty = np.empty(0)
    for step in range(n):
        ordering[step] = cur
        if m == 0:
            break
        cc = core[cur]
        if cc == np.inf:
            dists = empty
        elif metric == "precomputed":
            unproc = rem[:m]
            if sparse_rows:
                lo, hi = X.indptr[cur], X.indptr[cur + 1]
                cols = X.indices[lo:hi]
                row[cols] = X.data[lo:hi]
                dists = row[unproc]
                row[cols] = np.inf
            else:
                dists = np.asarray(X[cur, unproc], dtype=np.float64).ravel()
        else:
            dists = pairwise_distances(X[cur:cur + 1], X[rem[:m]], metric, n_jobs=None,
                                       **params).ravel()
        dists = np.ascontiguousarray(dists, dtype=np.float64)
        cur, m = _ok.optics_relax_select(dists, cur, cc, float(max_eps), rem, pos, m,
                                         reach, pred)
    return ordering, reach, pred


@validate_params(
    {
        "X": [np.ndarray, "sparse matrix"],
        "min_samples": _MIN_SAMPLES,
        "max_eps": [Interval(Real, 0, None, closed="both")],
        "metric": [StrOptions(set(_VALID_METRICS) | {"precomputed"}), callable],
        "p": [Interval(Real, 0, None, closed="right"), None],
        "metric_params": [dict, None],
        "algorithm": [StrOptions({"auto", "brute", "ball_tree", "kd_tree"})],
        "leaf_size": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    },
    prefer_skip_nested_validation=False,
)
def compute_optics_graph(X, *, min_samples, max_eps, metric, p, metric_params, algorithm,
                         leaf_size, n_jobs):
    """Compute the OPTICS reachability graph (scikit-learn's function, faster).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features), or \
            (n_samples, n_samples) if metric='precomputed'
        Samples, or distances between samples with ``metric='precomputed'``
        (sparse: only the stored entries are neighbours).
    min_samples : int > 1 or float between 0 and 1
        Samples (the point itself included) in a neighbourhood for a core
        point; a fraction of n_samples is rounded down (at least 2).
    max_eps : float
        Largest neighbourhood radius (``np.inf``: all scales).
    metric : str or callable
        Any metric of :func:`sklearn.metrics.pairwise_distances` or
        'precomputed'. 'minkowski', 'euclidean', 'manhattan', 'chebyshev' and
        their aliases on dense X run entirely in clusterlab's kernels.
    p : float or None
        Minkowski exponent.
    metric_params : dict or None
        Extra keyword arguments of the metric.
    algorithm : {'auto', 'ball_tree', 'kd_tree', 'brute'}
        Neighbour search for the core distances on the rows path (the
        features path always uses its own brute-force kernel).
    leaf_size : int
        Leaf size of scikit-learn's trees (rows path).
    n_jobs : int or None
        Threads of the kernels (None: numba's default) and of scikit-learn's
        neighbour search.

    Returns
    -------
    ordering_ : ndarray of shape (n_samples,)
        Sample indices in cluster order.
    core_distances_ : ndarray of shape (n_samples,)
        Distance at which each sample becomes core (inf: never).
    reachability_ : ndarray of shape (n_samples,)
        Reachability distance of each sample (inf for the seeds).
    predecessor_ : ndarray of shape (n_samples,)
        Sample each one was reached from (-1 for the seeds).

    Notes
    -----
    Time O(n^2 d) like scikit-learn's loop (fewer distances when
    ``max_eps`` is small only on the rows path); memory O(n) above the input
    on the features path -- never an n x n matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import compute_optics_graph
    >>> X = np.array([[1, 2], [2, 5], [3, 6], [8, 7], [8, 8], [7, 3]])
    >>> ordering, core, reach, pred = compute_optics_graph(
    ...     X, min_samples=2, max_eps=np.inf, metric="minkowski", p=2,
    ...     metric_params=None, algorithm="auto", leaf_size=30, n_jobs=None)
    >>> ordering
    array([0, 1, 2, 5, 3, 4])
    >>> pred
    array([-1,  0,  1,  5,  3,  2])
    """
    n_samples = X.shape[0]
    _validate_size(min_samples, n_samples, "min_samples")
    if min_samples <= 1:
        min_samples = max(2, int(min_samples * n_samples))
    max_eps = float(max_eps)
    fast = None if issparse(X) or metric == "precomputed" else \
        _kernel_metric(metric, p, metric_params)
    with _numba_threads(n_jobs):
        if fast is not None:
            # (scikit-learn's neighbour search warns on the other path)
            warn_p_in_metric_params(p, metric_params, stacklevel=4)
            if min_samples > n_samples:  # a fraction rounded up to 2 on one sample
                raise ValueError(
                    f"Expected n_neighbors <= n_samples_fit, but n_neighbors = {min_samples}, "
                    f"n_samples_fit = {n_samples}, n_samples = {n_samples}")
            code, p_eff = fast
            Xc = np.ascontiguousarray(X, dtype=np.float64)
            # (the estimator has checked; a direct call has not, and the
            # neighbour search that raises on the other path is skipped here)
            assert_all_finite(Xc, input_name="X")
            ordering, core, reach, pred = _features_graph(
                Xc, int(min_samples), max_eps, code, p_eff, _n_threads(n_jobs))
        else:
            X = rescale_rows(X, metric)  # cosine, correlation: exact, no overflow
            nbrs = NearestNeighbors(n_neighbors=min_samples, algorithm=algorithm,
                                    leaf_size=leaf_size, metric=metric,
                                    metric_params=metric_params, p=p, n_jobs=n_jobs)
            nbrs.fit(X)
            core = _finish_core(_sklearn_core_distances(X, nbrs, min_samples), max_eps)
            ordering, reach, pred = _order_by_rows(X, core, max_eps, metric, p,
                                                   metric_params)
    if np.all(np.isinf(reach)):
        warnings.warn(
            "All reachability values are inf. Set a larger max_eps or all data will be "
            "considered outliers.", UserWarning)
    return ordering.astype(int, copy=False), core, reach, pred.astype(int, copy=False)


def _check_graph(**arrays):
    """The OPTICS graph's arrays: one entry per sample each, ``ordering`` a
    permutation of the samples (what :func:`compute_optics_graph` returns)."""
    lengths = {name: len(np.asarray(a)) for name, a in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError("the OPTICS graph's arrays must have one entry per sample each, got "
                         + ", ".join(f"{k} {v}" for k, v in lengths.items()) + ".")
    n = next(iter(lengths.values()))
    ordering = np.asarray(arrays["ordering"])
    if not (ordering.dtype.kind in "iu"
            and np.array_equal(np.sort(ordering), np.arange(n))):
        raise ValueError("ordering must be a permutation of 0 .. n_samples - 1 (the "
                         "ordering_ of an OPTICS fit).")


@validate_params(
    {
        "reachability": [np.ndarray],
        "core_distances": [np.ndarray],
        "ordering": [np.ndarray],
        "eps": [Interval(Real, 0, None, closed="both")],
    },
    prefer_skip_nested_validation=True,
)
def cluster_optics_dbscan(*, reachability, core_distances, ordering, eps):
    """DBSCAN-like labels from an OPTICS ordering, for any ``eps <= max_eps``.

    A new cluster starts at each point of the ordering whose reachability
    exceeds ``eps`` but that is core at ``eps``; points that are neither
    reachable nor core at ``eps`` are noise (-1). Linear time. The labels
    are close to :class:`~clusterlab.DBSCAN`'s with the same ``eps`` (border
    points reachable from two clusters can differ).

    Parameters
    ----------
    reachability, core_distances, ordering : ndarray of shape (n_samples,)
        ``reachability_``, ``core_distances_`` and ``ordering_`` of OPTICS.
    eps : float
        The DBSCAN radius.

    Returns
    -------
    labels_ : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import cluster_optics_dbscan, compute_optics_graph
    >>> X = np.array([[1, 2], [2, 5], [3, 6], [8, 7], [8, 8], [7, 3]])
    >>> ordering, core, reach, _ = compute_optics_graph(
    ...     X, min_samples=2, max_eps=np.inf, metric="minkowski", p=2,
    ...     metric_params=None, algorithm="auto", leaf_size=30, n_jobs=None)
    >>> cluster_optics_dbscan(reachability=reach, core_distances=core,
    ...                       ordering=ordering, eps=4.5)
    array([0, 0, 0, 1, 1, 1])
    """
    _check_graph(reachability=reachability, core_distances=core_distances, ordering=ordering)
    starts = (reachability > eps) & (core_distances <= eps)
    labels = np.empty(len(core_distances), dtype=int)
    labels[ordering] = np.cumsum(starts[ordering]) - 1
    labels[(reachability > eps) & (core_distances > eps)] = -1
    return labels


@validate_params(
    {
        "reachability": [np.ndarray],
        "predecessor": [np.ndarray],
        "ordering": [np.ndarray],
        "min_samples": _MIN_SAMPLES,
        "min_cluster_size": _MIN_SAMPLES + [None],
        "xi": [Interval(Real, 0, 1, closed="both")],
        "predecessor_correction": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def cluster_optics_xi(*, reachability, predecessor, ordering, min_samples,
                      min_cluster_size=None, xi=0.05, predecessor_correction=True):
    """Clusters of an OPTICS ordering by the xi-steep method.

    A cluster starts in a steep-down area of the reachability plot (a drop by
    a factor of at least ``1 - xi``) and ends in a matching steep-up area
    (Ankerst et al. 1999, with scikit-learn's corrections); with
    ``predecessor_correction`` each cluster's end is trimmed until its last
    point was reached from inside the cluster (Schubert & Gertz 2018).

    Parameters
    ----------
    reachability, predecessor, ordering : ndarray of shape (n_samples,)
        ``reachability_``, ``predecessor_`` and ``ordering_`` of OPTICS.
    min_samples : int > 1 or float between 0 and 1
        OPTICS's ``min_samples``: steep areas hold at most ``min_samples``
        consecutive non-steep points.
    min_cluster_size : int > 1 or float between 0 and 1, default=None
        Smallest cluster (a fraction of n_samples is rounded down, at least
        2); None: ``min_samples``.
    xi : float in [0, 1], default=0.05
        Minimum relative steepness of a cluster boundary.
    predecessor_correction : bool, default=True

    Returns
    -------
    labels : ndarray of shape (n_samples,)
        The leaf clusters (-1: in no leaf cluster).
    clusters : ndarray of shape (n_clusters, 2)
        ``[start, end]`` (inclusive) positions in the ordering of every cluster
        of the hierarchy, nested clusters before the ones containing them.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import cluster_optics_xi, compute_optics_graph
    >>> X = np.array([[1, 2], [2, 5], [3, 6], [8, 7], [8, 8], [7, 3]])
    >>> ordering, _, reach, pred = compute_optics_graph(
    ...     X, min_samples=2, max_eps=np.inf, metric="minkowski", p=2,
    ...     metric_params=None, algorithm="auto", leaf_size=30, n_jobs=None)
    >>> labels, clusters = cluster_optics_xi(reachability=reach, predecessor=pred,
    ...                                      ordering=ordering, min_samples=2)
    >>> labels
    array([0, 0, 0, 1, 1, 1])
    >>> clusters
    array([[0, 2],
           [3, 5],
           [0, 5]])
    """
    n_samples = len(reachability)
    _check_graph(reachability=reachability, predecessor=predecessor, ordering=ordering)
    _validate_size(min_samples, n_samples, "min_samples")
    if min_samples <= 1:
        min_samples = max(2, int(min_samples * n_samples))
    if min_cluster_size is None:
        min_cluster_size = min_samples
    _validate_size(min_cluster_size, n_samples, "min_cluster_size")
    if min_cluster_size <= 1:
        min_cluster_size = max(2, int(min_cluster_size * n_samples))
    ordering = np.asarray(ordering, dtype=np.int64)
    r = np.empty(n_samples + 1)
    r[:n_samples] = reachability[ordering]
    r[n_samples] = np.inf
    pred_plot = np.ascontiguousarray(predecessor[ordering], dtype=np.int64)
    cap = max(16, n_samples)
    while True:
        out = np.empty((cap, 2), dtype=np.int64)
        k = _ok.xi_clusters(r, pred_plot, ordering, float(xi), int(min_samples),
                            int(min_cluster_size), bool(predecessor_correction), out)
        if k >= 0:
            break
        cap *= 4
    clusters = out[:k].astype(int, copy=True)
    labels = np.empty(n_samples, dtype=np.int64)
    _ok.xi_labels(ordering, clusters.astype(np.int64, copy=False), labels)
    return labels.astype(int, copy=False), clusters


class OPTICS(ClusterMixin, BaseEstimator):
    """OPTICS clustering (scikit-learn's estimator, in O(n) memory and fast).

    Orders the samples so that density-connected ones are neighbours in the
    order, records the reachability distance of each, and extracts clusters
    from that reachability plot by the xi-steep method or a DBSCAN cut. Same
    parameters, attributes, results (up to floating-point ties), warnings and
    errors as :class:`sklearn.cluster.OPTICS`.

    Parameters
    ----------
    min_samples : int > 1 or float between 0 and 1, default=5
        Samples (the point itself included) in a neighbourhood for a core
        point; also the longest run of non-steep points inside a steep area.
        A fraction of n_samples is rounded down (at least 2).
    max_eps : float, default=np.inf
        Largest neighbourhood radius; inf finds clusters at every scale.
    metric : str or callable, default='minkowski'
        Any metric of :func:`sklearn.metrics.pairwise_distances`, or
        'precomputed' (dense or sparse distance matrix; sparse: only the
        stored entries are neighbours). The Minkowski family on dense X runs
        entirely in clusterlab's numba kernels.
    p : float, default=2
        Minkowski exponent.
    metric_params : dict, default=None
        Extra keyword arguments of the metric.
    cluster_method : {'xi', 'dbscan'}, default='xi'
        How labels are extracted from the ordering.
    eps : float, default=None
        Radius of the 'dbscan' extraction (default ``max_eps``; must not
        exceed it).
    xi : float in [0, 1], default=0.05
        Minimum relative steepness of a cluster boundary ('xi').
    predecessor_correction : bool, default=True
        Trim clusters by predecessors (Schubert & Gertz 2018) ('xi').
    min_cluster_size : int > 1 or float between 0 and 1, default=None
        Smallest cluster ('xi'); None: ``min_samples``.
    algorithm : {'auto', 'ball_tree', 'kd_tree', 'brute'}, default='auto'
        scikit-learn's neighbour search for the core distances on the rows
        path (other metrics, precomputed, sparse X); ignored by the kernels.
    leaf_size : int, default=30
        Leaf size of that search.
    memory : str or object with the joblib.Memory interface, default=None
        Caches :func:`compute_optics_graph`.
    n_jobs : int, default=None
        Threads (None: numba's default thread count).

    Attributes
    ----------
    labels_ : ndarray of shape (n_samples,)
        Cluster labels (-1: noise or in no leaf cluster).
    reachability_ : ndarray of shape (n_samples,)
        Reachability distances by sample index (``reachability_[ordering_]``
        is the plot).
    ordering_ : ndarray of shape (n_samples,)
        Sample indices in cluster order.
    core_distances_ : ndarray of shape (n_samples,)
        Core distance of each sample (inf: never core within ``max_eps``).
    predecessor_ : ndarray of shape (n_samples,)
        Sample each one was reached from (-1 for seeds).
    cluster_hierarchy_ : ndarray of shape (n_clusters, 2)
        ``[start, end]`` positions in ``ordering_`` of every cluster ('xi'),
        nested ones first.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Notes
    -----
    Time O(n^2 d) (the number of pairs, as scikit-learn's loop, without its
    per-point Python overhead); memory O(n) above the input with the kernel
    metrics on dense X: no n x n matrix and no neighbourhood is stored, with
    ``max_eps`` bounded or not. The ordering is deterministic and identical
    for every thread count. When no cluster is found, ``cluster_hierarchy_``
    has shape (0, 2) (scikit-learn returns an empty 1-D float array).

    References
    ----------
    Ankerst, Breunig, Kriegel and Sander, "OPTICS: ordering points to identify
    the clustering structure", SIGMOD 1999. Schubert and Gertz, "Improving the
    cluster structure extracted from OPTICS plots", LWDA 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import OPTICS
    >>> X = np.array([[1, 2], [2, 5], [3, 6], [8, 7], [8, 8], [7, 3]])
    >>> OPTICS(min_samples=2).fit(X).labels_
    array([0, 0, 0, 1, 1, 1])
    """

    _parameter_constraints: dict = {
        "min_samples": _MIN_SAMPLES,
        "max_eps": [Interval(Real, 0, None, closed="both")],
        "metric": [StrOptions(set(_VALID_METRICS) | {"precomputed"}), callable],
        "p": [Interval(Real, 1, None, closed="left")],
        "metric_params": [dict, None],
        "cluster_method": [StrOptions({"dbscan", "xi"})],
        "eps": [Interval(Real, 0, None, closed="both"), None],
        "xi": [Interval(Real, 0, 1, closed="both")],
        "predecessor_correction": ["boolean"],
        "min_cluster_size": [
            Interval(Integral, 2, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
            None,
        ],
        "algorithm": [StrOptions({"auto", "brute", "ball_tree", "kd_tree"})],
        "leaf_size": [Interval(Integral, 1, None, closed="left")],
        "memory": [str, HasMethods("cache"), None],
        "n_jobs": [Integral, None],
    }

    def __init__(self, *, min_samples=5, max_eps=np.inf, metric="minkowski", p=2,
                 metric_params=None, cluster_method="xi", eps=None, xi=0.05,
                 predecessor_correction=True, min_cluster_size=None, algorithm="auto",
                 leaf_size=30, memory=None, n_jobs=None):
        self.max_eps = max_eps
        self.min_samples = min_samples
        self.min_cluster_size = min_cluster_size
        self.algorithm = algorithm
        self.metric = metric
        self.metric_params = metric_params
        self.p = p
        self.leaf_size = leaf_size
        self.cluster_method = cluster_method
        self.eps = eps
        self.xi = xi
        self.predecessor_correction = predecessor_correction
        self.memory = memory
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=False)  # the metric is validated later
    def fit(self, X, y=None):
        """Compute the ordering and extract the clusters.

        Parameters
        ----------
        X : {ndarray, sparse matrix} of shape (n_samples, n_features), or \
                (n_samples, n_samples) if metric='precomputed'
        y : Ignored

        Returns
        -------
        self : OPTICS
        """
        warn_if_dask(X, type(self).__name__)
        dtype = bool if self.metric in PAIRWISE_BOOLEAN_FUNCTIONS else float
        if dtype is bool and input_dtype(X) != bool:
            warnings.warn(
                f"Data will be converted to boolean for metric {self.metric}, to avoid "
                "this warning, you may convert the data prior to calling fit.",
                DataConversionWarning)
        X = validate_data(self, X, dtype=dtype, accept_sparse="csr")
        if is_euclidean(self.metric, self.p, self.metric_params):
            check_magnitude(X, self)
        if self.metric == "precomputed" and issparse(X):
            X = X.copy()  # never touch the caller's matrix
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SparseEfficiencyWarning)
                X.setdiag(X.diagonal())  # each point is its own neighbour
            X = sort_graph_by_row_values(X, warn_when_not_sorted=False)
        memory = check_memory(self.memory)
        (self.ordering_, self.core_distances_, self.reachability_,
         self.predecessor_) = memory.cache(compute_optics_graph)(
            X=X, min_samples=self.min_samples, algorithm=self.algorithm,
            leaf_size=self.leaf_size, metric=self.metric, metric_params=self.metric_params,
            p=self.p, n_jobs=self.n_jobs, max_eps=self.max_eps)
        if self.cluster_method == "xi":
            labels, clusters = cluster_optics_xi(
                reachability=self.reachability_, predecessor=self.predecessor_,
                ordering=self.ordering_, min_samples=self.min_samples,
                min_cluster_size=self.min_cluster_size, xi=self.xi,
                predecessor_correction=self.predecessor_correction)
            self.cluster_hierarchy_ = clusters
        else:
            eps = self.max_eps if self.eps is None else self.eps
            if eps > self.max_eps:
                raise ValueError(
                    "Specify an epsilon smaller than %s. Got %s." % (self.max_eps, eps))
            labels = cluster_optics_dbscan(
                reachability=self.reachability_, core_distances=self.core_distances_,
                ordering=self.ordering_, eps=eps)
        self.labels_ = labels
        return self
