"""Numba kernels: plain functions on contiguous float32/float64 arrays.

Kernels never validate their inputs and never import an estimator. Each
module covers one concern (distances, kmeans, neighbors, linkage, mixture,
silhouette); every argument's shape, dtype and direction (IN / OUT / INOUT)
is documented in the kernel's docstring.
"""

# Start numba's thread pool before any kernel runs. A serial kernel that calls
# a parallel one, loaded from the on-disk cache in a fresh process, would
# otherwise abort with "Symbol not found: allocate_sched" (the pool is only
# launched by the Python-level dispatch of a parallel kernel).
from numba.np.ufunc.parallel import _launch_threads

_launch_threads()
del _launch_threads

# Cache keys that see every source a kernel was compiled from, and cached
# kernels loaded without numba's compiler set-up (see _cache_load);
# CLUSTERLAB_QUICK_CACHE_LOAD=0 leaves numba's own keys and loading.
import os as _os

if _os.environ.get("CLUSTERLAB_QUICK_CACHE_LOAD", "1") != "0":
    from clusterlab._kernels import _cache_load

    _cache_load.install()
del _os
