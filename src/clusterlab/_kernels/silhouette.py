"""Kernels for the silhouette coefficient and per-cluster statistics.

The silhouette of a sample needs, for every cluster, the sum of the sample's
distances to that cluster's members. These kernels stream over the data in
tiles and keep only that ``n_clusters``-long vector per row, so the memory
is O(n_samples * n_clusters) for the sums plus one tile per thread: the
``n_samples x n_samples`` distance matrix is never built.

Every kernel works for float32 and float64 inputs (numba specialises lazily);
sums of distances accumulate in float64. Each output row is computed by one
thread in a fixed order, so results do not depend on the number of threads.
"""

import numba
import numpy as np

from clusterlab import _config
from clusterlab._kernels.row_groups import on_threads, parallel_kernel

#: metric codes understood by :func:`cluster_distance_sums_sorted`
METRIC_EUCLIDEAN = 0
METRIC_SQEUCLIDEAN = 1
METRIC_MANHATTAN = 2
METRIC_COSINE = 3  # rows pre-normalised to unit length; distance = 1 - <x, y>



@numba.njit(cache=True, nogil=True)
def _silhouette_from_sums(sums, own, counts):
    """Silhouette of one sample from its per-cluster distance sums.

    sums   : IN  float64 (n_clusters,), sum of distances to each cluster
                 (the sample itself excluded or contributing ~0).
    own    : IN  int, the sample's cluster.
    counts : IN  int64 (n_clusters,), cluster sizes.
    Returns the coefficient; 0 for a one-point cluster and for 0 / 0.
    """
    n_own = counts[own]
    if n_own <= 1:
        return 0.0
    a = sums[own] / (n_own - 1)
    b = np.inf
    for c in range(sums.shape[0]):
        if c != own and counts[c] > 0:
            m = sums[c] / counts[c]
            if m < b:
                b = m
    denom = max(a, b)
    if denom == 0.0 or not np.isfinite(denom):
        return 0.0
    return (b - a) / denom


@parallel_kernel(cache=True, nogil=True)
def cluster_distance_sums(D, labels, n_clusters, out):
    """Per-cluster sums of each row of a distance block.

    Parameters
    ----------
    D : IN float32/float64 (n_rows, n_samples), C-contiguous
        Distances from ``n_rows`` samples to all samples.
    labels : IN int64 (n_samples,)
        Cluster of every column, in ``0..n_clusters-1``.
    n_clusters : IN int
    out : OUT float64 (n_rows, n_clusters)
        ``out[i, c] = sum(D[i, j] for j with labels[j] == c)``.

    Notes
    -----
    Time O(n_rows * n_samples), parallel over rows; no scratch.
    """
    n_rows, n_samples = D.shape
    for i in numba.prange(n_rows):
        for c in range(n_clusters):
            out[i, c] = 0.0
        for j in range(n_samples):
            out[i, labels[j]] += D[i, j]


@numba.njit(cache=True, nogil=True)
def silhouette_from_sums(sums, labels, counts, out):
    """Silhouette coefficients from per-cluster distance sums.

    sums   : IN  float64 (n_rows, n_clusters), see :func:`cluster_distance_sums`.
    labels : IN  int64 (n_rows,), cluster of every row.
    counts : IN  int64 (n_clusters,), cluster sizes.
    out    : OUT float64 (n_rows,).

    Time O(n_rows * n_clusters).
    """
    for i in range(sums.shape[0]):
        out[i] = _silhouette_from_sums(sums[i], labels[i], counts)


@numba.njit(cache=True, nogil=True)
def cluster_sums(X, labels, n_clusters, sums, counts):
    """Per-cluster sums of the rows of ``X`` (float64 accumulation).

    X      : IN  float32/float64 (n_samples, n_features).
    labels : IN  int64 (n_samples,), in ``0..n_clusters-1``.
    sums   : OUT float64 (n_clusters, n_features).
    counts : OUT int64 (n_clusters,).

    Time O(n_samples * n_features); no scratch.
    """
    sums[:, :] = 0.0
    counts[:] = 0
    for i in range(X.shape[0]):
        c = labels[i]
        counts[c] += 1
        for f in range(X.shape[1]):
            sums[c, f] += X[i, f]


@numba.njit(cache=True, nogil=True)
def cluster_dispersions(X, labels, centers, sq_out, dist_out):
    """Per-cluster sum of squared and of plain distances to the centre.

    X        : IN  float32/float64 (n_samples, n_features).
    labels   : IN  int64 (n_samples,).
    centers  : IN  float64 (n_clusters, n_features).
    sq_out   : OUT float64 (n_clusters,), sum of squared distances.
    dist_out : OUT float64 (n_clusters,), sum of Euclidean distances.

    Time O(n_samples * n_features); no scratch.
    """
    sq_out[:] = 0.0
    dist_out[:] = 0.0
    for i in range(X.shape[0]):
        c = labels[i]
        s = 0.0
        for f in range(X.shape[1]):
            t = np.float64(X[i, f]) - centers[c, f]
            s += t * t
        sq_out[c] += s
        dist_out[c] += np.sqrt(s)


# ----------------------------------------------------------------------------
# numpy twins for small inputs: the kernels' operations in the kernels' order
# (the same bits; tests compare them), so that a first run on small data
# compiles none of these kernels (~0.6 s together). ``np.add.at`` adds in
# index order, as the kernels' loops do.


def for_size(kernel, cells):
    """``kernel`` (:func:`silhouette_from_sums`, :func:`cluster_sums` or
    :func:`cluster_dispersions`), or its numpy twin below where the work has at
    most ``METRICS_NUMPY_MAX_CELLS`` values (rows x clusters or x features)."""
    if cells <= _config.METRICS_NUMPY_MAX_CELLS:
        return _TWINS[kernel]
    return kernel


def silhouette_from_sums_numpy(sums, labels, counts, out):
    """:func:`silhouette_from_sums` with numpy (same arguments, same values)."""
    n_rows = sums.shape[0]
    rows = np.arange(n_rows)
    n_own = counts[labels]
    with np.errstate(divide="ignore", invalid="ignore"):
        a = sums[rows, labels] / (n_own - 1)
        means = sums / counts[None, :]
        means[:, counts <= 0] = np.inf
        means[rows, labels] = np.inf
        b = means.min(axis=1) if sums.shape[1] else np.full(n_rows, np.inf)
        denom = np.maximum(a, b)
        res = (b - a) / denom
    res[(n_own <= 1) | (denom == 0.0) | ~np.isfinite(denom)] = 0.0
    out[:] = res


def cluster_sums_numpy(X, labels, n_clusters, sums, counts):
    """:func:`cluster_sums` with numpy (same arguments, same values)."""
    sums[:, :] = 0.0
    np.add.at(sums, labels, X)
    counts[:] = np.bincount(labels, minlength=n_clusters)


def cluster_dispersions_numpy(X, labels, centers, sq_out, dist_out):
    """:func:`cluster_dispersions` with numpy (same arguments, same values)."""
    diff = X.astype(np.float64) - centers[labels]
    s = np.zeros(X.shape[0])
    for f in range(X.shape[1]):  # features in order, as the kernel sums them
        s += diff[:, f] * diff[:, f]
    sq_out[:] = 0.0
    np.add.at(sq_out, labels, s)
    dist_out[:] = 0.0
    np.add.at(dist_out, labels, np.sqrt(s))


_TWINS = {silhouette_from_sums: silhouette_from_sums_numpy,
          cluster_sums: cluster_sums_numpy,
          cluster_dispersions: cluster_dispersions_numpy}


#: rows and columns of one tile of the symmetric kernel (fixed: results must
#: not depend on the number of threads)
_TILE = 128


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _tile_distances(Xt, i0, i1, j0, j1, metric, D):
    """Distances between sorted samples ``i0:i1`` and ``j0:j1`` into ``D``.

    Xt : IN  (n_features, n_samples); D : OUT (>= i1-i0, >= j1-j0), same dtype.
    """
    n_features = Xt.shape[0]
    jn = j1 - j0
    for i in range(i1 - i0):
        for jj in range(jn):
            D[i, jj] = 0
        for f in range(n_features):
            v = Xt[f, i0 + i]
            col = Xt[f, j0:j1]
            if metric == METRIC_MANHATTAN:
                for jj in range(jn):
                    D[i, jj] += abs(col[jj] - v)
            elif metric == METRIC_COSINE:
                for jj in range(jn):
                    D[i, jj] += col[jj] * v
            else:
                for jj in range(jn):
                    t = col[jj] - v
                    D[i, jj] += t * t
        if metric == METRIC_EUCLIDEAN:
            for jj in range(jn):
                D[i, jj] = np.sqrt(D[i, jj])
        elif metric == METRIC_COSINE:
            for jj in range(jn):
                D[i, jj] = min(max(1 - D[i, jj], 0), 2)


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _tile_accumulate(D, i0, i1, j0, j1, labels, bounds, sums, both_sides, colacc):
    """Add a distance tile to the per-cluster sums of its rows (and columns).

    D      : IN    (i1-i0, j1-j0) distances.
    sums   : INOUT float64 (n_samples, n_clusters).
    both_sides : IN bool, also add the tile to the sums of its columns.
    colacc : scratch float64 (>= j1-j0,).
    """
    ni = i1 - i0
    jn = j1 - j0
    for i in range(ni):
        for c in range(labels[j0], labels[j1 - 1] + 1):
            lo = max(bounds[c], j0) - j0
            hi = min(bounds[c + 1], j1) - j0
            s = 0.0
            for jj in range(lo, hi):
                s += np.float64(D[i, jj])
            sums[i0 + i, c] += s
    if both_sides:
        for c in range(labels[i0], labels[i1 - 1] + 1):
            lo = max(bounds[c], i0) - i0
            hi = min(bounds[c + 1], i1) - i0
            for jj in range(jn):
                colacc[jj] = 0.0
            for i in range(lo, hi):
                for jj in range(jn):
                    colacc[jj] += np.float64(D[i, jj])
            for jj in range(jn):
                sums[j0 + jj, c] += colacc[jj]


@numba.njit(cache=True, nogil=True)
def _block_pair(Xt, labels, bounds, metric, a0, a1, b0, b1, sums, D, colacc):
    """All tile pairs between sorted ranges ``a0:a1`` and ``b0:b1`` (rows and columns);
    a diagonal block (``a0 == b0``) computes each pair of its rows once."""
    # whether a tile is on the diagonal is a run-time value everywhere: a constant
    # True/False argument would compile this function and _tile_accumulate twice
    diagonal = a0 == b0
    for i0 in range(a0, a1, _TILE):
        i1 = min(i0 + _TILE, a1)
        start = i0 if diagonal else b0
        for j0 in range(start, b1, _TILE):
            j1 = min(j0 + _TILE, b1)
            _tile_distances(Xt, i0, i1, j0, j1, metric, D)
            on_diagonal = diagonal and j0 == i0
            if on_diagonal:
                for i in range(i1 - i0):
                    D[i, i] = 0  # a sample's distance to itself
            _tile_accumulate(D, i0, i1, j0, j1, labels, bounds, sums, not on_diagonal, colacc)


#: fixed number of super-blocks scheduled in rounds (independent of threads)
_SUPER = 32


@numba.njit(cache=True, nogil=True, inline="always")
def _super_blocks(n_samples):
    """``(n_blocks, size, m)``: super-blocks of ``size`` sorted samples, and the
    round-robin table size ``m`` (an odd count gets a dummy block, a bye)."""
    n_blocks = min(_SUPER, n_samples)
    size = (n_samples + n_blocks - 1) // n_blocks
    n_blocks = (n_samples + size - 1) // size
    return n_blocks, size, n_blocks + (n_blocks % 2)


@numba.njit(cache=True, nogil=True)
def _diagonal_block(Xt, labels, bounds, metric, sums, size, blk):
    n_samples = Xt.shape[1]
    a0 = blk * size
    a1 = min(a0 + size, n_samples)
    D = np.empty((_TILE, _TILE), dtype=Xt.dtype)
    colacc = np.empty(_TILE, dtype=np.float64)
    _block_pair(Xt, labels, bounds, metric, a0, a1, a0, a1, sums, D, colacc)


@numba.njit(cache=True, nogil=True)
def _round_pair(Xt, labels, bounds, metric, sums, size, n_blocks, m, rnd, p):
    """Pair ``p`` of round ``rnd`` of the round-robin schedule: within a round
    the pairs touch disjoint super-blocks, so they can run at once."""
    n_samples = Xt.shape[1]
    if p == 0:
        a = m - 1
        b = rnd
    else:
        a = (rnd + p) % (m - 1)
        b = (rnd - p + (m - 1)) % (m - 1)
    if a >= n_blocks or b >= n_blocks:
        return
    if a > b:
        a, b = b, a
    a0 = a * size
    a1 = min(a0 + size, n_samples)
    b0 = b * size
    b1 = min(b0 + size, n_samples)
    D = np.empty((_TILE, _TILE), dtype=Xt.dtype)
    colacc = np.empty(_TILE, dtype=np.float64)
    _block_pair(Xt, labels, bounds, metric, a0, a1, b0, b1, sums, D, colacc)


@parallel_kernel(cache=True, nogil=True)
def _sums_sorted(Xt, labels, bounds, metric, sums):
    """:func:`cluster_distance_sums_sorted`, the tiles of a round in parallel (or
    one after another in the same order: the serial compilation)."""
    sums[:, :] = 0.0
    n_blocks, size, m = _super_blocks(Xt.shape[1])
    # diagonal super-blocks: disjoint rows, all in parallel
    for blk in numba.prange(n_blocks):
        _diagonal_block(Xt, labels, bounds, metric, sums, size, blk)
    for rnd in range(m - 1):
        for p in numba.prange(m // 2):
            _round_pair(Xt, labels, bounds, metric, sums, size, n_blocks, m, rnd, p)


#: below this many samples a round's tiles are too small to pay for waking threads
_PARALLEL_MIN_SAMPLES = 16384


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _sums_rows(Xt, labels, bounds, metric, sums, sums_t):
    """:func:`cluster_distance_sums_sorted` on one thread, row after row.

    Row ``i``'s distances to the later samples go into one vector; each
    cluster's stretch of it is added to ``sums[i]`` and the vector to the
    transposed sums ``sums_t[labels[i]]`` of those later samples (contiguous,
    so both loops vectorise). ``sums_t`` : scratch float64 (n_clusters,
    n_samples). Each pair once; one small function instead of the tiled
    schedule's tree of five (2.6 s to compile for a first run). The distance
    loop repeats :func:`_tile_distances`' arithmetic on purpose: calling it
    (a one-row tile) costs 0.5 s more to compile, as numba links and
    optimises the callee again inside this function.
    """
    n_features, n = Xt.shape
    n_clusters = bounds.shape[0] - 1
    sums[:, :] = 0.0
    sums_t[:, :] = 0.0
    dist = np.empty(n, dtype=Xt.dtype)
    for i in range(n):
        m = n - i - 1
        for jj in range(m):
            dist[jj] = 0
        for f in range(n_features):
            v = Xt[f, i]
            if metric == METRIC_MANHATTAN:
                for jj in range(m):
                    dist[jj] += abs(Xt[f, i + 1 + jj] - v)
            elif metric == METRIC_COSINE:
                for jj in range(m):
                    dist[jj] += Xt[f, i + 1 + jj] * v
            else:
                for jj in range(m):
                    t = Xt[f, i + 1 + jj] - v
                    dist[jj] += t * t
        if metric == METRIC_EUCLIDEAN:
            for jj in range(m):
                dist[jj] = np.sqrt(dist[jj])
        elif metric == METRIC_COSINE:
            for jj in range(m):
                dist[jj] = min(max(1 - dist[jj], 0), 2)
        for c in range(labels[i], n_clusters):
            lo = max(bounds[c], i + 1) - (i + 1)
            hi = bounds[c + 1] - (i + 1)
            acc = 0.0
            for jj in range(lo, hi):
                acc += np.float64(dist[jj])
            sums[i, c] += acc
        row = sums_t[labels[i]]
        for jj in range(m):
            row[i + 1 + jj] += np.float64(dist[jj])
    for c in range(n_clusters):
        for j in range(n):
            sums[j, c] += sums_t[c, j]


#: up to this many samples the one-thread row kernel (:func:`_sums_rows`) runs: as
#: fast as the tiled schedule there (2000 x 2: 3.7 vs 4.5 ms; 5000 x 32: 79 vs 81 ms;
#: 3000 x 784 float32: 257 vs 425 ms), slower from ~8000 samples with many features
_ROWS_MAX_SAMPLES = 5000


def cluster_distance_sums_sorted(Xt, labels, bounds, metric, sums):
    """Per-cluster distance sums of samples sorted by cluster, each pair computed once.

    Parameters
    ----------
    Xt : IN float32/float64 (n_features, n_samples), C-contiguous
        Samples as columns, sorted by cluster (unit columns for cosine).
    labels : IN int64 (n_samples,)
        Sorted cluster codes (non-decreasing).
    bounds : IN int64 (n_clusters + 1,)
        Start of every cluster in the sorted order, then ``n_samples``.
    metric : IN int
        ``METRIC_EUCLIDEAN``, ``METRIC_SQEUCLIDEAN``, ``METRIC_MANHATTAN``
        or ``METRIC_COSINE``.
    sums : OUT float64 (n_samples, n_clusters)
        ``sums[i, c]`` = sum of distances from sample ``i`` to the members of
        cluster ``c`` (the sample itself excluded).

    Notes
    -----
    The samples are cut into ``_SUPER`` fixed super-blocks. The distance
    block of every pair of super-blocks is computed once, tile by tile
    (``_TILE x _TILE``), and added to both its rows' and its columns' sums:
    symmetry halves the work. Pairs of super-blocks are scheduled in the
    rounds of a round-robin tournament (circle method), so that the pairs of
    one round touch disjoint rows and run in parallel without locks; every
    row receives its contributions in the same order whatever the number of
    threads, so results are bitwise reproducible (small inputs run the
    same schedule on one thread: a parallel region per round costs more than
    it saves below ``_PARALLEL_MIN_SAMPLES`` samples). Up to
    ``_ROWS_MAX_SAMPLES`` samples a one-thread kernel goes row by row instead
    (:func:`_sums_rows`: as fast there, and a fraction of the tiled
    schedule's compile time). Time O(n_samples^2 *
    n_features / 2); memory: the output plus one tile and a ``_TILE`` vector
    per pair in flight.
    """
    if Xt.shape[1] <= _ROWS_MAX_SAMPLES:
        _sums_rows(Xt, labels, bounds, metric, sums,
                   np.empty((bounds.shape[0] - 1, Xt.shape[1])))
        return
    on_threads(_sums_sorted, Xt.shape[1] >= _PARALLEL_MIN_SAMPLES)(
        Xt, labels, bounds, metric, sums)


#: rows and columns of one block of the distance matrix in the BLAS path
_GEMM_BLOCK = 512


def cluster_distance_sums_gemm(Xs, labels, n_clusters, metric, sums, block=_GEMM_BLOCK):
    """:func:`cluster_distance_sums_sorted` through BLAS products, for the
    Euclidean, squared Euclidean and cosine metrics on many features.

    Parameters
    ----------
    Xs : IN float64 (n_samples, n_features), C-contiguous
        Samples as rows, sorted by cluster; centred on their mean for the
        Euclidean metrics (the product form ``|x|^2 + |y|^2 - 2 x.y`` then
        cancels least), unit rows for cosine.
    labels : IN int64 (n_samples,), sorted cluster codes
    n_clusters : IN int
    metric : IN int, ``METRIC_EUCLIDEAN``, ``METRIC_SQEUCLIDEAN`` or ``METRIC_COSINE``
    sums : OUT float64 (n_samples, n_clusters), as :func:`cluster_distance_sums_sorted`
    block : IN int, rows and columns of a block (the results depend on it, not
        on the number of threads)

    Notes
    -----
    The distance matrix is computed block by block, each pair of blocks once
    (symmetry): the product of the two blocks of rows, turned into distances
    in place (a squared distance below 0 from rounding is 0, a sample's
    distance to itself exactly 0), then reduced to per-cluster sums for the
    rows and the columns by a product with the clusters' indicator matrix.
    Squared distances are within about ``2 (d + 2) eps (|x|^2 + |y|^2)`` of
    the exact ones, as scikit-learn's (which computes them the same way).
    Time O(n_samples^2 * n_features / 2) in BLAS; memory O(n_samples *
    n_clusters) plus two blocks.
    """
    n = Xs.shape[0]
    onehot = np.zeros((n, n_clusters))
    onehot[np.arange(n), labels] = 1.0
    sq = np.einsum("ij,ij->i", Xs, Xs) if metric != METRIC_COSINE else np.zeros(n)
    sums[:, :] = 0.0
    for i0 in range(0, n, block):
        i1 = min(n, i0 + block)
        rows = Xs[i0:i1]
        for j0 in range(i0, n, block):
            j1 = min(n, j0 + block)
            D = rows @ Xs[j0:j1].T
            _distances_from_products(D, sq[i0:i1], sq[j0:j1], metric)
            if j0 == i0:  # the whole (symmetric) block, for the rows only
                np.fill_diagonal(D, 0.0)
                sums[i0:i1] += D @ onehot[j0:j1]
            else:
                sums[i0:i1] += D @ onehot[j0:j1]
                sums[j0:j1] += D.T @ onehot[i0:i1]


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _distances_from_products(P, sq_i, sq_j, metric):
    """Products ``P[r, c] = x_r . y_c`` turned into distances in place:
    ``max(|x|^2 + |y|^2 - 2 P, 0)`` (its square root for Euclidean), or
    ``1 - P`` clipped to [0, 2] for cosine (unit rows). One loop per metric
    (a branch or a variable start inside the loop halves its speed)."""
    bi, bj = P.shape
    if metric == METRIC_COSINE:
        for r in range(bi):
            row = P[r]
            for c in range(bj):
                row[c] = min(max(1.0 - row[c], 0.0), 2.0)
    elif metric == METRIC_EUCLIDEAN:
        for r in range(bi):
            row = P[r]
            x = sq_i[r]
            for c in range(bj):
                row[c] = np.sqrt(max(x + sq_j[c] - 2.0 * row[c], 0.0))
    else:
        for r in range(bi):
            row = P[r]
            x = sq_i[r]
            for c in range(bj):
                row[c] = max(x + sq_j[c] - 2.0 * row[c], 0.0)
