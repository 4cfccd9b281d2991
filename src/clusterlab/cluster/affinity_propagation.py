"""Affinity propagation with in-place numba message passing and a memory check.

scikit-learn's :class:`sklearn.cluster.AffinityPropagation` holds four n x n
float64 matrices (similarities, responsibilities, availabilities and a
temporary) plus an n x n matrix of noise, and updates them with whole-matrix
numpy operations. Here the responsibilities and availabilities are updated
in place, row by row, in parallel (:mod:`clusterlab._kernels.affinity_propagation`),
the noise is drawn on a thread while the similarities and their median (a
selection, no sorted copy) are computed, and the fit refuses up front,
with a ValueError naming the sizes, when the three matrices do not fit in
the memory budget. The arithmetic follows scikit-learn's operation by
operation (including the tiny random noise that breaks ties, drawn from the
same generator in the same order), so float64 input gives the same exemplars,
labels and number of iterations.
"""

import threading
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_is_fitted, validate_data

from clusterlab._dask import warn_if_dask
from .. import _config
from .._validation import check_magnitude
from .._kernels import affinity_propagation as _ap
from .._kernels import mean_shift as _ms

__all__ = ["AffinityPropagation", "affinity_propagation"]


def _available_bytes():
    """Bytes the process may still take (:func:`clusterlab._config.available_memory`;
    0 if unknown)."""
    return _config.available_memory() or 0


def _check_memory(n, itemsize, per_pair, precomputed=False):
    """Refuse (ValueError) when ``per_pair`` bytes for each of the n x n pairs do
    not fit (the responsibilities and availabilities in the working dtype,
    the similarities, and the float64 noise scikit-learn adds: peaks of a fit
    traced at 20-28 bytes a pair, counted with ~2 bytes to spare)."""
    need = per_pair * n * n
    budget = _config.AFFINITY_PROPAGATION_MAX_BYTES
    if budget is None:
        budget = int(_available_bytes() * _config.AFFINITY_PROPAGATION_MEMORY_SHARE)
        if budget <= 0:
            return
    if need > budget:
        raise ValueError(
            f"AffinityPropagation needs about {need / 2**30:.2f} GiB for n_samples={n} "
            f"({per_pair} bytes for each of the {n}x{n} pairs: responsibilities, "
            "availabilities, similarities and the float64 noise that breaks ties) but only "
            f"{budget / 2**30:.2f} GiB may be used. Fit on a subsample"
            # float32 saves memory for a precomputed affinity (22 bytes a pair against 26);
            # float32 features peak higher (the float64 distances meet the float32 copy)
            + (", pass float32 similarities (less memory)"
               if itemsize == 8 and per_pair <= 26 and precomputed else "")
            + ", or use an algorithm that does not hold all pairwise similarities (Birch, "
            "KMeans).")


def _negative_squared_distances(X):
    """-||x_i - x_j||^2 as scikit-learn's ``-euclidean_distances(X, squared=True)``.

    For float64 dense input the same operations in the same order (one
    Gram product, then the norms added in place), so the same bits; float32
    input is computed in float64 and rounded once.
    """
    out_dtype = np.float32 if X.dtype == np.float32 else np.float64
    if sparse.issparse(X):
        Xd = X.astype(np.float64)
        gram = np.asarray((Xd @ Xd.T).todense())
        norms = np.asarray(Xd.multiply(Xd).sum(axis=1)).ravel()
    else:
        Xd = np.asarray(X, dtype=np.float64)
        gram = Xd @ Xd.T
        norms = np.einsum("ij,ij->i", Xd, Xd)
    gram = np.ascontiguousarray(gram)
    _ap.ap_negate_squared_distances(gram, np.ascontiguousarray(norms, dtype=np.float64))
    if out_dtype != np.float64:
        return gram.astype(out_dtype)
    return gram


def _median(S):
    """``np.median(S)`` (same value and dtype) without copying or sorting S.

    A strided sample of about 65 000 entries brackets the middle ranks; one
    parallel sweep counts the entries below and inside the bracket, a second
    gathers those inside, and the middle ones are selected among them. When
    the bracket misses (a sample unlike the whole), numpy's median is used.
    """
    flat = S.reshape(-1)
    N = flat.size
    k1, k2 = (N - 1) // 2, N // 2
    sample = np.sort(flat[:: max(1, N // 65536)])
    ns = sample.size
    margin = 4 * int(np.sqrt(ns)) + 2
    q = int(k1 / N * ns)
    lo_v = sample[max(0, q - margin)]
    hi_v = sample[min(ns - 1, q + margin)]
    below = np.empty(S.shape[0], dtype=np.int64)
    inside = np.empty(S.shape[0], dtype=np.int64)
    _ap.ap_count_range(S, lo_v, hi_v, below, inside)
    n_below = int(below.sum())
    n_inside = int(inside.sum())
    if not (n_below <= k1 and k2 < n_below + n_inside) or n_inside > N // 8:
        return np.median(S)
    offsets = np.zeros(S.shape[0], dtype=np.int64)
    np.cumsum(inside[:-1], out=offsets[1:])
    cand = np.empty(n_inside, dtype=S.dtype)
    _ap.ap_gather_range(S, lo_v, hi_v, offsets, cand)
    cand.partition([k1 - n_below, k2 - n_below])
    a, b = cand[k1 - n_below], cand[k2 - n_below]
    return a if k1 == k2 else (a + b) / S.dtype.type(2)


def _standard_normal(random_state, size):
    """``random_state.standard_normal(size)`` (flat), same values and same final state.

    numpy's legacy normals come from the polar method over the generator's
    uniforms; here the uniforms are drawn in bulk (``random_sample``: as many
    as the pairs still needed, so never more than numpy would consume) and
    turned into normals by a compiled loop (``ap_polar_normals``), about
    twice as fast as numpy's one-call-per-value path. The generator's cached
    second normal is taken and left as numpy would.
    """
    state = random_state.get_state(legacy=False)
    out = np.empty(size)
    j = 0
    if state["has_gauss"] and size > 0:
        out[0] = state["gauss"]
        j = 1
        random_state.set_state({**state, "has_gauss": 0, "gauss": 0.0})
    cached = np.zeros(1)
    while j < size:
        pairs = (size - j + 1) // 2
        j = _ap.ap_polar_normals(random_state.random_sample(2 * pairs), out, j, cached)
    if j > size:
        random_state.set_state({**random_state.get_state(legacy=False),
                                "has_gauss": 1, "gauss": float(cached[0])})
    return out


def _draw_noise(random_state, n):
    """Start drawing scikit-learn's (n, n) standard normals on a thread.

    numpy releases the GIL while it draws, so the draw (the longest step of
    the setup, sequential by nature) overlaps the similarities and the
    median. Returns the thread, a dict that receives ``"z"`` (or
    ``"error"``) and the generator's state before the draw (restored when
    the fit ends before the noise is needed, as scikit-learn draws nothing
    then).
    """
    box = {}
    state = random_state.get_state()

    def draw():
        try:
            box["z"] = _standard_normal(random_state, n * n).reshape(n, n)
        except BaseException as exc:  # re-raised on the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=draw, name="clusterlab-ap-noise", daemon=True)
    thread.start()
    return thread, box, state


def _add_noise(S, noise):
    """Add the drawn noise (``_draw_noise``'s result) to S in place, in one sweep."""
    thread, box, _ = noise
    thread.join()
    if "error" in box:
        raise box["error"]
    Z = box.pop("z")
    eps = np.finfo(S.dtype).eps
    tiny = np.finfo(S.dtype).tiny * 100
    _ap.ap_add_noise(S, 0, Z, eps, tiny)


def _cancel_noise(random_state, noise):
    """Wait for the draw and put the generator back as it was before it."""
    thread, box, state = noise
    thread.join()
    box.clear()
    random_state.set_state(state)


def _message_parts(n):
    """Row parts of the message pass: one (exact numpy order) below a threshold."""
    if n < _config.AFFINITY_PROPAGATION_PARALLEL_MIN_ROWS:
        return 1
    return min(_config.AFFINITY_PROPAGATION_ROW_PARTS, n)


def _affinity_propagation(S, *, preference, convergence_iter, max_iter, damping, verbose,
                          random_state, noise):
    """Exemplar indices, labels and iterations for the similarity matrix S (modified).

    ``noise``: the draw started by ``_draw_noise(random_state, n)``.
    """
    n = S.shape[0]
    preference = np.asarray(preference)
    if preference.ndim != 0 and preference.shape != (n,):
        raise ValueError(f"preference must be a number or an array of shape ({n},), one per "
                         f"sample; got shape {preference.shape}.")
    if n == 1 or (np.all(preference == preference.flat[0])
                  and _ap.ap_offdiagonal_all_equal(S)):
        _cancel_noise(random_state, noise)
        warnings.warn(
            "All samples have mutually equal similarities. "
            "Returning arbitrary cluster center(s).")
        if preference.flat[0] > S.flat[n - 1]:
            return np.arange(n), np.arange(n), 0
        return np.array([0]), np.array([0] * n), 0

    S.flat[:: (n + 1)] = preference
    _add_noise(S, noise)
    dtype = S.dtype if S.dtype == np.float32 else np.float64
    A = np.zeros((n, n), dtype=dtype)
    R = np.zeros((n, n), dtype=dtype)
    colsum = np.zeros(n, dtype=dtype)
    partial = np.empty((_message_parts(n), n), dtype=dtype)
    diag_a = np.zeros(n, dtype=dtype)
    e = np.zeros((n, convergence_iter), dtype=np.bool_)
    never_converged = True
    damping = float(damping)
    keep = 1.0 - damping
    for it in range(max_iter):
        # one pass: last iteration's availabilities, this one's responsibilities
        _ap.ap_iteration(S, A, R, colsum, damping, it > 0, partial)
        colsum = np.sum(partial, axis=0)
        diag_r = np.diagonal(R).copy()
        # this iteration's availability diagonal, as the next pass will write it
        t = (diag_r - colsum).astype(np.float64)
        diag_a = (diag_a.astype(np.float64) * damping - t * keep).astype(dtype)
        E = (diag_a + diag_r) > 0
        e[:, it % convergence_iter] = E
        K = np.sum(E)
        if it >= convergence_iter:
            se = np.sum(e, axis=1)
            unconverged = np.sum((se == convergence_iter) + (se == 0)) != n
            if not unconverged and K > 0:
                never_converged = False
                if verbose:
                    print("Converged after %d iterations." % it)
                break
    else:
        if verbose:
            print("Did not converge")
    del A, R
    exemplars = np.flatnonzero(E).astype(np.int64)
    K = exemplars.size
    if K == 0:
        warnings.warn(
            "Affinity propagation did not converge and this model "
            "will not have any cluster centers.", ConvergenceWarning)
        return [], np.array([-1] * n), it + 1
    if never_converged:
        warnings.warn(
            "Affinity propagation did not converge, this model "
            "may return degenerate cluster centers and labels.", ConvergenceWarning)
    c = np.empty(n, dtype=np.int64)
    _ap.ap_nearest_exemplar(S, exemplars, c)
    members = np.argsort(c, kind="stable").astype(np.int64)
    starts = np.searchsorted(c[members], np.arange(K + 1)).astype(np.int64)
    _ap.ap_refine_exemplars(S, members, starts, exemplars)
    _ap.ap_nearest_exemplar(S, exemplars, c)
    labels = exemplars[c]
    centers = np.unique(labels)
    return centers, np.searchsorted(centers, labels), it + 1


@validate_params({"S": ["array-like"], "return_n_iter": ["boolean"]},
                 prefer_skip_nested_validation=False)
def affinity_propagation(S, *, preference=None, convergence_iter=15, max_iter=200, damping=0.5,
                         copy=True, verbose=False, return_n_iter=False, random_state=None):
    """Perform affinity propagation clustering of the similarity matrix S.

    Parameters are those of :class:`AffinityPropagation` (with
    ``affinity='precomputed'``); ``S`` is the (n_samples, n_samples)
    similarity matrix. Memory O(n_samples^2) (the responsibilities and
    availabilities beside S, ~20-26 bytes a pair; refused with the figure
    when it cannot fit), time O(n_samples^2) an iteration.

    Returns
    -------
    cluster_centers_indices : ndarray of shape (n_clusters,)
    labels : ndarray of shape (n_samples,)
    n_iter : int
        Only with ``return_n_iter=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import affinity_propagation
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [4, 2], [4, 4], [4, 0]])
    >>> S = -((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    >>> centers, labels = affinity_propagation(S, random_state=0)
    >>> labels
    array([0, 0, 0, 1, 1, 1])
    """
    est = AffinityPropagation(damping=damping, max_iter=max_iter,
                              convergence_iter=convergence_iter, copy=copy,
                              preference=preference, affinity="precomputed", verbose=verbose,
                              random_state=random_state).fit(S)
    if return_n_iter:
        return est.cluster_centers_indices_, est.labels_, est.n_iter_
    return est.cluster_centers_indices_, est.labels_


class AffinityPropagation(ClusterMixin, BaseEstimator):
    """Affinity propagation clustering.

    Exemplars emerge from exchanging responsibilities and availabilities
    between every pair of points (Frey and Dueck, 2007). Same parameters,
    attributes, warnings and results as :class:`sklearn.cluster.AffinityPropagation`.

    Parameters
    ----------
    damping : float, default=0.5
        Damping factor in [0.5, 1.0): the share of the old message kept.
    max_iter : int, default=200
    convergence_iter : int, default=15
        Iterations with no change in the exemplars that stop the fit.
    copy : bool, default=True
        With ``affinity='precomputed'``, copy the matrix; False lets the fit
        write the preferences and noise into it (saving one n x n matrix).
    preference : array-like of shape (n_samples,) or float, default=None
        Diagonal similarities; None: the median of the similarities.
    affinity : {'euclidean', 'precomputed'}, default='euclidean'
        'euclidean': negative squared euclidean distances of X.
    verbose : bool, default=False
    random_state : int, RandomState instance or None, default=None
        Draws the tiny noise added to the similarities to break ties.

    Attributes
    ----------
    cluster_centers_indices_ : ndarray of shape (n_clusters,)
    cluster_centers_ : ndarray of shape (n_clusters, n_features)
        Only with ``affinity='euclidean'``.
    labels_ : ndarray of shape (n_samples,)
    affinity_matrix_ : ndarray of shape (n_samples, n_samples)
        The similarities, with the preferences on the diagonal and the noise.
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Notes
    -----
    Memory is O(n^2) by nature: three n x n matrices -- the similarities
    (``affinity_matrix_``), the responsibilities and the availabilities --
    that is ``24 n^2`` bytes in float64 (``12 n^2`` with float32 input:
    messages are then kept in float32), e.g. 2.4 GB at n = 10 000 and 240 GB
    at n = 100 000; before the messages exist, the float64 noise (one
    n x n matrix, drawn while the similarities are computed) takes the
    place of one of them (float32 input: with the float64 distances, 20 n^2
    bytes for a moment). scikit-learn needs ``40 n^2`` bytes at its
    peak. The fit checks the need against the memory available
    (``clusterlab._config.AFFINITY_PROPAGATION_MAX_BYTES`` or a share of the
    free memory) and raises a ValueError instead of failing inside numpy.
    Time O(n^2) per iteration, parallel over rows.

    float32 input keeps the messages in float32 (half the memory); the
    exemplars then agree with scikit-learn's (which computes the messages
    in float64) except on near ties.

    References
    ----------
    Brendan J. Frey and Delbert Dueck, "Clustering by Passing Messages
    Between Data Points", Science 315, 2007.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import AffinityPropagation
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [4, 2], [4, 4], [4, 0]])
    >>> clustering = AffinityPropagation(random_state=5).fit(X)
    >>> clustering.labels_
    array([0, 0, 0, 1, 1, 1])
    >>> clustering.predict([[0, 0], [4, 4]])
    array([0, 1])
    """

    _parameter_constraints: dict = {
        "damping": [Interval(Real, 0.5, 1.0, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "convergence_iter": [Interval(Integral, 1, None, closed="left")],
        "copy": ["boolean"],
        "preference": ["array-like", Interval(Real, None, None, closed="neither"), None],
        "affinity": [StrOptions({"euclidean", "precomputed"})],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(self, *, damping=0.5, max_iter=200, convergence_iter=15, copy=True,
                 preference=None, affinity="euclidean", verbose=False, random_state=None):
        self.damping = damping
        self.max_iter = max_iter
        self.convergence_iter = convergence_iter
        self.copy = copy
        self.verbose = verbose
        self.preference = preference
        self.affinity = affinity
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.affinity == "precomputed"
        tags.input_tags.sparse = self.affinity != "precomputed"
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the clustering from features, or affinity matrix.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or \
                array-like of shape (n_samples, n_samples)
            Training instances, or similarities with ``affinity='precomputed'``.
        y : Ignored

        Returns
        -------
        self
        """
        warn_if_dask(X, type(self).__name__)
        random_state = check_random_state(self.random_state)
        if self.affinity == "precomputed":
            X = validate_data(self, X, copy=self.copy, force_writeable=True)
            n = X.shape[0]
            if X.ndim == 2 and X.shape[0] == X.shape[1]:
                itemsize = 4 if X.dtype == np.float32 else 8
                _check_memory(n, itemsize, 26 if itemsize == 8 else 22, precomputed=True)
            if not X.flags.c_contiguous or X.dtype not in (np.float32, np.float64):
                X = np.ascontiguousarray(X, dtype=np.float64)
            if X.shape[0] != X.shape[1]:
                raise ValueError(
                    "The matrix of similarities must be a square array. "
                    f"Got {X.shape} instead.")
            noise = _draw_noise(random_state, n)
            self.affinity_matrix_ = X
        else:
            X = validate_data(self, X, accept_sparse="csr")
            check_magnitude(X, self)
            n = X.shape[0]
            itemsize = 4 if X.dtype == np.float32 else 8
            # float32: the float64 distances and the float64 noise meet the float32 copy
            # (traced: 28 bytes a pair at the peak, more than float64's 24)
            _check_memory(n, itemsize, 26 if itemsize == 8 else 30)
            noise = _draw_noise(random_state, n)
            try:
                self.affinity_matrix_ = _negative_squared_distances(X)
            except BaseException:
                _cancel_noise(random_state, noise)
                raise
        S = self.affinity_matrix_
        preference = _median(S) if self.preference is None else self.preference
        preference = np.asarray(preference)
        (self.cluster_centers_indices_, self.labels_,
         self.n_iter_) = _affinity_propagation(
            S, max_iter=self.max_iter, convergence_iter=self.convergence_iter,
            preference=preference, damping=self.damping, verbose=self.verbose,
            random_state=random_state, noise=noise)
        if self.affinity != "precomputed":
            self.cluster_centers_ = X[self.cluster_centers_indices_].copy()
        return self

    def predict(self, X):
        """Predict the closest cluster (nearest exemplar) each sample in X belongs to.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, accept_sparse="csr")
        check_magnitude(X, self, tiny=False)
        if not hasattr(self, "cluster_centers_"):
            raise ValueError("Predict method is not supported when affinity='precomputed'.")
        if self.cluster_centers_.shape[0] == 0:
            warnings.warn(
                "This model does not have any cluster centers "
                "because affinity propagation did not converge. "
                "Labeling every sample as '-1'.", ConvergenceWarning)
            return np.array([-1] * X.shape[0])
        centers = self.cluster_centers_
        centers = centers.toarray() if sparse.issparse(centers) else np.asarray(centers)
        centers = np.ascontiguousarray(centers, dtype=np.float64)
        labels = np.empty(X.shape[0], dtype=np.int64)
        dist = np.empty(X.shape[0], dtype=np.float64)
        rows = _config.chunk_rows(X.shape[1], 8)
        for lo in range(0, X.shape[0], rows):  # sparse rows densified a block at a time
            block = X[lo:lo + rows]
            block = block.toarray() if sparse.issparse(block) else block
            _ms.nearest_center(np.ascontiguousarray(block, dtype=np.float64), centers,
                               labels[lo:lo + rows], dist[lo:lo + rows])
        return labels

    def fit_predict(self, X, y=None):
        """Fit and return the cluster labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), or \
                array-like of shape (n_samples, n_samples)
        y : Ignored

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return super().fit_predict(X, y)
