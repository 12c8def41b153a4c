//! The LR-annealing momentum law of Tissue et al. 2024 ("Scaling Law with Learning Rate
//! Annealing", arXiv 2408.11029):
//!
//! ```text
//! L(s) = L0 + A·S1(s)^(−α) − C·S2(s)^ζ        (ζ = 1 in the paper; S2^ζ := sign(S2)·|S2|^ζ)
//! ```
//!
//! Parameters, in order: `L0, A, alpha, C`, then `decay` (λ) when it is fitted, then `zeta` when
//! it is fitted. With λ fixed, S1 and S2 at the logged steps are computed once; with λ fitted,
//! every evaluation rescans the schedules for S2 and dS2/dλ (O(T)).

use crate::areas::{self, AreaOptions};
use crate::error::{Error, Result};
use crate::problem::Model;
use rayon::prelude::*;

/// One training run: its full per-step LR schedule and the steps at which loss was logged.
#[derive(Debug, Clone)]
pub struct RunSchedule<'a> {
    /// LR of every step (`lr[i]` is the LR of step i+1).
    pub lr: &'a [f64],
    /// Logged steps, 1-based, each within `1..=lr.len()`.
    pub steps: Vec<usize>,
    /// How the areas treat this run's warmup.
    pub areas: AreaOptions,
}

/// Which of the optional parameters are fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MomentumConfig {
    /// Fit λ (parameter `decay`) instead of using each run's `areas.decay`.
    pub fit_decay: bool,
    /// Fit the exponent ζ of S2.
    pub fit_zeta: bool,
    /// ζ when it is not fitted.
    pub zeta: f64,
}

impl Default for MomentumConfig {
    fn default() -> Self {
        Self { fit_decay: false, fit_zeta: false, zeta: 1.0 }
    }
}

/// The momentum law at the logged steps of one or more runs (points concatenated in run order).
#[derive(Debug, Clone)]
pub struct MomentumModel<'a> {
    runs: Vec<RunSchedule<'a>>,
    config: MomentumConfig,
    pub(crate) ln_s1: Vec<f64>,
    pub(crate) s2: Vec<f64>,
}

/// Per-evaluation S2 and dS2/dλ at the points (only when λ is fitted).
#[derive(Debug, Default)]
pub struct MomentumPrepared {
    pub(crate) s2: Vec<f64>,
    ds2: Vec<f64>,
}

/// Check the logged steps of a run: increasing, 1-based, within the schedule.
pub fn validate_steps(steps: &[usize], n_steps: usize) -> Result<()> {
    for (i, &s) in steps.iter().enumerate() {
        if s == 0 || s > n_steps {
            return Err(Error::InvalidValue {
                name: "steps",
                index: i,
                value: s as f64,
                reason: "steps are 1-based and must lie within the schedule (1..=len(lr))",
            });
        }
        if i > 0 && s <= steps[i - 1] {
            return Err(Error::InvalidValue {
                name: "steps",
                index: i,
                value: s as f64,
                reason: "steps must be strictly increasing",
            });
        }
    }
    Ok(())
}

impl<'a> MomentumModel<'a> {
    /// Build the model; computes S1 (and S2 unless λ is fitted) at every logged step.
    pub fn new(runs: Vec<RunSchedule<'a>>, config: MomentumConfig) -> Result<Self> {
        Self::build(runs, config, false)
    }

    /// Like [`MomentumModel::new`], but a logged step with S1 = 0 is kept (its prediction is +∞
    /// for α > 0): for predictions over whole schedules whose first LR is 0.
    pub fn for_prediction(runs: Vec<RunSchedule<'a>>, config: MomentumConfig) -> Result<Self> {
        Self::build(runs, config, true)
    }

    fn build(runs: Vec<RunSchedule<'a>>, config: MomentumConfig, allow_zero_s1: bool) -> Result<Self> {
        if !(config.zeta.is_finite() && config.zeta > 0.0) {
            return Err(Error::InvalidArgument(format!("zeta must be positive, got {}", config.zeta)));
        }
        let mut ln_s1 = Vec::new();
        let mut s2 = Vec::new();
        for run in &runs {
            validate_steps(&run.steps, run.lr.len())?;
            let (a1, a2) = areas::areas(run.lr, &run.areas)?;
            // S1 is non-decreasing, so only the first logged step can have S1 = 0.
            if let Some(&first) = run.steps.first() {
                if !(a1[first - 1] > 0.0) && !allow_zero_s1 {
                    return Err(Error::InvalidValue {
                        name: "steps",
                        index: 0,
                        value: first as f64,
                        reason: "S1 is 0 at this logged step (no LR area yet); drop the point",
                    });
                }
            }
            ln_s1.par_extend(run.steps.par_iter().map(|&step| a1[step - 1].ln()));
            s2.par_extend(run.steps.par_iter().map(|&step| a2[step - 1]));
        }
        Ok(Self { runs, config, ln_s1, s2 })
    }

    /// The same model at every `stride`-th point of each run (a cheap proxy for multi-start).
    pub fn subsample(&self, stride: usize) -> (Self, Vec<usize>) {
        let stride = stride.max(1);
        let mut kept = Vec::new();
        let mut runs = Vec::with_capacity(self.runs.len());
        let mut offset = 0;
        for run in &self.runs {
            let n = run.steps.len();
            // Keep the last point of each run: it carries the most annealing information.
            let mut idx: Vec<usize> = (0..n).step_by(stride).collect();
            if n > 0 && idx.last() != Some(&(n - 1)) {
                idx.push(n - 1);
            }
            kept.extend(idx.iter().map(|i| offset + i));
            runs.push(RunSchedule {
                lr: run.lr,
                steps: idx.iter().map(|&i| run.steps[i]).collect(),
                areas: run.areas,
            });
            offset += n;
        }
        let model = Self {
            runs,
            config: self.config,
            ln_s1: kept.iter().map(|&i| self.ln_s1[i]).collect(),
            s2: kept.iter().map(|&i| self.s2[i]).collect(),
        };
        (model, kept)
    }

    /// Names of the parameters in order.
    pub fn param_names(&self) -> Vec<&'static str> {
        let mut names = vec!["L0", "A", "alpha", "C"];
        if self.config.fit_decay {
            names.push("decay");
        }
        if self.config.fit_zeta {
            names.push("zeta");
        }
        names
    }
}

/// S1^(−α) from ln S1, with S1 = 0 giving +∞ (α > 0) or 1 (α = 0) instead of NaN.
#[inline]
pub(crate) fn s1_power(alpha: f64, ln_s1: f64) -> f64 {
    if ln_s1 == f64::NEG_INFINITY {
        if alpha > 0.0 {
            f64::INFINITY
        } else {
            1.0
        }
    } else {
        (-alpha * ln_s1).exp()
    }
}

impl Model for MomentumModel<'_> {
    type Prepared = MomentumPrepared;

    fn n_params(&self) -> usize {
        4 + usize::from(self.config.fit_decay) + usize::from(self.config.fit_zeta)
    }

    fn n_points(&self) -> usize {
        self.ln_s1.len()
    }

    fn prepare(&self, params: &[f64]) -> MomentumPrepared {
        if !self.config.fit_decay {
            return MomentumPrepared::default();
        }
        let decay = params[4].clamp(0.0, 1.0);
        let mut prep = MomentumPrepared::default();
        for run in &self.runs {
            let opts = AreaOptions { decay, ..run.areas };
            // The schedule was validated in `new`, so these cannot fail.
            let (_, a2) = areas::areas(run.lr, &opts).expect("validated schedule");
            let d = areas::ds2_ddecay(run.lr, &opts).expect("validated schedule");
            prep.s2.extend(run.steps.iter().map(|&s| a2[s - 1]));
            prep.ds2.extend(run.steps.iter().map(|&s| d[s - 1]));
        }
        prep
    }

    fn eval_chunk(
        &self,
        params: &[f64],
        prep: &MomentumPrepared,
        start: usize,
        values: &mut [f64],
        gradients: Option<&mut [f64]>,
    ) {
        let (l0, a, alpha, c) = (params[0], params[1], params[2], params[3]);
        let fit_decay = self.config.fit_decay;
        let zeta_index = 4 + usize::from(fit_decay);
        let zeta = if self.config.fit_zeta { params[zeta_index] } else { self.config.zeta };
        let p = self.n_params();
        let len = values.len();
        let s2_all = if fit_decay { &prep.s2[..] } else { &self.s2[..] };
        let ln_s1 = &self.ln_s1[start..start + len];
        let s2 = &s2_all[start..start + len];
        match gradients {
            None if zeta == 1.0 => {
                for ((v, &ls1), &s2) in values.iter_mut().zip(ln_s1).zip(s2) {
                    *v = l0 + a * s1_power(alpha, ls1) - c * s2;
                }
            }
            None => {
                for ((v, &ls1), &s2) in values.iter_mut().zip(ln_s1).zip(s2) {
                    *v = l0 + a * s1_power(alpha, ls1) - c * s2.signum() * s2.abs().powf(zeta);
                }
            }
            Some(grad) => {
                for i in 0..len {
                    let ls1 = ln_s1[i];
                    let pw = (-alpha * ls1).exp();
                    let (s2z, ds2z_ds2, ln_abs) = if zeta == 1.0 && !self.config.fit_zeta {
                        (s2[i], 1.0, 0.0)
                    } else {
                        let m = s2[i].abs();
                        let mz = m.powf(zeta);
                        let ln_m = if m > 0.0 { m.ln() } else { 0.0 };
                        let deriv = if m > 0.0 { zeta * mz / m } else { 0.0 };
                        (s2[i].signum() * mz, deriv, ln_m)
                    };
                    values[i] = l0 + a * pw - c * s2z;
                    let row = &mut grad[i * p..(i + 1) * p];
                    row[0] = 1.0;
                    row[1] = pw;
                    row[2] = -a * ls1 * pw;
                    row[3] = -s2z;
                    if fit_decay {
                        row[4] = -c * ds2z_ds2 * prep.ds2[start + i];
                    }
                    if self.config.fit_zeta {
                        row[zeta_index] = -c * s2z * ln_abs;
                    }
                }
            }
        }
    }
}

/// Points above which multi-start runs on a subsample and only the best starts are polished.
pub const COARSE_ABOVE: usize = 8192;
/// Target number of points of the subsample.
const COARSE_POINTS: usize = 2048;

/// Fit the momentum law from every start (in parallel) and return the best solve.
///
/// `targets` (and `weights`) hold one value per logged point, runs concatenated. Long logs
/// (more than [`COARSE_ABOVE`] points) run the starts on an evenly strided subsample and polish
/// the best two on every point, so the final objective is always that of the full data.
#[allow(clippy::too_many_arguments)]
pub fn fit(
    runs: Vec<RunSchedule<'_>>,
    config: MomentumConfig,
    targets: &[f64],
    weights: Option<&[f64]>,
    space: crate::problem::Space,
    starts: &[Vec<f64>],
    opts: &crate::lm::LmOptions,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<(crate::lm::MultiStartReport, crate::problem::LinearStats)> {
    use crate::problem::DataProblem;
    let model = MomentumModel::new(runs, config)?;
    let n = model.n_points();
    let full = if n > COARSE_ABOVE {
        let (coarse_model, kept) = model.subsample(n / COARSE_POINTS);
        let coarse_targets: Vec<f64> =
            kept.iter().map(|&i| targets.get(i).copied().unwrap_or(f64::NAN)).collect();
        let coarse_weights: Option<Vec<f64>> =
            weights.map(|w| kept.iter().map(|&i| w.get(i).copied().unwrap_or(0.0)).collect());
        let full = DataProblem::new(model, targets, weights, space)?;
        let coarse = DataProblem::new(coarse_model, &coarse_targets, coarse_weights.as_deref(), space)?;
        let rep = crate::lm::multistart(&full, Some(&coarse), starts, opts, 1, stop)?;
        (full, rep)
    } else {
        let full = DataProblem::new(model, targets, weights, space)?;
        let rep = crate::lm::multistart::<_, DataProblem<'_, MomentumModel<'_>>>(
            &full, None, starts, opts, 1, stop,
        )?;
        (full, rep)
    };
    let stats = full.0.linear_stats(&full.1.best.params);
    Ok((full.1, stats))
}

/// Predicted loss at the logged steps of `runs` for parameters `params`.
pub fn predict(runs: Vec<RunSchedule<'_>>, config: MomentumConfig, params: &[f64]) -> Result<Vec<f64>> {
    let model = MomentumModel::for_prediction(runs, config)?;
    if params.len() != model.n_params() {
        return Err(Error::InvalidArgument(format!(
            "expected {} parameters ({}), got {}",
            model.n_params(),
            model.param_names().join(", "),
            params.len()
        )));
    }
    let prep = model.prepare(params);
    let mut out = vec![0.0; model.n_points()];
    model.eval_chunk(params, &prep, 0, &mut out, None);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::areas::WarmupMode;

    fn schedule(n: usize) -> Vec<f64> {
        (0..n).map(|i| if i < n / 2 { 3e-4 } else { 3e-4 * (1.0 - (i - n / 2) as f64 / n as f64) }).collect()
    }

    #[test]
    fn gradients_match_finite_differences() {
        let lr = schedule(2000);
        let steps: Vec<usize> = (1..=20).map(|k| k * 100).collect();
        let run = RunSchedule {
            lr: &lr,
            steps,
            areas: AreaOptions { decay: 0.99, warmup_steps: 10, warmup: WarmupMode::AsPeak },
        };
        let config = MomentumConfig { fit_decay: true, fit_zeta: true, zeta: 1.0 };
        let model = MomentumModel::new(vec![run], config).unwrap();
        let params = [2.5, 0.4, 0.5, 3.0, 0.99, 1.1];
        let n = model.n_points();
        let mut v = vec![0.0; n];
        let mut g = vec![0.0; n * 6];
        let prep = model.prepare(&params);
        model.eval_chunk(&params, &prep, 0, &mut v, Some(&mut g));
        for j in 0..6 {
            let h = 1e-6 * params[j].abs();
            let (mut hi, mut lo) = (params, params);
            hi[j] += h;
            lo[j] -= h;
            let (mut vh, mut vl) = (vec![0.0; n], vec![0.0; n]);
            model.eval_chunk(&hi, &model.prepare(&hi), 0, &mut vh, None);
            model.eval_chunk(&lo, &model.prepare(&lo), 0, &mut vl, None);
            for i in 0..n {
                let fd = (vh[i] - vl[i]) / (2.0 * h);
                assert!((fd - g[i * 6 + j]).abs() <= 1e-6 * (1.0 + fd.abs()), "param {j} point {i}");
            }
        }
    }

    #[test]
    fn rejects_bad_steps() {
        let lr = schedule(100);
        let mk = |steps: Vec<usize>| {
            MomentumModel::new(
                vec![RunSchedule { lr: &lr, steps, areas: AreaOptions::default() }],
                MomentumConfig::default(),
            )
        };
        assert!(mk(vec![0, 5]).is_err());
        assert!(mk(vec![5, 5]).is_err());
        assert!(mk(vec![101]).is_err());
        assert!(mk(vec![1, 100]).is_ok());
    }
}
