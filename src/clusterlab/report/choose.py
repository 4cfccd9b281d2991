"""Evidence for and choice of the recommended clustering.

The rule, in the order an analyst would reason:

1. **Separated groups.** Every candidate partition (every k of every
   method) is scored by its *gap ratio* on the minimum spanning tree of the
   analysis sample (:func:`clusterlab.selection.gap_separation`): the
   weakest boundary's length over the typical neighbour distance inside
   the clusters on either side. Partitions whose every boundary crosses a
   clear gap (ratio >= :data:`GAP_RATIO`; more on a line, see
   :func:`gap_threshold`), with no tiny cluster and little
   noise, are *separated*; the finest of them (most clusters; then the least
   noise; then the largest smallest cluster; then the widest gap) is
   recommended, whatever
   the method that found it. This finds rings, spirals and nested shapes
   as well as well-separated blobs. When it sets rows aside as noise and a
   partition of every row finds the same groups
   (:data:`SAME_GROUPS_ARI`), that partition is recommended instead. A
   finer K-Means or mixture partition that splits the groups along density
   valleys (:func:`refines_along_valleys`: touching blobs) is preferred.
2. **No structure.** When nothing is separated and a single Gaussian has
   the best integrated completed likelihood (ICL) of all mixtures tried,
   the verdict is "no clear cluster structure" -- unless BIC's best
   mixture has exactly two components with a density dip between them
   (:data:`TWO_GAUSSIANS_VALLEY`): two overlapping clusters, which ICL's
   charge for uncertain assignments merges. (Uniform noise takes three or
   more Gaussians under BIC; one Gaussian cloud, one.)
3. **Overlapping clusters.** Otherwise the clusters touch or overlap and a
   mixture of Gaussians is the model: the covariance type and the number
   of components (two or more) with the best ICL, the parameter count of
   each covariance type counted honestly. ICL rather than BIC because BIC
   counts density components: a non-Gaussian cluster (a uniform diamond, a
   banana) takes several Gaussians, and BIC would report each as a cluster.
   When the ICL is still improving in the last step of the grid of
   component counts, the mixtures found no number of clusters (each
   component adds detail, not a cluster): K-Means at its best silhouette
   is recommended.

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
#: ... and a group of this many rows beyond a clear gap is a cluster whatever its
#: share (40 tight rows far from 4300 others are not outliers)
MIN_CLUSTER_SURE_ROWS = 30
#: a separated partition leaves at most this share of rows as noise
MAX_NOISE_SHARE = 0.2
#: a separated group is split along a finer partition's clusters only where
#: the density between two adjacent clusters falls below this share of the
#: lower of their two peaks (touching blobs, two Gaussians at least 4 sd
#: apart; not pieces of one ring, whose chords dip to 0.3-0.9) and below what
#: counting noise gives (:func:`valley_threshold`)
VALLEY_RATIO = 0.25
#: the same for the partition a model picks itself (K-Means at its best
#: silhouette, the mixture at its best ICL): that choice is evidence of its
#: own, and a dip below half the lower peak (two Gaussians ~3.3 sd apart)
#: suffices. Not for every k tried: some k splits a ring into halves whose
#: chord crosses the empty middle, and in many dimensions K-Means finds a
#: direction along which any few hundred rows fall apart. Only on data of at
#: most :data:`LOCAL_DENSITY_MAX_DIM` columns, where the local density test
#: guards it (:func:`refines_along_valleys`).
VALLEY_RATIO_OWN_CHOICE = 0.5
#: ... and only where the data itself thins out there (:func:`valley_local_density`
#: below this), read in at most :data:`LOCAL_DENSITY_MAX_DIM` columns (in more,
#: neighbour distances concentrate and their ratio says little)
LOCAL_DENSITY_RATIO = 0.8
LOCAL_DENSITY_MAX_DIM = 3
#: the neighbour whose distance measures the local density, and the most rows
#: of a pair of clusters read for it (a random sample beyond)
LOCAL_DENSITY_NEIGHBOURS = 10
LOCAL_DENSITY_ROWS = 4000
#: the valley direction is Fisher's only with this many rows a column and
#: more (:func:`discriminant`), shrunk towards the mean difference with fewer
DISCRIMINANT_ROWS_PER_COLUMN = 10
#: share of the valley tests that may fail (rounded down: none below 20 tests)
VALLEY_TOLERANCE = 0.05
#: fewest rows on each side for a valley test (a histogram of fewer is noise)
VALLEY_MIN_ROWS = 20
#: when ICL prefers one Gaussian and BIC exactly two, the two are recommended
#: when the density between them dips below this share of the lower peak
#: (:func:`valley_depth`; a lone skewed or heavy-tailed cloud, which BIC may
#: also describe with two components, shows no dip) and below what counting
#: noise gives on a flat density (:func:`chance_valley`)
TWO_GAUSSIANS_VALLEY = 0.9
#: fewest rows on each side of the two-Gaussian valley test
TWO_GAUSSIANS_MIN_ROWS = 50
#: a separated partition that leaves rows as noise gives way to a partition
#: labelling every row that finds the same groups: the same number of
#: clusters and at least this adjusted Rand index on the rows it clusters
SAME_GROUPS_ARI = 0.95
#: the candidates whose finer partitions may split separated groups
REFINERS = ("kmeans", "gmm")


def _valley_bins(n):
    """Histogram bins of :func:`valley_depth` for ``n`` projected rows (also
    what :func:`chance_valley` counts noise over)."""
    return int(max(12, min(60, 1.5 * np.sqrt(n))))


def discriminant(A, B):
    """The direction that tells two groups of points apart best (Fisher's):
    their mean difference through the inverse of the pooled within-group
    covariance, shrunk towards its average variance unless there are many
    rows a column (:data:`DISCRIMINANT_ROWS_PER_COLUMN`: with fewer, a
    direction fitted to the same rows separates any split of them). Unlike
    the mean difference itself it does not depend on how the columns are
    scaled: a group the data's scaling stretches along one column is not
    read across its stretch."""
    u = B.mean(axis=0) - A.mean(axis=0)
    d = u.shape[0]
    n = len(A) + len(B)
    if d == 1 or n <= 2:
        return u
    shrink = min(1.0, DISCRIMINANT_ROWS_PER_COLUMN * d / n)
    if shrink >= 1.0:
        return u  # the average variance alone: the mean difference, no d x d matrix
    centred = np.r_[A - A.mean(axis=0), B - B.mean(axis=0)]
    S = centred.T @ centred / (n - 2)
    level = float(np.trace(S)) / d
    if not np.isfinite(level) or level <= 0.0:
        return u
    S = (1.0 - shrink) * S + (shrink + 1e-9) * level * np.eye(d)
    try:
        return np.linalg.solve(S, u)
    except np.linalg.LinAlgError:
        return u


def _projected(A, B, fisher=True):
    """The rows of ``A`` and ``B`` along :func:`discriminant` (``fisher``; else
    their mean difference) and their smoothed histogram: ``(t, hist, centres,
    ia, ib)``, ``ia``/``ib`` the bins of the two means; None when the means
    coincide or fall in neighbouring bins."""
    ma = A.mean(axis=0)
    u = B.mean(axis=0) - ma
    w = discriminant(A, B) if fisher else u
    length = float(u @ w)
    if not length > 0.0:
        return None
    t = np.r_[(A - ma) @ w, (B - ma) @ w]
    bins = _valley_bins(len(t))
    lo, hi = np.quantile(t, [0.01, 0.99])
    if hi <= lo:
        return None
    hist, edges = np.histogram(t, bins=bins, range=(lo, hi))
    hist = np.convolve(hist, np.ones(3) / 3.0, mode="same")
    centres = (edges[:-1] + edges[1:]) / 2
    ia, ib = int(np.argmin(np.abs(centres))), int(np.argmin(np.abs(centres - length)))
    if ib - ia < 2:
        return None
    return t, hist, centres, ia, ib


def valley_depth(A, B, fisher=True):
    """Density valley between two groups of points, along the direction that
    separates them best (:func:`discriminant`; with ``fisher`` False, along
    their mean difference): the smallest histogram density between the two
    means over the lower of the two peaks (1: no valley; near 0: a clear
    gap)."""
    proj = _projected(A, B, fisher)
    if proj is None:
        return 1.0
    _, hist, _, ia, ib = proj
    peak = min(hist[max(0, ia - 1):ia + 2].max(), hist[ib - 1:ib + 2].max())
    return float(hist[ia:ib + 1].min() / max(peak, 1e-12))


def valley_local_density(A, B, k=LOCAL_DENSITY_NEIGHBOURS, max_rows=LOCAL_DENSITY_ROWS):
    """How dense the data itself is where the projection of :func:`valley_depth`
    dips, over how dense it is at the lower of the two peaks: ``(r_peak /
    r_valley) ** d`` with ``r`` the median distance to the ``k``-th nearest
    neighbour among the rows of both groups in the valley's and the peaks'
    bins (three bins wide). Touching blobs: about the valley depth. A shape
    that folds back (a Z's diagonal, an S's bend): about 1 -- the projection
    spreads the connecting stroke thin, but along the stroke the rows lie as
    close as in the bars. At most ``max_rows`` rows are read (a random
    sample). 0.0 when the valley is all but empty, 1.0 without a valley."""
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(0)
    n = len(A) + len(B)
    if n > max_rows:
        A = A[rng.choice(len(A), max(2, len(A) * max_rows // n), replace=False)]
        B = B[rng.choice(len(B), max(2, len(B) * max_rows // n), replace=False)]
    proj = _projected(A, B)
    if proj is None:
        return 1.0
    t, hist, centres, ia, ib = proj
    iv = ia + int(np.argmin(hist[ia:ib + 1]))
    half = 1.5 * (centres[1] - centres[0])
    P = np.r_[A, B]
    zones = [np.abs(t - centres[i]) <= half for i in (iv, ia, ib)]
    if zones[0].sum() < 3:
        return 0.0
    r = cKDTree(P).query(P, k + 1)[0][:, -1]
    r_valley = float(np.median(r[zones[0]]))
    peaks = [float(np.median(r[z])) for z in zones[1:] if z.any()]
    if not peaks or not r_valley > 0.0:
        return 1.0  # no rows by either mean (a group around an empty middle): no evidence
    return float(min(1.0, max(peaks) / r_valley) ** P.shape[1])


def chance_valley(n):
    """The lowest :func:`valley_depth` that counting noise gives, three times in
    a thousand, on a flat density of ``n`` rows: its histogram has about
    ``n / bins`` rows a bin, smoothed over three bins (relative spread
    ``1 / sqrt(3 n / bins)``), and the depth is the lowest of them; a valley
    must dip below ``1 - 3 x`` that spread to be told from noise (0.49 at 300
    rows, 0.62 at 1000, 0.70 at 2000)."""
    per_bin = max(n / _valley_bins(n), 1.0)
    return float(1.0 - 3.0 / np.sqrt(3.0 * per_bin))


def valley_threshold(smaller, ratio=VALLEY_RATIO):
    """The :func:`valley_depth` below which two adjacent components are told
    apart, the smaller of them holding ``smaller`` rows: ``ratio``,
    or what counting noise gives on a flat density of twice the smaller side
    (:func:`chance_valley`; the lower peak is estimated from the smaller side)
    where that is lower (0.30 for two sides of 40 rows, 0.44 for 100)."""
    if smaller < VALLEY_MIN_ROWS:
        return 0.0
    return min(ratio, chance_valley(2 * smaller))


def refines_along_valleys(X, groups, components, min_size, ratio=VALLEY_RATIO, depths=None):
    """Whether the partition ``components`` refines the separated ``groups``
    (noise ``-1`` ignored) with a density valley between adjacent components
    inside each group — every pair, but for :data:`VALLEY_TOLERANCE` of them
    when there are many (a centroid method's local optimum may split one
    blob) — and splits at least one group.

    On data of up to :data:`LOCAL_DENSITY_MAX_DIM` columns valleys are read
    along the discriminant, at ``ratio``, and checked for local density
    (:func:`valley_local_density`). In more columns that check says little,
    and a discriminant or a shallow valley also cuts bent shapes (a C arc
    halved): valleys are read along the mean difference at
    :data:`VALLEY_RATIO`, whatever ``ratio`` asks. ``depths`` (a list), when
    given, receives each valley depth read."""
    from clusterlab.cluster.genie import minimum_spanning_tree

    # each component must lie (mostly) inside one group, but for the same
    # tolerance (a marginal cut of the separated partition may halve a blob)
    straddling = 0
    ids = np.unique(components[components >= 0])
    for c in ids:
        inside = groups[components == c]
        inside = inside[inside >= 0]
        if len(inside) and np.bincount(inside).max() < 0.95 * len(inside):
            straddling += 1
    if straddling > int(VALLEY_TOLERANCE * len(ids)):
        return False
    pairs = []  # neighbouring components inside each group
    for g in np.unique(groups[groups >= 0]):
        rows = np.flatnonzero(groups == g)
        comps, counts = np.unique(components[rows], return_counts=True)
        big = comps[counts >= min_size]
        if len(big) < 2:
            continue
        parts = [X[rows[components[rows] == c]] for c in big]
        means = np.array([part.mean(axis=0) for part in parts])
        a, b, _ = minimum_spanning_tree(means)
        pairs.extend((parts[i], parts[j]) for i, j in zip(a, b))
    low = X.shape[1] <= LOCAL_DENSITY_MAX_DIM
    if not low:
        ratio = VALLEY_RATIO
    allowed = int(VALLEY_TOLERANCE * len(pairs))
    fails = 0
    for A, B in pairs:
        # a side too small for a histogram counts as a failed test
        smaller = min(len(A), len(B))
        if smaller < VALLEY_MIN_ROWS:
            fails += 1
        else:
            depth = valley_depth(A, B, low)
            if depths is not None:
                depths.append(depth)
            fails += (depth >= valley_threshold(smaller, ratio)
                      or (low and valley_local_density(A, B) >= LOCAL_DENSITY_RATIO))
        if fails > allowed:
            return False
    return bool(pairs)


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
        full = np.asarray(part.labels)
        found = int(len(np.unique(full[full >= 0])))
        part.evidence.update(
            found=found,
            gap=gap_separation(tree, lab_kept, GAP_QUANTILE),
            min_size=int(np.bincount(lab_kept).min()),
            noise=float(1.0 - keep.mean()),
            # every cluster one repeated row, more of them than the k range
            # holds: the distinct values themselves (an export appended five
            # times, discrete answers), not groups
            atoms=bool(found > getattr(ctx, "k_max", np.inf)
                       and _identical_rows_each(ctx.Xs[keep], lab_kept)),
        )


def _identical_rows_each(X, labels):
    """Whether every cluster of ``labels`` holds copies of one row only."""
    order = np.argsort(labels, kind="stable")
    Xo, lo = X[order], labels[order]
    starts = np.flatnonzero(np.r_[True, lo[1:] != lo[:-1]])
    return bool(np.array_equal(np.maximum.reduceat(Xo, starts, axis=0),
                               np.minimum.reduceat(Xo, starts, axis=0)))


def n_clusters(part):
    """The number of clusters a partition found (a method asked for ``k`` may
    find fewer, e.g. on heavily duplicated rows)."""
    return part.evidence.get("found", part.k)


def _sized(part, m):
    """Whether a partition's clusters are large enough and its noise small
    enough for the separated-groups test (``m`` sample rows)."""
    ev = part.evidence
    return ("gap" in ev and not ev.get("atoms", False)
            and ev["min_size"] >= max(MIN_CLUSTER_ROWS,
                                      min(MIN_CLUSTER_SHARE * m, MIN_CLUSTER_SURE_ROWS,
                                          MIN_CLUSTER_OF_AVERAGE * m / max(n_clusters(part), 1)))
            and ev["noise"] <= MAX_NOISE_SHARE)


def gap_threshold(m, d):
    """The gap ratio that makes a boundary a clear gap, for ``m`` sample rows
    in ``d`` columns: :data:`GAP_RATIO`, but on a line ``log10(m) + 2``.

    On a line the minimum spanning tree is the sorted rows' spacings, which
    are exponentially distributed where the density has no gap: among ``m``
    of them the largest is about ``ln m`` mean spacings, and one above
    ``ln(100 m)`` means (``log10(m) + 2`` times the 90th percentile, 2.3
    means) comes by chance with probability 1 %. In two or more dimensions
    neighbour distances have light tails and a ratio of 2 is already rare.
    """
    if d >= 2:
        return GAP_RATIO
    return max(GAP_RATIO, float(np.log10(max(m, 2))) + 2.0)


def data_dim(ctx):
    """The dimension the gap test sees: the numerical rank of the centred
    sample (a constant or a collinear column does not lift rows off a line).
    Cached on ``ctx``."""
    dim = getattr(ctx, "data_dim", None)
    if dim is None:
        Xs = np.asarray(ctx.Xs, dtype=float)
        if Xs.shape[0] < 2:
            dim = Xs.shape[1]
        else:
            sv = np.linalg.svd(Xs - Xs.mean(axis=0), compute_uv=False)
            dim = int(np.sum(sv > sv[0] * 1e-9)) if sv.size and sv[0] > 0 else 0
        ctx.data_dim = dim
    return dim


def threshold_text(threshold):
    """A gap threshold as the reasons print it (``2``; else two decimals, as the
    gap ratios)."""
    return f"{threshold:g}" if threshold == GAP_RATIO else f"{threshold:.2f}"


def separated(part, m, d=2):
    """Whether a partition passes the separated-groups test (``m`` sample rows,
    ``d`` columns)."""
    return _sized(part, m) and part.evidence["gap"] >= gap_threshold(m, d)


def _share(x):
    """A share as the report's tables print it (one decimal), never "0.0%" for a
    share above zero."""
    return f"{x:.1%}" if x >= 0.0005 else "under 0.1%"


def gap_text(g):
    """A gap ratio for the reasons: ``3.4``; a huge one (clusters whose points
    all but coincide) as ``over 10000``."""
    return f"{g:.1f}" if g < 1e4 else "over 10000"


def _same_groups_every_row(pick, partitions):
    """A partition without noise that finds the groups of ``pick`` (a separated
    partition with noise): the same number of clusters and an adjusted Rand
    index of at least :data:`SAME_GROUPS_ARI` with ``pick`` on the rows
    ``pick`` clusters. Returns ``(partition, agreement)`` of the most similar,
    or None."""
    from sklearn.metrics import adjusted_rand_score

    lab = np.asarray(pick.labels)
    keep = lab >= 0
    best = None
    for part in partitions:
        other = np.asarray(part.labels)
        if (part is pick or part.k < 2 or n_clusters(part) != n_clusters(pick)
                or other.shape != lab.shape or (other < 0).any()):
            continue
        agreement = float(adjusted_rand_score(lab[keep], other[keep]))
        if agreement >= SAME_GROUPS_ARI and (best is None or agreement > best[1]):
            best = (part, agreement)
    return best


def _one_cloud_and_outliers(part):
    """``(rows of the big component, rows of the others, their share)`` when a
    mixture's partition has exactly one component of outlier size or more
    (:data:`MIN_CLUSTER_ROWS`, :data:`MIN_CLUSTER_SHARE`) and others below it;
    else None."""
    lab = np.asarray(part.labels)
    lab = lab[lab >= 0]
    if lab.size == 0:
        return None
    sizes = np.bincount(lab)
    sizes = sizes[sizes > 0]
    small = max(MIN_CLUSTER_ROWS, MIN_CLUSTER_SHARE * lab.size)
    if len(sizes) < 2 or int(np.sum(sizes >= small)) != 1:
        return None
    rest = int(lab.size - sizes.max())
    return int(sizes.max()), rest, rest / lab.size


def recommend(ctx, partitions, title):
    """Pick the recommended partition.

    Returns ``(partition, verdict, reasons)``; ``verdict`` is ``"separated"``,
    ``"overlapping"``, ``"no structure"`` or ``"fallback"``.
    """
    m = len(ctx.sample_index)
    d = data_dim(ctx)
    threshold = gap_threshold(m, d)
    ok = [p for p in partitions if separated(p, m, d)]
    gaps = [p.evidence["gap"] for p in partitions if _sized(p, m)]
    best_gap = max(gaps) if gaps else float("nan")
    outliers_only = any(p.evidence.get("gap", 0.0) >= threshold and not _sized(p, m)
                        for p in partitions)
    if ok:
        pick = max(ok, key=lambda p: (n_clusters(p), -round(p.evidence["noise"], 2),
                                      p.evidence["min_size"], p.evidence["gap"], -p.k))
        k_pick = n_clusters(pick)
        # the valley tests read every row: a histogram needs rows, and with many
        # clusters the sample leaves each too few
        n = ctx.X.shape[0]
        lab = np.asarray(pick.labels)
        # the finest first; at the same k the mixture, whose boundaries follow
        # each cluster's own spread (K-Means' fall midway between centres)
        models = sorted((p for p in partitions
                         if p.name in REFINERS and n_clusters(p) > k_pick and p.k >= 2),
                        key=lambda p: (-p.k, p.name != "gmm"))
        for finer in models:
            comp = np.asarray(finer.labels)
            size = max(MIN_CLUSTER_ROWS, min(MIN_CLUSTER_SHARE * n,
                                             MIN_CLUSTER_OF_AVERAGE * n / finer.k))
            if np.bincount(comp[comp >= 0]).min() < size:
                continue
            ratio = VALLEY_RATIO_OWN_CHOICE if finer.evidence.get("own_best") else VALLEY_RATIO
            depths = []
            if refines_along_valleys(ctx.X, lab, comp, size, ratio, depths):
                return finer, "separated", [
                    f"The rows fall into {k_pick} groups separated by empty space (gap ratio "
                    f"{gap_text(pick.evidence['gap'])} along the minimum spanning tree, found by "
                    f"{title(pick.name)}), and inside them {title(finer.name)} finds "
                    f"{finer.k} clusters with a clear density valley between every two "
                    "neighbouring ones (the density between them falls to at most "
                    f"{max(depths):.0%} of the lower of their peaks): touching blobs rather "
                    f"than one shape each, so these {finer.k} clusters are recommended."]
        finer = [p for p in partitions if n_clusters(p) > k_pick and _sized(p, m)]
        finer_gap = max((p.evidence["gap"] for p in finer), default=None)
        lab_all = np.asarray(pick.labels)
        computed = lab_all != -2  # rows a sampled model did not label
        noise = float(np.mean(lab_all[computed] == -1)) if computed.any() else 0.0
        same = _same_groups_every_row(pick, partitions) if noise > 0 else None
        if same is not None:
            whole, agreement = same
            # the gap the reason states is the noise-free partition's
            whole.evidence["stated_gap"] = (float(pick.evidence["gap"]), pick.name)
            return whole, "separated", [
                f"The rows fall into {k_pick} groups separated by empty space once "
                f"{title(pick.name)} sets {_share(noise)} of them aside as noise (gap ratio "
                f"{gap_text(pick.evidence['gap'])} along the minimum spanning tree; a clear gap "
                f"starts at {threshold_text(threshold)}). {title(whole.name)} finds the same "
                f"{k_pick} groups (adjusted Rand index {agreement:.3f} with them on the rows "
                f"{title(pick.name)} clusters) and gives every row a cluster, the rows set "
                "aside included, so its partition is recommended"
                + ("; the density-based one, which marks them as noise, is in the table below."
                   if pick.evidence.get("own_best") else
                   f" (the table below shows {title(pick.name)}'s own choice of partition, "
                   "another one).")]
        reason = (
            f"The rows fall into {k_pick} groups separated by empty space: along the minimum "
            f"spanning tree of the data, every boundary between two of these clusters is at "
            f"least {min(pick.evidence['gap'], 1e4):.1f} times longer than the typical distance "
            "between neighbouring points inside them (gap ratio; a clear gap starts at "
            f"{threshold_text(threshold)}). "
            f"{title(pick.name)} finds these groups"
            + (f", leaving {_share(noise)} of the rows as noise" if noise > 0 else "") + ".")
        if finer_gap is not None:
            reason += (f" Every finer partition tried cuts through a dense region "
                       f"(gap ratio at most {finer_gap:.2f}).")
        return pick, "separated", [reason]
    gmm = [p for p in partitions if p.name == "gmm"]
    if np.isfinite(best_gap):
        no_gap = (f"no partition tried is separated by gaps (best gap ratio {best_gap:.2f}, "
                  f"below {threshold_text(threshold)})")
    else:
        no_gap = "no partition tried is separated by gaps"
    no_gap_lead = no_gap[0].upper() + no_gap[1:]  # the same, opening a sentence
    outliers = (" The clear gaps found only set a few rows apart (clusters of fewer than "
                f"{MIN_CLUSTER_ROWS} rows or {MIN_CLUSTER_SHARE:.0%} of them, or more than "
                f"{MAX_NOISE_SHARE:.0%} of the rows as noise): outliers, not clusters."
                if outliers_only else "")
    icl_one = getattr(ctx, "gmm_icl_best", None)
    two = getattr(ctx, "gmm_two", None)
    if icl_one is not None and icl_one[1] == 1 and two is not None and n_clusters(two) == 2:
        lab = np.asarray(two.labels)
        sides = [ctx.X[lab == c] for c in (0, 1)]
        depth = (valley_depth(*sides) if min(map(len, sides)) >= TWO_GAUSSIANS_MIN_ROWS
                 else 1.0)
        if depth < min(TWO_GAUSSIANS_VALLEY, chance_valley(sum(map(len, sides)))):
            cov = two.params["covariance_type"]
            return two, "overlapping", [
                f"{no_gap_lead}, and the integrated completed likelihood "
                "(ICL), which charges for assignments a mixture leaves uncertain, prefers a "
                "single Gaussian; but BIC finds exactly two Gaussian components "
                f"(covariance_type='{cov}'), and the density dips between them (to "
                f"{depth:.0%} of the lower peak along the line joining their means): two "
                "overlapping clusters, recommended as the two-component mixture. Rows near "
                "the boundary between them are uncertain." + outliers]
    if icl_one is not None and icl_one[1] == 1:
        reason = (
            f"No clear cluster structure: {no_gap}, and among the Gaussian mixtures the "
            "integrated completed likelihood (ICL, which penalises overlapping components) is "
            "best with a single component. Splitting these rows into clusters would describe "
            "noise or one continuous cloud, not groups; the clusterings below are shown for "
            "exploration only." + outliers)
        return getattr(ctx, "gmm_one", None), "no structure", [reason]
    kmeans_best = [p for p in partitions
                   if p.name == "kmeans" and p.evidence.get("own_best") and p.k >= 2]
    if gmm and getattr(ctx, "gmm_open_end", False) and kmeans_best:
        pick = kmeans_best[0]
        return pick, "overlapping", [
            f"{no_gap_lead}, and the Gaussian mixtures do not settle on a "
            "number of clusters: their integrated completed likelihood (ICL) improves up to "
            "the last step of the grid of component counts (best at "
            f"{gmm[0].params.get('n_components')}, grid up to "
            f"{getattr(ctx, 'gmm_k_tried', '?')}), so each extra component describes detail "
            "(discrete values, a continuum, "
            "directions of noise) rather than a cluster. K-Means at the k where its "
            f"silhouette score peaks ({pick.k}) is recommended instead." + outliers]
    cloud = _one_cloud_and_outliers(gmm[0]) if gmm else None
    if cloud is not None and getattr(ctx, "gmm_one", None) is not None:
        big, rest, share = cloud
        k = gmm[0].params.get("n_components")
        head = f"No clear cluster structure: {no_gap}"
        if outliers:  # gaps exist, around a few rows: say whose partitions were weighed
            head = ("No clear cluster structure: no partition whose clusters hold at least "
                    f"{MIN_CLUSTER_ROWS} rows and {MIN_CLUSTER_SHARE:.0%} of them is separated "
                    "by gaps" + (f" (best gap ratio {best_gap:.2f}, below "
                                 f"{threshold_text(threshold)})" if np.isfinite(best_gap)
                                 else ""))
        return ctx.gmm_one, "no structure", [
            f"{head}, and the best Gaussian mixture ({k} components, by ICL) puts {big} rows "
            f"in one component; its other {'component holds' if k == 2 else 'components hold'} "
            f"only {rest} rows ({share:.1%}): outliers, not clusters (clusters of fewer than "
            f"{MIN_CLUSTER_ROWS} rows or {MIN_CLUSTER_SHARE:.0%} of them). The rows form one "
            "cloud: a single Gaussian is recommended, and its lowest-density rows are flagged "
            "as anomalies." + outliers]
    if gmm:
        pick = gmm[0]
        cov = pick.params.get("covariance_type")
        n_models = len(getattr(ctx.res, "gmm_table", {}) or {})
        reason = (
            f"{no_gap_lead}: the clusters touch or overlap, so a model of "
            f"overlapping densities describes them. The Gaussian mixture with "
            f"{pick.params.get('n_components')} components and covariance_type='{cov}' has the "
            f"best integrated completed likelihood (ICL) of the {n_models} mixtures compared "
            "(every covariance type and number of components, each charged for its own number "
            "of parameters, and for assignments its components leave uncertain)." + outliers)
        if getattr(ctx, "gmm_open_end", False):
            reason += (" Its ICL improves up to the last step of the grid of component counts, "
                       "so this count may describe detail rather than clusters (K-Means, not "
                       "run here, would be recommended at its best silhouette instead).")
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
