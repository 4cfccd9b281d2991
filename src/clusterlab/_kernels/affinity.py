"""Affinity and graph-Laplacian kernels for spectral clustering.

Plain numba functions on contiguous float32/float64 arrays; no validation.
Distances and sums are accumulated in float64 whatever the input dtype.
Each kernel writes only its documented outputs.

* :func:`rbf_dense` — the full ``(n, n)`` RBF affinity ``exp(-gamma ||xi - xj||^2)``
  (exactly symmetric: the same operations in the same order for ``(i, j)``
  and ``(j, i)``).
* :func:`rbf_pairs` — RBF values for an explicit list of pairs (the pairs a
  radius search found), so that the sparse affinity never needs an n x n
  buffer.
* :func:`dense_normalized_laplacian` — ``L = I - D^-1/2 A D^-1/2`` in float64
  from a dense affinity, ignoring self-loops (the diagonal of ``A``).
* :func:`csr_offdiag_degree` / :func:`csr_normalized_laplacian_data` — the
  same for a CSR affinity, in place on the CSR data of the Laplacian.
"""

import numpy as np
from numba import njit, prange
from clusterlab._kernels.row_groups import parallel_kernel

_JIT = dict(cache=True, nogil=True)


@parallel_kernel(**_JIT)
def rbf_dense(X, gamma, out):
    """Dense RBF affinity.

    Parameters
    ----------
    X : ndarray (n, d), float32 or float64, C-contiguous — IN.
    gamma : float — IN. Kernel coefficient.
    out : ndarray (n, n), float32 or float64 — OUT. ``out[i, j] =
        exp(-gamma * ||X[i] - X[j]||^2)``; the squared distance is summed in
        float64 and the exponential is taken in float64 before the cast.

    Notes
    -----
    O(n^2 d) time, no scratch memory. Rows are processed in parallel; each
    entry is computed independently, so the result does not depend on the
    number of threads.
    """
    n, d = X.shape
    for i in prange(n):
        for j in range(n):
            s = 0.0
            for k in range(d):
                t = np.float64(X[i, k]) - np.float64(X[j, k])
                s += t * t
            out[i, j] = np.exp(-gamma * s)


@parallel_kernel(**_JIT)
def rbf_pairs(X, rows, cols, gamma, out):
    """RBF affinity of the listed pairs.

    Parameters
    ----------
    X : ndarray (n, d), float32 or float64 — IN.
    rows, cols : ndarray (m,), int64 — IN. Row indices of the pairs.
    gamma : float — IN.
    out : ndarray (m,), float32 or float64 — OUT. ``out[p] = exp(-gamma *
        ||X[rows[p]] - X[cols[p]]||^2)``.

    Notes
    -----
    O(m d) time, no scratch memory.
    """
    m = rows.shape[0]
    d = X.shape[1]
    for p in prange(m):
        i = rows[p]
        j = cols[p]
        s = 0.0
        for k in range(d):
            t = np.float64(X[i, k]) - np.float64(X[j, k])
            s += t * t
        out[p] = np.exp(-gamma * s)


@parallel_kernel(**_JIT)
def dense_normalized_laplacian(A, L, dd):
    """Symmetric normalised Laplacian of a dense affinity.

    Parameters
    ----------
    A : ndarray (n, n), float32 or float64 — IN. Symmetric affinity; its
        diagonal (self-loops) is ignored.
    L : ndarray (n, n), float64 — OUT. ``L[i, j] = -A[i, j] / (dd[i] dd[j])``
        off the diagonal; ``L[i, i] = 1`` (``0`` for an isolated vertex).
    dd : ndarray (n,), float64 — OUT. ``sqrt`` of each vertex's degree
        (row sum of ``A`` without the diagonal); ``1`` for an isolated vertex
        (degree <= 0).

    Notes
    -----
    O(n^2) time; ``L`` may not alias ``A`` when ``A`` is float32. Each row's
    degree is summed by one thread in a fixed order (deterministic).
    """
    n = A.shape[0]
    isolated = np.zeros(n, dtype=np.bool_)
    for i in prange(n):
        s = 0.0
        for j in range(n):
            if j != i:
                s += np.float64(A[i, j])
        if s > 0.0:
            dd[i] = np.sqrt(s)
        else:
            dd[i] = 1.0
            isolated[i] = True
    for i in prange(n):
        di = dd[i]
        for j in range(n):
            if j == i:
                L[i, i] = 0.0 if isolated[i] else 1.0
            else:
                L[i, j] = -np.float64(A[i, j]) / (di * dd[j])


@parallel_kernel(**_JIT)
def csr_offdiag_degree(indptr, indices, data, dd, isolated):
    """Square root of the off-diagonal row sums of a CSR matrix.

    Parameters
    ----------
    indptr : ndarray (n + 1,), int32/int64 — IN.
    indices : ndarray (nnz,), int32/int64 — IN.
    data : ndarray (nnz,), float32/float64 — IN.
    dd : ndarray (n,), float64 — OUT. ``sqrt(sum_{j != i} A[i, j])``, or 1
        when that sum is <= 0 (isolated vertex).
    isolated : ndarray (n,), bool — OUT. True for isolated vertices.

    Notes
    -----
    O(nnz) time, one thread per row (deterministic).
    """
    n = indptr.shape[0] - 1
    for i in prange(n):
        s = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            if indices[p] != i:
                s += np.float64(data[p])
        if s > 0.0:
            dd[i] = np.sqrt(s)
            isolated[i] = False
        else:
            dd[i] = 1.0
            isolated[i] = True


@parallel_kernel(**_JIT)
def csr_normalized_laplacian_data(indptr, indices, data, dd, out):
    """Values of ``L = I - D^-1/2 A D^-1/2`` on the sparsity pattern of ``A``.

    Parameters
    ----------
    indptr, indices : CSR structure of ``A`` (n x n) — IN.
    data : ndarray (nnz,), float32/float64 — IN. Values of ``A``.
    dd : ndarray (n,), float64 — IN. From :func:`csr_offdiag_degree`.
    out : ndarray (nnz,), float64 — OUT. Off-diagonal Laplacian values on
        the same pattern, ``-A[i, j] / (dd[i] dd[j])``; stored diagonal
        entries get 0 (the caller adds the unit diagonal, ``1 - isolated``,
        which ``A`` need not store).

    Notes
    -----
    O(nnz) time, no scratch memory.
    """
    n = indptr.shape[0] - 1
    for i in prange(n):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if j == i:
                out[p] = 0.0
            else:
                out[p] = -np.float64(data[p]) / (dd[i] * dd[j])


@njit(**_JIT)
def dense_component_count(A, stack, seen):
    """Number of connected components of the graph of a dense affinity.

    Parameters
    ----------
    A : ndarray (n, n), float32 or float64 — IN. Vertices i and j are linked
        when ``A[i, j] != 0`` (symmetric).
    stack : ndarray (n,), int64 — scratch.
    seen : ndarray (n,), bool — OUT. All True on return.

    Returns
    -------
    count : int

    Notes
    -----
    Depth-first search, O(n^2) time, O(n) scratch; serial (deterministic).
    """
    n = A.shape[0]
    for i in range(n):
        seen[i] = False
    count = 0
    for s in range(n):
        if seen[s]:
            continue
        count += 1
        seen[s] = True
        top = 0
        stack[0] = s
        top = 1
        while top > 0:
            top -= 1
            i = stack[top]
            for j in range(n):
                if not seen[j] and A[i, j] != 0:
                    seen[j] = True
                    stack[top] = j
                    top += 1
    return count
