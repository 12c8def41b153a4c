"""Validation at the boundary: coerce arrays once, with scipy-style messages naming the argument,
index and value."""

from __future__ import annotations

from typing import Any

import numpy as np

from lawfit._core import LawfitInputError


class LawfitTypeError(TypeError):
    """An argument of the wrong type was passed to lawfit."""


def as_float_array(
    name: str,
    values: Any,
    *,
    finite: bool = True,
    nonnegative: bool = False,
    positive: bool = False,
    allow_empty: bool = True,
) -> np.ndarray:
    """Return ``values`` as a C-contiguous 1-D float64 array (no copy when it already is one).

    Raises
    ------
    LawfitTypeError
        If ``values`` is not numeric.
    LawfitInputError
        If it is not 1-D, is empty while ``allow_empty`` is false, or holds a value that breaks
        the requested constraints; the message names the first offending index.
    """
    if isinstance(values, (str, bytes)):
        raise LawfitTypeError(f"{name} must be a numeric array, got {type(values).__name__}")
    try:
        arr = np.asarray(values)
    except Exception as exc:  # ragged lists and the like
        raise LawfitTypeError(f"{name} could not be converted to an array: {exc}") from exc
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ) or np.issubdtype(arr.dtype, np.complexfloating):
        raise LawfitTypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise LawfitInputError(f"{name} must be 1-D, got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not allow_empty and arr.size == 0:
        raise LawfitInputError(f"{name} is empty")
    if finite:
        _first_bad(name, arr, ~np.isfinite(arr), "must be finite")
    if nonnegative:
        _first_bad(name, arr, arr < 0, "must be non-negative")
    if positive:
        _first_bad(name, arr, arr <= 0, "must be positive")
    return arr


def _first_bad(name: str, arr: np.ndarray, bad: np.ndarray, what: str) -> None:
    if bad.any():
        i = int(np.argmax(bad))
        raise LawfitInputError(f"{name}[{i}] is {float(arr[i])!r}; values of {name} {what}")
