"""Per-fit buffers of the EM loop (:class:`_FitContext`): the data and its
shift, the chunking of the fused pass, the per-chunk statistics and the
Gaussian estimates made from them; on many features and few rows
(``ctx.wide``), the E-step and the statistics over all rows by BLAS."""

import numpy as np

from .. import _config
from .._kernels import mixture as _kmix


def _plan_chunks(n_samples, n_components, n_features, covariance_type):
    """Rows per chunk and number of chunks for the fused pass.

    Depends on the problem size only (never on the thread count), so that the
    per-chunk partial sums -- and hence the results -- are reproducible. The
    per-chunk statistics together stay within ``_config.WORKING_MEMORY_BYTES``.
    """
    if n_samples == 0:  # an empty block (a dask array filtered by rows): no chunk
        return 1, 0
    a = n_features if covariance_type == "full" else 1
    stats_bytes = 8 * n_components * (1 + n_features + a * n_features) + 16
    max_chunks = max(1, _config.WORKING_MEMORY_BYTES // stats_bytes)
    rows = _config.MIXTURE_CHUNK_ROWS
    n_chunks = min(max(1, -(-n_samples // rows)), max_chunks)
    rows = -(-n_samples // n_chunks)
    n_chunks = -(-n_samples // rows)
    return rows, n_chunks


class _FitContext:
    """Per-fit buffers and constants: the data, its shift, chunking, stats arrays."""

    def __init__(self, X, n_components, covariance_type):
        n_samples, n_features = X.shape
        self.X = X
        self.covariance_type = covariance_type
        self.cov_code = _kmix.COV_CODES[covariance_type]
        self.shift = np.asarray(X.mean(axis=0, dtype=np.float64), dtype=np.float64)
        self.rows, self.n_chunks = _plan_chunks(n_samples, n_components, n_features,
                                                covariance_type)
        a = n_features if covariance_type == "full" else 1
        if covariance_type == "tied":
            a = 0
        self.nk = np.zeros((self.n_chunks, n_components))
        self.sx = np.zeros((self.n_chunks, n_components, n_features))
        self.sxx = np.zeros((self.n_chunks, n_components, a, n_features))
        self.log_norm = np.zeros(self.n_chunks)
        self.entropy = np.zeros(self.n_chunks)
        # scikit-learn adds 10 eps of the working dtype to every component's
        # weight (no division by zero for an empty one). Computing in float64,
        # so is this: float32's eps (1.2e-6) biased every covariance by about
        # eps / nk times the squared distance of its mean from the data mean
        # (a 5-point cluster 100 away: variances 40-400x too large)
        self.eps = 10 * np.finfo(np.float64).eps
        self.parallel = n_samples >= _config.MIXTURE_PARALLEL_MIN_ROWS and self.n_chunks > 1
        # full covariances on many features and few rows: the E-step and the
        # statistics by BLAS over all rows (wide_estep, wide_stats)
        self.wide = (covariance_type == "full" and not self.parallel
                     and n_features >= _config.MIXTURE_WIDE_EM_MIN_FEATURES
                     and n_samples * n_features * 8 <= _config.MIXTURE_WIDE_EM_MAX_BYTES)
        self._second_moment = None
        self._row_sum = None
        self._centred = None
        self._resp = None
        self._scratch = None

    def resp_rows(self):
        """A (n, k) buffer for the E-step's responsibilities (wide fits)."""
        if self._resp is None:
            self._resp = np.empty((self.X.shape[0], self.nk.shape[1]))
        return self._resp

    def centred(self):
        """``x - shift`` for every row, a float64 copy kept for the fit (wide fits)."""
        if self._centred is None:
            self._centred = np.asarray(self.X, dtype=np.float64) - self.shift
        return self._centred

    def scratch_rows(self):
        """An (n, d) float64 scratch for :meth:`wide_estep` and :meth:`wide_stats`
        (one after the other), kept for the fit instead of allocated twice an
        iteration."""
        if self._scratch is None:
            self._scratch = np.empty_like(self.centred())
        return self._scratch

    def wide_estep(self, means, prec, log_const, resp):
        """The E-step of a wide fit over all rows at once, filling ``resp`` (n, k);
        returns ``(sum log p(x), sum r log r)`` as the kernel's pass
        (:func:`clusterlab._kernels.mixture._block_resp`'s conventions: a row
        every component gives probability 0 gets ``log p(x) = -inf`` and NaN
        responsibilities, as scikit-learn).

        Per component, ``y = (x - mu_k) U_k`` by scipy's triangular product
        (``dtrmm``, in place; ``U_k`` is upper triangular, so half the flops of
        the kernel's product through the stacked factors, which multiplies
        their zeros too), then ``log_const[k] - |y|^2 / 2``."""
        from scipy.linalg.blas import dtrmm

        xc = self.centred()
        n, k = resp.shape
        wlp = np.empty((n, k))
        y = self.scratch_rows()
        with _config.blas_threads(_config.free_cores()):
            for j in range(k):
                np.subtract(xc, means[j] - self.shift, out=y)
                # y^T is Fortran-ordered: U_j^T y^T in place, i.e. y = y U_j
                dtrmm(1.0, prec[j], y.T, side=0, lower=0, trans_a=1, overwrite_b=1)
                wlp[:, j] = log_const[j] - 0.5 * np.einsum("ij,ij->i", y, y)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            vmax = wlp.max(axis=1)
            np.exp(wlp - vmax[:, np.newaxis], out=resp)
            total = resp.sum(axis=1)
            lse = vmax + np.log(total)
            lse[vmax == -np.inf] = -np.inf
            resp *= (1.0 / total)[:, np.newaxis]
            terms = resp * (wlp - lse[:, np.newaxis])
        entropy = float(np.sum(terms[resp > 0.0]))
        return float(np.sum(lse)), entropy

    def wide_stats(self, resp):
        """The statistics of responsibilities ``resp`` (n, k), in chunk 0 (the other
        chunks zero), by BLAS over all rows at once: ``nk``, ``sx = resp^T xc`` and,
        per component, the upper triangle of ``sxx = (sqrt(r) xc)^T (sqrt(r) xc)``
        (scipy's ``dsyrk``: half the flops of a product, on the BLAS threads the
        passes use), with ``xc = x - shift`` kept as a float64 copy. The same sums
        as the fused pass's up to rounding (another order)."""
        from scipy.linalg.blas import dsyrk

        xc = self.centred()
        self.nk[:] = 0.0
        self.sx[:] = 0.0
        self.nk[0] = resp.sum(axis=0)
        self.sx[0] = resp.T @ xc
        scaled = self.scratch_rows()
        with _config.blas_threads(_config.free_cores()):
            for k in range(resp.shape[1]):
                np.multiply(xc, np.sqrt(resp[:, k])[:, np.newaxis], out=scaled)
                # scaled.T is Fortran-ordered: no copy; the lower triangle is unused
                self.sxx[0, k] = dsyrk(1.0, scaled.T, trans=0, lower=0)
        self.sxx[1:] = 0.0

    def second_moment(self):
        """``sum (x - shift)(x - shift)^T`` over all rows (tied only), chunked."""
        if self._second_moment is None:
            X, shift = self.X, self.shift
            n_features = X.shape[1]
            total = np.zeros((n_features, n_features))
            step = _config.chunk_rows(n_features, 8)
            for start in range(0, X.shape[0], step):
                block = X[start:start + step].astype(np.float64) - shift
                total += block.T @ block
            self._second_moment = total
        return self._second_moment

    def sx_total_rows(self):
        """``sum (x - shift)`` over all rows (tied only), chunked."""
        if self._row_sum is None:
            X, shift = self.X, self.shift
            total = np.zeros(X.shape[1])
            step = _config.chunk_rows(X.shape[1], 8)
            for start in range(0, X.shape[0], step):
                total += (X[start:start + step].astype(np.float64) - shift).sum(axis=0)
            self._row_sum = total
        return self._row_sum

    def gaussian_parameters(self, reg_covar):
        """``(nk, means, covariances)`` from the per-chunk statistics (reduced in order)."""
        resp = self.nk.sum(axis=0)
        nk = resp + self.eps
        centred_means = self.sx.sum(axis=0) / nk[:, np.newaxis]
        # scikit-learn's sum r x / nk: the shift weighs resp / nk, which is 0 for a
        # component no row belongs to (its mean is then 0, not the shift)
        means = centred_means + (resp / nk)[:, np.newaxis] * self.shift
        kind = self.covariance_type
        if kind == "full":
            sxx = self.sxx[0] if self.sxx.shape[0] == 1 else self.sxx.sum(axis=0)
            n_features = sxx.shape[-1]
            # scikit-learn's sum r (x - mu)(x - mu)^T / nk with nk = sum r + eps:
            # sxx / nk - (2 - sum r / nk) mu mu^T about the shift (the cross
            # terms with the shift are of order (eps / nk)^2). Component by
            # component into one output, the upper triangle of sxx / nk mirrored
            # below (the pass and dsyrk fill the upper one): the same values as
            # whole-stack temporaries, 2.6x faster at 784 features
            cov = np.empty_like(sxx)
            below = np.tril(np.ones((n_features, n_features), dtype=bool), -1)
            diagonal = np.arange(n_features)
            coef = 2.0 - resp / nk
            outer = np.empty((n_features, n_features))
            for k in range(cov.shape[0]):
                c = cov[k]
                np.divide(sxx[k], nk[k], out=c)
                np.copyto(c, c.T, where=below)
                np.multiply(centred_means[k][:, np.newaxis], centred_means[k], out=outer)
                outer *= coef[k]
                c -= outer
                c[diagonal, diagonal] += reg_covar
        elif kind == "tied":
            n_samples = self.X.shape[0]
            scatter = self.second_moment()
            if abs(self.nk.sum() - n_samples) <= 1e-6 * n_samples:
                # responsibilities sum to one per row: the shift cancels out
                cov = scatter - (nk * centred_means.T) @ centred_means
            else:
                # e.g. one-hot starts on k points: scikit-learn's formula, literally
                # sum_n x x^T - sum_k nk mu_k mu_k^T, in unshifted coordinates
                c = self.shift
                s = self.sx_total_rows()
                total = scatter + n_samples * np.outer(c, c) + np.outer(c, s) + np.outer(s, c)
                cov = total - (nk * means.T) @ means
            cov /= nk.sum()
            cov = 0.5 * (cov + cov.T)
            cov[np.diag_indices_from(cov)] += reg_covar
        else:
            cov = self.sxx.sum(axis=0)[:, 0, :] / nk[:, np.newaxis] - centred_means**2
            cov += reg_covar
            if kind == "spherical":
                cov = cov.mean(axis=1)
        return nk, means, cov

    def stats_from_resp(self, resp, reg_covar):
        resp = np.ascontiguousarray(resp, dtype=np.float64)
        if self.wide:
            self.wide_stats(resp)
        else:
            k, d = self.sx.shape[1:]
            _kmix.gmm_pass(self.X, _kmix.MODE_STATS, self.cov_code, np.zeros((k, d)),
                           np.zeros((k, 1, 1)), np.zeros(k), self.shift, self.rows,
                           self.parallel, self.nk, self.sx, self.sxx, resp_in=resp)
        return self.gaussian_parameters(reg_covar)
