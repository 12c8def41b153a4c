"""The base of every law (names, bounds, parameter vectors) and the prediction-request normaliser."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from lawfit._validate import LawfitInputError, as_float_array
from lawfit.curve import as_steps

if TYPE_CHECKING:
    pass

WARMUP_MODES = ("as_peak", "actual", "exclude")


def schedule_query(
    lr: Any, steps: Any, warmup_steps: int | None
) -> tuple[np.ndarray, int, np.ndarray, np.ndarray | None]:
    """Normalise a prediction request: (per-step LR, warmup length, sorted unique steps, inverse).

    ``lr`` is an array or a Schedule (which also supplies the warmup length); ``steps`` defaults to
    every step. Predictions at the sorted unique steps map back to the request by ``pred[inverse]``
    (``inverse`` is None when no reordering is needed).
    """
    from lawfit.schedules import Schedule

    if isinstance(lr, Schedule):
        w = lr.warmup_steps if warmup_steps is None else warmup_steps
        lr = lr.lr
    else:
        w = 0 if warmup_steps is None else warmup_steps
    lr_arr = as_float_array("lr", lr, nonnegative=True, allow_empty=False)
    if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or not 0 <= w <= lr_arr.size:
        raise LawfitInputError(f"warmup_steps must be an integer in [0, {lr_arr.size}], got {w!r}")
    if steps is None:
        return lr_arr, int(w), np.arange(1, lr_arr.size + 1, dtype=np.int64), None
    steps_arr = as_steps("steps", steps)
    if steps_arr.size and np.all(steps_arr[1:] > steps_arr[:-1]):
        return lr_arr, int(w), steps_arr, None
    query, inverse = np.unique(steps_arr, return_inverse=True)
    return lr_arr, int(w), np.ascontiguousarray(query, dtype=np.int64), inverse


class Law:
    """Base class of the laws. Subclasses declare ``name``, ``param_names`` and ``bounds``."""

    name: ClassVar[str] = "law"
    #: Default residual space of the law's objective.
    default_space: ClassVar[str] = "log"
    #: Residual spaces the law supports.
    spaces: ClassVar[tuple[str, ...]] = ("log", "linear")
    #: Whether ``fit_core`` accepts a ``progress(done, total)`` callback.
    reports_progress: ClassVar[bool] = False

    @property
    def param_names(self) -> tuple[str, ...]:
        """Names of the fitted parameters, in solver order."""
        raise NotImplementedError

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Default (lower, upper) bound of every parameter."""
        raise NotImplementedError

    def data_bounds(self, curves: Any) -> dict[str, tuple[float, float]]:
        """Default bounds for fitting ``curves``: :meth:`bounds` unless a law derives tighter ones
        from the data (e.g. from what the law itself implies about the loss)."""
        return self.bounds()

    def options(self) -> dict[str, Any]:
        """Constructor options, enough to rebuild the law with ``law_from_dict``."""
        return {}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: the law's name and options."""
        return {"name": self.name, "options": self.options()}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({opts})"

    def params_vector(self, params: Mapping[str, float]) -> np.ndarray:
        """Parameters as a vector in solver order; raises naming a missing or unknown key."""
        if not isinstance(params, Mapping):
            raise LawfitInputError(f"params must be a dict with keys {list(self.param_names)}")
        missing = [k for k in self.param_names if k not in params]
        unknown = [k for k in params if k not in self.param_names]
        if missing or unknown:
            raise LawfitInputError(
                f"{type(self).__name__} parameters are {list(self.param_names)}; "
                f"missing {missing}, unknown {unknown}"
            )
        vec = np.array([float(params[k]) for k in self.param_names])
        bad = ~np.isfinite(vec)
        if bad.any():
            k = self.param_names[int(np.argmax(bad))]
            raise LawfitInputError(f"parameter {k} is {params[k]!r}; parameters must be finite")
        return vec

    def predict_with_jacobian(
        self, params: Mapping[str, float], curves: Sequence[Any]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted loss at the logged steps of ``curves`` and its analytic Jacobian.

        Parameters
        ----------
        params : dict
            The law's parameters by name (``param_names``).
        curves : sequence of Curve
            The runs; their logged points are concatenated in order.

        Returns
        -------
        pred : ndarray, shape (n,)
            The law's value at every logged point (loss units), as :meth:`predict_curves`.
        jac : ndarray, shape (n, p)
            ∂pred/∂θ, columns in ``param_names`` order (the derivatives the solver uses).

        Raises
        ------
        LawfitInputError
            The law has no analytic Jacobian in lawfit (``MultiPowerLaw``,
            ``FunctionalScalingLaw`` and ``ConvexBoundLaw`` have one).
        """
        return self._at_curves(params, curves, gradients=True)

    def jacobian(self, params: Mapping[str, float], curves: Sequence[Any]) -> np.ndarray:
        """∂pred/∂θ at the logged steps of ``curves``, shape (n, p), columns in ``param_names``
        order; see :meth:`predict_with_jacobian` (which also returns the values)."""
        return self.predict_with_jacobian(params, curves)[1]

    def _at_curves(self, params: Mapping[str, float], curves: Sequence[Any], *, gradients: bool) -> Any:
        """The law's Rust evaluation at the logged steps of ``curves``: values, or (values, Jacobian)
        with ``gradients``. Laws with an analytic Jacobian implement it."""
        raise LawfitInputError(f"{type(self).__name__} does not expose an analytic Jacobian; "
                               "MultiPowerLaw, FunctionalScalingLaw and ConvexBoundLaw do")

    # -- coordinates of the solver (identity unless a law fits transformed parameters) -----------
    def to_solver(self, vec: np.ndarray, *, name: str = "params") -> np.ndarray:
        """Public parameter vector(s) (last axis in ``param_names`` order) to solver coordinates
        (a copy; the identity for laws fitted in their own parameters). ``name`` labels errors."""
        return np.array(vec, dtype=np.float64, copy=True)

    def from_solver(self, vec: np.ndarray) -> np.ndarray:
        """Solver coordinates (last axis) to public parameter values (a copy)."""
        return np.array(vec, dtype=np.float64, copy=True)

    def solver_derivative(self, vec_solver: np.ndarray) -> np.ndarray:
        """d(public)/d(solver) per parameter at ``vec_solver``, shape (p,) (ones for the identity)."""
        return np.ones(np.shape(vec_solver)[-1])


def curve_size(curves: Any) -> dict[str, int]:
    """Size of a curve fit for a solver trace: longest schedule (``steps``) and logged ``points``."""
    return {"steps": max(int(c.lr.size) for c in curves), "points": sum(int(c.steps.size) for c in curves)}


def power_drop_grid(
    ln_x: np.ndarray, drop: np.ndarray, y: np.ndarray, exponents: np.ndarray
) -> tuple[float, float, float, float] | None:
    """Data-driven start of a loss-curve law ``y ≈ L0 + A·x^(−e) − B·drop``.

    For every exponent e of ``exponents`` the law is linear in (L0, A, B): one least-squares solve
    each; returns the (L0, A, e, B) of lowest squared error, or None when no solve is finite.
    ``ln_x`` is log of the law's "time" (S1, or the FSL's LR sum), ``drop`` the LR drop so far.
    """
    best: tuple[float, float, float, float, float] | None = None
    for e in exponents:
        design = np.column_stack([np.ones_like(y), np.exp(-e * ln_x), -drop])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        if not np.all(np.isfinite(coef)):
            continue
        sse = float(np.sum((design @ coef - y) ** 2))
        if best is None or sse < best[0]:
            best = (sse, float(coef[0]), float(coef[1]), float(e), float(coef[2]))
    return None if best is None else best[1:]


def block_weights(steps: Sequence[np.ndarray], k: int, weights: np.ndarray | None) -> list[np.ndarray]:
    """Weights of the points of each k-step blocked curve: the total weight of the points merged.

    ``steps`` are the 1-based logged steps of each curve, ``weights`` the (concatenated) weights of
    their points (None: all 1). A block keeps only its last logged point; weighting it by the
    points it stands for keeps the coarse objective close to the full one when the log is dense
    somewhere (log-spaced logs, whose early points would otherwise nearly vanish from the coarse
    fit). Returns one array per curve, of length its number of non-empty blocks.
    """
    out = []
    start = 0
    for st in steps:
        w = np.ones(st.size) if weights is None else weights[start : start + st.size]
        start += st.size
        _, inverse = np.unique((st - 1) // k, return_inverse=True)
        out.append(np.bincount(inverse, weights=w))
    return out
