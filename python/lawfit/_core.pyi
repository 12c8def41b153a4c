"""Typed stubs of the Rust extension ``lawfit._core``."""

from typing import Any

import numpy as np
import numpy.typing as npt

class LawfitInputError(ValueError): ...

def areas(
    lr: npt.NDArray[np.float64],
    *,
    decay: float = 0.999,
    warmup_steps: int = 0,
    warmup: str = "as_peak",
    derivative: bool = False,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64] | None]: ...

# ---- size laws and batches ----
# Report dicts: params, cost, gradient, hessian (p x p), n_evals, n_iter, status, message, success,
# best_start, n_converged, n_starts. Batch dicts: params (n x p), cost, success, status, message,
# n_evals, n_converged.

def chinchilla_default_starts() -> npt.NDArray[np.float64]: ...
def fit_chinchilla(
    n: npt.NDArray[np.float64],
    d: npt.NDArray[np.float64],
    targets: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64] | None,
    *,
    loss: str,
    delta: float,
    space: str,
    starts: npt.NDArray[np.float64],
    lower: npt.NDArray[np.float64],
    upper: npt.NDArray[np.float64],
    fixed: list[bool],
    ftol: float,
    xtol: float,
    gtol: float,
    max_evals: int,
    polish: int = 32,
    screen_tol: float = 1e-2,
    screen_max_evals: int = 15,
) -> dict[str, Any]: ...
def predict_chinchilla(
    n: npt.NDArray[np.float64], d: npt.NDArray[np.float64], params: list[float]
) -> npt.NDArray[np.float64]: ...
def refit_chinchilla(
    n: npt.NDArray[np.float64],
    d: npt.NDArray[np.float64],
    targets: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    *,
    loss: str,
    delta: float,
    space: str,
    starts: npt.NDArray[np.float64],
    lower: npt.NDArray[np.float64],
    upper: npt.NDArray[np.float64],
    fixed: list[bool],
    ftol: float,
    xtol: float,
    gtol: float,
    max_evals: int,
) -> dict[str, Any]: ...
def fit_power_law(
    x: npt.NDArray[np.float64],
    targets: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64] | None,
    *,
    loss: str,
    delta: float,
    space: str,
    starts: npt.NDArray[np.float64],
    lower: npt.NDArray[np.float64],
    upper: npt.NDArray[np.float64],
    fixed: list[bool],
    ftol: float,
    xtol: float,
    gtol: float,
    max_evals: int,
) -> dict[str, Any]: ...
def predict_power_law(x: npt.NDArray[np.float64], params: list[float]) -> npt.NDArray[np.float64]: ...
def power_law_grid_starts(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64] | None,
    *,
    keep: int,
    lower: npt.NDArray[np.float64],
    upper: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]: ...
def refit_power_law(
    x: npt.NDArray[np.float64],
    targets: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    *,
    loss: str,
    delta: float,
    space: str,
    starts: npt.NDArray[np.float64],
    lower: npt.NDArray[np.float64],
    upper: npt.NDArray[np.float64],
    fixed: list[bool],
    ftol: float,
    xtol: float,
    gtol: float,
    max_evals: int,
) -> dict[str, Any]: ...
def fit_many_power_law(
    x: npt.NDArray[np.float64],
    y: npt.NDArray[np.float64],
    counts: npt.NDArray[np.int64],
    *,
    starts: npt.NDArray[np.float64] | None,
    shared_starts: npt.NDArray[np.float64] | None,
    grid_keep: int,
    loss: str,
    delta: float,
    space: str,
    lower: npt.NDArray[np.float64],
    upper: npt.NDArray[np.float64],
    fixed: list[bool],
    ftol: float,
    xtol: float,
    gtol: float,
    max_evals: int,
    method: str = "auto",
) -> dict[str, Any]: ...
