"""Geometry helpers of the analysis: a 2-D view, nearest neighbours of a
sample, and how a partition cuts the neighbour graph."""

import numpy as np

#: Rows above which the quadratic steps work on a random sample.
QUADRATIC_SAMPLE = 5000


def project_2d(X):
    """Principal-component projection to two dimensions (identity for 2-D data).

    Computed from the d×d covariance (``O(n·d²)`` time, ``O(d²)`` extra
    memory), so it works on millions of rows.
    """
    if X.shape[1] == 2:
        return X.copy(), "the data's own two columns"
    if X.shape[1] == 1:
        return np.column_stack([X[:, 0], np.zeros(len(X))]), "one column (plotted against 0)"
    mean = X.mean(axis=0)
    cov = np.zeros((X.shape[1], X.shape[1]))
    for start in range(0, len(X), 65536):
        block = X[start:start + 65536] - mean
        cov += block.T @ block
    cov /= max(1, len(X) - 1)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1][:2]
    explained = vals[order].sum() / max(vals.sum(), 1e-300)
    P = (X - mean) @ vecs[:, order]
    return P, f"first two principal components ({explained:.0%} of the variance)"


def knn_sample(X, k, max_rows=QUADRATIC_SAMPLE, random_state=0):
    """k nearest neighbours of (a sample of) the rows, among that sample.

    Returns ``(sample_index, neighbours, distances)`` with ``neighbours`` and
    ``distances`` of shape ``(m, k)`` (the point itself excluded). Brute force
    in blocks: ``O(m²·d)`` time, ``O(512·m)`` memory for ``m <= max_rows``.
    """
    rng = np.random.default_rng(random_state)
    idx = np.sort(rng.choice(len(X), size=min(len(X), max_rows), replace=False))
    S = X[idx]  # (the analysis centres rows far from the origin first: no cancellation)
    sq = (S * S).sum(axis=1)
    kk = min(k, len(S) - 1)
    nbrs = np.empty((len(S), kk), dtype=np.int64)
    dist = np.empty((len(S), kk))
    for start in range(0, len(S), 512):
        stop = min(start + 512, len(S))
        d2 = sq[start:stop, None] - 2 * S[start:stop] @ S.T + sq[None, :]
        np.maximum(d2, 0, out=d2)
        d2[np.arange(stop - start), np.arange(start, stop)] = np.inf  # not its own neighbour
        part = np.argpartition(d2, kk - 1, axis=1)[:, :kk]
        pd = np.take_along_axis(d2, part, axis=1)
        order = np.argsort(pd, axis=1)
        nbrs[start:stop] = np.take_along_axis(part, order, axis=1)
        dist[start:stop] = np.sqrt(np.take_along_axis(pd, order, axis=1))
    return idx, nbrs, dist


def cross_edge_fraction(labels, nbrs):
    """Share of k-nearest-neighbour edges joining two different clusters (noise ignored).

    Low for a partition that cuts only through empty space, high for one
    that cuts through dense regions (K-Means on moons, for instance).
    """
    lab_i = np.repeat(labels, nbrs.shape[1])
    lab_j = labels[nbrs.ravel()]
    valid = (lab_i >= 0) & (lab_j >= 0)
    if not valid.any():
        return float("nan")
    return float(np.mean(lab_i[valid] != lab_j[valid]))


def nearest_centroid_agreement(X, labels):
    """Share of clustered points whose nearest cluster mean is their own cluster's.

    1 for convex, blob-like clusters (what K-Means can represent); well below
    1 for interleaved or curved clusters such as the moons.
    """
    mask = labels >= 0
    ids = np.unique(labels[mask])
    if len(ids) < 2:
        return 1.0
    centres = np.array([X[labels == c].mean(axis=0) for c in ids])
    Xm, lab = X[mask], labels[mask]
    nearest = np.empty(len(Xm), dtype=np.int64)
    for start in range(0, len(Xm), 8192):
        block = Xm[start:start + 8192]
        d2 = ((block[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        nearest[start:start + 8192] = ids[d2.argmin(axis=1)]
    return float(np.mean(nearest == lab))
