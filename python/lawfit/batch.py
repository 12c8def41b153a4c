"""`fit_many`: thousands of independent small fits in one call (one per run, task or benchmark).

Each row of ``Y`` is fitted on its own by the Rust solver, rows spread over rayon's thread pool
(`src/batch.rs`); the result holds one array per parameter.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lawfit import _core
from lawfit._options import solver_options
from lawfit._stats import _bounds_and_fixed, check_loss_space, check_max_evals
from lawfit._validate import LawfitInputError, LawfitTypeError
from lawfit.laws import Law, PowerLaw, PurePowerLaw


@dataclass
class BatchResult:
    """The outcome of :func:`fit_many`: one independent fit per row.

    Attributes
    ----------
    law : Law
        The fitted law.
    params : dict[str, ndarray]
        Best parameters by name, each shape (n_fits,); NaN for skipped rows.
    success : ndarray of bool, shape (n_fits,)
        Whether each fit met a tolerance.
    cost : ndarray, shape (n_fits,)
        Objective Σ w·ρ(r) of each fit (NaN for skipped rows).
    status : ndarray of str, shape (n_fits,)
        Termination reason per fit (``"Ftol"``, ``"Xtol"``, ``"Gtol"``, ``"MaxEvals"``, ...,
        ``"Skipped"`` when a row has fewer valid points than free parameters).
    n_points : ndarray of int, shape (n_fits,)
        Valid points used per row.
    n_evals : ndarray of int, shape (n_fits,)
        Cost evaluations per row over all its starts.
    options : dict
        Fit options (robust loss, delta, space, fixed parameters).
    """

    law: Law
    params: dict[str, np.ndarray]
    success: np.ndarray
    cost: np.ndarray
    status: np.ndarray
    n_points: np.ndarray
    n_evals: np.ndarray
    options: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.success.size)

    def __repr__(self) -> str:
        return (f"BatchResult({self.law!r}, n_fits={len(self)}, "
                f"converged={int(self.success.sum())}/{len(self)})")

    def to_pandas(self) -> Any:
        """The results as a ``pandas.DataFrame``: one row per fit, one column per parameter plus
        ``success``, ``cost``, ``status``, ``n_points`` and ``n_evals``.

        Raises
        ------
        ImportError
            If pandas is not installed.
        """
        try:
            import pandas as pd
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError("BatchResult.to_pandas needs pandas: pip install pandas") from exc
        cols: dict[str, Any] = dict(self.params)
        cols.update(success=self.success, cost=self.cost, status=self.status, n_points=self.n_points,
                    n_evals=self.n_evals)
        return pd.DataFrame(cols)


def _as_2d(name: str, values: Any) -> np.ndarray:
    if isinstance(values, (str, bytes)):
        raise LawfitTypeError(f"{name} must be a numeric array, got {type(values).__name__}")
    arr = np.asarray(values)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_) \
            or np.issubdtype(arr.dtype, np.complexfloating):
        raise LawfitTypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return np.asarray(arr, dtype=np.float64)


def _starts_per_fit(law: Law, starts: Any, n_fits: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(per-fit starts (n_fits, k, p), shared starts (k, p)); both None for the law's defaults."""
    p = len(law.param_names)
    if starts is None:
        return None, None
    if isinstance(starts, Mapping):
        cols = [np.broadcast_to(np.asarray(starts[k], dtype=np.float64), (n_fits,)) for k in law.param_names]
        return np.ascontiguousarray(np.stack(cols, axis=-1)[:, None, :]), None
    arr = np.asarray(starts, dtype=np.float64)
    if arr.ndim == 1 and arr.shape == (p,):
        return None, np.ascontiguousarray(arr[None, :])
    if arr.ndim == 2 and arr.shape == (n_fits, p):
        return np.ascontiguousarray(arr[:, None, :]), None
    if arr.ndim == 3 and arr.shape[2] == p and arr.shape[0] in (1, n_fits) and arr.shape[1] >= 1:
        if arr.shape[0] == 1:
            return None, np.ascontiguousarray(arr[0])
        return np.ascontiguousarray(arr), None
    raise LawfitInputError(
        f"starts must have shape ({p},), ({n_fits}, {p}), ({n_fits}, k, {p}) or (1, k, {p}), or be a dict; "
        f"got {arr.shape}"
    )


def fit_many(
    law: Law,
    x: Any,
    y: Any,
    *,
    robust: str | None = None,
    delta: float = 1e-3,
    space: str | None = None,
    starts: Any = None,
    fix: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    nan_policy: str = "raise",
    ftol: float = 1e-12,
    xtol: float = 1e-12,
    gtol: float = 1e-10,
    max_evals: int = 2000,
    method: str = "auto",
) -> BatchResult:
    """Fit ``law`` independently to every row of (x, y), in parallel in Rust.

    Parameters
    ----------
    law : PowerLaw or PurePowerLaw
        The law (one input variable x).
    x : array_like, shape (n_fits, n_points) or (n_points,)
        Abscissae (positive), or one row shared by every fit.
    y : array_like, shape (n_fits, n_points)
        Observed values, one fit per row.
    robust : {"linear", "huber", "soft_l1", "cauchy"}, optional
        Robust loss (default: the law's, "linear" for both laws).
    delta : float, default 1e-3
        Scale of the robust loss.
    space : {"linear", "log"}, optional
        Residual space (default: the law's; ``PurePowerLaw`` is always log10–log10 OLS).
    starts : array_like or dict, optional
        Start points: shape (p,) shared by all fits, (n_fits, p) one per fit, (n_fits, k, p) k per
        fit, or a dict of scalars/arrays by parameter name. Default: data-driven starts per row
        (for ``PowerLaw``, the two best points of a variable-projection grid over b).
    fix : dict, optional
        Parameters held at the given values in every fit.
    bounds : dict, optional
        (lower, upper) per parameter, overriding the law's defaults.
    nan_policy : {"raise", "omit"}, default "raise"
        With "omit", non-finite entries of x or y are dropped from their row (ragged rows); a row
        left with fewer points than free parameters is skipped (NaN parameters, status
        ``"Skipped"``).
    ftol, xtol, gtol : float
        Solver tolerances.
    max_evals : int, default 2000
        Evaluation budget per start.
    method : {"auto", "lm"}, default "auto"
        ``PowerLaw`` only. ``"lm"``: Levenberg–Marquardt on (a, b, c), as :func:`lawfit.fit`.
        ``"auto"``: where the fit is ordinary least squares on the values (``robust="linear"``,
        ``space="linear"``, nothing fixed), variable projection — (a, c) solved exactly for each
        b, a damped Newton search over b alone (exact curvature, Levenberg–Marquardt safeguards
        and MINPACK's ftol/xtol/gtol tests) — which reaches the same
        minimum in fewer, cheaper evaluations; a row whose a or c ends outside its bounds, or that
        does not converge, is refitted with ``"lm"``. Results agree with ``"lm"`` to the
        tolerances, not bit for bit.

    Returns
    -------
    BatchResult
        ``.params`` (dict of arrays), ``.success``, ``.cost``, ``.to_pandas()``.
    """

    if not isinstance(law, (PowerLaw, PurePowerLaw)):
        raise LawfitTypeError(f"fit_many supports PowerLaw and PurePowerLaw, got {type(law).__name__}")
    ya = _as_2d("y", y)
    if ya.ndim != 2 or ya.shape[0] == 0 or ya.shape[1] == 0:
        raise LawfitInputError(f"y must be 2-D (n_fits, n_points), got shape {ya.shape}")
    xa = _as_2d("x", x)
    x_shared = xa.ndim == 1
    if x_shared:
        if xa.shape != (ya.shape[1],):
            raise LawfitInputError(f"x has shape {xa.shape}, expected {ya.shape} (or ({ya.shape[1]},))")
        bad = ~np.isfinite(xa) | (xa <= 0)
        if bad.any():
            c = int(np.argmax(bad))
            raise LawfitInputError(f"x[{c}] is {float(xa[c])!r}; a power law needs positive, finite x")
        xa = np.broadcast_to(xa, ya.shape)
    if xa.shape != ya.shape:
        raise LawfitInputError(f"x has shape {xa.shape}, expected {ya.shape} (or ({ya.shape[1]},))")
    if nan_policy not in ("raise", "omit"):
        raise LawfitInputError(f"nan_policy must be 'raise' or 'omit', got {nan_policy!r}")
    valid = np.isfinite(ya) if x_shared else np.isfinite(xa) & np.isfinite(ya)
    all_valid = bool(valid.all())
    if nan_policy == "raise" and not all_valid:
        r, c = np.argwhere(~valid)[0]
        name, v = ("x", xa[r, c]) if not np.isfinite(xa[r, c]) else ("y", ya[r, c])
        raise LawfitInputError(f"{name}[{r}, {c}] is {float(v)!r}; pass nan_policy=\"omit\" to drop it")
    if not x_shared:
        bad_x = valid & (xa <= 0)
        if bad_x.any():
            r, c = np.argwhere(bad_x)[0]
            raise LawfitInputError(f"x[{r}, {c}] is {float(xa[r, c])!r}; a power law needs positive x")
    robust, space = check_loss_space(law.default_loss if robust is None else robust, space, law,
                                     loss_name="robust")
    if space == "log" and (valid & (ya <= 0)).any():
        r, c = np.argwhere(valid & (ya <= 0))[0]
        raise LawfitInputError(f"y[{r}, {c}] is {float(ya[r, c])!r}; log residuals need positive values")
    n_fits = ya.shape[0]
    counts = np.full(n_fits, ya.shape[1], dtype=np.int64) if all_valid else valid.sum(axis=1).astype(np.int64)
    # Compact each row: valid points first (stable), padding after. Complete rows with a shared x
    # pass that one row of x (Rust computes log x once).
    if all_valid:
        xc = np.ascontiguousarray(xa[:1] if x_shared else xa)
        yc = np.ascontiguousarray(ya)
    else:
        order = np.argsort(~valid, axis=1, kind="stable")
        xc = np.ascontiguousarray(np.take_along_axis(np.where(valid, xa, 1.0), order, axis=1))
        yc = np.ascontiguousarray(np.take_along_axis(np.where(valid, ya, 1.0), order, axis=1))
    names = law.param_names
    lower_pub, upper_pub, fixed = _bounds_and_fixed(law, bounds, fix)
    fixed_mask = [k in fixed for k in names]
    per_fit, shared = _starts_per_fit(law, starts, n_fits)
    options = {"loss": robust, "delta": float(delta), "space": space, "fixed": fixed, "method": method}

    if isinstance(law, PurePowerLaw):
        out = _fit_many_pure(law, xc, yc, counts, robust, space, fixed)
    else:
        # Fixed parameters get degenerate bounds, so every start (including the data-driven
        # ones, which Rust clamps into the bounds) carries the fixed value.
        lower, upper = lower_pub.copy(), upper_pub.copy()
        for j, k in enumerate(names):
            if k in fixed:
                lower[j] = upper[j] = fixed[k]
        for arr in (per_fit, shared):
            if arr is not None:
                if not np.all(np.isfinite(arr)):
                    raise LawfitInputError("starts must be finite")
                np.clip(arr, lower, upper, out=arr)
        max_evals = check_max_evals(max_evals)
        if method not in ("auto", "lm"):
            raise LawfitInputError(f"method must be 'auto' or 'lm', got {method!r}")
        out = _core.fit_many_power_law(
            xc, yc, counts, starts=per_fit, shared_starts=shared, grid_keep=2, method=method,
            options=solver_options(dict(loss=robust, delta=delta, space=space, lower=lower, upper=upper,
                                        fixed=fixed_mask, ftol=ftol, xtol=xtol, gtol=gtol,
                                        max_evals=max_evals)),
        )
    q = np.asarray(out["params"], dtype=float)
    params = {k: np.ascontiguousarray(q[:, j]) for j, k in enumerate(names)}
    status = out["status"]
    if "status_names" in out:  # Rust batches return codes into a table of names
        status = np.asarray(out["status_names"])[np.asarray(status, dtype=np.intp)]
    return BatchResult(law=law, params=params, success=np.asarray(out["success"], dtype=bool),
                       cost=np.asarray(out["cost"], dtype=float), status=np.asarray(status, dtype=str),
                       n_points=counts, n_evals=np.asarray(out["n_evals"], dtype=np.int64),
                       options=options)


def _fit_many_pure(law: PurePowerLaw, x: np.ndarray, y: np.ndarray, counts: np.ndarray, robust: str,
                   space: str, fixed: Mapping[str, float]) -> dict[str, Any]:
    if robust != "linear":
        raise LawfitInputError("PurePowerLaw is fitted by ordinary least squares: use robust='linear'")
    n_fits, n_cols = y.shape
    w = (np.arange(n_cols)[None, :] < counts[:, None]).astype(np.float64)
    if (y[w > 0] <= 0).any():
        raise LawfitInputError("PurePowerLaw needs positive y")
    fixed_s = {j: (math.log(fixed[k]) if j == 0 else float(fixed[k]))
               for j, k in enumerate(law.param_names) if k in fixed}
    need = 2 - len(fixed_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = law.ols(np.log(x), np.log10(y), w, fixed_s)
        r = q[:, 1:2] * (q[:, 0:1] - np.log(x)) / math.log(10.0) - np.log10(y)
        cost = 0.5 * (w * r * r).sum(1)
    skipped = counts < max(need, 2)
    q[skipped] = np.nan
    cost[skipped] = np.nan
    ok = np.isfinite(q).all(1)
    public = law.from_solver(q)
    status = ["Skipped" if s else ("ClosedForm" if o else "Singular")
              for s, o in zip(skipped, ok, strict=True)]
    return {"params": public, "cost": cost, "success": ok, "status": status,
            "n_evals": np.ones(n_fits, dtype=np.int64)}
