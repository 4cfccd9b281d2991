"""K-Means kernels, one module per algorithm.

A newcomer's route
------------------
To change Hamerly's bound test, open ``hamerly.py``:
:func:`~.hamerly.hamerly_filter_range` is the per-row test, its first test
is :func:`~.hamerly._first_bounds` with :func:`~.hamerly._table_lower`, over
the per-centre table of :func:`~.hamerly.mover_bounds`. The bounds
themselves are checked by
``tests/cluster/test_kmeans_gemm.py::test_hamerly_filter_bounds_stay_valid_with_several_movers``,
the labels by ``tests/cluster/test_kmeans_gemm.py::test_hamerly_*`` and by
``tests/cluster/test_kmeans_plan.py`` (every algorithm x dtype x
serial/parallel x BLAS/direct against scikit-learn, and 1 vs N threads).

The other rooms:

- ``common.py``: group reductions, inertia, empty-cluster relocation, the
  centre update, the stopping rule and its messages (:func:`~.common.convergence`).
- ``lloyd.py``: Lloyd on dense rows (``columnar.py``: blocks for at most 8
  features; BLAS blocks in :mod:`clusterlab._kernels.gemm`; two centres by
  the side of the bisector, ``_lloyd_stats_two``, tested bit for bit against
  the general pass in ``test_kmeans_properties.py``).
- ``csr.py``: Lloyd on sparse CSR rows.
- ``hamerly.py``, ``elkan.py``, ``yinyang.py``: the per-algorithm bound tests
  and E-steps; ``bounded.py``: the loop they share
  (:func:`~.bounded.bounded_run`); ``sums.py``: the incremental cluster sums.
- ``kpp.py`` (pruned and buffered), ``kpp_columnar.py``, ``kpp32.py`` (float32
  scoring): k-means++ seeding; ``tests/cluster/test_kmeans_gemm.py::
  test_all_kmeans_plusplus_kernels_*`` and ``test_kmeans_plan.py``.
- ``moments.py``: the scale of ``tol``.
- Which path a fit runs: :func:`clusterlab._core.kmeans_plan.make_plan`, with
  every threshold in :mod:`clusterlab._config`; tests force a path with
  ``kmeans_plan.forced(...)``. The drivers (one per algorithm):
  :data:`clusterlab._core.kmeans_run.DRIVERS`.

Every algorithm must give the same labels as Lloyd on the same input; the
equivalence tests (``tests/cluster/test_kmeans*.py``) fit each algorithm x
dtype x dense/sparse x 1/N threads and compare.

Conventions
-----------
Plain numba functions on C-contiguous arrays, no validation.

- ``X`` is (n, d) float32 or float64; ``sample_weight`` is (n,) of any float
  dtype; centres are float64 while iterating (the estimator casts back to
  ``X.dtype`` at the end); every sum over rows is accumulated in float64.
- Rows are cut into a fixed list of groups, ``bounds`` (G + 1,) int64 with
  ``bounds[0] = 0`` and ``bounds[-1] = n``. Groups run in parallel (``prange``)
  and their partial results are reduced in group order, so results never
  depend on the number of threads: only on ``bounds``, which the caller
  derives from the data shape alone. With one group nothing runs in parallel
  (no thread start-up cost on tiny data).
- Labels are int32. Arguments are marked IN, OUT or INOUT.
- The run loops (:func:`~.lloyd.lloyd_run`, :func:`~.bounded.bounded_run`,
  :func:`~.csr.csr_lloyd_run`) and the dispatchers (:func:`~.lloyd.lloyd_stats`,
  :func:`~.sums.cluster_sums`, :func:`~.kpp.kpp_pass`, ...) are plain Python
  around one jitted pass each. This is deliberate (a departure from "every
  kernel is jitted"): a jitted function compiles everything it *could* call,
  so a fit compiles only the passes it runs; the Python loop costs a few
  microseconds per iteration.

The three exact algorithms (Lloyd, Hamerly, Elkan; Yinyang too) produce the
same sequence of labels and centres: each iteration assigns every point to its
nearest centre (ties to the lowest index), relocates empty clusters to the
points farthest from their centres (as scikit-learn), moves each centre to the
weighted mean of its points, and stops on strict label stability or when the
squared centre shift summed over clusters is ``<= tol``. Hamerly and Elkan
skip points whose bounds prove the label unchanged and update the cluster
sums incrementally (only points that changed label move their contribution).

This ``__init__`` imports nothing: import the module you need, so that a fit
loads only the kernels it runs.
"""
