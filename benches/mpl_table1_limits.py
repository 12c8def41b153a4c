"""Why a converged multi-power-law fit does not reach Luo et al.'s Table 1 (docs/multipower.md §4).

Run:  python benches/mpl_table1_limits.py

For each size (25M / 100M / 400M) of the Table-1 split (fit constant_24000 + cosine_24000 + wsdcon_9,
predict the other six), it prints

* lawfit's fit and the published parameters side by side: training objective (Huber δ = 1e-3 on
  log loss), the mean log residual over the second half of constant_24000 (how far above the train
  data the law runs at the end of the training horizon), the error of constant_72000's last logged
  point, and the mean test PredE;
* a profile in L0: L0 held fixed at values above lawfit's optimum, every other parameter refitted.

What it shows (numbers in docs/multipower.md §4): at every size the published parameters sit at a
higher L0 than lawfit's optimum, with 2–9× its training objective; the training data prefer a low L0
with a small β (a drop term that keeps growing, like β·ln(1 + x), and takes over part of the power
term's decrease), the 3× longer test runs a higher L0 with β near 1. Holding L0 above the optimum
moves lawfit's test error toward (400M: to) the published one's, at a training objective the train
data reject; no weak prior or bound found so far reaches all three sizes.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lawfit  # noqa: E402
import numpy as np  # noqa: E402
from real_logs import MP_TEST, MP_TRAIN, mp_curve  # noqa: E402

#: The repository's parameters (spec/laws.md §3), which reproduce its Table-1 re-run.
PUBLISHED = {
    25: dict(L0=3.04045406, A=0.52468604, alpha=0.50786857, B=363.78751622, C=2.06560812,
             beta=0.58279013, gamma=0.64142257),
    100: dict(L0=2.6514477, A=0.60115152, alpha=0.45295811, B=437.9464276, C=2.13245612,
              beta=0.59785199, gamma=0.65523644),
    400: dict(L0=2.37474466, A=0.65421216, alpha=0.42878731, B=523.42464371, C=2.02462735,
              beta=0.59350493, gamma=0.63472457),
}
L0_STEPS = (0.0, 0.02, 0.04, 0.06, 0.08)


def huber_cost(law: lawfit.MultiPowerLaw, params: dict[str, float], curves: list[lawfit.Curve]) -> float:
    r = np.concatenate([np.log(law.predict_curves(params, [c])) - np.log(c.loss) for c in curves])
    d = 1e-3
    return float(np.sum(np.where(np.abs(r) <= d, 0.5 * r**2, d * (np.abs(r) - 0.5 * d))))


def rel_err(law: lawfit.MultiPowerLaw, params: dict[str, float], c: lawfit.Curve) -> np.ndarray:
    return law.predict_curves(params, [c]) / c.loss - 1.0


def main() -> None:
    warnings.simplefilter("ignore", lawfit.ConvergenceWarning)
    law = lawfit.MultiPowerLaw()
    for size in (25, 100, 400):
        train = [mp_curve(size, n) for n in MP_TRAIN]
        test = [mp_curve(size, n) for n in MP_TEST]
        const24, const72 = train[0], test[0]
        fit = lawfit.fit(law, train)
        print(f"\n## {size}M\n")
        print(f"{'parameters':<12} {'L0':>7} {'train cost':>11} {'bias c24 2nd half':>18} "
              f"{'c72 last':>9} {'test PredE':>11}")
        for name, p in (("lawfit", fit.params), ("published", PUBLISHED[size])):
            half = const24.steps > const24.steps[-1] / 2
            bias = float(np.mean(np.log(law.predict_curves(p, [const24]))[half] - np.log(const24.loss[half])))
            pred_e = np.mean([np.mean(np.abs(rel_err(law, p, c))) for c in test])
            print(f"{name:<12} {p['L0']:>7.4f} {huber_cost(law, p, train):>11.4g} {bias:>+18.2e} "
                  f"{rel_err(law, p, const72)[-1]:>+9.2e} {pred_e:>11.5f}")
        print("\nL0 profile (L0 fixed, the rest refitted):\n")
        print(f"{'L0':>7} {'train cost':>11} {'test PredE':>11} {'beta':>6} {'gamma':>6}")
        for dl in L0_STEPS:
            f = fit if dl == 0 else lawfit.fit(law, train, fix={"L0": fit.params["L0"] + dl})
            pred_e = np.mean([np.mean(np.abs(rel_err(law, f.params, c))) for c in test])
            p = f.params
            cost = f.metrics["cost"]
            print(f"{p['L0']:>7.4f} {cost:>11.4g} {pred_e:>11.5f} {p['beta']:>6.3f} {p['gamma']:>6.3f}")


if __name__ == "__main__":
    main()
