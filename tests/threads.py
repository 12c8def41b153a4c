"""Run a Python snippet in fresh interpreters with different rayon thread counts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def stdout_per_thread_count(code: str, threads: tuple[str, ...] = ("1", "2")) -> list[str]:
    """Standard output of ``python -c code`` once per ``RAYON_NUM_THREADS`` value (from the
    directory holding ``tests/``, with ``tests/`` on the path, so snippets can import test modules)."""
    outs = []
    path = os.pathsep.join([str(ROOT / "tests"), *filter(None, [os.environ.get("PYTHONPATH")])])
    for n in threads:
        env = {**os.environ, "RAYON_NUM_THREADS": n, "PYTHONPATH": path}
        outs.append(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                   check=True, cwd=ROOT).stdout)
    return outs


def assert_thread_count_independent(code: str) -> None:
    """``python -c code`` prints the same non-empty output with 1 and with 2 rayon threads."""
    outs = stdout_per_thread_count(code)
    assert outs[0] == outs[1] and outs[0].strip()
