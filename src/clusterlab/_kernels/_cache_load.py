"""numba's on-disk cache for clusterlab's kernels: keys that see every source a
kernel was compiled from, and quick loads.

**Keys.** numba keys a cached kernel by its own source file and bytecode only.
A kernel's machine code also holds every kernel it calls and every module
constant it reads, frozen at compile time, from other files. So an edit to
``distances.py`` -- or an upgrade of clusterlab that changes it and leaves
``kmeans/lloyd.py`` as it was -- would keep running Lloyd's cached pass with
the old distance code, silently. :func:`install` adds to the key of each of
clusterlab's kernels a digest of the sources of its module and of every
clusterlab module that module reaches through its globals (transitively: the
kernels it calls, ``_config``'s thresholds, ...), so a change in any of them
compiles the kernel again.

**Quick loads.** Before it loads a cached kernel, numba "refreshes" its
compiler contexts: it imports some forty of its own modules
(``numba.cpython.*``, ``numba.np.*``) and installs their typing and lowering
registries. A fresh process paid that (0.09-0.13 s) at its first kernel call
-- most of a first ``KMeans.fit`` on small data with a warm cache (0.16 s,
against 0.07 s without it). Running machine code that was compiled earlier
needs none of it: only numba's runtime (its memory allocator,
``rtsys.initialize``). Loading clusterlab's cached kernels skips the refresh;
a kernel compiled in this process still goes through numba's compiler, which
refreshes the contexts itself, and any failure of the quick load falls back
to numba's own ``load_overload`` (refresh included).

Other packages' numba caches are left alone.
"""

import hashlib
import sys

from numba.core import caching

_PACKAGE = __name__.split(".")[0]
#: module name -> digest of its sources and its dependencies' (one process)
_DIGESTS = {}
#: module name -> sha256 of its source file (one process)
_SOURCE_HASHES = {}


def _ours(cache):
    module = getattr(getattr(cache, "_py_func", None), "__module__", "") or ""
    return module == _PACKAGE or module.startswith(_PACKAGE + ".")


def _home(value):
    """The clusterlab module a global of a kernel module lives in, if any."""
    if isinstance(value, type(sys)):
        name = value.__name__
    else:
        py_func = getattr(value, "py_func", None)  # a numba dispatcher
        name = getattr(py_func if py_func is not None else value, "__module__", None)
        if not isinstance(name, str):
            name = getattr(type(value), "__module__", None)
    if isinstance(name, str) and (name == _PACKAGE or name.startswith(_PACKAGE + ".")):
        return name
    return None


def dependencies(module_name):
    """``module_name`` and every clusterlab module it reaches through module
    globals (imported modules, functions, numba dispatchers, objects of
    clusterlab classes), transitively, sorted."""
    seen = set()
    todo = [module_name]
    while todo:
        name = todo.pop()
        if name in seen or name not in sys.modules:
            continue
        seen.add(name)
        for value in list(vars(sys.modules[name]).values()):
            home = _home(value)
            if home is not None and home not in seen:
                todo.append(home)
    return sorted(seen)


def _source(name):
    path = getattr(sys.modules.get(name), "__file__", None)
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except (OSError, TypeError):
        return b""


def _source_hash(name):
    found = _SOURCE_HASHES.get(name)
    if found is None:
        found = _SOURCE_HASHES[name] = hashlib.sha256(_source(name)).hexdigest()
    return found


def digest(module_name):
    """sha256 of the sources of :func:`dependencies` (cached per process)."""
    found = _DIGESTS.get(module_name)
    if found is None:
        h = hashlib.sha256()
        for name in dependencies(module_name):
            h.update(f"{name}:{_source_hash(name)};".encode())
        found = _DIGESTS[module_name] = h.hexdigest()
    return found


def install():
    """Patch numba's ``Cache._index_key`` and ``Cache.load_overload`` once
    (idempotent); both change only clusterlab's caches."""
    numba_key = caching.Cache._index_key
    if not getattr(numba_key, "_clusterlab", False):
        def _index_key(self, sig, codegen):
            key = numba_key(self, sig, codegen)
            if _ours(self):
                key = key + (digest(self._py_func.__module__),)
            return key

        _index_key._clusterlab = True
        _index_key.__wrapped__ = numba_key
        caching.Cache._index_key = _index_key

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
