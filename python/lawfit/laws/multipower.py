"""The multi-power law (Luo et al. 2025); its math runs in src/laws/multipower.rs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from lawfit import _core
from lawfit._validate import LawfitInputError
from lawfit.curve import Curve
from lawfit.laws.base import Law, schedule_query

if TYPE_CHECKING:
    pass


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
        prior = kwargs.pop("prior", None)
        # Blocks rescale B and C (B' = B/k, C' = C·k^γ): their prior acts on the full data only.
        coarse_prior = None
        if prior is not None:
            coarse_weight = list(prior[1])
            coarse_weight[3] = coarse_weight[4] = 0.0
            coarse_prior = (list(prior[0]), coarse_weight)
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
                    coarse, coarse_targets, None, starts=np.ascontiguousarray(x0), progress=progress,
                    prior=coarse_prior, **kwargs
                )
                rough = rep
            else:
                level_kw = {
                    **kwargs,
                    "ftol": max(kwargs["ftol"], self.LEVEL_TOL),
                    "xtol": max(kwargs["xtol"], self.LEVEL_TOL),
                }
                rep = self._fit_rust(
                    coarse, coarse_targets, None, starts=np.ascontiguousarray(x0), polish=True,
                    prior=coarse_prior, **level_kw
                )
            x = np.array(rep["params"], dtype=float)
            x[3] *= k
            x[4] /= k ** x[6]
            best = np.clip(x, lower, upper)[None, :]
        rep = self._fit_rust(curves, targets, weights, starts=best, polish=True, prior=prior, **kwargs)
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
