"""Products of a block of rows with every centre, the two nearest per row, and the exact re-check.

See :mod:`clusterlab._kernels.gemm` for the error bound that decides which
approximate distances are re-computed exactly.
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

from clusterlab._kernels.distances import (
    FASTMATH,
    prefetch_row,
    row_sq_norm,
    sq_dist_rows,
)
from clusterlab._kernels.gemm.products import narrow_products, tile_products

#: Rows per GEMM call: a (256, d) block of X stays in L2 while it is used twice.
BLOCK_ROWS = 256
#: At most this many bytes of rows per product (BLOCK_ROWS rows, halved until
#: they fit): wide rows run faster in shorter blocks.
BLOCK_BYTES = 256 * 1024


@nb.njit(cache=True, nogil=True, inline="always")
def block_rows(X):
    """Rows per product block for ``X``: :data:`BLOCK_ROWS`, halved (down to 16)
    while the block exceeds :data:`BLOCK_BYTES`."""
    br = BLOCK_ROWS
    while br > 16 and br * X.shape[1] * X.itemsize > BLOCK_BYTES:
        br //= 2
    return br

#: Blocks are copied transposed before their product (see block_products)
#: up to these many features and centres.
TRANSPOSED_MAX_FEATURES = 64
TRANSPOSED_MAX_CLUSTERS = 256
#: Products with few centres are computed in the kernel rather than by BLAS
#: (see :func:`product_kind`): a BLAS call costs about a microsecond before it
#: computes anything, and OpenBLAS runs a product with few centres well below
#: its peak (60000 x 784 float32 by 10 centres, one thread: ~50 GFLOP/s, half
#: of a square product's rate).
NARROW_MAX_CLUSTERS_32 = 20
NARROW_MAX_CLUSTERS_64 = 10
#: Rows gathered for a re-scan are prefetched this many rows ahead.
GATHER_AHEAD = 8

_U64 = 2.0 ** -53
_U32 = 2.0 ** -24


def gemm_pays(n_features, n_clusters, dtype=np.float32):
    """Whether the GEMM path is faster than the direct kernels for this shape.

    Measured with benchmarks/bench_kmeans.py and Lloyd fits of both paths on
    an AVX-512 machine (one process, overlapping clusters): the product wins
    once a row meets enough centres in enough dimensions. float32 (GEMM /
    direct time, 30000 rows, 20 iterations): from 4 centres on with 8-32
    features (16 x 4 0.55-0.70, 32 x 4 0.72, 8 x 8 0.72, 16 x 8 0.56, 32 x
    16 0.46) and from 8 centres with more features (784 x 8 0.67), but not
    64 x 2-4 (1.1-1.5) nor at 2-3 centres. float64 needs more work per row:
    16 x 16 0.82, 64 x 24 0.68, 784 x 10 0.84, but 128 x 10 1.09 and 32 x
    10 1.00.
    """
    if n_features < 8 or n_clusters < 4:
        return False
    if np.dtype(dtype).itemsize == 4:
        return n_clusters >= 8 or n_features <= 32
    if n_clusters < 8 or n_features * n_clusters < 256:
        return False
    return n_clusters >= 16 or n_features * n_clusters >= 4096


def gemm_operands(X, centers):
    """``(Cx, csq, consts)`` for the kernels of this module.

    Parameters
    ----------
    X : (n, d) float32/float64, the rows (decides the GEMM dtype)
    centers : (k, d) float64

    Returns
    -------
    Cx : (k, d) C-contiguous, ``centers`` in ``X.dtype``
    csq : (k,) float64, squared norms of ``centers``
    consts : (6,) float64, ``(c_max, coef1, coef2, coef3, coef4, limit)``: the
        largest centre norm, the coefficients of the error bound
        :func:`error_bound`, the coefficient of the extra error of a float32
        sweep (:func:`sweep_error`; 0: sweep in float64) and the largest
        ``||x|| c_max`` whose products cannot overflow
    """
    d = centers.shape[1]
    Cx = np.ascontiguousarray(centers, dtype=X.dtype)
    csq = np.einsum("ij,ij->i", centers, centers)
    c_max = float(np.sqrt(csq.max())) if csq.shape[0] else 0.0
    if X.dtype == np.float32:
        u_gemm, u_c, tiny = _U32, _U32, float(np.finfo(np.float32).tiny)
    else:
        u_gemm, u_c, tiny = _U64, 0.0, float(np.finfo(np.float64).tiny)
    gamma = (d + 1) * u_gemm / (1.0 - (d + 1) * u_gemm)
    coef1 = 2.0 * 2.0 * (gamma + u_c) * 1.01
    coef2 = 2.0 * (d + 4) * _U64 * 1.01
    # products and partial sums that underflow (flushed to zero or subnormal)
    # lose up to the smallest normal number each
    coef3 = 2.0 * 2.0 * (d + 2) * tiny
    # float32 products: the two nearest may be swept in float32 (see
    # block_top2_f32), which adds at most u32 (2 csq + 2 |p|) (1 + tiny
    # terms) per value; coef4 doubles that for safety. Not when a centre's
    # squared norm would overflow float32 (then the float64 sweep).
    coef4 = 2.0 * 2.0 * _U32 * 1.01 if X.dtype == np.float32 and c_max * c_max < 1e37 else 0.0
    # rows with ||x|| c_max beyond this may overflow a product: always re-checked
    limit = 1e37 if X.dtype == np.float32 else 1e300
    return Cx, csq, np.array([c_max, coef1, coef2, coef3, coef4, limit])


@nb.njit(cache=True, nogil=True, inline="always")
def error_bound(xsq, consts):
    """``delta``: every approximate squared distance of a row with squared norm
    ``xsq`` is within ``delta`` of the exact one, unless a product overflowed
    (then some value is not finite and the callers re-compute exactly)."""
    xn = np.sqrt(xsq)
    c_max = consts[0]
    t = xn + c_max
    return consts[1] * xn * c_max + consts[2] * t * t + consts[3]


@nb.njit(cache=True, nogil=True, inline='always', fastmath=FASTMATH)
def _min8(v):
    """``min(v)`` with eight independent running minima (LLVM does not vectorise a
    floating-point min reduction without a function-wide no-NaN attribute; eight
    chains at least keep the CPU's pipelines full)."""
    k = v.shape[0]
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = v[0]
    j = 0
    while j + 8 <= k:
        a = v[j]
        b = v[j + 1]
        c = v[j + 2]
        d = v[j + 3]
        m0 = a if a < m0 else m0
        m1 = b if b < m1 else m1
        m2 = c if c < m2 else m2
        m3 = d if d < m3 else m3
        a = v[j + 4]
        b = v[j + 5]
        c = v[j + 6]
        d = v[j + 7]
        m4 = a if a < m4 else m4
        m5 = b if b < m5 else m5
        m6 = c if c < m6 else m6
        m7 = d if d < m7 else m7
        j += 8
    while j < k:
        m0 = v[j] if v[j] < m0 else m0
        j += 1
    m0 = m0 if m0 < m1 else m1
    m2 = m2 if m2 < m3 else m3
    m4 = m4 if m4 < m5 else m5
    m6 = m6 if m6 < m7 else m7
    m0 = m0 if m0 < m2 else m2
    m4 = m4 if m4 < m6 else m6
    return m0 if m0 < m4 else m4


@nb.njit(cache=True, nogil=True, inline='always', fastmath=FASTMATH)
def approx_row(xsq, brow, csq, consts, dist):
    """Approximate squared distances of one row to every centre, and their error bound.

    Parameters
    ----------
    xsq : IN float64, the row's squared norm
    brow : IN (k,) the row's products with the centres (a column of ``Cx @ block.T``)
    csq : IN (k,) float64; consts : IN (4,) float64 (see :func:`gemm_operands`)
    dist : OUT (k,) float64

    Returns
    -------
    delta : float64, ``|dist[j] - exact[j]| <= delta`` for every ``j``
    m1 : float64, ``min(dist)``
    """
    for j in range(csq.shape[0]):
        dist[j] = xsq + csq[j] - 2.0 * np.float64(brow[j])
    return error_bound(xsq, consts), _min8(dist)


@nb.njit(cache=True, nogil=True, inline='always', fastmath=FASTMATH)
def _count_below(dist, limit):
    n = 0
    for j in range(dist.shape[0]):
        n += dist[j] <= limit
    return n


@nb.njit(cache=True, nogil=True, inline='always')
def min_except(dist, j1):
    """``min(dist[j] for j != j1)`` (``dist`` is restored; ``1e308`` when there is none)."""
    keep = dist[j1]
    dist[j1] = 1e308
    m = _min8(dist)
    dist[j1] = keep
    return m


@nb.njit(cache=True, nogil=True, inline='always')
def resolve_row(block, r, centers, dist, delta, m1):
    """The exact nearest centre of ``block[r]`` from approximate distances.

    Parameters
    ----------
    block : IN (m, d); r : IN int; centers : IN (k, d) float64
    dist : IN (k,) float64 approximate squared distances
    delta : IN float64, their error bound; m1 : IN float64, ``min(dist)``

    Returns
    -------
    j1 : int, nearest centre (ties to the lowest index, exact as :func:`sq_dist_rows`)
    d1 : float64, squared distance to it: exact when re-checked, else ``dist[j1]``
    exact : bool, whether ``d1`` is exact
    """
    k = dist.shape[0]
    limit = m1 + 2.0 * delta
    if _count_below(dist, limit) == 1:
        for j in range(k):
            if dist[j] <= limit:
                return j, dist[j], False
    best = -1
    best_d = np.inf
    for j in range(k):
        if dist[j] <= limit:
            e = sq_dist_rows(block, r, centers, j)
            if e < best_d:
                best_d = e
                best = j
    return best, best_d, True


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def _row_sq_norms_range(X, start, stop, out):
    for i in range(start, stop):
        out[i] = row_sq_norm(X, i)


@parallel_kernel(cache=True, nogil=True)
def _row_sq_norms_groups(X, bounds, out):
    for g in nb.prange(bounds.shape[0] - 1):
        _row_sq_norms_range(X, bounds[g], bounds[g + 1], out)


def row_sq_norms(X, bounds, parallel):
    """Squared norms of the rows of ``X`` (float64, vectorised sums), over row groups.

    Each value depends only on its row, so the thread count never matters.
    """
    out = np.empty(X.shape[0])
    if parallel and bounds.shape[0] > 2:
        _row_sq_norms_groups(X, bounds, out)
    else:
        _row_sq_norms_range(X, 0, X.shape[0], out)
    return out


# ----------------------------------------------------------------------------
# Products of a block of rows with every centre, and the two nearest per row.
#
# The product is taken as ``Cx @ block.T`` (k, m): a centre's products with
# the m rows are contiguous, so the running (smallest, second smallest,
# index) of every row are updated with element-wise vector operations, two
# centres per sweep -- no per-row reductions, which LLVM does not vectorise.


@nb.njit(cache=True, nogil=True, fastmath=True)
def _sweep2(p0, p1, c0, c1, two, j, m1, m2, j1):
    # fastmath=True (vector min/max): every value here is finite, and the
    # running minima start at a finite value, not inf. The arithmetic is that
    # of c0 and two: float64 (block_top2: 2.0 * p is exact in float64) or
    # float32 (block_top2_f32: eight lanes per 256-bit vector instead of four)
    for r in range(p0.shape[0]):
        a = m1[r]
        b = m2[r]
        jj = j1[r]
        v = c0 - two * p0[r]
        jj = j if v < a else jj
        b = min(b, max(a, v))
        a = min(a, v)
        v = c1 - two * p1[r]
        jj = j + 1 if v < a else jj
        b = min(b, max(a, v))
        a = min(a, v)
        m1[r] = a
        m2[r] = b
        j1[r] = jj


@nb.njit(cache=True, nogil=True, fastmath=True)
def _sweep1(p0, c0, two, j, m1, m2, j1):
    for r in range(p0.shape[0]):
        a = m1[r]
        v = c0 - two * p0[r]
        j1[r] = j if v < a else j1[r]
        m2[r] = min(m2[r], max(a, v))
        m1[r] = min(a, v)


@nb.njit(cache=True, nogil=True, inline="always")
def block_products(block, Cx, out, T, copy):
    """``out = Cx @ block.T``, by the kernel :func:`product_kind` picks.

    With ``T`` of shape (d, >= m) (see :func:`block_scratch`) the block is
    first copied transposed into it (6 ns a row of 16 float32 features) and
    :func:`tile_products` runs on the copy; without ``copy``, ``T`` already
    holds the block transposed (a tile of :func:`tile_view`): only the
    product runs. Else (``T`` of width 0) :func:`narrow_products` on the rows
    for few centres, or BLAS on the transposed view.
    """
    m = block.shape[0]
    kind = product_kind(Cx.shape[1], Cx.shape[0], Cx.itemsize, T.shape[1] >= m > 0)
    if kind == 2:
        narrow_products(block, Cx, out)
    elif kind == 1:  # a shorter last block too: the same products as in a tile
        if copy:
            copy_transposed(block, T)
        tile_products(Cx, T, m, out)
    else:
        np.dot(Cx, block.T, out)


@nb.njit(cache=True, nogil=True)
def product_kind(n_features, n_clusters, itemsize, transposed):
    """How :func:`block_products` computes a block's products with the centres
    (a speed choice only: every kind is a sum of the products, within
    :func:`error_bound`): 1 :func:`tile_products` on the transposed block
    wherever its copy exists (``transposed``: at most
    :data:`TRANSPOSED_MAX_FEATURES` features and
    :data:`TRANSPOSED_MAX_CLUSTERS` centres), else 2 :func:`narrow_products`
    on the rows for few centres, else 0 BLAS.

    :func:`narrow_products` against BLAS on the same blocks, one thread
    (AVX2, OpenBLAS): float32 with 10-20 centres from 32 features 1.2-4x
    faster (784 features: 4x at 10 centres, 1.5x at 20), 32 centres level;
    float64 from 16 features with up to 10 centres 1.3-3x, 16 centres mixed
    (0.9-1.4x).
    """
    if transposed:
        return 1
    if itemsize == 4:
        if n_clusters <= NARROW_MAX_CLUSTERS_32 and n_features >= 32:
            return 2
    elif n_clusters <= NARROW_MAX_CLUSTERS_64 and n_features >= 16:
        return 2
    return 0


@nb.njit(cache=True, nogil=True, inline="always")
def copy_transposed(block, T):
    """``T[:, :m] = block.T`` for the m rows of ``block`` (element by element:
    numba has no vector transpose; 6 ns a row of 16 float32 features)."""
    for f in range(np.uint64(block.shape[1])):
        Tf = T[f]
        for r in range(np.uint64(block.shape[0])):
            Tf[r] = block[r, f]


@nb.njit(cache=True, nogil=True, inline="always")
def tile_view(XT, s, e, d):
    """The tile of rows ``[s, e)`` in ``XT``, a transposed copy of X kept tile
    by tile (flat, n * d): rows ``[s, e)`` of X, transposed, as a (d, e - s)
    C-contiguous array at offset ``s * d``. The tiles are the blocks of the
    passes that read them (the same row groups and :func:`block_rows`), so
    they partition the flat array."""
    return XT[s * d:e * d].reshape((d, e - s))


@nb.njit(cache=True, nogil=True)
def block_top2(block, Cx, csq, out, m1, m2, j1, T, copy):
    """``out = Cx @ block.T`` and, per row, the two smallest ``||c||^2 - 2 x.c``.

    Parameters
    ----------
    block : IN (m, d) C-contiguous rows
    Cx : IN (k, d) C-contiguous centres in the rows' dtype; csq : IN (k,) float64
    out : OUT (k, m) C-contiguous, the products
    m1, m2 : OUT (>= m,) float64, smallest and second smallest (``1e308`` if k == 1)
    j1 : OUT (>= m,) int64, index of the smallest (the lowest on a tie)
    T : scratch of :func:`block_products` (``copy``: see there)
    """
    m = block.shape[0]
    k = Cx.shape[0]
    block_products(block, Cx, out, T, copy)
    for r in range(m):
        m1[r] = 1e308
        m2[r] = 1e308
        j1[r] = 0
    a1 = m1[:m]
    a2 = m2[:m]
    aj = j1[:m]
    j = 0
    while j + 2 <= k:
        _sweep2(out[j], out[j + 1], csq[j], csq[j + 1], 2.0, j, a1, a2, aj)
        j += 2
    if j < k:
        _sweep1(out[j], csq[j], 2.0, j, a1, a2, aj)


@nb.njit(cache=True, nogil=True)
def block_top2_f32(block, Cx, csq, out, f1, f2, g1, T, copy):
    """:func:`block_top2` for float32 rows with the sweep in float32.

    ``f1``/``f2`` (float32) and ``g1`` (int32) receive the two smallest
    ``fl32(fl32(||c||^2) - 2 x.c)`` and the index of the smallest; measured
    (16 features x 64 centres, one thread) 16 -> 9 ns per row for the sweep.
    Each value is within :func:`sweep_error` of ``||c||^2 - 2 p`` computed
    exactly from the same product ``p``; :func:`_block_bounds32` widens the
    bounds by it.
    """
    m = block.shape[0]
    k = Cx.shape[0]
    block_products(block, Cx, out, T, copy)
    big = np.float32(3e38)
    for r in range(m):
        f1[r] = big
        f2[r] = big
        g1[r] = 0
    a1 = f1[:m]
    a2 = f2[:m]
    aj = g1[:m]
    two = np.float32(2.0)
    j = 0
    while j + 2 <= k:
        _sweep2(out[j], out[j + 1], np.float32(csq[j]), np.float32(csq[j + 1]), two,
                np.int32(j), a1, a2, aj)
        j += 2
    if j < k:
        _sweep1(out[j], np.float32(csq[j]), two, np.int32(j), a1, a2, aj)


@nb.njit(cache=True, nogil=True, inline="always")
def sweep_error(xsq, consts):
    """Extra error of a float32 sweep value for a row with squared norm ``xsq``:
    ``coef4 (c_max^2 + ||x|| c_max + 1e-37)`` (the rounding of ``||c||^2`` to
    float32 and of the subtraction, doubled; the last term covers results in
    float32's subnormal range, spaced 2^-149)."""
    c_max = consts[0]
    return consts[4] * (c_max * c_max + np.sqrt(xsq) * c_max + 1e-37)


@nb.njit(cache=True, nogil=True, inline="always")
def _all_finite(dist, delta):
    """Whether every approximate distance and the error bound are finite (an
    overflowed product is not)."""
    finite = delta < np.inf
    for j in range(dist.shape[0]):
        finite &= -np.inf < dist[j] < np.inf
    return finite


@nb.njit(cache=True, nogil=True, inline="always")
def resolve_dists(block, r, out, xsq, centers, csq, consts, dist):
    """The exact nearest centre of ``block[r]`` from its products ``out[:, r]``.

    Materialises the approximate squared distances in ``dist`` (k,) with their
    error bound ``delta``; a row whose products overflowed gets exact
    distances and ``delta = 0``. Returns ``(j1, up, e1, delta)``: the nearest
    centre (near ties re-checked exactly, as :func:`resolve_row`), an upper
    bound on the squared distance to it, the best estimate of that distance
    (exact when re-checked), and ``delta`` (every ``dist[j]`` is within it of
    the exact value).
    """
    delta, d1 = approx_row(xsq, out[:, r], csq, consts, dist)
    if not _all_finite(dist, delta):  # an overflow says nothing: every distance exactly
        for j in range(csq.shape[0]):
            dist[j] = sq_dist_rows(block, r, centers, j)
        delta = 0.0
        d1 = _min8(dist)
    j1, e1, exact = resolve_row(block, r, centers, dist, delta, d1)
    up = e1 if exact else e1 + delta
    return j1, up, e1, delta


@nb.njit(cache=True, nogil=True)
def _near_tie(block, r, out, xsq, centers, csq, consts, dist):
    # The two nearest are within 2 delta (or a product overflowed):
    # materialise, re-check near ties exactly.
    j1, up, e1, delta = resolve_dists(block, r, out, xsq, centers, csq, consts, dist)
    return j1, up, min_except(dist, j1) - delta, e1


@nb.njit(cache=True, nogil=True, inline="always")
def _block_bounds(xsq, m, consts, m1, m2, tie, estimate):
    # Vectorisable part of resolve_block: squared-distance bounds for every
    # row, and a flag on rows whose two nearest are within 2 delta (or not
    # finite, or whose products could have overflowed).
    n_tie = 0
    c_max = consts[0]
    limit = consts[5]
    for r in range(m):
        x = xsq[r]
        delta = error_bound(x, consts)
        d1 = m1[r] + x
        d2 = m2[r] + x
        bad = not ((d2 - d1 > 2.0 * delta) & (d2 < np.inf) & (d1 > -np.inf)
                   & (np.sqrt(x) * c_max < limit))
        tie[r] = bad
        n_tie += bad
        m1[r] = d1 if estimate else d1 + delta
        m2[r] = d2 - delta
    return n_tie


@nb.njit(cache=True, nogil=True, inline="always")
def _block_bounds32(xsq, m, consts, f1, f2, g1, m1, m2, j1, tie, estimate):
    # _block_bounds from a float32 sweep's f1, f2, g1: the bounds widened by
    # sweep_error as well, into m1, m2, j1 (with estimate, m1 = the estimate)
    n_tie = 0
    c_max = consts[0]
    limit = consts[5]
    for r in range(m):
        x = xsq[r]
        delta = error_bound(x, consts) + sweep_error(x, consts)
        d1 = np.float64(f1[r]) + x
        d2 = np.float64(f2[r]) + x
        bad = not ((d2 - d1 > 2.0 * delta) & (d2 < np.inf) & (d1 > -np.inf)
                   & (np.sqrt(x) * c_max < limit))
        tie[r] = bad
        n_tie += bad
        m1[r] = d1 if estimate else d1 + delta
        m2[r] = d2 - delta
        j1[r] = g1[r]
    return n_tie


@nb.njit(cache=True, nogil=True)
def resolve_block(block, m, xsq, out, m1, m2, j1, tie, centers, csq, consts, dist,
                  estimate=False):
    """Exact nearest centres of the first ``m`` rows of a block from
    :func:`block_top2`'s results, in place.

    On return ``j1[r]`` is the exact nearest centre of ``block[r]`` (ties to
    the lowest index), ``m1[r]`` an upper bound on the squared distance to it
    and ``m2[r]`` a lower bound (possibly < 0) on the squared distance to any
    other centre; with ``estimate``, ``m1[r]`` is instead the best estimate of
    the squared distance (exact for re-checked rows). The bounds of all rows
    come from one vectorised loop; only rows whose two smallest approximations
    are within ``2 delta`` (or not finite) go through :func:`_near_tie`, which
    materialises their distances and re-checks near ties exactly (lowest index
    on ties, as :func:`sq_dist_rows`). Measured: resolving every row that way
    cost 1.5x the whole product-and-top-2 on 16 features.

    Parameters
    ----------
    block : IN (>= m, d); m : IN int; xsq : IN (>= m,) float64, the rows' squared norms
    out : IN (k, >= m) products (:func:`block_top2`)
    m1, m2 : INOUT (>= m,) float64; j1 : INOUT (>= m,) int64; tie : scratch (>= m,) bool
    centers : IN (k, d) float64; csq : IN (k,) float64; consts : IN (4,) float64
    dist : scratch (k,) float64
    """
    if _block_bounds(xsq, m, consts, m1, m2, tie, estimate) == 0:
        return
    _resolve_ties(block, m, xsq, out, m1, m2, j1, tie, centers, csq, consts, dist, estimate)


@nb.njit(cache=True, nogil=True, inline="always")
def _resolve_ties(block, m, xsq, out, m1, m2, j1, tie, centers, csq, consts, dist, estimate):
    # the flagged rows of a block: distances materialised from the products
    # in float64, near ties re-checked exactly
    for r in range(m):
        if tie[r]:
            j, up, lo, e1 = _near_tie(block, r, out, xsq[r], centers, csq, consts, dist)
            j1[r] = j
            m1[r] = e1 if estimate else up
            m2[r] = lo


@nb.njit(cache=True, nogil=True)
def scan_block(block, m, xsq, Cx, csq, consts, out, m1, m2, j1, tie, centers, dist, f1, f2,
               g1, T, estimate, copy):
    """The product of a block of rows with every centre, then its exact nearest
    centres with bounds (as :func:`resolve_block`, ``estimate`` likewise):
    through :func:`block_top2_f32` and :func:`_block_bounds32` when ``consts``
    allow a float32 sweep (float32 rows, ``coef4 > 0``), else
    :func:`block_top2`. ``f1``, ``f2`` (float32) and ``g1`` (int32) are (>= m,)
    scratch; ``T`` and ``copy`` those of :func:`block_products`. With ``estimate`` the
    float32 sweep's estimate is within ``delta`` plus :func:`sweep_error`."""
    if consts[4] > 0.0:
        block_top2_f32(block, Cx, csq, out, f1, f2, g1, T, copy)
        if _block_bounds32(xsq, m, consts, f1, f2, g1, m1, m2, j1, tie, estimate) == 0:
            return
        _resolve_ties(block, m, xsq, out, m1, m2, j1, tie, centers, csq, consts, dist,
                      estimate)
    else:
        block_top2(block, Cx, csq, out, m1, m2, j1, T, copy)
        resolve_block(block, m, xsq, out, m1, m2, j1, tie, centers, csq, consts, dist,
                      estimate)


@nb.njit(cache=True, nogil=True, inline="always")
def block_scratch(X, k):
    """Scratch of the block kernels: ``(br, out, m1, m2, j1, tie, dist, T)`` with
    ``br = block_rows(X)``, ``out`` (k, br) in X's dtype for the products,
    ``m1``/``m2``/``j1``/``tie`` (br,) for :func:`block_top2` /
    :func:`resolve_block`, ``dist`` (k,) for near ties, and ``T`` for
    :func:`block_products`: (d, br) -- the transposed copy -- within
    :data:`TRANSPOSED_MAX_FEATURES` and :data:`TRANSPOSED_MAX_CLUSTERS`, else
    (d, 0)."""
    br = block_rows(X)
    d = X.shape[1]
    nn = d <= TRANSPOSED_MAX_FEATURES and k <= TRANSPOSED_MAX_CLUSTERS
    return (br, np.empty((k, br), X.dtype), np.empty(br), np.empty(br),
            np.empty(br, np.int64), np.empty(br, np.bool_), np.empty(k),
            np.empty((d, br if nn else 0), X.dtype))


@nb.njit(cache=True, nogil=True, inline="always")
def sweep32_scratch(br):
    """Scratch of :func:`scan_block`'s float32 sweep: ``(f1, f2, g1)``, (br,)
    float32, float32, int32."""
    return np.empty(br, np.float32), np.empty(br, np.float32), np.empty(br, np.int32)
