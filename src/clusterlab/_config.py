"""The one place where chunk sizes and thread policy are decided.

Kernels that stream over rows take the number of rows per chunk as an
argument; estimators compute it here from a memory budget, so that every
algorithm's scratch memory is bounded by the same, documented constant.
"""

from contextlib import contextmanager

import numpy as np

#: Bytes of scratch memory one chunked kernel may use for a temporary block
#: (for example a chunk of the n_samples x n_clusters distance matrix).
WORKING_MEMORY_BYTES = 32 * 2**20

#: Lower and upper bounds on rows per chunk, whatever the budget says.
MIN_CHUNK_ROWS = 64
MAX_CHUNK_ROWS = 65536


def chunk_rows(n_cols, itemsize=8, budget=None):
    """Rows per chunk so that a ``(rows, n_cols)`` block fits the budget.

    Parameters
    ----------
    n_cols : int
        Width of the temporary block (e.g. ``n_clusters`` or ``n_features``).
    itemsize : int, default=8
        Bytes per element of the block.
    budget : int, optional
        Bytes allowed; defaults to :data:`WORKING_MEMORY_BYTES`.

    Returns
    -------
    rows : int
        Between :data:`MIN_CHUNK_ROWS` and :data:`MAX_CHUNK_ROWS`.

    >>> chunk_rows(1000, itemsize=8, budget=8 * 1000 * 100)
    100
    """
    budget = WORKING_MEMORY_BYTES if budget is None else budget
    rows = int(budget // max(1, int(n_cols) * int(itemsize)))
    return int(np.clip(rows, MIN_CHUNK_ROWS, MAX_CHUNK_ROWS))


_CONTROLLER = None


@contextmanager
def single_threaded_blas():
    """Limit BLAS to one thread while numba kernels use ``prange``.

    Numba's parallel kernels and a multi-threaded BLAS would otherwise both
    spread over every core at once and oversubscribe the machine (kernels
    that call ``np.dot`` from numba threads rely on this). The threadpool
    controller is built once per process (inspecting the loaded libraries
    costs milliseconds; a limit afterwards costs about 0.1 ms).
    """
    global _CONTROLLER
    if _CONTROLLER is None:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    with _CONTROLLER.limit(limits=1, user_api="blas"):
        yield


#: HDBSCAN with a non-euclidean metric builds the dense n x n distance matrix
#: (O(n^2) memory). It refuses, with a clear error, a matrix larger than this
#: many bytes; None means HDBSCAN_DENSE_MEMORY_FRACTION of the physical memory.
HDBSCAN_DENSE_MAX_BYTES = None
HDBSCAN_DENSE_MEMORY_FRACTION = 0.5
