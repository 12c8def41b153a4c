"""Learning-rate schedule presets and their spec strings.

Every preset returns a :class:`Schedule`: a float64 array ``lr`` of one learning rate per step
(``lr[i]`` is the LR of step ``i + 1``; equivalently ``lr[k]`` for the 0-based step index ``k``) and a
spec string that :func:`parse` turns back into exactly the same array.

Conventions
-----------
Warmup
    Every preset takes ``warmup_steps`` W and ``warmup_init`` (default 0). The first W values are
    ``np.linspace(warmup_init, peak_lr, W)``: W evenly spaced values, the first ``warmup_init``, the
    last exactly ``peak_lr`` (the convention of the multi-power-law repository, Luo et al. 2025). With
    W = 1 the single warmup step runs at ``warmup_init``.
Progress
    After the warmup the named schedule runs with progress ``p = (k - W) / (T - W)`` for the 0-based
    index ``k >= W`` and T = ``total_steps``. Decays therefore start at ``peak_lr`` (p = 0) and stop one
    step short of ``final_lr`` (the last step has p = (T - W - 1) / (T - W)), which reproduces the
    published per-step LR arrays of the multi-power-law curves.

Spec strings
------------
``family:key=value,key=value,...``; the family and the keys are case-insensitive, whitespace around
items is ignored, keys may come in any order, and the Python keyword names are accepted as aliases of
the short keys (``total_steps`` for ``total``, ``final_lr`` for ``final``...). Integers may be written
as ``24000``, ``24_000`` or ``2.4e4``; lists are written in brackets, ``milestones=[0.8,0.9]``.

=============  ===================================================================================
family         keys (required first; every family also takes ``warmup`` and ``warmup_init``)
=============  ===================================================================================
constant       total, peak
cosine         total, peak, final
linear         total, peak, final
wsd            total, peak, decay, final, shape (linear | cosine | 1-sqrt | exponential)
step           total, peak, step_size, gamma
multistep      total, peak, milestones, gamma
two_stage      total, peak, switch, second
inverse_sqrt   total, peak, timescale
cyclic         total, peak, cycles, final, shape (cosine | triangular), rewarmup
array          values=[...] (inline, at most 256 values) or path=FILE.npy [, sha256=HEX16]
=============  ===================================================================================

``str(schedule)`` is the canonical spec: every key of the family (``warmup_init`` only when it is not
0), numbers in their shortest exact form, so ``parse(str(s)).lr`` equals ``s.lr`` bit for bit and
``str(parse(spec))`` is a fixed point.

Arrays (:func:`from_array`, :func:`load`) are spelled inline, ``array:values=[1e-4,2e-4],warmup=0``,
when they have at most 256 values; a longer array must live in a ``.npy`` file to have a parseable
spec, ``array:path=/abs/opt.npy,sha256=0123456789abcdef,warmup=0`` (the hash, the first 16 hex digits
of the SHA-256 of the little-endian float64 values, lets :func:`parse` detect a changed file). A long
array given to :func:`from_array` without ``name`` still makes a valid Schedule, but its spec is a
fingerprint (``array:n=21840,sha256=...``) that :func:`parse` rejects with an explanation.

Examples
--------
>>> import lawfit as lf
>>> s = lf.schedules.cosine(24000, 3e-4, warmup_steps=2160, final_lr=3e-5)
>>> str(s)
'cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5'
>>> bool((lf.schedules.parse(str(s)).lr == s.lr).all())
True
>>> float(s.lr[2159]), float(s.lr[2160])
(0.0003, 0.0003)
"""

from __future__ import annotations

from lawfit.schedules.arrays import from_array, load
from lawfit.schedules.core import INLINE_MAX, MAX_TOTAL_STEPS, CyclicShape, Schedule, WsdShape
from lawfit.schedules.presets import (
    PRESETS,
    constant,
    cosine,
    cyclic,
    inverse_sqrt,
    linear,
    multistep,
    step,
    step_811,
    two_stage,
    wsd,
)
from lawfit.schedules.spec import parse
from lawfit.schedules.table import FAMILY_KEYS, _spec_help

#: Family -> (preset, spec keys): the table of families (see :mod:`lawfit.schedules.table`).
_FAMILIES = {name: (PRESETS[name], keys) for name, keys in FAMILY_KEYS.items()}

__all__ = [
    "INLINE_MAX",
    "MAX_TOTAL_STEPS",
    "CyclicShape",
    "Schedule",
    "WsdShape",
    "constant",
    "cosine",
    "cyclic",
    "from_array",
    "inverse_sqrt",
    "linear",
    "load",
    "multistep",
    "parse",
    "step",
    "step_811",
    "two_stage",
    "wsd",
    "_spec_help",
]
