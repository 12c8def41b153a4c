//! Loss versus model size N and training tokens D (Hoffmann et al. 2022, "Training
//! Compute-Optimal Large Language Models", arXiv 2203.15556, Approach 3), in the log-sum-exp
//! parameterisation of Besiroglu et al. 2024 ("Chinchilla Scaling: A replication attempt",
//! arXiv 2404.10102):
//!
//! ```text
//! L(N, D) = E + A/N^α + B/D^β
//! log L̂  = LSE(a − α·log N, b − β·log D, e),   A = e^a, B = e^b, E = e^e
//! ```
//!
//! Parameters, in solver order: `e, a, b, alpha, beta` — the slots of the public `E, A, B,
//! alpha, beta`, with E, A and B replaced by their logarithms. The residual is formed directly
//! from the log-sum-exp (`log L̂ − log L` in log space, `L̂ − L` in linear space), so the problem
//! implements [`Problem`] itself, with an analytic Jacobian through the softmax weights of the
//! three terms.

use crate::error::{Error, Result};
use crate::lm::LmOptions;
use crate::problem::{validate_weights, Problem, Space};
use crate::strategy::{self, MultiStartReport, Screening};

/// Number of parameters of the law.
pub const N_PARAMS: usize = 5;

/// The data of a Chinchilla fit: log N, log D and the observed losses, shared by every
/// (re-weighted) problem built on it, e.g. the replicates of a bootstrap.
#[derive(Debug, Clone)]
pub struct ChinchillaData {
    ln_n: Vec<f64>,
    ln_d: Vec<f64>,
    loss: Vec<f64>,
    ln_loss: Vec<f64>,
}

impl ChinchillaData {
    /// Validate and store model sizes `n`, token counts `d` (both positive) and losses `loss`
    /// (positive; finite in any space).
    pub fn new(n: &[f64], d: &[f64], loss: &[f64]) -> Result<Self> {
        let m = n.len();
        for (name, len) in [("D", d.len()), ("loss", loss.len())] {
            if len != m {
                return Err(Error::LengthMismatch {
                    name,
                    got: len,
                    expected: m,
                    why: "one value per (N, D) point",
                });
            }
        }
        for (name, v) in [("N", n), ("D", d)] {
            if let Some((i, &x)) = v.iter().enumerate().find(|(_, x)| !(x.is_finite() && **x > 0.0)) {
                return Err(Error::InvalidValue {
                    name,
                    index: i,
                    value: x,
                    reason: "model and data sizes must be positive and finite",
                });
            }
        }
        if let Some((i, &x)) = loss.iter().enumerate().find(|(_, x)| !(x.is_finite() && **x > 0.0)) {
            return Err(Error::InvalidValue {
                name: "loss",
                index: i,
                value: x,
                reason: "losses must be positive and finite; pass nan_policy=\"omit\" to drop NaNs",
            });
        }
        Ok(Self {
            ln_n: n.iter().map(|x| x.ln()).collect(),
            ln_d: d.iter().map(|x| x.ln()).collect(),
            loss: loss.to_vec(),
            ln_loss: loss.iter().map(|x| x.ln()).collect(),
        })
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.ln_n.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.ln_n.is_empty()
    }
}

/// log L̂ at one point and the softmax weights (w_E, w_A, w_B) of the three terms.
///
/// The largest term is factored out (its exponential is 1), so nothing overflows and each point
/// costs two exponentials and one logarithm.
#[inline]
fn lse(q: &[f64], ln_n: f64, ln_d: f64) -> (f64, f64, f64, f64) {
    let t_a = q[1] - q[3] * ln_n;
    let t_b = q[2] - q[4] * ln_d;
    let t_e = q[0];
    if t_e >= t_a && t_e >= t_b {
        let (x_a, x_b) = ((t_a - t_e).exp(), (t_b - t_e).exp());
        let s = 1.0 + x_a + x_b;
        let inv = 1.0 / s;
        (t_e + s.ln(), inv, x_a * inv, x_b * inv)
    } else if t_a >= t_b {
        let (x_e, x_b) = ((t_e - t_a).exp(), (t_b - t_a).exp());
        let s = x_e + 1.0 + x_b;
        let inv = 1.0 / s;
        (t_a + s.ln(), x_e * inv, inv, x_b * inv)
    } else {
        let (x_e, x_a) = ((t_e - t_b).exp(), (t_a - t_b).exp());
        let s = x_e + x_a + 1.0;
        let inv = 1.0 / s;
        (t_b + s.ln(), x_e * inv, x_a * inv, inv)
    }
}

/// The weighted least-squares problem of a Chinchilla fit.
#[derive(Debug, Clone)]
pub struct ChinchillaProblem<'a> {
    data: &'a ChinchillaData,
    weights: Option<&'a [f64]>,
    space: Space,
}

impl<'a> ChinchillaProblem<'a> {
    /// Residuals of `data` in `space`, with optional non-negative per-point `weights`
    /// (e.g. bootstrap multiplicities).
    pub fn new(data: &'a ChinchillaData, weights: Option<&'a [f64]>, space: Space) -> Result<Self> {
        validate_weights(weights, data.len())?;
        Ok(Self { data, weights, space })
    }
}

impl Problem for ChinchillaProblem<'_> {
    type Prepared = ();

    fn n_params(&self) -> usize {
        N_PARAMS
    }

    fn n_residuals(&self) -> usize {
        self.data.len()
    }

    fn prepare(&self, _params: &[f64]) {}

    fn eval_chunk(
        &self,
        q: &[f64],
        _: &(),
        start: usize,
        residuals: &mut [f64],
        jacobian: Option<&mut [f64]>,
    ) {
        let len = residuals.len();
        let d = self.data;
        let mut jacobian = jacobian;
        for i in 0..len {
            let k = start + i;
            let (ln_n, ln_d) = (d.ln_n[k], d.ln_d[k]);
            let (log_pred, w_e, w_a, w_b) = lse(q, ln_n, ln_d);
            // In log space the Jacobian of log L̂ is the softmax weights; in linear space it is
            // scaled by L̂.
            let scale = match self.space {
                Space::Log => {
                    residuals[i] = log_pred - d.ln_loss[k];
                    1.0
                }
                Space::Linear => {
                    let pred = log_pred.exp();
                    residuals[i] = pred - d.loss[k];
                    pred
                }
            };
            if let Some(j) = jacobian.as_deref_mut() {
                let row = &mut j[i * N_PARAMS..(i + 1) * N_PARAMS];
                row[0] = scale * w_e;
                row[1] = scale * w_a;
                row[2] = scale * w_b;
                row[3] = -scale * w_a * ln_n;
                row[4] = -scale * w_b * ln_d;
            }
        }
    }

    fn weight(&self, i: usize) -> f64 {
        self.weights.map_or(1.0, |w| w[i])
    }
}

/// Epoch's default grid of 4,500 starts (Besiroglu et al. 2024), in solver order
/// (e, a, b, alpha, beta): α, β ∈ {0, 0.5, …, 2}, e ∈ {−1, −0.5, …, 1}, a, b ∈ {0, 5, …, 25}.
pub fn default_starts() -> Vec<Vec<f64>> {
    let mut starts = Vec::with_capacity(4500);
    for ia in 0..6 {
        for ib in 0..6 {
            for ie in 0..5 {
                for ial in 0..5 {
                    for ibe in 0..5 {
                        starts.push(vec![
                            -1.0 + 0.5 * ie as f64,
                            5.0 * ia as f64,
                            5.0 * ib as f64,
                            0.5 * ial as f64,
                            0.5 * ibe as f64,
                        ]);
                    }
                }
            }
        }
    }
    starts
}

/// Fit from every start in parallel; the lowest objective wins.
///
/// With `screen`, every start is first solved with loose tolerances and only the best few are
/// polished to `opts` ([`strategy::screen_and_polish`]); without it, every start is solved to
/// `opts`.
pub fn fit(
    data: &ChinchillaData,
    weights: Option<&[f64]>,
    space: Space,
    starts: &[Vec<f64>],
    opts: &LmOptions,
    screen: Option<Screening>,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<MultiStartReport> {
    let problem = ChinchillaProblem::new(data, weights, space)?;
    match screen {
        Some(s) => strategy::screen_and_polish(&problem, starts, opts, s, stop),
        None => strategy::multistart::<_, ChinchillaProblem<'_>>(&problem, None, starts, opts, 1, stop),
    }
}

/// Predicted loss L̂(N, D) for solver-order parameters (e, a, b, alpha, beta).
pub fn predict(n: &[f64], d: &[f64], params: &[f64]) -> Result<Vec<f64>> {
    if params.len() != N_PARAMS {
        return Err(Error::InvalidArgument(format!(
            "expected 5 parameters (e, a, b, alpha, beta), got {}",
            params.len()
        )));
    }
    if d.len() != n.len() {
        return Err(Error::LengthMismatch { name: "D", got: d.len(), expected: n.len(), why: "one D per N" });
    }
    Ok(n.iter().zip(d).map(|(&n, &d)| lse(params, n.ln(), d.ln()).0.exp()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::laws::testing::central_differences;

    fn synthetic() -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (e, a, b, alpha, beta) = (1.8_f64, 480.0_f64, 2100.0_f64, 0.34, 0.37);
        let mut n = Vec::new();
        let mut d = Vec::new();
        let mut l = Vec::new();
        for i in 0..12 {
            for j in 0..10 {
                let nn = 1e7 * 10f64.powf(i as f64 * 0.3);
                let dd = 1e9 * 10f64.powf(j as f64 * 0.25);
                let noise = 1.0 + 2e-3 * (((i * 31 + j * 17) % 13) as f64 / 6.0 - 1.0);
                n.push(nn);
                d.push(dd);
                l.push((e + a / nn.powf(alpha) + b / dd.powf(beta)) * noise);
            }
        }
        (n, d, l)
    }

    #[test]
    fn jacobian_matches_finite_differences() {
        let (n, d, l) = synthetic();
        let data = ChinchillaData::new(&n, &d, &l).unwrap();
        for space in [Space::Log, Space::Linear] {
            let prob = ChinchillaProblem::new(&data, None, space).unwrap();
            let q = [0.6, 6.1, 7.6, 0.33, 0.36];
            let m = data.len();
            let (mut r, mut j) = (vec![0.0; m], vec![0.0; m * 5]);
            prob.eval_chunk(&q, &(), 0, &mut r, Some(&mut j));
            let residuals = |x: &[f64]| {
                let mut r = vec![0.0; m];
                prob.eval_chunk(x, &(), 0, &mut r, None);
                r
            };
            let fds = central_differences(residuals, &q, |_| 1e-6);
            for p in 0..5 {
                for i in 0..m {
                    let fd = fds[i * 5 + p];
                    assert!((fd - j[i * 5 + p]).abs() <= 1e-6 * (1.0 + fd.abs()), "{space:?} p{p} i{i}");
                }
            }
        }
    }

    #[test]
    fn lse_matches_direct_sum_and_is_stable() {
        let q = [0.5_f64, 6.0, 7.5, 0.3, 0.35];
        let (n, d) = (1e9_f64, 2e10_f64);
        let direct = q[0].exp() + q[1].exp() / n.powf(q[3]) + q[2].exp() / d.powf(q[4]);
        let (log_pred, ..) = lse(&q, n.ln(), d.ln());
        assert!((log_pred.exp() - direct).abs() < 1e-12 * direct);
        // Terms far beyond exp's range stay finite.
        let (big, w_e, w_a, w_b) = lse(&[1.0, 900.0, 0.0, 0.0, 0.0], n.ln(), d.ln());
        assert!(big.is_finite() && (w_a - 1.0).abs() < 1e-15 && w_e >= 0.0 && w_b >= 0.0);
    }

    #[test]
    fn grid_has_epoch_shape() {
        let s = default_starts();
        assert_eq!(s.len(), 4500);
        let mut uniq = s.clone();
        uniq.sort_by(|a, b| a.partial_cmp(b).unwrap());
        uniq.dedup();
        assert_eq!(uniq.len(), 4500);
        assert!(s.iter().all(|x| x[1] <= 25.0 && x[2] >= 0.0 && x[3] <= 2.0 && x[0] >= -1.0));
    }

    #[test]
    fn recovers_synthetic_parameters() {
        let (n, d, l) = synthetic();
        let data = ChinchillaData::new(&n, &d, &l).unwrap();
        let mut opts = LmOptions::new(5);
        opts.loss = crate::robust::RobustLoss::Huber(1e-3);
        let starts: Vec<Vec<f64>> = default_starts().into_iter().step_by(37).collect();
        let rep =
            fit(&data, None, Space::Log, &starts, &opts, Some(Screening::default()), &|| false).unwrap();
        let q = &rep.best.params;
        assert!((q[0].exp() - 1.8).abs() < 0.05, "E = {}", q[0].exp());
        assert!((q[3] - 0.34).abs() < 0.03 && (q[4] - 0.37).abs() < 0.03, "{q:?}");
    }

    #[test]
    fn rejects_bad_input() {
        assert!(ChinchillaData::new(&[1.0, 2.0], &[1.0], &[1.0, 1.0]).is_err());
        assert!(ChinchillaData::new(&[1.0, -2.0], &[1.0, 1.0], &[1.0, 1.0]).is_err());
        assert!(ChinchillaData::new(&[1.0, 2.0], &[1.0, 1.0], &[1.0, f64::NAN]).is_err());
        let data = ChinchillaData::new(&[1.0], &[1.0], &[1.0]).unwrap();
        assert!(ChinchillaProblem::new(&data, Some(&[-1.0]), Space::Log).is_err());
        assert!(predict(&[1.0], &[1.0], &[0.0; 4]).is_err());
    }
}
