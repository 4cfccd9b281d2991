import collections
import os

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

# The analysis's first-run compile helper (clusterlab.report.prewarm) starts a
# second process when numba's cache is cold; tests that run analyses keep to
# one process (tests/test_prewarm.py exercises the helper itself).
os.environ.setdefault("CLUSTERLAB_PREWARM", "0")

# Keep hypothesis fast and deterministic in CI.
try:
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "ci",
        max_examples=25,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    settings.load_profile("ci")
except ImportError:  # pragma: no cover
    pass

# Skips you will see in the summary: scikit-learn's own array-API estimator
# checks (check_array_api_input*) skip themselves with "SCIPY_ARRAY_API is not
# set". clusterlab computes on numpy arrays (and dask arrays through
# clusterlab.distributed); it does not claim array-API support, so those
# checks stay skipped on purpose rather than being forced on.

# Two tiers. `pytest` (what CI runs) runs everything; `pytest -m "not slow"`, the
# quick tier for development, leaves out what costs minutes of compilation on a
# cold numba cache and repeats paths the quick tier already covers serially:
# tests comparing thread counts (they compile every kernel's parallel variant,
# about three times the serial compile; any test taking the `parallel_kernels`
# fixture, or parametrised with `parallel=True`, is marked here), read-only
# (memory-mapped) input (numba compiles every kernel again for read-only
# arrays: scikit-learn's estimator checks with `readonly_memmap` in their name,
# and `check_outliers_train`, which fits a read-only memmap, are marked here),
# tests on a Dask cluster (any test taking the `dask_client` fixture, marked
# here: its two worker processes compile their kernels again beside the tests;
# the distributed code itself stays in the quick tier through the synchronous
# and threaded schedulers), tests of the same result from
# several processes (the report's drawing processes, the browser), the float32
# twin of a test parametrised over `dtype` (numba compiles every kernel again
# for float32; the float64 case runs the same path, and tests written about
# float32 itself -- "float32" in their name -- stay quick), scikit-learn's
# dtype and sample-weight checks of K-Means' non-default algorithms (each
# compiles that algorithm's float32 or weighted kernels; the default
# algorithm's checks stay quick), the GEMM K-Means stress module, and single
# tests marked `@pytest.mark.slow` with their reason (scenario tests of the
# analysis beyond one per rule, comparisons where scikit-learn's own
# algorithm takes seconds). CI runs both tiers.


# Test files run whole on one pytest-xdist worker (`--dist loadgroup`, each
# file its own group), except files that compile the same kernels: those share
# a group, so that a cold run compiles their kernels once instead of in both
# workers at the same time (the K-Means files: ~70 s of duplicated compilation
# in a cold run of the slow tier before they were grouped).
XDIST_GROUPS = {
    "test_kmeans.py": "kmeans",
    "test_kmeans_gemm.py": "kmeans",
    "test_kmeans_plan.py": "kmeans",
    "test_kmeans_properties.py": "kmeans",
}

# The groups that take longest, started first (pytest runs with
# `--no-loadscope-reorder`, so the workers take groups in the order of the
# collection): with two workers, a long group started last leaves the other
# worker idle until it ends (the seed replay, one 25 s fixture, ran last on a
# cold quick tier when groups were ordered by their number of tests). After
# these, the other groups by decreasing number of tests, as pytest-xdist orders
# them by default.
LONGEST_FIRST = [
    "kmeans",
    "tests/test_bad_inputs.py",
    "tests/test_seed_workflows.py",
    "tests/test_sklearn_suite.py",
    "tests/test_cli.py",
    "tests/test_cli_files.py",
    "tests/cluster/test_dbscan.py",
]


#: scikit-learn estimator checks that fit read-only (memory-mapped) arrays
READ_ONLY_CHECKS = ("readonly_memmap", "check_outliers_train")

#: scikit-learn estimator checks that compile another variant of an
#: estimator's kernels (float32, weighted): full tier only for the
#: non-default K-Means algorithms (``algorithm=`` in the estimator's id)
VARIANT_CHECKS = ("check_estimators_dtypes", "check_sample_weight_equivalence")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the groups
def pytest_collection_modifyitems(config, items):
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        fixtures = getattr(item, "fixturenames", ())
        float32_twin = (params.get("dtype") is np.float32
                        and "float32" not in getattr(item, "originalname", item.name))
        if ("parallel_kernels" in fixtures or "dask_client" in fixtures or float32_twin
                or params.get("parallel") is True
                or any(name in item.name for name in READ_ONLY_CHECKS)
                or ("algorithm=" in item.name
                    and any(name in item.name for name in VARIANT_CHECKS))):
            item.add_marker(pytest.mark.slow)
        path = item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(_group(path)))
    sizes = collections.Counter(_group(item.nodeid.split("::")[0]) for item in items)

    def rank(item):
        group = _group(item.nodeid.split("::")[0])
        if group in LONGEST_FIRST:
            return (0, LONGEST_FIRST.index(group))
        return (1, -sizes[group])

    items.sort(key=rank)  # stable: a group's tests keep their order


def _group(path):
    return XDIST_GROUPS.get(os.path.basename(path), path)


SHARED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..", "shared")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def five_blobs():
    from clusterlab.datasets import load_five_blobs

    return load_five_blobs()


@pytest.fixture(scope="session")
def elongated_blobs():
    from clusterlab.datasets import load_elongated_blobs

    return load_elongated_blobs(return_y=True)


@pytest.fixture(scope="session")
def moons():
    from clusterlab.datasets import load_moons

    return load_moons()


@pytest.fixture
def parallel_kernels(monkeypatch):
    """Run every parallel kernel's parallel compilation whatever the input size
    (small inputs otherwise run the serial compilation of the same source: see
    ``clusterlab._kernels.row_groups``), for tests comparing thread counts."""
    from clusterlab import _config

    monkeypatch.setattr(_config, "THREADED_KERNEL_MIN_BYTES", 0)
