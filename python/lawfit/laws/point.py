"""The base of laws of data points (loss versus model size, data size or compute).

They are fitted with ``lf.fit(law, N=..., D=..., loss=...)`` or ``lf.fit(law, x=..., y=...)``.
Each law may fit in *solver coordinates* that differ from its public parameters (Chinchilla fits
log E, log A, log B); :meth:`PointLaw.to_solver` and :meth:`PointLaw.from_solver` convert, one
monotone map per parameter, so bounds and fixed values carry over exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from lawfit._options import solver_options
from lawfit._validate import LawfitInputError, as_float_array
from lawfit.laws.base import Law

if TYPE_CHECKING:
    pass

LN10 = math.log(10.0)


class PointLaw(Law):
    """Base class of laws fitted to data points (``lf.fit(law, x=..., y=...)``).

    Subclasses declare ``data_names`` (the data keywords, e.g. ``("N", "D")``), ``param_names``,
    ``solver_names`` and ``transforms`` (per parameter: ``"log"`` when the solver fits its
    logarithm, else ``None``), and implement :meth:`fit_points` and :meth:`predict`.
    """

    #: Data keywords of ``lf.fit`` this law needs, in order.
    data_names: ClassVar[tuple[str, ...]] = ("x",)
    #: Names of the solver coordinates.
    solver_names: ClassVar[tuple[str, ...]] = ()
    #: Per-parameter map from public value to solver coordinate: "log" or None (identity).
    transforms: ClassVar[tuple[str | None, ...]] = ()
    #: Robust loss used when ``lf.fit`` is not given one.
    default_loss: ClassVar[str] = "huber"
    #: Whether every value of ``y`` must be positive (log residuals or a log-log fit).
    positive_targets: ClassVar[bool] = False

    @property
    def param_names(self) -> tuple[str, ...]:
        raise NotImplementedError

    # -- coordinates ---------------------------------------------------------------------
    def to_solver(self, vec: np.ndarray, *, name: str = "params") -> np.ndarray:
        """Public parameter vector(s) (last axis in ``param_names`` order) to solver coordinates.

        A log-transformed parameter must be positive (0 maps to −inf, allowed for bounds only).
        """
        out = np.array(vec, dtype=np.float64, copy=True)
        for j, t in enumerate(self.transforms):
            if t == "log":
                col = out[..., j]
                if np.any(col < 0) or np.any(np.isnan(col)):
                    k = self.param_names[j]
                    raise LawfitInputError(f"{name}: {k} must be positive, got {col.ravel().tolist()[:4]}")
                with np.errstate(divide="ignore"):
                    out[..., j] = np.log(col)
        return out

    def from_solver(self, vec: np.ndarray) -> np.ndarray:
        """Solver coordinates (last axis) to public parameter values."""
        out = np.array(vec, dtype=np.float64, copy=True)
        for j, t in enumerate(self.transforms):
            if t == "log":
                out[..., j] = np.exp(out[..., j])
        return out

    def solver_derivative(self, vec_solver: np.ndarray) -> np.ndarray:
        """d(public)/d(solver) per parameter at ``vec_solver`` (the maps are element-wise)."""
        vec_solver = np.asarray(vec_solver, dtype=np.float64)
        return np.array([math.exp(v) if t == "log" else 1.0
                         for v, t in zip(vec_solver, self.transforms, strict=True)])

    # -- data ----------------------------------------------------------------------------
    def check_data(self, data: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Validate the data keywords: exactly ``data_names``, 1-D float arrays of one length."""
        given = sorted(data)
        if given != sorted(self.data_names):
            raise LawfitInputError(
                f"{type(self).__name__} is fitted to data {list(self.data_names)}; got {given or 'none'}"
            )
        out = {k: as_float_array(k, data[k], finite=False, allow_empty=False) for k in self.data_names}
        n = {k: v.size for k, v in out.items()}
        if len(set(n.values())) > 1:
            raise LawfitInputError(f"data arrays must have one length; got {n}")
        return out

    def default_starts_points(self, data: Mapping[str, np.ndarray], y: np.ndarray,
                              weights: np.ndarray | None, *, lower: np.ndarray | None = None,
                              upper: np.ndarray | None = None) -> np.ndarray:
        """Default starts, shape (k, p), in solver coordinates (``lower``/``upper``: solver bounds)."""
        raise NotImplementedError

    def fit_points(self, data: Mapping[str, np.ndarray], y: np.ndarray, weights: np.ndarray | None,
                   **solver: Any) -> dict[str, Any]:
        """Run the solver; returns the Rust report dict (solver coordinates)."""
        raise NotImplementedError

    def refit_points(self, data: Mapping[str, np.ndarray], y: np.ndarray, weights: np.ndarray,
                     **solver: Any) -> dict[str, Any]:
        """Refit once per row of ``weights`` (shape (n_rep, n)); dict of arrays (solver coordinates).

        The default runs :meth:`fit_points` per row; laws with a Rust batch override it.
        """
        reps = [self.fit_points(data, y, np.ascontiguousarray(w), **solver) for w in weights]
        return {
            "params": np.array([r["params"] for r in reps]),
            "cost": np.array([r["cost"] for r in reps]),
            "success": np.array([r["success"] for r in reps]),
        }

    def curve(self, params: Mapping[str, Any], x: Any) -> np.ndarray:
        """Vectorised NumPy evaluation for one-input laws, broadcasting the parameter values (scalars
        or arrays) against ``x`` (used by :func:`lawfit.crossover` over bootstrap replicates)."""
        raise LawfitInputError(f"{type(self).__name__} is not a law of one variable x")


def _solver_kwargs(solver: Mapping[str, Any]) -> dict[str, Any]:
    """The binding's keywords of a point-law fit: its starts and one SolverOptions."""
    return {"starts": solver["starts"], "options": solver_options(solver)}
