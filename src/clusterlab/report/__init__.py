"""The main job: ``clusterlab analyze`` and ``clusterlab demo``.

``data`` reads tables, ``analysis`` runs the analysis on them, ``api`` is
the Python entry point (:func:`clusterlab.analyze`), ``explain`` turns results
into profiles, advice and code, ``html`` renders a self-contained report page,
``model`` saves the recommended model for ``clusterlab predict``, ``warmup``
detects a first-run compilation, and ``demo`` replays the tutorial notebook. Everything here sits on top of the public estimators, metrics,
workflows and figures; nothing here touches a kernel.
"""

from clusterlab.report.data import DataError, Dataset, load_dataset

__all__ = ["DataError", "Dataset", "load_dataset", "analyze", "Analysis", "SavedModel",
           "load_model"]

_LAZY = {"analyze": "clusterlab.report.api", "Analysis": "clusterlab.report.api",
         "SavedModel": "clusterlab.report.model", "load_model": "clusterlab.report.model"}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'clusterlab.report' has no attribute {name!r}")
