"""Is a first-run compilation coming? (a cold numba cache of the kernel modules).

clusterlab's kernels are compiled by numba on first use and cached on disk
(``cache=True``): the first ``clusterlab analyze`` spends most of its time
compiling, later runs load the cache in well under a second. The command
line says so before it starts (a silent minute looks like a hang). A kernel
module counts as cold when numba's cache folder for it holds no index file
(``<module>.<function>-<line>.pyXY.nbi``) at least as new as the module's
source; numba itself drops an index whose source stamp changed.
"""

import glob
import os
import sys

#: Rough first-run seconds of each kernel module the analysis uses: numba's
#: compile time of its kernels as the analysis calls them (five blobs, one
#: process, quiet 2-core machine, measured with numba's compile events: ~24 s
#: in all), scaled to the wall time of a first analysis whose compile helper
#: (report/prewarm.py) runs beside it on the second core (about 13 s of a
#: 16-18 s first run); only an order of magnitude for the message.
#: Only modules that every analysis compiles belong here: a module some
#: tables never reach would stay "cold" for them, and every run would announce
#: a compilation and start the compile helper. HDBSCAN's spanning tree comes
#: from ``hdbscan_mst`` (Borůvka) or ``prim_points`` (Prim) depending on the
#: table's shape, so its seconds are counted with ``hdbscan_tree``.
COMPILE_SECONDS = {
    "kmeans": 1.6, "mixture": 2.0, "neighbors": 2.2, "silhouette": 0.5,
    "distances": 0.5, "linkage": 0.8, "affinity": 0.3, "genie": 1.1,
    "kdtree": 1.0, "hdbscan_tree": 2.9,
}

#: Below this estimate nothing is printed.
ANNOUNCE_ABOVE_S = 1.0


def _locator(py_file):
    """numba's cache locator for functions of ``py_file`` (None if none applies)."""
    try:
        from numba.core import caching
    except Exception:  # pragma: no cover - numba is a dependency
        return None

    def probe():  # numba's locators want a function defined in some file
        return None

    for name in ("UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator"):
        cls = getattr(caching, name, None) or getattr(caching, "_" + name, None)
        if cls is None:
            continue
        try:
            loc = cls.from_function(probe, py_file)
        except Exception:
            loc = None
        if loc is not None:  # numba uses the first locator that applies
            return loc
    return None


def cold_modules(modules=None):
    """Names of the kernel modules (of ``modules``, default all the analysis uses) not cached."""
    import importlib.util

    cold = []
    for mod in (modules or COMPILE_SECONDS):
        spec = importlib.util.find_spec(f"clusterlab._kernels.{mod}")
        if spec is None or not spec.origin:
            continue
        if spec.submodule_search_locations:  # a package: warm when any of its modules is
            sources = [f for folder in spec.submodule_search_locations
                       for f in glob.glob(os.path.join(glob.escape(folder), "*.py"))
                       if not f.endswith("__init__.py")]
        else:
            sources = [spec.origin]
        if not any(_cached(src) for src in sources):
            cold.append(mod)
    return cold


def _index_stamp(index_path):
    """The source stamp a numba index file was written for (None if unreadable)."""
    import pickle

    try:
        with open(index_path, "rb") as fh:
            pickle.load(fh)  # numba's version
            stamp, _ = pickle.loads(fh.read())
        return stamp
    except Exception:
        return None


def _cached(src):
    """Whether numba's cache holds an index for ``src`` that numba would accept.

    numba keeps an index only while its source stamp matches the file (a hash
    of the source in recent numba, the file's time and size in older ones);
    where the stamp cannot be read, an index at least as new as the file counts.
    """
    try:
        src_mtime = os.path.getmtime(src)
    except OSError:
        return True  # nothing to compile from
    loc = _locator(src)
    if loc is None:
        return False
    try:
        stamp = loc.get_source_stamp()
    except Exception:
        stamp = None
    stem = os.path.splitext(os.path.basename(src))[0]
    folder = loc.get_cache_path()
    for index in glob.glob(os.path.join(glob.escape(folder), f"{stem}.*.nbi")):
        if stamp is not None:
            found = _index_stamp(index)
            if found is not None:
                if found == stamp:
                    return True
                continue
        try:
            if os.path.getmtime(index) >= src_mtime:
                return True
        except OSError:
            continue
    return False


def compile_estimate(modules=None):
    """Rough seconds of compilation ahead (0 when every module is cached)."""
    return sum(COMPILE_SECONDS.get(m, 3.0) for m in cold_modules(modules))


def announce_compilation(modules=None, stream=None):
    """Print one line on ``stream`` (stderr) when compilation will take more than a second.

    Returns the estimate in seconds (0 when nothing was printed).
    """
    try:
        seconds = compile_estimate(modules)
    except Exception:  # never let a cache probe stop the command
        return 0.0
    if seconds <= ANNOUNCE_ABOVE_S:
        return 0.0
    stream = stream if stream is not None else sys.stderr
    print(f"compiling clusterlab's kernels (first run only, about {seconds:.0f} s)…",
          file=stream, flush=True)
    return seconds
