"""Drawing the report's figures in two processes.

Drawing the figures is the longest step of an analysis once the kernels are
cached. On Linux with at least two usable cores:

* :func:`render_report` builds the page twice, here and in a forked process;
  each draws the next figure neither has claimed (:class:`_Claims`), and the
  other process's figures are put in their places;
* the command line forks a worker right after it has read the table
  (:func:`start_early`): the worker gets matplotlib ready (its import, fonts,
  caches, and the estimators' modules: :func:`prepare_drawing`) on the second
  core while the analysis fits its candidates, then waits. When the analysis
  is done, :func:`render` hands it the result (pickled through a pipe); the
  worker runs :func:`render_report` and sends the figures back, while this
  process lays out the page around placeholders and then fills them in.

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

from clusterlab.report.html import _build_page

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


def render_report(res, versions, seconds):
    """Build the report page for an :class:`~clusterlab.report.analysis.AnalysisResult`,
    in two processes where the module's notes say so, else in this one."""
    if not _fork_figures():
        return _build_page(res, versions, seconds, None)
    deadline = time.monotonic() + PARALLEL_FIGURES_TIMEOUT
    try:
        claim = _Claims(deadline)
    except OSError:
        return _build_page(res, versions, seconds, None)
    try:
        return _render_forked(res, versions, seconds, claim, deadline)
    finally:
        claim.close()


def _render_forked(res, versions, seconds, claim, deadline):
    try:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
    except OSError:
        return _build_page(res, versions, seconds, None)
    if pid == 0:  # pragma: no cover - the forked process (its coverage is not collected)
        status = 1
        try:
            os.close(read_fd)
            page = _build_page(res, versions, seconds, claim)
            _write_all(write_fd, pickle.dumps(page.drawn, protocol=pickle.HIGHEST_PROTOCOL))
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    page = _build_page(res, versions, seconds, claim)
    drawn = _reply(read_fd, deadline)
    os.close(read_fd)
    if drawn is None:
        _kill(pid)
    if os.waitpid(pid, 0)[1] != 0 or drawn is None or not page.fill(drawn):
        return _build_page(res, versions, seconds, None)
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


def _kill(pid):
    try:
        os.kill(pid, 9)
    except OSError:
        pass


class _Claims:
    """``claims(index)`` for two processes that build the same page: True for
    the process that reaches figure ``index`` first (it draws it), False for
    the other (it leaves a placeholder), so the figures split by their cost.

    Both walk the figures in the same order, so when one reaches figure i
    every figure before it is claimed: the shared count of claimed figures is
    i when figure i is free, above i when the other process took it. The
    count lives in shared memory, guarded by a one-byte pipe used as a lock.
    A process that cannot get the lock before ``deadline`` draws the figure
    itself (the page is then drawn again here, complete).
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


def _none_here(index):
    """The page's share of the figures when the worker draws them all: none."""
    return False


_early = None


class Worker:
    """A forked drawing process: ``pid``, the pipe its job goes down
    (``job_fd``) and the one its figures come back on (``result_fd``)."""

    def __init__(self, pid, job_fd, result_fd):
        self.pid, self.job_fd, self.result_fd = pid, job_fd, result_fd

    def close(self):
        """Close the pipes (the worker then exits) and reap the process."""
        for fd in (self.job_fd, self.result_fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.job_fd = self.result_fd = None
        if self.pid is not None:
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = None

    def kill(self):
        if self.pid is not None:
            _kill(self.pid)
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


def _serve(job_fd, result_fd):  # pragma: no cover - runs in the forked worker
    """The worker: get drawing ready, wait for a job, draw, send the figures back."""
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
    job = _read_to_end(job_fd)  # the command closes the pipe after the job
    if not job:  # no job: the analysis failed or drew its page itself
        return 0
    page = render_report(*pickle.loads(job))
    _write_all(result_fd, pickle.dumps(page.drawn, protocol=pickle.HIGHEST_PROTOCOL))
    return 0


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
        try:
            _write_all(worker.job_fd, job)
        except OSError:
            return None
        os.close(worker.job_fd)  # the end of the job
        worker.job_fd = None
        page = _build_page(res, versions, seconds, _none_here)
        drawn = _reply(worker.result_fd, deadline)
        if drawn is None:
            worker.kill()
            return None
        return page if page.fill(drawn) else None
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
