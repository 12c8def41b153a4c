"""Parameter-uncertainty bands of a fit: Gaussian draws of its parameters, pushed through the law.

Below the forecast layer (``lawfit.forecast`` calibrates these for real runs) and above nothing
but the fit result, so :meth:`lawfit.FitResult.to_frame` can use it without an import circle.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from lawfit._stats import ConvergenceWarning
from lawfit._validate import LawfitInputError

if TYPE_CHECKING:
    from lawfit.fitting import FitResult
    from lawfit.schedules import Schedule


class IdentifiabilityWarning(ConvergenceWarning):
    """The data seen so far cannot determine a parameter (e.g. no annealing yet, so C is free)."""


def predict_band(
    result: FitResult,
    schedule: Schedule | np.ndarray,
    steps: Any = None,
    *,
    level: float = 0.9,
    n_draws: int = 300,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prediction with a parameter-uncertainty band.

    Draws parameters from the fit's Gaussian approximation N(θ̂, cov) (clipped to the law's bounds;
    fixed parameters stay at their value) and returns the pointwise quantiles. This is the
    *parameter* uncertainty only: it ignores the law's own error and the autocorrelation of
    per-step residuals, so it is far too narrow for a forecast (use :meth:`Forecast.predict`,
    whose bands are calibrated on real runs). When a parameter is not identified (infinite
    variance) the band is NaN and an :class:`IdentifiabilityWarning` says so.

    Returns
    -------
    pred, lower, upper : ndarray, shape (len(steps),)
        Central prediction and the ``level`` band, in loss units.
    """
    if not 0 < level < 1:
        raise LawfitInputError(f"level must lie in (0, 1), got {level!r}")
    pred = result.predict(schedule, steps)
    names = list(result.law.param_names)
    theta = np.array([result.params[k] for k in names])
    raw = np.asarray(result.cov, dtype=float)
    if np.isinf(raw).any():
        # An unidentified parameter: the Gaussian approximation says nothing. No band (NaN), never a
        # zero-width one (turning inf into 0 would claim certainty exactly when there is none).
        free = [k for j, k in enumerate(names) if np.isinf(raw[j, j])]
        warnings.warn(
            f"parameters {free} are not identified (infinite variance): no parameter band (NaN); "
            "fix them, pass a prior, or use lawfit.forecast's calibrated bands",
            IdentifiabilityWarning,
            stacklevel=2,
        )
        nan = np.full(np.shape(pred), np.nan)
        return pred, nan, nan.copy()
    # NaN entries are fixed (or at-bound) parameters: they do not vary.
    cov = np.nan_to_num(raw, nan=0.0)
    cov = 0.5 * (cov + cov.T)
    w, v = np.linalg.eigh(cov)
    root = v * np.sqrt(np.clip(w, 0, None))
    rng = np.random.default_rng(seed)
    bounds = result.law.bounds()
    lo = np.array([bounds[k][0] for k in names])
    hi = np.array([bounds[k][1] for k in names])
    draws = np.clip(theta + rng.standard_normal((n_draws, theta.size)) @ root.T, lo, hi)
    # The draws are predicted as the fit predicts (its warmup convention and length included).
    args = [a for a in (schedule, steps) if a is not None]
    kwargs = result._warmup_default(schedule, {})
    sims = np.array([result.law.predict(dict(zip(names, d, strict=True)), *args, **kwargs) for d in draws])
    q = (1 - level) / 2
    return pred, np.quantile(sims, q, axis=0), np.quantile(sims, 1 - q, axis=0)
