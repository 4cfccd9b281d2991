"""Kernels for the silhouette coefficient and per-cluster statistics.

The silhouette of a sample needs, for every cluster, the sum of the sample's
distances to that cluster's members. These kernels stream over the data and
keep only that ``n_clusters``-long vector per row, so the memory is
O(n_samples) for the output plus O(n_clusters + block) scratch per thread:
the ``n_samples x n_samples`` distance matrix is never built.

Every kernel works for float32 and float64 inputs (numba specialises lazily);
sums of distances accumulate in float64. Each output row is computed by one
thread in a fixed order, so results do not depend on the number of threads.
"""

import numba
import numpy as np

#: metric codes understood by :func:`silhouette_sorted`
METRIC_EUCLIDEAN = 0
METRIC_SQEUCLIDEAN = 1
METRIC_MANHATTAN = 2
METRIC_COSINE = 3  # rows pre-normalised to unit length; distance = 1 - <x, y>

#: columns of the distance block computed at once (fits L1 with its inputs)
_BLOCK = 256
#: rows processed together so each loaded column block is reused
_ROWS = 4


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


@numba.njit(cache=True, nogil=True, parallel=True, fastmath={"reassoc", "contract"})
def silhouette_sorted(Xt, bounds, metric, out):
    """Exact silhouette coefficients of samples sorted by cluster.

    Parameters
    ----------
    Xt : IN float32/float64 (n_features, n_samples), C-contiguous
        The samples as columns, ordered so that each cluster's members are
        contiguous (cluster ``c`` occupies columns ``bounds[c]:bounds[c+1]``).
        For the cosine metric the columns must be unit-length (or zero).
    bounds : IN int64 (n_clusters + 1,)
        Start offset of every cluster in the sorted order, then ``n_samples``.
    metric : IN int
        One of ``METRIC_EUCLIDEAN``, ``METRIC_SQEUCLIDEAN``,
        ``METRIC_MANHATTAN``, ``METRIC_COSINE``.
    out : OUT float64 (n_samples,)
        Silhouette coefficient of every sorted sample.

    Notes
    -----
    Time O(n_samples^2 * n_features), parallel over blocks of rows.
    Scratch per row block: ``_ROWS * (_BLOCK + n_clusters)`` values.
    A sample's distance to itself is excluded (exactly 0, as in a distance
    matrix with a zero diagonal).
    """
    n_features, n_samples = Xt.shape
    n_clusters = bounds.shape[0] - 1
    counts = np.empty(n_clusters, dtype=np.int64)
    for c in range(n_clusters):
        counts[c] = bounds[c + 1] - bounds[c]
    n_row_blocks = (n_samples + _ROWS - 1) // _ROWS
    for rb in numba.prange(n_row_blocks):
        i0 = rb * _ROWS
        i1 = min(i0 + _ROWS, n_samples)
        nr = i1 - i0
        acc = np.empty((_ROWS, _BLOCK), dtype=Xt.dtype)
        xi = np.empty((_ROWS, n_features), dtype=Xt.dtype)
        sums = np.zeros((_ROWS, n_clusters), dtype=np.float64)
        for r in range(nr):
            for f in range(n_features):
                xi[r, f] = Xt[f, i0 + r]
        for c in range(n_clusters):
            for j0 in range(bounds[c], bounds[c + 1], _BLOCK):
                jn = min(_BLOCK, bounds[c + 1] - j0)
                for r in range(nr):
                    for jj in range(jn):
                        acc[r, jj] = 0
                if metric == METRIC_MANHATTAN:
                    for f in range(n_features):
                        col = Xt[f, j0:j0 + jn]
                        for r in range(nr):
                            v = xi[r, f]
                            for jj in range(jn):
                                acc[r, jj] += abs(col[jj] - v)
                elif metric == METRIC_COSINE:
                    for f in range(n_features):
                        col = Xt[f, j0:j0 + jn]
                        for r in range(nr):
                            v = xi[r, f]
                            for jj in range(jn):
                                acc[r, jj] += col[jj] * v
                else:
                    for f in range(n_features):
                        col = Xt[f, j0:j0 + jn]
                        for r in range(nr):
                            v = xi[r, f]
                            for jj in range(jn):
                                t = col[jj] - v
                                acc[r, jj] += t * t
                for r in range(nr):
                    i = i0 + r
                    if j0 <= i < j0 + jn:  # self-distance is 0 by definition
                        if metric == METRIC_COSINE:
                            acc[r, i - j0] = 1
                        else:
                            acc[r, i - j0] = 0
                    s = 0.0
                    if metric == METRIC_EUCLIDEAN:
                        for jj in range(jn):
                            s += np.sqrt(np.float64(acc[r, jj]))
                    elif metric == METRIC_COSINE:
                        for jj in range(jn):
                            d = 1.0 - np.float64(acc[r, jj])
                            s += min(max(d, 0.0), 2.0)
                    else:
                        for jj in range(jn):
                            s += np.float64(acc[r, jj])
                    sums[r, c] += s
        for r in range(nr):
            i = i0 + r
            own = 0
            while bounds[own + 1] <= i:
                own += 1
            out[i] = _silhouette_from_sums(sums[r], own, counts)


@numba.njit(cache=True, nogil=True, parallel=True)
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
