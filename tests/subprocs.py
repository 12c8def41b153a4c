"""Run lawfit in child interpreters: the ``lawfit`` command, and a fit interrupted by Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

#: ``lawfit optimize`` arguments of the multi-power-law paper's 24000-step runs.
OPTIMIZE_24K = ("--total", "24000", "--peak", "3e-4", "--warmup", "2160", "--final", "3e-5")


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m lawfit ARGS`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "lawfit", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def ok_json(*args: str) -> dict | list:
    """The parsed ``--json`` output of a ``lawfit`` command that must succeed."""
    proc = run(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def interrupt(setup: str, call: str, *, after: float = 1.0) -> tuple[str, float]:
    """Run ``setup`` then ``call`` (Python source) in a child, send it SIGINT ``after`` seconds into
    ``call``, and return (its output, seconds from the signal to its exit). The child prints
    ``interrupted`` when ``call`` raised KeyboardInterrupt and ``finished`` when it returned."""
    code = (
        f"{setup}\n"
        "print('ready', flush=True)\n"
        "try:\n"
        + "".join(f"    {line}\n" for line in call.splitlines())
        + "    print('finished')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    time.sleep(after)
    start = time.monotonic()
    os.kill(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    return out.strip(), time.monotonic() - start
