"""The analysis ``clusterlab analyze`` runs on any table.

Stages (each reported to a progress callback):

1. **Preparation**: scaling (``scale="auto"`` standardises columns in
   different units), a common rescaling of extreme magnitudes, a
   principal-component reduction of very wide tables, and a random sample
   of the rows for the steps whose cost grows with the square of the rows.
2. **Candidates** from the registry (``report/candidates.py``): the K-Means
   sweep, Gaussian mixtures of every covariance type, the Genie hierarchy,
   HDBSCAN where available and DBSCAN; each returns partitions of every
   row. A candidate that fails is reported as failed and the rest go on.
3. **Evidence and recommendation** (``report/choose.py``): gap ratios on
   the minimum spanning tree, BIC and ICL of the mixtures; the finest
   partition separated by clear gaps, else the mixture with the lowest BIC,
   or the verdict "no clear cluster structure".
4. Agglomerative (Ward) and spectral clustering at the recommended number
   of clusters, for the report.
5. **Anomalies**: a density threshold on the Gaussian mixture.

The range of k: by default 2 up to about the square root of the rows
(1.2 sqrt(n), at least 10, at most 100), every k up to 15 and a geometric grid above;
a recommendation at the top of the range is flagged.
"""

import re
from dataclasses import dataclass, field

import numpy as np

from clusterlab.report import prewarm
from clusterlab.report.choose import n_clusters
from clusterlab.report.candidates import (REGISTRY, STEP_BUDGET_SECONDS, run_candidate,
                                         title, why_not)
from clusterlab.report.neighbours import QUADRATIC_SAMPLE, project_2d


#: ``scale="auto"`` standardises the columns when their standard deviations
#: differ by more than this factor (columns in different units); otherwise
#: the data are clustered as given, as the seed does.
AUTO_SCALE_RATIO = 10.0

#: tables wider than this are reduced to :data:`REDUCED_FEATURES` principal
#: components before clustering (steps cost up to d³ per iteration)
WIDE_FEATURES = 100
REDUCED_FEATURES = 50
#: tables with fewer rows than this many per column are reduced as well, to
#: about n / ROWS_PER_FEATURE components (too few rows to estimate clusters
#: in every column)
ROWS_PER_FEATURE = 10
#: fewest rows the analysis looks for clusters in
MIN_ROWS = 10
#: values above this magnitude are rescaled by a common power of two first
#: (squared distances would overflow)
HUGE_MAGNITUDE = 1e100
#: values all below this are multiplied by a power of two first (squares would underflow)
TINY_MAGNITUDE = 1e-100
#: columns whose mean is this many times their spread from the origin are
#: centred first (with ``scale="none"``; standard scaling centres anyway):
#: squared distances from products, ``|x|² - 2 x·y + |y|²``, would cancel
OFFSET_RATIO = 1e3
#: the default k range: 2 .. clip(sqrt(n), K_MAX_MIN, K_MAX_MAX)
K_MAX_MIN, K_MAX_MAX = 10, 100
#: every k up to this in the sweeps; a geometric grid (x1.15) above
K_DENSE = 15

ALGORITHMS = tuple(REGISTRY)


@dataclass
class AnalysisResult:
    dataset: object
    X_fit: np.ndarray  # the scaled matrix the models were fitted on
    projection: np.ndarray  # 2-D view for the figures
    projection_note: str
    scale: str
    sample_index: np.ndarray  # rows used by quadratic steps
    sampled: bool
    kmeans_sweep: object = None
    gmm_sweep: object = None
    models: dict = field(default_factory=dict)  # name -> fitted model
    labels: dict = field(default_factory=dict)  # name -> labels for every row (-2: not computed)
    sweep_rows: dict = field(default_factory=dict)  # name -> rows of a sampled sweep
    scores: dict = field(default_factory=dict)  # name -> dict of quality figures
    dbscan_eps: float = None
    dbscan_min_samples: int = None
    kdist: np.ndarray = None
    knn: tuple = None  # (sample rows, their k nearest neighbours among the sample)
    anomaly_detector: object = None
    anomaly_scores: np.ndarray = None
    anomalies: np.ndarray = None
    recommendation: str = None
    reasons: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    failures: dict = field(default_factory=dict)  # name -> why the model failed, in plain words
    partitions: list = field(default_factory=list)  # every candidate partition, with evidence
    verdict: str = None  # separated | overlapping | no structure | fallback
    stated_gap: tuple = None  # (gap ratio, partition it was measured on) of a separated verdict
    k_range: tuple = None  # (lo, hi) searched
    reduction: object = None  # (mean, components) when a wide table was reduced
    affine: object = None  # (shift, matrix): X_fit == (dataset.X - shift) @ matrix
    rescale: float = 1.0  # common factor applied to extreme magnitudes
    covariance_bic: dict = field(default_factory=dict)
    gmm_table: dict = None  # (covariance_type, k) -> (bic, icl)


def _silhouette(X, labels, sample_size, seed):
    from clusterlab.metrics import silhouette_score

    mask = labels >= 0
    lab = labels[mask]
    n_labels = len(np.unique(lab))
    if n_labels < 2 or n_labels >= mask.sum():
        return float("nan")
    Xm = X[mask]
    if sample_size is not None and len(Xm) > sample_size:
        return float(silhouette_score(Xm, lab, sample_size=sample_size, random_state=seed))
    return float(silhouette_score(Xm, lab))



def k_grid(lo, hi, dense=K_DENSE):
    """The k values swept: every k up to ``dense``, then a geometric grid
    (ratio ~1.15) up to and including ``hi``.

    >>> k_grid(2, 30).tolist()
    [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 20, 23, 26, 30]
    """
    ks = list(range(lo, min(hi, dense) + 1))
    k = max(lo, dense)
    while k < hi:
        k = min(hi, max(k + 1, int(round(k * 1.15))))
        if k > dense:
            ks.append(k)
    return np.array(sorted(set(ks)), dtype=np.int64)


def default_k_max(n):
    """Top of the default k range for ``n`` rows: about 1.2 sqrt(n), in
    [10, 100], and never more than a tenth of the rows.

    >>> default_k_max(150), default_k_max(3000), default_k_max(10**6)
    (15, 66, 100)
    """
    return int(max(2, min(max(K_MAX_MIN, round(1.2 * np.sqrt(n))), K_MAX_MAX, n // 10)))


class _Context:
    """What the candidates share: the prepared data, the sample, the k grid."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


def run_analysis(dataset, k_range=None, algorithms=None, contamination=0.02, sample=None,
                 seed=42, scale="auto", progress=None, on_candidate=None):
    """Run the analysis on ``dataset`` (a :class:`~clusterlab.report.data.Dataset`).

    ``k_range`` is ``(lo, hi)`` or None for the adaptive default;
    ``algorithms`` names registry entries (None: the default ones);
    ``progress(stage, step, total)`` is called as the work advances;
    ``on_candidate(res, name, partitions)`` after each candidate has run, with
    the result so far, and once before the first with ``name`` None and no
    partitions (the data alone: the command line's report starts drawing its
    figures, :func:`clusterlab.report.drawing.ahead`; what it raises is
    ignored).
    Returns an :class:`AnalysisResult`.
    """
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = _run(dataset, k_range, algorithms, contamination, sample, seed, scale, progress,
                   on_candidate)
    seen = set()
    for w in caught:
        text = f"{w.category.__name__}: {w.message}"
        if text not in seen and not issubclass(w.category, DeprecationWarning):
            seen.add(text)
            res.notes.append(f"Warning during the analysis: {text}")
    return res


def column_spreads(X):
    """Each column's standard deviation, computed on the column divided by its
    largest magnitude: a column near 1e-200 beside one near 1e200 (after the
    common power of two, or as given) would square to 0 or to inf."""
    top = np.max(np.abs(X), axis=0) if X.size else np.zeros(X.shape[1])
    safe = np.where(top > 0, top, 1.0)
    return (X / safe).std(axis=0) * safe


def _prepare(X_raw, scale, notes):
    """Scaled float64 matrix, the scale used, the common rescaling factor, the
    reduction (or None) and the affine map ``(shift, matrix)``: the matrix is
    ``(X_raw - shift) @ matrix`` (what a saved model applies to new rows)."""
    from clusterlab.report.data import DataError

    X = np.array(X_raw, dtype=float)
    n, d = X.shape
    # the map so far: X == (X_raw - shift) * factor, column by column
    shift, factor = np.zeros(d), np.ones(d)
    rescale = 1.0
    big = float(np.max(np.abs(X))) if X.size else 0.0
    if 0.0 < big < np.finfo(float).tiny:
        raise DataError(
            f"every value is below {np.finfo(float).tiny:.3g} in magnitude (the largest is "
            f"{big:.3g}): such subnormal numbers carry few significant digits. Multiply the "
            "data by a power of ten first.")
    if big > HUGE_MAGNITUDE or 0.0 < big < TINY_MAGNITUDE:
        rescale = 2.0 ** -np.ceil(np.log2(big))  # max |X| into [0.5, 1), exactly
        X = X * rescale
        factor = factor * rescale
        if big > 1:
            notes.append(f"The values reach {big:.3g}; all columns were divided by a common "
                         f"factor 2^{-int(np.log2(rescale))} first (squared distances would "
                         "overflow). This changes no clustering.")
        else:
            notes.append(f"The largest value is {big:.3g} in magnitude; all columns were "
                         f"multiplied by a common factor 2^{int(np.log2(rescale))} first "
                         "(squared distances would underflow). This changes no clustering.")
    std = column_spreads(X)
    spread = std[std > 0]
    if scale == "auto":
        ratio = spread.max() / spread.min() if len(spread) else 1.0
        scale = "standard" if ratio > AUTO_SCALE_RATIO else "none"
    if scale == "standard":
        std[std == 0] = 1.0
        mean = X.mean(axis=0)
        X = (X - mean) / std
        shift, factor = shift + mean / factor, factor / std
    elif len(spread):
        mean = X.mean(axis=0)
        offset = float(np.max(np.abs(mean)))
        if offset > OFFSET_RATIO * float(spread.max()):
            X = X - mean
            shift = shift + mean / factor
            notes.append(f"The columns sit far from the origin (means up to {offset:.3g}, "
                         f"spread at most {float(spread.max()):.3g}); they were centred first "
                         "(distances computed from products would lose their digits). This "
                         "changes no clustering; the figures show centred values.")
    matrix = np.diag(factor)
    reduction = None
    target = int(min(d, REDUCED_FEATURES, max(2, n // ROWS_PER_FEATURE)))
    if d > target and (d > WIDE_FEATURES or n < ROWS_PER_FEATURE * d):
        mean = X.mean(axis=0)
        rng = np.random.default_rng(0)
        rows = X[rng.choice(n, size=min(n, 5000), replace=False)] - mean
        _, sv, vt = np.linalg.svd(rows, full_matrices=False)
        keep = int(min(target, vt.shape[0]))
        explained = float((sv[:keep] ** 2).sum() / max((sv ** 2).sum(), 1e-300))
        reduction = (mean, vt[:keep])
        X = (X - mean) @ vt[:keep].T
        shift, matrix = shift + mean / factor, factor[:, None] * vt[:keep].T
        notes.append(f"{d} columns for {n} rows: the clusterings ran on the first {keep} "
                     f"principal components ({explained:.0%} of the variance): with so many "
                     "columns, distances are dominated by noise and several steps cost the "
                     "square or cube of the number of columns.")
    return np.ascontiguousarray(X), scale, rescale, reduction, (shift, matrix)


def _named(columns):
    """Column names for a note: the first three, then how many more."""
    return (", ".join(f"'{c}'" for c in columns[:3])
            + (f" and {len(columns) - 3} more" if len(columns) > 3 else ""))


#: a column taking at most this many values (in a table of at least
#: FEW_LEVELS_MIN_ROWS rows per value) is named in a note when standardised
FEW_LEVELS = 5
FEW_LEVELS_MIN_ROWS = 10


def _note_few_valued_columns(X_raw, columns, notes):
    """A note naming the columns that take only a few values (flags, yes/no
    answers, counts such as children, rating scales) when the columns were
    standardised: each then weighs as much as any other, and rows with
    different values sit a whole level apart (two values: at least two
    standard deviations), gaps that can split every group by that value -- a
    lattice of levels rather than groups in the data."""
    n = X_raw.shape[0]
    few = []
    for j in range(X_raw.shape[1]):
        col = X_raw[:, j]
        levels = len(np.unique(col[np.isfinite(col)]))
        if 2 <= levels <= FEW_LEVELS and n >= FEW_LEVELS_MIN_ROWS * levels:
            few.append((str(columns[j]), levels))
    if not few:
        return
    one = len(few) == 1
    named = ", ".join(f"'{c}' ({k})" for c, k in few[:3]) + (
        f" and {len(few) - 3} more" if len(few) > 3 else "")
    notes.append(
        f"{len(few)} column{' takes' if one else 's take'} only a few values (in parentheses: "
        f"how many): {named}. After standardising, {'it weighs' if one else 'each weighs'} as "
        "much as any other column and rows with different values sit a whole level apart (two "
        "values: at least two standard deviations), which can split every group by those "
        "values -- a lattice rather than groups in the data; if such a column is not a "
        "property to cluster on, leave it out (--exclude on the command line, exclude= in "
        "Python).")


#: a column of distinct whole numbers is named as a likely identifier from this many rows
ID_MIN_ROWS = 20
_ID_NAME = re.compile(r"(^|[^a-z])(id|ids|key|no|number|nr)$|^(id|key)([^a-z]|$)", re.I)


def _note_identifier_columns(X_raw, columns, notes):
    """A note naming the columns that look like identifiers -- a different whole
    number in every row, evenly spaced (1001, 1002, ... in any order) or under
    an ID-like name (``customer_id``): clustered on, such a column sorts the
    rows by their number rather than grouping them."""
    n = X_raw.shape[0]
    if n < ID_MIN_ROWS:
        return
    named, spaced = [], []
    for j in range(X_raw.shape[1]):
        col = X_raw[:, j]
        if not np.all(np.isfinite(col)) or not np.all(col == np.round(col)):
            continue
        values = np.unique(col)
        if len(values) != n:
            continue
        steps = np.diff(values)
        if _ID_NAME.search(str(columns[j]).strip()):
            named.append(str(columns[j]))
        elif np.all(steps == steps[0]):
            spaced.append(str(columns[j]))
    for cols, what in ((named, "under a name that reads like an identifier"),
                       (spaced, "evenly spaced: a row number, or a time or position axis "
                                "(year, depth)")):
        if not cols:
            continue
        one = len(cols) == 1
        notes.append(
            f"{'Column' if one else 'Columns'} {_named(cols)} {'holds' if one else 'hold'} a "
            f"different whole number in every row, {what}; clustered on like any "
            f"measurement, {'it sorts' if one else 'they sort'} the rows by that number. If "
            f"{'it only numbers' if one else 'they only number'} the rows, leave "
            f"{'it' if one else 'them'} out (--exclude on the command line, exclude= in "
            "Python).")


#: a note says how many rows repeat another exactly from this share of the rows on
DUPLICATE_SHARE = 0.1


def _note_duplicate_rows(X_raw, notes):
    """A note when many rows repeat another row exactly (an export appended
    twice, discrete answers): density-based models see each repeated row as a
    dense spot of its own."""
    n = X_raw.shape[0]
    if n < 20:
        return
    # one random projection per row: equal rows give equal values (the same
    # arithmetic), different rows equal ones with probability ~0; O(n) memory
    direction = np.random.default_rng(0).standard_normal(X_raw.shape[1])
    distinct = len(np.unique(X_raw @ direction))
    repeats = n - distinct
    if repeats >= DUPLICATE_SHARE * n:
        notes.append(
            f"{repeats} of the {n} rows ({repeats / n:.0%}) repeat another row exactly (the "
            f"table holds {distinct} distinct rows): density-based models can take each "
            "repeated row for a dense cluster of its own; if the repeats are copies (an export "
            "appended twice), remove them first.")


#: a positive column whose sample skewness exceeds this is named in a note
SKEWED_COLUMN = 2.0


def _note_skewed_columns(X_raw, columns, notes):
    """A note naming the positive columns with a long right tail (skewness above
    :data:`SKEWED_COLUMN`: concentrations, counts, incomes): a Gaussian mixture
    describes one such cluster with several components, and distances are
    dominated by the tail. Clustering their logarithms often helps; the
    analysis leaves that choice to the user."""
    skewed = []
    for j in range(X_raw.shape[1]):
        col = X_raw[:, j][np.isfinite(X_raw[:, j])]
        if len(col) < 20 or col.min() <= 0:
            continue
        sd = col.std()
        if sd > 0 and float(np.mean(((col - col.mean()) / sd) ** 3)) > SKEWED_COLUMN:
            skewed.append(str(columns[j]))
    if not skewed:
        return
    named = _named(skewed)
    notes.append(
        f"{'Column' if len(skewed) == 1 else 'Columns'} {named} "
        f"{'is' if len(skewed) == 1 else 'are'} positive with a long right tail (skewness "
        f"above {SKEWED_COLUMN:g}): a Gaussian mixture takes several components for one such "
        "cluster and distances are dominated by the tail; clustering the logarithm of "
        f"{'it' if len(skewed) == 1 else 'them'} often finds the groups better.")


def _note_constant_columns(X_raw, columns, notes):
    """A note naming the columns that hold one value in every row (kept: they
    move no distance, but a user may think they were clustered on)."""
    if X_raw.shape[0] < 2 or X_raw.shape[1] < 2:
        return
    constant = [str(columns[j]) for j in range(X_raw.shape[1])
                if np.all(X_raw[:, j] == X_raw[0, j])]
    if constant and len(constant) < X_raw.shape[1]:
        one = len(constant) == 1
        notes.append(f"{'Column' if one else 'Columns'} {_named(constant)} "
                     f"{'holds' if one else 'hold'} one value in every row: "
                     f"{'it carries' if one else 'they carry'} nothing to cluster on.")


def _run(dataset, k_range, algorithms, contamination, sample, seed, scale, progress,
         on_candidate=None):
    def tick(stage, step=0, total=1):
        if progress is not None:
            progress(stage, step, total)

    asked = algorithms is not None
    if algorithms is None:
        algorithms = tuple(name for name, entry in REGISTRY.items() if entry.default)
    algorithms = tuple(a for a in REGISTRY if a in set(algorithms))
    X_raw = dataset.X
    n, d = X_raw.shape
    notes = []
    X, scale, rescale, reduction, affine = _prepare(X_raw, scale, notes)
    if scale == "standard" and d > 1:
        _note_few_valued_columns(X_raw, dataset.columns, notes)
    _note_skewed_columns(X_raw, dataset.columns, notes)
    _note_constant_columns(X_raw, dataset.columns, notes)
    _note_identifier_columns(X_raw, dataset.columns, notes)
    _note_duplicate_rows(X_raw, notes)
    if k_range is None:
        lo, hi = 2, default_k_max(n)
    else:
        lo, hi = (int(v) for v in k_range)
    if n < MIN_ROWS or n <= hi:
        raise ValueError(
            f"{dataset.name}: {n} rows but k goes up to {hi}; need more rows than clusters "
            f"(lower --k).")
    sample = QUADRATIC_SAMPLE if sample is None else int(sample)
    sample_index, sampled = sample_rows(n, sample, seed)
    proj, note = project_2d(X)
    res = AnalysisResult(dataset=dataset, X_fit=X, projection=proj, projection_note=note,
                         scale=scale, sample_index=sample_index, sampled=sampled)
    res.notes.extend(notes)
    res.rescale, res.reduction, res.k_range = rescale, reduction, (lo, hi)
    res.affine = affine
    if sampled:
        res.notes.append(
            f"{n} rows: the steps whose cost grows with the square of the rows used a random "
            f"sample of {sample} rows (--sample): the Genie hierarchy (the other rows take the "
            "label of their nearest sampled row), HDBSCAN"
            f"{', DBSCAN' if d > 3 else ''} and the optional mean shift and affinity "
            "propagation (the other rows labelled by the model's predict), agglomerative and "
            "spectral clustering (labels for the sampled rows only; the others are left "
            "empty in labels.csv) and the silhouette scores. K-Means and the Gaussian "
            "mixtures used every row, unless a note below says their sweeps were sampled.")
    distinct = len(np.unique(X[sample_index], axis=0))
    if distinct < 3:
        res.verdict = "no structure"
        res.reasons = [f"The rows take only {distinct} distinct value(s): there is nothing to "
                       "cluster (no clustering was run)."]
        return res
    ctx = candidate_context(X, lo, hi, sample, seed, res)
    ctx.on_candidate = on_candidate
    _tell(on_candidate, res, None, ())
    ctx.asked = asked
    helper = prewarm.start(X, would_run(ctx, algorithms), lo, hi, sample, seed)
    try:
        return _run_candidates(ctx, dataset, algorithms, contamination, tick, helper)
    finally:
        prewarm.stop(helper)


def sample_rows(n, sample, seed):
    """The rows the quadratic steps use (sorted) and whether that is a sample."""
    if n <= sample:
        return np.arange(n), False
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=sample, replace=False)), True


def _scratch_result(X, sample_index, sampled):
    """An empty result for candidates run outside an analysis (their report is
    thrown away)."""
    return AnalysisResult(dataset=None, X_fit=X, projection=None, projection_note="",
                          scale="none", sample_index=sample_index, sampled=sampled)


def candidate_context(X, lo, hi, sample, seed, res=None):
    """What the candidates share for prepared rows ``X`` and the k range ``lo..hi``
    (the sample rows are ``res``'s when given, else drawn as the analysis draws them)."""
    if res is None:
        res = _scratch_result(X, *sample_rows(len(X), sample, seed))
    sample_index, sampled = res.sample_index, res.sampled
    return _Context(X=X, Xs=X[sample_index], sample_index=sample_index, sampled=sampled,
                    sample=sample, ks=k_grid(max(2, lo), hi), gmm_k_max=int(min(hi, 100)),
                    k_max=hi, seed=seed, res=res, mst=None,
                    sil_sample=sample if sampled else None)


def _within_budget(entry, cost):
    """Whether a candidate with this cost estimate runs: a finite estimate,
    within the step budget for those run before k is chosen."""
    return np.isfinite(cost) and (entry.needs_k or cost <= STEP_BUDGET_SECONDS)


def would_run(ctx, algorithms):
    """The candidates of ``algorithms`` that :func:`_run_candidates` runs on
    this table, in order (those needing k estimated at ``ctx.k_max``)."""
    n, d = ctx.X.shape
    out = []
    for name in algorithms:
        entry = REGISTRY[name]
        if entry.needs_k:
            saved, ctx.k = getattr(ctx, "k", None), ctx.k_max
            try:
                cost = entry.cost(n, d, ctx)
            finally:
                ctx.k = saved
        else:
            cost = entry.cost(n, d, ctx)
        if _within_budget(entry, cost):
            out.append(name)
    return out


def _warm_later(ctx, algorithms, helper):
    """While the analysis waits for the compile helper (first run): run, and
    throw away, the next candidate needing k that neither process has started,
    at k = 3 on the same rows -- it compiles that candidate's kernels, so
    that the real run later loads them from the cache; then, once, it sets up
    the report's drawing. Returns a function that does one such step and
    says whether it found one."""
    if helper is None:
        return None
    import copy

    later = [name for name in would_run(ctx, algorithms) if REGISTRY[name].needs_k]

    drawing_ready = False

    def warm_one():
        nonlocal drawing_ready
        done = prewarm.started(helper)
        now = prewarm.busy(helper)
        name = next((a for a in later if a not in done and a != now), None)
        if name is None:
            if drawing_ready:
                return False
            # nothing left to compile: set up the report's drawing (matplotlib's
            # import and first draw, ~0.37 s), which the figure process forked
            # later then inherits
            from clusterlab.report.drawing import prepare_drawing

            drawing_ready = True
            prepare_drawing()
            return True
        prewarm.reached(helper, name)
        trial = copy.copy(ctx)
        trial.res = _scratch_result(ctx.X, ctx.sample_index, ctx.sampled)
        trial.k = int(min(3, len(ctx.Xs) - 1))
        run_candidate(REGISTRY[name], trial)
        return True

    return warm_one


def _tell(on_candidate, res, name, partitions):
    if on_candidate is not None:
        try:
            on_candidate(res, name, partitions)
        except Exception:  # the report's helpers never stop the analysis
            pass


def _run_in_turn(names, ctx, tick, helper, idle=None):
    """Run the candidates ``names`` (in the order :func:`prewarm.helper_aware`
    gives on a first run); returns ``{name: run_candidate's result}``."""
    runs = {}
    for name in prewarm.helper_aware(names, helper, idle=idle):
        entry = REGISTRY[name]
        tick(entry.title, 0, 1)
        prewarm.reached(helper, name)
        runs[name] = run_candidate(entry, ctx)
        _tell(getattr(ctx, "on_candidate", None), ctx.res, name, runs[name][0])
        tick(entry.title, 1, 1)
    return runs


def _run_candidates(ctx, dataset, algorithms, contamination, tick, helper=None):
    X, res, sample_index = ctx.X, ctx.res, ctx.sample_index
    seed, ks, hi = ctx.seed, ctx.ks, ctx.k_max
    n = len(X)
    skipped = {}
    free = []
    for name in algorithms:
        entry = REGISTRY[name]
        if entry.needs_k:
            continue
        cost = entry.cost(n, X.shape[1], ctx)
        if _within_budget(entry, cost):
            free.append(name)
        elif np.isfinite(cost):
            skipped[name] = (f"{entry.title} was skipped: it would take about "
                             f"{cost:.0f} s on this table (--sample lowers it).")
    # on a first run, a candidate the compile helper is compiling right now waits
    # until the others have run; the results are gathered in the usual order
    runs = _run_in_turn(free, ctx, tick, helper, idle=_warm_later(ctx, algorithms, helper))
    partitions = []
    for name in algorithms:
        if name in skipped:
            res.failures[name] = skipped[name]
        elif name in runs:
            parts, res.timings[name], failure = runs[name]
            if failure:
                res.failures[name] = failure
            partitions.extend(parts)

    tick("evidence", 0, 1)
    from clusterlab.report.choose import gather_evidence, recommend

    if ctx.mst is None and len(ctx.Xs) >= 2:
        from clusterlab.cluster.genie import minimum_spanning_tree

        ctx.mst = minimum_spanning_tree(ctx.Xs)
    gather_evidence(ctx, partitions)
    pick, verdict, reasons = recommend(ctx, partitions, title)
    res.partitions, res.verdict = partitions, verdict
    if verdict == "separated" and pick is not None and "gap" in pick.evidence:
        # the gap ratio the reasons state, and the partition it was measured on
        res.stated_gap = pick.evidence.get("stated_gap", (float(pick.evidence["gap"]),
                                                          pick.name))
    tick("evidence", 1, 1)

    # the partition each candidate shows in the report: the recommended one for
    # the recommending candidate, else the candidate's own best
    shown = {}
    for part in partitions:
        if part.evidence.get("own_best") and part.name not in shown:
            shown[part.name] = part
    genie_parts = [p for p in partitions if p.name == "genie"]
    if genie_parts:
        from clusterlab.report.choose import data_dim, separated

        good = [p for p in genie_parts if separated(p, len(sample_index), data_dim(ctx))]
        shown["genie"] = (max(good, key=lambda p: p.k) if good else
                          max(genie_parts, key=lambda p: p.evidence.get("gap", 0.0)))
    if pick is not None:
        shown[pick.name] = pick
    chosen_k = n_clusters(pick) if pick is not None and pick.k >= 2 else None
    if chosen_k is None and "kmeans" in shown:
        chosen_k = shown["kmeans"].k
    if chosen_k is not None:
        ctx.k = int(min(chosen_k, len(ctx.Xs) - 1))
        with_k = [name for name in algorithms if REGISTRY[name].needs_k
                  and _within_budget(REGISTRY[name], REGISTRY[name].cost(n, X.shape[1], ctx))]
        runs = _run_in_turn(with_k, ctx, tick, helper)
        for name in with_k:
            parts, res.timings[name], failure = runs[name]
            if failure:
                res.failures[name] = failure
            for part in parts:
                shown[part.name] = part
    if getattr(ctx, "asked", False):  # what the user asked for and did not get, said
        for name in algorithms:
            if name not in res.timings and name not in res.failures:
                res.failures[name] = why_not(name, n, X.shape[1])
    for name in REGISTRY:
        if name in shown:
            res.models[name] = shown[name].model
            res.labels[name] = np.asarray(shown[name].labels)
    res.recommendation = pick.name if pick is not None else None

    # 5. Anomalies on the mixture ------------------------------------------
    gm = res.models.get("gmm")
    if gm is not None:
        from clusterlab.anomaly import DensityAnomalyDetector

        tick("anomalies", 0, 1)
        try:
            det = DensityAnomalyDetector(estimator=gm, contamination=contamination).fit(X)
            res.anomaly_detector = det
            res.anomaly_scores = np.asarray(det.score_samples(X))
            res.anomalies = np.asarray(det.predict(X)) == -1
        except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
            res.failures["anomalies"] = f"Anomaly detection failed: {exc}"
        tick("anomalies", 1, 1)

    tick("scoring", 0, 1)
    known = None
    if dataset.y is not None:
        from clusterlab.report.data import known_labels

        known = known_labels(dataset.y)
        if not known.all():
            res.notes.append(f"{int((~known).sum())} row(s) have no known label (an empty or "
                             "missing cell in the label column); the agreement with the labels "
                             "(ARI) leaves them out.")
    for name, labels in res.labels.items():
        mask = labels != -2
        lab = labels[mask]
        swept = next((p.evidence["silhouette"] for p in res.partitions
                      if p.name == name and "silhouette" in p.evidence
                      and p.labels is not None and np.array_equal(p.labels, labels)), None)
        scores = {"n_clusters": int(len(np.unique(lab[lab >= 0]))),
                  "noise_fraction": float(np.mean(lab == -1)),
                  "silhouette": (swept if swept is not None
                                 else _silhouette(X[mask], lab, ctx.sil_sample, seed))}
        if name == res.recommendation and pick is not None and "gap" in pick.evidence:
            scores["gap_ratio"] = float(pick.evidence["gap"])
        if dataset.y is not None:
            from sklearn.metrics import adjusted_rand_score

            both = known[mask]
            scores["ari_vs_labels"] = float(adjusted_rand_score(
                np.asarray(dataset.y)[mask][both], lab[both])) if both.any() else float("nan")
        res.scores[name] = scores
    tick("scoring", 1, 1)
    res.reasons = _reasons(res, pick, reasons, ks, hi)
    return res


def _reasons(res, pick, reasons, ks, hi):
    """The recommendation's reasons, then what the other evidence says."""
    out = list(reasons)
    sw = res.kmeans_sweep
    if sw is not None:
        best = int(sw.best("silhouette")) if np.isfinite(
            np.asarray(sw.table["silhouette"], dtype=float)).any() else None
        if best is not None:
            sil = dict(zip(sw.k_values.tolist(), np.asarray(sw.table["silhouette"]).tolist()))
            out.append(f"K-Means: the silhouette score peaks at k={best} ({sil[best]:.3f})"
                       + (f"; the inertia elbow (Kneedle) is at k={sw.elbow}" if sw.elbow
                          else "") + ".")
    if pick is not None and pick.k >= 2 and n_clusters(pick) >= hi:
        out.append(f"The recommended {n_clusters(pick)} clusters sit at the top of the range "
                   f"searched (k up to {hi}): there may be more; rerun with a larger range, e.g. "
                   f"--k 2..{min(2 * hi, 1000)}.")
    if res.anomalies is not None:
        out.append(
            f"{int(res.anomalies.sum())} rows lie in the lowest-density "
            f"{res.anomaly_detector.contamination:.0%} of the Gaussian mixture and are flagged "
            "as anomalies.")
    for name, why in res.failures.items():
        out.append(why)
    return out
