"""Drawing the report's figures in two processes.

Drawing the figures is the longest step of an analysis once the kernels are
cached. On Linux with at least two usable cores:

* :func:`render_report` builds the page twice, here and in a forked process;
  each lays it out, then draws the next figure neither has claimed
  (:class:`_Claims`), the costliest first
  (:meth:`~clusterlab.report.html.Page.draw_deferred`), and the other
  process's figures are put in their places;
* the command line forks a worker right after it has read the table
  (:func:`start_early`): the worker gets matplotlib ready (its import, fonts,
  caches, and the estimators' modules: :func:`prepare_drawing`) on the second
  core while the analysis fits its candidates, then waits for jobs. When the analysis
  is done, :func:`render` hands it the result (pickled through a pipe); the
  worker runs :func:`render_report` and sends the whole page back (this
  process then never imports matplotlib: its ~0.2 s of CPU would be taken
  from the two drawing processes);
* while the analysis runs, it sends the worker each candidate's partial
  result as the candidate ends (:func:`ahead`, once the kernels are cached):
  the worker draws that candidate's figures then, keyed by everything they
  are drawn from (:func:`~clusterlab.report.html.figure_key`), and the final
  page takes a figure from these only where its key is the same.

The page is the same as one drawn by one process: the same function lays it
out and draws every figure, only the process differs. If a drawing process
fails, is gone, or takes longer than :data:`PARALLEL_FIGURES_TIMEOUT`, the
figures are drawn here. ``CLUSTERLAB_PARALLEL_FIGURES=0`` keeps everything in
one process.
"""

import os
import pickle
import select
import time

import numpy as np

from clusterlab.report.html import Page, _Placeholder, _build_page

#: seconds the drawing process may take before the report draws its figures itself
PARALLEL_FIGURES_TIMEOUT = 120.0


def prepare_drawing():
    """Import matplotlib's drawing modules and draw one tiny figure (the first
    draw of a process loads fonts and fills caches: ~0.37 s in all). The early
    worker calls this first; on a first run the analysis also calls it while
    it waits for its compile helper, and the figures drawn after, here and in
    the forked process, then skip it. Errors are left to the figures
    themselves."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from PIL import Image  # noqa: F401

        fig = Figure(figsize=(2, 1))
        ax = fig.add_subplot()
        ax.plot([0, 1], [0, 1])
        ax.set_xlabel("$x_1$")
        FigureCanvasAgg(fig).draw()
    except Exception:  # pragma: no cover - the report says what fails
        pass


def render_report(res, versions, seconds, memo=None):
    """Build the report page for an :class:`~clusterlab.report.analysis.AnalysisResult`,
    in two processes where the module's notes say so, else in this one
    (``memo``: figures drawn ahead, see :class:`~clusterlab.report.html.Page`)."""
    if not _fork_figures():
        return _build_page(res, versions, seconds, None, memo)
    deadline = time.monotonic() + PARALLEL_FIGURES_TIMEOUT
    try:
        claim = _Claims(deadline)
    except OSError:
        return _build_page(res, versions, seconds, None, memo)
    try:
        return _render_forked(res, versions, seconds, claim, deadline, memo)
    finally:
        claim.close()


def _render_forked(res, versions, seconds, claim, deadline, memo):
    try:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
    except OSError:
        return _build_page(res, versions, seconds, None, memo)
    if pid == 0:  # pragma: no cover - the forked process (its coverage is not collected)
        status = 1
        try:
            os.close(read_fd)
            page = _build_page(res, versions, seconds, claim, memo, defer=True)
            _write_all(write_fd, pickle.dumps(page.drawn, protocol=pickle.HIGHEST_PROTOCOL))
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    page = _build_page(res, versions, seconds, claim, memo, defer=True)
    drawn = _reply(read_fd, deadline)
    os.close(read_fd)
    if drawn is None:
        _kill(pid)
    if os.waitpid(pid, 0)[1] != 0 or drawn is None or not page.fill(drawn):
        return _build_page(res, versions, seconds, None, memo)
    return page


def _read_to_end(fd, deadline=None):
    """All that is written to pipe ``fd`` until its writer closes it; None when
    ``deadline`` (``time.monotonic``) passes first."""
    chunks = []
    while True:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _reply(fd, deadline):
    """The figures a drawing process sent on pipe ``fd`` (``{index: (html,
    failure)}``, pickled, ended by the process closing the pipe), or None:
    nothing sent, too late, or unreadable."""
    data = _read_to_end(fd, deadline)
    if not data:
        return None
    try:
        return pickle.loads(data)
    except Exception:
        return None


def _close(fd):
    try:
        os.close(fd)
    except OSError:
        pass


def _kill(pid):
    try:
        os.kill(pid, 9)
    except OSError:
        pass


class _Claims:
    """``claims(index)`` for two processes that build the same page: True for
    the process that reaches figure ``index`` first (it draws it), False for
    the other (it leaves a placeholder), so the figures split by their cost.

    Both walk the figures in the same order (``index`` is the position in
    it), so when one reaches figure i every figure before it is claimed: the
    shared count of claimed figures is i when figure i is free, above i when
    the other process took it. The count lives in shared memory, guarded by a
    one-byte pipe used as a lock. A process that cannot get the lock before
    ``deadline`` draws the figure itself (the page is then drawn again here,
    complete).
    """

    def __init__(self, deadline):
        import mmap

        self.deadline = deadline
        self.count = mmap.mmap(-1, 8)
        self.lock_r, self.lock_w = os.pipe()
        os.write(self.lock_w, b"1")

    def __call__(self, index):
        left = max(0.0, self.deadline - time.monotonic())
        if not select.select([self.lock_r], [], [], left)[0] or not os.read(self.lock_r, 1):
            return True
        try:
            taken = int.from_bytes(self.count[:8], "little")
            mine = taken == index
            if mine:
                self.count[:8] = (index + 1).to_bytes(8, "little")
        finally:
            os.write(self.lock_w, b"1")
        return mine

    def close(self):
        for fd in (self.lock_r, self.lock_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self.count.close()


def _fork_figures():
    import sys

    from clusterlab._config import available_cores

    return (hasattr(os, "fork") and sys.platform.startswith("linux")
            and os.environ.get("CLUSTERLAB_PARALLEL_FIGURES", "1") != "0"
            and available_cores() >= 2)


#: results above this many pickled bytes are drawn here (sending them would
#: cost more than the worker saves)
MAX_JOB_BYTES = 256 << 20

#: figures are drawn ahead (:func:`ahead`) for tables up to this size: small
#: ones, whose analysis loses nothing with BLAS on one thread
#: (:func:`draws_ahead`)
AHEAD_MAX_BYTES = 2 << 20

#: the candidates whose figures the worker draws ahead: their figures in the
#: report are those of their own best partition unless the recommendation
#: picks another of theirs (then the drawn-ahead figures go unused)
AHEAD_CANDIDATES = ("kmeans", "gmm", "dbscan", "hdbscan")

# the frames on a worker's job pipe: a kind, the pickle's length (8 bytes,
# little-endian), the pickle; the command closes the pipe after the final job
_AHEAD, _FINAL = b"A", b"F"


_early = None


class Worker:
    """A forked drawing process: ``pid``, the pipe its jobs go down
    (``job_fd``, written by a thread of its own: :meth:`send`) and the one its
    figures come back on (``result_fd``)."""

    def __init__(self, pid, job_fd, result_fd):
        import queue

        self.pid, self.job_fd, self.result_fd = pid, job_fd, result_fd
        self.ahead_sent = 0  # draw-ahead jobs sent
        self._queue = queue.SimpleQueue()
        self._writer = None

    def send(self, kind, data):
        """Queue a frame for the worker; a thread writes it (the analysis never
        waits for a busy worker to read). ``kind`` None closes the pipe after
        the frames queued before."""
        import threading

        if self.job_fd is None:
            return
        self._queue.put((kind, data))
        if self._writer is None:
            self._writer = threading.Thread(target=self._write_frames, daemon=True,
                                            name="clusterlab-drawing-jobs")
            self._writer.start()

    def _write_frames(self):
        fd = self.job_fd
        try:
            while True:
                kind, data = self._queue.get()
                if kind is None:
                    break
                _write_all(fd, kind + len(data).to_bytes(8, "little") + data)
        except OSError:  # the worker is gone: the report draws its figures itself
            pass
        finally:
            _close(fd)

    def close(self):
        """Close the pipes (the worker then exits) and reap the process."""
        if self._writer is not None:
            self._queue.put((None, b""))
            self._writer.join()
            self._writer = None
        elif self.job_fd is not None:
            _close(self.job_fd)
        self.job_fd = None
        if self.result_fd is not None:
            _close(self.result_fd)
        self.result_fd = None
        if self.pid is not None:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = None

    def kill(self):
        if self.pid is not None:
            _kill(self.pid)  # first: a write blocked on its pipe then fails
        self.close()


def start():
    """Fork a worker that gets drawing ready and waits for its job; None where
    figures are drawn in one process (see the module's notes) or the fork fails."""
    if not _fork_figures():
        return None
    try:
        job_r, job_w = os.pipe()
        res_r, res_w = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        for fd in (job_r, job_w, res_r, res_w):
            os.close(fd)
        return None
    if pid == 0:  # pragma: no cover - the forked worker (its coverage is not collected)
        status = 1
        try:
            os.close(job_w)
            os.close(res_r)
            status = _serve(job_r, res_w)
        finally:
            os._exit(status)
    os.close(job_r)
    os.close(res_w)
    return Worker(pid, job_w, res_r)


def _read_exactly(fd, n):
    chunks = []
    while n > 0:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd):
    """The next ``(kind, pickle)`` on a job pipe, or None at its end."""
    head = _read_exactly(fd, 9)
    if head is None:
        return None
    data = _read_exactly(fd, int.from_bytes(head[1:], "little"))
    return None if data is None else (head[:1], data)


class _Jobs:
    """The worker's side of its job pipe: frames in order, and whether the
    final job has come (then drawing ahead stops)."""

    def __init__(self, fd):
        self.fd = fd
        self.waiting = []
        self.ended = False

    def _poll(self):
        while not self.ended and select.select([self.fd], [], [], 0)[0]:
            frame = _read_frame(self.fd)
            if frame is None:
                self.ended = True
            else:
                self.waiting.append(frame)

    def final_waiting(self):
        self._poll()
        return self.ended or any(kind == _FINAL for kind, _ in self.waiting)

    def next(self):
        if self.waiting:
            return self.waiting.pop(0)
        if self.ended:
            return None
        frame = _read_frame(self.fd)
        self.ended = frame is None
        return frame


def _serve(job_fd, result_fd):  # pragma: no cover - runs in the forked worker
    """The worker: get drawing ready; draw ahead the figures of the candidates
    the command sends while the analysis runs; on the final job draw the
    page (taking what was drawn ahead where its inputs are the same) and send
    the figures back."""
    import warnings

    warnings.simplefilter("ignore")
    prepare_drawing()
    # what unpickling the result and drawing it import (the estimators, the
    # plotting functions: ~0.4 s), imported while the analysis runs
    import importlib

    from clusterlab.report.prewarm import CANDIDATE_MODULES

    for module in CANDIDATE_MODULES + ("clusterlab.plotting",):
        try:
            importlib.import_module(module)
        except Exception:
            pass
    # what exists now lives as long as this process: out of the cyclic
    # collector's sight (its full collections while drawing then walk only
    # the figures' objects)
    import gc

    gc.freeze()
    jobs = _Jobs(job_fd)
    memo = {}
    while True:
        frame = jobs.next()
        if frame is None:  # no final job: the analysis failed or drew its page itself
            return 0
        kind, data = frame
        if kind == _AHEAD:
            try:
                draw_ahead(pickle.loads(data), memo, lambda index: not jobs.final_waiting())
            except Exception:  # the final page draws what is missing
                pass
            continue
        # no memo when nothing was drawn ahead: no figure keys to compute
        page = render_report(*pickle.loads(data), memo=memo or None)
        # the whole page goes back: the command then neither lays it out nor
        # imports matplotlib (~0.2 s of CPU while both cores draw)
        page.share = page.memo = None
        _write_all(result_fd, pickle.dumps(page, protocol=pickle.HIGHEST_PROTOCOL))
        return 0


def ahead_job(res, name, parts):
    """What the worker needs to draw candidate ``name``'s figures before the
    analysis ends (:func:`draw_ahead`): ``("model", view, name, two_d)``, the
    view holding what :func:`~clusterlab.report.html._model_sections` reads,
    from the analysis's result so far and the candidate's partitions; or None:
    a candidate whose figures are not drawn ahead, or no partition of its own
    choosing."""
    from types import SimpleNamespace

    from clusterlab.report.html import two_dimensional

    if name not in AHEAD_CANDIDATES:
        return None
    own = next((p for p in parts if p.evidence.get("own_best")), None)
    if own is None:
        return None
    view = SimpleNamespace(
        X_fit=res.X_fit, projection=res.projection, sample_index=res.sample_index,
        sampled=res.sampled, models={name: own.model}, labels={name: np.asarray(own.labels)},
        kmeans_sweep=res.kmeans_sweep if name == "kmeans" else None,
        gmm_sweep=res.gmm_sweep if name == "gmm" else None,
        covariance_bic=dict(res.covariance_bic) if name == "gmm" else {},
        kdist=res.kdist if name == "dbscan" else None,
        dbscan_eps=res.dbscan_eps, dbscan_min_samples=res.dbscan_min_samples)
    return "model", view, name, two_dimensional(res)


def draw_ahead(jobs, memo, go_on):
    """Draw the figures of ``jobs`` into ``memo`` while ``go_on(index)`` says so:
    :func:`ahead_job` results, the data's own figure as ``("data", dataset
    view, projection)``, after ``("axes", names)`` (the page's axis names)."""
    from clusterlab.report.figures import cluster_colors
    from clusterlab.report.html import Page, _model_sections, data_figure

    page = Page("", go_on, memo)
    for kind, *job in jobs:
        if kind == "axes":
            page.axis_names = job[0]
        elif kind == "data":
            data_figure(page, *job)
        else:
            view, name, two_d = job
            _model_sections(page, view, name, cluster_colors(view.labels[name]), two_d)


def draws_ahead(X):
    """Whether the early worker will draw the figures of an analysis of ``X``
    while it runs (:func:`ahead`): there is one, and ``X`` is small. The
    analysis should then keep BLAS on one thread: a second BLAS thread waits
    for the core the worker holds (measured on five blobs, two cores: the
    candidates took 1.67-2.06 s beside the drawing instead of 1.45-1.51 s
    alone; with one BLAS thread 1.53-1.57 s against 1.50-1.55 s)."""
    return _early is not None and getattr(X, "nbytes", np.inf) <= AHEAD_MAX_BYTES


def ahead(res, name, parts):
    """Called by the analysis before its first candidate (``name`` None: the
    data's own figure) and after each candidate (``on_candidate``): send the
    figures to the early worker to draw now, while the next candidates run
    (where :func:`draws_ahead` says so). The report takes a figure drawn ahead
    only where its inputs are those of the final page
    (:func:`~clusterlab.report.html.figure_key`), so nothing here can change
    the page."""
    from types import SimpleNamespace

    if not draws_ahead(res.X_fit):
        return
    worker = _early
    try:
        job = ahead_job(res, name, parts)
        jobs = [] if job is None else [job]
        if worker.ahead_sent == 0:
            ds = res.dataset
            jobs.insert(0, ("data", SimpleNamespace(y=ds.y, label_column=ds.label_column),
                            res.projection))
        if not jobs:
            return
        from clusterlab.report.html import axis_names

        jobs.insert(0, ("axes", axis_names(res)))
        data = pickle.dumps(jobs, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # something does not pickle: the final page draws it
        return
    worker.ahead_sent += 1
    worker.send(_AHEAD, data)


def draw_with(worker, res, versions, seconds):
    """The page of ``res`` with its figures drawn by ``worker``, or None (the
    caller then draws it itself). The worker is finished either way."""
    try:
        x = getattr(res, "X_fit", None)
        if x is not None and getattr(x, "nbytes", 0) > MAX_JOB_BYTES // 4:
            return None  # a large table: not worth a copy through the pipe
        try:
            job = pickle.dumps((res, versions, seconds), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # something in the result does not pickle
            return None
        if len(job) > MAX_JOB_BYTES:
            return None
        deadline = time.monotonic() + PARALLEL_FIGURES_TIMEOUT
        worker.send(_FINAL, job)
        worker.send(None, b"")  # the end of the jobs
        page = _reply(worker.result_fd, deadline)
        if not isinstance(page, Page) or any(isinstance(p, _Placeholder) for p in page.parts):
            worker.kill()
            return None
        return page
    finally:
        worker.close()


def start_early():
    """Fork the worker now, for the next :func:`render` (the command line calls
    this once the table is read, before the analysis runs)."""
    global _early
    discard_early()
    _early = start()


def discard_early():
    """Finish a worker from :func:`start_early` that no :func:`render` has used."""
    global _early
    worker, _early = _early, None
    if worker is not None:
        worker.kill()


def render(res, versions, seconds):
    """The report page of ``res``: drawn by the early worker when there is one,
    else by :func:`render_report`."""
    global _early
    worker, _early = _early, None
    if worker is not None:
        page = draw_with(worker, res, versions, seconds)
        if page is not None:
            return page
    return render_report(res, versions, seconds)
