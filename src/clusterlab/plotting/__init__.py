"""The seed notebook's figures as functions returning matplotlib Figures.

Each function takes fitted estimators and data, draws on a new Figure (or on
an ``ax`` you pass) and returns the Figure; none calls ``plt.show()``.
matplotlib is imported only when a function is called.
"""

import importlib

_EXPORTS = {
    # K-Means and choosing k
    "plot_data": "clusterlab.plotting._common",
    "plot_centroids": "clusterlab.plotting._common",
    "plot_decision_boundaries": "clusterlab.plotting._kmeans",
    "plot_kmeans_iterations": "clusterlab.plotting._kmeans",
    "plot_clusterer_comparison": "clusterlab.plotting._kmeans",
    "plot_inertia_curve": "clusterlab.plotting._selection",
    "plot_silhouette_curve": "clusterlab.plotting._selection",
    "plot_silhouette_diagram": "clusterlab.plotting._selection",
    # mixtures and anomalies
    "plot_gaussian_mixture": "clusterlab.plotting._mixture",
    "plot_covariance_types": "clusterlab.plotting._mixture",
    "plot_anomalies": "clusterlab.plotting._mixture",
    "plot_information_criteria": "clusterlab.plotting._mixture",
    # density, hierarchy, spectral
    "plot_dbscan": "clusterlab.plotting._dbscan",
    "plot_dendrogram": "clusterlab.plotting._agglomerative",
    "plot_spectral_clustering": "clusterlab.plotting._spectral",
    "plot_reachability": "clusterlab.plotting._density",
    "plot_condensed_tree": "clusterlab.plotting._density",
    "plot_single_linkage_tree": "clusterlab.plotting._density",
    # clusterers that choose k
    "plot_mean_shift": "clusterlab.plotting._kfree",
    "plot_affinity_exemplars": "clusterlab.plotting._kfree",
    "plot_birch_subclusters": "clusterlab.plotting._kfree",
    # bisecting K-Means, biclustering
    "plot_bisecting_tree": "clusterlab.plotting._bisect",
    "plot_biclusters": "clusterlab.plotting._bicluster",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'clusterlab.plotting' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
