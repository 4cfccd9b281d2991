"""OPTICS kernels: core distances, the cluster ordering, the xi extraction.

The ordering follows scikit-learn's definition exactly (so that the same
input gives the same ``ordering_``): the next point is the unprocessed point
of smallest reachability, the smallest index among ties (``inf`` included);
a processed point whose core distance is finite lowers the reachability of
every unprocessed point within ``max_eps`` to ``max(d, core)``, rounded to 15
decimals the way :func:`numpy.around` rounds (``rint(x * 1e15) / 1e15``), and
only a strictly smaller value replaces the old one.

No neighbourhood is ever stored: :func:`optics_order_blocks` computes the
distances from the point being processed to the unprocessed points when it
needs them, so memory stays O(n). The rows are grouped in small spatial
blocks (the leaves of a k-d tree); a block is skipped when the distance to its
bounding box proves that none of its rows can get a smaller reachability, and
each block keeps its best unprocessed row so that the next point is found
among the blocks. Time is O(n^2 d) in the worst case (scikit-learn's loop is
O(n^2) too, with a radius query and an argmin in Python per point); on
low-dimensional data most blocks are skipped at most steps.

Metric codes (as :mod:`clusterlab._kernels.neighbors`): 0 euclidean,
1 manhattan, 2 chebyshev, 3 minkowski with ``p``.
"""

import numpy as np
from numba import njit, prange
from clusterlab._kernels.row_groups import parallel_kernel

from .neighbors.metric import _rdist
from .search import insert_smallest

_JIT = dict(cache=True, nogil=True)

#: Decimals scikit-learn rounds reachability and core distances to.
ROUND_SCALE = 1e15


@njit(inline="always", **_JIT)
def _from_reduced(s, metric, p):
    if metric == 0:
        return np.sqrt(s)
    if metric == 3:
        return s ** (1.0 / p)
    return s


@njit(inline="always", **_JIT)
def round15(x):
    """``numpy.around(x, 15)`` for one float64."""
    return np.rint(x * ROUND_SCALE) / ROUND_SCALE


@njit(inline="always", **_JIT)
def _reduced_gap(g, metric, p):
    """Reduced distance of a gap g along one coordinate (a lower bound)."""
    if metric == 0:
        return g * g
    if metric == 3:
        return g ** p
    return g


@parallel_kernel(**_JIT)
def knn_core_distances(Xs, key, k, metric, p, out):
    """Distance from each row to its k-th nearest row (itself counted first).

    Exact: the rows are sorted by one coordinate (``key``, ascending); each
    row scans outwards in that order and stops on each side when the gap along
    that coordinate alone exceeds its current k-th distance (a projection
    never increases a Minkowski distance). O(k) scratch per row.

    Parameters
    ----------
    Xs : (n, d) float64, C-contiguous, IN -- rows sorted by ``key``.
    key : (n,) float64, IN -- the sorting coordinate of each row (ascending).
    k : int, IN -- 1 <= k <= n.
    metric : int, IN -- metric code; p : float64, IN -- Minkowski exponent.
    out : (n,) float64, OUT -- the k-th smallest distance of each sorted row.
    """
    n = Xs.shape[0]
    for i in prange(n):
        out[i] = _kth_distance(Xs, key, i, k, metric, p)


@njit(**_JIT)
def _kth_distance(Xs, key, i, k, metric, p):
    """k-th smallest distance from sorted row i (see knn_core_distances)."""
    n = Xs.shape[0]
    i = np.int64(i)
    best = np.full(k, np.inf)  # sorted ascending, reduced distances
    lo = i - 1
    hi = i
    go_lo = True
    go_hi = True
    while go_lo or go_hi:
        if go_hi:
            if hi >= n or _reduced_gap(key[hi] - key[i], metric, p) > best[k - 1]:
                go_hi = False
            else:
                insert_smallest(best, _rdist(Xs, hi, Xs, i, metric, p))
                hi += 1
        if go_lo:
            if lo < 0 or _reduced_gap(key[i] - key[lo], metric, p) > best[k - 1]:
                go_lo = False
            else:
                insert_smallest(best, _rdist(Xs, lo, Xs, i, metric, p))
                lo -= 1
    return _from_reduced(best[k - 1], metric, p)


@njit(inline="always", **_JIT)
def _remove(rem, pos, m, i):
    """Drop point i from ``rem[:m]`` (swap with the last); returns the new m
    and the slot that received the last point."""
    k = pos[i]
    m -= 1
    last = rem[m]
    rem[k] = last
    pos[last] = k
    return m, k


@njit(inline="always", **_JIT)
def _box_lower_bound(x, lo_box, hi_box, b, metric, p):
    """A distance no larger than the one from x to any row inside box b.

    Per coordinate the gap to the box is computed with the same (monotone)
    floating-point operations as the distance itself, so it never exceeds the
    coordinate difference to a row of the box; the result is shrunk by a
    relative 1e-12 against any non-monotone rounding in ``**``."""
    s = 0.0
    for k in range(x.shape[0]):
        g = 0.0
        if x[k] < lo_box[b, k]:
            g = lo_box[b, k] - x[k]
        elif x[k] > hi_box[b, k]:
            g = x[k] - hi_box[b, k]
        if metric == 0:
            s += g * g
        elif metric == 1:
            s += g
        elif metric == 2:
            if g > s:
                s = g
        else:
            s += g ** p
    return _from_reduced(s, metric, p) * (1.0 - 1e-12)


@njit(inline="always", **_JIT)
def _scan_block(Xs, idx, xs, cur, cc, upd, max_eps, metric, p, lo, hi, done, rs, pred_s):
    """Relax the unprocessed rows lo:hi from row xs of Xs (when ``upd``); return their
    best (reachability, sample index, row) and their largest reachability."""
    bv = np.inf
    bi = np.int64(-1)
    bp = np.int64(-1)
    mx = -np.inf
    for t in range(lo, hi):
        if done[t]:
            continue
        r = rs[t]
        if upd:
            dd = _from_reduced(_rdist(Xs, t, Xs, xs, metric, p), metric, p)
            if dd <= max_eps:
                rd = round15(max(dd, cc))
                if rd < r:
                    r = rd
                    rs[t] = rd
                    pred_s[t] = cur
        j = idx[t]
        if bp < 0 or r < bv or (r == bv and j < bi):
            bv = r
            bi = j
            bp = t
        if r > mx:
            mx = r
    return bv, bi, bp, mx


@parallel_kernel(**_JIT)
def optics_order_blocks(Xs, idx, start, lo_box, hi_box, core_s, max_eps, metric, p, parallel,
                        ordering, reach, pred):
    """The OPTICS cluster ordering of feature rows grouped in spatial blocks.

    Each block keeps the best (reachability, index) and the largest
    reachability of its unprocessed rows. A processed core point relaxes a
    block only when the rounded ``max(lower bound of the distance to the
    block's box, core distance)`` is below the block's largest reachability
    (otherwise no row of the block can strictly improve) and the box is within
    ``max_eps``; the next point is the best of the blocks' bests. The result
    is exactly the unpruned loop's (scikit-learn's), for any thread count.

    Parameters
    ----------
    Xs : (n, d) float64, C-contiguous, IN -- rows in block order.
    idx : (n,) int64, IN -- sample index of each row of ``Xs``.
    start : (n_blocks + 1,) int64, IN -- block b is rows start[b]:start[b + 1].
    lo_box, hi_box : (n_blocks, d) float64, IN -- the blocks' bounding boxes.
    core_s : (n,) float64, IN -- core distances of the rows (rounded; inf: never core).
    max_eps : float64, IN; metric : int, IN; p : float64, IN
    parallel : bool, IN -- relax the blocks of a step in parallel.
    ordering : (n,) int64, OUT -- processing order (sample indices).
    reach : (n,) float64, OUT -- reachability by sample index.
    pred : (n,) int64, OUT -- predecessor by sample index (-1 for seeds).

    Scratch: O(n + n_blocks) (row flags, reachabilities and predecessors in
    block order, the block summaries).
    """
    n, d = Xs.shape
    nb = start.shape[0] - 1
    rs = np.full(n, np.inf)
    pred_s = np.full(n, -1, dtype=np.int64)
    done = np.zeros(n, dtype=np.bool_)
    block_of = np.empty(n, dtype=np.int64)
    left = np.empty(nb, dtype=np.int64)
    bval = np.full(nb, np.inf)
    bidx = np.empty(nb, dtype=np.int64)
    bpos = np.empty(nb, dtype=np.int64)
    bmax = np.full(nb, np.inf)
    x = np.empty(d)
    cur_s = 0
    for b in range(nb):
        left[b] = start[b + 1] - start[b]
        bidx[b] = n
        bpos[b] = -1
        for t in range(start[b], start[b + 1]):
            block_of[t] = b
            if idx[t] < bidx[b]:
                bidx[b] = idx[t]
                bpos[b] = t
            if idx[t] == 0:
                cur_s = t
    for step in range(n):
        cur = idx[cur_s]
        ordering[step] = cur
        done[cur_s] = True
        cb = block_of[cur_s]
        left[cb] -= 1
        if step == n - 1:
            break
        for k in range(d):
            x[k] = Xs[cur_s, k]
        cc = core_s[cur_s]
        upd = cc != np.inf
        if parallel:
            for b in prange(nb):
                if left[b] == 0:
                    continue
                scan = b == cb
                if upd and not scan:
                    lb = _box_lower_bound(x, lo_box, hi_box, b, metric, p)
                    scan = lb <= max_eps and round15(max(lb, cc)) < bmax[b]
                if scan:
                    v, i, t, mx = _scan_block(Xs, idx, cur_s, cur, cc, upd, max_eps, metric, p,
                                              start[b], start[b + 1], done, rs, pred_s)
                    bval[b] = v
                    bidx[b] = i
                    bpos[b] = t
                    bmax[b] = mx
        else:
            for b in range(nb):
                if left[b] == 0:
                    continue
                scan = b == cb
                if upd and not scan:
                    lb = _box_lower_bound(x, lo_box, hi_box, b, metric, p)
                    scan = lb <= max_eps and round15(max(lb, cc)) < bmax[b]
                if scan:
                    v, i, t, mx = _scan_block(Xs, idx, cur_s, cur, cc, upd, max_eps, metric, p,
                                              start[b], start[b + 1], done, rs, pred_s)
                    bval[b] = v
                    bidx[b] = i
                    bpos[b] = t
                    bmax[b] = mx
        bv = np.inf
        bi = n
        for b in range(nb):
            if left[b] > 0 and (bval[b] < bv or (bval[b] == bv and bidx[b] < bi)):
                bv = bval[b]
                bi = bidx[b]
                cur_s = bpos[b]
    for t in range(n):
        reach[idx[t]] = rs[t]
        pred[idx[t]] = pred_s[t]


@njit(**_JIT)
def optics_relax_select(dists, cur, cc, max_eps, rem, pos, m, reach, pred):
    """One step of the ordering from precomputed distances.

    Relaxes the unprocessed points ``rem[:m]`` from the point ``cur`` just
    processed (``dists[t]`` is the distance from ``cur`` to ``rem[t]``; skipped
    when ``cc``, its core distance, is inf), then removes the next point from
    ``rem`` and returns it with the new m.

    Parameters
    ----------
    dists : (m,) float64, IN; cur : int, IN; cc : float64, IN; max_eps : float64, IN
    rem, pos : (n,) int64, IN/OUT -- unprocessed points and their positions.
    m : int, IN -- number of unprocessed points (> 0).
    reach : (n,) float64, IN/OUT; pred : (n,) int64, IN/OUT
    """
    n = reach.shape[0]
    bv = np.inf
    bi = n
    upd = cc != np.inf
    for t in range(m):
        j = rem[t]
        r = reach[j]
        if upd:
            dd = dists[t]
            if dd <= max_eps:
                rd = round15(max(dd, cc))
                if rd < r:
                    r = rd
                    reach[j] = rd
                    pred[j] = cur
        if r < bv or (r == bv and j < bi):
            bv = r
            bi = j
    m, _ = _remove(rem, pos, m, bi)
    return bi, m


# ---------------------------------------------------------------------------
# Xi extraction (Ankerst et al. 1999, Fig. 19, with scikit-learn's corrections
# of Definitions 9 and 11 and Schubert & Gertz 2018's predecessor correction).
# ---------------------------------------------------------------------------


@njit(**_JIT)
def _region_end(steep, opposite, start, min_samples):
    """Last index of the maximal steep region starting at ``start``: it goes on
    over steep points and at most ``min_samples`` consecutive non-steep points
    that do not turn the other way."""
    n = steep.shape[0]
    flat = 0
    end = start
    i = start
    while i < n:
        if steep[i]:
            flat = 0
            end = i
        elif not opposite[i]:
            flat += 1
            if flat > min_samples:
                break
        else:
            return end
        i += 1
    return end


@njit(**_JIT)
def _predecessor_fix(r, pred_plot, ordering, s, e):
    """Shrink the end of cluster [s, e] until the plot drops at s relative to e
    or e's predecessor lies in the cluster; (-1, -1) when nothing is left."""
    while s < e:
        if r[s] > r[e]:
            return s, e
        pe = pred_plot[e]
        for i in range(s, e):
            if ordering[i] == pe:
                return s, e
        e -= 1
    return -1, -1


@njit(error_model="numpy", **_JIT)
def xi_clusters(r, pred_plot, ordering, xi, min_samples, min_cluster_size, correct, out):
    """Clusters of the reachability plot by the xi-steep method.

    Parameters
    ----------
    r : (n + 1,) float64, IN -- reachability in cluster order with an inf appended.
    pred_plot : (n,) int64, IN -- predecessors in cluster order.
    ordering : (n,) int64, IN
    xi : float64, IN; min_samples, min_cluster_size : int, IN; correct : bool, IN
    out : (cap, 2) int64, OUT -- clusters [start, end] (inclusive, indices of
        the plot), smaller nested clusters before the ones containing them.

    Returns the number of clusters written (at most ``cap``; -1 when ``out``
    was too small).
    """
    n = r.shape[0] - 1
    xc = 1.0 - xi
    steep_up = np.zeros(n, dtype=np.bool_)
    steep_down = np.zeros(n, dtype=np.bool_)
    up = np.zeros(n, dtype=np.bool_)
    down = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        a = r[i]
        b = r[i + 1]
        ratio = a / b  # inf/inf is nan: compares false everywhere
        steep_up[i] = ratio <= xc
        steep_down[i] = ratio >= 1.0 / xc
        down[i] = ratio > 1.0
        up[i] = ratio < 1.0
    sda_start = np.empty(n, dtype=np.int64)
    sda_end = np.empty(n, dtype=np.int64)
    sda_mib = np.empty(n)
    n_sda = 0
    found_s = np.empty(n, dtype=np.int64)
    found_e = np.empty(n, dtype=np.int64)
    n_out = 0
    cap = out.shape[0]
    index = 0
    mib = 0.0
    for si in range(n):
        if not (steep_up[si] or steep_down[si]) or si < index:
            continue
        for t in range(index, si + 1):
            if r[t] > mib:
                mib = r[t]
        # keep the steep down areas whose start is high enough above mib
        if mib == np.inf:
            n_sda = 0
        else:
            k = 0
            for q in range(n_sda):
                if mib <= r[sda_start[q]] * xc:
                    sda_start[k] = sda_start[q]
                    sda_end[k] = sda_end[q]
                    sda_mib[k] = max(sda_mib[q], mib)
                    k += 1
            n_sda = k
        if steep_down[si]:
            end = _region_end(steep_down, up, si, min_samples)
            sda_start[n_sda] = si
            sda_end[n_sda] = end
            sda_mib[n_sda] = 0.0
            n_sda += 1
            index = end + 1
            mib = r[index]
            continue
        u_start = si
        u_end = _region_end(steep_up, down, si, min_samples)
        index = u_end + 1
        mib = r[index]
        n_found = 0
        for q in range(n_sda):
            c_start = sda_start[q]
            c_end = u_end
            if r[c_end + 1] * xc < sda_mib[q]:
                continue
            d_max = r[sda_start[q]]
            if d_max * xc >= r[c_end + 1]:
                while r[c_start + 1] > r[c_end + 1] and c_start < sda_end[q]:
                    c_start += 1
            elif r[c_end + 1] * xc >= d_max:
                while r[c_end - 1] > d_max and c_end > u_start:
                    c_end -= 1
            if correct:
                c_start, c_end = _predecessor_fix(r, pred_plot, ordering, c_start, c_end)
                if c_start < 0:
                    continue
            if c_end - c_start + 1 < min_cluster_size:
                continue
            if c_start > sda_end[q]:
                continue
            if c_end < u_start:
                continue
            found_s[n_found] = c_start
            found_e[n_found] = c_end
            n_found += 1
        # the clusters of one up area: the last steep down area gives the smallest
        for q in range(n_found - 1, -1, -1):
            if n_out >= cap:
                return -1
            out[n_out, 0] = found_s[q]
            out[n_out, 1] = found_e[q]
            n_out += 1
    return n_out


@njit(**_JIT)
def xi_labels(ordering, clusters, labels):
    """Label the leaf clusters: a cluster gets a new label when none of its
    plot positions is labelled yet (clusters come smaller-first).

    ordering : (n,) int64, IN; clusters : (c, 2) int64, IN;
    labels : (n,) int64, OUT -- per sample (not per plot position), -1 noise.
    """
    n = ordering.shape[0]
    plot = np.full(n, -1, dtype=np.int64)
    label = 0
    for c in range(clusters.shape[0]):
        s = clusters[c, 0]
        e = clusters[c, 1]
        free = True
        for i in range(s, e + 1):
            if plot[i] != -1:
                free = False
                break
        if free:
            for i in range(s, e + 1):
                plot[i] = label
            label += 1
    for i in range(n):
        labels[ordering[i]] = plot[i]
