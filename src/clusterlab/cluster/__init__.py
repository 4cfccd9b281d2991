"""Clustering estimators (imported lazily)."""

import importlib

_EXPORTS = {
    "KMeans": "clusterlab.cluster.kmeans",
    "MiniBatchKMeans": "clusterlab.cluster.minibatch",
    "k_means": "clusterlab.cluster.kmeans",
    "kmeans_plusplus": "clusterlab.cluster.kmeans",
    "DBSCAN": "clusterlab.cluster.dbscan",
    "dbscan": "clusterlab.cluster.dbscan",
    "HDBSCAN": "clusterlab.cluster.hdbscan",
    "AgglomerativeClustering": "clusterlab.cluster.agglomerative",
    "linkage_tree": "clusterlab.cluster.agglomerative",
    "SpectralClustering": "clusterlab.cluster.spectral",
    "spectral_clustering": "clusterlab.cluster.spectral",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'clusterlab.cluster' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
