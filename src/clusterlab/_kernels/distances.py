"""Distance kernels: squared Euclidean distances between rows and centres.

All kernels are plain numba functions on C-contiguous arrays; they never
validate their inputs. Rows ``X`` may be float32 or float64; centres are
usually float64 (the estimators keep centres in float64 while iterating) but
any float dtype works (numba specialises lazily). Distances are always
accumulated in float64, directly as ``sum((x - c) ** 2)``: no norms trick,
so no cancellation on uncentred data and no need to copy/centre ``X``.

Arguments are marked IN (read), OUT (written) or INOUT (read and written).
Row ranges are half-open ``[start, stop)``.
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import intrinsic

# Reassociation lets LLVM vectorise the per-feature reduction; we avoid the
# 'nnan'/'ninf' flags so NaN/inf would still propagate (inputs are validated
# upstream anyway).
FASTMATH = {"reassoc", "contract", "nsz", "arcp"}


@intrinsic
def prefetch_row(typingctx, arr, row):
    """``prefetch_row(arr, row)``: ask the CPU to bring the bytes of
    ``arr[row]`` (a row of a C-contiguous 2-D array, or one item of a 1-D
    array) into cache, one prefetch instruction per 64-byte line it touches
    (a 64-byte row that does not start on a line boundary touches two); no
    effect on results.

    For kernels that read some rows and skip others (the bound tests of
    Elkan): the hardware prefetcher does not run ahead of such a pattern, and
    a row read only after its bound test stalls for memory. Prefetching the
    row two ahead overlaps that wait with the current row's arithmetic
    (MNIST-shaped Elkan E-step: 8.2 -> 5.2 ms, see docs/kmeans.md).
    """
    if not (isinstance(arr, types.Array) and arr.ndim in (1, 2)
            and isinstance(row, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        ary = context.make_array(sig.args[0])(context, builder, args[0])
        i64 = ir.IntType(64)
        i32 = ir.IntType(32)
        i8p = ir.IntType(8).as_pointer()
        stride = builder.extract_value(ary.strides, 0)
        first = builder.add(builder.ptrtoint(ary.data, i64),
                            builder.mul(context.cast(builder, args[1], sig.args[1], types.intp),
                                        stride))
        nbytes = stride if sig.args[0].ndim == 2 else ary.itemsize
        # from the line holding the first byte to the one holding the last
        start = builder.and_(first, ir.Constant(i64, ~63))
        span = builder.sub(builder.add(first, nbytes), start)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        zero = context.get_constant(types.intp, 0)
        line = context.get_constant(types.intp, 64)
        with cgutils.for_range_slice(builder, zero, span, line) as (off, _):
            ptr = builder.inttoptr(builder.add(start, off), i8p)
            # read access, keep in all cache levels, data cache
            builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(arr, row), codegen


@nb.njit(cache=True, nogil=True)
def _max_masked(u, mask):
    # max over i of (u[i] & mask): an integer max, vectorised without any
    # fast-math flag (the loop runs from 0 on its own slice: with a variable
    # start, numba's negative-index check kept it scalar, 5x slower)
    m = mask ^ mask
    for i in range(u.shape[0]):
        e = u[i] & mask
        m = e if e > m else m
    return m


@parallel_kernel(cache=True, nogil=True)
def _max_exponent_bits(u, mask, n_groups):
    n = u.shape[0]
    part = np.zeros(n_groups, u.dtype)
    for g in nb.prange(n_groups):
        part[g] = _max_masked(u[g * n // n_groups:(g + 1) * n // n_groups], mask)
    m = part[0]  # (a loop: numba's np.max costs ~0.4 s more to compile)
    for g in range(1, n_groups):
        m = part[g] if part[g] > m else m
    return m


def all_finite_flat(a, n_groups=16):
    """Whether every value of the contiguous 1-D float array ``a`` is finite,
    from one parallel pass over its bits: a float is NaN or infinite exactly
    when its exponent bits are all ones. (A float sum of ``v - v`` would say
    the same, but LLVM folds ``v - v`` to 0 under reassociation.)

    Parameters
    ----------
    a : IN (n,) float32/float64, C-contiguous
    n_groups : IN int, row groups run on numba's threads

    Returns
    -------
    bool
    """
    if a.dtype == np.float32:
        u, mask = a.view(np.uint32), np.uint32(0x7F800000)
    else:
        u, mask = a.view(np.uint64), np.uint64(0x7FF0000000000000)
    return bool(_max_exponent_bits(u, mask, n_groups) < mask)


def abs_max_bound(a, n_groups=16):
    """A power of two above ``max |a|`` (within a factor 2), from the same
    parallel pass over the exponent bits as :func:`all_finite_flat`.

    Parameters
    ----------
    a : IN float32/float64 array, finite values (any shape; copied if not
        C-contiguous)
    n_groups : IN int

    Returns
    -------
    float
    """
    return finite_and_bound(a, n_groups)[1]


def finite_and_bound(a, n_groups=16):
    """``(all finite, bound)`` from one parallel pass over the exponent bits:
    :func:`all_finite_flat` and :func:`abs_max_bound` together (the bound is
    +inf when a value is not finite).

    Parameters
    ----------
    a : IN float32/float64 array (any shape; copied if not C-contiguous)
    n_groups : IN int

    Returns
    -------
    (bool, float)
    """
    a = np.ascontiguousarray(a).reshape(-1)
    if a.dtype == np.float32:
        u, mask, shift, bias = a.view(np.uint32), np.uint32(0x7F800000), 23, 127
    else:
        u, mask, shift, bias = a.view(np.uint64), np.uint64(0x7FF0000000000000), 52, 1023
    if u.shape[0] == 0:
        return True, 0.0
    bits = _max_exponent_bits(u, mask, n_groups)
    if bits >= mask:
        return False, float("inf")
    # a value with biased exponent e is below 2^(e - bias + 1); subnormals
    # (e = 0) below 2^(1 - bias); float64 values from 2^1023 on: inf
    power = max(int(bits) >> shift, 1) - bias + 1
    return True, (2.0 ** power if power <= 1023 else float("inf"))


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def row_sq_norm(X, i):
    """``||X[i]||^2`` summed in float64 (vectorised: a plain function keeps its
    own fastmath flags wherever it is called)."""
    acc = 0.0
    for f in range(X.shape[1]):
        v = np.float64(X[i, f])
        acc += v * v
    return acc


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def sq_dist_rows(A, i, B, j):
    """Squared Euclidean distance between ``A[i]`` and ``B[j]``, in float64.

    Parameters
    ----------
    A : IN ndarray (n_a, d), float32/float64, C-contiguous
    i : IN int, row of ``A``
    B : IN ndarray (n_b, d), float32/float64, C-contiguous
    j : IN int, row of ``B``

    Returns
    -------
    float64
    """
    acc = 0.0
    for f in range(A.shape[1]):
        diff = np.float64(A[i, f]) - np.float64(B[j, f])
        acc += diff * diff
    return acc


@nb.njit(cache=True, nogil=True, inline="always")
def per_centre(k, d):
    """Whether a row's distances to ``k`` centres in ``d`` features are summed
    one centre at a time (:func:`sq_dist_rows`) rather than four at a time:
    below 4 centres, and below 8 in at most 32 features, where the blocked
    loop's set-up costs more than it shares (measured, Lloyd's pass at 16
    features: k=4 27 -> 16 ns a row, k=8 33 -> 23 ns; at 64 features k=8
    loses, 62 -> 71 ns)."""
    return k < 4 or (k < 8 and d <= 32)


@nb.njit(cache=True, nogil=True, fastmath=FASTMATH)
def sq_dist_row_to_all(A, i, B, out):
    """Squared distances from ``A[i]`` to every row of ``B``, in float64, register-blocked.

    Four rows of ``B`` at a time share each load of ``A[i, f]`` (the inner loop
    over features stays contiguous, so LLVM vectorises it); about 20 % faster
    than four calls of :func:`sq_dist_rows` on long rows or many centres. The
    values may then differ from :func:`sq_dist_rows` in the last bits
    (summation order), never more. Where :func:`per_centre` says so (few
    centres, short rows) every distance is :func:`sq_dist_rows`'s.

    Parameters
    ----------
    A : IN ndarray (n_a, d), float32/float64, C-contiguous
    i : IN int, row of ``A``
    B : IN ndarray (n_b, d), float32/float64, C-contiguous
    out : OUT ndarray (n_b,) float64
    """
    k, d = B.shape
    j = np.int64(0)  # a literal 0 would compile sq_dist_rows once more, for Literal[int](0)
    if per_centre(k, d):
        while j < k:
            out[j] = sq_dist_rows(A, i, B, j)
            j += 1
        return
    while j < k:
        # the last block repeats the last centre: every distance comes from the
        # same four-lane loop, so equal centres get equal distances and a tie
        # goes to the lowest index (a tail summed by sq_dist_rows, in another
        # order, gave a later duplicate a smaller value in the last bit)
        j1 = min(j + 1, k - 1)
        j2 = min(j + 2, k - 1)
        j3 = min(j + 3, k - 1)
        a0 = 0.0
        a1 = 0.0
        a2 = 0.0
        a3 = 0.0
        for f in range(d):
            x = np.float64(A[i, f])
            t0 = x - np.float64(B[j, f])
            t1 = x - np.float64(B[j1, f])
            t2 = x - np.float64(B[j2, f])
            t3 = x - np.float64(B[j3, f])
            a0 += t0 * t0
            a1 += t1 * t1
            a2 += t2 * t2
            a3 += t3 * t3
        out[j] = a0
        out[j1] = a1
        out[j2] = a2
        out[j3] = a3
        j += 4


@nb.njit(cache=True, nogil=True)
def nearest_center_range(X, centers, start, stop, labels, min_sq_dist):
    """Label rows ``[start, stop)`` of ``X`` with their nearest centre (serial).

    Ties go to the lowest centre index (as scikit-learn's Lloyd).

    Parameters
    ----------
    X : IN ndarray (n, d) float32/float64
    centers : IN ndarray (k, d) float
    start, stop : IN int, row range
    labels : OUT ndarray (n,) int32, rows ``[start, stop)`` written
    min_sq_dist : OUT ndarray (n,) float64, squared distance to that centre
    """
    dists = np.empty(centers.shape[0])
    for i in range(start, stop):
        best, best_d = nearest_of_row(X, i, centers, dists)
        labels[i] = best
        min_sq_dist[i] = best_d


@nb.njit(cache=True, nogil=True, inline="always")
def nearest_of_row(X, i, centers, dists):
    """``(j, d2)``: the centre nearest to row ``i`` (the lowest index on ties) and
    its squared distance; ``dists`` (k,) is scratch.

    The distances are :func:`sq_dist_row_to_all`'s. Where :func:`per_centre`
    says so they never go through ``dists`` (all come from
    :func:`sq_dist_rows` there) and the minimum is a select, not a branch,
    which overlapping clusters mispredict often (Lloyd's pass, 16 features,
    float32: k=2 24 -> 11 ns a row, k=4 27 -> 16 ns). With more centres a
    select would chain every centre's compare into one dependency, so the
    minimum stays a branch.
    """
    best = 0
    best_d = np.inf
    k = centers.shape[0]
    if per_centre(k, X.shape[1]):
        for j in range(k):
            best, best_d = _closer(sq_dist_rows(X, i, centers, j), j, best, best_d)
        return best, best_d
    sq_dist_row_to_all(X, i, centers, dists)
    for j in range(k):  # a branch: a select chains every centre's compare
        dist = dists[j]
        if dist < best_d:
            best_d = dist
            best = j
    return best, best_d


@nb.njit(cache=True, nogil=True, inline="always")
def _closer(v, j, best, best_d):
    # (index, value) of the smaller of (j, v) and (best, best_d); strict <, so
    # ties keep the lower index, and a NaN never wins
    better = v < best_d
    return (j if better else best), (v if better else best_d)


@parallel_kernel(cache=True, nogil=True)
def _nearest_center_parallel(X, centers, chunk, labels, min_sq_dist):
    n = X.shape[0]
    n_chunks = (n + chunk - 1) // chunk
    for c in nb.prange(n_chunks):
        start = c * chunk
        stop = min(start + chunk, n)
        nearest_center_range(X, centers, start, stop, labels, min_sq_dist)


def nearest_center(X, centers, chunk, labels, min_sq_dist):
    """Chunked, parallel "assign each row to its nearest centre".

    Rows are cut into chunks of ``chunk`` rows processed in parallel
    (``prange``); each row's result depends only on that row, so the output
    is the same for every thread count.

    Parameters
    ----------
    X : IN ndarray (n, d) float32/float64
    centers : IN ndarray (k, d) float
    chunk : IN int, rows per parallel task (``_config.chunk_rows``)
    labels : OUT ndarray (n,) int32
    min_sq_dist : OUT ndarray (n,) float64

    Notes
    -----
    Time O(n k d), memory O(1) beyond the outputs. A Python dispatcher, so the
    parallel kernel is compiled only when a call needs it.
    """
    if X.shape[0] <= chunk:
        nearest_center_range(X, centers, 0, X.shape[0], labels, min_sq_dist)
    else:
        _nearest_center_parallel(X, centers, chunk, labels, min_sq_dist)


@nb.njit(cache=True, nogil=True)
def _pairwise_sq_dist_range(X, centers, start, stop, out):
    for i in range(start, stop):
        for j in range(centers.shape[0]):
            out[i, j] = sq_dist_rows(X, i, centers, j)


@parallel_kernel(cache=True, nogil=True)
def _pairwise_sq_dist_parallel(X, centers, chunk, out):
    n = X.shape[0]
    for c in nb.prange((n + chunk - 1) // chunk):
        _pairwise_sq_dist_range(X, centers, c * chunk, min(n, (c + 1) * chunk), out)


def pairwise_sq_dist(X, centers, out, parallel=True, chunk=1024):
    """All squared distances between rows of ``X`` and ``centers``.

    Parameters
    ----------
    X : IN ndarray (n, d) float32/float64
    centers : IN ndarray (k, d) float
    out : OUT ndarray (n, k) float32/float64
    parallel : IN bool, default True, rows in parallel chunks (same result either way);
        a Python dispatcher, so the parallel kernel is compiled only when used
    chunk : IN int, rows per parallel task

    Notes
    -----
    Time O(n k d); the caller owns the O(n k) output (``transform``).
    """
    if parallel and X.shape[0] > chunk:
        _pairwise_sq_dist_parallel(X, centers, chunk, out)
    else:
        _pairwise_sq_dist_range(X, centers, 0, X.shape[0], out)


@nb.njit(cache=True, nogil=True)
def center_distances(centers, cc, half_min):
    """Euclidean distances between centres, and half the distance to the nearest other centre.

    Parameters
    ----------
    centers : IN ndarray (k, d) float
    cc : OUT ndarray (k, k) float64, ``cc[a, b] = ||c_a - c_b||``
    half_min : OUT ndarray (k,) float64, ``0.5 * min_{b != a} cc[a, b]``
        (``inf`` when k == 1)

    Notes
    -----
    Time O(k^2 d), memory O(k^2) (the output).
    """
    k = centers.shape[0]
    for a in range(k):
        cc[a, a] = 0.0
        for b in range(a + 1, k):
            v = np.sqrt(sq_dist_rows(centers, a, centers, b))
            cc[a, b] = v
            cc[b, a] = v
    for a in range(k):
        m = np.inf
        for b in range(k):
            if b != a and cc[a, b] < m:
                m = cc[a, b]
        half_min[a] = 0.5 * m


@nb.njit(cache=True, nogil=True)
def center_half_min(centers, half_min):
    """Half the distance from each centre to its nearest other centre (Hamerly's bound).

    Parameters
    ----------
    centers : IN ndarray (k, d) float
    half_min : OUT ndarray (k,) float64 (``inf`` when k == 1); the same values as
        :func:`center_distances` gives

    Notes
    -----
    Time O(k^2 d / 2), memory O(1): no k x k matrix.
    """
    k = centers.shape[0]
    half_min[:] = np.inf
    for a in range(k):
        for b in range(a + 1, k):
            v = np.sqrt(sq_dist_rows(centers, a, centers, b))
            if v < half_min[a]:
                half_min[a] = v
            if v < half_min[b]:
                half_min[b] = v
    for a in range(k):
        half_min[a] *= 0.5


# ----------------------------------------------------------------------------
# Sparse CSR rows: ||x||^2 - 2 x.c + ||c||^2, accumulated in float64.


@nb.njit(cache=True, nogil=True)
def csr_sq_dist_row(data, indices, indptr, x_sq_norms, i, centers, c_sq_norms, j):
    """Squared distance between CSR row ``i`` and ``centers[j]`` (float64, clipped at 0).

    Parameters
    ----------
    data, indices, indptr : IN CSR arrays of X (n, d)
    x_sq_norms : IN ndarray (n,) float64, squared row norms of X
    i : IN int
    centers : IN ndarray (k, d) float
    c_sq_norms : IN ndarray (k,) float64, squared norms of the centres
    j : IN int
    """
    dot = 0.0
    for p in range(indptr[i], indptr[i + 1]):
        dot += np.float64(data[p]) * np.float64(centers[j, indices[p]])
    dist = x_sq_norms[i] - 2.0 * dot + c_sq_norms[j]
    return dist if dist > 0.0 else 0.0


@parallel_kernel(cache=True, nogil=True)
def csr_pairwise_sq_dist(data, indices, indptr, x_sq_norms, centers, c_sq_norms, out):
    """All squared distances between CSR rows and ``centers``.

    Parameters
    ----------
    data, indices, indptr : IN CSR arrays of X (n, d)
    x_sq_norms : IN ndarray (n,) float64
    centers : IN ndarray (k, d) float
    c_sq_norms : IN ndarray (k,) float64
    out : OUT ndarray (n, k) float32/float64
    """
    n = indptr.shape[0] - 1
    k = centers.shape[0]
    for i in nb.prange(n):
        for j in range(k):
            out[i, j] = csr_sq_dist_row(data, indices, indptr, x_sq_norms, i, centers,
                                        c_sq_norms, j)


@nb.njit(cache=True, nogil=True)
def csr_row_sq_norms(data, indptr, out):
    """Squared norms of CSR rows (float64).

    Parameters
    ----------
    data, indptr : IN CSR arrays
    out : OUT ndarray (n,) float64
    """
    for i in range(indptr.shape[0] - 1):
        acc = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            v = np.float64(data[p])
            acc += v * v
        out[i] = acc


@nb.njit(cache=True, nogil=True)
def dense_row_sq_norms(C, out):
    """Squared norms of dense rows (float64).

    Parameters
    ----------
    C : IN ndarray (k, d) float
    out : OUT ndarray (k,) float64
    """
    for j in range(C.shape[0]):
        acc = 0.0
        for f in range(C.shape[1]):
            v = np.float64(C[j, f])
            acc += v * v
        out[j] = acc


@nb.njit(cache=True, nogil=True, inline="always")
def add_row(X, sample_weight, i, j, sums, weights, counts):
    """Add row ``i``'s contribution to cluster ``j``'s weighted sums, weight and
    non-zero-weight count (the K-Means M-step statistics). Branch-free: with
    ``if w != 0.0: counts[j] += 1`` the loops calling it ran 40 ns per row
    instead of 2.7 (2000 x 2; measured with numba 0.59)."""
    w = np.float64(sample_weight[i])
    counts[j] += w != 0.0
    weights[j] += w
    for f in range(X.shape[1]):
        sums[j, f] += w * X[i, f]


@nb.njit(cache=True, nogil=True, inline="always")
def move_row(X, sample_weight, i, b, a, sums, weights, counts):
    """Move row ``i``'s contribution from cluster ``b`` to cluster ``a`` (the
    statistics of :func:`add_row`; a zero-weight row moves only zeros, which
    leave every sum as it is). Branch-free, as :func:`add_row`."""
    w = np.float64(sample_weight[i])
    nz = w != 0.0
    counts[b] -= nz
    counts[a] += nz
    weights[b] -= w
    weights[a] += w
    for f in range(X.shape[1]):
        v = w * X[i, f]
        sums[b, f] -= v
        sums[a, f] += v
