"""The table of schedule families: every family's spec keys with their preset keywords, kinds
and (for the keys every family shares) parameter docs. The presets' canonical spec strings, the
parser, the CLI's help and the presets' docstrings are all built from it."""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

WSD_SHAPES = ("linear", "cosine", "1-sqrt", "exponential")
CYCLIC_SHAPES = ("cosine", "triangular")


@dataclass(frozen=True)
class _Key:
    key: str  # short spec key
    arg: str  # keyword of the preset
    kind: str  # "int" | "float" | "choice" | "milestones"
    required: bool = False
    choices: tuple[str, ...] = ()
    only_if_nonzero: bool = False
    doc: str = ""  # numpydoc entry of the preset's parameter (shared keys)


_COMMON_KEYS = (
    _Key("total", "total_steps", "int", required=True,
         doc="total_steps : int\n    Number of steps T >= 1."),
    _Key("peak", "peak_lr", "float", required=True,
         doc="peak_lr : float\n    LR at the end of the warmup (> 0)."),
    _Key("warmup", "warmup_steps", "int",
         doc="warmup_steps : int, default 0\n    Linear-warmup steps W, 0 <= W <= T."),
    _Key("warmup_init", "warmup_init", "float", only_if_nonzero=True,
         doc="warmup_init : float, default 0.0\n    First warmup LR, 0 <= warmup_init <= peak_lr."),
)
_FINAL = _Key("final", "final_lr", "float")

#: Family -> its spec keys in canonical order.
FAMILY_KEYS: dict[str, tuple[_Key, ...]] = {
    "constant": _COMMON_KEYS,
    "cosine": (*_COMMON_KEYS, _FINAL),
    "linear": (*_COMMON_KEYS, _FINAL),
    "wsd": (*_COMMON_KEYS, _Key("decay", "decay", "float"), _FINAL,
            _Key("shape", "shape", "choice", choices=WSD_SHAPES)),
    "step": (*_COMMON_KEYS, _Key("step_size", "step_size", "int", required=True),
             _Key("gamma", "gamma", "float")),
    "multistep": (*_COMMON_KEYS, _Key("milestones", "milestones", "milestones", required=True),
                  _Key("gamma", "gamma", "float")),
    "two_stage": (*_COMMON_KEYS, _Key("switch", "switch_step", "int", required=True),
                  _Key("second", "second_lr", "float", required=True)),
    "inverse_sqrt": (*_COMMON_KEYS, _Key("timescale", "timescale", "float")),
    "cyclic": (*_COMMON_KEYS, _Key("cycles", "cycles", "int", required=True), _FINAL,
               _Key("shape", "shape", "choice", choices=CYCLIC_SHAPES),
               _Key("rewarmup", "rewarmup_steps", "int")),
}
ARRAY_KEYS = ("values", "path", "sha256", "n", "warmup")
FAMILY_NAMES = (*FAMILY_KEYS, "array")

_SHARED_DOCS = {k.arg: k.doc for k in _COMMON_KEYS}
#: The Returns, Raises and Notes sections every preset shares; ``{…}`` is filled per preset.
_RETURNS_DOC = "Returns\n-------\nSchedule\n    ``lr`` of shape (T,), float64{extra}."
_RAISES_DOC = (
    "Raises\n------\n"
    "LawfitTypeError\n    A non-integer step count or a non-numeric LR.\n"
    "LawfitInputError\n{errors}"
)
_INPUT_ERRORS = (
    "T < 1, a non-positive or non-finite ``peak_lr``, W > T, or ``warmup_init`` outside [0, peak_lr]"
)
_NOTES_DOC = (
    "Notes\n-----\n"
    "The schedule's ``spec`` is ``{spec}`` (keys in this order; ``warmup_init`` only when nonzero), "
    "which :func:`lawfit.schedules.parse` reads back into the same schedule."
)
_SECTION = re.compile(r"^(\w[\w ]*)\n-+\n", re.MULTILINE)
F = TypeVar("F", bound=Callable[..., Any])


def _spec_pattern(family: str) -> str:
    """``cosine:total=…,peak=…,…``: the keys of a family's spec, from the table."""
    return f"{family}:" + ",".join(f"{k.key}=…" for k in FAMILY_KEYS[family])


def _documented(*, raises: str = "", returns: str = "", family: str | None = None) -> Callable[[F], F]:
    """Complete a preset's docstring from the table.

    The docstring as written holds the summary, the description, a Parameters section with only
    the entries particular to the preset, and optionally later sections (See Also). This adds the
    shared entries it leaves out (``total_steps``, ``peak_lr``, ``warmup_steps``, ``warmup_init``)
    in signature order, then the Returns, Raises and Notes sections every preset shares:
    ``returns`` and ``raises`` extend their shared sentence (``"; ``lr[k] = peak`` for k >= W"``),
    ``family`` names the spec the Notes describe (default: the function's name). A parameter of
    the signature left undocumented, or an entry naming none, fails at import.
    """

    def decorate(fn: F) -> F:
        fam = family or fn.__name__
        doc = inspect.cleandoc(fn.__doc__ or "")
        heads = list(_SECTION.finditer(doc))
        par = next((i for i, m in enumerate(heads) if m.group(1) == "Parameters"), None)
        if par is None:
            raise TypeError(f"{fn.__name__}: the docstring has no Parameters section")
        stop = heads[par + 1].start() if par + 1 < len(heads) else len(doc)
        own = _entries(doc[heads[par].end() : stop])
        names = list(inspect.signature(fn).parameters)
        unknown = sorted(set(own) - set(names))
        missing = [k for k in names if k not in own and k not in _SHARED_DOCS]
        if unknown or missing:
            raise TypeError(f"{fn.__name__}: parameter docs {unknown} name no parameter; {missing} have none")
        entries = "\n".join(own.get(k) or _SHARED_DOCS[k] for k in names)
        parts = [
            doc[: heads[par].start()].rstrip(),
            "Parameters\n----------\n" + entries,
            _RETURNS_DOC.format(extra=returns),
            _RAISES_DOC.format(errors=textwrap.fill(_INPUT_ERRORS + raises + ".", 96, initial_indent="    ",
                                                    subsequent_indent="    ")),
            textwrap.fill(_NOTES_DOC.format(spec=_spec_pattern(fam)), 96, replace_whitespace=False),
        ]
        later = doc[stop:].strip()
        fn.__doc__ = "\n\n".join(parts + ([later] if later else [])) + "\n"
        return fn

    return decorate


def _entries(section: str) -> dict[str, str]:
    """The entries of a numpydoc parameter section: name -> its lines (``name : type`` + indented)."""
    out: dict[str, str] = {}
    name = None
    for line in section.strip("\n").split("\n"):
        if line and not line[0].isspace():
            name = line.split(":")[0].strip()
            out[name] = line
        elif name is not None and line.strip():
            out[name] += "\n" + line
    return out


def _fmt_float(x: float) -> str:
    """Shortest exact decimal spelling: ``3e-4``, ``0.2``, ``2160``, ``1.5e20``."""
    x = float(x) + 0.0
    if x == 0.0:
        return "0"
    text = repr(x)
    if "e" not in text and abs(x) < 1e-3:
        text = np.format_float_scientific(x, unique=True, trim="-")
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    elif text.endswith(".0"):
        text = text[:-2]
    assert float(text) == x, (text, x)
    return text


def _fmt_value(key: _Key, value: Any) -> str:
    if key.kind == "int":
        return str(int(value))
    if key.kind == "float":
        return _fmt_float(value)
    if key.kind == "milestones":
        return "[" + ",".join(str(v) if isinstance(v, int) else _fmt_float(v) for v in value) + "]"
    return str(value)


def _format_spec(family: str, values: dict[str, Any]) -> str:
    keys = FAMILY_KEYS[family]
    items = []
    for key in keys:
        value = values[key.arg]
        if key.only_if_nonzero and value == 0:
            continue
        items.append(f"{key.key}={_fmt_value(key, value)}")
    return f"{family}:{','.join(items)}"


def _spec_help() -> str:
    """One line per family listing its spec keys (required keys first), for the CLI's help."""
    lines = []
    for family, keys in FAMILY_KEYS.items():
        req = [k.key for k in keys if k.required]
        opt = [k.key + (f"={'|'.join(k.choices)}" if k.choices else "") for k in keys if not k.required]
        lines.append(f"  {family:<13} {', '.join(req)} [{', '.join(opt)}]")
    lines.append(f"  {'array':<13} values=[a,b,...] | path=FILE.npy [sha256, warmup]")
    return "\n".join(lines)
