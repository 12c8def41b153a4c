"""The multi-power law (Luo et al. 2025); its math runs in src/laws/multipower.rs."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from lawfit import _core
from lawfit._options import core_curves, run_solver
from lawfit._stats import ConvergenceWarning
from lawfit._validate import LawfitInputError
from lawfit.curve import Curve
from lawfit.laws.base import Law, block_weights, curve_size, power_drop_grid, schedule_query

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
    max_time : float, optional
        Time budget of a fit, in seconds (wall). It is checked between the fit's stages (screening
        of the starts, coarse levels, full-data polish): once spent, the remaining coarse levels are
        skipped and the full-data polish runs with at most ``BUDGET_POLISH_EVALS`` evaluations; a
        :class:`~lawfit.ConvergenceWarning` says so. A single stage is not interrupted.
    """

    name = "multipower"
    reports_progress = True

    def __init__(self, *, s1_form: str = "repo", exact: bool = False, max_time: float | None = None) -> None:
        if s1_form not in ("repo", "paper"):
            raise LawfitInputError(f"s1_form must be 'repo' or 'paper', got {s1_form!r}")
        if max_time is not None and not (isinstance(max_time, (int, float)) and max_time > 0):
            raise LawfitInputError(f"max_time must be a positive number of seconds or None, got {max_time!r}")
        self.s1_form = s1_form
        self.exact = bool(exact)
        self.max_time = None if max_time is None else float(max_time)

    @property
    def param_names(self) -> tuple[str, ...]:
        return ("L0", "A", "alpha", "B", "C", "beta", "gamma")

    #: Lower bound of β. At β = 0 the loss-drop term vanishes identically (G ≡ 0: the law is its
    #: power term alone, B and C are not identifiable) and the fast Laplace-sum evaluation does not
    #: exist (the literal O(K·n) sum runs instead, ~10 s per evaluation on a 34K-step per-step
    #: log); a fit that wants β → 0 ends on this bound and says so.
    BETA_MIN: ClassVar[float] = 1e-3

    def bounds(self) -> dict[str, tuple[float, float]]:
        return {
            "L0": (0.0, np.inf),
            "A": (0.0, np.inf),
            "alpha": (0.0, 5.0),
            "B": (0.0, np.inf),
            "C": (0.0, np.inf),
            "beta": (self.BETA_MIN, 1.0),
            "gamma": (0.0, 1.0),
        }

    def data_bounds(self, curves: Sequence[Curve]) -> dict[str, tuple[float, float]]:
        """:meth:`bounds` with B capped by what the law implies: B·TV ≤ max loss.

        G ≤ 1, so the loss-drop term of a curve is at most B·TV(η) (TV the total variation of its
        LR; B·Σ of the drops for a decaying schedule). A drop larger than the largest observed loss
        would drive the prediction negative, so B ≤ max(loss) / max TV over the curves. This closes
        the valley C → 0, B → ∞ (where G(x) ≈ β·x and only B·β·C is determined), which otherwise
        drives the solver along an ever flatter direction until its evaluation budget runs out.
        """
        b = self.bounds()
        tv = max(float(np.abs(np.diff(c.lr)).sum()) for c in curves)
        top = max(float(np.max(c.loss)) for c in curves)
        if tv > 0 and np.isfinite(top) and top > 0:
            b["B"] = (0.0, top / tv)
        return b

    def options(self) -> dict[str, Any]:
        out: dict[str, Any] = {"s1_form": self.s1_form, "exact": self.exact}
        if self.max_time is not None:
            out["max_time"] = self.max_time
        return out

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
        best = power_drop_grid(ln_s1_a, drop_a, y_a, np.linspace(0.05, 1.5, 30))
        l0, a, alpha, b = (2.0, 0.5, 0.5, 300.0) if best is None else best
        l0, a, b = max(l0, 1e-3), max(a, 1e-3), max(b, 1.0)
        starts = [[l0, a, alpha, b, 1.0, 0.5, 0.5]]
        for c_ in (1.0, 3.0):
            for beta in (0.3, 0.7):
                for gamma in (0.3, 0.7):
                    starts.append([l0, a, alpha, b, c_, beta, gamma])
        return np.array(starts, dtype=np.float64)

    #: Schedules longer than this (in steps) run the multi-start on a block-summed schedule first.
    COARSE_ABOVE_STEPS: ClassVar[int] = 10_000
    #: Steps of the block-summed schedule of the multi-start.
    COARSE_STEPS: ClassVar[int] = 3_000
    #: Block length shrinks by this factor from one polish level to the next.
    LEVEL_FACTOR: ClassVar[int] = 10
    #: Shortest block of an intermediate level (shorter blocks cost nearly a full evaluation but,
    #: fitting a subsample, do not start the full-data solve any closer to its optimum). At 10, a
    #: 152K-step log went from 50-step blocks straight to the full data (503 full-cost evaluations,
    #: 11.8 s, on sc d2048 10B linear); at 5 a 5-step level does that walk (2.7 s), and 7 of the 45
    #: supercollapse runs reach a 14–21% lower objective (none higher; bench_mpl_real.py).
    LEVEL_MIN_BLOCK: ClassVar[int] = 5
    #: ftol and xtol of the intermediate polish levels (the last level uses the caller's).
    LEVEL_TOL: ClassVar[float] = 1e-8
    #: Evaluations each start gets in the screening (on the coarsest problem).
    SCREEN_EVALS: ClassVar[int] = 30
    #: Starts that survive the screening and run to convergence.
    SCREEN_KEEP: ClassVar[int] = 2
    #: Evaluation cap of each start on the coarsest level (it only has to find the basin).
    COARSE_MAX_EVALS: ClassVar[int] = 400
    #: Evaluations the best start of the first level may add when it stopped on ``COARSE_MAX_EVALS``.
    COARSE_MORE_EVALS: ClassVar[int] = 1000
    #: Evaluation cap of the full-data polish once ``max_time`` is spent.
    BUDGET_POLISH_EVALS: ClassVar[int] = 50

    def fit_core(
        self, curves: Sequence[Curve], targets: np.ndarray, weights: np.ndarray | None, **kwargs: Any
    ) -> dict[str, Any]:
        """Run the Rust multi-start solver; returns its report dict.

        An evaluation costs O(T) for T schedule steps, whatever the number of logged points, so long
        schedules (more than ``COARSE_ABOVE_STEPS``) run the starts on a coarse problem: blocks of k
        steps merged into one step whose LR is the block's sum, at each block's last logged point.
        S1 and the S_k(t) are then exact at block ends, the LR drops add up to k times the mean
        drop, and the law keeps its form with B' = B/k and C' = C·k^γ (L0, A, α unchanged; B's
        bounds scale alike). The best coarse solution, mapped back, is polished on blocks
        ``LEVEL_FACTOR`` times shorter (k/10, k/100, … while at least ``LEVEL_MIN_BLOCK`` steps,
        aligned to a regular log: see ``_levels``; intermediate levels to ftol = xtol =
        ``LEVEL_TOL``) and finally on the full data with the caller's tolerances, so that the
        full-resolution solve starts next to its optimum and needs few evaluations; the reported
        optimum is always that of the full objective (``n_evals`` counts the full-data solve only;
        ``total_evals`` every solve). A block's point is weighted by the points it merges
        (``_block_weights``).

        With more than ``SCREEN_KEEP`` starts, every start first runs ``SCREEN_EVALS`` evaluations
        (on the coarsest problem) and only the ``SCREEN_KEEP`` lowest objectives run to convergence:
        on real logs most starts fall into the same basin, and a far start that crawls along a flat
        valley would otherwise spend the whole evaluation budget.

        The coarsest level's multi-start is capped at ``COARSE_MAX_EVALS`` per start (a basin
        finder). When its best start hits that cap it is still walking along a flat valley (a
        single run's L0/A/α or β/γ valley): it continues on the same level (at most
        ``COARSE_MORE_EVALS`` more evaluations, the caller's tolerances) before going finer, where each
        evaluation costs k times as much (llm.c 124M per-step log: 752 full-data evaluations
        before, 46 after). The walk is kept only if the full-data objective is not higher at its
        end than at the cap (where the coarse problem is a poor proxy its valley can lead away).
        """
        t0 = time.perf_counter()
        t_max = max(c.lr.size for c in curves)
        coarse_ok = t_max > self.COARSE_ABOVE_STEPS and self.s1_form == "repo"
        levels = self._levels(t_max, np.concatenate([c.steps for c in curves])) if coarse_ok else []
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
        total_evals = 0
        budget_hit: str | None = None

        def over_budget() -> bool:
            return self.max_time is not None and time.perf_counter() - t0 > self.max_time

        def level_problem(k: int) -> tuple[list[Curve], np.ndarray, np.ndarray | None, dict[str, Any]]:
            if k == 1:
                return list(curves), targets, weights, dict(kwargs)
            coarse = [self._block_curve(c, k) for c in curves]
            kw = dict(kwargs)
            kw["lower"], kw["upper"] = lower.copy(), upper.copy()
            kw["lower"][3] /= k
            kw["upper"][3] /= k
            w = np.concatenate(self._block_weights(curves, k, weights))
            return coarse, np.concatenate([c.loss for c in coarse]), w, kw

        def to_level(x: np.ndarray, k: int) -> np.ndarray:
            x = np.array(x, dtype=float, copy=True)
            x[..., 3] /= k
            x[..., 4] *= k ** x[..., 6]
            return x

        def from_level(x: np.ndarray, k: int) -> np.ndarray:
            x = np.array(x, dtype=float, copy=True)
            x[3] *= k
            x[4] /= k ** x[6]
            return np.clip(x, lower, upper)

        first_k = levels[0] if levels else 1
        prob, prob_targets, prob_w, prob_kw = level_problem(first_k)
        prob_prior = prior if first_k == 1 else coarse_prior
        x0 = to_level(starts, first_k)
        n_starts = x0.shape[0]
        if n_starts > self.SCREEN_KEEP:
            screen_kw = {**prob_kw, "max_evals": min(prob_kw["max_evals"], self.SCREEN_EVALS)}
            costs = []
            for row in x0:
                r = self._fit_rust(prob, prob_targets, prob_w, starts=np.ascontiguousarray(row[None, :]),
                                   prior=prob_prior, **screen_kw)
                total_evals += int(r["n_evals"])
                costs.append(float(r["cost"]) if np.isfinite(r["cost"]) else np.inf)
            keep = np.argsort(np.asarray(costs), kind="stable")[: self.SCREEN_KEEP]
            x0 = x0[np.sort(keep)]
        rough_kw = dict(prob_kw)
        if first_k > 1:  # a basin finder: the finer levels and the full data finish the solve
            rough_kw["max_evals"] = min(rough_kw["max_evals"], self.COARSE_MAX_EVALS)
        rough = self._fit_rust(prob, prob_targets, prob_w, starts=np.ascontiguousarray(x0), progress=progress,
                               prior=prob_prior, **rough_kw)
        total_evals += int(rough["n_evals"])
        if first_k > 1 and rough["status"] == "MaxEvals" and not over_budget():
            # The capped basin finder stopped inside a flat valley: finish the walk on this level,
            # where an evaluation costs a fraction of the finer levels' (the remaining budget).
            rest = min(prob_kw["max_evals"] - int(rough["n_evals"]), self.COARSE_MORE_EVALS)
            if rest > 0:
                x_more = np.ascontiguousarray(rough["params"][None, :])
                more_kw = {**prob_kw, "max_evals": rest}  # the caller's tolerances: the walk is capped
                more = self._fit_rust(prob, prob_targets, prob_w, starts=x_more, polish=True,
                                      prior=prob_prior, **more_kw)
                total_evals += int(more["n_evals"])
                # The walk counts only if the full objective agrees: where the coarse problem is a
                # poor proxy of the full one, its valley can lead away from the full optimum.
                if more["cost"] <= rough["cost"]:
                    full_more, full_rough = (
                        self._full_cost(curves, targets, weights, prior, kwargs,
                                        from_level(r["params"], first_k))
                        for r in (more, rough)
                    )
                    total_evals += 2
                    if full_more <= full_rough:
                        rough = {**more, "n_converged": rough["n_converged"]}
        if first_k == 1:
            rep = rough
        else:
            best = from_level(rough["params"], first_k)[None, :]
            for k in levels[1:]:
                if over_budget():
                    budget_hit = f"after the {first_k}-step level"
                    break
                prob, prob_targets, prob_w, prob_kw = level_problem(k)
                level_kw = {
                    **prob_kw,
                    "ftol": max(prob_kw["ftol"], self.LEVEL_TOL),
                    "xtol": max(prob_kw["xtol"], self.LEVEL_TOL),
                }
                r = self._fit_rust(prob, prob_targets, prob_w, starts=np.ascontiguousarray(to_level(best, k)),
                                   polish=True, prior=coarse_prior, **level_kw)
                total_evals += int(r["n_evals"])
                best = from_level(r["params"], k)[None, :]
                first_k = k
            final_kw = dict(kwargs)
            if budget_hit is None and over_budget():
                budget_hit = "before the full-data polish"
            if budget_hit is not None:
                final_kw["max_evals"] = min(final_kw["max_evals"], self.BUDGET_POLISH_EVALS)
            rep = self._fit_rust(curves, targets, weights, starts=best, polish=True, prior=prior, **final_kw)
            total_evals += int(rep["n_evals"])
        if budget_hit is None and over_budget():
            budget_hit = "in the last stage"
        if budget_hit is not None:
            warnings.warn(
                f"the multi-power fit used its time budget (max_time = {self.max_time:g} s) {budget_hit}; "
                f"it stopped refining after {time.perf_counter() - t0:.1f} s and {total_evals} evaluations "
                f"(success = {bool(rep['success'])}: {rep['message']})",
                ConvergenceWarning,
                stacklevel=4,
            )
        rep["n_starts"] = n_starts
        rep["n_converged"] = rough["n_converged"]
        rep["total_evals"] = total_evals
        return rep

    def _full_cost(self, curves: Sequence[Curve], targets: np.ndarray, weights: np.ndarray | None,
                   prior: Any, kwargs: dict[str, Any], x: np.ndarray) -> float:
        """The full-data objective at law parameters ``x`` (one evaluation)."""
        r = self._fit_rust(curves, targets, weights, starts=np.ascontiguousarray(x[None, :]), polish=True,
                           prior=prior, **{**kwargs, "max_evals": 1})
        return float(r["cost"]) if np.isfinite(r["cost"]) else np.inf

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
        kwargs["warm_start"] = kwargs.pop("polish", False)
        return run_solver(_core.fit_multipower, core_curves(curves), targets, weights,
                          law=self._core_options(self._warmup(curves)), size=curve_size(curves), **kwargs)

    def _core_options(self, warmup_steps: int | None) -> _core.MultiPowerOptions:
        return _core.MultiPowerOptions(exact=self.exact, s1_form=self.s1_form, warmup_steps=warmup_steps)

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
        return Curve(block[last] + 1, c.loss[last], block_lr, warmup_steps=0, name=c.name)

    @staticmethod
    def _block_weights(curves: Sequence[Curve], k: int, weights: np.ndarray | None) -> list[np.ndarray]:
        """Weights of the points of each blocked curve: :func:`~lawfit.laws.base.block_weights`."""
        return block_weights([c.steps for c in curves], k, weights)

    def predict_curves(self, params: Mapping[str, float], curves: Sequence[Curve]) -> np.ndarray:
        """Predicted loss at the logged steps of ``curves`` (concatenated)."""
        return self._at_curves(params, curves, gradients=False)

    def _at_curves(self, params: Mapping[str, float], curves: Sequence[Curve], *, gradients: bool) -> Any:
        """Values at the logged steps of ``curves`` (and, with ``gradients``, the (n, 7) Jacobian)."""
        return _core.multipower_predict(core_curves(curves), self.params_vector(params).tolist(),
                                        law=self._core_options(self._warmup(curves)), gradients=gradients)

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
            pred[ok] = _core.multipower_predict(_core.Curves([lr_arr], [query[ok]]),
                                                self.params_vector(params).tolist(),
                                                law=self._core_options(w or None))
        return pred if inverse is None else pred[inverse]
