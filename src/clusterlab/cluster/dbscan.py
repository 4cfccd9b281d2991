"""DBSCAN in O(n) memory above the input, with ``predict`` for new points.

scikit-learn's :class:`sklearn.cluster.DBSCAN` first stores every
eps-neighbourhood (a list of index arrays whose total length is the number
of neighbour pairs -- 15 GB for 180 000 2-D points in its issue #22531), then
expands clusters over them. This implementation never stores a
neighbourhood: it re-enumerates candidate pairs from a spatial index in three
passes (weighted neighbour counts -> core flags; union-find over core
points; border labels), keeping O(n) state.

Index, chosen automatically:

* **grid** (1 to 3 features, Minkowski metrics): cells whose diameter is at
  most eps, so every point of a cell is a neighbour of every other one; a cell
  holding at least ``min_samples`` weight makes all its points core without a
  single distance, and two cells are joined by the first pair of core points
  found within eps.
* **projected grid** (more features): a grid of side eps over the (up to
  three) coordinates of widest spread; candidates come from the 3**g
  neighbouring cells and are checked with the exact distance over all
  features (a projection onto coordinates never increases a Minkowski
  distance, so nothing is missed). With ``algorithm="brute"`` the grid has a
  single cell: a blocked exhaustive search.
* **products** (Euclidean, ``DBSCAN_PRODUCTS_MIN_FEATURES`` = 24 features or
  more, or from ``DBSCAN_SHARE_MIN_FEATURES`` = 10 when a sample says the
  projected grid would test at least ``DBSCAN_PRODUCTS_MIN_SHARE`` = half of
  the pairs): BLAS products of the centred rows, each pair of row blocks once,
  exact where they decide; one pass builds the neighbour lists while they
  fit in ``DBSCAN_NEIGHBOUR_LIST_BYTES`` (else three passes of products).
* **distance blocks** (``metric="precomputed"`` dense or sparse, any other
  metric, callables, sparse ``X``): rows of the distance matrix are produced
  (or read) a memory-bounded block at a time, three times.
* **direct** (small dense data, ``n_samples**2 * n_features`` at most
  ``DBSCAN_DIRECT_MAX_WORK``, Euclidean, Manhattan or Chebyshev, fewer
  features than the products take): the distance blocks, from numpy's
  distances computed with the grid kernels' operations -- the same labels,
  without compiling the grid's kernels in a new environment.
"""

import numbers
import warnings

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.metrics import pairwise_distances_chunked
from sklearn.metrics.pairwise import _VALID_METRICS, PAIRWISE_BOOLEAN_FUNCTIONS
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from clusterlab._dask import warn_if_dask
from .. import _config
from .._config import WORKING_MEMORY_BYTES, chunk_rows
from .._validation import (canonical_sparse, check_algorithm_metric, check_magnitude,
                           input_dtype, is_euclidean, magnitude_limit,
                           refuse_semimetric_tree, rescale_rows, warn_boolean_conversion,
                           warn_p_in_metric_params)
from .._kernels import interpret as _interp
from .._kernels import neighbors as _nk
from ._dbscan_blocks import dbscan_blocks, dbscan_products, use_products
from .._config import numba_threads as _numba_threads

__all__ = ["DBSCAN", "dbscan"]



def _resolve_metric(metric, p, metric_params, algorithm=None):
    """Return ``(code, p)`` for a metric the kernels compute, or ``None``.

    ``None`` means the distance-block path (scikit-learn computes the
    distances, a block at a time). ``algorithm`` (fit on dense X): for
    Minkowski with 0 < p < 1 (a semi-metric), scikit-learn's warning, or its
    error for a tree algorithm.
    """
    if callable(metric) or (metric not in _nk.METRIC_CODES and metric != "minkowski"):
        return None
    params = dict(metric_params or {})
    if metric != "minkowski":
        return None if params else _nk.metric_code(metric)
    p_param = params.pop("p", None)
    p_eff = p_param if p_param is not None else (2 if p is None else p)
    if p_eff <= 0:
        raise ValueError(f"p={p_eff} is not a valid Minkowski exponent: it must be > 0.")
    if p_eff < 1:  # scipy's exact distances, a block at a time (scikit-learn's brute)
        if algorithm in ("kd_tree", "ball_tree"):
            refuse_semimetric_tree(algorithm)
        if algorithm is not None:
            warnings.warn("Mind that for 0 < p < 1, Minkowski metrics are not distance "
                          "metrics. Continuing the execution with `algorithm='brute'`.",
                          stacklevel=3)
        return None
    if params:  # weighted Minkowski ("w") and friends
        return None
    return _nk.metric_code("minkowski", p_eff)


def _check_precomputed(X):
    if X.shape[0] != X.shape[1]:
        raise ValueError(
            f"Precomputed matrix must be square. Input is a {X.shape[0]}x{X.shape[1]} matrix: "
            "with metric='precomputed' pass the (n_samples, n_samples) distance matrix, or "
            "pass the feature matrix with a metric such as 'euclidean'.")
    data = X.data if sparse.issparse(X) else X
    if np.any(data < 0):
        raise ValueError(
            "Negative values in data passed to precomputed distance matrix: distances "
            "must be >= 0.")


def _dbscan_grid(X, eps, min_samples, code, p, ws, nonneg, brute):
    """Labels, core mask and predict's index with the grid kernels (dense X, Minkowski metric).

    The kernels widen every coordinate to float64 before computing with it, so
    float32 input is widened once here: the same results, and one compiled
    variant of each kernel instead of two.
    """
    X = np.ascontiguousarray(X, dtype=np.float64)
    n = X.shape[0]
    grid = _nk.GridIndex(X, eps, code, p, clique_ok=not brute, single_cell=brute)
    order = grid.order
    Xs = np.ascontiguousarray(X[order])
    XT = np.ascontiguousarray(Xs.T)  # feature-major: distance loops vectorise
    wss = np.ascontiguousarray(ws[order])
    reps = _nk.reduced_radius(eps, code, p)
    items = (grid.item_cell, grid.item_lo, grid.item_hi)
    is_core = np.zeros(n, dtype=np.bool_)
    # bounding boxes of blocks let a point skip most non-neighbours
    # (O(n_blocks * d) memory, about 2 * n * d / _config.NEIGHBORS_BLOCK_ROWS floats)
    blocks = (grid.cell_block, grid.block_start)
    boxes = np.empty((len(grid.block_start) - 1, 2, X.shape[1]), dtype=np.float64)
    _nk.grid_cell_boxes(Xs, grid.block_start, np.ones(n, dtype=np.bool_), boxes)
    _nk.grid_core_points(XT, wss, *grid.grid_args, grid.clique, *items, code, p, reps,
                         float(min_samples), nonneg, *blocks, boxes, is_core)
    del wss
    _nk.grid_cell_boxes(Xs, grid.block_start, is_core, boxes)
    del Xs
    parent = np.empty(n, dtype=np.int64)
    _nk.grid_union_cores(XT, is_core, *grid.grid_args, grid.clique, code, p, reps, *blocks,
                         boxes, parent)
    pos = np.empty(n, dtype=np.int64)
    pos[order] = np.arange(n, dtype=np.int64)
    labels_sorted = np.empty(n, dtype=np.int64)
    _nk.label_components(is_core, pos, parent, labels_sorted)
    del parent, pos
    _nk.grid_border_labels(XT, is_core, *grid.grid_args, grid.clique, *items, code, p, reps,
                           *blocks, boxes, labels_sorted)
    labels = np.empty(n, dtype=np.intp)
    labels[order] = labels_sorted
    core = np.zeros(n, dtype=np.bool_)
    core[order] = is_core
    core_grid = None if brute else _core_grid(grid, is_core, core, boxes, eps, code, p)
    return labels, core, core_grid


def _core_grid(grid, is_core, core, core_boxes, eps, code, p):
    """The fit's grid restricted to its core samples: ``predict``'s index, in O(n).

    Cells and blocks without a core are dropped; ``comp_pos`` maps each core,
    in grid order, to its row of ``components_``. Kept with the fitted model
    (about 8 bytes per core sample plus the blocks' boxes) so that predict
    neither sorts nor copies the core samples. None when there is no core
    sample.
    """
    sorted_core = np.flatnonzero(is_core)
    if sorted_core.shape[0] == 0:
        return None
    rank = np.cumsum(core, dtype=np.int64) - 1  # original row -> row of components_
    flags = is_core.astype(np.int64)
    per_cell = np.add.reduceat(flags, grid.cell_start[:-1])
    per_block = np.add.reduceat(flags, grid.block_start[:-1])
    keep_cell = per_cell > 0
    keep_block = per_block > 0
    cell_start = np.concatenate(([0], np.cumsum(per_cell[keep_cell]))).astype(np.int64)
    block_start = np.concatenate(([0], np.cumsum(per_block[keep_block]))).astype(np.int64)
    return {
        "eps": eps, "code": code, "p": p, "dims": grid.dims, "origin": grid.origin,
        "side": grid.side, "extents": grid.extents, "strides": grid.strides,
        "offsets": grid.offsets, "cell_keys": np.ascontiguousarray(grid.cell_keys[keep_cell]),
        "cell_start": cell_start,
        "cell_block": np.searchsorted(block_start, cell_start).astype(np.int64),
        "block_start": block_start, "boxes": np.ascontiguousarray(core_boxes[keep_block]),
        "comp_pos": np.ascontiguousarray(rank[grid.order[sorted_core]]),
    }


def _predict_grid(X, comps, core_labels, eps, code, p, core_grid=None):
    """Label of the nearest core sample within eps of each row of X (-1: none).

    On the fit's grid restricted to the core samples (``core_grid``, see
    :func:`_core_grid`) when given, else on a new grid over ``comps`` (cells
    of diameter <= eps in 1 to 3 dimensions); each cell knows whether all its
    cores share one label. See
    :func:`clusterlab._kernels.neighbors.grid_predict_labels`.
    """
    core_labels = np.ascontiguousarray(core_labels, dtype=np.int64)
    if core_grid is None:
        grid = _nk.GridIndex(comps, eps, code, p, clique_ok=True)
        boxes = np.empty((len(grid.block_start) - 1, 2, comps.shape[1]), dtype=np.float64)
        pos = np.ascontiguousarray(grid.order)
        _nk.grid_cell_boxes(np.ascontiguousarray(comps[pos]), grid.block_start,
                            np.ones(len(pos), dtype=np.bool_), boxes)
        core_grid = {"dims": grid.dims, "origin": grid.origin, "side": grid.side,
                     "extents": grid.extents, "strides": grid.strides,
                     "offsets": grid.offsets, "cell_keys": grid.cell_keys,
                     "cell_start": grid.cell_start, "cell_block": grid.cell_block,
                     "block_start": grid.block_start, "boxes": boxes, "comp_pos": pos}
    g = core_grid
    # O(m) without copying the cores; compiled on the first predict only
    cell_label = np.empty(g["cell_keys"].shape[0], dtype=np.int64)
    near_label = np.empty(g["cell_keys"].shape[0], dtype=np.int64)
    _nk.grid_cell_labels(core_labels, g["comp_pos"], g["cell_start"], g["cell_keys"],
                         g["extents"], g["strides"], g["offsets"], cell_label, near_label)
    out = np.empty(X.shape[0], dtype=np.int64)
    _nk.grid_predict_labels(X, comps, g["comp_pos"], g["dims"], g["origin"], g["side"],
                            g["cell_keys"], g["cell_start"], g["extents"], g["strides"],
                            g["offsets"], g["cell_block"], g["block_start"], g["boxes"], code,
                            p, _nk.reduced_radius(eps, code, p), core_labels, cell_label,
                            near_label, out)
    return out


#: metric codes whose reduced distances numpy computes with the grid kernels'
#: operations (:func:`_reduced_distances`): squared Euclidean, Manhattan, Chebyshev
_DIRECT_CODES = (0, 1, 2)


def _reduced_distances(A, B, code):
    """(len(A), len(B)) reduced distances (squared Euclidean, Manhattan or
    Chebyshev: ``code`` 0, 1, 2) of float64 rows, by the grid kernels'
    operations in their order (:func:`clusterlab._kernels.neighbors.metric._rdist`):
    the same values, hence the same radius tests."""
    R = np.zeros((A.shape[0], B.shape[0]))
    for k in range(A.shape[1]):
        t = np.abs(A[:, k, None] - B[None, :, k])
        if code == 0:
            R += t * t
        elif code == 1:
            R += t
        else:
            np.maximum(R, t, out=R)
    return R


def _direct_blocks(X, code):
    """A re-iterable source of reduced-distance row blocks of X against itself
    for :func:`dbscan_blocks` (about 2 MB a block)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    n = X.shape[0]
    rows = max(1, (1 << 18) // max(n, 1))

    def blocks():
        for start in range(0, n, rows):
            yield start, _reduced_distances(X[start:start + rows], X, code)

    return blocks


def _use_direct(X, resolved):
    """Whether a fit on dense data that does not take BLAS products takes
    :func:`_direct_blocks` (small data, metric codes 0-2;
    :data:`clusterlab._config.DBSCAN_DIRECT_MAX_WORK`)."""
    return (resolved is not None and resolved[0] in _DIRECT_CODES
            and X.shape[0] ** 2 * X.shape[1] <= _config.DBSCAN_DIRECT_MAX_WORK)


def _predict_direct(X, comps, core_labels, eps, code, p):
    """:func:`_predict_grid`'s labels from every query-core distance (numpy),
    for few pairs (:data:`clusterlab._config.DBSCAN_PREDICT_DIRECT_MAX_PAIRS`)
    and metric codes 0-2 (:func:`_reduced_distances`). Memory O(queries x cores)."""
    R = _reduced_distances(X, comps, code)
    nearest = np.argmin(R, axis=1)  # the smallest index among equidistant cores
    within = R[np.arange(X.shape[0]), nearest] <= _nk.reduced_radius(eps, code, p)
    return np.where(within, np.asarray(core_labels)[nearest], -1)


def _dbscan_sparse_precomputed(X, eps, min_samples, ws):
    X = X.tocsr()
    if not X.has_canonical_format:
        X = X.copy()
        X.sum_duplicates()
    n = X.shape[0]
    indptr = X.indptr.astype(np.int64, copy=False)
    indices = X.indices.astype(np.int64, copy=False)
    data = X.data.astype(np.float64, copy=False)
    diag_in = np.asarray(X.diagonal() <= eps)
    counts = np.empty(n, dtype=np.float64)
    _nk.csr_neighbour_weights(indptr, indices, data, diag_in, eps, ws, counts)
    is_core = counts >= min_samples
    parent = np.empty(n, dtype=np.int64)
    _nk.init_parent(parent)
    _nk.csr_union_cores(indptr, indices, data, eps, is_core, parent)
    labels = np.empty(n, dtype=np.int64)
    _nk.label_components_plain(is_core, parent, labels)
    _nk.csr_border_labels(indptr, indices, data, eps, is_core, labels)
    return labels.astype(np.intp, copy=False), is_core


def _distance_input(X, metric):
    """X for scikit-learn's distances: boolean for a boolean metric (nonzero is
    True, as scikit-learn's neighbour search reads it; pairwise_distances would
    convert it with a DataConversionWarning); a CSR matrix with 32-bit indices
    when they fit (scikit-learn's sparse distance code wants them)."""
    if isinstance(metric, str) and metric in PAIRWISE_BOOLEAN_FUNCTIONS:
        X = X.astype(bool)
    X = rescale_rows(X, metric)  # cosine, correlation: exact, no overflow
    if not sparse.issparse(X) or X.indices.dtype == np.int32 or X.nnz >= 2**31 - 1 \
            or max(X.shape) >= 2**31 - 1:
        return X
    return sparse.csr_matrix((X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)),
                             shape=X.shape)


def _metric_kwargs(metric, p, metric_params):
    """``(metric, kwargs)`` for :func:`sklearn.metrics.pairwise_distances_chunked`.

    Minkowski with p = 2 or 1 becomes 'euclidean' / 'manhattan' (as
    scikit-learn's neighbour search does): scipy's minkowski takes no sparse
    input, and those two are faster."""
    kwargs = dict(metric_params or {})
    if metric == "minkowski":
        p_eff = kwargs.pop("p", 2 if p is None else p)
        if p_eff == 2 and not kwargs:
            return "euclidean", kwargs
        if p_eff == 1 and not kwargs:
            return "manhattan", kwargs
        kwargs["p"] = p_eff
    return metric, kwargs


def _check_eps_magnitude(eps, n_features):
    """Raise a clear ``ValueError`` when ``eps`` is so large that squared
    Euclidean distances up to it overflow float64 (a distance within eps
    would compare as beyond it)."""
    if float(eps) > magnitude_limit(n_features):
        raise ValueError(
            f"eps={float(eps):.3g} is too large: squared Euclidean distances of that size "
            f"overflow float64 with {n_features} features. Divide X and eps by a common "
            "factor (the clustering is the same).")


class DBSCAN(ClusterMixin, BaseEstimator):
    """Density-based clustering (DBSCAN) in bounded memory, with ``predict``.

    A drop-in replacement for :class:`sklearn.cluster.DBSCAN`: same
    parameters, attributes and labels (including the cluster numbers), but it
    never stores eps-neighbourhoods, so memory stays O(n) above the input, and
    it can label new points with :meth:`predict`.

    Parameters
    ----------
    eps : float, default=0.5
        Radius of a neighbourhood: two samples are neighbours when their
        distance is at most ``eps``. Must be > 0.
    min_samples : int, default=5
        Weighted number of samples (the point itself included) within ``eps``
        of a point for it to be a core point. Must be >= 1.
    metric : str or callable, default='euclidean'
        'euclidean', 'manhattan' ('cityblock', 'l1'), 'chebyshev' and
        'minkowski' (with ``p``) run on clusterlab's own index; 'precomputed'
        takes a dense or sparse (n_samples, n_samples) distance matrix (in
        the sparse case only stored entries are neighbours); any other metric
        of :func:`sklearn.metrics.pairwise_distances` or a callable is computed
        a memory-bounded block at a time.
    metric_params : dict, default=None
        Extra keyword arguments of the metric.
    algorithm : {'auto', 'ball_tree', 'kd_tree', 'brute'}, default='auto'
        'brute' forces the blocked exhaustive search; the other values let
        clusterlab pick its index (grid or projected grid) and are accepted
        for compatibility.
    leaf_size : int, default=30
        Accepted for compatibility with scikit-learn; unused (there is no tree).
    p : float, default=None
        Minkowski exponent for ``metric='minkowski'`` (None means 2).
    n_jobs : int, default=None
        Number of threads for the parallel kernels (None: numba's default,
        -1: all).

    Attributes
    ----------
    core_sample_indices_ : ndarray of shape (n_core_samples,)
        Indices of the core samples, increasing.
    components_ : ndarray of shape (n_core_samples, n_features)
        Copy of each core sample (same dtype as the float input).
    labels_ : ndarray of shape (n_samples,)
        Cluster of each sample; noise is -1. Clusters are numbered in the
        order of their smallest core-sample index, as scikit-learn does.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features, when X has string feature names.

    See Also
    --------
    dbscan : the function form.
    sklearn.cluster.DBSCAN : the reference implementation.

    Notes
    -----
    **Border points** that two clusters can claim get the smallest label
    among the clusters with a core point within ``eps``. scikit-learn expands
    clusters one at a time in the order of their first core sample, so the
    first cluster to reach a border point is the one with the smallest
    label: the two rules give identical labels.

    **Complexity.** Time: O(n log n) for sorting the points into cells, plus
    the candidate pairs examined: with the grid (1-3 features) O(n * k)
    where k is the number of points in the 3**d neighbouring cells, and
    often far less, since crowded cells need no distances at all; with more
    features the pairs that share a neighbouring cell in the projection on
    up to three coordinates (O(n**2) in the worst case, e.g. when all points
    fall in one cell or with ``algorithm='brute'``); O(n**2 * d) for other
    metrics and, in BLAS products, for Euclidean distances on 24 features or
    more (neighbour lists kept up to 256 MiB, 4 bytes a pair). Memory: O(n) for flags, weights, parents and labels plus one
    sorted copy of X (grid paths) or one distance block of
    ``clusterlab._config.WORKING_MEMORY_BYTES`` (block paths); never the
    neighbourhoods. Ties: a distance exactly equal to eps is a neighbour.

    References
    ----------
    Ester, Kriegel, Sander and Xu (1996), "A Density-Based Algorithm for
    Discovering Clusters in Large Spatial Databases with Noise", KDD.
    Gunawan (2013), "A faster algorithm for DBSCAN", master's thesis, TU
    Eindhoven (grid cells of diameter eps).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import DBSCAN
    >>> X = np.array([[1, 2], [2, 2], [2, 3], [8, 7], [8, 8], [25, 80]])
    >>> model = DBSCAN(eps=3, min_samples=2).fit(X)
    >>> model.labels_
    array([ 0,  0,  0,  1,  1, -1])
    >>> model.predict([[1.5, 2.5], [8, 9], [0, 40]])
    array([ 0,  1, -1])
    """

    _parameter_constraints: dict = {
        "eps": [Interval(numbers.Real, 0.0, None, closed="neither")],
        "min_samples": [Interval(numbers.Integral, 1, None, closed="left")],
        "metric": [StrOptions(set(_VALID_METRICS) | {"precomputed"}), callable],
        "metric_params": [dict, None],
        "algorithm": [StrOptions({"auto", "ball_tree", "kd_tree", "brute"})],
        "leaf_size": [Interval(numbers.Integral, 1, None, closed="left")],
        # scikit-learn: [0, inf) for DBSCAN and (0, inf] for its NearestNeighbors
        "p": [Interval(numbers.Real, 0.0, None, closed="neither"), None],
        "n_jobs": [numbers.Integral, None],
    }

    def __init__(self, eps=0.5, *, min_samples=5, metric="euclidean", metric_params=None,
                 algorithm="auto", leaf_size=30, p=None, n_jobs=None):
        self.eps = eps
        self.min_samples = min_samples
        self.metric = metric
        self.metric_params = metric_params
        self.algorithm = algorithm
        self.leaf_size = leaf_size
        self.p = p
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=False)  # the metric may be a callable
    def fit(self, X, y=None, sample_weight=None):
        """Cluster ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or \
(n_samples, n_samples) when ``metric='precomputed'``
            Training data, or distances between samples.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each sample: a sample whose weight is at least
            ``min_samples`` is core by itself; negative weights may keep a
            neighbour from being core (as in scikit-learn).

        Returns
        -------
        self : DBSCAN
        """
        warn_if_dask(X, type(self).__name__)
        dtype_in = input_dtype(X) if self.metric in PAIRWISE_BOOLEAN_FUNCTIONS else None
        X = validate_data(self, X, accept_sparse="csr", dtype=[np.float64, np.float32],
                          order="C")
        X = canonical_sparse(X)  # duplicate entries summed, as the matrix's values are
        warn_boolean_conversion(self.metric, dtype_in, self.algorithm, X.shape[1])
        n = X.shape[0]
        precomputed = self.metric == "precomputed"
        check_algorithm_metric(self.algorithm, self.metric)
        if is_euclidean(self.metric, self.p, self.metric_params):
            # huge values stay right: a distance that overflows to +inf is beyond
            # eps -- while eps itself does not overflow when squared
            _check_eps_magnitude(self.eps, X.shape[1])
            check_magnitude(X, self, huge=False)
        if precomputed:
            _check_precomputed(X)
        ws = _check_sample_weight(sample_weight, X, dtype=np.float64)
        ws = np.ascontiguousarray(ws, dtype=np.float64)
        warn_p_in_metric_params(self.p, self.metric_params, stacklevel=4)
        eps = float(self.eps)
        min_samples = float(self.min_samples)
        resolved = None if precomputed else _resolve_metric(
            self.metric, self.p, self.metric_params,
            None if sparse.issparse(X) else self.algorithm)
        n_jobs = self.n_jobs
        core_grid = None
        if n_jobs is None and n * X.shape[1] < _config.DBSCAN_SERIAL_BELOW:
            n_jobs = 1  # starting threads costs more than the work
        with _numba_threads(n_jobs):
            if precomputed and sparse.issparse(X):
                labels, core = _dbscan_sparse_precomputed(X, eps, min_samples, ws)
            elif precomputed:
                rows = chunk_rows(n, X.dtype.itemsize)

                def blocks():
                    for start in range(0, n, rows):
                        yield start, X[start:start + rows]

                labels, core = dbscan_blocks(blocks, n, eps, min_samples, ws)
            elif resolved is None or sparse.issparse(X):
                metric, kwargs = _metric_kwargs(self.metric, self.p, self.metric_params)
                Xd = _distance_input(X, metric)

                def blocks():
                    start = 0
                    for D in pairwise_distances_chunked(
                            Xd, metric=metric, n_jobs=self.n_jobs,
                            working_memory=WORKING_MEMORY_BYTES / 2**20, **kwargs):
                        yield start, D
                        start += D.shape[0]

                labels, core = dbscan_blocks(blocks, n, eps, min_samples, ws)
            elif use_products(X, resolved, self.algorithm, eps):
                labels, core = dbscan_products(X, eps, min_samples, ws)
            elif _use_direct(X, resolved):
                code, p = resolved
                labels, core = dbscan_blocks(_direct_blocks(X, code), n,
                                             _nk.reduced_radius(eps, code, p), min_samples, ws,
                                             interpret=_interp.use_interpreter(True))
            else:
                code, p = resolved
                labels, core, core_grid = _dbscan_grid(X, eps, min_samples, code, p, ws,
                                                       nonneg=bool(np.all(ws >= 0)),
                                                       brute=self.algorithm == "brute")
        # predict's index over the core samples, when the fit had a grid
        self._core_grid = core_grid
        self.core_sample_indices_ = np.flatnonzero(core).astype(np.intp)
        self.labels_ = labels
        if len(self.core_sample_indices_):
            self.components_ = X[self.core_sample_indices_]  # (indexing copies already)
        else:
            self.components_ = np.empty((0, X.shape[1]), dtype=X.dtype)
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Cluster ``X`` and return ``labels_``.

        Parameters
        ----------
        X : {array-like, sparse matrix}
            As in :meth:`fit`.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            As in :meth:`fit`.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
            Cluster labels, -1 for noise.
        """
        return self.fit(X, sample_weight=sample_weight).labels_

    def predict(self, X):
        """Label new points by their nearest core sample within ``eps``.

        A point joins the cluster of its nearest core sample if that sample
        is within ``eps`` (distance <= eps), else it is noise (-1). Among
        equidistant core samples the one with the smallest index wins. For
        the training data this gives every core sample its own label; a
        border point may get a different (equally valid) cluster than in
        ``labels_`` when a core point of another cluster is closer.

        This is the recipe of the seed notebook (a 1-nearest-neighbour
        classifier on ``components_`` with a distance cut at eps), exact and
        without a second model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_queries, n_features)
            New points; with ``metric='precomputed'``, their distances to the
            training samples, shape (n_queries, n_samples_fit).

        Returns
        -------
        labels : ndarray of shape (n_queries,)

        Notes
        -----
        Minkowski metrics on dense data: ``fit`` keeps its grid restricted to
        the m core samples (cells of diameter at most eps in 1 to 3
        dimensions, of side eps on up to three coordinates above); predict
        spends O(m) on each cell's single label (O(m log m) more to build a
        grid when eps or the metric changed since fit), then per query one
        lookup of its cell: where all cores around carry one label, one core
        within eps in its own cell decides; elsewhere each neighbouring cell of
        another label is asked for one core within eps, and the nearest core is
        computed only where cores of two clusters are within eps. A few
        queries against few cores (at most
        ``clusterlab._config.DBSCAN_PREDICT_DIRECT_MAX_PAIRS`` pairs; Euclidean,
        Manhattan, Chebyshev) skip the index: every distance is computed, the
        same labels. Distance blocks for the other metrics. Memory O(number of
        cells) above the kept index, plus one distance block.
        """
        check_is_fitted(self, "labels_")
        X = canonical_sparse(validate_data(self, X, accept_sparse="csr",
                                           dtype=[np.float64, np.float32], order="C",
                                           reset=False))
        m = X.shape[0]
        core_labels = self.labels_[self.core_sample_indices_]
        out = np.full(m, -1, dtype=np.intp)
        if m == 0 or len(core_labels) == 0:
            return out
        eps = float(self.eps)
        if is_euclidean(self.metric, self.p, self.metric_params):
            _check_eps_magnitude(eps, X.shape[1])
        if self.metric == "precomputed":
            cols = self.core_sample_indices_
            rows = chunk_rows(len(cols), 8)
            for start in range(0, m, rows):
                part = X[start:start + rows]
                if sparse.issparse(part):
                    # missing entries of a sparse distance matrix are infinitely far
                    sub = part[:, cols].tocoo()
                    block = np.full(sub.shape, np.inf)
                    block[sub.row, sub.col] = sub.data
                else:
                    block = part[:, cols]
                self._assign_block(block, start, core_labels, eps, out)
            return out
        resolved = _resolve_metric(self.metric, self.p, self.metric_params)
        comps = self.components_
        with _numba_threads(self.n_jobs):
            if resolved is None or sparse.issparse(X):
                metric, kwargs = _metric_kwargs(self.metric, self.p, self.metric_params)
                start = 0
                for D in pairwise_distances_chunked(
                        _distance_input(X, metric), _distance_input(comps, metric),
                        metric=metric, n_jobs=self.n_jobs,
                        working_memory=WORKING_MEMORY_BYTES / 2**20, **kwargs):
                    self._assign_block(D, start, core_labels, eps, out)
                    start += D.shape[0]
                return out
            code, p = resolved
            stored = getattr(self, "_core_grid", None)
            if stored is not None and not (stored["eps"] == eps and stored["code"] == code
                                           and stored["p"] == p):
                stored = None  # parameters changed since fit
            # float64 for the kernels (widening is exact; one compiled variant)
            Xd = np.ascontiguousarray(X, dtype=np.float64)
            comps = np.ascontiguousarray(comps, dtype=np.float64)
            if code in _DIRECT_CODES and m * len(comps) <= _config.DBSCAN_PREDICT_DIRECT_MAX_PAIRS:
                out[:] = _predict_direct(Xd, comps, core_labels, eps, code, p)
                return out
            out[:] = _predict_grid(Xd, comps, core_labels, eps, code, p, stored)
        return out

    @staticmethod
    def _assign_block(D, start, core_labels, eps, out):
        D = np.asarray(D)
        j = np.argmin(D, axis=1)
        dmin = D[np.arange(D.shape[0]), j]
        lab = np.where(dmin <= eps, core_labels[j], -1)
        out[start:start + D.shape[0]] = lab

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.metric == "precomputed"
        tags.input_tags.sparse = True
        return tags


def dbscan(X, eps=0.5, *, min_samples=5, metric="minkowski", metric_params=None,
           algorithm="auto", leaf_size=30, p=2, sample_weight=None, n_jobs=None):
    """DBSCAN clustering as a function (scikit-learn's ``dbscan``).

    Parameters are those of :class:`DBSCAN` (note the defaults
    ``metric='minkowski', p=2``, as in scikit-learn's function).

    Returns
    -------
    core_samples : ndarray of shape (n_core_samples,)
        Indices of the core samples.
    labels : ndarray of shape (n_samples,)
        Cluster labels, -1 for noise.

    Notes
    -----
    Same complexity as :class:`DBSCAN`: O(n_samples) memory above the input
    on the grid and BLAS paths; O(n_samples^2) with metric='precomputed'
    (the matrix is the input).

    Examples
    --------
    >>> from clusterlab import dbscan
    >>> X = [[1, 2], [2, 2], [2, 3], [8, 7], [8, 8], [25, 80]]
    >>> core_samples, labels = dbscan(X, eps=3, min_samples=2)
    >>> core_samples
    array([0, 1, 2, 3, 4])
    >>> labels
    array([ 0,  0,  0,  1,  1, -1])
    """
    est = DBSCAN(eps=eps, min_samples=min_samples, metric=metric, metric_params=metric_params,
                 algorithm=algorithm, leaf_size=leaf_size, p=p, n_jobs=n_jobs)
    est.fit(X, sample_weight=sample_weight)
    return est.core_sample_indices_, est.labels_
