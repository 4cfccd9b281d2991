"""Spectral clustering, step 2: the spectral embedding of an affinity graph.

The symmetric normalised Laplacian ``L = I - D^-1/2 A D^-1/2`` is built by our
kernels (:mod:`clusterlab._kernels.affinity`); its smallest eigenpairs come
from one of these paths, chosen in :func:`_embedding`:

* *shift-invert block subspace iteration* (ours, the default): one Cholesky /
  sparse LU factorisation of ``L + sigma I``, then block solves and
  Rayleigh-Ritz; robust when eigenvalues are repeated, as for a disconnected
  graph (:func:`_factorize_shifted`, :func:`_subspace_iteration`);
* a short Lanczos run first on a connected dense graph with a wide kernel
  (:func:`_try_lanczos`, from
  :data:`clusterlab._config.SPECTRAL_LANCZOS_MIN_SAMPLES` samples);
* scipy's ARPACK / LOBPCG (``eigen_solver='arpack'`` / ``'lobpcg'``) driven
  by the same factorisation, or LOBPCG with a pyamg preconditioner (``'amg'``);
* for large sparse graphs with many entries per row
  (:data:`~clusterlab._config.SPECTRAL_SPARSE_ITERATIVE_MIN_SAMPLES`,
  :data:`~clusterlab._config.SPECTRAL_SPARSE_ITERATIVE_MIN_ROW_NNZ`), no
  factorisation at all: the exact null space from the connected components,
  then LOBPCG on products by ``L`` for whatever is left
  (:func:`_iterative_sparse_embedding`);
* a dense ``eigh`` for tiny problems.
"""

import math
import warnings

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from clusterlab import _config
from clusterlab._kernels import affinity as _ak
from clusterlab._kernels.row_groups import on_threads


#: Shift of the Laplacian for shift-invert: ``L + _SHIFT * I`` is positive
#: definite (L is positive semi-definite with eigenvalues in [0, 2]).
_SHIFT = 1e-5

#: Iteration budgets: the subspace iteration; Lanczos restarts before giving up
#: (see _try_lanczos); LOBPCG in the iterative sparse path, and its absolute
#: residual tolerance for eigen_tol='auto'.
_SUBSPACE_MAX_ITER = 300
#: iterations after which a subspace iteration too slow to converge hands over to ARPACK
_SUBSPACE_PROBE_ITER = 30
_LANCZOS_MAX_RESTARTS = 1
_ITERATIVE_MAX_ITER = 2000
_ITERATIVE_TOL = 1e-6


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
    need = 8 * n * n  # the dense Laplacian, factorised in place later
    _config.refuse_beyond_memory(need, lambda avail: (
        f"spectral clustering of a dense affinity of {n} samples needs its {n}x{n} "
        f"normalised Laplacian ({need / 2**30:.1f} GiB) but about {avail / 2**30:.1f} GiB "
        "is free. Pass a sparse affinity (affinity='nearest_neighbors', or a sparse "
        "'precomputed' graph) or fit on a subsample."))
    L = np.empty((n, n), dtype=np.float64)
    dd = np.empty(n, dtype=np.float64)
    on_threads(_ak.dense_normalized_laplacian,
               n >= _config.SPECTRAL_DENSE_THREADS_MIN_SAMPLES)(A, L, dd)
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
        except MemoryError:  # SuperLU's fill-in (it says only "Can't expand MemType")
            del M
            raise MemoryError(
                f"spectral embedding: the sparse LU factorisation of the {n} x {n} Laplacian "
                f"({L.nnz} entries) ran out of memory as it filled in. Use "
                "eigen_solver='amg' (pip install pyamg: no factorisation), fewer n_neighbors, "
                "or fit on a subsample.") from None
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
    sigma))^iter`` and repeated eigenvalues cause no trouble. Returns
    ``(eigenvalues, vectors)``, or None when it would not converge within
    ``_SUBSPACE_MAX_ITER`` iterations (judged from the residual's rate after
    ``_SUBSPACE_PROBE_ITER``): the caller then runs ARPACK.
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
    best, stalled, first = np.inf, 0, None
    for it in range(_SUBSPACE_MAX_ITER):
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
        if first is None:
            first = worst
        elif it == _SUBSPACE_PROBE_ITER and worst < first:
            rate = (worst / first) ** (1.0 / it)  # residual factor per iteration
            if np.log(tol / worst) / np.log(rate) > _SUBSPACE_MAX_ITER - it:
                return None
        elif it == _SUBSPACE_PROBE_ITER:
            return None
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
        return None
    return 1.0 / mu[:k] - _SHIFT, V[:, :k]


def _arpack_inverse(solve, n, k, v0, eigen_tol):
    """The k eigenvectors of ``L`` of smallest eigenvalues by ARPACK on the
    inverse operator (what scikit-learn's default solver does): the fallback
    when subspace iteration converges too slowly -- the wanted eigenvalues
    packed against the next ones, as a wide kernel on data without clusters
    gives. Warns when ARPACK does not converge either."""
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    op = LinearOperator((n, n), matvec=solve, matmat=solve, dtype=np.float64)
    tol = 0.0 if eigen_tol == "auto" else eigen_tol
    try:
        mu, V = eigsh(op, k=k, which="LM", tol=tol, v0=v0)
    except ArpackNoConvergence as exc:
        warnings.warn("The spectral embedding did not converge; the eigenvectors may be "
                      "inaccurate.", ConvergenceWarning, stacklevel=5)
        mu, V = exc.eigenvalues, exc.eigenvectors
    return V[:, np.argsort(-mu)][:, :k]


def _wide_kernel(A):
    """True when most affinities are non-negligible (>= SPECTRAL_RBF_SPARSE_TOL), on strided rows.

    A narrow kernel (few non-negligible entries per row) makes a graph with local
    structure, whose small eigenvalues are clustered: Lanczos would not converge in
    one run, so it is not tried.
    """
    rows = np.asarray(A[:: max(1, A.shape[0] // 200)])
    return bool(np.mean(rows >= _config.SPECTRAL_RBF_SPARSE_TOL) > 0.5)


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
    return (eigen_solver is None and sp.issparse(L)
            and n >= _config.SPECTRAL_SPARSE_ITERATIVE_MIN_SAMPLES
            and L.nnz >= _config.SPECTRAL_SPARSE_ITERATIVE_MIN_ROW_NNZ * n)


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
        None: for a sparse graph of at least SPECTRAL_SPARSE_ITERATIVE_MIN_SAMPLES
        samples with at least SPECTRAL_SPARSE_ITERATIVE_MIN_ROW_NNZ stored entries
        per row (both in :mod:`clusterlab._config`), the factorisation-free path
        (exact null space, then LOBPCG; see ``_iterative_sparse_embedding``); for
        a connected dense graph of at least SPECTRAL_LANCZOS_MIN_SAMPLES samples
        where most affinities are >= SPECTRAL_RBF_SPARSE_TOL (a wide kernel), one
        short Lanczos run on ``I - L`` first (kept if it converges); otherwise
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
    SPECTRAL_SPARSE_ITERATIVE_MIN_SAMPLES samples and
    SPECTRAL_SPARSE_ITERATIVE_MIN_ROW_NNZ entries per row, eigen_solver=None):
    no factorisation; O(nnz) for the exact null space from the connected
    components (all of the answer when there are at least n_components
    components), then LOBPCG at O(nnz k) per iteration and O(n k) memory above
    the Laplacian. Below SPECTRAL_SMALL_BLAS_SAMPLES samples BLAS runs on one
    thread; above, the eigensolver's BLAS runs on the cores free when it starts
    (:func:`clusterlab._config.factorization_threads`), numba's Laplacian with
    BLAS on one thread.
    """
    random_state = check_random_state(random_state)
    n = affinity.shape[0]
    k = int(n_components)
    if k > n:
        raise ValueError(f"n_components={k} must be <= n_samples={n}.")
    # numba's parallel Laplacian with BLAS on one thread; the eigensolver's BLAS
    # (factorisation, solves, QRs) with numba on one thread (_solver_blas)
    with _config.single_threaded_blas():
        comp_labels = None
        if sp.issparse(affinity):
            n_comp, comp_labels = connected_components(affinity, directed=False)
        else:
            n_comp = _ak.dense_component_count(np.ascontiguousarray(affinity),
                                               np.empty(n, dtype=np.int64),
                                               np.empty(n, dtype=bool))
        if n_comp > 1:
            warnings.warn("Graph is not fully connected, spectral embedding may not work as "
                          "expected.", UserWarning, stacklevel=3)
        L, dd = _normalized_laplacian(affinity)
    with _solver_blas(n):
        return _embedding(affinity, L, dd, n_comp, comp_labels, n, k, eigen_solver,
                          random_state, eigen_tol)


def _solver_blas(n):
    """BLAS threads for the eigensolver: one below SPECTRAL_SMALL_BLAS_SAMPLES
    samples, else :func:`clusterlab._config.factorization_blas` (the cores free
    right now: its Cholesky / LU and thin solves collapse when their threads
    wait for a busy core)."""
    if n < _config.SPECTRAL_SMALL_BLAS_SAMPLES:
        return _config.single_threaded_blas()
    return _config.factorization_blas()


def _embedding(affinity, L, dd, n_comp, comp_labels, n, k, eigen_solver, random_state,
               eigen_tol):
    # spectral_embedding_normalized after validation and the Laplacian

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
            and n >= _config.SPECTRAL_LANCZOS_MIN_SAMPLES and _wide_kernel(affinity)):
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
            V = _arpack_inverse(solve, n, k, v0, eigen_tol)
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
            found = _subspace_iteration(solve, n, k, v0, tol)
            V = found[1] if found is not None else _arpack_inverse(solve, n, k, v0, eigen_tol)
    maps = V / dd[:, None]
    # deterministic signs: the largest absolute entry of each vector is positive
    idx = np.argmax(np.abs(maps), axis=0)
    signs = np.sign(maps[idx, np.arange(maps.shape[1])])
    signs[signs == 0] = 1.0
    maps *= signs
    return maps
