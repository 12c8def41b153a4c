"""Choosing a loss-curve law by validation: ``fit("auto", curves)``."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from lawfit._validate import LawfitInputError
from lawfit.curve import Curve
from lawfit.laws import LAWS, Law

#: The loss-curve laws ``auto`` chooses among, by registry name.
AUTO_CANDIDATES = ("momentum", "multipower", "fsl", "convex-bound")


class AutoLaw(Law):
    """A placeholder law: :func:`lawfit.fit` fits every candidate and keeps the one that predicts best.

    With two or more curves the score of a candidate is its leave-one-curve-out prediction error:
    for every curve, fit the others and take the mean relative error |pred − true|/true (PredE of
    Luo et al. 2025) on the held-out curve; the score is the mean over curves. Each of those fits
    starts from the candidate's optimum on all curves (one start, not the law's grid: k + 1 fits
    of k curves cost about as much as 2 grid fits). With one curve, the
    score is the training objective (Σ ρ(r), the same robust loss for every candidate). The result
    is the chosen law's fit on all curves; ``fit.options["auto"]`` holds every candidate's score,
    the criterion and the fit times.

    Parameters
    ----------
    candidates : sequence of str, optional
        Registry names of the candidate laws (default: ``AUTO_CANDIDATES``).
    """

    name = "auto"

    def __init__(self, *, candidates: Sequence[str] = AUTO_CANDIDATES) -> None:
        bad = [c for c in candidates if c not in LAWS]
        if bad or not candidates:
            raise LawfitInputError(f"unknown candidate laws {bad}; known laws: {sorted(LAWS)}")
        self.candidates = tuple(candidates)

    @property
    def param_names(self) -> tuple[str, ...]:
        return ()

    def bounds(self) -> dict[str, tuple[float, float]]:
        return {}

    def options(self) -> dict[str, Any]:
        return {"candidates": list(self.candidates)}


def resolve_law(law: Any) -> Law:
    """A Law instance from a Law or a registry name ("momentum", "fsl", ..., or "auto")."""
    if isinstance(law, Law):
        return law
    if isinstance(law, str):
        if law == "auto":
            return AutoLaw()
        if law in LAWS:
            return LAWS[law]()
        raise LawfitInputError(f"unknown law {law!r}; choose from {sorted([*LAWS, 'auto'])}")
    raise LawfitInputError(f"law must be a Law instance or a law name, got {type(law).__name__}")


def fit_auto(auto: AutoLaw, curves: Sequence[Curve], **kwargs: Any) -> Any:
    """Fit every candidate of ``auto`` and return the best one's :class:`~lawfit.FitResult`."""
    from lawfit.fitting import ConvergenceWarning, fit
    from lawfit.validation import accuracy

    curve_list = list(curves)
    if any(k in kwargs for k in ("fix", "bounds", "starts")):
        raise LawfitInputError("fix=, bounds= and starts= name one law's parameters; pass a law, not 'auto'")
    scores: dict[str, float] = {}
    seconds: dict[str, float] = {}
    fits: dict[str, Any] = {}
    loco = len(curve_list) >= 2
    if loco and kwargs.get("weights") is not None:
        raise LawfitInputError(
            "weights= are per point of all curves; 'auto' with several curves cannot split them"
        )
    for name in auto.candidates:
        law = LAWS[name]()
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                full = fit(law, curve_list, **kwargs)
                if loco:
                    errs = []
                    for i, held in enumerate(curve_list):
                        rest = curve_list[:i] + curve_list[i + 1:]
                        # Warm-started from the all-curve optimum (one start instead of the grid).
                        part = fit(law, rest, starts=full.params, **kwargs)
                        pred = law.predict_curves(part.params, [held])
                        ok = bool(np.all(np.isfinite(pred)))
                        errs.append(accuracy(pred, held.loss)["pred_e"] if ok else math.inf)
                    score = float(np.mean(errs))
                else:
                    score = float(full.metrics["cost"])
        except LawfitInputError as exc:
            warnings.warn(f"auto: {name} cannot fit these curves ({exc})", ConvergenceWarning, stacklevel=3)
            continue
        seconds[name] = time.perf_counter() - t0
        scores[name] = score if math.isfinite(score) else math.inf
        fits[name] = full
    if not fits:
        raise LawfitInputError("no candidate law could fit these curves")
    best = min(scores, key=lambda k: (scores[k], auto.candidates.index(k)))
    result = fits[best]
    result.options["auto"] = {
        "chosen": best,
        "criterion": "loco_pred_e" if loco else "train_cost",
        "scores": scores,
        "seconds": seconds,
    }
    return result
