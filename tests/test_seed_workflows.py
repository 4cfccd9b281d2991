"""The seed notebook replayed (`clusterlab demo`): every trusted figure of EXPECTED.md."""

import pytest

from clusterlab.report.demo import run_demo


def _run(out, figures):
    path = run_demo(str(out), mnist_rows=3000, figures=figures)
    return path, run_demo.last_checks, run_demo.last_failures


def _assert_every_check_passes(checks):
    assert len(checks) >= 30
    failed = [(what, seed, ours) for what, seed, ours, ok in checks if not ok]
    assert failed == []


def test_every_seed_figure_reproduces(tmp_path):
    """The numbers, without drawing (the quick tier's replay)."""
    path, checks, failures = _run(tmp_path, figures=False)
    _assert_every_check_passes(checks)
    html = open(path, encoding="utf-8").read()
    assert failures == [] and "<img" not in html
    assert html.count("Figure not drawn (--no-figures)") >= 20


@pytest.mark.slow  # the whole replay with its ~20 figures drawn (quick tier: see tests/conftest.py)
def test_every_figure_is_drawn(tmp_path):
    path, checks, failures = _run(tmp_path, figures=True)
    _assert_every_check_passes(checks)
    assert failures == []
    html = open(path, encoding="utf-8").read()
    assert html.count("<img") >= 20
    assert "MNIST-shaped" in html
    assert "seed" in html and "clusterlab" in html
    assert "EXPECTED.md" not in html  # the page names nothing a user does not have
