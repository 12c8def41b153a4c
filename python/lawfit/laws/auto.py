"""The ``"auto"`` placeholder law and law names: ``fit("auto", curves)``, ``fit("momentum", ...)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lawfit._validate import LawfitInputError
from lawfit.laws.base import Law

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
        from lawfit.laws import LAWS

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
        from lawfit.laws import LAWS

        if law in LAWS:
            return LAWS[law]()
        raise LawfitInputError(f"unknown law {law!r}; choose from {sorted([*LAWS, 'auto'])}")
    raise LawfitInputError(f"law must be a Law instance or a law name, got {type(law).__name__}")
