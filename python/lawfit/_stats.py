"""Statistics and option checks shared by every fit path (curves, data points, batches, solver).

The one place for: the table of robust losses, the convergence warning, bounds and fixed
parameters, the covariance (scipy ``curve_fit`` conventions) and the fit metrics.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from lawfit._validate import LawfitInputError, as_float_array

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
    defaults: Mapping[str, tuple[float, float]] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """(lower, upper, fixed): the ``defaults`` bounds (else ``law.bounds()``) overridden by the
    user's ``bounds``, and the user's fixed values; names and values checked."""
    names = law.param_names
    b = dict(law.bounds() if defaults is None else defaults)
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


# -- the steps every fit path shares (curves and data points; fit_many checks its options here) --


def check_loss_space(
    loss: Any, space: str | None, law: Law, *, loss_name: str = "loss"
) -> tuple[str, str]:
    """Validate a robust-loss name against :data:`ROBUST_LOSSES` and a residual space against the
    law's ``spaces`` (``None`` takes the law's ``default_space``); returns (loss, space).

    ``loss_name`` is the keyword the caller knows the robust loss by (``loss`` or ``robust``).
    """
    if not isinstance(loss, str) or loss not in ROBUST_LOSSES:
        raise LawfitInputError(f"{loss_name} must be one of {ROBUST_LOSSES}, got {loss!r}")
    space = law.default_space if space is None else space
    if space not in law.spaces:
        raise LawfitInputError(f"space must be one of {law.spaces} for {type(law).__name__}, got {space!r}")
    return loss, space


def check_max_evals(max_evals: Any) -> int:
    """The evaluation budget per start, a positive integer (``bool`` refused)."""
    if isinstance(max_evals, bool) or not isinstance(max_evals, (int, np.integer)) or max_evals < 1:
        raise LawfitInputError(f"max_evals must be a positive integer, got {max_evals!r}")
    return int(max_evals)


def check_delta(delta: Any, loss: str) -> float:
    """The robust loss's scale (scipy's ``f_scale``): positive and finite unless the loss is linear."""
    delta = float(delta)
    if loss != "linear" and not (math.isfinite(delta) and delta > 0):
        raise LawfitInputError(f"delta must be positive and finite, got {delta!r}")
    return delta


def check_weights(weights: Any, n: int) -> np.ndarray | None:
    """Per-point weights: None, or a non-negative float array of length ``n``."""
    if weights is None:
        return None
    w = as_float_array("weights", weights, nonnegative=True)
    if w.size != n:
        raise LawfitInputError(f"weights has length {w.size}, expected {n} (one per point)")
    return w


def check_positive(y: np.ndarray, needed: bool, hint: str) -> None:
    """Refuse a non-positive target when ``needed`` (log-space residuals), naming its index."""
    if needed and (y <= 0).any():
        i = int(np.argmax(y <= 0))
        raise LawfitInputError(f"loss[{i}] is {float(y[i])!r}; log-space residuals need {hint}")


def prepare_starts(
    law: Law,
    starts: Any,
    default: Callable[[np.ndarray, np.ndarray], np.ndarray],
    lower: np.ndarray,
    upper: np.ndarray,
    fixed: Mapping[str, float],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[bool]]:
    """The starts and bounds a solver gets, all in solver coordinates.

    Parameters
    ----------
    law : Law
        Supplies ``param_names`` and the coordinate map ``to_solver`` (identity for curve laws).
    starts : None, mapping or array_like, shape (k, p)
        The user's starts in public parameters (None: ``default(lower, upper)``, already in
        solver coordinates).
    default : callable
        The law's default starts given the solver bounds.
    lower, upper : ndarray, shape (p,)
        Public bounds (infinite where unbounded).
    fixed : mapping
        Fixed parameters and their public values.

    Returns
    -------
    starts : ndarray, shape (k, p)
        Finite starts clipped into the bounds, fixed parameters at their value (C-contiguous).
    lower, upper : ndarray, shape (p,)
        Solver bounds, widened to take in the fixed values.
    fixed_mask : list of bool, length p
    """
    names = law.param_names
    p = len(names)
    shape_msg = f"starts must have shape (k, {p}) for parameters {list(names)}"
    lower = np.ascontiguousarray(law.to_solver(lower, name="bounds"))
    upper = np.ascontiguousarray(law.to_solver(upper, name="bounds"))
    fixed_vec = law.to_solver(np.array([fixed.get(k, 1.0) for k in names]), name="fix")
    if starts is None:
        arr = default(lower, upper)
    elif isinstance(starts, Mapping):
        arr = law.to_solver(law.params_vector(starts)[None, :], name="starts")
    else:
        arr = np.atleast_2d(np.asarray(starts, dtype=np.float64))
        if arr.ndim != 2 or arr.shape[1] != p:
            raise LawfitInputError(shape_msg)
        arr = law.to_solver(arr, name="starts")
    arr = np.array(arr, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != p or arr.shape[0] == 0:
        raise LawfitInputError(shape_msg)
    if not np.all(np.isfinite(arr)):
        raise LawfitInputError("starts must be finite")
    arr = np.clip(arr, lower, upper)
    fixed_mask = [k in fixed for k in names]
    for j, k in enumerate(names):
        if k in fixed:
            arr[:, j] = fixed_vec[j]
            lower[j] = min(lower[j], fixed_vec[j])
            upper[j] = max(upper[j], fixed_vec[j])
    return np.ascontiguousarray(arr), lower, upper, fixed_mask


@dataclass
class Solution:
    """A solver report turned into public parameters and their uncertainty (see :func:`solution`)."""

    params: dict[str, float]
    stderr: dict[str, float]
    cov: np.ndarray
    #: The optimum and its standard errors in solver coordinates.
    vec_solver: np.ndarray
    stderr_solver: list[float]
    #: Free parameters the gradient holds at a bound (reported like fixed ones).
    at_bound: list[str]
    #: Free parameters on a finite bound: {name: "lower" | "upper"} (see :func:`bound_hits`).
    on_bound: dict[str, str]


def solution(
    law: Law,
    rep: Mapping[str, Any],
    lower: np.ndarray,
    upper: np.ndarray,
    fixed: Mapping[str, float],
    *,
    n: int,
    absolute_sigma: bool,
    s2: float | None,
    stacklevel: int,
) -> Solution:
    """Parameters, covariance (delta method through the law's coordinate map) and bound hits of a
    solver report; warns (:class:`ConvergenceWarning`, :class:`BoundWarning`) on non-convergence,
    an unidentifiable parameter or a parameter on a bound.

    ``lower``/``upper`` are the solver bounds; ``stacklevel`` is that of the caller's caller.
    """
    names = law.param_names
    fixed_mask = np.array([k in fixed for k in names], dtype=bool)
    vec_s = np.asarray(rep["params"], dtype=float)
    vec = law.from_solver(vec_s)
    for j, k in enumerate(names):  # report fixed values exactly as given
        if k in fixed:
            vec[j] = fixed[k]
    params = {k: float(v) for k, v in zip(names, vec, strict=True)}
    grad = np.asarray(rep["gradient"], dtype=float)
    # A parameter held at a bound by the data is reported like a fixed one (lmfit does the same).
    held = ((vec_s <= lower) & (grad > 0)) | ((vec_s >= upper) & (grad < 0))
    free = ~fixed_mask & ~held
    cov_s, identifiable = covariance(np.asarray(rep["hessian"], dtype=float), rep["cost"], n, free,
                                     absolute_sigma=absolute_sigma, s2=s2)
    jac = law.solver_derivative(vec_s)
    with np.errstate(invalid="ignore"):
        cov = cov_s * np.outer(jac, jac)
    stderr = {k: float(math.sqrt(cov[j, j])) if free[j] else float("nan") for j, k in enumerate(names)}
    stderr_s = [float(math.sqrt(cov_s[j, j])) if free[j] else float("nan") for j in range(len(names))]
    if not identifiable:
        warnings.warn(
            "the data cannot identify every parameter (singular Gauss-Newton matrix); standard "
            "errors are inf. Fix a parameter or add data that constrains it.",
            ConvergenceWarning,
            stacklevel=stacklevel + 1,
        )
    if not rep["success"]:
        warnings.warn(f"fit did not converge: {rep['message']}", ConvergenceWarning,
                      stacklevel=stacklevel + 1)
    hits = bound_hits(names, vec_s, lower, upper, list(fixed_mask), held=held)
    warn_bound_hits(hits, params, stacklevel=stacklevel + 1)
    return Solution(params, stderr, cov, vec_s, stderr_s,
                    [k for j, k in enumerate(names) if held[j] and not fixed_mask[j]], hits)


def fit_metrics(rep: Mapping[str, Any], predict: Callable[[], np.ndarray], targets: np.ndarray,
                n_free: int) -> dict[str, float]:
    """:func:`metrics_of` of a fit (from the solver's linear residual sums when it reports them, else
    from ``predict()``) plus the solver's counters (starts, converged starts, evaluations)."""
    if "linear_sum_sq" in rep:  # the solver's final pass already summed the linear residuals
        metrics = metrics_from_sums(rep["linear_sum_sq"], rep["linear_sum_abs"], rep["linear_total_sq"],
                                    targets.size, rep["cost"], n_free)
    else:
        metrics = metrics_of(predict(), targets, rep["cost"], n_free)
    metrics.update(n_starts=float(rep["n_starts"]), n_converged=float(rep["n_converged"]),
                   n_evals=float(rep["n_evals"]))
    if "total_evals" in rep:
        metrics["total_evals"] = float(rep["total_evals"])
    return metrics


@dataclass
class FitData:
    """The data of one fit as the shared pipeline of :func:`lawfit.fit` sees it (curves or points).

    Built by the curve path (:func:`lawfit.fitting.curve_data`) or the point path
    (:func:`lawfit._point_fit.point_data`); everything after it is the same for both.
    """

    #: ``"curves"`` (``data`` is a list of Curve) or ``"points"`` (``data`` maps names to arrays).
    kind: str
    data: Any
    #: Observed values, shape (n,), curves concatenated.
    targets: np.ndarray
    weights: np.ndarray | None
    #: The law's default (lower, upper) per parameter for this data, public coordinates.
    bounds: dict[str, tuple[float, float]]
    #: Default starts (k, p) in solver coordinates, given the solver bounds.
    default_starts: Callable[[np.ndarray, np.ndarray], np.ndarray]
    #: The law's solver on this data: ``solve(starts=..., lower=..., ..., [prior=...])`` -> report.
    solve: Callable[..., dict[str, Any]]
    #: Predicted values at the data for public parameters.
    predict: Callable[[dict[str, float]], np.ndarray]
    #: What a non-positive target is refused for (``check_positive``'s hint), and whether the law
    #: needs positive targets whatever the space.
    positive_hint: str = "positive values"
    positive_always: bool = False
    #: Fit options saved with the result besides the common ones.
    info: dict[str, Any] | None = None
    #: Whether the fit shows the multi-start progress bar.
    progress_bar: bool = False
    #: Names of the solver coordinates, saved with the optimum in them (laws fitted in other
    #: coordinates than their parameters); empty: not saved.
    solver_names: tuple[str, ...] = ()
