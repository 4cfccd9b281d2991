"""The K-Means plan: which path a fit runs, decided in one place.

:func:`make_plan` maps the data's shape and dtype, ``n_clusters`` and the
``algorithm`` parameter to a :class:`KMeansPlan`, using only the thresholds
of :mod:`clusterlab._config`. Kernels receive the decision; they never
decide. Tests choose a path by forcing plan fields (:func:`forced`), never by
patching module constants. No field changes a result, only how fast it comes
(the equivalence tests fit every algorithm x seeding x parallel x BLAS path
and compare).
"""

import contextlib
import dataclasses
import warnings

import numpy as np
import scipy.sparse as sp

from clusterlab import _config
from clusterlab._kernels.gemm.blocks import gemm_pays

ALGORITHMS = ("lloyd", "hamerly", "elkan", "yinyang")
SEEDINGS = ("float32", "buffered", "columnar", "pruned", "sparse")


@dataclasses.dataclass(frozen=True)
class KMeansPlan:
    """A K-Means path.

    Attributes
    ----------
    algorithm : {"lloyd", "hamerly", "elkan", "yinyang"}
        The iteration (sparse input: always "lloyd", on CSR kernels).
    sparse : bool
        CSR input.
    parallel : bool
        Iteration passes on numba's threads (never changes the result).
    gemm : bool
        Distances to every centre from BLAS products (exact labels).
    gemm_rescan : bool
        Hamerly's re-scans through BLAS too.
    seeding : {"float32", "buffered", "columnar", "pruned", "sparse"}
        The k-means++ kernel for these rows (float32 scoring subject to its
        overflow check, made by the seeding itself).
    seeding_parallel : bool
        k-means++ passes on numba's threads.
    bounds : ndarray (G + 1,) int64
        Row groups of the iteration passes (a function of the shape only).
    interval_copy_bytes : int
        Bound storage: Elkan's 16-bit copy of X is kept up to this size.
    tighten_min_pass : float
        Hamerly's tightening threshold with BLAS re-scans.
    probe : bool
        ``algorithm`` came from ``'auto'`` and is a bounded one: each run first
        checks on a sample whether bounds can prune from its initial centres
        (:func:`bounds_will_prune`) and runs plain Lloyd when they cannot.
    tiled : bool
        Lloyd on BLAS keeps X transposed block by block (a copy the size of X,
        see :func:`use_tiles`) instead of copying every block in every pass
        (Hamerly's re-scans mostly gather their rows: tiles were within noise
        there, 50000 and 300000 x 16 float32, k=64).
    """

    algorithm: str
    sparse: bool
    parallel: bool
    gemm: bool
    gemm_rescan: bool
    seeding: str
    seeding_parallel: bool
    bounds: np.ndarray = dataclasses.field(repr=False, compare=False)
    interval_copy_bytes: int = _config.KMEANS_ELKAN_INTERVAL_COPY_BYTES
    tighten_min_pass: float = _config.KMEANS_TIGHTEN_MIN_PASS_GEMM
    probe: bool = False
    tiled: bool = False


#: Plan fields forced for every plan made while set (tests and benchmarks:
#: ``monkeypatch.setitem(FORCED, "parallel", True)`` or :func:`forced`).
FORCED = {}


@contextlib.contextmanager
def forced(**fields):
    """Force plan fields for every plan made inside the block (tests, benchmarks).

    ``with forced(parallel=True, seeding="pruned", gemm=False): KMeans(...).fit(X)``
    runs that path whatever the shape says. ``parallel`` also forces
    ``seeding_parallel``; an ``algorithm`` other than the estimator's
    parameter is not allowed (that is the user's choice, not the plan's).
    """
    unknown = set(fields) - {f.name for f in dataclasses.fields(KMeansPlan)}
    if unknown:
        raise TypeError(f"unknown plan fields {sorted(unknown)}")
    if "parallel" in fields and "seeding_parallel" not in fields:
        fields["seeding_parallel"] = fields["parallel"]
    saved = dict(FORCED)
    FORCED.update(fields)
    try:
        yield
    finally:
        FORCED.clear()
        FORCED.update(saved)


def use_parallel(work):
    """Whether a pass of ``work`` element operations should use numba's threads."""
    import numba

    forced_value = FORCED.get("parallel")
    if forced_value is not None:
        return bool(forced_value)
    return work >= _config.KMEANS_PARALLEL_MIN_WORK and numba.get_num_threads() > 1


def pass_work(n_samples, n_clusters, n_features):
    """The element operations of one assignment pass, the measure
    :func:`use_parallel` compares: ``k`` distances per row plus the row's
    statistics and bookkeeping, about two centres' worth (at k=2 the
    per-row part is half the pass: 16 features, float32, ~5 ns of distances
    and ~6 ns of the rest a row)."""
    return n_samples * (n_clusters + 2) * n_features


def use_gemm(n_features, n_clusters, dtype, n_samples):
    """Whether distances to every centre come from BLAS products (a speed choice
    only): a shape that suits them, and enough work to pay for their
    compilation (``KMEANS_GEMM_MIN_WORK``)."""
    forced_value = FORCED.get("gemm")
    if forced_value is not None:
        return bool(forced_value) and n_features >= 1
    if n_samples * n_clusters * n_features < _config.KMEANS_GEMM_MIN_WORK:
        return False
    return gemm_pays(n_features, n_clusters, dtype)


def use_tiles(X, n_clusters, gemm):
    """Whether Lloyd's BLAS passes keep a transposed copy of X (a speed choice
    only): where each pass would copy its blocks transposed anyway (at most
    ``TRANSPOSED_MAX_FEATURES`` features and ``TRANSPOSED_MAX_CLUSTERS``
    centres) and the copy fits ``KMEANS_TILED_MAX_BYTES``."""
    from clusterlab._kernels.gemm.blocks import TRANSPOSED_MAX_CLUSTERS, TRANSPOSED_MAX_FEATURES

    forced_value = FORCED.get("tiled")
    if forced_value is not None:
        return bool(forced_value) and gemm
    return (gemm and X.shape[1] <= TRANSPOSED_MAX_FEATURES
            and n_clusters <= TRANSPOSED_MAX_CLUSTERS
            and X.nbytes <= _config.KMEANS_TILED_MAX_BYTES)


def row_bounds(n_samples, n_clusters, n_features, max_work=None):
    """Row groups for the kernels, a function of the data shape only.

    Groups of at most ``KMEANS_GROUP_ROWS`` rows -- and, with ``max_work``,
    up to 16 groups of at least 64 rows, of at most that much :func:`pass_work`
    each if they can, so that a few thousand wide rows are still shared between
    threads -- a multiple of 16 of them when
    there is more than one (equal shares for 2, 4, 8 or 16 threads), but
    never so many that the per-group partial sums (``G * k * d`` float64)
    exceed the working-memory budget. Because the groups do not depend on
    the number of threads, neither do the results.
    """
    n_groups = max(1, -(-n_samples // _config.KMEANS_GROUP_ROWS))
    if max_work is not None:
        by_work = -(-pass_work(n_samples, n_clusters, n_features) // max_work)
        n_groups = max(n_groups, min(by_work, 16, n_samples // 64))
    if n_groups > 1:
        n_groups = -(-n_groups // 16) * 16
    cap = max(1, _config.WORKING_MEMORY_BYTES // max(1, 8 * n_clusters * n_features))
    n_groups = int(min(n_groups, cap, 1024))
    edges = np.linspace(0, n_samples, n_groups + 1)
    bounds = np.round(edges).astype(np.int64)
    bounds[0], bounds[-1] = 0, n_samples
    return bounds


def pass_bounds(n_samples, n_clusters, n_features):
    """The row groups of a fit's or a prediction's passes: :func:`row_bounds`
    with groups of at most ``KMEANS_GROUP_WORK`` (k-means++ seeding keeps
    plain :func:`row_bounds`)."""
    return row_bounds(n_samples, n_clusters, n_features, _config.KMEANS_GROUP_WORK)


def resolve_algorithm(algorithm, X, n_clusters):
    """Map the ``algorithm`` parameter to the iteration actually run (warns on old
    spellings). Elkan's and Yinyang's bounds (:func:`bound_bytes`) that would take
    more than half the memory this process may still allocate give way to
    Lloyd (the same result; a warning when the user named the algorithm)."""
    explicit = algorithm in ("elkan", "yinyang")
    if algorithm == "full":
        warnings.warn(
            "algorithm='full' is an old spelling of 'lloyd' (scikit-learn removed it in "
            "1.3); use algorithm='lloyd'.",
            FutureWarning,
            stacklevel=4,
        )
        algorithm = "lloyd"
    if algorithm == "elkan" and n_clusters == 1:
        warnings.warn(
            "algorithm='elkan' doesn't make sense for a single cluster. Using 'lloyd' instead.",
            RuntimeWarning,
            stacklevel=4,
        )
        algorithm = "lloyd"
    if algorithm == "auto":
        # Bounds pay for themselves except for k == 1 and small problems (a
        # whole Lloyd pass costs well under a millisecond there, and Lloyd
        # compiles in half the time: a first fit on small data is mostly
        # compilation). With few centres in
        # many dimensions (MNIST-like) Elkan's per-centre bounds skip most
        # distance computations and its O(n k) bounds are small; otherwise
        # one lower bound (Hamerly) is enough, and with many centres Hamerly
        # still wins when its re-scans go through BLAS, else per-group
        # bounds (Yinyang) skip far more.
        n_samples, n_features = X.shape
        if (n_clusters == 1
                or n_samples * n_clusters * n_features < _config.KMEANS_BOUNDS_MIN_WORK):
            algorithm = "lloyd"
        elif (n_clusters <= _config.KMEANS_ELKAN_MAX_K
              and n_features >= _config.KMEANS_ELKAN_MIN_FEATURES
              and n_samples * n_clusters * 8
              <= _config.WORKING_MEMORY_BYTES * _config.KMEANS_ELKAN_BOUND_BUDGETS):
            algorithm = "elkan"
        elif use_gemm(n_features, n_clusters, X.dtype, n_samples):
            # a BLAS Lloyd pass at few centres costs what Hamerly's bounds do
            algorithm = ("lloyd" if n_clusters < _config.KMEANS_BOUNDS_GEMM_MIN_K
                         else "hamerly")
        elif n_clusters < _config.KMEANS_YINYANG_MIN_K:
            algorithm = "hamerly"
        else:
            algorithm = "yinyang"
    if sp.issparse(X):
        # Bound-based kernels are dense only; Lloyd gives the same result.
        algorithm = "lloyd"
    if algorithm in ("elkan", "yinyang"):
        need = bound_bytes(algorithm, X.shape[0], n_clusters)
        if need > _config.BOUNDS_CHECK_BYTES:
            avail = _config.available_memory()
            if avail is not None and need > avail // 2:
                if explicit:
                    warnings.warn(
                        f"algorithm={algorithm!r} keeps {need / 2**30:.2f} GiB of distance "
                        f"bounds ({X.shape[0]} rows x "
                        f"{n_clusters if algorithm == 'elkan' else max(1, n_clusters // 10)}), "
                        f"more than half of the {avail / 2**30:.2f} GiB this process may "
                        "still allocate: running 'lloyd' instead (no bounds, the same "
                        "result).", UserWarning, stacklevel=4)
                algorithm = "lloyd"
    return algorithm


def bound_bytes(algorithm, n_samples, n_clusters):
    """Bytes of the per-row lower bounds ``algorithm`` keeps: Elkan one per
    centre, Yinyang one per group of about ten centres (Hamerly and Lloyd: O(n))."""
    if algorithm == "elkan":
        return 8 * n_samples * n_clusters
    if algorithm == "yinyang":
        return 8 * n_samples * max(1, n_clusters // 10)
    return 16 * n_samples


def seeding_kernel(X, n_local_trials, lanes, float32_safe):
    """The k-means++ kernel for dense ``X`` (all give the same centres).

    Float32 rows with enough features and trials: the float32 scoring kernel;
    else the buffered kernel while its (n, t) buffer fits, the columnar one
    for few features, the pruned one (O(n) memory) otherwise.
    ``float32_safe`` is a callable ``X -> bool`` (no overflow of squares).
    """
    if sp.issparse(X):
        return "sparse"
    n_samples, n_features = X.shape
    eligible32 = (X.dtype == np.float32
                  and 2 * n_local_trials > -(-n_local_trials // lanes) * lanes)
    forced_value = FORCED.get("seeding")
    if forced_value is not None:
        # float32 scoring only where it is exact enough (float32 rows, no overflow)
        if forced_value == "float32" and not (eligible32 and float32_safe(X)):
            return "buffered"
        return forced_value
    if (eligible32 and n_features >= _config.KPP32_MIN_FEATURES
            and X.nbytes <= _config.KPP_COLUMNAR_BYTES and float32_safe(X)):
        return "float32"
    if n_samples * n_local_trials * 8 <= _config.KPP_BUFFER_BYTES:
        return "buffered"
    if n_features <= _config.KPP_COLUMNAR_MAX_FEATURES and X.nbytes <= _config.KPP_COLUMNAR_BYTES:
        return "columnar"
    return "pruned"


def make_plan(X, n_clusters, algorithm, n_local_trials=None, bounds=None):
    """The whole plan of a K-Means fit on validated ``X`` (dense or CSR).

    Parameters
    ----------
    X : ndarray (n, d) float32/float64 or CSR matrix
    n_clusters : int
    algorithm : str
        The estimator's parameter (``"auto"`` and old spellings resolved here).
    n_local_trials : int, optional
        k-means++ candidates per centre (default ``2 + int(ln k)``).
    bounds : ndarray, optional
        Row groups to use (default :func:`pass_bounds`).

    Returns
    -------
    KMeansPlan
    """
    from clusterlab._kernels.kmeans.kpp32 import KPP32_LANES

    n_samples, n_features = X.shape
    forced_fields = FORCED
    resolved = resolve_algorithm(algorithm, X, n_clusters)
    sparse = sp.issparse(X)
    if n_local_trials is None:
        n_local_trials = 2 + int(np.log(n_clusters))
    gemm = not sparse and use_gemm(n_features, n_clusters, X.dtype, n_samples)
    fields = dict(
        algorithm=resolved,
        sparse=sparse,
        parallel=use_parallel(pass_work(n_samples, n_clusters, n_features)),
        gemm=gemm,
        gemm_rescan=gemm and n_clusters >= _config.KMEANS_GEMM_RESCAN_MIN_K,
        # the overflow check of float32 scoring is made when seeding runs (on the
        # rows it seeds: a sample for MiniBatchKMeans), not here
        seeding=seeding_kernel(X, n_local_trials, KPP32_LANES, lambda _: True),
        seeding_parallel=use_parallel(n_samples * n_local_trials * n_features),
        bounds=pass_bounds(n_samples, n_clusters, n_features) if bounds is None else bounds,
        probe=(algorithm == "auto" and resolved != "lloyd" and not sparse
               and n_samples >= _config.KMEANS_PROBE_MIN_SAMPLES),
        tiled=not sparse and use_tiles(X, n_clusters, gemm),
    )
    fields.update({k: v for k, v in forced_fields.items()
                   if k not in ("parallel", "seeding_parallel", "gemm", "seeding", "tiled")})
    if "gemm_rescan" not in forced_fields:
        fields["gemm_rescan"] = fields["gemm"] and n_clusters >= _config.KMEANS_GEMM_RESCAN_MIN_K
    return KMeansPlan(**fields)


def median_relative_gap(X, centers, n_rows=None):
    """Median over evenly spaced rows of ``(d2 - d1) / d1``, the gap between a
    row's distances to its second nearest and nearest centre, relative to the
    nearest (float64 products of the rows and centres, both centred on the
    rows' mean so that the product form does not cancel).

    Bounds (Hamerly, Elkan, Yinyang) skip a row while the centres move less
    than about this gap; on overlapping clusters it is tiny (60000 x 784,
    k=10, centres 0.05 apart per feature: 0.009) and they skip nothing, on
    separated or structured data it is large (digits on a canvas: 0.10, blobs:
    0.48). Returns ``inf`` for fewer than two centres. Only a speed choice
    depends on it, never a result.
    """
    n_rows = _config.KMEANS_PROBE_ROWS if n_rows is None else n_rows
    k = centers.shape[0]
    if k < 2 or X.shape[0] == 0:
        return np.inf
    step = max(1, X.shape[0] // n_rows)
    S = np.array(X[::step][:n_rows], dtype=np.float64)
    C = np.array(centers, dtype=np.float64)
    mean = S.mean(axis=0)
    S -= mean
    C -= mean
    # one BLAS thread: a woken BLAS pool keeps spinning beside numba's threads
    # in the fit that follows (measured: +40 ms on a 80 ms fit, 2 cores)
    with _config.single_threaded_blas():
        P = S @ C.T
    D = np.einsum("ij,ij->i", S, S)[:, None] - 2.0 * P + np.einsum("ij,ij->i", C, C)[None, :]
    two = np.partition(D, 1, axis=1)[:, :2]
    d1 = np.sqrt(np.maximum(two[:, 0], 0.0))
    d2 = np.sqrt(np.maximum(two[:, 1], 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.where(d1 > 0.0, (d2 - d1) / d1, np.inf)
    return float(np.median(gap))


def bounds_will_prune(X, centers, min_gap=None):
    """Whether a bounded algorithm can skip enough distances from these centres
    to pay: :func:`median_relative_gap` at least ``min_gap`` (default
    ``KMEANS_PROBE_MIN_GAP``)."""
    if min_gap is None:
        min_gap = _config.KMEANS_PROBE_MIN_GAP
    return median_relative_gap(X, centers) >= min_gap


def probe_min_gap(plan, n_clusters):
    """The gap :func:`for_centers` asks of ``plan``'s bounded algorithm: more
    where Hamerly would compete with Lloyd's tiled BLAS passes at few centres
    (``KMEANS_PROBE_TILED_*``)."""
    if (plan.algorithm == "hamerly" and plan.gemm and plan.tiled
            and n_clusters < _config.KMEANS_PROBE_TILED_MAX_K):
        return max(_config.KMEANS_PROBE_MIN_GAP, _config.KMEANS_PROBE_TILED_MIN_GAP)
    return _config.KMEANS_PROBE_MIN_GAP


def for_centers(plan, X, centers):
    """``plan``, or the same plan with plain Lloyd when it asks for the probe
    (``plan.probe``) and the bounds would not prune enough from ``centers``
    (:func:`probe_min_gap`)."""
    if (not plan.probe or plan.algorithm == "lloyd"
            or bounds_will_prune(X, centers, probe_min_gap(plan, centers.shape[0]))):
        return plan
    return dataclasses.replace(plan, algorithm="lloyd", probe=False)
