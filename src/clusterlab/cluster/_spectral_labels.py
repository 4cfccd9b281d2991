"""Spectral clustering, step 3: labels from the embedding.

:class:`clusterlab.KMeans` on the embedding (``assign_labels='kmeans'``), the
discretisation of Yu & Shi (2003) (:func:`discretize`) or CLUSTER_QR (Damle,
Minden & Ying 2019, :func:`cluster_qr`); labels are then numbered
consecutively.
"""

import numpy as np
import scipy.linalg as sla
from sklearn.utils import check_random_state


def _assign_kmeans(maps, n_clusters, random_state, n_init, verbose):
    from clusterlab.cluster.kmeans import KMeans

    km = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=random_state,
                verbose=verbose).fit(maps)
    return km.labels_


def discretize(maps, random_state=None, max_iter=30, max_restarts=30):
    """Discrete partition closest to the continuous embedding (Yu & Shi, 2003).

    Finds an indicator matrix ``X`` and a rotation ``R`` maximising
    ``trace(X^T Z R)`` for the row-normalised embedding ``Z`` by alternating:
    ``X`` = one-hot of each row's largest entry of ``Z R``; ``R = V U^T``
    from the SVD ``X^T Z = U S V^T``; until ``trace(S)`` stops increasing.
    ``R`` starts from a random row of ``Z`` and then, greedily, the rows most
    orthogonal to those already chosen.

    Parameters
    ----------
    maps : ndarray of shape (n_samples, n_clusters)
    random_state : int, RandomState instance or None
    max_iter : int, default=30
    max_restarts : int, default=30
        New random starts after a failed SVD.

    Returns
    -------
    labels : ndarray of shape (n_samples,), int64

    Notes
    -----
    O(n k^2) time per iteration, O(n k) memory.
    """
    random_state = check_random_state(random_state)
    Z = np.asarray(maps, dtype=np.float64).copy()
    n, k = Z.shape
    col = np.linalg.norm(Z, axis=0)
    col[col == 0] = 1.0
    Z /= col
    row = np.linalg.norm(Z, axis=1)
    row[row == 0] = 1.0
    Z /= row[:, None]
    for _ in range(max_restarts):
        R = np.zeros((k, k))
        R[:, 0] = Z[random_state.randint(n)]
        c = np.zeros(n)
        for j in range(1, k):
            c += np.abs(Z @ R[:, j - 1])
            R[:, j] = Z[np.argmin(c)]
        last = -np.inf
        try:
            for _ in range(max_iter):
                labels = np.argmax(Z @ R, axis=1)
                XtZ = np.zeros((k, k))
                np.add.at(XtZ, labels, Z)
                U, S, Vt = np.linalg.svd(XtZ)
                value = S.sum()
                if value - last <= 1e-12 * n:
                    break
                last = value
                R = Vt.T @ U.T
            return labels.astype(np.int64)
        except np.linalg.LinAlgError:
            continue
    raise np.linalg.LinAlgError("SVD did not converge in the discretisation.")


def cluster_qr(maps):
    """Labels from the embedding by column-pivoted QR (Damle, Minden & Ying, 2019).

    The pivoted QR of ``maps.T`` picks k well-separated rows; the polar factor
    of those rows rotates the embedding so that each cluster aligns with one
    axis; a point's label is its largest absolute coordinate. Deterministic.

    Parameters
    ----------
    maps : ndarray of shape (n_samples, n_clusters)

    Returns
    -------
    labels : ndarray of shape (n_samples,), int64

    Notes
    -----
    O(n k^2) time, O(n k) memory.
    """
    maps = np.asarray(maps, dtype=np.float64)
    k = maps.shape[1]
    _, _, piv = sla.qr(maps.T, pivoting=True, mode="economic")
    U, _, Vt = np.linalg.svd(maps[piv[:k], :].T)
    rotated = np.abs(maps @ (U @ Vt))
    return np.argmax(rotated, axis=1).astype(np.int64)


def _relabel_consecutive(labels):
    _, inv = np.unique(labels, return_inverse=True)
    return inv.reshape(labels.shape).astype(np.int64)
