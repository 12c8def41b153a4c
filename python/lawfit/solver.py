"""`least_squares`: lawfit's Levenberg–Marquardt on residuals written in Python/NumPy.

The same solver as the built-in laws (bounds, robust losses, scipy's cost conventions), for a law
you write yourself. Exceptions raised by your callables pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lawfit import _core
from lawfit._options import solver_options
from lawfit._stats import ROBUST_LOSSES, covariance
from lawfit._validate import LawfitInputError, as_float_array


@dataclass
class LeastSquaresResult:
    """Outcome of :func:`least_squares` (names follow ``scipy.optimize.OptimizeResult``).

    Attributes
    ----------
    x : ndarray, shape (p,)
        Solution.
    cost : float
        Σ ½·δ²·ρ(fᵢ²/δ²), scipy's ``cost``.
    grad : ndarray, shape (p,)
        Gradient of the cost at ``x``.
    cov : ndarray, shape (p, p)
        ``curve_fit``-style covariance (``inf`` when not identifiable).
    success, status, message, nfev
        Termination information.
    """

    x: np.ndarray
    cost: float
    grad: np.ndarray
    cov: np.ndarray
    success: bool
    status: str
    message: str
    nfev: int


def least_squares(
    fun: Callable[..., Any],
    x0: Sequence[float] | np.ndarray,
    jac: Callable[..., Any] | None = None,
    *,
    bounds: tuple[Any, Any] = (-np.inf, np.inf),
    loss: str = "linear",
    f_scale: float = 1.0,
    fixed: Sequence[bool] | None = None,
    ftol: float = 1e-12,
    xtol: float = 1e-12,
    gtol: float = 1e-10,
    max_nfev: int = 2000,
    args: tuple[Any, ...] = (),
) -> LeastSquaresResult:
    """Minimise Σ ρ(fᵢ(x)) with lawfit's bounded Levenberg–Marquardt.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> array_like, shape (n,)``: the residuals.
    x0 : array_like, shape (p,)
        Start point (clipped into ``bounds``).
    jac : callable, optional
        ``jac(x, *args) -> array_like, shape (n, p)``; forward differences when omitted.
    bounds : (lower, upper)
        Scalars or arrays of shape (p,).
    loss : {"linear", "huber", "soft_l1", "cauchy"}
        Robust loss, as in ``scipy.optimize.least_squares``.
    f_scale : float
        Its scale δ.
    fixed : sequence of bool, optional
        Parameters held at ``x0``.
    ftol, xtol, gtol, max_nfev
        Tolerances and evaluation budget.
    args : tuple
        Extra positional arguments of ``fun`` and ``jac``.
    """
    x = as_float_array("x0", x0, allow_empty=False)
    p = x.size
    if loss not in ROBUST_LOSSES:
        raise LawfitInputError(f"loss must be one of {ROBUST_LOSSES}, got {loss!r}")
    lower = np.broadcast_to(np.asarray(bounds[0], dtype=float), (p,)).copy()
    upper = np.broadcast_to(np.asarray(bounds[1], dtype=float), (p,)).copy()
    fixed_list = [False] * p if fixed is None else [bool(v) for v in fixed]
    if len(fixed_list) != p:
        raise LawfitInputError(f"fixed has {len(fixed_list)} entries, expected {p}")
    r0 = np.asarray(fun(x, *args), dtype=float).ravel()
    if r0.size == 0:
        raise LawfitInputError("fun returned no residuals")

    def f(v: np.ndarray) -> np.ndarray:
        return np.asarray(fun(v, *args), dtype=float).ravel()

    j = None if jac is None else (lambda v: np.asarray(jac(v, *args), dtype=float).ravel())
    rep = _core.least_squares(
        f,
        j,
        list(x),
        r0.size,
        options=solver_options(dict(loss=loss, delta=float(f_scale), space="linear", lower=lower,
                                    upper=upper, fixed=fixed_list, ftol=ftol, xtol=xtol, gtol=gtol,
                                    max_evals=int(max_nfev))),
    )
    free = ~np.array(fixed_list)
    cov, _ = covariance(rep["hessian"], rep["cost"], r0.size, free)
    return LeastSquaresResult(
        x=np.asarray(rep["params"]),
        cost=float(rep["cost"]),
        grad=np.asarray(rep["gradient"]),
        cov=cov,
        success=bool(rep["success"]),
        status=str(rep["status"]),
        message=str(rep["message"]),
        nfev=int(rep["n_evals"]),
    )
