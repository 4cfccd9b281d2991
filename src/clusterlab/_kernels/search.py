"""Searches in sorted arrays, for kernels: binary search of an integer key,
and the running k smallest values of a k-nearest-neighbour search.

numba's ``np.searchsorted`` is general (any dtype, NaN ordering, complex
comparisons) and costs ~0.25 s to compile in every new process that uses it;
the kernels only look up integer keys in sorted ``int64`` arrays.
"""

from numba import njit


@njit(cache=True, nogil=True)
def lower_bound(a, hi, x):
    """First index ``i`` in ``[0, hi)`` with ``a[i] >= x`` (``hi`` when none).

    a : (>= hi,) sorted ascending, IN. The same as
    ``np.searchsorted(a[:hi], x)`` (side='left'). O(log hi).
    """
    lo = 0
    while lo < hi:
        mid = (lo + hi) >> 1
        if a[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True, inline="always")
def insert_smallest(buf, v):
    """Insert ``v`` into ``buf``, the ascending k smallest values so far,
    keeping its length (the largest drops; nothing when ``v`` is not below
    ``buf[-1]``). O(k)."""
    k = buf.shape[0]
    if v < buf[k - 1]:
        pos = k - 1
        while pos > 0 and buf[pos - 1] > v:
            buf[pos] = buf[pos - 1]
            pos -= 1
        buf[pos] = v
