"""Law classes: declarative names, bounds, default starts and predictions; the math runs in Rust.

One module per law, named as its Rust file in ``src/laws/``; ``LAWS`` is the registry by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lawfit._validate import LawfitInputError
from lawfit.laws.base import WARMUP_MODES, Law, schedule_query
from lawfit.laws.chinchilla import ChinchillaLaw, ComputeOptimal
from lawfit.laws.convex_bound import ConvexBoundLaw
from lawfit.laws.fsl import FunctionalScalingLaw
from lawfit.laws.momentum import MomentumLaw
from lawfit.laws.momentum_n import MomentumLawN
from lawfit.laws.multipower import MultiPowerLaw
from lawfit.laws.point import PointLaw
from lawfit.laws.power import PowerLaw, PurePowerLaw, SaturatingPowerLaw

__all__ = ["LAWS", "WARMUP_MODES", "ChinchillaLaw", "ComputeOptimal", "ConvexBoundLaw",
           "FunctionalScalingLaw", "Law", "MomentumLaw", "MomentumLawN", "MultiPowerLaw", "PointLaw",
           "PowerLaw", "PurePowerLaw", "SaturatingPowerLaw", "law_from_dict", "schedule_query"]


LAWS: dict[str, type[Law]] = {
    "momentum": MomentumLaw,
    "momentum_n": MomentumLawN,
    "multipower": MultiPowerLaw,
    "fsl": FunctionalScalingLaw,
    "convex-bound": ConvexBoundLaw,
    "chinchilla": ChinchillaLaw,
    "power": PowerLaw,
    "pure_power": PurePowerLaw,
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
