"""Turning an analysis into words and tables a reader can act on.

Shared by the HTML report, the text printed by ``clusterlab analyze`` and the
Python API: display names for any candidate model, the status of each model
(fitted, degenerate, failed), a profile of a clustering (size, share, each
feature's mean and median), the lines that refit the recommended model, and
plain advice in place of raw library warnings.
"""

import re

import numpy as np

#: Display names of the candidates; any other name gets a readable fallback.
DISPLAY_NAMES = {
    "kmeans": "K-Means", "gmm": "Gaussian mixture", "dbscan": "DBSCAN",
    "agglomerative": "Agglomerative (Ward)", "spectral": "Spectral clustering",
    "hdbscan": "HDBSCAN", "optics": "OPTICS", "meanshift": "Mean shift",
    "affinity": "Affinity propagation", "birch": "BIRCH", "bgmm": "Bayesian Gaussian mixture",
    "minibatch": "Mini-Batch K-Means", "bisecting": "Bisecting K-Means",
}


def display_name(name):
    """A readable name for a candidate (``"hdbscan"`` -> ``"HDBSCAN"``, unknown ones title-cased)."""
    if name is None:
        return "none"
    if name in DISPLAY_NAMES:
        return DISPLAY_NAMES[name]
    return str(name).replace("_", " ").replace("-", " ").capitalize()


def model_status(res, name):
    """``(status, reason)`` of one model: ``"ok"``, ``"degenerate"`` or ``"failed"``.

    A model in ``res.failures`` failed (no labels); a model that found one
    cluster, labelled everything noise, or did not converge is degenerate.
    """
    failures = getattr(res, "failures", None) or {}
    if name in failures:
        return "failed", str(failures[name])
    sc = res.scores.get(name, {})
    problems = []
    if sc:
        if sc.get("noise_fraction", 0.0) >= 0.999:
            problems.append("every row was labelled noise")
        elif sc.get("n_clusters", 2) <= 1 and not (
                getattr(res, "verdict", None) == "no structure" and name == res.recommendation):
            # (the single Gaussian a "no structure" verdict recommends is its answer)
            problems.append("it found a single cluster")
    model = res.models.get(name)
    if model is not None and getattr(model, "converged_", True) is False:
        problems.append("it did not converge within max_iter iterations")
    if problems:
        return "degenerate", "; ".join(problems)
    return "ok", ""


def recommendation_title(res):
    """What the recommendation is, in words: the model's name, or that the
    rows show no clear cluster structure (the single Gaussian then shown)."""
    if res.recommendation is None:
        return "none (no clear cluster structure)"
    if getattr(res, "verdict", None) == "no structure":
        return f"no clear cluster structure (one {display_name(res.recommendation)} component)"
    return display_name(res.recommendation)


def stated_gap(res):
    """``(gap ratio, model)`` the recommendation's reasons state, or (None, None)."""
    stated = getattr(res, "stated_gap", None)
    if stated is None:
        return None, None
    return min(float(stated[0]), 1e4), stated[1]  # "at least 10000" beyond, as the text says


def recommended_labels(res):
    """Labels of the recommended model for every row (``-1`` noise, ``-2`` not computed)."""
    if res.recommendation is None or res.recommendation not in res.labels:
        return None
    return np.asarray(res.labels[res.recommendation])


def cluster_profile(res, max_features=None):
    """Per cluster of the recommended clustering: size, share, weight, per-feature mean/median.

    Features are in the data's own units (before scaling). Returns
    ``(header, rows)``: ``rows`` is a list of dicts with keys ``cluster``
    (an int, ``-1`` for noise), ``size``, ``share``, ``weight`` (mixture
    weight or None), ``mean`` and ``median`` (arrays over the features).
    Rows whose label was not computed (``-2``) are left out.
    """
    labels = recommended_labels(res)
    if labels is None:
        return [], []
    X = np.asarray(res.dataset.X)
    columns = list(res.dataset.columns)
    if max_features is not None:
        X, columns = X[:, :max_features], columns[:max_features]
    known = labels != -2
    total = int(known.sum())
    model = res.models.get(res.recommendation)
    weights = getattr(model, "weights_", None)
    rows = []
    ids = sorted(set(np.unique(labels[known]).tolist()), key=lambda c: (c < 0, c))
    for c in ids:
        rows_c = X[labels == c]
        weight = None
        if weights is not None and 0 <= c < len(weights):
            weight = float(weights[c])
        rows.append({"cluster": int(c), "size": int(len(rows_c)),
                     "share": len(rows_c) / max(total, 1), "weight": weight,
                     "mean": rows_c.mean(axis=0), "median": np.median(rows_c, axis=0)})
    return columns, rows


def _literal(value):
    if isinstance(value, (bool, int, float, str, type(None))):
        return repr(value)
    if isinstance(value, (np.integer, np.floating)):
        return repr(value.item())
    return None


def changed_params(model):
    """The parameters of ``model`` that differ from its class defaults (simple values only)."""
    try:
        defaults = type(model)().get_params(deep=False)
    except Exception:  # a class without a no-argument constructor
        defaults = {}
    out = {}
    for key, value in model.get_params(deep=False).items():
        text = _literal(value)
        if text is None:
            continue
        if key in defaults and _literal(defaults[key]) == text:
            continue
        out[key] = text
    return out


def reproduce_code(res, source=None):
    """The few lines of Python that refit the recommended model on the same table."""
    name = res.recommendation
    model = res.models.get(name) if name else None
    if model is None:
        return None
    cls = type(model).__name__
    module = type(model).__module__
    import clusterlab

    if module.startswith("clusterlab") and cls in getattr(clusterlab, "_EXPORTS", {}):
        module = "clusterlab"
    ds = res.dataset
    cols = list(ds.columns)
    source = source if source is not None else getattr(ds, "source", None)
    lines = ["import numpy as np", f"from {module} import {cls}"]
    if source is not None:
        lines.append("from clusterlab.report import load_dataset")
        lines.append("")
        import os

        # a file by its absolute path: the code runs from any folder
        args = [repr(os.path.abspath(source) if os.path.isfile(source) else source)]
        if len(cols) <= 20:
            args.append(f"columns={cols!r}")
        if getattr(ds, "label_column", None):
            args.append(f"label_column={ds.label_column!r}")
        missing = getattr(ds, "missing", None)
        if missing:
            args.append(f"missing={missing['mode']!r}")
        lines.append(f"X = load_dataset({', '.join(args)}).X")
    else:
        lines.append("")
        lines.append(f"X = ...  # your table's {len(cols)} numeric columns as a float array")
    if res.scale == "standard":
        lines.append("X = (X - X.mean(axis=0)) / np.where(X.std(axis=0) > 0, X.std(axis=0), 1)")
    if getattr(res, "reduction", None) is not None:
        k = res.reduction[1].shape[0]
        lines.append(f"# the analysis clustered the first {k} principal components of this "
                     "table (its note says why): with all columns the labels may differ")
    if getattr(res, "sampled", False) and name not in _EVERY_ROW and not (
            name == "dbscan" and res.dataset.X.shape[1] <= 3):
        lines.append(f"# the analysis fitted this model on a random sample of "
                     f"{len(res.sample_index)} rows (--sample) and labelled the other rows "
                     "from it: on every row the labels may differ")
    swept = getattr(res, "sweep_rows", {}).get(name)
    if swept:
        lines.append(f"# the analysis fitted this model on a random sample of {swept} rows "
                     "(its sweep would take over a minute) and labelled every row by predict: "
                     "fitted on every row, the labels may differ")
    params = ", ".join(f"{k}={v}" for k, v in changed_params(model).items())
    lines.append(f"model = {cls}({params}).fit(X)")
    lines.append("labels = model.labels_" if hasattr(model, "labels_") and not swept
                 else "labels = model.predict(X)")
    return "\n".join(lines)


#: candidates that the analysis fits on every row, also when it samples for
#: --sample (a sweep over the step budget still runs on a sample of its own,
#: recorded in ``res.sweep_rows``; the chosen mixture is then refitted on
#: every row)
_EVERY_ROW = ("kmeans", "gmm")


# Plain advice for the warnings the analysis collects --------------------------------

_WARNING_NOTE = re.compile(r"^(?:Warning during the analysis:\s*)?([A-Za-z]*Warning):\s*(.*)$",
                           re.S)

_ADVICE = [
    (re.compile(r"Graph is not fully connected", re.I),
     lambda m, res: _graph_pieces_advice(res)),
    (re.compile(r"Number of distinct clusters \((\d+)\) found smaller than n_clusters \((\d+)\)",
                re.I),
     lambda m, res: (f"Only {m.group(1)} distinct point(s) exist (the table has many identical "
                     f"rows), so every k above {m.group(1)} splits identical rows arbitrarily "
                     "and adds nothing.")),
    (re.compile(r"did not converge|not converged|ConvergenceWarning", re.I),
     lambda m, res: ("A model stopped at its iteration limit before converging; its result is "
                     "usable but approximate (more iterations, or scaled columns with "
                     "--scale standard, usually help).")),
    (re.compile(r"overflow|invalid value|divide by zero", re.I),
     lambda m, res: ("Some computations overflowed or divided by zero: the values may be of "
                     "extreme magnitude or constant; try --scale standard, or check the "
                     "columns for extreme values.")),
    (re.compile(r"cannot be log-scaled|no positive values", re.I), lambda m, res: None),
    (re.compile(r"n_jobs|threadpool|NumbaPerformanceWarning|parallel=True", re.I),
     lambda m, res: None),
]


def _graph_pieces_advice(res):
    pieces = None
    model = res.models.get("spectral") if res is not None else None
    aff = getattr(model, "affinity_matrix_", None)
    if aff is not None:
        try:
            from scipy.sparse import csgraph

            pieces = int(csgraph.connected_components(aff, directed=False)[0])
        except Exception:
            pieces = None
    count = f"{pieces} separate pieces" if pieces else "separate pieces"
    return (f"The nearest-neighbour graph has {count}, so spectral clustering treats each piece "
            "as a fixed cluster (or group of clusters); its result says more about those gaps "
            "than about the shape of the clusters.")


def advice(note, res=None):
    """Plain words for one note: raw warning text becomes advice, other notes pass unchanged.

    Returns None for warnings that say nothing useful to the reader.
    """
    m = _WARNING_NOTE.match(note.strip())
    if not m:
        return note
    message = m.group(2).strip()
    for pattern, make in _ADVICE:
        found = pattern.search(message) or pattern.search(m.group(1))
        if found:
            return make(found, res)
    first = message.splitlines()[0] if message else ""
    return f"A step of the analysis reported: {first}"


def plain_notes(res):
    """The analysis's notes with every warning turned into advice (duplicates and noise removed)."""
    out = []
    for note in list(getattr(res.dataset, "notes", []) or []) + list(res.notes):
        text = advice(note, res)
        if text and text not in out:
            out.append(text)
    return out
