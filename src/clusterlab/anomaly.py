"""Anomaly detection by a density threshold.

A density model (by default a :class:`~clusterlab.GaussianMixture`) scores
every sample with ``score_samples`` (its log-density); the samples whose
log-density falls below the ``contamination`` quantile of the training
scores are anomalies -- the seed's ``np.percentile(densities, 2)`` recipe,
with scikit-learn's outlier-detector API around it.
"""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin, _fit_context, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from clusterlab._dask import warn_if_dask

__all__ = ["DensityAnomalyDetector"]


class DensityAnomalyDetector(OutlierMixin, BaseEstimator):
    """Flag the samples that lie where a density model puts little mass.

    Parameters
    ----------
    estimator : object with ``score_samples``, default=None
        The density model: unfitted (a clone is fitted on the data given to
        :meth:`fit`) or already fitted (used as is; :meth:`fit` then only
        sets the threshold). ``None`` means ``GaussianMixture()``.
    contamination : float in (0, 0.5], default=0.02
        Expected proportion of anomalies: the threshold is this quantile of
        the training samples' log-densities.

    Attributes
    ----------
    estimator_ : object
        The fitted density model.
    threshold_ : float
        Log-density threshold; samples strictly below it are anomalies.
    offset_ : float
        Same as ``threshold_`` (scikit-learn's name:
        ``decision_function = score_samples - offset_``).
    n_features_in_ : int

    Notes
    -----
    Fitting costs one fit of the density model plus one ``score_samples``
    pass and an O(n) quantile; prediction costs one ``score_samples`` pass.

    Examples
    --------
    >>> import numpy as np
    >>> from clusterlab.anomaly import DensityAnomalyDetector
    >>> rng = np.random.RandomState(0)
    >>> X = np.r_[rng.normal(size=(98, 2)), [[8.0, 8.0], [-9.0, 7.0]]]
    >>> detector = DensityAnomalyDetector(contamination=0.02).fit(X)
    >>> np.flatnonzero(detector.predict(X) == -1)
    array([98, 99])
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "score_samples"]), HasMethods(["score_samples"]),
                      None],
        "contamination": [Interval(Real, 0.0, 0.5, closed="right")],
    }

    def __init__(self, estimator=None, contamination=0.02):
        self.estimator = estimator
        self.contamination = contamination

    def _fitted_or_none(self):
        if self.estimator is None:
            return None
        if not hasattr(self.estimator, "fit"):
            # a density without fit (only score_samples): nothing to fit, used as is
            return self.estimator
        try:
            check_is_fitted(self.estimator)
        except (NotFittedError, TypeError):
            return None
        return self.estimator

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit the density model (unless already fitted) and set the threshold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : Ignored

        Returns
        -------
        self : object
        """
        warn_if_dask(X, type(self).__name__)
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        fitted = self._fitted_or_none()
        if fitted is not None:
            self.estimator_ = fitted
        else:
            if self.estimator is None:
                from .mixture.gaussian import GaussianMixture

                model = GaussianMixture()
            else:
                model = clone(self.estimator)
            if not hasattr(model, "fit"):
                raise ValueError(
                    "estimator has no fit method and is not fitted; pass a fitted "
                    "density model or one that can be fitted."
                )
            self.estimator_ = model.fit(X)
        scores = np.asarray(self.estimator_.score_samples(X), dtype=np.float64)
        if not np.all(np.isfinite(scores)):
            raise ValueError(
                "The density model returned non-finite log-densities on the training "
                "data; check the model (e.g. increase reg_covar) or the data."
            )
        self.threshold_ = float(np.percentile(scores, 100.0 * self.contamination))
        self.offset_ = self.threshold_
        return self

    def score_samples(self, X):
        """Log-density of each sample under the fitted model (lower = more abnormal).

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return np.asarray(self.estimator_.score_samples(X))

    def decision_function(self, X):
        """``score_samples(X) - threshold_``: negative for anomalies.

        Returns
        -------
        decision : ndarray of shape (n_samples,)
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """-1 for anomalies (log-density below ``threshold_``), 1 for normal samples.

        Returns
        -------
        labels : ndarray of shape (n_samples,), int
        """
        decision = self.decision_function(X)
        labels = np.ones(decision.shape[0], dtype=int)
        labels[decision < 0] = -1
        return labels
