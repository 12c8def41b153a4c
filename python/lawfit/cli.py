"""The ``lawfit`` command."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


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
    known.update({k: v for k, v in LAWS.items() if k != "momentum_n"})
    known["auto"] = AutoLaw
    out = []
    for name in names.split(","):
        if name not in known:
            raise lf.LawfitInputError(f"unknown law {name!r}; choose from {sorted(known)}")
        out.append(known[name]())
    return out


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

    train = [lf.read_log(p) for p in args.train]
    test = [lf.read_log(p) for p in args.test]
    val = lf.validate(_laws_from_names(args.laws), train, test)
    if args.json:
        json.dump(val.to_dict(), sys.stdout, indent=1)
        print()
    else:
        print(val.table())
    return 0


def _read_logs(args: argparse.Namespace) -> list:
    import lawfit as lf

    return [
        lf.read_log(
            path,
            steps=args.steps_col,
            loss=args.loss_col,
            lr=args.lr_col,
            schedule=args.schedule,
            warmup_steps=args.warmup_steps,
        )
        for path in args.logs
    ]


def _cmd_fit(args: argparse.Namespace) -> int:
    import warnings

    import lawfit as lf

    curves = _read_logs(args)
    (law,) = _laws_from_names(args.law)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", lf.ConvergenceWarning)
        result = lf.fit(law, curves, loss=args.loss, delta=args.delta, max_evals=_max_evals(args))
    for w in caught:
        print(f"lawfit: warning: {w.message}", file=sys.stderr)
    if args.output:
        result.save(args.output)
    if args.plot:
        from lawfit.plot import forecast_figure

        forecast_figure({law.name: result}, curves, [], args.plot)
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
                fh.write(f"{int(s_)},{sched.lr[s_ - 1]!r},{float(p_)!r}\n")
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
    if text is None:
        return None
    value = float(text)
    return value if 0 < value < 1 else int(value)


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

    if not args.schedule:
        raise lf.LawfitInputError("forecast needs --schedule: the run's whole planned schedule")
    planned = lf.schedules.parse(args.schedule[0])
    curve = lf.read_log(args.log, steps=args.steps_col, loss=args.loss_col, lr=args.lr_col, schedule=planned)
    prior = lf.load_fit(args.prior) if args.prior else None
    (law,) = _laws_from_names(args.law)
    alternatives = [lf.schedules.parse(s) for s in args.schedule[1:]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fc = forecast(
            curve,
            until=_until(args.until),
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
    rows = compare(result, [lf.schedules.parse(s) for s in args.schedule], steps=args.at)
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        print()
    else:
        for rank, r in enumerate(rows, 1):
            print(f"{rank}. {r['final_loss']:.5f}  {r['schedule']}")
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``lawfit`` command."""
    p = argparse.ArgumentParser(prog="lawfit", description="Fit and forecast neural scaling laws.")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser(
        "areas",
        help="print the LR areas S1, S2 of a schedule",
        epilog='example: lawfit areas "cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5"',
    )
    a.add_argument("schedule", help="schedule spec string")
    a.add_argument("--decay", type=float, default=0.999, help="momentum decay λ (default 0.999)")
    a.add_argument("--warmup", default="as_peak", choices=["as_peak", "actual", "exclude"])
    a.add_argument("--points", type=int, default=11, help="rows to print")
    a.add_argument("--json", action="store_true", help="machine-readable output")
    a.set_defaults(func=_cmd_areas)

    from lawfit.schedules import _spec_help

    sc = sub.add_parser(
        "schedule",
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
    sc.add_argument("--json", action="store_true", help="machine-readable output")
    sc.set_defaults(func=_cmd_schedule)

    d = sub.add_parser(
        "demo",
        help="fit the loss-curve laws on bundled real curves and forecast held-out schedules",
        epilog="example: lawfit demo --plot demo.png",
    )
    d.add_argument("--laws", default=None, help="comma-separated laws (default: all loss-curve laws)")
    d.add_argument("--plot", default="lawfit-demo.png", help="PNG path of the figure")
    d.add_argument("--no-plot", action="store_true", help="skip the figure")
    d.add_argument("--json", action="store_true", help="machine-readable output")
    d.set_defaults(func=_cmd_demo)

    f = sub.add_parser(
        "fit",
        help="fit a law to one or more training logs",
        epilog="examples:\n  lawfit fit run.csv --law momentum -o fit.json\n"
        "  lawfit fit a.csv b.csv --schedule 'cosine:total=24000,peak=3e-4,warmup=2160,final=3e-5'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    f.add_argument("logs", nargs="+", help="log files (CSV/TSV/JSONL/Parquet/TensorBoard)")
    f.add_argument("--law", default="momentum", help=("momentum (default), multipower, fsl"
                   " , convex-bound, or auto (choose by validation)"))
    f.add_argument("--steps-col", default="step")
    f.add_argument("--loss-col", default="loss")
    f.add_argument("--lr-col", default="lr")
    f.add_argument("--schedule", default=None, help="schedule spec, when logs have no per-step LR")
    f.add_argument("--warmup-steps", type=int, default=None)
    f.add_argument("--loss", default="huber", choices=["huber", "linear", "soft_l1", "cauchy"])
    f.add_argument("--delta", type=float, default=1e-3)
    f.add_argument(
        "--max-evals", type=int, default=2000, help="evaluation budget of each start (default 2000)"
    )
    f.add_argument("-o", "--output", default=None, help="write the fit as JSON")
    f.add_argument("--plot", default=None, help="write a PNG of data and fit")
    f.add_argument("--json", action="store_true", help="machine-readable output")
    f.set_defaults(func=_cmd_fit)

    pr = sub.add_parser(
        "predict",
        help="predict the loss curve of a schedule from a saved fit",
        epilog="example: lawfit predict fit.json --schedule 'wsd:total=72000,peak=3e-4,decay=0.2'",
    )
    pr.add_argument("fit", help="fit JSON written by `lawfit fit -o`")
    pr.add_argument("--schedule", required=True, help="schedule spec")
    pr.add_argument("--every", type=int, default=None, help="predict every K steps (default: every step)")
    pr.add_argument("-o", "--output", default=None, help="write step,lr,loss CSV")
    pr.add_argument("--json", action="store_true", help="machine-readable output")
    pr.set_defaults(func=_cmd_predict)

    v = sub.add_parser(
        "validate",
        help="fit laws on train logs and report accuracy on test logs",
        epilog="example: lawfit validate --train a.csv b.csv --test c.csv --laws momentum,multipower",
    )
    v.add_argument("--train", nargs="+", required=True)
    v.add_argument("--test", nargs="+", required=True)
    v.add_argument("--laws", default="momentum")
    v.add_argument("--json", action="store_true", help="machine-readable output")
    v.set_defaults(func=_cmd_validate)

    fc = sub.add_parser(
        "forecast",
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
        help="the run's planned schedule (first) and alternatives (more --schedule)",
    )
    fc.add_argument(
        "--until", default=None, help="last step (int) or fraction (0-1) of the schedule to fit on"
    )
    fc.add_argument(
        "--prior", default=None, help="an earlier fit.json for parameters the data cannot identify"
    )
    fc.add_argument(
        "--fit-from",
        default="warmup",
        help="first step to fit on: 'warmup' (default: the first step after the LR warmup) or a step",
    )
    fc.add_argument(
        "--max-evals", type=int, default=2000, help="evaluation budget of each start (default 2000)"
    )
    fc.add_argument("--law", default="momentum")
    fc.add_argument("--steps-col", default="step")
    fc.add_argument("--loss-col", default="loss")
    fc.add_argument("--lr-col", default="lr")
    fc.add_argument("--json", action="store_true", help="machine-readable output")
    fc.set_defaults(func=_cmd_forecast)

    cp = sub.add_parser(
        "compare",
        help="rank schedules by predicted final loss",
        epilog="example: lawfit compare fit.json --schedule 'cosine:total=24000,peak=3e-4' "
        "--schedule 'wsd:total=24000,peak=3e-4,decay=0.2'",
    )
    cp.add_argument("fit")
    cp.add_argument("--schedule", action="append", required=True)
    cp.add_argument("--at", type=int, nargs="*", default=None, help="also report the loss at these steps")
    cp.add_argument("--json", action="store_true", help="machine-readable output")
    cp.set_defaults(func=_cmd_compare)

    op = sub.add_parser(
        "optimize",
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
    op.add_argument("--json", action="store_true", help="machine-readable output")
    op.set_defaults(func=_cmd_optimize)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lawfit`` console script."""
    import lawfit as lf

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (lf.LawfitInputError, lf.LawfitTypeError, OSError) as exc:
        print(f"lawfit: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
