"""The ``clusterlab`` command line.

``clusterlab analyze [DATA] [--out DIR] [options]`` runs the seed notebook's
analysis on a table (CSV/TSV, Parquet, NPY/NPZ) or a built-in data set and
writes ``labels.csv``, ``summary.json`` and a self-contained ``report.html``.
``clusterlab demo [--out DIR]`` replays the seed notebook with clusterlab.

Exit codes: 0 success, 2 bad usage or unreadable data.
"""

import argparse
import csv
import json
import os
import sys
import time

import numpy as np

from clusterlab import __version__


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


def _parse_algorithms(text):
    from clusterlab.report.analysis import ALGORITHMS

    names = [a.strip().lower() for a in text.split(",") if a.strip()]
    bad = [a for a in names if a not in ALGORITHMS]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"--algorithms takes a comma-separated list of {', '.join(ALGORITHMS)}; "
            f"got {text!r}")
    return tuple(names)


def _parse_fraction(text):
    try:
        v = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 0.5], got {text!r}") from exc
    if not 0 < v <= 0.5:
        raise argparse.ArgumentTypeError(f"--contamination must be in (0, 0.5], got {v}")
    return v


def _positive_int(text):
    try:
        v = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from exc
    if v < 10:
        raise argparse.ArgumentTypeError(f"--sample must be at least 10, got {v}")
    return v


def _csv_list(text):
    return [c.strip() for c in text.split(",") if c.strip()]


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
    import numba
    import scipy
    import sklearn

    return {"clusterlab": __version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__, "numba": numba.__version__,
            "python": sys.version.split()[0]}


def write_labels(path, res):
    names = list(res.labels)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["row"] + names + (["anomaly", "log_density"] if res.anomalies is not None
                                      else []))
        n = res.X_fit.shape[0]
        cols = [res.labels[k] for k in names]
        for i in range(n):
            row = [i] + ["" if c[i] == -2 else int(c[i]) for c in cols]
            if res.anomalies is not None:
                row += [int(res.anomalies[i]), f"{res.anomaly_scores[i]:.6g}"]
            w.writerow(row)


def text_summary(res, summary, out_dir):
    lines = []
    ds = res.dataset
    lines.append(f"clusterlab analyze: {ds.name} ({res.X_fit.shape[0]} rows x "
                 f"{res.X_fit.shape[1]} columns, scale={res.scale})")
    if res.kmeans_sweep is not None:
        sw = res.kmeans_sweep
        lines.append("")
        lines.append("K-Means   k   inertia        silhouette")
        best = sw.best("silhouette")
        for k, i, s in zip(sw.table["k"], sw.table["inertia"], sw.table["silhouette"]):
            mark = []
            if int(k) == best:
                mark.append("best silhouette")
            if sw.elbow is not None and int(k) == sw.elbow:
                mark.append("elbow (Kneedle)")
            s_txt = f"{s:10.4f}" if np.isfinite(s) else "         -"
            lines.append(f"        {int(k):3d}   {i:12.4f}   {s_txt}"
                         + (f"   <- {', '.join(mark)}" if mark else ""))
    if res.gmm_sweep is not None:
        gm = res.models["gmm"]
        lines.append("")
        lines.append(f"Gaussian mixture: BIC is lowest at {res.gmm_sweep.best('bic')} components; "
                     f"best covariance_type '{gm.covariance_type}'")
    lines.append("")
    lines.append("model           clusters  noise   silhouette"
                 + ("  ARI vs labels" if ds.y is not None else ""))
    for name, sc in res.scores.items():
        sil = f"{sc['silhouette']:.3f}" if np.isfinite(sc["silhouette"]) else "-"
        line = f"{name:<15} {sc['n_clusters']:8d}  {sc['noise_fraction']:5.1%}   {sil:>10}"
        if ds.y is not None:
            line += f"  {sc.get('ari_vs_labels', float('nan')):13.3f}"
        lines.append(line)
    lines.append("")
    lines.append(f"Recommendation: {res.recommendation}")
    for r in res.reasons:
        lines.append(f"  - {r}")
    for note in res.notes:
        lines.append(f"Note: {note}")
    lines.append("")
    lines.append(f"Wrote {os.path.join(out_dir, 'labels.csv')}, "
                 f"{os.path.join(out_dir, 'summary.json')} and "
                 f"{os.path.join(out_dir, 'report.html')}")
    return "\n".join(lines)


def analyze(args):
    from clusterlab.report.analysis import run_analysis
    from clusterlab.report.data import DataError, load_dataset
    from clusterlab.report.html import render_report, summary_dict

    t0 = time.perf_counter()
    try:
        ds = load_dataset(args.data, columns=args.columns, exclude=args.exclude,
                          label_column=args.label_column)
    except DataError as exc:
        raise UsageError(str(exc)) from exc
    lo, hi = args.k
    if ds.n_samples <= hi:
        raise UsageError(f"{ds.name}: {ds.n_samples} rows but --k goes up to {hi}; "
                         "need more rows than clusters (lower --k).")
    show = args.progress or (not args.quiet and sys.stderr.isatty())
    progress = _Progress(show)
    try:
        res = run_analysis(ds, k_range=(lo, hi), algorithms=args.algorithms,
                           contamination=args.contamination, sample=args.sample,
                           seed=args.seed, scale=args.scale, progress=progress)
    finally:
        progress.close()
    os.makedirs(args.out, exist_ok=True)
    versions = _versions()
    seconds = time.perf_counter() - t0
    write_labels(os.path.join(args.out, "labels.csv"), res)
    summary = summary_dict(res, versions, seconds)
    page = render_report(res, versions, seconds)
    summary["figure_failures"] = page.failures
    with open(os.path.join(args.out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    with open(os.path.join(args.out, "report.html"), "w", encoding="utf-8") as fh:
        fh.write(page.render())
    if args.format == "json":
        print(json.dumps(summary, indent=2))
    else:
        print(text_summary(res, summary, args.out))
    for failure in page.failures:
        print(f"clusterlab: warning: figure failed: {failure}", file=sys.stderr)
    return 0


def demo(args):
    from clusterlab.report.demo import run_demo

    show = args.progress or (not args.quiet and sys.stderr.isatty())
    path = run_demo(args.out, progress=_Progress(show) if show else None)
    print(f"Wrote {path}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="clusterlab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"clusterlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyze", help="cluster a table and write labels, a summary and a report",
                       description="Run the seed's analysis: K-Means and Gaussian-mixture sweeps, "
                       "DBSCAN, agglomerative and spectral clustering, anomalies, and a "
                       "recommendation.")
    a.add_argument("data", nargs="?", default=None,
                   help="CSV/TSV/Parquet/NPY/NPZ file, or five-blobs, elongated-blobs, moons, "
                        "iris, digits (default: five-blobs)")
    a.add_argument("--out", default="clusterlab-output", help="output folder "
                   "(default: clusterlab-output)")
    a.add_argument("--columns", type=_csv_list, help="comma-separated columns to use")
    a.add_argument("--exclude", type=_csv_list, help="comma-separated columns to leave out")
    a.add_argument("--label-column", help="known labels: kept out of the fit, used to score")
    a.add_argument("--scale", choices=("auto", "standard", "none"), default="auto",
                   help="standardise the columns (standard), or not (none); auto (default) "
                        "standardises when column spreads differ by more than 10x")
    a.add_argument("--k", type=_parse_k, default=(2, 10), help="range of k (default 2..10)")
    a.add_argument("--algorithms", type=_parse_algorithms,
                   default=("kmeans", "gmm", "dbscan", "agglomerative", "spectral"),
                   help="comma-separated subset of kmeans,gmm,dbscan,agglomerative,spectral")
    a.add_argument("--contamination", type=_parse_fraction, default=0.02,
                   help="share of rows flagged as anomalies (default 0.02)")
    a.add_argument("--sample", type=_positive_int, default=None,
                   help="rows used by the quadratic steps (default 5000)")
    a.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    a.add_argument("--format", choices=("text", "json"), default="text",
                   help="stdout summary format")
    a.add_argument("--quiet", action="store_true", help="no progress bars")
    a.add_argument("--progress", action="store_true", help="progress bars even when not a TTY")
    a.set_defaults(func=analyze)
    d = sub.add_parser("demo", help="replay the seed notebook with clusterlab (HTML page)")
    d.add_argument("--out", default="clusterlab-demo", help="output folder")
    d.add_argument("--quiet", action="store_true")
    d.add_argument("--progress", action="store_true")
    d.set_defaults(func=demo)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"clusterlab: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # pragma: no cover
        print("clusterlab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
