"""Evidence for and choice of the recommended clustering.

The rule, in the order an analyst would reason:

1. **Separated groups.** Every candidate partition (every k of every
   method) is scored by its *gap ratio* on the minimum spanning tree of the
   analysis sample (:func:`clusterlab.selection.gap_separation`): the
   weakest boundary's length over the typical neighbour distance inside
   the clusters on either side. Partitions whose every boundary crosses a
   clear gap (ratio >= :data:`GAP_RATIO`), with no tiny cluster and little
   noise, are *separated*; the finest of them (most clusters; then the
   largest smallest cluster; then the widest gap) is recommended, whatever
   the method that found it. This finds rings, spirals and nested shapes
   as well as well-separated blobs.
2. **No structure.** When nothing is separated and a single Gaussian has
   the best integrated completed likelihood (ICL) of all mixtures tried,
   the verdict is "no clear cluster structure".
3. **Overlapping clusters.** Otherwise the clusters touch or overlap and a
   mixture of Gaussians is the model: the covariance type and the number
   of components (two or more) with the best ICL, the parameter count of
   each covariance type counted honestly. ICL rather than BIC because BIC
   counts density components: a non-Gaussian cluster (a uniform diamond, a
   banana) takes several Gaussians, and BIC would report each as a cluster.

Partitions the rule did not pick keep their scores for the report.
"""

import numpy as np

#: a boundary is a clear gap when its tree edge is this many times longer
#: than the typical neighbour distance on either side
GAP_RATIO = 2.0
#: the quantile of within-cluster tree edges taken as the typical distance
GAP_QUANTILE = 0.9
#: a separated partition's clusters hold at least this share of the sample,
#: or of an average cluster's rows (:data:`MIN_CLUSTER_OF_AVERAGE`) when there
#: are many clusters, and at least :data:`MIN_CLUSTER_ROWS` rows: smaller
#: groups are outliers, not clusters
MIN_CLUSTER_SHARE = 0.01
MIN_CLUSTER_OF_AVERAGE = 0.2
MIN_CLUSTER_ROWS = 5
#: a separated partition leaves at most this share of rows as noise
MAX_NOISE_SHARE = 0.2


def gather_evidence(ctx, partitions):
    """Fill ``partition.evidence`` (gap ratio, smallest cluster, noise share)."""
    from clusterlab.cluster.genie import minimum_spanning_tree
    from clusterlab.selection import gap_separation

    trees = {}
    for part in partitions:
        if part.k < 2:
            continue
        lab = np.asarray(part.labels)[ctx.sample_index]
        keep = lab >= 0
        if keep.sum() < 3 or len(np.unique(lab[keep])) < 2:
            continue
        if keep.all():
            tree = ctx.mst
        else:
            key = np.packbits(keep).tobytes()
            if key not in trees:
                trees[key] = minimum_spanning_tree(ctx.Xs[keep])
            tree = trees[key]
        _, lab_kept = np.unique(lab[keep], return_inverse=True)
        part.evidence.update(
            gap=gap_separation(tree, lab_kept, GAP_QUANTILE),
            min_size=int(np.bincount(lab_kept).min()),
            noise=float(1.0 - keep.mean()),
        )


def separated(part, m):
    """Whether a partition passes the separated-groups test (``m`` sample rows)."""
    ev = part.evidence
    return ("gap" in ev and ev["gap"] >= GAP_RATIO
            and ev["min_size"] >= max(MIN_CLUSTER_ROWS, min(MIN_CLUSTER_SHARE * m,
                                                            MIN_CLUSTER_OF_AVERAGE * m / part.k))
            and ev["noise"] <= MAX_NOISE_SHARE)


def recommend(ctx, partitions, title):
    """Pick the recommended partition.

    Returns ``(partition, verdict, reasons)``; ``verdict`` is ``"separated"``,
    ``"overlapping"``, ``"no structure"`` or ``"fallback"``.
    """
    m = len(ctx.sample_index)
    ok = [p for p in partitions if separated(p, m)]
    gaps = [p.evidence["gap"] for p in partitions if "gap" in p.evidence]
    best_gap = max(gaps) if gaps else float("nan")
    if ok:
        pick = max(ok, key=lambda p: (p.k, p.evidence["min_size"], p.evidence["gap"]))
        finer = [p for p in partitions if p.k > pick.k and "gap" in p.evidence]
        finer_gap = max((p.evidence["gap"] for p in finer), default=None)
        noise = pick.evidence["noise"]
        reason = (
            f"The rows fall into {pick.k} groups separated by empty space: along the minimum "
            f"spanning tree of the data, every boundary between two of these clusters is at "
            f"least {pick.evidence['gap']:.1f} times longer than the typical distance between "
            f"neighbouring points inside them (gap ratio; a clear gap starts at {GAP_RATIO:g}). "
            f"{title(pick.name)} finds these groups"
            + (f", leaving {noise:.1%} of the rows as noise" if noise > 0 else "") + ".")
        if finer_gap is not None:
            reason += (f" Every finer partition tried cuts through a dense region "
                       f"(gap ratio at most {finer_gap:.2f}).")
        return pick, "separated", [reason]
    gmm = [p for p in partitions if p.name == "gmm"]
    icl_one = getattr(ctx, "gmm_icl_best", None)
    if icl_one is not None and icl_one[1] == 1:
        reason = (
            "No clear cluster structure: no partition tried is separated by gaps (best gap "
            f"ratio {best_gap:.2f}, below {GAP_RATIO:g}), and among the Gaussian mixtures the "
            "integrated completed likelihood (ICL, which penalises overlapping components) is "
            "best with a single component. Splitting these rows into clusters would describe "
            "noise or one continuous cloud, not groups; the clusterings below are shown for "
            "exploration only.")
        one = getattr(ctx, "gmm_single", None)
        return one, "no structure", [reason]
    if gmm:
        pick = gmm[0]
        cov = pick.params.get("covariance_type")
        n_models = len(getattr(ctx.res, "gmm_table", {}) or {})
        reason = (
            "No partition tried is separated by clear gaps (best gap ratio "
            f"{best_gap:.2f}, below {GAP_RATIO:g}): the clusters touch or overlap, so a model of "
            f"overlapping densities describes them. The Gaussian mixture with "
            f"{pick.params.get('n_components')} components and covariance_type='{cov}' has the "
            f"best integrated completed likelihood (ICL) of the {n_models} mixtures compared "
            "(every covariance type and number of components, each charged for its own number "
            "of parameters, and for assignments its components leave uncertain).")
        bic_best = getattr(ctx, "gmm_bic_best", None)
        if bic_best is not None and bic_best != (cov, pick.params.get("n_components")):
            reason += (f" BIC, which counts density components rather than clusters, prefers "
                       f"{bic_best[1]} components with covariance_type='{bic_best[0]}': some "
                       "clusters are not Gaussian and take several components to describe.")
        return pick, "overlapping", [reason]
    own = [p for p in partitions if p.evidence.get("own_best") and p.k >= 2]
    if not own:
        return None, "fallback", ["No candidate produced a clustering with two or more clusters."]
    pick = max(own, key=lambda p: p.evidence.get("gap", 0.0))
    return pick, "fallback", [
        f"No partition is separated by clear gaps and no Gaussian mixture ran; "
        f"{title(pick.name)} with {pick.k} clusters has the widest gap of the remaining "
        "candidates."]
