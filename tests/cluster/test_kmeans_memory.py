"""K-Means bounds that would not fit the memory left: Lloyd instead, the same result.

Elkan keeps n x k lower bounds, Yinyang n x k/10: 100000 rows and 50000 centres
chose Yinyang and failed with numpy's bare MemoryError (3.73 GiB) under a 3 GB
limit, where Lloyd needs O(n)."""

import warnings

import numpy as np
import pytest

from clusterlab import KMeans, _config
from clusterlab._core import kmeans_plan


def _rows():
    return np.random.RandomState(0).rand(3000, 3)


@pytest.mark.parametrize("algorithm", ["elkan", "yinyang"])
def test_bounds_beyond_the_memory_left_give_way_to_lloyd(monkeypatch, algorithm):
    X = _rows()
    k = 400
    need = kmeans_plan.bound_bytes(algorithm, len(X), k)
    monkeypatch.setattr(_config, "BOUNDS_CHECK_BYTES", 0)
    monkeypatch.setattr(_config, "available_memory", lambda: need)  # half of it is too little
    with pytest.warns(UserWarning, match=f"algorithm='{algorithm}' keeps .* running 'lloyd'"):
        assert kmeans_plan.resolve_algorithm(algorithm, X, k) == "lloyd"
    with pytest.warns(UserWarning, match="running 'lloyd'"):
        named = KMeans(k, init="random", n_init=1, max_iter=5, random_state=0,
                       algorithm=algorithm).fit(X)
    lloyd = KMeans(k, init="random", n_init=1, max_iter=5, random_state=0,
                   algorithm="lloyd").fit(X)
    np.testing.assert_array_equal(named.labels_, lloyd.labels_)
    assert named.inertia_ == lloyd.inertia_


def test_auto_leaves_bounds_that_do_not_fit_without_a_warning(monkeypatch):
    X = np.random.RandomState(0).rand(3000, 3)
    k = 400
    assert kmeans_plan.resolve_algorithm("auto", X, k) == "yinyang"  # the speed choice
    monkeypatch.setattr(_config, "BOUNDS_CHECK_BYTES", 0)
    monkeypatch.setattr(_config, "available_memory", lambda: 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kmeans_plan.resolve_algorithm("auto", X, k) == "lloyd"


def test_bounds_that_fit_are_kept(monkeypatch):
    X = _rows()
    monkeypatch.setattr(_config, "BOUNDS_CHECK_BYTES", 0)
    monkeypatch.setattr(_config, "available_memory", lambda: 1 << 40)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kmeans_plan.resolve_algorithm("elkan", X, 400) == "elkan"
        assert kmeans_plan.resolve_algorithm("yinyang", X, 400) == "yinyang"
