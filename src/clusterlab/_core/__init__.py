"""Shared algorithm code between the kernels and the estimators.

The layer between :mod:`clusterlab._kernels` (numba passes on arrays) and the
public estimators (:mod:`clusterlab.cluster`, :mod:`clusterlab.mixture`,
:mod:`clusterlab.metrics`) and :mod:`clusterlab.distributed`: what several
estimators share and no kernel should know. It imports only ``_kernels``,
``_config`` and ``_validation`` (``tests/test_layers.py`` enforces it).

- :mod:`.kmeans_plan`: the one function that picks a K-Means path (algorithm,
  seeding kernel, parallel or not, BLAS or direct, bound storage) from the
  data's shape and dtype and the thresholds of :mod:`clusterlab._config`.
- :mod:`.kmeans_seeding`: greedy k-means++ over the seeding kernels.
- :mod:`.kmeans_setup`: what ``KMeans``, ``MiniBatchKMeans``,
  ``BisectingKMeans`` and the Dask path share: ``n_init``, an array ``init``,
  centre checks, tolerance, the distinct-cluster warning.
- :mod:`.kmeans_run`: one run from initial centres, through the registry of
  drivers (one short function per algorithm).
"""
