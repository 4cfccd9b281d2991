"""The grid index: cells of points, their neighbour cells, blocks with bounding boxes.

The index (:class:`GridIndex`) is a grid over ``g`` selected coordinates:

* points are sorted by the linear key of their cell (``keys``), so the points
  of one cell are contiguous: cell ``c`` holds sorted rows
  ``cell_start[c]:cell_start[c + 1]`` and has key ``cell_keys[c]``;
* a cell's neighbours are the cells at the integer ``offsets`` (rows of an
  ``(n_offsets, g)`` array, the zero offset first) found by binary search in
  ``cell_keys`` (:func:`_neighbour_cells`);
* when the grid covers every coordinate and its cell diameter is at most
  eps (``clique=True``), all points of a cell are neighbours of each other,
  which the kernels use to skip distance computations;
* each cell is cut into blocks of nearby rows (:func:`grid_block_order`) whose
  bounding boxes (:func:`grid_cell_boxes`) let a point skip most non-neighbours.

Work is split into *items* (``item_cell``, ``item_lo``, ``item_hi``): a cell
or a slice of at most :data:`clusterlab._config.NEIGHBORS_ITEM_POINTS` points
of a big cell, so that ``prange`` balances well even when all points share one
cell (the brute-force case).
"""

import math
from itertools import product

import numpy as np
from numba import njit, prange
from clusterlab._kernels.row_groups import parallel_kernel
from clusterlab._kernels.search import lower_bound

from clusterlab import _config

from .metric import _JIT


#: Largest linear cell key the grid may use.
MAX_KEY = 2**62


@njit(**_JIT)
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
        pos = lower_bound(cell_keys, cell_keys.shape[0], nkey)
        if pos < cell_keys.shape[0] and cell_keys[pos] == nkey:
            out[m] = pos
            m += 1
    return m


@parallel_kernel(**_JIT)
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


@njit(**_JIT)
def _stable_argsort(vals, idx, tmp):
    """``idx`` := the stable ascending order of ``vals`` (``np.argsort(vals,
    kind="stable")``), by a bottom-up merge sort; ``tmp`` is scratch of the same
    length. (numba's own merge sort costs ~0.8 s more to compile.)"""
    m = vals.shape[0]
    for i in range(m):
        idx[i] = i
    src, dst = idx, tmp
    in_idx = True
    width = 1
    while width < m:
        for lo in range(0, m, 2 * width):
            mid = min(lo + width, m)
            hi = min(lo + 2 * width, m)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if vals[src[j]] < vals[src[i]]:  # ties keep the earlier element first
                    dst[k] = src[j]
                    j += 1
                else:
                    dst[k] = src[i]
                    i += 1
                k += 1
            while i < mid:
                dst[k] = src[i]
                i += 1
                k += 1
            while j < hi:
                dst[k] = src[j]
                j += 1
                k += 1
        src, dst = dst, src
        in_idx = not in_idx
        width *= 2
    if not in_idx:
        for i in range(m):
            idx[i] = src[i]


@parallel_kernel(**_JIT)
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
            idx = np.empty(hi - lo, np.int64)
            _stable_argsort(vals, idx, np.empty(hi - lo, np.int64))
            seg = order[lo:hi].copy()
            for r in range(hi - lo):
                order[lo + r] = seg[idx[r]]
            mid = lo + (hi - lo) // 2
            stack_lo[top] = lo
            stack_hi[top] = mid
            stack_lo[top + 1] = mid
            stack_hi[top + 1] = hi
            top += 2


@parallel_kernel(**_JIT)
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
    """A grid index over the rows of X: plain arrays for the kernels.

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
            # an eps so small (subnormal) that spread / side overflows to inf (or a
            # side that underflows to 0) is expected: such a coordinate is not gridded
            with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
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
        grid_block_order(X, self.order, self.cell_start, _config.NEIGHBORS_BLOCK_ROWS, flag)
        self.block_start = np.flatnonzero(flag).astype(np.int64)
        del flag
        self.cell_block = np.searchsorted(self.block_start, self.cell_start).astype(np.int64)
        sizes = np.diff(self.cell_start)
        item = _config.NEIGHBORS_ITEM_POINTS
        per = -(-sizes // item)
        self.item_cell = np.repeat(np.arange(len(sizes), dtype=np.int64), per)
        first_item = np.repeat(np.cumsum(per) - per, per)
        within = np.arange(len(self.item_cell), dtype=np.int64) - first_item
        self.item_lo = self.cell_start[self.item_cell] + within * item
        self.item_hi = np.minimum(self.item_lo + item, self.cell_start[self.item_cell + 1])

    @property
    def grid_args(self):
        return (self.cell_keys, self.cell_start, self.extents, self.strides, self.offsets)
