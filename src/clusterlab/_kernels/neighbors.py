"""Radius-neighbour kernels: a grid index, core points, union-find, borders.

Everything here works *without ever storing a neighbourhood*: each pass
re-enumerates the candidate pairs from a spatial index and keeps only O(n)
state (one weight sum, one flag, one parent or one label per point).

The index (built by the caller, see :func:`clusterlab.cluster.dbscan`) is a
grid over ``g`` selected coordinates:

* points are sorted by the linear key of their cell (``keys``), so the points
  of one cell are contiguous: cell ``c`` holds sorted rows
  ``cell_start[c]:cell_start[c + 1]`` and has key ``cell_keys[c]``;
* a cell's neighbours are the cells at the integer ``offsets`` (rows of an
  ``(n_offsets, g)`` array, the zero offset first) found by binary search in
  ``cell_keys``;
* when the grid covers every coordinate and its cell diameter is at most
  eps (``clique=True``), all points of a cell are neighbours of each other,
  which the kernels use to skip distance computations.

Distances are exact: for the Minkowski family the kernels compare the
*reduced* distance (``sum |d|**p``; the squared distance for p=2, the max for
chebyshev, the plain sum for manhattan) with the reduced radius ``reps``,
always in float64 (float32 coordinates are widened before subtracting).

Metric codes: 0 euclidean, 1 manhattan, 2 chebyshev, 3 minkowski with ``p``.

Work is split into *items* (``item_cell``, ``item_lo``, ``item_hi``): a cell
or a slice of at most a few hundred points of a big cell, so that ``prange``
balances well even when all points share one cell (the brute-force case).
"""

import math
from itertools import product

import numpy as np
from numba import njit, prange

_JIT = dict(cache=True, nogil=True)


@njit(inline="always", **_JIT)
def _within(A, i, B, j, metric, p, reps):
    """True when row i of A and row j of B are within the reduced radius."""
    d = A.shape[1]
    s = 0.0
    if metric == 0:
        for k in range(d):
            t = np.float64(A[i, k]) - np.float64(B[j, k])
            s += t * t
            if s > reps:
                return False
    elif metric == 1:
        for k in range(d):
            s += abs(np.float64(A[i, k]) - np.float64(B[j, k]))
            if s > reps:
                return False
    elif metric == 2:
        for k in range(d):
            t = abs(np.float64(A[i, k]) - np.float64(B[j, k]))
            if t > reps:
                return False
    else:
        for k in range(d):
            s += abs(np.float64(A[i, k]) - np.float64(B[j, k])) ** p
            if s > reps:
                return False
    return True


@njit(inline="always", **_JIT)
def _rdist(A, i, B, j, metric, p):
    """Reduced distance between row i of A and row j of B (float64)."""
    d = A.shape[1]
    s = 0.0
    for k in range(d):
        t = abs(np.float64(A[i, k]) - np.float64(B[j, k]))
        if metric == 0:
            s += t * t
        elif metric == 1:
            s += t
        elif metric == 2:
            if t > s:
                s = t
        else:
            s += t ** p
    return s


@njit(inline="always", **_JIT)
def _box_within(A, i, boxes, b, metric, p, reps):
    """False when row i of A is farther than eps from every point of box b.

    ``boxes[b, 0]`` / ``boxes[b, 1]`` are the lower / upper corners (an empty
    box has lower=+inf, upper=-inf and is never within). The gap to a box is
    a lower bound, in floating point too, of the distance to any point in it.
    """
    d = A.shape[1]
    s = 0.0
    for k in range(d):
        x = np.float64(A[i, k])
        t = boxes[b, 0, k] - x
        if not t > 0.0:
            t = x - boxes[b, 1, k]
            if not t > 0.0:
                t = 0.0
        if metric == 0:
            s += t * t
        elif metric == 1:
            s += t
        elif metric == 2:
            if t > s:
                s = t
        else:
            s += t ** p
        if s > reps:
            return False
    return True


#: Rows whose distances to one point are computed together (SIMD-friendly).
CHUNK = 32


@njit(inline="always", **_JIT)
def _chunk_rdist(XT, i, lo, hi, metric, p, acc):
    """Reduced distances from row i to rows lo:hi (at most CHUNK) of XT's columns.

    XT : (d, n) IN -- the points stored feature-major, so that the inner
    loop runs over contiguous rows and vectorises. acc : (CHUNK,) float64,
    OUT. Each distance is summed over the features in the same order as
    :func:`_within`, so both give bit-identical results.
    """
    d = XT.shape[0]
    m = hi - lo
    for t in range(m):
        acc[t] = 0.0
    if metric == 0:
        for k in range(d):
            xk = np.float64(XT[k, i])
            for t in range(m):
                v = xk - np.float64(XT[k, lo + t])
                acc[t] += v * v
    elif metric == 1:
        for k in range(d):
            xk = np.float64(XT[k, i])
            for t in range(m):
                acc[t] += abs(xk - np.float64(XT[k, lo + t]))
    elif metric == 2:
        for k in range(d):
            xk = np.float64(XT[k, i])
            for t in range(m):
                v = abs(xk - np.float64(XT[k, lo + t]))
                if v > acc[t]:
                    acc[t] = v
    else:
        for k in range(d):
            xk = np.float64(XT[k, i])
            for t in range(m):
                acc[t] += abs(xk - np.float64(XT[k, lo + t])) ** p


@njit(inline="always", **_JIT)
def _box_within_t(XT, i, boxes, b, metric, p, reps):
    """:func:`_box_within` for a feature-major point array."""
    d = XT.shape[0]
    s = 0.0
    for k in range(d):
        x = np.float64(XT[k, i])
        t = boxes[b, 0, k] - x
        if not t > 0.0:
            t = x - boxes[b, 1, k]
            if not t > 0.0:
                t = 0.0
        if metric == 0:
            s += t * t
        elif metric == 1:
            s += t
        elif metric == 2:
            if t > s:
                s = t
        else:
            s += t ** p
        if s > reps:
            return False
    return True


@njit(parallel=True, **_JIT)
def grid_cell_boxes(Xs, cell_start, mask, boxes):
    """Bounding box of the rows of each segment (cell or block) selected by ``mask``.

    Xs : (n, d) IN, sorted. cell_start : (n_segments + 1,) int64, IN --
    segment s is rows ``cell_start[s]:cell_start[s + 1]``.
    mask : (n,) bool, IN. boxes : (n_segments, 2, d) float64, OUT (lower,
    upper; +inf/-inf for a segment with no selected row).
    """
    d = Xs.shape[1]
    for c in prange(cell_start.shape[0] - 1):
        for k in range(d):
            boxes[c, 0, k] = np.inf
            boxes[c, 1, k] = -np.inf
        for i in range(cell_start[c], cell_start[c + 1]):
            if mask[i]:
                for k in range(d):
                    v = np.float64(Xs[i, k])
                    if v < boxes[c, 0, k]:
                        boxes[c, 0, k] = v
                    if v > boxes[c, 1, k]:
                        boxes[c, 1, k] = v


@njit(inline="always", **_JIT)
def _find(parent, i):
    """Root of i with path halving (INOUT parent)."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@njit(inline="always", **_JIT)
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


@njit(inline="always", **_JIT)
def _neighbour_cells(c, cell_keys, extents, strides, offsets, out):
    """Fill ``out`` with the indices of the existing neighbour cells of cell c.

    Returns how many were written. ``out`` (OUT) has ``len(offsets)`` slots.
    """
    g = extents.shape[0]
    key = cell_keys[c]
    m = 0
    for o in range(offsets.shape[0]):
        nkey = 0
        ok = True
        for k in range(g):
            cc = (key // strides[k]) % extents[k] + offsets[o, k]
            if cc < 0 or cc >= extents[k]:
                ok = False
                break
            nkey += cc * strides[k]
        if not ok:
            continue
        pos = np.searchsorted(cell_keys, nkey)
        if pos < cell_keys.shape[0] and cell_keys[pos] == nkey:
            out[m] = pos
            m += 1
    return m


@njit(parallel=True, **_JIT)
def grid_cell_keys(X, dims, origin, side, strides, keys):
    """Linear grid-cell key of every row.

    Parameters
    ----------
    X : (n, d) float32/float64, IN.
    dims : (g,) int64, IN -- the coordinates the grid covers.
    origin : (g,) float64, IN -- lower corner of cell 0 along each dim.
    side : float, IN -- cell side length.
    strides : (g,) int64, IN -- key = sum(cell_coord[k] * strides[k]).
    keys : (n,) int64, OUT.
    """
    n = X.shape[0]
    g = dims.shape[0]
    for i in prange(n):
        key = 0
        for k in range(g):
            c = np.int64(np.floor((np.float64(X[i, dims[k]]) - origin[k]) / side))
            key += c * strides[k]
        keys[i] = key


@njit(parallel=True, **_JIT)
def grid_block_order(X, order, cell_start, leaf, block_flag):
    """Split every cell into blocks of nearby rows (for bounding-box pruning).

    Each cell's rows are split recursively at the median of their widest
    coordinate until a piece holds at most ``leaf`` rows (a kd-tree's leaves,
    without the tree).

    Parameters
    ----------
    X : (n, d) float32/float64, IN -- original rows.
    order : (n,) int64, INOUT -- sorted row -> original row; rows are
        permuted within their cell only.
    cell_start : (n_cells + 1,) int64, IN.
    leaf : int, IN -- largest block (a block of identical rows may be larger).
    block_flag : (n + 1,) bool, OUT -- True at the first sorted row of every
        block and at n.

    Notes
    -----
    O(n d log n) time; scratch one copy of the largest cell's indices.
    """
    n = order.shape[0]
    d = X.shape[1]
    for s in range(n + 1):
        block_flag[s] = False
    block_flag[n] = True
    for c in prange(cell_start.shape[0] - 1):
        stack_lo = np.empty(130, np.int64)
        stack_hi = np.empty(130, np.int64)
        stack_lo[0] = cell_start[c]
        stack_hi[0] = cell_start[c + 1]
        top = 1
        while top > 0:
            top -= 1
            lo = stack_lo[top]
            hi = stack_hi[top]
            block_flag[lo] = True
            if hi - lo <= leaf:
                continue
            best_k = 0
            best_w = 0.0
            for k in range(d):
                mn = np.inf
                mx = -np.inf
                for r in range(lo, hi):
                    v = np.float64(X[order[r], k])
                    if v < mn:
                        mn = v
                    if v > mx:
                        mx = v
                if mx - mn > best_w:
                    best_w = mx - mn
                    best_k = k
            if best_w <= 0.0:
                continue
            vals = np.empty(hi - lo, np.float64)
            for r in range(lo, hi):
                vals[r - lo] = X[order[r], best_k]
            idx = np.argsort(vals, kind="mergesort")
            seg = order[lo:hi].copy()
            for r in range(hi - lo):
                order[lo + r] = seg[idx[r]]
            mid = lo + (hi - lo) // 2
            stack_lo[top] = lo
            stack_hi[top] = mid
            stack_lo[top + 1] = mid
            stack_hi[top + 1] = hi
            top += 2


@njit(parallel=True, **_JIT)
def grid_core_points(XT, ws, cell_keys, cell_start, extents, strides, offsets, clique,
                     item_cell, item_lo, item_hi, metric, p, reps, min_samples, nonneg,
                     cell_block, block_start, boxes, is_core):
    """Flag the core points: weighted eps-neighbour count >= min_samples.

    Parameters
    ----------
    XT : (d, n) float32/float64, IN -- points sorted by cell (and block),
        stored feature-major (the transpose of the sorted X).
    ws : (n,) float64, IN -- sample weights in the same order.
    cell_keys : (n_cells,) int64, IN -- sorted unique cell keys.
    cell_start : (n_cells + 1,) int64, IN -- first sorted row of each cell.
    extents, strides : (g,) int64, IN -- grid shape and key strides.
    offsets : (n_offsets, g) int64, IN -- neighbour-cell offsets, zero first.
    clique : bool, IN -- every pair inside one cell is within eps.
    item_cell, item_lo, item_hi : (n_items,) int64, IN -- work items.
    metric, p, reps : IN -- metric code, Minkowski p, reduced radius.
    min_samples : float, IN.
    nonneg : bool, IN -- all weights >= 0 (allows stopping a count early).
    cell_block : (n_cells + 1,) int64, IN -- first block of each cell.
    block_start : (n_blocks + 1,) int64, IN -- first sorted row of each block.
    boxes : (n_blocks, 2, d) float64, IN -- bounding box of each block.
    is_core : (n,) bool, OUT.

    Notes
    -----
    Each point's count is summed by one thread in a fixed order, so the
    result does not depend on the number of threads. Scratch: one
    ``n_offsets`` buffer per item.
    """
    n_off = offsets.shape[0]
    for it in prange(item_cell.shape[0]):
        c = item_cell[it]
        buf = np.empty(n_off, np.int64)
        acc = np.empty(CHUNK, np.float64)
        m = _neighbour_cells(c, cell_keys, extents, strides, offsets, buf)
        a0 = cell_start[c]
        a1 = cell_start[c + 1]
        own = 0.0
        if clique:
            for j in range(a0, a1):
                own += ws[j]
            if nonneg and own >= min_samples:
                for i in range(item_lo[it], item_hi[it]):
                    is_core[i] = True
                continue
        for i in range(item_lo[it], item_hi[it]):
            total = own
            done = False
            for q in range(m):
                b = buf[q]
                if clique and b == c:
                    continue
                for k in range(cell_block[b], cell_block[b + 1]):
                    if not _box_within_t(XT, i, boxes, k, metric, p, reps):
                        continue
                    for lo in range(block_start[k], block_start[k + 1], CHUNK):
                        hi = min(lo + CHUNK, block_start[k + 1])
                        _chunk_rdist(XT, i, lo, hi, metric, p, acc)
                        for t in range(hi - lo):
                            if acc[t] <= reps:
                                total += ws[lo + t]
                        if nonneg and total >= min_samples:
                            done = True
                            break
                    if done:
                        break
                if done:
                    break
            is_core[i] = total >= min_samples


@njit(**_JIT)
def _cell_first_core(is_core, lo, hi):
    for i in range(lo, hi):
        if is_core[i]:
            return i
    return -1


@njit(**_JIT)
def _join_cores(XT, i, ri, lo, hi, is_core, parent, metric, p, reps, acc):
    """Union core i (root ri) with the cores of rows lo:hi within eps; new root."""
    for lo2 in range(lo, hi, CHUNK):
        hi2 = min(lo2 + CHUNK, hi)
        _chunk_rdist(XT, i, lo2, hi2, metric, p, acc)
        for t in range(hi2 - lo2):
            j = lo2 + t
            if acc[t] <= reps and is_core[j] and _find(parent, j) != ri:
                ri = _union(parent, i, j)
    return ri


@njit(**_JIT)
def grid_union_cores(XT, is_core, cell_keys, cell_start, extents, strides, offsets, clique,
                     metric, p, reps, cell_block, block_start, core_boxes, parent):
    """Union-find over core points: join every pair of cores within eps.

    Parameters
    ----------
    XT, cell_keys, cell_start, extents, strides, offsets, clique, metric, p,
    reps, cell_block, block_start : IN -- as in :func:`grid_core_points`.
    is_core : (n,) bool, IN.
    core_boxes : (n_blocks, 2, d) float64, IN -- bounding box of each block's cores.
    parent : (n,) int64, OUT -- union-find forest over sorted rows (roots
        are the smallest sorted row of their set; non-core rows point to
        themselves).

    Notes
    -----
    Serial. First the pairs inside each cell, then each unordered pair of
    neighbouring cells once; a pair of cells is skipped as soon as both are
    known to lie in one set, blocks whose box is farther than eps are
    skipped, and for clique grids one joining pair per cell pair is enough.
    """
    n = XT.shape[1]
    n_cells = cell_keys.shape[0]
    acc = np.empty(CHUNK, np.float64)
    for i in range(n):
        parent[i] = i
    first = np.empty(n_cells, np.int64)
    unified = np.zeros(n_cells, np.bool_)
    for c in range(n_cells):
        first[c] = _cell_first_core(is_core, cell_start[c], cell_start[c + 1])
    # phase 1: pairs inside each cell, so that cells are (mostly) one set each
    for c in range(n_cells):
        fc = first[c]
        if fc < 0:
            continue
        a1 = cell_start[c + 1]
        if clique:
            for i in range(fc + 1, a1):
                if is_core[i]:
                    _union(parent, fc, i)
            unified[c] = True
            continue
        rows_joined = 0
        for i in range(fc, a1):
            if not is_core[i]:
                continue
            ri = _find(parent, i)
            r0 = ri
            for k in range(cell_block[c], cell_block[c + 1]):
                if block_start[k + 1] <= i + 1:
                    continue
                if not _box_within_t(XT, i, core_boxes, k, metric, p, reps):
                    continue
                lo = max(block_start[k], i + 1)
                ri = _join_cores(XT, i, ri, lo, block_start[k + 1], is_core, parent,
                                 metric, p, reps, acc)
            if ri != r0:
                rows_joined += 1
                # once the cell's cores are one set, its inner pairs add nothing
                if rows_joined % 16 == 0 and _all_same_root(parent, is_core, fc, a1):
                    unified[c] = True
                    break
    # phase 2: pairs of neighbouring cells, each unordered pair once
    buf = np.empty(offsets.shape[0], np.int64)
    for c in range(n_cells):
        fc = first[c]
        if fc < 0:
            continue
        a1 = cell_start[c + 1]
        m = _neighbour_cells(c, cell_keys, extents, strides, offsets, buf)
        for q in range(m):
            b = buf[q]
            if b <= c or first[b] < 0:
                continue
            fb = first[b]
            b1 = cell_start[b + 1]
            if not unified[c]:
                unified[c] = _all_same_root(parent, is_core, fc, a1)
            if not unified[b]:
                unified[b] = _all_same_root(parent, is_core, fb, b1)
            both = unified[c] and unified[b]
            if both and _find(parent, fc) == _find(parent, fb):
                continue
            for i in range(fc, a1):
                if not is_core[i]:
                    continue
                ri = _find(parent, i)
                r0 = ri
                for k in range(cell_block[b], cell_block[b + 1]):
                    if not _box_within_t(XT, i, core_boxes, k, metric, p, reps):
                        continue
                    ri = _join_cores(XT, i, ri, block_start[k], block_start[k + 1], is_core,
                                     parent, metric, p, reps, acc)
                    if both and ri != r0:
                        break
                if ri != r0:
                    # a union may have made both cells one set: stop early then
                    if not both:
                        unified[c] = _all_same_root(parent, is_core, fc, a1)
                        unified[b] = _all_same_root(parent, is_core, fb, b1)
                        both = unified[c] and unified[b]
                    if both and _find(parent, fc) == _find(parent, fb):
                        break


@njit(**_JIT)
def _all_same_root(parent, is_core, lo, hi):
    r = _find(parent, lo)
    for i in range(lo + 1, hi):
        if is_core[i] and _find(parent, i) != r:
            return False
    return True


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


@njit(parallel=True, **_JIT)
def grid_border_labels(XT, is_core, cell_keys, cell_start, extents, strides, offsets,
                       clique, item_cell, item_lo, item_hi, metric, p, reps, cell_block,
                       block_start, core_boxes, labels):
    """Give every non-core point the smallest label among cores within eps.

    Parameters
    ----------
    core_boxes : (n_blocks, 2, d) float64, IN -- bounding box of each block's cores.
    labels : (n,) int64, INOUT -- sorted order; core entries are read, the
        others are written (-1 when no core point is within eps).

    The other arguments are as in :func:`grid_core_points`. This is exactly
    the label scikit-learn's expansion order gives a border point: clusters
    are expanded one after another in the order of their smallest core
    index, and the first one to reach the point keeps it.
    """
    n_off = offsets.shape[0]
    for it in prange(item_cell.shape[0]):
        c = item_cell[it]
        buf = np.empty(n_off, np.int64)
        acc = np.empty(CHUNK, np.float64)
        m = _neighbour_cells(c, cell_keys, extents, strides, offsets, buf)
        for i in range(item_lo[it], item_hi[it]):
            if is_core[i]:
                continue
            best = -1
            for q in range(m):
                b = buf[q]
                near = clique and b == c
                for k in range(cell_block[b], cell_block[b + 1]):
                    if not near and not _box_within_t(XT, i, core_boxes, k, metric, p, reps):
                        continue
                    for lo in range(block_start[k], block_start[k + 1], CHUNK):
                        hi = min(lo + CHUNK, block_start[k + 1])
                        if not near:
                            _chunk_rdist(XT, i, lo, hi, metric, p, acc)
                        for t in range(hi - lo):
                            j = lo + t
                            if is_core[j] and (near or acc[t] <= reps):
                                if best < 0 or labels[j] < best:
                                    best = labels[j]
                if best == 0:
                    break
            labels[i] = best


@njit(parallel=True, **_JIT)
def grid_nearest(Q, Cs, dims, origin, side, cell_keys, cell_start, extents, strides, offsets,
                 metric, p, reps, tie_rank, nearest):
    """Nearest indexed point within eps of every query row.

    Parameters
    ----------
    Q : (m, d) float32/float64, IN -- queries.
    Cs : (n, d) float32/float64, IN -- indexed points sorted by cell.
    dims, origin, side : IN -- as in :func:`grid_cell_keys` (grid of ``Cs``).
    cell_keys, cell_start, extents, strides, offsets : IN -- the grid.
    metric, p, reps : IN -- metric code, Minkowski p, reduced radius.
    tie_rank : (n,) int64, IN -- among equidistant points the smallest rank wins.
    nearest : (m,) int64, OUT -- sorted row of the nearest indexed point
        within eps, or -1.

    Notes
    -----
    Queries may fall outside the grid's bounding box; only existing cells
    are visited. Memory: one ``g`` buffer per query.
    """
    g = dims.shape[0]
    for i in prange(Q.shape[0]):
        cc = np.empty(g, np.int64)
        inside = True
        for k in range(g):
            f = np.floor((np.float64(Q[i, dims[k]]) - origin[k]) / side)
            if not (f >= -1.0 - offsets.shape[0] and f <= extents[k] + offsets.shape[0]):
                inside = False
                break
            cc[k] = np.int64(f)
        best = -1
        best_d = np.inf
        if inside:
            for o in range(offsets.shape[0]):
                nkey = 0
                ok = True
                for k in range(g):
                    v = cc[k] + offsets[o, k]
                    if v < 0 or v >= extents[k]:
                        ok = False
                        break
                    nkey += v * strides[k]
                if not ok:
                    continue
                b = np.searchsorted(cell_keys, nkey)
                if b >= cell_keys.shape[0] or cell_keys[b] != nkey:
                    continue
                for j in range(cell_start[b], cell_start[b + 1]):
                    dj = _rdist(Q, i, Cs, j, metric, p)
                    if dj <= reps and (dj < best_d or (dj == best_d and tie_rank[j] < tie_rank[best])):
                        best = j
                        best_d = dj
        nearest[i] = best


@njit(parallel=True, **_JIT)
def grid_radius_pairs(XT, cell_keys, cell_start, extents, strides, offsets, item_cell, item_lo,
                      item_hi, metric, p, reps, cell_block, block_start, boxes, include_self,
                      order, indptr, indices, distances, counts):
    """Count, or list, every pair of indexed points within the radius.

    Two calls: first with ``indptr`` of length 0 to fill ``counts``, then with
    the row pointers (cumulative counts, sorted-row order) to write
    ``indices`` / ``distances``.

    Parameters
    ----------
    XT, cell_keys, cell_start, extents, strides, offsets, item_cell, item_lo,
    item_hi, metric, p, reps, cell_block, block_start, boxes : IN -- as in
        :func:`grid_core_points` (a grid built with ``clique_ok=False``).
    include_self : bool, IN -- list each point as its own neighbour.
    order : (n,) int64, IN -- sorted row -> original row (written as column
        indices).
    indptr : (n + 1,) int64 or (0,), IN -- row pointers in sorted-row order.
    indices : (nnz,) int64, OUT -- original column indices.
    distances : (nnz,) float64, OUT -- true distances (not reduced).
    counts : (n,) int64, OUT -- neighbours per sorted row.

    Notes
    -----
    Rows are listed in a fixed order whatever the thread count. Memory: the
    output (nnz entries) only.
    """
    n_off = offsets.shape[0]
    fill = indptr.shape[0] > 0
    for it in prange(item_cell.shape[0]):
        c = item_cell[it]
        buf = np.empty(n_off, np.int64)
        acc = np.empty(CHUNK, np.float64)
        m = _neighbour_cells(c, cell_keys, extents, strides, offsets, buf)
        for i in range(item_lo[it], item_hi[it]):
            w = indptr[i] if fill else 0
            cnt = 0
            for q in range(m):
                b = buf[q]
                for k in range(cell_block[b], cell_block[b + 1]):
                    if not _box_within_t(XT, i, boxes, k, metric, p, reps):
                        continue
                    for lo in range(block_start[k], block_start[k + 1], CHUNK):
                        hi = min(lo + CHUNK, block_start[k + 1])
                        _chunk_rdist(XT, i, lo, hi, metric, p, acc)
                        for t in range(hi - lo):
                            j = lo + t
                            if acc[t] <= reps and (include_self or j != i):
                                if fill:
                                    indices[w] = order[j]
                                    r = acc[t]
                                    if metric == 0:
                                        r = np.sqrt(r)
                                    elif metric == 3:
                                        r = r ** (1.0 / p)
                                    distances[w] = r
                                    w += 1
                                cnt += 1
            counts[i] = cnt


# ---------------------------------------------------------------------------
# Precomputed distances: dense row blocks and CSR matrices.
# ---------------------------------------------------------------------------


@njit(parallel=True, **_JIT)
def dense_neighbour_weights(D, row0, eps, ws, out):
    """Weighted count of entries ``<= eps`` in each row of a distance block.

    D : (r, n) float, IN -- rows ``row0:row0 + r`` of a distance matrix.
    ws : (n,) float64, IN. out : (n,) float64, OUT (rows row0.. written).
    """
    for a in prange(D.shape[0]):
        t = 0.0
        for j in range(D.shape[1]):
            if D[a, j] <= eps:
                t += ws[j]
        out[row0 + a] = t


@njit(**_JIT)
def dense_union_cores(D, row0, eps, is_core, parent):
    """Join core rows ``row0..`` of a distance block to their core neighbours.

    parent : (n,) int64, INOUT -- union-find forest over all rows.
    """
    for a in range(D.shape[0]):
        i = row0 + a
        if not is_core[i]:
            continue
        for j in range(D.shape[1]):
            if j != i and is_core[j] and D[a, j] <= eps:
                _union(parent, i, j)


@njit(parallel=True, **_JIT)
def dense_border_labels(D, row0, eps, is_core, labels):
    """Smallest label among cores within eps for non-core rows of a block (INOUT labels)."""
    for a in prange(D.shape[0]):
        i = row0 + a
        if is_core[i]:
            continue
        best = -1
        for j in range(D.shape[1]):
            if is_core[j] and D[a, j] <= eps and (best < 0 or labels[j] < best):
                best = labels[j]
        labels[i] = best


@njit(parallel=True, **_JIT)
def csr_neighbour_weights(indptr, indices, data, diag_in, eps, ws, out):
    """Weighted neighbour counts from a sparse distance matrix.

    Only stored entries ``<= eps`` are neighbours (missing entries are
    infinitely far); stored diagonal entries are ignored and the point itself
    counts when ``diag_in[i]`` (IN, bool). out : (n,) float64, OUT.
    """
    n = indptr.shape[0] - 1
    for i in prange(n):
        t = ws[i] if diag_in[i] else 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if j != i and data[e] <= eps:
                t += ws[j]
        out[i] = t


@njit(**_JIT)
def csr_union_cores(indptr, indices, data, eps, is_core, parent):
    """Union-find over core rows of a sparse distance matrix (INOUT parent)."""
    n = indptr.shape[0] - 1
    for i in range(n):
        if not is_core[i]:
            continue
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if j != i and is_core[j] and data[e] <= eps:
                _union(parent, i, j)


@njit(parallel=True, **_JIT)
def csr_border_labels(indptr, indices, data, eps, is_core, labels):
    """Smallest core label within eps for each non-core row (INOUT labels)."""
    n = indptr.shape[0] - 1
    for i in prange(n):
        if is_core[i]:
            continue
        best = -1
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if j != i and is_core[j] and data[e] <= eps and (best < 0 or labels[j] < best):
                best = labels[j]
        labels[i] = best


@njit(**_JIT)
def init_parent(parent):
    """parent[i] = i (OUT)."""
    for i in range(parent.shape[0]):
        parent[i] = i


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


# ---------------------------------------------------------------------------
# Building the index (plain numpy around the kernels; no validation).
# ---------------------------------------------------------------------------

#: Points per parallel work item (a cell, or a slice of a crowded cell).
ITEM_POINTS = 256
#: Rows per block (bounding-box pruning inside cells).
BLOCK_ROWS = 32
#: Largest linear cell key the grid may use.
MAX_KEY = 2**62

#: metric name -> kernel code (minkowski resolved by p)
METRIC_CODES = {"euclidean": 0, "l2": 0, "manhattan": 1, "cityblock": 1, "l1": 1,
                "chebyshev": 2, "infinity": 2}


def metric_code(metric, p=2.0):
    """``(code, p)`` for a Minkowski-family metric name (ValueError otherwise)."""
    if metric in METRIC_CODES:
        return METRIC_CODES[metric], 2.0
    if metric == "minkowski":
        p = 2.0 if p is None else float(p)
        if p < 1:
            raise ValueError(f"the Minkowski metric needs p >= 1, got p={p}.")
        if p == 2:
            return 0, 2.0
        if p == 1:
            return 1, 1.0
        if math.isinf(p):
            return 2, math.inf
        return 3, p
    raise ValueError(
        f"metric={metric!r} is not supported by the grid index; use one of "
        f"{sorted(METRIC_CODES) + ['minkowski']}.")


def reduced_radius(eps, code, p):
    """The radius in the units the kernels compare (eps**2 for euclidean, eps**p...)."""
    if code == 0:
        return float(eps) * float(eps)
    if code == 3:
        return float(eps) ** p
    return float(eps)


def _diameter_factor(d, code, p):
    """Diameter of the unit cube in the metric."""
    return {0: math.sqrt(d), 1: float(d), 2: 1.0}.get(code, d ** (1.0 / p) if code == 3 else 1.0)


def _gap_norm(gaps, code, p):
    if code == 0:
        return math.sqrt(sum(g * g for g in gaps))
    if code == 1:
        return sum(gaps)
    if code == 2:
        return max(gaps) if gaps else 0.0
    return sum(g ** p for g in gaps) ** (1.0 / p)


class GridIndex:
    """A grid index over the rows of X: plain arrays for the kernels above.

    Built in Python (numpy sorting plus :func:`grid_cell_keys` and
    :func:`grid_block_order`); no validation: X must be a finite, C-contiguous
    float32/float64 array with at least one row.

    ``clique_ok`` asks for cells of diameter <= eps when X has 1 to 3
    columns (and the grid fits in 62-bit keys); otherwise cells have side eps
    on up to three widest coordinates. ``single_cell`` puts every row in one
    cell (blocked exhaustive search).

    Attributes: ``dims, origin, side, extents, strides, offsets, clique,
    order`` (sorted row -> original row), ``cell_keys, cell_start`` and the
    work items ``item_cell, item_lo, item_hi``.
    """

    def __init__(self, X, eps, code, p, clique_ok, single_cell=False):
        n, d = X.shape
        lo = X.min(axis=0).astype(np.float64) if n else np.zeros(d)
        hi = X.max(axis=0).astype(np.float64) if n else np.zeros(d)
        spread = hi - lo
        self.clique = False
        dims = []
        if single_cell:
            side = float(eps)
            reach = 0
        else:
            if clique_ok and 1 <= d <= 3:
                # shrink a hair so that rounding never lets a cell exceed eps
                side = float(eps) / _diameter_factor(d, code, p) * (1 - 1e-7)
                ext = spread / side
                if np.all(ext < 2**20) and math.prod(int(e) + 1 for e in ext) < MAX_KEY:
                    dims = list(range(d))
                    self.clique = True
            if not self.clique:
                # grow a hair so that two points within eps are never 2 cells apart
                side = float(eps) * (1 + 1e-7)
                total = 1
                for k in np.argsort(-spread, kind="stable")[:3]:
                    e = spread[k] / side
                    if e < 1 or e >= 2**40 or total * (int(e) + 1) >= MAX_KEY:
                        continue
                    total *= int(e) + 1
                    dims.append(int(k))
            reach = math.ceil(float(eps) / side)
        self.dims = np.asarray(dims, dtype=np.int64)
        self.origin = lo[self.dims] if dims else np.zeros(0)
        self.side = side
        g = len(dims)
        self.extents = np.array([int(spread[k] / side) + 1 for k in dims], dtype=np.int64)
        strides = np.ones(g, dtype=np.int64)
        for k in range(g - 2, -1, -1):
            strides[k] = strides[k + 1] * self.extents[k + 1]
        self.strides = strides
        offs = []
        for o in product(range(-reach, reach + 1), repeat=g):
            gaps = [max(abs(v) - 1, 0) * side for v in o]
            if _gap_norm(gaps, code, p) <= eps * (1 + 1e-9):
                offs.append(o)
        offs.sort(key=lambda o: (sum(abs(v) for v in o), o))  # zero offset first
        self.offsets = np.asarray(offs, dtype=np.int64).reshape(len(offs), g)

        keys = np.zeros(n, dtype=np.int64)
        if g:
            grid_cell_keys(X, self.dims, self.origin, self.side, self.strides, keys)
        self.order = np.argsort(keys, kind="stable")
        skeys = keys[self.order]
        del keys
        bounds = np.flatnonzero(skeys[1:] != skeys[:-1]) + 1
        self.cell_start = np.concatenate(([0], bounds, [n])).astype(np.int64)
        self.cell_keys = np.ascontiguousarray(skeys[self.cell_start[:-1]])
        del skeys
        flag = np.empty(n + 1, dtype=np.bool_)
        grid_block_order(X, self.order, self.cell_start, BLOCK_ROWS, flag)
        self.block_start = np.flatnonzero(flag).astype(np.int64)
        del flag
        self.cell_block = np.searchsorted(self.block_start, self.cell_start).astype(np.int64)
        sizes = np.diff(self.cell_start)
        per = -(-sizes // ITEM_POINTS)
        self.item_cell = np.repeat(np.arange(len(sizes), dtype=np.int64), per)
        first_item = np.repeat(np.cumsum(per) - per, per)
        within = np.arange(len(self.item_cell), dtype=np.int64) - first_item
        self.item_lo = self.cell_start[self.item_cell] + within * ITEM_POINTS
        self.item_hi = np.minimum(self.item_lo + ITEM_POINTS, self.cell_start[self.item_cell + 1])

    @property
    def grid_args(self):
        return (self.cell_keys, self.cell_start, self.extents, self.strides, self.offsets)


def radius_neighbors_csr(X, radius, metric="euclidean", p=2.0, include_self=False):
    """All pairs of rows of X within ``radius``, as a sparse distance matrix.

    The same graph as ``sklearn.neighbors.radius_neighbors_graph(X, radius,
    mode="distance", include_self=include_self)`` for Minkowski metrics
    (a distance equal to the radius is included; entries hold true
    distances, 0 for duplicates), built from the grid index in two passes
    (count, then fill).

    Parameters
    ----------
    X : (n, d) float32/float64 ndarray, C-contiguous, finite (not validated).
    radius : float > 0.
    metric : {'euclidean', 'manhattan', 'chebyshev', 'minkowski', ...}
    p : float, Minkowski exponent (metric='minkowski').
    include_self : bool, default=False

    Returns
    -------
    graph : scipy.sparse.csr_matrix of shape (n, n), float64, sorted indices.

    Notes
    -----
    Time: the candidate pairs of neighbouring cells (see :class:`GridIndex`).
    Memory: O(nnz) for the output plus O(n d) for the index.
    """
    from scipy import sparse

    code, p = metric_code(metric, p)
    X = np.ascontiguousarray(X)
    n = X.shape[0]
    grid = GridIndex(X, radius, code, p, clique_ok=False)
    XT = np.ascontiguousarray(X[grid.order].T)
    boxes = np.empty((len(grid.block_start) - 1, 2, X.shape[1]), dtype=np.float64)
    grid_cell_boxes(np.ascontiguousarray(XT.T), grid.block_start, np.ones(n, np.bool_), boxes)
    reps = reduced_radius(radius, code, p)
    args = (XT, grid.cell_keys, grid.cell_start, grid.extents, grid.strides, grid.offsets,
            grid.item_cell, grid.item_lo, grid.item_hi, code, p, reps, grid.cell_block,
            grid.block_start, boxes, bool(include_self), grid.order)
    counts = np.empty(n, dtype=np.int64)
    empty_i = np.empty(0, np.int64)
    grid_radius_pairs(*args, empty_i, empty_i, np.empty(0), counts)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=np.int64)
    distances = np.empty(indptr[-1], dtype=np.float64)
    grid_radius_pairs(*args, indptr, indices, distances, counts)
    # rows are in sorted order: put them back in X's order
    graph = sparse.csr_matrix((distances, indices, indptr), shape=(n, n))
    inverse = np.empty(n, dtype=np.int64)
    inverse[grid.order] = np.arange(n)
    graph = graph[inverse]
    graph.sort_indices()
    return graph
