"""The one bundle of solver settings every fit hands to the Rust core (``_core.SolverOptions``).

The fit paths pass their settings around as keyword dicts (``loss``, ``delta``, ``space``,
``lower``, ``upper``, ``fixed``, ``ftol``, ``xtol``, ``gtol``, ``max_evals``, ``prior``,
``warm_start``); at the binding they become one validated ``SolverOptions``. The curves of a
curve-law fit become one validated ``_core.Curves`` (:func:`core_curves`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np

from lawfit import _core
from lawfit._validate import LawfitTypeError

#: The keywords that make up a SolverOptions.
SOLVER_KEYS = ("loss", "delta", "space", "lower", "upper", "fixed", "ftol", "xtol", "gtol", "max_evals",
               "prior", "warm_start")


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


def core_curves(curves: Sequence[Any], warmups: Sequence[int] | None = None) -> _core.Curves:
    """``_core.Curves`` of ``curves`` (objects with ``lr``, 1-based ``steps`` and ``warmup_steps``):
    their LR arrays, logged steps and warmups (``warmups`` replaces the curves' own), checked once."""
    if warmups is None:
        warmups = [int(c.warmup_steps) for c in curves]
    return _core.Curves([c.lr for c in curves], [c.steps for c in curves], list(warmups))


def split_solver(kwargs: Mapping[str, Any]) -> tuple[_core.SolverOptions, dict[str, Any]]:
    """(SolverOptions of the solver keywords, the remaining keywords)."""
    rest = {k: v for k, v in kwargs.items() if k not in SOLVER_KEYS}
    return solver_options(kwargs), rest


#: The ``trace`` callback of the running :func:`lawfit.fit` (None: not tracing).
_TRACE: ContextVar[Callable[[dict[str, Any]], object] | None] = ContextVar("lawfit_trace", default=None)


@contextmanager
def tracing(trace: Callable[[dict[str, Any]], object] | None) -> Iterator[None]:
    """Within the block, every :func:`run_solver` reports its stage to ``trace``. None keeps the
    enclosing block's trace (the fits ``fit("auto")`` runs report to the caller's trace)."""
    if trace is None:
        yield
        return
    if not callable(trace):
        raise LawfitTypeError(f"trace must be a callable taking one dict, got {type(trace).__name__}")
    token = _TRACE.set(trace)
    try:
        yield
    finally:
        _TRACE.reset(token)


def run_solver(fn: Callable[..., dict[str, Any]], *args: Any, size: Mapping[str, int] | None = None,
               **kwargs: Any) -> dict[str, Any]:
    """Run one Rust fit ``fn(*args, options=SolverOptions, **rest)`` from keyword settings.

    The solver keywords of ``kwargs`` (:data:`SOLVER_KEYS`) become one ``SolverOptions``; the rest
    pass through. Under :func:`tracing` the stage is reported: a dict with ``solver`` (the Rust
    function's name), the entries of ``size`` (e.g. ``steps``, ``points``), ``starts``, ``wall`` and
    ``cpu`` (seconds, this process), ``n_evals``, ``n_iter`` (accepted steps, when reported),
    ``cost`` and ``success``.
    """
    options, rest = split_solver(kwargs)
    trace = _TRACE.get()
    if trace is None:
        return fn(*args, options=options, **rest)
    wall, cpu = time.perf_counter(), time.process_time()
    rep = fn(*args, options=options, **rest)
    stage: dict[str, Any] = {"solver": getattr(fn, "__name__", str(fn)), **(size or {})}
    starts = rest.get("starts")
    stage.update(
        starts=int(np.shape(starts)[0]) if starts is not None and np.ndim(starts) >= 2 else None,
        wall=time.perf_counter() - wall,
        cpu=time.process_time() - cpu,
        n_evals=int(rep["n_evals"]),
        n_iter=int(rep["n_iter"]) if "n_iter" in rep else None,
        cost=float(rep["cost"]),
        success=bool(rep["success"]),
    )
    trace(stage)
    return rep
