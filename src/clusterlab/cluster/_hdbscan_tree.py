"""HDBSCAN's second half: from the sorted MST to labels, probabilities, scores.

A small fitted-state holder, :class:`CondensedTree`, keeps the arrays the
kernels of :mod:`clusterlab._kernels.hdbscan_tree` produce (in the index
space of the finite rows the tree was built on) so that prediction and soft
clustering reuse them.
"""

import numpy as np

from .._kernels import hdbscan_tree as _tk

HIERARCHY_dtype = np.dtype([("left_node", np.intp), ("right_node", np.intp),
                            ("value", np.float64), ("cluster_size", np.intp)])
CONDENSED_dtype = np.dtype([("parent", np.intp), ("child", np.intp),
                            ("lambda_val", np.float64), ("child_size", np.intp)])


def _size_limit(size, n):
    """A cluster-size bound as an int64 the kernels take: no group holds more
    than ``n`` points, so any bound above ``n`` (Python ints beyond int64
    included) acts as ``n + 1``."""
    return int(min(int(size), n + 1))


class CondensedTree:
    """Single-linkage and condensed tree of ``n`` points, cluster facts and the
    flat clustering chosen from them."""

    def __init__(self, u, v, w, min_cluster_size):
        n = u.shape[0] + 1
        self.n = n
        m = n - 1
        self.left = np.empty(m, dtype=np.int64)
        self.right = np.empty(m, dtype=np.int64)
        self.dist = np.empty(m, dtype=np.float64)
        self.size = np.empty(m, dtype=np.int64)
        _tk.single_linkage(u, v, w, self.left, self.right, self.dist, self.size)
        cap = 2 * n
        parent = np.empty(cap, dtype=np.int64)
        child = np.empty(cap, dtype=np.int64)
        lam = np.empty(cap, dtype=np.float64)
        csize = np.empty(cap, dtype=np.int64)
        rows = _tk.condense_tree(self.left, self.right, self.dist, self.size,
                                 _size_limit(min_cluster_size, n), parent, child, lam, csize)
        self.parent = parent[:rows].copy()
        self.child = child[:rows].copy()
        self.lam = lam[:rows].copy()
        self.child_size = csize[:rows].copy()
        k = int(self.parent.max()) - n + 1 if rows else 1
        self.n_clusters_total = k
        self.cluster_parent = np.empty(k, dtype=np.int64)
        self.cluster_birth = np.empty(k, dtype=np.float64)
        self.cluster_size = np.empty(k, dtype=np.int64)
        self.stability = np.empty(k, dtype=np.float64)
        self.direct_max = np.empty(k, dtype=np.float64)
        self.last_run_max = np.empty(k, dtype=np.float64)
        _tk.cluster_arrays(self.parent, self.child, self.lam, self.child_size, n, k,
                           self.cluster_parent, self.cluster_birth, self.cluster_size,
                           self.stability, self.direct_max, self.last_run_max)
        self.row_of = np.empty(n, dtype=np.int64)
        _tk.point_rows(self.parent, self.child, n, self.row_of)

    def select(self, method, allow_single_cluster, epsilon, max_cluster_size):
        """Choose the clusters; set ``selected`` (cluster ids, label order),
        ``labels`` and ``probabilities`` (scikit-learn's semantics)."""
        n = self.n
        k = self.n_clusters_total
        sel = np.zeros(k, dtype=np.bool_)
        # no cluster holds more than n points: a larger limit (any integer
        # scikit-learn accepts, beyond int64 too) means no limit
        limit = 0 if max_cluster_size is None else _size_limit(max_cluster_size, n)
        _tk.select_clusters(n, self.cluster_parent, self.cluster_size, self.stability,
                            method == "leaf", bool(allow_single_cluster), limit, sel)
        if float(epsilon) != 0.0:
            _tk.epsilon_selection(n, self.cluster_parent, self.cluster_birth, method == "leaf",
                                  bool(allow_single_cluster), float(epsilon), sel)
        self.selected = np.flatnonzero(sel).astype(np.int64) + n
        cluster_label = np.full(k, -1, dtype=np.int64)
        cluster_label[self.selected - n] = np.arange(self.selected.shape[0])
        root_rows = self.parent == n
        root_max = float(self.lam[root_rows].max()) if root_rows.any() else 0.0
        labels = np.empty(n, dtype=np.int64)
        _tk.label_points(self.parent, self.child, self.lam, n, self.cluster_parent, sel,
                         cluster_label, bool(allow_single_cluster), float(epsilon), root_max,
                         labels)
        probs = np.empty(n, dtype=np.float64)
        _tk.point_probabilities(self.parent, self.child, self.lam, n, labels,
                                self.selected - n, self.last_run_max, probs)
        self.labels = labels
        self.probabilities = probs
        return labels, probs

    def outlier_scores(self):
        """GLOSH scores (the hdbscan library's definition)."""
        lmax = _tk.subtree_max(self.cluster_parent, self.direct_max, self.n)
        scores = np.zeros(self.n, dtype=np.float64)
        _tk.glosh_scores(self.parent, self.child, self.lam, self.n, lmax, scores)
        return scores

    def labels_at_cut(self, cut, min_cluster_size):
        labels = np.empty(self.n, dtype=np.int64)
        _tk.labels_at_cut(self.left, self.right, self.dist, float(cut),
                          _size_limit(min_cluster_size, self.n), labels)
        return labels

    def label_of_cluster(self):
        """For every cluster (index ``c - n``): the label of its selected
        ancestor-or-self, -1 if none; and that selected cluster (index), -1."""
        k = self.n_clusters_total
        lab = np.full(k, -1, dtype=np.int64)
        owner = np.full(k, -1, dtype=np.int64)
        sel = np.zeros(k, dtype=np.bool_)
        sel[self.selected - self.n] = True
        rank = np.full(k, -1, dtype=np.int64)
        rank[self.selected - self.n] = np.arange(self.selected.shape[0])
        for c in range(k):  # parents have smaller ids than their children
            if sel[c]:
                lab[c] = rank[c]
                owner[c] = c
            elif c > 0:
                p = self.cluster_parent[c] - self.n
                lab[c] = lab[p]
                owner[c] = owner[p]
        return lab, owner

    def exemplars(self):
        """For each selected cluster, the points of its leaf clusters that stay
        longest (lambda equal to the leaf's largest lambda), as index arrays."""
        n = self.n
        k = self.n_clusters_total
        point_rows = self.child < n
        kids = {}
        for x in range(1, k):
            kids.setdefault(int(self.cluster_parent[x]), []).append(x + n)
        out = []
        for c in self.selected:
            # leaves below c, depth first, children in row order
            stack = [c]
            leaves = []
            while stack:
                node = stack.pop()
                ch = kids.get(int(node), [])
                if not ch:
                    leaves.append(node)
                else:
                    stack.extend(reversed(ch))
            pts = []
            for leaf in leaves:
                rows = point_rows & (self.parent == leaf)
                pts.append(self.child[rows & (self.lam == self.direct_max[leaf - n])])
            out.append(np.concatenate(pts) if pts else np.empty(0, dtype=np.int64))
        return out

    # exports -----------------------------------------------------------
    def hierarchy(self):
        out = np.empty(self.n - 1, dtype=HIERARCHY_dtype)
        out["left_node"] = self.left
        out["right_node"] = self.right
        out["value"] = self.dist
        out["cluster_size"] = self.size
        return out

    def condensed(self, index=None, n_total=None):
        """The raw condensed tree; with ``index`` (finite row -> input row), point
        numbers are input rows and cluster numbers start at ``n_total``."""
        out = np.empty(self.parent.shape[0], dtype=CONDENSED_dtype)
        parent = self.parent.copy()
        child = self.child.copy()
        if index is not None and n_total != self.n:
            shift = n_total - self.n
            parent += shift
            is_point = child < self.n
            child[is_point] = index[child[is_point]]
            child[~is_point] += shift
        out["parent"] = parent
        out["child"] = child
        out["lambda_val"] = self.lam
        out["child_size"] = self.child_size
        return out
