"""Rendering an analysis as one self-contained HTML page (figures embedded as PNG).

The page: the recommendation and its reasons, a table of contents, the data,
every model at a glance (failed and degenerate ones marked with the reason),
a profile of the recommended clusters, the lines of Python that refit the
recommended model, one section per model with its figures (one colour per
cluster in every figure of a model), and the anomalies. Warnings collected by
the analysis are shown as plain advice, never as raw warning text.
"""

import base64
import hashlib
import html
import io
import json
import pickle

import numpy as np

from clusterlab._config import numba_threads

from clusterlab.report.explain import (cluster_profile, display_name, model_status,
                                       plain_notes, recommendation_title, reproduce_code,
                                       stated_gap)
from clusterlab.report.figures import (axis_names, cluster_colors, dendrogram_figure,
                                       kdistance_figure, name_axes, scatter_figure,
                                       silhouette_row)

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0 auto;
max-width:1100px;padding:1.5em;color:#222;line-height:1.45}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
.rec{background:#eef7ee;border-left:6px solid #3a7;padding:.8em 1.2em;margin:1em 0}
.note{background:#fff7e0;border-left:6px solid #e9a;padding:.5em 1em;margin:.6em 0}
table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right;white-space:nowrap}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}.muted{color:#777}
.scroll{overflow-x:auto;max-width:100%;margin:.8em 0}.scroll table{margin:0}
caption{caption-side:top;text-align:left;color:#444;padding:.3em 0;white-space:normal}
nav.toc{background:#f7f7f7;border:1px solid #e3e3e3;padding:.4em 1.2em;margin:1em 0}
nav.toc ol{margin:.3em 0;padding-left:1.4em}
pre.code{background:#f6f8fa;border:1px solid #e1e4e8;padding:.8em;overflow-x:auto;
font-size:.9em;line-height:1.35}
tr.failed td{background:#fdecea}tr.degenerate td{background:#fff7e0}
.swatch{display:inline-block;width:.9em;height:.9em;border-radius:2px;margin-right:.35em;
vertical-align:-.1em}
"""

SELF_CHECK = """
<script>
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var ok = imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  document.body.setAttribute('data-images-total', String(imgs.length));
  document.body.setAttribute('data-images-loaded', String(ok));
});
</script>
"""

#: The anomaly table shows at most this many rows, the data tables at most
#: this many columns, the profile at most this many features, summary.json's
#: profile at most this many (labels.csv and profile.csv in the output folder
#: hold everything).
MAX_ANOMALY_ROWS = 200
MAX_TABLE_COLUMNS = 200
MAX_PROFILE_FEATURES = 40
MAX_SUMMARY_PROFILE_FEATURES = 100

#: Relative cost of drawing the report's figures, by drawing function (1 for
#: the others: a scatter, a curve), for the order of :meth:`Page.draw_deferred`.
#: Measured on five blobs: grids of predictions and silhouette panels 0.2-0.3 s,
#: dendrogram, DBSCAN map, condensed tree 0.1-0.15 s, scatters and curves
#: 0.05-0.1 s.
FIGURE_COST = {"silhouette_row": 3, "plot_anomalies": 3, "plot_gaussian_mixture": 3,
               "plot_decision_boundaries": 2, "dendrogram_figure": 2, "plot_dbscan": 2,
               "plot_condensed_tree": 2}

#: Grid points per axis of the decision-boundary and density figures (the
#: plotting functions' own defaults, up to 1000, are the notebook's print
#: sizes; at the page's ~600 px a 400-point grid looks the same and costs a
#: sixth: 0.26 s instead of 0.77 s for two figures).
GRID_RESOLUTION = 400


def figure_to_data_uri(fig, dpi=100):
    """PNG-encode a matplotlib Figure, cropped to its artists plus
    ``savefig.pad_inches`` (as ``bbox_inches="tight"``), as a ``data:`` URI.

    The figure is drawn once and the tight box cut out of the drawn pixels
    (``savefig(bbox_inches="tight")`` draws it twice, which made up a third of
    the report's drawing time); where the padding does not fit on the canvas
    it is cut at the canvas's edge. Only when an artist itself reaches outside
    the figure is it drawn again, by ``savefig`` with the box already known.
    An opaque image is written as RGB, without its alpha channel of 255s (the
    same pixels: a quarter less to compress, 8-20 % smaller).
    """
    from matplotlib import rcParams
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    buf = io.BytesIO()
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    canvas.draw()
    box = fig.get_tightbbox(canvas.get_renderer())
    pad = rcParams["savefig.pad_inches"]
    pad = 0.1 if not isinstance(pad, (int, float)) else float(pad)
    width, height = canvas.get_width_height()
    # the artists' box in pixels (rounded outwards, with half a pixel of slack
    # for text extents that end a fraction past a pixel edge)
    a0, a1 = int(np.floor(box.x0 * dpi + 0.5)), int(np.ceil(box.x1 * dpi - 0.5))
    b0, b1 = int(np.floor(box.y0 * dpi + 0.5)), int(np.ceil(box.y1 * dpi - 0.5))
    if 0 <= a0 < a1 <= width and 0 <= b0 < b1 <= height:
        # the padded box, cut at the canvas's edges
        x0 = max(0, int(np.floor((box.x0 - pad) * dpi)))
        x1 = min(width, int(np.ceil((box.x1 + pad) * dpi)))
        y0 = max(0, int(np.floor((box.y0 - pad) * dpi)))
        y1 = min(height, int(np.ceil((box.y1 + pad) * dpi)))
        pixels = np.asarray(canvas.buffer_rgba())[height - y1:height - y0, x0:x1]
        if pixels[..., 3].min() == 255:  # opaque (a figure's white face): RGB, the same pixels
            pixels = pixels[..., :3]
        Image.fromarray(np.ascontiguousarray(pixels)).save(buf, format="png", compress_level=1)
    else:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches=box.padded(pad))
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def esc(text):
    return html.escape(str(text))


class Raw(str):
    """A table cell already written as HTML (inserted without escaping)."""


def table_html(header, rows, caption=None, table_id=None, scroll=False, row_classes=None):
    """An HTML table; :class:`Raw` cells are inserted as they are, others escaped."""
    attrs = f' id="{esc(table_id)}"' if table_id else ""
    out = [f"<table{attrs}>"]
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append("<tr>" + "".join(f"<th>{_cell(h)}</th>" for h in header) + "</tr>")
    for i, row in enumerate(rows):
        cls = row_classes[i] if row_classes else None
        out.append((f'<tr class="{esc(cls)}">' if cls else "<tr>")
                   + "".join(f"<td>{c if isinstance(c, Raw) else _cell(c)}</td>" for c in row)
                   + "</tr>")
    out.append("</table>")
    text = "".join(out)
    return f'<div class="scroll">{text}</div>' if scroll else text


def _cell(c, longest=48):  # a 300-character column name pushed every number off screen
    t = str(c)
    if len(t) <= longest:
        return esc(t)
    return f'<span title="{esc(t)}">{esc(t[:longest - 1])}…</span>'


def fmt(x, digits=4):
    if x is None:
        return "—"
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x):
            return "—"
        return f"{x:.{digits}g}" if abs(x) >= 1e4 or abs(x) < 1e-3 else f"{x:.{digits}f}"
    return str(x)


class _Placeholder:
    """Where a figure drawn by the other process of :func:`render_report` goes."""

    def __init__(self, index):
        self.index = index


class Page:
    """Accumulates sections and figures; figures that fail are reported, not fatal."""

    _TOC = "\x00toc\x00"

    def __init__(self, title, share=None, memo=None, defer=False, axis_names=None):
        self.title = title
        # (x, y) names for the axes the plotting functions label $x_1$ / $x_2$
        # (:func:`axis_names`); None keeps those labels
        self.axis_names = axis_names
        self.parts = []
        self.sections = []  # (anchor, text) of every level-2 heading
        # which figures this page draws, leaving a placeholder for the others
        # (see report/drawing.py): None, all of them; else a function of the
        # figure's index, True for those it draws
        self.share = share
        self.drawn = {}  # figure index -> (html, failure or None), of those drawn
        self._n_figures = 0
        # figures drawn before, by figure_key (see report/drawing.py): a figure
        # whose key is here is taken from it; one drawn here is added to it
        self.memo = memo
        # with defer, figures are only recorded as the page is laid out, and
        # draw_deferred draws them afterwards, the costliest first (two
        # processes sharing them then end together); share then takes the
        # position in that order instead of the figure's index
        self.deferred = [] if defer else None

    def add(self, raw_html):
        self.parts.append(raw_html)

    def heading(self, text, level=2, anchor=None):
        if level == 2:
            anchor = anchor or f"sec-{len(self.sections) + 1}"
            self.sections.append((anchor, text))
        ident = f' id="{esc(anchor)}"' if anchor else ""
        self.parts.append(f"<h{level}{ident}>{esc(text)}</h{level}>")

    def para(self, text, cls=None):
        c = f' class="{cls}"' if cls else ""
        self.parts.append(f"<p{c}>{esc(text)}</p>")

    def toc_here(self):
        """Put the table of contents (the level-2 headings) at this point of the page."""
        self.parts.append(self._TOC)

    def _toc_html(self):
        items = "".join(f'<li><a href="#{esc(a)}">{esc(t)}</a></li>' for a, t in self.sections)
        return f'<nav class="toc" id="toc"><strong>Contents</strong><ol>{items}</ol></nav>'

    def figure(self, caption, make, *args, **kwargs):
        """A figure drawn by ``make(*args, **kwargs)`` (a matplotlib Figure) with its
        caption. With a :attr:`memo`, a figure whose inputs are all in ``args`` /
        ``kwargs`` (``make`` a plain function, no closure) is taken from the memo
        when the same figure was drawn before (:func:`figure_key`)."""
        index = self._n_figures
        self._n_figures += 1
        if self.deferred is None and self.share is not None and not self.share(index):
            self.parts.append(_Placeholder(index))
            return
        key = None  # the key of a figure this page draws or orders (deferred)
        if (self.memo is not None and (args or kwargs)
                and getattr(make, "__closure__", True) is None):
            key = figure_key(caption, make, args, kwargs, self.axis_names)
        if self.deferred is not None:
            self.deferred.append((index, caption, make, args, kwargs, key))
            self.parts.append(_Placeholder(index))
            return
        self.parts.append(self._draw(index, caption, make, args, kwargs, key))

    def draw_deferred(self):
        """Draw the figures recorded with ``defer`` that this page's ``share``
        takes, in decreasing order of :data:`FIGURE_COST` (those in the memo
        last: they cost nothing), and put them in their places."""
        def cost(job):
            make, key = job[2], job[5]
            return 0 if key is not None and key in self.memo else FIGURE_COST.get(
                getattr(make, "__name__", ""), 1)

        jobs = sorted(self.deferred, key=cost, reverse=True)  # stable: page order on ties
        self.deferred = None
        mine = {}
        for position, job in enumerate(jobs):
            if self.share is None or self.share(position):
                mine[job[0]] = self._draw(*job)
        self.parts = [mine.get(p.index, p) if isinstance(p, _Placeholder) else p
                      for p in self.parts]

    def _draw(self, index, caption, make, args, kwargs, key):
        """The HTML of one figure (from the memo when its key is there), noted in
        :attr:`drawn` and the memo."""
        if key is not None and key in self.memo:
            self.drawn[index] = self.memo[key]
            return self.memo[key][0]
        failure = None
        try:
            # one numba thread: a figure's computations (grid predictions of at most
            # GRID_RESOLUTION**2 points) take milliseconds serially, and the kernels'
            # parallel compilations would cost seconds on a first run
            with numba_threads(1):
                fig = make(*args, **kwargs)
            name_axes(fig, self.axis_names)
            uri = figure_to_data_uri(fig)
            part = (f'<figure><img alt="{esc(caption)}" src="{uri}">'
                    f"<figcaption>{esc(caption)}</figcaption></figure>")
        except Exception as exc:  # a broken figure must not sink the whole report
            failure = f"{caption}: {type(exc).__name__}: {exc}"
            part = (f'<p class="note">The figure "{esc(caption)}" could not be drawn '
                    f"({esc(exc)}).</p>")
        self.drawn[index] = (part, failure)
        if key is not None:
            self.memo[key] = (part, failure)
        return part

    @property
    def failures(self):
        """``"caption: error"`` of every figure that could not be drawn, in page order."""
        return [self.drawn[i][1] for i in sorted(self.drawn) if self.drawn[i][1]]

    def fill(self, drawn):
        """Put figures drawn elsewhere (``{index: (html, failure)}``) in their
        placeholders; returns False when one is missing."""
        if any(isinstance(p, _Placeholder) and p.index not in drawn for p in self.parts):
            return False
        self.parts = [drawn[p.index][0] if isinstance(p, _Placeholder) else p
                      for p in self.parts]
        self.drawn.update(drawn)
        self.share = None
        return True

    def render(self):
        parts = [self._toc_html() if p == self._TOC else p for p in self.parts]
        return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                f"<title>{esc(self.title)}</title><style>{CSS}</style></head><body>"
                + "".join(parts) + SELF_CHECK + "</body></html>")


def figure_key(caption, make, args, kwargs, axis_names=None):
    """A digest of everything a figure is drawn from: its caption, the drawing
    function's name and ``args`` / ``kwargs``, pickled without memo (so the
    key does not depend on which objects happen to be shared), arrays by
    their dtype, shape and bytes. Equal keys, in any process of the same
    installation, mean the same figure; None when an input does not pickle
    (or refers to itself)."""
    h = hashlib.blake2b(digest_size=20)
    h.update(f"{caption}\x00{make.__module__}.{make.__qualname__}\x00{axis_names!r}\x00".encode())
    out = io.BytesIO()
    try:
        _KeyPickler(out, h).dump((args, kwargs))
    except Exception:
        return None
    h.update(out.getvalue())
    return h.digest()


class _KeyPickler(pickle.Pickler):
    """The pickler of :func:`figure_key`: no memo ("fast" mode), arrays hashed."""

    def __init__(self, file, h):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.fast = True
        self._h = h

    def reducer_override(self, obj):
        if isinstance(obj, np.ndarray) and not obj.dtype.hasobject:
            a = np.ascontiguousarray(obj)
            self._h.update(a.reshape(-1).view(np.uint8))
            return np.empty, (a.shape, repr(a.dtype))
        return NotImplemented


def swatch(color):
    from matplotlib.colors import to_hex

    return Raw(f'<span class="swatch" style="background:{to_hex(color)}"></span>')


def _jsonable(o):
    if hasattr(o, "item"):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def summary_dict(res, versions, seconds):
    """The JSON-serialisable summary written to ``summary.json``."""
    ds = res.dataset
    failures = dict(getattr(res, "failures", None) or {})
    out = {
        "versions": versions,
        "data": {"name": ds.name, "n_samples": int(res.X_fit.shape[0]),
                 "n_features": int(len(ds.columns)), "columns": ds.columns,
                 "dropped_columns": [c for c, _ in ds.dropped],
                 "label_column": ds.label_column, "scale": res.scale,
                 "rows_numbered": "from 1, the first data row after the header",
                 "read_notes": list(getattr(ds, "notes", []) or []),
                 "missing": getattr(ds, "missing", None),
                 "sampled_rows_for_quadratic_steps": int(len(res.sample_index)) if res.sampled
                 else None},
        "recommendation": {"model": res.recommendation, "reasons": res.reasons,
                           "verdict": getattr(res, "verdict", None),
                           "n_clusters": (res.scores.get(res.recommendation, {}).get("n_clusters")
                                          if res.recommendation else None),
                           "gap_ratio": stated_gap(res)[0],
                           "gap_measured_on": stated_gap(res)[1]},
        "models": {}, "failures": failures,
        "timings_s": {k: round(v, 4) for k, v in res.timings.items()},
        "seconds": round(seconds, 3), "notes": plain_notes(res),
    }
    if res.X_fit.shape[1] != len(ds.columns):
        out["data"]["n_fit_dimensions"] = int(res.X_fit.shape[1])
    if res.kmeans_sweep is not None:
        out["kmeans_sweep"] = {k: np.asarray(v).tolist() for k, v in res.kmeans_sweep.table.items()}
        out["kmeans_sweep"]["elbow"] = res.kmeans_sweep.elbow
        sil = np.asarray(res.kmeans_sweep.table["silhouette"], dtype=float)
        out["kmeans_sweep"]["best_silhouette_k"] = (int(res.kmeans_sweep.best("silhouette"))
                                                    if np.isfinite(sil).any() else None)
    if res.gmm_sweep is not None:
        out["gmm_sweep"] = {k: np.asarray(v).tolist() for k, v in res.gmm_sweep.table.items()}
        out["gmm_sweep"]["best_bic_k"] = int(res.gmm_sweep.best("bic"))
        out["gmm_covariance_bic"] = {c: b for c, (b, _) in res.covariance_bic.items()}
    for name, model in res.models.items():
        params = {k: v for k, v in model.get_params(deep=False).items()
                  if isinstance(v, (int, float, str, bool, type(None)))}
        status, why = model_status(res, name)
        out["models"][name] = {"class": type(model).__name__, "params": params,
                               "status": status, **({"problem": why} if why else {}),
                               **res.scores.get(name, {})}
    for name, why in failures.items():
        out["models"].setdefault(name, {"status": "failed", "problem": str(why)})
    columns, profile = cluster_profile(res, max_features=MAX_SUMMARY_PROFILE_FEATURES)
    if profile:
        n_columns = len(res.dataset.columns)
        out["profile"] = {"model": res.recommendation, "columns": columns,
                          **({"note": f"the first {len(columns)} of {n_columns} columns; "
                              "profile.csv holds every column"}
                             if len(columns) < n_columns else {}),
                          "clusters": [{"cluster": r["cluster"], "size": r["size"],
                                        "share": r["share"], "weight": r["weight"],
                                        "mean": r["mean"].tolist(),
                                        "median": r["median"].tolist()} for r in profile]}
    if res.anomalies is not None:
        det = res.anomaly_detector
        flagged = np.flatnonzero(res.anomalies)
        rows_no = np.asarray(getattr(ds, "row_numbers", np.arange(1, len(res.anomalies) + 1)))
        out["anomalies"] = {"count": int(res.anomalies.sum()),
                            "contamination": det.contamination,
                            "threshold": float(det.threshold_),
                            "rows": rows_no[flagged[np.argsort(res.anomaly_scores[flagged],
                                                               kind="stable")]].tolist()}
    return _finite(json.loads(json.dumps(out, default=_jsonable, allow_nan=True)))


def _finite(o):
    """``o`` with every NaN or infinite number replaced by None (``null``:
    JSON has no NaN, and strict readers reject the ``NaN`` Python writes)."""
    if isinstance(o, float):
        return o if np.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_finite(v) for v in o]
    return o


def _model_sections(page, res, name, colors, two_d):
    """The figures of one model (its own section); known candidates get their seed figures."""
    from clusterlab import plotting

    X, P = res.X_fit, res.projection
    labels = res.labels.get(name)
    model = res.models.get(name)
    title = display_name(name)
    if name == "kmeans" and res.kmeans_sweep is not None:
        sw = res.kmeans_sweep
        km = model
        page.heading("K-Means: choosing k", anchor="sec-kmeans")
        page.figure("Inertia against k (elbow by Kneedle)", plotting.plot_inertia_curve, sw)
        page.figure("Silhouette score against k", plotting.plot_silhouette_curve, sw)
        Xs = X[res.sample_index]
        ks, labs = [], []
        for k in (km.n_clusters - 1, km.n_clusters, km.n_clusters + 1):
            if k < 2 or k not in sw.k_values.tolist():
                continue
            fitted = sw.models[sw.k_values.tolist().index(k)]
            # a sweep on a sample of the rows: its labels are the sample's
            lab = (np.asarray(fitted.labels_)[res.sample_index]
                   if len(fitted.labels_) == len(X) else np.asarray(fitted.predict(Xs)))
            if 2 <= len(np.unique(lab)) < len(lab):  # a silhouette needs 2..n-1 clusters
                ks.append(k)
                labs.append(lab)
        if labs:
            width = max(int(max(lab.max() for lab in labs)) + 1, len(colors))
            sil_colors = cluster_colors(np.arange(width))
            sil_colors[:len(colors)] = colors
            page.figure("Silhouette diagrams of k = " + ", ".join(map(str, ks))
                        + " on one x axis" + (" (sampled rows)" if res.sampled else ""),
                        silhouette_row, Xs, labs, sil_colors)
        table = [[int(k), fmt(float(i)), fmt(float(s), 3)] for k, i, s in
                 zip(sw.table["k"], sw.table["inertia"], sw.table["silhouette"])]
        page.add(table_html(["k", "inertia", "silhouette"], table))
        if two_d:
            page.figure(f"K-Means decision boundaries, k={km.n_clusters}",
                        plotting.plot_decision_boundaries, km, X,
                        resolution=GRID_RESOLUTION)
        page.figure(f"K-Means clusters, k={km.n_clusters}", scatter_figure, P, labels,
                    f"K-Means, k={km.n_clusters}", colors=colors)
        return
    if name == "gmm" and res.gmm_sweep is not None:
        gm = model
        page.heading("Gaussian mixtures", anchor="sec-gmm")
        page.figure("BIC and AIC against the number of components",
                    plotting.plot_information_criteria, res.gmm_sweep)
        page.add(table_html(["covariance_type", "BIC"],
                            [[c, fmt(b)] for c, (b, _) in sorted(res.covariance_bic.items(),
                                                               key=lambda t: t[1][0])]))
        if two_d:
            page.figure(f"Gaussian mixture density ({gm.n_components} component"
                        f"{'' if gm.n_components == 1 else 's'}, "
                        f"covariance_type='{gm.covariance_type}')",
                        plotting.plot_gaussian_mixture, gm, X, resolution=GRID_RESOLUTION)
        page.figure("Gaussian-mixture clusters", scatter_figure, P, labels,
                    "Gaussian mixture", colors=colors)
        return
    page.heading(title, anchor=f"sec-{name}")
    if name == "dbscan" and getattr(res, "kdist", None) is not None:
        page.figure("k-distance curve", kdistance_figure, res.kdist, res.dbscan_eps,
                    res.dbscan_min_samples)
        if two_d and not res.sampled:
            page.figure("DBSCAN: core points, border points and noise",
                        plotting.plot_dbscan, model, X)
    if name == "hdbscan" and getattr(model, "condensed_tree_", None) is not None:
        page.figure("HDBSCAN condensed tree (width: points in the cluster; circled: the "
                    "clusters selected)", plotting.plot_condensed_tree, model)
    if name == "genie" and getattr(model, "mst_", None) is not None:
        page.para("Genie merges along the minimum spanning tree of the rows; the clusters "
                  "shown are the cut the evidence supports best.", "muted")
    if name == "agglomerative" and hasattr(model, "to_linkage_matrix"):
        k = int(getattr(model, "n_clusters_", getattr(model, "n_clusters", 2)) or 2)
        page.figure("Dendrogram (the top merges; red line: the cut into the clusters shown)",
                    dendrogram_figure, model, k, colors)
    page.figure(f"{title} clusters" + (" (noise as red crosses)" if (labels == -1).any() else "")
                + (" (sampled rows)" if (labels == -2).any() else ""),
                scatter_figure, P, labels, title, colors=colors)


def _glance_table(res, ds):
    head = ["model", "status", "clusters", "noise", "silhouette"] + (
        ["ARI vs labels"] if ds.y is not None else []) + ["note"]
    rows, classes = [], []
    names = list(res.scores) + [n for n in (getattr(res, "failures", None) or {})
                                if n not in res.scores]
    for name in names:
        status, why = model_status(res, name)
        sc = res.scores.get(name)
        label = display_name(name) + (" (recommended)" if name == res.recommendation else "")
        if status == "failed" or sc is None:
            row = [label, "failed", "—", "—", "—"] + (["—"] if ds.y is not None else []) + [why]
        else:
            row = [label, "ok" if status == "ok" else "degenerate", sc["n_clusters"],
                   f"{sc['noise_fraction']:.1%}", fmt(sc["silhouette"], 3)]
            if ds.y is not None:
                row.append(fmt(sc.get("ari_vs_labels"), 3))
            row.append(why)
        rows.append(row)
        classes.append(None if status == "ok" else status)
    return table_html(head, rows, table_id="glance", row_classes=classes, scroll=True)


def _profile_section(page, res, colors):
    columns, profile = cluster_profile(res)
    if not profile:
        return
    name = res.recommendation
    page.heading("Profile of the recommended clusters", anchor="sec-profile")
    shown = columns[:MAX_PROFILE_FEATURES]
    has_weight = any(r["weight"] is not None for r in profile)
    head = ["cluster", "rows", "share"] + (["mixture weight"] if has_weight else [])
    for c in shown:
        head += [f"{c} mean", f"{c} median"]
    rows = []
    for r in profile:
        c = r["cluster"]
        cell = (Raw(swatch(colors[c % len(colors)]) + esc(c)) if c >= 0 else "noise")
        row = [cell, r["size"], f"{r['share']:.1%}"]
        if has_weight:
            row.append(fmt(r["weight"], 3) if r["weight"] is not None else "—")
        for j in range(len(shown)):
            row += [fmt(float(r["mean"][j])), fmt(float(r["median"][j]))]
        rows.append(row)
    n_groups = sum(1 for r in profile if r["cluster"] >= 0)
    noise = "" if n_groups == len(profile) else " and the noise"
    caption = (f"{display_name(name)}: {n_groups} cluster{'' if n_groups == 1 else 's'}{noise}; "
               "each column's mean and median "
               "within the cluster, in the data's own units")
    if len(columns) > len(shown):
        caption += (f" (the first {len(shown)} of {len(columns)} columns; profile.csv has "
                    "them all)")
    page.add(table_html(head, rows, caption=caption + ".", table_id="profile", scroll=True))


def _anomaly_section(page, res, ds, two_d):
    from clusterlab import plotting

    det = res.anomaly_detector
    flagged = np.flatnonzero(res.anomalies)
    order = flagged[np.argsort(res.anomaly_scores[flagged], kind="stable")]
    n = len(res.anomalies)
    page.heading("Anomalies", anchor="sec-anomalies")
    if two_d and "gmm" in res.models:
        page.figure("Anomalies (red stars) on the Gaussian-mixture density",
                    plotting.plot_anomalies, res.models["gmm"], res.X_fit, det,
                    resolution=GRID_RESOLUTION)
    else:
        page.figure("Anomalies (red stars)", scatter_figure, res.projection, None,
                    "Anomalies", highlight=res.anomalies)
    rows_no = np.asarray(getattr(ds, "row_numbers", np.arange(1, n + 1)))
    cols = ds.columns[:MAX_TABLE_COLUMNS]
    shown = order[:MAX_ANOMALY_ROWS]
    caption = (f"{len(flagged)} rows flagged ({len(flagged) / max(n, 1):.1%} of {n}): their "
               f"log-density is below the threshold {det.threshold_:.4g} "
               f"(contamination {det.contamination:.0%}); lowest density first. Rows are "
               "numbered from 1, the first data row after the header, as in labels.csv.")
    if len(order) > len(shown):
        caption += f" The {len(shown)} lowest are shown; labels.csv flags all of them."
    if len(ds.columns) > len(cols):
        caption += f" The first {len(cols)} of {len(ds.columns)} columns are shown."
    page.add(table_html(["row", "log-density"] + cols,
                        [[int(rows_no[i]), fmt(float(res.anomaly_scores[i]))]
                         + [fmt(float(v)) for v in ds.X[i, :len(cols)]] for i in shown],
                        caption=caption, table_id="anomalies-table", scroll=True))


def data_figure(page, ds, P):
    """The figure of the data: its 2-D view ``P``, coloured by the known labels."""
    codes, names = _codes(ds.y)
    page.figure("The data" + (f" coloured by {ds.label_column or 'the known labels'}"
                              if ds.y is not None else ""),
                scatter_figure, P, codes, "The data", names=names)


def two_dimensional(res):
    """Whether the table itself is 2-D (its figures then show it as it is)."""
    return res.X_fit.shape[1] == 2 and len(res.dataset.columns) == 2


def _build_page(res, versions, seconds, share, memo=None, defer=False):
    ds = res.dataset
    X, P = res.X_fit, res.projection
    two_d = two_dimensional(res)
    page = Page(f"clusterlab report — {ds.name}", share, memo, defer, axis_names(res))
    page.heading(f"clusterlab report — {ds.name}", 1)
    page.para(f"{X.shape[0]} rows × {len(ds.columns)} columns; scaling: {res.scale}; "
              f"clusterlab {versions.get('clusterlab')}; {seconds:.1f} s.", "muted")
    page.add('<div class="rec" id="recommendation"><h2 style="margin-top:0">Recommendation: '
             f"{esc(recommendation_title(res))}</h2><ul>"
             + "".join(f"<li>{esc(r)}</li>" for r in res.reasons) + "</ul></div>")
    for note in plain_notes(res):
        page.para(note, "note")
    page.toc_here()

    # Overview ---------------------------------------------------------------
    page.heading("Data overview", anchor="sec-data")
    from clusterlab.report.analysis import column_spreads

    spreads = column_spreads(ds.X[:, :30])
    stats = [[c, fmt(float(ds.X[:, j].mean())), fmt(float(spreads[j])),
              fmt(float(ds.X[:, j].min())), fmt(float(ds.X[:, j].max()))]
             for j, c in enumerate(ds.columns[:30])]
    caption = None
    if len(ds.columns) > 30:
        caption = f"The first 30 of {len(ds.columns)} columns."
    page.add(table_html(["column", "mean", "std", "min", "max"], stats, caption=caption,
                        scroll=True))
    if ds.dropped:
        page.para("Left out: " + ", ".join(f"{c} ({why})" for c, why in ds.dropped), "note")
    page.para(f"Figures show {res.projection_note}.", "muted")
    data_figure(page, ds, P)

    # At a glance, profile, code -------------------------------------------------
    page.heading("Every clustering at a glance", anchor="sec-glance")
    page.add(_glance_table(res, ds))
    rec_labels = res.labels.get(res.recommendation)
    rec_colors = cluster_colors(rec_labels)
    _profile_section(page, res, rec_colors)
    code = reproduce_code(res)
    if code:
        page.heading("Reproduce in Python", anchor="sec-reproduce")
        page.para("These lines refit the recommended model on the same table:")
        page.add(f'<pre class="code" id="reproduce-code"><code>{esc(code)}</code></pre>')

    # One section per model -------------------------------------------------------
    for name in res.models:
        if name not in res.labels:
            continue
        _model_sections(page, res, name, cluster_colors(res.labels[name]), two_d)

    if res.anomalies is not None:
        _anomaly_section(page, res, ds, two_d)
    if defer:
        page.draw_deferred()
    return page


def _codes(y):
    """``(codes, names)`` of the known labels (``names[code]``), or ``(None, None)``."""
    if y is None:
        return None, None
    names, codes = np.unique(np.asarray(y).astype(str), return_inverse=True)
    return codes, names
