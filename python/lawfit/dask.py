"""Sweeps on a Dask cluster (extra ``dask``): many independent fits as batched tasks.

:func:`fit_runs` fits one law to each run of a sweep (a :class:`~lawfit.Curve`, the path of a log,
or a list of curves fitted jointly) and returns one ``pandas.DataFrame`` row per run; a run that
fails becomes a row holding its error, never a lost run. :func:`fit_many` maps the row chunks of a
``dask.array`` onto :func:`lawfit.fit_many` (the Rust batch fit).

Both run on a ``dask.distributed`` client when given one, and in this process otherwise, with the
same results bit for bit: every fit is deterministic and independent of the thread count.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import PurePath
from typing import Any

import numpy as np

from lawfit._optional import require
from lawfit._validate import LawfitInputError, LawfitTypeError
from lawfit.batch import BatchResult
from lawfit.curve import Curve
from lawfit.laws import Law

__all__ = ["fit_runs", "fit_many", "result_row"]

#: Most runs one task fits when ``batch_size`` is automatic (bounds the data a task carries).
MAX_AUTO_BATCH = 64
#: Tasks per worker thread aimed at by the automatic batch size (balances load at the end).
TASKS_PER_THREAD = 4

Run = Curve | str | os.PathLike | Sequence[Curve]


def _run_name(run: Any, index: int) -> str:
    if isinstance(run, Curve):
        return run.name if run.name is not None else f"run{index}"
    if isinstance(run, str | PurePath):
        return str(run)
    names = [c.name for c in run]
    if all(n is not None for n in names):
        return "+".join(names)  # type: ignore[arg-type]
    return f"run{index}"


def _check_run(run: Any, index: int) -> Any:
    if isinstance(run, Curve | str | PurePath):
        return run
    if isinstance(run, Sequence) and run and all(isinstance(c, Curve) for c in run):
        return list(run)
    raise LawfitTypeError(
        f"runs[{index}] is {type(run).__name__}; each run must be a Curve, the path of a log, or a "
        f"non-empty list of Curves fitted jointly"
    )


def result_row(name: str, law: Law, result: Any = None, error: BaseException | None = None,
               caught: Sequence[warnings.WarningMessage] = ()) -> dict[str, Any]:
    """One row of a sweep's table: a fit's parameters, standard errors and metrics, or its error.

    Parameters
    ----------
    name : str
        The run's label.
    law : Law
        The law fitted (names the parameter columns).
    result : FitResult, optional
        The fit; omit when ``error`` is given.
    error : BaseException, optional
        Why the run has no fit.
    caught : sequence of warnings.WarningMessage
        Warnings the fit raised (joined into the ``warnings`` column).

    Returns
    -------
    dict
        ``name``, one column per parameter, ``stderr_<parameter>``, one column per metric
        (``r2``, ``rmse``, ``cost``...), ``success``, ``message``, ``warnings`` and ``error`` (empty
        when the fit ran; ``"<ExceptionType>: <message>"`` otherwise).
    """
    row: dict[str, Any] = {"name": name}
    names = law.param_names
    if result is not None:
        row.update({p: float(result.params[p]) for p in names})
        row.update({f"stderr_{p}": float(result.stderr[p]) for p in names})
        row.update({k: v for k, v in result.metrics.items()})
        row.update(success=bool(result.success), message=str(result.message))
    else:
        row.update({p: math.nan for p in names})
        row.update({f"stderr_{p}": math.nan for p in names})
        row.update(success=False, message="")
    row["warnings"] = "; ".join(str(w.message) for w in caught)
    row["error"] = "" if error is None else f"{type(error).__name__}: {error}"
    if error is not None:
        row["message"] = row["error"]
    return row


def _fit_one(name: str, run: Any, law: Law, read_options: Mapping[str, Any],
             fit_options: Mapping[str, Any]) -> dict[str, Any]:
    from lawfit.fitting import fit
    from lawfit.io import read_log

    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            data = read_log(run, **read_options) if isinstance(run, str | PurePath) else run
            row = result_row(name, law, fit(law, data, **fit_options), caught=caught)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a row, by design
            row = result_row(name, law, error=exc, caught=caught)
    row["seconds"] = time.perf_counter() - start
    return row


def _fit_batch(batch: Sequence[tuple[int, str, Any]], law: Law, read_options: Mapping[str, Any],
               fit_options: Mapping[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    """Fit every (index, name, run) of one task; runs in a worker."""
    return [(i, _fit_one(name, run, law, read_options, fit_options)) for i, name, run in batch]


def _auto_batch_size(n_runs: int, n_threads: int) -> int:
    return max(1, min(MAX_AUTO_BATCH, math.ceil(n_runs / (TASKS_PER_THREAD * max(1, n_threads)))))


def _progress_callback(progress: bool | Callable[[int, int], None] | None) -> tuple[Any, Any]:
    """(callback or None, context manager or None) for ``progress``."""
    if callable(progress):
        return progress, None
    from lawfit._progress import auto_bar

    bar = auto_bar("fitting runs", progress)
    return bar, bar


def fit_runs(
    runs: Sequence[Run] | Mapping[str, Run],
    law: Law,
    *,
    client: Any = None,
    batch_size: int | None = None,
    read_options: Mapping[str, Any] | None = None,
    progress: bool | Callable[[int, int], None] | None = None,
    **fit_options: Any,
) -> Any:
    """Fit ``law`` to every run of a sweep, as batched tasks on a Dask cluster or in this process.

    Parameters
    ----------
    runs : sequence or mapping
        The runs: each a :class:`~lawfit.Curve`, the path of a log (read by
        :func:`lawfit.read_log` *on the worker*, so the path must exist there: a shared file
        system), or a non-empty list of curves fitted jointly. A mapping ``{name: run}`` names the
        rows; otherwise a row is named by the curve's name, the path, or the curves' names joined
        by ``"+"`` (``"run<i>"`` when a curve has no name).
    law : Law
        The law fitted to every run, e.g. ``MomentumLaw()``.
    client : distributed.Client, optional
        The Dask client. Default: fit in this process, one run after another (each fit still
        uses every core of lawfit's thread pool).
    batch_size : int, optional
        Runs per task. Default: enough tasks for ``4`` per worker thread, at most ``64`` runs each,
        so that each task does far more work than the scheduler's ~1 ms overhead per task.
    read_options : mapping, optional
        Keywords for :func:`lawfit.read_log` (``steps``, ``loss``, ``lr`` column names,
        ``schedule``, ``warmup_steps``...), used for the runs given as paths.
    progress : bool or callable, optional
        A progress bar on stderr (default: when stderr is a terminal), or a ``callback(done,
        total)`` called as runs finish.
    **fit_options
        Keywords for :func:`lawfit.fit` (``loss``, ``delta``, ``fix``, ``bounds``, ``max_evals``...),
        the same for every run.

    Returns
    -------
    pandas.DataFrame
        One row per run, in the order of ``runs``: ``name``, one column per parameter of
        ``law.param_names``, ``stderr_<parameter>``, the fit's metrics (``cost``, ``r2``, ``rmse``,
        ``mae``, ``aic``, ``bic``, ``n_points``, ``n_params``, ``n_starts``, ``n_converged``,
        ``n_evals``), ``success``, ``message`` (the solver's), ``warnings`` (joined messages) and
        ``error`` (``"<ExceptionType>: <message>"`` for a run that raised or whose task was lost,
        with NaN parameters and ``success`` false; empty otherwise), and ``seconds``: the wall time
        of reading and fitting the run where it ran (NaN for a lost task). Every column but
        ``seconds`` is the same bit for bit with or without a client, whatever ``batch_size``.

    Raises
    ------
    LawfitInputError
        If ``batch_size`` is not a positive integer or a fit option is not a keyword of ``fit``.
    LawfitTypeError
        If a run is neither a Curve, a path nor a list of curves.
    ImportError
        If pandas (or, with a client, dask.distributed) is not installed.
    """
    pd = require("pandas", extra="dask", what="lawfit.dask.fit_runs")
    if not isinstance(law, Law):
        raise LawfitTypeError(f"law must be a lawfit Law, got {type(law).__name__}")
    if "progress" in fit_options or "curves" in fit_options:
        raise LawfitInputError("fit_runs passes each run to fit itself; remove 'curves'/'progress' options")
    import inspect

    from lawfit.fitting import fit

    unknown = sorted(set(fit_options) - set(inspect.signature(fit).parameters))
    if unknown:
        raise LawfitInputError(f"unknown fit options {unknown}; see lawfit.fit")
    if isinstance(runs, Mapping):
        items = [(i, str(k), _check_run(r, i)) for i, (k, r) in enumerate(runs.items())]
    else:
        if isinstance(runs, str | PurePath | Curve):
            raise LawfitTypeError("runs must be a list of runs; wrap a single run in a list")
        checked = [_check_run(r, i) for i, r in enumerate(runs)]
        items = [(i, _run_name(r, i), r) for i, r in enumerate(checked)]
    read_options = dict(read_options or {})
    n = len(items)
    bad_size = isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1
    if batch_size is not None and bad_size:
        raise LawfitInputError(f"batch_size must be a positive integer, got {batch_size!r}")
    n_threads = 1
    if client is not None:
        n_threads = sum(client.nthreads().values()) or 1
    size = int(batch_size) if batch_size is not None else _auto_batch_size(n, n_threads)
    batches = [items[k:k + size] for k in range(0, n, size)]
    rows: list[dict[str, Any] | None] = [None] * n
    callback, bar = _progress_callback(progress)
    done = 0

    def record(pairs: Sequence[tuple[int, dict[str, Any]]]) -> None:
        nonlocal done
        for i, row in pairs:
            rows[i] = row
        done += len(pairs)
        if callback is not None:
            callback(done, n)

    if bar is not None:
        bar.__enter__()
    try:
        if client is None:
            for batch in batches:
                record(_fit_batch(batch, law, read_options, fit_options))
        else:
            _run_on_client(client, batches, law, read_options, fit_options, record)
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    table = pd.DataFrame([r for r in rows if r is not None])
    return table


def _run_on_client(client: Any, batches: list[list[tuple[int, str, Any]]], law: Law,
                   read_options: Mapping[str, Any], fit_options: Mapping[str, Any],
                   record: Callable[[Sequence[tuple[int, dict[str, Any]]]], None]) -> None:
    distributed = require("distributed", extra="dask", package="distributed",
                          what="lawfit.dask.fit_runs with a client")
    if not batches:
        return
    # Curves go straight to the workers (scatter), not through the scheduler's task graph; one
    # batch at a time, each submitted at once, so the first fits run while the rest still travel.
    futures = []
    for batch in batches:
        has_data = any(not isinstance(run, str | PurePath) for _, _, run in batch)
        data = client.scatter([batch], hash=False)[0] if has_data else batch
        futures.append(client.submit(_fit_batch, data, law, read_options, fit_options, pure=False))
    batch_of = {f.key: b for f, b in zip(futures, batches, strict=True)}
    for future in distributed.as_completed(futures):
        try:
            pairs = future.result()
        except Exception as exc:  # noqa: BLE001 - a lost task (worker died...) becomes error rows
            pairs = [(i, {**result_row(name, law, error=exc), "seconds": math.nan})
                     for i, name, _ in batch_of[future.key]]
        record(pairs)
        future.release()


def _row_chunks(arr: Any, name: str) -> Any:
    da = require("dask.array", extra="dask", package="dask", what="lawfit.dask.fit_many")
    arr = da.asarray(arr)
    if arr.ndim != 2:
        raise LawfitInputError(f"{name} must be 2-D (n_fits, n_points), got shape {arr.shape}")
    return arr.rechunk({1: -1})


def _fit_many_block(law: Law, x: Any, y: Any, options: Mapping[str, Any]) -> BatchResult:
    from lawfit.batch import fit_many as rust_fit_many

    return rust_fit_many(law, x, y, **options)


def _concat(parts: Sequence[BatchResult], law: Law) -> BatchResult:
    return BatchResult(
        law=law,
        params={p: np.concatenate([r.params[p] for r in parts]) for p in law.param_names},
        success=np.concatenate([r.success for r in parts]),
        cost=np.concatenate([r.cost for r in parts]),
        status=np.concatenate([r.status for r in parts]),
        n_points=np.concatenate([r.n_points for r in parts]),
        n_evals=np.concatenate([r.n_evals for r in parts]),
        options=dict(parts[0].options),
    )


def fit_many(law: Law, x: Any, y: Any, *, client: Any = None, **options: Any) -> BatchResult:
    """:func:`lawfit.fit_many` on a ``dask.array``: each row chunk is one Rust batch fit (one task).

    Parameters
    ----------
    law : PowerLaw or PurePowerLaw
        The law (one input variable x).
    x : array_like or dask.array.Array, shape (n_fits, n_points) or (n_points,)
        Abscissae; a 1-D array is shared by every fit (sent to each task), a 2-D one is split into
        the row chunks of ``y``.
    y : dask.array.Array or array_like, shape (n_fits, n_points)
        Observed values, one fit per row; its row chunks are the tasks (columns are merged into
        one chunk).
    client : distributed.Client, optional
        Run the tasks on this client; default: in this process, one chunk after another.
    **options
        Keywords of :func:`lawfit.fit_many` (``robust``, ``delta``, ``space``, ``fix``, ``bounds``,
        ``nan_policy``, ``starts``...). Per-fit ``starts`` of shape (n_fits, ...) are split by row
        chunk like ``y``.

    Returns
    -------
    BatchResult
        The same as ``lawfit.fit_many(law, x.compute(), y.compute(), **options)``, bit for bit.

    Raises
    ------
    LawfitInputError
        If ``y`` is not 2-D or ``x`` does not match it.
    ImportError
        If dask is not installed.
    """
    dask = require("dask", extra="dask", what="lawfit.dask.fit_many")
    y = _row_chunks(y, "y")
    bounds = np.cumsum((0,) + y.chunks[0])
    n_fits = int(y.shape[0])
    if getattr(x, "ndim", np.ndim(x)) == 2:
        x = _row_chunks(x, "x")
        if x.shape != y.shape:
            raise LawfitInputError(f"x has shape {x.shape}, y has shape {y.shape}; they must match")
        x_blocks = list(x.rechunk({0: y.chunks[0]}).to_delayed()[:, 0])
    else:
        x_shared = np.asarray(x.compute() if hasattr(x, "compute") else x)
        x_blocks = [x_shared] * len(y.chunks[0])
    starts = options.get("starts")
    starts_arr = None if starts is None or isinstance(starts, Mapping | str) else np.asarray(starts)
    tasks = []
    delayed = dask.delayed(_fit_many_block, pure=True)
    for k, y_block in enumerate(y.to_delayed()[:, 0]):
        opts = dict(options)
        if starts_arr is not None and starts_arr.ndim >= 2 and starts_arr.shape[0] == n_fits:
            opts["starts"] = starts_arr[bounds[k]:bounds[k + 1]]
        tasks.append(delayed(law, x_blocks[k], y_block, opts))
    if not tasks:
        return _fit_many_block(law, x, np.asarray(y), options)
    if client is None:
        parts = dask.compute(*tasks, scheduler="sync")
    else:
        parts = client.gather(client.compute(tasks))
    return _concat(parts, law)
