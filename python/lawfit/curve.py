"""`Curve`: one training run's logged losses with the per-step learning rate that produced them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from lawfit._columns import LOSS_NAMES, LR_NAMES, STEP_NAMES, LogFormatWarning, _match
from lawfit._validate import LawfitInputError, LawfitTypeError, as_float_array

NanPolicy = Literal["raise", "omit"]


class WarmupInferredWarning(UserWarning):
    """A Curve built from a raw LR array took its warmup length from the array's initial LR ramp."""


def infer_warmup(lr: np.ndarray) -> int:
    """Warmup length implied by an LR array: its leading non-decreasing ramp up to the first peak.

    The convention of :mod:`lawfit.schedules`: the warmup ends on the first step at the peak LR,
    so a linear warmup of W steps (``lr[W − 1]`` is the peak) gives W. An array whose LR starts at
    its maximum, or whose rise to the maximum is not monotone (e.g. a re-warmup later in the
    run), has no inferred warmup (0).

    Parameters
    ----------
    lr : ndarray, shape (T,)
        Per-step LR (``lr[i]`` is the LR of step ``i + 1``).

    Returns
    -------
    int
        Inferred warmup steps, in [0, T].
    """
    arr = np.asarray(lr, dtype=float)
    if arr.ndim != 1 or arr.size < 2:
        return 0
    k = int(np.argmax(arr))
    if k == 0 or arr[0] >= arr[k]:
        return 0
    if np.any(arr[1 : k + 1] < arr[:k]):
        return 0
    return k + 1


def as_steps(name: str, steps: Any) -> np.ndarray:
    """Return 1-based integer steps as a contiguous int64 array (floats must be whole numbers)."""
    arr = np.asarray(steps)
    if arr.ndim != 1:
        raise LawfitInputError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            i = int(np.argmax(bad))
            raise LawfitInputError(f"{name}[{i}] is {float(arr[i])!r}; steps must be whole numbers")
    elif arr.dtype.kind not in "iub" and arr.size:
        raise LawfitTypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    out = np.ascontiguousarray(arr, dtype=np.int64)
    if out.size and out.min() < 1:
        i = int(np.argmax(out < 1))
        raise LawfitInputError(f"{name}[{i}] is {out[i]}; steps are 1-based (the first step is 1)")
    return out


@dataclass(eq=False)
class Curve:
    """Losses logged during one training run, and the LR of every step of that run.

    Parameters
    ----------
    steps : array_like of int, shape (n,)
        Logged steps, 1-based, strictly increasing, each ≤ ``len(lr)``.
    loss : array_like of float, shape (n,)
        Loss at those steps (nats/token or whatever unit the run logs).
    lr : array_like of float, shape (T,), or Schedule
        LR of every step of the run (``lr[i]`` is the LR of step ``i + 1``); a Schedule also
        supplies ``warmup_steps``.
    warmup_steps : int, optional
        Leading warmup steps. Default: the Schedule's; for a raw LR array, the length of its
        initial LR ramp (:func:`infer_warmup`), announced by a :class:`WarmupInferredWarning`
        (pass ``warmup_steps=`` to silence it; ``warmup_inferred`` records it).
    name : str, optional
        A label used in reports and plots.
    nan_policy : {"raise", "omit"}, default "raise"
        What to do with non-finite losses: raise naming the index, or drop those points.
    N : float, optional
        Model size (parameters), for laws that depend on it (e.g. ``MomentumLawN``).
    """

    steps: np.ndarray
    loss: np.ndarray
    lr: np.ndarray = field(repr=False)
    warmup_steps: int = 0
    name: str | None = None
    N: float | None = None
    #: Whether ``warmup_steps`` was inferred from the LR ramp (not given, no Schedule).
    warmup_inferred: bool = False

    def __init__(
        self,
        steps: Any,
        loss: Any,
        lr: Any,
        *,
        warmup_steps: int | None = None,
        name: str | None = None,
        nan_policy: NanPolicy = "raise",
        N: float | None = None,
    ) -> None:
        from lawfit.schedules import Schedule

        if isinstance(lr, Schedule):
            if warmup_steps is None:
                warmup_steps = lr.warmup_steps
            name = name if name is not None else str(lr)
            lr = lr.lr
        lr_arr = as_float_array("lr", lr, nonnegative=True, allow_empty=False)
        steps_arr = as_steps("steps", steps)
        loss_arr = as_float_array("loss", loss, finite=False)
        if steps_arr.shape != loss_arr.shape:
            raise LawfitInputError(
                f"steps has length {steps_arr.size} but loss has length {loss_arr.size}; "
                "they must match"
            )
        bad = ~np.isfinite(loss_arr)
        if bad.any():
            if nan_policy == "omit":
                steps_arr, loss_arr = steps_arr[~bad], loss_arr[~bad]
            elif nan_policy == "raise":
                i = int(np.argmax(bad))
                raise LawfitInputError(
                    f'loss[{i}] is {float(loss_arr[i])!r}; pass nan_policy="omit" to drop it'
                )
            else:
                raise LawfitInputError(f"nan_policy must be 'raise' or 'omit', got {nan_policy!r}")
        if steps_arr.size == 0:
            raise LawfitInputError("the curve has no points (after dropping non-finite losses)")
        # Compare views (a bool temporary, not an int64 np.diff): logs can hold 1e8 steps.
        not_increasing = steps_arr[1:] <= steps_arr[:-1]
        if not_increasing.any():
            i = int(np.argmax(not_increasing)) + 1
            raise LawfitInputError(
                f"steps[{i}] is {steps_arr[i]} after {steps_arr[i - 1]}; steps must be strictly "
                "increasing (lawfit.read_log sorts and de-duplicates logs)"
            )
        if steps_arr[-1] > lr_arr.size:
            i = int(np.argmax(steps_arr > lr_arr.size))
            raise LawfitInputError(
                f"steps[{i}] is {steps_arr[i]} but the schedule has only {lr_arr.size} steps"
            )
        inferred = False
        if warmup_steps is None:
            w = infer_warmup(lr_arr)
            inferred = w > 0
            if inferred:
                import warnings

                warnings.warn(
                    f"Curve{f' {name!r}' if name else ''}: no warmup_steps given; the LR rises to its "
                    f"peak over the first {w} steps, taken as the warmup (pass warmup_steps= to set it)",
                    WarmupInferredWarning,
                    stacklevel=2,
                )
        else:
            w = warmup_steps
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or not 0 <= w <= lr_arr.size:
            raise LawfitInputError(f"warmup_steps must be an integer in [0, {lr_arr.size}], got {w!r}")
        if N is not None and not (np.isfinite(N) and N > 0):
            raise LawfitInputError(f"N must be a positive model size, got {N!r}")
        self.steps = steps_arr
        self.loss = loss_arr
        self.lr = lr_arr
        self.warmup_steps = int(w)
        self.warmup_inferred = inferred
        self.name = name
        self.N = None if N is None else float(N)

    def __len__(self) -> int:
        return int(self.steps.size)

    def subset(self, keep: Any) -> Curve:
        """The curve at the logged points ``keep`` selects, with the same schedule, warmup, name and N.

        Parameters
        ----------
        keep : array_like of bool, shape (n,), or of int, shape (k,)
            A mask over the curve's n logged points, or the indices of the points to keep (increasing).
        """
        out = Curve(self.steps[keep], self.loss[keep], self.lr, warmup_steps=self.warmup_steps,
                    name=self.name, N=self.N)
        out.warmup_inferred = self.warmup_inferred
        return out

    def _repr_html_(self) -> str:
        """A summary table for notebooks: points, step range, loss range, schedule length."""
        from html import escape

        return (
            f"<div><b>lawfit Curve</b> {escape(str(self.name or ''))}<table>"
            f"<tr><td>points</td><td>{self.steps.size}</td></tr>"
            f"<tr><td>steps</td><td>{int(self.steps[0])} .. {int(self.steps[-1])}</td></tr>"
            f"<tr><td>loss</td><td>{float(self.loss.min()):.5g} .. {float(self.loss.max()):.5g}</td></tr>"
            f"<tr><td>schedule</td><td>{self.lr.size} steps, warmup {self.warmup_steps}, "
            f"peak lr {float(self.lr.max()):.4g}</td></tr></table></div>"
        )

    @classmethod
    def from_frame(
        cls,
        df: Any,
        steps: str | None = None,
        loss: str | None = None,
        lr: Any = None,
        *,
        warmup_steps: int | None = None,
        name: str | None = None,
        nan_policy: NanPolicy = "omit",
        N: float | None = None,
    ) -> Curve:
        """A curve from a pandas or polars DataFrame of logged rows.

        Parameters
        ----------
        df : pandas.DataFrame or polars.DataFrame
            One row per logged step.
        steps, loss : str, optional
            Column names (default: found like :func:`lawfit.read_log` does: ``step``, ``_step``,
            ``iter``...; ``loss``, ``train/loss``, ``train_loss``...).
        lr : str, Schedule, spec string or array_like, optional
            The LR column's name (default: ``lr``, ``learning_rate``... when present), or the
            run's whole schedule (a :class:`~lawfit.Schedule`, a spec such as
            ``"cosine:total=24000,peak=3e-4"``, or a per-step array of length T). A column must
            hold the LR of every step 1..T, else it is interpolated with a warning.
        warmup_steps, name, nan_policy, N
            As :class:`Curve` (``nan_policy`` defaults to ``"omit"``: rows with a missing loss
            are dropped, counted in a :class:`lawfit.LogFormatWarning`).

        Returns
        -------
        Curve
        """
        import warnings

        from lawfit.schedules import Schedule, parse

        if not hasattr(df, "columns"):
            raise LawfitTypeError(f"df must be a pandas or polars DataFrame, got {type(df).__name__}")
        columns = [str(c) for c in df.columns]

        def column(col: str) -> np.ndarray:
            values = df[col]
            to_numpy = getattr(values, "to_numpy", None)
            arr = np.asarray(to_numpy() if to_numpy is not None else values)
            if arr.dtype == object:
                arr = np.array([_float_or_nan(v) for v in arr])
            return arr

        step_col = _match(columns, steps or "step", "step", STEP_NAMES, "step")
        loss_col = _match(columns, loss or "loss", "loss", LOSS_NAMES, "loss")
        assert step_col is not None and loss_col is not None
        st = column(step_col).astype(np.float64)
        y = column(loss_col).astype(np.float64)
        if isinstance(lr, str) and ":" in lr:
            lr = parse(lr)
        lr_col = None
        if lr is None or isinstance(lr, str):
            lr_col = _match(columns, lr or "lr", "lr", LR_NAMES, "learning-rate", required=lr is not None)
            if lr_col is None:
                raise LawfitInputError(
                    f"the frame has no learning-rate column (columns {columns}); pass lr= a column name, "
                    "a Schedule, a spec string or a per-step array"
                )
        order = np.argsort(st, kind="stable")
        st, y = st[order], y[order]
        if lr_col is not None:
            lr_vals = column(lr_col).astype(np.float64)[order]
            has = np.isfinite(lr_vals) & np.isfinite(st)
            total = int(np.nanmax(st))
            if has.sum() == total and np.array_equal(st[has], np.arange(1, total + 1)):
                per_step: Any = lr_vals[has]
            else:
                if not has.any():
                    raise LawfitInputError(f"the learning-rate column {lr_col!r} is empty")
                warnings.warn(
                    f"the LR column {lr_col!r} holds {int(has.sum())} of {total} steps; interpolating it "
                    "linearly (pass lr= a Schedule for exact areas)",
                    LogFormatWarning,
                    stacklevel=2,
                )
                per_step = np.interp(np.arange(1, total + 1), st[has], lr_vals[has])
        else:
            per_step = lr if isinstance(lr, Schedule) else np.asarray(lr, dtype=float)
        bad = ~np.isfinite(y)
        if bad.any() and nan_policy == "omit":
            warnings.warn(
                f"{int(bad.sum())} of {y.size} rows have no finite loss in column {loss_col!r}; dropped them",
                LogFormatWarning,
                stacklevel=2,
            )
            st, y = st[~bad], y[~bad]
        return cls(st, y, per_step, warmup_steps=warmup_steps, name=name, nan_policy=nan_policy, N=N)


def _float_or_nan(v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")
