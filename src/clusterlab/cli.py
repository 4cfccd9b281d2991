"""The ``clusterlab`` command line.

``clusterlab analyze [DATA] [--out DIR]`` runs a K-Means sweep over k on a
data file or a built-in data set (the seed's five blobs by default), picks k,
and writes ``labels.csv`` and ``summary.json`` to ``DIR``.
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


def _load_data(spec):
    from clusterlab.datasets import BUILTIN

    if spec is None:
        spec = "five-blobs"
    if spec in BUILTIN:
        X, y = BUILTIN[spec]()
        return np.asarray(X, dtype=float), y, spec
    if not os.path.exists(spec):
        raise UsageError(
            f"{spec}: no such file, and not a built-in data set "
            f"(built-in: {', '.join(sorted(BUILTIN))})."
        )
    lower = spec.lower()
    if lower.endswith(".npy"):
        X = np.load(spec, allow_pickle=False)
    elif lower.endswith(".npz"):
        with np.load(spec, allow_pickle=False) as z:
            X = z[z.files[0]]
    else:
        delim = "\t" if lower.endswith((".tsv", ".tab")) else ","
        try:
            X = np.genfromtxt(spec, delimiter=delim, dtype=float, names=None)
        except Exception as exc:  # pragma: no cover - depends on the file
            raise UsageError(f"{spec}: could not read as CSV: {exc}") from exc
        if X.ndim == 2 and np.isnan(X[0]).all():
            X = X[1:]  # header row
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X.reshape(-1, 1)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise UsageError(f"{spec}: expected a 2-D table of numbers, got shape {X.shape}.")
    bad = ~np.isfinite(X)
    if bad.any():
        rows = np.flatnonzero(bad.any(axis=1))[:10] + 1
        raise UsageError(
            f"{spec}: NaN or infinite values in rows {', '.join(map(str, rows))}"
            f"{' ...' if bad.any(axis=1).sum() > 10 else ''}; clean or drop them first."
        )
    return X, None, spec


def _parse_k(text):
    try:
        lo, _, hi = text.partition("..")
        lo, hi = int(lo), int(hi or lo)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--k expects LO..HI, e.g. 2..10, got {text!r}") from exc
    if lo < 1 or hi < lo:
        raise argparse.ArgumentTypeError(f"--k expects 1 <= LO <= HI, got {text!r}")
    return lo, hi


def analyze(args):
    from clusterlab.cluster.kmeans import KMeans
    from clusterlab.metrics import silhouette_score

    t_start = time.perf_counter()
    X, y, name = _load_data(args.data)
    lo, hi = args.k
    if X.shape[0] <= hi:
        raise UsageError(
            f"{name}: {X.shape[0]} rows but --k goes up to {hi}; need more rows than clusters."
        )
    ks = list(range(lo, hi + 1))
    inertias, silhouettes, models = [], [], []
    for k in ks:
        if not args.quiet:
            print(f"k-means k={k}", file=sys.stderr, flush=True)
        km = KMeans(n_clusters=k, n_init=10, random_state=args.seed).fit(X)
        models.append(km)
        inertias.append(float(km.inertia_))
        silhouettes.append(
            float(silhouette_score(X, km.labels_)) if k >= 2 else float("nan")
        )
    sil = np.array(silhouettes)
    best_i = int(np.nanargmax(sil)) if np.isfinite(sil).any() else 0
    best = models[best_i]
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "labels.csv"), "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["row", "kmeans"])
        for i, lab in enumerate(best.labels_):
            w.writerow([i, int(lab)])
    summary = {
        "clusterlab": __version__,
        "data": name,
        "n_samples": int(X.shape[0]),
        "n_features": int(X.shape[1]),
        "kmeans": {
            "k": ks,
            "inertia": inertias,
            "silhouette": silhouettes,
            "best_k": ks[best_i],
            "criterion": "silhouette",
        },
        "seconds": time.perf_counter() - t_start,
    }
    with open(os.path.join(args.out, "summary.json"), "w") as fh:
        json.dump(summary, fh, indent=2)
    print(f"data: {name} ({X.shape[0]} rows x {X.shape[1]} columns)")
    print(" k   inertia        silhouette")
    for k, i, s in zip(ks, inertias, silhouettes):
        mark = "  <- best silhouette" if k == ks[best_i] else ""
        print(f"{k:2d}   {i:12.4f}   {s:10.4f}{mark}")
    print(f"recommended: k-means with k={ks[best_i]}")
    print(f"wrote {os.path.join(args.out, 'labels.csv')} and "
          f"{os.path.join(args.out, 'summary.json')}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="clusterlab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"clusterlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyze", help="cluster a data set and write labels and a summary")
    a.add_argument("data", nargs="?", default=None,
                   help="CSV/TSV/NPY/NPZ file or built-in name (default: five-blobs)")
    a.add_argument("--out", default="clusterlab-output", help="output folder")
    a.add_argument("--k", type=_parse_k, default=(1, 10), help="range of k, e.g. 2..10")
    a.add_argument("--seed", type=int, default=42, help="random seed")
    a.add_argument("--quiet", action="store_true", help="no progress on stderr")
    a.set_defaults(func=analyze)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"clusterlab: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
