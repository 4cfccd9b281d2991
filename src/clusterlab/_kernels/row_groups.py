"""Serial or parallel, one mechanism: the same row-group kernel on N threads or on one.

Every pass of the K-Means kernels is one ``parallel=True`` function whose
outer loop is ``for g in nb.prange(n_groups)`` over the row groups of
``bounds``; each group writes its own partial results, which the caller
reduces in group order. Whether a pass should use numba's threads (a policy
decision: :func:`clusterlab.cluster._kmeans_plan.make_plan`) only changes how
many threads run that same compiled function, never its result, so 1 and N
threads give identical results by construction.
"""

import functools

import numba as nb


def _one_thread(kernel, *args):
    n_threads = nb.get_num_threads()
    nb.set_num_threads(1)
    try:
        return kernel(*args)
    finally:
        nb.set_num_threads(n_threads)


def on_threads(kernel, parallel):
    """``kernel`` to call on numba's threads when ``parallel``, else on this thread alone.

    Parameters
    ----------
    kernel : numba dispatcher
        A row-group kernel (outer ``prange`` over groups, per-group outputs).
    parallel : bool
        Use numba's threads.

    Returns
    -------
    callable
        ``kernel`` itself, or a wrapper that runs it with
        ``numba.set_num_threads(1)`` (the setting is per calling thread, and
        restored afterwards; starting a one-thread region costs a few
        microseconds).
    """
    if parallel or nb.get_num_threads() == 1:
        return kernel
    return functools.partial(_one_thread, kernel)
