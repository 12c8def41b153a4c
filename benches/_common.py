"""Helpers shared by the benchmark scripts (not a test module).

Real data: ``../shared/data`` beside the repository when it exists (the workplace's larger copy),
else the repository's own ``tests/data`` (unchanged copies of the same files), so every bench runs
from a clone anywhere.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_CANDIDATES = (ROOT.parent / "shared" / "data", ROOT / "tests" / "data")


def data_path(*parts: str) -> Path:
    """The first existing ``<data dir>/<parts>`` of ``../shared/data`` and ``tests/data``."""
    for base in _CANDIDATES:
        path = base.joinpath(*parts)
        if path.exists():
            return path
    raise SystemExit(f"data file {'/'.join(parts)} found in neither of {', '.join(map(str, _CANDIDATES))}")


def mp_curve(size: int, name: str, *, label: str | None = None):
    """One multi-power-law curve of Luo et al. 2025 (25M, 100M or 400M) on its exact per-step LR.

    The schedule comes from the package's spec of that run (``lawfit.datasets.MULTIPOWER_SPECS``,
    which reproduces the source repository's LR arrays); the CSV's 0-based ``step`` s is lawfit step
    s + 1, and points beyond the schedule (step 24000 of 24000-step runs) are dropped.
    """
    import csv

    import lawfit as lf
    import numpy as np

    sched = lf.schedules.parse(lf.datasets.MULTIPOWER_SPECS[name])
    with data_path("multipower", f"csv_{size}", f"{name}.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    steps = np.array([int(float(r["step"])) for r in rows]) + 1
    loss = np.array([float(r["loss"]) for r in rows])
    keep = steps <= sched.total_steps
    return lf.Curve(steps[keep], loss[keep], sched, name=label or name)
