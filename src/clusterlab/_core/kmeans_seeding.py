"""Greedy k-means++ seeding over the seeding kernels (dense, columnar, float32, CSR).

:func:`kmeans_plusplus` takes validated input; the public, validating
function is :func:`clusterlab.cluster.kmeans.kmeans_plusplus`. Which kernel
runs is the plan's choice (:func:`clusterlab._core.kmeans_plan.seeding_kernel`);
all give the same centres.
"""

import numpy as np
import scipy.sparse as sp

from clusterlab._core.kmeans_plan import row_bounds, seeding_kernel, use_parallel
from clusterlab._kernels.kmeans import kpp as _k_kpp
from clusterlab._kernels.kmeans import kpp32 as _k_kpp32
from clusterlab._kernels.kmeans import kpp_columnar as _k_kpp_columnar


def kmeans_plusplus(X, n_clusters, sample_weight, random_state, n_local_trials=None,
                     bounds=None):
    """Greedy k-means++ on validated input (dense or CSR). Returns centres, indices.

    ``random_state`` is a ``RandomState``; its stream is consumed as
    scikit-learn's ``_kmeans_plusplus`` does (one ``choice`` then one
    ``uniform(size=n_local_trials)`` per further centre), so the same seed
    picks the same points up to ties in floating point. Dense float32 input
    with enough features and trials runs the float32 scoring kernel
    (:class:`_Float32Seeding`); other dense input
    the buffered kernel while its (n, t) buffer fits the budget,
    else the columnar one for few features (a transposed copy of X), else the
    pruned one (O(n) memory); all
    four give the same centres (up to floating-point ties).
    """
    n_samples, n_features = X.shape
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    centers = np.empty((n_clusters, n_features), dtype=X.dtype)
    indices = np.full(n_clusters, -1, dtype=np.intp)
    sample_weight = np.ascontiguousarray(sample_weight)
    center_id = random_state.choice(n_samples, p=sample_weight / sample_weight.sum())
    if sp.issparse(X):
        kernel = _SparseSeeding(X, sample_weight)
        return _greedy_seeding(X, n_clusters, random_state, n_local_trials, center_id,
                               centers, indices, kernel)
    if bounds is None:
        bounds = row_bounds(n_samples, n_local_trials, n_features)
    parallel = use_parallel(n_samples * n_local_trials * n_features)
    kind = seeding_kernel(X, n_local_trials, _k_kpp32.KPP32_LANES, _k_kpp32.kpp32_safe)
    if kind == "buffered" and bounds.shape[0] == 2 and n_clusters > 1:
        # one row group: the same loop compiled whole (no Python step per centre),
        # the random draws taken up front in the order the loop would take them
        uniforms = random_state.uniform(size=(n_clusters - 1, n_local_trials))
        _k_kpp.kpp_greedy_one_group(
            X, sample_weight, center_id, uniforms, np.full(n_samples, np.inf),
            np.empty((n_samples, n_local_trials)), np.empty((n_local_trials, n_features)),
            np.empty(n_local_trials, np.int64), np.empty(n_local_trials + 1), centers, indices)
        return centers, indices
    if kind == "pruned":
        kernel = _PrunedSeeding(X, sample_weight, n_clusters, n_local_trials, bounds, parallel)
    else:
        kernel = _SEEDINGS[kind](X, sample_weight, n_local_trials, bounds, parallel)
    return _greedy_seeding(X, n_clusters, random_state, n_local_trials, center_id, centers,
                           indices, kernel)


def _greedy_seeding(X, n_clusters, random_state, n_local_trials, center_id, centers, indices,
                    kernel):
    """The greedy k-means++ loop shared by every seeding kernel.

    Per further centre: ``n_local_trials`` candidates sampled with probability
    proportional to their weighted squared distance to the chosen centres
    (``kernel.search``), the potential each would leave (``kernel.score``:
    per row group), the best one adopted (``kernel.choose``, see
    :class:`_Seeding`). ``kernel.first(row)`` returns the per-group potential
    of the first centre. The kernels differ only in how they keep the
    distances (see :func:`kmeans_plusplus`).
    """
    centers[0] = _dense_row(X, center_id)
    indices[0] = center_id
    g_sums = kernel.first(centers[:1])
    current_pot = g_sums.sum()
    for c in range(1, n_clusters):
        rand_vals = random_state.uniform(size=n_local_trials) * current_pot
        cand_ids = kernel.search(g_sums, rand_vals)
        g_pots = kernel.score(cand_ids, centers, c)
        best, g_sums, current_pot = kernel.choose(g_pots, c)
        centers[c] = _dense_row(X, cand_ids[best])
        indices[c] = cand_ids[best]
    return centers, indices


def _dense_row(X, i):
    return X[[i]].toarray()[0] if sp.issparse(X) else X[i]


_NO_KPP_BUF = np.empty((0, 0))


class _Seeding:
    """What the seeding kernels share: the choice of the candidate of least
    potential from the per-group potentials of :meth:`score` (summed over the
    groups in group order; ties to the lowest index, as ``np.argmin``), then
    :meth:`adopt`. Returns ``(best, g_sums, potential)``: the chosen column,
    the new per-group sums and their total."""

    def choose(self, g_pots, c):
        pots = g_pots.sum(axis=0)
        best = int(np.argmin(pots))
        self.adopt(best, c)
        return best, g_pots[:, best].copy(), pots[best]


class _PrunedSeeding(_Seeding):
    """Distances to the nearest chosen centre in O(n) memory; a candidate is
    scored only on rows it can take over (triangle-inequality skip table)."""

    def __init__(self, X, sample_weight, n_clusters, n_local_trials, bounds, parallel):
        n_samples = X.shape[0]
        self.X, self.sample_weight, self.bounds, self.parallel = X, sample_weight, bounds, parallel
        self.closest = np.empty(n_samples)
        self.owner = np.empty(n_samples, dtype=np.int32)
        self.g_pots = np.empty((bounds.shape[0] - 1, n_local_trials))
        self.cand_ids = np.empty(n_local_trials, dtype=np.int64)
        self.q = np.empty((n_local_trials, n_clusters))

    def first(self, center):
        _k_kpp.kpp_first(self.X, self.sample_weight, center, self.bounds, self.closest,
                         self.owner, self.g_pots, self.parallel)
        return self.g_pots[:, 0].copy()

    def search(self, g_sums, rand_vals):
        _k_kpp.kpp_search(self.sample_weight, self.closest, _NO_KPP_BUF, -1, self.bounds, g_sums,
                          rand_vals, self.cand_ids)
        return self.cand_ids

    def score(self, cand_ids, centers, c):
        self.candidates = self.X[cand_ids]
        _k_kpp.kpp_skip_table(self.candidates, centers, c, self.q)
        _k_kpp.kpp_score(self.X, self.sample_weight, self.closest, self.owner, self.candidates,
                         self.q, self.bounds, self.g_pots, self.parallel)
        return self.g_pots

    def adopt(self, best, c):
        _k_kpp.kpp_commit(self.X, self.closest, self.owner, self.candidates, best, self.q, c,
                          self.bounds, self.parallel)


class _ColumnarSeeding(_Seeding):
    """A transposed copy of X (low-dimensional data too large for the buffered
    kernel): one pass per centre, vectorised across rows, that adopts the last
    choice and scores the new candidates. Memory: one copy of X (as
    scikit-learn's KMeans, which copies X to centre it) plus O(n)."""

    def __init__(self, X, sample_weight, n_local_trials, bounds, parallel):
        self.X, self.sample_weight, self.bounds, self.parallel = X, sample_weight, bounds, parallel
        self.XT = _transposed(X)
        self.closest = np.full(X.shape[0], np.inf)
        self.g_pots = np.empty((bounds.shape[0] - 1, n_local_trials))
        self.cand_ids = np.empty(n_local_trials, dtype=np.int64)

    def first(self, center):
        self.prev = center.astype(np.float64)
        _k_kpp_columnar.kpp_columnar(self.XT, self.sample_weight, self.closest, self.prev[:0],
                                     self.prev, self.bounds, self.g_pots[:, :1], self.parallel)
        return self.g_pots[:, 0].copy()

    def search(self, g_sums, rand_vals):
        _k_kpp_columnar.kpp_columnar_search(self.XT, self.sample_weight, self.closest, self.prev,
                                            self.bounds, g_sums, rand_vals, self.cand_ids)
        return self.cand_ids

    def score(self, cand_ids, centers, c):
        self.candidates = self.X[cand_ids].astype(np.float64)
        _k_kpp_columnar.kpp_columnar(self.XT, self.sample_weight, self.closest, self.prev,
                                     self.candidates, self.bounds, self.g_pots, self.parallel)
        return self.g_pots

    def adopt(self, best, c):
        self.prev = self.candidates[best:best + 1]  # folded in by the next pass


def _transposed(X):
    """``X.T`` as a C-contiguous copy, in X's dtype."""
    XT = np.empty((X.shape[1], X.shape[0]), dtype=X.dtype)
    _k_kpp_columnar.transpose_rows(X, XT)
    return XT


class _Float32Seeding(_Seeding):
    """Float32 rows: candidates scored in float32 on a transposed copy of X
    (eight per pass, about twice the float64 kernels' speed), with error
    bounds; close calls and the adopted centre's distances in exact float64
    (see :func:`clusterlab._kernels.kmeans.kpp32.kpp32_score`). The same
    ``closest``, sums and picks as the exact kernels (up to the order of
    float64 sums). Memory: one copy of X plus O(n)."""

    def __init__(self, X, sample_weight, n_local_trials, bounds, parallel):
        n_samples, n_features = X.shape
        self.X, self.sample_weight, self.bounds, self.parallel = X, sample_weight, bounds, parallel
        self.XT = _transposed(X)
        self.closest = np.full(n_samples, np.inf)
        lanes = _k_kpp32.KPP32_LANES
        self.n_padded = -(-n_local_trials // lanes) * lanes
        self.flags = np.empty((self.n_padded // lanes, n_samples), dtype=np.uint8)
        self.g_pots = np.empty((bounds.shape[0] - 1, self.n_padded))
        self.cand_ids = np.empty(n_local_trials, dtype=np.int64)
        self.slack = _k_kpp32.kpp32_slack(n_features)
        self.rel = _k_kpp32.kpp32_rel_error(n_samples, n_features)
        # the float32 distances' underflow terms, summed over rows (see kpp32_slack)
        self.abs_err = 2.0 * self.slack[1] * float(np.sum(sample_weight, dtype=np.float64))
        self.n_local_trials = n_local_trials

    def _exact(self, cands, commit):
        g_out = np.empty((self.bounds.shape[0] - 1, cands.shape[0]))
        _k_kpp32.kpp32_exact(self.X, self.sample_weight, self.closest, self.C, cands, self.flags,
                             self.bounds, g_out, commit, self.parallel)
        return g_out

    def first(self, center):
        self.C = np.ascontiguousarray(center, dtype=np.float32)
        self.flags.fill(1)
        return self._exact(np.zeros(1, dtype=np.int64), True)[:, 0].copy()

    def search(self, g_sums, rand_vals):
        _k_kpp.kpp_search(self.sample_weight, self.closest, _NO_KPP_BUF, -1, self.bounds, g_sums,
                          rand_vals, self.cand_ids)
        return self.cand_ids

    def score(self, cand_ids, centers, c):
        padded = np.empty(self.n_padded, dtype=np.int64)
        padded[:cand_ids.shape[0]] = cand_ids
        padded[cand_ids.shape[0]:] = cand_ids[-1]
        self.C = self.X[padded]
        _k_kpp32.kpp32_score(self.XT, self.sample_weight, self.closest, self.C, self.slack,
                             self.bounds, self.g_pots, self.flags, self.parallel)
        return self.g_pots[:, :self.n_local_trials]

    def choose(self, g_pots, c):
        """The candidate of least *exact* potential (ties to the lowest
        index), adopted: the float32 potentials only narrow the contenders."""
        pots = g_pots.sum(axis=0)
        lo = pots * (1.0 - self.rel) - self.abs_err
        hi = pots * (1.0 + self.rel) + self.abs_err
        contenders = np.flatnonzero(lo <= hi.min())
        if contenders.shape[0] > 1:
            exact = self._exact(contenders.astype(np.int64), False).sum(axis=0)
            best = int(contenders[np.argmin(exact)])
        else:
            best = int(contenders[0])
        g_sums = self._exact(np.array([best], dtype=np.int64), True)[:, 0].copy()
        return best, g_sums, g_sums.sum()


class _BufferedSeeding(_Seeding):
    """Every row's distance to every candidate kept (an (n, t) buffer within
    the working-memory budget): one fused pass per centre, faster than the
    pruned passes while the buffer stays in cache. The same distances as the
    other kernels below 32 features; for longer rows four candidates are
    computed at a time, whose sums may differ in the last bit (a pick can then
    differ only on a floating-point tie)."""

    def __init__(self, X, sample_weight, n_local_trials, bounds, parallel):
        self.X, self.sample_weight, self.bounds, self.parallel = X, sample_weight, bounds, parallel
        self.closest = np.full(X.shape[0], np.inf)
        self.buf = np.empty((X.shape[0], n_local_trials))
        self.g_pots = np.empty((bounds.shape[0] - 1, n_local_trials))
        self.cand_ids = np.empty(n_local_trials, dtype=np.int64)

    def first(self, center):
        _k_kpp.kpp_pass(self.X, self.sample_weight, self.closest, self.buf, -1,
                        center.astype(np.float64), self.bounds, self.g_pots, self.parallel)
        self.prev = 0
        return self.g_pots[:, 0].copy()

    def search(self, g_sums, rand_vals):
        _k_kpp.kpp_search(self.sample_weight, self.closest, self.buf, self.prev, self.bounds,
                          g_sums, rand_vals, self.cand_ids)
        return self.cand_ids

    def score(self, cand_ids, centers, c):
        # the candidates in float64 (exact): the pass converts each row value
        # once instead of once per candidate
        _k_kpp.kpp_pass(self.X, self.sample_weight, self.closest, self.buf, self.prev,
                        self.X[cand_ids].astype(np.float64), self.bounds, self.g_pots,
                        self.parallel)
        return self.g_pots

    def adopt(self, best, c):
        self.prev = best  # the buffer column folded in by the next pass


class _SparseSeeding(_Seeding):
    """CSR input with scipy products (slower than the dense kernels); one row
    group."""

    def __init__(self, X, sample_weight):
        self.X = X
        self.x_sq = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
        self.w = sample_weight.astype(np.float64)

    def _sq_dist_to(self, cand):
        cand = np.asarray(cand, dtype=np.float64)
        dots = np.asarray(self.X @ cand.T, dtype=np.float64)
        d = self.x_sq[:, None] - 2.0 * dots + (cand * cand).sum(axis=1)[None, :]
        return np.maximum(d, 0.0)

    def first(self, center):
        self.closest = self._sq_dist_to(center)[:, 0]
        return np.array([self.closest @ self.w])

    def search(self, g_sums, rand_vals):
        cand_ids = np.searchsorted(np.cumsum(self.w * self.closest), rand_vals)
        return np.clip(cand_ids, None, self.closest.size - 1)

    def score(self, cand_ids, centers, c):
        self.dist = np.minimum(self.closest[:, None], self._sq_dist_to(self.X[cand_ids].toarray()))
        return (self.w @ self.dist)[None, :]

    def adopt(self, best, c):
        self.closest = self.dist[:, best]


_SEEDINGS = {"float32": _Float32Seeding, "buffered": _BufferedSeeding,
             "columnar": _ColumnarSeeding}
