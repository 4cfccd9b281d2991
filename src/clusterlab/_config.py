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


# ----------------------------------------------------------------------------
# K-Means: every threshold that picks a path (read by
# clusterlab._core.kmeans_plan.make_plan, the one function that decides).
# The measurements behind each figure are in benchmarks/NOTES.md.

#: Rows per row group of the K-Means kernels (partial sums are reduced group by group).
KMEANS_GROUP_ROWS = 4096
#: Below this many element operations (rows x centres x features) a pass runs
#: on one thread: starting a parallel region costs more than it saves.
KMEANS_PARALLEL_MIN_WORK = 1 << 23
#: Hamerly re-scans go through BLAS from this many centres on.
KMEANS_GEMM_RESCAN_MIN_K = 32
#: 'auto' runs Elkan for at most this many centres in at least this many
#: features (and when its n x k bounds fit KMEANS_ELKAN_BOUND_BUDGETS x the
#: working-memory budget); else Hamerly below KMEANS_YINYANG_MIN_K centres
#: (or when BLAS pays), else Yinyang.
KMEANS_ELKAN_MAX_K = 20
KMEANS_ELKAN_MIN_FEATURES = 128
KMEANS_ELKAN_BOUND_BUDGETS = 16
KMEANS_YINYANG_MIN_K = 100
#: Elkan keeps a 16-bit copy of X for its distance intervals up to this size.
KMEANS_ELKAN_INTERVAL_COPY_BYTES = 512 * 2**20
#: Hamerly's tightening stops once fewer than this share of the tightened rows
#: pass, when re-scans go through BLAS (scaled by 64 / k beyond 64 centres).
KMEANS_TIGHTEN_MIN_PASS_GEMM = 0.4
#: k-means++ keeps an (n, candidates) float64 buffer up to this size.
KPP_BUFFER_BYTES = WORKING_MEMORY_BYTES
#: Beyond the buffer, data with at most this many features (and at most
#: KPP_COLUMNAR_BYTES of it) is seeded from a transposed copy of X.
KPP_COLUMNAR_MAX_FEATURES = 24
KPP_COLUMNAR_BYTES = 512 * 2**20
#: Float32 rows with at least this many features are seeded by the float32
#: scoring kernel (when the candidates fill more than half of its lanes).
KPP32_MIN_FEATURES = 8
#: MiniBatchKMeans: below this much work (rows * n_clusters * n_features) a
#: pass over the data runs on one thread: waking numba's and BLAS's threads
#: costs more than the work, and much more on a busy machine.
MINIBATCH_PARALLEL_MIN_WORK = 50_000_000
