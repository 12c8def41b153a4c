"""Forecasts from a partial run, uncertainty bands, schedule comparison and optimisation."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lawfit._validate import LawfitInputError, as_float_array
from lawfit.curve import Curve
from lawfit.fitting import ConvergenceWarning, FitResult, fit
from lawfit.laws import Law, MomentumLaw
from lawfit.schedules import Schedule


class IdentifiabilityWarning(ConvergenceWarning):
    """The data seen so far cannot determine a parameter (e.g. no annealing yet, so C is free)."""


def predict_band(
    result: FitResult,
    schedule: Schedule | np.ndarray,
    steps: Any = None,
    *,
    level: float = 0.9,
    n_draws: int = 300,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prediction with a parameter-uncertainty band.

    Draws parameters from the fit's Gaussian approximation N(θ̂, cov) (clipped to the law's bounds;
    fixed or unidentified parameters stay at their value) and returns the pointwise quantiles.

    Returns
    -------
    pred, lower, upper : ndarray, shape (len(steps),)
        Central prediction and the ``level`` band, in loss units.
    """
    if not 0 < level < 1:
        raise LawfitInputError(f"level must lie in (0, 1), got {level!r}")
    pred = result.predict(schedule, steps)
    names = list(result.law.param_names)
    theta = np.array([result.params[k] for k in names])
    cov = np.nan_to_num(np.asarray(result.cov, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
    cov = 0.5 * (cov + cov.T)
    w, v = np.linalg.eigh(cov)
    root = v * np.sqrt(np.clip(w, 0, None))
    rng = np.random.default_rng(seed)
    bounds = result.law.bounds()
    lo = np.array([bounds[k][0] for k in names])
    hi = np.array([bounds[k][1] for k in names])
    draws = np.clip(theta + rng.standard_normal((n_draws, theta.size)) @ root.T, lo, hi)
    sims = np.array([result.law.predict(dict(zip(names, d, strict=True)), schedule, steps) for d in draws])
    q = (1 - level) / 2
    return pred, np.quantile(sims, q, axis=0), np.quantile(sims, 1 - q, axis=0)


@dataclass
class Forecast:
    """A forecast of the rest of a run (and alternatives) from the part seen so far."""

    fit: FitResult
    seen_until: int
    predictions: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    warnings: list[str]
    fit_from: int = 1
    holdout: dict[str, Any] | None = None

    def summary(self) -> str:
        """Final predicted loss and band of each schedule (and the held-out error, when known)."""
        lines = [f"fitted on steps {self.fit_from}..{self.seen_until}"]
        for label, (steps, pred, lo, hi) in self.predictions.items():
            lines.append(
                f"{label}: final loss at step {int(steps[-1])} = {pred[-1]:.4f} [{lo[-1]:.4f}, {hi[-1]:.4f}]"
            )
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


def forecast(
    curve: Curve,
    *,
    until: int | float | None = None,
    alternatives: Sequence[Schedule] = (),
    law: Law | None = None,
    prior: FitResult | None = None,
    level: float = 0.9,
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
    prior : FitResult, optional
        An earlier fit of the same law; parameters the seen data cannot identify are fixed to it.
    level : float, default 0.9
        Width of the uncertainty band.
    every : int, optional
        Predict every K steps (default: about 500 points per schedule).
    fit_from : "warmup" or int, default "warmup"
        First step to fit on. ``"warmup"`` (see :func:`fit_start`) skips the LR warmup: the laws
        describe the loss after warmup, and the fast initial drop of a per-step log (loss 11 → 4 in
        the first few hundred steps of a GPT-2 run) otherwise dominates the fit and bends the
        power law. The published fits use post-warmup points only (Tissue et al.'s Fig. 2 starts
        at step 1000 after a 500-step warmup; Luo et al. log from the end of warmup). An int fits
        steps ≥ ``fit_from`` (1 fits everything). Logged steps with no LR area yet (S1 = 0) are
        always skipped.
    holdout_tail : float, default 0.1
        When the curve holds logged losses after ``until``, :func:`holdout_error` of the final
        ``holdout_tail`` of the schedule is stored in ``Forecast.holdout``.
    **fit_kwargs
        Passed to :func:`lawfit.fit` (``loss``, ``delta``, ``fix``...).

    Returns
    -------
    Forecast
    """
    law = law if law is not None else MomentumLaw()
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
    notes: list[str] = []
    fix = dict(fit_kwargs.pop("fix", {}) or {})
    if isinstance(law, MomentumLaw):
        lr_seen = curve.lr[:cut]
        peak = float(lr_seen.max()) if lr_seen.size else 0.0
        post = lr_seen[curve.warmup_steps :] if curve.warmup_steps < cut else lr_seen[-1:]
        annealed = peak > 0 and float(post.min()) < 0.95 * peak
        if not annealed:
            msg = "no LR annealing seen yet: the annealing coefficient C is not identified by the data"
            if prior is not None and "C" in prior.params:
                fix.setdefault("C", prior.params["C"])
                msg += f"; fixed C = {prior.params['C']:.4g} from the prior fit"
            else:
                msg += "; predictions of decay phases are unreliable (pass a prior fit)"
            notes.append(msg)
            warnings.warn(msg, IdentifiabilityWarning, stacklevel=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        result = fit(law, seen, fix=fix or None, **fit_kwargs)
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            notes.append(str(w.message))
            warnings.warn(str(w.message), w.category, stacklevel=2)
    schedules: dict[str, Any] = {curve.name or "run": (curve.lr, curve.warmup_steps)}
    for s in alternatives:
        schedules[str(s)] = (s.lr, s.warmup_steps)
    preds = {}
    for label, (lr, w) in schedules.items():
        t = lr.size
        k = every if every else max(1, t // 500)
        steps = np.unique(np.append(np.arange(k, t + 1, k), t))
        sched = (
            Schedule(np.asarray(lr), spec=f"array:n={t}", warmup_steps=w)
            if not isinstance(lr, Schedule)
            else lr
        )
        pred, lo, hi = predict_band(result, sched, steps, level=level)
        preds[label] = (steps, pred, lo, hi)
    held = holdout_error(result, curve, after=cut, tail=holdout_tail)
    return Forecast(result, cut, preds, notes, fit_from=first, holdout=held)


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
            self._lr = as_float_array("schedule", schedule, nonnegative=True, allow_empty=False)
            self._warmup = 0 if warmup_steps is None else warmup_steps
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
