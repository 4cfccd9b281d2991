"""``python -m benchmarks.run --under-load``: the busy processes run for the whole
benchmark, are recorded in the JSON and the table, and are stopped afterwards,
also when a benchmark fails or is interrupted, or when the runner dies."""

import json
import os
import subprocess
import sys
import time
import types

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import _harness, run as bench_run  # noqa: E402
from benchmarks._harness import BusyLoad, Row  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")


def _alive(pid):
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_busy_load_spins_and_stops():
    with BusyLoad(2) as load:
        pids = [p.pid for p in load.processes]
        assert load.running() == 2 and all(_alive(pid) for pid in pids)
        time.sleep(0.5)
        busy = [_cpu_seconds(pid) for pid in pids]
        assert all(b > 0 for b in busy), busy  # they burn CPU, they do not sleep
    assert load.running() == 0
    assert not any(_alive(pid) for pid in pids)
    s = load.summary()
    assert s["processes"] == 2 and s["alive_to_end"] is True
    assert all(b > 0 for b in s["loop_blocks"]) and s["seconds"] >= 0.5


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_busy_load_stopped_on_error_and_ctrl_c(exc):
    with pytest.raises(exc):
        with BusyLoad(2) as load:
            pids = [p.pid for p in load.processes]
            raise exc()
    assert not any(_alive(pid) for pid in pids)


def test_spinner_exits_when_the_runner_is_killed():
    prog = ("import sys, os, time\n"
            f"sys.path.insert(0, {ROOT!r})\n"
            "from benchmarks._harness import BusyLoad\n"
            "load = BusyLoad(2).__enter__()\n"
            "print(' '.join(str(p.pid) for p in load.processes), flush=True)\n"
            "time.sleep(60)\n")
    runner = subprocess.Popen([sys.executable, "-c", prog], stdout=subprocess.PIPE, text=True)
    pids = [int(x) for x in runner.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    runner.kill()  # no cleanup runs in the runner
    runner.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in pids)


def _fake_family(monkeypatch, behaviour):
    """benchmarks.run sees one family, 'fake', whose run() calls ``behaviour``."""
    mod = types.ModuleType("benchmarks.bench_fake")
    mod.run = lambda quick=False: behaviour()
    monkeypatch.setattr(bench_run, "families", lambda: ["fake"])
    monkeypatch.setitem(sys.modules, "benchmarks.bench_fake", mod)


def _children_spinning():
    """Load processes (children of this process running the busy loop) alive now."""
    me = str(os.getpid())
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                stat = fh.read()
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmd = fh.read()
        except OSError:
            continue
        rest = stat[stat.rindex(")") + 2:].split()
        if rest[1] == me and rest[0] != "Z" and b"getppid" in cmd:
            found.append(int(pid))
    return found


def _run_fake_family(monkeypatch, tmp_path, args):
    """Run the benchmark runner on one fake family; returns the busy processes
    seen while the family ran and the JSON the runner wrote."""
    seen = {}

    def behaviour():
        seen["during"] = _children_spinning()
        return [Row("fake", "case", "1x1", "", 1.0, "scikit-learn", 2.0, 2.0)]

    _fake_family(monkeypatch, behaviour)
    out = tmp_path / "r.json"
    assert bench_run.main([*args, "--quick", "--out", str(out)]) == 0
    return seen["during"], json.loads(out.read_text())


def test_runner_under_load_records_and_stops(monkeypatch, tmp_path, capsys):
    during, data = _run_fake_family(monkeypatch, tmp_path, ["--under-load"])
    assert len(during) == _harness.LOAD_PROCESSES == 2
    assert _children_spinning() == []
    assert data["meta"]["under_load"]["processes"] == 2
    assert data["meta"]["under_load"]["alive_to_end"] is True
    assert data["rows"][0]["extra"]["under_load"] == 2
    assert "UNDER LOAD (2 busy processes" in capsys.readouterr().out


def test_runner_quiet_has_no_load(monkeypatch, tmp_path, capsys):
    during, data = _run_fake_family(monkeypatch, tmp_path, [])
    assert during == []
    assert data["meta"]["under_load"] is None
    assert data["rows"][0]["extra"]["under_load"] == 0
    assert "UNDER LOAD" not in capsys.readouterr().out


def test_runner_stops_load_when_a_benchmark_fails(monkeypatch, tmp_path):
    seen = {}

    def behaviour():
        seen["during"] = _children_spinning()
        raise ValueError("benchmark failed")

    _fake_family(monkeypatch, behaviour)
    with pytest.raises(ValueError, match="benchmark failed"):
        bench_run.main(["--under-load", "--load-processes", "1",
                        "--out", str(tmp_path / "x.json")])
    assert len(seen["during"]) == 1
    assert _children_spinning() == []
