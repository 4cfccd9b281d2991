"""BIRCH: a CF-tree in flat numba arrays, a bounded-memory global step, streaming.

scikit-learn's :class:`sklearn.cluster.Birch` inserts samples one by one
through Python objects (tens of microseconds a sample) and clusters the leaf
subclusters with :class:`sklearn.cluster.AgglomerativeClustering`, whose Ward
linkage builds a condensed n x n distance matrix: with the default threshold
on 10^5 points (about as many subclusters as points) it asks for tens of GB.

Here the tree lives in preallocated arrays (:mod:`clusterlab._kernels.birch`)
and is filled by one compiled loop that follows scikit-learn's insertion step
by step, so the same rows in the same order give the same subclusters. The
global step runs clusterlab's :class:`~clusterlab.AgglomerativeClustering`
(Ward by the nearest-neighbour chain: O(n d) memory). Its time is quadratic in
the number of subclusters, so above
``clusterlab._config.BIRCH_EXACT_GLOBAL_MAX_SUBCLUSTERS`` subclusters the
global step is an approximation, announced by a warning that names the
threshold to raise: the subcluster centres are themselves summarised by a
CF-tree of doubling threshold until few enough remain, Ward clusters those
summaries, and every subcluster takes the label of its summary.

:func:`partial_fit_stream` feeds a file (``.npy`` memory-mapped, ``.csv``),
a memmap, an array or an iterable of arrays through ``partial_fit`` a chunk
at a time.
"""

import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from clusterlab._dask import warn_if_dask
from .. import _config
from .._validation import check_magnitude, check_table_fits
from .._kernels import birch as _bk

__all__ = ["Birch", "partial_fit_stream"]


class _CFTree:
    """The pools of :mod:`clusterlab._kernels.birch`, grown by doubling."""

    def __init__(self, n_features, threshold, branching_factor):
        self.threshold = float(threshold)
        self.branching_factor = int(branching_factor)
        self.n_features = int(n_features)
        self.state = np.array([1, 2, 0, 0], dtype=np.int64)  # root, nodes, subs
        self._alloc_nodes(2 * _bk.MAX_DEPTH + 8)
        self._alloc_subs(4 * _bk.MAX_DEPTH + 16)
        self.node_leaf[:2] = True
        self.node_nsub[:2] = 0
        self.node_prev[:2] = -1
        self.node_next[:2] = -1
        self.node_next[0] = 1
        self.node_prev[1] = 0

    def _alloc_nodes(self, cap):
        old = getattr(self, "node_leaf", None)
        used = 0 if old is None else int(self.state[1])
        B1 = self.branching_factor + 1
        new = dict(node_leaf=np.zeros(cap, np.bool_), node_nsub=np.zeros(cap, np.int64),
                   node_subs=np.zeros((cap, B1), np.int64),
                   node_prev=np.full(cap, -1, np.int64), node_next=np.full(cap, -1, np.int64))
        for name, arr in new.items():
            if old is not None:
                arr[:used] = getattr(self, name)[:used]
            setattr(self, name, arr)

    def _alloc_subs(self, cap):
        old = getattr(self, "sub_n", None)
        used = 0 if old is None else int(self.state[2])
        d = self.n_features
        new = dict(sub_n=np.zeros(cap, np.int64), sub_ls=np.zeros((cap, d)),
                   sub_ss=np.zeros(cap), sub_cent=np.zeros((cap, d)), sub_sqn=np.zeros(cap),
                   sub_child=np.full(cap, -1, np.int64))
        for name, arr in new.items():
            if old is not None:
                arr[:used] = getattr(self, name)[:used]
            setattr(self, name, arr)

    def insert(self, X, row_sub=None):
        """Insert the rows of a dense float array (in order)."""
        X = np.ascontiguousarray(X)
        n = X.shape[0]
        track = np.empty(0, np.int64) if row_sub is None else row_sub
        B1 = self.branching_factor + 1
        ctl = np.zeros(8, dtype=np.int64)
        path_node = np.zeros(_bk.MAX_DEPTH, dtype=np.int64)
        path_pos = np.zeros(_bk.MAX_DEPTH, dtype=np.int64)
        pair_c = np.empty((B1, self.n_features))
        pair_d = np.empty((2, B1))
        pos = 0
        while pos < n:
            pos = _bk.birch_insert(
                X, pos, _square(self.threshold), self.branching_factor, self.node_leaf,
                self.node_nsub, self.node_subs, self.node_prev, self.node_next, self.sub_n,
                self.sub_ls, self.sub_ss, self.sub_cent, self.sub_sqn, self.sub_child,
                self.state, track, ctl, path_node, path_pos, pair_c, pair_d)
            if pos < 0:
                raise RuntimeError("Birch: CF-tree deeper than the kernel supports.")
            if ctl[0] == _bk.NEED_PAIR:
                # the split's farthest pair by numpy, exactly as scikit-learn finds it
                m = int(ctl[5])
                p, dp, dq = _bk.farthest_pair(pair_c[:m])
                ctl[6] = p
                pair_d[0, :m] = dp
                pair_d[1, :m] = dq
                ctl[0] = _bk.HAVE_PAIR
                continue
            if pos < n:
                if self.state[1] + _bk.MAX_DEPTH + 2 > len(self.node_leaf):
                    self._alloc_nodes(2 * len(self.node_leaf))
                if self.state[2] + 2 * _bk.MAX_DEPTH + 3 > len(self.sub_n):
                    self._alloc_subs(2 * len(self.sub_n))

    def leaf_subclusters(self):
        out = np.empty(int(self.state[2]), dtype=np.int64)
        m = _bk.birch_leaf_subclusters(self.node_nsub, self.node_subs, self.node_next, out)
        return out[:m]


class _CFSubcluster:
    """Read-only view of one subcluster (scikit-learn's ``_CFSubcluster`` attributes)."""

    __slots__ = ("_tree", "_id")

    def __init__(self, tree, sub_id):
        self._tree, self._id = tree, int(sub_id)

    n_samples_ = property(lambda self: int(self._tree.sub_n[self._id]))
    linear_sum_ = property(lambda self: self._tree.sub_ls[self._id].copy())
    squared_sum_ = property(lambda self: float(self._tree.sub_ss[self._id]))
    centroid_ = property(lambda self: self._tree.sub_cent[self._id].copy())
    sq_norm_ = property(lambda self: float(self._tree.sub_sqn[self._id]))

    @property
    def child_(self):
        child = int(self._tree.sub_child[self._id])
        return None if child < 0 else _CFNode(self._tree, child)

    @property
    def radius(self):
        """Root mean squared distance of the subcluster's samples to its centroid."""
        sq = self.squared_sum_ / self.n_samples_ - self.sq_norm_
        return float(np.sqrt(max(0.0, sq)))


class _CFNode:
    """Read-only view of one CF-tree node (scikit-learn's ``_CFNode`` attributes)."""

    __slots__ = ("_tree", "_id")

    def __init__(self, tree, node_id):
        self._tree, self._id = tree, int(node_id)

    threshold = property(lambda self: self._tree.threshold)
    branching_factor = property(lambda self: self._tree.branching_factor)
    n_features = property(lambda self: self._tree.n_features)
    is_leaf = property(lambda self: bool(self._tree.node_leaf[self._id]))

    def _subs(self):
        return self._tree.node_subs[self._id, : self._tree.node_nsub[self._id]]

    @property
    def subclusters_(self):
        return [_CFSubcluster(self._tree, s) for s in self._subs()]

    @property
    def centroids_(self):
        return self._tree.sub_cent[self._subs()]

    @property
    def squared_norm_(self):
        return self._tree.sub_sqn[self._subs()]

    def _link(self, other):
        return None if other < 0 else _CFNode(self._tree, other)

    prev_leaf_ = property(lambda self: self._link(int(self._tree.node_prev[self._id])))
    next_leaf_ = property(lambda self: self._link(int(self._tree.node_next[self._id])))


def _square(threshold):
    """``threshold ** 2``, +inf where it would overflow (Python's float power
    raises OverflowError; such a threshold merges every subcluster anyway)."""
    return threshold * threshold if threshold < 1e154 else np.inf


def _dense_chunks(X, rows):
    """Dense C-contiguous row blocks of X (sparse rows densified a block at a time)."""
    for lo in range(0, X.shape[0], rows):
        block = X[lo:lo + rows]
        yield lo, (block.toarray() if sparse.issparse(block) else block)


def _nearest(X, centers, norms):
    """Index of the nearest centre per row: argmin of ``|c|^2 - 2 x.c`` (BLAS, by blocks)."""
    out = np.empty(X.shape[0], dtype=np.int64)
    C = np.asarray(centers, dtype=np.float64)
    rows = _config.chunk_rows(len(C), 8)
    for lo, block in _dense_chunks(X, rows):
        d = np.asarray(block, dtype=np.float64) @ C.T
        d *= -2.0
        d += norms
        out[lo:lo + len(d)] = np.argmin(d, axis=1)
    return out


def _coarsen(centers, limit, threshold, branching_factor):
    """Summaries of ``centers`` (at most ``limit``) by CF-trees of doubling threshold.

    Returns (summary centres, summary of each centre, threshold used).
    """
    t = max(float(threshold), 1e-12) * 2.0
    while True:
        tree = _CFTree(centers.shape[1], t, branching_factor)
        owner = np.empty(len(centers), dtype=np.int64)
        tree.insert(centers, owner)
        leaves = tree.leaf_subclusters()
        if len(leaves) <= limit:
            index = np.full(int(tree.state[2]), -1, dtype=np.int64)
            index[leaves] = np.arange(len(leaves))
            return tree.sub_cent[leaves], index[owner], t
        t *= 2.0


class Birch(ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin, BaseEstimator):
    """Memory-efficient, online-learning clustering by a CF-tree (BIRCH).

    Same parameters, attributes and results as :class:`sklearn.cluster.Birch`
    (the same subclusters for the same rows in the same order); the tree is
    built by a compiled loop and the global step uses clusterlab's
    bounded-memory agglomerative clustering.

    Parameters
    ----------
    threshold : float, default=0.5
        Largest radius of a leaf subcluster after a merge.
    branching_factor : int, default=50
        Most subclusters per node; a fuller node is split.
    n_clusters : int, estimator or None, default=3
        The global step over the leaf subcluster centres: an int runs
        :class:`~clusterlab.AgglomerativeClustering` (Ward) with that many
        clusters; a clusterer estimator is fitted on the centres; None keeps
        the subclusters as the clusters.
    compute_labels : bool, default=True
        Set ``labels_`` at each fit.

    Attributes
    ----------
    root_ : _CFNode
        The root of the CF-tree (a read-only view with scikit-learn's node
        attributes: ``subclusters_``, ``centroids_``, ``is_leaf``, ...).
    dummy_leaf_ : _CFNode
        Start of the linked list of leaves (``next_leaf_``).
    subcluster_centers_ : ndarray of shape (n_subclusters, n_features)
    subcluster_labels_ : ndarray of shape (n_subclusters,)
    labels_ : ndarray of shape (n_samples,)
        Labels of the last batch fitted (with ``compute_labels``).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)

    Notes
    -----
    Time: each insertion visits one path of the tree, O(branching_factor
    * depth * d); the global Ward step is O(m^2 d) for m subclusters and
    O(m d) memory, so it is exact up to
    ``BIRCH_EXACT_GLOBAL_MAX_SUBCLUSTERS`` subclusters (20 000 by default,
    seconds) and approximate beyond (see the module documentation); labels
    cost O(n m d) by blocks. Memory: O(m d) for the tree (float64 sums and
    centroids) plus the block buffers of ``clusterlab._config``.

    Examples
    --------
    >>> from clusterlab import Birch
    >>> X = [[0, 1], [0.3, 1], [-0.3, 1], [0, -1], [0.3, -1], [-0.3, -1]]
    >>> brc = Birch(n_clusters=None).fit(X)
    >>> brc.predict(X)
    array([0, 0, 0, 1, 1, 1])
    """

    _parameter_constraints: dict = {
        "threshold": [Interval(Real, 0.0, None, closed="neither")],
        "branching_factor": [Interval(Integral, 1, None, closed="neither")],
        "n_clusters": [None, ClusterMixin, Interval(Integral, 1, None, closed="left")],
        "compute_labels": ["boolean"],
    }

    def __init__(self, *, threshold=0.5, branching_factor=50, n_clusters=3,
                 compute_labels=True):
        self.threshold = threshold
        self.branching_factor = branching_factor
        self.n_clusters = n_clusters
        self.compute_labels = compute_labels

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Build a CF-tree for the input data, then the global clustering.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        self
        """
        warn_if_dask(X, type(self).__name__)
        return self._fit(X, partial=False)

    def _fit(self, X, partial):
        first_call = not (partial and getattr(self, "_tree", None) is not None)
        X = validate_data(self, X, accept_sparse="csr", reset=first_call,
                          dtype=[np.float64, np.float32])
        check_magnitude(X, self)
        if first_call:
            self._tree = _CFTree(X.shape[1], self.threshold, self.branching_factor)
            self._tree_params = (self.threshold, self.branching_factor)
        elif (self.threshold, self.branching_factor) != getattr(self, "_tree_params",
                                                                (self.threshold,
                                                                 self.branching_factor)):
            raise ValueError(
                "threshold or branching_factor changed since the CF-tree was built "
                f"(built with threshold={self._tree_params[0]}, branching_factor="
                f"{self._tree_params[1]}): its nodes keep the values they were built with. "
                "Set them back, or call fit to build a new tree with the new ones.")
        tree = self._tree
        for _, block in _dense_chunks(X, _config.chunk_rows(X.shape[1], 8)):
            tree.insert(block)
        self.root_ = _CFNode(tree, int(tree.state[0]))
        self.dummy_leaf_ = _CFNode(tree, 0)
        leaves = tree.leaf_subclusters()
        dtype = X.dtype if first_call else self.subcluster_centers_.dtype  # the first batch's
        self.subcluster_centers_ = tree.sub_cent[leaves].astype(dtype, copy=False)
        self._n_features_out = self.subcluster_centers_.shape[0]
        self._global_clustering(X)
        return self

    def _get_leaves(self):
        """The leaves of the CF-tree, in linked-list order."""
        leaves = []
        leaf = self.dummy_leaf_.next_leaf_
        while leaf is not None:
            leaves.append(leaf)
            leaf = leaf.next_leaf_
        return leaves

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X=None, y=None):
        """Online learning: insert X into the tree; with X=None, only the global step.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features), default=None
        y : Ignored

        Returns
        -------
        self
        """
        if X is None:
            check_is_fitted(self)
            self._global_clustering()
            return self
        return self._fit(X, partial=True)

    def predict(self, X):
        """Label of the nearest subcluster centre.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        check_magnitude(X, self, tiny=False)
        return self._predict(X)

    def _predict(self, X):
        centers = self.subcluster_centers_
        if X.shape[0] * len(centers) < _config.BIRCH_GRID_SEARCH_MIN_PAIRS \
                or getattr(self, "_tree", None) is None:
            nearest = _nearest(X, centers, self._subcluster_norms)
        else:
            nearest = self._grid_nearest(X)
        return self.subcluster_labels_[nearest]

    def _grid_nearest(self, X):
        """Exact nearest subcluster by a grid over the centres, seeded by a tree descent."""
        from .mean_shift import _grid_index

        tree = self._tree
        leaves = tree.leaf_subclusters()
        position = np.full(int(tree.state[2]), -1, dtype=np.int64)
        position[leaves] = np.arange(len(leaves))
        C = np.ascontiguousarray(tree.sub_cent[leaves])
        out = np.empty(X.shape[0], dtype=np.int64)
        grid = order = None
        for lo, block in _dense_chunks(X, _config.chunk_rows(X.shape[1], 8) * 16):
            Q = np.ascontiguousarray(block, dtype=np.float64)
            reached = np.empty(len(Q), dtype=np.int64)
            _bk.birch_descend(Q, int(tree.state[0]), tree.node_nsub, tree.node_subs,
                              tree.sub_cent, tree.sub_sqn, tree.sub_child, reached)
            bound2 = ((Q - tree.sub_cent[reached]) ** 2).sum(axis=1)
            if grid is None:
                scale = float(np.sqrt(np.median(bound2))) or 1.0
                grid, order = _grid_index(C, scale, return_order=True)
            Cs, dims, origin, side, extents, cell_start, boxes, _ = grid
            _bk.grid_nearest_center(Q, bound2, Cs, order, dims, origin, side, extents,
                                    cell_start, boxes, out[lo:lo + len(Q)])
        return out

    def transform(self, X):
        """Euclidean distances to every subcluster centre.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        X_trans : ndarray of shape (n_samples, n_subclusters)
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        check_magnitude(X, self, tiny=False)
        C = np.asarray(self.subcluster_centers_, dtype=np.float64)
        out_dtype = np.result_type(X.dtype, self.subcluster_centers_.dtype)  # as scikit-learn
        check_table_fits(X.shape[0], len(C), np.dtype(out_dtype).itemsize, "Birch.transform")
        out = np.empty((X.shape[0], len(C)), dtype=out_dtype)
        cc = np.einsum("ij,ij->i", C, C)
        for lo, block in _dense_chunks(X, _config.chunk_rows(len(C), 8)):
            B = np.asarray(block, dtype=np.float64)
            d = B @ C.T
            d *= -2.0
            d += np.einsum("ij,ij->i", B, B)[:, None]
            d += cc
            np.maximum(d, 0, out=d)
            out[lo:lo + len(d)] = np.sqrt(d)
        return out

    def _global_clustering(self, X=None):
        from .agglomerative import AgglomerativeClustering

        clusterer = self.n_clusters
        centroids = self.subcluster_centers_
        compute_labels = (X is not None) and self.compute_labels
        not_enough_centroids = False
        is_int = isinstance(clusterer, Integral)
        if is_int:
            clusterer = AgglomerativeClustering(n_clusters=self.n_clusters)
            if len(centroids) < self.n_clusters:
                not_enough_centroids = True
        C64 = np.asarray(centroids, dtype=np.float64)
        self._subcluster_norms = np.einsum("ij,ij->i", C64, C64)
        if clusterer is None or not_enough_centroids:
            self.subcluster_labels_ = np.arange(len(centroids))
            if not_enough_centroids:
                warnings.warn(
                    "Number of subclusters found (%d) by BIRCH is less "
                    "than (%d). Decrease the threshold."
                    % (len(centroids), self.n_clusters), ConvergenceWarning)
        elif is_int and len(centroids) > _config.BIRCH_EXACT_GLOBAL_MAX_SUBCLUSTERS:
            limit = _config.BIRCH_EXACT_GLOBAL_MAX_SUBCLUSTERS
            summaries, owner, t = _coarsen(C64, limit, self.threshold, self.branching_factor)
            warnings.warn(
                f"Birch: {len(centroids)} subclusters are more than the exact global step "
                f"takes in reasonable time ({limit}, "
                "clusterlab._config.BIRCH_EXACT_GLOBAL_MAX_SUBCLUSTERS); the global step "
                f"clustered {len(summaries)} summaries of them (threshold {t:g}) instead. "
                "Raise the threshold (fewer subclusters) for an exact global step.",
                UserWarning)
            if len(summaries) < self.n_clusters:
                self.subcluster_labels_ = owner
            else:
                self.subcluster_labels_ = clusterer.fit_predict(summaries)[owner]
        else:
            self.subcluster_labels_ = clusterer.fit_predict(centroids)
        if compute_labels:
            self.labels_ = self._predict(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.input_tags.sparse = True
        return tags


def partial_fit_stream(estimator, source, *, chunk_size=None, final_step=True):
    """Feed data to ``estimator.partial_fit`` a chunk at a time.

    Parameters
    ----------
    estimator : an estimator with ``partial_fit`` (:class:`Birch`,
        :class:`~clusterlab.MiniBatchKMeans`, ...).
    source : str or Path, ndarray / memmap, or iterable of arrays
        ``.npy`` files are memory-mapped and read ``chunk_size`` rows at a
        time; ``.csv`` files (numbers only, an optional header line is
        skipped) are read ``chunk_size`` rows at a time; an array or memmap
        is sliced; any other iterable yields the chunks itself.
    chunk_size : int, default=None
        Rows per chunk (None: ``clusterlab._config.chunk_rows`` for the width).
    final_step : bool, default=True
        For :class:`Birch`, run the global step once at the end
        (``partial_fit(None)``) instead of after every chunk: the chunks are
        inserted with ``n_clusters=None``.

    Returns
    -------
    estimator : the fitted estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab import Birch
    >>> from clusterlab.cluster.birch import partial_fit_stream
    >>> X = np.random.default_rng(0).normal(size=(1000, 2))
    >>> brc = partial_fit_stream(Birch(n_clusters=3, threshold=0.5), X, chunk_size=100)
    >>> brc.subcluster_labels_.max()
    np.int64(2)
    """
    def chunks():
        if isinstance(source, (str, Path)):
            path = Path(source)
            if path.suffix == ".npy":
                yield from _slices(np.load(path, mmap_mode="r"))
            elif path.suffix == ".csv":
                yield from _csv_chunks(path)
            else:
                raise ValueError(f"partial_fit_stream reads .npy and .csv files, not {path}")
        elif isinstance(source, np.ndarray) or sparse.issparse(source):
            yield from _slices(source)
        else:
            yield from source

    def _slices(A):
        rows = chunk_size or _config.chunk_rows(A.shape[1], 8)
        for lo in range(0, A.shape[0], rows):
            yield np.asarray(A[lo:lo + rows]) if not sparse.issparse(A) else A[lo:lo + rows]

    def _csv_chunks(path):
        rows = chunk_size or 10_000
        with open(path) as fh:
            first = fh.readline()
            buf = []
            try:
                buf.append([float(v) for v in first.split(",")])
            except ValueError:
                pass  # a header line
            for line in fh:
                if line.strip():
                    buf.append([float(v) for v in line.split(",")])
                if len(buf) == rows:
                    yield np.asarray(buf)
                    buf = []
            if buf:
                yield np.asarray(buf)

    is_birch = isinstance(estimator, Birch)
    keep = estimator.n_clusters if (is_birch and final_step) else None
    if is_birch and final_step:
        estimator.set_params(n_clusters=None)
    try:
        for chunk in chunks():
            estimator.partial_fit(chunk)
    finally:
        if is_birch and final_step:
            estimator.set_params(n_clusters=keep)
    if is_birch and final_step:
        estimator.partial_fit(None)
    return estimator
