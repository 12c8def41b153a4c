"""The data-point path of :func:`lawfit.fit`: ``fit(law, N=..., D=..., loss=...)`` and
``fit(law, x=..., y=...)`` for :class:`~lawfit.laws.PointLaw` laws."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from lawfit._validate import LawfitInputError, as_float_array
from lawfit.bootstrap import RefitSpec
from lawfit.laws import PointLaw
from lawfit.priors import normalize_prior, prior_to_json, refit_with_prior, solver_prior

ROBUST_LOSSES = ("linear", "huber", "soft_l1", "cauchy")


def _drop_nan(data: dict[str, np.ndarray], y: np.ndarray, w: np.ndarray | None, nan_policy: str
              ) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray | None]:
    if nan_policy not in ("raise", "omit"):
        raise LawfitInputError(f"nan_policy must be 'raise' or 'omit', got {nan_policy!r}")
    arrays = {**data, "y": y}
    bad = np.zeros(y.size, dtype=bool)
    for v in arrays.values():
        bad |= ~np.isfinite(v)
    if not bad.any():
        return data, y, w
    if nan_policy == "raise":
        for k, v in arrays.items():
            nonfinite = ~np.isfinite(v)
            if nonfinite.any():
                i = int(np.argmax(nonfinite))
                name = "loss" if k == "y" else k
                raise LawfitInputError(f"{name}[{i}] is {float(v[i])!r}; pass nan_policy=\"omit\" to drop it")
    keep = ~bad
    return ({k: np.ascontiguousarray(v[keep]) for k, v in data.items()}, np.ascontiguousarray(y[keep]),
            None if w is None else np.ascontiguousarray(w[keep]))


def fit_points(
    law: PointLaw,
    data: Mapping[str, Any],
    targets: Any,
    *,
    robust: str | None,
    delta: float,
    space: str | None,
    weights: Any,
    fix: Mapping[str, float] | None,
    bounds: Mapping[str, tuple[float, float]] | None,
    starts: Any,
    absolute_sigma: bool,
    ftol: float,
    xtol: float,
    gtol: float,
    max_evals: int,
    nan_policy: str,
    prior: Any = None,
) -> Any:
    """Fit a point law; see :func:`lawfit.fit`. Returns a FitResult."""
    from lawfit.fitting import (
        ConvergenceWarning,
        FitResult,
        _bounds_and_fixed,
        _json_float,
        covariance,
        metrics_of,
    )

    arrays = law.check_data(data)
    y = as_float_array("loss", targets, finite=False, allow_empty=False)
    n_all = next(iter(arrays.values())).size
    if y.size != n_all:
        raise LawfitInputError(f"loss has length {y.size}, expected {n_all} (one per data point)")
    w = None
    if weights is not None:
        w = as_float_array("weights", weights, nonnegative=True)
        if w.size != n_all:
            raise LawfitInputError(f"weights has length {w.size}, expected {n_all} (one per point)")
    arrays, y, w = _drop_nan(arrays, y, w, nan_policy)
    robust = law.default_loss if robust is None else robust
    if not isinstance(robust, str) or robust not in ROBUST_LOSSES:
        raise LawfitInputError(f"robust must be one of {ROBUST_LOSSES}, got {robust!r}")
    delta = float(delta)
    if robust != "linear" and not (math.isfinite(delta) and delta > 0):
        raise LawfitInputError(f"delta must be positive and finite, got {delta!r}")
    space = law.default_space if space is None else space
    if space not in law.spaces:
        raise LawfitInputError(f"space must be one of {law.spaces} for {type(law).__name__}, got {space!r}")
    if (space == "log" or law.positive_targets) and (y <= 0).any():
        i = int(np.argmax(y <= 0))
        raise LawfitInputError(f"loss[{i}] is {float(y[i])!r}; log-space residuals need positive values")
    if isinstance(max_evals, bool) or not isinstance(max_evals, (int, np.integer)) or max_evals < 1:
        raise LawfitInputError(f"max_evals must be a positive integer, got {max_evals!r}")
    names = law.param_names
    p = len(names)
    n = y.size
    lower_pub, upper_pub, fixed = _bounds_and_fixed(law, bounds, fix)
    n_free = p - len(fixed)
    if n < n_free:
        raise LawfitInputError(f"{n} data points cannot determine {n_free} free parameters")
    lower = law.to_solver(lower_pub, name="bounds")
    upper = law.to_solver(upper_pub, name="bounds")
    fixed_vec = law.to_solver(np.array([fixed.get(k, 1.0) for k in names]), name="fix")
    if starts is None:
        start_arr = law.default_starts_points(arrays, y, w, lower=lower, upper=upper)
    elif isinstance(starts, Mapping):
        start_arr = law.to_solver(law.params_vector(starts)[None, :], name="starts")
    else:
        start_arr = np.atleast_2d(np.asarray(starts, dtype=np.float64))
        if start_arr.ndim != 2 or start_arr.shape[1] != p:
            raise LawfitInputError(f"starts must have shape (k, {p}) for parameters {list(names)}")
        start_arr = law.to_solver(start_arr, name="starts")
    start_arr = np.array(start_arr, dtype=np.float64)
    if start_arr.ndim != 2 or start_arr.shape[1] != p or start_arr.shape[0] == 0:
        raise LawfitInputError(f"starts must have shape (k, {p}) for parameters {list(names)}")
    if not np.all(np.isfinite(start_arr)):
        raise LawfitInputError("starts must be finite")
    start_arr = np.clip(start_arr, lower, upper)
    fixed_mask = [k in fixed for k in names]
    for j, k in enumerate(names):
        if k in fixed:
            start_arr[:, j] = fixed_vec[j]
            lower[j] = min(lower[j], fixed_vec[j])
            upper[j] = max(upper[j], fixed_vec[j])
    start_arr = np.ascontiguousarray(start_arr)
    lower, upper = np.ascontiguousarray(lower), np.ascontiguousarray(upper)
    solver = {"starts": start_arr, "lower": lower, "upper": upper, "fixed": fixed_mask, "loss": robust,
              "delta": delta, "space": space, "ftol": float(ftol), "xtol": float(xtol), "gtol": float(gtol),
              "max_evals": int(max_evals)}
    rep = law.fit_points(arrays, y, w, **solver)
    prior_map = normalize_prior(prior, names, fixed)
    s2 = None
    solver_prior_vectors = None
    if prior_map is not None:
        def to_solver(v: np.ndarray) -> np.ndarray:
            return law.to_solver(v, name="prior")

        def run(starts_: np.ndarray, vectors: tuple[list[float], list[float]]) -> dict[str, Any]:
            return law.fit_points(arrays, y, w, **{**solver, "starts": starts_, "prior": vectors})

        rep, s2 = refit_with_prior(run, rep, names, prior_map, n=n, n_free=n_free,
                                   absolute_sigma=absolute_sigma, lower=lower, upper=upper,
                                   to_solver=to_solver, derivative=law.solver_derivative)
        solver_prior_vectors = solver_prior(names, prior_map, s2, to_solver=to_solver,
                                            derivative=law.solver_derivative)
    vec_s = np.asarray(rep["params"], dtype=float)
    vec = law.from_solver(vec_s)
    for j, k in enumerate(names):  # report fixed values exactly as given
        if k in fixed:
            vec[j] = fixed[k]
    params = {k: float(v) for k, v in zip(names, vec, strict=True)}
    grad = np.asarray(rep["gradient"], dtype=float)
    at_bound = ((vec_s <= lower) & (grad > 0)) | ((vec_s >= upper) & (grad < 0))
    free = ~np.array(fixed_mask) & ~at_bound
    cov_s, identifiable = covariance(np.asarray(rep["hessian"], dtype=float), rep["cost"], n, free,
                                     absolute_sigma=absolute_sigma, s2=s2)
    jac = law.solver_derivative(vec_s)
    with np.errstate(invalid="ignore"):
        cov = cov_s * np.outer(jac, jac)
    stderr = {k: float(math.sqrt(cov[j, j])) if free[j] else float("nan") for j, k in enumerate(names)}
    stderr_s = [float(math.sqrt(cov_s[j, j])) if free[j] else float("nan") for j in range(p)]
    if not identifiable:
        warnings.warn(
            "the data cannot identify every parameter (singular Gauss-Newton matrix); standard "
            "errors are inf. Fix a parameter or add data that constrains it.",
            ConvergenceWarning,
            stacklevel=3,
        )
    pred = law.predict(params, **arrays)
    metrics = metrics_of(pred, y, rep["cost"], n_free)
    metrics.update(n_starts=float(rep["n_starts"]), n_converged=float(rep["n_converged"]),
                   n_evals=float(rep["n_evals"]))
    if not rep["success"]:
        warnings.warn(f"fit did not converge: {rep['message']}", ConvergenceWarning, stacklevel=3)
    options = {
        "loss": robust,
        "delta": delta,
        "space": space,
        "fixed": fixed,
        "bounds": {k: [_json_float(lower_pub[j]), _json_float(upper_pub[j])] for j, k in enumerate(names)},
        "status": rep["status"],
        "at_bound": [k for j, k in enumerate(names) if at_bound[j] and not fixed_mask[j]],
        "data": {"names": list(law.data_names), "n_points": int(n),
                 "range": {k: [float(v.min()), float(v.max())] for k, v in arrays.items()}},
        "solver": {"names": list(law.solver_names), "params": [float(v) for v in vec_s],
                   "stderr": [_json_float(v) for v in stderr_s]},
        "prior": prior_to_json(prior_map),
    }
    spec = RefitSpec(kind="points", data=arrays, targets=y, weights=w, best=vec_s, lower=lower, upper=upper,
                     fixed=fixed_mask, loss=robust, delta=delta, space=space, ftol=float(ftol),
                     xtol=float(xtol), gtol=float(gtol), max_evals=int(max_evals), prior=solver_prior_vectors)
    return FitResult(law, params, stderr, cov, metrics, bool(rep["success"]), str(rep["message"]), options,
                     _refit=spec)
