"""Cached kernels load without numba's compiler set-up (clusterlab._kernels._cache_load)."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

# Calls one small cached kernel in a fresh process and reports how many times
# numba refreshed its compiler contexts, and the kernel's result.
_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    from numba.core import base, caching

    refreshes = []
    original_refresh = base.BaseContext.refresh
    def counting_refresh(self):
        refreshes.append(1)
        return original_refresh(self)
    base.BaseContext.refresh = counting_refresh

    if sys.argv[1] == "fail-once":  # the quick load fails once: numba's path takes over
        original_load = caching.Cache._load_overload
        failed = []
        def failing_load(self, sig, target_context):
            if not failed:
                failed.append(1)
                raise RuntimeError("simulated")
            return original_load(self, sig, target_context)
        caching.Cache._load_overload = failing_load

    from clusterlab._kernels import distances
    a = np.array([1.0, -3.0, 2.5, np.inf], dtype=np.float64)
    finite_all = distances.all_finite_flat(a[:3], 1)
    finite_inf = distances.all_finite_flat(a, 1)
    print(json.dumps({"refreshes": len(refreshes),
                      "result": [finite_all, finite_inf]}))
""")


def _run(tmp_path, mode, quick=True):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    env["CLUSTERLAB_QUICK_CACHE_LOAD"] = "1" if quick else "0"
    out = subprocess.run([sys.executable, "-c", _SCRIPT, mode], env=env, capture_output=True,
                         text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # three fresh processes, one of them compiling
def test_cached_kernels_load_without_refresh_and_fall_back(tmp_path):
    cold = _run(tmp_path, "plain")  # compiles (numba's compiler refreshes) and fills the cache
    assert cold["result"] == [True, False]
    assert cold["refreshes"] >= 1
    warm = _run(tmp_path, "plain")  # loads from the cache: no refresh at all
    assert warm == {"refreshes": 0, "result": [True, False]}
    numba_way = _run(tmp_path, "plain", quick=False)  # numba's own loading refreshes
    assert numba_way["refreshes"] >= 1 and numba_way["result"] == [True, False]
    fallback = _run(tmp_path, "fail-once")  # a failed quick load: numba's path, same result
    assert fallback["refreshes"] >= 1 and fallback["result"] == [True, False]


def test_install_is_idempotent_and_leaves_other_caches_alone():
    from numba.core import caching

    from clusterlab._kernels import _cache_load

    _cache_load.install()
    patched = caching.Cache.load_overload
    _cache_load.install()
    assert caching.Cache.load_overload is patched
    assert getattr(patched, "_clusterlab", False)

    class Other:  # a cache of some other package's function
        class _py_func:
            __module__ = "somebody_else.kernels"

    class Ours:
        class _py_func:
            __module__ = "clusterlab._kernels.distances"

    assert not _cache_load._ours(Other()) and _cache_load._ours(Ours())


def test_cache_key_sees_the_sources_a_kernel_was_compiled_from(monkeypatch):
    # Lloyd's pass holds the distance kernels' machine code: an edit to
    # distances.py (or an upgrade changing it alone) must not load the old code
    from numba.core import caching
    from numba.core.registry import cpu_target

    from clusterlab._kernels import _cache_load
    from clusterlab._kernels.kmeans import lloyd

    deps = _cache_load.dependencies(lloyd.__name__)
    assert {"clusterlab._kernels.kmeans.lloyd", "clusterlab._kernels.distances",
            "clusterlab._kernels.gemm.passes", "clusterlab._config"} <= set(deps)
    assert "clusterlab" not in deps and "clusterlab.cluster.kmeans" not in deps
    before = _cache_load.digest(lloyd.__name__)
    cache = caching.FunctionCache(lloyd.lloyd_stats_range.py_func)
    key = cache._index_key((), cpu_target.target_context.codegen())
    assert key[-1] == before
    # the same key without clusterlab's patch is numba's own, one element shorter
    assert len(caching.Cache._index_key.__wrapped__(
        cache, (), cpu_target.target_context.codegen())) == len(key) - 1

    real_source = _cache_load._source

    def edited(name):
        return real_source(name) + (b"# edited" if name.endswith(".distances") else b"")

    monkeypatch.setattr(_cache_load, "_source", edited)
    monkeypatch.setattr(_cache_load, "_DIGESTS", {})
    monkeypatch.setattr(_cache_load, "_SOURCE_HASHES", {})
    assert _cache_load.digest(lloyd.__name__) != before
    # a module that does not reach distances.py keeps its key
    from clusterlab._kernels import cell_grid

    assert "clusterlab._kernels.distances" not in _cache_load.dependencies(cell_grid.__name__)
