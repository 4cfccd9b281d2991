"""DBSCAN's three passes over a grid index, in O(n) memory above the input.

No neighbourhood is ever stored: each pass re-enumerates the candidate pairs
from the grid (:mod:`.grid`) and keeps one value per point.

1. :func:`grid_core_points` -- weighted eps-neighbour counts -> core flags
   (parallel over work items);
2. :func:`grid_union_cores` -- union-find joining every pair of cores within
   eps (serial), numbered by :func:`.unionfind.label_components`;
3. :func:`grid_border_labels` -- each non-core point takes the smallest label
   among the cores within eps (parallel over work items).

Every point's result is computed by one thread in a fixed order, so labels do
not depend on the number of threads.
"""

import numpy as np
from numba import njit, prange
from clusterlab._kernels.row_groups import parallel_kernel
from clusterlab._kernels.search import lower_bound

from .grid import _neighbour_cells
from .metric import _JIT, CHUNK, _box_within, _box_within_t, _chunk_rdist, _rdist, _within
from .unionfind import _find, _union


@parallel_kernel(**_JIT)
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


@parallel_kernel(**_JIT)
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


@njit(**_JIT)
def grid_cell_labels(core_label, pos, cell_start, cell_keys, extents, strides, offsets,
                     cell_label, near_label):
    """The single label of each cell's cores, and of the cores of its neighbourhood.

    Parameters
    ----------
    core_label : (m,) int64, IN -- label of each core sample (row of ``components_``).
    pos : (m,) int64, IN -- sorted core -> row of ``components_``.
    cell_start, cell_keys, extents, strides, offsets : IN -- a grid over the cores.
    cell_label : (n_cells,) int64, OUT -- the label all cores of the cell
        carry, or -1 when they carry several.
    near_label : (n_cells,) int64, OUT -- the label all cores of the cell and
        of its neighbouring cells carry, or -1.

    Notes
    -----
    Serial, O(m + n_cells * n_offsets * log n_cells).
    """
    n_cells = cell_keys.shape[0]
    for c in range(n_cells):
        lab = core_label[pos[cell_start[c]]]
        for j in range(cell_start[c] + 1, cell_start[c + 1]):
            if core_label[pos[j]] != lab:
                lab = -1
                break
        cell_label[c] = lab
    buf = np.empty(offsets.shape[0], np.int64)
    for c in range(n_cells):
        lab = cell_label[c]
        if lab >= 0:
            m = _neighbour_cells(c, cell_keys, extents, strides, offsets, buf)
            for q in range(m):
                if cell_label[buf[q]] != lab:
                    lab = -1
                    break
        near_label[c] = lab


@njit(**_JIT)
def _cell_has_within(Q, i, C, pos, b, cell_block, block_start, boxes, metric, p, reps):
    """True when some indexed row (``C[pos[j]]``) of cell b is within the reduced radius.

    A plain call, not inlined into its two call sites: half the first predict's
    compile time (21 -> 10 s on the loaded machine) for ~15 % on the query pass.
    """
    for k in range(cell_block[b], cell_block[b + 1]):
        if not _box_within(Q, i, boxes, k, metric, p, reps):
            continue
        for j in range(block_start[k], block_start[k + 1]):
            if _within(Q, i, C, pos[j], metric, p, reps):
                return True
    return False


@parallel_kernel(**_JIT)
def grid_predict_labels(Q, C, pos, dims, origin, side, cell_keys, cell_start, extents,
                        strides, offsets, cell_block, block_start, boxes, metric, p, reps,
                        core_label, cell_label, near_label, out):
    """Label of the nearest core sample within eps of every query row (``DBSCAN.predict``).

    Parameters
    ----------
    Q : (m, d) float32/float64, IN -- queries.
    C : (n, d) float32/float64, IN -- the core samples (``components_``).
    pos : (n,) int64, IN -- sorted core -> row of ``C`` (grid order; among
        equidistant cores the smallest row of ``C`` wins).
    dims, origin, side : IN -- as in :func:`.grid.grid_cell_keys` (grid of the cores).
    cell_keys, cell_start, extents, strides, offsets : IN -- the grid.
    cell_block, block_start : (n_cells + 1,), (n_blocks + 1,) int64, IN -- blocks.
    boxes : (n_blocks, 2, d) float64, IN -- bounding box of each block.
    metric, p, reps : IN -- metric code, Minkowski p, reduced radius.
    core_label : (n,) int64, IN -- cluster label of each row of ``C``.
    cell_label, near_label : (n_cells,) int64, IN -- from :func:`grid_cell_labels`.
    out : (m,) int64, OUT -- label of the nearest core within eps, or -1.

    Notes
    -----
    Exactly the label of the nearest core (ties by rank), found without
    computing the nearest in the common case: the label is the nearest core's
    as soon as every core within eps carries one label. A query in a cell
    whose whole neighbourhood carries one label (``near_label``) only looks
    for one core within eps in its own cell; otherwise it asks each
    neighbouring cell whether it holds a core within eps (stopping at the
    first, skipping blocks by their boxes, and skipping outright cells whose
    single label is already known). Only when cores of two labels (or of a
    mixed cell) are within eps is the nearest computed over those cells.
    Each query is answered by one thread: results do not depend on the
    number of threads. Scratch: a ``g`` and an ``n_offsets`` buffer per query.
    """
    g = dims.shape[0]
    n_off = offsets.shape[0]
    for i in prange(Q.shape[0]):
        out[i] = -1
        cc = np.empty(g, np.int64)
        inside = True
        for k in range(g):
            f = np.floor((np.float64(Q[i, dims[k]]) - origin[k]) / side)
            if not (f >= -1.0 - n_off and f <= extents[k] + n_off):
                inside = False
                break
            cc[k] = np.int64(f)
        if not inside:
            continue
        # the own cell first (offsets start with zero): one lookup, one distance
        own = -1
        key = 0
        for k in range(g):
            if cc[k] < 0 or cc[k] >= extents[k]:
                key = -1
                break
            key += cc[k] * strides[k]
        if key >= 0:
            b = lower_bound(cell_keys, cell_keys.shape[0], key)
            if b < cell_keys.shape[0] and cell_keys[b] == key:
                own = b
        if own >= 0 and near_label[own] >= 0 and _cell_has_within(
                Q, i, C, pos, own, cell_block, block_start, boxes, metric, p, reps):
            out[i] = near_label[own]
            continue
        cells = np.empty(n_off, np.int64)
        m = 0
        for o in range(n_off):
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
            b = lower_bound(cell_keys, cell_keys.shape[0], nkey)
            if b < cell_keys.shape[0] and cell_keys[b] == nkey:
                cells[m] = b
                m += 1
        found = -1
        exact = False
        for q in range(m):
            b = cells[q]
            lab = cell_label[b]
            if lab >= 0 and lab == found:
                continue
            if not _cell_has_within(Q, i, C, pos, b, cell_block, block_start, boxes, metric,
                                    p, reps):
                continue
            if lab < 0 or found >= 0:
                exact = True
                break
            found = lab
        if not exact:
            out[i] = found
            continue
        best = -1
        best_d = np.inf
        for q in range(m):
            b = cells[q]
            for j in range(cell_start[b], cell_start[b + 1]):
                r = pos[j]
                dj = _rdist(Q, i, C, r, metric, p)
                if dj <= reps and (dj < best_d or (dj == best_d and r < best)):
                    best = r
                    best_d = dj
        out[i] = core_label[best]
