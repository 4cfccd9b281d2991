"""Run the benchmarks and print a ratio table.

Usage::

    python -m benchmarks.run [--quick] [--family kmeans] [--out PATH]
                             [--under-load [--load-processes N]]

Each ``benchmarks/bench_<family>.py`` contributes rows; the table shows
clusterlab's and the peer's median seconds, the ratio (peer / clusterlab,
> 1 means clusterlab is faster) and both quality figures. The same rows are
written as JSON to ``benchmarks/results/latest.json``.

``--under-load`` runs every chosen family while two CPU-bound processes
(pure-Python busy loops, no BLAS; ``--load-processes N`` for another count)
run beside the benchmark for its whole duration: scikit-learn is measured
under the same load, in the same process, alternating with clusterlab as
always, so the ratio says how each copes with a busy machine (oversubscribed
numba / BLAS thread pools). The processes are stopped when the run ends,
also on Ctrl-C or an error. The JSON's ``meta["under_load"]`` records the
load (processes, seconds, whether they were alive to the end), every row's
``extra["under_load"]`` the number of processes, and the printed table says
``UNDER LOAD`` above each family. Without the switch ``meta["under_load"]``
is null. Compare a loaded run with a quiet one taken just before or after
(alternate and repeat on a shared machine: "quiet" is only as quiet as the
machine).
"""

import argparse
import importlib
import os
import pkgutil
import platform
import sys
import time

from benchmarks._harness import LOAD_PROCESSES, maybe_under_load, thread_info, write_json

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
    parser.add_argument("--quick", action="store_true", help="small cases, 4-9 minutes on 2 cores")
    parser.add_argument("--family", action="append", choices=families(),
                        help="run only this family (repeatable)")
    parser.add_argument("--out", default=os.path.join(HERE, "results", "latest.json"))
    parser.add_argument("--under-load", action="store_true",
                        help="run beside CPU-bound busy processes (two by default), "
                             "scikit-learn under the same load")
    parser.add_argument("--load-processes", type=int, default=LOAD_PROCESSES,
                        help=f"busy processes for --under-load (default {LOAD_PROCESSES})")
    args = parser.parse_args(argv)
    if args.load_processes < 1:
        parser.error("--load-processes must be >= 1")
    n_load = args.load_processes if args.under_load else 0
    chosen = args.family or families()
    meta = {"python": platform.python_version(), "machine": platform.machine(),
            "threads": thread_info(), "quick": args.quick, "families": chosen,
            "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "under_load": None}
    print(f"threads: {meta['threads']}", file=sys.stderr)
    rows = []
    with maybe_under_load(n_load) as load:
        if load is not None:
            print(f"under load: {n_load} busy processes "
                  f"(pids {[p.pid for p in load.processes]})", file=sys.stderr)
        for fam in chosen:
            mod = importlib.import_module(f"benchmarks.bench_{fam}")
            t0 = time.perf_counter()
            fam_rows = mod.run(quick=args.quick)
            for r in fam_rows:
                r.extra["under_load"] = n_load
            rows.extend(fam_rows)
            print(f"[{fam}] {len(fam_rows)} rows in {time.perf_counter() - t0:.1f}s",
                  file=sys.stderr)
            if n_load:
                print(f"UNDER LOAD ({n_load} busy processes beside the benchmark)")
            print(format_table(fam_rows), flush=True)
            print()
        if load is not None:  # what the policy saw with the load running
            meta["threads_under_load"] = thread_info()
    if load is not None:
        meta["under_load"] = load.summary()
        if not load.alive_at_end:
            print("warning: a load process died before the end; the run was not fully "
                  "under load", file=sys.stderr)
    write_json(rows, args.out, meta)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
