import os

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

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
