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

    Every candidate is fitted on all curves and scored by two held-out tests (mean relative error
    |pred − true|/true, PredE of Luo et al. 2025):

    * ``loco`` (two or more curves): for every curve, fit the others and predict it;
    * ``horizon``: fit the first two thirds of every curve's logged steps and predict the rest
      (``lawfit.auto.HORIZON_FRACTION``; skipped when a part would have fewer than 8 points).

    Each held-out fit starts from the candidate's optimum on all curves (one start, not the law's
    grid). The first candidate (the momentum law: the fewest parameters) is the default; another
    law replaces it only if its error is lower on *every* test, and among those laws the lowest
    mean error wins. One law winning one test is not enough: on the multipower 400M split
    leave-one-curve-out prefers the multi-power law, which then predicts the 3× longer test runs
    worse than the momentum law (``docs/law_comparison.md``). With one curve too short to hold out
    a horizon, the candidates are compared by training objective. The result is the chosen law's
    fit on all curves; ``fit.options["auto"]`` holds every candidate's errors, scores, training
    objective and fit time, and the tests that ran.

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
