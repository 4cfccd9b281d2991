"""Serial or parallel, one mechanism: one source, compiled for N threads or for one.

Every parallel pass is one function whose outer loop is ``for g in
nb.prange(n_groups)`` over row groups (or rows); each group writes its own
partial results, which the caller reduces in group order. It is declared with
:func:`parallel_kernel` instead of ``numba.njit(parallel=True)``, which gives a
:class:`ThreadedKernel`: the same source compiled twice, lazily,

* ``.parallel`` -- with ``parallel=True`` (numba's parfor lowering: ``prange``
  spreads over numba's threads);
* ``.serial`` -- without it (``prange`` is a plain ``range``), cached on disk
  under its own name.

Both run the same loop body in the same order within a group, so 1 and N
threads give the same result. The serial compilation costs about a third of
the parallel one, which is why it matters: small inputs -- a new user's first
analysis, most tests -- never compile the parfor variant at all.

Which one a call runs:

* ``on_threads(kernel, parallel)`` -- the caller decided (a policy:
  :func:`clusterlab._core.kmeans_plan.make_plan` for K-Means);
* ``kernel(*args)`` -- the serial compilation when numba runs on one thread
  (``numba.set_num_threads(1)``, ``n_jobs=1``) or when the arrays passed hold
  fewer than :data:`clusterlab._config.THREADED_KERNEL_MIN_BYTES` bytes
  together, else the parallel one.

A kernel called from inside another jitted function must be the compiled
dispatcher itself: use ``kernel.parallel`` or ``kernel.serial`` there.
"""

import types

import numba as nb
import numpy as np

from clusterlab import _config


def _renamed(py_func, suffix):
    """A copy of ``py_func`` whose code object carries another name.

    numba's on-disk cache names its files after the function's qualified name
    and first line: the copy is cached beside the original, not over it.
    """
    code = py_func.__code__
    code = code.replace(co_name=code.co_name + suffix,
                        co_qualname=py_func.__qualname__ + suffix)
    func = types.FunctionType(code, py_func.__globals__, code.co_name,
                              py_func.__defaults__, py_func.__closure__)
    func.__qualname__ = py_func.__qualname__ + suffix
    func.__module__ = py_func.__module__
    func.__doc__ = py_func.__doc__
    func.__kwdefaults__ = py_func.__kwdefaults__
    return func


class ThreadedKernel:
    """One ``prange`` source, compiled with and without numba's parallel lowering.

    Attributes
    ----------
    parallel : numba dispatcher
        ``njit(parallel=True, **options)`` of the source.
    serial : numba dispatcher
        ``njit(**options)`` of a renamed copy of the source (built on first use).
    py_func : function
        The source.
    """

    def __init__(self, py_func, options):
        self.py_func = py_func
        self._options = dict(options)
        self._parallel = None
        self._serial = None
        self.__name__ = py_func.__name__
        self.__qualname__ = py_func.__qualname__
        self.__module__ = py_func.__module__
        self.__doc__ = py_func.__doc__
        self.__wrapped__ = py_func

    @property
    def parallel(self):
        if self._parallel is None:
            self._parallel = nb.njit(parallel=True, **self._options)(self.py_func)
        return self._parallel

    @property
    def serial(self):
        if self._serial is None:
            self._serial = nb.njit(**self._options)(_renamed(self.py_func, "__serial"))
        return self._serial

    @property
    def signatures(self):
        """Signatures compiled so far, of both compilations."""
        return [sig for disp in (self._serial, self._parallel) if disp is not None
                for sig in disp.signatures]

    def __call__(self, *args):
        if nb.get_num_threads() == 1:
            return self.serial(*args)
        size = 0
        for a in args:
            if isinstance(a, np.ndarray):
                size += a.nbytes
        if size < _config.THREADED_KERNEL_MIN_BYTES:
            return self.serial(*args)
        return self.parallel(*args)

    def __repr__(self):
        return f"<ThreadedKernel {self.__module__}.{self.__qualname__}>"


def parallel_kernel(**options):
    """Decorator: a :class:`ThreadedKernel` of the function (``options`` go to
    ``numba.njit``, e.g. ``cache=True, nogil=True, fastmath=...``)."""
    options.pop("parallel", None)

    def wrap(py_func):
        return ThreadedKernel(py_func, options)

    return wrap


def on_threads(kernel, parallel):
    """``kernel``'s compilation for numba's threads when ``parallel``, else its
    serial compilation (a plain dispatcher is returned unchanged)."""
    if not isinstance(kernel, ThreadedKernel):
        return kernel
    if parallel and nb.get_num_threads() > 1:
        return kernel.parallel
    return kernel.serial
