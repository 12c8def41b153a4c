"""The spec-string parser: ``parse("cosine:total=24000,peak=3e-4,warmup=2160")``."""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from lawfit._validate import LawfitInputError, LawfitTypeError
from lawfit.schedules.arrays import _fingerprint, from_array, load
from lawfit.schedules.core import Schedule
from lawfit.schedules.presets import PRESETS
from lawfit.schedules.table import ARRAY_KEYS as _ARRAY_KEYS
from lawfit.schedules.table import FAMILY_KEYS
from lawfit.schedules.table import FAMILY_NAMES as _FAMILY_NAMES


def _split_items(body: str, spec: str) -> list[tuple[str, str]]:
    """Split ``k=v,k=[a,b],...`` on the commas outside brackets."""
    items: list[str] = []
    depth = 0
    current: list[str] = []
    for ch in body:
        if ch == "[":
            depth += 1
            if depth > 1:
                raise LawfitInputError(f"nested brackets in schedule spec {spec!r}")
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise LawfitInputError(f"unbalanced ']' in schedule spec {spec!r}")
        if ch == "," and depth == 0:
            items.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth:
        raise LawfitInputError(f"unclosed '[' in schedule spec {spec!r}")
    items.append("".join(current))
    pairs: list[tuple[str, str]] = []
    for item in items:
        item = item.strip()
        if not item:
            continue  # tolerate a trailing or doubled comma
        key, eq, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not eq or not key:
            raise LawfitInputError(f"item {item!r} of schedule spec {spec!r} is not of the form key=value")
        if not value:
            raise LawfitInputError(f"key {key!r} of schedule spec {spec!r} has an empty value")
        pairs.append((key, value))
    return pairs


def _parse_int(key: str, text: str, spec: str) -> int:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if math.isfinite(v) and v == int(v):
        return int(v)
    raise LawfitInputError(f"{key}={text!r} in schedule spec {spec!r} is not an integer")


def _parse_float(key: str, text: str, spec: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise LawfitInputError(f"{key}={text!r} in schedule spec {spec!r} is not a number") from None
    if not math.isfinite(v):
        raise LawfitInputError(f"{key}={text!r} in schedule spec {spec!r} is not a finite number")
    return v


def _parse_list(key: str, text: str, spec: str) -> list[str]:
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    elif "[" in text or "]" in text:
        raise LawfitInputError(f"{key}={text!r} in schedule spec {spec!r}: write lists as [a,b,...]")
    parts = [p.strip() for p in text.split(",")]
    if not parts or any(not p for p in parts):
        raise LawfitInputError(f"{key}={text!r} in schedule spec {spec!r} has an empty list element")
    return parts


def _parse_milestone(key: str, text: str, spec: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return _parse_float(key, text, spec)


def _unknown_key(family: str, key: str, allowed: Sequence[str], spec: str) -> LawfitInputError:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return LawfitInputError(
        f"unknown key {key!r} for a {family} schedule in spec {spec!r}{hint} (allowed: {', '.join(allowed)})"
    )


def _parse_array(pairs: list[tuple[str, str]], spec: str) -> Schedule:
    given: dict[str, str] = {}
    for key, value in pairs:
        key = {"warmup_steps": "warmup"}.get(key, key)
        if key not in _ARRAY_KEYS:
            raise _unknown_key("array", key, _ARRAY_KEYS, spec)
        if key in given:
            raise LawfitInputError(f"key {key!r} appears twice in schedule spec {spec!r}")
        given[key] = value
    warmup = _parse_int("warmup", given["warmup"], spec) if "warmup" in given else 0
    if "values" in given and "path" in given:
        raise LawfitInputError(f"array spec {spec!r} has both values= and path=; give one")
    if "values" in given:
        if set(given) - {"values", "warmup"}:
            extra = ", ".join(sorted(set(given) - {"values", "warmup"}))
            raise LawfitInputError(f"array spec {spec!r} with values= takes only warmup=, not {extra}")
        vals = [_parse_float("values", v, spec) for v in _parse_list("values", given["values"], spec)]
        return from_array(np.array(vals), warmup_steps=warmup)
    if "path" in given:
        if "n" in given:
            raise LawfitInputError(f"array spec {spec!r} with path= does not take n=")
        sched = load(given["path"], warmup_steps=warmup)
        if "sha256" in given and given["sha256"].lower() != _fingerprint(sched.lr):
            raise LawfitInputError(
                f"{given['path']!r} changed since the spec was written: its sha256 starts with "
                f"{_fingerprint(sched.lr)}, the spec says {given['sha256']}"
            )
        return sched
    if "sha256" in given or "n" in given:
        raise LawfitInputError(
            f"array spec {spec!r} only fingerprints an in-memory array that was never saved, so it "
            "cannot be rebuilt; create the schedule with from_array(lr, name='file.npy') or "
            "schedules.load('file.npy') to get a spec with path="
        )
    raise LawfitInputError(f"array spec {spec!r} needs values=[...] or path=FILE.npy")


def parse(spec: str) -> Schedule:
    """Build a schedule from a spec string such as ``"cosine:total=24000,peak=3e-4,warmup=2160"``.

    See the module documentation for the grammar and the keys of every family.

    Parameters
    ----------
    spec : str
        ``family:key=value,...``. Families: constant, cosine, linear, wsd, step, multistep,
        two_stage, inverse_sqrt, cyclic, array.

    Returns
    -------
    Schedule
        Whose ``str()`` is the canonical form of ``spec``, and which equals, bit for bit, the schedule
        the matching preset returns for the same arguments.

    Raises
    ------
    LawfitTypeError
        ``spec`` is not a str.
    LawfitInputError
        Unknown family, unknown, duplicate or missing key, a value that is not a number (or not an
        integer where one is required), NaN/infinite/negative LR, warmup longer than the schedule,
        or any other invalid argument of the preset; the message quotes the spec.
    FileNotFoundError
        ``array:path=`` names a missing file.

    Examples
    --------
    >>> s = parse("wsd:total=24000,peak=3e-4,warmup=2160,decay=0.2,shape=linear")
    >>> str(s)
    'wsd:total=24000,peak=3e-4,warmup=2160,decay=0.2,final=0,shape=linear'
    """
    if not isinstance(spec, str):
        raise LawfitTypeError(f"a schedule spec must be a str, got {type(spec).__name__}")
    text = spec.strip()
    if not text:
        raise LawfitInputError("empty schedule spec; expected e.g. 'cosine:total=24000,peak=3e-4'")
    head, _, body = text.partition(":")
    family = head.strip().lower().replace("-", "_")
    pairs = _split_items(body, spec)
    if family == "array":
        try:
            return _parse_array(pairs, spec)
        except (LawfitInputError, LawfitTypeError) as exc:
            if spec in str(exc):
                raise
            raise LawfitInputError(f"{exc} (in schedule spec {spec!r})") from exc
    if family not in FAMILY_KEYS:
        close = difflib.get_close_matches(family, _FAMILY_NAMES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise LawfitInputError(
            f"unknown schedule family {head.strip()!r} in spec {spec!r}{hint} "
            f"(known: {', '.join(_FAMILY_NAMES)})"
        )
    fn, keys = PRESETS[family], FAMILY_KEYS[family]
    by_name = {k.key: k for k in keys} | {k.arg: k for k in keys}
    kwargs: dict[str, Any] = {}
    for name, value in pairs:
        key = by_name.get(name)
        if key is None:
            raise _unknown_key(family, name, [k.key for k in keys], spec)
        if key.arg in kwargs:
            raise LawfitInputError(f"key {key.key!r} appears twice in schedule spec {spec!r}")
        if key.kind == "int":
            kwargs[key.arg] = _parse_int(key.key, value, spec)
        elif key.kind == "float":
            kwargs[key.arg] = _parse_float(key.key, value, spec)
        elif key.kind == "milestones":
            kwargs[key.arg] = [_parse_milestone(key.key, v, spec) for v in _parse_list(key.key, value, spec)]
        else:
            kwargs[key.arg] = value.lower()
    missing = [k.key for k in keys if k.required and k.arg not in kwargs]
    if missing:
        raise LawfitInputError(
            f"{family} schedule spec {spec!r} is missing required key(s) {', '.join(missing)} "
            f"(keys: {', '.join(k.key for k in keys)})"
        )
    total, peak = kwargs.pop("total_steps"), kwargs.pop("peak_lr")
    try:
        return fn(total, peak, **kwargs)
    except (LawfitInputError, LawfitTypeError) as exc:
        raise LawfitInputError(f"{exc} (in schedule spec {spec!r})") from exc


