"""Affinity-propagation kernels: in-place message updates, parallel over rows.

The three n x n matrices are the similarities ``S`` (preferences on the
diagonal), the responsibilities ``R`` and the availabilities ``A``; ``A`` and
``R`` share one dtype (float64, or float32 when S is float32), ``S`` is
read only. Each update is done in place, row by row (or by column blocks for
the column sums), with the same floating-point operations in the same order
as scikit-learn's vectorised updates, so that the messages agree bit for bit
in float64 (column sums are accumulated down the rows, as numpy's
``sum(axis=0)``; damping is ``old * damping + new * (1 - damping)``).
"""

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic
from clusterlab._kernels.row_groups import parallel_kernel

_JIT = dict(cache=True, nogil=True)

@intrinsic
def _fmax(typingctx, a, b):
    """``max(a, b)`` of two floats of one type as LLVM's ``maxnum``.

    Unlike a compare-and-select, LLVM vectorises a reduction over
    ``maxnum`` (the row maxima below run 8 doubles a step with AVX-512);
    the value is the same (inputs are never NaN; of -0.0 and +0.0 either
    may be returned, which no comparison tells apart).
    """
    if not (isinstance(a, types.Float) and a == b):
        return None

    def codegen(context, builder, sig, args):
        t = args[0].type
        fn = builder.module.declare_intrinsic("llvm.maxnum", [t], ir.FunctionType(t, [t, t]))
        return builder.call(fn, args)

    return a(a, b), codegen


@njit(**_JIT)
def _row_max(v, lo, hi):
    """Largest of ``v[lo:hi]`` (-inf when empty). v : (n,) float, IN."""
    if hi <= lo:
        return -np.inf
    m = v[lo]
    for k in range(lo + 1, hi):
        m = _fmax(m, v[k])
    return m


@njit(**_JIT)
def _first_equal(v, x):
    """First k with ``v[k] == x`` (n when none), as a vectorisable min-reduction."""
    n = v.shape[0]
    j = n
    for k in range(n):
        c = k if v[k] == x else n
        j = c if c < j else j
    return j


@parallel_kernel(**_JIT)
def ap_iteration(S, A, R, colsum, damping, update_a, partial):
    """One fused pass: availabilities of the last iteration, then responsibilities.

    Per row i (rows split into ``P = partial.shape[0]`` contiguous parts, one
    task each, rows in order inside a part):

    1. unless ``update_a`` is False (first iteration), finish the previous
       iteration's availability update from its column sums ``colsum``
       (writing ``A[i] + S[i]`` to a scratch row in the same sweep):
       ``A[i, k] <- damping * A[i, k] - (1 - damping) * max(0, max(R[i, k], 0)
       - colsum[k])`` for i != k, ``A[k, k] <- damping * A[k, k] - (1 -
       damping) * (R[k, k] - colsum[k])``;
    2. the responsibility update ``R[i, k] <- damping * R[i, k] + (1 - damping)
       * (S[i, k] - max_{k' != k} (A[i, k'] + S[i, k']))``;
    3. add the row's ``max(R[i, k], 0)`` (``R[i, i]`` on the diagonal) to the
       part's column sums ``partial[p]``.

    The caller adds the parts in order (``partial.sum(axis=0)``) to get the
    next column sums; with one part this is numpy's ``sum(axis=0)`` bit for
    bit. Each row of A, R and S is read from memory once (the later sweeps
    of the row hit the cache): five streams of n^2 values per iteration
    (read S, read and write A and R) instead of about thirty for
    whole-matrix numpy updates. Every sweep is branch-free so that it
    vectorises: the row maximum of ``A[i] + S[i]`` (first index on ties),
    the largest of the others (two vectorised maxima around that index),
    then the responsibilities with the maximum everywhere and the one entry
    at the argmax redone with the runner-up (its column-sum share, and the
    diagonal's unclipped share, are fixed from values saved before the
    sweep, so each partial sum still gets exactly one addition per row).

    S : (n, n) float32/float64, IN; A, R : (n, n) float (one dtype), INOUT;
    colsum : (n,) float, IN; damping : float; update_a : bool;
    partial : (P, n) float, OUT.
    """
    n = S.shape[0]
    n_parts = partial.shape[0]
    keep = 1.0 - damping
    for p in prange(n_parts):
        lo = p * n // n_parts
        hi = (p + 1) * n // n_parts
        acc = partial[p]
        for k in range(n):
            acc[k] = 0.0
        tmp = np.empty(n, dtype=A.dtype)
        for i in range(lo, hi):
            a = A[i]
            r = R[i]
            s = S[i]
            if update_a:
                # availabilities of the last iteration, and A[i] + S[i] in the same sweep
                a_ii = a[i] * damping - (r[i] - colsum[i]) * keep
                for k in range(n):
                    v = r[k]
                    if v < 0.0:
                        v = 0.0
                    t = v - colsum[k]
                    if t < 0.0:
                        t = 0.0
                    a[k] = a[k] * damping - t * keep
                    tmp[k] = a[k] + s[k]  # the stored value (float32 messages)
                a[i] = a_ii
                tmp[i] = a[i] + s[i]
            else:
                for k in range(n):
                    tmp[k] = a[k] + s[k]
            best = _row_max(tmp, np.int64(0), n)
            arg = _first_equal(tmp, best)
            second = max(_row_max(tmp, np.int64(0), arg), _row_max(tmp, arg + 1, n))
            r_arg = r[arg]
            acc_arg = acc[arg]
            acc_i = acc[i]
            # responsibilities, and this row's share of the next column sums
            for k in range(n):
                r[k] = r[k] * damping + (s[k] - best) * keep
                v = r[k]
                if v < 0.0:
                    v = 0.0
                acc[k] += v
            r[arg] = r_arg * damping + (s[arg] - second) * keep
            if arg != i:
                v = r[arg]
                if v < 0.0:
                    v = 0.0
                acc[arg] = acc_arg + v
            acc[i] = acc_i + r[i]


@parallel_kernel(**_JIT)
def ap_nearest_exemplar(S, exemplars, c):
    """``c[i] = argmax_k S[i, exemplars[k]]`` (first maximum), then ``c[exemplars[k]] = k``.

    S : (n, n) float, IN; exemplars : (K,) int64, IN, K >= 1; c : (n,) int64, OUT.
    """
    n = S.shape[0]
    K = exemplars.shape[0]
    for i in prange(n):
        best = S[i, exemplars[0]]
        arg = 0
        for k in range(1, K):
            v = S[i, exemplars[k]]
            if v > best:
                best = v
                arg = k
        c[i] = arg
    for k in range(K):
        c[exemplars[k]] = k


@parallel_kernel(**_JIT)
def ap_refine_exemplars(S, members, starts, exemplars):
    """Make each cluster's exemplar its member of largest summed similarity.

    For cluster k (members ``members[starts[k]:starts[k + 1]]``, ascending),
    ``exemplars[k]`` becomes the member j maximising ``sum_{i in members}
    S[i, j]`` (first maximum; summed down the members in S's dtype, as numpy).

    S : (n, n) float, IN; members : (n,) int64, IN; starts : (K + 1,) int64, IN;
    exemplars : (K,) int64, OUT.  Scratch: one float array per cluster.
    """
    K = starts.shape[0] - 1
    for k in prange(K):
        lo = starts[k]
        hi = starts[k + 1]
        m = hi - lo
        acc = np.zeros(m, dtype=S.dtype)
        for a in range(lo, hi):
            i = members[a]
            for b in range(m):
                acc[b] += S[i, members[lo + b]]
        best = 0
        for b in range(1, m):
            if acc[b] > acc[best]:
                best = b
        exemplars[k] = members[lo + best]


@njit(**_JIT)
def ap_offdiagonal_all_equal(S):
    """True when every off-diagonal entry of the (n, n) matrix S is equal (IN)."""
    n = S.shape[0]
    if n < 2:
        return True
    ref = S[0, 1]
    for i in range(n):
        for k in range(n):
            if i != k and S[i, k] != ref:
                return False
    return True


@parallel_kernel(**_JIT)
def ap_negate_squared_distances(G, norms):
    """Turn the Gram matrix into -||x_i - x_k||^2 in place, as scikit-learn.

    ``G[i, k] <- -max((G[i, k] * -2 + norms[i]) + norms[k], 0)`` and ``-0.0``
    on the diagonal: the operations, in the order, of ``euclidean_distances(X,
    squared=True)`` (``-2 * XX^T``, add the row norms, then the column norms,
    clip at 0, zero diagonal) followed by the negation, in one sweep.

    G : (n, n) float64, INOUT; norms : (n,) float64, IN.
    """
    n = G.shape[0]
    for i in prange(n):
        g = G[i]
        ni = norms[i]
        for k in range(n):
            x = (g[k] * -2.0 + ni) + norms[k]
            if x < 0.0:
                x = 0.0
            g[k] = -x
        g[i] = -0.0


@parallel_kernel(**_JIT)
def ap_add_noise(S, lo, Z, eps, tiny):
    """``S[lo + j] += (eps * S[lo + j] + tiny) * Z[j]`` for each row j of Z, in place.

    scikit-learn's tie-breaking noise with numpy's types: ``eps * S + tiny``
    in S's dtype, the product with the float64 normals and the sum in
    float64, rounded once into S.

    S : (n, n) float32/float64, INOUT; lo : int; Z : (m, n) float64, IN;
    eps, tiny : scalars of S's dtype.
    """
    n = S.shape[1]
    for j in prange(Z.shape[0]):
        s = S[lo + j]
        z = Z[j]
        for k in range(n):
            s[k] = s[k] + (eps * s[k] + tiny) * z[k]


@parallel_kernel(**_JIT)
def ap_count_range(S, lo_v, hi_v, below, inside):
    """Per row i: ``below[i]`` = #{k: S[i, k] < lo_v}, ``inside[i]`` = #{k: lo_v <= S[i, k] <= hi_v}.

    S : (n, m) float, IN; lo_v, hi_v : float; below, inside : (n,) int64, OUT.
    """
    for i in prange(S.shape[0]):
        b = 0
        c = 0
        s = S[i]
        for k in range(S.shape[1]):
            x = s[k]
            b += x < lo_v
            c += (x >= lo_v) & (x <= hi_v)
        below[i] = b
        inside[i] = c


@parallel_kernel(**_JIT)
def ap_gather_range(S, lo_v, hi_v, offsets, out):
    """Copy row i's entries in ``[lo_v, hi_v]`` to ``out[offsets[i]:]`` (row order).

    S : (n, m) float, IN; offsets : (n,) int64, IN (from ap_count_range's
    ``inside``); out : (total,) S's dtype, OUT.
    """
    for i in prange(S.shape[0]):
        j = offsets[i]
        s = S[i]
        for k in range(S.shape[1]):
            x = s[k]
            if x >= lo_v and x <= hi_v:
                out[j] = x
                j += 1


@njit(**_JIT)
def ap_polar_normals(U, out, j, cached):
    """numpy's legacy standard normals (``RandomState.standard_normal``) from its uniforms.

    The polar method of numpy's ``legacy_gauss``, operation by operation:
    each pair ``(u1, u2)`` of U gives ``x1 = 2 u1 - 1``, ``x2 = 2 u2 - 1``,
    ``r2 = x1^2 + x2^2``; a pair with ``r2 >= 1`` or ``r2 == 0`` is skipped,
    otherwise ``f = sqrt(-2 log(r2) / r2)`` and the pair yields ``f * x2``
    then ``f * x1`` (which numpy caches for its next call). Fed with
    ``random_sample`` of the same generator, the normals are numpy's bit for
    bit (same libm ``log``; the loop is sequential, never vectorised).

    U : (2m,) float64, IN -- uniforms in draw order; out : (N,) float64,
    INOUT, filled from index ``j``; cached : (1,) float64, OUT -- the
    second value of the last pair when it falls past ``out``'s end.
    Returns the next index (``> N`` when ``cached`` was written).
    """
    n_out = out.shape[0]
    for t in range(U.shape[0] // 2):
        x1 = 2.0 * U[2 * t] - 1.0
        x2 = 2.0 * U[2 * t + 1] - 1.0
        r2 = x1 * x1 + x2 * x2
        if r2 >= 1.0 or r2 == 0.0:
            continue
        f = np.sqrt(-2.0 * np.log(r2) / r2)
        out[j] = f * x2
        if j + 1 < n_out:
            out[j + 1] = f * x1
        else:
            cached[0] = f * x1
        j += 2
    return j
