"""Run the benchmarks and print a ratio table.

Usage::

    python -m benchmarks.run [--quick] [--family kmeans] [--out PATH]

Each ``benchmarks/bench_<family>.py`` contributes rows; the table shows
clusterlab's and the peer's median seconds, the ratio (peer / clusterlab,
> 1 means clusterlab is faster) and both quality figures. The same rows are
written as JSON to ``benchmarks/results/latest.json``.
"""

import argparse
import importlib
import os
import pkgutil
import platform
import sys
import time

from benchmarks._harness import thread_info, write_json

HERE = os.path.dirname(os.path.abspath(__file__))


def families():
    return sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([HERE])
                  if m.name.startswith("bench_"))


def format_table(rows):
    head = ["family", "case", "shape", "params", "ours s", "peer", "peer s", "ratio",
            "quality", "ours q", "peer q"]
    lines = [head]
    for r in rows:
        lines.append([r.family, r.case, r.shape, r.params, f"{r.ours_s:.4f}", r.peer,
                      f"{r.peer_s:.4f}", f"{r.ratio:.2f}x", r.quality_name,
                      f"{r.ours_quality:.6g}", f"{r.peer_quality:.6g}"])
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(head))]
    out = []
    for j, line in enumerate(lines):
        out.append("  ".join(str(c).ljust(w) for c, w in zip(line, widths)))
        if j == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small cases, about two minutes")
    parser.add_argument("--family", action="append", choices=families(),
                        help="run only this family (repeatable)")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "latest.json"))
    args = parser.parse_args(argv)
    chosen = args.family or families()
    meta = {"python": platform.python_version(), "machine": platform.machine(),
            "threads": thread_info(), "quick": args.quick, "families": chosen,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    print(f"threads: {meta['threads']}", file=sys.stderr)
    rows = []
    for fam in chosen:
        mod = importlib.import_module(f"benchmarks.bench_{fam}")
        t0 = time.perf_counter()
        fam_rows = mod.run(quick=args.quick)
        rows.extend(fam_rows)
        print(f"[{fam}] {len(fam_rows)} rows in {time.perf_counter() - t0:.1f}s",
              file=sys.stderr)
        print(format_table(fam_rows), flush=True)
        print()
    write_json(rows, args.out, meta)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
