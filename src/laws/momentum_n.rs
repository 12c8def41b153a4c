//! The N-extended momentum law of Tissue et al. 2024 (arXiv 2408.11029, Eq. 7), fitted jointly
//! over runs of several model sizes N:
//!
//! ```text
//! L(s, N) = L0 + A·S1(s)^(−α) + B·N^(−β) − C·S2(s)·N^γ
//! ```
//!
//! Parameters, in order: `L0, A, alpha, B, beta, C, gamma`. λ is fixed per run.

use crate::error::{Error, Result};
use crate::laws::momentum::{s1_powers, MomentumConfig, MomentumModel, RunSchedule};

/// Points per block of the evaluation kernel.
const BLOCK: usize = 256;
use crate::problem::Model;

/// The N-extended law at the logged steps of runs with known model sizes.
#[derive(Debug, Clone)]
pub struct MomentumNModel<'a> {
    base: MomentumModel<'a>,
    ln_n: Vec<f64>,
}

impl<'a> MomentumNModel<'a> {
    /// Build from runs and their model sizes (one positive N per run).
    pub fn new(runs: Vec<RunSchedule<'a>>, sizes: &[f64]) -> Result<Self> {
        Self::build(runs, sizes, false)
    }

    fn build(runs: Vec<RunSchedule<'a>>, sizes: &[f64], for_prediction: bool) -> Result<Self> {
        if sizes.len() != runs.len() {
            return Err(Error::LengthMismatch {
                name: "N",
                got: sizes.len(),
                expected: runs.len(),
                why: "one model size per run",
            });
        }
        if let Some((i, &v)) = sizes.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v > 0.0)) {
            return Err(Error::InvalidValue {
                name: "N",
                index: i,
                value: v,
                reason: "model sizes must be positive and finite",
            });
        }
        let ln_n =
            runs.iter().zip(sizes).flat_map(|(run, n)| std::iter::repeat_n(n.ln(), run.n_points())).collect();
        let base = if for_prediction {
            MomentumModel::for_prediction(runs, MomentumConfig::default())?
        } else {
            MomentumModel::new(runs, MomentumConfig::default())?
        };
        Ok(Self { base, ln_n })
    }
}

impl Model for MomentumNModel<'_> {
    type Prepared = ();

    fn n_params(&self) -> usize {
        7
    }

    fn n_points(&self) -> usize {
        self.ln_n.len()
    }

    fn prepare(&self, _params: &[f64]) {}

    fn eval_chunk(&self, q: &[f64], _: &(), start: usize, values: &mut [f64], grads: Option<&mut [f64]>) {
        let (l0, a, alpha, b, beta, c, gamma) = (q[0], q[1], q[2], q[3], q[4], q[5], q[6]);
        let mut grads = grads;
        let (mut ln_s1, mut s2, mut pw_s1) = ([0.0; BLOCK], [0.0; BLOCK], [0.0; BLOCK]);
        for (blk, out) in values.chunks_mut(BLOCK).enumerate() {
            let at = start + blk * BLOCK;
            let m = out.len();
            self.base.areas_at(at, &mut ln_s1[..m], &mut s2[..m]);
            s1_powers(alpha, &ln_s1[..m], &mut pw_s1[..m]);
            let ln_n = &self.ln_n[at..at + m];
            for i in 0..m {
                let pw_s = pw_s1[i];
                let pw_n = (-beta * ln_n[i]).exp();
                let grow = (gamma * ln_n[i]).exp();
                out[i] = l0 + a * pw_s + b * pw_n - c * s2[i] * grow;
                if let Some(g) = grads.as_deref_mut() {
                    let k = blk * BLOCK + i;
                    let row = &mut g[k * 7..(k + 1) * 7];
                    row[0] = 1.0;
                    row[1] = pw_s;
                    row[2] = -a * ln_s1[i] * pw_s;
                    row[3] = pw_n;
                    row[4] = -b * ln_n[i] * pw_n;
                    row[5] = -s2[i] * grow;
                    row[6] = -c * s2[i] * ln_n[i] * grow;
                }
            }
        }
    }
}

/// Fit from every start (in parallel); the lowest objective wins.
pub fn fit(
    runs: Vec<RunSchedule<'_>>,
    sizes: &[f64],
    observed: crate::problem::Observations<'_>,
    starts: &[Vec<f64>],
    opts: &crate::lm::LmOptions,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<crate::strategy::MultiStartReport> {
    use crate::problem::DataProblem;
    let crate::problem::Observations { targets, weights, space } = observed;
    let model = MomentumNModel::new(runs, sizes)?;
    let full = DataProblem::new(model, targets, weights, space)?;
    crate::strategy::multistart::<_, DataProblem<'_, MomentumNModel<'_>>>(&full, None, starts, opts, 1, stop)
}

/// Predicted loss at the logged steps of `runs` (model sizes `sizes`).
pub fn predict(runs: Vec<RunSchedule<'_>>, sizes: &[f64], params: &[f64]) -> Result<Vec<f64>> {
    let model = MomentumNModel::build(runs, sizes, true)?;
    if params.len() != 7 {
        return Err(Error::InvalidArgument(format!(
            "expected 7 parameters (L0, A, alpha, B, beta, C, gamma), got {}",
            params.len()
        )));
    }
    let mut out = vec![0.0; model.n_points()];
    model.eval_chunk(params, &(), 0, &mut out, None);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::areas::AreaOptions;
    use crate::laws::testing::{central_differences, model_values};

    #[test]
    fn gradients_match_finite_differences() {
        let lr: Vec<f64> = (0..3000).map(|i| 3e-4 * (1.0 - i as f64 / 4000.0)).collect();
        let runs = vec![
            RunSchedule { lr: &lr, steps: vec![100, 1000, 3000].into(), areas: AreaOptions::default() },
            RunSchedule { lr: &lr, steps: vec![200, 2000].into(), areas: AreaOptions::default() },
        ];
        let model = MomentumNModel::new(runs, &[1e8, 4e8]).unwrap();
        let q = [2.0, 0.5, 0.5, 400.0, 0.3, 0.4, 0.05];
        let n = model.n_points();
        let (mut v, mut g) = (vec![0.0; n], vec![0.0; n * 7]);
        model.eval_chunk(&q, &(), 0, &mut v, Some(&mut g));
        let fds = central_differences(|x| model_values(&model, x), &q, |x| 1e-6 * x.abs());
        for j in 0..7 {
            for i in 0..n {
                let fd = fds[i * 7 + j];
                assert!((fd - g[i * 7 + j]).abs() <= 1e-6 * (1.0 + fd.abs()), "param {j} point {i}");
            }
        }
    }

    #[test]
    fn rejects_bad_sizes() {
        let lr = vec![1e-3; 10];
        let run = || vec![RunSchedule { lr: &lr, steps: vec![5].into(), areas: AreaOptions::default() }];
        assert!(MomentumNModel::new(run(), &[0.0]).is_err());
        assert!(MomentumNModel::new(run(), &[1.0, 2.0]).is_err());
    }
}
