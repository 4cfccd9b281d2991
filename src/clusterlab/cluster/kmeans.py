"""K-Means clustering: :class:`KMeans`, :func:`k_means`, :func:`kmeans_plusplus`.

The same API, defaults, attributes, warnings and errors as scikit-learn 1.9's
``sklearn.cluster.KMeans``; the iterations run in numba kernels
(:mod:`clusterlab._kernels.kmeans`). ``MiniBatchKMeans`` lives in
:mod:`clusterlab.cluster.minibatch`.
"""

import contextlib
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted, validate_data

from clusterlab import _config
from clusterlab._kernels import distances as _dk
from clusterlab._kernels import gemm as _gk
from clusterlab._kernels import kmeans as _kk
from clusterlab._validation import check_finite, check_n_clusters, check_sample_weight
from clusterlab.distributed import is_dask_array, predict_blocks

__all__ = ["KMeans", "k_means", "kmeans_plusplus"]

#: Rows per group of the kernels (partial sums are reduced group by group).
_GROUP_ROWS = 4096

#: Hamerly re-scans go through BLAS from this many centres on: below it,
#: gathering the rows costs more than the product saves (measured on
#: MNIST-shaped data, 784 features and 10 centres).
_GEMM_RESCAN_MIN_K = 32

#: 'auto' runs Elkan for at most this many centres in at least this many
#: features (and when its n x k bounds fit 16 x the working-memory budget).
_ELKAN_MAX_K = 20
_ELKAN_MIN_FEATURES = 128

#: k-means++ keeps an (n, candidates) float64 buffer up to this size (one
#: fused pass per centre, fast while it stays in cache); above it, the pruned
#: passes with O(n) memory (measured: 10^5 x 32, k=1000 4.2x scikit-learn
#: buffered vs 3.2x pruned; 10^6 x 16, k=64 2.7x buffered vs 3.2x pruned).
KPP_BUFFER_BYTES = _config.WORKING_MEMORY_BYTES
#: Beyond the buffer, data with at most this many features (and at most
#: KPP_COLUMNAR_BYTES of it) is seeded from a transposed copy of X, with
#: distances vectorised across rows (measured 10^6 x 16 float32, k=64: 4.6x
#: scikit-learn vs 3.0x pruned; 10^6 x 2: 7.3x vs 1.6x; at 32 features the
#: pruned kernel was as fast, at 64 it was faster); else the pruned kernel.
#: The copy is capped at 512 MiB: at most 24 features make it about the size
#: of scikit-learn's (candidates, n) float64 distance matrix for the same data.
KPP_COLUMNAR_MAX_FEATURES = 24
KPP_COLUMNAR_BYTES = 512 * 2**20
#: Float32 rows with at least this many features are seeded by the float32
#: scoring kernel (:class:`_Float32Seeding`) when the candidates fill more
#: than half of its eight lanes (k >= 21 with the default 2 + ln k trials)
#: and X fits KPP_COLUMNAR_BYTES (measured, seeding: 10^5 x 32, k=1000
#: 1.72 -> 0.96 s; 10^6 x 16, k=64 0.54 -> 0.49 s; 10^5 x 12, k=50 73 -> 55
#: ms; MNIST-shaped k=10, four trials in eight lanes, 0.22 -> 0.38 s: not used).
KPP32_MIN_FEATURES = 8

#: Below this many element operations (rows x centres x features) a pass runs
#: on one thread: starting a parallel region costs more than it saves (tens of
#: microseconds on an idle machine, milliseconds on an oversubscribed one).
PARALLEL_MIN_WORK = 1 << 23


def _use_parallel(work):
    """Whether a pass of ``work`` element operations should use numba's threads.

    The answer never changes the result: kernels reduce per-group partials in
    group order either way.
    """
    import numba

    return work >= PARALLEL_MIN_WORK and numba.get_num_threads() > 1


def _row_bounds(n_samples, n_clusters, n_features):
    """Row groups for the kernels, a function of the data shape only.

    Groups of at most :data:`_GROUP_ROWS` rows, a multiple of 16 of them
    when there is more than one, but never so many that the
    per-group partial sums (``G * k * d`` float64) exceed the working-memory
    budget of :mod:`clusterlab._config`. Because the groups do not depend on
    the number of threads, neither do the results.
    """
    n_groups = max(1, -(-n_samples // _GROUP_ROWS))
    if n_groups > 1:
        # a multiple of 16: numba hands each thread an equal share of the
        # groups, so 2, 4, 8 or 16 threads get equal work (15 groups on 2
        # threads left one idle for a fifteenth of every pass: MNIST-shaped
        # Elkan 194 -> 187 ms)
        n_groups = -(-n_groups // 16) * 16
    cap = max(1, _config.WORKING_MEMORY_BYTES // max(1, 8 * n_clusters * n_features))
    n_groups = int(min(n_groups, cap, 1024))
    edges = np.linspace(0, n_samples, n_groups + 1)
    bounds = np.round(edges).astype(np.int64)
    bounds[0], bounds[-1] = 0, n_samples
    return bounds


def _tolerance(X, tol, bounds):
    """Absolute tolerance: ``tol`` times the mean of the feature variances."""
    if tol == 0:
        return 0.0
    if sp.issparse(X):
        from sklearn.utils.sparsefuncs import mean_variance_axis

        return float(np.mean(mean_variance_axis(X, axis=0)[1]) * tol)
    parallel = _use_parallel(X.shape[0] * X.shape[1] * 8)
    return float(_kk.mean_feature_variance(X, bounds, parallel) * tol)


def _is_same_clustering(labels1, labels2, n_clusters):
    """True when ``labels2`` is a relabelling of ``labels1`` (O(n), no sort)."""
    mapping = np.full(n_clusters, -1, dtype=np.int64)
    mapping[labels1] = labels2
    return bool(np.array_equal(mapping[labels1], labels2))


# ----------------------------------------------------------------------------
# k-means++


def _kmeans_plusplus(X, n_clusters, sample_weight, random_state, n_local_trials=None,
                     bounds=None):
    """Greedy k-means++ on validated input (dense or CSR). Returns centres, indices.

    ``random_state`` is a ``RandomState``; its stream is consumed as
    scikit-learn's ``_kmeans_plusplus`` does (one ``choice`` then one
    ``uniform(size=n_local_trials)`` per further centre), so the same seed
    picks the same points up to ties in floating point. Dense float32 input
    with enough features and trials runs the float32 scoring kernel
    (:data:`KPP32_MIN_FEATURES`, :class:`_Float32Seeding`); other dense input
    the buffered kernel while its (n, t) buffer fits :data:`KPP_BUFFER_BYTES`,
    else the columnar one for few features (a transposed copy of X, see
    :data:`KPP_COLUMNAR_MAX_FEATURES`), else the pruned one (O(n) memory); all
    four give the same centres (up to floating-point ties).
    """
    n_samples, n_features = X.shape
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    centers = np.empty((n_clusters, n_features), dtype=X.dtype)
    indices = np.full(n_clusters, -1, dtype=np.intp)
    sample_weight = np.ascontiguousarray(sample_weight)
    center_id = random_state.choice(n_samples, p=sample_weight / sample_weight.sum())
    if sp.issparse(X):
        kernel = _SparseSeeding(X, sample_weight)
        return _greedy_seeding(X, n_clusters, random_state, n_local_trials, center_id,
                               centers, indices, kernel)
    if bounds is None:
        bounds = _row_bounds(n_samples, n_local_trials, n_features)
    parallel = _use_parallel(n_samples * n_local_trials * n_features)
    lanes = _kk.KPP32_LANES
    if (X.dtype == np.float32 and n_features >= KPP32_MIN_FEATURES
            and 2 * n_local_trials > -(-n_local_trials // lanes) * lanes
            and X.nbytes <= KPP_COLUMNAR_BYTES and _kk.kpp32_safe(X)):
        kernel = _Float32Seeding(X, sample_weight, n_local_trials, bounds, parallel)
    elif n_samples * n_local_trials * 8 <= KPP_BUFFER_BYTES:
        kernel = _BufferedSeeding(X, sample_weight, n_local_trials, bounds, parallel)
    elif n_features <= KPP_COLUMNAR_MAX_FEATURES and X.nbytes <= KPP_COLUMNAR_BYTES:
        kernel = _ColumnarSeeding(X, sample_weight, n_local_trials, bounds, parallel)
    else:
        kernel = _PrunedSeeding(X, sample_weight, n_clusters, n_local_trials, bounds, parallel)
    return _greedy_seeding(X, n_clusters, random_state, n_local_trials, center_id, centers,
                           indices, kernel)


def _greedy_seeding(X, n_clusters, random_state, n_local_trials, center_id, centers, indices,
                    kernel):
    """The greedy k-means++ loop shared by every seeding kernel.

    Per further centre: ``n_local_trials`` candidates sampled with probability
    proportional to their weighted squared distance to the chosen centres
    (``kernel.search``), the potential each would leave (``kernel.score``:
    per row group), the best one adopted (``kernel.choose``, see
    :class:`_Seeding`). ``kernel.first(row)`` returns the per-group potential
    of the first centre. The kernels differ only in how they keep the
    distances (see :func:`_kmeans_plusplus`).
    """
    centers[0] = _dense_row(X, center_id)
    indices[0] = center_id
    g_sums = kernel.first(centers[:1])
    current_pot = g_sums.sum()
    for c in range(1, n_clusters):
        rand_vals = random_state.uniform(size=n_local_trials) * current_pot
        cand_ids = kernel.search(g_sums, rand_vals)
        g_pots = kernel.score(cand_ids, centers, c)
        best, g_sums, current_pot = kernel.choose(g_pots, c)
        centers[c] = _dense_row(X, cand_ids[best])
        indices[c] = cand_ids[best]
    return centers, indices


def _dense_row(X, i):
    return X[[i]].toarray()[0] if sp.issparse(X) else X[i]


_NO_KPP_BUF = np.empty((0, 0))


class _Seeding:
    """What the seeding kernels share: the choice of the candidate of least
    potential from the per-group potentials of :meth:`score` (summed over the
    groups in group order; ties to the lowest index, as ``np.argmin``), then
    :meth:`adopt`. Returns ``(best, g_sums, potential)``: the chosen column,
    the new per-group sums and their total."""

    def choose(self, g_pots, c):
        pots = g_pots.sum(axis=0)
        best = int(np.argmin(pots))
        self.adopt(best, c)
        return best, g_pots[:, best].copy(), pots[best]


class _PrunedSeeding(_Seeding):
    """Distances to the nearest chosen centre in O(n) memory; a candidate is
    scored only on rows it can take over (triangle-inequality skip table)."""

    def __init__(self, X, sample_weight, n_clusters, n_local_trials, bounds, parallel):
        n_samples = X.shape[0]
        self.X, self.sample_weight, self.bounds, self.parallel = X, sample_weight, bounds, parallel
        self.closest = np.empty(n_samples)
        self.owner = np.empty(n_samples, dtype=np.int32)
        self.g_pots = np.empty((bounds.shape[0] - 1, n_local_trials))
        self.cand_ids = np.empty(n_local_trials, dtype=np.int64)
        self.q = np.empty((n_local_trials, n_clusters))

    def first(self, center):
        _kk.kpp_first(self.X, self.sample_weight, center, self.bounds, self.closest,
                      self.owner, self.g_pots, self.parallel)
        return self.g_pots[:, 0].copy()

    def search(self, g_sums, rand_vals):
        _kk.kpp_search(self.sample_weight, self.closest, _NO_KPP_BUF, -1, self.bounds, g_sums,
                       rand_vals, self.cand_ids)
        return self.cand_ids

    def score(self, cand_ids, centers, c):
        self.candidates = self.X[cand_ids]
        _kk.kpp_skip_table(self.candidates, centers, c, self.q)
        _kk.kpp_score(self.X, self.sample_weight, self.closest, self.owner, self.candidates,
                      self.q, self.bounds, self.g_pots, self.parallel)
        return self.g_pots

    def adopt(self, best, c):
        _kk.kpp_commit(self.X, self.closest, self.owner, self.candidates, best, self.q, c,
                       self.bounds, self.parallel)



class _ColumnarSeeding(_Seeding):
    """A transposed copy of X (low-dimensional data too large for the buffered
    kernel): one pass per centre, vectorised across rows, that adopts the last
    choice and scores the new candidates. Memory: one copy of X (as
    scikit-learn's KMeans, which copies X to centre it) plus O(n)."""

    def __init__(self, X, sample_weight, n_local_trials, bounds, parallel):
        self.X, self.sample_weight, self.bounds, self.parallel = X, sample_weight, bounds, parallel
        self.XT = _transposed(X)
        self.closest = np.full(X.shape[0], np.inf)
        self.g_pots = np.empty((bounds.shape[0] - 1, n_local_trials))
        self.cand_ids = np.empty(n_local_trials, dtype=np.int64)

    def first(self, center):
        self.prev = center.astype(np.float64)
        _kk.kpp_columnar(self.XT, self.sample_weight, self.closest, self.prev[:0], self.prev,
                         self.bounds, self.g_pots[:, :1], self.parallel)
        return self.g_pots[:, 0].copy()

    def search(self, g_sums, rand_vals):
        _kk.kpp_columnar_search(self.XT, self.sample_weight, self.closest, self.prev,
                                self.bounds, g_sums, rand_vals, self.cand_ids)
        return self.cand_ids

    def score(self, cand_ids, centers, c):
        self.candidates = self.X[cand_ids].astype(np.float64)
        _kk.kpp_columnar(self.XT, self.sample_weight, self.closest, self.prev,
                         self.candidates, self.bounds, self.g_pots, self.parallel)
        return self.g_pots

    def adopt(self, best, c):
        self.prev = self.candidates[best:best + 1]  # folded in by the next pass


def _transposed(X):
    """``X.T`` as a C-contiguous copy, in X's dtype."""
    XT = np.empty((X.shape[1], X.shape[0]), dtype=X.dtype)
    _kk.transpose_rows(X, XT)
    return XT


class _Float32Seeding(_Seeding):
    """Float32 rows: candidates scored in float32 on a transposed copy of X
    (eight per pass, about twice the float64 kernels' speed), with error
    bounds; close calls and the adopted centre's distances in exact float64
    (see :func:`clusterlab._kernels.kmeans.kpp32_score`). The same
    ``closest``, sums and picks as the exact kernels (up to the order of
    float64 sums). Memory: one copy of X plus O(n)."""

    def __init__(self, X, sample_weight, n_local_trials, bounds, parallel):
        n_samples, n_features = X.shape
        self.X, self.sample_weight, self.bounds, self.parallel = X, sample_weight, bounds, parallel
        self.XT = _transposed(X)
        self.closest = np.full(n_samples, np.inf)
        lanes = _kk.KPP32_LANES
        self.n_padded = -(-n_local_trials // lanes) * lanes
        self.flags = np.empty((self.n_padded // lanes, n_samples), dtype=np.uint8)
        self.g_pots = np.empty((bounds.shape[0] - 1, self.n_padded))
        self.cand_ids = np.empty(n_local_trials, dtype=np.int64)
        self.slack = _kk.kpp32_slack(n_features)
        self.rel = _kk.kpp32_rel_error(n_samples, n_features)
        # the float32 distances' underflow terms, summed over rows (see kpp32_slack)
        self.abs_err = 2.0 * self.slack[1] * float(np.sum(sample_weight, dtype=np.float64))
        self.n_local_trials = n_local_trials

    def _exact(self, cands, commit):
        g_out = np.empty((self.bounds.shape[0] - 1, cands.shape[0]))
        _kk.kpp32_exact(self.X, self.sample_weight, self.closest, self.C, cands, self.flags,
                        self.bounds, g_out, commit, self.parallel)
        return g_out

    def first(self, center):
        self.C = np.ascontiguousarray(center, dtype=np.float32)
        self.flags.fill(1)
        return self._exact(np.zeros(1, dtype=np.int64), True)[:, 0].copy()

    def search(self, g_sums, rand_vals):
        _kk.kpp_search(self.sample_weight, self.closest, _NO_KPP_BUF, -1, self.bounds, g_sums,
                       rand_vals, self.cand_ids)
        return self.cand_ids

    def score(self, cand_ids, centers, c):
        padded = np.empty(self.n_padded, dtype=np.int64)
        padded[:cand_ids.shape[0]] = cand_ids
        padded[cand_ids.shape[0]:] = cand_ids[-1]
        self.C = self.X[padded]
        _kk.kpp32_score(self.XT, self.sample_weight, self.closest, self.C, self.slack,
                        self.bounds, self.g_pots, self.flags, self.parallel)
        return self.g_pots[:, :self.n_local_trials]

    def choose(self, g_pots, c):
        """The candidate of least *exact* potential (ties to the lowest
        index), adopted: the float32 potentials only narrow the contenders."""
        pots = g_pots.sum(axis=0)
        lo = pots * (1.0 - self.rel) - self.abs_err
        hi = pots * (1.0 + self.rel) + self.abs_err
        contenders = np.flatnonzero(lo <= hi.min())
        if contenders.shape[0] > 1:
            exact = self._exact(contenders.astype(np.int64), False).sum(axis=0)
            best = int(contenders[np.argmin(exact)])
        else:
            best = int(contenders[0])
        g_sums = self._exact(np.array([best], dtype=np.int64), True)[:, 0].copy()
        return best, g_sums, g_sums.sum()


class _BufferedSeeding(_Seeding):
    """Every row's distance to every candidate kept (an (n, t) buffer within
    the working-memory budget): one fused pass per centre, faster than the
    pruned passes while the buffer stays in cache. The same distances as the
    other kernels below 32 features; for longer rows four candidates are
    computed at a time, whose sums may differ in the last bit (a pick can then
    differ only on a floating-point tie)."""

    def __init__(self, X, sample_weight, n_local_trials, bounds, parallel):
        self.X, self.sample_weight, self.bounds, self.parallel = X, sample_weight, bounds, parallel
        self.closest = np.full(X.shape[0], np.inf)
        self.buf = np.empty((X.shape[0], n_local_trials))
        self.g_pots = np.empty((bounds.shape[0] - 1, n_local_trials))
        self.cand_ids = np.empty(n_local_trials, dtype=np.int64)

    def first(self, center):
        _kk.kpp_pass(self.X, self.sample_weight, self.closest, self.buf, -1,
                     center.astype(np.float64), self.bounds, self.g_pots, self.parallel)
        self.prev = 0
        return self.g_pots[:, 0].copy()

    def search(self, g_sums, rand_vals):
        _kk.kpp_search(self.sample_weight, self.closest, self.buf, self.prev, self.bounds,
                       g_sums, rand_vals, self.cand_ids)
        return self.cand_ids

    def score(self, cand_ids, centers, c):
        # the candidates in float64 (exact): the pass converts each row value
        # once instead of once per candidate
        _kk.kpp_pass(self.X, self.sample_weight, self.closest, self.buf, self.prev,
                     self.X[cand_ids].astype(np.float64), self.bounds, self.g_pots,
                     self.parallel)
        return self.g_pots

    def adopt(self, best, c):
        self.prev = best  # the buffer column folded in by the next pass


class _SparseSeeding(_Seeding):
    """CSR input with scipy products (slower than the dense kernels); one row
    group."""

    def __init__(self, X, sample_weight):
        self.X = X
        self.x_sq = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
        self.w = sample_weight.astype(np.float64)

    def _sq_dist_to(self, cand):
        cand = np.asarray(cand, dtype=np.float64)
        dots = np.asarray(self.X @ cand.T, dtype=np.float64)
        d = self.x_sq[:, None] - 2.0 * dots + (cand * cand).sum(axis=1)[None, :]
        return np.maximum(d, 0.0)

    def first(self, center):
        self.closest = self._sq_dist_to(center)[:, 0]
        return np.array([self.closest @ self.w])

    def search(self, g_sums, rand_vals):
        cand_ids = np.searchsorted(np.cumsum(self.w * self.closest), rand_vals)
        return np.clip(cand_ids, None, self.closest.size - 1)

    def score(self, cand_ids, centers, c):
        self.dist = np.minimum(self.closest[:, None], self._sq_dist_to(self.X[cand_ids].toarray()))
        return (self.w @ self.dist)[None, :]

    def adopt(self, best, c):
        self.closest = self.dist[:, best]


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "sample_weight": ["array-like", None],
        "x_squared_norms": ["array-like", None],
        "random_state": ["random_state"],
        "n_local_trials": [Interval(Integral, 1, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def kmeans_plusplus(X, n_clusters, *, sample_weight=None, x_squared_norms=None,
                    random_state=None, n_local_trials=None):
    """Choose initial centres with the greedy k-means++ heuristic.

    The first centre is drawn with probability proportional to the sample
    weight; each next one is the best (lowest potential) of
    ``n_local_trials`` candidates drawn with probability proportional to
    ``w_i D(x_i)^2``, as scikit-learn's ``kmeans_plusplus``.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data to pick the centres from (float32 kept as float32).
    n_clusters : int
        Number of centres.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the samples; ``None`` means equal weights.
    x_squared_norms : array-like of shape (n_samples,), default=None
        Accepted for scikit-learn compatibility (its length is checked); the
        kernels compute distances directly and do not need it.
    random_state : int, RandomState instance or None, default=None
        Seed of the random draws.
    n_local_trials : int, default=None
        Candidates tried per centre; ``None`` means ``2 + int(ln(n_clusters))``.

    Returns
    -------
    centers : ndarray of shape (n_clusters, n_features)
        The chosen rows of ``X``.
    indices : ndarray of shape (n_clusters,)
        Their row indices in ``X``.

    Notes
    -----
    Time O(n_clusters * n_local_trials * n * d) in one fused, parallel pass
    over X per chosen centre (plus one pass to update the distances); memory
    O(n) for the squared distances to the nearest chosen centre. Sampling
    uses per-group sums, so no O(n) cumulative sum is built per draw.

    References
    ----------
    Arthur, D. and Vassilvitskii, S. "k-means++: the advantages of careful
    seeding", SODA 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import kmeans_plusplus
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]], dtype=float)
    >>> centers, indices = kmeans_plusplus(X, n_clusters=2, random_state=0)
    >>> centers.shape, sorted(X[indices, 0].tolist())
    ((2, 2), [1.0, 10.0])
    """
    X = check_array(X, accept_sparse="csr", dtype=[np.float64, np.float32], order="C")
    sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
    check_n_clusters(n_clusters, X.shape[0])
    if x_squared_norms is not None:
        x_squared_norms = check_array(x_squared_norms, dtype=X.dtype, ensure_2d=False)
        if x_squared_norms.shape[0] != X.shape[0]:
            raise ValueError(
                f"The length of x_squared_norms {x_squared_norms.shape[0]} should "
                f"be equal to the length of n_samples {X.shape[0]}."
            )
    random_state = check_random_state(random_state)
    return _kmeans_plusplus(X, n_clusters, sample_weight, random_state, n_local_trials)


# ----------------------------------------------------------------------------
# KMeans


def _resolve_algorithm(algorithm, X, n_clusters):
    """Map the ``algorithm`` parameter to the kernel actually run."""
    if algorithm == "full":
        warnings.warn(
            "algorithm='full' is an old spelling of 'lloyd' (scikit-learn removed it in "
            "1.3); use algorithm='lloyd'.",
            FutureWarning,
            stacklevel=3,
        )
        algorithm = "lloyd"
    if algorithm == "elkan" and n_clusters == 1:
        warnings.warn(
            "algorithm='elkan' doesn't make sense for a single cluster. Using 'full' instead.",
            RuntimeWarning,
            stacklevel=3,
        )
        algorithm = "lloyd"
    if algorithm == "auto":
        # Bounds pay for themselves except for k == 1. With few centres in
        # many dimensions (MNIST-like) Elkan's per-centre bounds skip most
        # distance computations and its O(n k) bounds are small; otherwise
        # one lower bound (Hamerly) is enough, and with many centres Hamerly
        # still wins when its re-scans go through BLAS (see
        # _kernels/gemm.gemm_pays), else per-group bounds (Yinyang) skip far
        # more (all measured in benchmarks/bench_kmeans.py).
        n_samples, n_features = X.shape
        if n_clusters == 1:
            algorithm = "lloyd"
        elif (n_clusters <= _ELKAN_MAX_K and n_features >= _ELKAN_MIN_FEATURES
              and n_samples * n_clusters * 8 <= _config.WORKING_MEMORY_BYTES * 16):
            algorithm = "elkan"
        elif n_clusters < 100 or _gk.gemm_pays(n_features, n_clusters, X.dtype):
            algorithm = "hamerly"
        else:
            algorithm = "yinyang"
    if sp.issparse(X):
        # Bound-based kernels are dense only; Lloyd gives the same result.
        algorithm = "lloyd"
    return algorithm


def _center_groups(centers):
    """Partition the initial centres into about k / 10 groups for Yinyang.

    Five Lloyd iterations on the centres themselves, from evenly spaced
    centres (deterministic). The grouping only affects speed, never the result.
    Returns ``group_of`` (k,), ``members`` (k,) sorted by group then index, and
    ``group_start`` (Gc + 1,).
    """
    if centers is None:
        z = np.zeros(1, dtype=np.int64)
        return z, z, np.zeros(2, dtype=np.int64)
    k, d = centers.shape
    n_cg = max(1, k // 10)
    group_of = np.zeros(k, dtype=np.int64)
    if n_cg > 1:
        init = centers[np.linspace(0, k - 1, n_cg).astype(np.int64)].copy()
        labels = np.empty(k, dtype=np.int32)
        out = np.empty_like(init)
        _kk.lloyd_run(centers, np.ones(k), init, np.array([0, k], dtype=np.int64), k, 5, 0.0,
                      0, labels, out, False)
        _, group_of = np.unique(labels, return_inverse=True)  # drop empty groups
        group_of = group_of.astype(np.int64)
    members = np.argsort(group_of, kind="stable").astype(np.int64)
    counts = np.bincount(group_of)
    group_start = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return group_of, members, group_start


def _kmeans_single(X, sample_weight, centers_init, algorithm, max_iter, tol, verbose, bounds):
    """One run from ``centers_init``: returns labels, inertia, centres (X.dtype), n_iter."""
    n_samples = X.shape[0]
    k, d = centers_init.shape
    centers0 = np.ascontiguousarray(centers_init, dtype=np.float64)
    labels = np.empty(n_samples, dtype=np.int32)
    centers = np.empty((k, d), dtype=np.float64)
    parallel = _use_parallel(n_samples * k * d)
    use_gemm = not sp.issparse(X) and _gk.gemm_pays(d, k, X.dtype)
    if use_gemm and parallel:
        # numba's threads call BLAS: one BLAS thread each
        with _config.single_threaded_blas():
            return _kmeans_run(X, sample_weight, centers0, algorithm, max_iter, tol, verbose,
                               bounds, labels, centers, parallel, use_gemm)
    return _kmeans_run(X, sample_weight, centers0, algorithm, max_iter, tol, verbose, bounds,
                       labels, centers, parallel, use_gemm)


def _kmeans_run(X, sample_weight, centers0, algorithm, max_iter, tol, verbose, bounds, labels,
                centers, parallel, use_gemm):
    n_samples = X.shape[0]
    k = centers0.shape[0]
    if sp.issparse(X):
        x_sq = np.empty(n_samples)
        _dk.csr_row_sq_norms(X.data, X.indptr, x_sq)
        inertia, n_iter = _kk.csr_lloyd_run(X.data, X.indices, X.indptr, x_sq, sample_weight,
                                            centers0, bounds, max_iter, tol, int(verbose),
                                            labels, centers, parallel)
    elif algorithm == "lloyd":
        chunk = int(bounds[1] - bounds[0]) if bounds.shape[0] > 2 else max(1, n_samples)
        inertia, n_iter = _kk.lloyd_run(X, sample_weight, centers0, bounds, chunk, max_iter,
                                        tol, int(verbose), labels, centers, parallel, use_gemm)
    else:
        mode = {"hamerly": 0, "elkan": 1, "yinyang": 2}[algorithm]
        group_of, members, group_start = _center_groups(centers0 if mode == 2 else None)
        inertia, n_iter = _kk.bounded_run(mode, X, sample_weight, centers0, bounds, max_iter,
                                          tol, int(verbose), labels, centers, parallel,
                                          group_of, members, group_start, use_gemm,
                                          use_gemm and k >= _GEMM_RESCAN_MIN_K)
    return labels, float(inertia), centers.astype(X.dtype, copy=False), int(n_iter)


class KMeans(ClassNamePrefixFeaturesOutMixin, TransformerMixin, ClusterMixin, BaseEstimator):
    """K-Means clustering (Lloyd, Elkan and Hamerly iterations on numba kernels).

    A drop-in for ``sklearn.cluster.KMeans`` (scikit-learn 1.9 API): same
    parameters, defaults, fitted attributes, warnings and errors; all exact
    algorithms give the same labels and centres as scikit-learn's Lloyd for
    the same initial centres.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters.
    init : {'k-means++', 'k-means||', 'random'}, callable or array-like of shape \
            (n_clusters, n_features), default='k-means++'
        'k-means++': greedy k-means++ seeding (:func:`kmeans_plusplus`);
        'k-means||': scalable k-means++ (Bahmani et al. 2012), used on dask
        arrays (where 'k-means++' also means it); on numpy input the same as
        'k-means++';
        'random': ``n_clusters`` distinct rows drawn with probability
        proportional to the sample weights; an array: the initial centres;
        a callable ``init(X, n_clusters, random_state)`` returning them.
    n_init : 'auto' or int, default='auto'
        Number of runs from different seeds; the best inertia is kept.
        'auto' means 1 for 'k-means++' or an array, 10 for 'random' or a callable.
    max_iter : int, default=300
        Maximum iterations of one run.
    tol : float, default=1e-4
        Convergence when the squared centre shift (summed over clusters) is at
        most ``tol`` times the mean feature variance of X.
    verbose : int, default=0
        Print progress.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation. The same seed gives the same result on
        every run and every thread count.
    copy_x : bool, default=True
        Kept for compatibility: clusterlab never modifies X (it does not
        centre the data in place), so both values leave X untouched.
    algorithm : {'auto', 'lloyd', 'elkan', 'hamerly', 'yinyang'}, default='auto'
        'lloyd': a full pass over X per iteration; 'elkan': triangle-inequality
        bounds to every centre (memory O(n k)); 'hamerly': one upper and one
        lower bound per point (memory O(n)); 'yinyang': one lower bound per
        group of about ten centres (memory O(n k / 10)). The bound-based
        algorithms update the cluster sums only with the points that change
        label. 'auto' picks by shape: Lloyd for k = 1; Elkan for at most 20
        centres in at least 128 features (MNIST-like) when its O(n k) bounds
        take at most 512 MiB; Hamerly for k < 100 or when the BLAS path below
        applies; Yinyang otherwise.
        'full' is accepted with a FutureWarning and means 'lloyd'. Sparse
        input always runs Lloyd (the same result).

    Attributes
    ----------
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Centres, in the dtype of X.
    labels_ : ndarray of shape (n_samples,), int32
        Cluster of each training point.
    inertia_ : float
        Weighted sum of squared distances to the closest centre.
    n_iter_ : int
        Iterations of the best run.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when X has string column names.

    See Also
    --------
    kmeans_plusplus, k_means, clusterlab.MiniBatchKMeans

    Notes
    -----
    Per iteration, Lloyd costs O(n k d) time; Hamerly O(n) bound updates plus
    O(k d) for each point whose bounds do not prove its label, plus O(k^2 d);
    Elkan the same with O(n k) bound updates. Memory: O(n) for labels and
    bounds (O(n k) for Elkan) plus O(G k d) partial sums, G row groups bounded
    by ``clusterlab._config.WORKING_MEMORY_BYTES``. X is never copied (unless
    it must be converted to C-ordered float).

    With enough features and centres (``clusterlab._kernels.gemm.gemm_pays``)
    the distances to every centre -- a Lloyd step, the first assignment of
    Hamerly and Yinyang, and Hamerly's re-scans from 32 centres on -- come
    from BLAS,
    ``||x||^2 + ||c||^2 - 2 x.c`` in 256-row blocks, in the dtype of X. That
    identity cancels and float32 rounds, so every centre whose approximate
    distance lies within twice a proven error bound of the smallest is
    re-computed exactly: labels are those of the exact kernels (tested on data
    at 1e7 from the origin), and bounds derived from the approximations are
    widened by the error bound.

    References
    ----------
    Lloyd, S. "Least squares quantization in PCM", 1982. Elkan, C. "Using the
    triangle inequality to accelerate k-means", ICML 2003. Hamerly, G.
    "Making k-means even faster", SDM 2010. Ding, Y. et al. "Yinyang K-Means",
    ICML 2015. Raff, E. "Exact acceleration of K-Means++ and K-Means||", IJCAI
    2021 (pruned seeding). Higham, N. "Accuracy and Stability of Numerical
    Algorithms", 2002 (the error bound of the BLAS path).

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import KMeans
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]], dtype=float)
    >>> km = KMeans(n_clusters=2, random_state=0).fit(X)
    >>> sorted(km.cluster_centers_.tolist())
    [[1.0, 2.0], [10.0, 2.0]]
    >>> bool(km.predict([[0, 0], [12, 3]])[0] == km.labels_[0])
    True
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "k-means||", "random"}), callable, "array-like"],
        "n_init": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "copy_x": ["boolean"],
        "algorithm": [StrOptions({"auto", "lloyd", "elkan", "hamerly", "yinyang", "full"},
                               deprecated={"full"})],
    }

    def __init__(self, n_clusters=8, *, init="k-means++", n_init="auto", max_iter=300,
                 tol=1e-4, verbose=0, random_state=None, copy_x=True, algorithm="auto"):
        self.n_clusters = n_clusters
        self.init = init
        self.n_init = n_init
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.random_state = random_state
        self.copy_x = copy_x
        self.algorithm = algorithm

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- fitting -----------------------------------------------------------------

    def _check_params_vs_input(self, X):
        check_n_clusters(self.n_clusters, X.shape[0])
        init_is_array = _is_array_init(self.init)
        if self.n_init == "auto":
            self._n_init = 1 if (init_is_array or (isinstance(self.init, str)
                                                   and self.init in ("k-means++", "k-means||"))
                                 ) else 10
        else:
            self._n_init = self.n_init
        if init_is_array and self._n_init != 1:
            warnings.warn(
                "Explicit initial center position passed: performing only one init in "
                f"{self.__class__.__name__} instead of n_init={self._n_init}.",
                RuntimeWarning,
                stacklevel=3,
            )
            self._n_init = 1

    def _validate_center_shape(self, X, centers):
        if centers.shape[0] != self.n_clusters:
            raise ValueError(
                f"The shape of the initial centers {centers.shape} does not match "
                f"the number of clusters {self.n_clusters}."
            )
        if centers.shape[1] != X.shape[1]:
            raise ValueError(
                f"The shape of the initial centers {centers.shape} does not match "
                f"the number of features of the data {X.shape[1]}."
            )

    def _init_centroids(self, X, x_squared_norms=None, init=None, random_state=None,
                        sample_weight=None, init_size=None, n_centroids=None):
        """Initial centres, with scikit-learn's private signature (code written
        against ``sklearn.cluster.KMeans._init_centroids`` runs unchanged;
        ``x_squared_norms`` is accepted and not needed)."""
        random_state = check_random_state(random_state)
        init = self.init if init is None else init
        n_samples = X.shape[0]
        n_clusters = self.n_clusters if n_centroids is None else n_centroids
        if sample_weight is None:
            sample_weight = np.ones(n_samples, dtype=X.dtype)
        if init_size is not None and init_size < n_samples:
            init_indices = random_state.randint(0, n_samples, init_size)
            X = X[init_indices]
            sample_weight = sample_weight[init_indices]
            n_samples = X.shape[0]
        if isinstance(init, str) and init in ("k-means++", "k-means||"):
            # k-means|| (Bahmani et al. 2012) is the distributed seeding; in memory
            # the greedy k-means++ it approximates is used directly.
            centers, _ = _kmeans_plusplus(X, n_clusters, sample_weight, random_state)
        elif isinstance(init, str) and init == "random":
            seeds = random_state.choice(n_samples, size=n_clusters, replace=False,
                                        p=sample_weight / sample_weight.sum())
            centers = X[seeds]
        elif callable(init):
            centers = init(X, n_clusters, random_state=random_state)
            centers = check_array(centers, dtype=X.dtype, copy=False, order="C",
                                  accept_sparse="csr")
            if n_centroids is None:
                self._validate_center_shape(X, centers)
        else:
            centers = init
        if sp.issparse(centers):
            centers = centers.toarray()
        if not np.all(np.isfinite(centers)):
            raise ValueError("The initial centers contain NaN or infinity; pass finite values.")
        return centers

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Compute the k-means clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (float32 stays float32; CSR accepted). Never modified.
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the points (non-negative). Not used by an array or
            callable ``init``.

        Returns
        -------
        self : KMeans
        """
        if is_dask_array(X):  # handed to the distributed implementation (clusterlab.distributed)
            from clusterlab.distributed import fit_kmeans

            return fit_kmeans(self, X, y=y, sample_weight=sample_weight)
        X = self._validate_X(X, reset=True)
        self._check_params_vs_input(X)
        random_state = check_random_state(self.random_state)
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        algorithm = _resolve_algorithm(self.algorithm, X, self.n_clusters)

        init = self.init
        if _is_array_init(init):
            init = check_array(init, dtype=X.dtype, copy=True, order="C")
            self._validate_center_shape(X, init)

        n_samples, n_features = X.shape
        bounds = _row_bounds(n_samples, self.n_clusters, n_features)
        tol = _tolerance(X, self.tol, bounds)

        best_inertia, best_labels = None, None
        for _ in range(self._n_init):
            centers_init = self._init_centroids(X, init=init, random_state=random_state,
                                                sample_weight=sample_weight)
            if self.verbose:
                print("Initialization complete")
            labels, inertia, centers, n_iter = _kmeans_single(
                X, sample_weight, centers_init, algorithm, self.max_iter, tol, self.verbose,
                bounds)
            if best_inertia is None or (
                inertia < best_inertia
                and not _is_same_clustering(labels, best_labels, self.n_clusters)
            ):
                best_labels, best_centers = labels, centers
                best_inertia, best_n_iter = inertia, n_iter

        distinct = int(_kk.n_distinct_labels(best_labels, self.n_clusters))
        if distinct < self.n_clusters:
            warnings.warn(
                f"Number of distinct clusters ({distinct}) found smaller than "
                f"n_clusters ({self.n_clusters}). Possibly due to duplicate points in X.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.cluster_centers_ = best_centers
        self._n_features_out = self.cluster_centers_.shape[0]
        self.labels_ = best_labels
        self.inertia_ = best_inertia
        self.n_iter_ = best_n_iter
        return self

    def fit_predict(self, X, y=None, sample_weight=None):
        """Fit and return the cluster of each training point (``labels_``)."""
        return self.fit(X, sample_weight=sample_weight).labels_

    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit and return the distances of X to the centres (see :meth:`transform`)."""
        if is_dask_array(X):
            return self.fit(X, sample_weight=sample_weight).transform(X)
        self.fit(X, sample_weight=sample_weight)
        return self._transform(self._check_test_data(X))

    # -- inference ---------------------------------------------------------------

    def _validate_X(self, X, reset):
        # scikit-learn's validation, with its NaN/inf check made by check_finite
        X = validate_data(self, X, accept_sparse="csr", reset=reset,
                          dtype=[np.float64, np.float32], order="C",
                          accept_large_sparse=False, ensure_all_finite=False)
        check_finite(X, self)
        return X

    def _check_test_data(self, X):
        return self._validate_X(X, reset=False)

    def _labels_and_min_sq(self, X):
        n = X.shape[0]
        labels = np.empty(n, dtype=np.int32)
        min_sq = np.empty(n, dtype=np.float64)
        centers = self.cluster_centers_
        if sp.issparse(X):
            d2 = self._sq_distances(X)
            labels[:] = np.argmin(d2, axis=1)
            min_sq[:] = d2[np.arange(n), labels]
        elif _gk.gemm_pays(centers.shape[1], centers.shape[0], X.dtype):
            # the nearest centre from BLAS products (exact labels, exact
            # distances to them): MNIST-shaped 60000 x 784, k=10, the whole
            # predict 45 -> 26 ms (scikit-learn: 35 ms)
            centers = np.ascontiguousarray(centers, dtype=np.float64)
            bounds = _row_bounds(n, centers.shape[0], centers.shape[1])
            parallel = _use_parallel(n * centers.shape[0] * centers.shape[1])
            with _config.single_threaded_blas() if parallel else contextlib.nullcontext():
                _gk.gemm_nearest(X, centers, bounds, labels, min_sq, parallel)
        elif _use_parallel(n * centers.shape[0] * centers.shape[1]):
            chunk = min(_GROUP_ROWS, _config.chunk_rows(centers.shape[0], 8))
            _dk.nearest_center(X, centers, chunk, labels, min_sq)
        else:
            _dk.nearest_center_range(X, centers, 0, n, labels, min_sq)
        return labels, min_sq

    def _sq_distances(self, X):
        n = X.shape[0]
        centers = self.cluster_centers_
        out = np.empty((n, centers.shape[0]), dtype=X.dtype)
        if sp.issparse(X):
            x_sq = np.empty(n)
            _dk.csr_row_sq_norms(X.data, X.indptr, x_sq)
            c_sq = np.empty(centers.shape[0])
            _dk.dense_row_sq_norms(centers, c_sq)
            _dk.csr_pairwise_sq_dist(X.data, X.indices, X.indptr, x_sq, centers, c_sq, out)
        else:
            _dk.pairwise_sq_dist(X, centers, out,
                                 _use_parallel(n * centers.shape[0] * centers.shape[1]))
        return out

    def predict(self, X):
        """Index of the closest centre for each row of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,), int32
        """
        check_is_fitted(self)
        if is_dask_array(X):
            return predict_blocks(self, "predict", X)
        X = self._check_test_data(X)
        return self._labels_and_min_sq(X)[0]

    def transform(self, X):
        """Euclidean distance of each row of X to every centre.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        X_new : ndarray of shape (n_samples, n_clusters), dtype of X

        Notes
        -----
        Time O(n k d); the output is O(n k).
        """
        check_is_fitted(self)
        if is_dask_array(X):
            return predict_blocks(self, "transform", X)
        X = self._check_test_data(X)
        return self._transform(X)

    def _transform(self, X):
        out = self._sq_distances(X)
        np.sqrt(out, out=out)
        return out

    def score(self, X, y=None, sample_weight=None):
        """Opposite of the (weighted) inertia of X on the fitted centres.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        check_is_fitted(self)
        X = self._check_test_data(X)
        sample_weight = check_sample_weight(sample_weight, X, dtype=X.dtype)
        _, min_sq = self._labels_and_min_sq(X)
        return -float(np.dot(min_sq, sample_weight.astype(np.float64)))


def _is_array_init(init):
    """True for an array-like ``init`` (not a string, not a callable)."""
    if isinstance(init, str) or callable(init):
        return False
    return hasattr(init, "__len__") or hasattr(init, "shape") or hasattr(init, "__array__")


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "sample_weight": ["array-like", None],
        "return_n_iter": [bool],
    },
    prefer_skip_nested_validation=False,
)
def k_means(X, n_clusters, *, sample_weight=None, init="k-means++", n_init="auto",
            max_iter=300, verbose=False, tol=1e-4, random_state=None, copy_x=True,
            algorithm="auto", return_n_iter=False):
    """Run K-Means and return centres, labels and inertia (functional API of :class:`KMeans`).

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
    n_clusters : int
    sample_weight : array-like of shape (n_samples,), default=None
    init, n_init, max_iter, verbose, tol, random_state, copy_x, algorithm
        As :class:`KMeans`.
    return_n_iter : bool, default=False
        Also return the number of iterations of the best run.

    Returns
    -------
    centroid : ndarray of shape (n_clusters, n_features)
    label : ndarray of shape (n_samples,)
    inertia : float
    best_n_iter : int, only if ``return_n_iter``

    Notes
    -----
    Same complexity as :class:`KMeans`.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import k_means
    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> centers, labels, inertia = k_means(X, 2, random_state=0)
    >>> round(inertia, 6)
    0.01
    """
    est = KMeans(n_clusters=n_clusters, init=init, n_init=n_init, max_iter=max_iter,
                 verbose=verbose, tol=tol, random_state=random_state, copy_x=copy_x,
                 algorithm=algorithm).fit(X, sample_weight=sample_weight)
    if return_n_iter:
        return est.cluster_centers_, est.labels_, est.inertia_, est.n_iter_
    return est.cluster_centers_, est.labels_, est.inertia_

