"""The one bundle of solver settings every fit hands to the Rust core (``_core.SolverOptions``).

The fit paths pass their settings around as keyword dicts (``loss``, ``delta``, ``space``,
``lower``, ``upper``, ``fixed``, ``ftol``, ``xtol``, ``gtol``, ``max_evals``, ``prior``); at the
binding they become one validated ``SolverOptions``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from lawfit import _core

#: The keywords that make up a SolverOptions.
SOLVER_KEYS = ("loss", "delta", "space", "lower", "upper", "fixed", "ftol", "xtol", "gtol", "max_evals",
               "prior")


def solver_options(settings: Mapping[str, Any]) -> _core.SolverOptions:
    """``_core.SolverOptions`` from the solver keywords of ``settings`` (other keys are ignored)."""
    kw = {k: settings[k] for k in SOLVER_KEYS if k in settings and settings[k] is not None}
    for k in ("lower", "upper"):
        kw[k] = np.asarray(kw[k], dtype=np.float64).tolist()
    kw["fixed"] = [bool(f) for f in kw["fixed"]]
    for k in ("delta", "ftol", "xtol", "gtol"):
        kw[k] = float(kw[k])
    kw["max_evals"] = int(kw["max_evals"])
    if "prior" in kw:
        mean, weight = kw["prior"]
        kw["prior"] = ([float(v) for v in mean], [float(v) for v in weight])
    return _core.SolverOptions(**kw)


def split_solver(kwargs: Mapping[str, Any]) -> tuple[_core.SolverOptions, dict[str, Any]]:
    """(SolverOptions of the solver keywords, the remaining keywords)."""
    rest = {k: v for k, v in kwargs.items() if k not in SOLVER_KEYS}
    return solver_options(kwargs), rest
