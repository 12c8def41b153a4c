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

use crate::areas::{self, AreaOptions, AreaStream};
use crate::error::{Error, Result};
use crate::fastmath;
use crate::problem::Model;
use rayon::prelude::*;

/// The steps of a run at which loss was logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Steps {
    /// Every step `1..=lr.len()` (a per-step log): nothing is stored, and the areas are streamed.
    Every,
    /// These 1-based steps, strictly increasing, each within `1..=lr.len()`.
    Logged(Vec<usize>),
}

impl From<Vec<usize>> for Steps {
    fn from(steps: Vec<usize>) -> Self {
        Self::Logged(steps)
    }
}

/// One training run: its full per-step LR schedule and the steps at which loss was logged.
#[derive(Debug, Clone)]
pub struct RunSchedule<'a> {
    /// LR of every step (`lr[i]` is the LR of step i+1).
    pub lr: &'a [f64],
    /// Logged steps.
    pub steps: Steps,
    /// How the areas treat this run's warmup.
    pub areas: AreaOptions,
}

impl RunSchedule<'_> {
    /// Number of logged points.
    pub fn n_points(&self) -> usize {
        match &self.steps {
            Steps::Every => self.lr.len(),
            Steps::Logged(s) => s.len(),
        }
    }

    /// The 1-based step of logged point `i`.
    pub fn step(&self, i: usize) -> usize {
        match &self.steps {
            Steps::Every => i + 1,
            Steps::Logged(s) => s[i],
        }
    }

    /// Values of a per-step array (`per_step[k]` belongs to step k+1) at the logged steps.
    fn gather(&self, per_step: Vec<f64>) -> Vec<f64> {
        match &self.steps {
            Steps::Every => per_step,
            Steps::Logged(s) => s.iter().map(|&k| per_step[k - 1]).collect(),
        }
    }
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

/// Where a run's ln S1 and S2 at its logged points come from.
#[derive(Debug, Clone)]
enum AreaSource<'a> {
    /// Computed once and stored (logs of a subset of steps, or λ fitted).
    Stored { ln_s1: Vec<f64>, s2: Vec<f64> },
    /// A per-step log with λ fixed: recomputed from the schedule for every evaluation, so the
    /// model holds O(T / 256) values instead of 2·T (see [`AreaStream`]).
    Streamed(AreaStream<'a>),
}

/// The momentum law at the logged steps of one or more runs (points concatenated in run order).
#[derive(Debug, Clone)]
pub struct MomentumModel<'a> {
    runs: Vec<RunSchedule<'a>>,
    config: MomentumConfig,
    sources: Vec<AreaSource<'a>>,
    /// First point of every run, then the number of points.
    offsets: Vec<usize>,
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

/// Points per block of the evaluation kernels (their scratch arrays live on the stack).
const BLOCK: usize = 256;

impl<'a> MomentumModel<'a> {
    /// Build the model: per-step logs (λ fixed) stream their areas, other logs store ln S1 and
    /// S2 at their logged steps.
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
        let mut sources = Vec::with_capacity(runs.len());
        let mut offsets = vec![0];
        for run in &runs {
            if let Steps::Logged(steps) = &run.steps {
                validate_steps(steps, run.lr.len())?;
            }
            let source = if run.steps == Steps::Every && !config.fit_decay {
                AreaSource::Streamed(AreaStream::new(run.lr, &run.areas)?)
            } else {
                let (a1, a2) = areas::areas(run.lr, &run.areas)?;
                let ln_s1 = run.gather(a1);
                let s2 = run.gather(a2);
                AreaSource::Stored { ln_s1: ln_s1.into_par_iter().map(f64::ln).collect(), s2 }
            };
            // S1 is non-decreasing, so only the first logged step can have S1 = 0.
            if run.n_points() > 0 && !allow_zero_s1 {
                let (mut ls1, mut s2) = ([0.0], [0.0]);
                source_fill(&source, 0, &mut ls1, &mut s2);
                if !(ls1[0] > f64::NEG_INFINITY) {
                    return Err(Error::InvalidValue {
                        name: "steps",
                        index: 0,
                        value: run.step(0) as f64,
                        reason: "S1 is 0 at this logged step (no LR area yet); drop the point",
                    });
                }
            }
            sources.push(source);
            offsets.push(offsets.last().copied().unwrap_or(0) + run.n_points());
        }
        Ok(Self { runs, config, sources, offsets })
    }

    /// Fill ln S1 and S2 of points `start .. start + ln_s1.len()` (which may span runs).
    pub(crate) fn areas_at(&self, start: usize, ln_s1: &mut [f64], s2: &mut [f64]) {
        let end = start + ln_s1.len();
        let mut at = start;
        // The run holding `start`: the last offset ≤ start.
        let mut r = self.offsets.partition_point(|&o| o <= start).saturating_sub(1);
        while at < end {
            let run_end = self.offsets[r + 1].min(end);
            let (lo, hi) = (at - start, run_end - start);
            source_fill(&self.sources[r], at - self.offsets[r], &mut ln_s1[lo..hi], &mut s2[lo..hi]);
            at = run_end;
            r += 1;
        }
    }

    /// The same model at every `stride`-th point of each run (a cheap proxy for multi-start).
    pub fn subsample(&self, stride: usize) -> (Self, Vec<usize>) {
        let stride = stride.max(1);
        let mut kept = Vec::new();
        let mut runs = Vec::with_capacity(self.runs.len());
        let mut sources = Vec::with_capacity(self.runs.len());
        let mut offsets = vec![0];
        for (r, run) in self.runs.iter().enumerate() {
            let n = run.n_points();
            // Keep the last point of each run: it carries the most annealing information.
            let mut idx: Vec<usize> = (0..n).step_by(stride).collect();
            if n > 0 && idx.last() != Some(&(n - 1)) {
                idx.push(n - 1);
            }
            let (ln_s1, s2) = match &self.sources[r] {
                AreaSource::Stored { ln_s1, s2 } => {
                    (idx.iter().map(|&i| ln_s1[i]).collect(), idx.iter().map(|&i| s2[i]).collect())
                }
                AreaSource::Streamed(stream) => {
                    let (mut s1, mut s2) = (vec![0.0; idx.len()], vec![0.0; idx.len()]);
                    stream.values_at(&idx, &mut s1, &mut s2);
                    fastmath::ln_in_place(&mut s1);
                    (s1, s2)
                }
            };
            kept.extend(idx.iter().map(|i| self.offsets[r] + i));
            runs.push(RunSchedule {
                lr: run.lr,
                steps: Steps::Logged(idx.iter().map(|&i| run.step(i)).collect()),
                areas: run.areas,
            });
            sources.push(AreaSource::Stored { ln_s1, s2 });
            offsets.push(offsets.last().copied().unwrap_or(0) + idx.len());
        }
        (Self { runs, config: self.config, sources, offsets }, kept)
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

/// ln S1 and S2 of a run's points `start ..` from one source.
fn source_fill(source: &AreaSource<'_>, start: usize, ln_s1: &mut [f64], s2: &mut [f64]) {
    let len = ln_s1.len();
    match source {
        AreaSource::Stored { ln_s1: a, s2: b } => {
            ln_s1.copy_from_slice(&a[start..start + len]);
            s2.copy_from_slice(&b[start..start + len]);
        }
        AreaSource::Streamed(stream) => {
            stream.fill(start, ln_s1, s2);
            fastmath::ln_in_place(ln_s1);
        }
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
        self.offsets.last().copied().unwrap_or(0)
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
            prep.s2.extend(run.gather(a2));
            prep.ds2.extend(run.gather(d));
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
        let p = self.n_params();
        let mut gradients = gradients;
        let mut ln_s1 = [0.0; BLOCK];
        let mut s2 = [0.0; BLOCK];
        let mut power = [0.0; BLOCK];
        for (b, out) in values.chunks_mut(BLOCK).enumerate() {
            let at = start + b * BLOCK;
            let m = out.len();
            self.areas_at(at, &mut ln_s1[..m], &mut s2[..m]);
            if self.config.fit_decay {
                s2[..m].copy_from_slice(&prep.s2[at..at + m]);
            }
            s1_powers(params[2], &ln_s1[..m], &mut power[..m]);
            let grad = gradients.as_deref_mut().map(|g| &mut g[b * BLOCK * p..(b * BLOCK + m) * p]);
            let areas = BlockAreas { power: &power[..m], ln_s1: &ln_s1[..m], s2: &s2[..m] };
            self.eval_block(params, prep, at, areas, out, grad);
        }
    }
}

/// `out[i] = S1^(−α)` from ln S1 (vectorised; S1 = 0 handled by [`s1_power`]).
pub(crate) fn s1_powers(alpha: f64, ln_s1: &[f64], out: &mut [f64]) {
    fastmath::exp_slice(-alpha, ln_s1, out);
    if ln_s1.contains(&f64::NEG_INFINITY) {
        for (o, &v) in out.iter_mut().zip(ln_s1) {
            *o = s1_power(alpha, v);
        }
    }
}

/// The areas of one block of points: S1^(−α), ln S1 and S2, one value per point.
#[derive(Clone, Copy)]
struct BlockAreas<'b> {
    power: &'b [f64],
    ln_s1: &'b [f64],
    s2: &'b [f64],
}

impl MomentumModel<'_> {
    /// Values (and gradients) of one block of points starting at point `at`.
    #[inline(always)]
    fn eval_block(
        &self,
        params: &[f64],
        prep: &MomentumPrepared,
        at: usize,
        areas: BlockAreas<'_>,
        values: &mut [f64],
        gradients: Option<&mut [f64]>,
    ) {
        let BlockAreas { power, ln_s1, s2 } = areas;
        let (l0, a, c) = (params[0], params[1], params[3]);
        let fit_decay = self.config.fit_decay;
        let zeta_index = 4 + usize::from(fit_decay);
        let zeta = if self.config.fit_zeta { params[zeta_index] } else { self.config.zeta };
        let p = self.n_params();
        let len = values.len();
        match gradients {
            None if zeta == 1.0 => {
                for ((v, &pw), &s2) in values.iter_mut().zip(power).zip(s2) {
                    *v = l0 + a * pw - c * s2;
                }
            }
            None => {
                for ((v, &pw), &s2) in values.iter_mut().zip(power).zip(s2) {
                    *v = l0 + a * pw - c * s2.signum() * s2.abs().powf(zeta);
                }
            }
            Some(grad) if p == 4 && zeta == 1.0 => {
                for (i, row) in grad.chunks_exact_mut(4).enumerate().take(len) {
                    let pw = power[i];
                    values[i] = l0 + a * pw - c * s2[i];
                    row[0] = 1.0;
                    row[1] = pw;
                    row[2] = -a * ln_s1[i] * pw;
                    row[3] = -s2[i];
                }
            }
            Some(grad) => {
                for i in 0..len {
                    let pw = power[i];
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
                    row[2] = -a * ln_s1[i] * pw;
                    row[3] = -s2z;
                    if fit_decay {
                        row[4] = -c * ds2z_ds2 * prep.ds2[at + i];
                    }
                    if self.config.fit_zeta {
                        row[zeta_index] = -c * s2z * ln_abs;
                    }
                }
            }
        }
    }
}

/// Points above which multi-start runs on a subsample and only the best start is polished.
pub const COARSE_ABOVE: usize = 8192;
/// Target number of points of the subsample the starts run on.
const COARSE_POINTS: usize = 2048;
/// Target number of points of the intermediate polish of long logs.
const MEDIUM_POINTS: usize = 65_536;

/// Fit the momentum law from every start (in parallel) and return the best solve.
///
/// `targets` (and `weights`) hold one value per logged point, runs concatenated. Long logs
/// (more than [`COARSE_ABOVE`] points) run the starts on an evenly strided subsample of about
/// 2,048 points; the best is polished on about 65,536 points (logs of more than four times that),
/// then on every point, so the final objective is always that of the full data and the full
/// data needs only the few evaluations of a converged Newton step.
pub fn fit(
    runs: Vec<RunSchedule<'_>>,
    config: MomentumConfig,
    observed: crate::problem::Observations<'_>,
    starts: &[Vec<f64>],
    opts: &crate::lm::LmOptions,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<(crate::strategy::MultiStartReport, crate::problem::LinearStats)> {
    use crate::problem::DataProblem;
    let crate::problem::Observations { targets, weights, space } = observed;
    let model = MomentumModel::new(runs, config)?;
    let n = model.n_points();
    let mut sizes = Vec::new();
    if n > COARSE_ABOVE {
        sizes.push(COARSE_POINTS);
        if n > 4 * MEDIUM_POINTS {
            sizes.push(MEDIUM_POINTS);
        }
    }
    // Subsampled targets and weights of every level (the full level borrows the caller's).
    // Subsampled models, targets and weights of the coarser levels (the full level borrows the
    // caller's arrays); the problems borrow the subsampled targets, so those are built first.
    let mut models = Vec::with_capacity(sizes.len());
    let mut sub_data = Vec::with_capacity(sizes.len());
    for &size in &sizes {
        let (sub, kept) = model.subsample(n / size);
        let sub_targets: Vec<f64> =
            kept.iter().map(|&i| targets.get(i).copied().unwrap_or(f64::NAN)).collect();
        let sub_weights: Option<Vec<f64>> =
            weights.map(|w| kept.iter().map(|&i| w.get(i).copied().unwrap_or(0.0)).collect());
        models.push(sub);
        sub_data.push((sub_targets, sub_weights));
    }
    let mut problems = Vec::with_capacity(sizes.len() + 1);
    for (sub, (sub_targets, sub_weights)) in models.into_iter().zip(&sub_data) {
        problems.push(DataProblem::new(sub, sub_targets, sub_weights.as_deref(), space)?);
    }
    problems.push(DataProblem::new(model, targets, weights, space)?);
    let levels: Vec<&DataProblem<'_, MomentumModel<'_>>> = problems.iter().collect();
    let rep = crate::strategy::multistart_levels(&levels, starts, opts, stop)?;
    let full = problems.last().expect("the full problem");
    let stats = full.linear_stats(&rep.best.params);
    Ok((rep, stats))
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
    use crate::laws::testing::{central_differences, model_values};

    fn schedule(n: usize) -> Vec<f64> {
        (0..n).map(|i| if i < n / 2 { 3e-4 } else { 3e-4 * (1.0 - (i - n / 2) as f64 / n as f64) }).collect()
    }

    #[test]
    fn gradients_match_finite_differences() {
        let lr = schedule(2000);
        let steps: Vec<usize> = (1..=20).map(|k| k * 100).collect();
        let run = RunSchedule {
            lr: &lr,
            steps: steps.into(),
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
        let fds = central_differences(|x| model_values(&model, x), &params, |x| 1e-6 * x.abs());
        for j in 0..6 {
            for i in 0..n {
                let fd = fds[i * 6 + j];
                assert!((fd - g[i * 6 + j]).abs() <= 1e-6 * (1.0 + fd.abs()), "param {j} point {i}");
            }
        }
    }

    #[test]
    fn rejects_bad_steps() {
        let lr = schedule(100);
        let mk = |steps: Vec<usize>| {
            MomentumModel::new(
                vec![RunSchedule { lr: &lr, steps: steps.into(), areas: AreaOptions::default() }],
                MomentumConfig::default(),
            )
        };
        assert!(mk(vec![0, 5]).is_err());
        assert!(mk(vec![5, 5]).is_err());
        assert!(mk(vec![101]).is_err());
        assert!(mk(vec![1, 100]).is_ok());
    }

    #[test]
    fn streamed_per_step_logs_match_stored_areas() {
        // Every step logged, as `Steps::Every` (streamed areas) and as the explicit list 1..=T
        // (stored areas): the same points, so the same values and gradients, whatever the
        // warmup mode, run boundaries and block alignment of the request.
        let long = schedule(5000);
        let short: Vec<f64> = schedule(777).iter().map(|v| v * 0.5).collect();
        // Equal bits where S1 = 0 (`exclude` warmup: +∞ and its gradients), close elsewhere.
        let same = |a: f64, b: f64, rtol: f64| {
            a.to_bits() == b.to_bits() || (a - b).abs() <= rtol * b.abs().max(1.0)
        };
        for warmup in [WarmupMode::Actual, WarmupMode::AsPeak, WarmupMode::Exclude] {
            let opts = AreaOptions { decay: 0.995, warmup_steps: 301, warmup };
            let runs = |explicit: bool| -> Vec<RunSchedule<'_>> {
                [&long[..], &short[..]]
                    .into_iter()
                    .map(|lr| RunSchedule {
                        lr,
                        steps: if explicit { Steps::Logged((1..=lr.len()).collect()) } else { Steps::Every },
                        areas: opts,
                    })
                    .collect()
            };
            let config = MomentumConfig::default();
            let streamed = MomentumModel::for_prediction(runs(false), config).unwrap();
            let stored = MomentumModel::for_prediction(runs(true), config).unwrap();
            assert!(matches!(streamed.sources[0], AreaSource::Streamed(_)));
            assert!(matches!(stored.sources[0], AreaSource::Stored { .. }));
            let q = [2.5, 0.4, 0.5, 3.0];
            let n = streamed.n_points();
            assert_eq!(n, 5000 + 777);
            for (start, len) in [(0, n), (4990, 20), (123, 1000), (n - 5, 5)] {
                let (mut v1, mut g1) = (vec![0.0; len], vec![0.0; len * 4]);
                let (mut v2, mut g2) = (vec![0.0; len], vec![0.0; len * 4]);
                streamed.eval_chunk(&q, &streamed.prepare(&q), start, &mut v1, Some(&mut g1));
                stored.eval_chunk(&q, &stored.prepare(&q), start, &mut v2, Some(&mut g2));
                for i in 0..len {
                    assert!(
                        same(v1[i], v2[i], 1e-12),
                        "{warmup:?} point {}: {} vs {}",
                        start + i,
                        v1[i],
                        v2[i]
                    );
                }
                for (a, b) in g1.iter().zip(&g2) {
                    assert!(same(*a, *b, 1e-11), "{warmup:?} gradient {a} vs {b}");
                }
            }
        }
    }
}
