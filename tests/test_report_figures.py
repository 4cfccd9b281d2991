"""The report's PNG encoding: one draw, cropped as ``bbox_inches="tight"`` would."""

import base64
import io
import os
import sys

import numpy as np
import pytest
from PIL import Image

from clusterlab.plotting._common import new_axes
from clusterlab.report.figures import scatter_figure
from clusterlab.report.html import figure_to_data_uri


def _decode(uri):
    assert uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def _tight_size(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return Image.open(buf).size


def test_cropped_like_savefig_tight():
    rng = np.random.default_rng(0)
    fig = scatter_figure(rng.normal(size=(300, 2)), rng.integers(0, 3, 300), "three")
    img = _decode(figure_to_data_uri(fig))
    ref = _tight_size(fig)
    assert abs(img.size[0] - ref[0]) <= 2 and abs(img.size[1] - ref[1]) <= 2
    # smaller than the whole canvas: the margins were cut
    assert img.size[0] < 900 and img.size[1] < 500
    pixels = np.asarray(img.convert("RGB"))
    assert (pixels < 128).any()  # something was drawn


def test_artist_outside_the_figure_falls_back_to_savefig():
    fig, ax = new_axes(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    ax.text(1.6, 0.5, "far to the right of the figure", transform=ax.transAxes)
    img = _decode(figure_to_data_uri(fig))
    ref = _tight_size(fig)
    assert img.size[0] > 400  # wider than the figure: the text is kept
    assert abs(img.size[0] - ref[0]) <= 2 and abs(img.size[1] - ref[1]) <= 2


def test_padding_that_does_not_fit_is_cut_at_the_edge_without_drawing_again():
    fig, ax = new_axes(figsize=(4, 3))
    ax.plot([0, 1], [0, 1])
    fig.text(0.5, 0.002, "at the bottom edge", ha="center", va="bottom")

    def no_second_draw(*args, **kwargs):
        raise AssertionError("savefig draws the figure again")

    fig.savefig = no_second_draw
    img = _decode(figure_to_data_uri(fig))
    assert 250 < img.size[1] <= 300
    pixels = np.asarray(img.convert("L"))
    assert (pixels[-6:] < 128).any()  # the text at the bottom is kept, its padding cut


def _two_cluster_analysis():
    import clusterlab

    rng = np.random.default_rng(1)
    X = np.r_[rng.normal(0, 0.4, (80, 2)), rng.normal(4, 0.4, (80, 2))]
    return clusterlab.analyze(X, k=(2, 4), algorithms=["kmeans", "dbscan"])


def _needs_fork():
    if not (hasattr(os, "fork") and sys.platform.startswith("linux")):
        pytest.skip("drawing in two processes needs fork (Linux)")


@pytest.mark.slow  # pages drawn in two processes (quick tier: see tests/conftest.py)
def test_figures_drawn_in_two_processes_give_the_same_page(monkeypatch):
    """The report's figures shared with a forked process: the same page as
    drawn in one process (figure order, captions, pixels)."""
    from clusterlab.report import drawing

    _needs_fork()
    analysis = _two_cluster_analysis()
    monkeypatch.setattr("clusterlab._config.available_cores", lambda: 2)
    monkeypatch.setenv("CLUSTERLAB_PARALLEL_FIGURES", "1")
    assert drawing._fork_figures()
    two = drawing.render_report(analysis.result, {"clusterlab": "x"}, 1.0)
    monkeypatch.setenv("CLUSTERLAB_PARALLEL_FIGURES", "0")
    one = drawing.render_report(analysis.result, {"clusterlab": "x"}, 1.0)
    assert one.render().count("<img") >= 6
    assert two.render() == one.render()
    assert two.failures == one.failures


def test_two_processes_claim_every_figure_once():
    """Two processes walking the same figures: each index claimed by exactly
    one of them, and a process that is slower takes fewer."""
    import pickle
    import time

    from clusterlab.report.drawing import _Claims

    _needs_fork()
    claims = _Claims(time.monotonic() + 60)
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the forked process
        status = 1
        try:
            os.close(read_fd)
            mine = []
            for i in range(60):
                if claims(i):
                    mine.append(i)
                    time.sleep(0.004)  # this one draws slowly
            os.write(write_fd, pickle.dumps(mine))
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    ours = []
    for i in range(60):
        if claims(i):
            ours.append(i)
            time.sleep(0.001)
    with os.fdopen(read_fd, "rb") as fh:
        theirs = pickle.loads(fh.read())
    assert os.waitpid(pid, 0)[1] == 0
    claims.close()
    assert sorted(ours + theirs) == list(range(60))
    assert len(ours) > len(theirs) > 0


def _worker_page_is_one_process_page(monkeypatch, worker, analysis):
    """Render ``analysis`` with the early ``worker``: the worker is used and
    reaped, and the page equals one drawn in one process (returned)."""
    from clusterlab.report import drawing

    by_worker = drawing.render(analysis.result, {"clusterlab": "x"}, 1.0)
    assert drawing._early is None and worker.pid is None  # used and reaped
    monkeypatch.setenv("CLUSTERLAB_PARALLEL_FIGURES", "0")
    one = drawing.render_report(analysis.result, {"clusterlab": "x"}, 1.0)
    assert by_worker.render() == one.render()
    return one


@pytest.mark.slow  # pages drawn in two processes (quick tier: see tests/conftest.py)
def test_the_early_worker_draws_the_same_page(monkeypatch):
    """The worker forked before the analysis: the same page as one process
    draws; a worker that is gone leaves the page to this process; an unused
    one is reaped."""
    from clusterlab.report import drawing

    _needs_fork()
    monkeypatch.setattr("clusterlab._config.available_cores", lambda: 2)
    monkeypatch.setenv("CLUSTERLAB_PARALLEL_FIGURES", "1")
    drawing.start_early()
    worker = drawing._early
    assert worker is not None
    analysis = _two_cluster_analysis()
    one = _worker_page_is_one_process_page(monkeypatch, worker, analysis)

    # a worker killed before its job: the page is drawn here, the same
    monkeypatch.setenv("CLUSTERLAB_PARALLEL_FIGURES", "1")
    drawing.start_early()
    os.kill(drawing._early.pid, 9)
    assert drawing.render(analysis.result, {"clusterlab": "x"}, 1.0).render() == one.render()

    # a worker nobody uses is stopped and reaped
    drawing.start_early()
    pid = drawing._early.pid
    drawing.discard_early()
    assert drawing._early is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, 0)


def test_a_failed_drawing_process_leaves_the_figures_to_the_report(monkeypatch):
    from clusterlab.report import html as report_html

    page = report_html.Page("t", share=lambda index: index % 2 == 0)
    page.figure("a", lambda: scatter_figure(np.zeros((3, 2)), None, "a"))
    page.figure("b", lambda: scatter_figure(np.zeros((3, 2)), None, "b"))
    assert 1 not in page.drawn and 0 in page.drawn
    assert not page.fill({})  # the other process's figure is missing
    assert page.fill({1: ("<p>b</p>", None)})
    assert "<p>b</p>" in page.render() and page.failures == []


def test_a_worker_reply_that_is_no_whole_page_is_not_used():
    """The worker sends the whole page back; anything else (an unreadable
    reply, the figures alone, a page with a figure missing) is not used: the
    report then draws its page itself."""
    import pickle

    from clusterlab.report import drawing
    from clusterlab.report import html as report_html

    analysis = _two_cluster_analysis()
    missing = report_html.Page("t", share=lambda index: index == 0)
    missing.figure("a", lambda: scatter_figure(np.zeros((3, 2)), None, "a"))
    missing.figure("b", lambda: scatter_figure(np.zeros((3, 2)), None, "b"))
    missing.share = None
    whole = report_html.Page("t")
    whole.add("<p>whole</p>")
    for reply, used in ((b"not a pickle", False), (pickle.dumps({0: ("<p>a</p>", None)}), False),
                        (pickle.dumps(missing), False), (pickle.dumps(whole), True)):
        result_r, result_w = os.pipe()
        os.write(result_w, reply)
        os.close(result_w)
        worker = drawing.Worker(None, os.open(os.devnull, os.O_WRONLY), result_r)
        page = drawing.draw_with(worker, analysis.result, {"clusterlab": "x"}, 1.0)
        assert worker.job_fd is None and worker.result_fd is None  # closed either way
        assert (page is not None and page.render() == whole.render()) if used else page is None


def test_drawing_can_be_prepared_ahead():
    """What the analysis does while it waits for its compile helper: matplotlib's
    drawing modules imported, a first figure drawn, nothing raised."""
    from clusterlab.report.drawing import prepare_drawing

    prepare_drawing()
    assert "matplotlib.backends.backend_agg" in sys.modules


def test_report_figures_fit_their_canvas(monkeypatch):
    """Every figure of a two-dimensional analysis (the mixture's criteria, the
    DBSCAN map, the dendrogram among them) keeps its labels inside its canvas:
    it is drawn once, never again by savefig with a box beyond the canvas."""
    import clusterlab
    from matplotlib.figure import Figure

    from clusterlab.report.html import _build_page

    rng = np.random.default_rng(3)
    X = np.r_[rng.normal(0, 0.4, (150, 2)), rng.normal(4, 0.4, (150, 2)),
              rng.normal((0, 5), 0.4, (150, 2))]
    analysis = clusterlab.analyze(X, k=(2, 6),
                                  algorithms=["kmeans", "gmm", "dbscan", "agglomerative"])
    saved = []
    monkeypatch.setattr(Figure, "savefig", lambda fig, *a, **k: saved.append(fig))
    page = _build_page(analysis.result, {"clusterlab": "x"}, 1.0, None)
    captions = [c for c in ("BIC and AIC", "core points", "Dendrogram")
                if c in page.render()]
    assert len(captions) == 3
    assert page.failures == []
    assert saved == []


def _result_of(X, **kw):
    import clusterlab

    return clusterlab.analyze(X, **kw).result


@pytest.mark.slow  # the drawing worker's memo: whole pages drawn and compared
def test_figures_drawn_before_are_reused_only_for_the_same_inputs():
    """A page built with a memo of figures drawn before (from a pickled copy
    of the result, as the drawing worker has it) takes every figure from it
    and equals the page drawn from scratch; a result that differs in a
    model's labels gets those figures drawn again, never the memo's."""
    import pickle

    from clusterlab.report.html import _build_page, figure_key

    rng = np.random.default_rng(5)
    X = np.r_[rng.normal(0, 0.5, (120, 2)), rng.normal(4, 0.5, (120, 2)),
              rng.normal((0, 5), 0.5, (120, 2))]
    res = _result_of(X, k=(2, 5), algorithms=["kmeans", "gmm"])
    versions = {"clusterlab": "x"}
    memo = {}
    fresh = _build_page(res, versions, 1.0, None, memo).render()  # all drawn: memo empty
    n = len(memo)
    assert n == fresh.count("<img")  # every figure of the page is keyed
    copy = pickle.loads(pickle.dumps(res))
    page = _build_page(copy, versions, 1.0, None, memo)
    assert len(memo) == n  # nothing drawn: all taken from the memo
    assert page.render() == fresh

    # the same figure function and caption, other labels: another key, drawn again
    from clusterlab.report.figures import scatter_figure

    P = copy.projection
    lab = np.asarray(copy.labels["kmeans"])
    key = figure_key("c", scatter_figure, (P, lab, "t"), {})
    assert key == figure_key("c", scatter_figure, (P.copy(), lab.copy(), "t"), {})
    assert key != figure_key("c", scatter_figure, (P, (lab + 1) % 3, "t"), {})
    assert key != figure_key("d", scatter_figure, (P, lab, "t"), {})
    other = pickle.loads(pickle.dumps(res))
    flipped = np.asarray(other.labels["kmeans"]).copy()
    flipped[:5] = (flipped[:5] + 1) % int(flipped.max() + 1)
    other.labels["kmeans"] = flipped
    expected = _build_page(other, versions, 1.0, None).render()
    assert _build_page(other, versions, 1.0, None, dict(memo)).render() == expected


def test_a_figure_with_hidden_inputs_is_never_taken_from_the_memo():
    """A figure made by a closure (its inputs not all passed to the page) is
    drawn every time, memo or not."""
    from clusterlab.report.html import Page

    memo = {}
    for value in (0.0, 1.0):
        page = Page("t", memo=memo)
        page.figure("same caption", lambda: scatter_figure(np.full((3, 2), value), None, "a"))
    assert memo == {}


@pytest.mark.slow  # pages drawn in two processes (quick tier: see tests/conftest.py)
def test_the_worker_draws_ahead_while_the_analysis_runs(monkeypatch):
    """The command's path: the early worker gets the data's figure before the
    first candidate and each candidate's figures while the analysis runs
    (``on_candidate``); the final page equals one drawn in one process."""
    from clusterlab.report import drawing
    from clusterlab.report.api import analyze_dataset
    from clusterlab.report.data import load_dataset

    _needs_fork()
    monkeypatch.setattr("clusterlab._config.available_cores", lambda: 2)
    monkeypatch.setenv("CLUSTERLAB_PARALLEL_FIGURES", "1")
    ds = load_dataset("iris")
    sent = []
    real_ahead = drawing.ahead

    def ahead(res, name, parts):
        real_ahead(res, name, parts)
        sent.append((name, drawing._early.ahead_sent))

    drawing.start_early()
    worker = drawing._early
    analysis = analyze_dataset(ds, algorithms=("kmeans", "genie", "dbscan"), on_candidate=ahead)
    assert [name for name, _ in sent] == [None, "kmeans", "genie", "dbscan"]
    # the data's figure, then kmeans'; genie's figure is not drawn ahead
    assert [count for _, count in sent] == [1, 2, 2, 3]
    one = _worker_page_is_one_process_page(monkeypatch, worker, analysis)

    # a worker killed while jobs are on their way: the page is drawn here, the same
    monkeypatch.setenv("CLUSTERLAB_PARALLEL_FIGURES", "1")
    drawing.start_early()
    os.kill(drawing._early.pid, 9)
    for name in ("kmeans", "dbscan"):
        drawing.ahead(analysis.result, name, analysis.result.partitions)
    assert drawing.render(analysis.result, {"clusterlab": "x"}, 1.0).render() == one.render()


def test_figures_are_drawn_ahead_only_with_a_worker_and_a_small_table(monkeypatch):
    from clusterlab.report import drawing

    small = np.zeros((100, 2))
    big = np.zeros((drawing.AHEAD_MAX_BYTES // 8 + 1, 1))
    assert drawing._early is None and not drawing.draws_ahead(small)
    monkeypatch.setattr(drawing, "_early", object())
    assert drawing.draws_ahead(small) and not drawing.draws_ahead(big)


_DRAWN = []  # the figures drawn by the two functions below, in order


def _tiny_figure(name):
    _DRAWN.append(name)
    return scatter_figure(np.zeros((3, 2)), None, name)


def _costly_figure(name):
    _DRAWN.append(name)
    return scatter_figure(np.zeros((3, 2)), None, name)


def test_deferred_figures_are_drawn_costliest_first_and_land_in_page_order(monkeypatch):
    """A page laid out first and drawn after (two processes sharing its
    figures) draws the costliest figures first and those already in the memo
    last, and the page is the one drawn in order."""
    from clusterlab.report import html as report_html

    monkeypatch.setitem(report_html.FIGURE_COST, "_costly_figure", 3)

    def build(defer, memo):
        _DRAWN.clear()
        page = report_html.Page("t", memo=memo, defer=defer)
        page.figure("a", _tiny_figure, "a")
        page.figure("b", _costly_figure, "b")
        page.figure("c", _tiny_figure, "c")
        if defer:
            page.draw_deferred()
        return page

    expected = build(False, None).render()
    assert _DRAWN == ["a", "b", "c"]
    page = build(True, None)
    assert _DRAWN == ["b", "a", "c"]
    assert page.render() == expected and page.failures == []
    memo = {}
    build(False, memo)  # all three now in the memo
    del memo[report_html.figure_key("c", _tiny_figure, ("c",), {})]
    page = build(True, memo)
    assert _DRAWN == ["c"]  # a and b came from the memo
    assert page.render() == expected


def test_figures_name_their_axes_after_the_data():
    """Figures of a two-column table carry the column names ($ printed as is,
    marked when standardised); a projection's axes are its principal
    components; the plotting functions' own $x_1$ / $x_2$ are replaced."""
    import pandas as pd

    import clusterlab
    from clusterlab import KMeans, plotting
    from clusterlab.report.figures import axis_names, name_axes

    rng = np.random.default_rng(3)
    X = np.r_[rng.normal(0, 0.4, (60, 2)), rng.normal(4, 0.4, (60, 2))]
    df = pd.DataFrame(X * [1.0, 1000.0], columns=["price ($)", "weight_kg"])
    res = clusterlab.analyze(df, k=(2, 3), algorithms=["kmeans"], scale="none").result
    assert axis_names(res) == (r"price (\$)", "weight_kg")
    res = clusterlab.analyze(df, k=(2, 3), algorithms=["kmeans"], scale="standard").result
    names = axis_names(res)
    assert names == (r"price (\$) (standardised)", "weight_kg (standardised)")
    fig = plotting.plot_decision_boundaries(KMeans(2, n_init=1, random_state=0).fit(X), X,
                                            resolution=50)
    name_axes(fig, names)
    assert (fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()) == names
    img = _decode(figure_to_data_uri(fig))  # "$" is not read as mathtext
    assert img.size[0] > 100
    three = np.c_[X, rng.normal(size=len(X))]
    res = clusterlab.analyze(three, k=(2, 3), algorithms=["kmeans"]).result
    assert axis_names(res) == ("principal component 1", "principal component 2")


def test_the_data_figure_names_the_known_classes():
    from clusterlab.report.figures import MAX_LEGEND_NAMES

    rng = np.random.default_rng(0)
    P = rng.normal(size=(90, 2))
    codes = np.repeat([0, 1, 2], 30)
    fig = scatter_figure(P, codes, "The data", names=np.array(["setosa", "a $ b", "virginica"]))
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert texts == ["setosa", r"a \$ b", "virginica"]
    _decode(figure_to_data_uri(fig))
    many = np.arange(90) % (MAX_LEGEND_NAMES + 1)
    fig = scatter_figure(P, many, "The data", names=np.arange(MAX_LEGEND_NAMES + 1).astype(str))
    assert fig.axes[0].get_legend() is None


def test_opaque_figures_are_written_as_rgb_with_the_same_pixels():
    rng = np.random.default_rng(2)
    fig = scatter_figure(rng.normal(size=(300, 2)), rng.integers(0, 3, 300), "three")
    img = _decode(figure_to_data_uri(fig))
    assert img.mode == "RGB"  # no alpha channel of 255s to compress
    # the same pixels as the drawn canvas, cropped
    drawn = np.asarray(fig.canvas.buffer_rgba())
    assert (drawn[..., 3] == 255).all()
    got = np.asarray(img)
    h, w = got.shape[:2]
    # the crop holds every artist: the first row and column that are not white
    # place it on the canvas; there it is the canvas's pixels
    def first_ink(a):
        ink = (a[..., :3] != 255).any(axis=-1)
        return np.argmax(ink.any(axis=1)), np.argmax(ink.any(axis=0))

    (gy, gx), (dy, dx) = first_ink(got), first_ink(drawn)
    y, x = dy - gy, dx - gx
    assert y >= 0 and x >= 0
    np.testing.assert_array_equal(drawn[y:y + h, x:x + w, :3], got)


def test_transparent_figures_keep_their_alpha():
    fig, ax = new_axes(figsize=(3, 2))
    fig.patch.set_alpha(0.0)
    ax.patch.set_alpha(0.0)
    ax.plot([0, 1], [0, 1])
    img = _decode(figure_to_data_uri(fig))
    assert img.mode == "RGBA"
    assert np.asarray(img)[..., 3].min() < 255
