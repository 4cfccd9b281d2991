"""Numba kernels for Gaussian mixtures (EM and variational inference).

One parallel kernel, :func:`_gmm_groups`, does every pass over the data (an
EM iteration, the statistics of initial responsibilities, scoring rows); the
plain-Python :func:`gmm_pass` runs it on numba's threads or on one
(:func:`clusterlab._kernels.row_groups.on_threads`). The rows are split into a
fixed number of chunks that depends only on ``n_samples`` and
``rows_per_chunk``; each chunk writes its own partial statistics and the
caller reduces them in chunk order, so results do not depend on the number of
threads.

Inside a chunk the rows go through in blocks of :data:`BLOCK` rows, held
transposed (features x rows) in float64 whatever the dtype of ``X`` (float32
rows are widened as they are read, so every sum is a float64 sum), and
shifted by ``shift`` (usually the data mean, which keeps the second moments
well conditioned). For a block:

* E-step. ``full``/``tied``: one BLAS product ``Y = W^T Xs`` with ``W`` the
  precision Cholesky factors side by side (``(k d) x d`` for full, ``d x d``
  for tied), then ``||Y_k - c_k||^2`` with ``c_k = (mu_k - shift) U_k``.
  ``diag``/``spherical``: ``sum_j p_kj (xs_j - m_kj)^2`` directly (3 flops per
  row, component and feature; no cancellation).
* log-sum-exp over components and the responsibilities, one ``exp`` per
  (row, component);
* M-step statistics by BLAS products of the responsibilities with the
  block's features ``F`` (rows ``xs``, [``xs**2`` for diag/spherical], ``1``):
  ``R F^T`` gives ``sum r xs``, ``sum r xs**2`` and ``sum r`` at once; for full
  covariances ``Z F^T`` with ``Z = (r_k * F)`` stacked over components gives
  the augmented moment matrices ``sum r (xs, 1)(xs, 1)^T``.

The model is passed in the precision-Cholesky parametrisation:

``cov_code``
    :data:`FULL` (0), :data:`TIED` (1), :data:`DIAG` (2), :data:`SPHERICAL` (3).
``prec`` : float64 array of shape (k, a, b)
    * full: ``(k, d, d)``, the upper-triangular precision Cholesky factors
      ``U_k`` (``precision_k = U_k U_k^T``);
    * tied: ``(1, d, d)``, the shared upper-triangular factor ``U``;
    * diag: ``(k, 1, d)``, the diagonal precisions (``U_k**2``, not ``U_k``);
    * spherical: ``(k, 1, 1)``, the precisions (``U_k**2``).
``log_const`` : float64 array of shape (k,)
    Everything in the weighted log-probability that does not depend on ``x``:
    ``log w_k + log det U_k - d/2 log(2 pi)`` for EM, plus the variational
    corrections for the Bayesian mixture. The weighted log-probability of row
    ``x`` under component ``k`` is ``log_const[k] - 0.5 * ||(x - mu_k) U_k||^2``.

Arithmetic per EM iteration: two products of ``2 n k (d+1)^2`` flops for full
(``2 n d^2 + 2 n k (d+1)`` tied, ``2 n k (2d+1) + 3 n k d`` diag/spherical), plus
``n k`` exponentials.
"""

import math

import numpy as np
from llvmlite import ir
from numba import njit, prange
from numba.core import types
from numba.extending import intrinsic

from clusterlab._kernels.distances import FASTMATH
from clusterlab._kernels.row_groups import on_threads, parallel_kernel

FULL = 0
TIED = 1
DIAG = 2
SPHERICAL = 3

COV_CODES = {"full": FULL, "tied": TIED, "diag": DIAG, "spherical": SPHERICAL}

#: What a pass of :func:`gmm_pass` computes.
MODE_EM = 0      # E-step + the next M-step's statistics, log p(x) and entropy sums
MODE_STATS = 1   # statistics of given responsibilities (initialisation)
MODE_SCORE = 2   # per-row log p(x), labels and (optionally) responsibilities

#: Rows per block: the block's (k (d+1)) x BLOCK products stay in L2.
BLOCK = 128


def n_features_rows(cov_code, n_features):
    """Rows of the feature block ``F``: ``xs`` (d), [``xs**2`` (d)], ``1``."""
    return 2 * n_features + 1 if cov_code in (DIAG, SPHERICAL) else n_features + 1


def model_operands(cov_code, means, prec, shift):
    """E-step operands, once per pass (numpy: a jitted version cost ~0.4 s of
    a first run's compilation for microseconds of work).

    Returns ``(Wt, cv, P)``, float64 C arrays: full, ``Wt`` (k d, d) with
    ``Wt[k d + j, i] = U_k[i, j]`` and ``cv[k d + j] = ((mu_k - shift) U_k)_j``
    (``U_k`` upper triangular: only ``i <= j`` counts); tied, ``Wt`` (d, d) and
    ``cv`` likewise with the one ``U``; diag/spherical, ``P`` (k, d) the
    precisions and ``cv`` (k d) ``mu_k - shift``.
    """
    n_components, d = means.shape
    centred = means - shift
    none = np.empty((0, d))
    if cov_code == FULL or cov_code == TIED:
        n_u = n_components if cov_code == FULL else 1
        U = np.triu(prec[:n_u])
        Wt = np.ascontiguousarray(prec[:n_u].transpose(0, 2, 1)).reshape(n_u * d, d)
        if cov_code == FULL:
            cv = np.einsum("ki,kij->kj", centred, U)
        else:
            cv = centred @ U[0]
        return Wt, np.ascontiguousarray(cv).reshape(-1), none
    if cov_code == DIAG:
        P = np.ascontiguousarray(prec[:, 0, :d])
    else:
        P = np.repeat(prec[:, 0, :1], d, axis=1)
    return none, np.ascontiguousarray(centred).reshape(-1), P


@njit(cache=True, nogil=True)
def _load_block(X, start, nb, shift, cov_code, xsT, F, Fr):
    """Rows ``start:start+nb`` of X, shifted, as columns of ``xsT`` and ``F``.

    X : (n, d) IN. shift : (d,) IN.
    xsT : (d, BLOCK) float64 OUT, ``x - shift``; columns past nb are zero.
    F : (f, BLOCK) float64 OUT, rows ``xs``, [``xs**2``], ``1`` (columns past nb zero).
    Fr : (BLOCK or 0, d + 1) float64 OUT when it has rows (full): ``(xs, 1)`` per
        row, row-major (rows past nb: anything; their responsibilities are zero).
    """
    d = X.shape[1]
    f = F.shape[0]
    for b in range(nb):
        for j in range(d):
            xsT[j, b] = np.float64(X[start + b, j]) - shift[j]
    if Fr.shape[0] > 0:
        for b in range(nb):
            for j in range(d):
                Fr[b, j] = np.float64(X[start + b, j]) - shift[j]
            Fr[b, d] = 1.0
    for j in range(d):
        for b in range(nb, BLOCK):
            xsT[j, b] = 0.0
    for j in range(d):
        for b in range(BLOCK):
            F[j, b] = xsT[j, b]
    if cov_code == DIAG or cov_code == SPHERICAL:
        for j in range(d):
            for b in range(BLOCK):
                F[d + j, b] = xsT[j, b] * xsT[j, b]
    for b in range(BLOCK):
        F[f - 1, b] = 1.0 if b < nb else 0.0


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _block_log_prob(xsT, cov_code, Wt, cv, P, log_const, Y, wlp):
    """Weighted log-probabilities of a block under every component.

    xsT : (d, BLOCK) IN. Wt, cv, P : IN, from :func:`model_operands`.
    log_const : (k,) IN. Y : (k d or d, BLOCK) float64 scratch.
    wlp : (k, BLOCK) float64 OUT, ``log_const[k] - 0.5 * Mahalanobis^2``.
    """
    n_components = wlp.shape[0]
    d = xsT.shape[0]
    maha = np.empty(BLOCK)
    if cov_code == FULL or cov_code == TIED:
        np.dot(Wt, xsT, Y)
    for k in range(n_components):
        for b in range(BLOCK):
            maha[b] = 0.0
        if cov_code == FULL or cov_code == TIED:
            row = k * d if cov_code == FULL else 0
            for j in range(d):
                c = cv[k * d + j]
                for b in range(BLOCK):
                    t = Y[row + j, b] - c
                    maha[b] += t * t
        else:
            for j in range(d):
                m = cv[k * d + j]
                p = P[k, j]
                for b in range(BLOCK):
                    t = xsT[j, b] - m
                    maha[b] += t * t * p
        c = log_const[k]
        for b in range(BLOCK):
            wlp[k, b] = c - 0.5 * maha[b]


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that t * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_E0, _E1, _E2, _E3, _E4, _E5, _E6, _E7, _E8, _E9, _E10, _E11, _E12, _E13 = (
    1.0 / math.factorial(i) for i in range(14))


@intrinsic
def _f64_from_bits(typingctx, bits):
    """The float64 whose IEEE 754 bits are the int64 ``bits`` (a bit cast, one
    instruction, vectorised with its loop; ``bits_array.view(np.float64)`` gave
    the same values but cost ~0.2 s more of every new environment's compilation)."""
    if not (isinstance(bits, types.Integer) and bits.bitwidth == 64):
        return None

    def codegen(context, builder, sig, args):
        return builder.bitcast(args[0], ir.DoubleType())
    return types.float64(bits), codegen


@njit(cache=True, nogil=True, fastmath={"contract"})
def _exp_row(x, out, nb):
    """``out[b] = exp(x[b])`` for ``b < nb`` and ``x[b] <= 0``, in a loop LLVM vectorises.

    x : (BLOCK,) float64 IN, at most 0 (or -inf / NaN: out is 0).
    out : (BLOCK,) float64 OUT.

    ``exp(x) = 2^t exp(r)`` with ``t = round(x / ln 2)``, ``r = x - t ln 2`` (two-part
    ln 2, |r| <= ln(2)/2) and ``exp(r)`` by its Taylor polynomial of degree 13
    (truncation below 1e-17 relative); ``2^t`` is built from its exponent bits.
    Within 3e-16 relative of libm's ``exp`` where the result is normal; results
    below 3e-308 (x < -708) are flushed to 0. libm's ``exp`` is a scalar call:
    this runs ~6x faster (measured) on the n k exponentials of every pass.
    """
    for b in range(nb):
        v = max(x[b], -708.0)
        t = np.floor(v * _LOG2E + 0.5)
        r = (v - t * _LN2_HI) - t * _LN2_LO
        p = _E13
        p = p * r + _E12
        p = p * r + _E11
        p = p * r + _E10
        p = p * r + _E9
        p = p * r + _E8
        p = p * r + _E7
        p = p * r + _E6
        p = p * r + _E5
        p = p * r + _E4
        p = p * r + _E3
        p = p * r + _E2
        p = p * r + _E1
        p = p * r + _E0
        scale = _f64_from_bits((np.int64(t) + 1023) << 52)
        out[b] = p * scale if x[b] >= -708.0 else 0.0


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _block_resp(wlp, nb, lse, R):
    """Log-sum-exp per row and responsibilities.

    wlp : (k, BLOCK) IN. lse : (BLOCK,) float64 OUT, ``log p(x)``.
    R : (k, BLOCK) float64 OUT, ``exp(wlp - lse)`` for the first nb columns,
    zero after them. Returns ``sum r log r`` over the block's rows (terms with
    r = 0 omitted). A row whose every weighted log-probability is ``-inf`` gets
    ``lse = -inf`` and NaN responsibilities (as scikit-learn). One ``exp`` per
    (row, component) and one ``log`` per row.
    """
    n_components = wlp.shape[0]
    vmax = np.empty(BLOCK)
    s = np.zeros(BLOCK)
    x = np.empty(BLOCK)
    for b in range(nb):
        vmax[b] = wlp[0, b]
    for k in range(1, n_components):
        for b in range(nb):
            v = wlp[k, b]
            vmax[b] = v if v > vmax[b] else vmax[b]
    for k in range(n_components):
        for b in range(nb):
            x[b] = wlp[k, b] - vmax[b]
        e = R[k]
        _exp_row(x, e, nb)
        for b in range(nb):
            s[b] += e[b]
    for b in range(nb):
        lse[b] = vmax[b] + math.log(s[b])
        s[b] = 1.0 / s[b]
    ent = 0.0
    for k in range(n_components):
        for b in range(nb):
            r = R[k, b] * s[b]
            R[k, b] = r
            if r > 0.0:
                ent += r * (wlp[k, b] - lse[b])
        for b in range(nb, BLOCK):
            R[k, b] = 0.0
    for b in range(nb):
        if vmax[b] == -np.inf:
            lse[b] = -np.inf
    return ent


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def _block_stats(R, F, Fr, nb, cov_code, Z, T, nk, sx, sxx):
    """Add a block's responsibility-weighted moments to one chunk's statistics.

    R : (k, BLOCK) IN, responsibilities (zero for padding columns).
    F, Fr : IN, from :func:`_load_block`; nb : rows of the block.
    Z : (BLOCK, k f) float64 scratch (full only; rows past nb are zeroed).
    T : float64 scratch, (f, k f) for full, (k, f) otherwise.
    nk : (k,) OUT (accumulated), ``sum r``. sx : (k, d) OUT (accumulated),
        ``sum r xs``. sxx : (k, a, d) OUT (accumulated): full, ``sum r xs xs^T``;
        diag/spherical, ``sum r xs**2`` in row 0; tied, untouched (its second
        moment does not depend on the responsibilities).
    """
    n_components = R.shape[0]
    d = sx.shape[1]
    f = F.shape[0]
    if cov_code == FULL:
        # Z[b, k f + i] = r_kb (xs_b, 1)_i, then T = F Z (the orientation with the
        # block's rows as the contiguous inner dimension of both operands ran
        # ~1.7x faster in OpenBLAS than Z^T F^T)
        for b in range(nb):
            for k in range(n_components):
                r = R[k, b]
                for i in range(f):
                    Z[b, k * f + i] = r * Fr[b, i]
        for b in range(nb, BLOCK):
            for i in range(n_components * f):
                Z[b, i] = 0.0
        np.dot(F, Z, T)
        for k in range(n_components):
            for i in range(d):
                for j in range(d):
                    sxx[k, i, j] += T[i, k * f + j]
                sx[k, i] += T[d, k * f + i]
            nk[k] += T[d, k * f + d]
        return
    np.dot(R, F.T, T)
    for k in range(n_components):
        for j in range(d):
            sx[k, j] += T[k, j]
        nk[k] += T[k, f - 1]
        if cov_code == DIAG or cov_code == SPHERICAL:
            for j in range(d):
                sxx[k, 0, j] += T[k, d + j]


@njit(cache=True, nogil=True)
def _chunk(c, X, resp_in, mode, cov_code, log_const, shift, rows_per_chunk, Wt, cv, P,
           nk, sx, sxx, log_norm_sum, entropy_sum, log_norm, labels, resp_out):
    """Chunk ``c`` of :func:`_gmm_groups` (same arguments)."""
    n, d = X.shape
    n_components = nk.shape[1]
    start = c * rows_per_chunk
    stop = min(n, start + rows_per_chunk)
    f = 2 * d + 1 if (cov_code == DIAG or cov_code == SPHERICAL) else d + 1
    xsT = np.empty((d, BLOCK))
    F = np.empty((f, BLOCK))
    wlp = np.empty((n_components, BLOCK))
    R = np.empty((n_components, BLOCK))
    lse = np.empty(BLOCK)
    want_stats = mode != MODE_SCORE
    y_rows = 0
    if mode != MODE_STATS and (cov_code == FULL or cov_code == TIED):
        y_rows = n_components * d if cov_code == FULL else d
    Y = np.empty((y_rows, BLOCK))
    full_stats = cov_code == FULL and want_stats
    Z = np.empty((BLOCK if full_stats else 0, n_components * f))
    Fr = np.empty((BLOCK if full_stats else 0, f))
    T = np.empty(((f, n_components * f) if cov_code == FULL else (n_components, f))
                 if want_stats else (0, 0))
    if want_stats:
        nk[c, :] = 0.0
        sx[c, :, :] = 0.0
        sxx[c, :, :, :] = 0.0
    ll = 0.0
    ent = 0.0
    for b0 in range(start, stop, BLOCK):
        nb = min(BLOCK, stop - b0)
        _load_block(X, b0, nb, shift, cov_code, xsT, F, Fr)
        if mode == MODE_STATS:
            for k in range(n_components):
                for b in range(nb):
                    R[k, b] = resp_in[b0 + b, k]
                for b in range(nb, BLOCK):
                    R[k, b] = 0.0
        else:
            _block_log_prob(xsT, cov_code, Wt, cv, P, log_const, Y, wlp)
            ent += _block_resp(wlp, nb, lse, R)
            for b in range(nb):
                ll += lse[b]
        if want_stats:
            _block_stats(R, F, Fr, nb, cov_code, Z, T, nk[c], sx[c], sxx[c])
        else:
            for b in range(nb):
                r = b0 + b
                log_norm[r] = lse[b]
                best = 0
                for k in range(1, n_components):
                    if wlp[k, b] > wlp[best, b]:
                        best = k
                labels[r] = best
            if resp_out.shape[0] > 0:
                for b in range(nb):
                    for k in range(n_components):
                        resp_out[b0 + b, k] = R[k, b]
    if mode == MODE_EM:
        log_norm_sum[c] = ll
        entropy_sum[c] = ent


@parallel_kernel(cache=True, nogil=True)
def _gmm_groups(X, resp_in, mode, cov_code, Wt, cv, P, log_const, shift, rows_per_chunk,
                nk, sx, sxx, log_norm_sum, entropy_sum, log_norm, labels, resp_out):
    """Every pass over the rows of a Gaussian mixture, one chunk of rows per task.

    Parameters
    ----------
    X : (n, d) float32/float64, C-contiguous, IN.
    resp_in : (n, k) float64 IN, responsibilities for ``MODE_STATS`` (else 0 rows).
    mode : int IN, :data:`MODE_EM`, :data:`MODE_STATS` or :data:`MODE_SCORE`.
    cov_code, log_const : IN, the model (module docstring).
    Wt, cv, P : IN, the model's E-step operands (:func:`model_operands`).
    shift : (d,) float64 IN, subtracted from every row first (the statistics are
        moments of ``x - shift``).
    rows_per_chunk : int IN; chunk ``c`` covers rows
        ``[c * rows_per_chunk, min(n, (c + 1) * rows_per_chunk))``.
    nk : (n_chunks, k) float64 OUT, per-chunk sums of responsibilities (EM, STATS;
        its second dimension gives ``k`` in every mode).
    sx : (n_chunks, k, d) float64 OUT, per-chunk sums of ``resp * (x - shift)``.
    sxx : (n_chunks, k, a, d) float64 OUT, per-chunk second moments
        (:func:`_block_stats`; ``a = d`` full, 1 diag/spherical, 0 tied).
    log_norm_sum, entropy_sum : (n_chunks,) float64 OUT (EM), per-chunk sums of
        ``log p(x)`` and of ``resp * log resp``.
    log_norm : (n,) float64 OUT (SCORE), ``log p(x)``.
    labels : (n,) int64 OUT (SCORE), most probable component (first on ties).
    resp_out : (n, k) float64 OUT (SCORE, when it has rows), the responsibilities.

    Notes
    -----
    BLAS runs inside numba's threads: the caller limits it to one thread.
    Scratch O((k (d+1) + d) * BLOCK) per chunk besides the outputs.
    """
    n_chunks = (X.shape[0] + rows_per_chunk - 1) // rows_per_chunk
    for c in prange(n_chunks):
        # int64 as in the serial compilation (prange's index is unsigned in the
        # parallel one): both compilations then call one compilation of _chunk
        _chunk(np.int64(c), X, resp_in, mode, cov_code, log_const, shift, rows_per_chunk, Wt,
               cv, P, nk, sx, sxx, log_norm_sum, entropy_sum, log_norm, labels, resp_out)


_NO_RESP = np.zeros((0, 1))
_NO_ROWS = np.zeros(0)
_NO_LABELS = np.zeros(0, dtype=np.int64)


def gmm_pass(X, mode, cov_code, means, prec, log_const, shift, rows_per_chunk, parallel,
             nk, sx, sxx, log_norm_sum=_NO_ROWS, entropy_sum=_NO_ROWS, resp_in=_NO_RESP,
             log_norm=_NO_ROWS, labels=_NO_LABELS, resp_out=_NO_RESP):
    """Run :func:`_gmm_groups` on numba's threads when ``parallel``, else its
    chunks one after the other.

    Arguments as in :func:`_gmm_groups` (outputs a mode does not use may be
    left out); BLAS is held to one thread meanwhile -- except on one thread with
    at least ``MIXTURE_WIDE_BLAS_MIN_FEATURES`` features, where each block's
    products are large enough to share: BLAS then runs on the cores free right
    now (:func:`clusterlab._config.free_cores`). Not on every available core:
    each block's products synchronise BLAS's threads, and with two busy
    processes beside it a pass waited on descheduled threads, 9x slower
    (1500 x 256, k=8: 153 -> 1433 ms an iteration).
    """
    from clusterlab import _config

    # writeable float64 C arrays whatever the caller holds (read-only arrays, e.g.
    # unpickled from a memmap, would compile another variant of the kernel)
    means, prec, log_const, shift, resp_in = (
        np.require(a, np.float64, ["C", "W"]) for a in (means, prec, log_const, shift, resp_in))
    kernel = on_threads(_gmm_groups, parallel)
    wide = (kernel is not _gmm_groups.parallel
            and X.shape[1] >= _config.MIXTURE_WIDE_BLAS_MIN_FEATURES)
    with (_config.blas_threads(_config.free_cores()) if wide
          else _config.single_threaded_blas()):
        if mode == MODE_STATS:  # the responsibilities are given: no model (prec may be a stub)
            d = X.shape[1]
            operands = (np.empty((0, d)), np.empty(0), np.empty((0, d)))
        else:
            operands = model_operands(cov_code, means, prec, shift)
        if kernel is _gmm_groups.parallel:
            kernel(X, resp_in, mode, cov_code, *operands,
                   log_const, shift, rows_per_chunk,
                   nk, sx, sxx, log_norm_sum, entropy_sum, log_norm, labels, resp_out)
            return
        # on one thread: the chunks in order from here, the very calls the
        # parallel kernel makes (so numba compiles no serial copy of its loop:
        # ~1 s of a first run; a call costs ~20 us, a chunk is 4096 rows)
        for c in range((X.shape[0] + rows_per_chunk - 1) // rows_per_chunk):
            _chunk(c, X, resp_in, mode, cov_code, log_const, shift, rows_per_chunk, *operands,
                   nk, sx, sxx, log_norm_sum, entropy_sum, log_norm, labels, resp_out)
