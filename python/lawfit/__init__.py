"""lawfit: fit and forecast neural scaling laws, Rust-accelerated.

The flagship predicts a training-loss curve under any learning-rate schedule with the momentum law
(Tissue et al. 2024) and the multi-power law (Luo et al. 2025).
"""

from __future__ import annotations

from lawfit import datasets, schedules
from lawfit._core import LawfitInputError
from lawfit._stats import BoundWarning
from lawfit._validate import LawfitTypeError
from lawfit._version import __version__
from lawfit.batch import BatchResult, fit_many
from lawfit.bootstrap import BootstrapResult
from lawfit.crossover import Crossover, crossover
from lawfit.curve import Curve
from lawfit.fitting import ConvergenceWarning, FitResult, fit, load_fit
from lawfit.forecast import Forecast, Forecaster, compare, forecast, optimize_schedule, predict_band
from lawfit.io import LogFormatWarning, list_runs, read_log, read_logs
from lawfit.laws import (
    ChinchillaLaw,
    ComputeOptimal,
    ConvexBoundLaw,
    FunctionalScalingLaw,
    Law,
    MomentumLaw,
    MomentumLawN,
    MultiPowerLaw,
    PointLaw,
    PowerLaw,
    PurePowerLaw,
    SaturatingPowerLaw,
)
from lawfit.laws.auto import AutoLaw
from lawfit.lr_areas import areas
from lawfit.regions import Regions, regions
from lawfit.schedules import Schedule
from lawfit.solver import LeastSquaresResult, least_squares
from lawfit.validation import Validation, validate

# Task-performance and data laws need scipy (extra `tasks`): imported on first use.
_LAZY_MODULES = ("passuntil", "downstream", "pruning", "projektor", "trajectories")
_LAZY_NAMES = {
    "passuntil": (
        "estimate_pass_rate",
        "simulate_passuntil",
        "fit_task_law",
        "fit_task_law_counts",
        "classify_scaling",
        "PassUntilEstimate",
        "TaskLawFit",
    ),
    "downstream": ("downstream_scores", "correlate_with_compute"),
    "pruning": ("prototype_scores", "select_examples", "compare_pruning_scaling"),
    "projektor": (
        "extrapolate",
        "fit_stage1",
        "select_mixture",
        "project_simplex",
        "Projektor",
        "SinkhornDivergence",
    ),
    "trajectories": ("fit_trajectory", "compare_sizes", "predict_task"),
}
_NAME_TO_MODULE = {name: mod for mod, names in _LAZY_NAMES.items() for name in names}


def __getattr__(name: str) -> object:
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(f"lawfit.tasks.{name}")
    if name in _NAME_TO_MODULE:
        return getattr(importlib.import_module(f"lawfit.tasks.{_NAME_TO_MODULE[name]}"), name)
    raise AttributeError(f"module 'lawfit' has no attribute {name!r}")



__all__ = [
    "AutoLaw",
    "BatchResult",
    "BootstrapResult",
    "ChinchillaLaw",
    "ComputeOptimal",
    "Crossover",
    "PointLaw",
    "PowerLaw",
    "PurePowerLaw",
    "Regions",
    "regions",
    "SaturatingPowerLaw",
    "crossover",
    "fit_many",
    "BoundWarning",
    "ConvergenceWarning",
    "Curve",
    "FitResult",
    "Forecast",
    "Forecaster",
    "Law",
    "LeastSquaresResult",
    "LogFormatWarning",
    "MomentumLaw",
    "MomentumLawN",
    "MultiPowerLaw",
    "FunctionalScalingLaw",
    "ConvexBoundLaw",
    "fit",
    "least_squares",
    "load_fit",
    "read_log",
    "read_logs",
    "list_runs",
    "LawfitInputError",
    "LawfitTypeError",
    "Schedule",
    "Validation",
    "__version__",
    "areas",
    "compare",
    "forecast",
    "optimize_schedule",
    "predict_band",
    "datasets",
    "schedules",
    "validate",
]
