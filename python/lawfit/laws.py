"""Law classes: parameter names, bounds, default starts and predictions; the math runs in Rust."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from lawfit import _core
from lawfit._validate import LawfitInputError, as_float_array
from lawfit.curve import Curve, as_steps

if TYPE_CHECKING:
    from lawfit.schedules import Schedule

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
    #: Whether ``fit_core`` accepts a ``progress(done, total)`` callback.
    reports_progress: ClassVar[bool] = False

    @property
    def param_names(self) -> tuple[str, ...]:
        """Names of the fitted parameters, in solver order."""
        raise NotImplementedError

    def bounds(self) -> dict[str, tuple[float, float]]:
        """Default (lower, upper) bound of every parameter."""
        raise NotImplementedError

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


class MomentumLaw(Law):
    r"""The LR-annealing momentum law of Tissue et al. 2024 (arXiv 2408.11029).

    .. math:: L(s) = L_0 + A\,S_1(s)^{-\alpha} - C\,S_2(s)^{\zeta}

    with :math:`S_1` the forward LR area and :math:`S_2` the annealing area with momentum decay
    :math:`\lambda` (see :func:`lawfit.areas`); :math:`\zeta = 1` in the paper.

    Parameters
    ----------
    decay : float, default 0.999
        Momentum decay λ (the paper's default); the start value when ``fit_decay``.
    warmup : {"actual", "as_peak", "exclude"}, default "actual"
        How warmup steps enter the areas. ``"actual"`` (sum the real ramp) is the default because
        on the multi-power-law data it predicts held-out schedules better than the paper's
        ``"as_peak"`` (spec §2: mean PredE 0.0015/0.0014/0.0018 against 0.0021/0.0020/0.0023);
        pass ``"as_peak"`` to reproduce the paper's fits.
    fit_decay : bool, default False
        Fit λ as a fifth parameter ``decay`` (uses the analytic dS2/dλ).
    zeta : float, default 1.0
        Exponent of S2; the start value when ``fit_zeta``.
    fit_zeta : bool, default False
        Fit ζ as a parameter ``zeta`` (the paper's S2^ζ extension, ζ ≈ 1.125).
    """

    name = "momentum"
    reports_progress = True

    def __init__(
        self,
        *,
        decay: float = 0.999,
        warmup: str = "actual",
        fit_decay: bool = False,
        zeta: float = 1.0,
        fit_zeta: bool = False,
    ) -> None:
        if not (0.0 <= float(decay) <= 1.0):
            raise LawfitInputError(f"decay must lie in [0, 1], got {decay!r}")
        if warmup not in WARMUP_MODES:
            raise LawfitInputError(f"warmup must be one of {WARMUP_MODES}, got {warmup!r}")
        if not (np.isfinite(zeta) and zeta > 0):
            raise LawfitInputError(f"zeta must be positive, got {zeta!r}")
        self.decay = float(decay)
        self.warmup = warmup
        self.fit_decay = bool(fit_decay)
        self.zeta = float(zeta)
        self.fit_zeta = bool(fit_zeta)

    @property
    def param_names(self) -> tuple[str, ...]:
        names = ["L0", "A", "alpha", "C"]
        if self.fit_decay:
            names.append("decay")
        if self.fit_zeta:
            names.append("zeta")
        return tuple(names)

    def bounds(self) -> dict[str, tuple[float, float]]:
        b = {"L0": (0.0, np.inf), "A": (0.0, np.inf), "alpha": (0.0, 10.0), "C": (0.0, np.inf)}
        if self.fit_decay:
            b["decay"] = (0.0, 1.0)
        if self.fit_zeta:
            b["zeta"] = (0.05, 5.0)
        return b

    def options(self) -> dict[str, Any]:
        return {
            "decay": self.decay,
            "warmup": self.warmup,
            "fit_decay": self.fit_decay,
            "zeta": self.zeta,
            "fit_zeta": self.fit_zeta,
        }

    # -- shared plumbing -------------------------------------------------------------------
    def _core_kwargs(self) -> dict[str, Any]:
        return {
            "warmup": self.warmup,
            "decay": self.decay,
            "fit_decay": self.fit_decay,
            "fit_zeta": self.fit_zeta,
            "zeta": self.zeta,
        }

    def default_starts(self, curves: Sequence[Curve]) -> np.ndarray:
        """The paper's grid of 54 starts plus data-driven ones.

        The grid is L0 ∈ {0.1, 2.1}, A, C ∈ {1, 11.5, 22}, α ∈ {0, 0.4, 0.8} (Tissue et al.).
        The data-driven starts use that the law is linear in (L0, A, C) for fixed α: a linear
        least-squares fit on a subsample for each α of a grid gives the three best α.
        """
        grid = [
            [l0, a, alpha, c]
            for l0 in (0.1, 2.1)
            for a in (1.0, 11.5, 22.0)
            for c in (1.0, 11.5, 22.0)
            for alpha in (0.0, 0.4, 0.8)
        ]
        starts = [*self._linear_starts(curves), *grid]
        extra = []
        if self.fit_decay:
            extra.append(self.decay)
        if self.fit_zeta:
            extra.append(self.zeta)
        return np.array([s + extra for s in starts], dtype=np.float64)

    def _linear_starts(self, curves: Sequence[Curve], n_best: int = 3) -> list[list[float]]:
        ln_s1, s2, y = [], [], []
        budget = max(1, 4096 // max(1, len(curves)))
        for c in curves:
            # Areas at a subsample of the logged steps only: no per-step arrays.
            take = np.unique(np.linspace(0, c.steps.size - 1, min(budget, c.steps.size)).astype(np.int64))
            s1v, s2v = _core.areas_at(
                c.lr, np.ascontiguousarray(c.steps[take]), decay=self.decay,
                warmup_steps=c.warmup_steps, warmup=self.warmup,
            )
            ok = s1v > 0
            ln_s1.append(np.log(s1v[ok]))
            s2.append(s2v[ok])
            y.append(c.loss[take][ok])
        ln_s1_a, s2_a, y_a = np.concatenate(ln_s1), np.concatenate(s2), np.concatenate(y)
        if y_a.size < 4:
            return []
        results = []
        for alpha in np.linspace(0.05, 1.5, 30):
            design = np.column_stack([np.ones_like(y_a), np.exp(-alpha * ln_s1_a), -s2_a])
            coef, *_ = np.linalg.lstsq(design, y_a, rcond=None)
            if not np.all(np.isfinite(coef)):
                continue
            coef = np.maximum(coef, 1e-6)
            sse = float(np.sum((design @ coef - y_a) ** 2))
            results.append((sse, [float(coef[0]), float(coef[1]), float(alpha), float(coef[2])]))
        results.sort(key=lambda t: t[0])
        return [r[1] for r in results[:n_best]]

    def fit_core(
        self,
        curves: Sequence[Curve],
        targets: np.ndarray,
        weights: np.ndarray | None,
        *,
        starts: np.ndarray,
        lower: np.ndarray,
        upper: np.ndarray,
        fixed: list[bool],
        loss: str,
        delta: float,
        space: str,
        ftol: float,
        xtol: float,
        gtol: float,
        max_evals: int,
        progress: Any = None,
    ) -> dict[str, Any]:
        """Run the Rust multi-start solver; returns its report dict.

        With λ or ζ free, the nested 4-parameter law is fitted first (extras held at their start
        values) and its optimum joins the starts, so the larger law never ends worse than it.
        """

        def run(starts_: np.ndarray, fixed_: list[bool]) -> dict[str, Any]:
            return _core.fit_momentum(
                [c.lr for c in curves],
                [c.steps for c in curves],
                targets,
                weights,
                warmup_steps=[c.warmup_steps for c in curves],
                loss=loss,
                delta=delta,
                space=space,
                starts=starts_,
                lower=lower,
                upper=upper,
                fixed=fixed_,
                ftol=ftol,
                xtol=xtol,
                gtol=gtol,
                max_evals=max_evals,
                progress=progress,
                **self._core_kwargs(),
            )

        if len(self.param_names) > 4 and not all(fixed[4:]):
            nested = run(starts, [*fixed[:4], *([True] * (len(fixed) - 4))])
            starts = np.ascontiguousarray(np.vstack([nested["params"], starts]))
        return run(starts, fixed)

    def predict_curves(self, params: Mapping[str, float], curves: Sequence[Curve]) -> np.ndarray:
        """Predicted loss at the logged steps of ``curves`` (concatenated)."""
        vec = self.params_vector(params)
        return _core.predict_momentum(
            [c.lr for c in curves],
            [c.steps for c in curves],
            list(vec),
            warmup_steps=[c.warmup_steps for c in curves],
            **self._core_kwargs(),
        )

    def predict(
        self,
        params: Mapping[str, float],
        lr: np.ndarray | Schedule,
        steps: Any = None,
        *,
        warmup_steps: int | None = None,
    ) -> np.ndarray:
        """Predicted loss under a learning-rate schedule.

        Parameters
        ----------
        params : dict
            Law parameters by name (see :attr:`param_names`).
        lr : array_like, shape (T,), or Schedule
            LR of every step.
        steps : array_like of int, optional
            1-based steps to predict at (default: every step 1..T).
        warmup_steps : int, optional
            Warmup length (default: the Schedule's, else 0).

        Returns
        -------
        ndarray, shape (len(steps),)
            Predicted loss.
        """
        lr_arr, w, query, inverse = schedule_query(lr, steps, warmup_steps)
        pred = _core.predict_momentum(
            [lr_arr], [query], list(self.params_vector(params)), warmup_steps=[w], **self._core_kwargs()
        )
        return pred if inverse is None else pred[inverse]


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
        return _core.fit_momentum_n(
            [c.lr for c in curves],
            [c.steps for c in curves],
            self._sizes(curves),
            targets,
            weights,
            warmup_steps=[c.warmup_steps for c in curves],
            warmup=self.warmup,
            decay=self.decay,
            **kwargs,
        )

    def predict_curves(self, params: Mapping[str, float], curves: Sequence[Curve]) -> np.ndarray:
        """Predicted loss at the logged steps of ``curves`` (concatenated)."""
        return _core.predict_momentum_n(
            [c.lr for c in curves],
            [c.steps for c in curves],
            self._sizes(curves),
            list(self.params_vector(params)),
            warmup_steps=[c.warmup_steps for c in curves],
            warmup=self.warmup,
            decay=self.decay,
        )

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
            [lr_arr],
            [query],
            [float(N)],
            list(self.params_vector(params)),
            warmup_steps=[int(w)],
            warmup=self.warmup,
            decay=self.decay,
        )
        return pred if inverse is None else pred[inverse]


class MultiPowerLaw(Law):
    r"""The multi-power law of Luo et al., ICLR 2025 (arXiv 2503.12811).

    .. math::
        L(t) = L_0 + A\,(S_1(t) + S_W)^{-\alpha} - LD(t),\quad
        LD(t) = B \sum_{k=1}^{t} (\eta_{k-1} - \eta_k)\, G(\eta_k^{-\gamma} S_k(t)),\quad
        G(x) = 1 - (C x + 1)^{-\beta}

    with :math:`S_k(t) = \sum_{\tau=k}^{t} \eta_\tau`. Parameters ``L0, A, alpha, B, C, beta,
    gamma``.

    Parameters
    ----------
    s1_form : {"repo", "paper"}, default "repo"
        ``"repo"``: S1 sums the whole schedule including the warmup ramp (the paper's code, whose
        published numbers lawfit reproduces); ``"paper"``: S1 starts after the warmup plus
        S_W = ½·η_max·W.
    exact : bool, default False
        Sum LD literally (O(K·n)); the default compresses it into an exponential sum along the
        schedule (O(J·T), relative error of L̂ ≤ 1e-7; see the Rust module documentation).
    """

    name = "multipower"
    reports_progress = True

    def __init__(self, *, s1_form: str = "repo", exact: bool = False) -> None:
        if s1_form not in ("repo", "paper"):
            raise LawfitInputError(f"s1_form must be 'repo' or 'paper', got {s1_form!r}")
        self.s1_form = s1_form
        self.exact = bool(exact)

    @property
    def param_names(self) -> tuple[str, ...]:
        return ("L0", "A", "alpha", "B", "C", "beta", "gamma")

    def bounds(self) -> dict[str, tuple[float, float]]:
        return {
            "L0": (0.0, np.inf),
            "A": (0.0, np.inf),
            "alpha": (0.0, 5.0),
            "B": (0.0, np.inf),
            "C": (0.0, np.inf),
            "beta": (0.0, 1.0),
            "gamma": (0.0, 1.0),
        }

    def options(self) -> dict[str, Any]:
        return {"s1_form": self.s1_form, "exact": self.exact}

    @staticmethod
    def _warmup(curves: Sequence[Curve]) -> int | None:
        ws = {c.warmup_steps for c in curves}
        return ws.pop() if len(ws) == 1 and 0 not in ws else None

    #: Logged points above which the grid fit of :meth:`default_starts` subsamples.
    STARTS_SUBSAMPLE_ABOVE: ClassVar[int] = 200_000
    #: Points the subsampled grid fit keeps (about).
    STARTS_MAX_POINTS: ClassVar[int] = 50_000

    def default_starts(self, curves: Sequence[Curve]) -> np.ndarray:
        """Starts as in the paper's code, plus a small grid around them.

        A grid fit of the linear form L0 + A·S1^(−α) − B·(η_max − η_t) gives L0, A, α and B (linear
        least squares for each α); then C = 1, β = γ = 0.5 (the repository's initialisation), and
        C ∈ {1, 3}, β, γ ∈ {0.3, 0.7} around it. Above ``STARTS_SUBSAMPLE_ABOVE`` logged points the
        grid fit uses every m-th point (at most ``STARTS_MAX_POINTS``).
        """
        ln_s1, drop, y = [], [], []
        n_points = sum(c.steps.size for c in curves)
        # A long log's grid fit runs on evenly spaced points (it only seeds the starts).
        stride = -(-n_points // self.STARTS_MAX_POINTS) if n_points > self.STARTS_SUBSAMPLE_ABOVE else 1
        for c in curves:
            idx = (c.steps - 1)[::stride]
            s1 = np.cumsum(c.lr)[idx]
            keep = s1 > 0
            ln_s1.append(np.log(s1[keep]))
            drop.append((c.lr.max() - c.lr[idx])[keep])
            y.append(c.loss[::stride][keep])
        ln_s1_a, drop_a, y_a = np.concatenate(ln_s1), np.concatenate(drop), np.concatenate(y)
        best = None
        for alpha in np.linspace(0.05, 1.5, 30):
            design = np.column_stack([np.ones_like(y_a), np.exp(-alpha * ln_s1_a), -drop_a])
            coef, *_ = np.linalg.lstsq(design, y_a, rcond=None)
            if not np.all(np.isfinite(coef)):
                continue
            sse = float(np.sum((design @ coef - y_a) ** 2))
            if best is None or sse < best[0]:
                best = (sse, float(coef[0]), float(coef[1]), float(alpha), float(coef[2]))
        l0, a, alpha, b = (2.0, 0.5, 0.5, 300.0) if best is None else best[1:]
        l0, a, b = max(l0, 1e-3), max(a, 1e-3), max(b, 1.0)
        starts = [[l0, a, alpha, b, 1.0, 0.5, 0.5]]
        for c_ in (1.0, 3.0):
            for beta in (0.3, 0.7):
                for gamma in (0.3, 0.7):
                    starts.append([l0, a, alpha, b, c_, beta, gamma])
        return np.array(starts, dtype=np.float64)

    #: Schedules longer than this (in steps) run the multi-start on a block-summed schedule first.
    COARSE_ABOVE_STEPS: ClassVar[int] = 100_000
    #: Steps of the block-summed schedule of the multi-start.
    COARSE_STEPS: ClassVar[int] = 3_000
    #: Block length shrinks by this factor from one polish level to the next.
    LEVEL_FACTOR: ClassVar[int] = 10
    #: Shortest block of an intermediate level (shorter blocks cost nearly a full evaluation but,
    #: fitting a subsample, do not start the full-data solve any closer to its optimum).
    LEVEL_MIN_BLOCK: ClassVar[int] = 10
    #: ftol and xtol of the intermediate polish levels (the last level uses the caller's).
    LEVEL_TOL: ClassVar[float] = 1e-8

    def fit_core(
        self, curves: Sequence[Curve], targets: np.ndarray, weights: np.ndarray | None, **kwargs: Any
    ) -> dict[str, Any]:
        """Run the Rust multi-start solver; returns its report dict.

        An evaluation costs O(T) for T schedule steps, whatever the number of logged points, so long
        schedules run the starts on a coarse problem: blocks of k steps merged into one step whose LR
        is the block's sum, at each block's last logged point. S1 and the S_k(t) are then exact at
        block ends, the LR drops add up to k times the mean drop, and the law keeps its form with
        B' = B/k and C' = C·k^γ (L0, A, α unchanged). The best coarse solution, mapped back, is
        polished on blocks ``LEVEL_FACTOR`` times shorter (k/10, k/100, … while at least
        ``LEVEL_MIN_BLOCK`` steps, aligned to a regular log: see ``_levels``; intermediate levels to
        ftol = xtol = ``LEVEL_TOL``) and finally on
        the full data with the caller's tolerances, so that the full-resolution solve starts next to
        its optimum and needs few evaluations; the reported optimum is always that of the full
        objective (``n_evals`` counts the full-data solve only).
        """
        t_max = max(c.lr.size for c in curves)
        if t_max <= self.COARSE_ABOVE_STEPS or self.s1_form != "repo":
            return self._fit_rust(curves, targets, weights, **kwargs)
        levels = self._levels(t_max, np.concatenate([c.steps for c in curves]))
        starts = np.array(kwargs.pop("starts"), dtype=float, copy=True)
        progress = kwargs.pop("progress", None)
        lower, upper = kwargs["lower"], kwargs["upper"]
        rough: dict[str, Any] = {}
        best = starts
        for i, k in enumerate(levels):
            coarse = [self._block_curve(c, k) for c in curves]
            coarse_targets = np.concatenate([c.loss for c in coarse])
            x0 = np.array(best, dtype=float, copy=True)
            x0[:, 3] /= k
            x0[:, 4] *= k ** x0[:, 6]
            if i == 0:
                rep = self._fit_rust(
                    coarse, coarse_targets, None, starts=np.ascontiguousarray(x0), progress=progress, **kwargs
                )
                rough = rep
            else:
                level_kw = {
                    **kwargs,
                    "ftol": max(kwargs["ftol"], self.LEVEL_TOL),
                    "xtol": max(kwargs["xtol"], self.LEVEL_TOL),
                }
                rep = self._fit_rust(
                    coarse, coarse_targets, None, starts=np.ascontiguousarray(x0), polish=True, **level_kw
                )
            x = np.array(rep["params"], dtype=float)
            x[3] *= k
            x[4] /= k ** x[6]
            best = np.clip(x, lower, upper)[None, :]
        rep = self._fit_rust(curves, targets, weights, starts=best, polish=True, **kwargs)
        rep["n_starts"] = rough["n_starts"]
        rep["n_converged"] = rough["n_converged"]
        return rep

    def _levels(self, t_max: int, steps: np.ndarray) -> list[int]:
        """Block lengths of the coarse levels, longest first.

        A log every m steps (m = gcd of the logged steps, at most the first block length) gets
        block lengths that are multiples of m: every block then ends at a logged step, whose
        prediction is exact rather than taken up to k − 1 steps late; its last level has blocks of m
        steps (every logged point at its own step).
        """
        k = max(t_max // self.COARSE_STEPS, 2)
        m = int(np.gcd.reduce(steps.astype(np.int64)))
        align = m if 1 < m <= k else 1

        def aligned(k: int) -> int:
            return max(align, round(k / align) * align)

        levels = [aligned(k)]
        while True:
            nxt = aligned(levels[-1] // self.LEVEL_FACTOR)
            if nxt >= levels[-1] or nxt < self.LEVEL_MIN_BLOCK:
                return levels
            levels.append(nxt)

    def _fit_rust(
        self, curves: Sequence[Curve], targets: np.ndarray, weights: np.ndarray | None, **kwargs: Any
    ) -> dict[str, Any]:
        return _core.fit_multipower(
            [c.lr for c in curves],
            [c.steps - 1 for c in curves],
            targets,
            weights,
            exact=self.exact,
            s1_form=self.s1_form,
            warmup_steps=self._warmup(curves),
            **kwargs,
        )

    @staticmethod
    def _block_curve(c: Curve, k: int) -> Curve:
        """The curve on a schedule of k-step blocks (LR = block sum), at each block's last point."""
        n_blocks = -(-c.lr.size // k)
        padded = np.zeros(n_blocks * k)
        padded[: c.lr.size] = c.lr
        block_lr = padded.reshape(n_blocks, k).sum(axis=1)
        block = (c.steps - 1) // k
        last = np.ones(block.size, dtype=bool)
        last[:-1] = block[1:] != block[:-1]
        return Curve(block[last] + 1, c.loss[last], block_lr, name=c.name)

    def predict_curves(self, params: Mapping[str, float], curves: Sequence[Curve]) -> np.ndarray:
        """Predicted loss at the logged steps of ``curves`` (concatenated)."""
        return _core.multipower_predict(
            [c.lr for c in curves],
            [c.steps - 1 for c in curves],
            self.params_vector(params).tolist(),
            exact=self.exact,
            s1_form=self.s1_form,
            warmup_steps=self._warmup(curves),
        )

    def predict(
        self, params: Mapping[str, float], lr: Any, steps: Any = None, *, warmup_steps: int | None = None
    ) -> np.ndarray:
        """Predicted loss under schedule ``lr`` at 1-based ``steps`` (default: every step).

        Steps where S1 = 0 (nothing trained yet) predict +inf.
        """
        lr_arr, w, query, inverse = schedule_query(lr, steps, warmup_steps)
        s1 = np.cumsum(lr_arr)[query - 1]
        ok = s1 > 0
        pred = np.full(query.size, np.inf)
        if ok.any():
            pred[ok] = _core.multipower_predict(
                [lr_arr],
                [query[ok] - 1],
                self.params_vector(params).tolist(),
                exact=self.exact,
                s1_form=self.s1_form,
                warmup_steps=(w or None),
            )
        return pred if inverse is None else pred[inverse]


LAWS: dict[str, type[Law]] = {
    "momentum": MomentumLaw,
    "momentum_n": MomentumLawN,
    "multipower": MultiPowerLaw,
}


def law_from_dict(data: Mapping[str, Any]) -> Law:
    """Rebuild a law from :meth:`Law.to_dict` output."""
    name = data.get("name")
    if name not in LAWS:
        raise LawfitInputError(f"unknown law {name!r}; known laws: {sorted(LAWS)}")
    options = data.get("options", {})
    if not isinstance(options, Mapping):
        raise LawfitInputError("law options must be a mapping")
    try:
        return LAWS[name](**options)
    except TypeError as exc:
        raise LawfitInputError(f"bad options for law {name!r}: {exc}") from exc
