"""DBSCAN on blocks of distance rows: the three passes over a source of blocks
(:func:`dbscan_blocks`), and the Euclidean radius tests from BLAS products
for many features -- when that path pays (:func:`use_products`), its blocks
of squared distances (:class:`ProductBlocks`) and the fit on them
(:func:`dbscan_products`).
"""

import numpy as np

from .. import _config
from .._config import chunk_rows
from .._kernels import interpret as _interp
from .._kernels import neighbors as _nk

def dbscan_blocks(blocks, n, eps, min_samples, ws, interpret=False):
    """Labels and core mask from a re-iterable source of distance row blocks.

    ``blocks()`` yields ``(row0, D)`` with ``D`` the dense distance rows
    ``row0:row0 + len(D)`` against all n points. ``interpret``: the two O(n)
    union-find passes run as their Python source (small inputs: a few
    milliseconds instead of ~0.3 s of a first run's compilation; integers
    only, the same labels).
    """
    counts = np.empty(n, dtype=np.float64)
    for row0, D in blocks():
        _nk.dense_neighbour_weights(np.ascontiguousarray(D), row0, eps, ws, counts)
    is_core = counts >= min_samples
    del counts
    parent = np.empty(n, dtype=np.int64)
    _interp.pick(_nk.init_parent, interpret)(parent)
    if is_core.any():
        for row0, D in blocks():
            _nk.dense_union_cores(np.ascontiguousarray(D), row0, eps, is_core, parent)
    labels = np.empty(n, dtype=np.int64)
    _interp.pick(_nk.label_components_plain, interpret)(is_core, parent, labels)
    if is_core.any() and not is_core.all():
        for row0, D in blocks():
            _nk.dense_border_labels(np.ascontiguousarray(D), row0, eps, is_core, labels)
    return labels.astype(np.intp, copy=False), is_core


def use_products(X, resolved, algorithm, eps):
    """Whether the Euclidean radius tests come from BLAS products
    (:class:`ProductBlocks`): many features, or from 10 features when a grid
    over three coordinates would leave most pairs to test
    (:func:`grid_pair_share`)."""
    if resolved is None or resolved[0] != 0 or algorithm == "brute":
        return False
    d = X.shape[1]
    if d >= _config.DBSCAN_PRODUCTS_MIN_FEATURES:
        return True
    return (d >= _config.DBSCAN_SHARE_MIN_FEATURES
            and grid_pair_share(X, eps) >= _config.DBSCAN_PRODUCTS_MIN_SHARE)


def grid_pair_share(X, eps, rows=256, against=2048):
    """The share of pairs a grid of cells of side ``eps`` over X's three widest
    coordinates would test: pairs of sampled rows within two cells of each
    other on each of those coordinates (evenly spaced rows: deterministic)."""
    n = X.shape[0]
    dims = np.argsort(-np.ptp(X, axis=0), kind="stable")[:3]
    A = np.asarray(X[::max(1, n // rows)][:, dims], dtype=np.float64)
    B = np.asarray(X[::max(1, n // against)][:, dims], dtype=np.float64)
    near = np.ones((len(A), len(B)), dtype=bool)
    for j in range(len(dims)):
        near &= np.abs(A[:, j, None] - B[None, :, j]) < 2.0 * eps
    return float(near.mean())


#: bytes of one block of products (rows x n float64)
_BLOCK_BYTES = 4 << 20


class ProductBlocks:
    """Squared-distance row blocks of X from BLAS products of its centred rows,
    exact where they decide (:mod:`clusterlab._kernels.neighbors.products`).

    Calling the object gives a re-iterable source for :func:`dbscan_blocks`
    (compared with ``eps**2``); :meth:`neighbour_lists` makes one pass over
    the pairs and keeps the neighbour lists when they fit.
    """

    def __init__(self, X, eps):
        n, d = X.shape
        self.X = X
        self.Xc = X.astype(np.float64)
        self.Xc -= self.Xc.mean(axis=0)
        self.sq = np.einsum("ij,ij->i", self.Xc, self.Xc)
        self.norms = np.sqrt(self.sq)
        self.consts = _nk.product_tolerance_consts(d, eps)
        self.reps = float(eps) * float(eps)
        # blocks of about 4 MiB: the block is read several times while in cache
        self.rows = int(max(16, min(n, chunk_rows(n, 8), _BLOCK_BYTES // (8 * max(n, 1)))))
        # the products on the cores free now: BLAS's threads synchronise at
        # every block and stall while another process holds a core (3000 x 50
        # beside two busy processes: 83-327 ms a fit against ~40 quiet)
        self.blas = _config.free_cores(samples=1)

    def _resolved(self, start, col0, counts):
        """Squared distances of the rows ``start..`` (a block) to the rows
        ``col0..``, exact where they decide; ``counts`` (OUT) as
        :func:`clusterlab._kernels.neighbors.product_upper_counts`."""
        with _config.blas_threads(self.blas):
            P = self.Xc[start:start + self.rows] @ self.Xc[col0:].T
        _nk.product_upper_counts(P, start, col0, self.sq, self.norms, self.X, self.reps,
                                 *self.consts, counts)
        return P

    def __call__(self):
        counts = np.empty(self.rows, dtype=np.int64)  # not needed here
        for start in range(0, self.X.shape[0], self.rows):
            P = self._resolved(start, 0, counts[:min(self.rows, self.X.shape[0] - start)])
            yield start, P

    def neighbour_lists(self, ws, max_pairs):
        """Every row's neighbours as ``(indptr, indices)`` (increasing, the row
        itself left out) and the weighted neighbour counts (the row itself
        included), from one pass of products over the pairs ``i < j`` (each
        pair of blocks once); ``None`` when the pairs number more than
        ``max_pairs``."""
        n = self.X.shape[0]
        index_dtype = np.int32 if n < 2**31 else np.int64
        up_counts = np.empty(n, dtype=np.int64)
        parts, total = [], 0
        for start in range(0, n, self.rows):
            counts = up_counts[start:start + self.rows]
            P = self._resolved(start, start, counts)
            total += 2 * int(counts.sum())
            if total > max_pairs:
                return None
            offsets = np.zeros(P.shape[0] + 1, dtype=np.int64)
            np.cumsum(counts, out=offsets[1:])
            indices = np.empty(offsets[-1], dtype=index_dtype)
            _nk.product_upper_fill(P, start, start, self.reps, offsets, indices)
            parts.append(indices)
        up_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(up_counts, out=up_ptr[1:])
        up_idx = np.concatenate(parts) if parts else np.zeros(0, index_dtype)
        degree = up_counts + np.bincount(up_idx, minlength=n)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(degree, out=indptr[1:])
        indices = np.empty(indptr[-1], dtype=index_dtype)
        _nk.symmetric_lists(up_ptr, up_idx, indptr, indices)
        del up_idx, parts
        if np.all(ws == 1.0):
            weights = (degree + 1).astype(np.float64)
        else:
            weights = np.empty(n)
            _nk.list_weights(indptr, indices, ws, weights)
        return weights, (indptr, indices)


def dbscan_products(X, eps, min_samples, ws):
    """DBSCAN with Euclidean radius tests from BLAS products (many features).

    One pass of products over the pairs ``i < j`` keeps the neighbour lists
    while they take at most ``DBSCAN_NEIGHBOUR_LIST_BYTES``; counts,
    union-find and border labels then read the lists. Beyond that budget the
    lists are dropped and three passes of products over every row run as for
    a precomputed matrix (memory O(n) above the input, as the grid path)."""
    source = ProductBlocks(X, eps)
    item = 4 if X.shape[0] < 2**31 else 8
    found = source.neighbour_lists(ws, _config.DBSCAN_NEIGHBOUR_LIST_BYTES // item)
    if found is None:
        return dbscan_blocks(source, X.shape[0], source.reps, min_samples, ws)
    weights, (indptr, indices) = found
    is_core = weights >= min_samples
    n = X.shape[0]
    parent = np.empty(n, dtype=np.int64)
    _nk.init_parent(parent)
    if is_core.any():
        _nk.list_union_cores(indptr, indices, is_core, parent)
    labels = np.empty(n, dtype=np.int64)
    _nk.label_components_plain(is_core, parent, labels)
    if is_core.any() and not is_core.all():
        _nk.list_border_labels(indptr, indices, is_core, labels)
    return labels.astype(np.intp, copy=False), is_core
