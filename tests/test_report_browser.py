"""The HTML report opened in headless Chromium: every figure loads, no console errors, and the
page has the structure a reader relies on (table of contents, profile, anomalies, advice)."""

import csv
import json
import os
import re
import shutil
import subprocess

import pytest

from clusterlab.cli import main

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.browser
@pytest.mark.slow  # a browser process (quick tier: see tests/conftest.py)
def test_report_loads_in_headless_chromium(tmp_path):
    chromium = find_chromium()
    assert chromium, ("headless Chromium is needed for this test: `apt-get install chromium` "
                      "(.ci/run installs it)")
    out = tmp_path / "report"
    assert main(["analyze", "--out", str(out), "--quiet", "--k", "2..6"]) == 0
    url = "file://" + str(out / "report.html")
    profile = tmp_path / "profile"
    run = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr",
         "--v=0", "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    total = re.search(r'data-images-total="(\d+)"', dom)
    loaded = re.search(r'data-images-loaded="(\d+)"', dom)
    assert total and loaded, "the page's load handler did not run"
    assert int(total.group(1)) >= 8
    assert loaded.group(1) == total.group(1), f"{loaded.group(1)} of {total.group(1)} loaded"
    assert "Recommendation:" in dom
    check_structure(dom, out)
    console_errors = [line for line in run.stderr.splitlines()
                      if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)]
    assert console_errors == []
    # a screenshot, kept as an artefact in the test's temporary folder
    shot = tmp_path / "report.png"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                    "--window-size=1200,3000", f"--screenshot={shot}", url],
                   capture_output=True, text=True, timeout=120)
    assert shot.exists() and os.path.getsize(shot) > 10_000


def _table(dom, table_id):
    """Rows of the table with ``id=table_id`` in the rendered DOM, as lists of cell texts."""
    start = dom.index(f'id="{table_id}"')
    body = dom[start:dom.index("</table>", start)]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>",
                                                                   r, re.S)] for r in rows]


def check_structure(dom, out):
    summary = json.loads((out / "summary.json").read_text())
    # a table of contents whose every link lands on a heading of the page
    toc = re.search(r'<nav class="toc" id="toc">(.*?)</nav>', dom, re.S)
    assert toc, "no table of contents"
    anchors = re.findall(r'href="#([^"]+)"', toc.group(1))
    assert len(anchors) >= 6
    for anchor in anchors:
        assert re.search(rf'<h2 id="{re.escape(anchor)}"', dom), anchor
    # the profile of the recommended clusters: one row per cluster, sizes adding up to the rows
    profile = _table(dom, "profile")
    head, rows = profile[0], profile[1:]
    assert head[:3] == ["cluster", "rows", "share"] and "x1 mean" in head and "x1 median" in head
    clusters = summary["profile"]["clusters"]
    assert len(rows) == len(clusters) >= 2
    assert sum(int(r[1]) for r in rows) == summary["data"]["n_samples"]
    # the anomaly table lists exactly the flagged rows, lowest density first, every column
    table = _table(dom, "anomalies-table")
    head, rows = table[0], table[1:]
    assert head == ["row", "log-density"] + summary["data"]["columns"]
    with open(out / "labels.csv") as fh:
        labels = list(csv.DictReader(fh))
    flagged = {r["row"] for r in labels if r["anomaly"] == "1"}
    assert {r[0] for r in rows} == flagged and len(rows) == summary["anomalies"]["count"]
    densities = [float(r[1]) for r in rows]
    assert densities == sorted(densities)
    assert all(d < summary["anomalies"]["threshold"] for d in densities)
    caption = re.search(r'id="anomalies-table"><caption>(.*?)</caption>', dom, re.S).group(1)
    assert f"{len(rows)} rows flagged" in caption and "threshold" in caption and "%" in caption
    # the glance table and the reproduce block; no raw warning text anywhere
    assert _table(dom, "glance")[0][:2] == ["model", "status"]
    assert "from clusterlab import" in dom and 'id="reproduce-code"' in dom
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", dom,
                                            flags=re.S))
    for raw in ("UserWarning", "ConvergenceWarning", "RuntimeWarning", "Warning during",
                "Traceback"):
        assert raw not in text, raw
