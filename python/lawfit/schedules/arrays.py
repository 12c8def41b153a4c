"""Schedules from per-step LR arrays: :func:`from_array` and :func:`load` (.npy, .npz, CSV)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from lawfit._validate import LawfitInputError, LawfitTypeError, as_float_array
from lawfit.schedules.core import INLINE_MAX, Schedule, _as_int
from lawfit.schedules.table import _fmt_float

# --------------------------------------------------------------------------------------------
# arrays


def _fingerprint(lr: np.ndarray) -> str:
    """First 16 hex digits of the SHA-256 of the little-endian float64 values."""
    return hashlib.sha256(np.ascontiguousarray(lr, dtype="<f8").tobytes()).hexdigest()[:16]


def _check_path_text(path: str) -> None:
    bad = [ch for ch in ",[]" if ch in path]
    if bad or path != path.strip() or not path:
        raise LawfitInputError(
            f"path {path!r} cannot appear in a schedule spec (no commas, brackets, or leading/trailing "
            "spaces); rename the file"
        )


def _array_schedule(arr: np.ndarray, warmup: int, path: str | None) -> Schedule:
    if warmup > arr.shape[0]:
        raise LawfitInputError(f"warmup_steps ({warmup}) must be <= the number of steps ({arr.shape[0]})")
    arr.flags.writeable = False
    if path is not None:
        spec = f"array:path={path},sha256={_fingerprint(arr)},warmup={warmup}"
    elif arr.shape[0] <= INLINE_MAX:
        spec = "array:values=[" + ",".join(_fmt_float(float(v)) for v in arr) + f"],warmup={warmup}"
    else:
        spec = f"array:n={arr.shape[0]},sha256={_fingerprint(arr)},warmup={warmup}"
    return Schedule(arr, spec, warmup)


def _read_npy(path: Path) -> np.ndarray:
    try:
        raw = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:
        raise LawfitInputError(f"could not read {str(path)!r} as a .npy array: {exc}") from exc
    return raw


def from_array(
    lr: Any,
    *,
    warmup_steps: int = 0,
    name: str | os.PathLike[str] | None = None,
) -> Schedule:
    """A schedule from an explicit per-step LR array.

    Parameters
    ----------
    lr : array_like, shape (T,)
        LR of every step (``lr[i]`` is the LR of step ``i + 1``); finite, non-negative, T >= 1.
        The values are copied.
    warmup_steps : int, default 0
        How many leading steps are warmup (recorded, e.g. for :func:`lawfit.areas`; the values are
        taken as given), 0 <= W <= T.
    name : str or path-like, optional
        Path of a ``.npy`` file holding the array. If the file exists it must hold exactly ``lr``;
        if it does not, ``lr`` is saved there (``np.save``). The spec then refers to the absolute
        path: ``array:path=/abs/name.npy,sha256=HEX16,warmup=W``. Without ``name``, arrays of at most
        :data:`INLINE_MAX` (256) values are spelled inline (``array:values=[...],warmup=W``);
        longer ones get a fingerprint spec ``array:n=T,sha256=HEX16,warmup=W`` that :func:`parse`
        cannot rebuild — pass ``name`` when the spec must round-trip.

    Returns
    -------
    Schedule
        ``lr`` of shape (T,), float64 (a read-only copy).

    Raises
    ------
    LawfitTypeError
        Non-numeric ``lr`` or a non-integer ``warmup_steps``.
    LawfitInputError
        ``lr`` not 1-D, empty, NaN, infinite or negative (the message names the index); W > T; a
        ``name`` that is not a ``.npy`` path, contains ``,``/``[``/``]``, or holds a different array.
    """
    arr = np.array(as_float_array("lr", lr, nonnegative=True, allow_empty=False), copy=True)
    warmup = _as_int("warmup_steps", warmup_steps, minimum=0)
    if name is None:
        return _array_schedule(arr, warmup, None)
    if not isinstance(name, (str, os.PathLike)):
        raise LawfitTypeError(f"name must be a path (str or os.PathLike), got {type(name).__name__}")
    path = Path(name).expanduser().resolve()
    if path.suffix != ".npy":
        raise LawfitInputError(f"name must be a .npy path, got {str(name)!r}")
    _check_path_text(str(path))
    if path.exists():
        stored = _read_npy(path)
        if stored.shape != arr.shape or not np.array_equal(np.asarray(stored, dtype=np.float64), arr):
            raise LawfitInputError(
                f"{str(path)!r} already exists and holds a different array; choose another name"
            )
    else:
        np.save(path, arr)
    return _array_schedule(arr, warmup, str(path))


def load(path: str | os.PathLike[str], *, warmup_steps: int = 0) -> Schedule:
    """Read a per-step LR array from a ``.npy`` file.

    Parameters
    ----------
    path : str or path-like
        A ``.npy`` file holding a 1-D array of T finite, non-negative LRs (``lr[i]`` is the LR of
        step ``i + 1``).
    warmup_steps : int, default 0
        How many leading steps are warmup, 0 <= W <= T.

    Returns
    -------
    Schedule
        Spec ``array:path=/abs/path.npy,sha256=HEX16,warmup=W``.

    Raises
    ------
    FileNotFoundError
        The file does not exist.
    LawfitInputError
        Not a readable ``.npy`` file, or invalid values (see :func:`from_array`).
    """
    p = Path(path).expanduser().resolve()
    if p.suffix != ".npy":
        raise LawfitInputError(f"path must be a .npy file, got {str(path)!r}")
    arr = np.array(as_float_array(f"lr in {p.name}", _read_npy(p), nonnegative=True, allow_empty=False))
    warmup = _as_int("warmup_steps", warmup_steps, minimum=0)
    _check_path_text(str(p))
    return _array_schedule(arr, warmup, str(p))


