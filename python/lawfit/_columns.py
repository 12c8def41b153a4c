"""Column names of training logs and the column matcher, shared by the readers (``io``) and
``Curve.from_frame``; and the warning for repaired logs."""

from __future__ import annotations

from collections.abc import Sequence

from lawfit._validate import LawfitInputError

STEP_NAMES = ("step", "steps", "_step", "global_step", "trainer/global_step", "iter", "iteration", "Step")
LOSS_NAMES = (
    "loss",
    "train/loss",
    "train_loss",
    "val_loss",
    "eval/loss",
    "validation_loss",
    "val/loss",
    "lm loss",
    "lm_loss",
    "Value",
)
LR_NAMES = ("lr", "learning_rate", "train/learning_rate", "train/lr", "lr-AdamW", "optimizer/lr")


class LogFormatWarning(UserWarning):
    """The log needed a repair (duplicate steps, unsorted rows, 0-based steps, sparse LR)."""


def _match(
    columns: Sequence[str],
    wanted: str,
    default: str,
    candidates: Sequence[str],
    what: str,
    required: bool = True,
) -> str | None:
    if wanted in columns:
        return wanted
    if wanted != default:
        raise LawfitInputError(f"column {wanted!r} not found; the log has columns {list(columns)}")
    for cand in candidates:
        if cand in columns:
            return cand
    # W&B exports name columns "<run> - <metric>", with "__MIN"/"__MAX" companions.
    for cand in candidates:
        for col in columns:
            if col.endswith(f" - {cand}"):
                return col
    if required:
        raise LawfitInputError(
            f"no {what} column found (looked for {list(candidates)}); the log has columns {list(columns)}; "
            f"name it explicitly"
        )
    return None
