"""Spectral clustering: :class:`SpectralClustering` and :func:`spectral_clustering`.

The same parameters, defaults, attributes and errors as scikit-learn 1.9's
``sklearn.cluster.SpectralClustering``, written on our own pieces:

* the affinity (:mod:`clusterlab._kernels.affinity`): a dense RBF for up to
  :data:`DENSE_RBF_MAX_SAMPLES` samples (exact), and above that a *sparse*
  RBF of the pairs whose affinity is at least :data:`RBF_SPARSE_TOL`, found
  by a radius search (``r = sqrt(-ln(tol) / gamma)``) without ever building
  an n x n matrix; k-nearest-neighbour graphs from a k-d tree (low
  dimension) or a chunked brute-force search;
* the spectral embedding: the symmetric normalised Laplacian
  ``L = I - D^-1/2 A D^-1/2`` built by our kernels, its smallest eigenpairs
  by *shift-invert block subspace iteration* (one Cholesky / sparse LU
  factorisation of ``L + sigma I``, then block solves and Rayleigh-Ritz;
  robust when eigenvalues are repeated, as for a disconnected graph), or by
  scipy's ARPACK / LOBPCG (``eigen_solver='arpack'`` / ``'lobpcg'``) driven
  by the same factorisation, or LOBPCG with a pyamg preconditioner
  (``'amg'``); for large sparse graphs with many entries per row
  (:data:`SPARSE_ITERATIVE_MIN_SAMPLES`, :data:`SPARSE_ITERATIVE_MIN_ROW_NNZ`)
  no factorisation at all: the exact null space from the connected
  components, then LOBPCG on products by ``L`` for whatever is left;
* the label assignment: :class:`clusterlab.KMeans`, or our implementations of
  the discretisation of Yu & Shi (2003) and of CLUSTER_QR (Damle, Minden &
  Ying 2019).
"""

import contextlib
import math
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import validate_data

from clusterlab import _config
from clusterlab._kernels import affinity as _ak
from clusterlab._validation import check_n_clusters

__all__ = ["SpectralClustering", "spectral_clustering", "spectral_embedding_normalized",
           "DENSE_RBF_MAX_SAMPLES", "RBF_SPARSE_TOL", "MAX_AFFINITY_BYTES",
           "SPARSE_ITERATIVE_MIN_SAMPLES", "SPARSE_ITERATIVE_MIN_ROW_NNZ"]

#: Up to this many samples the RBF affinity is the exact dense n x n matrix
#: (as scikit-learn's); above it, the sparse thresholded affinity is used.
DENSE_RBF_MAX_SAMPLES = 5000

#: Affinities below this value are dropped from the sparse RBF affinity, so
#: that it equals the dense one up to ``RBF_SPARSE_TOL`` entrywise. The radius
#: of the search is ``sqrt(-ln(RBF_SPARSE_TOL) / gamma)``.
RBF_SPARSE_TOL = 1e-8

#: The most memory an affinity (with the Laplacian and factorisation built
#: from it) may take; fit fails early, saying how much it would need, above it.
MAX_AFFINITY_BYTES = 4 * 2**30

#: Bytes per stored entry of a sparse affinity over the whole pipeline: the
#: pair list, the symmetric CSR affinity, the Laplacian and the solver's
#: working copies (a deliberately pessimistic figure).
_BYTES_PER_SPARSE_ENTRY = 48

#: Shift of the Laplacian for shift-invert: ``L + _SHIFT * I`` is positive
#: definite (L is positive semi-definite with eigenvalues in [0, 2]).
_SHIFT = 1e-5

_SUBSPACE_MAX_ITER = 300

#: Dense problems at least this large first try a few Lanczos restarts (see _try_lanczos).
_LANCZOS_MIN_SAMPLES = 1500
_LANCZOS_MAX_RESTARTS = 1

#: A sparse affinity with at least this many samples *and* at least
#: :data:`SPARSE_ITERATIVE_MIN_ROW_NNZ` stored entries per row (on average) is
#: embedded without any factorisation (see :func:`_iterative_sparse_embedding`):
#: the sparse LU's fill grows too fast there (10^5 moons, sparse RBF with
#: ~250 entries per row: > 500 s). k-NN graphs (~15 per row) keep the LU, which
#: is quick for them.
SPARSE_ITERATIVE_MIN_SAMPLES = 20_000
SPARSE_ITERATIVE_MIN_ROW_NNZ = 64

#: Iteration budget and block padding of the iterative sparse path.
_ITERATIVE_MAX_ITER = 2000
_ITERATIVE_TOL = 1e-6

_KERNELS = {"rbf", "linear", "poly", "polynomial", "sigmoid", "laplacian", "cosine",
            "chi2", "additive_chi2"}


# ----------------------------------------------------------------------------------
# affinities
# ----------------------------------------------------------------------------------

def _sq_norms(X):
    return np.einsum("ij,ij->i", X, X, dtype=np.float64)


def _dense_bytes(n, itemsize):
    # the affinity plus the float64 Laplacian factorised in place
    return n * n * (itemsize + 8)


def _check_dense_memory(n, itemsize, what):
    need = _dense_bytes(n, itemsize)
    if need > MAX_AFFINITY_BYTES:
        raise ValueError(
            f"{what} is a dense {n} x {n} matrix: spectral clustering would need about "
            f"{need / 2**30:.1f} GiB (limit MAX_AFFINITY_BYTES = "
            f"{MAX_AFFINITY_BYTES / 2**30:.1f} GiB). Use affinity='nearest_neighbors' "
            "(a sparse k-nearest-neighbour graph), or fewer samples."
        )


def rbf_affinity(X, gamma, tol=None, dense_max_samples=None):
    """RBF affinity ``exp(-gamma ||xi - xj||^2)``: dense for small n, sparse above.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
    gamma : float
    tol : float, default=:data:`RBF_SPARSE_TOL`
        Entries below ``tol`` are dropped in the sparse form.
    dense_max_samples : int, default=:data:`DENSE_RBF_MAX_SAMPLES`

    Returns
    -------
    A : ndarray of shape (n, n) or CSR matrix, of ``X``'s dtype
        Dense (exact) when ``n <= dense_max_samples``; otherwise the CSR
        matrix of the pairs within ``r = sqrt(-ln(tol) / gamma)`` (affinity
        >= tol), diagonal included.

    Raises
    ------
    ValueError
        When the sparse affinity would exceed :data:`MAX_AFFINITY_BYTES`
        (estimated from a radius count on a strided sample of the rows before
        anything big is allocated); the message says how much it needs.

    Notes
    -----
    Dense: O(n^2 d) time, n^2 memory. Sparse: a k-d tree (O(n log n)), then
    O(m d) for the m pairs found, O(m) memory.
    """
    X = np.ascontiguousarray(X)
    n = X.shape[0]
    tol = RBF_SPARSE_TOL if tol is None else tol
    dense_max_samples = DENSE_RBF_MAX_SAMPLES if dense_max_samples is None else dense_max_samples
    if n <= dense_max_samples or gamma == 0:
        _check_dense_memory(n, X.dtype.itemsize, "The RBF affinity")
        out = np.empty((n, n), dtype=X.dtype)
        _ak.rbf_dense(X, float(gamma), out)
        return out
    from scipy.spatial import cKDTree

    radius = math.sqrt(-math.log(tol) / gamma)
    tree = cKDTree(X)
    step = max(1, n // 2000)
    sample = X[::step]
    counts = tree.query_ball_point(sample, radius, return_length=True)
    est_entries = float(np.mean(counts)) * n  # directed pairs, diagonal included
    need = est_entries * _BYTES_PER_SPARSE_ENTRY
    if need > MAX_AFFINITY_BYTES:
        raise ValueError(
            f"The sparse RBF affinity of {n} samples with gamma={gamma} keeps every pair "
            f"closer than r = sqrt(-ln({tol:g}) / gamma) = {radius:.4g}: about "
            f"{est_entries:.3g} entries ({est_entries / n:.0f} per sample), which needs about "
            f"{need / 2**30:.1f} GiB (limit MAX_AFFINITY_BYTES = "
            f"{MAX_AFFINITY_BYTES / 2**30:.1f} GiB). Use affinity='nearest_neighbors', "
            "a larger gamma, or fewer samples."
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
    _check_square(A, what)
    if sp.issparse(A):
        diff = abs(A - A.T)
        asym = diff.max() if diff.nnz else 0.0
        scale = abs(A).max() if A.nnz else 0.0
    else:
        asym = 0.0
        n = A.shape[0]
        step = _config.chunk_rows(n, 8)
        for start in range(0, n, step):
            asym = max(asym, float(np.max(np.abs(A[start:start + step] - A[:, start:start + step].T),
                                          initial=0.0)))
        scale = float(np.max(np.abs(A), initial=0.0))
    if asym > 1e-8 * max(scale, 1e-300) + 1e-12:
        raise ValueError(
            f"{what} must be symmetric, but max |A - A.T| = {asym:.3g}; symmetrise it, e.g. "
            "with (A + A.T) / 2."
        )


# ----------------------------------------------------------------------------------
# spectral embedding
# ----------------------------------------------------------------------------------

def _normalized_laplacian(A):
    """Return ``(L, dd)``: the float64 normalised Laplacian (dense or CSR) and sqrt-degrees."""
    n = A.shape[0]
    if sp.issparse(A):
        A = sp.csr_matrix(A)
        A.sort_indices()
        indptr = A.indptr
        indices = A.indices
        data = np.ascontiguousarray(A.data)
        dd = np.empty(n, dtype=np.float64)
        isolated = np.empty(n, dtype=np.bool_)
        _ak.csr_offdiag_degree(indptr, indices, data, dd, isolated)
        out = np.empty(data.shape[0], dtype=np.float64)
        _ak.csr_normalized_laplacian_data(indptr, indices, data, dd, out)
        L = sp.csr_matrix((out, indices.copy(), indptr.copy()), shape=(n, n))
        # the unit diagonal is added separately: A need not store its diagonal
        L = (L + sp.diags(np.where(isolated, 0.0, 1.0), format="csr")).tocsr()
        return L, dd
    A = np.ascontiguousarray(A)
    L = np.empty((n, n), dtype=np.float64)
    dd = np.empty(n, dtype=np.float64)
    _ak.dense_normalized_laplacian(A, L, dd)
    return L, dd


def _factorize_shifted(L):
    """A solver for ``(L + _SHIFT I) Y = B`` (dense Cholesky or sparse LU); None on failure.

    The dense Laplacian is overwritten by its factor.
    """
    n = L.shape[0]
    if sp.issparse(L):
        from scipy.sparse.linalg import splu

        M = (L + _SHIFT * sp.identity(n, format="csr")).tocsc()
        try:
            lu = splu(M, permc_spec="COLAMD")
        except RuntimeError:
            return None
        return lu.solve
    L[np.diag_indices(n)] += _SHIFT
    try:
        # L is symmetric: its transpose is the same matrix in Fortran order, which
        # LAPACK factorises in place (no n x n copy)
        factor = sla.cho_factor(L.T, lower=False, overwrite_a=True, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    return lambda B: sla.cho_solve(factor, B, check_finite=False)


def _subspace_iteration(solve, n, k, v0, tol):
    """Smallest k eigenpairs of L from solves with ``(L + sigma I)``.

    Block inverse iteration with Rayleigh-Ritz on the inverse operator: each
    iteration solves with a block of ``b = k + max(k, 10)`` vectors (BLAS-3),
    so that convergence goes as ``((lambda_k + sigma) / (lambda_{b+1} +
    sigma))^iter`` and repeated eigenvalues cause no trouble.
    """
    b = min(n, k + max(k, 10))
    # the start block is built from one random vector (rolled copies), so that this
    # solver takes as many draws from random_state as scikit-learn's ARPACK start
    # vector: the label assignment then sees the same random stream
    Q = np.empty((n, b))
    for j in range(b):
        Q[:, j] = np.roll(v0, 7 * j)
    Q, _ = np.linalg.qr(Q)
    converged = False
    best, stalled = np.inf, 0
    for _ in range(_SUBSPACE_MAX_ITER):
        Y = solve(Q)
        H = Q.T @ Y
        H = 0.5 * (H + H.T)
        mu, U = np.linalg.eigh(H)
        order = np.argsort(-mu)
        mu, U = mu[order], U[:, order]
        V = Q @ U
        W = Y @ U
        res = np.linalg.norm(W[:, :k] - V[:, :k] * mu[:k], axis=0) / np.abs(mu[:k])
        worst = float(res.max())
        if worst <= tol:
            converged = True
            break
        # rounding in the solves bounds the attainable residual: stop once it no longer
        # improves (5 iterations without halving) if it is already small
        if worst < 0.5 * best:
            best, stalled = worst, 0
        else:
            stalled += 1
            if stalled >= 5 and best < 1e-6:
                converged = True
                break
        Q, _ = np.linalg.qr(W)
    if not converged:
        warnings.warn(
            f"The spectral embedding did not converge in {_SUBSPACE_MAX_ITER} iterations "
            f"(largest residual {res.max():.3g} > tol={tol:g}); the eigenvectors may be "
            "inaccurate.", ConvergenceWarning, stacklevel=5)
    return 1.0 / mu[:k] - _SHIFT, V[:, :k]


def _wide_kernel(A):
    """True when most affinities are non-negligible (>= RBF_SPARSE_TOL), on strided rows.

    A narrow kernel (few non-negligible entries per row) makes a graph with local
    structure, whose small eigenvalues are clustered: Lanczos would not converge in
    one run, so it is not tried.
    """
    rows = np.asarray(A[:: max(1, A.shape[0] // 200)])
    return bool(np.mean(rows >= RBF_SPARSE_TOL) > 0.5)


def _try_lanczos(L, k, v0, eigen_tol):
    """A few restarts of Lanczos on ``I - L`` (matrix-vector products only); None if unconverged.

    When the wanted eigenvalues are well separated from the rest (a wide RBF
    kernel) this takes a few dozen products, far cheaper than the O(n^3)
    factorisation; when they are clustered (a narrow kernel) it gives up after
    ``_LANCZOS_MAX_RESTARTS`` restarts and the caller factorises. It is only
    tried on connected graphs: Lanczos can miss copies of a repeated eigenvalue.
    """
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    n = L.shape[0]
    op = LinearOperator((n, n), matvec=lambda x: x - L @ x, dtype=np.float64)
    tol = 0.0 if eigen_tol == "auto" else float(eigen_tol)
    try:
        mu, V = eigsh(op, k=k, which="LA", v0=v0, ncv=min(n - 1, max(2 * k + 1, 24)),
                      maxiter=_LANCZOS_MAX_RESTARTS, tol=tol)
    except ArpackNoConvergence:
        return None
    return V[:, np.argsort(-mu)]


def _use_iterative_sparse(L, eigen_solver):
    n = L.shape[0]
    return (eigen_solver is None and sp.issparse(L) and n >= SPARSE_ITERATIVE_MIN_SAMPLES
            and L.nnz >= SPARSE_ITERATIVE_MIN_ROW_NNZ * n)


def _iterative_sparse_embedding(L, dd, comp_labels, k, random_state, eigen_tol):
    """Smallest k eigenvectors of a large sparse normalised Laplacian, without a factorisation.

    The null space of ``L`` is known exactly: one vector ``D^1/2 1_S`` per
    connected component ``S`` (``e_i`` for an isolated vertex). Those come
    first, largest components first (ties: the component holding the lowest
    vertex index). When there are at least ``k`` components, that is the
    whole answer (the eigenvalue 0 is then repeated and any basis of its
    space is an equally valid embedding; this one keeps the big components).
    Otherwise the remaining ``m = k - c`` eigenvectors are the smallest ones of
    ``L + 2 N`` (``N`` the orthogonal projector on the null space, which moves
    it above the spectrum of ``L``, contained in [0, 2]), found by LOBPCG
    (scipy) with products by ``L`` only (``L`` itself is never factorised;
    a preconditioner from the factorised Laplacian of a sparsified 16-NN-like
    graph was tried and made convergence slower). Its block has ``m + 3``
    vectors, started from ``random_state``; the tolerance is on the absolute
    residual norm (``_ITERATIVE_TOL = 1e-6`` for ``eigen_tol='auto'``).
    Convergence slows as the wanted eigenvalues crowd together (large,
    connected, geometrically smooth graphs): it is warned about, not hidden.

    Returns ``(V, n_null)``; a ConvergenceWarning is raised when LOBPCG does
    not reach the tolerance in ``_ITERATIVE_MAX_ITER`` iterations.
    """
    n = L.shape[0]
    sizes = np.bincount(comp_labels)
    order = np.argsort(-sizes, kind="stable")
    c = order.shape[0]
    sq_norm = np.bincount(comp_labels, weights=dd * dd, minlength=c)
    n_null = min(c, k)
    V = np.zeros((n, k))
    for j, comp in enumerate(order[:n_null]):
        members = comp_labels == comp
        V[members, j] = dd[members] / math.sqrt(sq_norm[comp])
    if n_null == k:
        return V, n_null

    from scipy.sparse.linalg import LinearOperator, lobpcg

    m = k - n_null

    def null_projection(X):
        # N X for X of shape (n, b): per component, dd * (sum_S dd x) / sum_S dd^2
        X2 = X.reshape(n, -1)
        out = np.empty_like(X2)
        for j in range(X2.shape[1]):
            coef = np.bincount(comp_labels, weights=dd * X2[:, j], minlength=c) / sq_norm
            out[:, j] = dd * coef[comp_labels]
        return out.reshape(X.shape)

    def matmat(X):
        return L @ X + 2.0 * null_projection(X)

    op = LinearOperator((n, n), matvec=matmat, matmat=matmat, dtype=np.float64)
    b = min(n - c, m + 3)
    X0 = random_state.standard_normal(size=(n, b))
    X0 -= null_projection(X0)
    tol = _ITERATIVE_TOL if eigen_tol == "auto" else float(eigen_tol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        w, U = lobpcg(op, X0, tol=tol, largest=False, maxiter=_ITERATIVE_MAX_ITER)
    order_w = np.argsort(w)[:m]
    w, U = w[order_w], U[:, order_w]
    res = np.linalg.norm(matmat(U) - U * w, axis=0)
    if np.max(res) > max(tol, 1e-12) * 10:
        warnings.warn(
            f"The iterative sparse spectral embedding (LOBPCG, no factorisation) did not "
            f"converge in {_ITERATIVE_MAX_ITER} iterations (largest residual "
            f"{np.max(res):.3g} > tol={tol:g}); the eigenvectors may be inaccurate. Use "
            "affinity='nearest_neighbors' or a larger gamma (fewer entries per row).",
            ConvergenceWarning, stacklevel=5)
    V[:, n_null:] = U
    return V, n_null


def _dense_eigh(L, k):
    L = L.toarray() if sp.issparse(L) else L
    w, V = sla.eigh(L, subset_by_index=[0, k - 1], check_finite=False)
    return w, V


def spectral_embedding_normalized(affinity, n_components, eigen_solver=None,
                                  random_state=None, eigen_tol="auto"):
    """Spectral embedding by the symmetric normalised Laplacian.

    Parameters
    ----------
    affinity : ndarray or sparse matrix of shape (n_samples, n_samples)
        Symmetric, non-negative affinity; the diagonal is ignored.
    n_components : int
        Number of eigenvectors (the first, constant-like one included).
    eigen_solver : {None, 'arpack', 'lobpcg', 'amg'}, default=None
        None: for a sparse graph of >= SPARSE_ITERATIVE_MIN_SAMPLES samples
        with >= SPARSE_ITERATIVE_MIN_ROW_NNZ stored entries per row, the
        factorisation-free path (exact null space, then LOBPCG; see
        ``_iterative_sparse_embedding``); for a connected dense graph of >= 1500 samples where most
        affinities are >= RBF_SPARSE_TOL (a wide kernel), one short Lanczos
        run on ``I - L`` first (kept if it converges); otherwise
        shift-invert block subspace iteration (ours). 'arpack':
        scipy's ``eigsh`` in shift-invert mode on the same factorisation.
        'lobpcg': scipy's ``lobpcg`` preconditioned by that factorisation.
        'amg': ``lobpcg`` with a pyamg smoothed-aggregation preconditioner.
    random_state : int, RandomState instance or None
        Starting block/vector of the iterative solvers.
    eigen_tol : float or 'auto'
        Stopping tolerance: 'auto' means 1e-10 (relative residual) for our
        solver and arpack's machine precision, lobpcg's default, 1e-5 for amg.

    Returns
    -------
    maps : ndarray of shape (n_samples, n_components), float64
        ``D^-1/2 v`` for the eigenvectors ``v`` of ``L`` with the smallest
        eigenvalues, in increasing order of eigenvalue, each with its largest
        absolute entry positive.

    Notes
    -----
    Dense affinity: O(n^3 / 3) for the Cholesky factorisation plus
    O(n^2 k) per iteration, 8 n^2 bytes (the Laplacian, factorised in place).
    Sparse: a sparse LU with COLAMD ordering (fill depends on the
    graph; for k-NN graphs of low-dimensional data it is near-linear) and
    O(fill * k) per iteration. Large sparse graphs (at least
    SPARSE_ITERATIVE_MIN_SAMPLES samples and SPARSE_ITERATIVE_MIN_ROW_NNZ
    entries per row, eigen_solver=None): no factorisation; O(nnz) for the
    exact null space from the connected components (all of the answer when
    there are at least n_components components), then LOBPCG at O(nnz k)
    per iteration and O(n k) memory above the Laplacian. Below
    SMALL_BLAS_SAMPLES samples BLAS runs on one thread (see there).
    """
    random_state = check_random_state(random_state)
    n = affinity.shape[0]
    k = int(n_components)
    if k > n:
        raise ValueError(f"n_components={k} must be <= n_samples={n}.")
    with (_config.single_threaded_blas() if n < SMALL_BLAS_SAMPLES
          else contextlib.nullcontext()):
        return _embedding(affinity, n, k, eigen_solver, random_state, eigen_tol)


#: Below this many samples the embedding's factorisation, solves and QRs run
#: on one BLAS thread: on 2 cores, after numba's parallel Laplacian, two BLAS
#: threads made the seed's 1000-point moons 2-4x slower and erratic (median
#: 98 vs 32 ms); at 4000 samples both take the same time.
SMALL_BLAS_SAMPLES = 3000


def _embedding(affinity, n, k, eigen_solver, random_state, eigen_tol):
    # spectral_embedding_normalized after validation
    comp_labels = None
    if sp.issparse(affinity):
        n_comp, comp_labels = connected_components(affinity, directed=False)
    else:
        n_comp = _ak.dense_component_count(np.ascontiguousarray(affinity),
                                           np.empty(n, dtype=np.int64), np.empty(n, dtype=bool))
    if n_comp > 1:
        warnings.warn("Graph is not fully connected, spectral embedding may not work as "
                      "expected.", UserWarning, stacklevel=4)
    L, dd = _normalized_laplacian(affinity)

    if eigen_solver == "amg":
        try:
            import pyamg
        except ImportError as exc:
            raise ValueError(
                "The eigen_solver was set to 'amg', but pyamg is not available; install it "
                "(pip install pyamg) or use eigen_solver='arpack' or 'lobpcg'."
            ) from exc

    # random draws in the same amounts as scikit-learn's solvers (see _subspace_iteration)
    if eigen_solver in ("lobpcg", "amg"):
        X0 = (random_state.standard_normal(size=(n, k + 1))
              if (eigen_solver == "amg" or n >= 5 * k + 1) else None)
        v0 = None
    else:
        X0 = None
        v0 = (random_state.uniform(-1, 1, n)
              if (not sp.issparse(L) or n > 5 * k) else None)
    V = None
    if _use_iterative_sparse(L, eigen_solver) and n > max(5 * k + 1, 20):
        V, _ = _iterative_sparse_embedding(L, dd, comp_labels, k, random_state, eigen_tol)
    elif (eigen_solver is None and not sp.issparse(L) and n_comp == 1
            and n >= _LANCZOS_MIN_SAMPLES and _wide_kernel(affinity)):
        V = _try_lanczos(L, k, v0, eigen_tol)
    if V is not None:
        pass
    elif n <= max(5 * k + 1, 20):
        _, V = _dense_eigh(L, k)
    elif eigen_solver == "amg":
        from scipy.sparse.linalg import lobpcg

        Ls = sp.csr_matrix(L)
        ml = pyamg.smoothed_aggregation_solver(Ls + _SHIFT * sp.identity(n, format="csr"))
        X0[:, 0] = dd.ravel()
        tol = 1e-5 if eigen_tol == "auto" else eigen_tol
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            _, V = lobpcg(Ls, X0, M=ml.aspreconditioner(), tol=tol, largest=False,
                          maxiter=2000)
        V = V[:, :k]
    else:
        # lobpcg needs L itself; the dense factorisation overwrites it
        L_keep = L.copy() if eigen_solver == "lobpcg" else None
        solve = _factorize_shifted(L)
        if solve is None:  # not positive definite (negative affinities): exact fallback
            warnings.warn("The Laplacian is not positive semi-definite (negative affinities?); "
                          "using a dense eigensolver.", UserWarning, stacklevel=4)
            L2, _ = _normalized_laplacian(affinity)
            _, V = _dense_eigh(L2, k)
        elif eigen_solver == "arpack":
            from scipy.sparse.linalg import LinearOperator, eigsh

            op = LinearOperator((n, n), matvec=solve, matmat=solve, dtype=np.float64)
            tol = 0.0 if eigen_tol == "auto" else eigen_tol
            mu, V = eigsh(op, k=k, which="LM", tol=tol, v0=v0)
            V = V[:, np.argsort(-mu)]
        elif eigen_solver == "lobpcg":
            from scipy.sparse.linalg import LinearOperator, lobpcg

            op = LinearOperator((n, n), matvec=solve, matmat=solve, dtype=np.float64)
            X0[:, 0] = dd.ravel()
            tol = None if eigen_tol == "auto" else eigen_tol
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                w, V = lobpcg(L_keep, X0, M=op, tol=tol, largest=False, maxiter=2000)
            V = V[:, np.argsort(w)[:k]]
        else:
            tol = 1e-10 if eigen_tol == "auto" else max(float(eigen_tol), 1e-14)
            _, V = _subspace_iteration(solve, n, k, v0, tol)
    maps = V / dd[:, None]
    # deterministic signs: the largest absolute entry of each vector is positive
    idx = np.argmax(np.abs(maps), axis=0)
    signs = np.sign(maps[idx, np.arange(maps.shape[1])])
    signs[signs == 0] = 1.0
    maps *= signs
    return maps


# ----------------------------------------------------------------------------------
# label assignment
# ----------------------------------------------------------------------------------

def _assign_kmeans(maps, n_clusters, random_state, n_init, verbose):
    from clusterlab.cluster.kmeans import KMeans

    km = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state,
                verbose=verbose).fit(maps)
    return km.labels_


def discretize(maps, random_state=None, max_iter=30, max_restarts=30):
    """Discrete partition closest to the continuous embedding (Yu & Shi, 2003).

    Finds an indicator matrix ``X`` and a rotation ``R`` maximising
    ``trace(X^T Z R)`` for the row-normalised embedding ``Z`` by alternating:
    ``X`` = one-hot of each row's largest entry of ``Z R``; ``R = V U^T``
    from the SVD ``X^T Z = U S V^T``; until ``trace(S)`` stops increasing.
    ``R`` starts from a random row of ``Z`` and then, greedily, the rows most
    orthogonal to those already chosen.

    Parameters
    ----------
    maps : ndarray of shape (n_samples, n_clusters)
    random_state : int, RandomState instance or None
    max_iter : int, default=30
    max_restarts : int, default=30
        New random starts after a failed SVD.

    Returns
    -------
    labels : ndarray of shape (n_samples,), int64

    Notes
    -----
    O(n k^2) time per iteration, O(n k) memory.
    """
    random_state = check_random_state(random_state)
    Z = np.asarray(maps, dtype=np.float64).copy()
    n, k = Z.shape
    col = np.linalg.norm(Z, axis=0)
    col[col == 0] = 1.0
    Z /= col
    row = np.linalg.norm(Z, axis=1)
    row[row == 0] = 1.0
    Z /= row[:, None]
    for _ in range(max_restarts):
        R = np.zeros((k, k))
        R[:, 0] = Z[random_state.randint(n)]
        c = np.zeros(n)
        for j in range(1, k):
            c += np.abs(Z @ R[:, j - 1])
            R[:, j] = Z[np.argmin(c)]
        last = -np.inf
        try:
            for _ in range(max_iter):
                labels = np.argmax(Z @ R, axis=1)
                XtZ = np.zeros((k, k))
                np.add.at(XtZ, labels, Z)
                U, S, Vt = np.linalg.svd(XtZ)
                value = S.sum()
                if value - last <= 1e-12 * n:
                    break
                last = value
                R = Vt.T @ U.T
            return labels.astype(np.int64)
        except np.linalg.LinAlgError:
            continue
    raise np.linalg.LinAlgError("SVD did not converge in the discretisation.")


def cluster_qr(maps):
    """Labels from the embedding by column-pivoted QR (Damle, Minden & Ying, 2019).

    The pivoted QR of ``maps.T`` picks k well-separated rows; the polar factor
    of those rows rotates the embedding so that each cluster aligns with one
    axis; a point's label is its largest absolute coordinate. Deterministic.

    Parameters
    ----------
    maps : ndarray of shape (n_samples, n_clusters)

    Returns
    -------
    labels : ndarray of shape (n_samples,), int64

    Notes
    -----
    O(n k^2) time, O(n k) memory.
    """
    maps = np.asarray(maps, dtype=np.float64)
    k = maps.shape[1]
    _, _, piv = sla.qr(maps.T, pivoting=True, mode="economic")
    U, _, Vt = np.linalg.svd(maps[piv[:k], :].T)
    rotated = np.abs(maps @ (U @ Vt))
    return np.argmax(rotated, axis=1).astype(np.int64)


def _relabel_consecutive(labels):
    _, inv = np.unique(labels, return_inverse=True)
    return inv.reshape(labels.shape).astype(np.int64)


# ----------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------

@validate_params(
    {
        "affinity": ["array-like", "sparse matrix"],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "eigen_solver": [StrOptions({"arpack", "lobpcg", "amg"}), None],
        "random_state": ["random_state"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "eigen_tol": [Interval(Real, 0.0, None, closed="left"), StrOptions({"auto"})],
        "assign_labels": [StrOptions({"kmeans", "discretize", "cluster_qr"})],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=False,
)
def spectral_clustering(affinity, *, n_clusters=8, n_components=None, eigen_solver=None,
                        random_state=None, n_init=10, eigen_tol="auto", assign_labels="kmeans",
                        verbose=False):
    """Cluster the graph given by a symmetric affinity matrix (functional API).

    Parameters
    ----------
    affinity : {array-like, sparse matrix} of shape (n_samples, n_samples)
        Symmetric, non-negative affinity (similarity) matrix.
    n_clusters : int, default=8
    n_components : int, default=None
        Number of eigenvectors; ``n_clusters`` when None.
    eigen_solver : {None, 'arpack', 'lobpcg', 'amg'}, default=None
        See :func:`spectral_embedding_normalized`.
    random_state : int, RandomState instance or None, default=None
        Seeds the eigensolver's start and the k-means / discretize starts.
    n_init : int, default=10
        K-means runs (``assign_labels='kmeans'``).
    eigen_tol : float or 'auto', default='auto'
    assign_labels : {'kmeans', 'discretize', 'cluster_qr'}, default='kmeans'
    verbose : bool, default=False

    Returns
    -------
    labels : ndarray of shape (n_samples,)

    Raises
    ------
    ValueError
        If the affinity is not square or not symmetric, contains NaN/inf, or
        has fewer samples than ``n_clusters``.

    Notes
    -----
    Time: the eigensolver's (see :func:`spectral_embedding_normalized`) plus
    O(n k^2) per k-means iteration. Memory: the affinity's, plus its
    Laplacian and factorisation.

    References
    ----------
    Shi & Malik (2000), Normalized cuts and image segmentation. Yu & Shi
    (2003), Multiclass spectral clustering. Damle, Minden & Ying (2019),
    Simple, direct and efficient multi-way spectral clustering.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import spectral_clustering
    >>> A = np.kron(np.eye(2), np.ones((3, 3))) + 0.01
    >>> labels = spectral_clustering(A, n_clusters=2, random_state=0)
    >>> bool(labels[0] == labels[2] != labels[3] == labels[5])
    True
    """
    A = check_array(affinity, accept_sparse=["csr", "csc", "coo"],
                    dtype=[np.float64, np.float32], ensure_min_samples=2)
    _check_square_symmetric(A, "spectral_clustering")
    check_n_clusters(n_clusters, A.shape[0])
    n_components = n_clusters if n_components is None else n_components
    random_state = check_random_state(random_state)
    if verbose:
        print(f"Computing the spectral embedding ({n_components} components)")
    maps = spectral_embedding_normalized(A, n_components, eigen_solver=eigen_solver,
                                         random_state=random_state, eigen_tol=eigen_tol)
    if verbose:
        print(f"Computing label assignment using {assign_labels}")
    if assign_labels == "kmeans":
        labels = _assign_kmeans(maps, n_clusters, random_state, n_init, verbose)
    elif assign_labels == "cluster_qr":
        labels = cluster_qr(maps)
    else:
        labels = discretize(maps, random_state=random_state)
    return _relabel_consecutive(np.asarray(labels))


class SpectralClustering(ClusterMixin, BaseEstimator):
    """Spectral clustering: k-means (or another assignment) on a graph's spectral embedding.

    Builds an affinity graph from the data, embeds it with the eigenvectors
    of the graph's normalised Laplacian, and clusters the embedding. Good for
    non-convex clusters (two moons). Same API as
    ``sklearn.cluster.SpectralClustering``.

    Parameters
    ----------
    n_clusters : int, default=8
        Dimension of the projection subspace and number of clusters.
    eigen_solver : {'arpack', 'lobpcg', 'amg'}, default=None
        None: shift-invert block subspace iteration (ours, robust to repeated
        eigenvalues); for large sparse graphs with many entries per row, no
        factorisation (exact null space + LOBPCG, see docs/spectral.md). 'arpack': scipy's ARPACK in shift-invert mode. 'lobpcg':
        scipy's LOBPCG preconditioned by the shifted factorisation. 'amg':
        LOBPCG with a pyamg preconditioner (needs pyamg; a clear error
        otherwise).
    n_components : int, default=None
        Number of eigenvectors; ``n_clusters`` when None.
    random_state : int, RandomState instance or None, default=None
        Seeds the eigensolver's start vectors and the label assignment.
    n_init : int, default=10
        Number of k-means runs (``assign_labels='kmeans'``).
    gamma : float, default=1.0
        Kernel coefficient of rbf, poly, sigmoid, laplacian and chi2 kernels.
        Ignored for ``affinity='nearest_neighbors'``.
    affinity : str or callable, default='rbf'
        'rbf' (``exp(-gamma ||x - y||^2)``), 'nearest_neighbors' (symmetrised
        k-NN connectivity, sparse), 'precomputed' (``X`` is the affinity),
        'precomputed_nearest_neighbors' (``X`` is a distance matrix; the
        k-NN connectivity of it is used), one of the kernel names 'linear',
        'poly', 'polynomial', 'sigmoid', 'laplacian', 'cosine', 'chi2',
        'additive_chi2', or a callable ``f(x, y, **kernel_params) -> float``.
    n_neighbors : int, default=10
        Neighbours per point of the k-NN graph.
    eigen_tol : float or 'auto', default='auto'
        Stopping tolerance of the eigensolver.
    assign_labels : {'kmeans', 'discretize', 'cluster_qr'}, default='kmeans'
    degree : float, default=3
        Degree of the polynomial kernel.
    coef0 : float, default=1
        Zero coefficient of the polynomial and sigmoid kernels.
    kernel_params : dict, default=None
        Keyword arguments of a callable affinity.
    n_jobs : int, default=None
        Accepted for compatibility; the kernels use numba's thread pool
        (``NUMBA_NUM_THREADS``).
    verbose : bool, default=False

    Attributes
    ----------
    affinity_matrix_ : ndarray or sparse matrix of shape (n_samples, n_samples)
        The affinity used: dense for rbf with n <= DENSE_RBF_MAX_SAMPLES and for
        the other kernels, CSR for nearest-neighbour graphs and for the sparse
        RBF above that size.
    labels_ : ndarray of shape (n_samples,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string column names.

    Notes
    -----
    Large data: the dense RBF needs n^2 memory; above
    :data:`DENSE_RBF_MAX_SAMPLES` samples the RBF affinity is the sparse
    matrix of the pairs with affinity >= :data:`RBF_SPARSE_TOL` (radius
    ``sqrt(-ln(tol) / gamma)``), the dense result up to that tolerance. If even
    that would exceed :data:`MAX_AFFINITY_BYTES`, ``fit`` fails before
    allocating it, with the memory it needs, and suggests
    ``affinity='nearest_neighbors'``.

    Complexity: dense rbf, O(n^2 d) for the affinity, O(n^3 / 3) for the
    Cholesky factorisation, O(n^2 k) per eigensolver iteration, O(n^2) memory;
    nearest_neighbors, O(n log n) k-d tree search (d <= 16, else O(n^2 d / chunk)
    brute force), O(n k) memory for the graph, plus a sparse LU.

    References
    ----------
    Shi & Malik (2000); Ng, Jordan & Weiss (2001); von Luxburg (2007), A
    tutorial on spectral clustering; Yu & Shi (2003); Damle, Minden & Ying (2019).

    Examples
    --------
    >>> from clusterlab import SpectralClustering
    >>> from clusterlab.datasets import load_moons
    >>> X = load_moons(n_samples=200)
    >>> sc = SpectralClustering(n_clusters=2, gamma=100, random_state=42).fit(X)
    >>> sc.labels_.shape, sc.affinity_matrix_.shape
    ((200,), (200, 200))
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "eigen_solver": [StrOptions({"arpack", "lobpcg", "amg"}), None],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "gamma": [Interval(Real, 0, None, closed="left")],
        "affinity": [
            callable,
            StrOptions(_KERNELS | {"nearest_neighbors", "precomputed",
                                   "precomputed_nearest_neighbors"}),
        ],
        "n_neighbors": [Interval(Integral, 1, None, closed="left")],
        "eigen_tol": [Interval(Real, 0.0, None, closed="left"), StrOptions({"auto"})],
        "assign_labels": [StrOptions({"kmeans", "discretize", "cluster_qr"})],
        "degree": [Interval(Real, 0, None, closed="left")],
        "coef0": [Interval(Real, None, None, closed="neither")],
        "kernel_params": [dict, None],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(self, n_clusters=8, *, eigen_solver=None, n_components=None,
                 random_state=None, n_init=10, gamma=1.0, affinity="rbf", n_neighbors=10,
                 eigen_tol="auto", assign_labels="kmeans", degree=3, coef0=1,
                 kernel_params=None, n_jobs=None, verbose=False):
        self.n_clusters = n_clusters
        self.eigen_solver = eigen_solver
        self.n_components = n_components
        self.random_state = random_state
        self.n_init = n_init
        self.gamma = gamma
        self.affinity = affinity
        self.n_neighbors = n_neighbors
        self.eigen_tol = eigen_tol
        self.assign_labels = assign_labels
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.n_jobs = n_jobs
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.input_tags.pairwise = self.affinity in ("precomputed",
                                                     "precomputed_nearest_neighbors")
        return tags

    def _build_affinity(self, X):
        n = X.shape[0]
        affinity = self.affinity
        if affinity == "precomputed":
            _check_square_symmetric(X, "affinity='precomputed'")
            return X
        if affinity == "precomputed_nearest_neighbors":
            # a k-NN distance graph is directed (not symmetric): only the shape is checked
            _check_square(X, "affinity='precomputed_nearest_neighbors'")
            if (X.data if sp.issparse(X) else X).min(initial=0) < 0:
                raise ValueError("Negative values in data passed to a precomputed distance "
                                 "matrix: affinity='precomputed_nearest_neighbors' expects "
                                 "distances (>= 0).")
            self._check_n_neighbors(n)
            return _precomputed_knn(X, self.n_neighbors)
        Xd = X.toarray() if sp.issparse(X) else X
        Xd = np.ascontiguousarray(Xd)
        if affinity == "nearest_neighbors":
            self._check_n_neighbors(n)
            A = _knn_connectivity(_knn_indices(Xd, self.n_neighbors), n)
            return A
        if callable(affinity):
            return _callable_affinity(Xd, affinity, dict(self.kernel_params or {}))
        if affinity == "rbf":
            return rbf_affinity(Xd, self.gamma)
        return _named_kernel(Xd, affinity, self.gamma, self.degree, self.coef0)

    def _check_n_neighbors(self, n):
        if self.n_neighbors > n:
            raise ValueError(
                f"n_neighbors={self.n_neighbors} must be <= n_samples={n}: lower n_neighbors "
                "or pass more samples."
            )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build the affinity from ``X`` and cluster it.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) or \
                (n_samples, n_samples)
            Feature vectors, or the affinity / distance matrix when
            ``affinity`` is 'precomputed' / 'precomputed_nearest_neighbors'.
        y : Ignored

        Returns
        -------
        self : SpectralClustering
        """
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"],
                          dtype=[np.float64, np.float32], ensure_min_samples=2)
        allow_squared = self.affinity in ("precomputed", "precomputed_nearest_neighbors")
        if X.shape[0] == X.shape[1] and not allow_squared:
            warnings.warn(
                "The spectral clustering API has changed. ``fit`` now constructs an affinity "
                "matrix from data. To use a custom affinity matrix, set "
                "``affinity=precomputed``.", stacklevel=2)
        if allow_squared:
            _check_square(X, f"affinity={self.affinity!r}")
        check_n_clusters(self.n_clusters, X.shape[0])
        self.affinity_matrix_ = self._build_affinity(X)
        random_state = check_random_state(self.random_state)
        n_components = self.n_clusters if self.n_components is None else self.n_components
        if n_components > X.shape[0]:
            raise ValueError(f"n_components={n_components} must be <= n_samples="
                             f"{X.shape[0]}.")
        if self.verbose:
            print(f"Computing the spectral embedding ({n_components} components)")
        maps = spectral_embedding_normalized(self.affinity_matrix_, n_components,
                                             eigen_solver=self.eigen_solver,
                                             random_state=random_state,
                                             eigen_tol=self.eigen_tol)
        if self.verbose:
            print(f"Computing label assignment using {self.assign_labels}")
        if self.assign_labels == "kmeans":
            labels = _assign_kmeans(maps, self.n_clusters, random_state, self.n_init,
                                    self.verbose)
        elif self.assign_labels == "cluster_qr":
            labels = cluster_qr(maps)
        else:
            labels = discretize(maps, random_state=random_state)
        self.labels_ = _relabel_consecutive(np.asarray(labels))
        return self

    def fit_predict(self, X, y=None):
        """Fit and return ``labels_``."""
        return super().fit_predict(X, y)
