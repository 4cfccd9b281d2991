"""The seed notebook replayed (`clusterlab demo`): every trusted figure of EXPECTED.md."""

import pytest

from clusterlab.report.demo import run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    path = run_demo(str(out), mnist_rows=3000)
    return path, run_demo.last_checks, run_demo.last_failures


def test_every_seed_figure_reproduces(demo):
    _, checks, _ = demo
    assert len(checks) >= 30
    failed = [(what, seed, ours) for what, seed, ours, ok in checks if not ok]
    assert failed == []


def test_every_figure_is_drawn(demo):
    path, _, failures = demo
    assert failures == []
    html = open(path, encoding="utf-8").read()
    assert html.count("<img") >= 20
    assert "MNIST-shaped" in html
    assert "seed" in html and "clusterlab" in html
    assert "EXPECTED.md" not in html  # the page names nothing a user does not have
