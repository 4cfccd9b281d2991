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
from numba import njit, prange
from clusterlab._kernels.row_groups import parallel_kernel

_JIT = dict(cache=True, nogil=True)

@njit(inline="always", **_JIT)
def _max4(v, skip):
    """Largest entry of v other than v[skip] (-inf when none), in four lanes."""
    n = v.shape[0]
    m0 = -np.inf
    m1 = -np.inf
    m2 = -np.inf
    m3 = -np.inf
    k = 0
    while k + 4 <= n:
        a = v[k] if k != skip else -np.inf
        b = v[k + 1] if k + 1 != skip else -np.inf
        c = v[k + 2] if k + 2 != skip else -np.inf
        e = v[k + 3] if k + 3 != skip else -np.inf
        m0 = a if a > m0 else m0
        m1 = b if b > m1 else m1
        m2 = c if c > m2 else m2
        m3 = e if e > m3 else m3
        k += 4
    while k < n:
        if k != skip and v[k] > m0:
            m0 = v[k]
        k += 1
    m0 = m1 if m1 > m0 else m0
    m2 = m3 if m3 > m2 else m2
    return m2 if m2 > m0 else m0


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
    bit. Each row of A, R and S is read from memory once (the row's second
    and third visits hit the cache): five streams of n^2 values per
    iteration instead of about thirty for whole-matrix numpy updates.

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
        for k in range(n):
            partial[p, k] = 0.0
        tmp = np.empty(n, dtype=A.dtype)
        for i in range(lo, hi):
            if update_a:
                # availabilities of the last iteration, and A[i] + S[i] in the same sweep
                a_ii = A[i, i] * damping - (R[i, i] - colsum[i]) * keep
                for k in range(n):
                    v = R[i, k]
                    if v < 0.0:
                        v = 0.0
                    t = v - colsum[k]
                    if t < 0.0:
                        t = 0.0
                    A[i, k] = A[i, k] * damping - t * keep
                    tmp[k] = A[i, k] + S[i, k]  # the stored value (float32 messages)
                A[i, i] = a_ii
                tmp[i] = A[i, i] + S[i, i]
            else:
                for k in range(n):
                    tmp[k] = A[i, k] + S[i, k]
            # largest of A[i] + S[i] (first index on ties) and the largest of the
            # others; four independent maxima keep the row loop free of a chain
            best = _max4(tmp, -1)
            arg = 0
            while tmp[arg] != best:
                arg += 1
            second = _max4(tmp, arg)
            # responsibilities, and this row's share of the next column sums
            for k in range(n):
                ref = second if k == arg else best
                R[i, k] = R[i, k] * damping + (S[i, k] - ref) * keep
                v = R[i, k]
                if k != i and v < 0.0:
                    v = 0.0
                partial[p, k] += v


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
