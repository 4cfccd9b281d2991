"""Blocked "distances to every centre" through matrix products, with an exact re-check of near ties.

The direct kernels of :mod:`clusterlab._kernels.distances` compute
``sum((x - c) ** 2)`` feature by feature: exact to rounding, but one
horizontal reduction per (row, centre) pair. When every row needs its
distance to every centre (a Lloyd step, the first assignment of the bounded
algorithms, a Hamerly re-scan), a matrix product is several times faster:
``||x - c||^2 = ||x||^2 + ||c||^2 - 2 x.c`` with ``x.c`` from one matrix
product per block of 256 rows: clusterlab's own loops where BLAS is slow (a
block transposed feature by feature, or few centres on wide rows:
:func:`.blocks.product_kind`), else BLAS (``np.dot`` inside numba calls
scipy's BLAS). Each is a sum of the same products in some order, so the
bound below holds for all.

The identity cancels badly when ``x`` is far from the origin compared with
``||x - c||``, and a float32 GEMM rounds in float32, so these values are
never trusted blindly. For a row ``x`` every approximate squared distance is
within ``delta(x)`` of the exact one, where (Higham, *Accuracy and Stability
of Numerical Algorithms*, 2nd ed., eq. 3.5: ``|fl(x.c) - x.c| <= gamma_d
sum |x_f c_f| <= gamma_d ||x|| ||c||``)::

    delta(x) = 2 (gamma_d(u_gemm) + u_c) ||x|| c_max + gamma_{d+4}(2^-53) (||x|| + c_max)^2

    + 4 (d + 2) tiny

with ``u_gemm`` the unit roundoff of the GEMM's dtype, ``u_c`` that of the
centres' rounding to it, ``tiny`` its smallest normal number (products that
underflow lose up to that much each), and the result doubled again for
safety. A product that overflows gives a non-finite value; such a row is
never trusted and all its distances are computed exactly. Every
centre whose approximate distance is within ``2 delta`` of the smallest is
re-computed exactly (:func:`sq_dist_rows`, ties to the lowest index), so the
label is exactly the one the direct kernel gives. Bounds derived from the
approximations are widened by ``delta`` (upper bounds) or narrowed by it
(lower bounds), so they stay valid. Only which rows a bounded algorithm can
skip depends on the GEMM's rounding, never the result.

Numba's threads run the row groups; BLAS must then run on one thread (the
estimator wraps the fit in :func:`clusterlab._config.single_threaded_blas`).

Modules: :mod:`.products` (clusterlab's own product loops: over a block
transposed, or over wide rows for few centres), :mod:`.blocks` (the block
products -- those loops or BLAS --, two-nearest sweeps and the exact re-check of
near ties) and :mod:`.passes` (passes over row groups built on them: nearest
centre, Lloyd statistics, full scans and re-scans). This
``__init__`` imports nothing.
"""
