"""lawfit: fit and forecast neural scaling laws, Rust-accelerated.

The flagship predicts a training-loss curve under any learning-rate schedule with the momentum law
(Tissue et al. 2024) and the multi-power law (Luo et al. 2025).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from lawfit import datasets, schedules
from lawfit._core import LawfitInputError
from lawfit._validate import LawfitTypeError
from lawfit.batch import BatchResult, fit_many
from lawfit.bootstrap import BootstrapResult
from lawfit.crossover import Crossover, crossover
from lawfit.curve import Curve
from lawfit.fitting import ConvergenceWarning, FitResult, fit, load_fit
from lawfit.io import LogFormatWarning, read_log
from lawfit.laws import Law, MomentumLaw, MomentumLawN
from lawfit.lr_areas import areas
from lawfit.schedules import Schedule
from lawfit.size_laws import (
    ChinchillaLaw,
    ComputeOptimal,
    PointLaw,
    PowerLaw,
    PurePowerLaw,
    Regions,
    SaturatingPowerLaw,
)
from lawfit.validation import Validation, validate

try:
    __version__ = version("lawfit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "BatchResult",
    "BootstrapResult",
    "ChinchillaLaw",
    "ComputeOptimal",
    "Crossover",
    "PointLaw",
    "PowerLaw",
    "PurePowerLaw",
    "Regions",
    "SaturatingPowerLaw",
    "crossover",
    "fit_many",
    "ConvergenceWarning",
    "Curve",
    "FitResult",
    "Law",
    "LogFormatWarning",
    "MomentumLaw",
    "MomentumLawN",
    "fit",
    "load_fit",
    "read_log",
    "LawfitInputError",
    "LawfitTypeError",
    "Schedule",
    "Validation",
    "__version__",
    "areas",
    "datasets",
    "schedules",
    "validate",
]
