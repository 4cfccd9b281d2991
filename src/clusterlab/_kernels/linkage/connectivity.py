"""Structured agglomeration: greedy merging along a sparse connectivity graph.

scikit-learn's structured ``ward_tree`` / ``linkage_tree``: a lazy-deletion
binary heap of candidate merges (:func:`_heap_push`, :func:`_heap_pop`) and
neighbour lists in one growing pool; Ward from moments, complete (max) and
average (size-weighted mean of the values that exist) updates.
"""

import numba as nb
import numpy as np

from .common import COMPLETE, WARD


@nb.njit(cache=True, nogil=True)
def _heap_less(hv, ha, hb, i, j):
    if hv[i] != hv[j]:
        return hv[i] < hv[j]
    if ha[i] != ha[j]:
        return ha[i] < ha[j]
    return hb[i] < hb[j]


@nb.njit(cache=True, nogil=True)
def _heap_swap(hv, ha, hb, i, j):
    hv[i], hv[j] = hv[j], hv[i]
    ha[i], ha[j] = ha[j], ha[i]
    hb[i], hb[j] = hb[j], hb[i]


@nb.njit(cache=True, nogil=True)
def _heap_push(hv, ha, hb, size, v, a, b):
    hv[size] = v
    ha[size] = a
    hb[size] = b
    i = size
    while i > 0:
        parent = (i - 1) // 2
        if _heap_less(hv, ha, hb, i, parent):
            _heap_swap(hv, ha, hb, i, parent)
            i = parent
        else:
            break
    return size + 1


@nb.njit(cache=True, nogil=True)
def _heap_pop(hv, ha, hb, size):
    """Move the minimum to position ``size - 1``; returns the new size."""
    last = size - 1
    i = np.int64(0)  # not a literal 0: one compiled variant of the helpers
    _heap_swap(hv, ha, hb, i, last)
    while True:
        left = 2 * i + 1
        if left >= last:
            break
        small = left
        right = left + 1
        if right < last and _heap_less(hv, ha, hb, right, left):
            small = right
        if _heap_less(hv, ha, hb, small, i):
            _heap_swap(hv, ha, hb, small, i)
            i = small
        else:
            break
    return last


@nb.njit(cache=True, nogil=True)
def _grow_int(arr, need):
    if need <= arr.shape[0]:
        return arr
    out = np.empty(max(need, 2 * arr.shape[0]), dtype=arr.dtype)
    for i in range(arr.shape[0]):  # a loop: a slice copy compiles numba's shape-error message
        out[i] = arr[i]
    return out


@nb.njit(cache=True, nogil=True)
def _grow_float(arr, need):
    if need <= arr.shape[0]:
        return arr
    out = np.empty(max(need, 2 * arr.shape[0]), dtype=arr.dtype)
    for i in range(arr.shape[0]):  # a loop: a slice copy compiles numba's shape-error message
        out[i] = arr[i]
    return out


@nb.njit(cache=True, nogil=True)
def connectivity_merge(indptr, indices, weights, moments, n_merges, method,
                       children, out_dist, parent):
    """Greedy agglomeration along a connectivity graph.

    Repeatedly merges the connected pair of active clusters with the smallest
    linkage value (ties: the lexicographically smallest (value, newer id,
    older id)), as scikit-learn's structured ``ward_tree``/``linkage_tree``.

    Parameters
    ----------
    indptr, indices : IN CSR structure (n+1,), (nnz,) int64 of a symmetric
        graph without self loops, column indices sorted within each row
    weights : IN (nnz,) float64, edge distances (complete/average; unused
        for Ward)
    moments : IN (n, d) float64, the points (Ward; any (n, 1) array
        otherwise)
    n_merges : IN int, merges to perform (n-1 for the full tree)
    method : IN int, WARD / COMPLETE / AVERAGE
    children : OUT (n_merges, 2) int64, lower id first
    out_dist : OUT (n_merges,) float64 (Ward: sqrt(2 * inertia increase))
    parent : OUT (n + n_merges,) int64, parent node of every node (itself
        for the roots)

    Notes
    -----
    Time O(E log E + merges · degree), memory O(n·d + E), E the number of
    edges. Neighbour lists live in one growing pool: a merged cluster's list
    is the union of its children's lists (average: size-weighted mean where
    both children see the neighbour, the one value otherwise; complete: max).
    """
    n = indptr.shape[0] - 1
    n_nodes = n + n_merges
    d = moments.shape[1]
    size = np.zeros(n_nodes)
    size[:n] = 1.0
    used = np.zeros(n_nodes, dtype=np.bool_)
    used[:n] = True
    for i in range(n_nodes):
        parent[i] = i
    if method == WARD:
        sums = np.zeros((n_nodes, d))
        for i in range(n):  # loops, not a slice copy (see _grow_int)
            for f in range(d):
                sums[i, f] = moments[i, f]
    else:
        sums = np.zeros((1, 1))
    # neighbour lists: node -> [start, start+length) in the pool, capacity cap
    nnz = indices.shape[0]
    pool_k = np.empty(2 * nnz + 16, dtype=np.int64)
    pool_v = np.empty(2 * nnz + 16)
    start = np.zeros(n_nodes, dtype=np.int64)
    length = np.zeros(n_nodes, dtype=np.int64)
    cap = np.zeros(n_nodes, dtype=np.int64)
    top = 0
    for i in range(n):
        deg = indptr[i + 1] - indptr[i]
        start[i] = top
        length[i] = deg
        cap[i] = deg
        for t in range(deg):
            pool_k[top + t] = indices[indptr[i] + t]
            pool_v[top + t] = weights[indptr[i] + t]
        top += deg
    # heap of candidate merges (value, newer id, older id)
    hcap = nnz + 16
    hv = np.empty(hcap)
    ha = np.empty(hcap, dtype=np.int64)
    hb = np.empty(hcap, dtype=np.int64)
    hsize = np.int64(0)  # not a literal 0 (see _heap_pop)
    for i in range(n):
        for t in range(indptr[i], indptr[i + 1]):
            j = indices[t]
            if j < i:
                if method == WARD:
                    s2 = 0.0
                    for f in range(d):
                        diff = sums[i, f] - sums[j, f]
                        s2 += diff * diff
                    v = 0.5 * s2
                else:
                    v = weights[t]
                hsize = _heap_push(hv, ha, hb, hsize, v, i, j)
    scratch_k = np.empty(16, dtype=np.int64)
    scratch_v = np.empty(16)
    for k in range(n, n_nodes):
        while True:
            hsize = _heap_pop(hv, ha, hb, hsize)
            i = ha[hsize]
            j = hb[hsize]
            if used[i] and used[j]:
                break
        v = hv[hsize]
        parent[i] = k
        parent[j] = k
        children[k - n, 0] = min(i, j)
        children[k - n, 1] = max(i, j)
        out_dist[k - n] = np.sqrt(2.0 * v) if method == WARD else v
        ni = size[i]
        nj = size[j]
        size[k] = ni + nj
        used[i] = False
        used[j] = False
        used[k] = True
        if method == WARD:
            for f in range(d):
                sums[k, f] = sums[i, f] + sums[j, f]
        # merge the two neighbour lists (sorted by id) into scratch
        la = length[i]
        lb = length[j]
        scratch_k = _grow_int(scratch_k, la + lb)
        scratch_v = _grow_float(scratch_v, la + lb)
        sa = start[i]
        sb = start[j]
        ia = 0
        ib = 0
        cnt = 0
        while ia < la or ib < lb:
            if ib >= lb or (ia < la and pool_k[sa + ia] < pool_k[sb + ib]):
                key = pool_k[sa + ia]
                val = pool_v[sa + ia]
                ia += 1
            elif ia >= la or pool_k[sb + ib] < pool_k[sa + ia]:
                key = pool_k[sb + ib]
                val = pool_v[sb + ib]
                ib += 1
            else:  # both lists see this neighbour
                key = pool_k[sa + ia]
                va = pool_v[sa + ia]
                vb = pool_v[sb + ib]
                if method == COMPLETE:
                    val = va if va > vb else vb
                else:
                    val = (ni * va + nj * vb) / (ni + nj)
                ia += 1
                ib += 1
            if used[key]:
                scratch_k[cnt] = key
                scratch_v[cnt] = val
                cnt += 1
        # the new node's list goes to the end of the pool
        pool_k = _grow_int(pool_k, top + cnt + 1)
        pool_v = _grow_float(pool_v, top + cnt + 1)
        start[k] = top
        length[k] = cnt
        cap[k] = cnt + 1
        for t in range(cnt):
            pool_k[top + t] = scratch_k[t]
            pool_v[top + t] = scratch_v[t]
        top += cnt + 1
        length[i] = 0
        length[j] = 0
        # append k to each neighbour's list (k is the largest id: stays sorted)
        for t in range(cnt):
            col = scratch_k[t]
            if method == WARD:
                s2 = 0.0
                for f in range(d):
                    diff = sums[k, f] / size[k] - sums[col, f] / size[col]
                    s2 += diff * diff
                val = (size[k] * size[col]) / (size[k] + size[col]) * s2
            else:
                val = scratch_v[t]
            if length[col] == cap[col]:
                newcap = 2 * cap[col] + 4
                pool_k = _grow_int(pool_k, top + newcap)
                pool_v = _grow_float(pool_v, top + newcap)
                for u in range(length[col]):
                    pool_k[top + u] = pool_k[start[col] + u]
                    pool_v[top + u] = pool_v[start[col] + u]
                start[col] = top
                cap[col] = newcap
                top += newcap
            pool_k[start[col] + length[col]] = k
            pool_v[start[col] + length[col]] = val
            length[col] += 1
            if hsize == hv.shape[0]:
                hv = _grow_float(hv, hsize + 1)
                ha = _grow_int(ha, hsize + 1)
                hb = _grow_int(hb, hsize + 1)
            hsize = _heap_push(hv, ha, hb, hsize, val, k, col)
