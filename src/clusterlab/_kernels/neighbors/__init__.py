"""Radius-neighbour kernels: a grid index, radius queries, DBSCAN's passes.

Everything here works *without ever storing a neighbourhood*: each pass
re-enumerates the candidate pairs from a spatial index and keeps only O(n)
state (one weight sum, one flag, one parent or one label per point).

Where to look (one concern per module):

* :mod:`.metric` -- reduced Minkowski distances, bounding-box gaps, metric
  codes (``metric_code``, ``reduced_radius``);
* :mod:`.grid` -- :class:`GridIndex` (cells, neighbour-cell offsets, blocks
  with bounding boxes, parallel work items) and its building kernels;
* :mod:`.radius` -- radius queries on the index: :func:`radius_neighbors_csr`
  (the radius-neighbour graph);
* :mod:`.dbscan` -- DBSCAN's core-point, union-find and border passes on the
  grid, and the label of new points (:func:`grid_predict_labels`);
* :mod:`.precomputed` -- the same passes on precomputed distances (dense row
  blocks, CSR matrices);
* :mod:`.unionfind` -- the union-find forest and the numbering of its
  components.

Every name of these modules is importable from here (``from
clusterlab._kernels import neighbors as _nk; _nk.GridIndex``). Tunables (work
item and block sizes) live in :mod:`clusterlab._config`.
"""

from .dbscan import (
    _all_same_root,
    _cell_first_core,
    _cell_has_within,
    _join_cores,
    grid_border_labels,
    grid_cell_labels,
    grid_core_points,
    grid_predict_labels,
    grid_union_cores,
)
from .grid import (
    MAX_KEY,
    GridIndex,
    _diameter_factor,
    _gap_norm,
    _neighbour_cells,
    grid_block_order,
    grid_cell_boxes,
    grid_cell_keys,
)
from .metric import (
    _JIT,
    CHUNK,
    METRIC_CODES,
    _box_within,
    _box_within_t,
    _chunk_rdist,
    _rdist,
    _within,
    metric_code,
    reduced_radius,
)
from .precomputed import (
    csr_border_labels,
    csr_neighbour_weights,
    csr_union_cores,
    dense_border_labels,
    dense_neighbour_weights,
    dense_union_cores,
)
from .products import (
    list_border_labels,
    list_union_cores,
    list_weights,
    product_tolerance_consts,
    product_upper_counts,
    product_upper_fill,
    symmetric_lists,
)
from .radius import grid_radius_pairs, radius_neighbors_csr
from .unionfind import _find, _union, init_parent, label_components, label_components_plain

__all__ = [
    "CHUNK", "MAX_KEY", "METRIC_CODES", "GridIndex", "csr_border_labels",
    "csr_neighbour_weights", "csr_union_cores", "dense_border_labels",
    "dense_neighbour_weights", "dense_union_cores", "grid_block_order", "grid_border_labels",
    "grid_cell_boxes", "grid_cell_keys", "grid_cell_labels", "grid_core_points",
    "grid_predict_labels",
    "grid_radius_pairs", "grid_union_cores", "init_parent", "label_components",
    "label_components_plain", "list_border_labels", "list_union_cores", "list_weights",
    "metric_code", "product_tolerance_consts", "product_upper_counts", "product_upper_fill",
    "radius_neighbors_csr", "reduced_radius", "symmetric_lists",
]
