//! A power law with an irreducible term (Hestness et al. 2017, "Deep Learning Scaling is
//! Predictable, Empirically", arXiv 1712.00409):
//!
//! ```text
//! y(x) = a·x^(−b) + c
//! ```
//!
//! Parameters, in order: `a, b, c`. The model is linear in (a, c) for fixed b; [`grid_starts`]
//! uses that (variable projection on a grid of b) to give data-driven start points.

use crate::error::{Error, Result};
use crate::lm::{LmOptions, Status};
use crate::problem::{DataProblem, Model, Space};
use crate::robust::RobustLoss;
use crate::strategy::{self, MultiStartReport};
use std::sync::Arc;

/// Number of parameters of the law.
pub const N_PARAMS: usize = 3;

/// Exponents b of the variable-projection grid of [`grid_starts`].
pub const B_GRID: [f64; 12] = [0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0];

/// The power law at data points x (stored as log x, shared by clones: a batch of fits on the
/// same x clones one model per fit).
#[derive(Debug, Clone)]
pub struct PowerLawModel {
    ln_x: Arc<[f64]>,
}

impl PowerLawModel {
    /// Build from positive, finite `x`.
    pub fn new(x: &[f64]) -> Result<Self> {
        if let Some((i, &v)) = x.iter().enumerate().find(|(_, v)| !(v.is_finite() && **v > 0.0)) {
            return Err(Error::InvalidValue {
                name: "x",
                index: i,
                value: v,
                reason: "a power law needs positive, finite x",
            });
        }
        Ok(Self { ln_x: x.iter().map(|v| v.ln()).collect() })
    }

    /// log x of the points.
    pub fn ln_x(&self) -> &[f64] {
        &self.ln_x
    }
}

impl Model for PowerLawModel {
    type Prepared = ();

    fn n_params(&self) -> usize {
        N_PARAMS
    }

    fn n_points(&self) -> usize {
        self.ln_x.len()
    }

    fn prepare(&self, _params: &[f64]) {}

    fn eval_chunk(&self, q: &[f64], _: &(), start: usize, values: &mut [f64], gradients: Option<&mut [f64]>) {
        let (a, b, c) = (q[0], q[1], q[2]);
        let ln_x = &self.ln_x[start..start + values.len()];
        match gradients {
            None => {
                for (v, &lx) in values.iter_mut().zip(ln_x) {
                    *v = a * (-b * lx).exp() + c;
                }
            }
            Some(g) => {
                for (i, (v, &lx)) in values.iter_mut().zip(ln_x).enumerate() {
                    let pw = (-b * lx).exp();
                    *v = a * pw + c;
                    g[3 * i] = pw;
                    g[3 * i + 1] = -a * lx * pw;
                    g[3 * i + 2] = 1.0;
                }
            }
        }
    }
}

/// Data-driven starts: for each b of [`B_GRID`], (a, c) by weighted linear least squares on
/// the values (whatever the residual space); the `keep` grid points of lowest squared error, as
/// (a, b, c), clamped into `[lower, upper]`.
pub fn grid_starts(
    x: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
    keep: usize,
    lower: &[f64],
    upper: &[f64],
) -> Vec<Vec<f64>> {
    GridBasis::new(x, weights).starts(y, keep, lower, upper)
}

/// The y-independent part of [`grid_starts`] for fixed abscissae (and weights): u = x^(−b) for
/// every b of [`B_GRID`] and the sums Σw, Σw·u, Σw·u². A batch of fits on one x builds it once;
/// each fit then costs one dot product per grid point (no exponentials).
#[derive(Debug, Clone)]
pub struct GridBasis {
    /// w·u, row-major `B_GRID.len() × n` (w = 1 without weights).
    wu: Vec<f64>,
    weights: Option<Vec<f64>>,
    sw: f64,
    su: [f64; B_GRID.len()],
    suu: [f64; B_GRID.len()],
}

impl GridBasis {
    /// The basis of abscissae `x` (positive) with optional non-negative `weights`.
    pub fn new(x: &[f64], weights: Option<&[f64]>) -> Self {
        let n = x.len();
        let ln_x: Vec<f64> = x.iter().map(|v| v.ln()).collect();
        let w_of = |i: usize| weights.map_or(1.0, |w| w[i]);
        let sw = (0..n).map(w_of).sum();
        let mut wu = vec![0.0; B_GRID.len() * n];
        let (mut su, mut suu) = ([0.0; B_GRID.len()], [0.0; B_GRID.len()]);
        for (g, &b) in B_GRID.iter().enumerate() {
            let row = &mut wu[g * n..(g + 1) * n];
            for (i, (out, &lx)) in row.iter_mut().zip(&ln_x).enumerate() {
                let u = (-b * lx).exp();
                let w = w_of(i);
                *out = w * u;
                su[g] += w * u;
                suu[g] += w * u * u;
            }
        }
        Self { wu, weights: weights.map(<[f64]>::to_vec), sw, su, suu }
    }

    /// The `keep` grid points of lowest weighted squared error for targets `y` (length n).
    pub fn starts(&self, y: &[f64], keep: usize, lower: &[f64], upper: &[f64]) -> Vec<Vec<f64>> {
        best_of_profile(&self.scored(y, lower, upper), keep)
    }

    /// (SSE, clamped (a, b, c)) of every grid point, in grid order; None where the normal
    /// equations are singular or the numbers are not finite. See [`best_of_profile`] and
    /// [`profile_minima`].
    pub fn profile(&self, y: &[f64], lower: &[f64], upper: &[f64]) -> Vec<Option<(f64, [f64; 3])>> {
        self.scored(y, lower, upper)
    }

    /// (SSE, clamped (a, b, c)) of every grid point, in grid order; None where the normal
    /// equations are singular or the numbers are not finite.
    fn scored(&self, y: &[f64], lower: &[f64], upper: &[f64]) -> Vec<Option<(f64, [f64; 3])>> {
        let n = y.len();
        let (mut sy, mut syy) = (0.0, 0.0);
        for (i, &yi) in y.iter().enumerate() {
            let w = self.weights.as_ref().map_or(1.0, |w| w[i]);
            sy += w * yi;
            syy += w * yi * yi;
        }
        let sw = self.sw;
        B_GRID
            .iter()
            .enumerate()
            .map(|(g, &b)| {
                let row = &self.wu[g * n..(g + 1) * n];
                let suy: f64 = row.iter().zip(y).map(|(wu, yi)| wu * yi).sum();
                let (su, suu) = (self.su[g], self.suu[g]);
                // Normal equations of y ≈ a·u + c.
                let det = sw * suu - su * su;
                if !(det.abs() > 1e-300) || !det.is_finite() {
                    return None;
                }
                let a = (sw * suy - su * sy) / det;
                let c = (sy - a * su) / sw;
                // Residual sum of squares at the least-squares (a, c), from centred sums.
                let (cuu, cuy, cyy) = (suu - su * su / sw, suy - su * sy / sw, syy - sy * sy / sw);
                let sse = (cyy - cuy * cuy / cuu).max(0.0);
                if !(sse.is_finite() && a.is_finite() && c.is_finite()) {
                    return None;
                }
                let mut q = [a, b, c];
                for j in 0..3 {
                    q[j] = q[j].clamp(lower[j], upper[j]);
                }
                Some((sse, q))
            })
            .collect()
    }
}

/// The `keep` points of lowest error of a grid profile ([`GridBasis::profile`]), best first.
pub fn best_of_profile(profile: &[Option<(f64, [f64; 3])>], keep: usize) -> Vec<Vec<f64>> {
    let mut scored: Vec<(f64, [f64; 3])> = profile.iter().flatten().copied().collect();
    scored.sort_by(|l, r| l.0.total_cmp(&r.0));
    scored.into_iter().take(keep.max(1)).map(|(_, q)| q.to_vec()).collect()
}

/// The local minima of a grid profile over b (grid points better than both neighbours), best
/// first, at most `keep`: one start per basin of the problem reduced to b. An interior minimum's
/// b is refined to the vertex of the parabola through it and its neighbours in ln b (kept between
/// the neighbours), which saves the reduced solver a step or two.
pub fn profile_minima(profile: &[Option<(f64, [f64; 3])>], keep: usize) -> Vec<Vec<f64>> {
    let sse = |g: usize| profile.get(g).copied().flatten().map_or(f64::INFINITY, |(v, _)| v);
    let mut minima: Vec<(f64, [f64; 3])> = (0..profile.len())
        .filter_map(|g| {
            let (v, mut q) = profile[g]?;
            let left = if g == 0 { f64::INFINITY } else { sse(g - 1) };
            let right = sse(g + 1);
            if !(v <= left && v < right) {
                return None;
            }
            if left.is_finite() && right.is_finite() {
                let (l, m, r) = (B_GRID[g - 1].ln(), B_GRID[g].ln(), B_GRID[g + 1].ln());
                let num = (m - l).powi(2) * (v - right) - (m - r).powi(2) * (v - left);
                let den = (m - l) * (v - right) - (m - r) * (v - left);
                if den != 0.0 {
                    let vertex = m - 0.5 * num / den;
                    if vertex.is_finite() {
                        q[1] = vertex.clamp(l, r).exp();
                    }
                }
            }
            Some((v, q))
        })
        .collect();
    minima.sort_by(|l, r| l.0.total_cmp(&r.0));
    minima.into_iter().take(keep.max(1)).map(|(_, q)| q.to_vec()).collect()
}

/// The outcome of [`separable_fit`].
#[derive(Debug, Clone)]
pub struct SeparableReport {
    /// (a, b, c).
    pub params: [f64; 3],
    /// ½·Σ r² at `params`.
    pub cost: f64,
    /// Termination reason, with the meanings of [`crate::lm::Status`] for the search over b.
    pub status: Status,
    /// Evaluations of the reduced problem (one exponential, or one short Taylor series, per point
    /// each).
    pub n_evals: usize,
}

/// Whether [`separable_fit`] solves the same problem as the general solver: ordinary least
/// squares on the values (linear space, linear loss) with nothing fixed and no prior.
pub fn separable_applicable(space: Space, opts: &LmOptions) -> bool {
    space == Space::Linear
        && opts.loss == RobustLoss::Linear
        && !opts.fixed.iter().any(|f| *f)
        && opts.prior.is_none()
}

/// Abscissae prepared once for [`separable_fit`] and shared by every fit on the same points:
/// log x centred on its mean.
///
/// Working with u = exp(−b·(log x − m)) = x^(−b)·e^(b·m) instead of x^(−b) keeps u near 1 (the
/// shift of the centred sums needs no extra exponential) and the exponent arguments small.
#[derive(Debug, Clone)]
pub struct SeparableX {
    lxc: Vec<f64>,
    mid: f64,
    /// max |log x − m|.
    max_abs: f64,
}

impl SeparableX {
    /// From log x of the points (finite).
    pub fn new(ln_x: &[f64]) -> Self {
        let mid = ln_x.iter().sum::<f64>() / ln_x.len().max(1) as f64;
        let lxc: Vec<f64> = ln_x.iter().map(|v| v - mid).collect();
        let max_abs = lxc.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        Self { lxc, mid, max_abs }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.lxc.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.lxc.is_empty()
    }
}

/// Scratch space of [`separable_fit`] (y centred, x^(−b)), reused from fit to fit.
#[derive(Debug, Clone, Default)]
pub struct SeparableScratch {
    yc: Vec<f64>,
    powers: Powers,
}

/// Largest |(b − b₀)·(log x − m)| for which [`Powers`] uses the Taylor series (degree 7: the
/// remainder is below 1e-19, far under an ulp).
const TAYLOR_RANGE: f64 = 1.0 / 64.0;

/// u = exp(−b·(log x − m)) at the b of a search: by [`crate::fastmath::exp_slice`] at a base b₀,
/// and close to it (the small late steps of the search) as u(b₀)·exp(−(b − b₀)·(log x − m)) with
/// a short Taylor series for the second factor — no division, no range check, within a few
/// ulps of the direct exponential.
#[derive(Debug, Clone, Default)]
struct Powers {
    base_b: f64,
    base: Vec<f64>,
    near: Vec<f64>,
}

impl Powers {
    /// Forget the base (a new fit on `n` points).
    fn reset(&mut self, n: usize) {
        self.base_b = f64::NAN;
        self.base.resize(n, 0.0);
        self.near.resize(n, 0.0);
    }

    /// u at `b`.
    #[inline(always)]
    fn at(&mut self, sx: &SeparableX, b: f64) -> &[f64] {
        let step = b - self.base_b;
        if step.abs() * sx.max_abs <= TAYLOR_RANGE {
            const C: [f64; 8] =
                [1.0, 1.0, 1.0 / 2.0, 1.0 / 6.0, 1.0 / 24.0, 1.0 / 120.0, 1.0 / 720.0, 1.0 / 5040.0];
            for ((o, &ub), &l) in self.near.iter_mut().zip(&self.base).zip(&sx.lxc) {
                let t = -step * l;
                let e = C[0]
                    + t * (C[1] + t * (C[2] + t * (C[3] + t * (C[4] + t * (C[5] + t * (C[6] + t * C[7]))))));
                *o = ub * e;
            }
            &self.near
        } else {
            crate::fastmath::exp_slice(-b, &sx.lxc, &mut self.base);
            self.base_b = b;
            &self.base
        }
    }
}

/// The reduced problem at one b: the optimal (a, c), the cost, its derivative and its
/// curvatures (Gauss–Newton and exact) with respect to b.
#[derive(Debug, Clone, Copy)]
struct Reduced {
    a: f64,
    c: f64,
    cost: f64,
    /// d cost / db.
    g: f64,
    /// Gauss–Newton curvature (Kaufman): |v⊥|², never negative.
    h: f64,
    /// The exact second derivative d² cost / db² (may be negative far from a minimum).
    h_exact: f64,
}

/// Lanes of the sums of [`reduced`]: independent partial sums that the compiler keeps in one
/// vector register (a fixed summation order, so results do not depend on the instruction set).
const LANES: usize = 2;

#[inline(always)]
fn lane_sum(s: [f64; LANES]) -> f64 {
    s[0] + s[1]
}

/// The reduced problem at exponent `b`. `yc` is y minus its mean `y_mean`; `powers` gives
/// u = exp(−b·(log x − m)).
#[inline(always)]
fn reduced(sx: &SeparableX, yc: &[f64], y_mean: f64, b: f64, powers: &mut Powers) -> Option<Reduced> {
    let lxc = &sx.lxc;
    let n = yc.len() as f64;
    let u = powers.at(sx, b);
    // Pass 1: the centred normal equations of y ≈ a'·u + c (accumulated around u = 1, the
    // geometric mean, so that Σ(u − ū)² = Σ(u − 1)² − (Σ(u − 1))²/n does not cancel), and the
    // sums of w = (log x − m)·u for the curvature.
    let [mut s1, mut s2, mut suy, mut sw, mut sww, mut swd] = [[0.0; LANES]; 6];
    let (uc, lc, yk) = (u.chunks_exact(LANES), lxc.chunks_exact(LANES), yc.chunks_exact(LANES));
    let (ur, lr, yr) = (uc.remainder(), lc.remainder(), yk.remainder());
    for ((u4, l4), y4) in uc.zip(lc).zip(yk) {
        for k in 0..LANES {
            let d = u4[k] - 1.0;
            let w = l4[k] * u4[k];
            s1[k] += d;
            s2[k] += d * d;
            suy[k] += u4[k] * y4[k]; // = Σ (u − ū)(y − ȳ), as Σ yc = 0
            sw[k] += w;
            sww[k] += w * w;
            swd[k] += w * d;
        }
    }
    for ((&ui, &li), &yi) in ur.iter().zip(lr).zip(yr) {
        let d = ui - 1.0;
        let w = li * ui;
        s1[0] += d;
        s2[0] += d * d;
        suy[0] += ui * yi;
        sw[0] += w;
        sww[0] += w * w;
        swd[0] += w * d;
    }
    let [s1, s2, suy, sw, sww, swd] = [s1, s2, suy, sw, sww, swd].map(lane_sum);
    let u_mean = 1.0 + s1 / n;
    let suu = s2 - s1 * s1 / n;
    if !(suu > 1e-24 * (s2 + n)) || !suu.is_finite() {
        return None; // u is (numerically) constant: a and c are not separately identifiable
    }
    // (a', c) by least squares in the orthogonal basis {1, u − ū}.
    let a = suy / suu;
    // Pass 2: the residual r, Σ w·r and Σ (log x − m)·w·r. Kaufman's Jacobian of the projected
    // residual is v = ∂r/∂b at fixed (a', c) = −a'·w plus a multiple of u, with its part in
    // span{1, u} removed; r is orthogonal to that span, so the gradient is −a'·Σ w·r.
    let [mut sr2, mut swr, mut slwr] = [[0.0; LANES]; 3];
    for ((u4, l4), y4) in u.chunks_exact(LANES).zip(lxc.chunks_exact(LANES)).zip(yc.chunks_exact(LANES)) {
        for k in 0..LANES {
            let r = a * (u4[k] - u_mean) - y4[k];
            let wr = l4[k] * u4[k] * r;
            sr2[k] += r * r;
            swr[k] += wr;
            slwr[k] += l4[k] * wr;
        }
    }
    for ((&ui, &li), &yi) in ur.iter().zip(lr).zip(yr) {
        let r = a * (ui - u_mean) - yi;
        let wr = li * ui * r;
        sr2[0] += r * r;
        swr[0] += wr;
        slwr[0] += li * wr;
    }
    let [sr2, swr, slwr] = [sr2, swr, slwr].map(lane_sum);
    // |v⊥|² = a'²·(Σw² − (Σw)²/n − (Σ w·(u − ū))²/Σ(u − ū)²).
    let swu = swd - sw * s1 / n;
    let h = (a * a * (sww - sw * sw / n - swu * swu / suu)).max(0.0);
    // The exact second derivative of ½|r(b)|² (a' and c follow b; u' = −w, w' = −(log x − m)·w):
    // h − Σw·r·(2a'·Σw(u − ū) + Σw·r)/Σ(u − ū)² + a'·Σ(log x − m)·w·r; it equals h plus the
    // residual term a'·Σ(log x − m)·w·r at a stationary point.
    let h_exact = h - swr * (2.0 * a * swu + swr) / suu + a * slwr;
    let c = y_mean - a * u_mean;
    let out = Reduced { a, c, cost: 0.5 * sr2, g: -a * swr, h, h_exact };
    (out.cost.is_finite() && a.is_finite() && c.is_finite()).then_some(out)
}

/// Ordinary least squares of y = a·x^(−b) + c by variable projection (Golub & Pereyra 1973, with
/// Kaufman's 1975 Jacobian): for each b, (a, c) are solved exactly, and a Levenberg–Marquardt
/// search over b alone (the solver's step control and ftol/xtol/gtol tests, in one dimension)
/// finds the minimum. Only b's bounds are applied. Returns `None` when the start is degenerate
/// (x^(−b) constant over the data); the caller then uses the general solver.
///
/// `sx` holds the points ([`SeparableX`]), `y` one value per point; `scratch` is reused.
///
/// The step uses the exact second derivative of the reduced cost where it is positive (and not
/// far below the Gauss–Newton curvature), so convergence is quadratic even with large residuals;
/// damping is dropped after a step that the quadratic model predicted well (ratio > 0.75) and
/// restored on a rejected step. The termination tests are MINPACK's: gtol on the cosine between
/// the residual and its derivative, xtol on the step, ftol on both the actual (in absolute value)
/// and the predicted relative reductions.
pub fn separable_fit(
    sx: &SeparableX,
    y: &[f64],
    b0: f64,
    opts: &LmOptions,
    stop: &(dyn Fn() -> bool + Sync),
    scratch: &mut SeparableScratch,
) -> Result<Option<SeparableReport>> {
    if y.len() != sx.len() {
        return Err(Error::LengthMismatch {
            name: "y",
            got: y.len(),
            expected: sx.len(),
            why: "one per point",
        });
    }
    separable_fit_impl(sx, y, b0, opts, stop, scratch)
}

#[inline(always)]
fn separable_fit_impl(
    sx: &SeparableX,
    y: &[f64],
    b0: f64,
    opts: &LmOptions,
    stop: &(dyn Fn() -> bool + Sync),
    scratch: &mut SeparableScratch,
) -> Result<Option<SeparableReport>> {
    let (lo, hi) = (opts.lower[1], opts.upper[1]);
    let n = y.len() as f64;
    let y_mean = y.iter().sum::<f64>() / n;
    let SeparableScratch { yc, powers } = scratch;
    yc.clear();
    yc.extend(y.iter().map(|v| v - y_mean));
    powers.reset(y.len());
    let mut b = b0.clamp(lo, hi);
    let Some(mut cur) = reduced(sx, yc, y_mean, b, powers) else { return Ok(None) };
    let mut n_evals = 1;
    let finish = |b: f64, r: Reduced, status, n_evals| SeparableReport {
        // a = a'·e^(b·m): u = x^(−b)·e^(b·m).
        params: [r.a * (b * sx.mid).exp(), b, r.c],
        cost: r.cost,
        status,
        n_evals,
    };
    let mut scale = if cur.h > 0.0 { cur.h.sqrt() } else { 1.0 };
    let mut mu = 1e-3;
    let mut nu = 2.0;
    loop {
        if stop() {
            return Err(Error::Interrupted);
        }
        scale = scale.max(cur.h.sqrt());
        if (b <= lo && cur.g > 0.0) || (b >= hi && cur.g < 0.0) {
            return Ok(Some(finish(b, cur, Status::NothingToFit, n_evals)));
        }
        let cost_scale = (2.0 * cur.cost).sqrt().max(f64::MIN_POSITIVE);
        let gnorm = if cur.h > 0.0 { cur.g.abs() / (cur.h.sqrt() * cost_scale) } else { 0.0 };
        if gnorm <= opts.gtol {
            return Ok(Some(finish(b, cur, Status::Gtol, n_evals)));
        }
        // Newton's curvature where it is positive (quadratic convergence whatever the size of the
        // residuals), Gauss–Newton's otherwise.
        let curv = if cur.h_exact > 0.1 * cur.h { cur.h_exact } else { cur.h };
        loop {
            let denom = curv + mu * scale * scale;
            if !(denom > 0.0) || !denom.is_finite() {
                return Ok(Some(finish(b, cur, Status::Stalled, n_evals)));
            }
            let b_new = (b - cur.g / denom).clamp(lo, hi);
            let delta = b_new - b;
            let predicted = -(cur.g * delta + 0.5 * curv * delta * delta);
            if (delta * scale).abs() <= opts.xtol * ((b * scale).abs() + opts.xtol) {
                return Ok(Some(finish(b, cur, Status::Xtol, n_evals)));
            }
            if n_evals >= opts.max_evals {
                return Ok(Some(finish(b, cur, Status::MaxEvals, n_evals)));
            }
            let trial = reduced(sx, yc, y_mean, b_new, powers);
            n_evals += 1;
            let trial_cost = trial.map_or(f64::INFINITY, |t| t.cost);
            let actual = cur.cost - trial_cost;
            let ratio = if predicted > 0.0 { actual / predicted } else { -1.0 };
            if let Some(t) = trial.filter(|_| actual > 0.0 && ratio > 1e-4) {
                let ftol_met = actual <= opts.ftol * cur.cost && predicted <= opts.ftol * cur.cost;
                b = b_new;
                cur = t;
                mu *= (1.0 / 3.0_f64).max(1.0 - (2.0 * ratio - 1.0).powi(3));
                if ratio > 0.75 {
                    // The quadratic model was right: undamped Newton steps from here on.
                    mu = 0.0;
                }
                nu = 2.0;
                if ftol_met {
                    return Ok(Some(finish(b, cur, Status::Ftol, n_evals)));
                }
                break;
            }
            // MINPACK's test |actual| ≤ ftol: a trial within rounding of the current cost (either
            // side) when the model predicts no more than ftol ends the search at the current point
            // (without it, a gradient at the rounding floor keeps raising μ in vain).
            if trial_cost.is_finite()
                && actual.abs() <= opts.ftol * cur.cost
                && predicted >= 0.0
                && predicted <= opts.ftol * cur.cost
            {
                return Ok(Some(finish(b, cur, Status::Ftol, n_evals)));
            }
            mu = if mu > 0.0 { mu * nu } else { 1e-3 };
            nu *= 2.0;
            if !mu.is_finite() || mu > 1e300 {
                return Ok(Some(finish(b, cur, Status::Stalled, n_evals)));
            }
        }
    }
}

/// Fit from every start (in parallel); the lowest objective wins.
pub fn fit(
    x: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
    space: Space,
    starts: &[Vec<f64>],
    opts: &LmOptions,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<MultiStartReport> {
    let model = PowerLawModel::new(x)?;
    let problem = DataProblem::new(model, y, weights, space)?;
    strategy::multistart::<_, DataProblem<'_, PowerLawModel>>(&problem, None, starts, opts, 1, stop)
}

/// y(x) for parameters (a, b, c).
pub fn predict(x: &[f64], params: &[f64]) -> Result<Vec<f64>> {
    if params.len() != N_PARAMS {
        return Err(Error::InvalidArgument(format!("expected 3 parameters (a, b, c), got {}", params.len())));
    }
    let model = PowerLawModel::new(x)?;
    let mut out = vec![0.0; x.len()];
    model.eval_chunk(params, &(), 0, &mut out, None);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::laws::testing::{central_differences, model_values};

    fn data() -> (Vec<f64>, Vec<f64>) {
        let x: Vec<f64> = (0..40).map(|i| 10f64.powf(1.0 + i as f64 * 0.1)).collect();
        let y = x
            .iter()
            .enumerate()
            .map(|(i, x)| 5.0 * x.powf(-0.4) + 0.3 + 1e-4 * (((i * 13) % 7) as f64 - 3.0))
            .collect();
        (x, y)
    }

    #[test]
    fn gradients_match_finite_differences() {
        let (x, _) = data();
        let m = PowerLawModel::new(&x).unwrap();
        let q = [5.0, 0.4, 0.3];
        let n = x.len();
        let (mut v, mut g) = (vec![0.0; n], vec![0.0; 3 * n]);
        m.eval_chunk(&q, &(), 0, &mut v, Some(&mut g));
        let fds = central_differences(|x| model_values(&m, x), &q, |_| 1e-6);
        for j in 0..3 {
            for i in 0..n {
                let fd = fds[3 * i + j];
                assert!((fd - g[3 * i + j]).abs() < 1e-6 * (1.0 + fd.abs()));
            }
        }
    }

    /// The grid by brute force: (a, c) from the normal equations, the SSE summed point by point.
    fn naive_grid(x: &[f64], y: &[f64], w: &[f64]) -> Vec<(f64, [f64; 3])> {
        let mut out = Vec::new();
        for &b in &B_GRID {
            let u: Vec<f64> = x.iter().map(|v| v.powf(-b)).collect();
            let s = |f: &dyn Fn(usize) -> f64| (0..x.len()).map(|i| w[i] * f(i)).sum::<f64>();
            let (sw, su, suu) = (s(&|_| 1.0), s(&|i| u[i]), s(&|i| u[i] * u[i]));
            let (sy, suy) = (s(&|i| y[i]), s(&|i| u[i] * y[i]));
            let a = (sw * suy - su * sy) / (sw * suu - su * su);
            let c = (sy - a * su) / sw;
            out.push((s(&|i| (a * u[i] + c - y[i]).powi(2)), [a, b, c]));
        }
        out.sort_by(|l, r| l.0.total_cmp(&r.0));
        out
    }

    #[test]
    fn profile_minima_are_the_local_minima_of_the_brute_force_profile() {
        let (lo, hi) = ([f64::NEG_INFINITY; 3], [f64::INFINITY; 3]);
        let x: Vec<f64> = (0..60).map(|i| 10f64.powf(i as f64 * 0.07)).collect();
        let ones = vec![1.0; 60];
        // A sum of two power laws: a profile over b that can dip twice.
        for (b1, b2, mix) in [(0.05, 2.0, 0.5), (0.3, 0.35, 0.5), (0.1, 1.5, 0.9), (0.6, 0.6, 0.0)] {
            let y: Vec<f64> =
                x.iter().map(|v| mix * v.powf(-b1) + (1.0 - mix) * 3.0 * v.powf(-b2) + 0.2).collect();
            let mut by_b = naive_grid(&x, &y, &ones);
            by_b.sort_by(|l, r| l.1[1].total_cmp(&r.1[1]));
            let sse: Vec<f64> = by_b.iter().map(|t| t.0).collect();
            let mut want: Vec<(f64, f64)> = (0..sse.len())
                .filter(|&g| (g == 0 || sse[g] <= sse[g - 1]) && (g + 1 == sse.len() || sse[g] < sse[g + 1]))
                .map(|g| (sse[g], by_b[g].1[1]))
                .collect();
            want.sort_by(|l, r| l.0.total_cmp(&r.0));
            let got = profile_minima(&GridBasis::new(&x, None).profile(&y, &lo, &hi), 12);
            // Each minimum's refined b lies between its grid neighbours.
            assert_eq!(got.len(), want.len(), "b1 {b1} b2 {b2}");
            for (q, (_, b)) in got.iter().zip(&want) {
                let g = B_GRID.iter().position(|v| v == b).unwrap();
                let lo_b = if g == 0 { *b } else { B_GRID[g - 1] };
                let hi_b = if g + 1 == B_GRID.len() { *b } else { B_GRID[g + 1] };
                assert!(q[1] >= lo_b * (1.0 - 1e-12) && q[1] <= hi_b * (1.0 + 1e-12), "{q:?} near {b}");
            }
            assert!(!got.is_empty());
        }
    }

    #[test]
    fn grid_basis_matches_the_brute_force_grid() {
        let (lo, hi) = ([f64::NEG_INFINITY; 3], [f64::INFINITY; 3]);
        for (seed, b_true) in [(1u64, 0.07), (2, 0.35), (3, 0.9), (4, 2.2)] {
            let x: Vec<f64> = (0..50).map(|i| 10f64.powf(0.5 + i as f64 * 0.08)).collect();
            let noise =
                |i: usize| (((i as u64 * 2654435761 + seed * 97) % 1000) as f64 / 1000.0 - 0.5) * 0.01;
            let y: Vec<f64> =
                x.iter().enumerate().map(|(i, v)| 2.0 * v.powf(-b_true) + 0.4 + noise(i)).collect();
            let w: Vec<f64> = (0..50).map(|i| 0.5 + (i % 3) as f64).collect();
            for weights in [None, Some(&w[..])] {
                let ones = vec![1.0; 50];
                let want = naive_grid(&x, &y, weights.unwrap_or(&ones));
                let got = GridBasis::new(&x, weights).starts(&y, 3, &lo, &hi);
                for (g, (_, q)) in got.iter().zip(&want) {
                    for j in 0..3 {
                        assert!((g[j] - q[j]).abs() <= 1e-9 * q[j].abs().max(1.0), "{g:?} vs {q:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn fits_from_grid_starts() {
        let (x, y) = data();
        let opts = LmOptions::new(3);
        let starts = grid_starts(&x, &y, None, 2, &opts.lower, &opts.upper);
        assert_eq!(starts.len(), 2);
        for space in [Space::Linear, Space::Log] {
            let rep = fit(&x, &y, None, space, &starts, &opts, &|| false).unwrap();
            let q = &rep.best.params;
            assert!(rep.best.status.success());
            assert!(
                (q[0] - 5.0).abs() < 0.05 && (q[1] - 0.4).abs() < 3e-3 && (q[2] - 0.3).abs() < 3e-3,
                "{q:?}"
            );
        }
    }

    #[test]
    fn separable_matches_the_general_solver() {
        let (x, y) = data();
        let ln_x: Vec<f64> = x.iter().map(|v| v.ln()).collect();
        let sx = SeparableX::new(&ln_x);
        let mut scratch = SeparableScratch::default();
        let opts = LmOptions::new(3);
        let mut evals = (0, 0);
        for b0 in [0.05, 0.4, 1.5] {
            let sep = separable_fit(&sx, &y, b0, &opts, &|| false, &mut scratch).unwrap().unwrap();
            assert!(sep.status.success(), "{:?}", sep.status);
            let full = fit(&x, &y, None, Space::Linear, &[vec![1.0, b0, 0.0]], &opts, &|| false).unwrap();
            for j in 0..3 {
                let (s, f) = (sep.params[j], full.best.params[j]);
                assert!((s - f).abs() <= 1e-8 * f.abs().max(1e-3), "b0 {b0} param {j}: {s} vs {f}");
            }
            assert!(sep.cost <= full.best.cost * (1.0 + 1e-12));
            evals.0 += sep.n_evals;
            evals.1 += full.best.n_evals;
        }
        // Over the three starts the separable path needs fewer evaluations (not always each one).
        assert!(evals.0 < evals.1, "{evals:?}");
        // A constant x^(−b) (b = 0 pinned by the bounds) is degenerate: the caller falls back.
        let mut pinned = LmOptions::new(3);
        pinned.upper[1] = 0.0;
        assert!(separable_fit(&sx, &y, 0.5, &pinned, &|| false, &mut scratch).unwrap().is_none());
        assert!(separable_applicable(Space::Linear, &opts));
        assert!(!separable_applicable(Space::Log, &opts));
    }

    #[test]
    fn reduced_derivatives_match_finite_differences() {
        let (x, y) = data();
        let ln_x: Vec<f64> = x.iter().map(|v| v.ln()).collect();
        let sx = SeparableX::new(&ln_x);
        let y_mean = y.iter().sum::<f64>() / y.len() as f64;
        let yc: Vec<f64> = y.iter().map(|v| v - y_mean).collect();
        let mut powers = Powers::default();
        let mut at = |b: f64| {
            powers.reset(y.len());
            reduced(&sx, &yc, y_mean, b, &mut powers).unwrap()
        };
        // Far from the minimum (b = 0.4 is the truth), where the exact and Gauss–Newton
        // curvatures differ, and at it.
        for b in [0.15, 0.4, 0.9] {
            let e = 1e-5;
            let (lo, mid, hi) = (at(b - e), at(b), at(b + e));
            let g_fd = (hi.cost - lo.cost) / (2.0 * e);
            let h_fd = (hi.g - lo.g) / (2.0 * e);
            // Central differences are good to about h·e² here.
            let fd_err = mid.h * e * e;
            assert!((mid.g - g_fd).abs() <= 1e-6 * mid.g.abs() + fd_err, "b {b}: g {} vs {g_fd}", mid.g);
            assert!((mid.h_exact - h_fd).abs() <= 1e-6 * h_fd.abs(), "b {b}: h {} vs {h_fd}", mid.h_exact);
            // The model at (a, b, c) reproduces the cost.
            let q = [mid.a * (b * sx.mid).exp(), b, mid.c];
            let p = predict(&x, &q).unwrap();
            let cost: f64 = 0.5 * p.iter().zip(&y).map(|(p, y)| (p - y).powi(2)).sum::<f64>();
            assert!((cost - mid.cost).abs() <= 1e-9 * cost, "{cost} vs {}", mid.cost);
        }
        // Away from the minimum the residual term matters: Gauss–Newton's curvature is not exact.
        let far = at(0.9);
        assert!((far.h_exact - far.h).abs() > 1e-2 * far.h, "{} {}", far.h_exact, far.h);
    }

    #[test]
    fn taylor_powers_match_the_exponential() {
        let ln_x: Vec<f64> = (0..64).map(|i| (10f64).ln() + i as f64 * 0.15).collect();
        let sx = SeparableX::new(&ln_x);
        let mut powers = Powers::default();
        powers.reset(64);
        let b0 = 0.37;
        let base = powers.at(&sx, b0).to_vec();
        for (&u, &l) in base.iter().zip(&sx.lxc) {
            assert!((u - (-b0 * l).exp()).abs() <= 2.3e-16 * u);
        }
        // Steps inside the Taylor range use the base; the values stay within 4 ulps.
        let step = 0.99 * TAYLOR_RANGE / sx.max_abs;
        for b in [b0 + step, b0 - step, b0 + 1e-9, b0] {
            let u = powers.at(&sx, b).to_vec();
            assert_eq!(powers.base_b, b0);
            for (&v, &l) in u.iter().zip(&sx.lxc) {
                let e = (-b * l).exp();
                assert!((v - e).abs() <= 4.0 * f64::EPSILON * e, "b {b}: {v} vs {e}");
            }
        }
        // A larger step recomputes the base.
        let b1 = b0 + 2.0 * step;
        powers.at(&sx, b1);
        assert_eq!(powers.base_b, b1);
    }

    #[test]
    fn rejects_non_positive_x() {
        assert!(PowerLawModel::new(&[1.0, 0.0]).is_err());
        assert!(predict(&[1.0], &[1.0, 1.0]).is_err());
    }
}
