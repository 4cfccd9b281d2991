"""From a list of merges to scikit-learn's ``children`` numbering."""

import numba as nb
import numpy as np

from .common import _find


@nb.njit(cache=True, nogil=True)
def relabel_merges(a, b, n, sort_pair, children, counts):
    """Number the clusters of a merge list as scikit-learn does.

    Parameters
    ----------
    a, b : IN ndarray (n-1,) int64, a point of each merged cluster, in merge
        order
    n : IN int, number of leaves
    sort_pair : IN bool, write the lower node id first (scipy's convention)
        instead of (cluster of ``a``, cluster of ``b``)
    children : OUT ndarray (n-1, 2) int64, node ids (leaves ``0..n-1``, the
        cluster made by merge ``k`` is ``n + k``)
    counts : OUT ndarray (n-1,) int64, points in each new cluster
    """
    parent = np.arange(2 * n - 1).astype(np.int64)
    size = np.ones(2 * n - 1, dtype=np.int64)
    for k in range(a.shape[0]):
        ra = _find(parent, a[k])
        rb = _find(parent, b[k])
        if sort_pair and ra > rb:
            ra, rb = rb, ra
        children[k, 0] = ra
        children[k, 1] = rb
        node = n + k
        parent[ra] = node
        parent[rb] = node
        size[node] = size[ra] + size[rb]
        counts[k] = size[node]
