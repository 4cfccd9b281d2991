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
