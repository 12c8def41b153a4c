"""The ``lawfit`` command."""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def _cmd_areas(args: argparse.Namespace) -> int:
    import lawfit as lf

    sched = lf.schedules.parse(args.schedule)
    s1, s2 = lf.areas(sched, decay=args.decay, warmup_steps=sched.warmup_steps, warmup=args.warmup)
    idx = np.unique(np.linspace(0, len(sched) - 1, args.points).astype(int))
    rows = [
        {"step": int(i + 1), "lr": float(sched.lr[i]), "S1": float(s1[i]), "S2": float(s2[i])}
        for i in idx
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
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lawfit`` console script."""
    import lawfit as lf

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (lf.LawfitInputError, lf.LawfitTypeError, FileNotFoundError) as exc:
        print(f"lawfit: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
