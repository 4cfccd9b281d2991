"""Hierarchical-clustering kernels (Müllner 2011, "Modern hierarchical,
agglomerative clustering algorithms", arXiv:1109.2378), one module per family:

* :mod:`.single` -- :func:`prim_mst_on_the_fly`, the minimum spanning tree by
  Prim's algorithm with distances computed on the fly (single linkage in O(n)
  memory above the data), and :func:`kruskal_select` on a graph's sorted edges;
* :mod:`.ward` -- :func:`ward_nn_chain`, the nearest-neighbour chain for
  Ward's method on centroids and cluster sizes: O(n·d) memory, no distance
  matrix;
* :mod:`.nn_chain` -- :func:`nn_chain_condensed`, the nearest-neighbour chain
  on a condensed distance matrix for complete and average linkage (O(n²)
  memory: the algorithm needs every pairwise cluster distance);
* :mod:`.condensed` -- that matrix: :func:`euclidean_condensed`,
  :func:`condensed_distances`;
* :mod:`.connectivity` -- :func:`connectivity_merge`, greedy merging along a
  sparse connectivity graph with a lazy-deletion binary heap (scikit-learn's
  structured clustering): Ward from moments, complete (max) and average
  (size-weighted mean of the values that exist) updates;
* :mod:`.components` -- closest pairs between the components of a
  disconnected connectivity graph (to complete it);
* :mod:`.labels` -- :func:`relabel_merges`, turning a list of merges between
  point representatives, already in merge order, into ``children`` in
  scikit-learn's numbering (leaves ``0..n-1``, new nodes ``n, n+1, ...``);
* :mod:`.common` -- metric and linkage codes, the on-the-fly pair distance,
  union-find.

Conventions shared by the chain algorithms (so that ties resolve as in
scipy, whose ``linkage`` scikit-learn calls): a chain starts at the lowest
active cluster id; the nearest neighbour of the chain's top is the previous
chain element whenever it is among the nearest, otherwise the lowest id at the
minimal distance; the merged cluster takes the larger of the two ids.

All kernels are plain numba functions on C-contiguous arrays and never
validate their inputs. Arguments are marked IN (read), OUT (written) or INOUT
(read and written). Every name is importable from here (``from
clusterlab._kernels import linkage as _lk; _lk.ward_nn_chain``).
"""

from .common import (
    AVERAGE,
    COMPLETE,
    COSINE,
    EUCLIDEAN,
    MANHATTAN,
    PRECOMPUTED,
    WARD,
    _find,
    _pair_distance,
    _sq_dists_to_column,
)
from .components import closest_pair_between, closest_pairs_between_components
from .condensed import (
    _euclidean_condensed_blocks,
    _euclidean_condensed_rows,
    condensed_distances,
    euclidean_condensed,
)
from .connectivity import (
    _grow_float,
    _grow_int,
    _heap_less,
    _heap_pop,
    _heap_push,
    _heap_swap,
    connectivity_merge,
)
from .labels import relabel_merges
from .nn_chain import _cidx, _lance_williams, nn_chain_condensed
from .single import _prim_relax, kruskal_select, prim_mst_on_the_fly
from .ward import _ward_value, ward_nn_chain

__all__ = [
    "AVERAGE", "COMPLETE", "COSINE", "EUCLIDEAN", "MANHATTAN", "PRECOMPUTED", "WARD",
    "closest_pair_between", "closest_pairs_between_components", "condensed_distances",
    "connectivity_merge", "euclidean_condensed", "kruskal_select", "nn_chain_condensed",
    "prim_mst_on_the_fly", "relabel_merges", "ward_nn_chain",
]
