"""Spectral clustering: :class:`SpectralClustering` and :func:`spectral_clustering`.

The same parameters, defaults, attributes and errors as scikit-learn 1.9's
``sklearn.cluster.SpectralClustering``, written on our own pieces, one module
per step:

1. the affinity graph -- :mod:`clusterlab.cluster._spectral_affinity`
   (dense or sparse RBF, the other kernels, k-nearest-neighbour graphs);
2. the spectral embedding -- :mod:`clusterlab.cluster._spectral_embedding`
   (normalised Laplacian, shift-invert subspace iteration and the other
   eigensolver paths);
3. the labels -- :mod:`clusterlab.cluster._spectral_labels` (k-means, the
   discretisation of Yu & Shi, CLUSTER_QR).

This module holds the public API only: parameter validation, the choice of
affinity, and the three steps in order. Thresholds (dense/sparse RBF, memory
budget, solver paths) live in :mod:`clusterlab._config` (``SPECTRAL_*``).
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClusterMixin, _fit_context
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import validate_data

from clusterlab._dask import warn_if_dask
from clusterlab import _config
from clusterlab._validation import (check_magnitude, check_n_clusters,
                                    check_sparse_structure)
from clusterlab.cluster._spectral_affinity import (
    _KERNELS,
    _callable_affinity,
    _check_square,
    _check_square_symmetric,
    _knn_connectivity,
    _knn_indices,
    _named_kernel,
    _precomputed_knn,
    rbf_affinity,
)
from clusterlab.cluster._spectral_embedding import spectral_embedding_normalized
from clusterlab.cluster._spectral_labels import (
    _assign_kmeans,
    _relabel_consecutive,
    cluster_qr,
    discretize,
)

__all__ = ["SpectralClustering", "spectral_clustering", "spectral_embedding_normalized",
           "rbf_affinity", "discretize", "cluster_qr"]


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

    A dense affinity takes O(n_samples^2) memory (its normalised Laplacian,
    8 bytes a pair; refused with the figure when it cannot fit); a sparse one
    O(nnz).

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
    check_sparse_structure(A, "affinity")
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
        Threads of numba's parallel kernels during ``fit`` (scikit-learn's
        convention: None keeps numba's setting, ``NUMBA_NUM_THREADS`` by
        default, -1 all, -2 all but one), never more than the cores this
        process may use. The eigensolver's BLAS threads follow
        :func:`clusterlab._config.factorization_threads` (the cores free when
        it starts).
    verbose : bool, default=False

    Attributes
    ----------
    affinity_matrix_ : ndarray or sparse matrix of shape (n_samples, n_samples)
        The affinity used: dense for rbf with n <= SPECTRAL_DENSE_RBF_MAX_SAMPLES and for
        the other kernels, CSR for nearest-neighbour graphs and for the sparse
        RBF above that size.
    labels_ : ndarray of shape (n_samples,)
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Only when X has string column names.

    Notes
    -----
    Large data: the dense RBF needs n^2 memory; above
    ``SPECTRAL_DENSE_RBF_MAX_SAMPLES`` samples the RBF affinity is the sparse
    matrix of the pairs with affinity >= ``SPECTRAL_RBF_SPARSE_TOL`` (radius
    ``sqrt(-ln(tol) / gamma)``), the dense result up to that tolerance. If even
    that would exceed ``SPECTRAL_MAX_AFFINITY_BYTES``, ``fit`` fails before
    allocating it, with the memory it needs, and suggests
    ``affinity='nearest_neighbors'``. The three thresholds live in
    :mod:`clusterlab._config`.

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
        # an affinity holds similarities: negative values are refused
        tags.input_tags.positive_only = self.affinity == "precomputed"
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
        warn_if_dask(X, type(self).__name__)
        X = validate_data(self, X, accept_sparse=["csr", "csc", "coo"],
                          dtype=[np.float64, np.float32], ensure_min_samples=2)
        check_sparse_structure(X)
        if self.affinity in ("rbf", "nearest_neighbors"):
            check_magnitude(X, self)
        allow_squared = self.affinity in ("precomputed", "precomputed_nearest_neighbors")
        if X.shape[0] == X.shape[1] and not allow_squared:
            warnings.warn(
                "The spectral clustering API has changed. ``fit`` now constructs an affinity "
                "matrix from data. To use a custom affinity matrix, set "
                "``affinity=precomputed``.", stacklevel=2)
        if allow_squared:
            _check_square(X, f"affinity={self.affinity!r}")
        check_n_clusters(self.n_clusters, X.shape[0])
        n_jobs = self.n_jobs
        if n_jobs == 0 and not str(self.affinity).startswith("nearest_neighbors"):
            n_jobs = None  # scikit-learn uses n_jobs only for the neighbour graph
        with _config.numba_threads(n_jobs):
            return self._fit(X)

    def _fit(self, X):
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
        labels = np.asarray(labels)
        # scikit-learn's dtype: int32 from k_means, intp from the other two
        self.labels_ = _relabel_consecutive(labels).astype(labels.dtype, copy=False)
        return self

    def fit_predict(self, X, y=None):
        """Fit and return ``labels_``."""
        return super().fit_predict(X, y)
