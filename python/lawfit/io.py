"""Readers of training logs: CSV/TSV, JSON lines, W&B CSV exports; Parquet and TensorBoard event
files with the ``io`` extra. Every reader returns a :class:`lawfit.Curve`."""

from __future__ import annotations

import csv
import json
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lawfit._validate import LawfitInputError
from lawfit.curve import Curve

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

#: Longest line a text log may have; longer means the file is not a log (binary garbage).
MAX_LINE = 1 << 20


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


def _to_float(v: Any) -> float:
    if v is None or v == "":
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _check_text(path: Path) -> None:
    with path.open("rb") as fh:
        head = fh.read(65536)
    if b"\x00" in head:
        raise LawfitInputError(f"{path} looks binary, not a text log (CSV/TSV/JSONL)")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of a full buffer is fine; anything else is not text.
        if len(head) < 65536 or exc.start < len(head) - 4:
            raise LawfitInputError(f"{path} is not UTF-8 text: {exc}") from exc


def _read_delimited(path: Path, delimiter: str) -> dict[str, list[Any]]:
    _check_text(path)
    csv.field_size_limit(MAX_LINE)
    with path.open("r", encoding="utf-8", newline="") as fh:
        try:
            reader = csv.DictReader(fh, delimiter=delimiter)
            if not reader.fieldnames:
                raise LawfitInputError(f"{path} is empty or has no header row")
            cols: dict[str, list[Any]] = {name: [] for name in reader.fieldnames}
            for row in reader:
                for name in cols:
                    cols[name].append(row.get(name))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise LawfitInputError(f"{path} is not a valid delimited file: {exc}") from exc
    return cols


def _read_jsonl(path: Path) -> dict[str, list[Any]]:
    _check_text(path)
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise LawfitInputError(f"{path} is not UTF-8 text: {exc}") from exc
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise LawfitInputError(f"{path}:{i + 1} is not valid JSON: {exc}") from exc
        if not isinstance(obj, dict):
            raise LawfitInputError(f"{path}:{i + 1} is not a JSON object")
        rows.append(obj)
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r))
    return {n: [r.get(n) for r in rows] for n in names}


def _read_parquet(path: Path) -> dict[str, list[Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ImportError("reading Parquet needs pyarrow: pip install 'lawfit[io]'") from exc
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises its own error types for garbage
        raise LawfitInputError(f"{path} is not a readable Parquet file: {exc}") from exc
    return {name: table.column(name).to_pylist() for name in table.column_names}


def _read_tensorboard(path: Path, loss_tag: str, lr_tag: str) -> dict[str, list[Any]]:
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError as exc:
        raise ImportError("reading TensorBoard events needs tensorboard: pip install 'lawfit[io]'") from exc
    acc = EventAccumulator(os.fspath(path), size_guidance={"scalars": 0})
    try:
        acc.Reload()
    except Exception as exc:
        raise LawfitInputError(f"{path} is not a readable TensorBoard event file: {exc}") from exc
    tags = acc.Tags().get("scalars", [])
    loss_name = _match(tags, loss_tag, "loss", LOSS_NAMES, "loss tag")
    lr_name = _match(tags, lr_tag, "lr", LR_NAMES, "learning-rate tag", required=False)
    by_step: dict[int, dict[str, float]] = {}
    for tag, key in ((loss_name, "loss"), (lr_name, "lr")):
        if tag is None:
            continue
        for ev in acc.Scalars(tag):
            by_step.setdefault(int(ev.step), {})[key] = float(ev.value)
    steps = sorted(by_step)
    return {
        "step": steps,
        "loss": [by_step[s].get("loss") for s in steps],
        "lr": [by_step[s].get("lr") for s in steps],
    }


def read_table(path: str | os.PathLike[str]) -> dict[str, list[Any]]:
    """Read a log file into columns by name (format from the extension).

    ``.csv``, ``.tsv``/``.txt`` (tab), ``.jsonl``/``.ndjson``, ``.parquet``/``.pq``.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such log file: {p}")
    ext = p.suffix.lower()
    if ext == ".gz":
        raise LawfitInputError(f"{p}: decompress the file first (gzip logs are not read directly)")
    if ext in (".parquet", ".pq"):
        return _read_parquet(p)
    if ext in (".jsonl", ".ndjson"):
        return _read_jsonl(p)
    if ext in (".tsv", ".txt"):
        return _read_delimited(p, "\t")
    return _read_delimited(p, ",")


def read_log(
    path: str | os.PathLike[str],
    steps: str = "step",
    loss: str = "loss",
    lr: str = "lr",
    *,
    schedule: Any = None,
    warmup_steps: int | None = None,
    name: str | None = None,
    nan_policy: str = "omit",
) -> Curve:
    """Read a training log into a :class:`Curve`.

    Parameters
    ----------
    path : path-like
        CSV, TSV, JSON lines, a W&B CSV export, Parquet (``io`` extra) or a TensorBoard event file
        (name containing ``tfevents``; ``io`` extra).
    steps, loss, lr : str
        Column names. When a default name is absent, common alternatives are tried (``_step``,
        ``iter``, ``train/loss``, ``learning_rate``, W&B's ``"<run> - train/loss"``...).
    schedule : Schedule or str, optional
        The run's per-step LR schedule, when the log lacks an LR column or logs it sparsely.
    warmup_steps : int, optional
        Warmup length (default: the schedule's, else 0).
    name : str, optional
        Curve label (default: the file name).
    nan_policy : {"omit", "raise"}, default "omit"
        Rows with a missing/non-finite loss are dropped (``omit``) or rejected.

    Returns
    -------
    Curve

    Notes
    -----
    Repairs, each announced by a :class:`LogFormatWarning`: duplicate steps (a restarted run) keep
    the last row; unsorted rows are sorted; a log whose first step is 0 is read as 0-based (every
    step + 1); an LR logged only at some steps is linearly interpolated to every step.
    """
    from lawfit import schedules as sched_mod

    p = Path(path)
    if "tfevents" in p.name:
        if not p.is_file():
            raise FileNotFoundError(f"no such log file: {p}")
        cols = _read_tensorboard(p, loss, lr)
        steps, loss, lr = "step", "loss", "lr"
    else:
        cols = read_table(p)
    names = list(cols)
    step_col = _match(names, steps, "step", STEP_NAMES, "step")
    loss_col = _match(names, loss, "loss", LOSS_NAMES, "loss")
    lr_col = _match(names, lr, "lr", LR_NAMES, "learning-rate", required=False)
    assert step_col is not None and loss_col is not None
    step_vals = np.array([_to_float(v) for v in cols[step_col]])
    loss_vals = np.array([_to_float(v) for v in cols[loss_col]])
    lr_vals = None if lr_col is None else np.array([_to_float(v) for v in cols[lr_col]])
    ok = np.isfinite(step_vals)
    if not ok.all():
        warnings.warn(f"{p}: dropped {int((~ok).sum())} rows without a step", LogFormatWarning, stacklevel=2)
    step_vals, loss_vals = step_vals[ok], loss_vals[ok]
    lr_vals = None if lr_vals is None else lr_vals[ok]
    if step_vals.size == 0:
        raise LawfitInputError(f"{p} has no rows with a step")
    if (step_vals != np.round(step_vals)).any():
        i = int(np.argmax(step_vals != np.round(step_vals)))
        raise LawfitInputError(f"{p}: step {step_vals[i]!r} is not a whole number")
    int_steps = step_vals.astype(np.int64)
    if int_steps.min() < 0:
        raise LawfitInputError(f"{p}: negative step {int(int_steps.min())}")
    if int_steps.min() == 0:
        warnings.warn(
            f"{p}: the first step is 0; reading the log as 0-based (step + 1)", LogFormatWarning, stacklevel=2
        )
        int_steps = int_steps + 1
    # Stable sort, then keep the last row of each step (a restart re-logs its steps).
    order = np.argsort(int_steps, kind="stable")
    if (np.diff(int_steps) < 0).any():
        warnings.warn(f"{p}: rows were not sorted by step; sorted them", LogFormatWarning, stacklevel=2)
    int_steps, loss_vals = int_steps[order], loss_vals[order]
    lr_vals = None if lr_vals is None else lr_vals[order]
    last = np.ones(int_steps.size, dtype=bool)
    last[:-1] = int_steps[1:] != int_steps[:-1]
    if not last.all():
        warnings.warn(
            f"{p}: {int((~last).sum())} duplicate steps (restarts?); kept the last value of each",
            LogFormatWarning,
            stacklevel=2,
        )
        int_steps, loss_vals = int_steps[last], loss_vals[last]
        lr_vals = None if lr_vals is None else lr_vals[last]
    label = name if name is not None else p.stem
    if schedule is not None:
        s = sched_mod.parse(schedule) if isinstance(schedule, str) else schedule
        return Curve(int_steps, loss_vals, s, warmup_steps=warmup_steps, name=label, nan_policy=nan_policy)
    if lr_vals is None:
        raise LawfitInputError(f"{p} has no learning-rate column; pass schedule=... (a Schedule or spec)")
    has_lr = np.isfinite(lr_vals)
    if not has_lr.any():
        raise LawfitInputError(f"{p}: the learning-rate column {lr_col!r} is empty; pass schedule=...")
    total = int(int_steps[-1])
    if has_lr.all() and int_steps.size == total and int_steps[0] == 1:
        per_step = lr_vals
    else:
        warnings.warn(
            f"{p}: the LR is logged at {int(has_lr.sum())} of {total} steps; interpolating it "
            "linearly (pass schedule=... for exact areas)",
            LogFormatWarning,
            stacklevel=2,
        )
        per_step = np.interp(np.arange(1, total + 1), int_steps[has_lr], lr_vals[has_lr])
    return Curve(int_steps, loss_vals, per_step, warmup_steps=warmup_steps, name=label, nan_policy=nan_policy)


def read_columns(path: str | os.PathLike[str], columns: Mapping[str, str]) -> dict[str, np.ndarray]:
    """Numeric columns of a table file, renamed: ``{"N": "Model Size"}`` → ``{"N": array}``."""
    cols = read_table(path)
    out = {}
    for key, col in columns.items():
        if col not in cols:
            raise LawfitInputError(f"column {col!r} not found; the file has {list(cols)}")
        out[key] = np.array([_to_float(v) for v in cols[col]])
    return out
