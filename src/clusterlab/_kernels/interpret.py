"""A kernel's own Python source, run by the interpreter instead of compiled.

numba compiles a kernel the first time a new environment calls it: tenths of
a second to seconds, which is all the time a fit on a handful of rows takes
(complete linkage of the README's four points: 1.8 s of compilation for
microseconds of work). :func:`interpreted` returns the kernel's Python
function with every jitted function it calls replaced, in turn, by its
interpreted version, so that calling it compiles nothing.

Only for kernels compiled without ``fastmath`` and for sizes where the
interpreter is fast enough (the caller decides, from a threshold in
:mod:`clusterlab._config`): numba then does the same IEEE operations in the
same order as Python and numpy scalars, so both give the same bits (tests
compare the two on every kernel used this way). Integer arithmetic stays far
from overflow at those sizes.
"""

import time
import types

import numpy as np
from numba.core.dispatcher import Dispatcher

from clusterlab import _config

_MEMO = {}
#: seconds this process has spent in interpreted kernels (see :func:`use_interpreter`)
_SPENT = [0.0]


def use_interpreter(small):
    """Whether to interpret rather than compile: ``small`` (the caller's size
    test) while this process has spent less than ``INTERPRET_BUDGET_S`` in
    interpreted kernels -- past that, compiling once costs less than
    interpreting every call (a loop over many tiny fits). Results are the same
    either way; only the time differs."""
    return bool(small) and _SPENT[0] < _config.INTERPRET_BUDGET_S


def pick(kernel, interpret):
    """``kernel``, or with ``interpret`` a function that runs its interpreted
    version (:func:`interpreted`) and counts the time it takes. numba wraps
    unsigned integers and divides floats silently; so does this (numpy's
    floating-point warnings off)."""
    if not interpret:
        return kernel
    fn = interpreted(kernel)

    def run(*args):
        t0 = time.perf_counter()
        try:
            with np.errstate(all="ignore"):
                return fn(*args)
        finally:
            _SPENT[0] += time.perf_counter() - t0
    return run


def interpreted(kernel):
    """``kernel``'s Python function, calling the interpreted versions of the
    jitted functions it uses (built once per kernel and cached)."""
    fn = _MEMO.get(kernel)
    if fn is None:
        py = kernel.py_func
        scope = dict(py.__globals__)
        fn = types.FunctionType(py.__code__, scope, py.__name__, py.__defaults__,
                                py.__closure__)
        _MEMO[kernel] = fn  # before the callees: a recursive kernel finds itself
        for name, value in py.__globals__.items():
            if isinstance(value, Dispatcher):
                scope[name] = interpreted(value)
    return fn
