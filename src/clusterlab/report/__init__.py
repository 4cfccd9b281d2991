"""The main job: ``clusterlab analyze`` and ``clusterlab demo``.

``data`` reads tables, ``analysis`` runs the seed's analysis on them,
``html`` renders a self-contained report page and ``demo`` replays the seed
notebook. Everything here sits on top of the public estimators, metrics,
workflows and figures; nothing here touches a kernel.
"""

from clusterlab.report.data import DataError, Dataset, load_dataset

__all__ = ["DataError", "Dataset", "load_dataset"]
