//! Streaming Levenberg–Marquardt with bounds, robust losses and Gaussian priors (one start;
//! multi-start strategies live in [`crate::strategy`]).
//!
//! The solver never holds the n×p Jacobian. Each evaluation walks the residuals in fixed-size
//! chunks (in parallel with rayon), and each chunk returns its share of the cost Σ wᵢ·ρ(rᵢ), the
//! gradient g = Σ wᵢ ρ'ᵢ rᵢ Jᵢ and the Gauss–Newton matrix H = Σ wᵢ ρ'ᵢ Jᵢ Jᵢᵀ (IRLS weights ρ'
//! for robust losses). Chunk results are added in chunk order, so the result is bit-identical for
//! any thread count. Memory: O(chunk·p) per worker plus O(p²).
//!
//! The step solves (H + μ·diag(D²)) δ = −g with MINPACK's column scaling D (running maximum of
//! the column norms √Hⱼⱼ) and Nielsen's update of μ. Bounds are handled by projection with an
//! active set: a parameter at a bound whose gradient pushes outward is held for that iteration.

use crate::error::{Error, Result};
use crate::problem::Problem;
use crate::robust::RobustLoss;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Residuals per chunk: fixed, so results never depend on the thread count.
pub const CHUNK: usize = 4096;
/// Below this many residuals the chunks run on the calling thread (same arithmetic).
const PARALLEL_MIN: usize = 4 * CHUNK;

/// Solver options (scipy's names and meanings where they exist).
#[derive(Clone)]
pub struct LmOptions {
    /// Stop when the relative decrease of the cost and the predicted decrease are both ≤ ftol.
    pub ftol: f64,
    /// Stop when the scaled step is ≤ xtol·(‖D·x‖ + xtol).
    pub xtol: f64,
    /// Stop when the largest scaled gradient component is ≤ gtol.
    pub gtol: f64,
    /// Maximum number of cost evaluations.
    pub max_evals: usize,
    /// Robust loss.
    pub loss: RobustLoss,
    /// Lower bounds (−∞ for none), length p.
    pub lower: Vec<f64>,
    /// Upper bounds (+∞ for none), length p.
    pub upper: Vec<f64>,
    /// Parameters held at their start value, length p.
    pub fixed: Vec<bool>,
    /// Incremented when a solve finishes (multi-start progress for a watcher thread).
    pub progress: Option<Arc<AtomicUsize>>,
    /// Curvature weight of a point beyond a robust loss's threshold, relative to its IRLS weight
    /// ρ': 1 is pure IRLS (robust far from the optimum, linear convergence near it), 0 is the
    /// exact Hessian of the cost (fast near the optimum). See [`RobustLoss::cost_gradient_curvature`].
    pub curvature_floor: f64,
    /// Curvature floor of the first iteration (1: start as IRLS); a polish of an already good
    /// point starts at `curvature_floor`.
    pub initial_curvature_floor: f64,
    /// Gaussian prior on the parameters (MAP estimate), or none.
    pub prior: Option<Prior>,
}

/// A Gaussian prior: adds ½·Σⱼ wⱼ·(xⱼ − μⱼ)² to the cost, so the solver returns the MAP estimate
/// and its Gauss–Newton matrix includes the prior's curvature wⱼ.
///
/// The weights are in cost units: for a prior N(μⱼ, σⱼ²) on data whose residual variance is s²,
/// wⱼ = s²/σⱼ² (a weight 0 leaves parameter j without a prior). The term is exact and unrobust
/// (the robust loss applies to the data residuals only).
#[derive(Debug, Clone, PartialEq)]
pub struct Prior {
    /// Prior means μ, length p.
    pub mean: Vec<f64>,
    /// Prior weights w ≥ 0 (cost units), length p.
    pub weight: Vec<f64>,
}

impl Prior {
    /// Check the options against a law of `p` parameters: lengths, bounds, tolerances, budget
    /// and prior (the solver does the same before it starts).
    pub fn validate(&self, p: usize) -> Result<()> {
        for (name, len) in [("prior mean", self.mean.len()), ("prior weight", self.weight.len())] {
            if len != p {
                return Err(Error::InvalidArgument(format!("{name} has {len} entries, expected {p}")));
            }
        }
        for j in 0..p {
            let (m, w) = (self.mean[j], self.weight[j]);
            if !(w.is_finite() && w >= 0.0) || (w > 0.0 && !m.is_finite()) {
                return Err(Error::InvalidArgument(format!(
                    "prior of parameter {j} is invalid: mean {m}, weight {w} (weights finite and >= 0, \
                     means finite)"
                )));
            }
        }
        Ok(())
    }

    /// Add the prior's cost, gradient and curvature at `x` to `acc` (gradient and matrix only
    /// when `acc` holds them).
    pub fn add_to(&self, x: &[f64], acc: &mut Accumulated) {
        let p = x.len();
        let with_jacobian = acc.gradient.len() == p;
        for j in 0..p {
            let w = self.weight[j];
            if w == 0.0 {
                continue;
            }
            let d = x[j] - self.mean[j];
            acc.cost += 0.5 * w * d * d;
            if with_jacobian {
                acc.gradient[j] += w * d;
                acc.hessian[j * p + j] += w;
            }
        }
    }

    /// Whether parameter `j` has a prior.
    pub fn constrains(&self, j: usize) -> bool {
        self.weight.get(j).is_some_and(|&w| w > 0.0)
    }
}

/// Default [`LmOptions::curvature_floor`].
pub const DEFAULT_CURVATURE_FLOOR: f64 = 0.05;

impl LmOptions {
    /// Defaults for `p` parameters: unbounded, nothing fixed, linear loss.
    pub fn new(p: usize) -> Self {
        Self {
            ftol: 1e-12,
            xtol: 1e-12,
            gtol: 1e-10,
            max_evals: 2000,
            loss: RobustLoss::Linear,
            lower: vec![f64::NEG_INFINITY; p],
            upper: vec![f64::INFINITY; p],
            fixed: vec![false; p],
            progress: None,
            curvature_floor: DEFAULT_CURVATURE_FLOOR,
            initial_curvature_floor: 1.0,
            prior: None,
        }
    }

    /// Check the options against a law of `p` parameters: lengths, bounds, tolerances, budget
    /// and prior (the solver does the same before it starts).
    pub fn validate(&self, p: usize) -> Result<()> {
        for (name, len) in
            [("lower", self.lower.len()), ("upper", self.upper.len()), ("fixed", self.fixed.len())]
        {
            if len != p {
                return Err(Error::InvalidArgument(format!("{name} has {len} entries, expected {p}")));
            }
        }
        for j in 0..p {
            if self.lower[j].is_nan() || self.upper[j].is_nan() || self.lower[j] > self.upper[j] {
                return Err(Error::InvalidArgument(format!(
                    "bounds of parameter {j} are invalid: [{}, {}]",
                    self.lower[j], self.upper[j]
                )));
            }
        }
        for (name, v) in [("ftol", self.ftol), ("xtol", self.xtol), ("gtol", self.gtol)] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(Error::InvalidArgument(format!("{name} must be finite and >= 0, got {v}")));
            }
        }
        if self.max_evals == 0 {
            return Err(Error::InvalidArgument("max_evals must be at least 1".into()));
        }
        if let Some(prior) = &self.prior {
            prior.validate(p)?;
        }
        Ok(())
    }
}

/// Why the solver stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The cost stopped decreasing (ftol).
    Ftol,
    /// The step became negligible (xtol).
    Xtol,
    /// The gradient vanished (gtol).
    Gtol,
    /// No parameter is free to move.
    NothingToFit,
    /// The evaluation budget ran out.
    MaxEvals,
    /// The cost is not finite at the start point.
    NonFiniteStart,
    /// No step could reduce the cost any further, although no tolerance was met.
    Stalled,
}

impl Status {
    /// Whether the status counts as convergence.
    pub fn success(self) -> bool {
        matches!(self, Self::Ftol | Self::Xtol | Self::Gtol | Self::NothingToFit)
    }

    /// A scipy-style message.
    pub fn message(self) -> &'static str {
        match self {
            Self::Ftol => "`ftol` termination condition is satisfied.",
            Self::Xtol => "`xtol` termination condition is satisfied.",
            Self::Gtol => "`gtol` termination condition is satisfied.",
            Self::NothingToFit => "every parameter is fixed or held at a bound; nothing to fit.",
            Self::MaxEvals => "The maximum number of function evaluations is exceeded.",
            Self::NonFiniteStart => "The cost is not finite at the initial point.",
            Self::Stalled => "No step reduces the cost further; the tolerances may be too tight.",
        }
    }
}

/// The outcome of one solve.
#[derive(Debug, Clone)]
pub struct LmReport {
    /// Final parameters.
    pub params: Vec<f64>,
    /// Final cost Σ wᵢ·ρ(rᵢ).
    pub cost: f64,
    /// Gradient of the cost at the final parameters.
    pub gradient: Vec<f64>,
    /// Gauss–Newton matrix H (row-major p×p) at the final parameters.
    pub hessian: Vec<f64>,
    /// Cost evaluations used.
    pub n_evals: usize,
    /// Accepted steps.
    pub n_iter: usize,
    /// Termination reason.
    pub status: Status,
}

/// Cost, gradient and Gauss–Newton matrix at one point.
#[derive(Debug, Clone)]
pub struct Accumulated {
    /// Σ wᵢ·ρ(rᵢ).
    pub cost: f64,
    /// Σ wᵢ ρ'ᵢ rᵢ Jᵢ (empty when the Jacobian was not requested).
    pub gradient: Vec<f64>,
    /// Σ wᵢ ρ'ᵢ Jᵢ Jᵢᵀ, row-major p×p (empty when the Jacobian was not requested).
    pub hessian: Vec<f64>,
    /// Σ wᵢ rᵢ² (plain weighted sum of squares, for statistics).
    pub sum_sq: f64,
}

/// Rows per block inside a chunk: the block's residuals and Jacobian live on the stack.
const BLOCK: usize = 256;
/// Largest parameter count served by the stack-buffered kernels.
const MAX_STACK_PARAMS: usize = 12;

/// How an evaluation weighs its residuals: the robust loss, its curvature floor, and whether the
/// gradient and Gauss–Newton matrix are wanted (or the cost alone).
#[derive(Debug, Clone, Copy)]
struct Weighting {
    loss: RobustLoss,
    floor: f64,
    with_jacobian: bool,
}

/// Add one block's cost, gradient and curvature-weighted JᵀJ (upper triangle) for p = `P`.
#[inline(always)]
fn add_rows<const P: usize>(
    residuals: &[f64],
    jac: &[f64],
    weights: &[f64],
    how: Weighting,
    acc: &mut Accumulated,
) {
    let Weighting { loss, floor, with_jacobian } = how;
    let mut g = [0.0; P];
    let mut h = [[0.0; P]; P];
    let (mut cost, mut sum_sq) = (0.0, 0.0);
    for (i, (&r, &w)) in residuals.iter().zip(weights).enumerate() {
        if w == 0.0 {
            continue;
        }
        let (c, rho1, curv) = loss.cost_gradient_curvature(r, floor);
        cost += w * c;
        sum_sq += w * r * r;
        if with_jacobian {
            let row: &[f64; P] = jac[i * P..(i + 1) * P].try_into().expect("row of P values");
            let (wg, wh) = (w * rho1 * r, w * curv);
            for a in 0..P {
                g[a] += wg * row[a];
                let ja = wh * row[a];
                for b in a..P {
                    h[a][b] += ja * row[b];
                }
            }
        }
    }
    acc.cost += cost;
    acc.sum_sq += sum_sq;
    if with_jacobian {
        for a in 0..P {
            acc.gradient[a] += g[a];
            for b in a..P {
                acc.hessian[a * P + b] += h[a][b];
            }
        }
    }
}

/// The same for any p (heap-free but without the fixed-size specialisation).
fn add_rows_dyn(
    p: usize,
    residuals: &[f64],
    jac: &[f64],
    weights: &[f64],
    how: Weighting,
    acc: &mut Accumulated,
) {
    let Weighting { loss, floor, with_jacobian } = how;
    for (i, (&r, &w)) in residuals.iter().zip(weights).enumerate() {
        if w == 0.0 {
            continue;
        }
        let (c, rho1, curv) = loss.cost_gradient_curvature(r, floor);
        acc.cost += w * c;
        acc.sum_sq += w * r * r;
        if with_jacobian {
            let row = &jac[i * p..(i + 1) * p];
            for a in 0..p {
                acc.gradient[a] += w * rho1 * r * row[a];
                let ja = w * curv * row[a];
                for b in a..p {
                    acc.hessian[a * p + b] += ja * row[b];
                }
            }
        }
    }
}

fn accumulate_chunk<P: Problem>(
    problem: &P,
    params: &[f64],
    prepared: &P::Prepared,
    how: Weighting,
    start: usize,
    len: usize,
) -> Accumulated {
    let with_jacobian = how.with_jacobian;
    let p = problem.n_params();
    let mut acc = Accumulated {
        cost: 0.0,
        gradient: if with_jacobian { vec![0.0; p] } else { Vec::new() },
        hessian: if with_jacobian { vec![0.0; p * p] } else { Vec::new() },
        sum_sq: 0.0,
    };
    let mut residuals = [0.0; BLOCK];
    let mut weights = [0.0; BLOCK];
    let mut stack_jac = [0.0; BLOCK * MAX_STACK_PARAMS];
    let mut heap_jac = if p > MAX_STACK_PARAMS && with_jacobian { vec![0.0; BLOCK * p] } else { Vec::new() };
    let mut offset = 0;
    while offset < len {
        let m = BLOCK.min(len - offset);
        let jac: &mut [f64] = if p > MAX_STACK_PARAMS { &mut heap_jac[..] } else { &mut stack_jac[..] };
        let jac = if with_jacobian { &mut jac[..m * p] } else { &mut jac[..0] };
        let res = &mut residuals[..m];
        problem.eval_chunk(params, prepared, start + offset, res, with_jacobian.then_some(&mut *jac));
        for (i, w) in weights[..m].iter_mut().enumerate() {
            *w = problem.weight(start + offset + i);
        }
        let (res, jac, w) = (&residuals[..m], &*jac, &weights[..m]);
        match p {
            3 => add_rows::<3>(res, jac, w, how, &mut acc),
            4 => add_rows::<4>(res, jac, w, how, &mut acc),
            5 => add_rows::<5>(res, jac, w, how, &mut acc),
            6 => add_rows::<6>(res, jac, w, how, &mut acc),
            7 => add_rows::<7>(res, jac, w, how, &mut acc),
            _ => add_rows_dyn(p, res, jac, w, how, &mut acc),
        }
        offset += m;
    }
    acc
}

/// Evaluate cost (and, when asked, gradient and Gauss–Newton matrix) over every residual.
pub fn accumulate<P: Problem>(
    problem: &P,
    params: &[f64],
    loss: RobustLoss,
    with_jacobian: bool,
) -> Accumulated {
    accumulate_with_floor(problem, params, loss, DEFAULT_CURVATURE_FLOOR, with_jacobian)
}

/// [`accumulate`] with an explicit curvature floor (see [`LmOptions::curvature_floor`]).
pub fn accumulate_with_floor<P: Problem>(
    problem: &P,
    params: &[f64],
    loss: RobustLoss,
    floor: f64,
    with_jacobian: bool,
) -> Accumulated {
    let n = problem.n_residuals();
    let p = problem.n_params();
    let prepared = problem.prepare(params);
    let n_chunks = n.div_ceil(CHUNK);
    let how = Weighting { loss, floor, with_jacobian };
    let one = |c: usize| {
        let start = c * CHUNK;
        accumulate_chunk(problem, params, &prepared, how, start, CHUNK.min(n - start))
    };
    let parts: Vec<Accumulated> = if n >= PARALLEL_MIN {
        (0..n_chunks).into_par_iter().map(one).collect()
    } else {
        (0..n_chunks).map(one).collect()
    };
    let mut total = Accumulated {
        cost: 0.0,
        gradient: if with_jacobian { vec![0.0; p] } else { Vec::new() },
        hessian: if with_jacobian { vec![0.0; p * p] } else { Vec::new() },
        sum_sq: 0.0,
    };
    for part in parts {
        total.cost += part.cost;
        total.sum_sq += part.sum_sq;
        for (t, v) in total.gradient.iter_mut().zip(&part.gradient) {
            *t += v;
        }
        for (t, v) in total.hessian.iter_mut().zip(&part.hessian) {
            *t += v;
        }
    }
    // Mirror the upper triangle.
    for a in 0..p.min(if with_jacobian { p } else { 0 }) {
        for b in 0..a {
            total.hessian[a * p + b] = total.hessian[b * p + a];
        }
    }
    if !total.cost.is_finite() {
        total.cost = f64::INFINITY;
    }
    total
}

/// Solve the symmetric positive-definite system `a x = b` (row-major, size m) by Cholesky.
/// Returns `None` when `a` is not numerically positive definite.
pub fn cholesky_solve(a: &[f64], b: &[f64], m: usize) -> Option<Vec<f64>> {
    let mut l = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..=i {
            let mut s = a[i * m + j];
            for k in 0..j {
                s -= l[i * m + k] * l[j * m + k];
            }
            if i == j {
                if !(s > 0.0) || !s.is_finite() {
                    return None;
                }
                l[i * m + i] = s.sqrt();
            } else {
                l[i * m + j] = s / l[j * m + j];
            }
        }
    }
    let mut y = vec![0.0; m];
    for i in 0..m {
        let s = (0..i).fold(b[i], |s, k| s - l[i * m + k] * y[k]);
        y[i] = s / l[i * m + i];
    }
    let mut x = vec![0.0; m];
    for i in (0..m).rev() {
        let s = (i + 1..m).fold(y[i], |s, k| s - l[k * m + i] * x[k]);
        x[i] = s / l[i * m + i];
    }
    Some(x)
}

fn clamp_into(x: &mut [f64], opts: &LmOptions) {
    for (j, v) in x.iter_mut().enumerate() {
        *v = v.clamp(opts.lower[j], opts.upper[j]);
    }
}

/// Minimise Σ wᵢ·ρ(rᵢ(x)) from `x0` (clamped into the bounds).
///
/// `stop` is polled between iterations; returning true aborts with [`Error::Interrupted`].
pub fn solve<P: Problem>(
    problem: &P,
    x0: &[f64],
    opts: &LmOptions,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<LmReport> {
    let out = solve_inner(problem, x0, opts, stop);
    if let Some(counter) = &opts.progress {
        counter.fetch_add(1, Ordering::Relaxed);
    }
    out
}

fn solve_inner<P: Problem>(
    problem: &P,
    x0: &[f64],
    opts: &LmOptions,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<LmReport> {
    let p = problem.n_params();
    if x0.len() != p {
        return Err(Error::InvalidArgument(format!("start has {} values, expected {p}", x0.len())));
    }
    opts.validate(p)?;
    if let Some(j) = x0.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidValue {
            name: "start",
            index: j,
            value: x0[j],
            reason: "start values must be finite",
        });
    }
    let mut x = x0.to_vec();
    clamp_into(&mut x, opts);
    // Start as IRLS (robust far from the optimum); each good step moves the curvature weights
    // towards the exact Hessian of the cost (fast convergence near the optimum).
    let mut floor = opts.initial_curvature_floor.max(opts.curvature_floor);
    let evaluate = |x: &[f64], floor: f64| {
        let mut acc = accumulate_with_floor(problem, x, opts.loss, floor, true);
        if let Some(prior) = &opts.prior {
            prior.add_to(x, &mut acc);
        }
        acc
    };
    let mut cur = evaluate(&x, floor);
    let mut n_evals = 1;
    let mut n_iter = 0;
    let finish = |x: Vec<f64>, cur: Accumulated, n_evals, n_iter, status| LmReport {
        params: x,
        cost: cur.cost,
        gradient: cur.gradient,
        hessian: cur.hessian,
        n_evals,
        n_iter,
        status,
    };
    if !cur.cost.is_finite() {
        return Ok(finish(x, cur, n_evals, n_iter, Status::NonFiniteStart));
    }
    // MINPACK: a zero column gets scale 1 rather than 0.
    let mut scale: Vec<f64> = (0..p)
        .map(|j| {
            let d = cur.hessian[j * p + j].sqrt();
            if d > 0.0 {
                d
            } else {
                1.0
            }
        })
        .collect();
    // Damping μ·D² with D² ≈ diag(H) (Marquardt's scaling): μ itself is dimensionless.
    // A cold start gets Nielsen's damping τ·max diag(H) (conservative: it keeps a weak early model
    // from flinging x into a distant flat valley); a polish of a point already near the optimum
    // starts with the dimensionless μ = 1e-3 against Marquardt's scaling D² ≈ diag(H).
    // MINPACK's initial trust radius: factor·‖D·x0‖ (factor 100), or the factor itself at x0 = 0.
    let scaled_x0 = x.iter().zip(&scale).map(|(v, d)| (v * d).powi(2)).sum::<f64>().sqrt();
    let mut radius = if scaled_x0 > 0.0 { TRUST_FACTOR * scaled_x0 } else { TRUST_FACTOR };
    let max_diag = (0..p).map(|j| cur.hessian[j * p + j]).fold(0.0, f64::max);
    let polish = opts.initial_curvature_floor < 1.0;
    // Whether a failed first polish step is retried with the IRLS curvature (which differs from
    // the exact one only for a robust loss).
    let mut retry_irls = polish && opts.loss != RobustLoss::Linear && opts.curvature_floor < 1.0;
    let mut mu = if polish { 1e-3 } else { 1e-3 * max_diag.max(1.0) };
    let mut nu = 2.0;
    // Actual over predicted decrease of the last accepted step (0: none yet).
    let mut last_ratio = 0.0_f64;
    loop {
        if stop() {
            return Err(Error::Interrupted);
        }
        for (j, s) in scale.iter_mut().enumerate() {
            *s = s.max(cur.hessian[j * p + j].sqrt());
        }
        // Free set: not fixed and not pressed against a bound.
        let free: Vec<usize> = (0..p)
            .filter(|&j| {
                let pressed_low = x[j] <= opts.lower[j] && cur.gradient[j] > 0.0;
                let pressed_high = x[j] >= opts.upper[j] && cur.gradient[j] < 0.0;
                !(opts.fixed[j] || pressed_low || pressed_high)
            })
            .collect();
        if free.is_empty() {
            return Ok(finish(x, cur, n_evals, n_iter, Status::NothingToFit));
        }
        let m = free.len();
        // Scaled gradient test, invariant to the scale of the parameters and of the cost.
        let cost_scale = (2.0 * cur.cost).sqrt().max(f64::MIN_POSITIVE);
        let gmax = free
            .iter()
            .map(|&j| {
                let d = cur.hessian[j * p + j].sqrt();
                if d > 0.0 {
                    cur.gradient[j].abs() / (d * cost_scale)
                } else {
                    0.0
                }
            })
            .fold(0.0, f64::max);
        if gmax <= opts.gtol {
            return Ok(finish(x, cur, n_evals, n_iter, Status::Gtol));
        }
        // Inner loop: raise μ until a step reduces the cost.
        let mut first_attempt = true;
        loop {
            let mut a = vec![0.0; m * m];
            let mut b = vec![0.0; m];
            for (ia, &ja) in free.iter().enumerate() {
                b[ia] = -cur.gradient[ja];
                for (ib, &jb) in free.iter().enumerate() {
                    a[ia * m + ib] = cur.hessian[ja * p + jb];
                }
                let d = scale[ja].max(1e-300);
                a[ia * m + ia] += mu * d * d;
            }
            let mut step = match cholesky_solve(&a, &b, m) {
                Some(s) => s,
                None => {
                    mu *= nu;
                    nu *= 2.0;
                    if !mu.is_finite() {
                        return Ok(finish(x, cur, n_evals, n_iter, Status::Stalled));
                    }
                    continue;
                }
            };
            // Trust radius on the scaled step (MINPACK's Δ): a weak early model cannot fling x
            // into a distant flat valley in one step, however small μ has become.
            let scaled = free.iter().zip(&step).map(|(&j, d)| (d * scale[j]).powi(2)).sum::<f64>().sqrt();
            if scaled > radius {
                let shrink = radius / scaled;
                step.iter_mut().for_each(|d| *d *= shrink);
            }
            let mut x_new = x.clone();
            for (ia, &ja) in free.iter().enumerate() {
                x_new[ja] += step[ia];
            }
            clamp_into(&mut x_new, opts);
            let delta: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
            // Predicted decrease of the quadratic model for the (projected) step.
            let mut g_d = 0.0;
            let mut d_h_d = 0.0;
            for a_ in 0..p {
                g_d += cur.gradient[a_] * delta[a_];
                for b_ in 0..p {
                    d_h_d += delta[a_] * cur.hessian[a_ * p + b_] * delta[b_];
                }
            }
            let predicted = -(g_d + 0.5 * d_h_d);
            let step_norm = delta.iter().zip(&scale).map(|(d, s)| (d * s).powi(2)).sum::<f64>().sqrt();
            let x_norm = x.iter().zip(&scale).map(|(v, s)| (v * s).powi(2)).sum::<f64>().sqrt();
            if step_norm <= opts.xtol * (x_norm + opts.xtol) {
                return Ok(finish(x, cur, n_evals, n_iter, Status::Xtol));
            }
            // Converged without another evaluation: the last step did what the quadratic model
            // promised, this one is an (almost) undamped Gauss–Newton step, and the model
            // promises less than ftol. Saves the confirming pass over the data.
            let trusted = (0.9..1.1).contains(&last_ratio) && mu <= 1e-2 && first_attempt;
            if trusted && predicted >= 0.0 && predicted <= opts.ftol * cur.cost {
                return Ok(finish(x, cur, n_evals, n_iter, Status::Ftol));
            }
            first_attempt = false;
            if n_evals >= opts.max_evals {
                return Ok(finish(x, cur, n_evals, n_iter, Status::MaxEvals));
            }
            let trial = evaluate(&x_new, floor);
            n_evals += 1;
            let actual = cur.cost - trial.cost;
            let ratio = if predicted > 0.0 { actual / predicted } else { -1.0 };
            if trial.cost.is_finite() && actual > 0.0 && ratio > 1e-4 {
                let ftol_met = actual <= opts.ftol * cur.cost && predicted <= opts.ftol * cur.cost;
                x = x_new;
                cur = trial;
                n_iter += 1;
                last_ratio = ratio;
                if ratio > 0.75 {
                    radius = radius.max(2.0 * step_norm);
                } else if ratio < 0.25 {
                    radius = radius.min(step_norm.max(f64::MIN_POSITIVE));
                }
                mu *= (1.0 / 3.0_f64).max(1.0 - (2.0 * ratio - 1.0).powi(3));
                nu = 2.0;
                if ratio > 0.5 {
                    floor = (floor * 0.3).max(opts.curvature_floor);
                }
                if ftol_met {
                    return Ok(finish(x, cur, n_evals, n_iter, Status::Ftol));
                }
                break;
            }
            if trial.cost.is_finite()
                && actual >= 0.0
                && actual <= opts.ftol * cur.cost
                && predicted >= 0.0
                && predicted <= opts.ftol * cur.cost
            {
                return Ok(finish(x, cur, n_evals, n_iter, Status::Ftol));
            }
            // A polish (a start taken to be next to the optimum: exact curvature, light damping)
            // whose first step fails did not start there: the step is retried with the IRLS
            // curvature at this point (the robust model of a cold start), the trust radius kept,
            // instead of shrinking the radius with each rejection and crawling to the optimum.
            if retry_irls && n_iter == 0 && n_evals == 2 {
                retry_irls = false;
                floor = 1.0_f64.max(opts.curvature_floor);
                cur = evaluate(&x, floor);
                n_evals += 1;
                continue;
            }
            // Rejected: shrink the trust radius with the damping.
            radius = radius.min(0.5 * step_norm).max(f64::MIN_POSITIVE);
            mu *= nu;
            nu *= 2.0;
            if !mu.is_finite() || mu > 1e300 {
                return Ok(finish(x, cur, n_evals, n_iter, Status::Stalled));
            }
        }
    }
}

/// MINPACK's `factor`: the first trust radius is this multiple of the scaled start ‖D·x0‖.
const TRUST_FACTOR: f64 = 1.0;

#[cfg(test)]
mod tests {
    use super::*;

    /// Residuals f(q, x) − y in linear space of a P-parameter curve `f`, which returns the
    /// prediction at x and, when asked, writes its gradient in q.
    struct Curve<const P: usize> {
        x: Vec<f64>,
        y: Vec<f64>,
        f: fn(&[f64], f64, Option<&mut [f64]>) -> f64,
    }

    impl<const P: usize> Problem for Curve<P> {
        type Prepared = ();
        fn n_params(&self) -> usize {
            P
        }
        fn n_residuals(&self) -> usize {
            self.x.len()
        }
        fn prepare(&self, _: &[f64]) {}
        fn eval_chunk(&self, q: &[f64], _: &(), start: usize, r: &mut [f64], jac: Option<&mut [f64]>) {
            let mut jac = jac;
            for i in 0..r.len() {
                let row = jac.as_deref_mut().map(|j| &mut j[P * i..P * (i + 1)]);
                r[i] = (self.f)(q, self.x[start + i], row) - self.y[start + i];
            }
        }
    }

    /// y = a·exp(−b·x) + c.
    type Exp = Curve<3>;

    fn exp_curve(q: &[f64], x: f64, g: Option<&mut [f64]>) -> f64 {
        let e = (-q[1] * x).exp();
        if let Some(g) = g {
            g.copy_from_slice(&[e, -q[0] * x * e, 1.0]);
        }
        q[0] * e + q[2]
    }

    fn data(n: usize) -> Exp {
        let x: Vec<f64> = (0..n).map(|i| i as f64 / n as f64 * 5.0).collect();
        let y = x
            .iter()
            .enumerate()
            .map(|(i, x)| 2.0 * (-1.3 * x).exp() + 0.5 + 1e-3 * ((i * 7919 % 101) as f64 / 50.0 - 1.0))
            .collect();
        Exp { x, y, f: exp_curve }
    }

    #[test]
    fn recovers_parameters() {
        let prob = data(500);
        let rep = solve(&prob, &[1.0, 0.5, 0.0], &LmOptions::new(3), &|| false).unwrap();
        assert!(rep.status.success(), "{:?}", rep.status);
        assert!((rep.params[0] - 2.0).abs() < 1e-2 && (rep.params[1] - 1.3).abs() < 1e-2);
        assert!(rep.gradient.iter().all(|g| g.abs() < 1e-8));
    }

    #[test]
    fn respects_bounds_and_fixed() {
        let prob = data(300);
        let mut opts = LmOptions::new(3);
        opts.upper[2] = 0.3;
        opts.fixed[0] = true;
        let rep = solve(&prob, &[2.5, 0.5, 0.0], &opts, &|| false).unwrap();
        assert_eq!(rep.params[0], 2.5);
        assert!(rep.params[2] <= 0.3);
        assert!((rep.params[2] - 0.3).abs() < 1e-12, "bound should be active: {}", rep.params[2]);
    }

    #[test]
    fn bit_identical_across_thread_counts() {
        let prob = data(200_000);
        let run = |k| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(k)
                .build()
                .unwrap()
                .install(|| solve(&prob, &[1.0, 0.5, 0.0], &LmOptions::new(3), &|| false).unwrap())
        };
        let (a, b) = (run(1), run(2));
        assert_eq!(a.params, b.params);
        assert_eq!(a.cost.to_bits(), b.cost.to_bits());
    }

    #[test]
    fn interrupt_is_an_error() {
        let prob = data(100);
        let err = solve(&prob, &[1.0, 0.5, 0.0], &LmOptions::new(3), &|| true).unwrap_err();
        assert_eq!(err, Error::Interrupted);
    }

    #[test]
    fn cholesky_solves() {
        let a = [4.0, 2.0, 2.0, 3.0];
        let x = cholesky_solve(&a, &[2.0, 1.0], 2).unwrap();
        assert!((4.0 * x[0] + 2.0 * x[1] - 2.0).abs() < 1e-14);
        assert!(cholesky_solve(&[0.0, 0.0, 0.0, 1.0], &[1.0, 1.0], 2).is_none());
    }

    /// y ≈ a·x + b: linear least squares, so the MAP estimate under a Gaussian prior has a closed
    /// form, (JᵀJ + W)·θ = Jᵀy + W·μ.
    fn line(q: &[f64], x: f64, g: Option<&mut [f64]>) -> f64 {
        if let Some(g) = g {
            g.copy_from_slice(&[x, 1.0]);
        }
        q[0] * x + q[1]
    }

    #[test]
    fn prior_gives_the_closed_form_map_estimate_and_its_curvature() {
        let x: Vec<f64> = (0..50).map(|i| i as f64 / 10.0).collect();
        let y: Vec<f64> =
            x.iter().enumerate().map(|(i, v)| 0.7 * v + 2.0 + 0.1 * ((i * 7) % 5) as f64).collect();
        let prob = Curve::<2> { x: x.clone(), y: y.clone(), f: line };
        let (mean, weight) = (vec![0.0, 5.0], vec![3.0, 40.0]);
        let mut opts = LmOptions::new(2);
        opts.prior = Some(Prior { mean: mean.clone(), weight: weight.clone() });
        let rep = solve(&prob, &[0.0, 0.0], &opts, &|| false).unwrap();
        // Normal equations of the penalised problem.
        let (sxx, sx, n) = (x.iter().map(|v| v * v).sum::<f64>(), x.iter().sum::<f64>(), x.len() as f64);
        let (sxy, sy) = (x.iter().zip(&y).map(|(a, b)| a * b).sum::<f64>(), y.iter().sum::<f64>());
        let a = [sxx + weight[0], sx, sx, n + weight[1]];
        let b = [sxy + weight[0] * mean[0], sy + weight[1] * mean[1]];
        let want = cholesky_solve(&a, &b, 2).unwrap();
        for j in 0..2 {
            assert!((rep.params[j] - want[j]).abs() < 1e-7, "param {j}: {} vs {}", rep.params[j], want[j]);
            for k in 0..2 {
                assert!((rep.hessian[j * 2 + k] - a[j * 2 + k]).abs() < 1e-9 * a[j * 2 + k].abs().max(1.0));
            }
        }
        // Without the prior the estimate is the ordinary least-squares one, which differs.
        let plain = solve(&prob, &[0.0, 0.0], &LmOptions::new(2), &|| false).unwrap();
        assert!((plain.params[1] - rep.params[1]).abs() > 1e-3);
    }

    #[test]
    fn invalid_priors_are_errors() {
        let prob = data(20);
        for (mean, weight) in [
            (vec![0.0; 2], vec![1.0; 2]),
            (vec![0.0; 3], vec![-1.0, 0.0, 0.0]),
            (vec![f64::NAN, 0.0, 0.0], vec![1.0, 0.0, 0.0]),
        ] {
            let mut opts = LmOptions::new(3);
            opts.prior = Some(Prior { mean, weight });
            assert!(solve(&prob, &[1.0, 0.5, 0.0], &opts, &|| false).is_err());
        }
    }
}
