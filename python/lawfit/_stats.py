"""Statistics and option checks shared by every fit path (curves, data points, batches, solver).

The one place for: the table of robust losses, the convergence warning, bounds and fixed
parameters, the covariance (scipy ``curve_fit`` conventions) and the fit metrics.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lawfit._validate import LawfitInputError

if TYPE_CHECKING:
    from lawfit.laws.base import Law

ROBUST_LOSSES = ("linear", "huber", "soft_l1", "cauchy")


class ConvergenceWarning(UserWarning):
    """A fit stopped without meeting its tolerances, or a parameter is not identifiable."""


class BoundWarning(ConvergenceWarning):
    """A fitted parameter ended on one of its bounds (the data push it out of the allowed range)."""


#: A parameter within this relative distance (of max(1, |bound|)) of a finite bound is "on" it.
BOUND_RTOL = 1e-9


def bound_hits(
    names: Sequence[str], vec: np.ndarray, lower: np.ndarray, upper: np.ndarray, fixed: Sequence[bool],
    held: np.ndarray | None = None,
) -> dict[str, str]:
    """Free parameters that ended on a finite bound: ``{name: "lower" | "upper"}``.

    Parameters
    ----------
    names : sequence of str, length p
        Parameter names, in the order of ``vec``.
    vec, lower, upper : ndarray, shape (p,)
        The solution and its bounds (solver coordinates of the same parametrisation).
    fixed : sequence of bool, length p
        Parameters held fixed (never reported).
    held : ndarray of bool, shape (p,), optional
        Parameters the gradient holds at a bound (reported even a hair inside it).
    """
    hits: dict[str, str] = {}
    for j, k in enumerate(names):
        if fixed[j]:
            continue
        for side, b in (("lower", lower[j]), ("upper", upper[j])):
            if math.isfinite(b) and abs(vec[j] - b) <= BOUND_RTOL * max(1.0, abs(b)):
                hits[k] = side
                break
        if k not in hits and held is not None and held[j]:
            hits[k] = "lower" if vec[j] <= lower[j] else "upper"
    return hits


def warn_bound_hits(hits: Mapping[str, str], values: Mapping[str, float], stacklevel: int = 3) -> None:
    """Issue one :class:`BoundWarning` naming every parameter of ``hits`` and its value."""
    if not hits:
        return
    listed = ", ".join(f"{k} = {values[k]:.6g} ({side} bound)" for k, side in hits.items())
    warnings.warn(
        f"fitted parameters ended on a bound: {listed}. The data push them out of the allowed range, "
        "so the fit may be degenerate (parameters trading off along a valley) and predictions outside "
        "the data unreliable; widen or fix the bound, or add data that constrains them.",
        BoundWarning,
        stacklevel=stacklevel + 1,
    )


def _json_float(v: float) -> float | str:
    v = float(v)
    if math.isfinite(v):
        return v
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def _bounds_and_fixed(
    law: Law,
    bounds: Mapping[str, tuple[float, float]] | None,
    fix: Mapping[str, float] | None,
    curves: Sequence[Any] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    names = law.param_names
    b = law.bounds() if curves is None else law.data_bounds(curves)
    for k, v in (bounds or {}).items():
        if k not in names:
            raise LawfitInputError(f"bounds names unknown parameter {k!r}; parameters are {list(names)}")
        lo, hi = (float(x) for x in v)
        if math.isnan(lo) or math.isnan(hi) or lo > hi:
            raise LawfitInputError(f"bounds of {k} are invalid: ({lo}, {hi})")
        b[k] = (lo, hi)
    fixed = {}
    for k, v in (fix or {}).items():
        if k not in names:
            raise LawfitInputError(f"fix names unknown parameter {k!r}; parameters are {list(names)}")
        if not math.isfinite(float(v)):
            raise LawfitInputError(f"fix[{k!r}] must be finite, got {v!r}")
        fixed[k] = float(v)
    lower = np.array([b[k][0] for k in names], dtype=float)
    upper = np.array([b[k][1] for k in names], dtype=float)
    return lower, upper, fixed


def covariance(
    hessian: np.ndarray, cost: float, n: int, free: np.ndarray, *, absolute_sigma: bool = False,
    s2: float | None = None,
) -> tuple[np.ndarray, bool]:
    """Covariance from the Gauss–Newton matrix H at the optimum (scipy ``curve_fit`` conventions).

    cov = H⁻¹·s² over the free parameters with s² = 2·cost/(n − p_free) (the reduced chi-square
    for a linear loss), or s² = 1 with ``absolute_sigma``, or the given ``s2`` (a MAP fit passes
    the residual scale its prior was weighted with: H then includes the prior). Returns
    (cov, identifiable); entries of an unidentifiable problem are ``inf``.
    """
    p = hessian.shape[0]
    cov = np.full((p, p), np.nan)
    k = int(free.sum())
    if k == 0:
        return cov, True
    h = hessian[np.ix_(free, free)]
    dof = n - k
    if s2 is None:
        s2 = 1.0 if absolute_sigma else (2.0 * cost / dof if dof > 0 else np.inf)
    # Judge identifiability on the scale-free (correlation) form of H.
    d = np.sqrt(np.abs(np.diag(h)))
    ok = bool(np.all(np.isfinite(h)) and np.all(d > 0))
    eig = np.linalg.eigvalsh(h / np.outer(d, d)) if ok else np.array([0.0])
    identifiable = bool(ok and eig.min() > 1e-12 * max(eig.max(), 1e-300))
    sub = np.full((k, k), np.inf)
    if identifiable:
        sub = np.linalg.inv(h) * s2
    cov[np.ix_(free, free)] = sub
    return cov, identifiable


def metrics_of(pred: np.ndarray, y: np.ndarray, cost: float, k: int) -> dict[str, float]:
    """R², RMSE, MAE (in loss units), AIC and BIC (Gaussian, on the linear residuals)."""
    resid = pred - y
    centred = y - y.mean()
    return metrics_from_sums(
        float(np.dot(resid, resid)),
        float(np.abs(resid).sum()),
        float(np.dot(centred, centred)),
        y.size,
        cost,
        k,
    )


def metrics_from_sums(
    ss_res: float, sum_abs: float, ss_tot: float, n: int, cost: float, k: int
) -> dict[str, float]:
    """:func:`metrics_of` from Σe², Σ|e| and Σ(y − ȳ)² of the linear residuals e = ŷ − y."""
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")
    ll_term = n * math.log(ss_res / n) if ss_res > 0 else -math.inf
    return {
        "cost": float(cost),
        "r2": r2,
        "rmse": math.sqrt(ss_res / n),
        "mae": sum_abs / n,
        "aic": ll_term + 2 * k,
        "bic": ll_term + k * math.log(n),
        "n_points": float(n),
        "n_params": float(k),
    }


def accuracy(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """R², MAE, RMSE, PredE (mean relative error) and WorstE (max relative error)."""
    resid = pred - true
    rel = np.abs(resid) / np.abs(true)
    ss_tot = float(np.sum((true - true.mean()) ** 2))
    return {
        "r2": 1.0 - float(np.sum(resid**2)) / ss_tot if ss_tot > 0 else float("nan"),
        "mae": float(np.mean(np.abs(resid))),
        "rmse": float(np.sqrt(np.mean(resid**2))),
        "pred_e": float(rel.mean()),
        "worst_e": float(rel.max()),
    }
