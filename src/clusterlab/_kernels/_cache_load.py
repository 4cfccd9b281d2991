"""Loading clusterlab's compiled kernels from numba's on-disk cache, quickly.

Before it loads a cached kernel, numba "refreshes" its compiler contexts:
it imports some forty of its own modules (``numba.cpython.*``,
``numba.np.*``) and installs their typing and lowering registries. A fresh
process paid that (0.09-0.13 s) at its first kernel call -- most of a first
``KMeans.fit`` on small data with a warm cache (0.16 s, against 0.07 s
without it). Running machine code that was compiled earlier needs none of
it: only numba's runtime (its memory allocator, :func:`rtsys.initialize`).

:func:`install` makes the loading of *clusterlab's* cached kernels skip the
refresh. Everything else is unchanged: a kernel compiled in this process
still goes through numba's compiler, which refreshes the contexts itself,
and any failure of the quick load falls back to numba's own
``load_overload`` (refresh included). Other packages' numba caches are
left alone.
"""

from numba.core import caching

_PACKAGE = __name__.split(".")[0] + "."


def _ours(cache):
    return getattr(getattr(cache, "_py_func", None), "__module__", "").startswith(_PACKAGE)


def install():
    """Patch ``numba.core.caching.Cache.load_overload`` once (idempotent)."""
    numba_load = caching.Cache.load_overload
    if getattr(numba_load, "_clusterlab", False):
        return

    def load_overload(self, sig, target_context):
        if not _ours(self):
            return numba_load(self, sig, target_context)
        from numba.core.runtime import rtsys

        try:
            rtsys.initialize(target_context)
            with self._guard_against_spurious_io_errors():
                return self._load_overload(sig, target_context)
        except Exception:  # anything unexpected: numba's own path, refresh and all
            return numba_load(self, sig, target_context)

    load_overload._clusterlab = True
    load_overload.__wrapped__ = numba_load
    caching.Cache.load_overload = load_overload
