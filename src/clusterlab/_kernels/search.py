"""Binary search in a sorted integer array, for kernels.

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
