"""Distances of the grid kernels: reduced Minkowski distances, box gaps, metric codes.

Distances are exact: for the Minkowski family the kernels compare the
*reduced* distance (``sum |d|**p``; the squared distance for p=2, the max for
chebyshev, the plain sum for manhattan) with the reduced radius ``reps``,
always in float64 (float32 coordinates are widened before subtracting).

Metric codes: 0 euclidean, 1 manhattan, 2 chebyshev, 3 minkowski with ``p``
(:func:`metric_code` maps a name to its code, :func:`reduced_radius` eps to
``reps``).

Two layouts: row-major ``(n, d)`` (:func:`_within`, :func:`_rdist`,
:func:`_box_within`) and feature-major ``(d, n)`` for the passes that compare
one point with a run of :data:`CHUNK` points at once (:func:`_chunk_rdist`,
:func:`_box_within_t`); both sum the features in the same order, so they give
bit-identical distances.
"""

import math

import numpy as np
from numba import njit

_JIT = dict(cache=True, nogil=True)


@njit(**_JIT)
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


@njit(**_JIT)
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


@njit(**_JIT)
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


@njit(**_JIT)
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


@njit(**_JIT)
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
