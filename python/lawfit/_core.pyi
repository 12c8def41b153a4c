"""Typed stubs of the Rust extension ``lawfit._core``."""

from collections.abc import Mapping, Sequence
from typing import Any, Literal, overload

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
) -> npt.NDArray[np.float64]:
    """Rows S1, S2 (and dS2/dλ when ``derivative``) of one ``(2 or 3, len(lr))`` array."""

def areas_at(
    lr: npt.NDArray[np.float64],
    steps: npt.NDArray[np.int64],
    *,
    decay: float = 0.999,
    warmup_steps: int = 0,
    warmup: str = "as_peak",
) -> npt.NDArray[np.float64]:
    """Rows S1, S2 at the 1-based increasing ``steps``: a ``(2, len(steps))`` array."""

def fit_momentum(*args: object, **kwargs: object) -> dict[str, object]: ...
def predict_momentum(*args: object, **kwargs: object) -> npt.NDArray[np.float64]: ...
def fit_momentum_n(*args: object, **kwargs: object) -> dict[str, object]: ...
def predict_momentum_n(*args: object, **kwargs: object) -> npt.NDArray[np.float64]: ...
def least_squares(*args: object, **kwargs: object) -> dict[str, object]: ...
# ---- multi-power law ----
MultiPowerParams = Mapping[str, float] | Sequence[float]

@overload
def multipower_predict(
    lrs_list: Sequence[npt.ArrayLike],
    indices_list: Sequence[npt.NDArray[np.int64] | Sequence[int]],
    params: MultiPowerParams,
    *,
    exact: bool = False,
    gradients: Literal[False] = False,
    s1_form: Literal["repo", "paper"] = "repo",
    warmup_steps: int | None = None,
) -> npt.NDArray[np.float64]: ...
@overload
def multipower_predict(
    lrs_list: Sequence[npt.ArrayLike],
    indices_list: Sequence[npt.NDArray[np.int64] | Sequence[int]],
    params: MultiPowerParams,
    *,
    exact: bool = False,
    gradients: Literal[True],
    s1_form: Literal["repo", "paper"] = "repo",
    warmup_steps: int | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]: ...

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
def fit_multipower(*args: object, **kwargs: object) -> dict[str, object]: ...

# ---- functional scaling law and convex last-iterate bound (issue 18) ----
@overload
def fsl_predict(
    lrs: Sequence[npt.NDArray[np.float64]],
    indices: Sequence[npt.NDArray[np.int64]],
    warmups: Sequence[int],
    params: Sequence[float],
    *,
    exact: bool = False,
    gradients: Literal[False] = False,
) -> npt.NDArray[np.float64]:
    """FSL predictions at the 0-based ``indices`` of each schedule (curves concatenated)."""

@overload
def fsl_predict(
    lrs: Sequence[npt.NDArray[np.float64]],
    indices: Sequence[npt.NDArray[np.int64]],
    warmups: Sequence[int],
    params: Sequence[float],
    *,
    exact: bool = False,
    gradients: Literal[True],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """FSL predictions (n,) and their gradients (n, 7)."""

def fit_fsl(
    lrs: Sequence[npt.NDArray[np.float64]],
    indices: Sequence[npt.NDArray[np.int64]],
    warmups: Sequence[int],
    targets: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64] | None,
    *,
    exact: bool,
    loss: str,
    delta: float,
    space: str,
    starts: npt.NDArray[np.float64],
    lower: npt.NDArray[np.float64],
    upper: npt.NDArray[np.float64],
    fixed: Sequence[bool],
    ftol: float,
    xtol: float,
    gtol: float,
    max_evals: int,
    progress: Any = None,
) -> dict[str, Any]:
    """Multi-start fit of the functional scaling law; the solver's report dict."""

@overload
def convex_bound_predict(
    lrs: Sequence[npt.NDArray[np.float64]],
    indices: Sequence[npt.NDArray[np.int64]],
    params: Sequence[float],
    *,
    g_model: str = "constant",
    exact: bool = False,
    gradients: Literal[False] = False,
) -> npt.NDArray[np.float64]:
    """Convex-bound law predictions at the 0-based ``indices`` of each schedule."""

@overload
def convex_bound_predict(
    lrs: Sequence[npt.NDArray[np.float64]],
    indices: Sequence[npt.NDArray[np.int64]],
    params: Sequence[float],
    *,
    g_model: str = "constant",
    exact: bool = False,
    gradients: Literal[True],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Convex-bound law predictions (n,) and their gradients (n, p)."""

def fit_convex_bound(
    lrs: Sequence[npt.NDArray[np.float64]],
    indices: Sequence[npt.NDArray[np.int64]],
    targets: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64] | None,
    *,
    g_model: str,
    exact: bool,
    loss: str,
    delta: float,
    space: str,
    starts: npt.NDArray[np.float64],
    lower: npt.NDArray[np.float64],
    upper: npt.NDArray[np.float64],
    fixed: Sequence[bool],
    ftol: float,
    xtol: float,
    gtol: float,
    max_evals: int,
    progress: Any = None,
) -> dict[str, Any]:
    """Multi-start fit of the convex-bound law; the solver's report dict."""
