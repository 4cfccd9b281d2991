"""Elkan's bounds: one upper bound and k lower bounds per point.

The first assignment takes distance intervals either from a 16-bit copy of X
(:func:`interval_rows`, :func:`approx_dist_bounds`, exact adjudication of near
ties) or from BLAS products (:func:`_elkan_first_gemm_range`); the E-step
(:func:`elkan_assign_range`) skips centres by the centre-centre distances.
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

from clusterlab._kernels.distances import (
    FASTMATH,
    add_row,
    prefetch_row,
    row_sq_norm,
    sq_dist_rows,
)
from clusterlab._kernels.gemm.blocks import (
    block_products,
    block_rows,
    gemm_operands,
    resolve_dists,
)
from clusterlab._kernels.kmeans.common import (
    _HI,
    _LO,
    _PREFETCH_AHEAD,
    _reduce_groups,
)
from clusterlab._kernels.row_groups import on_threads

_NO_C32 = np.empty((0, 0), np.float32)
_NO_CERR = np.empty(0)
_NO_Q = np.empty((0, 0), np.int16)

#: From this many features on (and when the product pays,
#: :func:`clusterlab._kernels.gemm.blocks.gemm_pays`) Elkan's first assignment takes
#: its distance intervals from BLAS products (the 16-bit copy written in the
#: same pass); with few features the direct intervals are faster.
ELKAN_GEMM_FIRST_MIN_FEATURES = 128
#: Largest magnitude of a 16-bit interval coordinate.
_Q_MAX = 32767.0


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


@parallel_kernel(cache=True, nogil=True)
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
def _elkan_first_gemm_range(X, centers, Cx, csq, consts, start, stop, labels, upper, lb,
                            sample_weight, sums, weights, counts, Q, qerr, q_offset, q_scale,
                            x_sq):
    # _elkan_first_interval_range with the intervals from one product per
    # block of rows (block_products) (clusterlab._kernels.gemm.blocks.resolve_dists: every approximate
    # squared distance within delta of the exact one, near ties and overflowed
    # products decided exactly): the same labels, lower bounds that are the
    # intervals' lower ends. While the block is in cache, each row's 16-bit
    # copy (with a non-empty Q), squared norm and cluster sums.
    k = centers.shape[0]
    br = block_rows(X)
    buf = np.empty((k, br), X.dtype)
    no_copy = np.empty((X.shape[1], 0), X.dtype)
    dist = np.empty(k)
    fill = Q.shape[0] > 0
    for s in range(start, stop, br):
        e = min(stop, s + br)
        block = X[s:e]
        out = buf if e - s == br else np.empty((k, e - s), X.dtype)
        block_products(block, Cx, out, no_copy, False)
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


@parallel_kernel(cache=True, nogil=True)
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
        kernel = on_threads(_elkan_first_gemm_groups, parallel)
        kernel(X, centers, *gemm_operands(X, centers), bounds, labels, upper, lb,
               sample_weight, g_sums, g_weights, g_counts, Q, qerr, q_offset, q_scale, x_sq)
    else:
        gamma = float32_sum_gamma(X.shape[1])
        C32, cerr = interval_centers(centers, offset, scale)
        kernel = on_threads(_elkan_first_interval_groups, parallel)
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


@parallel_kernel(cache=True, nogil=True)
def _elkan_assign_groups(X, centers, half_min, cc, shift, bounds, labels, upper, lb,
                         moved_from, g_changed, X32, xerr, C32, cerr, gamma, scale):
    for g in nb.prange(bounds.shape[0] - 1):
        g_changed[g] = elkan_assign_range(X, centers, half_min, cc, shift, bounds[g],
                                          bounds[g + 1], labels, upper, lb, moved_from, X32,
                                          xerr, C32, cerr, gamma, scale)
