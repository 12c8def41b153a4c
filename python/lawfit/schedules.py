"""Learning-rate schedule presets. (Skeleton: presets are completed in issue 2's schedule work.)"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Schedule:
    """A per-step learning-rate schedule.

    Attributes
    ----------
    lr : ndarray, shape (total_steps,), float64
        ``lr[i]`` is the LR of step ``i + 1``.
    spec : str
        A spec string that :func:`parse` turns back into the same schedule.
    warmup_steps : int
        Number of leading linear-warmup steps.
    """

    lr: np.ndarray = field(repr=False)
    spec: str
    warmup_steps: int = 0

    @property
    def total_steps(self) -> int:
        """Number of steps T."""
        return int(self.lr.shape[0])

    @property
    def peak_lr(self) -> float:
        """Largest LR of the schedule."""
        return float(self.lr.max()) if self.lr.size else 0.0

    def __len__(self) -> int:
        return self.total_steps

    def __str__(self) -> str:
        return self.spec


def constant(total_steps: int, peak_lr: float, *, warmup_steps: int = 0) -> Schedule:
    """Constant LR after a linear warmup from 0 (the warmup's last step reaches ``peak_lr``)."""
    lr = np.full(total_steps, float(peak_lr))
    if warmup_steps:
        lr[:warmup_steps] = np.linspace(0.0, peak_lr, warmup_steps)
    spec = f"constant:total={total_steps},peak={peak_lr!r},warmup={warmup_steps}"
    return Schedule(lr, spec, warmup_steps)
