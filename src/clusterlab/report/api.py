"""``clusterlab.analyze``: the whole analysis from Python, for notebooks.

>>> import numpy as np
>>> import clusterlab
>>> rng = np.random.default_rng(0)
>>> X = np.r_[rng.normal(0, 0.3, (60, 2)), rng.normal(4, 0.3, (60, 2))]
>>> result = clusterlab.analyze(X, k=(2, 4), algorithms=("kmeans", "gmm"))
>>> result.recommendation in result.models
True
>>> result.labels.shape
(120,)

The command line (``clusterlab analyze``) is a thin layer over
:func:`analyze` and :meth:`Analysis.save`.
"""

import contextlib
import csv
import json
import os
import re
import sys
import time
import warnings

import numpy as np


def versions():
    """Versions of clusterlab and the libraries it stands on (for the report)."""
    import numba
    import scipy
    import sklearn

    from clusterlab import __version__

    return {"clusterlab": __version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__, "numba": numba.__version__,
            "python": sys.version.split()[0]}


def write_labels(path, res):
    """``labels.csv``: the data row number (from 1), each model's labels, the anomaly flag."""
    names = list(res.labels)
    rows_no = getattr(res.dataset, "row_numbers", None)
    n = res.X_fit.shape[0]
    if rows_no is None or len(rows_no) != n:
        rows_no = np.arange(1, n + 1)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["row"] + names + (["anomaly", "log_density"] if res.anomalies is not None
                                      else []))
        cols = [np.asarray(res.labels[k]) for k in names]
        for i in range(n):
            row = [int(rows_no[i])] + ["" if c[i] == -2 else int(c[i]) for c in cols]
            if res.anomalies is not None:
                row += [int(res.anomalies[i]), f"{res.anomaly_scores[i]:.6g}"]
            w.writerow(row)


def write_profile(path, res):
    """``profile.csv``: per cluster of the recommended model its size, share, weight, means, medians."""
    from clusterlab.report.explain import cluster_profile

    columns, rows = cluster_profile(res)
    if not rows:
        return False
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["cluster", "size", "share", "weight"] + [f"mean_{c}" for c in columns]
                   + [f"median_{c}" for c in columns])
        for r in rows:
            w.writerow([r["cluster"], r["size"], f"{r['share']:.6g}",
                        "" if r["weight"] is None else f"{r['weight']:.6g}"]
                       + [f"{v:.6g}" for v in r["mean"]] + [f"{v:.6g}" for v in r["median"]])
    return True


class Analysis:
    """The result of :func:`analyze`.

    Attributes
    ----------
    recommendation : str or None
        Name of the recommended model (a key of :attr:`models`); None when
        the table holds fewer than three distinct rows (nothing to cluster,
        :attr:`reasons` says so: no model is fitted, :attr:`labels` is None).
    reasons : list of str
        Why, in words.
    models : dict
        Every fitted model by name.
    labels : ndarray of shape (n_rows,) or None
        The recommended model's label of every row (``-1`` noise, ``-2`` not
        computed because the model ran on a sample); None without a
        recommendation.
    all_labels : dict
        Every model's labels.
    scores, failures, notes, kmeans_sweep, gmm_sweep, anomalies, anomaly_scores
        As in the report; :attr:`result` is the full
        :class:`~clusterlab.report.analysis.AnalysisResult`, whose other fields
        are reachable as attributes of this object too.
    """

    def __init__(self, result, seconds=None):
        self.result = result
        self.seconds = seconds
        self._page = None

    def __getattr__(self, name):
        if name.startswith("__") or name == "result":
            raise AttributeError(name)
        return getattr(self.result, name)

    def __repr__(self):
        ds = self.result.dataset
        return (f"<clusterlab analysis of {ds.name}: {ds.n_samples} rows x {ds.n_features} "
                f"columns, {len(self.result.models)} models, recommendation "
                f"{self.result.recommendation!r}>")

    @property
    def model(self):
        """The recommended fitted model."""
        return self.result.models.get(self.result.recommendation)

    @property
    def labels(self):
        from clusterlab.report.explain import recommended_labels

        return recommended_labels(self.result)

    @property
    def all_labels(self):
        return dict(self.result.labels)

    @property
    def sweeps(self):
        """The sweeps over k that ran, by name (``"kmeans"``, ``"gmm"``)."""
        return {k: v for k, v in (("kmeans", self.result.kmeans_sweep),
                                  ("gmm", self.result.gmm_sweep)) if v is not None}

    @property
    def failures(self):
        return dict(getattr(self.result, "failures", None) or {})

    @property
    def notes(self):
        """The analysis's notes in plain words (warnings turned into advice)."""
        from clusterlab.report.explain import plain_notes

        return plain_notes(self.result)

    def _render(self):
        if self._page is None:
            from clusterlab.report.drawing import render

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._page = render(self.result, versions(), self.seconds or 0.0)
        return self._page

    def summary(self):
        """The dictionary written to ``summary.json``."""
        from clusterlab.report.html import summary_dict

        out = summary_dict(self.result, versions(), self.seconds or 0.0)
        out["figure_failures"] = list(self._page.failures) if self._page is not None else []
        return out

    def to_html(self, path=None):
        """The self-contained report page as a string (also written to ``path`` if given)."""
        text = self._render().render()
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text)
        return text

    def saved_model(self):
        """The recommended model with its columns and scaling (:class:`SavedModel`), or None."""
        from clusterlab.report.model import saved_model_from

        return saved_model_from(self.result)

    def save(self, out_dir):
        """Write ``labels.csv``, ``summary.json``, ``report.html``, ``profile.csv`` and
        ``model.joblib`` to ``out_dir``; returns ``{file name: path}``."""
        from clusterlab.report.model import save_model

        os.makedirs(out_dir, exist_ok=True)
        paths = {}
        p = os.path.join(out_dir, "labels.csv")
        with _whole_or_none(p):
            write_labels(p, self.result)
        paths["labels.csv"] = p
        html_path = os.path.join(out_dir, "report.html")
        with _whole_or_none(html_path):
            self.to_html(html_path)
        summary = self.summary()
        p = os.path.join(out_dir, "profile.csv")
        if os.path.exists(p):
            os.remove(p)
        with _whole_or_none(p):
            if write_profile(p, self.result):
                paths["profile.csv"] = p
        p = os.path.join(out_dir, "model.joblib")
        if os.path.exists(p):  # never leave an earlier run's model beside this run's labels
            os.remove(p)
        try:
            saved = self.saved_model()
            if saved is None:
                summary["model_not_saved"] = ("no recommended model, or its scaling could not "
                                              "be written down")
            else:
                save_model(saved, p)
                paths["model.joblib"] = p
        except Exception as exc:  # the other files are still worth having
            summary["model_not_saved"] = f"{type(exc).__name__}: {exc}"
            if os.path.exists(p):
                os.remove(p)
        summary["files"] = sorted(list(paths) + ["summary.json", "report.html"])
        p = os.path.join(out_dir, "summary.json")
        with _whole_or_none(p), open(p, "w") as fh:
            json.dump(summary, fh, indent=2, allow_nan=False)
        paths["summary.json"] = p
        paths["report.html"] = html_path
        return paths


@contextlib.contextmanager
def _whole_or_none(path):
    """Remove ``path`` when writing it fails (a full disk, an interrupt): no
    half-written file is left behind; the error goes on."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            if os.path.isfile(path) and not os.path.islink(path):
                os.remove(path)
        raise


def _integer(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _k_range(k):
    """``(lo, hi)`` from ``k`` (an int: 2..k; "lo..hi" or "k"; a pair), or
    None; ValueError naming what ``k`` accepts otherwise."""
    if k is None:
        return None
    accepts = ("k takes an int k >= 2 (the range 2..k), a pair (lo, hi) or a string "
               f"'lo..hi' with 1 <= lo <= hi and hi >= 2; got {k!r}")
    if isinstance(k, str):
        lo, sep, hi = k.partition("..")
        try:
            pair = (int(lo), int(hi) if sep else int(lo))
        except ValueError:
            raise ValueError(accepts) from None
    elif _integer(k):
        pair = (2, int(k))
    else:
        try:
            values = list(k)
        except TypeError:
            raise ValueError(accepts) from None
        if len(values) != 2 or not all(_integer(v) for v in values):
            raise ValueError(accepts)
        pair = (int(min(values)), int(max(values)))
    if pair[0] < 1 or pair[1] < 2:
        raise ValueError(accepts)
    return pair


#: what the options accept, here and on the command line (clusterlab.cli)
SCALES = ("auto", "standard", "none")
MAX_CONTAMINATION = 0.5
MIN_SAMPLE = 10
SEED_LIMIT = 2 ** 32


def checked_algorithms(algorithms):
    """``algorithms`` (names, or one comma-separated string) as a tuple of
    lower-case candidate names; ValueError when one is unknown or none is given."""
    from clusterlab.report.analysis import ALGORITHMS

    names = algorithms.split(",") if isinstance(algorithms, str) else list(algorithms)
    names = [str(a).strip().lower() for a in names]
    bad = [a for a in names if a not in ALGORITHMS]
    if bad or not names:
        raise ValueError(f"algorithms takes names among {', '.join(ALGORITHMS)}; got "
                         f"{algorithms!r}")
    from clusterlab.report.candidates import REGISTRY

    if all(REGISTRY[a].needs_k for a in names):
        choosers = [a for a in ALGORITHMS if not REGISTRY[a].needs_k]
        unique = list(dict.fromkeys(names))
        raise NeedsChooserError(
            f"{', '.join(unique)} run{'s' if len(unique) == 1 else ''} at the number of "
            f"clusters another candidate chooses ({', '.join(choosers)}): add one, e.g. "
            f"'kmeans,{names[0]}'.")
    return tuple(dict.fromkeys(names))


class NeedsChooserError(ValueError):
    """Only candidates that run at a number of clusters another one chooses."""


def _checked_options(algorithms, contamination, sample, seed, scale):
    """The analysis's options checked as the command line checks them:
    ``algorithms`` as a tuple of lower-case names; ValueError naming the
    option and what it accepts otherwise."""
    from numbers import Real

    if algorithms is not None:
        algorithms = checked_algorithms(algorithms)
    if (not isinstance(contamination, Real) or isinstance(contamination, bool)
            or not 0 < contamination <= MAX_CONTAMINATION):
        raise ValueError(f"contamination takes a share in (0, {MAX_CONTAMINATION}]; got "
                         f"{contamination!r}")
    if sample is not None and not (_integer(sample) and sample >= MIN_SAMPLE):
        raise ValueError(f"sample takes an int of at least {MIN_SAMPLE} rows (or None); got "
                         f"{sample!r}")
    if not (_integer(seed) and 0 <= seed < SEED_LIMIT):
        raise ValueError(f"seed takes an int in 0..{SEED_LIMIT - 1}; got {seed!r}")
    if scale not in SCALES:
        raise ValueError(f"scale takes one of {', '.join(SCALES)}; got {scale!r}")
    return algorithms


def analyze_dataset(dataset, k=None, algorithms=None, contamination=0.02, sample=None, seed=42,
                    scale="auto", progress=None, on_candidate=None):
    """Run the analysis on a :class:`~clusterlab.report.data.Dataset`; returns an :class:`Analysis`.

    ``k`` and ``algorithms`` left at None take the analysis's own defaults;
    ``on_candidate`` is :func:`~clusterlab.report.analysis.run_analysis`'s.
    """
    from clusterlab.report.analysis import run_analysis
    from clusterlab.report.data import DataError

    from clusterlab.report.analysis import MIN_ROWS

    kwargs = {}
    k_range = _k_range(k)
    algorithms = _checked_options(algorithms, contamination, sample, seed, scale)
    if dataset.n_samples < MIN_ROWS:
        n = dataset.n_samples
        raise DataError(f"{dataset.name}: {n} row{'' if n == 1 else 's'}; need more rows than "
                        f"clusters to look for structure (at least {MIN_ROWS}).")
    if k_range is not None:
        if dataset.n_samples <= k_range[1]:
            raise DataError(f"{dataset.name}: {dataset.n_samples} rows but k goes up to "
                            f"{k_range[1]}; need more rows than clusters (lower --k).")
        kwargs["k_range"] = k_range
    if algorithms is not None:
        kwargs["algorithms"] = tuple(algorithms)
    t0 = time.perf_counter()
    res = run_analysis(dataset, contamination=contamination, sample=sample, seed=seed,
                       scale=scale, progress=progress, on_candidate=on_candidate, **kwargs)
    if not hasattr(res, "failures") or res.failures is None:
        res.failures = {}
    return Analysis(res, seconds=time.perf_counter() - t0)


def analyze(data=None, *, y=None, columns=None, exclude=None, label_column=None, k=None,
            algorithms=None, contamination=0.02, sample=None, seed=42, scale="auto",
            missing="error", progress=None):
    """Run ``clusterlab analyze`` from Python.

    Parameters
    ----------
    data : array-like, pandas DataFrame, str or path, default=None
        The table: a 2-D array, a DataFrame (non-numeric columns are left
        out), a file path (read as the command line reads it) or a built-in
        data set name; None means the five-blobs data set.
    y : array-like of shape (n_rows,), optional
        Known labels, used only to score the clusterings (adjusted Rand index).
    columns, exclude : list of str, optional
        Columns to use, or to leave out.
    label_column : str, optional
        A column of ``data`` holding known labels (kept out of the fit).
    k : (int, int) or str, optional
        The range of k, e.g. ``(2, 10)`` or ``"2..10"``; default: the analysis's.
    algorithms : sequence of str, optional
        Which candidates to run (``"kmeans"``, ``"gmm"``, ``"dbscan"``, ...).
    contamination : float, default=0.02
        Share of rows flagged as anomalies.
    sample : int, optional
        Rows used by the steps whose cost grows with the square of the rows.
    seed : int, default=42
        Random seed: the same seed gives the same result.
    scale : {"auto", "standard", "none"}, default="auto"
    missing : {"error", "drop", "impute"}, default="error"
        Missing or non-finite cells: stop with a message, leave those rows
        out, or fill them with the column's median.
    progress : callable, optional
        ``progress(stage, step, total)`` as the work advances.

    Returns
    -------
    Analysis
        With ``models``, ``labels`` (the recommended model's), ``all_labels``,
        ``scores``, ``recommendation``, ``reasons``, ``kmeans_sweep``,
        ``gmm_sweep``, ``anomalies``, ``to_html()``, ``save(out_dir)`` and
        ``saved_model()``.

    Raises
    ------
    clusterlab.report.DataError
        When the data cannot be analysed as given (the message says why).
    """
    from clusterlab.report.data import DataError, dataset_from_data

    _k_range(k)  # the options first: a bad one is said before the table is read
    _checked_options(algorithms, contamination, sample, seed, scale)
    in_memory = data is not None and not isinstance(data, (str, os.PathLike))
    try:
        ds = dataset_from_data(data, columns=columns, exclude=exclude,
                               label_column=label_column, missing=missing, y=y)
        ds.notes = [python_words(note) for note in ds.notes]
        analysis = analyze_dataset(ds, k=k, algorithms=algorithms, contamination=contamination,
                                   sample=sample, seed=seed, scale=scale, progress=progress)
    except DataError as exc:
        raise DataError(python_words(str(exc), rows=in_memory)) from None
    except ValueError as exc:  # the analysis's own refusals (more rows than k, ...)
        raise type(exc)(python_words(str(exc), rows=in_memory)) from None
    result = analysis.result
    result.notes = [python_words(note) for note in result.notes]
    result.reasons = [python_words(reason) for reason in result.reasons]
    return analysis


#: the command line's words in messages, and their Python spelling
_PYTHON_WORDS = ((re.compile(r"--missing (drop|impute|error)"), r"missing='\1'"),
                 (re.compile(r"--missing\b"), "missing="),
                 (re.compile(r"--exclude\b"), "exclude="),
                 (re.compile(r"--columns\b"), "columns="),
                 (re.compile(r"--label-column\b"), "label_column="),
                 (re.compile(r"--k (\d+)\.\.(\d+)"), r"k=(\1, \2)"),
                 (re.compile(r"lower --k\b"), "lower the top of k"),
                 (re.compile(r"--k\b"), "k="),
                 (re.compile(r"--sample\b"), "sample="),
                 (re.compile(r"--scale\b"), "scale="))
_ROWS_FROM_ONE = "rows counted from 1, the first data row after the header"


def python_words(text, rows=False):
    """A message of the data reading or the analysis in the words of the Python
    API (``missing='drop'`` for ``--missing drop``...); with ``rows``, rows
    of an in-memory array are said to be counted from 1 by position."""
    if "exclude= in Python" in text:  # already says both
        return text
    for pattern, spelling in _PYTHON_WORDS:
        text = pattern.sub(spelling, text)
    text = re.sub(r"run with (missing=|exclude=|columns=)", r"pass \1", text)
    if rows:
        text = text.replace(_ROWS_FROM_ONE, "rows counted from 1 by position: row r is X[r - 1] "
                            "or df.iloc[r - 1]")
    return text
