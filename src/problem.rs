//! What the solver optimises.
//!
//! A [`Model`] predicts a value and its parameter gradient at each data point; [`DataProblem`]
//! turns a model plus observed targets into residuals in log or linear space, which is the
//! [`Problem`] the Levenberg–Marquardt solver ([`crate::lm`]) consumes chunk by chunk.

use crate::error::{Error, Result};

/// A least-squares problem evaluated in chunks of residuals.
pub trait Problem: Sync {
    /// Work shared by every chunk of one evaluation (e.g. an O(T) scan along the schedule).
    type Prepared: Sync + Send;

    /// Number of parameters p.
    fn n_params(&self) -> usize;
    /// Number of residuals n.
    fn n_residuals(&self) -> usize;
    /// Per-evaluation set-up for parameters `params`; called once before the chunks.
    fn prepare(&self, params: &[f64]) -> Self::Prepared;
    /// Fill residuals `start .. start + residuals.len()` and, when asked, their Jacobian rows
    /// (row-major, `residuals.len() × n_params`).
    fn eval_chunk(
        &self,
        params: &[f64],
        prepared: &Self::Prepared,
        start: usize,
        residuals: &mut [f64],
        jacobian: Option<&mut [f64]>,
    );
    /// Non-negative weight of residual `i` (default 1).
    fn weight(&self, _i: usize) -> f64 {
        1.0
    }
}

/// A law evaluated at data points: predicted values and ∂value/∂params.
pub trait Model: Sync {
    /// Work shared by every chunk of one evaluation.
    type Prepared: Sync + Send;

    /// Number of parameters p.
    fn n_params(&self) -> usize;
    /// Number of data points n.
    fn n_points(&self) -> usize;
    /// Per-evaluation set-up for parameters `params`.
    fn prepare(&self, params: &[f64]) -> Self::Prepared;
    /// The set-up of an evaluation of values only (`eval_chunk` without gradients); a law whose
    /// set-up also computes derivatives overrides it with a cheaper one.
    fn prepare_values(&self, params: &[f64]) -> Self::Prepared {
        self.prepare(params)
    }
    /// Fill predictions of points `start .. start + values.len()` and, when asked, their
    /// gradients (row-major, `values.len() × n_params`).
    fn eval_chunk(
        &self,
        params: &[f64],
        prepared: &Self::Prepared,
        start: usize,
        values: &mut [f64],
        gradients: Option<&mut [f64]>,
    );
}

/// Whether residuals compare logs (`log ŷ − log y`, the loss-law default) or values (`ŷ − y`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Space {
    /// r = log ŷ − log y; needs y > 0; a non-positive prediction gives an infinite residual.
    Log,
    /// r = ŷ − y.
    Linear,
}

/// What a fit observes: the targets (one per data point), optional non-negative weights, and the
/// space residuals are taken in. The laws' `fit` functions take it as one argument.
#[derive(Debug, Clone, Copy)]
pub struct Observations<'a> {
    /// Observed values, length n.
    pub targets: &'a [f64],
    /// Per-point weights, length n (None: all 1).
    pub weights: Option<&'a [f64]>,
    /// Log or linear residuals.
    pub space: Space,
}

/// Check optional per-point `weights`: `n` of them, each finite and non-negative.
pub fn validate_weights(weights: Option<&[f64]>, n: usize) -> Result<()> {
    let Some(w) = weights else { return Ok(()) };
    if w.len() != n {
        return Err(Error::LengthMismatch {
            name: "weights",
            got: w.len(),
            expected: n,
            why: "one weight per data point",
        });
    }
    if let Some((i, &v)) = w.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v >= 0.0)) {
        return Err(Error::InvalidValue {
            name: "weights",
            index: i,
            value: v,
            reason: "weights must be finite and non-negative",
        });
    }
    Ok(())
}

/// Observed targets (and optional weights) for a [`Model`]: the [`Problem`] the solver sees.
pub struct DataProblem<'a, M: Model> {
    /// The law at the data points.
    pub model: M,
    targets: &'a [f64],
    weights: Option<&'a [f64]>,
    space: Space,
}

impl<'a, M: Model> DataProblem<'a, M> {
    /// Wrap `model` with observed `targets` (length n) and optional non-negative `weights`.
    pub fn new(model: M, targets: &'a [f64], weights: Option<&'a [f64]>, space: Space) -> Result<Self> {
        let n = model.n_points();
        if targets.len() != n {
            return Err(Error::LengthMismatch {
                name: "loss",
                got: targets.len(),
                expected: n,
                why: "one target per data point",
            });
        }
        for (i, &y) in targets.iter().enumerate() {
            if !y.is_finite() {
                return Err(Error::InvalidValue {
                    name: "loss",
                    index: i,
                    value: y,
                    reason: "targets must be finite; pass nan_policy=\"omit\" to drop them",
                });
            }
            if space == Space::Log && y <= 0.0 {
                return Err(Error::InvalidValue {
                    name: "loss",
                    index: i,
                    value: y,
                    reason: "log-space residuals need positive targets; use space=\"linear\"",
                });
            }
        }
        validate_weights(weights, n)?;
        Ok(Self { model, targets, weights, space })
    }

    /// Observed targets.
    pub fn targets(&self) -> &[f64] {
        self.targets
    }

    /// Residual space.
    pub fn space(&self) -> Space {
        self.space
    }
}

/// Sums over the points of the linear-space residual e = ŷ − y, for R², RMSE, MAE and AIC.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LinearStats {
    /// Σ e².
    pub sum_sq: f64,
    /// Σ |e|.
    pub sum_abs: f64,
    /// Σ (y − ȳ)².
    pub total_sq: f64,
    /// Number of points.
    pub n: usize,
}

impl<M: Model> DataProblem<'_, M> {
    /// [`LinearStats`] at `params`: one chunked pass (parallel, combined in chunk order).
    pub fn linear_stats(&self, params: &[f64]) -> LinearStats {
        let prepared = self.model.prepare_values(params);
        linear_stats_of(self.targets, |start, pred| {
            self.model.eval_chunk(params, &prepared, start, pred, None)
        })
    }
}

/// Fill `values` and, when `gradients` is given, its row-major gradient rows (`P` per point) for a
/// law evaluated point by point: `point(i, row)` returns the value at point `i` of the chunk and,
/// when `row` is given, writes that point's gradient into it (a law's `eval_chunk` body).
#[inline]
pub fn fill_points<const P: usize>(
    values: &mut [f64],
    gradients: Option<&mut [f64]>,
    point: impl Fn(usize, Option<&mut [f64; P]>) -> f64,
) {
    match gradients {
        None => {
            for (i, v) in values.iter_mut().enumerate() {
                *v = point(i, None);
            }
        }
        Some(grad) => {
            for (i, (v, row)) in values.iter_mut().zip(grad.chunks_exact_mut(P)).enumerate() {
                *v = point(i, Some(row.try_into().expect("P gradients per point")));
            }
        }
    }
}

/// [`LinearStats`] of the predictions `predict(start, out)` writes for points `start ..` against
/// `targets`: one chunked pass, parallel, combined in chunk order (independent of the threads).
pub fn linear_stats_of(targets: &[f64], predict: impl Fn(usize, &mut [f64]) + Sync) -> LinearStats {
    use rayon::prelude::*;
    const CHUNK: usize = 1 << 14;
    let n = targets.len();
    let mean = targets.iter().sum::<f64>() / n.max(1) as f64;
    let parts: Vec<LinearStats> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let start = c * CHUNK;
            let len = CHUNK.min(n - start);
            let mut pred = vec![0.0; len];
            predict(start, &mut pred);
            let mut part = LinearStats { n: len, ..Default::default() };
            for (p, y) in pred.iter().zip(&targets[start..start + len]) {
                let e = p - y;
                part.sum_sq += e * e;
                part.sum_abs += e.abs();
                part.total_sq += (y - mean) * (y - mean);
            }
            part
        })
        .collect();
    parts.iter().fold(LinearStats::default(), |a, b| LinearStats {
        sum_sq: a.sum_sq + b.sum_sq,
        sum_abs: a.sum_abs + b.sum_abs,
        total_sq: a.total_sq + b.total_sq,
        n: a.n + b.n,
    })
}

impl<M: Model> Problem for DataProblem<'_, M> {
    type Prepared = M::Prepared;

    fn n_params(&self) -> usize {
        self.model.n_params()
    }

    fn n_residuals(&self) -> usize {
        self.model.n_points()
    }

    fn prepare(&self, params: &[f64]) -> M::Prepared {
        self.model.prepare(params)
    }

    fn eval_chunk(
        &self,
        params: &[f64],
        prepared: &M::Prepared,
        start: usize,
        residuals: &mut [f64],
        jacobian: Option<&mut [f64]>,
    ) {
        let p = self.model.n_params();
        let len = residuals.len();
        let mut jacobian = jacobian.map(|j| &mut j[..len * p]);
        self.model.eval_chunk(params, prepared, start, residuals, jacobian.as_deref_mut());
        let targets = &self.targets[start..start + len];
        match self.space {
            Space::Linear => {
                for (r, y) in residuals.iter_mut().zip(targets) {
                    *r -= y;
                }
            }
            Space::Log => {
                // r = ln(ŷ / y): one logarithm per point (vectorised over a block), no stored ln y,
                // and more accurate than ln ŷ − ln y, which cancels.
                const SUB: usize = 256;
                let mut preds = [0.0; SUB];
                for (b, (res, ys)) in residuals.chunks_mut(SUB).zip(targets.chunks(SUB)).enumerate() {
                    let m = res.len();
                    preds[..m].copy_from_slice(res);
                    for (i, (r, &y)) in res.iter_mut().zip(ys).enumerate() {
                        let pred = *r;
                        if let Some(jac) = jacobian.as_deref_mut() {
                            let inv = if pred > 0.0 { 1.0 / pred } else { 0.0 };
                            let row = b * SUB + i;
                            for g in &mut jac[row * p..(row + 1) * p] {
                                *g *= inv;
                            }
                        }
                        // A non-positive prediction has no log: an infinite residual makes the
                        // solver reject the step rather than produce NaN.
                        *r = if pred > 0.0 { pred / y } else { f64::INFINITY };
                    }
                    crate::fastmath::ln_in_place(res);
                    // A ratio that over- or underflowed (absurd magnitudes): the difference of logs.
                    for ((r, &y), &pred) in res.iter_mut().zip(ys).zip(&preds[..m]) {
                        if r.is_infinite() && pred > 0.0 {
                            *r = pred.ln() - y.ln();
                        }
                    }
                }
            }
        }
    }

    fn weight(&self, i: usize) -> f64 {
        self.weights.map_or(1.0, |w| w[i])
    }
}
