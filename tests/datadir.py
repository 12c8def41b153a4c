"""Where the tests' real data live: ``tests/data`` (unchanged copies, credited in its README)."""

from __future__ import annotations

import os
from pathlib import Path

DATA = Path(os.environ.get("LAWFIT_TEST_DATA", Path(__file__).resolve().parent / "data"))


def data_file(*parts: str) -> Path:
    """Path of a bundled test data file; raises (never skips) when it is missing."""
    path = DATA.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"test data missing at {path}: tests/data ships with the repository")
    return path
