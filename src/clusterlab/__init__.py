"""clusterlab: unsupervised learning with the scikit-learn API.

Every public name is imported lazily on first access, so ``import clusterlab``
stays fast and never imports matplotlib or dask.

>>> import clusterlab
>>> clusterlab.__version__
'0.1.0'
"""

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    # K-Means family
    "KMeans": "clusterlab.cluster.kmeans",
    "MiniBatchKMeans": "clusterlab.cluster.minibatch",
    "k_means": "clusterlab.cluster.kmeans",
    "kmeans_plusplus": "clusterlab.cluster.kmeans",
    "BisectingKMeans": "clusterlab.cluster.bisecting_kmeans",
    # density / hierarchy / spectral
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
    # mixtures
    "GaussianMixture": "clusterlab.mixture.gaussian",
    "BayesianGaussianMixture": "clusterlab.mixture.bayesian",
    # metrics
    "silhouette_score": "clusterlab.metrics",
    "silhouette_samples": "clusterlab.metrics",
    "calinski_harabasz_score": "clusterlab.metrics",
    "davies_bouldin_score": "clusterlab.metrics",
    "dbcv_score": "clusterlab.metrics",
    "consensus_score": "clusterlab.metrics",
    # workflows
    "sweep": "clusterlab.selection",
    "DensityAnomalyDetector": "clusterlab.anomaly",
    # the main job, from Python
    "analyze": "clusterlab.report.api",
}

_SUBMODULES = {
    "anomaly",
    "cluster",
    "datasets",
    "distributed",
    "metrics",
    "mixture",
    "plotting",
    "selection",
    "semi_supervised",
}

__all__ = sorted(_EXPORTS) + sorted(_SUBMODULES)


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"clusterlab.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'clusterlab' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
