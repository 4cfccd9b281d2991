"""Columnar distance blocks for data with few features (:func:`columnar_pays`).

A 256-row block is copied feature by feature so that distances are
vectorised across rows instead of one short per-row loop: Lloyd's statistics
(:func:`_lloyd_stats_columnar`) and the full scans and re-scans of the
bounded algorithms (:func:`_full_scan_columnar`, :func:`_rescan_columnar`).
"""

import numba as nb
import numpy as np

from clusterlab._kernels.distances import FASTMATH
from clusterlab._kernels.gemm.passes import store_rescan

# ----------------------------------------------------------------------------
# Lloyd: assignment + per-cluster statistics


#: Up to this many features, Lloyd works on 256-row blocks copied feature by
#: feature (distances vectorised across rows instead of per-row loops of d
#: numbers): measured 2x faster for 1-3 features, 1.3x for 8.
COLUMNAR_MAX_FEATURES = 8
#: ... and also up to this many features from COLUMNAR_MIN_CENTRES centres on
#: (Lloyd's statistics pass, the bounded algorithms' first scan and re-scans):
#: the row-by-row kernel slows sharply from 8 centres (one thread, ns a row,
#: row-by-row / columnar: 16 features x 8 centres 61 / 31, x 20 99 / 59, x 50
#: 209 / 121; 12 x 10 81 / 28; equal at 6 centres; at 24 features 1.1-1.3x, at
#: 32 the row-by-row kernel is faster).
COLUMNAR_MANY_CENTRES_MAX_FEATURES = 16
COLUMNAR_MIN_CENTRES = 8


@nb.njit(cache=True, nogil=True, inline="always")
def columnar_pays(d, k):
    """Whether the direct passes (Lloyd's statistics, the bounded algorithms'
    first scan and re-scans) run on columnar blocks for ``d`` features and ``k``
    centres: a speed choice, the same rule for every algorithm so that they
    compute the same distances."""
    return d <= COLUMNAR_MAX_FEATURES or (d <= COLUMNAR_MANY_CENTRES_MAX_FEATURES
                                          and k >= COLUMNAR_MIN_CENTRES)


_COL_BLOCK = 256


def columnar_nearest(X, centers, labels, min_sq_dist):
    """Nearest centre and squared distance of every row by the columnar blocks
    of the Lloyd pass (:func:`_lloyd_stats_columnar`, its statistics
    discarded): the distances the fit's passes compute for the shapes
    :func:`columnar_pays` takes (``KMeans.predict`` on few rows, Lloyd's final
    assignment).

    X : IN (n, d) float32/float64; centers : IN (k, d) float64
    labels : OUT (n,) int32; min_sq_dist : OUT (n,) float64
    """
    n = X.shape[0]
    k, d = centers.shape
    _lloyd_stats_columnar(X, np.ones(n, X.dtype), centers, 0, n, labels, min_sq_dist,
                          np.zeros((k, d)), np.zeros(k))
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
            for f in range(d):  # the row itself, not its strided copy in T: same values
                sums[j, f] += w * X[i, f]
        inertia += acc
    return inertia


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
