"""The one place where chunk sizes and thread policy are decided.

Kernels that stream over rows take the number of rows per chunk as an
argument; estimators compute it here from a memory budget, so that every
algorithm's scratch memory is bounded by the same, documented constant.
"""

import contextvars
import os
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


#: Ward's linkage without connectivity runs on a condensed distance matrix
#: (O(n²) memory, distances from BLAS products; clusterlab.cluster.
#: feature_agglomeration) from this many points in at least this many
#: dimensions, when the matrix takes at most WARD_DENSE_MAX_BYTES and half the
#: free memory; else on centroids (O(n d) memory, O(n d) per chain step).
#: Measured (2 cores): 5000 points x 500 dims, centroids 19.8 s, condensed 3.8 s.
WARD_DENSE_MIN_POINTS = 200
WARD_DENSE_MIN_FEATURES = 16
WARD_DENSE_MAX_BYTES = 8 * 2**30


@contextmanager
def numba_threads(n_jobs):
    """Run numba's parallel kernels on ``n_jobs`` threads (scikit-learn's ``n_jobs``
    convention: None leaves numba's setting, -1 all threads, -2 all but one),
    never more than ``NUMBA_NUM_THREADS`` nor than :func:`available_cores`; the
    previous count is restored after."""
    if n_jobs is None:
        yield
        return
    if n_jobs == 0:  # joblib's message (scikit-learn raises it from Parallel)
        raise ValueError("n_jobs == 0 in Parallel has no meaning")
    import numba

    limit = min(numba.config.NUMBA_NUM_THREADS, available_cores())
    n = n_jobs if n_jobs > 0 else max(1, limit + 1 + n_jobs)
    n = int(min(max(n, 1), limit))
    old = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(old)


_CONTROLLER = None


def _controller():
    """The process's threadpoolctl controller, built once (inspecting the loaded
    libraries costs milliseconds; a limit afterwards costs about 0.1 ms)."""
    global _CONTROLLER
    if _CONTROLLER is None:
        import scipy.linalg.cython_blas  # noqa: F401 - numba's np.dot calls scipy's BLAS:
        from threadpoolctl import ThreadpoolController  # load it so the limit covers it

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER


def _blas_pools():
    """``(numba's, others)``: threadpoolctl controllers of the BLAS library
    numba's kernels call (scipy's, through ``scipy.linalg.cython_blas``) and
    of the others loaded beside it; None where there is one library for all
    (conda, MKL, a system OpenBLAS) or no way to tell which is scipy's. pip's
    wheels ship two OpenBLAS builds, numpy's (in ``numpy.libs``) and scipy's
    (in ``scipy.libs``), each with its own threads."""
    import scipy

    ctl = _controller()
    blas = [c for c in ctl.lib_controllers if c.user_api == "blas"]
    root = os.path.dirname(os.path.abspath(scipy.__file__))
    homes = (root + os.sep, root + ".libs" + os.sep)
    scipys = [c.filepath for c in blas if os.path.abspath(c.filepath).startswith(homes)]
    others = [c.filepath for c in blas if c.filepath not in scipys]
    if not scipys or not others:
        return None
    return ctl.select(filepath=scipys), ctl.select(filepath=others)


#: numba's BLAS pool while :func:`one_blas_pool` holds the others to one thread
_ONE_POOL = contextvars.ContextVar("clusterlab_one_blas_pool", default=None)


@contextmanager
def one_blas_pool():
    """Every BLAS library but the one numba's kernels call held to one thread
    for the block (:func:`_blas_pools`; nothing where there is one library);
    :func:`blas_threads` inside then sizes only numba's.

    OpenBLAS's threads spin for a while after each call before they sleep. A
    numpy product or factorisation on numpy's own two threads right before a
    numba pass whose products run on scipy's BLAS threads left numpy's
    spinning on the same cores: measured (1500 x 256 float64, k=8, full
    covariances, 2 cores) the pass took 51 ms alone, 100-145 ms right after a
    numpy ``A @ A`` or ``eigvalsh`` of 256 x 256 on two threads, 51-58 ms with
    numpy's BLAS on one."""
    pools = _blas_pools() if _ONE_POOL.get() is None else None
    if pools is None:
        yield
        return
    numbas, others = pools
    token = _ONE_POOL.set(numbas)
    try:
        with others.limit(limits=1):
            yield
    finally:
        _ONE_POOL.reset(token)


@contextmanager
def single_threaded_blas():
    """Limit BLAS to one thread while numba kernels use ``prange``.

    Numba's parallel kernels and a multi-threaded BLAS would otherwise both
    spread over every core at once and oversubscribe the machine (kernels
    that call ``np.dot`` from numba threads rely on this).
    """
    with _controller().limit(limits=1, user_api="blas"):
        yield


# ---------------------------------------------------------------------------
# Thread policy on a busy machine (issue 22: no collapse under load).
# Measured on the shared 2-core machine (benchmarks/NOTES.md, "No collapse
# under load"): numba's parallel kernels (TBB work stealing) lose little when
# other processes take the cores, and 2 threads still beat 1 there; OpenBLAS's
# threaded LAPACK (Cholesky, LU, triangular solves with thin blocks) spins at
# every synchronisation while its other thread waits for a core, and a
# 4000 x 4000 Cholesky took 4-20 s on 2 threads against 1.0-3.6 s on one
# whenever anything else was runnable. Large GEMMs keep their threads (2
# threads still won under load: 1.4-2.2 s against 2.4-3.5 s).
# ---------------------------------------------------------------------------

#: Size sync-heavy BLAS/LAPACK work (factorisations and solves) by the cores
#: that are free right now (:func:`free_cores`); False: by the cores available.
LOAD_AWARE_FACTORIZATION = True


def _proc_field(path, field):
    """A ``kB`` field of a /proc file (``MemAvailable`` of /proc/meminfo,
    ``VmSize`` of /proc/self/status) in bytes, or None."""
    try:
        with open(path) as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


#: K-Means bounds (Elkan's n x k, Yinyang's n x k/10) above this many bytes are
#: compared with :func:`available_memory` before they are allocated
BOUNDS_CHECK_BYTES = 64 << 20


def available_memory():
    """Bytes this process may still allocate (None where the platform does not
    say): what a refusal to allocate a large table compares with.

    The smallest of the memory the system can give without swapping
    (``MemAvailable``, else the free pages), what is left under a cgroup v2
    limit (``memory.max`` minus ``memory.current``) and under the process's
    own limits (``RLIMIT_AS`` minus its address space, ``RLIMIT_DATA`` minus
    its data segment: ``ulimit -v``, ``prlimit --as``).
    """
    found = []
    physical = _proc_field("/proc/meminfo", "MemAvailable")
    if physical is None:
        try:
            physical = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # not on this platform
            physical = None
    if physical is not None:
        found.append(physical)
    try:
        with open("/sys/fs/cgroup/memory.max") as fh:
            cap = fh.read().strip()
        if cap != "max":
            with open("/sys/fs/cgroup/memory.current") as fh:
                found.append(max(0, int(cap) - int(fh.read().strip())))
    except (OSError, ValueError):
        pass
    try:
        import resource

        for limit, used in ((resource.RLIMIT_AS, "VmSize"), (resource.RLIMIT_DATA, "VmData")):
            soft = resource.getrlimit(limit)[0]
            if soft != resource.RLIM_INFINITY and soft > 0:
                found.append(max(0, soft - (_proc_field("/proc/self/status", used) or 0)))
    except (ImportError, OSError, ValueError, AttributeError):  # pragma: no cover
        pass
    return min(found) if found else None



#: a need below this many bytes is not compared with :func:`available_memory`
#: (no /proc read for small work)
MEMORY_CHECK_FLOOR_BYTES = 64 << 20


def refuse_beyond_memory(need, describe, floor=0):
    """Raise ``MemoryError(describe(avail))`` when ``need`` bytes exceed
    :func:`available_memory` (``avail``); a need at or below ``floor`` bytes
    is not checked. The one place the refusals of work that cannot fit read
    the memory left."""
    if need <= floor:
        return
    avail = available_memory()
    if avail is not None and need > avail:
        raise MemoryError(describe(avail))

def available_cores():
    """Cores this process may run on: its CPU affinity (``os.sched_getaffinity``),
    capped by a cgroup v2 CPU quota (``cpu.max``) when one is set; >= 1."""
    import os

    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        n = os.cpu_count() or 1
    try:
        with open("/sys/fs/cgroup/cpu.max") as fh:
            quota, period = fh.read().split()[:2]
        if quota != "max":
            n = min(n, max(1, -(-int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return max(1, n)


def _own_running_threads():
    """Threads of this process in state R (running or runnable) right now."""
    import os

    count = 0
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return 1
    for tid in tasks:
        try:
            with open(f"/proc/self/task/{tid}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        count += stat[stat.rindex(")") + 2] == "R"
    return max(count, 1)


def other_runnable_threads():
    """Runnable threads of *other* processes right now, system-wide (the first
    number of the fourth field of ``/proc/loadavg`` minus this process's running
    threads); None where that file does not exist. An instantaneous count (about
    0.1 ms), not the minute-averaged load, which would count our own threads."""
    try:
        with open("/proc/loadavg") as fh:
            running = int(fh.read().split()[3].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None
    return max(0, running - _own_running_threads())


#: free_cores() reads the runnable count this many times, this many seconds
#: apart, and keeps the busiest reading: one reading taken in a lull would give a
#: factorisation threads that then wait for busy cores (a 10x loss), while a
#: missed free core costs at most the parallel speed-up.
FREE_CORES_SAMPLES = 3
FREE_CORES_INTERVAL_S = 0.002


def free_cores(samples=None):
    """Available cores (:func:`available_cores`) not taken by other runnable
    threads right now: ``clip(cpu_count - others, 1, available_cores())``, with
    ``others`` the largest of ``samples`` (default FREE_CORES_SAMPLES) readings
    of :func:`other_runnable_threads`; all available cores where it is unknown.
    ``samples=1`` reads once, without sleeping (~0.1 ms instead of ~4 ms), for
    work of a few tens of milliseconds."""
    import os
    import time

    held = _LOAD_READING.get()
    if held is not None:
        return held
    avail = available_cores()
    others = None
    for i in range(FREE_CORES_SAMPLES if samples is None else max(1, int(samples))):
        if i:
            time.sleep(FREE_CORES_INTERVAL_S)
        now = other_runnable_threads()
        if now is None:
            return avail
        others = now if others is None else max(others, now)
    if others is None:
        return avail
    return int(min(max((os.cpu_count() or avail) - others, 1), avail))


#: the reading of free_cores() held by an enclosing one_load_reading (None: none)
_LOAD_READING = contextvars.ContextVar("clusterlab_load_reading", default=None)


@contextmanager
def one_load_reading():
    """:func:`free_cores` read once for the whole block: inside it, every call
    returns that reading instead of reading the load again (a reading takes
    ~4 ms; an EM fit on many features sizes BLAS by it at every pass and every
    factorisation). Nested blocks keep the outer reading."""
    if _LOAD_READING.get() is not None:
        yield
        return
    token = _LOAD_READING.set(free_cores())
    try:
        yield
    finally:
        _LOAD_READING.reset(token)


def factorization_threads():
    """BLAS threads for sync-heavy LAPACK work (factorisations, solves with thin
    blocks): :func:`free_cores` when :data:`LOAD_AWARE_FACTORIZATION`, else
    :func:`available_cores`."""
    return free_cores() if LOAD_AWARE_FACTORIZATION else available_cores()


@contextmanager
def blas_threads(n):
    """BLAS on ``n`` threads (threadpoolctl) for the block; when ``n > 1``, numba's
    parallel kernels called inside run on one thread, so that the two pools never
    spread over the cores at once. Previous settings are restored after."""
    n = max(1, int(n))
    import numba

    old = numba.get_num_threads()
    pool = _ONE_POOL.get()  # inside one_blas_pool: only numba's BLAS
    with (_controller() if pool is None else pool).limit(limits=n, user_api="blas"):
        if n > 1 and old > 1:
            numba.set_num_threads(1)
        try:
            yield
        finally:
            if numba.get_num_threads() != old:
                numba.set_num_threads(old)


@contextmanager
def factorization_blas():
    """:func:`blas_threads` of :func:`factorization_threads`: around Cholesky /
    LU factorisations and the solves and small QRs / eigh that follow them."""
    with blas_threads(factorization_threads()):
        yield


#: The silhouette's Euclidean, squared Euclidean and cosine distance sums come
#: from BLAS products from this many features on (float64 / float32 input;
#: clusterlab._kernels.silhouette.cluster_distance_sums_gemm), else from the
#: direct kernels. Measured (2 cores, 10 clusters): 8000 x 24 float64 236 ->
#: 185 ms, 5000 x 100 387 -> 100 ms, 3000 x 784 float32 601 -> 119 ms; equal at
#: 16-20 float64 features, slower below 32 float32 ones (the product runs in
#: float64, the direct kernel in float32).
SILHOUETTE_GEMM_MIN_FEATURES = 24
SILHOUETTE_GEMM_MIN_FEATURES_FLOAT32 = 32


#: Rows per spatial block of OPTICS's ordering kernel (a block is skipped
#: when its bounding box proves that no row in it can be improved).
OPTICS_BLOCK_ROWS = 64
#: OPTICS inputs with at least this many rows relax the blocks of each step in
#: parallel (below, a parallel launch per step costs more than it saves).
OPTICS_PARALLEL_MIN = 4096
#: Mean shift: grid cells per bandwidth along each indexed axis (cell side
#: bandwidth / this), and at most this many cells per point (the side grows
#: when the data spans too many cells). Each cell stores its bounding box and
#: coordinate sum, so a cell inside the ball costs O(d), not O(points).
MEAN_SHIFT_CELLS_PER_BANDWIDTH = 8.0
MEAN_SHIFT_MAX_CELLS_PER_POINT = 0.5
#: Rows per block of estimate_bandwidth (scikit-learn sums 500-row batches).
MEAN_SHIFT_BANDWIDTH_BLOCK_ROWS = 500

#: Affinity propagation: the most bytes its n x n matrices may take (None: a
#: share, below, of the memory the system reports available at fit time).
AFFINITY_PROPAGATION_MAX_BYTES = None
AFFINITY_PROPAGATION_MEMORY_SHARE = 0.8

#: Rows are split into this many parts (a fixed number, so results do not
#: depend on the thread count) from this many samples on; below it one part
#: sums the column sums in numpy's exact order.
AFFINITY_PROPAGATION_ROW_PARTS = 16
AFFINITY_PROPAGATION_PARALLEL_MIN_ROWS = 1000

#: Birch: most leaf subclusters for an exact global (Ward) step; above, the
#: subclusters are summarised first (an approximation, with a warning).
BIRCH_EXACT_GLOBAL_MAX_SUBCLUSTERS = 20_000

#: Birch labels: below this many (sample, subcluster) pairs the nearest
#: subcluster is found by blocked BLAS products (scikit-learn's formula);
#: above, by a grid over the centres seeded with a descent of the CF-tree.
BIRCH_GRID_SEARCH_MIN_PAIRS = 2 * 10**8
#: HDBSCAN with a non-euclidean metric builds the dense n x n distance matrix
#: (O(n^2) memory). It refuses, with a clear error, a matrix larger than this
#: many bytes; None means HDBSCAN_DENSE_MEMORY_FRACTION of the physical memory
#: (and at most what available_memory says the process may still take).
HDBSCAN_DENSE_MAX_BYTES = None
HDBSCAN_DENSE_MEMORY_FRACTION = 0.5
#: HDBSCAN on euclidean feature data builds its minimum spanning tree by
#: Prim's algorithm on the points (O(n^2 d) time, O(n d) memory, as
#: scikit-learn), its core distances from products with the points, instead
#: of the KD-tree's queries and Borůvka's algorithm on it, from this many
#: features, where the tree prunes badly -- up to HDBSCAN_PRIM_MAX_SAMPLES
#: points below HDBSCAN_PRIM_ANY_SAMPLES_FEATURES features (Prim's n^2 grows
#: faster than Borůvka's work on structured data). The spanning tree with its
#: core distances, Borůvka -> Prim, 2 cores (overlapping blobs / separated /
#: uniform): 10000 x 20 0.39 / 0.17 / 0.40 -> 0.20 s each; 30000 x 20 2.40 /
#: 0.98 / 3.93 -> 1.46 / 1.49 / 1.55 s; 30000 x 24 5.42 / 1.75 / 4.36 -> 1.9 s
#: each; at 16 features mixed (10000: 0.24 / 0.13 / 0.32 -> 0.18 s), at 12 and
#: below Borůvka (100000 x 8: 1.1 against 11 s).
HDBSCAN_PRIM_MIN_FEATURES = 20
HDBSCAN_PRIM_MAX_SAMPLES = 50000
HDBSCAN_PRIM_ANY_SAMPLES_FEATURES = 32
#: ... and on small data, n^2 (d + 8) up to this (a few milliseconds): there
#: Prim costs about what Borůvka does, and it is scikit-learn's tree exactly
#: even where many equal distances leave it a choice (rows on an integer grid:
#: Borůvka's tree put in Prim's order numbered the clusters differently).
HDBSCAN_PRIM_SMALL_WORK = 4 * 10**7

# ===========================================================================
# Neighbours (DBSCAN), hierarchical and spectral clustering
# (kept apart from the K-Means section above so that both can change alone)
# ===========================================================================

#: Points per parallel work item of the grid kernels (a cell, or a slice of a
#: crowded cell), so that ``prange`` balances even when every point shares
#: one cell.
NEIGHBORS_ITEM_POINTS = 256

#: Rows per block inside a grid cell; each block's bounding box lets a point
#: skip the block when it is farther than eps.
NEIGHBORS_BLOCK_ROWS = 32

#: The condensed Euclidean distance matrix of more samples than this is filled
#: by LINKAGE_CONDENSED_BLOCKS parallel blocks of equal pair counts (one block,
#: the same range function, below it).
LINKAGE_PARALLEL_MIN_SAMPLES = 256
LINKAGE_CONDENSED_BLOCKS = 8
#: Ward linkage without connectivity on at least this many features runs the
#: NN-chain on the condensed distance matrix (as scipy, O(n^2) memory) while that
#: matrix takes at most LINKAGE_WARD_CONDENSED_MAX_BYTES; otherwise on centroids
#: (O(n d) memory, but O(n^2 d) time). Measured (2 cores; centroids / condensed):
#: 3000 x 64 175 / 223 ms, 3000 x 128 468 / 299 ms, 2000 x 784 1540 / 335 ms
#: (scikit-learn 711-872 ms).
LINKAGE_WARD_CONDENSED_MIN_FEATURES = 96
LINKAGE_WARD_CONDENSED_MAX_BYTES = 512 * 2**20
#: Complete, average and Ward linkage without connectivity of at most this many
#: samples run their kernels' Python source in the interpreter instead of
#: compiling them (clusterlab._kernels.interpret; the same merges and heights,
#: bit for bit): 4 points 0.1-0.7 ms, 64 points ~8 ms, against ~1.8 s of
#: compilation in a new environment (the README's four points).
LINKAGE_INTERPRET_MAX_SAMPLES = 64
#: Seconds a process may spend in interpreted kernels (all of them together)
#: before small inputs too take the compiled kernels: a loop over many tiny
#: fits then pays one compilation instead of the interpreter on every call.
INTERPRET_BUDGET_S = 0.5

#: Spectral clustering. Up to this many samples the RBF affinity is the exact
#: dense n x n matrix (as scikit-learn's); above it, the sparse thresholded one.
SPECTRAL_DENSE_RBF_MAX_SAMPLES = 5000

#: Affinities below this value are dropped from the sparse RBF affinity, so that
#: it equals the dense one up to this tolerance entrywise; the radius of the
#: search is ``sqrt(-ln(SPECTRAL_RBF_SPARSE_TOL) / gamma)``.
SPECTRAL_RBF_SPARSE_TOL = 1e-8

#: The most memory an affinity (with the Laplacian and factorisation built from
#: it) may take; fit fails early, saying how much it would need, above it.
SPECTRAL_MAX_AFFINITY_BYTES = 4 * 2**30

#: Bytes per stored entry of a sparse affinity over the whole pipeline: the pair
#: list, the symmetric CSR affinity, the Laplacian and the solver's working
#: copies (a deliberately pessimistic figure).
SPECTRAL_BYTES_PER_SPARSE_ENTRY = 48

#: Dense connected graphs of at least this many samples with a wide kernel first
#: try a short Lanczos run (no factorisation).
SPECTRAL_LANCZOS_MIN_SAMPLES = 1500

#: A sparse affinity with at least SPECTRAL_SPARSE_ITERATIVE_MIN_SAMPLES samples
#: *and* at least SPECTRAL_SPARSE_ITERATIVE_MIN_ROW_NNZ stored entries per row
#: (on average) is embedded without any factorisation: the sparse LU's fill
#: grows too fast there (10^5 moons, sparse RBF with ~250 entries per row:
#: > 500 s). k-NN graphs (~15 per row) keep the LU, which is quick for them.
SPECTRAL_SPARSE_ITERATIVE_MIN_SAMPLES = 20_000
SPECTRAL_SPARSE_ITERATIVE_MIN_ROW_NNZ = 64

#: Below this many samples the spectral embedding's factorisation, solves and
#: QRs run on one BLAS thread: on 2 cores, after numba's parallel Laplacian, two
#: BLAS threads made the seed's 1000-point moons 2-4x slower and erratic.
SPECTRAL_SMALL_BLAS_SAMPLES = 3000
#: The dense affinity's kernels (RBF, normalised Laplacian, component count)
#: run on numba's threads from this many samples; below, on one thread. Whole
#: fits of moons, gamma=100, parallel -> serial: 1000 points 42 -> 30 ms, 1500
#: 96 -> 76 ms, 2000 129 -> 144 ms; and a first run in a new environment then
#: compiles only the serial variants (1000 moons: first fit 5.2 -> 4.4 s).
SPECTRAL_DENSE_THREADS_MIN_SAMPLES = 2000

#: DBSCAN inputs with fewer values (n_samples * n_features) run on one thread
#: when n_jobs=None: starting threads costs more than the work.
DBSCAN_SERIAL_BELOW = 100_000
#: DBSCAN with the Euclidean metric on at least this many features tests radii
#: from BLAS products, a block of rows against all rows (exact where they decide;
#: clusterlab._kernels.neighbors.products) instead of a grid over three coordinates.
#: Measured (2 cores, 20 Gaussian blobs; grid -> products): 5000 x 100 1051 -> 103
#: ms, 3000 x 50 114-172 -> 24-35 ms, 10000 x 32 503-548 -> 247-278 ms, 20000 x 24
#: 1550 -> 1039 ms; at 20 features the grid is faster for a small eps (10000 x 20,
#: eps 2: 163 against 215 ms).
DBSCAN_PRODUCTS_MIN_FEATURES = 24
#: ... and below that, from DBSCAN_SHARE_MIN_FEATURES features, when the grid
#: over three coordinates would leave at least this share of all pairs to test
#: (estimated on a sample: pairs within two cells on each grid coordinate).
#: Overlapping clusters with eps near the spread of a coordinate (~30
#: neighbours a row; warm, same process, grid -> products, scikit-learn):
#: 20000 x 20 share 1.0: 8.81 -> 0.81 s, 0.93 s; 50000 x 10 share 0.82: 7.13
#: -> 4.27 s, 19.2 s; but 20000 x 6 share 0.50: 0.28 -> 0.95 s (the grid's exact
#: distances are cheap in few features), hence both limits.
DBSCAN_PRODUCTS_MIN_SHARE = 0.5
DBSCAN_SHARE_MIN_FEATURES = 10
#: ... and keeps the neighbour lists of its first pass (4 bytes a pair) up to this
#: many bytes, for the union-find and border passes; beyond, those passes compute
#: the products again (O(n) memory).
DBSCAN_NEIGHBOUR_LIST_BYTES = 256 * 2**20
#: DBSCAN on small dense data (n_samples**2 * n_features at most this much)
#: takes its radius tests from numpy's distances, a block of rows at a time
#: (the operations of the grid kernels: the same labels), through the kernels
#: of precomputed distances: ~1.3 s of compilation in a new environment
#: instead of the grid's ~5 s, at ~10 ms of work (1000 x 2: 8 ms warm against
#: the grid's 1 ms). Euclidean, Manhattan and Chebyshev distances.
DBSCAN_DIRECT_MAX_WORK = 2**22
#: DBSCAN.predict with at most this many (query, core sample) pairs computes
#: every distance with numpy instead of asking the fit's grid: microseconds of
#: work (4 queries against 950 cores: 0.1 ms), where the grid's predict kernels
#: cost ~1.7 s of compilation in a new environment. Euclidean, Manhattan and
#: Chebyshev distances only (the same operations as the kernels: same labels).
DBSCAN_PREDICT_DIRECT_MAX_PAIRS = 2**16
# ----------------------------------------------------------------------------
# K-Means: every threshold that picks a path (read by
# clusterlab._core.kmeans_plan.make_plan, the one function that decides).
# The measurements behind each figure are in benchmarks/NOTES.md.

#: Rows per row group of the K-Means kernels (partial sums are reduced group by group).
KMEANS_GROUP_ROWS = 4096
#: ... and at most this much work (rows x (centres + 2) x features) per group of
#: a fit's passes, so that a few thousand wide rows run on every thread (4000 x
#: 784, k=10: one group of 4000 rows before, 16 groups of 250 now; at most 16
#: groups come from this rule). Lighter passes (a few ms) stay in one group: on
#: threads they would gain little and a first run would compile the parallel
#: kernels for them (digits, 1797 x 64, k <= 30, stays serial).
KMEANS_GROUP_WORK = 1 << 23
#: Below this much work a pass runs on one thread: starting a parallel region
#: costs more than it saves. An assignment pass counts rows x (centres + 2) x
#: features (:func:`clusterlab._core.kmeans_plan.pass_work`: at k=2 a row's
#: statistics cost as much as its distances); k-means++ and the moments pass
#: count their own element operations. Two-centre passes of 8000-32000 rows,
#: 16 features, run 1.3x faster on two threads (benchmarks/NOTES.md).
KMEANS_PARALLEL_MIN_WORK = 1 << 19

#: K-Means' tolerance scale (the mean feature variance) comes from numpy's
#: ``np.var`` up to this many elements of X, and the count of distinct labels
#: from ``np.bincount`` up to this many rows: a first fit of small data then
#: compiles two kernels less (~0.6 s). numpy is the slower of the two (5000 x 32
#: float32: 0.36 ms against the kernel's 0.11 ms), at most ~0.1 ms a fit here.
KMEANS_NUMPY_MAX_SIZE = 1 << 16

#: ``algorithm="auto"`` runs plain Lloyd when n_samples * n_clusters *
#: n_features is below this: a Lloyd pass then costs under a millisecond, the
#: bounds save almost nothing (measured: the analysis's K-Means sweep of
#: five-blobs, 2000 x 2, k = 2..54, n_init=10: Lloyd 0.37 s, Hamerly 0.32 s),
#: and Lloyd's kernels compile in half the time of Hamerly's (first fit,
#: empty cache: 4.5 s vs 9.4 s CPU).
KMEANS_BOUNDS_MIN_WORK = 1 << 20

#: K-Means takes distances from BLAS products (the GEMM path, when
#: :func:`clusterlab._kernels.gemm.blocks.gemm_pays` says the shape suits it)
#: only when n_samples * n_clusters * n_features reaches this: below it the
#: direct kernels are at most a few ms a fit slower (measured, n_init=3:
#: digits 1797 x 64, k=50, 28.5 vs 25.4 ms), while the GEMM kernels cost
#: 10-30 s to compile on a first run (the seed's semi-supervised digits story:
#: 18 s). Not higher: without the GEMM path ``algorithm="auto"`` gives many
#: centres to Yinyang, whose bounds do not prune on overlapping clusters
#: (2**25 made 10000 x 32 float32, k=100, 5x slower: 57.8 ms vs 11.5 ms for
#: scikit-learn).
KMEANS_GEMM_MIN_WORK = 1 << 23
#: Lloyd's BLAS passes keep X transposed block by block (a copy the size of X,
#: as scikit-learn's ``copy_x=True`` copy) up to this many bytes of X: each
#: pass then skips the transposed copy of its blocks (200000 x 16 float32, k=4,
#: one thread: 18.3 -> 12.1 ns a row; 20000 x 64, k=10: 92 -> 22 ns).
KMEANS_TILED_MAX_BYTES = 512 * 2**20
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
#: ... except that 'auto' runs plain Lloyd where Hamerly would run on BLAS
#: distances with fewer centres than this: a BLAS Lloyd pass then costs about
#: what Hamerly's bound bookkeeping does alone (overlapping clusters, float32,
#: k-means++ start, run to convergence, Lloyd / Hamerly time: 200000 x 16,
#: k=4 0.62; 100000 x 16, k=8 0.49; 100000 x 32, k=8 0.73; k=16 1.10; k=32
#: 1.61).
KMEANS_BOUNDS_GEMM_MIN_K = 16
#: 'auto' on at least KMEANS_PROBE_MIN_SAMPLES rows: a bounded algorithm only
#: when, on KMEANS_PROBE_ROWS evenly spaced rows, the median relative gap
#: (second nearest - nearest) / nearest to the initial centres is at least
#: KMEANS_PROBE_MIN_GAP; else plain Lloyd (bounds would prune nothing).
KMEANS_PROBE_MIN_SAMPLES = 4096
KMEANS_PROBE_ROWS = 512
KMEANS_PROBE_MIN_GAP = 0.015
#: ... and where Hamerly runs on BLAS distances with fewer than
#: KMEANS_PROBE_TILED_MAX_K centres and Lloyd would read tiles (plan.tiled),
#: at least KMEANS_PROBE_TILED_MIN_GAP: Lloyd's tiled passes beat Hamerly's
#: bookkeeping unless clusters are well apart (float32, k-means++ start, run to
#: convergence, 100000 rows, Lloyd / Hamerly time: 16-d k=16 0.34 at gap 0.07,
#: 0.94 at 0.33; k=32 0.76 at 0.07, 0.91 at 0.25; 32-d k=16 0.50 at 0.05, 1.33
#: at 0.49; k=32 0.62 at 0.04, 1.53 at 0.38; but k=48 1.11-1.14 at 0.04-0.06).
KMEANS_PROBE_TILED_MAX_K = 48
KMEANS_PROBE_TILED_MIN_GAP = 0.2
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
#: Mini-batch K-Means labels and inertia of at most this many rows x max(centres,
#: features) come from numpy's element-wise operations in the kernel's order
#: (the same bits): a first run then compiles no labelling kernel (~0.5 s), at
#: microseconds more a call (2000 x 5: 0.06 against 0.02 ms).
MINIBATCH_NUMPY_MAX_CELLS = 2**17
#: Mini-batch K-Means draws its batches by numpy's binary search (the same rows)
#: from at most this many samples: the galloping kernel pays on large ones.
MINIBATCH_NUMPY_SEARCH_MAX_SAMPLES = 2**15
#: The silhouette from its distance sums, the Calinski-Harabasz and Davies-Bouldin
#: cluster statistics on at most this many values (rows x clusters or x features)
#: come from numpy in the kernels' order (the same bits), not from kernels that a
#: first run would compile (~0.6 s together).
METRICS_NUMPY_MAX_CELLS = 2**17

#: Gaussian mixtures: rows per chunk of the fused pass (one task for numba's
#: threads, one set of partial statistics), and fewest rows for which a pass
#: runs on numba's threads (below, waking them costs more than the pass; the
#: results are identical either way).
MIXTURE_CHUNK_ROWS = 4096
MIXTURE_PARALLEL_MIN_ROWS = 8192
#: Full / tied covariances on at least this many features are factorised by
#: LAPACK (scipy.linalg, as scikit-learn) instead of the kernel's loops, and
#: full precisions multiplied out by BLAS (1500 x 784, k=10: 1.96 s -> ~0.1 s
#: per factorisation).
MIXTURE_LAPACK_MIN_FEATURES = 128
#: ... and a pass that runs on one numba thread (too few rows for chunks on
#: threads) lets BLAS use the free cores (free_cores) from this many features on: each
#: block's products (k d x d by d x 128 rows) are then large enough to share
#: (1500 x 400, k=10, full: one thread was 0.8x scikit-learn, whose BLAS uses
#: both cores).
MIXTURE_WIDE_BLAS_MIN_FEATURES = 128
#: Full covariances on at least this many features, with rows for one numba
#: thread: an EM iteration works on all rows at once through BLAS -- per
#: component a triangular product for the E-step (trmm: the kernel's product
#: through the stacked factors multiplies their zeros too) and one symmetric
#: product for the second moments (``(sqrt(r_k) (x - shift))^T (...)``, syrk)
#: -- instead of the fused pass, whose k (d+1)^2 moment output per 128-row
#: block is written and added again for every block (784 features, k=10: 49 MB
#: a block); while a float64 copy of the centred rows fits in
#: MIXTURE_WIDE_EM_MAX_BYTES.
MIXTURE_WIDE_EM_MIN_FEATURES = 128
MIXTURE_WIDE_EM_MAX_BYTES = 64 * 2**20

#: A parallel kernel (``clusterlab._kernels.row_groups.ThreadedKernel``) called
#: on arrays holding fewer bytes than this together runs its serial
#: compilation: below it a parallel launch saves less than a millisecond, and
#: not compiling the parallel variant saves about two thirds of the kernel's
#: compile time on a first run (small data, empty numba cache).
THREADED_KERNEL_MIN_BYTES = 2**20
