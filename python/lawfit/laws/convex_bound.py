"""The convex last-iterate bound as a loss-curve law (Schaipp et al. 2025); src/laws/convex_bound.rs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from lawfit import _core
from lawfit._options import core_curves, run_solver
from lawfit._validate import LawfitInputError
from lawfit.curve import Curve
from lawfit.laws.base import Law, curve_size, schedule_query

G_MODELS = ("constant", "parametric")


class ConvexBoundLaw(Law):
    r"""The refined last-iterate bound of convex SGD (Defazio et al. 2023) as a law (Schaipp et al.,
    ICML 2025, arXiv 2501.18965): loss(T) ≈ C + M·Ω_T, with

    .. math::
        \Omega_T = \frac{D^2}{2\sum_{t\le T}\eta_t} + \frac{\sum_{t\le T}\eta_t^2 G_t^2}{2\sum_{t\le T}\eta_t}
        + \frac12\sum_{k=1}^{T-1}\frac{\eta_k}{\sum_{t=k+1}^{T}\eta_t}
          \cdot\frac{\sum_{t=k}^{T}\eta_t^2G_t^2}{\sum_{t=k}^{T}\eta_t}

    the bound of the schedule truncated at each logged step T. M scales D² and every G_t² alike,
    so lawfit fixes M = 1 (the fitted D and G absorb it). Steps with η = 0 do not move the iterate:
    the bound there is the bound at the last step with η > 0.

    Parameters
    ----------
    g_model : {"constant", "parametric"}, default "constant"
        ``"constant"``: G_t = G, parameters ``C, D, G`` (the law is linear in C, D², G², and the
        schedule's two terms are computed once). ``"parametric"``: G_t = G1·e^(A1·t) + G2·t^(A2) + B
        (t the 1-based step), parameters ``C, D, G1, A1, G2, A2, B``.
    exact : bool, default False
        Sum the bound literally (O(T·n)) instead of the exponential sum (O(J·T), relative error
        ≤ ~1e-9).
    """

    name = "convex-bound"
    default_space = "log"

    def __init__(self, *, g_model: str = "constant", exact: bool = False) -> None:
        if g_model not in G_MODELS:
            raise LawfitInputError(f"g_model must be one of {G_MODELS}, got {g_model!r}")
        self.g_model = g_model
        self.exact = bool(exact)

    @property
    def param_names(self) -> tuple[str, ...]:
        if self.g_model == "constant":
            return ("C", "D", "G")
        return ("C", "D", "G1", "A1", "G2", "A2", "B")

    def bounds(self) -> dict[str, tuple[float, float]]:
        b = {"C": (0.0, np.inf), "D": (0.0, np.inf)}
        if self.g_model == "constant":
            b["G"] = (0.0, np.inf)
        else:
            b.update({"G1": (0.0, np.inf), "A1": (-1.0, 0.0), "G2": (0.0, np.inf), "A2": (-2.0, 2.0),
                      "B": (0.0, np.inf)})
        return b

    def options(self) -> dict[str, Any]:
        return {"g_model": self.g_model, "exact": self.exact}

    def _terms(self, curves: Sequence[Curve]) -> tuple[np.ndarray, np.ndarray]:
        """The constant-G bound's two terms 1/(2P_T) and its G²-coefficient at every logged point."""
        core, law = core_curves(curves), _core.ConvexBoundOptions(exact=self.exact)
        phi = np.asarray(_core.convex_bound_predict(core, [0.0, 1.0, 0.0], law=law))
        kappa = np.asarray(_core.convex_bound_predict(core, [0.0, 0.0, 1.0], law=law))
        return phi, kappa

    def default_starts(self, curves: Sequence[Curve]) -> np.ndarray:
        """Starts from the linear least-squares fit of loss = C + D²·φ + G²·κ (non-negative).

        Constant G: that fit and three perturbations of it. Parametric: G1 = G2 = B = G/3,
        A1 ∈ {−1, −10}/T_end (T_end the longest schedule, in steps), A2 = 0.
        """
        phi, kappa = self._terms(curves)
        y = np.concatenate([c.loss for c in curves])
        coef = _nnls(np.column_stack([np.ones_like(y), phi, kappa]), y)
        c0, d2, g2 = coef
        c0 = max(c0, 1e-6)
        d, g = np.sqrt(max(d2, 1e-12)), np.sqrt(max(g2, 1e-12))
        base = [[c0, d, g], [c0, 2 * d, 0.5 * g], [c0, 0.5 * d, 2 * g], [0.8 * c0, d, g]]
        if self.g_model == "constant":
            return np.array(base, dtype=np.float64)
        t_end = max(c.lr.size for c in curves)
        starts = []
        for c_, d_, g_ in base[:2]:
            for a1 in (-1.0 / t_end, -10.0 / t_end):
                starts.append([c_, d_, g_ / 3, a1, g_ / 3, 0.0, g_ / 3])
        return np.array(starts, dtype=np.float64)

    def fit_core(
        self, curves: Sequence[Curve], targets: np.ndarray, weights: np.ndarray | None, **kwargs: Any
    ) -> dict[str, Any]:
        """Run the Rust multi-start solver; returns its report dict."""
        return run_solver(_core.fit_convex_bound, core_curves(curves), targets, weights,
                          law=self._core_options(), size=curve_size(curves), **kwargs)

    def _core_options(self) -> _core.ConvexBoundOptions:
        return _core.ConvexBoundOptions(g_model=self.g_model, exact=self.exact)

    def predict_curves(self, params: Mapping[str, float], curves: Sequence[Curve]) -> np.ndarray:
        """Predicted loss at the logged steps of ``curves`` (concatenated)."""
        return np.asarray(self._at_curves(params, curves, gradients=False))

    def _at_curves(self, params: Mapping[str, float], curves: Sequence[Curve], *, gradients: bool) -> Any:
        """Values at the logged steps of ``curves`` (and, with ``gradients``, the (n, p) Jacobian)."""
        return _core.convex_bound_predict(core_curves(curves), self.params_vector(params).tolist(),
                                          law=self._core_options(), gradients=gradients)

    def predict(
        self, params: Mapping[str, float], lr: Any, steps: Any = None, *, warmup_steps: int | None = None
    ) -> np.ndarray:
        """Predicted loss under schedule ``lr`` (array, shape (T,), or Schedule) at 1-based ``steps``.

        Steps with no positive LR at or before them predict +inf. ``warmup_steps`` is accepted for
        a uniform interface and unused (the bound sums the schedule as it is).
        """
        lr_arr, _, query, inverse = schedule_query(lr, steps, warmup_steps)
        ok = np.maximum.accumulate(lr_arr > 0)[query - 1]
        pred = np.full(query.size, np.inf)
        if ok.any():
            pred[ok] = _core.convex_bound_predict(
                _core.Curves([lr_arr], [query[ok]]), self.params_vector(params).tolist(),
                law=self._core_options(),
            )
        return pred if inverse is None else pred[inverse]


def _nnls(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Non-negative least squares of a few columns by active-set enumeration (columns scaled)."""
    import itertools

    scale = np.maximum(np.abs(a).max(axis=0), 1e-300)
    a_s = a / scale
    best: tuple[float, np.ndarray] | None = None
    p = a.shape[1]
    for r in range(1, p + 1):
        for cols in itertools.combinations(range(p), r):
            sub = a_s[:, cols]
            coef, *_ = np.linalg.lstsq(sub, y, rcond=None)
            if np.any(coef < 0) or not np.all(np.isfinite(coef)):
                continue
            full = np.zeros(p)
            full[list(cols)] = coef
            sse = float(np.sum((a_s @ full - y) ** 2))
            if best is None or sse < best[0]:
                best = (sse, full)
    return np.zeros(p) if best is None else best[1] / scale
