"""The recommended model of an analysis, saved to label new rows (``model.joblib``).

A :class:`SavedModel` holds the fitted estimator, the names of the columns it
was fitted on and the scaling applied to them (an affine map from the raw
columns to the matrix the models saw), and the anomaly detector when the
analysis had one. ``clusterlab predict MODEL DATA`` loads it with
:func:`load_model` and calls :meth:`SavedModel.predict` on rows read exactly as
``clusterlab analyze`` reads them.
"""

import numpy as np

#: Largest relative error accepted when checking that the analysis's affine map
#: of the raw columns reproduces the matrix its models saw.
AFFINE_TOLERANCE = 1e-5


class ModelError(ValueError):
    """The saved model cannot be used on the data given (wrong columns, bad file)."""


def _checked(maps, X_raw, X_fit):
    """``maps``, the analysis's own ``(shift, matrix)`` (kept by
    :func:`clusterlab.report.analysis._prepare` as it scales, centres and
    projects), when ``(X_raw - shift) @ matrix`` reproduces ``X_fit``; else None."""
    if maps is None:
        return None
    shift, matrix = maps
    X_raw = np.asarray(X_raw, dtype=float)
    X_fit = np.asarray(X_fit, dtype=float)
    if X_raw.shape[0] != X_fit.shape[0] or matrix.shape != (X_raw.shape[1], X_fit.shape[1]):
        return None
    with np.errstate(all="ignore"):
        approx = (X_raw - shift) @ matrix
    if not np.allclose(approx, X_fit, rtol=AFFINE_TOLERANCE,
                       atol=AFFINE_TOLERANCE * (1 + np.abs(X_fit).max(initial=0))):
        return None
    return shift, matrix


class SavedModel:
    """A fitted clustering with what it needs to label new rows.

    Attributes
    ----------
    name : str
        The candidate's name in the analysis (``"kmeans"``, ``"gmm"``, ...).
    estimator : estimator
        The fitted model.
    columns : list of str
        The columns it was fitted on, in order.
    scale : str
        The scaling the analysis chose (``"standard"`` or ``"none"``).
    shift, matrix : ndarray
        The raw columns are mapped to the model's input by
        ``(X - shift) @ matrix``.
    detector : DensityAnomalyDetector or None
        Flags anomalies (fitted on the same scaled matrix).
    transformer : object or None
        When the analysis provides its preprocessing as an object with a
        ``transform`` method (``AnalysisResult.transformer``), it is used
        instead of ``shift`` and ``matrix``.
    reference, reference_labels : ndarray or None
        For a model without ``predict`` (agglomerative, spectral): the
        analysed rows (scaled) and their labels; a new row gets the label of
        its nearest analysed row.
    """

    def __init__(self, name, estimator, columns, scale, shift, matrix, detector=None,
                 reference=None, reference_labels=None, version=None, transformer=None):
        self.name = name
        self.estimator = estimator
        self.columns = list(columns)
        self.scale = scale
        self.shift = np.asarray(shift, dtype=float)
        self.matrix = np.asarray(matrix, dtype=float)
        self.detector = detector
        self.reference = reference
        self.reference_labels = reference_labels
        self.version = version
        self.transformer = transformer

    def __repr__(self):
        return (f"SavedModel({self.name!r}, {type(self.estimator).__name__}, "
                f"{len(self.columns)} columns, scale={self.scale!r})")

    def _rows(self, X):
        """New rows as a float matrix in :attr:`columns` order: a DataFrame's
        columns are found by name (others ignored), an array's are taken in
        that order; missing or non-numeric cells are refused by column and row."""
        if hasattr(X, "columns") and hasattr(X, "iloc"):  # a pandas DataFrame
            names = [str(c) for c in X.columns]
            lacking = [c for c in self.columns if c not in names]
            if lacking:
                raise ModelError(
                    f"the new rows lack the column(s) {', '.join(map(repr, lacking))} the model "
                    f"was fitted on (they have: {', '.join(names[:20])}"
                    f"{' ...' if len(names) > 20 else ''}).")
            X = X.iloc[:, [names.index(c) for c in self.columns]]
            try:
                A = X.to_numpy(dtype=float, na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise ModelError(f"the new rows' columns {', '.join(self.columns)} must all "
                                 f"be numbers ({exc}).") from exc
        else:
            try:
                A = np.asarray(X, dtype=float)
            except (TypeError, ValueError) as exc:
                raise ModelError(f"the new rows must be numbers ({exc}).") from exc
            if A.ndim != 2 or A.shape[1] != len(self.columns):
                raise ModelError(f"expected {len(self.columns)} columns "
                                 f"({', '.join(self.columns)}), got shape {A.shape}.")
        bad = ~np.isfinite(A)
        if bad.any():
            j = int(np.flatnonzero(bad.any(axis=0))[0])
            rows = np.flatnonzero(bad[:, j]) + 1
            err = ModelError(
                f"column {self.columns[j]!r} has missing or non-finite values in "
                f"{len(rows)} row(s): {', '.join(map(str, rows[:5]))}"
                f"{' ...' if len(rows) > 5 else ''} (counted from 1); fill them or leave "
                "those rows out.")
            err.rows = np.flatnonzero(bad.any(axis=1))
            raise err
        return A

    def transform(self, X):
        """The raw columns (in :attr:`columns` order) mapped as the analysis scaled them."""
        X = self._rows(X)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.transformer is not None:
                Z = np.asarray(self.transformer.transform(X), dtype=float)
            else:
                Z = (X - self.shift) @ self.matrix
        self._check_reach(Z)
        return Z

    def _check_reach(self, Z):
        # rows so far out (or in other units) that distances to the model overflow
        from clusterlab._validation import magnitude_limit

        if Z.size == 0:
            return
        limit = magnitude_limit(Z.shape[1])
        far = ~(np.abs(Z) <= limit).all(axis=1)
        if far.any():
            rows = np.flatnonzero(far)
            err = ModelError(
                f"{len(rows)} row(s) lie so far from the analysed data (after its scaling, "
                f"values beyond {limit:.3g}) that their distances to the model overflow: "
                "check their units, or leave them out.")
            err.rows = rows
            raise err

    def predict(self, X):
        """Cluster labels of new rows (``-1``: noise, for density-based models)."""
        Z = self.transform(X)
        if hasattr(self.estimator, "predict"):
            return np.asarray(self.estimator.predict(Z))
        if self.reference is None:
            raise ModelError(f"the saved {self.name} model cannot label new rows.")
        out = np.empty(len(Z), dtype=np.int64)
        ref = self.reference
        ref_sq = (ref * ref).sum(axis=1)
        for start in range(0, len(Z), 1024):
            block = Z[start:start + 1024]
            d2 = ref_sq[None, :] - 2 * block @ ref.T
            out[start:start + 1024] = self.reference_labels[np.argmin(d2, axis=1)]
        return out

    def anomalies(self, X):
        """``(flags, log_density)``: True for rows below the analysis's density threshold."""
        if self.detector is None:
            return None, None
        Z = self.transform(X)
        return (np.asarray(self.detector.predict(Z)) == -1,
                np.asarray(self.detector.score_samples(Z)))


def saved_model_from(res):
    """A :class:`SavedModel` of the recommended model of an analysis, or None if there is none."""
    from clusterlab import __version__

    name = res.recommendation
    model = res.models.get(name) if name else None
    if model is None:
        return None
    transformer = getattr(res, "transformer", None)
    if transformer is not None and hasattr(transformer, "transform"):
        d = res.dataset.X.shape[1]
        maps = (np.zeros(d), np.eye(d))
    else:
        transformer = None
        maps = _checked(getattr(res, "affine", None), res.dataset.X, res.X_fit)
        if maps is None:
            return None
    reference = reference_labels = None
    if not hasattr(model, "predict"):
        labels = np.asarray(res.labels[name])
        known = labels != -2
        reference = np.ascontiguousarray(res.X_fit[known])
        reference_labels = labels[known]
    return SavedModel(name, model, res.dataset.columns, res.scale, maps[0], maps[1],
                      detector=res.anomaly_detector, reference=reference,
                      reference_labels=reference_labels, version=__version__,
                      transformer=transformer)


def save_model(saved, path):
    import joblib

    joblib.dump(saved, path)


def load_model(path):
    """Load a ``model.joblib`` written by ``clusterlab analyze``; :class:`ModelError` if unusable."""
    import os

    import joblib

    if not os.path.exists(path):
        raise ModelError(f"{path}: no such file (a model.joblib written by clusterlab analyze).")
    try:
        saved = joblib.load(path)
    except Exception as exc:
        raise ModelError(f"{path}: not a model saved by clusterlab analyze "
                         f"({type(exc).__name__}: {exc}).") from exc
    if not isinstance(saved, SavedModel):
        raise ModelError(f"{path}: not a model saved by clusterlab analyze "
                         f"(it holds a {type(saved).__name__}).")
    return saved
