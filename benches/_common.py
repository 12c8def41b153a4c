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
