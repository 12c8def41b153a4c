//! Streaming Levenberg–Marquardt with bounds, robust losses and multi-start.
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
}

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
        }
    }

    fn check(&self, p: usize) -> Result<()> {
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

/// Residual and Jacobian buffers reused across the evaluations of one solve, so that the many
/// small fits of a batch do not allocate per evaluation.
#[derive(Default)]
struct Scratch {
    residuals: Vec<f64>,
    jac: Vec<f64>,
}

#[allow(clippy::too_many_arguments)]
fn accumulate_chunk<P: Problem>(
    problem: &P,
    params: &[f64],
    prepared: &P::Prepared,
    loss: RobustLoss,
    start: usize,
    len: usize,
    with_jacobian: bool,
    scratch: &mut Scratch,
) -> Accumulated {
    let p = problem.n_params();
    let Scratch { residuals, jac } = scratch;
    residuals.clear();
    residuals.resize(len, 0.0);
    jac.clear();
    if with_jacobian {
        jac.resize(len * p, 0.0);
    }
    problem.eval_chunk(params, prepared, start, residuals, with_jacobian.then_some(&mut jac[..]));
    let residuals = &residuals[..];
    let jac = &jac[..];
    let mut acc = Accumulated {
        cost: 0.0,
        gradient: if with_jacobian { vec![0.0; p] } else { Vec::new() },
        hessian: if with_jacobian { vec![0.0; p * p] } else { Vec::new() },
        sum_sq: 0.0,
    };
    if with_jacobian {
        // Small parameter counts get a fully unrolled loop (same operations in the same order).
        match p {
            1 => accumulate_fixed::<P, 1>(problem, loss, start, residuals, jac, &mut acc),
            2 => accumulate_fixed::<P, 2>(problem, loss, start, residuals, jac, &mut acc),
            3 => accumulate_fixed::<P, 3>(problem, loss, start, residuals, jac, &mut acc),
            4 => accumulate_fixed::<P, 4>(problem, loss, start, residuals, jac, &mut acc),
            5 => accumulate_fixed::<P, 5>(problem, loss, start, residuals, jac, &mut acc),
            6 => accumulate_fixed::<P, 6>(problem, loss, start, residuals, jac, &mut acc),
            7 => accumulate_fixed::<P, 7>(problem, loss, start, residuals, jac, &mut acc),
            _ => accumulate_any(problem, loss, start, residuals, jac, p, &mut acc),
        }
        return acc;
    }
    for (i, &r) in residuals.iter().enumerate() {
        let w = problem.weight(start + i);
        if w == 0.0 {
            continue;
        }
        let (c, _) = loss.cost_and_weight(r);
        acc.cost += w * c;
        acc.sum_sq += w * r * r;
    }
    acc
}

/// Cost, gradient and the upper triangle of H for rows of `P` parameters.
fn accumulate_fixed<Q: Problem, const P: usize>(
    problem: &Q,
    loss: RobustLoss,
    start: usize,
    residuals: &[f64],
    jac: &[f64],
    acc: &mut Accumulated,
) {
    let mut grad = [0.0; P];
    let mut hess = [[0.0; P]; P];
    for (i, (&r, row)) in residuals.iter().zip(jac.chunks_exact(P)).enumerate() {
        let w = problem.weight(start + i);
        if w == 0.0 {
            continue;
        }
        let (c, rho1) = loss.cost_and_weight(r);
        acc.cost += w * c;
        acc.sum_sq += w * r * r;
        let wr = w * rho1;
        for a in 0..P {
            let ja = wr * row[a];
            grad[a] += ja * r;
            for b in a..P {
                hess[a][b] += ja * row[b];
            }
        }
    }
    for a in 0..P {
        acc.gradient[a] = grad[a];
        for b in a..P {
            acc.hessian[a * P + b] = hess[a][b];
        }
    }
}

/// [`accumulate_fixed`] for any parameter count.
fn accumulate_any<Q: Problem>(
    problem: &Q,
    loss: RobustLoss,
    start: usize,
    residuals: &[f64],
    jac: &[f64],
    p: usize,
    acc: &mut Accumulated,
) {
    for (i, &r) in residuals.iter().enumerate() {
        let w = problem.weight(start + i);
        if w == 0.0 {
            continue;
        }
        let (c, rho1) = loss.cost_and_weight(r);
        acc.cost += w * c;
        acc.sum_sq += w * r * r;
        let row = &jac[i * p..(i + 1) * p];
        let wr = w * rho1;
        for a in 0..p {
            let ja = wr * row[a];
            acc.gradient[a] += ja * r;
            for b in a..p {
                acc.hessian[a * p + b] += ja * row[b];
            }
        }
    }
}

/// Evaluate cost (and, when asked, gradient and Gauss–Newton matrix) over every residual.
pub fn accumulate<P: Problem>(
    problem: &P,
    params: &[f64],
    loss: RobustLoss,
    with_jacobian: bool,
) -> Accumulated {
    accumulate_with(problem, params, loss, with_jacobian, &mut Scratch::default())
}

fn accumulate_with<P: Problem>(
    problem: &P,
    params: &[f64],
    loss: RobustLoss,
    with_jacobian: bool,
    scratch: &mut Scratch,
) -> Accumulated {
    let n = problem.n_residuals();
    let p = problem.n_params();
    let prepared = problem.prepare(params);
    let n_chunks = n.div_ceil(CHUNK);
    let one = |c: usize, scratch: &mut Scratch| {
        let start = c * CHUNK;
        accumulate_chunk(
            problem,
            params,
            &prepared,
            loss,
            start,
            CHUNK.min(n - start),
            with_jacobian,
            scratch,
        )
    };
    let mut total = if n_chunks == 1 {
        // One chunk (small fits): its sums are the totals. `+ 0.0` keeps the result identical to
        // adding the chunk into zeros below (it turns −0 into +0).
        let mut only = one(0, scratch);
        only.cost += 0.0;
        only.sum_sq += 0.0;
        only.gradient.iter_mut().chain(only.hessian.iter_mut()).for_each(|v| *v += 0.0);
        only
    } else {
        Accumulated {
            cost: 0.0,
            gradient: if with_jacobian { vec![0.0; p] } else { Vec::new() },
            hessian: if with_jacobian { vec![0.0; p * p] } else { Vec::new() },
            sum_sq: 0.0,
        }
    };
    let parts: Vec<Accumulated> = if n_chunks == 1 {
        Vec::new()
    } else if n >= PARALLEL_MIN {
        (0..n_chunks).into_par_iter().map(|c| one(c, &mut Scratch::default())).collect()
    } else {
        (0..n_chunks).map(|c| one(c, scratch)).collect()
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
    let mut x = vec![0.0; m];
    cholesky_solve_into(a, b, m, &mut Vec::new(), &mut Vec::new(), &mut x).then_some(x)
}

/// [`cholesky_solve`] writing the solution into `x` (length m), with work buffers `l` and `y`;
/// returns false when `a` is not numerically positive definite.
fn cholesky_solve_into(
    a: &[f64],
    b: &[f64],
    m: usize,
    l: &mut Vec<f64>,
    y: &mut Vec<f64>,
    x: &mut [f64],
) -> bool {
    l.clear();
    l.resize(m * m, 0.0);
    for i in 0..m {
        for j in 0..=i {
            let mut s = a[i * m + j];
            for k in 0..j {
                s -= l[i * m + k] * l[j * m + k];
            }
            if i == j {
                if !(s > 0.0) || !s.is_finite() {
                    return false;
                }
                l[i * m + i] = s.sqrt();
            } else {
                l[i * m + j] = s / l[j * m + j];
            }
        }
    }
    y.clear();
    y.resize(m, 0.0);
    for i in 0..m {
        let s = (0..i).fold(b[i], |s, k| s - l[i * m + k] * y[k]);
        y[i] = s / l[i * m + i];
    }
    for i in (0..m).rev() {
        let s = (i + 1..m).fold(y[i], |s, k| s - l[k * m + i] * x[k]);
        x[i] = s / l[i * m + i];
    }
    true
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
    let p = problem.n_params();
    if x0.len() != p {
        return Err(Error::InvalidArgument(format!("start has {} values, expected {p}", x0.len())));
    }
    opts.check(p)?;
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
    let mut scratch = Scratch::default();
    let mut cur = accumulate_with(problem, &x, opts.loss, true, &mut scratch);
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
    let max_diag = (0..p).map(|j| cur.hessian[j * p + j]).fold(0.0, f64::max);
    let mut mu = 1e-3 * max_diag.max(f64::MIN_POSITIVE);
    let mut nu = 2.0;
    // Work buffers of the iterations.
    let mut free: Vec<usize> = Vec::with_capacity(p);
    let (mut a, mut b, mut step) = (Vec::with_capacity(p * p), Vec::with_capacity(p), vec![0.0; p]);
    let (mut chol_l, mut chol_y) = (Vec::with_capacity(p * p), Vec::with_capacity(p));
    let (mut x_new, mut delta) = (vec![0.0; p], vec![0.0; p]);
    loop {
        if stop() {
            return Err(Error::Interrupted);
        }
        for (j, s) in scale.iter_mut().enumerate() {
            *s = s.max(cur.hessian[j * p + j].sqrt());
        }
        // Free set: not fixed and not pressed against a bound.
        free.clear();
        free.extend((0..p).filter(|&j| {
            let pressed_low = x[j] <= opts.lower[j] && cur.gradient[j] > 0.0;
            let pressed_high = x[j] >= opts.upper[j] && cur.gradient[j] < 0.0;
            !(opts.fixed[j] || pressed_low || pressed_high)
        }));
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
        loop {
            a.clear();
            a.resize(m * m, 0.0);
            b.clear();
            b.resize(m, 0.0);
            for (ia, &ja) in free.iter().enumerate() {
                b[ia] = -cur.gradient[ja];
                for (ib, &jb) in free.iter().enumerate() {
                    a[ia * m + ib] = cur.hessian[ja * p + jb];
                }
                let d = scale[ja].max(1e-300);
                a[ia * m + ia] += mu * d * d;
            }
            if !cholesky_solve_into(&a, &b, m, &mut chol_l, &mut chol_y, &mut step[..m]) {
                mu *= nu;
                nu *= 2.0;
                if !mu.is_finite() {
                    return Ok(finish(x, cur, n_evals, n_iter, Status::Stalled));
                }
                continue;
            }
            x_new.copy_from_slice(&x);
            for (ia, &ja) in free.iter().enumerate() {
                x_new[ja] += step[ia];
            }
            clamp_into(&mut x_new, opts);
            for ((d, xn), xo) in delta.iter_mut().zip(&x_new).zip(&x) {
                *d = xn - xo;
            }
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
            if n_evals >= opts.max_evals {
                return Ok(finish(x, cur, n_evals, n_iter, Status::MaxEvals));
            }
            let trial = accumulate_with(problem, &x_new, opts.loss, true, &mut scratch);
            n_evals += 1;
            let actual = cur.cost - trial.cost;
            let ratio = if predicted > 0.0 { actual / predicted } else { -1.0 };
            if trial.cost.is_finite() && actual > 0.0 && ratio > 1e-4 {
                let ftol_met = actual <= opts.ftol * cur.cost && predicted <= opts.ftol * cur.cost;
                std::mem::swap(&mut x, &mut x_new);
                cur = trial;
                n_iter += 1;
                mu *= (1.0 / 3.0_f64).max(1.0 - (2.0 * ratio - 1.0).powi(3));
                nu = 2.0;
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
            mu *= nu;
            nu *= 2.0;
            if !mu.is_finite() || mu > 1e300 {
                return Ok(finish(x, cur, n_evals, n_iter, Status::Stalled));
            }
        }
    }
}

/// Results of a multi-start run.
#[derive(Debug, Clone)]
pub struct MultiStartReport {
    /// The best solve (lowest cost; the earliest start on ties).
    pub best: LmReport,
    /// Index of the start that produced `best`.
    pub best_start: usize,
    /// How many starts converged (status counts as success).
    pub n_converged: usize,
    /// How many starts ran.
    pub n_starts: usize,
}

/// Run `solve` from every start in parallel; the lowest cost wins.
///
/// When `coarse` is given (a cheaper version of the problem, e.g. every k-th point of a long
/// log), the starts run on it and only the `polish` best of them are refined on `problem`.
pub fn multistart<P: Problem, Q: Problem>(
    problem: &P,
    coarse: Option<&Q>,
    starts: &[Vec<f64>],
    opts: &LmOptions,
    polish: usize,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<MultiStartReport> {
    if starts.is_empty() {
        return Err(Error::InvalidArgument("at least one start is needed".into()));
    }
    let run_all = |xs: &[Vec<f64>], on_full: bool| -> Result<Vec<LmReport>> {
        xs.par_iter()
            .map(|x0| match (on_full, coarse) {
                (false, Some(q)) => solve(q, x0, opts, stop),
                _ => solve(problem, x0, opts, stop),
            })
            .collect()
    };
    let first = run_all(starts, coarse.is_none())?;
    let n_converged_first = first.iter().filter(|r| r.status.success()).count();
    let mut order: Vec<usize> = (0..first.len()).collect();
    order.sort_by(|&a, &b| first[a].cost.total_cmp(&first[b].cost).then(a.cmp(&b)));
    let (finals, indices): (Vec<LmReport>, Vec<usize>) = if coarse.is_some() {
        let keep: Vec<usize> = order.iter().copied().take(polish.max(1)).collect();
        let xs: Vec<Vec<f64>> = keep.iter().map(|&i| first[i].params.clone()).collect();
        (run_all(&xs, true)?, keep)
    } else {
        (first, (0..starts.len()).collect())
    };
    let mut best_k = 0;
    for k in 1..finals.len() {
        let better = finals[k].cost < finals[best_k].cost
            || (finals[k].cost == finals[best_k].cost && indices[k] < indices[best_k]);
        if better {
            best_k = k;
        }
    }
    let n_converged = if coarse.is_some() {
        n_converged_first
    } else {
        finals.iter().filter(|r| r.status.success()).count()
    };
    Ok(MultiStartReport {
        best_start: indices[best_k],
        best: finals[best_k].clone(),
        n_converged,
        n_starts: starts.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// y = a·exp(−b·x) + c, residuals in linear space.
    struct Exp {
        x: Vec<f64>,
        y: Vec<f64>,
    }

    impl Problem for Exp {
        type Prepared = ();
        fn n_params(&self) -> usize {
            3
        }
        fn n_residuals(&self) -> usize {
            self.x.len()
        }
        fn prepare(&self, _: &[f64]) {}
        fn eval_chunk(&self, q: &[f64], _: &(), start: usize, r: &mut [f64], jac: Option<&mut [f64]>) {
            let mut jac = jac;
            for i in 0..r.len() {
                let x = self.x[start + i];
                let e = (-q[1] * x).exp();
                r[i] = q[0] * e + q[2] - self.y[start + i];
                if let Some(j) = jac.as_deref_mut() {
                    j[3 * i] = e;
                    j[3 * i + 1] = -q[0] * x * e;
                    j[3 * i + 2] = 1.0;
                }
            }
        }
    }

    fn data(n: usize) -> Exp {
        let x: Vec<f64> = (0..n).map(|i| i as f64 / n as f64 * 5.0).collect();
        let y = x
            .iter()
            .enumerate()
            .map(|(i, x)| 2.0 * (-1.3 * x).exp() + 0.5 + 1e-3 * ((i * 7919 % 101) as f64 / 50.0 - 1.0))
            .collect();
        Exp { x, y }
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
}
