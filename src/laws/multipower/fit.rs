//! The multi-start fit driver of the multi-power law.

use super::reparam::{Reparam, ScalePair};
use super::{MultiPowerCurve, MultiPowerModel, MultiPowerOptions};
use crate::error::Result;
use crate::lm::LmOptions;
use crate::problem::Observations;
use crate::strategy::{self, Fitted, Stop};

/// Fit the multi-power law jointly over curves from every start (in parallel); the lowest objective
/// wins. Returns the solve and the linear-space residual sums at the optimum.
///
/// When C and γ (A and α) are both free, without a prior, and C's (A's) bounds are [0, ∞) or (−∞, ∞)
/// (so that they stay a box), the solver works in the coordinates of [`Reparam`]; the report is mapped back (parameters, gradient and
/// Gauss–Newton matrix of the law's own parameters; the objective is the same function).
pub fn fit(
    curves: &[MultiPowerCurve<'_>],
    options: MultiPowerOptions,
    observed: Observations<'_>,
    starts: &[Vec<f64>],
    opts: &LmOptions,
    stop: Stop<'_>,
) -> Result<Fitted> {
    let model = MultiPowerModel::new(curves, options)?;
    // A scale reparametrised with its exponent must be free, bounded by [0, ∞) or (−∞, ∞) (so the
    // bounds stay a box) and without a prior (a prior is Gaussian in the law's coordinates).
    let pair_ok = |scale: usize, exponent: usize| {
        let lower_ok = opts.lower[scale] == 0.0 || opts.lower[scale] == f64::NEG_INFINITY;
        let prior_ok = opts.prior.as_ref().is_none_or(|p| !p.constrains(scale) && !p.constrains(exponent));
        !opts.fixed[scale]
            && !opts.fixed[exponent]
            && lower_ok
            && opts.upper[scale] == f64::INFINITY
            && prior_ok
    };
    let mut pairs = Vec::new();
    if let Some(eta) = model.reference_lr().filter(|_| pair_ok(4, 6)) {
        pairs.push(ScalePair { scale: 4, exponent: 6, ln_ref: eta.ln() });
    }
    if !model.ln_s1.is_empty() && pair_ok(1, 2) {
        let ln_sref = model.ln_s1.iter().sum::<f64>() / model.ln_s1.len() as f64;
        if ln_sref.is_finite() {
            pairs.push(ScalePair { scale: 1, exponent: 2, ln_ref: ln_sref });
        }
    }
    if pairs.is_empty() {
        return strategy::fit_model(model, observed, starts, opts, stop);
    }
    let rp = Reparam::with_pairs(&model, pairs);
    // C ∈ [0, ∞) ⇔ C̃ ∈ [0, ∞), A ∈ [0, ∞) ⇔ Ã ∈ [0, ∞) (and (−∞, ∞) alike): the bounds carry over.
    let q_starts: Vec<Vec<f64>> = starts.iter().map(|s| rp.from_law(s)).collect();
    // The statistics are those of the law: the predictions at q are the law's at p = to_law(q).
    let (mut rep, stats) = strategy::fit_model(rp.clone(), observed, &q_starts, opts, stop)?;
    let q = rep.best.params.clone();
    rp.gradient_to_law(&q, &mut rep.best.gradient);
    rp.hessian_to_law(&q, &mut rep.best.hessian);
    rep.best.params = rp.to_law(&q);
    Ok((rep, stats))
}
