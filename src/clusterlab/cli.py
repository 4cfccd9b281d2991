"""clusterlab's command line: cluster a table, reuse the model, replay the tutorial.

  clusterlab analyze [DATA] [--out DIR]   cluster a table; write labels, a summary,
                                          a report page and the fitted model
  clusterlab predict MODEL DATA [--out FILE]
                                          label new rows with a saved model
  clusterlab demo [--out DIR]             replay the tutorial notebook clusterlab
                                          reproduces, as one HTML page

Run "clusterlab COMMAND --help" for the options of each command.
Exit codes: 0 success, 2 bad usage or unreadable data.
"""

import argparse
import contextlib
import csv
import os
import sys

import numpy as np

from clusterlab import __version__, _config


class UsageError(Exception):
    """Bad usage or unreadable data: exit code 2 with a message."""


def _parse_k(text):
    try:
        lo, sep, hi = str(text).partition("..")
        lo, hi = int(lo), int(hi) if sep else int(lo)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--k expects LO..HI, e.g. 2..10, got {text!r}") from exc
    if lo < 1 or hi < lo or hi < 2:
        raise argparse.ArgumentTypeError(
            f"--k expects 1 <= LO <= HI with HI >= 2, e.g. 2..10, got {text!r}")
    return lo, hi


def _algorithm_names():
    from clusterlab.report.candidates import REGISTRY

    return tuple(REGISTRY)


# the bounds are clusterlab.report.api's, which checks the same options from Python


def _parse_algorithms(text):
    from clusterlab.report.analysis import ALGORITHMS
    from clusterlab.report.api import NeedsChooserError, checked_algorithms

    try:
        return checked_algorithms([a for a in text.split(",") if a.strip()])
    except NeedsChooserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--algorithms takes a comma-separated list of {', '.join(ALGORITHMS)}; "
            f"got {text!r}") from None


def _parse_fraction(text):
    from clusterlab.report.api import MAX_CONTAMINATION as top

    try:
        v = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number in (0, {top}], got {text!r}") from exc
    if not 0 < v <= top:
        raise argparse.ArgumentTypeError(f"--contamination must be in (0, {top}], got {v}")
    return v


def _positive_int(text):
    from clusterlab.report.api import MIN_SAMPLE

    try:
        v = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from exc
    if v < MIN_SAMPLE:
        raise argparse.ArgumentTypeError(f"--sample must be at least {MIN_SAMPLE}, got {v}")
    return v


def _seed(text):
    from clusterlab.report.api import SEED_LIMIT

    try:
        v = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from exc
    if not 0 <= v < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"--seed must be in 0..{SEED_LIMIT - 1}, got {v}")
    return v


def _csv_list(text):
    names = [c.strip() for c in text.split(",") if c.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{text!r} names no column")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise argparse.ArgumentTypeError(
            f"{text!r} names {', '.join(repr(n) for n in twice)} more than once")
    return names


class _Progress:
    """One progress bar per stage on stderr (tqdm), or nothing."""

    def __init__(self, enabled):
        self.enabled = enabled
        self.bar = None
        self.stage = None

    def __call__(self, stage, step, total):
        if not self.enabled:
            return
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=f"{stage:<18}", file=sys.stderr, leave=True,
                            bar_format="{desc} {bar:30} {n_fmt}/{total_fmt} [{elapsed}]")
        self.bar.total = total
        self.bar.n = step
        self.bar.refresh()

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _versions():
    from clusterlab.report.api import versions

    return versions()


def write_labels(path, res):
    from clusterlab.report.api import write_labels as _write

    _write(path, res)


#: the files ``clusterlab analyze`` writes into ``--out``
ANALYZE_OUTPUTS = ("labels.csv", "profile.csv", "model.joblib", "summary.json", "report.html")


def _check_out_dir(path):
    """Make sure ``--out`` is a folder we can write, before any work (UsageError if not)."""
    path = os.fspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"--out {path}: is an existing file; give a folder name "
                         "(it is created if needed).")
    folders = [f for f in ANALYZE_OUTPUTS if os.path.isdir(os.path.join(path, f))]
    if folders:
        raise UsageError(f"--out {path}: {', '.join(folders)} "
                         f"{'is a folder' if len(folders) == 1 else 'are folders'} there, where "
                         "the analysis writes a file; choose another folder.")
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, f".clusterlab-write-test-{os.getpid()}")
        with open(probe, "w") as fh:
            fh.write("")
        os.remove(probe)
    except OSError as exc:
        raise UsageError(f"--out {path}: cannot write there ({exc.strerror or exc}); "
                         "choose another folder.") from exc


def _check_out_file(path):
    """Make sure ``--out FILE`` can be written (not a folder, its folder writable)."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise UsageError(f"--out {path}: is a folder; give a file name such as predictions.csv.")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"--out {path}: the folder {folder} does not exist.")
    existed = os.path.exists(path)
    try:
        with open(path, "a"):
            pass
        if not existed:
            os.remove(path)
    except OSError as exc:
        raise UsageError(f"--out {path}: cannot write there ({exc.strerror or exc}).") from exc


def text_summary(res, out_dir, paths=None):
    """What ``clusterlab analyze`` prints on stdout."""
    from clusterlab.report.explain import display_name, model_status, plain_notes

    lines = []
    ds = res.dataset
    n_rows, n_fit = res.X_fit.shape
    n_cols = len(ds.columns)
    reduced = (f", clustered on {n_fit} principal components"
               if getattr(res, "reduction", None) is not None else "")
    lines.append(f"clusterlab analyze: {ds.name} ({n_rows} row{'' if n_rows == 1 else 's'} x "
                 f"{n_cols} column{'' if n_cols == 1 else 's'}, scale={res.scale}{reduced})")
    if ds.dropped:
        lines.append("Columns left out: " + ", ".join(f"{c} ({why})" for c, why in ds.dropped))
    if res.kmeans_sweep is not None:
        sw = res.kmeans_sweep
        lines.append("")
        lines.append("K-Means   k   inertia        silhouette")
        sil = np.asarray(sw.table["silhouette"], dtype=float)
        best = sw.best("silhouette") if np.isfinite(sil).any() else None
        for k, i, s in zip(sw.table["k"], sw.table["inertia"], sw.table["silhouette"]):
            mark = []
            if best is not None and int(k) == best:
                mark.append("best silhouette")
            if sw.elbow is not None and int(k) == sw.elbow:
                mark.append("elbow (Kneedle)")
            s_txt = f"{s:10.4f}" if np.isfinite(s) else "         -"
            lines.append(f"        {int(k):3d}   {i:12.4f}   {s_txt}"
                         + (f"   <- {', '.join(mark)}" if mark else ""))
    if res.gmm_sweep is not None and "gmm" in res.models:
        gm = res.models["gmm"]
        lines.append("")
        table = getattr(res, "gmm_table", None) or {}
        if table:
            bic_cov, bic_k = min(table, key=lambda key: table[key][0])
            icl_cov, icl_k = min(table, key=lambda key: table[key][1])
            comps = f"{icl_k} component{'' if icl_k == 1 else 's'}"
            lines.append(f"Gaussian mixture: ICL is best at {comps} with "
                         f"covariance_type '{icl_cov}' ({len(table)} mixtures "
                         f"compared); BIC at {bic_k} with '{bic_cov}'")
        else:
            lines.append(f"Gaussian mixture: {gm.n_components} components, covariance_type "
                         f"'{gm.covariance_type}'")
    lines.append("")
    lines.append("model           clusters  noise   silhouette"
                 + ("  ARI vs labels" if ds.y is not None else ""))
    for name, sc in res.scores.items():
        sil = f"{sc['silhouette']:.3f}" if np.isfinite(sc["silhouette"]) else "-"
        line = f"{name:<15} {sc['n_clusters']:8d}  {sc['noise_fraction']:5.1%}   {sil:>10}"
        if ds.y is not None:
            line += f"  {sc.get('ari_vs_labels', float('nan')):13.3f}"
        status, why = model_status(res, name)
        if status == "degenerate":
            line += f"   ({why})"
        lines.append(line)
    for name, why in (getattr(res, "failures", None) or {}).items():
        lines.append(f"{name:<15} failed: {why}")
    lines.append("")
    if res.recommendation is None:
        lines.append("Recommendation: none (no clear cluster structure)")
    elif getattr(res, "verdict", None) == "no structure":
        lines.append(f"Recommendation: no clear cluster structure ({res.recommendation}: one "
                     f"{display_name(res.recommendation)} component)")
    else:
        lines.append(f"Recommendation: {res.recommendation} ({display_name(res.recommendation)})")
    for r in res.reasons:
        lines.append(f"  - {r}")
    for note in plain_notes(res):
        lines.append(f"Note: {note}")
    if paths and res.recommendation is not None and "model.joblib" not in paths:
        lines.append("Note: the recommended model could not be saved for clusterlab predict "
                     "(no model.joblib; summary.json's model_not_saved says why).")
    lines.append("")
    names = list(paths) if paths else ["labels.csv", "summary.json", "report.html"]
    shown = [os.path.join(out_dir, n) for n in names]
    lines.append("Wrote " + ", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1
                 else "Wrote " + shown[0])
    return "\n".join(lines)


def _progress_enabled(args):
    return args.progress or (not args.quiet and sys.stderr.isatty())


#: set by :func:`run` (the command itself, not ``main`` called from Python):
#: the collector is paused while ``analyze``/``predict`` import and read
_PAUSE_GC = False
_gc_paused = False


def _pause_gc():
    """Pause Python's cyclic garbage collector while a command imports its
    libraries and reads the table; :func:`_resume_gc` ends the pause once the
    table is read.

    Those imports (scikit-learn, scipy, numba, matplotlib) create millions of
    objects that live until the process ends; the collector would walk them
    again and again as they accumulate, and then at every full collection of
    the analysis and the figures: about 0.3 s of a 4 s warm analysis. Only
    the command does this (:func:`run`): a Python program calling
    :func:`main` keeps its collector as it is."""
    global _gc_paused
    import gc

    if _PAUSE_GC and gc.isenabled():
        gc.disable()
        _gc_paused = True


def _resume_gc():
    """End :func:`_pause_gc`'s pause: move every object alive now out of the
    collector's sight for good (``gc.freeze``: the modules, the table) and
    collect again. Later collections, the full ones included, walk only what
    is created after this; the drawing processes forked later inherit the
    frozen objects. Does nothing without a pause."""
    global _gc_paused
    import gc

    if _gc_paused:
        _gc_paused = False
        gc.freeze()
        gc.enable()


def analyze(args):
    from clusterlab.report import drawing, prewarm
    from clusterlab.report.api import analyze_dataset
    from clusterlab.report.data import DataError, load_dataset
    from clusterlab.report.warmup import announce_compilation

    _check_out_dir(args.out)
    # on a cold numba cache, start the compile helper now: its start-up overlaps
    # reading the table (the analysis hands it the prepared rows)
    prewarm.launch_early()
    try:
        try:
            ds = load_dataset(args.data, columns=args.columns, exclude=args.exclude,
                              label_column=args.label_column, missing=args.missing)
        finally:
            _resume_gc()
        hi = args.k[1] if args.k is not None else 0
        if args.k is not None and ds.n_samples <= hi:
            raise UsageError(f"{ds.name}: {ds.n_samples} rows but --k goes up to {hi}; "
                             "need more rows than clusters (lower --k).")
        compiling = announce_compilation() > 0
        # the report's drawing process: it gets matplotlib ready while the
        # analysis runs and, for a small table, draws the candidates' figures
        # as they come (not on a first run: their kernels would compile beside
        # the analysis's; report/drawing.py)
        drawing.start_early()
        ahead = not compiling and drawing.draws_ahead(ds.X)
        progress = _Progress(_progress_enabled(args))
        try:
            with _config.single_threaded_blas() if ahead else contextlib.nullcontext():
                result = analyze_dataset(ds, k=args.k, algorithms=args.algorithms,
                                         contamination=args.contamination,
                                         sample=args.sample, seed=args.seed,
                                         scale=args.scale, progress=progress,
                                         on_candidate=drawing.ahead if ahead else None)
        finally:
            progress.close()
    except BaseException as exc:
        drawing.discard_early()
        if isinstance(exc, DataError):
            raise UsageError(str(exc)) from exc
        raise
    finally:
        prewarm.discard_early()
    try:
        paths = result.save(args.out)
    except OSError as exc:  # a folder where a file goes, a full disk, permissions
        where = exc.filename or args.out
        raise UsageError(f"--out {args.out}: cannot write {where} "
                         f"({exc.strerror or exc}).") from exc
    finally:
        drawing.discard_early()
    # one write: a reader that takes only the first lines (| head -1) then
    # finds it whole in the pipe instead of closing it between two writes
    if args.format == "json":
        with open(paths["summary.json"]) as fh:
            _write_out(fh.read())
    else:
        _write_out(text_summary(result.result, args.out, paths))
    page = result._render()
    for failure in page.failures:
        print(f"clusterlab: warning: figure failed: {failure}", file=sys.stderr)
    return 0


def predict(args):
    from clusterlab.report.data import DataError, load_dataset
    from clusterlab.report.model import ModelError, load_model
    from clusterlab.report.warmup import announce_compilation

    _check_out_file(args.out)
    try:
        saved = load_model(args.model)
        ds = load_dataset(args.data, columns=saved.columns, missing=args.missing,
                          required_by="the saved model")
    except (DataError, ModelError) as exc:
        raise UsageError(str(exc)) from exc
    finally:
        _resume_gc()
    announce_compilation()
    try:
        labels = saved.predict(ds.X)
        flags, dens = saved.anomalies(ds.X)
    except ModelError as exc:
        rows = getattr(exc, "rows", None)
        where = "" if rows is None else (
            " Rows: " + ", ".join(str(int(ds.row_numbers[i])) for i in rows[:5])
            + (" ..." if len(rows) > 5 else "") + " (counted from 1, the first data row "
            "after the header).")
        raise UsageError(f"{args.data}: {exc}{where}") from exc
    from clusterlab.report.api import _whole_or_none

    try:
        with _whole_or_none(args.out), open(args.out, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["row", "cluster"]
                       + (["anomaly", "log_density"] if flags is not None else []))
            for i in range(len(labels)):
                row = [int(ds.row_numbers[i]), int(labels[i])]
                if flags is not None:
                    row += [int(flags[i]), f"{dens[i]:.6g}"]
                w.writerow(row)
    except OSError as exc:  # a full disk: no half-written file is left
        raise UsageError(f"--out {args.out}: cannot write it ({exc.strerror or exc}).") from exc
    counts = np.unique(labels, return_counts=True)
    n_cols = len(saved.columns)
    print(f"clusterlab predict: {ds.name}: {len(labels)} rows labelled with the saved "
          f"{saved.name} model ({n_cols} column{'' if n_cols == 1 else 's'}, "
          f"scale={saved.scale}).")
    for note in ds.notes:
        print(f"Note: {note}")
    print("Rows per cluster: " + ", ".join(f"{int(c)}: {int(n)}" for c, n in zip(*counts)))
    if flags is not None:
        print(f"Anomalies: {int(flags.sum())} rows below the analysis's density threshold.")
    print(f"Wrote {args.out}")
    return 0


def demo(args):
    from clusterlab.report.demo import run_demo
    from clusterlab.report.warmup import announce_compilation

    _check_out_dir(args.out)
    announce_compilation()
    show = _progress_enabled(args)
    path = run_demo(args.out, progress=_Progress(show) if show else None,
                    figures=not args.no_figures)
    print(f"Wrote {path}")
    return 0


_ANALYZE_HELP = """\
Cluster a table and explain the result. Runs K-Means and Gaussian-mixture
sweeps over k, Genie, DBSCAN, HDBSCAN, agglomerative (Ward) and spectral
clustering, flags anomalies, and recommends one clustering with its reasons.
Writes to the --out folder:
  labels.csv     each model's cluster of every row (rows numbered from 1, the
                 first data row after the header), the anomaly flag
  summary.json   every figure of the analysis
  report.html    one self-contained page with the figures
  profile.csv    per cluster of the recommended model: size, share, means, medians
  model.joblib   the recommended model, for "clusterlab predict"
"""

_PREDICT_HELP = """\
Label new rows with a model saved by "clusterlab analyze" (its model.joblib):
the rows are read as analyze reads them, scaled as the analysis scaled them,
and given a cluster and an anomaly flag. Writes a CSV with the columns row
(numbered from 1, the first data row after the header), cluster (-1 = noise),
anomaly (1 = flagged) and log_density.
"""

_DEMO_HELP = """\
Replay, with clusterlab, the tutorial notebook on unsupervised learning that
clusterlab reproduces (K-Means, DBSCAN, spectral and agglomerative clustering,
Gaussian mixtures, anomaly detection, semi-supervised labelling), and write
one HTML page (demo.html) with every figure of the notebook and, beside each
number the notebook printed, the number clusterlab computes. Takes a few
minutes.
"""

_DATA_HELP = ("a CSV/TSV file (UTF-8 or Windows/latin-1 text; separated by commas, semicolons "
              "with decimal commas, tabs, vertical bars or aligned spaces; may be gzip-, "
              "bzip2- or xz-compressed or zipped), a Parquet, .npy or .npz file, or "
              "a built-in data set: five-blobs, elongated-blobs, moons, iris, digits "
              "(default: five-blobs)")
_MISSING_HELP = ("empty, NaN or infinite cells: error (default) stops and names every such "
                 "column and its first rows; drop leaves those rows out; impute fills each "
                 "cell with its column's median")


def build_parser():
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(prog="clusterlab", description=__doc__, formatter_class=fmt)
    parser.add_argument("--version", action="version", version=f"clusterlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    a = sub.add_parser("analyze", help="cluster a table; write labels, a summary, a report "
                       "and the model", description=_ANALYZE_HELP, formatter_class=fmt)
    a.add_argument("data", nargs="?", default=None, metavar="DATA", help=_DATA_HELP)
    a.add_argument("--out", default="clusterlab-output", metavar="DIR",
                   help="output folder, created if needed (default: clusterlab-output)")
    a.add_argument("--columns", type=_csv_list, metavar="A,B,...",
                   help="comma-separated columns to use (names, or 0-based positions)")
    a.add_argument("--exclude", type=_csv_list, metavar="A,B,...",
                   help="comma-separated columns to leave out")
    a.add_argument("--label-column", metavar="NAME",
                   help="a column of known labels: kept out of the fit, used to score "
                        "each clustering")
    a.add_argument("--missing", choices=("error", "drop", "impute"), default="error",
                   help=_MISSING_HELP)
    a.add_argument("--scale", choices=("auto", "standard", "none"), default="auto",
                   help="standard: give every column mean 0 and standard deviation 1; none: "
                        "use the values as they are; auto (default): standard when the "
                        "columns' spreads differ by more than 10 times")
    a.add_argument("--k", type=_parse_k, default=None, metavar="LO..HI",
                   help="range of numbers of clusters to try (default: 2 up to about 1.2 "
                        "times the square root of the rows, at least 10 and at most 100)")
    a.add_argument("--algorithms", type=_parse_algorithms, default=None, metavar="NAMES",
                   help="comma-separated subset of the candidate clusterings: "
                        + ",".join(_algorithm_names()) + " (default: all that this "
                        "installation has)")
    a.add_argument("--contamination", type=_parse_fraction, default=0.02, metavar="SHARE",
                   help="share of rows flagged as anomalies, at most 0.5 (default 0.02)")
    a.add_argument("--sample", type=_positive_int, default=None, metavar="N",
                   help="rows used by the steps whose cost grows with the square of the "
                        "rows (default 5000)")
    a.add_argument("--seed", type=_seed, default=42, metavar="N",
                   help="random seed: the same seed gives the same result (default 42)")
    a.add_argument("--format", choices=("text", "json"), default="text",
                   help="what is printed on stdout: a text summary (default) or summary.json")
    a.add_argument("--quiet", action="store_true", help="no progress bars")
    a.add_argument("--progress", action="store_true",
                   help="progress bars on stderr even when it is not a terminal")
    a.set_defaults(func=analyze)
    p = sub.add_parser("predict", help="label new rows with a model saved by analyze",
                       description=_PREDICT_HELP, formatter_class=fmt)
    p.add_argument("model", metavar="MODEL",
                   help="the model.joblib written by analyze (a pickle: loading a file runs "
                        "what it holds, so load only models you or someone you trust saved)")
    p.add_argument("data", metavar="DATA", help="the new rows: " + _DATA_HELP.split(" (default")[0]
                   + "; it needs the columns the model was fitted on")
    p.add_argument("--out", default="predictions.csv", metavar="FILE",
                   help="the CSV to write (default: predictions.csv)")
    p.add_argument("--missing", choices=("error", "drop", "impute"), default="error",
                   help=_MISSING_HELP.replace("column's median", "column's median in DATA"))
    p.set_defaults(func=predict)
    d = sub.add_parser("demo", help="replay the tutorial notebook with clusterlab (HTML page)",
                       description=_DEMO_HELP, formatter_class=fmt)
    d.add_argument("--out", default="clusterlab-demo", metavar="DIR",
                   help="output folder for demo.html, created if needed "
                        "(default: clusterlab-demo)")
    d.add_argument("--no-figures", action="store_true",
                   help="compute and check every number, but draw no figure (a note "
                        "stands in each figure's place): about a third of the time")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.add_argument("--progress", action="store_true",
                   help="a progress bar on stderr even when it is not a terminal")
    d.set_defaults(func=demo)
    return parser


def _quiet_libraries():
    """Keep library warnings (matplotlib, numba, convergence) off the terminal.

    The analysis records the warnings it meets and the report turns them into
    advice; what is left would only confuse a command-line user.
    """
    import logging
    import warnings

    warnings.simplefilter("ignore")
    for name in ("matplotlib", "numba", "PIL"):
        logging.getLogger(name).setLevel(logging.ERROR)


def main(argv=None):
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        _quiet_libraries()
        if args.command in ("analyze", "predict"):
            _pause_gc()
        try:
            return args.func(args)
        except UsageError as exc:
            print(f"clusterlab: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:  # pragma: no cover
            print("clusterlab: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            return _closed_pipe()
        except Exception as exc:
            if os.environ.get("CLUSTERLAB_DEBUG"):
                raise
            print(f"clusterlab: error: the {args.command} command failed: "
                  f"{type(exc).__name__}: {exc}\n(this is a bug in clusterlab; "
                  "CLUSTERLAB_DEBUG=1 shows the full traceback)", file=sys.stderr)
            return 1
        finally:
            _resume_gc()


def _write_out(text):
    """``text`` and a newline on standard output in one write."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _closed_pipe():
    """The reader of standard output went away (``clusterlab analyze | head``):
    not an error of the command. Nothing more goes to the pipe; the exit status
    is a shell's for a command ended by SIGPIPE (128 + 13)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
    except (OSError, ValueError):  # pragma: no cover - stdout without a descriptor
        pass
    return 141


def run(argv=None):
    """The ``clusterlab`` command (and ``python -m clusterlab``): :func:`main`,
    then a quick exit.

    Tearing the interpreter down after an analysis (the modules of numba,
    scikit-learn, scipy and matplotlib) takes about half a second, a tenth of
    a warm run. Everything the command writes is closed by then, so it runs
    the interpreter's exit handlers, waits for any non-daemon thread, flushes
    the terminal and leaves with ``os._exit``. ``CLUSTERLAB_FAST_EXIT=0``
    leaves the usual way.
    """
    import atexit
    import threading

    global _PAUSE_GC
    _PAUSE_GC = True
    code = main(argv)
    code = 0 if code is None else int(code)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = _closed_pipe()
    except (OSError, ValueError):  # a closed stream: nothing more to say
        pass
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)
    if os.environ.get("CLUSTERLAB_FAST_EXIT", "1") == "0" or run_exit_handlers is None:
        sys.exit(code)
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing more to say
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
