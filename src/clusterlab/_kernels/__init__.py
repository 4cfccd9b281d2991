"""Numba kernels: plain functions on contiguous float32/float64 arrays.

Kernels never validate their inputs and never import an estimator. Each
module covers one concern (distances, kmeans, neighbors, linkage, mixture,
silhouette); every argument's shape, dtype and direction (IN / OUT / INOUT)
is documented in the kernel's docstring.
"""
