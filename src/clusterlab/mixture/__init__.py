"""Gaussian mixtures (imported lazily)."""

import importlib

_EXPORTS = {
    "GaussianMixture": "clusterlab.mixture.gaussian",
    "BayesianGaussianMixture": "clusterlab.mixture.bayesian",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'clusterlab.mixture' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
