"""K-Means kernels: Lloyd statistics, Hamerly and Elkan iterations, k-means++ seeding.

Plain numba functions on C-contiguous arrays, no validation. Conventions:

- ``X`` is (n, d) float32 or float64; ``sample_weight`` is (n,) of any float
  dtype; centres are float64 while iterating (the estimator casts back to
  ``X.dtype`` at the end); every sum over rows is accumulated in float64.
- Rows are cut into a fixed list of groups, ``bounds`` (G + 1,) int64 with
  ``bounds[0] = 0`` and ``bounds[-1] = n``. Groups run in parallel (``prange``)
  and their partial results are reduced in group order, so results never
  depend on the number of threads: only on ``bounds``, which the caller
  derives from the data shape alone. With one group nothing runs in parallel
  (no thread start-up cost on tiny data).
- Labels are int32. Arguments are marked IN, OUT or INOUT.
- The run loops (:func:`lloyd_run`, :func:`bounded_run`, :func:`csr_lloyd_run`)
  and the serial/parallel dispatchers (:func:`lloyd_stats`, :func:`cluster_sums`,
  :func:`kpp_pass`, ...) are plain Python around one jitted pass each. This is
  deliberate (a departure from "every kernel is jitted"): a jitted function
  compiles everything it *could* call, so one jitted driver with a ``mode`` and
  a ``parallel`` branch compiled all three bounded algorithms and every
  ``parallel=True`` kernel on the first fit (about 40 s cold under load). Now a
  fit compiles only the passes it runs; the Python loop costs a few
  microseconds per iteration.

The three exact algorithms (Lloyd, Hamerly, Elkan) produce the same sequence
of labels and centres: each iteration assigns every point to its nearest
centre (ties to the lowest index), relocates empty clusters to the points
farthest from their centres (as scikit-learn), moves each centre to the
weighted mean of its points, and stops on strict label stability or when the
squared centre shift summed over clusters is ``<= tol``. Hamerly and Elkan
skip points whose bounds prove the label unchanged and update the cluster
sums incrementally (only points that changed label move their contribution).
"""

import numba as nb
import numpy as np

from clusterlab._kernels.distances import (
    FASTMATH,
    abs_max_bound,
    _nearest_center_parallel,
    add_row,
    move_row,
    center_distances,
    center_half_min,
    csr_sq_dist_row,
    dense_row_sq_norms,
    nearest_center_range,
    nearest_of_row,
    prefetch_row,
    row_sq_norm,
    sq_dist_row_to_all,
    sq_dist_rows,
)
from clusterlab._kernels.gemm import (
    block_rows,
    gemm_full_scan_groups,
    gemm_full_scan_groups_serial,
    gemm_lloyd_groups,
    gemm_lloyd_groups_serial,
    gemm_operands,
    gemm_rescan_rows,
    gemm_rescan_span,
    resolve_dists,
    row_sq_norms,
    store_rescan,
)

_NO_C32 = np.empty((0, 0), np.float32)
_NO_CERR = np.empty(0)
_NO_Q = np.empty((0, 0), np.int16)

#: Elkan keeps a 16-bit copy of X (a quarter of float64 rows, half of
#: float32 rows; see :func:`interval_rows`) up to this size: the distance
#: intervals of its E-steps then read that many fewer bytes (MNIST-shaped data,
#: 20 iterations: see docs/kmeans.md).
ELKAN_INTERVAL_COPY_BYTES = 512 * 2**20
#: From this many features on (and when the product pays,
#: :func:`clusterlab._kernels.gemm.gemm_pays`) Elkan's first assignment takes
#: its distance intervals from BLAS products (MNIST-shaped float32, the 16-bit
#: copy written in the same pass: 28 ms vs 37 ms direct on 2 threads; with 32
#: features and 1000 centres the direct intervals were 1.7x faster).
ELKAN_GEMM_FIRST_MIN_FEATURES = 128
#: Largest magnitude of a 16-bit interval coordinate.
_Q_MAX = 32767.0

# Relative safety margin on bound tests: a point is skipped only if its
# upper bound is below its lower bound by more than accumulated rounding.
_HI = 1.0 + 1e-9
_LO = 1.0 - 1e-9

#: Elkan's E-step prefetches the interval row this many rows ahead
#: (:func:`clusterlab._kernels.distances.prefetch_row`; 2 and 4 measured alike).
_PREFETCH_AHEAD = 2
_TIGHTEN_AHEAD = 8
#: Hamerly's tightening re-checks its pass rate every this many rows.
_TIGHTEN_PROBE = 256
#: Hamerly's tightening (one exact distance per failed row) stops once fewer
#: than this share of the tightened rows pass when the re-scans go through
#: BLAS with up to 64 centres (scaled by 64 / k beyond). On 10^6 x 16,
#: k=64 float32 (2 threads) a tightened row cost ~8-10 ns and a BLAS re-scan
#: ~27-30 ns, and after the first E-steps only 3-11% of the tightened rows
#: passed: E-steps 144 -> 133 ms in a whole fit. On 10^5 x 32, k=1000 0.4
#: was 5% slower than tightening every row; 0.026 as fast. The direct
#: re-scans cost k distances: there the threshold is 1 / k.
TIGHTEN_MIN_PASS_GEMM = 0.4
#: Hamerly's tightening also measures the centres that moved most exactly:
#: the fewest (up to _MAX_MOVERS) after which the largest remaining shift is
#: at most _MOVERS_RATIO of the largest, else the top one alone when the
#: second largest shift is at most _TOP_MOVER_RATIO of the largest. On
#: 10^6 x 16, k=64 float32 (replayed E-steps, 2 threads) the top one alone
#: re-scanned 3.28 M rows over 10 E-steps; up to 4 movers at 0.25: 2.56 M,
#: E-steps 125.7 -> 118.3 ms (8 movers at 0.3: 2.26 M re-scans but 127.4 ms,
#: the extra distances cost more than the re-scans they save).
_TOP_MOVER_RATIO = 0.9
#: A BLAS Hamerly row group skips its bound pass when at least this share
#: of every _FAIL_SAMPLE-th row fails the first test: the share from which
#: its re-scan reads every row in place anyway (gemm_hamerly_range).
_ALL_FAIL_SHARE = 0.92
#: Hamerly's first test bounds the distance to this many centres that moved
#: most through the centre-centre distance (see _first_bounds).
_CC_MOVERS = 4
_CC_LO = 1.0 - 4.0 * 2.0 ** -52
_CC_HI = 1.0 + 4.0 * 2.0 ** -52
_FAIL_SAMPLE = 16
_MAX_MOVERS = 4
_MOVERS_RATIO = 0.25
_EPS64 = 2.0 ** -52
_NO_WEIGHTS = np.empty(0)


# ----------------------------------------------------------------------------
# Lloyd: assignment + per-cluster statistics


#: Up to this many features, Lloyd works on 256-row blocks copied feature by
#: feature (distances vectorised across rows instead of per-row loops of d
#: numbers): measured 2x faster for 1-3 features, 1.3x for 8.
COLUMNAR_MAX_FEATURES = 8
_COL_BLOCK = 256
_U0 = np.uint64(0)


@nb.njit(cache=True, nogil=True, inline="always")
def _columnar_dist(T, s, m, centers, j, D):
    # D[b] = ||T[:, s + b] - centers[j]||^2 for m rows stored feature by
    # feature (a copied block with s = 0, or a transposed X), features summed
    # in order in float64 (k-means++'s _col_row_dist sums one row the same
    # way, bitwise). Inline: compiled with the caller's flags (its callers are
    # fastmath, so the sums are contracted). s and m are unsigned: numba then
    # omits its negative-index wraparound, which otherwise blocks the
    # vectorisation of the loop over rows (measured 3-4x).
    for b in range(m):
        D[b] = 0.0
    for f in range(T.shape[0]):
        cf = np.float64(centers[j, f])
        Tf = T[f]
        for b in range(m):
            t = np.float64(Tf[s + b]) - cf
            D[b] += t * t


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def _lloyd_stats_columnar(X, sample_weight, centers, start, stop, labels, min_sq_dist, sums,
                          weights):
    # lloyd_stats_range for few features. Unsigned offsets: numba then omits
    # its negative-index wraparound, which blocks vectorisation.
    k = centers.shape[0]
    d = X.shape[1]
    T = np.empty((d, _COL_BLOCK))
    D = np.empty(_COL_BLOCK)
    bd = np.empty(_COL_BLOCK)
    bj = np.empty(_COL_BLOCK, np.int64)
    inertia = 0.0
    for s0 in range(start, stop, _COL_BLOCK):
        s = np.uint64(s0)
        m = np.uint64(min(_COL_BLOCK, stop - s0))
        for b in range(m):
            for f in range(d):
                T[f, b] = X[s + b, f]
        for b in range(m):
            bd[b] = np.inf
            bj[b] = 0
        for j in range(k):
            _columnar_dist(T, _U0, m, centers, j, D)
            for b in range(m):  # strict <: ties keep the lowest index
                better = D[b] < bd[b]
                bd[b] = D[b] if better else bd[b]
                bj[b] = j if better else bj[b]
        acc = 0.0
        for b in range(m):
            i = s + b
            j = bj[b]
            labels[i] = j
            min_sq_dist[i] = bd[b]
            w = np.float64(sample_weight[i])
            weights[j] += w
            acc += w * bd[b]
            for f in range(d):
                sums[j, f] += w * T[f, b]
        inertia += acc
    return inertia


@nb.njit(cache=True, nogil=True, inline="always")
def lloyd_stats_range(X, sample_weight, centers, start, stop, labels, min_sq_dist, sums,
                      weights):
    """Assign rows ``[start, stop)`` and accumulate their statistics (serial).

    Parameters
    ----------
    X : IN (n, d) float32/float64
    sample_weight : IN (n,) float
    centers : IN (k, d) float
    start, stop : IN int
    labels : OUT (n,) int32, rows ``[start, stop)``
    min_sq_dist : OUT (n,) float64, squared distance to the assigned centre
    sums : INOUT (k, d) float64, ``+= w_i x_i`` per assigned cluster
    weights : INOUT (k,) float64, ``+= w_i`` per assigned cluster

    Returns
    -------
    inertia : float64, sum of ``w_i * min_sq_dist[i]`` over the range
    """
    k = centers.shape[0]
    d = X.shape[1]
    if d <= COLUMNAR_MAX_FEATURES:
        return _lloyd_stats_columnar(X, sample_weight, centers, start, stop, labels,
                                     min_sq_dist, sums, weights)
    inertia = 0.0
    dists = np.empty(k)
    for i in range(start, stop):
        best, best_d = nearest_of_row(X, i, centers, dists)
        labels[i] = best
        min_sq_dist[i] = best_d
        w = np.float64(sample_weight[i])
        weights[best] += w
        inertia += w * best_d
        for f in range(d):
            sums[best, f] += w * X[i, f]
    return inertia


@nb.njit(cache=True, nogil=True, parallel=True)
def _lloyd_stats_groups(X, sample_weight, centers, bounds, labels, min_sq_dist, g_sums,
                        g_weights, g_inertia):
    n_groups = bounds.shape[0] - 1
    for g in nb.prange(n_groups):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_inertia[g] = lloyd_stats_range(X, sample_weight, centers, bounds[g], bounds[g + 1],
                                         labels, min_sq_dist, g_sums[g], g_weights[g])


@nb.njit(cache=True, nogil=True)
def _lloyd_stats_groups_serial(X, sample_weight, centers, bounds, labels, min_sq_dist, g_sums,
                               g_weights, g_inertia):
    for g in range(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_inertia[g] = lloyd_stats_range(X, sample_weight, centers, bounds[g], bounds[g + 1],
                                         labels, min_sq_dist, g_sums[g], g_weights[g])


def lloyd_stats(X, sample_weight, centers, bounds, labels, min_sq_dist, sums, weights,
                g_sums, g_weights, g_inertia, parallel, x_sq=None):
    """One Lloyd E-step with the M-step statistics, over row groups.

    A plain Python dispatcher: it calls the serial or the parallel kernel, so
    numba compiles only the one a fit uses (a parallel kernel called from a
    jitted function is compiled with it even when the branch never runs).

    Parameters
    ----------
    X : IN (n, d) float32/float64
    sample_weight : IN (n,) float
    centers : IN (k, d) float
    bounds : IN (G + 1,) int64, row groups
    labels : OUT (n,) int32
    min_sq_dist : OUT (n,) float64
    sums : OUT (k, d) float64, weighted sum of the rows of each cluster
    weights : OUT (k,) float64, total weight of each cluster
    g_sums : scratch (G, k, d) float64 (unused when G == 1)
    g_weights : scratch (G, k) float64
    g_inertia : scratch (G,) float64
    parallel : IN bool, run the groups on threads (same result either way)
    x_sq : IN (n,) float64 or None, default None, squared row norms: when
        given, the distances go through BLAS (:mod:`clusterlab._kernels.gemm`:
        same labels; ``min_sq_dist`` within its error bound instead of exact;
        BLAS must be single-threaded when ``parallel``)

    Returns
    -------
    inertia : float64, w.r.t. ``centers``

    Notes
    -----
    Time O(n k d); memory O(G k d) scratch, owned by the caller.
    """
    sums[:] = 0.0
    weights[:] = 0.0
    if x_sq is not None:
        ops = gemm_operands(X, centers)
        kernel = gemm_lloyd_groups if parallel else gemm_lloyd_groups_serial
        kernel(X, x_sq, sample_weight, centers, *ops, bounds, labels, min_sq_dist, g_sums,
               g_weights, g_inertia)
    elif bounds.shape[0] == 2:
        return lloyd_stats_range(X, sample_weight, centers, 0, X.shape[0], labels,
                                 min_sq_dist, sums, weights)
    else:
        kernel = _lloyd_stats_groups if parallel else _lloyd_stats_groups_serial
        kernel(X, sample_weight, centers, bounds, labels, min_sq_dist, g_sums, g_weights,
               g_inertia)
    _reduce_groups(g_sums, sums)
    _reduce_groups(g_weights, weights)
    return float(np.sum(g_inertia))


@nb.njit(cache=True, nogil=True)
def n_distinct_labels(labels, k):
    """How many of the ``k`` clusters have at least one row in ``labels``
    (int32, values in ``[0, k)``): ``np.count_nonzero(np.bincount(labels))``
    without bincount's conversion of the labels to int64 (10^6 rows: 1.5 ->
    0.4 ms)."""
    seen = np.zeros(k, np.uint8)
    for i in range(labels.shape[0]):
        seen[labels[i]] = 1
    n = 0
    for j in range(k):
        n += seen[j]
    return n


def _reduce_groups(g_parts, out):
    """``out[:] = sum_g g_parts[g]`` over the leading axis (numpy: a fixed order for a
    fixed shape, so the result never depends on the thread count)."""
    np.sum(g_parts, axis=0, out=out)


def kmeans_partial_stats(X, sample_weight, centers, chunk, parallel=True):
    """Per-chunk K-Means statistics: what a distributed Lloyd step reduces.

    Parameters
    ----------
    X : IN (n, d) float32/float64, one chunk of rows
    sample_weight : IN (n,) float
    centers : IN (k, d) float
    chunk : IN int, rows per parallel group inside this call
    parallel : IN bool, default True, run the groups on threads (same result either way)

    Returns
    -------
    sums : (k, d) float64, ``sum_i w_i x_i`` over rows assigned to each centre
    weights : (k,) float64, ``sum_i w_i`` per centre
    inertia : float64, ``sum_i w_i ||x_i - c_{label_i}||^2``
    labels : (n,) int32, nearest centre of each row

    Notes
    -----
    Time O(n k d), memory O(ceil(n / chunk) k d) scratch. Summing ``sums``,
    ``weights`` and ``inertia`` over chunks (in a fixed order) and dividing
    gives the next Lloyd centres.
    """
    n = X.shape[0]
    k, d = centers.shape
    chunk = max(1, chunk)
    n_groups = max(1, (n + chunk - 1) // chunk)
    bounds = np.empty(n_groups + 1, np.int64)
    bounds[:] = np.minimum(np.arange(n_groups + 1) * chunk, n)
    labels = np.empty(n, np.int32)
    min_sq = np.empty(n, np.float64)
    sums = np.zeros((k, d), np.float64)
    weights = np.zeros(k, np.float64)
    g_sums = np.empty((n_groups, k, d), np.float64)
    g_weights = np.empty((n_groups, k), np.float64)
    g_inertia = np.empty(n_groups, np.float64)
    inertia = lloyd_stats(X, sample_weight, centers, bounds, labels, min_sq, sums, weights,
                          g_sums, g_weights, g_inertia, parallel)
    return sums, weights, inertia, labels


@nb.njit(cache=True, nogil=True, parallel=True)
def _inertia_groups(X, sample_weight, centers, labels, bounds, g_inertia):
    for g in nb.prange(bounds.shape[0] - 1):
        g_inertia[g] = _inertia_range(X, sample_weight, centers, labels, bounds[g],
                                      bounds[g + 1])


@nb.njit(cache=True, nogil=True)
def _inertia_range(X, sample_weight, centers, labels, start, stop):
    acc = 0.0
    for i in range(start, stop):
        acc += np.float64(sample_weight[i]) * sq_dist_rows(X, i, centers, labels[i])
    return acc


@nb.njit(cache=True, nogil=True)
def _inertia_groups_serial(X, sample_weight, centers, labels, bounds, g_inertia):
    for g in range(bounds.shape[0] - 1):
        g_inertia[g] = _inertia_range(X, sample_weight, centers, labels, bounds[g],
                                      bounds[g + 1])


def weighted_inertia(X, sample_weight, centers, labels, bounds, parallel):
    """``sum_i w_i ||x_i - centers[labels_i]||^2`` over row groups (float64).

    Parameters
    ----------
    X : IN (n, d); sample_weight : IN (n,); centers : IN (k, d);
    labels : IN (n,) int32; bounds : IN (G + 1,) int64; parallel : IN bool
    """
    if bounds.shape[0] == 2:
        return _inertia_range(X, sample_weight, centers, labels, 0, X.shape[0])
    g_inertia = np.zeros(bounds.shape[0] - 1)
    kernel = _inertia_groups if parallel else _inertia_groups_serial
    kernel(X, sample_weight, centers, labels, bounds, g_inertia)
    return float(np.sum(g_inertia))


@nb.njit(cache=True, nogil=True, parallel=True)
def _sq_dist_to_assigned_groups(X, centers, labels, bounds, out):
    for g in nb.prange(bounds.shape[0] - 1):
        _sq_dist_to_assigned_range(X, centers, labels, bounds[g], bounds[g + 1], out)


@nb.njit(cache=True, nogil=True)
def _sq_dist_to_assigned_range(X, centers, labels, start, stop, out):
    for i in range(start, stop):
        out[i] = sq_dist_rows(X, i, centers, labels[i])


@nb.njit(cache=True, nogil=True)
def _farthest_rows(weights, min_sq_dist):
    """The rows that relocation gives to the empty clusters (``weights == 0``):
    as many as there are empty clusters (at most n), largest ``min_sq_dist``
    first, ties to the lowest row."""
    n = min_sq_dist.shape[0]
    n_empty = 0
    for j in range(weights.shape[0]):
        if weights[j] == 0.0:
            n_empty += 1
    n_empty = min(n_empty, n)
    chosen = np.empty(n_empty, np.int64)
    taken = np.zeros(n, np.bool_)
    for e in range(n_empty):
        best = -1
        best_d = -1.0
        for i in range(n):
            if not taken[i] and min_sq_dist[i] > best_d:
                best_d = min_sq_dist[i]
                best = i
        taken[best] = True
        chosen[e] = best
    return chosen


@nb.njit(cache=True, nogil=True)
def _any_positive(min_sq_dist):
    # Every row on its centre (more clusters than distinct rows): scikit-learn
    # does not relocate then -- there is no point farther than another.
    for i in range(min_sq_dist.shape[0]):
        if min_sq_dist[i] > 0.0:
            return True
    return False


@nb.njit(cache=True, nogil=True)
def relocate_empty_clusters(X, sample_weight, labels, min_sq_dist, sums, weights):
    """Move each empty cluster onto one of the points farthest from their centres.

    As scikit-learn: clusters with zero total weight, in index order, take the
    points with the largest ``min_sq_dist`` (largest first; ties to the lowest
    row). The point's contribution leaves its old cluster's sums; labels are
    not changed (the next E-step reassigns).

    Parameters
    ----------
    X : IN (n, d); sample_weight : IN (n,)
    labels : IN (n,) int32
    min_sq_dist : IN (n,) float64, squared distance of each row to its centre
    sums : INOUT (k, d) float64
    weights : INOUT (k,) float64

    Returns
    -------
    n_relocated : int

    Notes
    -----
    Time O(n * n_empty + n_empty d).
    """
    k = weights.shape[0]
    if not _any_positive(min_sq_dist):
        return 0
    chosen = _farthest_rows(weights, min_sq_dist)
    n_empty = chosen.shape[0]
    e = 0
    d = X.shape[1]
    for j in range(k):
        if weights[j] != 0.0 or e >= n_empty:
            continue
        i = chosen[e]
        e += 1
        w = np.float64(sample_weight[i])
        old = labels[i]
        for f in range(d):
            sums[old, f] -= w * X[i, f]
            sums[j, f] = w * X[i, f]
        weights[j] = w
        weights[old] -= w
    return e


@nb.njit(cache=True, nogil=True)
def average_centers(sums, weights, centers_old, centers_new, shift):
    """New centres = sums / weights; returns the total squared centre shift.

    A cluster of zero weight (left empty: relocation found no point off its
    centre, i.e. more clusters than distinct points) is placed on the new
    centre of the heaviest cluster (the first on ties), as scikit-learn means
    to place it. (scikit-learn's in-place loop copies that centre before
    dividing it when the heaviest cluster comes later: a weighted sum of the
    centred data plus the mean; clusterlab always uses the averaged centre.)

    Parameters
    ----------
    sums : IN (k, d) float64; weights : IN (k,) float64
    centers_old : IN (k, d) float64
    centers_new : OUT (k, d) float64
    shift : OUT (k,) float64, ``||centers_new[j] - centers_old[j]||``

    Returns
    -------
    float64, ``sum_j shift[j] ** 2``
    """
    k, d = sums.shape
    heaviest = 0
    for j in range(1, k):
        if weights[j] > weights[heaviest]:
            heaviest = j
    total = 0.0
    for j in range(k):
        wj = weights[j]
        s = 0.0
        for f in range(d):
            if wj > 0.0:
                v = sums[j, f] / wj
            elif weights[heaviest] > 0.0:
                v = sums[heaviest, f] / weights[heaviest]
            else:  # no weight anywhere
                v = sums[j, f]
            centers_new[j, f] = v
            diff = v - centers_old[j, f]
            s += diff * diff
        shift[j] = np.sqrt(s)
        total += s
    return total





def lloyd_run(X, sample_weight, centers_init, bounds, chunk, max_iter, tol, verbose, labels,
              centers_out, parallel, use_gemm=False):
    """One complete Lloyd K-Means run from ``centers_init``.

    The loop is plain Python around one jitted pass per iteration (a few
    microseconds of call overhead per iteration), so numba compiles only the
    kernels this run uses: the serial ones on small data, the parallel ones
    when ``parallel``.

    Parameters
    ----------
    X : IN (n, d) float32/float64
    sample_weight : IN (n,) float
    centers_init : IN (k, d) float64
    bounds : IN (G + 1,) int64, row groups
    chunk : IN int, rows per parallel task for the final assignment
    max_iter : IN int; tol : IN float (absolute, already scaled)
    verbose : IN int
    labels : OUT (n,) int32
    centers_out : OUT (k, d) float64
    parallel : IN bool, run row groups on threads (same result either way)
    use_gemm : IN bool, default False, distances through BLAS (see :func:`lloyd_stats`)

    Returns
    -------
    inertia : float64; n_iter : int

    Notes
    -----
    Time O(n k d) per iteration; memory O(n + G k d).
    """
    n, d = X.shape
    k = centers_init.shape[0]
    centers = centers_init.copy()
    centers_new = np.empty_like(centers)
    labels_old = np.full(n, -1, np.int32)
    x_sq = row_sq_norms(X, bounds, parallel) if use_gemm else None
    min_sq = np.empty(n, np.float64)
    sums = np.zeros((k, d))
    weights = np.zeros(k)
    shift = np.zeros(k)
    n_groups = bounds.shape[0] - 1
    g_sums = np.empty((n_groups, k, d))
    g_weights = np.empty((n_groups, k))
    g_inertia = np.empty(n_groups)
    strict = False
    it = 0
    for it in range(max_iter):
        inertia = lloyd_stats(X, sample_weight, centers, bounds, labels, min_sq, sums,
                              weights, g_sums, g_weights, g_inertia, parallel, x_sq)
        if not weights.all():
            if x_sq is not None:  # BLAS distances are estimates: choose from exact ones
                if parallel:
                    _sq_dist_to_assigned_groups(X, centers, labels, bounds, min_sq)
                else:
                    _sq_dist_to_assigned_range(X, centers, labels, 0, n, min_sq)
            relocate_empty_clusters(X, sample_weight, labels, min_sq, sums, weights)
        shift_tot = average_centers(sums, weights, centers, centers_new, shift)
        if verbose:
            print(f"Iteration {it}, inertia {inertia}.")  # as scikit-learn's lloyd
        centers, centers_new = centers_new, centers
        if np.array_equal(labels, labels_old):
            strict = True
            if verbose:
                print(f"Converged at iteration {it}: strict convergence.")
            break
        if shift_tot <= tol:
            if verbose:
                print(f"Converged at iteration {it}: center shift {shift_tot} within "
                      f"tolerance {tol}.")
            break
        labels_old[:] = labels
    if not strict:
        if parallel:
            _nearest_center_parallel(X, centers, chunk, labels, min_sq)
        else:
            nearest_center_range(X, centers, 0, n, labels, min_sq)
    centers_out[:] = centers
    return weighted_inertia(X, sample_weight, centers, labels, bounds, parallel), it + 1


# ----------------------------------------------------------------------------
# Bound-accelerated exact iterations: Hamerly (one lower bound per point) and
# Elkan (k lower bounds per point). Distances (not squared) in float64.


@nb.njit(cache=True, nogil=True, inline="always")
def _columnar_top2(T, m, centers, D, d1, d2, j1, lb, idx):
    # For the m rows of a block copied feature by feature into T (d, >= m):
    # squared distances to the nearest (d1, index j1, ties to the lowest index)
    # and second nearest (d2) centre, tracked with element-wise operations
    # across the rows; with Elkan's lb, lb[idx[b], j] = distance to centre j.
    # Inline: compiled with the caller's (fastmath) flags; m is unsigned (numba
    # then omits its negative-index wraparound, which blocks vectorisation).
    k = centers.shape[0]
    elkan = lb.shape[0] > 0
    for b in range(m):
        d1[b] = np.inf
        d2[b] = np.inf
        j1[b] = 0
    for j in range(k):
        _columnar_dist(T, _U0, m, centers, j, D)
        if elkan:
            for b in range(m):
                lb[idx[b], j] = np.sqrt(D[b])
        for b in range(m):  # strict <: ties keep the lowest index
            v = D[b]
            a = d1[b]
            better = v < a
            d2[b] = a if better else (v if v < d2[b] else d2[b])
            d1[b] = v if better else a
            j1[b] = j if better else j1[b]


@nb.njit(cache=True, nogil=True, inline="always")
def _columnar_scratch(d):
    # (T, D, d1, d2, j1, idx) for _columnar_top2
    return (np.empty((d, _COL_BLOCK)), np.empty(_COL_BLOCK), np.empty(_COL_BLOCK),
            np.empty(_COL_BLOCK), np.empty(_COL_BLOCK, np.int64),
            np.empty(_COL_BLOCK, np.int64))


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def _full_scan_columnar(X, centers, start, stop, labels, upper, lower, lb):
    # _full_scan_range for few features, on 256-row blocks
    d = X.shape[1]
    T, D, d1, d2, j1, idx = _columnar_scratch(d)
    for s0 in range(start, stop, _COL_BLOCK):
        s = np.uint64(s0)
        m = np.uint64(min(_COL_BLOCK, stop - s0))
        for b in range(m):
            idx[b] = s + b
            for f in range(d):
                T[f, b] = X[s + b, f]
        _columnar_top2(T, m, centers, D, d1, d2, j1, lb, idx)
        for b in range(m):
            i = s + b
            labels[i] = j1[b]
            upper[i] = np.sqrt(d1[b])
        if lb.shape[0] == 0:
            for b in range(m):
                lower[s + b] = np.sqrt(d2[b])


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def _rescan_columnar(X, rows, start, n_rows, centers, labels, upper, lower, moved_from):
    # direct_rescan_rows for few features: the listed rows gathered into
    # 256-row blocks copied feature by feature
    d = X.shape[1]
    T, D, d1, d2, j1, idx = _columnar_scratch(d)
    no_lb = np.empty((0, 0))
    n_changed = 0
    for t0 in range(start, start + n_rows, _COL_BLOCK):
        m = np.uint64(min(_COL_BLOCK, start + n_rows - t0))
        for b in range(m):
            i = rows[t0 + b]
            idx[b] = i
            for f in range(d):
                T[f, b] = X[i, f]
        _columnar_top2(T, m, centers, D, d1, d2, j1, no_lb, idx)
        for b in range(m):
            n_changed += store_rescan(idx[b], j1[b], d1[b], d2[b], labels, upper, lower,
                                      moved_from)
    return n_changed


@nb.njit(cache=True, nogil=True)
def _full_scan_range(X, centers, start, stop, labels, upper, lower, lb):
    """Initial assignment with bounds for rows ``[start, stop)``.

    Hamerly (``lb.shape[0] == 0``): ``lower`` = distance to the second nearest.
    Elkan: ``lb[i, j]`` = distance to every centre.
    """
    if X.shape[1] <= COLUMNAR_MAX_FEATURES:
        _full_scan_columnar(X, centers, start, stop, labels, upper, lower, lb)
        return
    k = centers.shape[0]
    elkan = lb.shape[0] > 0
    dists = np.empty(k)
    for i in range(start, stop):
        d1 = np.inf
        d2 = np.inf
        j1 = 0
        sq_dist_row_to_all(X, i, centers, dists)
        for j in range(k):
            dist = dists[j]
            if elkan:
                lb[i, j] = np.sqrt(dist)
            if dist < d1:
                d2 = d1
                d1 = dist
                j1 = j
            elif dist < d2:
                d2 = dist
        labels[i] = j1
        upper[i] = np.sqrt(d1)
        if not elkan:
            lower[i] = np.sqrt(d2)


@nb.njit(cache=True, nogil=True, inline="always")
def _top_shifts(shift, n_keep):
    # The n_keep centres that moved most, largest first (lowest index on
    # ties; top[0] = shift_arg1 of _two_largest), kept by insertion: O(k).
    # Fewer centres than n_keep: the missing entries are -1 with shift 0.
    top = np.full(n_keep, -1, np.int64)
    s_top = np.full(n_keep, -1.0)
    for j in range(shift.shape[0]):
        sj = shift[j]
        if sj > s_top[n_keep - 1]:
            q = n_keep - 1
            while q > 0 and sj > s_top[q - 1]:
                top[q] = top[q - 1]
                s_top[q] = s_top[q - 1]
                q -= 1
            top[q] = j
            s_top[q] = sj
    for q in range(n_keep):
        s_top[q] = max(s_top[q], 0.0)
    return top, s_top


@nb.njit(cache=True, nogil=True, inline="always")
def _first_bounds(u_old, lo_old, t):
    # Hamerly's first test for a row of centre a, from ``t = tab[a]`` of
    # :func:`mover_bounds`: its upper bound moved by a's shift, its plain
    # lower bound ``lo_old - s_a`` (s_a: the largest shift of any other
    # centre) and a better one when a few centres moved most: the others
    # (every centre but a and the movers) moved at most ``srest_a``, and a
    # mover c is at least ``||c_a - c|| - u`` away (triangle inequality; the
    # smallest such centre distance is rounded down in the table and u
    # rounded up here). Returns (upper, better lower); scalars only, no
    # branches (see store_rescan). One row of the table per centre: a
    # separate array per value kept the bound pass from running as fast
    # (6.7 vs 3.6 ns per row, one thread).
    u = u_old + t[0]
    return u, _table_lower(u, lo_old, t)


@nb.njit(cache=True, nogil=True, inline="always")
def _table_lower(u, lo_old, t):
    # the lower bound of _first_bounds for a row whose distance to its
    # centre is at most u (moved or exact) and whose previous bound is lo_old
    lo = lo_old - t[1]
    lc = lo_old - t[2]
    lm = t[3] - u * _CC_HI
    lc = lm if lm < lc else lc
    return lc if lc > lo else lo


@nb.njit(cache=True, nogil=True)
def mover_bounds(centers, shift, half_min, s1, a1, s2):
    """Per-centre table of Hamerly's first test (:func:`_first_bounds`), shape
    (k, 5), float64: for centre ``j``, its shift; the largest shift of any
    other centre (``s2`` for ``a1``, else ``s1``); the largest shift of any
    centre other than ``j`` and the :data:`_CC_MOVERS` centres that moved
    most; the distance from ``j`` to the nearest of those movers other than
    itself, rounded down (``inf`` if none); ``half_min[j]``. One jitted
    call per E-step (the five blobs run ~200 E-steps in 4 ms)."""
    k = shift.shape[0]
    top, s_top = _top_shifts(shift, _CC_MOVERS + 2)
    m = min(_CC_MOVERS, k)
    out1 = s_top[m]
    out2 = s_top[m + 1]
    tab = np.empty((k, 5))
    for j in range(k):
        tab[j, 0] = shift[j]
        tab[j, 1] = s2 if j == a1 else s1
        tab[j, 2] = out2 if j == top[m] else out1
        best = np.inf
        for q in range(m):
            t = top[q]
            if t != j:
                dist = np.sqrt(sq_dist_rows(centers, j, centers, t))
                best = dist if dist < best else best
        tab[j, 3] = best * _CC_LO
        tab[j, 4] = half_min[j]
    return tab


@nb.njit(cache=True, nogil=True, inline="always")
def hamerly_filter_range(X, centers, half_min, shift, mover_tab, start, stop, labels, upper,
                         lower, moved_from, rows, min_pass):
    """The bound tests of one Hamerly E-step for rows ``[start, stop)`` (serial).

    First moves the bounds by the last centre shift, then tightens the upper
    bound (one exact distance) of rows whose upper bound is not below
    ``max(lower, half_min[label])``; rows that still fail must be re-scanned
    against every centre and are listed in ``rows[start:start + n_rescan]``.

    Parameters
    ----------
    X : IN (n, d)
    centers : IN (k, d) float64
    half_min : IN (k,) float64, half the distance from each centre to its nearest other centre
    shift : IN (k,) float64, distance each centre moved in the last M-step
    mover_tab : IN (k, 5) float64, the per-centre table of :func:`mover_bounds`
    start, stop : IN int
    labels : IN (n,) int32
    upper : INOUT (n,) float64, upper bound on the distance to the assigned centre
    lower : INOUT (n,) float64, lower bound on the distance to any other centre
    moved_from : OUT (n,) int32, set to -1 for rows ``[start, stop)``
    rows : OUT (n,) int64, the rows to re-scan, from ``rows[start]`` on
    min_pass : IN float, tightening continues only while at least this share of
        the tightened rows passes (checked after :data:`_TIGHTEN_PROBE` rows and
        every :data:`_TIGHTEN_PROBE` rows after that); the rest go to the
        re-scan with their loose upper bound (the re-scan computes it anew).
        0 tightens every failed row.

    Returns
    -------
    n_rescan : int
    """
    # Branch-free passes: the bound updates of every row with a pass/fail
    # flag (vectorised: slices from 0 and unsigned centre indices, so numba
    # adds no negative-index checks), the failed rows compacted into
    # ``rows``, then the tightening (failed rows only), compacting again.
    # Measured: 10^4 x 2, k=3 whole fit 4.0 -> 2.7 ms (the branch on the bound
    # test was mispredicted for a large share of the rows); the split
    # update/compaction 1.5 -> 0.95 ms per E-step on 10^6 rows, k=64 (2 threads).
    m_rows = stop - start
    lab = labels[start:stop]
    up = upper[start:stop]
    low = lower[start:stop]
    moved = moved_from[start:stop]
    fail = np.empty(m_rows, np.uint8)
    prev = np.empty(m_rows)  # the lower bounds before this E-step (tightening)
    for r in range(m_rows):
        a = np.uint32(lab[r])
        t = mover_tab[a]
        moved[r] = -1
        lo_old = low[r]
        prev[r] = lo_old
        u, lo = _first_bounds(up[r], lo_old, t)
        hm = t[4]
        m = hm if hm > lo else lo
        low[r] = lo
        up[r] = u
        fail[r] = not (u * _HI < m * _LO)
    listed = rows[start:stop]
    n_fail = 0
    for r in range(m_rows):
        listed[n_fail] = start + r
        n_fail += fail[r]
    n_rescan = 0
    end = start + n_fail
    # The centres that moved most: a row that fails after tightening may
    # still pass if those centres stay at least as far as the assigned one.
    # Its lower bound without them drops only by the largest shift among the
    # others, ``s_rest``; the top movers' exact distances are computed for
    # every tightened row (the bound with them is kept, which pays in the
    # next E-steps too). On 10^6 x 16, k=64, after the first E-steps one to
    # four centres move 3-100x more than the median centre (shifts 9.22,
    # 4.99, 0.97, ... in the 7th E-step; median 0).
    top, s_top = _top_shifts(shift, _MAX_MOVERS + 2)
    # How many of them the tightening measures exactly: the fewest after
    # which the largest remaining shift is at most _MOVERS_RATIO of the
    # largest; else the top one alone if it stands out (_TOP_MOVER_RATIO).
    n_top = 0
    for q in range(_MAX_MOVERS, 0, -1):
        if s_top[q] <= _MOVERS_RATIO * s_top[0]:
            n_top = q
    if n_top == 0 and s_top[1] <= _TOP_MOVER_RATIO * s_top[0]:
        n_top = 1
    t = start
    while t < end:
        if t + _TIGHTEN_AHEAD < end:
            prefetch_row(X, rows[t + _TIGHTEN_AHEAD])
        i = rows[t]
        a = labels[i]
        u = np.sqrt(sq_dist_rows(X, i, centers, a))
        upper[i] = u
        lo_old = prev[i - start]
        # the first test's bound again, with the exact distance to the
        # row's centre
        lo_m = _table_lower(u, lo_old, mover_tab[a])
        hm = half_min[a]
        if n_top > 0:  # the same for every row of this E-step
            # without the top movers the bound drops by s_rest only
            s_rest = s_top[n_top + 1] if top[n_top] == a else s_top[n_top]
            lo_rest = lo_old - s_rest
            for q in range(n_top):
                c = top[q]
                d_c = np.sqrt(sq_dist_rows(X, i, centers, c)) if c != a else np.inf
                lo_rest = d_c if d_c < lo_rest else lo_rest
            lo_m = lo_rest if lo_rest > lo_m else lo_m
        lower[i] = lo_m
        m = hm if hm > lo_m else lo_m
        rows[start + n_rescan] = i
        n_rescan += not (u * _HI < m * _LO)
        t += 1
        done = t - start
        if done % _TIGHTEN_PROBE == 0 and (done - n_rescan) < min_pass * done:
            break  # tightening does not pay here: the rest go straight to the re-scan
    for t2 in range(t, end):
        rows[start + n_rescan] = rows[t2]
        n_rescan += 1
    return n_rescan


@nb.njit(cache=True, nogil=True, inline="always")
def direct_rescan_rows(X, rows, start, n_rows, centers, labels, upper, lower, moved_from):
    """Re-scan ``rows[start:start + n_rows]`` against every centre with the direct kernel.

    Updates ``labels``, ``upper`` (exact), ``lower`` (second nearest) and
    ``moved_from``; returns the number of relabelled rows.
    """
    if X.shape[1] <= COLUMNAR_MAX_FEATURES:
        return _rescan_columnar(X, rows, start, n_rows, centers, labels, upper, lower,
                                moved_from)
    k = centers.shape[0]
    dists = np.empty(k)
    n_changed = 0
    for t in range(start, start + n_rows):
        i = rows[t]
        d1 = np.inf
        d2 = np.inf
        j1 = 0
        sq_dist_row_to_all(X, i, centers, dists)
        for j in range(k):
            dist = dists[j]
            if dist < d1:
                d2 = d1
                d1 = dist
                j1 = j
            elif dist < d2:
                d2 = dist
        n_changed += store_rescan(i, j1, d1, d2, labels, upper, lower, moved_from)
    return n_changed


@nb.njit(cache=True, nogil=True, inline="always")
def hamerly_assign_range(X, centers, half_min, shift, mover_tab, start, stop, labels, upper,
                         lower, moved_from, rows):
    """One Hamerly E-step for rows ``[start, stop)`` (serial): the bound tests of
    :func:`hamerly_filter_range`, then a direct re-scan of the rows that failed them.

    Returns the number of relabelled rows (their old label is in ``moved_from``).
    """
    n_rescan = hamerly_filter_range(X, centers, half_min, shift, mover_tab, start, stop, labels,
                                    upper, lower, moved_from, rows, 1.0 / centers.shape[0])
    return direct_rescan_rows(X, rows, start, n_rescan, centers, labels, upper, lower,
                              moved_from)


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def _sq_dist32(X, i, C32, a):
    # ||X[i] - C32[a]||^2 summed in float32, in any order (the error bound of
    # approx_dist_bounds holds for every order); int16 rows convert exactly.
    # Not inline="always": numba's inlining would compile it with the caller's
    # (non-fastmath) flags, and the float32 reduction would not vectorise
    # (measured 5x slower).
    acc = np.float32(0.0)
    for f in range(X.shape[1]):
        diff = np.float32(X[i, f]) - C32[a, f]
        acc += diff * diff
    return acc


@nb.njit(cache=True, nogil=True, inline="always")
def approx_dist_bounds(X32, i, C32, a, cerr, gamma, xerr, scale):
    """``(lo, hi)`` with ``lo <= ||x_i - centers[a]|| <= hi`` from one float32
    pass over a compact copy of the rows (half or a quarter of the bytes, and
    for float32 arithmetic half the work, of the float64 distance).

    The rows and centres are seen in *interval coordinates*, ``z = (x -
    offset) / scale`` (see :func:`interval_rows`): ``X32[i]`` is row ``i`` in
    those coordinates (int16, or float32 rows as they are with ``offset=0,
    scale=1``) and ``xerr[i]`` bounds its distance from the exact image of
    ``x_i`` (an empty ``xerr``: no error); ``C32[a]`` is the image of
    ``centers[a]`` rounded to float32 and ``cerr[a]`` bounds its distance
    from the exact image (:func:`interval_centers`). The triangle inequality
    carries the bounds from the rounded pair to the true one; the float32
    sum of ``d`` rounded squares of rounded differences is within ``gamma``
    (relative, :func:`float32_sum_gamma`) of the exact one, plus ``d`` times
    ``2**-125`` for squares that underflow; ``scale`` takes the interval back
    to the data's units. An overflow gives ``(0, inf)``.
    """
    s = np.float64(_sq_dist32(X32, i, C32, a))
    if not s < np.inf:
        return 0.0, np.inf
    tiny = X32.shape[1] * 2.0 ** -125
    e = cerr[a] * (1.0 + 2.0 ** -40)
    if xerr.shape[0] > 0:
        e += xerr[i] * (1.0 + 2.0 ** -40)
    hi = np.sqrt(s * (1.0 + gamma) + tiny) * (1.0 + 2.0 ** -50) + e
    lo_sq = s * (1.0 - gamma) - tiny
    lo = (np.sqrt(lo_sq) * (1.0 - 2.0 ** -50) if lo_sq > 0.0 else 0.0) - e
    if scale != 1.0:
        hi *= scale * (1.0 + 2.0 ** -50)
        lo *= scale * (1.0 - 2.0 ** -50)
    return (lo if lo > 0.0 else 0.0), hi


def float32_sum_gamma(n_features):
    """Relative error bound of a float32 sum of ``n_features`` rounded squares
    of rounded differences: Higham's gamma_{d+2}, with 1 % to spare."""
    u = 2.0 ** -24
    m = n_features + 2
    return 1.01 * m * u / (1.0 - m * u)


def _image_error(r2, zmax, n_features):
    # A bound on ||t - z|| from r2 = sum_f (t'_f - z_f)^2 summed in float64,
    # where t = (x - offset) / scale is the exact image of a row or centre, t'
    # = fl(fl(x - offset) * fl(1 / scale)) its computed image (within 3 units
    # of rounding of |t_f| <= |z_f| + |t'_f - z_f|) and z the stored
    # coordinates (|z_f| <= zmax). The margins cover the rounding of r2 and of
    # t', and squares that underflow.
    d = np.sqrt(np.float64(n_features))
    r = np.sqrt(r2)
    return r * (1.0 + 2.0 ** -40 + d * 2.0 ** -50) + d * (zmax * 2.0 ** -50 + 2.0 ** -500)


_image_error_jit = nb.njit(cache=True, nogil=True, inline="always")(_image_error)


def interval_centers(centers, offset=0.0, scale=1.0):
    """``(C32, cerr)`` for :func:`approx_dist_bounds`: the centres in interval
    coordinates ``(c - offset) / scale`` rounded to float32, and a bound on
    each one's distance from its exact image (``offset=0, scale=1``: the
    centres rounded to float32 and the norm of each rounding error)."""
    if offset == 0.0 and scale == 1.0:
        C32 = centers.astype(np.float32)
        diff = centers - C32
        return C32, np.sqrt(np.einsum("ij,ij->i", diff, diff))
    t = (centers - offset) * (1.0 / scale)
    C32 = t.astype(np.float32)
    diff = t - C32
    zmax = np.abs(C32).max(axis=1).astype(np.float64)
    return C32, _image_error(np.einsum("ij,ij->i", diff, diff), zmax, centers.shape[1])


def interval_rows(X, max_bytes):
    """The 16-bit copy of ``X`` Elkan's distance intervals read:
    ``(Q, xerr, offset, scale)`` with ``Q`` an empty (n, d) int16 array that
    :func:`elkan_first_interval` fills with ``round((x - offset) / scale)``
    (clipped to +-32767) and ``xerr`` the bound on each row's distance from
    its exact image, or None when the copy would exceed ``max_bytes`` or the
    data's range does not fit float64.

    ``offset`` (a float32 number, for the float32 rounding of
    :func:`_quantize_row`) and ``scale`` come from the range of up to 4096
    evenly spaced rows, widened by a quarter on each side: values outside it
    are clipped (their rows only get a larger ``xerr``, so wider intervals;
    the intervals stay exact bounds whatever the rounding).
    """
    n, d = X.shape
    if n * d * 2 > max_bytes:
        return None
    step = max(1, n // 4096)
    sample = X[::step]
    lo = float(sample.min())
    hi = float(sample.max())
    with np.errstate(over="ignore"):
        offset = float(np.float32(0.5 * lo + 0.5 * hi))
        half = max(0.75 * (hi - lo), 1.01 * (hi - offset), 1.01 * (offset - lo))
    scale = half / _Q_MAX if half > 0.0 else 1.0
    if not (np.isfinite(half) and np.isfinite(offset) and scale > 0.0
            and np.isfinite(1.0 / scale)):
        return None
    return np.empty((n, d), np.int16), np.empty(n), offset, scale


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def _quantize_row(X, i, Q, xerr, offset, scale):
    # Q[i] = X[i] in 16-bit interval coordinates, xerr[i] = the bound on its
    # distance from the exact image (_image_error, with |z| <= _Q_MAX). The
    # coordinates are rounded in float32 (offset is a float32 number; any
    # integer is a valid coordinate, the error bound is what must be right
    # and is summed in float64). Own fastmath flags: the loops vectorise
    # (never inline="always").
    off32 = np.float32(offset)
    inv32 = np.float32(1.0 / scale)
    for f in range(X.shape[1]):
        z = np.rint((X[i, f] - off32) * inv32)
        z = z if z < _Q_MAX else _Q_MAX
        z = z if z > -_Q_MAX else -_Q_MAX
        Q[i, f] = np.int16(z)
    inv = 1.0 / scale
    acc = 0.0
    for f in range(X.shape[1]):
        e = (np.float64(X[i, f]) - offset) * inv - np.float64(Q[i, f])
        acc += e * e
    xerr[i] = _image_error_jit(acc, _Q_MAX, X.shape[1])


@nb.njit(cache=True, nogil=True)
def _elkan_first_interval_range(X, X32, xerr, centers, C32, cerr, gamma, scale, start, stop,
                                labels, upper, lb, sample_weight, sums, weights, counts, Q, qerr,
                                q_offset, q_scale, x_sq):
    # Elkan's first assignment from float32 intervals: lb[i, j] = the interval's
    # lower end; the label is the centre whose interval lies below all others,
    # else decided by float64 squared distances among the centres whose
    # intervals reach below the smallest upper end (ties to the lowest index,
    # as the direct scan). While the row is in cache, its cluster sums (as
    # _sums_range, same order), its squared norm x_sq[i] and, with a
    # non-empty Q, its 16-bit copy Q[i] and error bound qerr[i]
    # (_quantize_row), written first (so that X32 may be Q).
    k = centers.shape[0]
    fill = Q.shape[0] > 0
    hi = np.empty(k)
    for i in range(start, stop):
        if fill:
            _quantize_row(X, i, Q, qerr, q_offset, q_scale)
        h_min = np.inf
        for j in range(k):
            lo_j, hi_j = approx_dist_bounds(X32, i, C32, j, cerr, gamma, xerr, scale)
            lb[i, j] = lo_j
            hi[j] = hi_j
            if hi_j < h_min:
                h_min = hi_j
        n_cand = 0
        best = 0
        for j in range(k):
            if lb[i, j] <= h_min:
                n_cand += 1
                best = j
        if n_cand == 1:
            up = hi[best]
        else:
            # squared distances compared, as the direct scan (a square root
            # can map two different squares to the same number)
            best = -1
            best_sq = np.inf
            for j in range(k):
                if lb[i, j] <= h_min:
                    e_sq = sq_dist_rows(X, i, centers, j)
                    lb[i, j] = np.sqrt(e_sq)
                    if e_sq < best_sq:
                        best_sq = e_sq
                        best = j
            up = np.sqrt(best_sq)
        labels[i] = best
        upper[i] = up
        x_sq[i] = row_sq_norm(X, i)
        add_row(X, sample_weight, i, best, sums, weights, counts)


@nb.njit(cache=True, nogil=True, parallel=True)
def _elkan_first_interval_groups(X, X32, xerr, centers, C32, cerr, gamma, scale, bounds,
                                 labels, upper, lb, sample_weight, g_sums, g_weights, g_counts,
                                 Q, qerr, q_offset, q_scale, x_sq):
    for g in nb.prange(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_counts[g] = 0
        _elkan_first_interval_range(X, X32, xerr, centers, C32, cerr, gamma, scale, bounds[g],
                                    bounds[g + 1], labels, upper, lb, sample_weight, g_sums[g],
                                    g_weights[g], g_counts[g], Q, qerr, q_offset, q_scale,
                                    x_sq)


@nb.njit(cache=True, nogil=True)
def _elkan_first_interval_groups_serial(X, X32, xerr, centers, C32, cerr, gamma, scale, bounds,
                                        labels, upper, lb, sample_weight, g_sums, g_weights,
                                        g_counts, Q, qerr, q_offset, q_scale, x_sq):
    for g in range(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_counts[g] = 0
        _elkan_first_interval_range(X, X32, xerr, centers, C32, cerr, gamma, scale, bounds[g],
                                    bounds[g + 1], labels, upper, lb, sample_weight, g_sums[g],
                                    g_weights[g], g_counts[g], Q, qerr, q_offset, q_scale,
                                    x_sq)


@nb.njit(cache=True, nogil=True)
def _elkan_first_gemm_range(X, centers, Cx, csq, consts, start, stop, labels, upper, lb,
                            sample_weight, sums, weights, counts, Q, qerr, q_offset, q_scale,
                            x_sq):
    # _elkan_first_interval_range with the intervals from one BLAS product per
    # block of rows (clusterlab._kernels.gemm.resolve_dists: every approximate
    # squared distance within delta of the exact one, near ties and overflowed
    # products decided exactly): the same labels, lower bounds that are the
    # intervals' lower ends. While the block is in cache, each row's 16-bit
    # copy (with a non-empty Q), squared norm and cluster sums.
    k = centers.shape[0]
    br = block_rows(X)
    buf = np.empty((k, br), X.dtype)
    dist = np.empty(k)
    fill = Q.shape[0] > 0
    for s in range(start, stop, br):
        e = min(stop, s + br)
        block = X[s:e]
        out = buf if e - s == br else np.empty((k, e - s), X.dtype)
        np.dot(Cx, block.T, out)
        for r in range(e - s):
            i = s + r
            if fill:
                _quantize_row(X, i, Q, qerr, q_offset, q_scale)
            x_sq[i] = row_sq_norm(X, i)
            best, up_sq, _, delta = resolve_dists(block, r, out, x_sq[i], centers, csq,
                                                  consts, dist)
            for j in range(k):
                v = dist[j] - delta
                lb[i, j] = np.sqrt(v) * (1.0 - 2.0 ** -50) if v > 0.0 else 0.0
            labels[i] = best
            upper[i] = np.sqrt(up_sq) * (1.0 + 2.0 ** -50)
            add_row(X, sample_weight, i, best, sums, weights, counts)


@nb.njit(cache=True, nogil=True, parallel=True)
def _elkan_first_gemm_groups(X, centers, Cx, csq, consts, bounds, labels, upper, lb,
                             sample_weight, g_sums, g_weights, g_counts, Q, qerr, q_offset,
                             q_scale, x_sq):
    for g in nb.prange(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_counts[g] = 0
        _elkan_first_gemm_range(X, centers, Cx, csq, consts, bounds[g], bounds[g + 1], labels,
                                upper, lb, sample_weight, g_sums[g], g_weights[g], g_counts[g],
                                Q, qerr, q_offset, q_scale, x_sq)


@nb.njit(cache=True, nogil=True)
def _elkan_first_gemm_groups_serial(X, centers, Cx, csq, consts, bounds, labels, upper, lb,
                                    sample_weight, g_sums, g_weights, g_counts, Q, qerr,
                                    q_offset, q_scale, x_sq):
    for g in range(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_counts[g] = 0
        _elkan_first_gemm_range(X, centers, Cx, csq, consts, bounds[g], bounds[g + 1], labels,
                                upper, lb, sample_weight, g_sums[g], g_weights[g], g_counts[g],
                                Q, qerr, q_offset, q_scale, x_sq)


def elkan_first_interval(X, X32, xerr, centers, bounds, labels, upper, lb, sample_weight, sums,
                         weights, counts, g_sums, g_weights, g_counts, parallel, fill=False,
                         offset=0.0, scale=1.0, use_gemm=False, x_sq=None):
    """Elkan's first assignment (labels, upper bounds, the (n, k) lower bounds)
    from float32 distance intervals (:func:`approx_dist_bounds`), float64
    distances only where intervals leave the nearest centre open: the labels
    of the direct scan (``X32``, ``xerr``, ``offset``, ``scale``: the rows in
    interval coordinates, see :func:`approx_dist_bounds`). Also fills the
    cluster sums, weights and counts (the values of :func:`cluster_sums`),
    reading each row once; with ``fill`` it writes ``X32`` (the int16 copy of
    :func:`interval_rows`) and ``xerr`` row by row, in the same pass, and
    float32 rows give their own intervals meanwhile (faster to compute than
    from the 16-bit copy). With ``use_gemm`` the intervals come from BLAS
    products instead (:func:`_elkan_first_gemm_range`; BLAS must be
    single-threaded when ``parallel``). ``x_sq`` (n,), if given, receives
    the rows' squared norms."""
    if x_sq is None:
        x_sq = np.empty(X.shape[0])
    if fill:
        Q, qerr, q_offset, q_scale = X32, xerr, offset, scale
        if X.dtype == np.float32:
            X32, xerr, offset, scale = X, _NO_CERR, 0.0, 1.0
    else:
        Q, qerr, q_offset, q_scale = _NO_Q, _NO_CERR, 0.0, 1.0
    if use_gemm:
        kernel = _elkan_first_gemm_groups if parallel else _elkan_first_gemm_groups_serial
        kernel(X, centers, *gemm_operands(X, centers), bounds, labels, upper, lb,
               sample_weight, g_sums, g_weights, g_counts, Q, qerr, q_offset, q_scale, x_sq)
    else:
        gamma = float32_sum_gamma(X.shape[1])
        C32, cerr = interval_centers(centers, offset, scale)
        kernel = (_elkan_first_interval_groups if parallel
                  else _elkan_first_interval_groups_serial)
        kernel(X, X32, xerr, centers, C32, cerr, gamma, scale, bounds, labels, upper, lb,
               sample_weight, g_sums, g_weights, g_counts, Q, qerr, q_offset, q_scale, x_sq)
    _reduce_groups(g_sums, sums)
    _reduce_groups(g_weights, weights)
    _reduce_groups(g_counts, counts)


@nb.njit(cache=True, nogil=True, inline="always")
def elkan_assign_range(X, centers, half_min, cc, shift, start, stop, labels, upper, lb,
                       moved_from, X32, xerr, C32, cerr, gamma, scale):
    """One Elkan E-step for rows ``[start, stop)`` (serial).

    Parameters
    ----------
    X : IN (n, d)
    centers : IN (k, d) float64
    half_min : IN (k,) float64
    cc : IN (k, k) float64, distances between centres
    shift : IN (k,) float64, distance each centre moved in the last M-step
    start, stop : IN int
    labels : INOUT (n,) int32
    upper : INOUT (n,) float64
    lb : INOUT (n, k) float64, lower bounds on the distance to each centre
    moved_from : OUT (n,) int32
    X32, xerr, C32, cerr, gamma, scale : IN, see :func:`approx_dist_bounds`;
        with rows in ``C32`` distances are intervals from float32 passes over
        ``X32``,
        computed exactly from ``X`` only where two intervals overlap (same
        labels); an empty ``C32``: float64 distances throughout

    Returns
    -------
    n_changed : int
    """
    k = centers.shape[0]
    use32 = C32.shape[0] > 0
    n_changed = 0
    for i in range(start, stop):
        if use32 and i + _PREFETCH_AHEAD < stop:
            prefetch_row(X32, i + _PREFETCH_AHEAD)
        a0 = labels[i]
        a = a0
        moved_from[i] = -1
        for j in range(k):
            v = lb[i, j] - shift[j]
            lb[i, j] = v if v > 0.0 else 0.0
        u = upper[i] + shift[a]
        if u * _HI < half_min[a] * _LO:
            upper[i] = u
            continue
        tight = False
        la = 0.0  # lower bound on the distance to a, once tight
        ea_sq = -1.0  # exact squared distance to a, when known
        for j in range(k):
            if j == a:
                continue
            z = lb[i, j]
            hc = 0.5 * cc[a, j]
            if hc > z:
                z = hc
            if u * _HI < z * _LO:
                continue
            if not tight:
                if use32:  # an interval from one float32 pass
                    la, ha = approx_dist_bounds(X32, i, C32, a, cerr, gamma, xerr, scale)
                    if ha < u:
                        u = ha
                    if la > lb[i, a]:
                        lb[i, a] = la
                else:
                    ea_sq = sq_dist_rows(X, i, centers, a)
                    u = np.sqrt(ea_sq)
                    la = u
                    lb[i, a] = u
                tight = True
                if u * _HI < z * _LO:
                    continue
            if use32:
                lj, hj = approx_dist_bounds(X32, i, C32, j, cerr, gamma, xerr, scale)
                lb[i, j] = lj
                if hj < la:  # certainly closer
                    a = j
                    la = lj
                    u = hj
                    ea_sq = -1.0
                    continue
                if lj > u:  # certainly farther
                    continue
            # decided exactly, on squared distances as Lloyd's argmin (a square
            # root can map two different squares to the same number)
            if ea_sq < 0.0:
                ea_sq = sq_dist_rows(X, i, centers, a)
            ej_sq = sq_dist_rows(X, i, centers, j)
            lb[i, j] = np.sqrt(ej_sq)
            if ej_sq < ea_sq or (ej_sq == ea_sq and j < a):
                a = j
                ea_sq = ej_sq
            u = np.sqrt(ea_sq)
            la = u
        upper[i] = u
        if a != a0:
            labels[i] = a
            moved_from[i] = a0
            n_changed += 1
    return n_changed


@nb.njit(cache=True, nogil=True)
def _yinyang_init_range(X, centers, group_of, n_cgroups, start, stop, labels, upper, glb):
    """Initial assignment with Yinyang bounds: ``glb[i, g]`` = distance to the
    nearest centre of group ``g`` other than the assigned one."""
    k = centers.shape[0]
    dist = np.empty(k)
    for i in range(start, stop):
        best = 0
        best_d = np.inf
        for j in range(k):
            dist[j] = sq_dist_rows(X, i, centers, j)
            if dist[j] < best_d:
                best_d = dist[j]
                best = j
        labels[i] = best
        upper[i] = np.sqrt(best_d)
        for g in range(n_cgroups):
            glb[i, g] = np.inf
        for j in range(k):
            if j != best:
                v = np.sqrt(dist[j])
                if v < glb[i, group_of[j]]:
                    glb[i, group_of[j]] = v


@nb.njit(cache=True, nogil=True, parallel=True)
def _yinyang_init_groups(X, centers, group_of, n_cgroups, bounds, labels, upper, glb):
    for g in nb.prange(bounds.shape[0] - 1):
        _yinyang_init_range(X, centers, group_of, n_cgroups, bounds[g], bounds[g + 1], labels,
                            upper, glb)


@nb.njit(cache=True, nogil=True, inline="always")
def yinyang_assign_range(X, centers, shift, group_shift, group_of, members, group_start,
                         start, stop, labels, upper, glb, moved_from):
    """One Yinyang E-step for rows ``[start, stop)`` (serial).

    Centres are partitioned into groups; each row keeps an upper bound on the
    distance to its centre and one lower bound per group (on the distance to
    the group's centres other than the assigned one). A row is skipped when
    its upper bound is below every group bound; otherwise only the groups
    whose bound is below the (tightened) upper bound are scanned.

    Parameters
    ----------
    X : IN (n, d)
    centers : IN (k, d) float64
    shift : IN (k,) float64, distance each centre moved in the last M-step
    group_shift : IN (Gc,) float64, largest shift within each centre group
    group_of : IN (k,) int64, group of each centre
    members : IN (k,) int64, centres sorted by group (ascending index within a group)
    group_start : IN (Gc + 1,) int64, ``members[group_start[g]:group_start[g + 1]]`` is group g
    start, stop : IN int
    labels : INOUT (n,) int32
    upper : INOUT (n,) float64
    glb : INOUT (n, Gc) float64
    moved_from : OUT (n,) int32

    Returns
    -------
    n_changed : int

    References
    ----------
    Ding, Y. et al. "Yinyang K-Means: a drop-in replacement of the classic
    K-Means with consistent speedup", ICML 2015.
    """
    n_cg = group_start.shape[0] - 1
    # Skipping centres by their own shift saves distances now but leaves
    # looser group bounds for later iterations; measured slower overall.
    use_local_filter = False
    m1 = np.empty(n_cg)
    m2 = np.empty(n_cg)
    j1 = np.empty(n_cg, np.int64)
    skip_lb = np.empty(n_cg)
    old_lb = np.empty(n_cg)
    scanned = np.zeros(n_cg, np.bool_)
    n_changed = 0
    for i in range(start, stop):
        a = labels[i]
        moved_from[i] = -1
        u = upper[i] + shift[a]
        gl = np.inf
        for g in range(n_cg):
            old_lb[g] = glb[i, g]
            v = glb[i, g] - group_shift[g]
            glb[i, g] = v
            if v < gl:
                gl = v
        if u * _HI < gl * _LO:
            upper[i] = u
            continue
        da_sq = sq_dist_rows(X, i, centers, a)
        u = np.sqrt(da_sq)
        upper[i] = u
        if u * _HI < gl * _LO:
            continue
        best = a
        best_sq = da_sq
        best_d = u
        for g in range(n_cg):
            scanned[g] = False
            # group filter: every centre of g (but a) is farther than the best so far
            if glb[i, g] * _LO > best_d * _HI:
                continue
            scanned[g] = True
            b1 = np.inf
            b2 = np.inf
            bj = -1
            sk = np.inf
            for p in range(group_start[g], group_start[g + 1]):
                j = members[p]
                if j == a:
                    dsq = da_sq
                elif use_local_filter:
                    # local filter: the old group bound moved by this centre's own shift
                    lbj = old_lb[g] - shift[j]
                    if lbj * _LO > best_d * _HI:
                        if lbj < sk:
                            sk = lbj
                        continue
                    dsq = sq_dist_rows(X, i, centers, j)
                else:
                    dsq = sq_dist_rows(X, i, centers, j)
                if dsq < b1:
                    b2 = b1
                    b1 = dsq
                    bj = j
                elif dsq < b2:
                    b2 = dsq
            m1[g] = b1
            m2[g] = b2
            j1[g] = bj
            skip_lb[g] = sk
            if b1 < best_sq or (b1 == best_sq and bj < best):
                best = bj
                best_sq = b1
                best_d = np.sqrt(b1)
        for g in range(n_cg):
            if scanned[g]:
                v = np.sqrt(m2[g]) if j1[g] == best else np.sqrt(m1[g])
                glb[i, g] = v if v < skip_lb[g] else skip_lb[g]
        if best != a:
            ga = group_of[a]
            if not scanned[ga] and u < glb[i, ga]:
                glb[i, ga] = u
            labels[i] = best
            moved_from[i] = a
            upper[i] = np.sqrt(best_sq)
            n_changed += 1
    return n_changed


@nb.njit(cache=True, nogil=True, parallel=True)
def _yinyang_assign_groups(X, centers, shift, group_shift, group_of, members, group_start,
                           bounds, labels, upper, glb, moved_from, g_changed):
    for g in nb.prange(bounds.shape[0] - 1):
        g_changed[g] = yinyang_assign_range(X, centers, shift, group_shift, group_of, members,
                                            group_start, bounds[g], bounds[g + 1], labels,
                                            upper, glb, moved_from)


@nb.njit(cache=True, nogil=True, parallel=True)
def _hamerly_assign_groups(X, centers, half_min, shift, mover_tab, bounds, labels, upper,
                           lower, moved_from, rows, g_changed):
    for g in nb.prange(bounds.shape[0] - 1):
        g_changed[g] = hamerly_assign_range(X, centers, half_min, shift, mover_tab, bounds[g],
                                            bounds[g + 1], labels, upper, lower, moved_from,
                                            rows)


@nb.njit(cache=True, nogil=True, inline="always")
def _sample_fails(labels, upper, lower, mover_tab, start, stop):
    # True when at least _ALL_FAIL_SHARE of every _FAIL_SAMPLE-th row of
    # [start, stop) fails Hamerly's first bound test (no writes). From that
    # share on the re-scan reads every row in place anyway, so the bound
    # pass would only cost time: the first E-step after a k-means++ start
    # on 10^6 x 16, k=64 fails 97.7 % of its rows, and its bound pass took
    # 3.1 ms (2 threads) of the E-step's 22.7 (21.3 without).
    n_s = 0
    n_f = 0
    for i in range(start, stop, _FAIL_SAMPLE):
        t = mover_tab[labels[i]]
        u, lo = _first_bounds(upper[i], lower[i], t)
        hm = t[4]
        m = hm if hm > lo else lo
        n_f += not (u * _HI < m * _LO)
        n_s += 1
    return n_f >= _ALL_FAIL_SHARE * n_s and n_s >= 16


@nb.njit(cache=True, nogil=True, inline="always")
def gemm_hamerly_range(X, x_sq, centers, Cx, csq, consts, half_min, shift, mover_tab, start,
                       stop, labels, upper, lower, moved_from, rows, min_pass,
                       sample_weight, sums, weights, counts):
    """:func:`hamerly_assign_range` with the re-scans done by GEMM (same labels);
    relabelled rows' statistics moved into ``sums``/``weights``/``counts``
    when ``sums`` is (k, d) (see :func:`gemm_rescan_rows`)."""
    if _sample_fails(labels, upper, lower, mover_tab, start, stop):
        # (almost) every row will fail: no bound pass, every row re-scanned
        # in place (the re-scan sets the bounds anew)
        moved_from[start:stop] = -1
        return gemm_rescan_span(X, x_sq, start, stop, centers, Cx, csq, consts, labels, upper,
                                lower, moved_from, sample_weight, sums, weights, counts)
    n_rescan = hamerly_filter_range(X, centers, half_min, shift, mover_tab, start, stop, labels,
                                    upper, lower, moved_from, rows, min_pass)
    # nearly every row failed: all of them, in place (replayed 10^6 x 16,
    # k=64: 98 % failed, 22.2 ms gathered vs 20.6 in place; 70 %: 16.8 vs 20.7)
    if n_rescan * 100 >= (stop - start) * 92:
        return gemm_rescan_span(X, x_sq, start, stop, centers, Cx, csq, consts, labels, upper,
                                lower, moved_from, sample_weight, sums, weights, counts)
    return gemm_rescan_rows(X, x_sq, rows[start:start + n_rescan], n_rescan, centers, Cx, csq,
                            consts, labels, upper, lower, moved_from, sample_weight, sums,
                            weights, counts)


@nb.njit(cache=True, nogil=True, parallel=True)
def _gemm_hamerly_groups(X, x_sq, centers, Cx, csq, consts, half_min, shift, mover_tab,
                         bounds, labels, upper, lower, moved_from, rows, g_changed, min_pass,
                         sample_weight, g_sums, g_weights, g_counts):
    # g_sums (G, k, d) or (G, 0, d): per-group moved statistics, or none
    for g in nb.prange(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_counts[g] = 0
        g_changed[g] = gemm_hamerly_range(X, x_sq, centers, Cx, csq, consts, half_min,
                                          shift, mover_tab, bounds[g], bounds[g + 1], labels,
                                          upper, lower, moved_from, rows, min_pass,
                                          sample_weight, g_sums[g], g_weights[g], g_counts[g])


@nb.njit(cache=True, nogil=True)
def _gemm_hamerly_groups_serial(X, x_sq, centers, Cx, csq, consts, half_min, shift,
                                mover_tab, bounds, labels, upper, lower, moved_from, rows,
                                g_changed, min_pass, sample_weight, g_sums, g_weights, g_counts):
    # _gemm_hamerly_groups on one thread: the same ranges, hence the same
    # per-group statistics, whatever the thread count
    for g in range(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_counts[g] = 0
        g_changed[g] = gemm_hamerly_range(X, x_sq, centers, Cx, csq, consts, half_min,
                                          shift, mover_tab, bounds[g], bounds[g + 1], labels,
                                          upper, lower, moved_from, rows, min_pass,
                                          sample_weight, g_sums[g], g_weights[g], g_counts[g])


@nb.njit(cache=True, nogil=True, parallel=True)
def _elkan_assign_groups(X, centers, half_min, cc, shift, bounds, labels, upper, lb,
                         moved_from, g_changed, X32, xerr, C32, cerr, gamma, scale):
    for g in nb.prange(bounds.shape[0] - 1):
        g_changed[g] = elkan_assign_range(X, centers, half_min, cc, shift, bounds[g],
                                          bounds[g + 1], labels, upper, lb, moved_from, X32,
                                          xerr, C32, cerr, gamma, scale)


@nb.njit(cache=True, nogil=True, parallel=True)
def _full_scan_groups(X, centers, bounds, labels, upper, lower, lb):
    for g in nb.prange(bounds.shape[0] - 1):
        _full_scan_range(X, centers, bounds[g], bounds[g + 1], labels, upper, lower, lb)


@nb.njit(cache=True, nogil=True, inline="always")
def _sums_range(X, sample_weight, labels, start, stop, sums, weights, counts):
    for i in range(start, stop):
        add_row(X, sample_weight, i, labels[i], sums, weights, counts)


@nb.njit(cache=True, nogil=True, parallel=True)
def _sums_groups(X, sample_weight, labels, bounds, g_sums, g_weights, g_counts):
    for g in nb.prange(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_counts[g] = 0
        _sums_range(X, sample_weight, labels, bounds[g], bounds[g + 1], g_sums[g],
                    g_weights[g], g_counts[g])


@nb.njit(cache=True, nogil=True)
def _sums_groups_serial(X, sample_weight, labels, bounds, g_sums, g_weights, g_counts):
    for g in range(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_counts[g] = 0
        _sums_range(X, sample_weight, labels, bounds[g], bounds[g + 1], g_sums[g],
                    g_weights[g], g_counts[g])


def cluster_sums(X, sample_weight, labels, bounds, sums, weights, counts, g_sums, g_weights,
                 g_counts, parallel):
    """Weighted sums, weights and non-zero-weight counts per cluster, from labels.

    Parameters
    ----------
    X : IN (n, d); sample_weight : IN (n,); labels : IN (n,) int32
    bounds : IN (G + 1,) int64
    sums : OUT (k, d) float64; weights : OUT (k,) float64; counts : OUT (k,) int64
    g_sums, g_weights, g_counts : scratch (G, k, d), (G, k), (G, k)
    parallel : IN bool (same result either way)
    """
    if bounds.shape[0] == 2:
        sums[:] = 0.0
        weights[:] = 0.0
        counts[:] = 0
        _sums_range(X, sample_weight, labels, 0, X.shape[0], sums, weights, counts)
        return
    kernel = _sums_groups if parallel else _sums_groups_serial
    kernel(X, sample_weight, labels, bounds, g_sums, g_weights, g_counts)
    _reduce_groups(g_sums, sums)
    _reduce_groups(g_weights, weights)
    _reduce_groups(g_counts, counts)


@nb.njit(cache=True, nogil=True, inline="always")
def _moves_range(X, sample_weight, labels, moved_from, start, stop, sums, weights, counts):
    # move the contribution of relabelled rows [start, stop), in row order. The
    # relabelled rows of each chunk are listed first (sixteen entries of
    # moved_from tested at a time: late E-steps relabel a few rows in 10^6,
    # and a row-by-row scan cost ~0.7 ms per E-step on 10^6 rows), then
    # moved with the row _PREFETCH_AHEAD places ahead prefetched (they are
    # scattered: the hardware prefetcher does not see them coming)
    d = X.shape[1]
    buf = np.empty(_MOVES_CHUNK + 16, np.int64)
    for c0 in range(start, stop, _MOVES_CHUNK):
        m = _list_moved(moved_from, c0, min(stop, c0 + _MOVES_CHUNK), buf)
        for t in range(m):
            if t + _PREFETCH_AHEAD < m:
                prefetch_row(X, buf[t + _PREFETCH_AHEAD])
            i = buf[t]
            move_row(X, sample_weight, i, moved_from[i], labels[i], sums, weights, counts)


#: Rows of moved_from listed at a time by :func:`_moves_range`.
_MOVES_CHUNK = 4096


@nb.njit(cache=True, nogil=True, inline="always")
def _list_moved(moved_from, start, stop, buf):
    # the rows i in [start, stop) with moved_from[i] >= 0, in order, into buf
    # (len >= stop - start + 16); returns their number
    m = 0
    i = start
    while i + 16 <= stop:
        mx = moved_from[i]
        for q in range(1, 16):
            mx = max(mx, moved_from[i + q])
        if mx >= 0:
            for q in range(16):
                buf[m] = i + q
                m += moved_from[i + q] >= 0
        i += 16
    while i < stop:
        buf[m] = i
        m += moved_from[i] >= 0
        i += 1
    return m


@nb.njit(cache=True, nogil=True)
def _clear_emptied(sums, weights, counts):
    for j in range(sums.shape[0]):
        if counts[j] == 0:  # no drift: an emptied cluster is exactly empty
            weights[j] = 0.0
            sums[j] = 0.0


@nb.njit(cache=True, nogil=True)
def apply_moves(X, sample_weight, labels, moved_from, sums, weights, counts):
    """Move the contribution of relabelled rows between cluster sums (serial, row order).

    Parameters
    ----------
    X : IN (n, d); sample_weight : IN (n,)
    labels : IN (n,) int32, new labels
    moved_from : IN (n,) int32, old label or -1
    sums : INOUT (k, d) float64; weights : INOUT (k,) float64; counts : INOUT (k,) int64
    """
    _moves_range(X, sample_weight, labels, moved_from, 0, X.shape[0], sums, weights, counts)
    _clear_emptied(sums, weights, counts)


@nb.njit(cache=True, nogil=True, parallel=True)
def _moves_groups(X, sample_weight, labels, moved_from, bounds, g_sums, g_weights, g_counts):
    for g in nb.prange(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_counts[g] = 0
        _moves_range(X, sample_weight, labels, moved_from, bounds[g], bounds[g + 1], g_sums[g],
                     g_weights[g], g_counts[g])


@nb.njit(cache=True, nogil=True)
def _moves_groups_serial(X, sample_weight, labels, moved_from, bounds, g_sums, g_weights,
                         g_counts):
    for g in range(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_counts[g] = 0
        _moves_range(X, sample_weight, labels, moved_from, bounds[g], bounds[g + 1], g_sums[g],
                     g_weights[g], g_counts[g])


def moves_pay_by_group(n_samples, n_features, n_groups, n_clusters, n_changed):
    """Whether :func:`apply_moves_grouped` (per-group deltas, then a reduction
    of ``n_groups * n_clusters * n_features`` numbers) beats the serial
    :func:`apply_moves` (a scan of every row plus ``2 d`` per moved row).
    A function of the data only, never of the thread count. With one group
    the serial update does the same work without the reduction."""
    if n_groups < 2:
        return False
    return n_groups * n_clusters * n_features <= n_samples + 2 * n_features * n_changed


def apply_moves_grouped(X, sample_weight, labels, moved_from, bounds, sums, weights, counts,
                        g_sums, g_weights, g_counts, parallel):
    """:func:`apply_moves` by row groups: each group's moves go to its own
    deltas (row order), which are then added in group order; the result does
    not depend on the thread count (it may differ from :func:`apply_moves` in
    the last bits)."""
    kernel = _moves_groups if parallel else _moves_groups_serial
    kernel(X, sample_weight, labels, moved_from, bounds, g_sums, g_weights, g_counts)
    _apply_group_moves(sums, weights, counts, g_sums, g_weights, g_counts)


def _apply_group_moves(sums, weights, counts, g_sums, g_weights, g_counts):
    # add the per-group moved statistics, in group order
    sums += np.sum(g_sums, axis=0)
    weights += np.sum(g_weights, axis=0)
    counts += np.sum(g_counts, axis=0)
    _clear_emptied(sums, weights, counts)


def _move_rows(X, sample_weight, labels, moved_from, bounds, n_changed, sums, weights, counts,
               g_sums, g_weights, g_counts, parallel):
    # the relabelled rows' contributions moved between cluster sums, by
    # group or serially (moves_pay_by_group: a function of the data only)
    n, d = X.shape
    if moves_pay_by_group(n, d, bounds.shape[0] - 1, sums.shape[0], n_changed):
        apply_moves_grouped(X, sample_weight, labels, moved_from, bounds, sums, weights,
                            counts, g_sums, g_weights, g_counts, parallel)
    else:
        apply_moves(X, sample_weight, labels, moved_from, sums, weights, counts)


def bounded_run(mode, X, sample_weight, centers_init, bounds, max_iter, tol, verbose,
                labels, centers_out, parallel, group_of, members, group_start, use_gemm=False,
                gemm_rescan=None):
    """One complete exact K-Means run with Hamerly (``mode=0``), Elkan (``mode=1``) or
    Yinyang (``mode=2``) bounds.

    Same labels, centres and iteration count as :func:`lloyd_run` (up to
    floating-point rounding of near ties). A Python loop around one jitted
    pass per step, so only the kernels of this mode (and of the serial or the
    parallel path) are ever compiled.

    Parameters
    ----------
    mode : IN int, 0 Hamerly, 1 Elkan, 2 Yinyang
    X : IN (n, d) float32/float64
    sample_weight : IN (n,) float
    centers_init : IN (k, d) float64
    bounds : IN (G + 1,) int64
    max_iter : IN int; tol : IN float; verbose : IN int
    labels : OUT (n,) int32
    centers_out : OUT (k, d) float64
    parallel : IN bool, run row groups on threads (same result either way)
    group_of, members, group_start : IN int64 arrays, the centre groups of
        Yinyang (see :func:`yinyang_assign_range`); ignored by the other modes
    use_gemm : IN bool, default False, do the first assignment (Hamerly,
        Yinyang) and Hamerly's re-scans through BLAS
        (:mod:`clusterlab._kernels.gemm`; same labels; BLAS must be
        single-threaded when ``parallel``)
    gemm_rescan : IN bool or None, default None (= ``use_gemm``), whether
        Hamerly's re-scans go through BLAS too (gathering rows pays only with
        enough centres)

    Returns
    -------
    inertia : float64; n_iter : int

    Notes
    -----
    Yinyang: memory O(n Gc) for the group bounds; rows are skipped with one
    comparison per group, and scanned only in the groups that may hold a
    closer centre (no O(k^2 d) centre-distance matrix).
    Hamerly: memory O(n + G k d); an iteration costs O(n) bound updates plus
    O(k d) per examined row plus O(d) per relabelled row, plus O(k^2 d).
    Elkan: memory O(n k) for the lower bounds, plus the 16-bit copy of X
    (2 n d bytes, within :data:`ELKAN_INTERVAL_COPY_BYTES`) its distance
    intervals read.
    """
    n, d = X.shape
    k = centers_init.shape[0]
    n_groups = bounds.shape[0] - 1
    parallel = bool(parallel) and n_groups > 1
    centers = centers_init.copy()
    centers_new = np.empty_like(centers)
    upper = np.empty(n)
    lower = np.empty(n if mode == 0 else 0)
    lb = np.empty((n if mode == 1 else 0, k))
    n_cg = group_start.shape[0] - 1
    glb = np.empty((n if mode == 2 else 0, n_cg))
    group_shift = np.zeros(n_cg)
    moved_from = np.full(n, -1, np.int32)
    sums = np.zeros((k, d))
    weights = np.zeros(k)
    counts = np.zeros(k, np.int64)
    g_sums = np.empty((n_groups, k, d))
    g_weights = np.empty((n_groups, k))
    g_counts = np.empty((n_groups, k), np.int64)
    g_changed = np.zeros(n_groups, np.int64)
    shift = np.zeros(k)
    cc = np.empty((k, k) if mode == 1 else (0, 0))
    half_min = np.empty(k)
    min_sq = None

    rows = np.empty(n if mode == 0 else 0, np.int64)
    if gemm_rescan is None:
        gemm_rescan = use_gemm
    # Only Hamerly re-scans through BLAS; Elkan's k lower bounds per row come
    # faster from the direct first scan (measured 1.7x slower through BLAS on
    # 10^5 x 32, k=1000), so Elkan never needs the row norms.
    gemm_rescan = gemm_rescan and mode == 0
    elkan_gemm_first = use_gemm and mode == 1 and d >= ELKAN_GEMM_FIRST_MIN_FEATURES
    use_gemm = use_gemm and mode != 1
    # the BLAS first assignment writes the row norms (and the cluster sums)
    x_sq = (np.empty(n) if use_gemm else row_sq_norms(X, bounds, parallel) if gemm_rescan
            else None)
    x_sq_rescan = x_sq if gemm_rescan else None
    # Elkan with float32 distance intervals over a 16-bit copy of the rows
    # (written by the first assignment as it reads each row) within the
    # budget, else over float32 rows as they are; float64 rows beyond the
    # budget: float64 distances.
    irows = None
    if mode == 1 and d > COLUMNAR_MAX_FEATURES:
        irows = interval_rows(X, ELKAN_INTERVAL_COPY_BYTES)
        fill = irows is not None
        if irows is None and X.dtype == np.float32:
            irows = (X, _NO_CERR, 0.0, 1.0)
    if irows is not None:
        X32, xerr, offset, scale = irows
        x_sq = np.empty(n)
        elkan_first_interval(X, X32, xerr, centers, bounds, labels, upper, lb,
                             sample_weight, sums, weights, counts, g_sums, g_weights,
                             g_counts, parallel, fill, offset, scale, elkan_gemm_first, x_sq)
    elif use_gemm:
        ops = gemm_operands(X, centers)
        scan = gemm_full_scan_groups if parallel else gemm_full_scan_groups_serial
        scan(X, x_sq, sample_weight, centers, *ops, bounds, labels, upper, lower, group_of, glb,
             g_sums, g_weights, g_counts)
        _reduce_groups(g_sums, sums)
        _reduce_groups(g_weights, weights)
        _reduce_groups(g_counts, counts)
    elif mode == 2:
        if parallel:
            _yinyang_init_groups(X, centers, group_of, n_cg, bounds, labels, upper, glb)
        else:
            _yinyang_init_range(X, centers, group_of, n_cg, 0, n, labels, upper, glb)
    elif parallel:
        _full_scan_groups(X, centers, bounds, labels, upper, lower, lb)
    else:
        _full_scan_range(X, centers, 0, n, labels, upper, lower, lb)
    if irows is None and not use_gemm:
        cluster_sums(X, sample_weight, labels, bounds, sums, weights, counts, g_sums,
                     g_weights, g_counts, parallel)
    # Hamerly's BLAS re-scans move the relabelled rows' statistics per row
    # group themselves (the row is in cache) whenever the grouped moves are
    # what _move_rows would do (moves_pay_by_group, a function of the data
    # only): the same sums, bit for bit
    fuse_moves = (x_sq_rescan is not None and mode == 0
                  and moves_pay_by_group(n, d, n_groups, k, 0))
    moves = (sample_weight, g_sums, g_weights, g_counts) if fuse_moves else None

    def move(n_changed):
        if fuse_moves:
            _apply_group_moves(sums, weights, counts, g_sums, g_weights, g_counts)
        else:
            _move_rows(X, sample_weight, labels, moved_from, bounds, n_changed, sums, weights,
                       counts, g_sums, g_weights, g_counts, parallel)

    n_changed = n
    need_full_sums = False
    strict = False
    it = 0
    for it in range(max_iter):
        if it > 0:
            n_changed = _bounded_estep(mode, X, centers, half_min, cc, shift, bounds, labels,
                                       upper, lower, lb, moved_from, g_changed, parallel,
                                       group_of, members, group_start, glb, group_shift,
                                       rows, x_sq_rescan, irows, moves)
            if need_full_sums or n_changed * 8 > n:
                cluster_sums(X, sample_weight, labels, bounds, sums, weights, counts, g_sums,
                             g_weights, g_counts, parallel)
                need_full_sums = False
            elif n_changed > 0:
                move(n_changed)
        # clusters whose points all have zero weight are empty too
        if not weights.all():
            if min_sq is None:
                min_sq = np.empty(n)
            if parallel:
                _sq_dist_to_assigned_groups(X, centers, labels, bounds, min_sq)
            else:
                _sq_dist_to_assigned_range(X, centers, labels, 0, n, min_sq)
            if relocate_empty_clusters(X, sample_weight, labels, min_sq, sums, weights) > 0:
                need_full_sums = True  # sums no longer match the labels
        shift_tot = average_centers(sums, weights, centers, centers_new, shift)
        if verbose:
            print(f"Iteration {it}, inertia "
                  f"{weighted_inertia(X, sample_weight, centers, labels, bounds, parallel)}")
        centers, centers_new = centers_new, centers
        if it > 0 and n_changed == 0:
            strict = True
            if verbose:
                print(f"Converged at iteration {it}: strict convergence.")
            break
        if shift_tot <= tol:
            if verbose:
                print(f"Converged at iteration {it}: center shift {shift_tot} within "
                      f"tolerance {tol}.")
            break
    # the inertia from the cluster sums (kept for the final labels) when the
    # rows' squared norms are known: no pass over X
    by_sums = x_sq is not None and not need_full_sums
    if not strict:
        n_changed = _bounded_estep(mode, X, centers, half_min, cc, shift, bounds, labels,
                                   upper, lower, lb, moved_from, g_changed, parallel, group_of,
                                   members, group_start, glb, group_shift, rows, x_sq_rescan,
                                   irows, moves)
        if by_sums and n_changed > 0:
            move(n_changed)
    centers_out[:] = centers
    inertia = None
    if by_sums:
        # np.sum (pairwise), not np.dot: BLAS's order depends on its threads
        inertia = inertia_from_sums(float(np.sum(sample_weight * x_sq)), sums, weights, centers)
    if inertia is None:
        inertia = weighted_inertia(X, sample_weight, centers, labels, bounds, parallel)
    return inertia, it + 1


def inertia_from_sums(x_sq_w, sums, weights, centers):
    """``sum_i w_i ||x_i - c_{l_i}||^2`` from the clusters' weighted sums:
    ``sum_i w_i ||x_i||^2 - sum_j (2 c_j . S_j - W_j ||c_j||^2)`` with
    ``x_sq_w = sum_i w_i ||x_i||^2``, ``S_j`` (``sums``) and ``W_j``
    (``weights``) those of the rows labelled ``j``.

    None when the subtraction would cancel more than 10 bits (the inertia
    below ``x_sq_w / 1024``: data far from the origin compared with their
    spread); the caller then sums the distances directly. Otherwise the
    relative error stays within about ``1024`` times that of the sums.
    """
    c_sq = np.einsum("ij,ij->i", centers, centers)
    value = x_sq_w - (2.0 * np.einsum("ij,ij->", centers, sums) - np.dot(weights, c_sq))
    if not (np.isfinite(value) and value > x_sq_w * 2.0 ** -10):
        return None
    return float(value)


@nb.njit(cache=True, nogil=True)
def _group_max_shift(shift, group_of, group_shift):
    """``group_shift[g] = max shift[j]`` over the centres ``j`` of group ``g``."""
    group_shift[:] = 0.0
    for j in range(shift.shape[0]):
        if shift[j] > group_shift[group_of[j]]:
            group_shift[group_of[j]] = shift[j]


@nb.njit(cache=True, nogil=True)
def _two_largest(shift):
    """Largest shift, its (first) index, and the largest shift of any other centre."""
    s1 = -1.0
    a1 = -1
    s2 = 0.0
    for j in range(shift.shape[0]):
        if shift[j] > s1:
            s2 = s1 if s1 > 0.0 else 0.0
            s1 = shift[j]
            a1 = j
        elif shift[j] > s2:
            s2 = shift[j]
    if shift.shape[0] == 1:
        s2 = 0.0
    return s1, a1, s2


def _bounded_estep(mode, X, centers, half_min, cc, shift, bounds, labels, upper, lower, lb,
                   moved_from, g_changed, parallel, group_of, members, group_start, glb,
                   group_shift, rows, x_sq, irows=None, moves=None):
    # moves: (sample_weight, g_sums, g_weights, g_counts) to move the
    # relabelled rows' statistics per row group during Hamerly's BLAS
    # re-scans (then apply them with _apply_group_moves), or None
    n = X.shape[0]
    if mode == 2:
        _group_max_shift(shift, group_of, group_shift)
        if not parallel:
            return yinyang_assign_range(X, centers, shift, group_shift, group_of, members,
                                        group_start, 0, n, labels, upper, glb, moved_from)
        _yinyang_assign_groups(X, centers, shift, group_shift, group_of, members, group_start,
                               bounds, labels, upper, glb, moved_from, g_changed)
        return int(g_changed.sum())
    if mode == 0:
        center_half_min(centers, half_min)
        s1, a1, s2 = _two_largest(shift)
        mover_tab = mover_bounds(centers, shift, half_min, s1, a1, s2)
        if x_sq is not None:
            ops = gemm_operands(X, centers)
            # a re-scan costs about k / 64 times more with more centres
            min_pass = TIGHTEN_MIN_PASS_GEMM * min(1.0, 64.0 / centers.shape[0])
            if moves is None:
                d = X.shape[1]
                moves = (_NO_WEIGHTS, np.empty((g_changed.shape[0], 0, d)),
                         np.empty((g_changed.shape[0], 0)),
                         np.empty((g_changed.shape[0], 0), np.int64))
            kernel = _gemm_hamerly_groups if parallel else _gemm_hamerly_groups_serial
            kernel(X, x_sq, centers, *ops, half_min, shift, mover_tab, bounds, labels, upper,
                   lower, moved_from, rows, g_changed, min_pass, *moves)
            return int(g_changed.sum())
        if not parallel:
            return hamerly_assign_range(X, centers, half_min, shift, mover_tab, 0, n, labels,
                                        upper, lower, moved_from, rows)
        _hamerly_assign_groups(X, centers, half_min, shift, mover_tab, bounds, labels, upper,
                               lower, moved_from, rows, g_changed)
        return int(g_changed.sum())
    center_distances(centers, cc, half_min)
    if irows is not None:
        X32, xerr, offset, scale = irows
        C32, cerr = interval_centers(centers, offset, scale)
        gamma = float32_sum_gamma(X.shape[1])
    else:
        X32, xerr, C32, cerr, gamma, scale = _NO_C32, _NO_CERR, _NO_C32, _NO_CERR, 0.0, 1.0
    if not parallel:
        return elkan_assign_range(X, centers, half_min, cc, shift, 0, n, labels, upper, lb,
                                  moved_from, X32, xerr, C32, cerr, gamma, scale)
    _elkan_assign_groups(X, centers, half_min, cc, shift, bounds, labels, upper, lb,
                         moved_from, g_changed, X32, xerr, C32, cerr, gamma, scale)
    return int(g_changed.sum())


# ----------------------------------------------------------------------------
# Sparse CSR Lloyd statistics


@nb.njit(cache=True, nogil=True)
def csr_lloyd_stats_range(data, indices, indptr, x_sq_norms, sample_weight, centers,
                          c_sq_norms, start, stop, labels, min_sq_dist, sums, weights):
    """:func:`lloyd_stats_range` for CSR rows (norms trick in float64).

    Parameters
    ----------
    data, indices, indptr : IN CSR arrays of X (n, d)
    x_sq_norms : IN (n,) float64; sample_weight : IN (n,)
    centers : IN (k, d) float64; c_sq_norms : IN (k,) float64
    start, stop : IN int
    labels : OUT (n,) int32; min_sq_dist : OUT (n,) float64
    sums : INOUT (k, d) float64; weights : INOUT (k,) float64
    """
    k = centers.shape[0]
    inertia = 0.0
    for i in range(start, stop):
        best = 0
        best_d = np.inf
        for j in range(k):
            dist = csr_sq_dist_row(data, indices, indptr, x_sq_norms, i, centers, c_sq_norms, j)
            if dist < best_d:
                best_d = dist
                best = j
        labels[i] = best
        min_sq_dist[i] = best_d
        w = np.float64(sample_weight[i])
        weights[best] += w
        inertia += w * best_d
        for p in range(indptr[i], indptr[i + 1]):
            sums[best, indices[p]] += w * data[p]
    return inertia


@nb.njit(cache=True, nogil=True, parallel=True)
def _csr_lloyd_groups(data, indices, indptr, x_sq_norms, sample_weight, centers, c_sq_norms,
                      bounds, labels, min_sq_dist, g_sums, g_weights, g_inertia):
    for g in nb.prange(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_inertia[g] = csr_lloyd_stats_range(data, indices, indptr, x_sq_norms, sample_weight,
                                             centers, c_sq_norms, bounds[g], bounds[g + 1],
                                             labels, min_sq_dist, g_sums[g], g_weights[g])


@nb.njit(cache=True, nogil=True)
def _csr_lloyd_groups_serial(data, indices, indptr, x_sq_norms, sample_weight, centers,
                             c_sq_norms, bounds, labels, min_sq_dist, g_sums, g_weights,
                             g_inertia):
    for g in range(bounds.shape[0] - 1):
        g_sums[g] = 0.0
        g_weights[g] = 0.0
        g_inertia[g] = csr_lloyd_stats_range(data, indices, indptr, x_sq_norms, sample_weight,
                                             centers, c_sq_norms, bounds[g], bounds[g + 1],
                                             labels, min_sq_dist, g_sums[g], g_weights[g])


def csr_lloyd_stats(data, indices, indptr, x_sq_norms, sample_weight, centers, c_sq_norms,
                    bounds, labels, min_sq_dist, sums, weights, g_sums, g_weights, g_inertia,
                    parallel):
    """:func:`lloyd_stats` for CSR rows; same arguments plus the CSR arrays and norms."""
    sums[:] = 0.0
    weights[:] = 0.0
    if bounds.shape[0] == 2:
        return csr_lloyd_stats_range(data, indices, indptr, x_sq_norms, sample_weight,
                                     centers, c_sq_norms, 0, indptr.shape[0] - 1, labels,
                                     min_sq_dist, sums, weights)
    kernel = _csr_lloyd_groups if parallel else _csr_lloyd_groups_serial
    kernel(data, indices, indptr, x_sq_norms, sample_weight, centers, c_sq_norms, bounds,
           labels, min_sq_dist, g_sums, g_weights, g_inertia)
    _reduce_groups(g_sums, sums)
    _reduce_groups(g_weights, weights)
    return float(np.sum(g_inertia))


@nb.njit(cache=True, nogil=True)
def csr_relocate_empty_clusters(data, indices, indptr, sample_weight, labels, min_sq_dist,
                                sums, weights):
    """:func:`relocate_empty_clusters` for CSR rows."""
    k = weights.shape[0]
    if not _any_positive(min_sq_dist):
        return 0
    chosen = _farthest_rows(weights, min_sq_dist)
    n_empty = chosen.shape[0]
    e = 0
    for j in range(k):
        if weights[j] != 0.0 or e >= n_empty:
            continue
        i = chosen[e]
        e += 1
        w = np.float64(sample_weight[i])
        old = labels[i]
        sums[j] = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            sums[old, indices[p]] -= w * data[p]
            sums[j, indices[p]] = w * data[p]
        weights[j] = w
        weights[old] -= w
    return e


def csr_lloyd_run(data, indices, indptr, x_sq_norms, sample_weight, centers_init, bounds,
                  max_iter, tol, verbose, labels, centers_out, parallel):
    """:func:`lloyd_run` for CSR input.

    Notes
    -----
    Time O(nnz k) per iteration; memory O(n + G k d).
    """
    n = indptr.shape[0] - 1
    k, d = centers_init.shape
    centers = centers_init.copy()
    centers_new = np.empty_like(centers)
    c_sq = np.empty(k)
    labels_old = np.full(n, -1, np.int32)
    min_sq = np.empty(n)
    sums = np.zeros((k, d))
    weights = np.zeros(k)
    shift = np.zeros(k)
    n_groups = bounds.shape[0] - 1
    g_sums = np.empty((n_groups, k, d))
    g_weights = np.empty((n_groups, k))
    g_inertia = np.empty(n_groups)
    strict = False
    it = 0
    for it in range(max_iter):
        dense_row_sq_norms(centers, c_sq)
        inertia = csr_lloyd_stats(data, indices, indptr, x_sq_norms, sample_weight, centers,
                                  c_sq, bounds, labels, min_sq, sums, weights, g_sums,
                                  g_weights, g_inertia, parallel)
        if not weights.all():
            csr_relocate_empty_clusters(data, indices, indptr, sample_weight, labels, min_sq,
                                        sums, weights)
        shift_tot = average_centers(sums, weights, centers, centers_new, shift)
        if verbose:
            print(f"Iteration {it}, inertia {inertia}.")
        centers, centers_new = centers_new, centers
        if np.array_equal(labels, labels_old):
            strict = True
            break
        if shift_tot <= tol:
            break
        labels_old[:] = labels
    if not strict:
        dense_row_sq_norms(centers, c_sq)
        csr_lloyd_stats(data, indices, indptr, x_sq_norms, sample_weight, centers, c_sq,
                        bounds, labels, min_sq, sums, weights, g_sums, g_weights, g_inertia,
                        parallel)
    centers_out[:] = centers
    dense_row_sq_norms(centers, c_sq)
    return _csr_inertia(data, indices, indptr, x_sq_norms, sample_weight, centers, c_sq,
                        labels), it + 1


@nb.njit(cache=True, nogil=True)
def _csr_inertia(data, indices, indptr, x_sq_norms, sample_weight, centers, c_sq, labels):
    inertia = 0.0
    for i in range(indptr.shape[0] - 1):
        inertia += np.float64(sample_weight[i]) * csr_sq_dist_row(
            data, indices, indptr, x_sq_norms, i, centers, c_sq, labels[i])
    return inertia


# ----------------------------------------------------------------------------
# k-means++ seeding (greedy variant), with triangle-inequality skips.
#
# Every row keeps ``closest`` (squared distance to its nearest chosen centre)
# and ``owner`` (that centre). A candidate ``c`` cannot come closer to row ``x``
# than ``owner`` already is when ``||c - owner|| >= 2 ||x - owner||``
# (triangle inequality), i.e. when ``closest <= ||c - owner||^2 / 4 = q[c,
# owner]``: the row keeps ``closest`` and is not even read. The values are
# the ones an unpruned pass computes (a skipped row's distance is provably not
# smaller), so the potentials, hence the chosen centres, are unchanged; only
# rows that may change are read (Raff, "Exact acceleration of K-Means++ and
# K-Means||", IJCAI 2021, section 3).

#: Relative margin of the skip test (distances carry rounding of ~d * 2^-53).
_KPP_SKIP = 1.0 - 1e-9


@nb.njit(cache=True, nogil=True)
def _kpp_first_range(X, sample_weight, center, start, stop, closest, owner):
    pot = 0.0
    for i in range(start, stop):
        v = sq_dist_rows(X, i, center, 0)
        closest[i] = v
        owner[i] = 0
        pot += np.float64(sample_weight[i]) * v
    return pot


@nb.njit(cache=True, nogil=True)
def _kpp_score_range(X, sample_weight, closest, owner, candidates, q, start, stop, pots):
    t = candidates.shape[0]
    for c in range(t):
        pots[c] = 0.0
    for i in range(start, stop):
        ci = closest[i]
        o = owner[i]
        w = np.float64(sample_weight[i])
        limit = ci / _KPP_SKIP
        for c in range(t):
            m = ci
            if q[c, o] < limit:
                dist = sq_dist_rows(X, i, candidates, c)
                if dist < ci:
                    m = dist
            pots[c] += w * m


@nb.njit(cache=True, nogil=True)
def _kpp_commit_range(X, closest, owner, candidates, best, q, new_id, start, stop):
    for i in range(start, stop):
        ci = closest[i]
        if q[best, owner[i]] < ci / _KPP_SKIP:
            dist = sq_dist_rows(X, i, candidates, best)
            if dist < ci:
                closest[i] = dist
                owner[i] = new_id


@nb.njit(cache=True, nogil=True, parallel=True)
def _kpp_first_groups(X, sample_weight, center, bounds, closest, owner, g_pots):
    for g in nb.prange(bounds.shape[0] - 1):
        g_pots[g, 0] = _kpp_first_range(X, sample_weight, center, bounds[g], bounds[g + 1],
                                        closest, owner)


@nb.njit(cache=True, nogil=True)
def _kpp_first_groups_serial(X, sample_weight, center, bounds, closest, owner, g_pots):
    for g in range(bounds.shape[0] - 1):
        g_pots[g, 0] = _kpp_first_range(X, sample_weight, center, bounds[g], bounds[g + 1],
                                        closest, owner)


@nb.njit(cache=True, nogil=True, parallel=True)
def _kpp_score_groups(X, sample_weight, closest, owner, candidates, q, bounds, g_pots):
    for g in nb.prange(bounds.shape[0] - 1):
        _kpp_score_range(X, sample_weight, closest, owner, candidates, q, bounds[g],
                         bounds[g + 1], g_pots[g])


@nb.njit(cache=True, nogil=True)
def _kpp_score_groups_serial(X, sample_weight, closest, owner, candidates, q, bounds, g_pots):
    for g in range(bounds.shape[0] - 1):
        _kpp_score_range(X, sample_weight, closest, owner, candidates, q, bounds[g],
                         bounds[g + 1], g_pots[g])


@nb.njit(cache=True, nogil=True, parallel=True)
def _kpp_commit_groups(X, closest, owner, candidates, best, q, new_id, bounds):
    for g in nb.prange(bounds.shape[0] - 1):
        _kpp_commit_range(X, closest, owner, candidates, best, q, new_id, bounds[g],
                          bounds[g + 1])


@nb.njit(cache=True, nogil=True)
def _kpp_commit_groups_serial(X, closest, owner, candidates, best, q, new_id, bounds):
    for g in range(bounds.shape[0] - 1):
        _kpp_commit_range(X, closest, owner, candidates, best, q, new_id, bounds[g],
                          bounds[g + 1])


@nb.njit(cache=True, nogil=True)
def kpp_skip_table(candidates, centers, n_centers, q):
    """``q[c, j] = ||candidates[c] - centers[j]||^2 / 4`` for the first ``n_centers`` centres.

    Parameters
    ----------
    candidates : IN (t, d); centers : IN (k, d); n_centers : IN int
    q : OUT (t, k) float64 (columns ``>= n_centers`` untouched)
    """
    for c in range(candidates.shape[0]):
        for j in range(n_centers):
            q[c, j] = 0.25 * sq_dist_rows(candidates, c, centers, j)


def kpp_first(X, sample_weight, center, bounds, closest, owner, g_pots, parallel):
    """First k-means++ step: ``closest`` = squared distance to ``center`` (1, d),
    ``owner`` = 0, and ``g_pots[g, 0]`` = the group's ``sum w_i closest_i``."""
    kernel = _kpp_first_groups if parallel else _kpp_first_groups_serial
    kernel(X, sample_weight, center, bounds, closest, owner, g_pots)


def kpp_score(X, sample_weight, closest, owner, candidates, q, bounds, g_pots, parallel):
    """Potentials of the candidates: ``g_pots[g, c] = sum_i w_i min(closest_i, ||x_i - c||^2)``
    over group ``g``, reading only rows that the skip table ``q`` cannot rule out.

    Parameters
    ----------
    X : IN (n, d); sample_weight : IN (n,)
    closest : IN (n,) float64; owner : IN (n,) int32
    candidates : IN (t, d), rows of ``X``
    q : IN (t, k) float64, :func:`kpp_skip_table` of the candidates
    bounds : IN (G + 1,) int64
    g_pots : OUT (G, t) float64
    parallel : IN bool (same result either way; only the chosen kernel is compiled)

    Notes
    -----
    Time O(n t) plus O(d) per row and candidate not skipped; no O(n t) memory.
    """
    kernel = _kpp_score_groups if parallel else _kpp_score_groups_serial
    kernel(X, sample_weight, closest, owner, candidates, q, bounds, g_pots)


def kpp_commit(X, closest, owner, candidates, best, q, new_id, bounds, parallel):
    """Adopt candidate ``best`` as centre ``new_id``: rows it is strictly closer to
    take it as their ``owner`` and its distance as ``closest`` (same values as
    :func:`kpp_score` summed for ``best``)."""
    kernel = _kpp_commit_groups if parallel else _kpp_commit_groups_serial
    kernel(X, closest, owner, candidates, best, q, new_id, bounds)


_KPP_BLOCKED_MIN_FEATURES = 32


@nb.njit(cache=True, nogil=True)
def _kpp_pass_range(X, sample_weight, closest, buf, prev, candidates, start, stop, pots):
    t = candidates.shape[0]
    dists = np.empty(t)
    # four candidates at a time pays for rows of 32 features (10^5 x 32:
    # 2.2 -> 2.0 s of seeding); for shorter rows the per-row call costs more
    # (2000 x 2: 9 -> 27 us per pass; 10^5 x 12, k=50: 89 -> 150 ms)
    blocked = X.shape[1] >= _KPP_BLOCKED_MIN_FEATURES
    for c in range(t):
        pots[c] = 0.0
    for i in range(start, stop):
        if prev >= 0:
            closest[i] = buf[i, prev]
        ci = closest[i]
        w = np.float64(sample_weight[i])
        if blocked:
            sq_dist_row_to_all(X, i, candidates, dists)
            for c in range(t):
                dist = dists[c]
                m = dist if dist < ci else ci
                buf[i, c] = m
                pots[c] += w * m
        else:
            for c in range(t):
                dist = sq_dist_rows(X, i, candidates, c)
                m = dist if dist < ci else ci
                buf[i, c] = m
                pots[c] += w * m


@nb.njit(cache=True, nogil=True, parallel=True)
def _kpp_pass_groups(X, sample_weight, closest, buf, prev, candidates, bounds, g_pots):
    for g in nb.prange(bounds.shape[0] - 1):
        _kpp_pass_range(X, sample_weight, closest, buf, prev, candidates, bounds[g],
                        bounds[g + 1], g_pots[g])


@nb.njit(cache=True, nogil=True)
def _kpp_pass_groups_serial(X, sample_weight, closest, buf, prev, candidates, bounds, g_pots):
    for g in range(bounds.shape[0] - 1):
        _kpp_pass_range(X, sample_weight, closest, buf, prev, candidates, bounds[g],
                        bounds[g + 1], g_pots[g])


def kpp_pass(X, sample_weight, closest, buf, prev, candidates, bounds, g_pots, parallel):
    """One k-means++ step: commit the previous choice, then score the candidates.

    For every row: first ``closest_i = buf[i, prev]`` (the distance to the
    nearest chosen centre, including the one chosen last step; skipped when
    ``prev < 0``), then ``buf[i, c] = min(closest_i, ||x_i - candidates[c]||^2)``
    and ``g_pots[g, c] += w_i buf[i, c]``. The potential of candidate ``c`` is
    ``g_pots[:, c].sum()`` (reduced in group order by the caller), and the
    per-group sums after choosing ``c`` are ``g_pots[:, c]``: no second pass.

    Parameters
    ----------
    X : IN (n, d); sample_weight : IN (n,)
    closest : INOUT (n,) float64
    buf : INOUT (n, t) float64, candidate-wise updated distances
    prev : IN int, column of ``buf`` chosen last step, or -1
    candidates : IN (t, d), candidate rows
    bounds : IN (G + 1,) int64
    g_pots : OUT (G, t) float64
    parallel : IN bool (same result either way; only the chosen kernel is compiled)

    Notes
    -----
    Time O(n t d); memory O(n t) for ``buf`` (as scikit-learn's candidate
    distance matrix).
    """
    kernel = _kpp_pass_groups if parallel else _kpp_pass_groups_serial
    kernel(X, sample_weight, closest, buf, prev, candidates, bounds, g_pots)


# Columnar k-means++ (low-dimensional data): distances from a transposed copy
# of X, vectorised across rows instead of across features.

_NO_BUF = np.empty((0, 0))


@nb.njit(cache=True, nogil=True, parallel=True)
def transpose_rows(X, XT):
    """``XT[f, i] = X[i, f]`` in parallel over blocks of rows (about 10x faster
    than ``np.ascontiguousarray(X.T)`` for a few tens of columns).

    Parameters
    ----------
    X : IN (n, d); XT : OUT (d, n), same dtype, C-contiguous
    """
    n, d = X.shape
    n_blocks = (n + _COL_BLOCK - 1) // _COL_BLOCK
    for blk in nb.prange(n_blocks):
        s = np.uint64(blk * _COL_BLOCK)
        m = np.uint64(min(_COL_BLOCK, n - blk * _COL_BLOCK))
        for f in range(d):
            out = XT[f]
            for b in range(m):
                out[s + b] = X[s + b, f]


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def _col_row_dist(XT, i, center):
    # ||x_i - center[0]||^2 from the transposed rows, features summed in order
    # with the same fused multiply-adds as _columnar_dist (bitwise equal).
    acc = 0.0
    for f in range(XT.shape[0]):
        diff = np.float64(XT[f, i]) - np.float64(center[0, f])
        acc += diff * diff
    return acc


@nb.njit(cache=True, nogil=True, inline="always")
def _kpp_col_range(XT, sample_weight, closest, prev, candidates, start, stop, pots, D):
    t = candidates.shape[0]
    for c in range(t):
        pots[c] = 0.0
    for s0 in range(start, stop, _COL_BLOCK):
        s = np.uint64(s0)
        m = np.uint64(min(_COL_BLOCK, stop - s0))
        if prev.shape[0] > 0:
            _columnar_dist(XT, s, m, prev, 0, D)
            for b in range(m):
                ci = closest[s + b]
                closest[s + b] = D[b] if D[b] < ci else ci
        for c in range(t):
            _columnar_dist(XT, s, m, candidates, c, D)
            acc = 0.0
            for b in range(m):
                ci = closest[s + b]
                v = D[b] if D[b] < ci else ci
                acc += np.float64(sample_weight[s + b]) * v
            pots[c] += acc


# fastmath on the wrappers: numba compiles inline="always" code with the
# caller's flags, and the block distances must be contracted (fused
# multiply-adds) as in _col_row_dist to be bitwise equal.
@nb.njit(cache=True, nogil=True, parallel=True, fastmath=FASTMATH)
def _kpp_col_groups(XT, sample_weight, closest, prev, candidates, bounds, g_pots):
    for g in nb.prange(bounds.shape[0] - 1):
        D = np.empty(_COL_BLOCK)
        _kpp_col_range(XT, sample_weight, closest, prev, candidates, bounds[g],
                       bounds[g + 1], g_pots[g], D)


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def _kpp_col_groups_serial(XT, sample_weight, closest, prev, candidates, bounds, g_pots):
    D = np.empty(_COL_BLOCK)
    for g in range(bounds.shape[0] - 1):
        _kpp_col_range(XT, sample_weight, closest, prev, candidates, bounds[g],
                       bounds[g + 1], g_pots[g], D)


def kpp_columnar(XT, sample_weight, closest, prev, candidates, bounds, g_pots, parallel):
    """One k-means++ step on the transposed rows ``XT`` (d, n): adopt the
    previous choice, then score the candidates.

    For every row: first ``closest_i = min(closest_i, ||x_i - prev[0]||^2)``
    (skipped when ``prev`` has no row), then ``g_pots[g, c] += w_i
    min(closest_i, ||x_i - candidates[c]||^2)`` over the rows of group ``g``.
    The first centre is scored as the only candidate with ``closest = inf``.

    Parameters
    ----------
    XT : IN (d, n) float32/float64, C-contiguous (``X.T`` copied)
    sample_weight : IN (n,); closest : INOUT (n,) float64
    prev : IN (0 or 1, d) float64; candidates : IN (t, d) float64
    bounds : IN (G + 1,) int64
    g_pots : OUT (G, t) float64
    parallel : IN bool (same result either way; only the chosen kernel is compiled)

    Notes
    -----
    Time O(n (t + 1) d), no pruning, one pass over ``XT`` per centre: for a few
    tens of features the distances vectorise across 256-row blocks (no
    per-row horizontal sums), several times faster than the row-wise kernels.
    Memory: the caller's (d, n) copy of X plus 2 KiB per thread. Distances
    are bitwise those of :func:`kpp_columnar_search`.
    """
    kernel = _kpp_col_groups if parallel else _kpp_col_groups_serial
    kernel(XT, sample_weight, closest, prev, candidates, bounds, g_pots)


@nb.njit(cache=True, nogil=True, inline="always")
def _search_value(i, closest, buf, col, XT, prev):
    # D_i of the sampling search (see kpp_search / kpp_columnar_search)
    if prev.shape[0] > 0:
        di = _col_row_dist(XT, i, prev)
        ci = closest[i]
        return di if di < ci else ci
    return buf[i, col] if col >= 0 else closest[i]


@nb.njit(cache=True, nogil=True, inline="always")
def _search(sample_weight, closest, buf, col, XT, prev, bounds, g_sums, values, out):
    n = closest.shape[0]
    n_groups = bounds.shape[0] - 1
    for v in range(values.shape[0]):
        r = values[v]
        acc = 0.0
        found = n - 1
        done = False
        for g in range(n_groups):
            if acc + g_sums[g] >= r:
                for i in range(bounds[g], bounds[g + 1]):
                    di = _search_value(i, closest, buf, col, XT, prev)
                    acc += np.float64(sample_weight[i]) * di
                    if acc >= r:
                        found = i
                        done = True
                        break
                if done:
                    break
            else:
                acc += g_sums[g]
        out[v] = found


@nb.njit(cache=True, nogil=True)
def kpp_columnar_search(XT, sample_weight, closest, prev, bounds, g_sums, values, out):
    """:func:`kpp_search` for the columnar kernel, where ``closest`` does not
    include the last choice yet: ``D_i = min(closest_i, ||x_i - prev[0]||^2)``,
    computed for the rows scanned (about one group per value).

    Parameters
    ----------
    XT : IN (d, n); sample_weight : IN (n,); closest : IN (n,) float64
    prev : IN (1, d) float64; bounds : IN (G + 1,) int64; g_sums : IN (G,) float64
    values : IN (t,) float64; out : OUT (t,) int64
    """
    _search(sample_weight, closest, _NO_BUF, -1, XT, prev, bounds, g_sums, values, out)


@nb.njit(cache=True, nogil=True)
def kpp_search(sample_weight, closest, buf, col, bounds, g_sums, values, out):
    """Inverse-CDF sampling: for each ``v`` in ``values`` the first row whose
    cumulative ``w_i D_i`` reaches ``v`` (``searchsorted(side='left')``),
    clipped to ``n - 1``; ``D_i = buf[i, col]`` if ``col >= 0`` else ``closest[i]``.

    Parameters
    ----------
    sample_weight : IN (n,); closest : IN (n,) float64; buf : IN (n, t) float64
    col : IN int
    bounds : IN (G + 1,) int64; g_sums : IN (G,) float64, per-group ``sum w_i D_i``
    values : IN (t,) float64
    out : OUT (t,) int64

    Notes
    -----
    Time O(G + n / G) per value: the group is found from the group sums,
    then scanned.
    """
    _search(sample_weight, closest, buf, col, _NO_BUF, _NO_BUF, bounds, g_sums, values, out)


# ----------------------------------------------------------------------------
# Float32 k-means++ scoring with exact adoption. For float32 rows the
# candidates are scored in float32 (eight candidates per pass over a
# transposed copy of X, vectorised across rows: about twice the lanes of the
# float64 kernels), which only serves to choose: every score carries an error
# bound, a close call is settled with exact float64 potentials, and the
# adopted centre's distances are computed exactly, on the rows its float32
# distance says it may take over (flagged in the scoring pass). ``closest``,
# the per-group sums and the picks are the ones of the exact kernels.

#: Candidates scored per pass (one float32 lane each in the block loop).
KPP32_LANES = 8
#: Rows per block of the float32 scoring (measured 128 a little faster than 256).
_KPP32_BLOCK = 128


@nb.njit(cache=True, nogil=True, inline="always")
def _kpp32_block(XT, s, m, C, ch, D):
    # D[j, b] = float32 ||XT[:, s + b] - C[8 ch + j]||^2: eight candidates
    # share each load of the block's feature rows (vectorised across b), two
    # features per sweep of D (12 -> 9 ns per row for 32 features)
    for j in range(_U0, np.uint64(KPP32_LANES)):
        Dj = D[j]
        for b in range(m):
            Dj[b] = 0.0
    D0, D1, D2, D3 = D[0], D[1], D[2], D[3]
    D4, D5, D6, D7 = D[4], D[5], D[6], D[7]
    r = ch * KPP32_LANES  # signed: uint64 + int64 is float64 in numba
    d = np.uint64(XT.shape[0])
    for f in range(_U0, d - (d & np.uint64(1)), np.uint64(2)):
        g = f + np.uint64(1)
        c0, c1, c2, c3 = C[r, f], C[r + 1, f], C[r + 2, f], C[r + 3, f]
        c4, c5, c6, c7 = C[r + 4, f], C[r + 5, f], C[r + 6, f], C[r + 7, f]
        e0, e1, e2, e3 = C[r, g], C[r + 1, g], C[r + 2, g], C[r + 3, g]
        e4, e5, e6, e7 = C[r + 4, g], C[r + 5, g], C[r + 6, g], C[r + 7, g]
        Tf = XT[f]
        Tg = XT[g]
        for b in range(m):
            x = Tf[s + b]
            y = Tg[s + b]
            t0, t1, t2, t3 = x - c0, x - c1, x - c2, x - c3
            t4, t5, t6, t7 = x - c4, x - c5, x - c6, x - c7
            u0, u1, u2, u3 = y - e0, y - e1, y - e2, y - e3
            u4, u5, u6, u7 = y - e4, y - e5, y - e6, y - e7
            D0[b] += t0 * t0 + u0 * u0
            D1[b] += t1 * t1 + u1 * u1
            D2[b] += t2 * t2 + u2 * u2
            D3[b] += t3 * t3 + u3 * u3
            D4[b] += t4 * t4 + u4 * u4
            D5[b] += t5 * t5 + u5 * u5
            D6[b] += t6 * t6 + u6 * u6
            D7[b] += t7 * t7 + u7 * u7
    if d & np.uint64(1):
        f = d - np.uint64(1)
        c0, c1, c2, c3 = C[r, f], C[r + 1, f], C[r + 2, f], C[r + 3, f]
        c4, c5, c6, c7 = C[r + 4, f], C[r + 5, f], C[r + 6, f], C[r + 7, f]
        Tf = XT[f]
        for b in range(m):
            x = Tf[s + b]
            t0, t1, t2, t3 = x - c0, x - c1, x - c2, x - c3
            t4, t5, t6, t7 = x - c4, x - c5, x - c6, x - c7
            D0[b] += t0 * t0
            D1[b] += t1 * t1
            D2[b] += t2 * t2
            D3[b] += t3 * t3
            D4[b] += t4 * t4
            D5[b] += t5 * t5
            D6[b] += t6 * t6
            D7[b] += t7 * t7


@nb.njit(cache=True, nogil=True, inline="always")
def _kpp32_score_range(XT, sample_weight, closest, C, slack, start, stop, pots, flags, D, fl):
    n_chunks = C.shape[0] // KPP32_LANES
    for c in range(C.shape[0]):
        pots[c] = 0.0
    for s0 in range(start, stop, _KPP32_BLOCK):
        s = np.uint64(s0)
        m = np.uint64(min(_KPP32_BLOCK, stop - s0))
        for ch in range(n_chunks):
            _kpp32_block(XT, s, m, C, ch, D)
            for b in range(m):
                fl[b] = 0
            for j in range(KPP32_LANES):
                Dj = D[j]
                acc = 0.0
                bit = np.uint8(1 << j)
                for b in range(m):
                    ci = closest[s + b]
                    v = np.float64(Dj[b])
                    acc += np.float64(sample_weight[s + b]) * (v if v < ci else ci)
                    fl[b] |= bit if v < ci * slack[0] + slack[1] else np.uint8(0)
                pots[ch * KPP32_LANES + j] += acc
            out = flags[ch]
            for b in range(m):
                out[s + b] = fl[b]


@nb.njit(cache=True, nogil=True, parallel=True, fastmath=FASTMATH)
def _kpp32_score_groups(XT, sample_weight, closest, C, slack, bounds, g_pots, flags):
    for g in nb.prange(bounds.shape[0] - 1):
        D = np.empty((KPP32_LANES, _KPP32_BLOCK), dtype=np.float32)
        fl = np.empty(_KPP32_BLOCK, dtype=np.uint8)
        _kpp32_score_range(XT, sample_weight, closest, C, slack, bounds[g], bounds[g + 1],
                           g_pots[g], flags, D, fl)


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def _kpp32_score_groups_serial(XT, sample_weight, closest, C, slack, bounds, g_pots, flags):
    D = np.empty((KPP32_LANES, _KPP32_BLOCK), dtype=np.float32)
    fl = np.empty(_KPP32_BLOCK, dtype=np.uint8)
    for g in range(bounds.shape[0] - 1):
        _kpp32_score_range(XT, sample_weight, closest, C, slack, bounds[g], bounds[g + 1],
                           g_pots[g], flags, D, fl)


def kpp32_slack(n_features):
    """``(scale, shift)`` of the float32 scoring: a float32 squared distance
    ``v`` proves ``||x - c||^2 >= closest`` when ``v >= closest * scale + shift``.

    The float32 distance of d features (differences of float32 values,
    squared and summed in any order) is within ``gamma * ||x - c||^2`` of
    the exact value (:func:`float32_sum_gamma`), plus ``2^-149`` per term
    where squares underflow; the scale doubles gamma (and covers the float64
    rounding of the test), the shift covers the underflow. Returns a (2,)
    float64 array.
    """
    gamma = float32_sum_gamma(n_features)
    return np.array([1.0 + 2.0 * gamma + 2.0 ** -50, (2 * n_features + 2) * 2.0 ** -149])


def kpp32_score(XT, sample_weight, closest, C, slack, bounds, g_pots, flags, parallel):
    """Float32 potentials of the candidates and the rows each may take over.

    For every row ``i`` of group ``g`` and candidate ``c``, with ``v`` the
    float32 squared distance: ``g_pots[g, c] += w_i min(closest_i, v)``, and
    bit ``c % 8`` of ``flags[c // 8, i]`` is set when ``v < closest_i * scale +
    shift`` (:func:`kpp32_slack`), i.e. unless the row provably keeps
    ``closest_i``. The potential of ``c`` (summed over groups) is within
    :func:`kpp32_rel_error` of the exact one.

    Parameters
    ----------
    XT : IN (d, n) float32, C-contiguous (``X.T`` copied)
    sample_weight : IN (n,); closest : IN (n,) float64
    C : IN (8 m, d) float32, candidates (padded with copies to a multiple of 8)
    slack : IN (2,) float64, :func:`kpp32_slack`
    bounds : IN (G + 1,) int64
    g_pots : OUT (G, 8 m) float64
    flags : OUT (m, n) uint8
    parallel : IN bool (same result either way)

    Notes
    -----
    Time O(n m d) in 256-row blocks vectorised across rows (eight float32
    candidates share each load); memory: the caller's (d, n) copy of X, the
    (m, n) flags, 8 KiB per thread.
    """
    kernel = _kpp32_score_groups if parallel else _kpp32_score_groups_serial
    kernel(XT, sample_weight, closest, C, slack, bounds, g_pots, flags)


def kpp32_rel_error(n_samples, n_features):
    """Relative bound on the difference between a :func:`kpp32_score`
    potential and the exact one as a float64 sum (either way of summing):
    the float32 distances' gamma (:func:`kpp32_slack`), doubled, plus the
    float64 rounding of both sums."""
    gamma = float32_sum_gamma(n_features)
    return 2.0 * gamma + 4.0 * (n_samples + n_features + 4) * 2.0 ** -53


@nb.njit(cache=True, nogil=True, inline="always")
def _kpp32_exact_range(X, sample_weight, closest, C, cands, flags, start, stop, out, commit):
    # out[c] = sum over rows of w * min(closest, d) for candidate cands[c],
    # d computed exactly (float64) on the flagged rows only: the sum of
    # w * closest (once, after the commit if any) plus each candidate's
    # corrections; with commit, closest takes the value (one candidate).
    corr = np.zeros(cands.shape[0])
    for c in range(cands.shape[0]):
        j = cands[c]
        Fj = flags[j // KPP32_LANES]
        bit = np.uint8(1 << (j % KPP32_LANES))
        for i in range(start, stop):
            if Fj[i] & bit:
                ci = closest[i]
                v = sq_dist_rows(X, i, C, j)
                if v < ci:
                    if commit:
                        closest[i] = v
                    else:
                        corr[c] += np.float64(sample_weight[i]) * (v - ci)
    acc = 0.0
    for i in range(start, stop):
        acc += np.float64(sample_weight[i]) * closest[i]
    for c in range(cands.shape[0]):
        out[c] = acc + corr[c]


@nb.njit(cache=True, nogil=True, parallel=True, fastmath=FASTMATH)
def _kpp32_exact_groups(X, sample_weight, closest, C, cands, flags, bounds, g_out, commit):
    for g in nb.prange(bounds.shape[0] - 1):
        _kpp32_exact_range(X, sample_weight, closest, C, cands, flags, bounds[g],
                           bounds[g + 1], g_out[g], commit)


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def _kpp32_exact_groups_serial(X, sample_weight, closest, C, cands, flags, bounds, g_out,
                               commit):
    for g in range(bounds.shape[0] - 1):
        _kpp32_exact_range(X, sample_weight, closest, C, cands, flags, bounds[g],
                           bounds[g + 1], g_out[g], commit)


def kpp32_exact(X, sample_weight, closest, C, cands, flags, bounds, g_out, commit, parallel):
    """Exact (float64) potentials of the candidates ``cands`` from the rows
    :func:`kpp32_score` flagged for them; with ``commit`` (one candidate) it
    is adopted: ``closest_i = min(closest_i, ||x_i - c||^2)``.

    Parameters
    ----------
    X : IN (n, d) float32; sample_weight : IN (n,); closest : INOUT (n,) float64
    C : IN (8 m, d) float32; cands : IN (r,) int64, rows of ``C``
    flags : IN (m, n) uint8, from :func:`kpp32_score` with the same ``closest``
    bounds : IN (G + 1,) int64
    g_out : OUT (G, r) float64, per-group ``sum w_i min(closest_i, d_i)``
        (after ``commit``: the new per-group ``sum w_i closest_i``)
    commit : IN bool; parallel : IN bool (same result either way)

    Notes
    -----
    Unflagged rows provably keep ``closest_i`` (:func:`kpp32_slack`), so
    the values are those of an exact pass over every row, up to the order of
    the float64 sums. Time O(n r + flagged rows * d).
    """
    kernel = _kpp32_exact_groups if parallel else _kpp32_exact_groups_serial
    kernel(X, sample_weight, closest, C, cands, flags, bounds, g_out, commit)


def kpp32_safe(X):
    """Whether float32 squared distances between rows of ``X`` cannot
    overflow (``4 d max|X|^2 <= 1e37``, with ``max|X|`` bounded by its
    largest exponent, :func:`clusterlab._kernels.distances.abs_max_bound`),
    as :func:`kpp32_score` assumes."""
    return 4.0 * X.shape[1] * abs_max_bound(X) ** 2 <= 1e37


# ----------------------------------------------------------------------------
# Tolerance scale: mean of the per-feature variances, without a temporary copy of X.


@nb.njit(cache=True, nogil=True)
def _column_moments_range(X, start, stop, means, out):
    d = X.shape[1]
    use_means = means.shape[0] == d
    for f in range(d):
        out[f] = 0.0
    for i in range(start, stop):
        for f in range(d):
            v = np.float64(X[i, f])
            if use_means:
                v -= means[f]
                out[f] += v * v
            else:
                out[f] += v


@nb.njit(cache=True, nogil=True, parallel=True)
def _column_moments_groups(X, bounds, means, g_out):
    for g in nb.prange(bounds.shape[0] - 1):
        _column_moments_range(X, bounds[g], bounds[g + 1], means, g_out[g])


@nb.njit(cache=True, nogil=True)
def _column_moments_groups_serial(X, bounds, means, g_out):
    for g in range(bounds.shape[0] - 1):
        _column_moments_range(X, bounds[g], bounds[g + 1], means, g_out[g])


def mean_feature_variance(X, bounds, parallel=False):
    """Mean over features of the (population) variance of each column of ``X``.

    Parameters
    ----------
    X : IN (n, d) float32/float64
    bounds : IN (G + 1,) int64, row groups
    parallel : IN bool, default False, run the groups on threads (same result)

    Returns
    -------
    float64

    Notes
    -----
    Two passes over X (means, then squared deviations), float64 accumulation,
    O(G d) scratch; no copy of X.
    """
    n, d = X.shape
    n_groups = bounds.shape[0] - 1
    g_out = np.empty((n_groups, d))
    kernel = _column_moments_groups if parallel else _column_moments_groups_serial
    kernel(X, bounds, np.empty(0), g_out)
    means = np.zeros(d)
    _reduce_groups(g_out, means)
    means /= n
    kernel(X, bounds, means, g_out)
    var = np.zeros(d)
    _reduce_groups(g_out, var)
    return float(np.sum(var / n) / d)


