"""The ``lawfit`` command."""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lawfit._validate import LawfitInputError


def _cmd_areas(args: argparse.Namespace) -> int:
    import lawfit as lf

    sched = lf.schedules.parse(args.schedule)
    s1, s2 = lf.areas(sched, decay=args.decay, warmup_steps=sched.warmup_steps, warmup=args.warmup)
    idx = np.unique(np.linspace(0, len(sched) - 1, args.points).astype(int))
    rows = [
        {"step": int(i + 1), "lr": float(sched.lr[i]), "S1": float(s1[i]), "S2": float(s2[i])} for i in idx
    ]
    if args.json:
        json.dump({"schedule": str(sched), "decay": args.decay, "rows": rows}, sys.stdout, indent=1)
        print()
    else:
        print(f"schedule: {sched}   decay λ = {args.decay}   warmup: {args.warmup}")
        print(f"{'step':>10} {'lr':>12} {'S1':>12} {'S2':>12}")
        for r in rows:
            print(f"{r['step']:>10d} {r['lr']:>12.4e} {r['S1']:>12.5f} {r['S2']:>12.5f}")
    return 0


def _cmd_schedule(args: argparse.Namespace) -> int:
    import lawfit as lf

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".csv", ".npy"):
        raise lf.LawfitInputError(f"--out must name a .csv or .npy file, got {args.out!r}")
    if args.points < 0:
        raise lf.LawfitInputError(f"--points must be >= 0, got {args.points}")
    sched = lf.schedules.parse(args.schedule)
    lr = sched.lr
    n = len(lr)
    idx = np.unique(np.rint(np.linspace(0, n - 1, args.points)).astype(int)) if args.points else []
    rows = [{"step": int(i + 1), "lr": float(lr[i])} for i in idx]
    if out is not None:
        if out.suffix.lower() == ".npy":
            np.save(out, lr)
        else:
            with open(out, "w", encoding="utf-8") as fh:
                fh.write("step,lr\n")
                fh.writelines(f"{i},{v!r}\n" for i, v in enumerate(lr.tolist(), start=1))
    summary = {
        "schedule": str(sched),
        "family": sched.family,
        "total_steps": n,
        "warmup_steps": sched.warmup_steps,
        "peak_lr": sched.peak_lr,
        "final_lr": float(lr[-1]),
        "lr_sum": float(lr.sum()),
        "rows": rows,
        "out": str(out) if out is not None else None,
    }
    if args.json:
        json.dump(summary, sys.stdout, indent=1)
        print()
        return 0
    print(f"schedule: {sched}")
    print(
        f"steps: {n} (warmup {sched.warmup_steps})   peak lr: {sched.peak_lr:.6g}   "
        f"last lr: {float(lr[-1]):.6g}   sum of lr: {summary['lr_sum']:.6g}"
    )
    if rows:
        print(f"{'step':>10} {'lr':>14}")
        for r in rows:
            print(f"{r['step']:>10d} {r['lr']:>14.6e}")
    if out is not None:
        print(f"wrote {n} steps to {out}")
    return 0


def _laws_from_names(names: str) -> list:
    import lawfit as lf
    from lawfit.auto import AutoLaw
    from lawfit.laws import LAWS

    known: dict = {"momentum": lf.MomentumLaw}
    if hasattr(lf, "MultiPowerLaw"):
        known["multipower"] = lf.MultiPowerLaw
    from lawfit.laws import PointLaw

    # The loss-curve laws of the registry (not the size/point laws, nor the N-extended one).
    known.update({k: v for k, v in LAWS.items() if k != "momentum_n" and not issubclass(v, PointLaw)})
    known["auto"] = AutoLaw
    out = []
    for name in names.split(","):
        if name not in known:
            raise lf.LawfitInputError(f"unknown law {name!r}; choose from {sorted(known)}")
        out.append(known[name]())
    return out


# --------------------------------------------------------------------------------------------
# CLI words, one-line warnings, and the --run / --fit-from / --until helpers shared by commands

#: Library phrasing -> the flags and step numbers a CLI user types and sees.
_CLI_WORDS: list[tuple[re.Pattern[str], Any]] = [
    (
        re.compile(
            r"steps\[\d+\] is (\d+)(?:\.0)?; S1 is 0 at this logged step \(no LR area yet\); drop the point"
        ),
        lambda m: f"the loss logged at step {m.group(1)} has no LR area yet (S1 = 0, the LR warmup has not "
        "started); fit from a later step: --fit-from warmup (the default) or --fit-from STEP",
    ),
    (re.compile(r"pass schedule=\.\.\. \(a Schedule or spec; CLI: (--schedule SPEC)\)"), r"pass \1"),
    (re.compile(r"pass schedule=\.\.\. \(CLI: (--schedule SPEC)\)"), r"pass \1"),
    (re.compile(r"pass schedule=\.\.\. / (--schedule SPEC)"), r"pass \1"),
    (
        re.compile(r"choose one with run= \(CLI: --run NAME\), or read them all with read_logs\(\)"),
        "choose one with --run NAME (repeat --run to fit several jointly)",
    ),
    (re.compile(r"drop run="), "drop --run"),
    (re.compile(r"\(fit_from=1 also fits the warmup\)"), "(--fit-from 1 also fits the warmup)"),
    (re.compile(r"\blr\[(\d+)\]"), lambda m: f"the LR of step {int(m.group(1)) + 1}"),
    (
        re.compile(r"\blr in (\S+?)\[(\d+)\]"),
        lambda m: f"the LR of step {int(m.group(2)) + 1} in {m.group(1)}",
    ),
    (re.compile(r"\btotal_steps\b"), "total"),
    (re.compile(r"\bwarmup_steps\b"), "warmup"),
    (re.compile(r"\bpeak_lr\b"), "peak"),
]


def _cli_message(text: str) -> str:
    """A library message in the words of the command line (flags, 1-based step numbers)."""
    for pattern, repl in _CLI_WORDS:
        text = pattern.sub(repl, text)
    return text


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """``warnings.showwarning`` of the CLI: one ``lawfit: warning: ...`` line, no source line."""
    print(f"lawfit: warning: {_cli_message(str(message))}", file=sys.stderr)


def _add_log_args(parser: argparse.ArgumentParser, *, schedule: bool = False) -> None:
    """The columns (or tags) of the logs a command reads, and with ``schedule`` the spec and warmup of
    logs that have no per-step LR."""
    parser.add_argument("--steps-col", default="step", help="step column (default 'step')")
    parser.add_argument("--loss-col", default="loss",
                        help="loss column or tag (default 'loss'; trainer_state.json: loss or eval_loss)")
    parser.add_argument("--lr-col", default="lr", help="learning-rate column (default 'lr')")
    if schedule:
        parser.add_argument("--schedule", default=None, help="schedule spec, when logs have no per-step LR")
        parser.add_argument("--warmup-steps", type=int, default=None)


def _add_objective_args(parser: argparse.ArgumentParser, *, robust: bool = True) -> None:
    """The fit's objective (robust loss and its scale, with ``robust``) and evaluation budget."""
    if robust:
        parser.add_argument("--loss", default="huber", choices=["huber", "linear", "soft_l1", "cauchy"])
        parser.add_argument("--delta", type=float, default=1e-3)
    parser.add_argument("--max-evals", type=int, default=2000,
                        help="evaluation budget of each start (default 2000)")


def _add_run_args(parser: argparse.ArgumentParser, *, fit_from: bool = True) -> None:
    """``--run`` (repeatable) and ``--fit-from`` of the commands that read logs."""
    parser.add_argument(
        "--run",
        action="append",
        default=None,
        metavar="NAME",
        help="the run to read from a log holding several (a run/name/schedule column); repeat to "
        "fit several runs jointly",
    )
    if fit_from:
        parser.add_argument(
            "--fit-from",
            default="warmup",
            metavar="STEP|warmup",
            help="first step to fit on: 'warmup' (default: the first step after the LR warmup) or a "
            "step (1 fits everything)",
        )


def _read_cli_logs(paths: Sequence[str], args: argparse.Namespace, runs: Sequence[str] | None) -> list:
    """Read every log; with ``runs``, read those runs of each log (each a named curve)."""
    import lawfit as lf

    kw = dict(
        steps=getattr(args, "steps_col", "step"),
        loss=getattr(args, "loss_col", "loss"),
        lr=getattr(args, "lr_col", "lr"),
        schedule=getattr(args, "schedule", None),
        warmup_steps=getattr(args, "warmup_steps", None),
    )
    curves = []
    for path in paths:
        if runs:
            curves.extend(lf.read_logs(path, runs=list(runs), **kw))
        else:
            curves.append(lf.read_log(path, **kw))
    return curves


def _cut_fit_from(curves: Sequence[Any], text: str, n_params: int) -> list:
    """The curves from ``--fit-from`` on (and never a point with no LR area yet)."""
    import lawfit as lf
    from lawfit.forecast import fit_start

    start = _fit_from(text)
    out = []
    for c in curves:
        first = fit_start(c) if start == "warmup" else int(start)
        if (c.lr > 0).any():
            first = max(first, int(np.argmax(c.lr > 0)) + 1)
        if start == "warmup" and first <= int(c.steps[0]) and c.steps.size > 1:
            warnings.warn(
                f"{c.name}: the LR has no warmup, so the fit starts at the first logged step "
                f"({int(c.steps[0])}, loss {float(c.loss[0]):.4g}); if the loss drops fast at first, "
                "those steps dominate the fit: pass --fit-from STEP to skip them",
                UserWarning,
                stacklevel=2,
            )
        keep = c.steps >= first
        if keep.sum() < n_params:
            raise lf.LawfitInputError(
                f"{c.name}: only {int(keep.sum())} logged points from step {first} on (--fit-from "
                f"{text}); need at least {n_params} (--fit-from 1 also fits the warmup)"
            )
        if keep.all():
            out.append(c)
        else:
            out.append(c.subset(keep))
    return out


def _check_positive(curves: Sequence[Any]) -> None:
    """Log-space fits need positive losses: name the log and step instead of a flat index."""
    import lawfit as lf

    for c in curves:
        bad = c.loss <= 0
        if bad.any():
            i = int(np.argmax(bad))
            raise lf.LawfitInputError(
                f"{c.name}: the loss at step {int(c.steps[i])} is {float(c.loss[i])!r}; the laws fit "
                "log(loss), so every loss must be positive"
            )


def _cmd_demo(args: argparse.Namespace) -> int:
    import time

    import lawfit as lf
    from lawfit import datasets

    train, test = datasets.multipower_split()
    laws = (
        _laws_from_names(args.laws)
        if args.laws
        else _laws_from_names("momentum,multipower" if hasattr(lf, "MultiPowerLaw") else "momentum")
    )
    t0 = time.perf_counter()
    val = lf.validate(laws, train, test)
    elapsed = time.perf_counter() - t0
    out: dict = {
        "data": "Luo et al. 2025, 400M Llama-2 validation loss (bundled)",
        "train": [c.name for c in train],
        "seconds": elapsed,
        **val.to_dict(),
    }
    figure = None
    if not args.no_plot:
        try:
            from lawfit.plot import forecast_figure

            figure = forecast_figure(val.fits, train, test, args.plot)
        except ImportError as exc:
            print(f"(no figure: {exc})", file=sys.stderr)
    out["figure"] = figure
    if args.json:
        json.dump(out, sys.stdout, indent=1)
        print()
        return 0
    print("lawfit demo: forecast loss curves under unseen LR schedules")
    print(f"data: {out['data']}")
    print(f"fit on: {', '.join(out['train'])}; predict the other {len(test)} schedules\n")
    for name, f in val.fits.items():
        params = ", ".join(f"{k}={v:.4g}" for k, v in f.params.items())
        print(f"{name}: {params}  (train R2 {f.metrics['r2']:.5f}, {int(f.metrics['n_starts'])} starts)")
    print()
    print(val.table())
    print(f"\nfitted and validated in {elapsed:.2f} s")
    if figure:
        print(f"figure: {figure}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    import lawfit as lf

    laws = _laws_from_names(args.laws)
    n_params = max(len(law.param_names) for law in laws)
    train = _cut_fit_from(_read_cli_logs(args.train, args, args.train_run), args.fit_from, n_params)
    test = _cut_fit_from(_read_cli_logs(args.test, args, args.test_run), args.fit_from, 1)
    _check_positive([*train, *test])
    val = lf.validate(laws, train, test)
    if args.json:
        json.dump(val.to_dict(), sys.stdout, indent=1)
        print()
    else:
        print(val.table())
    return 0


def _read_logs(args: argparse.Namespace) -> list:
    return _read_cli_logs(args.logs, args, args.run)


def _cmd_fit(args: argparse.Namespace) -> int:
    import warnings

    import lawfit as lf

    (law,) = _laws_from_names(args.law)
    logged = _read_logs(args)
    curves = _cut_fit_from(logged, args.fit_from, len(law.param_names))
    _check_positive(curves)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", lf.ConvergenceWarning)
        result = lf.fit(law, curves, loss=args.loss, delta=args.delta, max_evals=_max_evals(args),
                        prior=prior_from_cli(args.prior))
    for w in caught:
        print(f"lawfit: warning: {_cli_message(str(w.message))}", file=sys.stderr)
    if args.output:
        result.save(args.output)
    if args.plot:
        from lawfit.plot import fit_figure

        fit_figure(result, curves, args.plot, logged=logged)
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=1)
        print()
    else:
        print(result.report())
        if args.output:
            print(f"saved: {args.output}")
    return 0 if result.success else 1


def _cmd_predict(args: argparse.Namespace) -> int:
    import lawfit as lf

    result = lf.load_fit(args.fit)
    sched = lf.schedules.parse(args.schedule)
    if args.every is not None and args.every < 1:
        raise lf.LawfitInputError(f"--every must be a step count >= 1, got {args.every}")
    steps = (
        np.arange(1, sched.total_steps + 1)
        if args.every is None
        else np.unique(np.append(np.arange(args.every, sched.total_steps + 1, args.every), sched.total_steps))
    )
    pred = result.predict(sched, steps)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as fh:
            fh.write("step,lr,loss\n")
            for s_, p_ in zip(steps, pred, strict=True):
                fh.write(f"{int(s_)},{float(sched.lr[s_ - 1])!r},{float(p_)!r}\n")
    if args.json:
        json.dump({"schedule": str(sched), "steps": steps.tolist(), "loss": pred.tolist()}, sys.stdout)
        print()
    else:
        print(f"schedule: {sched}")
        print(f"final loss (step {int(steps[-1])}): {float(pred[-1]):.5f}")
        if args.output:
            print(f"wrote {steps.size} rows to {args.output}")
    return 0


def _until(text: str | None) -> int | float | None:
    """``--until``: a step (a whole number >= 1) or a fraction of the schedule in (0, 1]."""
    import lawfit as lf

    if text is None:
        return None
    bad = lf.LawfitInputError(
        f"--until must be a step (a whole number >= 1) or a fraction of the schedule in (0, 1], got {text!r}"
    )
    t = text.strip()
    if re.fullmatch(r"[+]?\d+", t):
        if int(t) < 1:
            raise bad
        return int(t)
    try:
        value = float(t)
    except ValueError:
        raise bad from None
    if 0 < value <= 1:
        return value
    if value > 1 and value.is_integer():
        return int(value)
    raise bad


def _max_evals(args: argparse.Namespace) -> int:
    import lawfit as lf

    if args.max_evals < 1:
        raise lf.LawfitInputError(f"--max-evals must be >= 1, got {args.max_evals}")
    return int(args.max_evals)


def _fit_from(text: str) -> int | str:
    import lawfit as lf

    if text == "warmup":
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise lf.LawfitInputError(f"--fit-from must be 'warmup' or a step >= 1, got {text!r}")
    return value


def _cmd_forecast(args: argparse.Namespace) -> int:
    import warnings

    import lawfit as lf
    from lawfit.forecast import forecast

    until = _until(args.until)
    runs = args.run or []
    if len(runs) > 1:
        raise lf.LawfitInputError("forecast reads one run: give --run once")
    run = runs[0] if runs else None
    kw = dict(steps=args.steps_col, loss=args.loss_col, lr=args.lr_col, run=run, name=run)
    if args.schedule:
        planned = lf.schedules.parse(args.schedule[0])
        curve = lf.read_log(args.log, schedule=planned, **kw)
    else:
        # The log's own LR column is the planned schedule when it covers the run.
        try:
            curve = lf.read_log(args.log, **kw)
        except lf.LawfitInputError as exc:
            if "learning-rate" not in str(exc):
                raise
            raise lf.LawfitInputError(
                f"{args.log} has no LR column: pass --schedule SPEC, the run's whole planned schedule"
            ) from None
        if isinstance(until, int) and until > curve.lr.size:
            raise lf.LawfitInputError(
                f"--until {until} is past the last step of the log's LR column ({curve.lr.size}); "
                "pass --schedule SPEC for the whole planned schedule"
            )
    if args.prior is None:
        prior: object = "auto"
    elif args.prior == "none":
        prior = None
    else:
        prior = lf.load_fit(args.prior)
    (law,) = _laws_from_names(args.law)
    alternatives = [lf.schedules.parse(s) for s in args.schedule[1:]]
    with warnings.catch_warnings():
        # Forecast notes are printed in its summary (and --json "warnings"); not twice.
        warnings.simplefilter("ignore", lf.ConvergenceWarning)
        fc = forecast(
            curve,
            until=until,
            alternatives=alternatives,
            law=law,
            prior=prior,
            fit_from=_fit_from(args.fit_from),
            max_evals=_max_evals(args),
        )
    if args.json:
        json.dump(
            {
                "seen_until": fc.seen_until,
                "fit_from": fc.fit_from,
                "band": {
                    "level": fc.level,
                    "covers": "the smoothed loss (201-step centred mean of a per-step log)",
                    "method": "split-conformal by horizon on real runs (docs/forecasting.md)",
                    "calibration_group": fc.calibration_group,
                },
                "prior": fc.prior_values,
                "holdout": fc.holdout,
                "warnings": fc.warnings,
                "fit": fc.fit.to_dict(),
                "predictions": {
                    k: {
                        "steps": v[0].tolist(),
                        "loss": v[1].tolist(),
                        "lower": v[2].tolist(),
                        "upper": v[3].tolist(),
                    }
                    for k, v in fc.predictions.items()
                },
            },
            sys.stdout,
        )
        print()
    else:
        print(fc.summary())
    return 0 if fc.fit.success else 1


def _cmd_compare(args: argparse.Namespace) -> int:
    import lawfit as lf
    from lawfit.forecast import compare

    result = lf.load_fit(args.fit)
    if args.at and min(args.at) < 1:
        raise lf.LawfitInputError(f"--at takes steps >= 1 (the first step is 1), got {min(args.at)}")
    rows = compare(result, [lf.schedules.parse(s) for s in args.schedule], steps=args.at)
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        print()
    else:
        for rank, r in enumerate(rows, 1):
            print(f"{rank}. {r['final_loss']:.5f}  {r['schedule']}")
            for step, loss in r.get("at", {}).items():
                print(f"     loss at step {step}: {loss:.5f}")
            if args.at and r.get("at") is not None and len(r["at"]) < len(set(args.at)):
                past = sorted(set(args.at) - set(r["at"]))
                print(f"     (steps {past} are past its last step {r['final_step']})")
    return 0


def _cmd_optimize(args: argparse.Namespace) -> int:
    import lawfit as lf
    from lawfit.forecast import optimize_schedule

    result = lf.load_fit(args.fit)
    if args.iterations < 1:
        raise lf.LawfitInputError(f"--iterations must be >= 1, got {args.iterations}")
    best = optimize_schedule(
        result,
        total_steps=args.total,
        peak_lr=args.peak,
        warmup_steps=args.warmup,
        family=args.family,
        final_lr=args.final,
        iterations=args.iterations,
    )
    if args.out:
        np.save(args.out, best["schedule"].lr)
    info = {k: v for k, v in best.items() if k != "schedule"}
    if args.json:
        json.dump(info, sys.stdout, indent=1)
        print()
    else:
        print(f"best {args.family} schedule: {info['spec']}")
        print(
            f"predicted final loss {info['final_loss']:.5f}; cosine {info['cosine_final_loss']:.5f}; "
            f"gain {info['gain_over_cosine']:.5f} ({100 * info['relative_gain']:.2f}%)"
        )
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    """One fit per log (on a Dask cluster with --scheduler/--workers), one CSV row per log."""
    import logging
    import os

    import lawfit as lf

    (law,) = _laws_from_names(args.law)
    if args.workers is not None and args.workers < 1:
        raise lf.LawfitInputError(f"--workers must be at least 1, got {args.workers}")
    runs: dict[str, str] = {}
    for path in args.logs:
        if path in runs:
            raise lf.LawfitInputError(f"log {path!r} given twice")
        runs[path] = str(Path(path).resolve())  # absolute: workers may run elsewhere
    read_options = dict(steps=args.steps_col, loss=args.loss_col, lr=args.lr_col, schedule=args.schedule,
                        warmup_steps=args.warmup_steps)
    fit_options = dict(loss=args.loss, delta=args.delta, max_evals=_max_evals(args))
    try:
        from lawfit.dask import fit_runs

        client = cluster = None
        if args.scheduler or args.workers:
            from distributed import Client, LocalCluster

            if args.scheduler:
                client = Client(args.scheduler)
            else:
                # One thread per worker; lawfit's own pool splits the cores among the workers.
                per_worker = max(1, (os.cpu_count() or 1) // args.workers)
                cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                       dashboard_address=":0", silence_logs=logging.ERROR,
                                       env={"RAYON_NUM_THREADS": str(per_worker)})
                client = Client(cluster)
        try:
            table = fit_runs(runs, law, client=client, read_options=read_options, **fit_options)
        finally:
            if client is not None:
                client.close()
            if cluster is not None:
                cluster.close()
    except ImportError as exc:
        print(f"lawfit: error: {exc}", file=sys.stderr)
        return 2
    table.to_csv(args.output, index=False)
    failed = table.loc[~table["success"].astype(bool)]
    for _, row in failed.iterrows():
        why = row["error"] or row["message"]
        print(f"lawfit: {row['name']}: {why}", file=sys.stderr)
    print(f"fitted {len(table) - len(failed)}/{len(table)} runs; wrote {args.output}")
    return 0 if failed.empty else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``lawfit`` command."""
    p = argparse.ArgumentParser(prog="lawfit", description="Fit and forecast neural scaling laws.")
    sub = p.add_subparsers(dest="command", required=True)
    a = _command(
        sub, "areas", _cmd_areas,
        help="print the LR areas S1, S2 of a schedule",
        epilog='example: lawfit areas "cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5"',
    )
    a.add_argument("schedule", help="schedule spec string")
    a.add_argument("--decay", type=float, default=0.999, help="momentum decay λ (default 0.999)")
    a.add_argument(
        "--warmup",
        default="actual",
        choices=["actual", "as_peak", "exclude"],
        help="how warmup steps enter the areas (default 'actual', as every law)",
    )
    a.add_argument("--points", type=int, default=11, help="rows to print")

    from lawfit.schedules import _spec_help

    sc = _command(
        sub, "schedule", _cmd_schedule,
        help="print or save the per-step LR of a schedule spec",
        description="Print a summary and sampled rows of a schedule, or save every step's LR.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(
            "examples:\n"
            '  lawfit schedule "cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5"\n'
            '  lawfit schedule "wsd:total=24000,peak=3e-4,warmup=2160,decay=0.2,shape=1-sqrt" '
            "--out wsd.csv\n"
            '  lawfit schedule "multistep:total=33907,peak=1e-3,milestones=[0.8,0.9],gamma=0.316" --json\n'
            "\nfamilies and keys (every family also takes warmup=W and warmup_init=LR):\n"
            + _spec_help()
            + "\n\n--out FILE.csv writes columns step,lr with 1-based steps (lr exact, shortest repr);\n"
            "--out FILE.npy writes the float64 array (lr[i] is the LR of step i+1)."
        ),
    )
    sc.add_argument("schedule", metavar="SPEC", help="schedule spec string, e.g. cosine:total=1000,peak=1e-3")
    sc.add_argument("--out", metavar="FILE", help="also write every step's LR to FILE (.csv or .npy)")
    sc.add_argument("--points", type=int, default=11, help="sampled rows to print (default 11, 0 for none)")

    d = _command(
        sub, "demo", _cmd_demo,
        help="fit the loss-curve laws on bundled real curves and forecast held-out schedules",
        epilog="example: lawfit demo --plot demo.png",
    )
    d.add_argument("--laws", default=None, help="comma-separated laws (default: all loss-curve laws)")
    d.add_argument("--plot", default="lawfit-demo.png", help="PNG path of the figure")
    d.add_argument("--no-plot", action="store_true", help="skip the figure")

    f = _command(
        sub, "fit", _cmd_fit,
        help="fit a law to one or more training logs",
        epilog="examples:\n  lawfit fit run.csv --law momentum -o fit.json\n"
        "  lawfit fit a.csv b.csv --schedule 'cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument(
        "logs",
        nargs="+",
        help="log files: CSV/TSV/JSON(L) (also .gz/.bz2/.xz), W&B exports, Parquet, HF trainer_state.json "
        "(or its checkpoint folder), TensorBoard event files or run directories",
    )
    f.add_argument("--law", default="momentum", help=("momentum (default), multipower, fsl, convex-bound,"
                   " or auto (choose by validation)"))
    _add_log_args(f, schedule=True)
    _add_run_args(f)
    _add_objective_args(f)
    f.add_argument(
        "--prior", action="append", default=None, metavar="NAME=MEAN,SD|FIT.json",
        help="Gaussian prior on a parameter (repeatable), or an earlier fit's values and errors",
    )
    f.add_argument("-o", "--output", default=None, help="write the fit as JSON")
    f.add_argument("--plot", default=None, help="write a PNG of data and fit")

    pr = _command(
        sub, "predict", _cmd_predict,
        help="predict the loss curve of a schedule from a saved fit",
        epilog="example: lawfit predict fit.json --schedule 'wsd:total=72000,peak=3e-4,decay=0.2'",
    )
    pr.add_argument("fit", help="fit JSON written by `lawfit fit -o`")
    pr.add_argument("--schedule", required=True, help="schedule spec")
    pr.add_argument("--every", type=int, default=None, help="predict every K steps (default: every step)")
    pr.add_argument("-o", "--output", default=None, help="write step,lr,loss CSV")

    v = _command(
        sub, "validate", _cmd_validate,
        help="fit laws on train logs and report accuracy on test logs",
        epilog="example: lawfit validate --train a.csv b.csv --test c.csv --laws momentum,multipower",
    )
    v.add_argument("--train", nargs="+", required=True)
    v.add_argument("--test", nargs="+", required=True)
    v.add_argument("--laws", default="momentum")
    v.add_argument("--train-run", action="append", default=None, metavar="NAME",
                   help="runs of the --train logs (for logs holding several runs)")
    v.add_argument("--test-run", action="append", default=None, metavar="NAME",
                   help="runs of the --test logs (for logs holding several runs)")
    v.add_argument(
        "--fit-from",
        default="warmup",
        metavar="STEP|warmup",
        help="first step to fit on and score: 'warmup' (default: after the LR warmup) or a step",
    )
    _add_log_args(v)

    fc = _command(
        sub, "forecast", _cmd_forecast,
        help="fit the part of a run seen so far and predict the rest of its schedule",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
        "  lawfit forecast run.csv --until 0.3 "
        "--schedule 'cosine:total=72000,peak=3e-4,warmup=2160,final=3e-5' "
        "--schedule 'wsd:total=72000,peak=3e-4,warmup=2160,decay=0.2'\n"
        "  lawfit forecast main.log.train.csv --loss-col train_loss --until 0.5 "
        "--schedule 'cosine:total=19560,peak=6e-4,warmup=700,final=0'\n\n"
        "The fit skips the LR warmup (--fit-from warmup). When the log holds losses after --until,\n"
        "the output adds a held-out check: the mean relative error of the prediction over the final\n"
        "10% of the schedule against a 201-step centred moving average of the logged loss.",
    )
    fc.add_argument("log")
    fc.add_argument(
        "--schedule",
        action="append",
        default=[],
        help="the run's planned schedule (first; default: the log's LR column) and alternatives "
        "(more --schedule)",
    )
    fc.add_argument(
        "--until", default=None, help="last step (int) or fraction (0-1) of the schedule to fit on"
    )
    fc.add_argument(
        "--prior",
        default=None,
        help="an earlier fit.json for parameters the data cannot identify before the decay "
        "(default: lawfit's prior, docs/forecasting.md; 'none' for no prior)",
    )
    fc.add_argument(
        "--fit-from",
        default="warmup",
        help="first step to fit on: 'warmup' (default: the first step after the LR warmup) or a step",
    )
    _add_objective_args(fc, robust=False)
    fc.add_argument("--law", default="momentum")
    _add_run_args(fc, fit_from=False)
    _add_log_args(fc)

    cp = _command(
        sub, "compare", _cmd_compare,
        help="rank schedules by predicted final loss",
        epilog="example: lawfit compare fit.json --schedule 'cosine:total=24000,peak=3e-4' "
        "--schedule 'wsd:total=24000,peak=3e-4,decay=0.2'",
    )
    cp.add_argument("fit")
    cp.add_argument("--schedule", action="append", required=True)
    cp.add_argument("--at", type=int, nargs="*", default=None, help="also report the loss at these steps")

    op = _command(
        sub, "optimize", _cmd_optimize,
        help="the schedule minimising predicted final loss within a family",
        epilog="example: lawfit optimize fit.json --total 24000 --peak 3e-4 --warmup 2160 --family wsd",
    )
    op.add_argument("fit")
    op.add_argument("--total", type=int, required=True)
    op.add_argument("--peak", type=float, required=True)
    op.add_argument("--warmup", type=int, default=0)
    op.add_argument("--final", type=float, default=0.0, help="lowest LR allowed (default 0)")
    op.add_argument("--family", default="wsd", choices=["wsd", "cosine", "free"])
    op.add_argument(
        "--iterations", type=int, default=300, help="projected-gradient iterations of --family free"
    )
    op.add_argument("--out", default=None, help="save the best per-step LR as .npy")

    sw = _command(
        sub, "sweep", _cmd_sweep,
        help="fit every log of a sweep (optionally on a Dask cluster): one CSV row per log",
        epilog="example: lawfit sweep runs/*.csv --law momentum -o results.csv --workers 4",
    )
    sw.add_argument("logs", nargs="+", metavar="LOG", help="log files (CSV/TSV/JSONL/Parquet/TensorBoard)")
    sw.add_argument("--law", default="momentum", help="momentum (default) or multipower")
    sw.add_argument("-o", "--output", required=True, help="CSV of results, one row per log")
    sw.add_argument("--scheduler", metavar="ADDRESS", default=None,
                    help="address of a running Dask scheduler, e.g. tcp://10.0.0.1:8786 (logs must be "
                         "readable at the same paths on the workers)")
    sw.add_argument("--workers", type=int, default=None, metavar="N",
                    help="start a local Dask cluster of N worker processes (default: fit serially)")
    _add_log_args(sw, schedule=True)
    _add_objective_args(sw)
    for name, cmd in sub.choices.items():  # every command but sweep (a CSV) can print JSON
        if name != "sweep":
            cmd.add_argument("--json", action="store_true", help="machine-readable output")
    return p


def _command(sub: Any, name: str, func: Callable[[argparse.Namespace], int], **kwargs: Any
             ) -> argparse.ArgumentParser:
    """The subcommand ``name`` of ``sub`` (``add_parser`` keywords), run by ``func(args)``."""
    cmd: argparse.ArgumentParser = sub.add_parser(name, **kwargs)
    cmd.set_defaults(func=func)
    return cmd



def prior_from_cli(values: Sequence[str] | None) -> Any:
    """The ``--prior`` arguments of the CLI: ``NAME=MEAN,SD`` (repeatable) or one saved fit.

    Returns a mapping {name: (mean, sd)}, a :class:`~lawfit.FitResult`, or None.
    """
    if not values:
        return None
    pairs = [v for v in values if "=" in v]
    files = [v for v in values if "=" not in v]
    if files and (pairs or len(files) > 1):
        raise LawfitInputError("--prior takes either one fit JSON file or NAME=MEAN,SD entries, not both")
    if files:
        from lawfit.fitting import load_fit

        return load_fit(files[0])
    out: dict[str, tuple[float, float]] = {}
    for v in pairs:
        name, _, rest = v.partition("=")
        parts = rest.split(",")
        try:
            mean, sd = (float(x) for x in parts)
        except ValueError:
            raise LawfitInputError(f"--prior {v!r}: expected NAME=MEAN,SD, e.g. --prior C=0.4,0.1") from None
        if name.strip() in out:
            raise LawfitInputError(f"--prior names {name.strip()!r} twice")
        out[name.strip()] = (mean, sd)
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lawfit`` console script."""
    import lawfit as lf

    args = build_parser().parse_args(argv)
    with warnings.catch_warnings(), np.errstate(over="ignore", under="ignore"):
        # One "lawfit: warning: ..." line per warning, in CLI words (no source lines).
        warnings.showwarning = _show_warning
        try:
            return int(args.func(args))
        except (lf.LawfitInputError, lf.LawfitTypeError, OSError) as exc:
            print(f"lawfit: error: {_cli_message(str(exc))}", file=sys.stderr)
            return 2
        except MemoryError as exc:
            print(f"lawfit: error: out of memory ({exc or 'the input is too large'})", file=sys.stderr)
            return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
