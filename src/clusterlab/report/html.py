"""Rendering an analysis as one self-contained HTML page (figures embedded as PNG)."""

import base64
import html
import io
import json

import numpy as np

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:0 auto;
max-width:1100px;padding:1.5em;color:#222;line-height:1.45}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
.rec{background:#eef7ee;border-left:6px solid #3a7;padding:.8em 1.2em;margin:1em 0}
.note{background:#fff7e0;border-left:6px solid #e9a;padding:.5em 1em;margin:.6em 0}
table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ccc;padding:.25em .6em;
text-align:right}th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{color:#555;font-size:.9em}.muted{color:#777}
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


def figure_to_data_uri(fig, dpi=80):
    """PNG-encode a matplotlib Figure as a ``data:`` URI (and free it)."""
    buf = io.BytesIO()
    if fig.canvas is None or not hasattr(fig.canvas, "print_png"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def esc(text):
    return html.escape(str(text))


def table_html(header, rows):
    out = ["<table><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
    out.append("</table>")
    return "".join(out)


def fmt(x, digits=4):
    if x is None:
        return "—"
    if isinstance(x, (float, np.floating)):
        if not np.isfinite(x):
            return "—"
        return f"{x:.{digits}g}" if abs(x) >= 1e4 or abs(x) < 1e-3 else f"{x:.{digits}f}"
    return str(x)


class Page:
    """Accumulates sections and figures; figures that fail are reported, not fatal."""

    def __init__(self, title):
        self.title = title
        self.parts = []
        self.failures = []

    def add(self, raw_html):
        self.parts.append(raw_html)

    def heading(self, text, level=2):
        self.parts.append(f"<h{level}>{esc(text)}</h{level}>")

    def para(self, text, cls=None):
        c = f' class="{cls}"' if cls else ""
        self.parts.append(f"<p{c}>{esc(text)}</p>")

    def figure(self, caption, make):
        try:
            fig = make()
            uri = figure_to_data_uri(fig)
        except Exception as exc:  # a broken figure must not sink the whole report
            self.failures.append(f"{caption}: {type(exc).__name__}: {exc}")
            self.parts.append(f'<p class="note">Figure "{esc(caption)}" could not be drawn: '
                              f"{esc(type(exc).__name__)}: {esc(exc)}</p>")
            return
        self.parts.append(f'<figure><img alt="{esc(caption)}" src="{uri}">'
                          f"<figcaption>{esc(caption)}</figcaption></figure>")

    def render(self):
        return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
                f"<title>{esc(self.title)}</title><style>{CSS}</style></head><body>"
                + "".join(self.parts) + SELF_CHECK + "</body></html>")


def scatter_figure(P, labels=None, title="", highlight=None, xlabel="$x_1$", ylabel="$x_2$",
                   centers=None):
    """Scatter of a 2-D view coloured by ``labels`` (-1 noise in grey, -2 not computed hidden)."""
    from clusterlab.plotting._common import label_axes, new_axes

    fig, ax = new_axes(figsize=(7, 4))
    if labels is None:
        ax.plot(P[:, 0], P[:, 1], "k.", markersize=2)
    else:
        labels = np.asarray(labels)
        shown = labels != -2
        noise = labels == -1
        ax.scatter(P[shown & ~noise, 0], P[shown & ~noise, 1], c=labels[shown & ~noise], s=4,
                   cmap="tab10" if labels.max() < 10 else "tab20")
        if noise.any():
            ax.scatter(P[noise, 0], P[noise, 1], c="r", marker="x", s=20, label="noise")
            ax.legend(loc="best")
    if highlight is not None and np.any(highlight):
        ax.scatter(P[highlight, 0], P[highlight, 1], color="r", marker="*", s=60,
                   label="anomalies")
        ax.legend(loc="best")
    if centers is not None:
        from clusterlab.plotting._common import plot_centroids

        plot_centroids(centers, ax=ax)
    label_axes(ax, xlabel=xlabel, ylabel=ylabel)
    ax.grid(True)
    ax.set_axisbelow(True)
    ax.set_title(title)
    return fig


def kdistance_figure(kd, eps, min_samples):
    from clusterlab.plotting._common import new_axes

    fig, ax = new_axes(figsize=(7, 3.5))
    ax.plot(np.arange(len(kd)), kd, "b-")
    ax.axhline(eps, color="r", linestyle="--", label=f"eps = {eps:.3g} (knee)")
    ax.set_xlabel("points sorted by distance")
    ax.set_ylabel(f"distance to neighbour {min_samples - 1}")
    ax.set_title("k-distance curve (Kneedle knee gives eps)")
    ax.grid(True)
    ax.legend(loc="upper left")
    return fig


def summary_dict(res, versions, seconds):
    """The JSON-serialisable summary written to ``summary.json``."""
    out = {
        "versions": versions,
        "data": {"name": res.dataset.name, "n_samples": int(res.X_fit.shape[0]),
                 "n_features": int(res.X_fit.shape[1]), "columns": res.dataset.columns,
                 "dropped_columns": [c for c, _ in res.dataset.dropped],
                 "label_column": res.dataset.label_column, "scale": res.scale,
                 "sampled_rows_for_quadratic_steps": int(len(res.sample_index)) if res.sampled
                 else None},
        "recommendation": {"model": res.recommendation, "reasons": res.reasons},
        "models": {}, "timings_s": {k: round(v, 4) for k, v in res.timings.items()},
        "seconds": round(seconds, 3), "notes": res.notes,
    }
    if res.kmeans_sweep is not None:
        out["kmeans_sweep"] = {k: np.asarray(v).tolist() for k, v in res.kmeans_sweep.table.items()}
        out["kmeans_sweep"]["elbow"] = res.kmeans_sweep.elbow
        out["kmeans_sweep"]["best_silhouette_k"] = int(res.kmeans_sweep.best("silhouette"))
    if res.gmm_sweep is not None:
        out["gmm_sweep"] = {k: np.asarray(v).tolist() for k, v in res.gmm_sweep.table.items()}
        out["gmm_sweep"]["best_bic_k"] = int(res.gmm_sweep.best("bic"))
        out["gmm_covariance_bic"] = {c: b for c, (b, _) in res.covariance_bic.items()}
    for name, model in res.models.items():
        params = {k: v for k, v in model.get_params(deep=False).items()
                  if isinstance(v, (int, float, str, bool, type(None)))}
        out["models"][name] = {"class": type(model).__name__, "params": params,
                               **res.scores.get(name, {})}
    if res.anomalies is not None:
        out["anomalies"] = {"count": int(res.anomalies.sum()),
                            "contamination": res.anomaly_detector.contamination,
                            "threshold": float(res.anomaly_detector.threshold_)}
    return json.loads(json.dumps(out, default=lambda o: o.item() if hasattr(o, "item") else str(o),
                                 allow_nan=True))


def render_report(res, versions, seconds):
    """Build the report page for an :class:`~clusterlab.report.analysis.AnalysisResult`."""
    from clusterlab import plotting

    ds = res.dataset
    X, P = res.X_fit, res.projection
    two_d = X.shape[1] == 2
    page = Page(f"clusterlab report — {ds.name}")
    page.heading(f"clusterlab report — {ds.name}", 1)
    page.para(f"{X.shape[0]} rows × {X.shape[1]} columns; scaling: {res.scale}; "
              f"clusterlab {versions.get('clusterlab')}; {seconds:.1f} s.", "muted")
    rec_names = {"kmeans": "K-Means", "gmm": "Gaussian mixture", "dbscan": "DBSCAN",
                 "agglomerative": "Agglomerative (Ward)", "spectral": "Spectral clustering"}
    page.add('<div class="rec" id="recommendation"><h2 style="margin-top:0">Recommendation: '
             f"{esc(rec_names.get(res.recommendation, res.recommendation))}</h2><ul>"
             + "".join(f"<li>{esc(r)}</li>" for r in res.reasons) + "</ul></div>")
    for note in res.notes:
        page.para(note, "note")

    # Overview ---------------------------------------------------------------
    page.heading("Data overview")
    stats = [[c, fmt(float(ds.X[:, j].mean())), fmt(float(ds.X[:, j].std())),
              fmt(float(ds.X[:, j].min())), fmt(float(ds.X[:, j].max()))]
             for j, c in enumerate(ds.columns[:30])]
    page.add(table_html(["column", "mean", "std", "min", "max"], stats))
    if ds.dropped:
        page.para("Left out: " + ", ".join(f"{c} ({why})" for c, why in ds.dropped), "note")
    page.para(f"Figures show {res.projection_note}.", "muted")
    page.figure("The data" + (f" coloured by {ds.label_column or 'the known labels'}"
                              if ds.y is not None else ""),
                lambda: scatter_figure(P, _codes(ds.y), "The data"))

    # Scores table ---------------------------------------------------------------
    page.heading("Every clustering at a glance")
    head = ["model", "clusters", "noise", "silhouette"] + (["ARI vs labels"] if ds.y is not None
                                                         else [])
    rows = []
    for name, sc in res.scores.items():
        row = [rec_names.get(name, name), sc["n_clusters"], f"{sc['noise_fraction']:.1%}",
               fmt(sc["silhouette"], 3)]
        if ds.y is not None:
            row.append(fmt(sc.get("ari_vs_labels"), 3))
        rows.append(row)
    page.add(table_html(head, rows))

    # K-Means ------------------------------------------------------------------
    if res.kmeans_sweep is not None:
        sw = res.kmeans_sweep
        km = res.models["kmeans"]
        page.heading("K-Means: choosing k")
        page.figure("Inertia against k (elbow by Kneedle)", lambda: plotting.plot_inertia_curve(sw))
        page.figure("Silhouette score against k", lambda: plotting.plot_silhouette_curve(sw))
        ks = [k for k in (km.n_clusters - 1, km.n_clusters, km.n_clusters + 1)
              if k >= 2 and k in sw.k_values.tolist()]
        labs = [sw.models[sw.k_values.tolist().index(k)].labels_ for k in ks]
        Xs = X[res.sample_index]
        page.figure("Silhouette diagrams" + (" (sampled rows)" if res.sampled else ""),
                    lambda: plotting.plot_silhouette_diagram(
                        Xs, [np.asarray(lab)[res.sample_index] for lab in labs]))
        table = [[int(k), fmt(float(i)), fmt(float(s), 3)] for k, i, s in
                 zip(sw.table["k"], sw.table["inertia"], sw.table["silhouette"])]
        page.add(table_html(["k", "inertia", "silhouette"], table))
        if two_d:
            page.figure(f"K-Means decision boundaries, k={km.n_clusters}",
                        lambda: plotting.plot_decision_boundaries(km, X))
        else:
            page.figure(f"K-Means clusters, k={km.n_clusters}",
                        lambda: scatter_figure(P, km.labels_, f"K-Means, k={km.n_clusters}"))

    # Gaussian mixtures -------------------------------------------------------------
    if res.gmm_sweep is not None:
        gm = res.models["gmm"]
        page.heading("Gaussian mixtures")
        page.figure("BIC and AIC against the number of components",
                    lambda: plotting.plot_information_criteria(res.gmm_sweep))
        page.add(table_html(["covariance_type", "BIC"],
                            [[c, fmt(b)] for c, (b, _) in sorted(res.covariance_bic.items(),
                                                               key=lambda t: t[1][0])]))
        if two_d:
            page.figure(f"Gaussian mixture ({gm.n_components} components, "
                        f"covariance_type='{gm.covariance_type}')",
                        lambda: plotting.plot_gaussian_mixture(gm, X))
        else:
            page.figure("Gaussian-mixture clusters",
                        lambda: scatter_figure(P, res.labels["gmm"], "Gaussian mixture"))

    # DBSCAN ---------------------------------------------------------------------
    if "dbscan" in res.models:
        db = res.models["dbscan"]
        page.heading("DBSCAN")
        page.figure("k-distance curve", lambda: kdistance_figure(res.kdist, res.dbscan_eps,
                                                                 res.dbscan_min_samples))
        if two_d and not (X.shape[1] > 3 and res.sampled):
            page.figure("DBSCAN: core points, border points and noise",
                        lambda: plotting.plot_dbscan(db, X))
        else:
            page.figure("DBSCAN clusters (noise as red crosses)",
                        lambda: scatter_figure(P, res.labels["dbscan"], "DBSCAN"))

    # Agglomerative / spectral ------------------------------------------------------------
    if "agglomerative" in res.models:
        agg = res.models["agglomerative"]
        page.heading("Agglomerative clustering (Ward)")
        page.figure("Dendrogram (top levels)", lambda: plotting.plot_dendrogram(
            agg, truncate_mode="level", p=5))
        page.figure("Agglomerative clusters",
                    lambda: scatter_figure(P, res.labels["agglomerative"], "Agglomerative (Ward)"))
    if "spectral" in res.models:
        page.heading("Spectral clustering")
        page.figure("Spectral clusters (nearest-neighbours affinity)",
                    lambda: scatter_figure(P, res.labels["spectral"], "Spectral clustering"))

    # Anomalies -------------------------------------------------------------------
    if res.anomalies is not None:
        det = res.anomaly_detector
        page.heading("Anomalies")
        page.para(f"{int(res.anomalies.sum())} rows below the density threshold "
                  f"{det.threshold_:.4g} (contamination {det.contamination:.0%}).")
        if two_d:
            page.figure("Anomalies (red stars) on the Gaussian-mixture density",
                        lambda: plotting.plot_anomalies(res.models["gmm"], X, det))
        else:
            page.figure("Anomalies (red stars)",
                        lambda: scatter_figure(P, None, "Anomalies", highlight=res.anomalies))
        worst = np.argsort(res.anomaly_scores)[:15]
        page.add(table_html(["row", "log-density"] + ds.columns[:6],
                            [[int(i), fmt(float(res.anomaly_scores[i]))]
                             + [fmt(float(v)) for v in ds.X[i, :6]] for i in worst]))
    return page


def _codes(y):
    if y is None:
        return None
    _, codes = np.unique(np.asarray(y).astype(str), return_inverse=True)
    return codes
