"""clusterlab's own product loops, for the shapes where a BLAS call is slow.

``out = Cx @ rows.T`` for a block of rows and the centres, either over the
block transposed feature by feature (:func:`tile_products`) or, for few
centres on wide rows, over the rows themselves (:func:`narrow_products`).
:func:`clusterlab._kernels.gemm.blocks.product_kind` picks one of them or
BLAS. Each value is a sum of the same products in some order, so the error
bound of :mod:`clusterlab._kernels.gemm` holds as for BLAS's.
"""

import numba as nb

from clusterlab._kernels.distances import FASTMATH, prefetch_row

#: From this many bytes a row, :func:`narrow_products` reads the block's rows
#: once in order for its first five centres (one sequential stream, which the
#: hardware prefetcher follows) before the pairs of rows for the others.
NARROW_STREAM_MIN_ROW_BYTES = 2048


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def narrow_products(block, Cx, out):
    """``out[:, :m] = Cx @ block.T`` for a few centres, in registers: running
    sums over the features (vectorised: ``FASTMATH`` lets the sums be
    reassociated, never assumes finite values).

    Long rows (from :data:`NARROW_STREAM_MIN_ROW_BYTES`) with at least five
    centres: the first five centres row by row, in order (:func:`_stream5`),
    which reads the block from memory as one sequential stream, then the
    others by pairs of rows from cache (:func:`_pairs`). Otherwise pairs of
    rows for every centre, the next two rows prefetched (rows from memory:
    25 % faster on AVX2). Each value is a sum of the products in some order,
    so :func:`~.blocks.error_bound` holds as for BLAS's.

    One thread, blocks of 60000 x 784 float32 rows read from memory, 10
    centres (AVX-512, Zen 4): 0.25 us a row streamed first, 0.50 by pairs
    alone, 0.37 by OpenBLAS on the same blocks.

    Parameters
    ----------
    block : IN (m, d) C-contiguous rows
    Cx : IN (k, d) C-contiguous centres in the rows' dtype
    out : OUT (k, >= m)
    """
    if Cx.shape[0] >= 5 and block.shape[1] * block.itemsize >= NARROW_STREAM_MIN_ROW_BYTES:
        _stream5(block, Cx, out)
        _pairs(block, Cx, out, 5, False)
    else:
        _pairs(block, Cx, out, 0, True)


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def _stream5(block, Cx, out):
    # out[:5, :m], one row at a time in order: five sums in registers
    m, d = block.shape
    z = block.dtype.type(0)
    c0 = Cx[0]
    c1 = Cx[1]
    c2 = Cx[2]
    c3 = Cx[3]
    c4 = Cx[4]
    for r in range(m):
        x0 = block[r]
        a0 = a1 = a2 = a3 = a4 = z
        for f in range(d):
            p = x0[f]
            a0 += p * c0[f]
            a1 += p * c1[f]
            a2 += p * c2[f]
            a3 += p * c3[f]
            a4 += p * c4[f]
        out[0, r] = a0
        out[1, r] = a1
        out[2, r] = a2
        out[3, r] = a3
        out[4, r] = a4


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def _pairs(block, Cx, out, first, prefetch):
    # out[first:, :m], two rows by five centres at a time (ten sums in
    # registers), the rest of the centres one at a time
    m, d = block.shape
    k = Cx.shape[0]
    z = block.dtype.type(0)
    for r in range(0, m - 1, 2):
        if prefetch and r + 3 < m:
            prefetch_row(block, r + 2)
            prefetch_row(block, r + 3)
        x0 = block[r]
        x1 = block[r + 1]
        j = first
        while j + 5 <= k:
            c0 = Cx[j]
            c1 = Cx[j + 1]
            c2 = Cx[j + 2]
            c3 = Cx[j + 3]
            c4 = Cx[j + 4]
            a0 = a1 = a2 = a3 = a4 = b0 = b1 = b2 = b3 = b4 = z
            for f in range(d):
                p = x0[f]
                q = x1[f]
                a0 += p * c0[f]
                a1 += p * c1[f]
                a2 += p * c2[f]
                a3 += p * c3[f]
                a4 += p * c4[f]
                b0 += q * c0[f]
                b1 += q * c1[f]
                b2 += q * c2[f]
                b3 += q * c3[f]
                b4 += q * c4[f]
            out[j, r] = a0
            out[j + 1, r] = a1
            out[j + 2, r] = a2
            out[j + 3, r] = a3
            out[j + 4, r] = a4
            out[j, r + 1] = b0
            out[j + 1, r + 1] = b1
            out[j + 2, r + 1] = b2
            out[j + 3, r + 1] = b3
            out[j + 4, r + 1] = b4
            j += 5
        while j < k:
            c0 = Cx[j]
            a0 = b0 = z
            for f in range(d):
                a0 += x0[f] * c0[f]
                b0 += x1[f] * c0[f]
            out[j, r] = a0
            out[j, r + 1] = b0
            j += 1
    if m % 2:
        x0 = block[m - 1]
        for j in range(first, k):
            c0 = Cx[j]
            a0 = z
            for f in range(d):
                a0 += x0[f] * c0[f]
            out[j, m - 1] = a0


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def tile_products(Cx, T, m, out):
    """``out[:, :m] = Cx @ T[:, :m]`` for ``T`` a transposed block (d, >= m):
    four centres by four features at a time, over the block's contiguous rows
    (vectorised over rows; each value of ``out`` is loaded and stored once per
    four features, not per feature).

    Measured on one thread against BLAS on the same transposed blocks of 256
    rows (AVX2, OpenBLAS): float32 2.7-4.7x faster at 4-8 centres, 1.9-2.1x
    at 16, 1.25-1.4x at 64, 1.0-1.3x at 256 (8-64 features); float64
    1.9-5.2x at 4-8, 1.3-1.7x at 64-100. Each value is a sum of the products
    in some order, so :func:`~.blocks.error_bound` holds as for BLAS's.

    Parameters
    ----------
    Cx : IN (k, d) C-contiguous centres in T's dtype
    T : IN (d, >= m) C-contiguous, the block's rows transposed
    m : IN int, the rows of the block
    out : OUT (k, >= m), its first ``m`` columns
    """
    k, d = Cx.shape
    z = T.dtype.type(0)
    j = 0
    while j + 4 <= k:
        o0 = out[j]
        o1 = out[j + 1]
        o2 = out[j + 2]
        o3 = out[j + 3]
        for r in range(m):
            o0[r] = z
            o1[r] = z
            o2[r] = z
            o3[r] = z
        for f in range(0, d, 4):
            # four features (fewer at the end: zero coefficients)
            T0, T1, T2, T3 = _four_rows(T, f, d)
            a0, a1, a2, a3 = _four(Cx[j], f, d)
            b0, b1, b2, b3 = _four(Cx[j + 1], f, d)
            c0, c1, c2, c3 = _four(Cx[j + 2], f, d)
            e0, e1, e2, e3 = _four(Cx[j + 3], f, d)
            for r in range(m):
                t0 = T0[r]
                t1 = T1[r]
                t2 = T2[r]
                t3 = T3[r]
                o0[r] += a0 * t0 + a1 * t1 + a2 * t2 + a3 * t3
                o1[r] += b0 * t0 + b1 * t1 + b2 * t2 + b3 * t3
                o2[r] += c0 * t0 + c1 * t1 + c2 * t2 + c3 * t3
                o3[r] += e0 * t0 + e1 * t1 + e2 * t2 + e3 * t3
        j += 4
    for j in range(j, k):  # the last centres one by one
        o0 = out[j]
        for r in range(m):
            o0[r] = z
        for f in range(0, d, 4):
            T0, T1, T2, T3 = _four_rows(T, f, d)
            a0, a1, a2, a3 = _four(Cx[j], f, d)
            for r in range(m):
                o0[r] += a0 * T0[r] + a1 * T1[r] + a2 * T2[r] + a3 * T3[r]


@nb.njit(cache=True, nogil=True, inline="always")
def _four_rows(T, f, d):
    """Rows ``f .. f + 3`` of ``T``, the last row again past ``d`` (read with a
    zero coefficient, :func:`_four`)."""
    return T[f], T[min(f + 1, d - 1)], T[min(f + 2, d - 1)], T[min(f + 3, d - 1)]


@nb.njit(cache=True, nogil=True, inline="always")
def _four(c, f, d):
    """``c[f:f + 4]``, zeros past ``d``."""
    z = c.dtype.type(0)
    return (c[f], c[f + 1] if f + 1 < d else z, c[f + 2] if f + 2 < d else z,
            c[f + 3] if f + 3 < d else z)
