"""Clustering estimators (imported lazily)."""

import importlib
import sys
import types

_EXPORTS = {
    "KMeans": "clusterlab.cluster.kmeans",
    "MiniBatchKMeans": "clusterlab.cluster.minibatch",
    "k_means": "clusterlab.cluster.kmeans",
    "kmeans_plusplus": "clusterlab.cluster.kmeans",
    "BisectingKMeans": "clusterlab.cluster.bisecting_kmeans",
    "DBSCAN": "clusterlab.cluster.dbscan",
    "dbscan": "clusterlab.cluster.dbscan",
    "HDBSCAN": "clusterlab.cluster.hdbscan",
    "AgglomerativeClustering": "clusterlab.cluster.agglomerative",
    "linkage_tree": "clusterlab.cluster.agglomerative",
    "Genie": "clusterlab.cluster.genie",
    "SpectralClustering": "clusterlab.cluster.spectral",
    "spectral_clustering": "clusterlab.cluster.spectral",
    "OPTICS": "clusterlab.cluster.optics",
    "compute_optics_graph": "clusterlab.cluster.optics",
    "cluster_optics_dbscan": "clusterlab.cluster.optics",
    "cluster_optics_xi": "clusterlab.cluster.optics",
    "MeanShift": "clusterlab.cluster.mean_shift",
    "mean_shift": "clusterlab.cluster.mean_shift",
    "estimate_bandwidth": "clusterlab.cluster.mean_shift",
    "get_bin_seeds": "clusterlab.cluster.mean_shift",
    "AffinityPropagation": "clusterlab.cluster.affinity_propagation",
    "affinity_propagation": "clusterlab.cluster.affinity_propagation",
    "Birch": "clusterlab.cluster.birch",
    "FeatureAgglomeration": "clusterlab.cluster.feature_agglomeration",
    "ward_tree": "clusterlab.cluster.feature_agglomeration",
    "SpectralClustering": "clusterlab.cluster.spectral",
    "spectral_clustering": "clusterlab.cluster.spectral",
    "SpectralBiclustering": "clusterlab.cluster.bicluster",
    "SpectralCoclustering": "clusterlab.cluster.bicluster",
}

__all__ = sorted(_EXPORTS)

#: public functions named like the module that defines them: as in scikit-learn,
#: ``clusterlab.cluster.dbscan`` is the function. Importing the module
#: ``clusterlab.cluster.dbscan`` (which any fit of DBSCAN does) would set the
#: package's attribute to the module; the package refuses that assignment, so
#: the name keeps resolving to the function through ``__getattr__``.
_SHADOWED = frozenset(n for n, m in _EXPORTS.items() if m.rsplit(".", 1)[1] == n)


class _Package(types.ModuleType):
    def __setattr__(self, name, value):
        if name in _SHADOWED and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'clusterlab.cluster' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
