"""``clusterlab demo``: the seed notebook replayed with clusterlab.

"The seed" is the tutorial notebook on unsupervised learning that clusterlab
grew from. Every section of it, its figures drawn by :mod:`clusterlab.plotting`,
and beside each number the notebook printed the value clusterlab computes, in
one self-contained HTML page.
MNIST (``fetch_openml``) needs the internet; the demo uses an MNIST-shaped
float32 memmap instead and says so on the page.
"""

import os
import tempfile
import time

import numpy as np

from clusterlab.report.html import Page, esc


class _Checks:
    """Rows of the "seed / clusterlab" tables."""

    def __init__(self):
        self.rows = []

    def add(self, what, seed, ours, ok):
        self.rows.append((what, seed, ours, bool(ok)))
        return ok

    def flush(self, page):
        if not self.rows:
            return
        page.add("<table class='checks'><tr><th>what</th><th>seed</th><th>clusterlab</th>"
                 "<th></th></tr>" + "".join(
                     f"<tr><td>{esc(w)}</td><td>{esc(s)}</td><td>{esc(o)}</td>"
                     f"<td>{'✔' if ok else '✘'}</td></tr>" for w, s, o, ok in self.rows)
                 + "</table>")
        self.all = getattr(self, "all", []) + self.rows
        self.rows = []


def _same_partition(a, b):
    from sklearn.metrics import adjusted_rand_score

    return adjusted_rand_score(a, b) == 1.0


def _match_components(means, ref_means):
    """Order of our components that best matches the reference means."""
    from itertools import permutations

    best, best_cost = None, np.inf
    for perm in permutations(range(len(means))):
        cost = np.abs(means[list(perm)] - ref_means).sum()
        if cost < best_cost:
            best, best_cost = list(perm), cost
    return best


def _iris_figure(X, y, y_pred):
    from clusterlab.plotting._common import new_figure

    fig = new_figure(figsize=(9, 3.5))
    ax1, ax2 = fig.add_subplot(121), fig.add_subplot(122)
    for ax, labels, names in ((ax1, y, ["Iris setosa", "Iris versicolor", "Iris virginica"]),
                              (ax2, y_pred, ["Cluster 1", "Cluster 2", "Cluster 3"])):
        for cls, style in zip(range(3), ("yo", "bs", "g^")):
            ax.plot(X[labels == cls, 2], X[labels == cls, 3], style, label=names[cls])
        ax.set_xlabel("Petal length")
        ax.grid(True)
        ax.legend(loc="upper left")
    ax1.set_ylabel("Petal width")
    ax1.set_title("Classes")
    ax2.set_title("Gaussian mixture clusters")
    return fig


def _digits_figure(images, labels):
    from clusterlab.plotting._common import new_figure

    fig = new_figure(figsize=(8, 2))
    for i, (img, lab) in enumerate(zip(images, labels)):
        ax = fig.add_subplot(len(images) // 10 + (len(images) % 10 > 0), 10, i + 1)
        ax.imshow(img.reshape(8, 8), cmap="binary", interpolation="bilinear")
        ax.set_title(str(lab), fontsize=8)
        ax.axis("off")
    return fig


def _minibatch_figure(X, max_k=15):
    from clusterlab import KMeans, MiniBatchKMeans
    from clusterlab.plotting._common import new_figure

    ks = np.arange(1, max_k + 1)
    times = np.empty((max_k, 2))
    inertias = np.empty((max_k, 2))
    for i, k in enumerate(ks):
        km = KMeans(n_clusters=k, algorithm="lloyd", n_init=10, random_state=42)
        mb = MiniBatchKMeans(n_clusters=k, n_init=10, random_state=42)
        for j, model in enumerate((km, mb)):
            t0 = time.perf_counter()
            model.fit(X)
            times[i, j] = time.perf_counter() - t0
            inertias[i, j] = model.inertia_
    fig = new_figure(figsize=(10, 4))
    ax1, ax2 = fig.add_subplot(121), fig.add_subplot(122)
    ax1.plot(ks, inertias[:, 0], "r--", label="K-Means")
    ax1.plot(ks, inertias[:, 1], "b.-", label="Mini-batch K-Means")
    ax1.set_xlabel("$k$")
    ax1.set_title("Inertia")
    ax1.legend()
    ax1.grid(True)
    ax2.plot(ks, times[:, 0], "r--", label="K-Means")
    ax2.plot(ks, times[:, 1], "b.-", label="Mini-batch K-Means")
    ax2.set_xlabel("$k$")
    ax2.set_title("Training time (seconds)")
    ax2.grid(True)
    return fig


def run_demo(out_dir, progress=None, mnist_rows=20000, figures=True):
    """Replay the seed and write ``out_dir/demo.html``; returns its path.

    With ``figures=False`` the page holds the checks and a note where each
    figure would be: the seed's numbers are all computed, in about a third of
    the time (drawing the figures is most of the demo's work).
    """
    from clusterlab import (DBSCAN, AgglomerativeClustering, BayesianGaussianMixture,
                            GaussianMixture, KMeans, MiniBatchKMeans, SpectralClustering,
                            datasets, plotting, semi_supervised)
    from clusterlab.anomaly import DensityAnomalyDetector
    from clusterlab.metrics import silhouette_score
    from clusterlab.selection import sweep

    sections = 10
    step = [0]

    def tick(name):
        step[0] += 1
        if progress is not None:
            progress("demo", step[0], sections)

    page = Page("clusterlab demo — the seed notebook replayed", defer=not figures)
    checks = _Checks()
    page.heading("The seed notebook, replayed with clusterlab", 1)
    page.para("The seed is the tutorial notebook on unsupervised learning that clusterlab grew "
              "from (clustering with K-Means, DBSCAN, spectral and agglomerative methods, "
              "Gaussian mixtures, anomaly detection and semi-supervised labelling). Each section "
              "below runs the notebook's own calls with `from clusterlab import ...`. Tables put "
              "the numbers the notebook printed, written in the \"seed\" column, beside the "
              "numbers clusterlab computes; a tick marks agreement within the stated tolerance.",
              "muted")

    # 1 Clustering: iris -------------------------------------------------------------
    page.heading("1 Clustering — classification vs clustering (iris)")
    X, y = datasets.load_iris()
    y_pred = GaussianMixture(n_components=3, random_state=42).fit(X).predict(X)
    mapping = {}
    for class_id in np.unique(y):
        values, counts = np.unique(y_pred[y == class_id], return_counts=True)
        mapping[values[np.argmax(counts)]] = class_id
    y_mapped = np.array([mapping.get(c, -1) for c in y_pred])
    acc = float((y_mapped == y).mean())
    page.figure("Iris: classes and Gaussian-mixture clusters (petal length/width)",
                lambda: _iris_figure(X, y, y_mapped))
    checks.add("GaussianMixture(3) on iris, accuracy after mapping", "0.9667", f"{acc:.4f}",
               abs(acc - 0.9667) < 5e-4)
    checks.flush(page)
    tick("iris")

    # 1.1 K-Means --------------------------------------------------------------------
    page.heading("1.1 K-Means on the five blobs")
    X = datasets.load_five_blobs()
    kmeans = KMeans(n_clusters=5, n_init=10, random_state=42)
    y_pred = kmeans.fit_predict(X)
    page.figure("The five blobs", lambda: plotting.plot_data(X))
    page.figure("Decision boundaries (Voronoi diagram)",
                lambda: plotting.plot_decision_boundaries(kmeans, X))
    X_new = np.array([[0, 2], [3, 2], [-3, 3], [-3, 2.5]])
    p = kmeans.predict(X_new)
    checks.add("predict([[0,2],[3,2],[-3,3],[-3,2.5]])", "[4 4 3 3]: two pairs", str(p),
               p[0] == p[1] and p[2] == p[3] and p[0] != p[2])
    d = kmeans.transform(X)
    inertia_t = float((d[np.arange(len(d)), kmeans.labels_] ** 2).sum())
    checks.add("inertia from transform(X)", "= inertia_", f"{inertia_t:.10g}",
               abs(inertia_t - kmeans.inertia_) < 1e-6 * kmeans.inertia_)
    page.figure("The K-Means algorithm, step by step",
                lambda: plotting.plot_kmeans_iterations(X, 5, n_steps=3, random_state=5))
    r1 = KMeans(n_clusters=5, init="random", n_init=1, random_state=2)
    r2 = KMeans(n_clusters=5, init="random", n_init=1, random_state=9)
    page.figure("K-Means variability: two random initialisations",
                lambda: plotting.plot_clusterer_comparison(
                    r1, r2, X, titles=("Solution 1", "Solution 2 (with a different random init)")))
    good_init = np.array([[-3, 3], [-3, 2], [-3, 1], [-1, 2], [0, 2]])
    kmeans = KMeans(n_clusters=5, init=good_init, n_init=1, random_state=42).fit(X)
    checks.add("inertia_ with good_init", "211.59853725816836", f"{kmeans.inertia_:.14g}",
               abs(kmeans.inertia_ - 211.59853725816836) < 1e-6)
    checks.add("score(X)", "-211.59853725816836", f"{kmeans.score(X):.14g}",
               abs(kmeans.score(X) + kmeans.inertia_) < 1e-9)
    k10 = KMeans(n_clusters=5, init="random", n_init=10, random_state=2).fit(X)
    checks.add("init='random', n_init=10: inertia_", "211.59853725816836",
               f"{k10.inertia_:.14g}", abs(k10.inertia_ - 211.5985372581) < 1e-3)
    checks.flush(page)
    tick("kmeans")

    # 1.1.10 Mini-batch -----------------------------------------------------------------
    page.heading("1.1.10 Mini-Batch K-Means (and a memmap)")
    mbk = MiniBatchKMeans(n_clusters=5, n_init=3, random_state=42).fit(X)
    checks.add("MiniBatchKMeans(5, n_init=3).inertia_", "211.6589937457431 (within 1% of 211.6)",
               f"{mbk.inertia_:.10g}", abs(mbk.inertia_ - 211.6) / 211.6 < 0.01)
    with tempfile.TemporaryDirectory() as tmp:
        X_mnist = datasets.make_mnist_like(n_samples=mnist_rows, random_state=42)
        X_mm = datasets.to_memmap(X_mnist, os.path.join(tmp, "my_mnist.mmap"))
        del X_mnist
        t0 = time.perf_counter()
        mb = MiniBatchKMeans(n_clusters=10, batch_size=10, n_init=3, random_state=42).fit(X_mm)
        secs = time.perf_counter() - t0
        page.para(f"MNIST is not downloadable here: an MNIST-shaped {mnist_rows}×784 float32 "
                  f"array was written to a read-only np.memmap and "
                  f"MiniBatchKMeans(n_clusters=10, batch_size=10, n_init=3) fitted it in "
                  f"{secs:.2f} s (inertia {mb.inertia_:.4g}).", "note")
        del X_mm
    page.figure("Inertia and training time: K-Means vs Mini-batch K-Means (k = 1..15)",
                lambda: _minibatch_figure(X))
    checks.flush(page)
    tick("minibatch")

    # 1.1.11 Choosing k -----------------------------------------------------------------
    page.heading("1.1.11 Finding the optimal number of clusters")
    k3 = KMeans(n_clusters=3, n_init=10, random_state=42)
    k8 = KMeans(n_clusters=8, n_init=10, random_state=42)
    page.figure("k=3 and k=8", lambda: plotting.plot_clusterer_comparison(
        k3, k8, X, titles=("$k=3$", "$k=8$")))
    if not hasattr(k3, "inertia_"):
        k3.fit(X)
        k8.fit(X)
    checks.add("inertia, k=3", "653.2167190021553", f"{k3.inertia_:.13g}",
               abs(k3.inertia_ - 653.2167190021553) < 1e-6)
    checks.add("inertia, k=8", "119.22484592677125 (≤ 119.23)", f"{k8.inertia_:.13g}",
               k8.inertia_ <= 119.23)
    sw = sweep(KMeans(n_init=10, random_state=42), X, range(1, 10))
    page.figure("Inertia against k", lambda: plotting.plot_inertia_curve(sw))
    checks.add("elbow of the inertia curve", "k=4 by eye; Kneedle: 3", f"Kneedle: {sw.elbow}",
               sw.elbow == 3)
    sil = float(silhouette_score(X, kmeans.labels_))
    checks.add("silhouette_score, k=5", "0.655517642572828", f"{sil:.15g}",
               abs(sil - 0.655517642572828) < 1e-6)
    page.figure("Silhouette score against k", lambda: plotting.plot_silhouette_curve(sw))
    table = dict(zip(sw.k_values.tolist(), np.asarray(sw.table["silhouette"]).tolist()))
    order = sorted((k for k in table if k >= 2), key=lambda k: -table[k])
    checks.add("best silhouette k, then second", "4 (≈0.688), then 5 (≈0.655)",
               f"{order[0]} ({table[order[0]]:.3f}), then {order[1]} ({table[order[1]]:.3f})",
               order[:2] == [4, 5])
    labs = [sw.models[k - 1].labels_ for k in (3, 4, 5, 6)]
    page.figure("Silhouette diagrams, k = 3..6",
                lambda: plotting.plot_silhouette_diagram(X, labs))
    checks.flush(page)
    tick("choosing k")

    # Limits of K-Means ----------------------------------------------------------------
    page.heading("Limits of K-Means: elongated blobs")
    Xe, ye = datasets.load_elongated_blobs(return_y=True)
    kmeans_good = KMeans(n_clusters=3, init=np.array([[-1.5, 2.5], [0.5, 0], [4, 0]]),
                         n_init=1, random_state=42)
    kmeans_bad = KMeans(n_clusters=3, n_init=10, random_state=42)
    kmeans_good.fit(Xe)
    kmeans_bad.fit(Xe)
    page.figure("K-Means on elongated blobs: good and bad solutions",
                lambda: plotting.plot_clusterer_comparison(
                    kmeans_good, kmeans_bad, Xe,
                    titles=(f"Inertia = {kmeans_good.inertia_:.1f}",
                            f"Inertia = {kmeans_bad.inertia_:.1f}")))
    page.para("The solution with the lower inertia is not the right one: K-Means assumes "
              "round clusters of similar sizes.", "muted")
    tick("limits")

    # 1.2 Semi-supervised ------------------------------------------------------------------
    page.heading("1.2 Clustering for semi-supervised learning (digits)")
    from sklearn.linear_model import LogisticRegression

    X_digits, y_digits = datasets.load_digits()
    X_train, y_train = X_digits[:1400], y_digits[:1400]
    X_test, y_test = X_digits[1400:], y_digits[1400:]
    lr = LogisticRegression(max_iter=10_000).fit(X_train[:50], y_train[:50])
    acc50 = lr.score(X_test, y_test)
    idx, km_digits = semi_supervised.representative_indices(X_train, 50, random_state=42)
    y_rep = y_train[idx]
    acc_rep = LogisticRegression(max_iter=10_000).fit(X_train[idx], y_rep).score(X_test, y_test)
    y_prop, _ = semi_supervised.propagate_labels(km_digits, y_rep)
    acc_prop = LogisticRegression(max_iter=10_000).fit(X_train, y_prop).score(X_test, y_test)
    y_part, mask = semi_supervised.propagate_labels(km_digits, y_rep, X=X_train, percentile=99)
    acc_part = LogisticRegression(max_iter=10_000).fit(X_train[mask], y_part[mask]).score(
        X_test, y_test)
    correct = float((y_part[mask] == y_train[mask]).mean())
    page.figure("The 50 representative digits (with their true labels)",
                lambda: _digits_figure(X_train[idx], y_rep))
    checks.add("50 first images", "0.7582", f"{acc50:.4f}", abs(acc50 - 0.7582) < 1e-3)
    checks.add("50 representative images", "0.839 (≥ 0.80)", f"{acc_rep:.4f}", acc_rep >= 0.80)
    checks.add("labels propagated to clusters", "0.859 (≥ representatives)", f"{acc_prop:.4f}",
               acc_prop >= acc_rep - 1e-9)
    checks.add("farthest 1% dropped", "0.856", f"{acc_part:.4f}", acc_part >= 0.80)
    checks.add("partially propagated labels correct", "95.5% (≥ 95%)", f"{correct:.1%}",
               correct >= 0.95)
    checks.flush(page)
    tick("semi-supervised")

    # 1.3 DBSCAN ---------------------------------------------------------------------------
    page.heading("1.3 DBSCAN (moons)")
    Xm = datasets.load_moons()
    db1 = DBSCAN(eps=0.05, min_samples=5).fit(Xm)
    db2 = DBSCAN(eps=0.2).fit(Xm)

    def dbscan_pair():
        from clusterlab.plotting._common import new_figure

        fig = new_figure(figsize=(9, 3.2))
        plotting.plot_dbscan(db1, Xm, size=100, ax=fig.add_subplot(121))
        plotting.plot_dbscan(db2, Xm, size=600, ax=fig.add_subplot(122), show_ylabels=False)
        return fig

    page.figure("DBSCAN with eps=0.05 and eps=0.2", dbscan_pair)
    n1 = len(set(db1.labels_) - {-1})
    n2 = len(set(db2.labels_) - {-1})
    checks.add("eps=0.05: clusters (+ noise)", "about 7, with noise", f"{n1}, noise "
               f"{int((db1.labels_ == -1).sum())}", 4 <= n1 <= 10 and (db1.labels_ == -1).any())
    checks.add("eps=0.2: clusters, noise", "2, none", f"{n2}, {int((db2.labels_ == -1).sum())}",
               n2 == 2 and not (db2.labels_ == -1).any())
    X_new = np.array([[-0.5, 0], [0, 0.5], [1, -0.1], [2, 1]])
    pr = db2.predict(X_new)
    checks.add("predict of the seed's four points", "-1, A, B, -1", str(pr.tolist()),
               pr[0] == -1 and pr[3] == -1 and pr[1] >= 0 and pr[2] >= 0 and pr[1] != pr[2])
    checks.flush(page)
    tick("dbscan")

    # 1.4 Spectral and agglomerative ------------------------------------------------------------
    page.heading("1.4 Other clustering algorithms")
    sc1 = SpectralClustering(n_clusters=2, gamma=100, random_state=42).fit(Xm)
    sc2 = SpectralClustering(n_clusters=2, gamma=1, random_state=42).fit(Xm)

    def spectral_pair():
        from clusterlab.plotting._common import new_figure

        fig = new_figure(figsize=(9, 3.2))
        plotting.plot_spectral_clustering(sc1, Xm, size=500, alpha=0.1, ax=fig.add_subplot(121))
        plotting.plot_spectral_clustering(sc2, Xm, size=4000, alpha=0.01,
                                          ax=fig.add_subplot(122), show_ylabels=False)
        return fig

    page.figure("Spectral clustering, RBF gamma=100 and gamma=1", spectral_pair)
    agg = AgglomerativeClustering(linkage="complete").fit(np.array([0, 2, 5, 8.5]).reshape(-1, 1))
    checks.add("AgglomerativeClustering(linkage='complete').children_", "[[0, 1], [2, 3], [4, 5]]",
               str(agg.children_.tolist()), agg.children_.tolist() == [[0, 1], [2, 3], [4, 5]])
    learned = [a for a in dir(agg) if a.endswith("_") and not a.startswith("_")]
    checks.add("learned attributes", "children_, labels_, n_clusters_, n_connected_components_, "
               "n_features_in_, n_leaves_", ", ".join(learned),
               learned == ["children_", "labels_", "n_clusters_", "n_connected_components_",
                           "n_features_in_", "n_leaves_"])
    agg_full = AgglomerativeClustering(n_clusters=2, linkage="single",
                                       compute_distances=True).fit(Xm)
    page.figure("Dendrogram of the moons (single linkage, top levels)",
                lambda: plotting.plot_dendrogram(agg_full, truncate_mode="level", p=5))
    checks.flush(page)
    tick("spectral/agglomerative")

    # 2 Gaussian mixtures -----------------------------------------------------------------
    page.heading("2 Gaussian mixtures (elongated blobs)")
    gm = GaussianMixture(n_components=3, n_init=10, random_state=42).fit(Xe)
    ref_w = np.array([0.40005972, 0.20961444, 0.39032584])
    ref_m = np.array([[-1.40764129, 1.42712848], [3.39947665, 1.05931088],
                      [0.05145113, 0.07534576]])
    perm = _match_components(gm.means_, ref_m)
    checks.add("weights_", str(ref_w.tolist()), str(np.round(gm.weights_[perm], 8).tolist()),
               np.allclose(gm.weights_[perm], ref_w, atol=1e-6))
    checks.add("means_", "(-1.408, 1.427), (3.399, 1.059), (0.051, 0.075)",
               str(np.round(gm.means_[perm], 4).tolist()),
               np.allclose(gm.means_[perm], ref_m, atol=1e-6))
    checks.add("converged_", "True", str(gm.converged_), gm.converged_)
    checks.add("bic(X)", "8189.733705221636", f"{gm.bic(Xe):.12g}",
               abs(gm.bic(Xe) - 8189.733705221636) < 1e-4)
    checks.add("aic(X)", "8102.508425106598", f"{gm.aic(Xe):.12g}",
               abs(gm.aic(Xe) - 8102.508425106598) < 1e-4)
    grid = np.arange(-10, 10, 0.01)
    xx, yy = np.meshgrid(grid, grid)
    pdf_sum = float((np.exp(gm.score_samples(np.c_[xx.ravel(), yy.ravel()])) * 1e-4).sum())
    checks.add("density summed over a 0.01 grid", "0.999999999225", f"{pdf_sum:.12f}",
               abs(pdf_sum - 1) < 1e-6)
    _, y_new = gm.sample(6)
    checks.add("sample(6) labels", "grouped, e.g. [0 0 1 1 1 2]", str(y_new.tolist()),
               bool(np.all(np.diff(y_new) >= 0)))
    page.figure("Gaussian mixture: density contours and decision boundaries",
                lambda: plotting.plot_gaussian_mixture(gm, Xe))
    page.figure("Covariance types: tied vs spherical, full vs diag",
                lambda: plotting.plot_covariance_types(Xe, ("tied", "spherical", "full", "diag")))
    det = DensityAnomalyDetector(estimator=gm, contamination=0.02).fit(Xe)
    n_anom = int((det.predict(Xe) == -1).sum())
    checks.add("anomalies at the 2nd percentile", "25", str(n_anom), n_anom == 25)
    page.figure("Anomalies (red stars)", lambda: plotting.plot_anomalies(gm, Xe, det))
    gsw = sweep(GaussianMixture(n_init=10, random_state=42), Xe, range(1, 11),
                criteria=("bic", "aic"))
    checks.add("BIC / AIC minimum", "k=3 / k=3", f"k={gsw.best('bic')} / k={gsw.best('aic')}",
               gsw.best("bic") == 3 and gsw.best("aic") == 3)
    page.figure("BIC and AIC against k", lambda: plotting.plot_information_criteria(gsw))
    checks.flush(page)
    tick("gmm")

    page.heading("2.0.3 Bayesian Gaussian mixtures")
    bgm = BayesianGaussianMixture(n_components=10, n_init=10, random_state=42).fit(Xe)
    big = int((bgm.weights_ > 0.01).sum())
    checks.add("weights on the elongated blobs", "three clearly > 0, rest ≈ 0",
               str(np.round(bgm.weights_, 2).tolist()), big == 3)
    bgm_m = BayesianGaussianMixture(n_components=10, n_init=10, random_state=42).fit(Xm)
    big_m = int((bgm_m.weights_ > 0.01).sum())
    checks.add("components used on the moons", "about 8, not 2", str(big_m), big_m >= 4)

    def bgm_pair():
        from clusterlab.plotting._common import new_figure

        fig = new_figure(figsize=(9, 3.2))
        ax = fig.add_subplot(121)
        plotting.plot_data(Xm, ax=ax)
        ax.grid(True)
        plotting.plot_gaussian_mixture(bgm_m, Xm, ax=fig.add_subplot(122), show_ylabels=False)
        return fig

    page.figure("Bayesian Gaussian mixture on the moons", bgm_pair)
    checks.flush(page)
    tick("bayesian")

    n_ok = sum(ok for *_, ok in getattr(checks, "all", []))
    n_all = len(getattr(checks, "all", []))
    page.parts.insert(2, f"<p class='rec' id='summary'>{n_ok} of {n_all} of the seed's trusted "
                         f"figures reproduced by clusterlab.</p>")
    if not figures:  # every figure was only recorded: a note in its place
        page.fill({index: (f'<p class="note">Figure not drawn (--no-figures): {esc(caption)}.</p>',
                           None) for index, caption, *_ in page.deferred})
        page.deferred = None
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "demo.html")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(page.render())
    run_demo.last_checks = getattr(checks, "all", [])
    run_demo.last_failures = page.failures
    return path


__all__ = ["run_demo"]
