"""Forecasts from a partial run, uncertainty bands, schedule comparison and optimisation."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lawfit._validate import LawfitInputError, as_float_array
from lawfit.bands import IdentifiabilityWarning
from lawfit.bands import predict_band as predict_band  # re-exported: lawfit.forecast.predict_band
from lawfit.curve import Curve
from lawfit.fitting import ConvergenceWarning, FitResult, fit
from lawfit.laws import Law, MomentumLaw
from lawfit.schedules import Schedule

#: Fraction of a run without warmup that the default forecast does not fit (its initial transient).
TRANSIENT = 0.02


@dataclass(frozen=True)
class AutoPrior:
    r"""The default prior of the momentum law's annealing coefficient C, scale-free.

    Before a run anneals, C is not identified by its loss. Fitted on whole public runs, the loss
    removed by a full anneal, :math:`C\,\eta_{peak}/(1-\lambda)` (the annealing area of a complete
    decay is about :math:`\eta_{peak}/(1-\lambda)`), is a stable multiple of the reducible loss at
    the end of the run, :math:`A\,S_1(T)^{-\alpha}`:

    .. math:: C = r\,(1-\lambda)\,A\,S_1(T)^{-\alpha} / \eta_{peak}

    with ``ratio`` r the geometric mean over the runs and ``log_sd`` the standard deviation of
    log r (see ``docs/forecasting.md``; the shipped values come from
    ``lawfit/data/forecast_calibration.json``, built by ``benches/calibrate_forecast.py``).
    A and α come from the fit of the seen part (iterated twice with C held at the prior).

    Attributes
    ----------
    ratio : float
        r, dimensionless.
    log_sd : float
        Spread of log r across the runs it was learned from.
    n_runs : int
        Runs it was learned from.
    source : str
        Provenance.
    """

    ratio: float
    log_sd: float
    n_runs: int = 0
    source: str = ""

    @classmethod
    def default(cls) -> AutoPrior:
        """The shipped prior (``lawfit/data/forecast_calibration.json``)."""
        from lawfit.calibration import default_table

        p = default_table().provenance.get("prior", {})
        return cls(float(p["ratio"]), float(p["log_sd"]), int(p.get("n_runs", 0)), str(p.get("source", "")))

    def value(self, law: Law, params: dict[str, float], lr: np.ndarray, warmup_steps: int) -> float:
        """C implied by the fitted A, α of ``params`` on the planned schedule ``lr``."""
        if not isinstance(law, MomentumLaw):
            raise LawfitInputError(f"AutoPrior is defined for MomentumLaw, not {type(law).__name__}")
        from lawfit.lr_areas import areas

        s1_end = float(areas(lr, decay=law.decay, warmup_steps=warmup_steps, warmup=law.warmup)[0][-1])
        peak = float(np.max(lr))
        return self.ratio * (1 - law.decay) * params["A"] * s1_end ** (-params["alpha"]) / peak


#: Parameters a run that has not annealed yet cannot identify, per law name.
ANNEALING_PARAMS: dict[str, tuple[str, ...]] = {
    "momentum": ("C", "decay", "zeta"),
    "momentum_n": ("C",),
    "multipower": ("B", "C", "beta", "gamma"),
}


def annealing_seen(lr: np.ndarray, warmup_steps: int, cut: int, *, threshold: float = 0.95) -> bool:
    """Whether the LR of steps ``warmup_steps + 1 .. cut`` fell below ``threshold`` × its peak so far."""
    seen = np.asarray(lr[: max(int(cut), 0)], dtype=float)
    if seen.size == 0:
        return False
    peak = float(seen.max())
    post = seen[warmup_steps:] if warmup_steps < seen.size else seen[-1:]
    return bool(peak > 0 and float(post.min()) < threshold * peak)


def annealing_ahead(lr: np.ndarray, cut: int, *, threshold: float = 0.95) -> bool:
    """Whether the planned LR after step ``cut`` falls below ``threshold`` × the LR at the cut."""
    lr = np.asarray(lr, dtype=float)
    if cut >= lr.size or cut < 1:
        return False
    ref = float(lr[:cut].max())
    return bool(float(lr[cut:].min()) < threshold * ref)


@dataclass
class Forecast:
    """A forecast of the rest of a run (and alternatives) from the part seen so far.

    Attributes
    ----------
    fit : FitResult
        The fit of the seen part.
    seen_until : int
        Last fitted step (the cut).
    predictions : dict[str, tuple of 4 ndarray]
        Per schedule label: ``(steps, pred, lower, upper)`` at ``level``.
    warnings : list of str
        What the forecast could not determine (also emitted as warnings).
    fit_from : int
        First fitted step.
    holdout : dict or None
        :func:`holdout_error` of the logged points after the cut, when there are any.
    lr : ndarray, shape (T,)
        The run's planned per-step LR.
    warmup_steps : int
        The run's warmup.
    calibration_group : str
        ``"seen"`` (annealing seen, or none planned), ``"prior"`` (annealing planned but not seen;
        its parameters come from the prior) or ``"unidentified"`` (no prior: no calibrated band).
    level : float
        Level of the bands in ``predictions``.
    prior_values : dict
        Parameters set from the prior.
    """

    fit: FitResult
    seen_until: int
    predictions: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    warnings: list[str]
    fit_from: int = 1
    holdout: dict[str, Any] | None = None
    lr: np.ndarray | None = field(default=None, repr=False)
    warmup_steps: int = 0
    calibration_group: str = "seen"
    level: float = 0.9
    prior_values: dict[str, float] = field(default_factory=dict)
    #: In-sample misfit: RMS of log(fit / smoothed loss) over the fitted points (scales the bands).
    scale: float = 1.0
    _annealed: bool = field(default=True, repr=False)
    _seen: Curve | None = field(default=None, repr=False)

    def _group_for(self, lr: np.ndarray) -> str:
        if self.calibration_group == "unidentified":
            return "unidentified"
        if self._annealed or not annealing_ahead(lr, self.seen_until):
            return "seen"
        return "prior" if self.prior_values else "unidentified"

    def predict(
        self, steps: Any = None, *, level: float = 0.9, schedule: Schedule | np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Forecast and calibrated band at ``steps`` of the planned schedule (or of ``schedule``).

        The band is split-conformal (:mod:`lawfit.calibration`): the quantiles of the relative
        error of forecasts on real runs, at the same reach ahead h = log(step / seen_until), so it
        widens with the horizon. It is a band for the *smoothed* loss (the 201-step centred mean
        of a per-step log, or the logged value of a sparse evaluation log), not for single noisy
        per-step values.

        Parameters
        ----------
        steps : array_like of int, optional
            1-based steps (default: every step of the schedule).
        level : float, default 0.9
            Central coverage of the band, in [0.5, 0.95] (the calibrated range).
        schedule : Schedule or array_like, optional
            An alternative schedule fitted with the same parameters (default: the run's planned
            one). An array's warmup is the run's when it ramps the same way, else its own ramp.

        Returns
        -------
        pred, lower, upper : ndarray, shape (len(steps),)
            Loss units. The band is NaN (with an :class:`IdentifiabilityWarning`) after the cut
            when a parameter the forecast needs is not identified and no prior was given.
        """
        from lawfit.calibration import default_table, horizon
        from lawfit.curve import infer_warmup

        if self.lr is None:
            raise LawfitInputError("this Forecast holds no planned schedule")
        if schedule is None:
            sched = Schedule(self.lr, spec=f"array:n={self.lr.size}", warmup_steps=self.warmup_steps)
        elif isinstance(schedule, Schedule):
            sched = schedule
        else:
            arr = as_float_array("schedule", schedule, nonnegative=True, allow_empty=False)
            w = infer_warmup(arr)
            sched = Schedule(arr, spec=f"array:n={arr.size}", warmup_steps=w)
        st = np.arange(1, sched.lr.size + 1) if steps is None else np.asarray(steps, dtype=np.int64)
        pred = self.fit.predict(sched, st)
        group = self._group_for(sched.lr)
        h = horizon(st, self.seen_until)
        if group == "unidentified":
            msg = (
                "the parameters of the annealing ahead are not identified by the steps seen and no prior "
                "was given: no calibrated band after the cut (pass prior='auto' or a prior fit)"
            )
            warnings.warn(msg, IdentifiabilityWarning, stacklevel=2)
            q_lo, q_hi = default_table().bounds(h, level, "seen", self._scale())
            lo, hi = pred * np.exp(-q_hi), pred * np.exp(-q_lo)
            after = st > self.seen_until
            lo[after] = np.nan
            hi[after] = np.nan
            return pred, lo, hi
        q_lo, q_hi = default_table().bounds(h, level, group, self._scale())
        return pred, pred * np.exp(-q_hi), pred * np.exp(-q_lo)

    def block_bootstrap(
        self,
        steps: Any = None,
        *,
        n: int = 100,
        level: float = 0.9,
        block: int | None = None,
        seed: int = 0,
        schedule: Schedule | np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Parameter-uncertainty band from a moving-block bootstrap of the fit's residuals.

        The log residuals ``log(loss / fit)`` of the fitted points are resampled in circular blocks
        of ``block`` consecutive points (so their autocorrelation survives, unlike the fit's
        covariance, which assumes independent residuals), the fitted curve times ``exp`` of the
        resampled residuals is refitted ``n`` times (from the fitted optimum, with the same fixed
        parameters and priors), and the pointwise quantiles of the refits' predictions are
        returned. This is the parameter part of the uncertainty only; :meth:`predict`'s calibrated
        band already includes it as realised on real runs, and is the band to report.

        Parameters
        ----------
        steps : array_like of int, optional
            Steps to predict at (default: every step of the schedule).
        n : int, default 100
            Bootstrap refits.
        level : float, default 0.9
            Central level of the band, in (0, 1).
        block : int, optional
            Block length in logged points (default: the first lag at which the residuals'
            autocorrelation falls below 1/e, and at least m^(1/3) for m fitted points; at most a
            quarter of the points).
        seed : int, default 0
            Seed of ``numpy.random.default_rng``.
        schedule : Schedule or array_like, optional
            As in :meth:`predict`.

        Returns
        -------
        pred, lower, upper : ndarray, shape (len(steps),)
        """
        if self._seen is None:
            raise LawfitInputError("this Forecast holds no fitted data to bootstrap")
        if not 0 < level < 1:
            raise LawfitInputError(f"level must lie in (0, 1), got {level!r}")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
            raise LawfitInputError(f"n must be an integer >= 2, got {n!r}")
        seen = self._seen
        fitted = self.fit.predict(seen.lr, seen.steps)
        resid = np.log(seen.loss / fitted)
        m = resid.size
        if block is None:
            r0 = resid - resid.mean()
            ac = np.correlate(r0, r0, mode="full")[m - 1 :] / max(float(r0 @ r0), 1e-300)
            below = np.flatnonzero(ac < math.exp(-1))
            # at least m^(1/3), the usual order of a block bootstrap's block length
            block = max(int(below[0]) if below.size else m, int(round(m ** (1 / 3))))
        block = int(min(max(1, block), max(1, m // 4)))
        if schedule is None:
            sched: Any = Schedule(self.lr, spec="array", warmup_steps=self.warmup_steps)
        else:
            sched = schedule
        st = np.arange(1, np.size(getattr(sched, "lr", sched)) + 1) if steps is None else np.asarray(steps)
        pred = self.fit.predict(sched, st)
        rng = np.random.default_rng(seed)
        opts = self.fit.options
        kw: dict[str, Any] = {
            "loss": opts.get("loss", "huber"),
            "delta": opts.get("delta", 1e-3),
            "space": opts.get("space"),
            "fix": opts.get("fixed") or None,
            "starts": dict(self.fit.params),
        }
        if opts.get("prior"):
            kw["prior"] = {k: tuple(v) for k, v in opts["prior"].items()}
        sims = []
        n_blocks = -(-m // block)
        for _ in range(int(n)):
            starts = rng.integers(0, m, n_blocks)
            idx = ((starts[:, None] + np.arange(block)[None, :]) % m).ravel()[:m]
            y = fitted * np.exp(resid[idx])
            c = Curve(seen.steps, y, seen.lr, warmup_steps=seen.warmup_steps)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                r = fit(self.fit.law, c, **kw)
            sims.append(r.predict(sched, st))
        q = (1 - level) / 2
        arr = np.asarray(sims)
        return pred, np.quantile(arr, q, axis=0), np.quantile(arr, 1 - q, axis=0)

    def _scale(self) -> float:
        from lawfit.calibration import MIN_SCALE

        return max(float(self.scale), MIN_SCALE)

    def summary(self) -> str:
        """Final predicted loss and band of each schedule (and the held-out error, when known)."""
        from lawfit.calibration import default_table

        lines = [f"fitted on steps {self.fit_from}..{self.seen_until}"]
        for label, (steps, pred, lo, hi) in self.predictions.items():
            lines.append(
                f"{label}: final loss at step {int(steps[-1])} = {pred[-1]:.4f} [{lo[-1]:.4f}, {hi[-1]:.4f}]"
            )
        prov = default_table().provenance
        lines.append(
            f"band: {100 * self.level:.0f}% band of the smoothed loss (201-step mean of a per-step log), "
            f"calibrated on the forecast errors of {prov.get('n_runs', '?')} real runs cut at 25/50/75% "
            f"(split-conformal by horizon, group '{self.calibration_group}'; docs/forecasting.md)"
        )
        if self.prior_values:
            shown = ", ".join(f"{k} = {v:.4g}" for k, v in self.prior_values.items())
            lines.append(f"prior: {shown} (no annealing seen yet)")
        if self.holdout is not None:
            h = self.holdout
            lines.append(
                f"held-out check: logged steps {h['from_step']}..{h['to_step']} ({h['points']} points) vs "
                f"the {h['window']}-step centred moving average of the logged loss: mean relative error "
                f"{100 * h['mean_rel_error']:.3f}% (max {100 * h['max_rel_error']:.3f}%)"
            )
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


def smooth_loss(steps: Any, loss: Any, window: int = 201) -> np.ndarray:
    """Centred moving average of a logged loss, for comparing forecasts with noisy train losses.

    The value at logged step ``s`` is the mean of the logged losses at steps in
    ``[s − window // 2, s + window // 2]``; near the ends of the log the window is truncated to
    the logged range (it is never padded or extrapolated).

    Parameters
    ----------
    steps : array_like of int, shape (n,)
        Logged steps, strictly increasing.
    loss : array_like of float, shape (n,)
        Logged losses.
    window : int, default 201
        Window width in steps (odd; an even width is rounded up to the next odd one). 1 returns
        the loss unchanged.

    Returns
    -------
    ndarray, shape (n,)
    """
    st = np.asarray(steps, dtype=np.int64)
    y = np.asarray(loss, dtype=float)
    if st.shape != y.shape or st.ndim != 1:
        raise LawfitInputError("steps and loss must be 1-D arrays of the same length")
    if int(window) < 1:
        raise LawfitInputError(f"window must be >= 1, got {window!r}")
    h = int(window) // 2
    cs = np.concatenate([[0.0], np.cumsum(y)])
    lo = np.searchsorted(st, st - h, side="left")
    hi = np.searchsorted(st, st + h, side="right")
    return (cs[hi] - cs[lo]) / (hi - lo)


def fit_start(curve: Curve) -> int:
    """First step the default forecast fits on: the first step after the LR warmup.

    The warmup is ``curve.warmup_steps`` when the curve declares one; otherwise the LR ramp at
    the start of the planned schedule, up to and including the first step at the peak LR (the
    convention of :mod:`lawfit.schedules`, whose warmup ends on the peak). A run whose LR starts at
    its peak has no warmup and is fitted from step 1.
    """
    w = int(curve.warmup_steps)
    if w == 0 and curve.lr.size:
        first_peak = int(np.argmax(curve.lr))
        w = first_peak + 1 if first_peak > 0 else 0
    return w + 1


def holdout_error(
    result: FitResult,
    curve: Curve,
    *,
    after: int = 0,
    tail: float = 0.1,
    window: int = 201,
) -> dict[str, Any] | None:
    """Error of a fit's prediction on the logged part of a run it was not fitted on.

    Compares ``result.predict`` at each logged step in the final ``tail`` fraction of the run's
    schedule (and after step ``after``) with :func:`smooth_loss` of the *whole* logged loss (so the
    reference is the same whatever the fitted part was).

    Parameters
    ----------
    result : FitResult
        The fit.
    curve : Curve
        The run, with its whole planned LR and every logged loss.
    after : int, default 0
        Only logged steps > ``after`` count (the last fitted step of a forecast).
    tail : float, default 0.1
        Fraction of the schedule at its end to score, in (0, 1].
    window : int, default 201
        Smoothing window in steps (see :func:`smooth_loss`).

    Returns
    -------
    dict or None
        ``mean_rel_error``, ``max_rel_error`` (mean/max of abs(pred − smoothed) / smoothed),
        ``from_step``, ``to_step``, ``points``, ``window``; ``None`` when no logged step qualifies.
    """
    if not 0 < tail <= 1:
        raise LawfitInputError(f"tail must lie in (0, 1], got {tail!r}")
    total = curve.lr.size
    first = max(int(after), total - int(round(tail * total)))
    m = curve.steps > first
    if not m.any():
        return None
    ref = smooth_loss(curve.steps, curve.loss, window)[m]
    pred = result.predict(curve.lr, curve.steps[m], warmup_steps=curve.warmup_steps)
    rel = np.abs(pred - ref) / ref
    return {
        "mean_rel_error": float(rel.mean()),
        "max_rel_error": float(rel.max()),
        "from_step": int(curve.steps[m][0]),
        "to_step": int(curve.steps[m][-1]),
        "points": int(m.sum()),
        "window": int(window) | 1,
    }


def _prior_values(
    prior: Any, law: Law, names: Sequence[str], seen: Curve, curve: Curve, fix: dict[str, float],
    fit_kwargs: dict[str, Any],
) -> tuple[dict[str, float], dict[str, tuple[float, float]], str]:
    """Values of the unidentified ``names`` from ``prior``: (held fixed, Gaussian (mean, sd), note).

    Gaussian entries go to :func:`lawfit.fit`'s ``prior=`` (MAP fit, covariance includes them).
    """
    if isinstance(prior, FitResult):
        vals = {k: float(prior.params[k]) for k in names if k in prior.params}
        return vals, {}, "from the prior fit"
    if isinstance(prior, Mapping):
        vals = {}
        gauss = {}
        for k, v in prior.items():
            if k not in law.param_names:
                raise LawfitInputError(
                    f"prior names unknown parameter {k!r}; parameters are {list(law.param_names)}"
                )
            mean = v[0] if isinstance(v, (tuple, list)) else v
            if not math.isfinite(float(mean)):
                raise LawfitInputError(f"prior[{k!r}] must be finite, got {v!r}")
            if isinstance(v, (tuple, list)):
                gauss[k] = (float(v[0]), float(v[1]))
            else:
                vals[k] = float(mean)
        return vals, gauss, "from the given prior"
    if isinstance(prior, AutoPrior) and isinstance(law, MomentumLaw):
        vals = {k: float(getattr(law, k)) for k in ("decay", "zeta") if k in law.param_names}
        c = 0.0
        # C depends on the fitted A, α, which depend on C: a fixed-point iteration (to 0.1%)
        for _ in range(12):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                r = fit(law, seen, fix={**fix, **vals, "C": c}, **fit_kwargs)
            c, previous = prior.value(law, r.params, curve.lr, curve.warmup_steps), c
            if abs(c - previous) <= 1e-3 * abs(c):
                break
        ratio = f"{prior.ratio:.3g}"
        # Gaussian in C with the spread of the ratio (sd of log r as a relative sd)
        gauss = {"C": (c, max(c, 1e-300) * prior.log_sd)}
        note = f"from lawfit's default prior (a full anneal removes {ratio} × the reducible loss)"
        return vals, gauss, note
    return {}, {}, ""


def forecast(
    curve: Curve,
    *,
    until: int | float | None = None,
    alternatives: Sequence[Schedule] = (),
    law: Law | None = None,
    prior: Any = "auto",
    level: float | None = 0.9,
    every: int | None = None,
    fit_from: int | str = "warmup",
    holdout_tail: float = 0.1,
    **fit_kwargs: Any,
) -> Forecast:
    """Fit on the part of one run seen so far and predict the rest of its schedule.

    Parameters
    ----------
    curve : Curve
        The run: logged losses so far and its *whole* planned per-step LR.
    until : int or float, optional
        Last step to fit on (an int step, or a fraction of the schedule in (0, 1]); default: every
        logged step.
    alternatives : list of Schedule
        Other schedules to predict with the same fit.
    law : Law, optional
        Default ``MomentumLaw()``.
    prior : "auto", FitResult, dict or None, default "auto"
        Values of the parameters the seen part cannot identify because the run has not annealed
        yet (:data:`ANNEALING_PARAMS` of the law, e.g. the momentum law's C). ``"auto"`` (or an
        :class:`AutoPrior`): lawfit's default, learned from whole public runs (momentum law; other
        laws have none and warn); a FitResult: its values (e.g. a fit of the same lab's short runs);
        a dict ``{"C": value}`` or ``{"C": (mean, sd)}``; None: no prior (the parameters stay free
        and a warning says the forecast of the decay is unreliable; no calibrated band after the
        cut). The values are held fixed in the fit.
    level : float or None, default 0.9
        Level of the calibrated bands in ``predictions``, in [0.5, 0.95]; None stores the point
        forecast only (NaN bands; ``fc.predict`` still gives bands).
    every : int, optional
        Predict every K steps (default: about 500 points per schedule).
    fit_from : "warmup" or int, default "warmup"
        First step to fit on. ``"warmup"`` (see :func:`fit_start`) skips the LR warmup: the laws
        describe the loss after warmup, and the fast initial drop of a per-step log (loss 11 → 4 in
        the first few hundred steps of a GPT-2 run) otherwise dominates the fit and bends the
        power law. A run with no warmup skips its first ``TRANSIENT`` fraction (2%) instead, for
        the same reason. The published fits use post-warmup points only (Tissue et al.'s Fig. 2
        starts at step 1000 after a 500-step warmup; Luo et al. log from the end of warmup). An int
        fits steps ≥ ``fit_from`` (1 fits everything). Logged steps with no LR area yet (S1 = 0)
        are always skipped.
    holdout_tail : float, default 0.1
        When the curve holds logged losses after ``until``, :func:`holdout_error` of the final
        ``holdout_tail`` of the schedule is stored in ``Forecast.holdout``.
    **fit_kwargs
        Passed to :func:`lawfit.fit` (``loss``, ``delta``, ``fix``...).

    Returns
    -------
    Forecast
        ``fc.predict(steps, level=0.9)`` gives the forecast and its calibrated band.
    """
    law = law if law is not None else MomentumLaw()
    if level is not None and not 0.5 <= float(level) <= 0.95:
        raise LawfitInputError(f"level must lie in [0.5, 0.95] (the calibrated range), got {level!r}")
    total = curve.lr.size
    if until is None:
        cut = int(curve.steps[-1])
    elif isinstance(until, float) and 0 < until <= 1:
        cut = int(round(until * total))
    elif isinstance(until, (int, np.integer)) and until >= 1:
        cut = int(until)
    else:
        raise LawfitInputError(f"until must be a step ≥ 1 or a fraction in (0, 1], got {until!r}")
    if cut > total:
        raise LawfitInputError(f"until is step {cut}, past the end of the planned schedule ({total} steps)")
    if cut > int(curve.steps[-1]):
        warnings.warn(
            f"until is step {cut} but the log ends at step {int(curve.steps[-1])}; fitting every logged step",
            UserWarning,
            stacklevel=2,
        )
    if isinstance(fit_from, str):
        if fit_from != "warmup":
            raise LawfitInputError(f"fit_from must be 'warmup' or a step >= 1, got {fit_from!r}")
        first = fit_start(curve)
        if first == 1:
            first = max(1, int(round(TRANSIENT * total)))
    elif isinstance(fit_from, (int, np.integer)) and not isinstance(fit_from, bool) and fit_from >= 1:
        first = int(fit_from)
    else:
        raise LawfitInputError(f"fit_from must be 'warmup' or a step >= 1, got {fit_from!r}")
    # A step with no LR area yet (S1 = 0) carries no information for the laws: skip it.
    first = max(first, int(np.argmax(curve.lr > 0)) + 1 if (curve.lr > 0).any() else first)
    keep = (curve.steps <= cut) & (curve.steps >= first)
    if keep.sum() < len(law.param_names):
        raise LawfitInputError(
            f"only {int(keep.sum())} logged points in steps {first}..{cut}; need more to fit "
            "(fit_from=1 also fits the warmup)"
        )
    seen = Curve(
        curve.steps[keep], curve.loss[keep], curve.lr, warmup_steps=curve.warmup_steps, name=curve.name
    )
    if isinstance(prior, str):
        if prior != "auto":
            raise LawfitInputError(f"prior must be 'auto', a FitResult, a dict or None, got {prior!r}")
        prior = AutoPrior.default()
    notes: list[str] = []
    fix = dict(fit_kwargs.pop("fix", {}) or {})
    annealed = annealing_seen(curve.lr, curve.warmup_steps, cut)
    ahead = annealing_ahead(curve.lr, cut) or any(annealing_ahead(s.lr, cut) for s in alternatives)
    unknown = [k for k in ANNEALING_PARAMS.get(law.name, ()) if k in law.param_names and k not in fix]
    prior_vals: dict[str, float] = {}
    gauss_prior: dict[str, tuple[float, float]] | None = None
    group = "seen"
    if not annealed and unknown:
        msg = (
            f"no LR annealing seen yet: the data cannot identify {', '.join(unknown)} "
            f"(the {law.name} law's annealing parameters)"
        )
        fixed_vals, gauss, where = _prior_values(prior, law, unknown, seen, curve, fix, fit_kwargs)
        fixed_vals = {k: v for k, v in fixed_vals.items() if k in unknown}
        gauss = {k: v for k, v in gauss.items() if k in unknown}
        prior_vals = {**fixed_vals, **{k: m for k, (m, _) in gauss.items()}}
        if prior_vals:
            fix.update(fixed_vals)
            gauss_prior = gauss or None
            shown = ", ".join(
                [f"{k} = {v:.4g} (fixed)" for k, v in fixed_vals.items()]
                + [f"{k} ~ N({m:.4g}, {s:.3g})" for k, (m, s) in gauss.items()]
            )
            msg += f"; {shown} {where}"
            group = "prior" if ahead else "seen"
        else:
            msg += "; predictions of decay phases are unreliable (pass prior='auto' or a prior fit)"
            group = "unidentified" if ahead else "seen"
        if ahead or not prior_vals:
            notes.append(msg)
            warnings.warn(msg, IdentifiabilityWarning, stacklevel=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = fit(law, seen, fix=fix or None, prior=gauss_prior, **fit_kwargs)
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            notes.append(str(w.message))
            warnings.warn(str(w.message), w.category, stacklevel=2)
    if np.isinf(np.asarray(result.cov, dtype=float)).any() and ahead and not annealed and not prior_vals:
        group = "unidentified"
    ref_seen = smooth_loss(seen.steps, seen.loss, 201)
    scale = float(np.sqrt(np.mean(np.log(result.predict(curve.lr, seen.steps) / ref_seen) ** 2)))
    fc = Forecast(
        result, cut, {}, notes, fit_from=first, lr=curve.lr, warmup_steps=curve.warmup_steps,
        calibration_group=group, level=0.9 if level is None else float(level), prior_values=prior_vals,
        _annealed=annealed, scale=scale, _seen=seen,
    )
    labelled: list[tuple[str, Schedule | None, int]] = [(curve.name or "run", None, total)]
    labelled += [(str(s), s, s.lr.size) for s in alternatives]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IdentifiabilityWarning)  # said once above
        for label, sched, t in labelled:
            k = every if every else max(1, t // 500)
            steps = np.unique(np.append(np.arange(k, t + 1, k), t))
            if level is None:
                pred = result.predict(curve.lr if sched is None else sched, steps)
                lo, hi = np.full(pred.shape, np.nan), np.full(pred.shape, np.nan)
            else:
                pred, lo, hi = fc.predict(steps, level=level, schedule=sched)
            fc.predictions[label] = (steps, pred, lo, hi)
    fc.holdout = holdout_error(result, curve, after=cut, tail=holdout_tail)
    return fc


def compare(result: FitResult, schedules: Sequence[Schedule], *, steps: Any = None) -> list[dict[str, Any]]:
    """Predicted final loss (and loss at ``steps``, if given) of each schedule, best first."""
    rows = []
    for s in schedules:
        row: dict[str, Any] = {
            "schedule": str(s),
            "final_step": s.total_steps,
            "final_loss": float(result.predict(s, [s.total_steps])[0]),
        }
        if steps is not None:
            st = np.asarray(steps, dtype=np.int64)
            st = st[st <= s.total_steps]
            row["at"] = {int(k): float(v) for k, v in zip(st, result.predict(s, st), strict=True)}
        rows.append(row)
    rows.sort(key=lambda r: r["final_loss"])
    return rows


def _isotonic_decreasing(y: np.ndarray) -> np.ndarray:
    """Least-squares projection onto non-increasing sequences (pool adjacent violators)."""
    vals: list[float] = []
    counts: list[int] = []
    for v in y:
        vals.append(float(v))
        counts.append(1)
        while len(vals) > 1 and vals[-2] < vals[-1]:
            c = counts[-2] + counts[-1]
            m = (vals[-2] * counts[-2] + vals[-1] * counts[-1]) / c
            vals[-2:] = [m]
            counts[-2:] = [c]
    return np.repeat(vals, counts)


def _free_knots(
    final: Any,
    start_lr: np.ndarray,
    warmup: int,
    peak_lr: float,
    final_lr: float,
    *,
    iterations: int,
    knots: int,
    tol: float = 1e-9,
) -> Schedule:
    """Projected gradient descent over monotone piecewise-linear post-warmup schedules.

    Stops after ``iterations``, when no step along the projected gradient lowers the loss, or when
    an iteration lowers it by at most ``tol`` relative.
    """
    from lawfit import schedules as S

    n = start_lr.size - warmup
    if n < 2:
        return S.from_array(start_lr, warmup_steps=warmup)
    k = max(2, min(int(knots), n))
    # Knots denser towards the end: x = (n − 1)·(1 − (1 − u)²), u uniform in [0, 1].
    u = np.linspace(0.0, 1.0, k)
    x = np.unique(np.rint((n - 1) * (1 - (1 - u) ** 2)).astype(np.int64))
    grid = np.arange(n)
    head = start_lr[:warmup]

    def build(v: np.ndarray) -> Schedule:
        return Schedule(np.concatenate([head, np.interp(grid, x, v)]), spec="array:free", warmup_steps=warmup)

    def project(v: np.ndarray) -> np.ndarray:
        return np.clip(_isotonic_decreasing(v), final_lr, peak_lr)

    v = project(start_lr[warmup:][x])
    loss = final(build(v))
    start_loss = final(S.from_array(start_lr, warmup_steps=warmup))
    h = 1e-3 * peak_lr
    step_size = 0.05 * peak_lr
    for _ in range(iterations):
        g = np.empty(v.size)
        for j in range(v.size):
            e = v.copy()
            # one-sided difference pointing into the box [final_lr, peak_lr]
            sign = -1.0 if e[j] + h > peak_lr else 1.0
            e[j] += sign * h
            g[j] = sign * (final(build(e)) - loss) / h
        scale = float(np.abs(g).max())
        if not math.isfinite(scale) or scale == 0.0:
            break
        previous = loss
        while step_size >= 1e-6 * peak_lr:
            trial = project(v - step_size * g / scale)
            trial_loss = final(build(trial))
            if trial_loss < loss:
                v, loss = trial, trial_loss
                step_size *= 1.5
                break
            step_size *= 0.5
        else:
            break
        if previous - loss <= tol * abs(previous):
            break
    if loss >= start_loss:
        return S.from_array(start_lr, warmup_steps=warmup)
    return S.from_array(build(v).lr, warmup_steps=warmup)


def optimize_schedule(
    result: FitResult,
    *,
    total_steps: int,
    peak_lr: float,
    warmup_steps: int = 0,
    family: str = "wsd",
    final_lr: float = 0.0,
    iterations: int = 300,
    knots: int = 32,
) -> dict[str, Any]:
    """The schedule that minimises the predicted final loss within a family.

    ``wsd`` searches the decay fraction and shape; ``cosine`` the final LR (0.01–0.3 of the peak, never
    below ``final_lr``); ``free`` runs projected
    gradient descent over monotone (non-increasing after warmup) schedules in [final_lr, peak_lr].
    For a momentum law with fixed λ and ζ the free schedule is per-step and its gradient analytic,
    dL/dη_i = −αA·S1^(−α−1) − C·dS2/dη_i with dS2(T)/dη_i = −λ^(T−i) for i ≥ 2. For any other law
    (e.g. the multi-power law) the post-warmup LR is piecewise linear between ``knots`` knots
    (denser towards the end, where the final loss is decided), started from the best WSD schedule
    and improved with finite-difference gradients of the predicted final loss; the result is
    never worse than that WSD schedule.

    Parameters
    ----------
    result : FitResult
        A fit of a loss-curve law.
    total_steps : int
        Length of the schedule, warmup included.
    peak_lr : float
        Peak LR (reached at the end of the warmup).
    warmup_steps : int, default 0
        Linear warmup from 0 to ``peak_lr``.
    family : {"wsd", "cosine", "free"}, default "wsd"
        Family to search.
    final_lr : float, default 0.0
        Lowest LR allowed, and the final LR of the cosine baseline.
    iterations : int, default 300
        Projected-gradient iterations of ``free``.
    knots : int, default 32
        Knots of the piecewise-linear ``free`` schedule of laws without an analytic gradient.

    Returns
    -------
    dict
        ``schedule`` (a :class:`Schedule`), ``spec``, ``final_loss``, ``cosine_final_loss``,
        ``gain_over_cosine`` and ``relative_gain`` (over a cosine schedule to ``final_lr``).
    """
    from lawfit import schedules as S

    if family not in ("wsd", "cosine", "free"):
        raise LawfitInputError(f"family must be 'wsd', 'cosine' or 'free', got {family!r}")
    base = S.cosine(total_steps, peak_lr, warmup_steps=warmup_steps, final_lr=final_lr)

    def final(s: Schedule) -> float:
        return float(result.predict(s, [total_steps])[0])

    base_loss = final(base)
    law = result.law
    analytic = isinstance(law, MomentumLaw) and not law.fit_decay and not law.fit_zeta
    candidates: list[Schedule] = []
    if family == "wsd" or (family == "free" and not analytic):
        for frac in np.round(np.arange(0.05, 0.55, 0.05), 2):
            for shape in ("linear", "cosine", "1-sqrt", "exponential"):
                fl = final_lr if (shape != "exponential" or final_lr > 0) else peak_lr * 1e-2
                candidates.append(
                    S.wsd(
                        total_steps,
                        peak_lr,
                        warmup_steps=warmup_steps,
                        decay=float(frac),
                        final_lr=fl,
                        shape=shape,
                    )
                )
    elif family == "cosine":
        # final LRs at or above the floor final_lr (the floor itself is the baseline)
        ratios = (0.01, 0.03, 0.1, 0.2, 0.3)
        ends = {float(f"{r * peak_lr:.12g}") for r in ratios if r * peak_lr > final_lr}
        ends = sorted(ends | {float(final_lr)})
        for end in ends:
            candidates.append(S.cosine(total_steps, peak_lr, warmup_steps=warmup_steps, final_lr=end))
    if family == "free" and not analytic:
        start = min(candidates, key=final)
        candidates.append(
            _free_knots(final, start.lr, warmup_steps, peak_lr, final_lr, iterations=iterations, knots=knots)
        )
    elif family == "free":
        p = result.params
        lam = result.law.decay
        lr = base.lr.copy()
        w = warmup_steps
        idx = np.arange(1, total_steps + 1)
        ds2 = -(lam ** (total_steps - idx).astype(float))
        ds2[0] = 0.0
        step_size = 0.1 * peak_lr
        best = (base_loss, lr.copy())
        for _ in range(iterations):
            s1 = lr.sum()
            grad = -p["alpha"] * p["A"] * s1 ** (-p["alpha"] - 1) - p["C"] * ds2
            grad[:w] = 0.0
            g = grad[w:]
            new = lr.copy()
            new[w:] = np.clip(
                _isotonic_decreasing(lr[w:] - step_size * g / (np.abs(g).max() + 1e-300)), final_lr, peak_lr
            )
            trial = Schedule(new, spec="array:free", warmup_steps=w)
            loss = final(trial)
            if loss < best[0]:
                best = (loss, new.copy())
                lr = new
            else:
                step_size *= 0.5
                if step_size < 1e-9 * peak_lr:
                    break
        candidates.append(S.from_array(best[1], warmup_steps=w))
    scored = sorted(((final(s), i, s) for i, s in enumerate(candidates)), key=lambda t: (t[0], t[1]))
    loss, _, best_sched = scored[0]
    return {
        "schedule": best_sched,
        "spec": str(best_sched),
        "final_loss": loss,
        "cosine_final_loss": base_loss,
        "gain_over_cosine": base_loss - loss,
        "relative_gain": (base_loss - loss) / base_loss if math.isfinite(base_loss) else math.nan,
    }


class Forecaster:
    """Forecast a run from inside its training loop, framework-agnostic.

    Parameters
    ----------
    schedule : Schedule, spec string or array_like
        The run's whole planned per-step LR (a spec such as ``"cosine:total=10000,peak=3e-4"``
        is parsed).
    law : Law, optional
        Default ``MomentumLaw()``.
    min_points : int, default 20
        Updates needed before :meth:`forecast` works.

    Examples
    --------
    >>> fc = Forecaster(lawfit.schedules.cosine(10000, 3e-4, warmup_steps=100))   # doctest: +SKIP
    >>> for step in range(1, 10001):                                             # doctest: +SKIP
    ...     loss = train_step()
    ...     if step % 100 == 0:
    ...         fc.update(step, loss)
    >>> fc.forecast().summary()                                                  # doctest: +SKIP
    """

    def __init__(
        self,
        schedule: Schedule | Any,
        *,
        law: Law | None = None,
        min_points: int = 20,
        warmup_steps: int | None = None,
    ) -> None:
        if isinstance(schedule, str):
            from lawfit.schedules import parse

            schedule = parse(schedule)
        if isinstance(schedule, Schedule):
            self._lr = schedule.lr
            self._warmup = schedule.warmup_steps if warmup_steps is None else warmup_steps
        else:
            from lawfit.curve import infer_warmup

            self._lr = as_float_array("schedule", schedule, nonnegative=True, allow_empty=False)
            # as a Curve does: a raw LR array's warmup is its initial ramp unless given
            self._warmup = infer_warmup(self._lr) if warmup_steps is None else warmup_steps
        self.law = law if law is not None else MomentumLaw()
        self.min_points = int(min_points)
        self._steps: list[int] = []
        self._loss: list[float] = []

    def update(self, step: int, loss: float, lr: float | None = None) -> None:
        """Record the loss at ``step`` (1-based). ``lr``, if given, must match the planned schedule."""
        step = int(step)
        if not 1 <= step <= self._lr.size:
            raise LawfitInputError(f"step {step} is outside the planned schedule (1..{self._lr.size})")
        if self._steps and step <= self._steps[-1]:
            raise LawfitInputError(f"step {step} is not after the last update ({self._steps[-1]})")
        if lr is not None and not math.isclose(
            float(lr), float(self._lr[step - 1]), rel_tol=1e-6, abs_tol=1e-12
        ):
            raise LawfitInputError(
                f"lr {lr!r} at step {step} differs from the planned {self._lr[step - 1]!r}"
            )
        if not math.isfinite(float(loss)):
            return  # a NaN step is skipped, not fitted
        self._steps.append(step)
        self._loss.append(float(loss))

    def forecast(self, **kwargs: Any) -> Forecast:
        """Fit on the updates so far and predict the rest of the planned schedule."""
        if len(self._steps) < self.min_points:
            raise LawfitInputError(f"{len(self._steps)} updates so far; need {self.min_points} to forecast")
        curve = Curve(self._steps, self._loss, self._lr, warmup_steps=self._warmup, name="run")
        return forecast(curve, law=self.law, **kwargs)
