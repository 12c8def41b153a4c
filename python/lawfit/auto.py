"""Choosing a loss-curve law by validation: ``fit("auto", curves)`` (the law itself and the names
are in :mod:`lawfit.laws.auto`)."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from lawfit._stats import ConvergenceWarning, accuracy
from lawfit._validate import LawfitInputError
from lawfit.curve import Curve
from lawfit.laws import LAWS
from lawfit.laws.auto import AUTO_CANDIDATES, AutoLaw, resolve_law

__all__ = ["AUTO_CANDIDATES", "AutoLaw", "fit_auto", "resolve_law"]


def fit_auto(auto: AutoLaw, curves: Sequence[Curve], fit: Callable[..., Any], **kwargs: Any) -> Any:
    """Fit every candidate of ``auto`` with ``fit`` (:func:`lawfit.fit`, passed in by it) and return
    the best one's :class:`~lawfit.FitResult`."""

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
