"""Power laws of one variable (spec §5); the general form's math is in src/laws/power.rs.

* :class:`PowerLaw` — y = a·x^(−b) + c (Hestness et al. 2017); :func:`lawfit.regions` labels
  its small-data, power-law and irreducible regions.
* :class:`PurePowerLaw` — L(X) = (X_c/X)^α fitted by OLS in log10–log10, as in the TSFM scaling
  paper (Yao et al.) and Kaplan et al. 2020 (closed form, NumPy).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from lawfit import _core
from lawfit._validate import LawfitInputError, as_float_array

if TYPE_CHECKING:
    pass

from lawfit._options import run_solver
from lawfit.laws.point import LN10, PointLaw, _solver_kwargs


class PowerLaw(PointLaw):
    r"""A power law with an irreducible term (Hestness et al. 2017, arXiv 1712.00409).

    .. math:: y(x) = a\,x^{-b} + c

    Fitted in Rust by Levenberg–Marquardt, by default as ordinary least squares on the values
    (``space="linear"``, ``loss="linear"``, which is what ``scipy.optimize.curve_fit`` does);
    pass ``robust="huber", space="log"`` for the loss-law convention. Default starts: for each b
    of a grid (0.02 … 3) the best (a, c) by linear least squares; the two best seed the solver.
    Bounds: a ≥ 0, 0 ≤ b ≤ 10, c free. Use :func:`lawfit.regions` to label Hestness's three regions.

    Fit with ``lf.fit(PowerLaw(), x=x, y=y)``, or many at once with
    ``lf.fit_many(PowerLaw(), x=X, y=Y)``.
    """

    name = "power"
    data_names = ("x",)
    solver_names = ("a", "b", "c")
    transforms = (None, None, None)
    default_loss = "linear"
    default_space = "linear"

    @property
    def param_names(self) -> tuple[str, ...]:
        return ("a", "b", "c")

    def bounds(self) -> dict[str, tuple[float, float]]:
        return {"a": (0.0, np.inf), "b": (0.0, 10.0), "c": (-np.inf, np.inf)}

    def check_data(self, data: Mapping[str, Any]) -> dict[str, np.ndarray]:
        return _positive_x(super().check_data(data))

    def default_starts_points(self, data: Mapping[str, np.ndarray], y: np.ndarray,
                              weights: np.ndarray | None, *, lower: np.ndarray | None = None,
                              upper: np.ndarray | None = None) -> np.ndarray:
        b = self.bounds()
        lo = np.array([b[k][0] for k in self.param_names]) if lower is None else lower
        hi = np.array([b[k][1] for k in self.param_names]) if upper is None else upper
        starts = _core.power_law_grid_starts(data["x"], y, weights, keep=2, lower=np.ascontiguousarray(lo),
                                             upper=np.ascontiguousarray(hi))
        if starts.shape[0] == 0:
            span = float(np.ptp(y)) or 1.0
            starts = np.array([[span, 0.5, float(np.min(y))]])
        return starts

    def fit_points(self, data: Mapping[str, np.ndarray], y: np.ndarray, weights: np.ndarray | None,
                   **solver: Any) -> dict[str, Any]:
        return run_solver(_core.fit_power_law, data["x"], y, weights, size={"points": y.size}, **solver)

    def refit_points(self, data: Mapping[str, np.ndarray], y: np.ndarray, weights: np.ndarray,
                     **solver: Any) -> dict[str, Any]:
        return _core.refit_power_law(data["x"], y, np.ascontiguousarray(weights), **_solver_kwargs(solver))

    def predict(self, params: Mapping[str, float], x: Any) -> np.ndarray:
        """y(x) = a·x^(−b) + c for positive ``x`` (any shape; returns the same shape)."""
        vec = self.params_vector(params)
        xa = np.asarray(x, dtype=np.float64)
        flat = as_float_array("x", xa.ravel(), positive=True)
        return _core.predict_power_law(flat, list(vec)).reshape(xa.shape)

    def curve(self, params: Mapping[str, Any], x: Any) -> np.ndarray:
        a, b, c = (np.asarray(params[k], dtype=np.float64) for k in self.param_names)
        return a * np.asarray(x, dtype=np.float64) ** (-b) + c


class PurePowerLaw(PointLaw):
    r"""A pure power law :math:`L(X) = (X_c / X)^{\alpha}` (Kaplan et al. 2020; the TSFM scaling
    laws of Yao et al.), fitted by ordinary least squares in log10–log10:
    :math:`\log_{10} L = \alpha\log_{10} X_c - \alpha\log_{10} X`.

    The fit is closed-form (NumPy). ``fit.params`` holds ``X_c`` and ``alpha``; standard errors
    are those of the regression (delta method for X_c); ``metrics["cost"]`` is ½·Σ w·r² with r
    the log10 residuals. Only ``robust="linear"`` is supported, and ``fix`` of one parameter;
    bounds are not. Exported also as ``SaturatingPowerLaw`` (the name issue 6 uses).
    """

    name = "pure_power"
    data_names = ("x",)
    solver_names = ("ln_X_c", "alpha")
    transforms = ("log", None)
    default_loss = "linear"
    spaces = ("log",)
    positive_targets = True

    @property
    def param_names(self) -> tuple[str, ...]:
        return ("X_c", "alpha")

    def bounds(self) -> dict[str, tuple[float, float]]:
        return {"X_c": (0.0, np.inf), "alpha": (-np.inf, np.inf)}

    def check_data(self, data: Mapping[str, Any]) -> dict[str, np.ndarray]:
        return _positive_x(super().check_data(data))

    def default_starts_points(self, data: Mapping[str, np.ndarray], y: np.ndarray,
                              weights: np.ndarray | None, *, lower: np.ndarray | None = None,
                              upper: np.ndarray | None = None) -> np.ndarray:
        """A placeholder start: the fit is closed-form."""
        return np.array([[0.0, 0.0]])

    @staticmethod
    def ols(ln_x: np.ndarray, log10_y: np.ndarray, w: np.ndarray, fixed: Mapping[int, float]) -> np.ndarray:
        """Weighted OLS of log10 y on ln x, batched over leading axes.

        Returns solver coordinates (ln X_c, α) with shape (..., 2); ``fixed`` maps a solver index
        to its held value.
        """
        sw = w.sum(-1)
        if 1 in fixed:  # α fixed: ln X_c = weighted mean of ln x + ln10·log10 y / α
            alpha = np.full(sw.shape, fixed[1])
            ln_xc = (w * (ln_x + LN10 * log10_y / alpha[..., None])).sum(-1) / sw
        elif 0 in fixed:  # X_c fixed: regression through the origin on z = (ln X_c − ln x)/ln10
            ln_xc = np.full(sw.shape, fixed[0])
            z = (ln_xc[..., None] - ln_x) / LN10
            alpha = (w * z * log10_y).sum(-1) / (w * z * z).sum(-1)
        else:
            mx = (w * ln_x).sum(-1) / sw
            my = (w * log10_y).sum(-1) / sw
            dx = ln_x - mx[..., None]
            slope = (w * dx * (log10_y - my[..., None])).sum(-1) / (w * dx * dx).sum(-1)  # per ln x
            alpha = -slope * LN10
            ln_xc = mx + LN10 * my / alpha
        return np.stack([ln_xc, alpha], axis=-1)

    @staticmethod
    def _fixed_map(solver: Mapping[str, Any]) -> dict[int, float]:
        fixed = solver["fixed"]
        if all(fixed):
            raise LawfitInputError("PurePowerLaw: at most one parameter can be fixed")
        starts = np.atleast_2d(solver["starts"])
        return {j: float(starts[0, j]) for j, f in enumerate(fixed) if f}

    @staticmethod
    def _check_solver(solver: Mapping[str, Any]) -> None:
        if solver["loss"] != "linear":
            raise LawfitInputError("PurePowerLaw is fitted by ordinary least squares: use robust='linear'")
        if solver["space"] != "log":
            raise LawfitInputError("PurePowerLaw is fitted in log10-log10: space must be 'log'")

    def fit_points(self, data: Mapping[str, np.ndarray], y: np.ndarray, weights: np.ndarray | None,
                   **solver: Any) -> dict[str, Any]:
        self._check_solver(solver)
        ln_x = np.log(data["x"])
        w = np.ones_like(y) if weights is None else weights
        used = ln_x[w > 0]
        if used.size < 2 or np.ptp(used) == 0:
            raise LawfitInputError("PurePowerLaw needs at least two distinct x values")
        q = self.ols(ln_x, np.log10(y), w, self._fixed_map(solver))
        prior = solver.get("prior")
        mean, weight = np.zeros(2), np.zeros(2)
        if prior is not None:
            mean, weight = np.array(prior[0]), np.array(prior[1])
        free = ~np.array(solver["fixed"], dtype=bool)

        def terms(q: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
            r = q[1] * (q[0] - ln_x) / LN10 - np.log10(y)
            jac = np.column_stack([np.full_like(ln_x, q[1] / LN10), (q[0] - ln_x) / LN10])
            cost = 0.5 * float(np.sum(w * r * r) + np.sum(weight * (q - mean) ** 2))
            grad = (jac * (w * r)[:, None]).sum(0) + weight * (q - mean)
            return cost, grad, (jac * w[:, None]).T @ jac + np.diag(weight)

        cost, grad, hess = terms(q)
        n_evals, status, message = 1, "ClosedForm", "closed-form ordinary least squares in log10-log10"
        if prior is not None and np.isfinite(q).all():
            # The prior makes the problem bilinear: damped Gauss-Newton from the OLS solution.
            status, message = "Ftol", "`ftol` termination condition is satisfied."
            for _ in range(100):
                step = np.zeros(2)
                h = hess[np.ix_(free, free)] + 1e-12 * np.diag(np.diag(hess[np.ix_(free, free)]))
                step[free] = np.linalg.solve(h, -grad[free])
                trial = terms(q + step)
                n_evals += 1
                while trial[0] > cost and np.abs(step).max() > 1e-15:
                    step /= 2
                    trial = terms(q + step)
                    n_evals += 1
                done = cost - trial[0] <= 1e-14 * cost
                if trial[0] <= cost:
                    q = q + step
                    cost, grad, hess = trial
                if done:
                    break
            else:
                status, message = "MaxEvals", "The maximum number of function evaluations is exceeded."
        return {"params": q, "cost": cost, "gradient": grad, "hessian": hess, "n_evals": n_evals, "n_iter": 0,
                "status": status, "message": message,
                "success": bool(np.isfinite(q).all()) and status != "MaxEvals", "best_start": 0,
                "n_converged": 1, "n_starts": 1}

    def refit_points(self, data: Mapping[str, np.ndarray], y: np.ndarray, weights: np.ndarray,
                     **solver: Any) -> dict[str, Any]:
        self._check_solver(solver)
        if solver.get("prior") is not None:
            raise LawfitInputError("bootstrap of a PurePowerLaw fit with a prior is not supported; "
                                   "fit PowerLaw, or bootstrap without the prior")
        ln_x = np.log(data["x"])
        with np.errstate(divide="ignore", invalid="ignore"):
            q = self.ols(ln_x[None, :], np.log10(y)[None, :], weights, self._fixed_map(solver))
            r = q[:, 1:2] * (q[:, 0:1] - ln_x[None, :]) / LN10 - np.log10(y)[None, :]
        return {"params": q, "cost": 0.5 * (weights * r * r).sum(1), "success": np.isfinite(q).all(1)}

    def predict(self, params: Mapping[str, float], x: Any) -> np.ndarray:
        """L(X) = (X_c/X)^α for positive ``x`` (any shape)."""
        xc, alpha = self.params_vector(params)
        xa = np.asarray(x, dtype=np.float64)
        as_float_array("x", xa.ravel(), positive=True)
        return np.exp(alpha * (math.log(xc) - np.log(xa)))

    def curve(self, params: Mapping[str, Any], x: Any) -> np.ndarray:
        xc = np.asarray(params["X_c"], dtype=np.float64)
        alpha = np.asarray(params["alpha"], dtype=np.float64)
        return np.exp(alpha * (np.log(xc) - np.log(np.asarray(x, dtype=np.float64))))


#: The name issue 6 uses for the TSFM form (X_c/X)^α.
SaturatingPowerLaw = PurePowerLaw


def _positive_x(data: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The data of a power law of x, checked: every finite x must be positive."""
    x = data["x"]
    bad = np.isfinite(x) & (x <= 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise LawfitInputError(f"x[{i}] is {float(x[i])!r}; a power law needs positive x")
    return data
