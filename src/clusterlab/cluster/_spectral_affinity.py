"""Spectral clustering, step 1: the affinity graph.

* :func:`rbf_affinity` -- ``exp(-gamma ||xi - xj||^2)``: the exact dense matrix
  up to :data:`clusterlab._config.SPECTRAL_DENSE_RBF_MAX_SAMPLES` samples, and
  above that the *sparse* matrix of the pairs whose affinity is at least
  :data:`~clusterlab._config.SPECTRAL_RBF_SPARSE_TOL`, found by a radius
  search (``r = sqrt(-ln(tol) / gamma)``) without ever building an n x n
  matrix;
* the other named kernels (scikit-learn's definitions) and callables, dense;
* k-nearest-neighbour connectivity graphs from a k-d tree (low dimension) or a
  chunked brute-force search, and from a precomputed distance matrix;
* the checks of square / symmetric input matrices and of the memory budget
  (:data:`~clusterlab._config.SPECTRAL_MAX_AFFINITY_BYTES`): a fit that would
  not fit fails early, saying how much it would need.
"""

import math

import numpy as np
import scipy.sparse as sp

from clusterlab import _config
from clusterlab._kernels import affinity as _ak
from clusterlab._kernels.row_groups import on_threads


_KERNELS = {"rbf", "linear", "poly", "polynomial", "sigmoid", "laplacian", "cosine",
            "chi2", "additive_chi2"}


def _sq_norms(X):
    return np.einsum("ij,ij->i", X, X, dtype=np.float64)


def _dense_bytes(n, itemsize):
    # the affinity plus the float64 Laplacian factorised in place
    return n * n * (itemsize + 8)


def _affinity_limit():
    """(bytes, what) the affinity and its Laplacian may take: the configured
    limit, or the memory this process may still allocate where that is less."""
    limit = _config.SPECTRAL_MAX_AFFINITY_BYTES
    avail = _config.available_memory()
    if avail is not None and avail < limit:
        return avail, "the memory this process may still allocate"
    return limit, "limit clusterlab._config.SPECTRAL_MAX_AFFINITY_BYTES"


def _check_dense_memory(n, itemsize, what):
    need = _dense_bytes(n, itemsize)
    if need > _config.SPECTRAL_MAX_AFFINITY_BYTES or need > (32 << 20):
        limit, which = _affinity_limit()
        if need > limit:
            raise ValueError(
                f"{what} is a dense {n} x {n} matrix: spectral clustering would need about "
                f"{need / 2**30:.1f} GiB ({which}: {limit / 2**30:.1f} GiB). Use "
                "affinity='nearest_neighbors' (a sparse k-nearest-neighbour graph), or fewer "
                "samples."
            )


def rbf_affinity(X, gamma, tol=None, dense_max_samples=None):
    """RBF affinity ``exp(-gamma ||xi - xj||^2)``: dense for small n, sparse above.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    gamma : float
    tol : float, default=:data:`_config.SPECTRAL_RBF_SPARSE_TOL`
        Entries below ``tol`` are dropped in the sparse form.
    dense_max_samples : int, default=:data:`_config.SPECTRAL_DENSE_RBF_MAX_SAMPLES`

    Returns
    -------
    A : ndarray of shape (n, n) or CSR matrix, of ``X``'s dtype
        Dense (exact) when ``n <= dense_max_samples``; otherwise the CSR
        matrix of the pairs within ``r = sqrt(-ln(tol) / gamma)`` (affinity
        >= tol), diagonal included.

    Raises
    ------
    ValueError
        When the sparse affinity would exceed :data:`_config.SPECTRAL_MAX_AFFINITY_BYTES`
        (estimated from a radius count on a strided sample of the rows before
        anything big is allocated); the message says how much it needs.

    Notes
    -----
    Dense: O(n^2 d) time, n^2 memory. Sparse: a k-d tree (O(n log n)), then
    O(m d) for the m pairs found, O(m) memory.
    """
    X = np.ascontiguousarray(X)
    n = X.shape[0]
    tol = _config.SPECTRAL_RBF_SPARSE_TOL if tol is None else tol
    if dense_max_samples is None:
        dense_max_samples = _config.SPECTRAL_DENSE_RBF_MAX_SAMPLES
    if n <= dense_max_samples or gamma == 0:
        _check_dense_memory(n, X.dtype.itemsize, "The RBF affinity")
        out = np.empty((n, n), dtype=X.dtype)
        on_threads(_ak.rbf_dense, n >= _config.SPECTRAL_DENSE_THREADS_MIN_SAMPLES)(
            X, float(gamma), out)
        return out
    from scipy.spatial import cKDTree

    radius = math.sqrt(-math.log(tol) / gamma)
    tree = cKDTree(X)
    step = max(1, n // 2000)
    sample = X[::step]
    counts = tree.query_ball_point(sample, radius, return_length=True)
    est_entries = float(np.mean(counts)) * n  # directed pairs, diagonal included
    need = est_entries * _config.SPECTRAL_BYTES_PER_SPARSE_ENTRY
    limit, which = _affinity_limit()
    if need > limit:
        raise ValueError(
            f"The sparse RBF affinity of {n} samples with gamma={gamma} keeps every pair "
            f"closer than r = sqrt(-ln({tol:g}) / gamma) = {radius:.4g}: about "
            f"{est_entries:.3g} entries ({est_entries / n:.0f} per sample), which needs about "
            f"{need / 2**30:.1f} GiB ({which}: {limit / 2**30:.1f} GiB). Use "
            "affinity='nearest_neighbors', a larger gamma, or fewer samples."
        )
    pairs = tree.query_pairs(radius, output_type="ndarray")  # i < j
    rows = np.ascontiguousarray(pairs[:, 0], dtype=np.int64)
    cols = np.ascontiguousarray(pairs[:, 1], dtype=np.int64)
    del pairs
    vals = np.empty(rows.shape[0], dtype=X.dtype)
    _ak.rbf_pairs(X, rows, cols, float(gamma), vals)
    keep = vals >= tol
    rows, cols, vals = rows[keep], cols[keep], vals[keep]
    diag = np.arange(n, dtype=np.int64)
    A = sp.coo_matrix(
        (np.concatenate([vals, vals, np.ones(n, dtype=X.dtype)]),
         (np.concatenate([rows, cols, diag]), np.concatenate([cols, rows, diag]))),
        shape=(n, n),
    ).tocsr()
    A.sort_indices()
    return A


def _named_kernel(X, kind, gamma, degree, coef0):
    """The dense pairwise kernels other than rbf (scikit-learn's definitions)."""
    n = X.shape[0]
    _check_dense_memory(n, X.dtype.itemsize, f"The {kind!r} affinity")
    if sp.issparse(X):
        X = X.toarray()
    X = np.ascontiguousarray(X)
    if kind == "linear":
        return X @ X.T
    if kind in ("poly", "polynomial"):
        K = X @ X.T
        K *= gamma
        K += coef0
        K **= degree
        return K
    if kind == "sigmoid":
        K = X @ X.T
        K *= gamma
        K += coef0
        return np.tanh(K, out=K)
    if kind == "cosine":
        norms = np.sqrt(_sq_norms(X))
        norms[norms == 0] = 1.0
        Xn = (X / norms[:, None]).astype(X.dtype, copy=False)
        return Xn @ Xn.T
    if kind in ("laplacian", "chi2", "additive_chi2"):
        if kind != "laplacian" and np.any(X < 0):
            raise ValueError(f"X contains negative values; the {kind!r} kernel needs X >= 0.")
        K = np.empty((n, n), dtype=np.float64)
        step = _config.chunk_rows(n * X.shape[1], 8)
        for start in range(0, n, step):
            blk = X[start:start + step, None, :].astype(np.float64)
            if kind == "laplacian":
                K[start:start + step] = -gamma * np.abs(blk - X[None]).sum(axis=2)
            else:
                num = (blk - X[None]) ** 2
                den = blk + X[None]
                with np.errstate(divide="ignore", invalid="ignore"):
                    frac = np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0)
                K[start:start + step] = -frac.sum(axis=2)
        if kind == "additive_chi2":
            return K.astype(X.dtype, copy=False)
        if kind == "chi2":
            K *= gamma
        np.exp(K, out=K)
        return K.astype(X.dtype, copy=False)
    raise ValueError(f"Unknown kernel {kind!r}.")  # pragma: no cover


def _callable_affinity(X, func, params):
    n = X.shape[0]
    _check_dense_memory(n, 8, "A callable affinity")
    if sp.issparse(X):
        X = X.toarray()
    K = np.empty((n, n), dtype=np.float64)
    for i in range(n):
        for j in range(i, n):
            K[i, j] = K[j, i] = func(X[i], X[j], **params)
    return K


def _knn_indices(X, n_neighbors):
    """Indices of each row's ``n_neighbors`` nearest rows of X (itself included)."""
    n, d = X.shape
    if d <= 16:
        from scipy.spatial import cKDTree

        _, ind = cKDTree(X).query(X, k=n_neighbors)
        return np.asarray(ind, dtype=np.int64).reshape(n, n_neighbors)
    sq = _sq_norms(X)
    ind = np.empty((n, n_neighbors), dtype=np.int64)
    step = _config.chunk_rows(n, 8)
    for start in range(0, n, step):
        stop = min(n, start + step)
        D = -2.0 * (X[start:stop].astype(np.float64) @ X.T.astype(np.float64))
        D += sq[start:stop, None]
        D += sq[None, :]
        part = np.argpartition(D, n_neighbors - 1, axis=1)[:, :n_neighbors]
        ind[start:stop] = part
    return ind


def _knn_connectivity(ind, n):
    k = ind.shape[1]
    C = sp.csr_matrix((np.ones(n * k), ind.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n))
    A = 0.5 * (C + C.T)
    return A.tocsr()


def _precomputed_knn(D, n_neighbors):
    n = D.shape[0]
    if sp.issparse(D):
        D = D.tocsr()
        lengths = np.diff(D.indptr)
        if np.any(lengths < n_neighbors):
            raise ValueError(
                f"affinity='precomputed_nearest_neighbors' needs at least n_neighbors="
                f"{n_neighbors} stored distances in every row of the sparse distance matrix, "
                f"but {int(np.sum(lengths < n_neighbors))} rows have fewer (the smallest has "
                f"{int(lengths.min())}); store more neighbours or lower n_neighbors."
            )
        ind = np.empty((n, n_neighbors), dtype=np.int64)
        for i in range(n):
            lo, hi = D.indptr[i], D.indptr[i + 1]
            part = np.argsort(D.data[lo:hi], kind="stable")[:n_neighbors]
            ind[i] = D.indices[lo:hi][part]
    else:
        ind = np.argsort(D, axis=1, kind="stable")[:, :n_neighbors].astype(np.int64)
    return _knn_connectivity(ind, n)


def _check_square(A, what):
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(
            f"{what} expects a square (n_samples, n_samples) matrix, got shape {A.shape}; "
            "pass the affinity/distance matrix itself, or use affinity='rbf' or "
            "'nearest_neighbors' to build one from feature vectors."
        )


def _check_square_symmetric(A, what):
    """A square, symmetric affinity with no negative entry: an affinity holds
    similarities, and the normalised Laplacian divides by the square roots of
    the rows' sums (scikit-learn's holds NaN once a sum is negative; a
    negative "affinity" is usually a distance or a correlation passed by
    mistake)."""
    _check_square(A, what)
    if sp.issparse(A):
        diff = abs(A - A.T)
        asym = diff.max() if diff.nnz else 0.0
        scale = abs(A).max() if A.nnz else 0.0
        lowest = float(A.data.min(initial=0.0))
    else:
        asym = scale = lowest = 0.0
        n = A.shape[0]
        step = _config.chunk_rows(n, 8)
        for start in range(0, n, step):  # row blocks: no n x n temporary
            rows = A[start:start + step]
            asym = max(asym, float(np.max(np.abs(rows - A[:, start:start + step].T),
                                          initial=0.0)))
            scale = max(scale, float(np.max(rows, initial=0.0)), float(-np.min(rows, initial=0.0)))
            lowest = min(lowest, float(np.min(rows, initial=0.0)))
    if asym > 1e-8 * max(scale, 1e-300) + 1e-12:
        raise ValueError(
            f"{what} must be symmetric, but max |A - A.T| = {asym:.3g}; symmetrise it, e.g. "
            "with (A + A.T) / 2."
        )
    if lowest < 0:
        raise ValueError(
            f"Negative values in data passed to {what} (smallest {lowest:.6g}): an affinity "
            "holds similarities (>= 0). A distance matrix is not an affinity: pass it with "
            "affinity='precomputed_nearest_neighbors', or turn it into similarities, e.g. "
            "np.exp(-gamma * D ** 2).")
