"""Yinyang's bounds: one lower bound per group of centres.

Centres are grouped once from the initial centres (the estimator's
:func:`clusterlab._core.kmeans_run.center_groups`); a group of centres is skipped for a point when the
point's upper bound is below that group's lower bound.
"""

import numba as nb
from clusterlab._kernels.row_groups import parallel_kernel
import numpy as np

from clusterlab._kernels.distances import sq_dist_rows
from clusterlab._kernels.kmeans.common import (
    _HI,
    _LO,
)

@nb.njit(cache=True, nogil=True)
def _yinyang_init_range(X, centers, group_of, n_cgroups, start, stop, labels, upper, glb):
    """Initial assignment with Yinyang bounds: ``glb[i, g]`` = distance to the
    nearest centre of group ``g`` other than the assigned one."""
    k = centers.shape[0]
    dist = np.empty(k)
    for i in range(start, stop):
        best = 0
        best_d = np.inf
        for j in range(k):
            dist[j] = sq_dist_rows(X, i, centers, j)
            if dist[j] < best_d:
                best_d = dist[j]
                best = j
        labels[i] = best
        upper[i] = np.sqrt(best_d)
        for g in range(n_cgroups):
            glb[i, g] = np.inf
        for j in range(k):
            if j != best:
                v = np.sqrt(dist[j])
                if v < glb[i, group_of[j]]:
                    glb[i, group_of[j]] = v


@parallel_kernel(cache=True, nogil=True)
def _yinyang_init_groups(X, centers, group_of, n_cgroups, bounds, labels, upper, glb):
    for g in nb.prange(bounds.shape[0] - 1):
        _yinyang_init_range(X, centers, group_of, n_cgroups, bounds[g], bounds[g + 1], labels,
                            upper, glb)


@nb.njit(cache=True, nogil=True)
def yinyang_assign_range(X, centers, shift, group_shift, group_of, members, group_start,
                         start, stop, labels, upper, glb, moved_from):
    """One Yinyang E-step for rows ``[start, stop)`` (serial).

    Centres are partitioned into groups; each row keeps an upper bound on the
    distance to its centre and one lower bound per group (on the distance to
    the group's centres other than the assigned one). A row is skipped when
    its upper bound is below every group bound; otherwise only the groups
    whose bound is below the (tightened) upper bound are scanned.

    Parameters
    ----------
    X : IN (n, d)
    centers : IN (k, d) float64
    shift : IN (k,) float64, distance each centre moved in the last M-step
    group_shift : IN (Gc,) float64, largest shift within each centre group
    group_of : IN (k,) int64, group of each centre
    members : IN (k,) int64, centres sorted by group (ascending index within a group)
    group_start : IN (Gc + 1,) int64, ``members[group_start[g]:group_start[g + 1]]`` is group g
    start, stop : IN int
    labels : INOUT (n,) int32
    upper : INOUT (n,) float64
    glb : INOUT (n, Gc) float64
    moved_from : OUT (n,) int32

    Returns
    -------
    n_changed : int

    References
    ----------
    Ding, Y. et al. "Yinyang K-Means: a drop-in replacement of the classic
    K-Means with consistent speedup", ICML 2015.
    """
    n_cg = group_start.shape[0] - 1
    # Skipping centres by their own shift saves distances now but leaves
    # looser group bounds for later iterations; measured slower overall.
    use_local_filter = False
    m1 = np.empty(n_cg)
    m2 = np.empty(n_cg)
    j1 = np.empty(n_cg, np.int64)
    skip_lb = np.empty(n_cg)
    old_lb = np.empty(n_cg)
    scanned = np.zeros(n_cg, np.bool_)
    n_changed = 0
    for i in range(start, stop):
        a = labels[i]
        moved_from[i] = -1
        u = upper[i] + shift[a]
        gl = np.inf
        for g in range(n_cg):
            old_lb[g] = glb[i, g]
            v = glb[i, g] - group_shift[g]
            glb[i, g] = v
            if v < gl:
                gl = v
        if u * _HI < gl * _LO:
            upper[i] = u
            continue
        da_sq = sq_dist_rows(X, i, centers, a)
        u = np.sqrt(da_sq)
        upper[i] = u
        if u * _HI < gl * _LO:
            continue
        best = a
        best_sq = da_sq
        best_d = u
        for g in range(n_cg):
            scanned[g] = False
            # group filter: every centre of g (but a) is farther than the best so far
            if glb[i, g] * _LO > best_d * _HI:
                continue
            scanned[g] = True
            b1 = np.inf
            b2 = np.inf
            bj = -1
            sk = np.inf
            for p in range(group_start[g], group_start[g + 1]):
                j = members[p]
                if j == a:
                    dsq = da_sq
                elif use_local_filter:
                    # local filter: the old group bound moved by this centre's own shift
                    lbj = old_lb[g] - shift[j]
                    if lbj * _LO > best_d * _HI:
                        if lbj < sk:
                            sk = lbj
                        continue
                    dsq = sq_dist_rows(X, i, centers, j)
                else:
                    dsq = sq_dist_rows(X, i, centers, j)
                if dsq < b1:
                    b2 = b1
                    b1 = dsq
                    bj = j
                elif dsq < b2:
                    b2 = dsq
            m1[g] = b1
            m2[g] = b2
            j1[g] = bj
            skip_lb[g] = sk
            if b1 < best_sq or (b1 == best_sq and bj < best):
                best = bj
                best_sq = b1
                best_d = np.sqrt(b1)
        for g in range(n_cg):
            if scanned[g]:
                v = np.sqrt(m2[g]) if j1[g] == best else np.sqrt(m1[g])
                glb[i, g] = v if v < skip_lb[g] else skip_lb[g]
        if best != a:
            ga = group_of[a]
            if not scanned[ga] and u < glb[i, ga]:
                glb[i, ga] = u
            labels[i] = best
            moved_from[i] = a
            upper[i] = np.sqrt(best_sq)
            n_changed += 1
    return n_changed


@parallel_kernel(cache=True, nogil=True)
def _yinyang_assign_groups(X, centers, shift, group_shift, group_of, members, group_start,
                           bounds, labels, upper, glb, moved_from, g_changed):
    for g in nb.prange(bounds.shape[0] - 1):
        g_changed[g] = yinyang_assign_range(X, centers, shift, group_shift, group_of, members,
                                            group_start, bounds[g], bounds[g + 1], labels,
                                            upper, glb, moved_from)


@nb.njit(cache=True, nogil=True)
def _group_max_shift(shift, group_of, group_shift):
    """``group_shift[g] = max shift[j]`` over the centres ``j`` of group ``g``."""
    group_shift[:] = 0.0
    for j in range(shift.shape[0]):
        if shift[j] > group_shift[group_of[j]]:
            group_shift[group_of[j]] = shift[j]
