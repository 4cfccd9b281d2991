"""Numba kernels for Gaussian mixtures (EM and variational inference).

Every kernel streams over the rows of ``X`` in chunks and never forms an
``n_samples x n_components x n_features`` temporary. The model is passed in
the precision-Cholesky parametrisation, in one array layout for all four
covariance types so that each kernel compiles once per input dtype:

``cov_code``
    :data:`FULL` (0), :data:`TIED` (1), :data:`DIAG` (2), :data:`SPHERICAL` (3).
``prec`` : float64 array of shape (k, a, b)
    * full: ``(k, d, d)``, the upper-triangular precision Cholesky factors
      ``U_k`` (``precision_k = U_k U_k^T``);
    * tied: ``(1, d, d)``, the shared upper-triangular factor ``U``;
    * diag: ``(k, 1, d)``, the diagonal precisions (``U_k**2``, not ``U_k``);
    * spherical: ``(k, 1, 1)``, the precisions (``U_k**2``).
``aux`` : float64 array of shape (k, d)
    For tied, ``means @ U`` (so that ``(x - mu_k) U = x U - mu_k U`` costs
    ``d`` per component after one triangular product per row); otherwise the
    means themselves (ignored).
``log_const`` : float64 array of shape (k,)
    Everything in the weighted log-probability that does not depend on ``x``:
    ``log w_k + log det U_k - d/2 log(2 pi)`` for EM, plus the variational
    corrections for the Bayesian mixture. The weighted log-probability of row
    ``x`` under component ``k`` is ``log_const[k] - 0.5 * ||(x - mu_k) U_k||^2``.

All arithmetic is done in float64 whatever the dtype of ``X`` (float32 rows are
widened as they are read). Parallel kernels split the rows into a fixed
number of chunks that depends only on ``n_samples`` and ``rows_per_chunk``,
write one partial result per chunk, and leave the (fixed-order) reduction to
the caller, so results do not depend on the number of threads.
"""

import math

import numpy as np
from numba import njit, prange
from clusterlab._kernels.row_groups import parallel_kernel

FULL = 0
TIED = 1
DIAG = 2
SPHERICAL = 3

COV_CODES = {"full": FULL, "tied": TIED, "diag": DIAG, "spherical": SPHERICAL}


BLOCK = 64  # rows processed together (transposed, so inner loops run over rows)


@njit(cache=True, nogil=True)
def _load_block(X, start, nb, shift, xT, xsT):
    """Copy rows ``start:start+nb`` of X into ``xT`` (d, BLOCK) and ``xsT = xT - shift``.

    X : (n, d) IN. shift : (d,) IN. xT, xsT : (d, BLOCK) float64 OUT (first nb columns).
    """
    d = X.shape[1]
    for b in range(nb):
        for j in range(d):
            v = np.float64(X[start + b, j])
            xT[j, b] = v
            xsT[j, b] = v - shift[j]


@njit(cache=True, nogil=True)
def _block_weighted_log_prob(xT, nb, cov_code, means, prec, aux, log_const, diffT, yT, wlp):
    """Weighted log-probabilities of a block of rows under every component.

    xT : (d, BLOCK) float64 IN, the rows as columns (first nb used).
    means, prec, aux, log_const : IN, the model (see module docstring).
    diffT, yT : (d, BLOCK) float64 scratch, overwritten.
    wlp : (k, BLOCK) float64 OUT, ``log_const[k] - 0.5 * Mahalanobis^2``.
    """
    n_components, d = means.shape
    maha = np.empty(nb)
    if cov_code == TIED:
        for j in range(d):
            for b in range(nb):
                yT[j, b] = 0.0
        for i in range(d):
            for j in range(i, d):
                u = prec[0, i, j]
                for b in range(nb):
                    yT[j, b] += xT[i, b] * u
    for k in range(n_components):
        for b in range(nb):
            maha[b] = 0.0
        if cov_code == FULL:
            for i in range(d):
                mu = means[k, i]
                for b in range(nb):
                    diffT[i, b] = xT[i, b] - mu
                    yT[i, b] = 0.0
            for i in range(d):
                for j in range(i, d):
                    u = prec[k, i, j]
                    for b in range(nb):
                        yT[j, b] += diffT[i, b] * u
            for j in range(d):
                for b in range(nb):
                    maha[b] += yT[j, b] * yT[j, b]
        elif cov_code == TIED:
            for j in range(d):
                a = aux[k, j]
                for b in range(nb):
                    t = yT[j, b] - a
                    maha[b] += t * t
        elif cov_code == DIAG:
            for j in range(d):
                mu = means[k, j]
                p = prec[k, 0, j]
                for b in range(nb):
                    t = xT[j, b] - mu
                    maha[b] += t * t * p
        else:
            for j in range(d):
                mu = means[k, j]
                for b in range(nb):
                    t = xT[j, b] - mu
                    maha[b] += t * t
            p = prec[k, 0, 0]
            for b in range(nb):
                maha[b] *= p
        c = log_const[k]
        for b in range(nb):
            wlp[k, b] = c - 0.5 * maha[b]


@njit(cache=True, nogil=True)
def _block_log_norm(wlp, nb, lse):
    """Column-wise log-sum-exp: ``lse[b] = log sum_k exp(wlp[k, b])`` (overflow-safe).

    wlp : (k, BLOCK) IN. lse : (BLOCK,) float64 OUT.
    """
    n_components = wlp.shape[0]
    vmax = np.empty(nb)
    for b in range(nb):
        vmax[b] = wlp[0, b]
    for k in range(1, n_components):
        for b in range(nb):
            if wlp[k, b] > vmax[b]:
                vmax[b] = wlp[k, b]
    s = np.zeros(nb)
    for k in range(n_components):
        for b in range(nb):
            s[b] += math.exp(wlp[k, b] - vmax[b])
    for b in range(nb):
        if vmax[b] == -np.inf:
            lse[b] = -np.inf
        else:
            lse[b] = vmax[b] + math.log(s[b])


@njit(cache=True, nogil=True)
def _block_accumulate(xsT, resp, nb, cov_code, c, nk, sx, sxx, wx):
    """Add a block's weighted moments to chunk ``c``'s statistics.

    xsT : (d, BLOCK) float64 IN, rows minus ``shift``, as columns.
    resp : (k, BLOCK) float64 IN, responsibilities.
    nk : (n_chunks, k) OUT (accumulated), sums of responsibilities.
    sx : (n_chunks, k, d) OUT (accumulated), sums of ``resp * xs``.
    sxx : (n_chunks, k, a, d) OUT (accumulated): full, upper triangle of
        ``sum resp * xs xs^T``; diag/spherical, ``sum resp * xs**2`` in row 0;
        tied, untouched (its second moment does not depend on resp).
    wx : (d, BLOCK) float64 scratch.
    """
    n_components = resp.shape[0]
    d = xsT.shape[0]
    for k in range(n_components):
        rsum = 0.0
        for b in range(nb):
            rsum += resp[k, b]
        if rsum == 0.0:  # exact zeros contribute nothing
            continue
        nk[c, k] += rsum
        for i in range(d):
            acc = 0.0
            for b in range(nb):
                w = resp[k, b] * xsT[i, b]
                wx[i, b] = w
                acc += w
            sx[c, k, i] += acc
        if cov_code == FULL:
            for i in range(d):
                for j in range(i, d):
                    acc = 0.0
                    for b in range(nb):
                        acc += wx[i, b] * xsT[j, b]
                    sxx[c, k, i, j] += acc
        elif cov_code == DIAG or cov_code == SPHERICAL:
            for j in range(d):
                acc = 0.0
                for b in range(nb):
                    acc += wx[j, b] * xsT[j, b]
                sxx[c, k, 0, j] += acc


@njit(cache=True, nogil=True)
def _em_chunk(c, X, cov_code, means, prec, aux, log_const, shift, rows_per_chunk,
              nk, sx, sxx, log_norm_sum, entropy_sum):
    """Chunk ``c`` of :func:`gmm_em_pass` (same arguments)."""
    n, d = X.shape
    n_components = means.shape[0]
    start = c * rows_per_chunk
    stop = min(n, start + rows_per_chunk)
    xT = np.empty((d, BLOCK))
    xsT = np.empty((d, BLOCK))
    diffT = np.empty((d, BLOCK))
    yT = np.empty((d, BLOCK))
    wlp = np.empty((n_components, BLOCK))
    lse = np.empty(BLOCK)
    nk[c, :] = 0.0
    sx[c, :, :] = 0.0
    sxx[c, :, :, :] = 0.0
    ll = 0.0
    ent = 0.0
    for b0 in range(start, stop, BLOCK):
        nb = min(BLOCK, stop - b0)
        _load_block(X, b0, nb, shift, xT, xsT)
        _block_weighted_log_prob(xT, nb, cov_code, means, prec, aux, log_const,
                                 diffT, yT, wlp)
        _block_log_norm(wlp, nb, lse)
        for b in range(nb):
            ll += lse[b]
        for k in range(n_components):
            for b in range(nb):
                log_resp = wlp[k, b] - lse[b]
                r = math.exp(log_resp)
                wlp[k, b] = r
                if r > 0.0:
                    ent += r * log_resp
        _block_accumulate(xsT, wlp, nb, cov_code, c, nk, sx, sxx, diffT)
    log_norm_sum[c] = ll
    entropy_sum[c] = ent


@parallel_kernel(cache=True, nogil=True)
def gmm_em_pass(X, cov_code, means, prec, aux, log_const, shift, rows_per_chunk,
                nk, sx, sxx, log_norm_sum, entropy_sum):
    """One fused E-step + M-step-statistics pass over ``X``.

    For each row: weighted log-probabilities under the current model,
    log-sum-exp (``log p(x)``), responsibilities, and their contribution to
    the sufficient statistics of the next M-step -- all in one read of ``X``.
    Rows are processed in blocks of :data:`BLOCK`, transposed, so that the
    inner loops run over rows and vectorise. Chunks run in parallel.

    Parameters
    ----------
    X : (n, d) float32/float64, C-contiguous, IN.
    cov_code, means (k, d) float64, prec, aux, log_const : IN, the model.
    shift : (d,) float64 IN, subtracted from rows before accumulating moments
        (usually the data mean: keeps the second moments well conditioned).
    rows_per_chunk : int IN; chunk ``c`` covers rows
        ``[c * rows_per_chunk, min(n, (c + 1) * rows_per_chunk))``.
    nk : (n_chunks, k) float64 OUT, per-chunk sums of responsibilities.
    sx : (n_chunks, k, d) float64 OUT, per-chunk sums of ``resp * (x - shift)``.
    sxx : (n_chunks, k, a, d) float64 OUT, per-chunk second moments (see
        :func:`_block_accumulate`; ``a = d`` for full, 1 for diag/spherical,
        anything for tied).
    log_norm_sum : (n_chunks,) float64 OUT, per-chunk sums of ``log p(x)``.
    entropy_sum : (n_chunks,) float64 OUT, per-chunk sums of ``resp * log resp``.

    Notes
    -----
    Time O(n k d^2) for full (O(n d^2 + n k d) tied, O(n k d) diag/spherical);
    scratch O((k + d) * BLOCK) per chunk besides the outputs.
    """
    for c in prange(nk.shape[0]):
        _em_chunk(c, X, cov_code, means, prec, aux, log_const, shift, rows_per_chunk,
                  nk, sx, sxx, log_norm_sum, entropy_sum)


@njit(cache=True, nogil=True)
def gmm_em_pass_serial(X, cov_code, means, prec, aux, log_const, shift, rows_per_chunk,
                       nk, sx, sxx, log_norm_sum, entropy_sum):
    """:func:`gmm_em_pass` on one thread (small inputs); identical results."""
    for c in range(nk.shape[0]):
        _em_chunk(c, X, cov_code, means, prec, aux, log_const, shift, rows_per_chunk,
                  nk, sx, sxx, log_norm_sum, entropy_sum)


@njit(cache=True, nogil=True)
def _stats_chunk(c, X, resp, cov_code, shift, rows_per_chunk, nk, sx, sxx):
    """Chunk ``c`` of :func:`gmm_stats_from_resp` (same arguments)."""
    n, d = X.shape
    n_components = resp.shape[1]
    start = c * rows_per_chunk
    stop = min(n, start + rows_per_chunk)
    xT = np.empty((d, BLOCK))
    xsT = np.empty((d, BLOCK))
    wx = np.empty((d, BLOCK))
    rT = np.empty((n_components, BLOCK))
    nk[c, :] = 0.0
    sx[c, :, :] = 0.0
    sxx[c, :, :, :] = 0.0
    for b0 in range(start, stop, BLOCK):
        nb = min(BLOCK, stop - b0)
        _load_block(X, b0, nb, shift, xT, xsT)
        for b in range(nb):
            for k in range(n_components):
                rT[k, b] = resp[b0 + b, k]
        _block_accumulate(xsT, rT, nb, cov_code, c, nk, sx, sxx, wx)


@parallel_kernel(cache=True, nogil=True)
def gmm_stats_from_resp(X, resp, cov_code, shift, rows_per_chunk, nk, sx, sxx):
    """M-step sufficient statistics for given responsibilities (initialisation).

    X : (n, d) IN. resp : (n, k) float64 IN, C-contiguous.
    cov_code, shift, rows_per_chunk : IN, as in :func:`gmm_em_pass`.
    nk, sx, sxx : OUT, per-chunk statistics as in :func:`gmm_em_pass`.

    Time O(n k d^2) (full) / O(n k d); scratch O((k + d) * BLOCK) per chunk.
    """
    for c in prange(nk.shape[0]):
        _stats_chunk(c, X, resp, cov_code, shift, rows_per_chunk, nk, sx, sxx)


@njit(cache=True, nogil=True)
def gmm_stats_from_resp_serial(X, resp, cov_code, shift, rows_per_chunk, nk, sx, sxx):
    """:func:`gmm_stats_from_resp` on one thread; identical results."""
    for c in range(nk.shape[0]):
        _stats_chunk(c, X, resp, cov_code, shift, rows_per_chunk, nk, sx, sxx)


@njit(cache=True, nogil=True)
def _score_chunk(c, X, cov_code, means, prec, aux, log_const, rows_per_chunk,
                 log_norm, labels, resp, want_resp):
    """Chunk ``c`` of :func:`gmm_score_rows` (same arguments)."""
    n, d = X.shape
    n_components = means.shape[0]
    start = c * rows_per_chunk
    stop = min(n, start + rows_per_chunk)
    zero = np.zeros(d)
    xT = np.empty((d, BLOCK))
    xsT = np.empty((d, BLOCK))
    diffT = np.empty((d, BLOCK))
    yT = np.empty((d, BLOCK))
    wlp = np.empty((n_components, BLOCK))
    lse = np.empty(BLOCK)
    for b0 in range(start, stop, BLOCK):
        nb = min(BLOCK, stop - b0)
        _load_block(X, b0, nb, zero, xT, xsT)
        _block_weighted_log_prob(xT, nb, cov_code, means, prec, aux, log_const,
                                 diffT, yT, wlp)
        _block_log_norm(wlp, nb, lse)
        for b in range(nb):
            r = b0 + b
            log_norm[r] = lse[b]
            best = 0
            for k in range(1, n_components):
                if wlp[k, b] > wlp[best, b]:
                    best = k
            labels[r] = best
            if want_resp:
                for k in range(n_components):
                    resp[r, k] = math.exp(wlp[k, b] - lse[b])


@parallel_kernel(cache=True, nogil=True)
def gmm_score_rows(X, cov_code, means, prec, aux, log_const, rows_per_chunk,
                   log_norm, labels, resp, want_resp):
    """Per-row E-step outputs for prediction and scoring (chunks in parallel).

    X : (n, d) IN. cov_code, means, prec, aux, log_const : IN, the model.
    log_norm : (n,) float64 OUT, ``log p(x)`` (log-sum-exp of the weighted
        log-probabilities).
    labels : (n,) int64 OUT, most probable component (first on ties).
    resp : (n, k) float64 OUT if ``want_resp`` (posterior probabilities),
        else unused (may have 0 rows).

    Time O(n k d^2) full / O(n k d); scratch O((k + d) * BLOCK) per chunk.
    """
    n_chunks = (X.shape[0] + rows_per_chunk - 1) // rows_per_chunk
    for c in prange(n_chunks):
        _score_chunk(c, X, cov_code, means, prec, aux, log_const, rows_per_chunk,
                     log_norm, labels, resp, want_resp)


@njit(cache=True, nogil=True)
def gmm_score_rows_serial(X, cov_code, means, prec, aux, log_const, rows_per_chunk,
                          log_norm, labels, resp, want_resp):
    """:func:`gmm_score_rows` on one thread; identical results."""
    n_chunks = (X.shape[0] + rows_per_chunk - 1) // rows_per_chunk
    for c in range(n_chunks):
        _score_chunk(c, X, cov_code, means, prec, aux, log_const, rows_per_chunk,
                     log_norm, labels, resp, want_resp)


@njit(cache=True, nogil=True)
def precision_cholesky_full(covariances, out):
    """Upper-triangular precision Cholesky factors of a stack of covariances.

    covariances : (k, d, d) float64 IN, symmetric.
    out : (k, d, d) float64 OUT, ``U_k`` with ``U_k U_k^T = inv(covariances[k])``
        (``U_k = inv(L_k)^T`` where ``L_k`` is the lower Cholesky factor).

    Returns the index of the first component that is not positive definite,
    or -1 when all are. Time O(k d^3), scratch O(d^2).
    """
    n_components, d, _ = covariances.shape
    L = np.empty((d, d))
    for k in range(n_components):
        for i in range(d):
            for j in range(d):
                L[i, j] = 0.0
        for j in range(d):
            s = covariances[k, j, j]
            for m in range(j):
                s -= L[j, m] * L[j, m]
            if not (s > 0.0) or not np.isfinite(s):
                return k
            L[j, j] = math.sqrt(s)
            for i in range(j + 1, d):
                t = covariances[k, i, j]
                for m in range(j):
                    t -= L[i, m] * L[j, m]
                L[i, j] = t / L[j, j]
        # inv(L) is lower triangular; out = inv(L)^T, so out[j, i] = inv(L)[i, j]
        for i in range(d):
            for j in range(d):
                out[k, i, j] = 0.0
        for col in range(d):
            for i in range(col, d):
                t = 1.0 if i == col else 0.0
                for m in range(col, i):
                    t -= L[i, m] * out[k, col, m]
                out[k, col, i] = t / L[i, i]
    return -1
