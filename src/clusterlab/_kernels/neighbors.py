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
