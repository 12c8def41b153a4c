"""Typed stubs of the Rust extension ``lawfit._core`` (checked by ``python -m mypy.stubtest lawfit._core``).

Arrays typed ``_F64`` / ``_I64`` must be NumPy arrays of exactly that dtype (1-D, C-contiguous unless
said otherwise): the binding borrows them without converting. ``Sequence[...]`` arguments accept any
list or tuple. Names starting with ``_`` exist only in this stub (aliases and report layouts).
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Literal, TypeAlias, TypedDict, final, overload

import numpy as np
import numpy.typing as npt

__all__ = [
    "LawfitInputError",
    "SolverOptions",
    "Curves",
    "MomentumOptions",
    "MultiPowerOptions",
    "ConvexBoundOptions",
    "pool_threads",
    "areas",
    "areas_at",
    "fit_momentum",
    "predict_momentum",
    "fit_momentum_n",
    "predict_momentum_n",
    "least_squares",
    "multipower_predict",
    "fit_multipower",
    "chinchilla_default_starts",
    "fit_chinchilla",
    "predict_chinchilla",
    "refit_chinchilla",
    "fit_power_law",
    "predict_power_law",
    "power_law_grid_starts",
    "refit_power_law",
    "fit_many_power_law",
    "fsl_predict",
    "fit_fsl",
    "convex_bound_predict",
    "fit_convex_bound",
]

_F64: TypeAlias = npt.NDArray[np.float64]
_I64: TypeAlias = npt.NDArray[np.int64]
_Warmup: TypeAlias = Literal["as_peak", "actual", "exclude"]
_Loss: TypeAlias = Literal["linear", "huber", "soft_l1", "cauchy"]
_Space: TypeAlias = Literal["log", "linear"]
_S1Form: TypeAlias = Literal["repo", "paper"]
# progress(done, total): called from the calling thread while a multi-start runs; its result is ignored
# and an exception it raises stops the fit and propagates.
_Progress: TypeAlias = Callable[[int, int], object]
# prior=(means, weights): a Gaussian prior, 1/2 sum_j w_j (x_j - mu_j)^2 added to the cost; p values each in
# solver order, weights >= 0 in cost units (0 leaves a parameter free of the prior); a tuple, not a list.
_Prior: TypeAlias = tuple[Sequence[float], Sequence[float]]
#: Per-curve LR arrays (anything float-like; contiguous float64 arrays are borrowed, not copied) and
#: logged points (int64 arrays or sequences of int) of ``Curves``.
_Lrs: TypeAlias = Sequence[_F64 | Sequence[float]]
_Points: TypeAlias = Sequence[_I64 | Sequence[int]]
_GModel: TypeAlias = Literal["constant", "parametric"]
#: A law's parameter vector, in its ``param_names`` order.
_Params: TypeAlias = Sequence[float]

class _Report(TypedDict):
    """The best solve of a multi-start fit (p free + fixed parameters, solver order)."""

    params: _F64  # (p,)
    cost: float
    gradient: _F64  # (p,)
    hessian: _F64  # (p, p), Gauss-Newton matrix of the cost at params
    n_evals: int
    n_iter: int
    status: str  # Status variant name: Ftol, Xtol, Gtol, NothingToFit, MaxEvals, NonFiniteStart, Stalled
    message: str
    success: bool
    best_start: int  # index into the starts
    n_converged: int
    n_starts: int

class _ReportWithStats(_Report):
    """A report plus the linear-space residual sums of the best fit."""

    linear_sum_sq: float
    linear_sum_abs: float
    linear_total_sq: float

class _BatchReport(TypedDict):
    """Results of a batch of independent fits (n tasks, p parameters)."""

    params: _F64  # (n, p)
    cost: _F64  # (n,)
    success: npt.NDArray[np.bool_]  # (n,)
    status: npt.NDArray[np.uint8]  # (n,), indices into status_names
    status_names: list[str]
    n_evals: npt.NDArray[np.uint64]  # (n,)
    n_converged: npt.NDArray[np.uint64]  # (n,)

class LawfitInputError(ValueError): ...

@final
class SolverOptions:
    """The solver settings of a fit, validated once (robust loss, space, bounds, fixed parameters,
    tolerances, evaluation budget, Gaussian prior)."""

    def __new__(
        cls,
        *,
        loss: _Loss,
        delta: float,
        lower: Sequence[float],
        upper: Sequence[float],
        fixed: Sequence[bool],
        ftol: float,
        xtol: float,
        gtol: float,
        max_evals: int,
        space: _Space = "log",
        prior: _Prior | None = None,
        warm_start: bool = False,
    ) -> SolverOptions: ...
    @property
    def n_params(self) -> int: ...

# ---- the inputs of the curve laws, validated once ----

@final
class Curves:
    """A set of curves: per curve the LR of every step, its logged points and a warmup length (0 when
    ``warmups`` is None). One entry of each per curve, every logged point inside its schedule; checked
    on construction. The LR arrays are borrowed: do not resize them while the Curves are in use."""

    def __new__(cls, lrs: _Lrs, steps: _Points, warmups: Sequence[int] | None = None) -> Curves:
        """Curves from 1-based logged ``steps`` (as ``lawfit.Curve``)."""
    @staticmethod
    def from_indices(lrs: _Lrs, indices: _Points, warmups: Sequence[int] | None = None) -> Curves:
        """Curves from 0-based logged ``indices`` into each LR array."""
    def __len__(self) -> int: ...
    @property
    def n_points(self) -> int:
        """Logged points of all curves."""

@final
class MomentumOptions:
    """Options of the momentum laws: the areas' warmup mode and decay λ in [0, 1], and which of λ and
    the S2 exponent ζ are fitted (ζ's value when not). The N-extended law takes only warmup and decay."""

    def __new__(
        cls,
        *,
        warmup: _Warmup = "as_peak",
        decay: float = 0.999,
        fit_decay: bool = False,
        fit_zeta: bool = False,
        zeta: float = 1.0,
    ) -> MomentumOptions: ...

@final
class MultiPowerOptions:
    """Options of the multi-power law: exact or compressed sums, the S1 form and (``"paper"``) its
    warmup length (None: inferred per curve)."""

    def __new__(
        cls, *, exact: bool = False, s1_form: _S1Form = "repo", warmup_steps: int | None = None
    ) -> MultiPowerOptions: ...

@final
class ConvexBoundOptions:
    """Options of the convex last-iterate bound: the gradient-norm model and exact or fast sums."""

    def __new__(cls, *, g_model: _GModel = "constant", exact: bool = False) -> ConvexBoundOptions: ...
    @property
    def n_params(self) -> int:
        """Parameters of the law with this gradient model (3 or 7)."""

def pool_threads() -> int:
    """Threads of this process's lawfit pool (``RAYON_NUM_THREADS``, else one per logical CPU);
    the pool is rebuilt on the first call after a fork."""

def areas(
    lr: _F64,
    *,
    decay: float = 0.999,
    warmup_steps: int = 0,
    warmup: _Warmup = "as_peak",
    derivative: bool = False,
) -> _F64:
    """Rows S1, S2 (and dS2/dλ when ``derivative``) of one ``(2 or 3, len(lr))`` array."""

def areas_at(
    lr: _F64,
    steps: _I64,
    *,
    decay: float = 0.999,
    warmup_steps: int = 0,
    warmup: _Warmup = "as_peak",
) -> _F64:
    """Rows S1, S2 at the 1-based increasing ``steps``: a ``(2, len(steps))`` array."""

# ---- momentum laws ----
# targets and weights are the curves' logged losses concatenated; starts is (k, p) in solver order.

def fit_momentum(
    curves: Curves,
    targets: _F64,
    weights: _F64 | None,
    *,
    law: MomentumOptions,
    starts: _F64,
    progress: _Progress | None = None,
    options: SolverOptions,
) -> _ReportWithStats:
    """Fit the momentum law jointly over runs (p = 4, +1 with ``fit_decay``, +1 with ``fit_zeta``)."""

def predict_momentum(curves: Curves, params: Sequence[float], *, law: MomentumOptions) -> _F64:
    """Momentum-law predictions at the logged steps of each curve, concatenated: ``(n_points,)``."""

def fit_momentum_n(
    curves: Curves,
    sizes: Sequence[float],
    targets: _F64,
    weights: _F64 | None,
    *,
    law: MomentumOptions,
    starts: _F64,
    options: SolverOptions,
) -> _Report:
    """Fit the N-extended momentum law (p = 7) jointly over runs of model sizes ``sizes`` (one per run)."""

def predict_momentum_n(
    curves: Curves, sizes: Sequence[float], params: Sequence[float], *, law: MomentumOptions
) -> _F64:
    """N-extended momentum-law predictions at the logged steps of each curve, concatenated."""

def least_squares(
    fun: Callable[[_F64], npt.ArrayLike],
    jac: Callable[[_F64], npt.ArrayLike] | None,
    x0: Sequence[float],
    n_residuals: int,
    *,
    options: SolverOptions,
) -> _Report:
    """Minimise sum rho(fun(x)_i); ``fun`` returns ``n_residuals`` values, ``jac`` an ``(n_residuals, p)``
    array (forward differences when None)."""

# ---- multi-power law ----
_MultiPowerParams: TypeAlias = Mapping[str, float] | Sequence[float]

# The predict functions return values, or values and gradients with ``gradients=True``: one overload
# per return type (the argument lists are the same; Python has no way to write them once and keep
# the Literal dispatch), and ``gradients: bool`` for callers passing a variable.
@overload
def multipower_predict(curves: Curves, params: _MultiPowerParams, *, law: MultiPowerOptions,
                       gradients: Literal[False] = False) -> _F64: ...
@overload
def multipower_predict(curves: Curves, params: _MultiPowerParams, *, law: MultiPowerOptions,
                       gradients: Literal[True]) -> tuple[_F64, _F64]: ...
@overload
def multipower_predict(curves: Curves, params: _MultiPowerParams, *, law: MultiPowerOptions,
                       gradients: bool) -> _F64 | tuple[_F64, _F64]: ...

# ---- end multi-power law ----

def fit_multipower(
    curves: Curves,
    targets: _F64,
    weights: _F64 | None,
    *,
    law: MultiPowerOptions,
    starts: _F64,
    progress: _Progress | None = None,
    options: SolverOptions,
) -> _ReportWithStats:
    """Fit the multi-power law (p = 7) jointly over curves."""

# ---- size laws and batches ----
# Solver order: Chinchilla (e, a, b, alpha, beta), power law (a, b, c). Refits take one row of
# weights per replicate: an (n_rep, n) array.

def chinchilla_default_starts() -> _F64:
    """Epoch's grid of 4,500 Chinchilla starts: shape ``(4500, 5)``."""

def fit_chinchilla(
    n: _F64,
    d: _F64,
    targets: _F64,
    weights: _F64 | None,
    *,
    starts: _F64,
    polish: int = 32,
    screen_tol: float = 1e-2,
    screen_max_evals: int = 15,
    options: SolverOptions,
) -> _Report: ...
def predict_chinchilla(n: _F64, d: _F64, params: Sequence[float]) -> _F64: ...
def refit_chinchilla(
    n: _F64,
    d: _F64,
    targets: _F64,
    weights: _F64,
    *,
    starts: _F64,
    options: SolverOptions,
) -> _BatchReport: ...
def fit_power_law(
    x: _F64,
    targets: _F64,
    weights: _F64 | None,
    *,
    starts: _F64,
    options: SolverOptions,
) -> _Report: ...
def predict_power_law(x: _F64, params: Sequence[float]) -> _F64: ...
def power_law_grid_starts(
    x: _F64,
    y: _F64,
    weights: _F64 | None,
    *,
    keep: int,
    lower: _F64,
    upper: _F64,
) -> _F64:
    """Data-driven power-law starts: shape ``(k, 3)``."""

def refit_power_law(
    x: _F64,
    targets: _F64,
    weights: _F64,
    *,
    starts: _F64,
    options: SolverOptions,
) -> _BatchReport: ...
def fit_many_power_law(
    x: _F64,
    y: _F64,
    counts: _I64,
    *,
    starts: _F64 | None,
    shared_starts: _F64 | None,
    grid_keep: int,
    method: Literal["auto", "lm"] = "auto",
    options: SolverOptions,
) -> _BatchReport:
    """Independent power-law fits of the rows of ``y`` (n, m) against ``x`` (1 or n, m), row i on its
    first ``counts[i]`` points; ``starts`` (n, k, 3) per row, ``shared_starts`` (k, 3), or neither
    (data-driven, ``grid_keep`` per row)."""

# ---- end of size laws and batches ----

# ---- functional scaling law and convex last-iterate bound (issue 18) ----
# The FSL reads each curve's warmup from ``Curves`` (LR changes before it are not drops).
@overload
def fsl_predict(curves: Curves, params: _Params, *, exact: bool = False,
                gradients: Literal[False] = False) -> _F64:
    """FSL predictions at the logged steps of each curve (curves concatenated)."""
@overload
def fsl_predict(curves: Curves, params: _Params, *, exact: bool = False,
                gradients: Literal[True]) -> tuple[_F64, _F64]:
    """FSL predictions (n,) and their gradients (n, 7)."""
@overload
def fsl_predict(curves: Curves, params: _Params, *, exact: bool = False,
                gradients: bool) -> _F64 | tuple[_F64, _F64]: ...

def fit_fsl(
    curves: Curves,
    targets: _F64,
    weights: _F64 | None,
    *,
    exact: bool,
    starts: _F64,
    progress: _Progress | None = None,
    options: SolverOptions,
) -> _ReportWithStats:
    """Multi-start fit of the functional scaling law; the solver's report dict."""

@overload
def convex_bound_predict(curves: Curves, params: _Params, *, law: ConvexBoundOptions,
                         gradients: Literal[False] = False) -> _F64:
    """Convex-bound law predictions at the logged steps of each curve."""
@overload
def convex_bound_predict(curves: Curves, params: _Params, *, law: ConvexBoundOptions,
                         gradients: Literal[True]) -> tuple[_F64, _F64]:
    """Convex-bound law predictions (n,) and their gradients (n, p)."""
@overload
def convex_bound_predict(curves: Curves, params: _Params, *, law: ConvexBoundOptions,
                         gradients: bool) -> _F64 | tuple[_F64, _F64]: ...

def fit_convex_bound(
    curves: Curves,
    targets: _F64,
    weights: _F64 | None,
    *,
    law: ConvexBoundOptions,
    starts: _F64,
    progress: _Progress | None = None,
    options: SolverOptions,
) -> _ReportWithStats:
    """Multi-start fit of the convex-bound law; the solver's report dict."""
