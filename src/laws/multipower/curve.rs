//! The schedule data of one curve, independent of the parameters, and the choice between the
//! exact and the compressed path.

use super::nodes::Grid;
use super::scan::scan_compressed;
use super::{MultiPowerCurve, Params, S1Form};
use crate::areas::validate_lr;
use crate::error::{Error, Result};

/// Schedule data of one curve, independent of the parameters.
#[derive(Debug, Clone)]
pub(super) struct CurveData {
    /// LR up to the last logged index (later steps never matter).
    pub(super) lr: Vec<f64>,
    /// ln lr (−∞ where lr = 0).
    pub(super) ln_lr: Vec<f64>,
    /// prefix[s] = Σ_{τ≤s} lr[τ], compensated summation.
    pub(super) prefix: Vec<f64>,
    /// First index k of the LD sum.
    pub(super) start: usize,
    /// Logged indices.
    pub(super) points: Vec<usize>,
    /// Indices k ≥ start with lr[k] ≠ lr[k−1], up to the last point.
    pub(super) sources: Vec<usize>,
    /// lr[k] − lr[k−1] of every source.
    pub(super) src_drop: Vec<f64>,
    /// Smallest and largest ln lr over the sources with lr > 0 (None if there is none).
    pub(super) ln_range: Option<(f64, f64)>,
    /// Largest S_k(s) over k ≥ start and logged s.
    pub(super) s_max: f64,
}

/// Neumaier-compensated running sums.
fn compensated_prefix(lr: &[f64]) -> Vec<f64> {
    let (mut sum, mut comp) = (0.0_f64, 0.0_f64);
    lr.iter()
        .map(|&x| {
            let t = sum + x;
            if sum.abs() >= x.abs() {
                comp += (sum - t) + x;
            } else {
                comp += (x - t) + sum;
            }
            sum = t;
            sum + comp
        })
        .collect()
}

impl CurveData {
    pub(super) fn new(
        curve_index: usize,
        curve: &MultiPowerCurve<'_>,
        form: S1Form,
        ln_s1: &mut Vec<f64>,
    ) -> Result<Self> {
        let (lr, indices) = (curve.lr, curve.indices);
        validate_lr(lr).map_err(|e| match e {
            Error::InvalidValue { index, value, reason, .. } => {
                Error::InvalidArgument(format!("lrs[{curve_index}][{index}] is {value}; {reason}"))
            }
            other => other,
        })?;
        for (i, &s) in indices.iter().enumerate() {
            if s >= lr.len() {
                return Err(Error::InvalidArgument(format!(
                    "indices[{curve_index}][{i}] = {s} is out of range for lrs[{curve_index}] of length {}",
                    lr.len()
                )));
            }
            if i > 0 && s < indices[i - 1] {
                return Err(Error::InvalidArgument(format!(
                    "indices[{curve_index}] must be non-decreasing: [{}] = {} > [{i}] = {s}",
                    i - 1,
                    indices[i - 1]
                )));
            }
        }
        let len = indices.last().map_or(0, |&s| s + 1);
        let lr = lr[..len].to_vec();
        let prefix = compensated_prefix(&lr);
        // S1 and the first LD index.
        let (start, s1_offset, s1_base) = match form {
            S1Form::Repo => (1, 0.0, None),
            S1Form::Paper { warmup_steps } => {
                let w = match warmup_steps {
                    Some(w) => {
                        if w > curve.lr.len() {
                            return Err(Error::InvalidArgument(format!(
                                "warmup_steps ({w}) exceeds the length of lrs[{curve_index}] ({})",
                                curve.lr.len()
                            )));
                        }
                        w
                    }
                    None => infer_warmup(curve.lr),
                };
                let peak = curve.lr[..w].iter().copied().fold(0.0, f64::max);
                (w.max(1), 0.5 * peak * w as f64, Some(w))
            }
        };
        for (i, &s) in indices.iter().enumerate() {
            let s1 = match s1_base {
                None => prefix[s],
                Some(w) if s < w => s1_offset,
                Some(0) => prefix[s],
                Some(w) => s1_offset + (prefix[s] - prefix[w - 1]),
            };
            if s1.is_nan() || s1 <= 0.0 {
                return Err(Error::InvalidArgument(format!(
                    "indices[{curve_index}][{i}] = {s}: S1 is {s1} there (no LR area yet); the law needs S1 > 0"
                )));
            }
            ln_s1.push(s1.ln());
        }
        let ln_lr: Vec<f64> = lr.iter().map(|&x| x.ln()).collect();
        let sources: Vec<usize> = (start..len).filter(|&k| lr[k] != lr[k - 1]).collect();
        let src_drop = sources.iter().map(|&k| lr[k] - lr[k - 1]).collect();
        let ln_range = sources.iter().filter(|&&k| lr[k] > 0.0).fold(None, |acc: Option<(f64, f64)>, &k| {
            let l = ln_lr[k];
            Some(acc.map_or((l, l), |(lo, hi)| (lo.min(l), hi.max(l))))
        });
        let s_max = if len > start { prefix[len - 1] - prefix[start - 1] } else { 0.0 };
        Ok(Self { lr, ln_lr, prefix, start, points: indices.to_vec(), sources, src_drop, ln_range, s_max })
    }

    /// LD and its derivatives at this curve's points.
    pub(super) fn fill(&self, pr: &Params, exact: bool, gradients: bool, out: &mut [[f64; 4]]) {
        // Without a positive-LR change every term has G = 1: the literal sum is already cheap.
        let grid = match self.ln_range {
            Some(range) if !exact && pr.compressible() => Grid::new(pr, range, self.s_max),
            _ => None,
        };
        match grid {
            Some(g) if gradients => scan_compressed::<true>(self, pr, &g, out),
            Some(g) => scan_compressed::<false>(self, pr, &g, out),
            None => self.fill_exact(pr, gradients, out),
        }
    }
}

/// W for [`S1Form::Paper`] when not given: index of the first maximum plus one (0 if at index 0).
pub(super) fn infer_warmup(lr: &[f64]) -> usize {
    let peak = lr.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match lr.iter().position(|&x| x == peak) {
        Some(0) | None => 0,
        Some(i) => i + 1,
    }
}
