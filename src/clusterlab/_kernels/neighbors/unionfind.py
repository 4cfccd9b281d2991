"""Union-find over points and the numbering of its components (DBSCAN's clusters).

The forest is a plain ``parent`` array (path halving in :func:`_find`; the
smaller root wins in :func:`_union`, so roots are the smallest member).
Components are numbered in the order of their smallest original index, which
is scikit-learn's cluster numbering.
"""

import numpy as np
from numba import njit

from .metric import _JIT


@njit(**_JIT)
def _find(parent, i):
    """Root of i with path halving (INOUT parent)."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(**_JIT)
def _union(parent, a, b):
    """Join the sets of a and b; the smaller root becomes the root."""
    ra = _find(parent, a)
    rb = _find(parent, b)
    if ra == rb:
        return ra
    if ra < rb:
        parent[rb] = ra
        return ra
    parent[ra] = rb
    return rb


@njit(**_JIT)
def init_parent(parent):
    """parent[i] = i (OUT)."""
    for i in range(parent.shape[0]):
        parent[i] = i


@njit(**_JIT)
def label_components(is_core, pos, parent, labels):
    """Number the core components by their smallest original index.

    Parameters
    ----------
    is_core : (n,) bool, IN -- sorted order.
    pos : (n,) int64, IN -- sorted row of original row i (inverse permutation).
    parent : (n,) int64, INOUT -- union-find forest over sorted rows.
    labels : (n,) int64, OUT -- sorted order; cores get their component's
        number, the others -1.

    Returns
    -------
    n_clusters : int
    """
    n = is_core.shape[0]
    comp = np.full(n, -1, np.int64)
    for s in range(n):
        labels[s] = -1
    k = 0
    for i in range(n):
        s = pos[i]
        if is_core[s]:
            r = _find(parent, s)
            if comp[r] < 0:
                comp[r] = k
                k += 1
            labels[s] = comp[r]
    return k


@njit(**_JIT)
def label_components_plain(is_core, parent, labels):
    """Number core components by smallest index; cores labelled, others -1 (OUT labels)."""
    n = is_core.shape[0]
    comp = np.full(n, -1, np.int64)
    k = 0
    for i in range(n):
        labels[i] = -1
        if is_core[i]:
            r = _find(parent, i)
            if comp[r] < 0:
                comp[r] = k
                k += 1
            labels[i] = comp[r]
    return k
