"""The N-extended momentum law (Tissue et al. 2024, Eq. 7); math in src/laws/momentum_n.rs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lawfit import _core
from lawfit._options import core_curves, run_solver
from lawfit._validate import LawfitInputError
from lawfit.curve import Curve
from lawfit.laws.base import WARMUP_MODES, Law, curve_size, schedule_query

if TYPE_CHECKING:
    pass


class MomentumLawN(Law):
    r"""The N-extended momentum law (Tissue et al. 2024, Eq. 7), fitted over several model sizes.

    .. math:: L(s, N) = L_0 + A\,S_1^{-\alpha} + B\,N^{-\beta} - C\,S_2\,N^{\gamma}

    Every :class:`Curve` must carry its model size ``N`` (parameters).

    Parameters
    ----------
    decay : float, default 0.999
        Momentum decay λ of S2 (fixed).
    warmup : {"actual", "as_peak", "exclude"}, default "actual"
        Warmup convention of the areas (see :class:`MomentumLaw`).
    """

    name = "momentum_n"
    param_names_all = ("L0", "A", "alpha", "B", "beta", "C", "gamma")

    def __init__(self, *, decay: float = 0.999, warmup: str = "actual") -> None:
        if not (0.0 <= float(decay) <= 1.0):
            raise LawfitInputError(f"decay must lie in [0, 1], got {decay!r}")
        if warmup not in WARMUP_MODES:
            raise LawfitInputError(f"warmup must be one of {WARMUP_MODES}, got {warmup!r}")
        self.decay = float(decay)
        self.warmup = warmup

    @property
    def param_names(self) -> tuple[str, ...]:
        return self.param_names_all

    def bounds(self) -> dict[str, tuple[float, float]]:
        return {
            "L0": (0.0, np.inf),
            "A": (0.0, np.inf),
            "alpha": (0.0, 10.0),
            "B": (0.0, np.inf),
            "beta": (0.0, 5.0),
            "C": (0.0, np.inf),
            "gamma": (-2.0, 2.0),
        }

    def options(self) -> dict[str, Any]:
        return {"decay": self.decay, "warmup": self.warmup}

    def _core_options(self) -> _core.MomentumOptions:
        return _core.MomentumOptions(warmup=self.warmup, decay=self.decay)

    @staticmethod
    def _sizes(curves: Sequence[Curve]) -> list[float]:
        sizes = []
        for i, c in enumerate(curves):
            if c.N is None:
                raise LawfitInputError(f"curves[{i}] has no model size N; pass Curve(..., N=...)")
            sizes.append(float(c.N))
        return sizes

    def default_starts(self, curves: Sequence[Curve]) -> np.ndarray:
        """Best starts of a grid over (α, β, γ), each with (L0, A, B, C) by linear least squares."""
        sizes = self._sizes(curves)
        cols = []
        for c, n in zip(curves, sizes, strict=True):
            a1, a2 = _core.areas(c.lr, decay=self.decay, warmup_steps=c.warmup_steps, warmup=self.warmup)[:2]
            idx = c.steps - 1
            take = np.unique(np.linspace(0, idx.size - 1, min(2048, idx.size)).astype(np.int64))
            ok = a1[idx[take]] > 0
            cols.append(
                (np.log(a1[idx[take]][ok]), a2[idx[take]][ok], np.full(ok.sum(), np.log(n)), c.loss[take][ok])
            )
        ln_s1, s2, ln_n, y = (np.concatenate([c[i] for c in cols]) for i in range(4))
        results = []
        for alpha in (0.2, 0.35, 0.5, 0.65, 0.8):
            for beta in (0.1, 0.2, 0.35, 0.5):
                for gamma in (-0.2, 0.0, 0.1, 0.3):
                    design = np.column_stack(
                        [
                            np.ones_like(y),
                            np.exp(-alpha * ln_s1),
                            np.exp(-beta * ln_n),
                            -s2 * np.exp(gamma * ln_n),
                        ]
                    )
                    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
                    if not np.all(np.isfinite(coef)):
                        continue
                    coef = np.maximum(coef, 1e-6)
                    sse = float(np.sum((design @ coef - y) ** 2))
                    results.append((sse, [coef[0], coef[1], alpha, coef[2], beta, coef[3], gamma]))
        results.sort(key=lambda t: t[0])
        return np.array([r[1] for r in results[:8]], dtype=np.float64)

    def fit_core(
        self, curves: Sequence[Curve], targets: np.ndarray, weights: np.ndarray | None, **kwargs: Any
    ) -> dict[str, Any]:
        """Run the Rust multi-start solver; returns its report dict."""
        return run_solver(_core.fit_momentum_n, core_curves(curves), self._sizes(curves), targets, weights,
                          law=self._core_options(), size=curve_size(curves), **kwargs)

    def predict_curves(self, params: Mapping[str, float], curves: Sequence[Curve]) -> np.ndarray:
        """Predicted loss at the logged steps of ``curves`` (concatenated)."""
        return _core.predict_momentum_n(core_curves(curves), self._sizes(curves),
                                        list(self.params_vector(params)), law=self._core_options())

    def predict(
        self,
        params: Mapping[str, float],
        lr: Any,
        steps: Any = None,
        *,
        N: float,
        warmup_steps: int | None = None,
    ) -> np.ndarray:
        """Predicted loss of a model of size ``N`` under schedule ``lr`` at ``steps`` (default all)."""
        lr_arr, w, query, inverse = schedule_query(lr, steps, warmup_steps)
        pred = _core.predict_momentum_n(
            _core.Curves([lr_arr], [query], [int(w)]), [float(N)], list(self.params_vector(params)),
            law=self._core_options(),
        )
        return pred if inverse is None else pred[inverse]
