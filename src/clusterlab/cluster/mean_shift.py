"""Mean shift with a flat kernel: every seed climbs in parallel on a grid index.

scikit-learn's :class:`sklearn.cluster.MeanShift` runs one joblib task per
seed, each asking a ball tree for the seed's neighbourhood once per
iteration from Python. Here all seeds climb inside one parallel numba kernel
(:func:`clusterlab._kernels.mean_shift.mean_shift_seeds`) over a dense grid
index of the points, and :func:`estimate_bandwidth` finds each row's k-th
neighbour distance a block of rows at a time (O(n) scratch per thread, never
an n x n matrix). The post-processing (merging identical modes, ordering by
intensity, suppressing modes within one bandwidth of a stronger one, nearest
mode labels) follows scikit-learn step by step, so the same input gives the
same centres and labels.
"""

import math
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_is_fitted, validate_data

from clusterlab._dask import warn_if_dask
from .. import _config
from .._validation import check_magnitude
from .._kernels import cell_grid as _cg
from .._kernels import mean_shift as _ms
from .._config import numba_threads as _numba_threads

__all__ = ["MeanShift", "mean_shift", "estimate_bandwidth", "get_bin_seeds"]




@validate_params(
    {
        "X": ["array-like"],
        "quantile": [Interval(Real, 0, 1, closed="both")],
        "n_samples": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    },
    prefer_skip_nested_validation=True,
)
def estimate_bandwidth(X, *, quantile=0.3, n_samples=None, random_state=0, n_jobs=None):
    """Estimate the bandwidth to use with the mean-shift algorithm.

    The mean, over the rows, of the distance from each row to its
    ``k = max(1, int(n * quantile))``-th nearest row (the row itself counts
    as the first), as :func:`sklearn.cluster.estimate_bandwidth`.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Input points.
    quantile : float, default=0.3
        Between 0 and 1; 0.5 means the median of the pairwise distances is used.
    n_samples : int, default=None
        The number of rows to use (a random subset); all rows if None.
    random_state : int, RandomState instance or None, default=0
        Selects the subset (the same subset as scikit-learn's for the same seed).
    n_jobs : int, default=None
        Threads for the distance passes (None: numba's default).

    Returns
    -------
    bandwidth : float

    Notes
    -----
    Time O(m^2 d) for m used rows; memory O(m) per thread (one row of
    distances at a time) -- scikit-learn's neighbour queries return
    ``k`` distances per row, 500 rows at a time.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import estimate_bandwidth
    >>> X = np.array([[1, 1], [2, 1], [1, 0], [4, 7], [3, 5], [3, 6]])
    >>> round(float(estimate_bandwidth(X, quantile=0.5)), 4)
    1.6191
    """
    X = check_array(X)
    check_magnitude(X, "estimate_bandwidth")
    random_state = check_random_state(random_state)
    if n_samples is not None:
        idx = random_state.permutation(X.shape[0])[:n_samples]
        X = X[idx]
    n = X.shape[0]
    kth = max(1, int(n * quantile)) - 1
    kth = min(kth, n - 1)
    XT = np.ascontiguousarray(np.asarray(X, dtype=np.float64).T)
    block = _config.MEAN_SHIFT_BANDWIDTH_BLOCK_ROWS
    sums = np.empty(-(-n // block), dtype=np.float64)
    with _numba_threads(n_jobs):
        _ms.kth_neighbor_distance_sum(XT, kth, block, sums)
    total = 0.0
    for s in sums:  # in block order, as scikit-learn adds its 500-row batches
        total += s
    return np.float64(total / n)


#: bandwidths beyond this have a square that overflows float64
_BANDWIDTH_SQUARE_MAX = float(np.sqrt(np.finfo(np.float64).max)) / 4


def _reachable_bandwidth(X, seeds, bandwidth):
    """``bandwidth``, or when its square would overflow float64 a smaller one
    that, like it, reaches every point from anywhere in the box around the
    points and the seeds: every ball then holds every point either way (one
    mode, the mean), and the kernels' squared radius stays finite."""
    if bandwidth <= _BANDWIDTH_SQUARE_MAX:
        return bandwidth
    points = np.asarray(X, dtype=np.float64)
    if seeds is not None:
        points = np.vstack([points, np.asarray(seeds, dtype=np.float64).reshape(
            -1, points.shape[1])])
    diameter = float(np.sqrt(np.sum(np.ptp(points, axis=0) ** 2)))
    return min(bandwidth, 4.0 * diameter) if diameter > 0 else 1.0


def get_bin_seeds(X, bin_size, min_bin_freq=1):
    """Find seeds for mean_shift by binning the points on a grid.

    The grid lines are ``bin_size`` apart (a point goes to the bin
    ``round(x / bin_size)``); bins with at least ``min_bin_freq`` points
    become seeds, in the order of their first point, as float32 coordinates
    as in scikit-learn. When every point has a bin of its own, warns and
    returns X itself.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    bin_size : float
        Coarseness of the grid (usually the bandwidth); 0 returns X.
    min_bin_freq : int, default=1

    Returns
    -------
    bin_seeds : ndarray of shape (n_seeds, n_features)

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import get_bin_seeds
    >>> X = np.array([[1.0, 1.0], [1.4, 1.4], [1.8, 1.2], [2.0, 1.0], [0.0, 0.0]])
    >>> get_bin_seeds(X, 1.0)
    array([[1., 1.],
           [2., 1.],
           [0., 0.]], dtype=float32)
    """
    if bin_size == 0:
        return X
    if not 0 < bin_size < np.inf:
        raise ValueError(f"bin_size must be > 0 (or 0: every point its own seed), got "
                         f"{bin_size!r}.")
    A = np.asarray(X)
    if A.ndim != 2 or A.shape[0] == 0:
        A = np.atleast_2d(A)
    binned = np.round(A / bin_size) + 0.0  # +0.0 folds -0.0 into 0.0, as a dict key does
    _, first, counts = np.unique(binned, axis=0, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    keep = order[counts[order] >= min_bin_freq]
    bin_seeds = np.asarray(binned[first[keep]], dtype=np.float32).reshape(-1, A.shape[1])
    if len(bin_seeds) == len(A):
        warnings.warn(
            "Binning data failed with provided bin_size=%f, using data points as seeds."
            % bin_size)
        return X
    return bin_seeds * bin_size


def _grid_index(X, bandwidth, return_order=False):
    """Sort X's rows into a dense grid (see :mod:`clusterlab._kernels.cell_grid`).

    Returns ``(Xs, dims, origin, side, extents, cell_start, boxes, cell_sums)``
    and, with ``return_order``, the original row of each sorted row.
    """
    n, d = X.shape
    lo = X.min(axis=0)
    spread = X.max(axis=0) - lo
    axes = [int(k) for k in np.argsort(-spread, kind="stable")[:3]]
    side = bandwidth / _config.MEAN_SHIFT_CELLS_PER_BANDWIDTH if bandwidth > 0 else 1.0
    max_cells = max(64, _config.MEAN_SHIFT_MAX_CELLS_PER_POINT * n)
    while True:
        ext = [math.floor(spread[k] / side) + 1 for k in axes]
        if math.prod(float(e) for e in ext) <= max_cells:
            break
        side *= 2.0
    dims = np.full(3, -1, dtype=np.int64)
    origin = np.zeros(3)
    extents = np.ones(3, dtype=np.int64)
    ids = np.zeros(n, dtype=np.int64)
    for a, k in enumerate(axes):
        dims[a], origin[a], extents[a] = k, lo[k], ext[a]
    for a in range(3):
        ids *= extents[a]
        if dims[a] >= 0:
            cell = np.floor((X[:, dims[a]] - origin[a]) / side).astype(np.int64)
            ids += np.clip(cell, 0, extents[a] - 1)
    order = np.argsort(ids, kind="stable")
    Xs = np.ascontiguousarray(X[order])
    n_cells = int(extents.prod())
    cell_start = np.searchsorted(ids[order], np.arange(n_cells + 1)).astype(np.int64)
    boxes = np.empty((n_cells, 2, d))
    cell_sums = np.empty((n_cells, d))
    _cg.grid_cell_stats(Xs, cell_start, boxes, cell_sums)
    grid = (Xs, dims, origin, float(side), extents, cell_start, boxes, cell_sums)
    return (grid, order) if return_order else grid


@validate_params({"X": ["array-like"]}, prefer_skip_nested_validation=False)
def mean_shift(X, *, bandwidth=None, seeds=None, bin_seeding=False, min_bin_freq=1,
               cluster_all=True, max_iter=300, n_jobs=None):
    """Perform mean shift clustering of data using a flat kernel.

    Parameters are those of :class:`MeanShift`, and so are the costs: time
    O(n_seeds * n_iter * points per ball), up to O(n_seeds * n_iter * n) where
    the grid cannot prune (many features); the bandwidth estimate O(n^2 d);
    memory O(n * d) (no n x n table).

    Returns
    -------
    cluster_centers : ndarray of shape (n_clusters, n_features)
    labels : ndarray of shape (n_samples,)

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import mean_shift
    >>> X = np.array([[1, 1], [2, 1], [1, 0], [4, 7], [3, 5], [3, 6]])
    >>> centers, labels = mean_shift(X, bandwidth=2)
    >>> labels
    array([1, 1, 1, 0, 0, 0])
    """
    model = MeanShift(bandwidth=bandwidth, seeds=seeds, min_bin_freq=min_bin_freq,
                      bin_seeding=bin_seeding, cluster_all=cluster_all, n_jobs=n_jobs,
                      max_iter=max_iter).fit(X)
    return model.cluster_centers_, model.labels_


class MeanShift(ClusterMixin, BaseEstimator):
    """Mean shift clustering using a flat kernel.

    Every seed (all points, the binned points, or the given ``seeds``) moves
    to the mean of the points within ``bandwidth`` until it moves by at most
    ``1e-3 * bandwidth`` or ``max_iter`` iterations are done; the modes are
    merged (identical ones), ordered by the number of points they hold,
    and a mode within ``bandwidth`` of a stronger kept mode is dropped. Every
    point is labelled with its nearest mode (``cluster_all=False``: -1 when
    that mode is farther than ``bandwidth``). Same parameters, attributes,
    errors and results as :class:`sklearn.cluster.MeanShift`.

    Parameters
    ----------
    bandwidth : float, default=None
        Radius of the flat kernel; estimated with :func:`estimate_bandwidth`
        when None (time quadratic in n_samples).
    seeds : array-like of shape (n_seeds, n_features), default=None
        Starting points; None: the points themselves, or the bin seeds with
        ``bin_seeding=True``.
    bin_seeding : bool, default=False
        Start from :func:`get_bin_seeds` with ``bandwidth`` as the bin size.
    min_bin_freq : int, default=1
        Only bins with at least this many points become seeds.
    cluster_all : bool, default=True
        Label every point with its nearest mode; False: orphans (no mode
        within bandwidth) get -1.
    n_jobs : int, default=None
        Threads for the parallel kernels (None: numba's default, -1: all).
    max_iter : int, default=300
        Maximum number of iterations per seed.

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Coordinates of the modes (X's dtype when floating).
    labels_ : ndarray of shape (n_samples,)
    n_iter_ : int
        Largest number of iterations done by a seed.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Notes
    -----
    Time: each iteration of a seed visits the points of the grid cells
    that meet its bandwidth ball (cells of side bandwidth/2 over the up to
    three widest coordinates, each checked with the exact distance): about
    O(n_seeds * n_iter * points per ball) in low dimension, tending to
    O(n_seeds * n_iter * n) when the grid cannot prune (many features).
    The bandwidth estimate costs O(n^2 d). Memory: a sorted copy of X and
    O(n) integers for the grid, O(n_seeds * d) for the modes.

    References
    ----------
    D. Comaniciu and P. Meer, "Mean Shift: A robust approach toward feature
    space analysis", IEEE TPAMI 24(5), 2002, pp. 603-619.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import MeanShift
    >>> X = np.array([[1, 1], [2, 1], [1, 0], [4, 7], [3, 5], [3, 6]])
    >>> clustering = MeanShift(bandwidth=2).fit(X)
    >>> clustering.labels_
    array([1, 1, 1, 0, 0, 0])
    >>> clustering.predict([[0, 0], [5, 5]])
    array([1, 0])
    """

    _parameter_constraints: dict = {
        "bandwidth": [Interval(Real, 0, None, closed="neither"), None],
        "seeds": ["array-like", None],
        "bin_seeding": ["boolean"],
        "min_bin_freq": [Interval(Integral, 1, None, closed="left")],
        "cluster_all": ["boolean"],
        "n_jobs": [Integral, None],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
    }

    def __init__(self, *, bandwidth=None, seeds=None, bin_seeding=False, min_bin_freq=1,
                 cluster_all=True, n_jobs=None, max_iter=300):
        self.bandwidth = bandwidth
        self.seeds = seeds
        self.bin_seeding = bin_seeding
        self.cluster_all = cluster_all
        self.min_bin_freq = min_bin_freq
        self.n_jobs = n_jobs
        self.max_iter = max_iter

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Perform clustering.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples to cluster.
        y : Ignored

        Returns
        -------
        self : object
        """
        warn_if_dask(X, type(self).__name__)
        X = validate_data(self, X)
        check_magnitude(X, self)
        bandwidth = self.bandwidth
        if bandwidth is None:
            bandwidth = estimate_bandwidth(X, n_jobs=self.n_jobs)
        bandwidth = float(bandwidth)
        seeds = self.seeds
        bandwidth = _reachable_bandwidth(X, seeds, bandwidth)
        if seeds is None:
            seeds = get_bin_seeds(X, bandwidth, self.min_bin_freq) if self.bin_seeding else X
        seeds = np.ascontiguousarray(np.asarray(seeds, dtype=np.float64))
        if seeds.ndim != 2 or seeds.shape[1] != X.shape[1]:
            raise ValueError(
                f"seeds must have shape (n_seeds, {X.shape[1]}) to match X; got "
                f"{seeds.shape}.")
        X64 = np.ascontiguousarray(X, dtype=np.float64)
        n_seeds = seeds.shape[0]
        means = np.empty_like(seeds)
        counts = np.empty(n_seeds, dtype=np.int64)
        iters = np.zeros(n_seeds, dtype=np.int64)
        with _numba_threads(self.n_jobs):
            grid = _grid_index(X64, bandwidth)
            _ms.mean_shift_seeds(seeds, *grid, bandwidth, int(self.max_iter),
                                 1e-3 * bandwidth, means, counts, iters)
        self.n_iter_ = int(iters.max()) if n_seeds else 0
        centers, intensity = self._distinct_modes(means, counts, X.dtype)
        if not len(centers):
            raise ValueError(
                f"No point was within bandwidth={bandwidth:g} of any seed. Try a different "
                "seeding strategy or increase the bandwidth.")
        # strongest first; ties broken by the larger coordinates, as sklearn's sort
        order = sorted(range(len(centers)), key=lambda i: (intensity[i], tuple(centers[i])),
                       reverse=True)
        sorted_centers = np.ascontiguousarray(centers[order])
        unique = np.empty(len(sorted_centers), dtype=np.bool_)
        _ms.suppress_near_duplicates(sorted_centers.astype(np.float64), bandwidth, unique)
        self.cluster_centers_ = sorted_centers[unique]
        labels, dist = self._nearest(X64)
        if not self.cluster_all:
            labels[dist > bandwidth] = -1
        self.labels_ = labels
        return self

    @staticmethod
    def _distinct_modes(means, counts, dtype):
        """Modes reached with at least one point, identical ones merged (last wins)."""
        out_dtype = dtype if np.issubdtype(dtype, np.floating) else np.float64
        reached = counts > 0
        modes = means[reached].astype(out_dtype)
        cnt = counts[reached]
        if not len(modes):
            return modes, cnt
        # +0 folds -0.0 into 0.0: equal as dict keys in scikit-learn
        _, inverse = np.unique(modes + 0.0, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        last = np.full(inverse.max() + 1, -1, dtype=np.int64)
        last[inverse] = np.arange(len(inverse))  # the last seed of each mode wins
        keep = np.sort(last)
        return modes[keep], cnt[keep]

    def _nearest(self, X64):
        centers = np.ascontiguousarray(self.cluster_centers_, dtype=np.float64)
        labels = np.empty(X64.shape[0], dtype=np.int64)
        dist = np.empty(X64.shape[0], dtype=np.float64)
        with _numba_threads(self.n_jobs):
            _ms.nearest_center(X64, centers, labels, dist)
        return labels, dist

    def predict(self, X):
        """Predict the closest cluster each sample in X belongs to.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        check_magnitude(X, self, tiny=False)
        return self._nearest(np.ascontiguousarray(X, dtype=np.float64))[0]
