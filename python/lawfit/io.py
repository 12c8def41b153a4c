"""Readers of training logs: CSV/TSV, JSON lines, W&B CSV exports; Parquet and TensorBoard event
files with the ``io`` extra. Every reader returns a :class:`lawfit.Curve`."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lawfit._columns import LOSS_NAMES, LR_NAMES, STEP_NAMES, LogFormatWarning, _match
from lawfit._validate import LawfitInputError
from lawfit.curve import Curve

#: Columns naming the run a row belongs to, when one file holds several runs.
RUN_NAMES = ("run", "run_id", "run_name", "name", "schedule", "experiment", "config")
#: Compressed logs are read directly: suffix -> opener.
_COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}

#: Longest line a text log may have; longer means the file is not a log (binary garbage).
MAX_LINE = 1 << 20


def _wandb_runs(columns: Sequence[str], candidates: Sequence[str]) -> dict[str, str]:
    """W&B export columns ``"<run> - <metric>"`` of the first metric any run logs: run -> column."""
    for cand in candidates:
        found = {col[: -len(f" - {cand}")]: col for col in columns if col.endswith(f" - {cand}")}
        if found:
            return found
    return {}


def _floats(values: Sequence[Any]) -> np.ndarray:
    """Column values as float64 (numbers or numeric strings); anything else becomes NaN."""
    try:
        return np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        return np.array([_to_float(v) for v in values], dtype=np.float64)


def _to_float(v: Any) -> float:
    if v is None or v == "":
        return math.nan
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _open_binary(path: Path) -> Any:
    """Open ``path`` for reading bytes, decompressing gzip/bz2/xz by suffix."""
    opener = _COMPRESSED.get(path.suffix.lower())
    return opener(path, "rb") if opener is not None else path.open("rb")


def _inner_suffix(path: Path) -> str:
    """The format suffix of ``path``: ``log.csv.gz`` -> ``.csv``."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _check_text(path: Path) -> None:
    try:
        with _open_binary(path) as fh:
            head = fh.read(65536)
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise LawfitInputError(f"{path} could not be decompressed: {exc}") from exc
    if b"\x00" in head:
        raise LawfitInputError(f"{path} looks binary, not a text log (CSV/TSV/JSONL)")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of a full buffer is fine; anything else is not text.
        if len(head) < 65536 or exc.start < len(head) - 4:
            raise LawfitInputError(f"{path} is not UTF-8 text: {exc}") from exc


def _read_text(path: Path) -> str:
    """The whole text of a (possibly compressed) log; a UTF-8 byte-order mark is dropped."""
    _check_text(path)
    try:
        with _open_binary(path) as fh:
            raw = fh.read()
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise LawfitInputError(f"{path} could not be decompressed: {exc}") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LawfitInputError(f"{path} is not UTF-8 text: {exc}") from exc


def _arrow_csv() -> Any:
    """``pyarrow.csv`` when installed (the ``io`` extra), else None: the stdlib parser is used."""
    try:
        import pyarrow.csv as pc
    except ImportError:
        return None
    return pc


def _parse_arrow(
    pc: Any, text: str, delimiter: str, path: Path
) -> tuple[list[str], list[list[Any]], list[str]]:
    """Header, columns (as strings) and the text of malformed rows, parsed by pyarrow."""
    import pyarrow as pa

    first = text.split("\n", 1)[0].rstrip("\r")
    header = next(csv.reader([first], delimiter=delimiter), [])
    names = [h.strip() for h in header]
    bad: list[str] = []

    def invalid(row: Any) -> str:
        if str(row.text).strip():  # whitespace-only lines are skipped, as blank ones
            bad.append(str(row.text))
        return "skip"

    try:
        table = pc.read_csv(
            io.BytesIO(text.encode("utf-8")),
            # use_threads=False: see _read_parquet (an exit soon after a threaded read can abort).
            read_options=pc.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24,
                                        use_threads=False),
            parse_options=pc.ParseOptions(delimiter=delimiter, invalid_row_handler=invalid),
            convert_options=pc.ConvertOptions(column_types={n: pa.string() for n in names}),
        )
    except (pa.ArrowInvalid, ValueError) as exc:
        raise LawfitInputError(f"{path} is not a valid delimited file: {exc}") from exc
    return names, [table.column(i).to_pylist() for i in range(table.num_columns)], bad


def _parse_stdlib(text: str, delimiter: str, path: Path) -> tuple[list[str], list[list[Any]], list[str]]:
    """Header, columns (as strings) and the text of malformed rows, parsed by the csv module."""
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        header = next(reader, None) or []
        names = [h.strip() for h in header]
        width = len(names)
        full: list[list[str]] = []
        bad: list[str] = []
        for row in reader:
            if len(row) == width:
                full.append(row)
            elif row and any(c.strip() for c in row):
                bad.append(delimiter.join(row))
    except csv.Error as exc:
        raise LawfitInputError(f"{path} is not a valid delimited file: {exc}") from exc
    columns = [list(c) for c in zip(*full, strict=True)] if full else [[] for _ in names]
    return names, columns, bad


def _read_delimited(path: Path, delimiter: str) -> dict[str, list[Any]]:
    """Columns of a CSV/TSV log by name (values as strings).

    Rows with fewer or more fields than the header (a write cut short) are dropped, and so is a
    last row without a line end (a write cut inside its last number looks complete); both are
    counted in a :class:`LogFormatWarning`. Parsed by pyarrow when installed, else by :mod:`csv`.
    """
    text = _read_text(path)
    csv.field_size_limit(MAX_LINE)
    if not text.strip():
        raise LawfitInputError(f"{path} is empty or has no header row")
    pc = _arrow_csv()
    names, columns, bad = (
        _parse_arrow(pc, text, delimiter, path) if pc is not None else _parse_stdlib(text, delimiter, path)
    )
    if not names or not any(names):
        raise LawfitInputError(f"{path} is empty or has no header row")
    last_line = text.rsplit("\n", 1)[-1].rstrip("\r")
    if last_line.strip() and "\n" in text and columns and columns[0]:
        # No line end after the last row: if it is complete, it may still be cut inside a number.
        last_row = next(csv.reader([last_line], delimiter=delimiter), [])
        if len(last_row) == len(names):
            for col in columns:
                col.pop()
            warnings.warn(
                f"{path}: dropped the last row ({last_line[:60]!r}): it has no line end, so the file was "
                "probably cut while being written (end the file with a newline to keep it)",
                LogFormatWarning,
                stacklevel=5,
            )
    if bad:
        shown = ", ".join(repr(b[:60]) for b in bad[:3]) + (" ..." if len(bad) > 3 else "")
        warnings.warn(
            f"{path}: dropped {len(bad)} row(s) with fewer or more fields than the header's "
            f"{len(names)} (truncated writes?): {shown}",
            LogFormatWarning,
            stacklevel=5,
        )
    return dict(zip(names, columns, strict=True))


def _read_jsonl(path: Path) -> dict[str, list[Any]]:
    rows = []
    lines = _read_text(path).splitlines()
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


def _read_json_table(path: Path) -> dict[str, list[Any]]:
    """A JSON log: a list of row objects, or an object of equal-length column lists."""
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise LawfitInputError(f"{path} is not valid JSON: {exc}") from exc
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        names: dict[str, None] = {}
        for r in data:
            names.update(dict.fromkeys(r))
        return {n: [r.get(n) for r in data] for n in names}
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        lengths = {len(v) for v in data.values()}
        if len(lengths) == 1:
            return {str(k): list(v) for k, v in data.items()}
    raise LawfitInputError(
        f"{path} is JSON but not a log: expected a trainer_state.json (with log_history), a list of row "
        "objects, or an object of equal-length column lists"
    )


def _read_parquet(path: Path) -> dict[str, list[Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise ImportError("reading Parquet needs pyarrow: pip install 'lawfit[io]'") from exc
    try:
        # No Arrow thread pool: a log is small, and pyarrow's pool threads can abort the process
        # when it exits soon after a read (apache/arrow#34314).
        table = pq.read_table(path, use_threads=False)
    except Exception as exc:  # pyarrow raises its own error types for garbage
        raise LawfitInputError(f"{path} is not a readable Parquet file: {exc}") from exc
    return {name: table.column(name).to_pylist() for name in table.column_names}


def _event_files(path: Path) -> list[Path]:
    """Every TensorBoard event file of a run: the file itself, or all under a run directory."""
    if path.is_file():
        return [path]
    return sorted(f for f in path.rglob("*tfevents*") if f.is_file())


def _read_tensorboard(path: Path, loss_tag: str, lr_tag: str) -> dict[str, list[Any]]:
    """Scalars of a TensorBoard event file or run directory (every event file under it).

    Tags are matched like columns (``loss``, ``train/loss``, ``learning_rate``...). Files are
    read in name order (their names start with the creation time), so a restarted run's later
    file wins at the steps both logged.
    """
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError as exc:
        raise ImportError("reading TensorBoard events needs tensorboard: pip install 'lawfit[io]'") from exc
    files = _event_files(path)
    if not files:
        raise LawfitInputError(f"{path} holds no TensorBoard event files (names containing 'tfevents')")
    scalars: dict[str, dict[int, float]] = {}
    for f in files:
        acc = EventAccumulator(os.fspath(f), size_guidance={"scalars": 0})
        try:
            acc.Reload()
        except Exception as exc:
            raise LawfitInputError(f"{f} is not a readable TensorBoard event file: {exc}") from exc
        for tag in acc.Tags().get("scalars", []):
            into = scalars.setdefault(tag, {})
            for ev in acc.Scalars(tag):
                into[int(ev.step)] = float(ev.value)
    tags = sorted(scalars)
    if not tags:
        raise LawfitInputError(f"{path}: the TensorBoard events hold no scalars")
    loss_name = _match(tags, loss_tag, "loss", LOSS_NAMES, "loss tag")
    lr_name = _match(tags, lr_tag, "lr", LR_NAMES, "learning-rate tag", required=False)
    assert loss_name is not None
    steps = sorted(scalars[loss_name])
    lr_by_step = scalars.get(lr_name, {}) if lr_name is not None else {}
    all_steps = sorted(set(steps) | set(lr_by_step))
    loss_by_step = scalars[loss_name]
    return {
        "step": all_steps,
        "loss": [loss_by_step.get(s) for s in all_steps],
        "lr": [lr_by_step.get(s) for s in all_steps],
    }


#: HF ``trainer_state.json`` keys: the train loss, and what ``--loss-col`` may name instead.
_HF_LOSS_KEYS = ("loss", "eval_loss")


def _is_trainer_state(path: Path) -> bool:
    return path.name == "trainer_state.json" or (
        _inner_suffix(path) == ".json" and b'"log_history"' in _head(path)
    )


def _head(path: Path, n: int = 65536) -> bytes:
    try:
        with _open_binary(path) as fh:
            return bytes(fh.read(n))
    except (OSError, EOFError, lzma.LZMAError):
        return b""


def _read_trainer_state(path: Path, loss_key: str) -> dict[str, list[Any]]:
    """The ``log_history`` of a Hugging Face ``trainer_state.json`` as step/loss/lr columns.

    Train entries hold ``loss`` and ``learning_rate``; evaluation entries hold ``eval_loss`` at
    their own steps. The chosen loss (``loss_key``, default the train ``loss``) keeps only the
    entries that hold it; the LR comes from the train entries (interpolated between them when
    the eval steps fall in between).
    """
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise LawfitInputError(f"{path} is not valid JSON: {exc}") from exc
    history = data.get("log_history") if isinstance(data, dict) else None
    if not isinstance(history, list):
        raise LawfitInputError(f"{path} has no 'log_history' list (is it a trainer_state.json?)")
    entries = [e for e in history if isinstance(e, dict) and "step" in e]
    keys: dict[str, None] = {}
    for e in entries:
        keys.update(dict.fromkeys(k for k in e if k not in ("step", "epoch")))
    key = "loss" if loss_key in ("loss",) else loss_key
    if key not in keys:
        raise LawfitInputError(
            f"{path}: no {key!r} entries in log_history; it logs {sorted(keys)} "
            f"(choose one with loss= / --loss-col, e.g. {list(k for k in _HF_LOSS_KEYS if k in keys)})"
        )
    lr_at = {int(e["step"]): e["learning_rate"] for e in entries if _num(e.get("learning_rate"))}
    rows = [e for e in entries if key in e]
    steps = sorted(set(lr_at) | {int(e["step"]) for e in rows})
    loss_at = {int(e["step"]): e[key] for e in rows}
    return {
        "step": steps,
        "loss": [loss_at.get(s) for s in steps],
        "lr": [lr_at.get(s) for s in steps],
    }


def _num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def read_table(path: str | os.PathLike[str]) -> dict[str, list[Any]]:
    """Read a log file into columns by name (format from the extension).

    ``.csv``, ``.tsv``/``.txt`` (tab), ``.jsonl``/``.ndjson``, ``.parquet``/``.pq``; text formats
    may be compressed (``.gz``, ``.bz2``, ``.xz``) and may start with a UTF-8 byte-order mark.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no such log file: {p}")
    ext = _inner_suffix(p)
    if ext == ".json":
        return _read_json_table(p)
    if ext in (".parquet", ".pq"):
        return _read_parquet(p)
    if ext in (".jsonl", ".ndjson"):
        return _read_jsonl(p)
    if ext in (".tsv", ".txt"):
        return _read_delimited(p, "\t")
    return _read_delimited(p, ",")


def _load(p: Path, steps: str, loss: str, lr: str) -> tuple[dict[str, list[Any]], str, str, str, bool]:
    """Columns of any supported log, the step/loss/lr names to look up in them, and whether the
    reader merged separately logged series by step (rows with only an LR are then expected)."""
    if p.is_dir():
        if (p / "trainer_state.json").is_file():
            return _read_trainer_state(p / "trainer_state.json", loss), "step", "loss", "lr", True
        if not _event_files(p):
            raise LawfitInputError(
                f"{p} is a directory without a trainer_state.json or TensorBoard event files; "
                "pass a log file"
            )
        return _read_tensorboard(p, loss, lr), "step", "loss", "lr", True
    if "tfevents" in p.name:
        if not p.is_file():
            raise FileNotFoundError(f"no such log file: {p}")
        return _read_tensorboard(p, loss, lr), "step", "loss", "lr", True
    if not p.is_file():
        raise FileNotFoundError(f"no such log file: {p}")
    if _is_trainer_state(p):
        return _read_trainer_state(p, loss), "step", "loss", "lr", True
    return read_table(p), steps, loss, lr, False


def _run_column(cols: Mapping[str, list[Any]], skip: Sequence[str]) -> tuple[str, list[str]] | None:
    """The first run-naming column (``run``, ``name``, ``schedule``...) and its values in order."""
    for cand in RUN_NAMES:
        if cand in cols and cand not in skip:
            values = [str(v) for v in dict.fromkeys(cols[cand]) if v is not None and str(v) != ""]
            return cand, values
    return None


def _select_run(
    p: Path, cols: dict[str, list[Any]], run: str | None, skip: Sequence[str]
) -> tuple[dict[str, list[Any]], str | None]:
    """Keep the rows of one run when the file holds several; refuse to mix them."""
    found = _run_column(cols, skip)
    if found is None or (len(found[1]) <= 1 and run is None):
        if run is not None and found is None:
            raise LawfitInputError(
                f"{p} has no run column (looked for {list(RUN_NAMES)}); it holds one run, drop run="
            )
        return cols, None
    col, values = found
    if run is None:
        raise LawfitInputError(
            f"{p} holds {len(values)} runs in column {col!r}: {_list_runs(values)}; "
            "choose one with run= (CLI: --run NAME), or read them all with read_logs()"
        )
    if run not in values:
        raise LawfitInputError(f"{p} has no run {run!r} in column {col!r}; its runs are {_list_runs(values)}")
    keep = [str(v) == run for v in cols[col]]
    return {k: [v for v, m in zip(vals, keep, strict=True) if m] for k, vals in cols.items()}, run


def _list_runs(values: Sequence[str]) -> str:
    shown = ", ".join(values[:20])
    return shown + (f", ... ({len(values)} in all)" if len(values) > 20 else "")


def list_runs(path: str | os.PathLike[str]) -> list[str]:
    """The runs a log file holds (values of its run column), or ``[]`` for a one-run log."""
    return _runs_of(_load(Path(path), "step", "loss", "lr")[0])


def _runs_of(cols: Mapping[str, list[Any]]) -> list[str]:
    wandb = _wandb_runs(list(cols), LOSS_NAMES) if "loss" not in cols else {}
    if len(wandb) > 1:
        return list(wandb)
    found = _run_column(cols, [])
    return found[1] if found is not None and len(found[1]) > 1 else []


def read_logs(
    path: str | os.PathLike[str],
    steps: str = "step",
    loss: str = "loss",
    lr: str = "lr",
    *,
    runs: Sequence[str] | None = None,
    **kwargs: Any,
) -> list[Curve]:
    """Every run of a log file as a named :class:`Curve` (one per value of its run column).

    Parameters
    ----------
    path, steps, loss, lr
        As :func:`read_log`.
    runs : list of str, optional
        The runs to read (default: all, in the order the file first names them).
    **kwargs
        Passed to :func:`read_log` (``schedule``, ``warmup_steps``, ``nan_policy``).

    Returns
    -------
    list of Curve
        Named after their runs; a file with one run gives one Curve.
    """
    unknown = set(kwargs) - {"schedule", "warmup_steps", "nan_policy"}
    if unknown:
        raise LawfitInputError(f"read_logs got unexpected arguments {sorted(unknown)}")
    nan_policy = kwargs.get("nan_policy", "omit")
    if nan_policy not in ("omit", "raise"):
        raise LawfitInputError(f"nan_policy must be 'omit' or 'raise', got {nan_policy!r}")
    p = Path(path)
    loaded = _load(p, steps, loss, lr)
    names = list(runs) if runs is not None else _runs_of(loaded[0])
    opts = {
        "schedule": kwargs.get("schedule"),
        "warmup_steps": kwargs.get("warmup_steps"),
        "nan_policy": nan_policy,
    }
    if not names:
        return [_read_loaded(p, loaded, name=None, run=None, **opts)]
    return [_read_loaded(p, loaded, name=r, run=r, **opts) for r in names]


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
    run: str | None = None,
) -> Curve:
    """Read a training log into a :class:`Curve`.

    Parameters
    ----------
    path : path-like
        CSV, TSV, JSON lines (each optionally ``.gz``/``.bz2``/``.xz``, with or without a UTF-8
        byte-order mark), a W&B CSV export, Parquet (``io`` extra), a Hugging Face
        ``trainer_state.json`` (or the checkpoint folder holding it), a TensorBoard event file
        or run directory (every event file under it; ``io`` extra).
    steps, loss, lr : str
        Column names (TensorBoard: tags). When a default name is absent, common alternatives are
        tried (``_step``, ``iter``, ``train/loss``, ``learning_rate``, W&B's
        ``"<run> - train/loss"``...). For ``trainer_state.json``, ``loss="eval_loss"`` reads the
        evaluation history instead of the train loss.
    schedule : Schedule or str, optional
        The run's per-step LR schedule, when the log lacks an LR column or logs it sparsely.
    warmup_steps : int, optional
        Warmup length (default: the schedule's, else 0).
    name : str, optional
        Curve label (default: the run, else the file name).
    nan_policy : {"omit", "raise"}, default "omit"
        Rows with a missing/non-numeric/non-finite loss are dropped (``omit``, counted in a
        :class:`LogFormatWarning`) or rejected.
    run : str, optional
        The run to read from a file holding several (a ``run``, ``run_id``, ``name``,
        ``schedule``... column with more than one value). Such a file is refused without it:
        mixing runs would fit one curve through all of them. See :func:`read_logs`.

    Returns
    -------
    Curve

    Notes
    -----
    Repairs, each announced by a :class:`LogFormatWarning` with a count: rows cut short
    (truncated writes) are dropped; rows without a step or loss are dropped; duplicate steps (a
    restarted run) keep the last row; unsorted rows are sorted; a log whose first step is 0 is
    read as 0-based (every step + 1); an LR logged only at some steps is linearly interpolated
    to every step.
    """
    if nan_policy not in ("omit", "raise"):
        raise LawfitInputError(f"nan_policy must be 'omit' or 'raise', got {nan_policy!r}")
    p = Path(path)
    return _read_loaded(
        p,
        _load(p, steps, loss, lr),
        schedule=schedule,
        warmup_steps=warmup_steps,
        name=name,
        nan_policy=nan_policy,
        run=run,
    )


def _read_loaded(
    p: Path,
    loaded: tuple[dict[str, list[Any]], str, str, str, bool],
    *,
    schedule: Any,
    warmup_steps: int | None,
    name: str | None,
    nan_policy: str,
    run: str | None,
) -> Curve:
    """:func:`read_log` on columns already loaded by :func:`_load` (``read_logs`` loads once)."""
    from lawfit import schedules as sched_mod

    cols, steps, loss, lr, merged = loaded
    names = list(cols)
    step_col = _match(names, steps, "step", STEP_NAMES, "step")
    wandb = _wandb_runs(names, LOSS_NAMES) if loss == "loss" and "loss" not in names else {}
    if len(wandb) > 1 or (run is not None and run in wandb):
        # A W&B export of several runs: one "<run> - <metric>" column per run.
        if run is None or run not in wandb:
            raise LawfitInputError(
                f"{p} holds {len(wandb)} runs (W&B columns {list(wandb.values())[:3]}...): "
                f"{_list_runs(list(wandb))}; "
                + ("choose one with run= (CLI: --run NAME), or read them all with read_logs()" if run is None
                   else f"it has no run {run!r}")
            )
        loss_col: str | None = wandb[run]
        lr_col = _wandb_runs([c for c in names if c.startswith(f"{run} - ")], LR_NAMES).get(run)
        if lr != "lr":
            lr_col = _match(names, lr, "lr", LR_NAMES, "learning-rate", required=False)
        chosen: str | None = run
    else:
        loss_col = _match(names, loss, "loss", LOSS_NAMES, "loss")
        lr_col = _match(names, lr, "lr", LR_NAMES, "learning-rate", required=False)
        assert loss_col is not None
        cols, chosen = _select_run(p, cols, run, [c for c in (step_col, loss_col, lr_col) if c])
    assert step_col is not None and loss_col is not None
    step_vals = _floats(cols[step_col])
    loss_vals = _floats(cols[loss_col])
    lr_vals = None if lr_col is None else _floats(cols[lr_col])
    ok = np.isfinite(step_vals)
    if not ok.all():
        warnings.warn(f"{p}: dropped {int((~ok).sum())} rows without a step", LogFormatWarning, stacklevel=3)
    raw_loss = [v for v, k in zip(cols[loss_col], ok, strict=True) if k]
    step_vals, loss_vals = step_vals[ok], loss_vals[ok]
    lr_vals = None if lr_vals is None else lr_vals[ok]
    if step_vals.size == 0:
        raise LawfitInputError(f"{p} has no rows with a step")
    if (step_vals != np.round(step_vals)).any():
        i = int(np.argmax(step_vals != np.round(step_vals)))
        raise LawfitInputError(f"{p}: step {step_vals[i]!r} is not a whole number")
    # Rows without a usable loss: counted, then dropped (or refused), never silently.
    bad = ~np.isfinite(loss_vals)
    if lr_vals is not None and merged:
        # A merged row may hold only the LR (TensorBoard, trainer_state): it feeds the LR column.
        lr_only = bad & np.array([v is None or v == "" for v in raw_loss]) & np.isfinite(lr_vals)
    else:
        lr_only = np.zeros(bad.size, dtype=bool)
    bad_loss = bad & ~lr_only
    if bad_loss.any():
        i = int(np.argmax(bad_loss))
        kinds = sorted({_kind(v) for v, b in zip(raw_loss, bad_loss, strict=True) if b})
        msg = (
            f"{p}: {int(bad_loss.sum())} of {bad_loss.size} rows have no usable loss in column "
            f"{loss_col!r} ({', '.join(kinds)}; first at step {int(step_vals[i])}: {raw_loss[i]!r})"
        )
        if nan_policy == "raise":
            raise LawfitInputError(msg)
        warnings.warn(msg + "; dropped them", LogFormatWarning, stacklevel=3)
    int_steps = step_vals.astype(np.int64)
    if int_steps.min() < 0:
        raise LawfitInputError(f"{p}: negative step {int(int_steps.min())}")
    if int_steps.min() == 0:
        warnings.warn(
            f"{p}: the first step is 0; reading the log as 0-based (step + 1)", LogFormatWarning, stacklevel=3
        )
        int_steps = int_steps + 1
    # Stable sort, then keep the last row of each step (a restart re-logs its steps).
    order = np.argsort(int_steps, kind="stable")
    if (np.diff(int_steps) < 0).any():
        warnings.warn(f"{p}: rows were not sorted by step; sorted them", LogFormatWarning, stacklevel=3)
    int_steps, loss_vals = int_steps[order], loss_vals[order]
    lr_vals = None if lr_vals is None else lr_vals[order]
    last = np.ones(int_steps.size, dtype=bool)
    last[:-1] = int_steps[1:] != int_steps[:-1]
    if not last.all():
        warnings.warn(
            f"{p}: {int((~last).sum())} duplicate steps (restarts?); kept the last value of each",
            LogFormatWarning,
            stacklevel=3,
        )
        int_steps, loss_vals = int_steps[last], loss_vals[last]
        lr_vals = None if lr_vals is None else lr_vals[last]
    label = name if name is not None else (chosen if chosen is not None else p.stem)
    has_loss = np.isfinite(loss_vals)
    if not has_loss.any():
        raise LawfitInputError(f"{p}: no row has a usable loss in column {loss_col!r}")
    if schedule is not None:
        s = sched_mod.parse(schedule) if isinstance(schedule, str) else schedule
        return Curve(
            int_steps[has_loss],
            loss_vals[has_loss],
            s,
            warmup_steps=warmup_steps,
            name=label,
            nan_policy="omit",
        )
    if lr_vals is None:
        raise LawfitInputError(
            f"{p} has no learning-rate column; pass schedule=... (a Schedule or spec; CLI: --schedule SPEC)"
        )
    has_lr = np.isfinite(lr_vals)
    if not has_lr.any():
        raise LawfitInputError(
            f"{p}: the learning-rate column {lr_col!r} is empty; pass schedule=... (CLI: --schedule SPEC)"
        )
    total = int(int_steps[-1])
    if has_lr.all() and int_steps.size == total and int_steps[0] == 1:
        per_step = lr_vals
    else:
        warnings.warn(
            f"{p}: the LR is logged at {int(has_lr.sum())} of {total} steps; interpolating it "
            "linearly (pass schedule=... / --schedule SPEC for exact areas)",
            LogFormatWarning,
            stacklevel=3,
        )
        per_step = np.interp(np.arange(1, total + 1), int_steps[has_lr], lr_vals[has_lr])
    return Curve(
        int_steps[has_loss],
        loss_vals[has_loss],
        per_step,
        warmup_steps=warmup_steps,
        name=label,
        nan_policy="omit",
    )


def _kind(v: Any) -> str:
    if v is None or (isinstance(v, str) and not v.strip()):
        return "empty"
    f = _to_float(v)
    if math.isnan(f):
        return "nan" if isinstance(v, float) or str(v).strip().lower() == "nan" else "not a number"
    return "infinite"


def read_columns(path: str | os.PathLike[str], columns: Mapping[str, str]) -> dict[str, np.ndarray]:
    """Numeric columns of a table file, renamed: ``{"N": "Model Size"}`` → ``{"N": array}``."""
    cols = read_table(path)
    out = {}
    for key, col in columns.items():
        if col not in cols:
            raise LawfitInputError(f"column {col!r} not found; the file has {list(cols)}")
        out[key] = np.array([_to_float(v) for v in cols[col]])
    return out
