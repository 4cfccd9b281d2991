"""Spectral biclustering: :class:`SpectralCoclustering`, :class:`SpectralBiclustering`.

The same API, defaults, attributes and errors as scikit-learn 1.9's. The
singular vectors come from a randomized SVD (Halko, Martinsson and Tropp
2011) drawing its random matrix as scikit-learn's does, or from ARPACK
(``scipy.sparse.linalg.svds``); the clustering of the (projected) singular
vectors is clusterlab's :class:`~clusterlab.KMeans` (or
:class:`~clusterlab.MiniBatchKMeans`), so for the same ``random_state`` the
row and column labels are scikit-learn's.
"""

from numbers import Integral

import numpy as np
from scipy import linalg
from scipy.sparse import dia_array, issparse
from scipy.sparse.linalg import eigsh, svds
from sklearn.base import BaseEstimator, BiclusterMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import assert_all_finite, validate_data

from clusterlab._dask import warn_if_dask
from clusterlab import _config

__all__ = ["SpectralBiclustering", "SpectralCoclustering"]


def _make_nonnegative(X, min_value=0):
    """X shifted so that its smallest value is ``min_value`` (if below it)."""
    smallest = X.min()
    if smallest < min_value:
        if issparse(X):
            raise ValueError(
                "Cannot make the data matrix nonnegative because it is sparse. Adding a "
                "value to every entry would make it no longer sparse."
            )
        X = X + (min_value - smallest)
    return X


def _refuse_empty(sums, what):
    empty = np.flatnonzero(sums == 0)
    if empty.size:
        shown = ", ".join(map(str, empty[:5])) + (", ..." if empty.size > 5 else "")
        raise ValueError(
            f"{empty.size} {what}(s) of the data ({what} {shown}) hold only zeros (after "
            "shifting the data to be non-negative): the spectral normalisation divides by "
            f"each {what}'s sum, so such a {what} belongs to no bicluster; remove it.")


def _scale_normalize(X):
    """``D_r^{-1/2} X D_c^{-1/2}`` with the row and column sums as D_r, D_c:
    (normalized X, row factors, column factors). Dense data with a row or
    column whose sum is zero are refused, naming it (scikit-learn fails there
    inside its SVD with "array must not contain infs or NaNs"); in sparse data
    such a row holds no entry to scale and is kept, as scikit-learn keeps it."""
    X = _make_nonnegative(X)
    row_sums = np.asarray(X.sum(axis=1)).ravel()
    col_sums = np.asarray(X.sum(axis=0)).ravel()
    if not issparse(X):
        _refuse_empty(row_sums, "row")
        _refuse_empty(col_sums, "column")
    with np.errstate(divide="ignore", invalid="ignore"):
        row_diag = 1.0 / np.sqrt(row_sums)
        col_diag = 1.0 / np.sqrt(col_sums)
    row_diag = np.where(np.isnan(row_diag), 0, row_diag)
    col_diag = np.where(np.isnan(col_diag), 0, col_diag)
    if issparse(X):
        n_rows, n_cols = X.shape
        r = dia_array((row_diag, [0]), shape=(n_rows, n_rows))
        c = dia_array((col_diag, [0]), shape=(n_cols, n_cols))
        normalized = r @ X @ c
    else:
        # (r * X) * c as before, the second product in place: one copy of X, not two
        normalized = row_diag[:, np.newaxis] * X
        normalized *= col_diag
    return normalized, row_diag, col_diag


def _bistochastic_normalize(X, max_iter=1000, tol=1e-5):
    """Alternate row and column scaling until rows sum to one constant and
    columns to another (Sinkhorn–Knopp)."""
    X = _make_nonnegative(X)
    X_scaled = X
    for _ in range(max_iter):
        X_new, _, _ = _scale_normalize(X_scaled)
        if issparse(X):
            # as scikit-learn: for sparse input the stopping distance compares
            # with the input (its result, which this reproduces)
            dist = linalg.norm(X_scaled.data - X.data)
        elif X_scaled is X:
            dist = linalg.norm(X_scaled - X_new)
        else:  # the previous step's array is ours: the difference in its place
            X_scaled -= X_new
            dist = linalg.norm(X_scaled)
        X_scaled = X_new
        if dist is not None and dist < tol:
            break
    return X_scaled


def _log_normalize(X):
    """Kluger's log interactions: log X minus row and column means plus the mean."""
    X = _make_nonnegative(X, min_value=1)
    if issparse(X):
        raise ValueError(
            "Cannot compute log of a sparse matrix, because log(x) diverges to -infinity "
            "as x goes to 0."
        )
    L = np.log(X)
    return L - L.mean(axis=1)[:, np.newaxis] - L.mean(axis=0) + L.mean()


def _svd_flip(u, v, u_based):
    """Signs of singular vector pairs made deterministic: the largest
    absolute entry of each left (or right) vector is positive."""
    if u_based:
        rows = np.argmax(np.abs(u), axis=0)
        signs = np.sign(u[rows, np.arange(u.shape[1])])
    else:
        cols = np.argmax(np.abs(v), axis=1)
        signs = np.sign(v[np.arange(v.shape[0]), cols])
    signs[signs == 0] = 1.0
    return u * signs[np.newaxis, :], v * signs[:, np.newaxis]


def randomized_svd(M, n_components, *, n_oversamples=10, random_state=None):
    """Leading singular triplets by the randomized range finder.

    Halko, Martinsson and Tropp (2011), Algorithm 4.4 with LU-normalised
    power iterations (plain ones for at most two): ``n_components +
    n_oversamples`` Gaussian vectors (drawn as scikit-learn's
    ``randomized_svd`` draws them), 7 power iterations when ``n_components``
    is under a tenth of the smaller side of M, else 4; the thinner side of M
    is the one multiplied. Signs as scikit-learn's (``flip_sign=True``).

    Returns ``U (n, k), s (k,), Vt (k, m)``. Time O(n m (k + p) q), memory
    O((n + m)(k + p)) besides M.
    """
    random_state = check_random_state(random_state)
    n_random = n_components + n_oversamples
    n_iter = 7 if n_components < 0.1 * min(M.shape) else 4
    transpose = M.shape[0] < M.shape[1]
    if transpose:
        M = M.T
    Q = random_state.normal(size=(M.shape[1], n_random))
    if M.dtype == np.float32:
        Q = Q.astype(np.float32, copy=False)
    # The factorisations of the thin (n, k + p) blocks run on one BLAS thread:
    # OpenBLAS's threaded getrf/gesdd on them were up to 100x slower (LU of
    # 2000 x 14: 80 ms on two threads, 0.8 ms on one; SVD of 14 x 1333: 287
    # vs 1.5 ms); the products with M keep every thread.
    if n_iter <= 2:
        def normalize(A):
            return A
    else:
        def normalize(A):
            with _config.single_threaded_blas():
                return linalg.lu(A, permute_l=True, check_finite=False)[0]
    for _ in range(n_iter):
        Q = normalize(M @ Q)
        Q = normalize(M.T @ Q)
    Y = M @ Q
    with _config.single_threaded_blas():
        Q, _ = linalg.qr(Y, mode="economic", check_finite=False)
    B = np.asarray(Q.T @ M)
    with _config.single_threaded_blas():
        Uhat, s, Vt = linalg.svd(B, full_matrices=False, lapack_driver="gesdd")
    U = Q @ Uhat
    U, Vt = _svd_flip(U, Vt, u_based=not transpose)
    if transpose:
        return Vt[:n_components].T, s[:n_components], U[:, :n_components].T
    return U[:, :n_components], s[:n_components], Vt[:n_components]


class _BaseSpectralBicluster(BiclusterMixin, BaseEstimator):
    """The SVD and K-Means steps shared by the two spectral biclusterings."""

    _parameter_constraints: dict = {
        "svd_method": [StrOptions({"randomized", "arpack"})],
        "n_svd_vecs": [Interval(Integral, 0, None, closed="left"), None],
        "mini_batch": ["boolean"],
        "init": [StrOptions({"k-means++", "random"}), np.ndarray],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Find the biclusters of X.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        self
        """
        warn_if_dask(X, type(self).__name__)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64)
        self._check_parameters(X.shape[0])
        self._check_memory(X)
        self._fit(X)
        return self

    #: dense copies of X the normalisation holds at once besides X itself (the
    #: bistochastic steps: the previous and the next scaling, and a shifted copy
    #: of data with negative values)
    _DENSE_COPIES = 1

    def _check_memory(self, X):
        """A clear ``MemoryError`` before the work when the normalised copies of a
        dense X cannot fit the memory this process may still allocate."""
        if issparse(X):
            return
        from clusterlab import _config

        copies = self._DENSE_COPIES + (1 if X.size and X.min() < 0 else 0)
        need = 8 * X.size * copies
        _config.refuse_beyond_memory(need, lambda avail: (
            f"{type(self).__name__} normalises X ({X.shape[0]} x {X.shape[1]}) in "
            f"{copies} dense cop{'y' if copies == 1 else 'ies'}: about "
            f"{need / 2**30:.2f} GiB, more than the {avail / 2**30:.2f} GiB this process "
            "may still allocate. Pass X as a scipy sparse matrix if it is mostly zeros, "
            "or fewer rows or columns."), floor=_config.MEMORY_CHECK_FLOOR_BYTES)

    def _svd(self, array, n_components, n_discard):
        """The first ``n_components`` left and right singular vectors, the
        first ``n_discard`` dropped: (u (n, c), v (m, c))."""
        if min(array.shape) <= n_discard:
            raise ValueError(
                f"{type(self).__name__} clusters on the singular vectors of X after its first "
                f"{n_discard}, but X of shape {array.shape} has only {min(array.shape)}: it "
                "needs at least two rows and two columns.")
        if self.svd_method == "randomized":
            kwargs = {} if self.n_svd_vecs is None else {"n_oversamples": self.n_svd_vecs}
            u, _, vt = randomized_svd(array, n_components, random_state=self.random_state,
                                      **kwargs)
        else:
            u, _, vt = svds(array, k=n_components, ncv=self.n_svd_vecs)
            if np.any(np.isnan(vt)):
                # ARPACK may fail on a degenerate spectrum: eigenvectors of the
                # Gram matrices instead
                A = array.T @ array
                v0 = check_random_state(self.random_state).uniform(-1, 1, A.shape[0])
                _, v = eigsh(A, ncv=self.n_svd_vecs, v0=v0)
                vt = v.T
            if np.any(np.isnan(u)):
                A = array @ array.T
                v0 = check_random_state(self.random_state).uniform(-1, 1, A.shape[0])
                _, u = eigsh(A, ncv=self.n_svd_vecs, v0=v0)
        assert_all_finite(u)
        assert_all_finite(vt)
        return u[:, n_discard:], vt[n_discard:].T

    def _k_means(self, data, n_clusters):
        import clusterlab  # the public estimators, wherever they live

        from clusterlab._validation import magnitude_out_of_range

        Model = clusterlab.MiniBatchKMeans if self.mini_batch else clusterlab.KMeans
        model = Model(n_clusters, init=self.init, n_init=self.n_init,
                      random_state=self.random_state)
        data = np.ascontiguousarray(data)
        # the normalised vectors scale as 1/sqrt of X's values (X near 1e300
        # gives vectors near 1e-152): a power of two brings them back where
        # K-Means computes squared distances; it changes no label
        top = float(np.max(np.abs(data))) if data.size else 0.0
        shift = 0
        if np.isfinite(top) and magnitude_out_of_range(top, data.shape[1]):
            shift = -int(np.ceil(np.log2(top)))
            data = np.ldexp(data, shift)
            if isinstance(self.init, np.ndarray):
                model.set_params(init=np.ldexp(np.asarray(self.init, dtype=float), shift))
        model.fit(data)
        return np.ldexp(model.cluster_centers_, -shift), model.labels_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


_COMMON_PARAMETERS = """
    svd_method : {'randomized', 'arpack'}, default='randomized'
        'randomized': :func:`randomized_svd` (fast on large matrices);
        'arpack': ``scipy.sparse.linalg.svds`` (more accurate, slower).
    n_svd_vecs : int, default=None
        'randomized': oversampling vectors (``None``: 10); 'arpack': the
        ``ncv`` parameter (Lanczos vectors).
    mini_batch : bool, default=False
        Cluster with :class:`clusterlab.MiniBatchKMeans` instead of
        :class:`clusterlab.KMeans`.
    init : {'k-means++', 'random'} or ndarray, default='k-means++'
        Initialisation of the K-Means runs.
    n_init : int, default=10
        K-Means runs from different seeds (the best inertia is kept).
    random_state : int, RandomState instance or None, default=None
        Seed of the randomized SVD and of the K-Means runs."""

_COMMON_ATTRIBUTES = """
    biclusters_ : tuple of two ndarrays
        ``(rows_, columns_)``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when X has string column names."""


class SpectralCoclustering(_BaseSpectralBicluster):
    __doc__ = """Spectral co-clustering (Dhillon, 2001).

    Rows and columns are clustered together: each row and each column is in
    exactly one of ``n_clusters`` biclusters. The matrix is normalised as
    ``D_r^{{-1/2}} X D_c^{{-1/2}}``; its singular vectors 2 .. 1 + ceil(log2 k)
    embed rows and columns in one space, where K-Means finds the biclusters.
    A drop-in for :class:`sklearn.cluster.SpectralCoclustering`.

    Parameters
    ----------
    n_clusters : int, default=3
        Number of biclusters.{params}

    Attributes
    ----------
    rows_ : ndarray of shape (n_clusters, n_rows), bool
        ``rows_[i, r]`` is True when row r is in bicluster i.
    columns_ : ndarray of shape (n_clusters, n_columns), bool
        Likewise for the columns.
    row_labels_ : ndarray of shape (n_rows,)
        Bicluster of each row.
    column_labels_ : ndarray of shape (n_cols,)
        Bicluster of each column.{attrs}

    See Also
    --------
    SpectralBiclustering : checkerboard structure.
    clusterlab.metrics.consensus_score : compare two sets of biclusters.
    clusterlab.plotting.plot_biclusters : the matrix reordered by bicluster.

    Notes
    -----
    Time: the SVD, O(n m c q) for c = 11 + ceil(log2 k) random vectors and q
    power iterations (randomized), plus K-Means on n + m points in
    ceil(log2 k) dimensions. Memory: one normalised copy of X (two for data
    with negative values, shifted first; sparse stays sparse) plus
    O((n + m) c); refused with a MemoryError before the work when it cannot
    fit.

    References
    ----------
    Dhillon, I. S. "Co-clustering documents and words using bipartite
    spectral graph partitioning", KDD 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import SpectralCoclustering
    >>> X = np.array([[1, 1], [2, 1], [1, 0], [4, 7], [3, 5], [3, 6]])
    >>> model = SpectralCoclustering(n_clusters=2, random_state=0).fit(X)
    >>> model.row_labels_.tolist(), model.column_labels_.tolist()
    ([0, 1, 1, 0, 0, 0], [0, 0])
    """.format(params=_COMMON_PARAMETERS, attrs=_COMMON_ATTRIBUTES)

    _parameter_constraints: dict = {
        **_BaseSpectralBicluster._parameter_constraints,
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(self, n_clusters=3, *, svd_method="randomized", n_svd_vecs=None,
                 mini_batch=False, init="k-means++", n_init=10, random_state=None):
        self.n_clusters = n_clusters
        self.svd_method = svd_method
        self.n_svd_vecs = n_svd_vecs
        self.mini_batch = mini_batch
        self.init = init
        self.n_init = n_init
        self.random_state = random_state

    def _check_parameters(self, n_samples):
        if self.n_clusters > n_samples:
            raise ValueError(
                f"n_clusters should be <= n_samples={n_samples}. Got {self.n_clusters} "
                "instead."
            )

    def _fit(self, X):
        normalized, row_diag, col_diag = _scale_normalize(X)
        n_sv = 1 + int(np.ceil(np.log2(self.n_clusters)))
        u, v = self._svd(normalized, n_sv, n_discard=1)
        z = np.vstack((row_diag[:, np.newaxis] * u, col_diag[:, np.newaxis] * v))
        _, labels = self._k_means(z, self.n_clusters)
        n_rows = X.shape[0]
        self.row_labels_ = labels[:n_rows]
        self.column_labels_ = labels[n_rows:]
        clusters = np.arange(self.n_clusters)[:, np.newaxis]
        self.rows_ = self.row_labels_[np.newaxis, :] == clusters
        self.columns_ = self.column_labels_[np.newaxis, :] == clusters


class SpectralBiclustering(_BaseSpectralBicluster):
    __doc__ = """Spectral biclustering (Kluger, 2003): a checkerboard structure.

    Rows are split in ``n_row_clusters`` and columns in ``n_column_clusters``
    groups; every (row group, column group) pair is a bicluster. The matrix is
    normalised ('bistochastic', 'scale' or 'log'); among its leading singular
    vectors the ``n_best`` closest to piecewise-constant ones are kept, the
    data projected on them, and rows and columns clustered with K-Means. A
    drop-in for :class:`sklearn.cluster.SpectralBiclustering`.

    Parameters
    ----------
    n_clusters : int or tuple (n_row_clusters, n_column_clusters), default=3
        Number of row and column clusters.
    method : {{'bistochastic', 'scale', 'log'}}, default='bistochastic'
        Normalisation: Sinkhorn–Knopp scaling to constant row and column sums,
        one independent row and column scaling, or log interactions (no
        singular vector discarded; needs dense input).
    n_components : int, default=6
        Singular vectors to compute.
    n_best : int, default=3
        Of those, how many best approximated by a piecewise-constant vector
        are used to project the data.{params}

    Attributes
    ----------
    rows_ : ndarray of shape (n_row_clusters * n_column_clusters, n_rows), bool
        Rows of each bicluster (bicluster ``i * n_column_clusters + j`` is
        row cluster i with column cluster j).
    columns_ : ndarray of shape (n_row_clusters * n_column_clusters, n_columns), bool
        Columns of each bicluster.
    row_labels_ : ndarray of shape (n_rows,)
        Row cluster of each row.
    column_labels_ : ndarray of shape (n_cols,)
        Column cluster of each column.{attrs}

    See Also
    --------
    SpectralCoclustering : biclusters that partition rows and columns together.

    Notes
    -----
    Time: the normalisation (bistochastic: O(n m) per Sinkhorn step, up to
    1000 steps), the SVD O(n m c q) with c = n_components + 11, one K-Means
    on each singular vector (1-D, n or m points), and K-Means on the
    projected rows (n points, n_best dimensions) and columns. Memory: two
    normalised copies of X (three for data with negative values, shifted
    first) plus O((n + m) c); refused with a MemoryError before the work when
    they cannot fit.

    References
    ----------
    Kluger, Y., Basri, R., Chang, J. T. and Gerstein, M. "Spectral
    biclustering of microarray data: coclustering genes and conditions",
    Genome Research 2003.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import SpectralBiclustering
    >>> X = np.array([[1, 1], [2, 1], [1, 0], [4, 7], [3, 5], [3, 6]])
    >>> model = SpectralBiclustering(n_clusters=2, random_state=0).fit(X)
    >>> model.row_labels_.tolist(), model.column_labels_.tolist()
    ([1, 1, 1, 0, 0, 0], [1, 0])
    """.format(params=_COMMON_PARAMETERS, attrs=_COMMON_ATTRIBUTES)

    _parameter_constraints: dict = {
        **_BaseSpectralBicluster._parameter_constraints,
        "n_clusters": [Interval(Integral, 1, None, closed="left"), tuple],
        "method": [StrOptions({"bistochastic", "scale", "log"})],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "n_best": [Interval(Integral, 1, None, closed="left")],
    }

    #: the bistochastic steps hold the previous and the next scaling; the log
    #: method the logarithm and its centred copy
    _DENSE_COPIES = 2

    def __init__(self, n_clusters=3, *, method="bistochastic", n_components=6, n_best=3,
                 svd_method="randomized", n_svd_vecs=None, mini_batch=False,
                 init="k-means++", n_init=10, random_state=None):
        self.n_clusters = n_clusters
        self.method = method
        self.n_components = n_components
        self.n_best = n_best
        self.svd_method = svd_method
        self.n_svd_vecs = n_svd_vecs
        self.mini_batch = mini_batch
        self.init = init
        self.n_init = n_init
        self.random_state = random_state

    def _check_parameters(self, n_samples):
        if isinstance(self.n_clusters, Integral):
            if self.n_clusters > n_samples:
                raise ValueError(
                    f"n_clusters should be <= n_samples={n_samples}. Got "
                    f"{self.n_clusters} instead."
                )
        else:
            ok = len(self.n_clusters) == 2 and all(
                isinstance(c, Integral) and not isinstance(c, bool) and 1 <= c <= n_samples
                for c in self.n_clusters)
            if not ok:
                raise ValueError(
                    f"Incorrect parameter n_clusters has value: {self.n_clusters}. It should "
                    "either be a single integer or an iterable with two integers: "
                    "(n_row_clusters, n_column_clusters) And the values are should be in "
                    "the range: (1, n_samples)"
                )
        if self.n_best > self.n_components:
            raise ValueError(
                f"n_best={self.n_best} must be <= n_components={self.n_components}."
            )

    def _fit(self, X):
        n_sv = self.n_components
        if self.method == "bistochastic":
            normalized = _bistochastic_normalize(X)
            n_sv += 1
        elif self.method == "scale":
            normalized, _, _ = _scale_normalize(X)
            n_sv += 1
        else:
            normalized = _log_normalize(X)
        n_discard = 0 if self.method == "log" else 1
        u, v = self._svd(normalized, n_sv, n_discard)
        if isinstance(self.n_clusters, Integral):
            n_row_clusters = n_col_clusters = self.n_clusters
        else:
            n_row_clusters, n_col_clusters = self.n_clusters
        best_ut = self._fit_best_piecewise(u.T, self.n_best, n_row_clusters)
        best_vt = self._fit_best_piecewise(v.T, self.n_best, n_col_clusters)
        self.row_labels_ = self._project_and_cluster(X, best_vt.T, n_row_clusters)
        self.column_labels_ = self._project_and_cluster(X.T, best_ut.T, n_col_clusters)
        row_of = np.repeat(np.arange(n_row_clusters), n_col_clusters)[:, np.newaxis]
        col_of = np.tile(np.arange(n_col_clusters), n_row_clusters)[:, np.newaxis]
        self.rows_ = self.row_labels_[np.newaxis, :] == row_of
        self.columns_ = self.column_labels_[np.newaxis, :] == col_of

    def _fit_best_piecewise(self, vectors, n_best, n_clusters):
        """The ``n_best`` rows of ``vectors`` closest (Euclidean) to their
        piecewise-constant approximation by 1-D K-Means."""
        piecewise = np.empty_like(vectors)
        for i, vec in enumerate(vectors):
            centers, labels = self._k_means(vec.reshape(-1, 1), n_clusters)
            piecewise[i] = centers[labels].ravel()
        dists = np.linalg.norm(vectors - piecewise, axis=1)
        return vectors[np.argsort(dists)[:n_best]]

    def _project_and_cluster(self, data, vectors, n_clusters):
        projected = np.asarray(data @ vectors)
        _, labels = self._k_means(projected, n_clusters)
        return labels
