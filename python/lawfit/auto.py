"""Choosing a loss-curve law by validation: ``fit("auto", curves)`` (the law itself and the names
are in :mod:`lawfit.laws.auto`).

Two held-out tests score every candidate law:

* ``loco``: leave one curve out (two or more curves): fit the other curves, predict the held-out one;
* ``horizon``: fit the first ``HORIZON_FRACTION`` of every curve's logged steps, predict the rest.

The first candidate (the momentum law by default: four parameters, the best established law) is
kept unless another law predicts better on *every* test that could be run; among the laws that do,
the one with the lowest mean error wins. Why both, and why the default must be beaten: on the
multipower 400M split leave-one-curve-out alone prefers the multi-power law (0.00096 against
0.00198) while it predicts the longer test runs worse (PredE 0.00216 against 0.00182): no fold of
three 24K-step curves tests a longer horizon, the horizon fold does (0.001525 against 0.001516).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from lawfit._stats import ConvergenceWarning, accuracy, check_weights
from lawfit._validate import LawfitInputError
from lawfit.curve import Curve
from lawfit.laws import LAWS
from lawfit.laws.auto import AUTO_CANDIDATES, AutoLaw, resolve_law

__all__ = ["AUTO_CANDIDATES", "HORIZON_FRACTION", "AutoLaw", "auto_report_lines", "fit_auto", "resolve_law"]

#: The share of each curve's logged steps the horizon test fits (the rest is predicted).
HORIZON_FRACTION = 2.0 / 3.0
#: The fewest points a curve's fitted head and predicted tail need for the horizon test.
HORIZON_MIN_POINTS = 8


def _pred_e(law: Any, params: dict[str, float], curve: Curve) -> float:
    """Mean relative error of ``law`` at ``params`` on ``curve`` (inf if the prediction fails or is
    not finite)."""
    try:
        pred = law.predict_curves(params, [curve])
    except LawfitInputError:
        return math.inf
    return accuracy(pred, curve.loss)["pred_e"] if bool(np.all(np.isfinite(pred))) else math.inf


def horizon_split(curves: Sequence[Curve]) -> tuple[list[np.ndarray], list[Curve]] | None:
    """Every curve cut at ``HORIZON_FRACTION`` of its last logged step: the masks of the fitted
    heads (one per curve) and the non-empty tails to predict.

    ``None`` when a head or every tail is too short (fewer than ``HORIZON_MIN_POINTS`` points).
    """
    masks, tails = [], []
    for c in curves:
        seen = c.steps <= HORIZON_FRACTION * c.steps[-1]
        if int(seen.sum()) < HORIZON_MIN_POINTS:
            return None
        masks.append(seen)
        if int((~seen).sum()) >= HORIZON_MIN_POINTS:
            tails.append(c.subset(~seen))
    return (masks, tails) if tails else None


def _held_out_errors(law: Any, curves: list[Curve], weights: list[np.ndarray] | None, full: Any,
                     fit: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, float]:
    """The candidate's held-out errors: ``loco`` (≥ 2 curves) and ``horizon`` (when the curves allow).

    Every held-out fit starts from the candidate's optimum on all curves (one start, not the law's
    grid), so k curves cost k + 2 single-start fits. ``weights`` are per curve.
    """

    def refit(parts: list[Curve], w: list[np.ndarray] | None) -> dict[str, float]:
        wk = None if w is None else np.concatenate(w)
        return fit(law, parts, starts=full.params, weights=wk, **kwargs).params

    out: dict[str, float] = {}
    if len(curves) >= 2:
        errs = []
        for i, held in enumerate(curves):
            rest = None if weights is None else weights[:i] + weights[i + 1:]
            errs.append(_pred_e(law, refit(curves[:i] + curves[i + 1:], rest), held))
        out["loco"] = float(np.mean(errs))
    split = horizon_split(curves)
    if split is not None:
        masks, tails = split
        heads = [c.subset(m) for c, m in zip(curves, masks, strict=True)]
        w = None if weights is None else [wc[m] for wc, m in zip(weights, masks, strict=True)]
        params = refit(heads, w)
        out["horizon"] = float(np.mean([_pred_e(law, params, t) for t in tails]))
    return out


def choose(errors: dict[str, dict[str, float]], order: Sequence[str]) -> tuple[str, dict[str, float]]:
    """The chosen candidate and every candidate's score (the mean of its held-out errors).

    ``order[0]`` present in ``errors`` is the default; another candidate replaces it only if it is
    lower on every test the default has; among those, the lowest score wins (ties: earlier in
    ``order``).
    """
    names = [n for n in order if n in errors]
    scores = {n: float(np.mean(list(errors[n].values()))) if errors[n] else math.inf for n in names}
    default = names[0]
    tests = errors[default]
    better = [n for n in names[1:]
              if tests and all(errors[n].get(k, math.inf) < v for k, v in tests.items())]
    best = min([default, *better], key=lambda n: (scores[n], names.index(n)))
    return best, scores


def fit_auto(auto: AutoLaw, curves: Sequence[Curve], fit: Callable[..., Any], **kwargs: Any) -> Any:
    """Fit every candidate of ``auto`` with ``fit`` (:func:`lawfit.fit`, passed in by it), score it
    on held-out curves and horizons, and return the chosen one's :class:`~lawfit.FitResult`.

    ``fit.options["auto"]`` holds ``chosen``, ``default`` (the law kept unless beaten), ``tests``
    (which held-out tests ran), ``errors`` (per candidate and test: mean PredE), ``scores`` (their
    mean), ``train_cost`` and ``seconds`` per candidate. With one curve too short for the horizon
    test, the candidates are compared by training objective (``tests == ["train_cost"]``).
    """
    curve_list = list(curves)
    if any(k in kwargs for k in ("fix", "bounds", "starts")):
        raise LawfitInputError("fix=, bounds= and starts= name one law's parameters; pass a law, not 'auto'")
    sizes = [c.steps.size for c in curve_list]
    weights = check_weights(kwargs.pop("weights", None), sum(sizes))
    per_curve = None if weights is None else np.split(weights, np.cumsum(sizes)[:-1])
    errors: dict[str, dict[str, float]] = {}
    seconds: dict[str, float] = {}
    costs: dict[str, float] = {}
    fits: dict[str, Any] = {}
    for name in auto.candidates:
        law = LAWS[name]()
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                full = fit(law, curve_list, weights=weights, **kwargs)
                errors[name] = _held_out_errors(law, curve_list, per_curve, full, fit, kwargs)
        except LawfitInputError as exc:
            warnings.warn(f"auto: {name} cannot fit these curves ({exc})", ConvergenceWarning, stacklevel=3)
            continue
        seconds[name] = time.perf_counter() - t0
        costs[name] = float(full.metrics["cost"])
        fits[name] = full
    if not fits:
        raise LawfitInputError("no candidate law could fit these curves")
    tests = sorted({k for e in errors.values() for k in e}, key=["loco", "horizon"].index)
    if not tests:  # one short curve: nothing to hold out
        errors = {n: {"train_cost": costs[n]} for n in fits}
        tests = ["train_cost"]
        best, scores = min(fits, key=lambda n: (costs[n], auto.candidates.index(n))), dict(costs)
    else:
        best, scores = choose(errors, auto.candidates)
    result = fits[best]
    # JSON-safe (fit files are strict JSON): a non-finite error or score is stored as None.
    result.options["auto"] = {
        "chosen": best,
        "default": next(n for n in auto.candidates if n in fits),
        "tests": tests,
        "errors": {n: {k: _finite(v) for k, v in e.items()} for n, e in errors.items()},
        "scores": {n: _finite(v) for n, v in scores.items()},
        "train_cost": {n: _finite(v) for n, v in costs.items()},
        "seconds": seconds,
    }
    return result


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


_TEST_TITLES = {"loco": "held-out curves", "horizon": "held-out last third", "train_cost": "train objective"}


def _num(v: float | None) -> float:
    return math.inf if v is None else v


def auto_report_lines(info: dict[str, Any]) -> list[str]:
    """The ``[[Auto]]`` section of :meth:`FitResult.report`: every candidate's held-out errors."""
    tests = list(info.get("tests", []))
    head = f"    {'law':<14s}" + "".join(f"{_TEST_TITLES.get(t, t):>22s}" for t in tests) + f"{'fit s':>8s}"
    lines = [f"[[Auto]] (chose {info.get('chosen')}; default {info.get('default')}, kept unless another "
             "law is better on every test)", head]
    for name, errs in info.get("errors", {}).items():
        mark = " *" if name == info.get("chosen") else ""
        cells = "".join(f"{_num(errs.get(t)):>22.5g}" for t in tests)
        lines.append(f"    {name + mark:<14s}{cells}{info.get('seconds', {}).get(name, math.nan):>8.1f}")
    return lines
