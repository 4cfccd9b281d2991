"""The HTML report opened in headless Chromium: every figure loads, no console errors."""

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
    console_errors = [line for line in run.stderr.splitlines()
                      if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)]
    assert console_errors == []
    # a screenshot, kept as an artefact in the test's temporary folder
    shot = tmp_path / "report.png"
    subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                    "--window-size=1200,3000", f"--screenshot={shot}", url],
                   capture_output=True, text=True, timeout=120)
    assert shot.exists() and os.path.getsize(shot) > 10_000
