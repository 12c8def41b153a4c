"""Progress bars for long multi-start fits: on a terminal only, never in pipes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

ProgressCallback = Callable[[int, int], None]


class TerminalBar:
    """A ``callback(done, total)`` drawing a rich progress bar on stderr; use as a context manager."""

    def __init__(self, description: str) -> None:
        from rich.progress import Progress

        self._progress = Progress(transient=True)
        self._task = self._progress.add_task(description, total=None)

    def __enter__(self) -> TerminalBar:
        self._progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._progress.stop()

    def __call__(self, done: int, total: int) -> None:
        self._progress.update(self._task, completed=done, total=total)


def auto_bar(description: str, enabled: bool | None) -> TerminalBar | None:
    """A bar when ``enabled`` (None: when stderr is a terminal) and rich is installed, else None."""
    if enabled is False:
        return None
    if enabled is None and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return None
    try:
        return TerminalBar(description)
    except ImportError:
        return None
