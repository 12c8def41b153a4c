//! Many independent small fits at once: one Levenberg–Marquardt solve (or a handful of starts)
//! per task, tasks spread over rayon's pool. Used by `fit_many` (one power law per row of a
//! matrix) and by the bootstrap (one re-weighted refit per replicate).
//!
//! Every task is computed by the same sequential code whatever the thread count, so results are
//! bit-identical for any number of threads; only the order of work differs.

use crate::error::{Error, Result};
use crate::laws::chinchilla::{ChinchillaData, ChinchillaProblem};
use crate::laws::power::{self, PowerLawModel};
use crate::lm::LmOptions;
use crate::problem::{DataProblem, Problem, Space};
use crate::strategy::{multistart_seq, Stop, TaskResult};
use rayon::prelude::*;

/// Run `task(i)` for `i in 0..n` in parallel, in index order of the output.
pub fn run<T: Send>(n: usize, task: impl Fn(usize) -> Result<T> + Sync + Send) -> Result<Vec<T>> {
    (0..n).into_par_iter().map(task).collect()
}

/// A matrix of tasks: `n_rows` rows of `n_cols` values, row-major, each row using its first
/// `counts[i]` values (rows may be ragged; the rest is padding).
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    /// Row-major values, `n_rows × n_cols`.
    pub values: &'a [f64],
    /// Columns per row.
    pub n_cols: usize,
    /// Used values per row.
    pub counts: &'a [usize],
}

impl<'a> Rows<'a> {
    fn check(&self, name: &'static str) -> Result<()> {
        if self.values.len() != self.counts.len() * self.n_cols {
            return Err(Error::LengthMismatch {
                name,
                got: self.values.len(),
                expected: self.counts.len() * self.n_cols,
                why: "n_rows × n_cols values",
            });
        }
        if let Some((i, &c)) = self.counts.iter().enumerate().find(|(_, c)| **c > self.n_cols) {
            return Err(Error::InvalidValue {
                name: "counts",
                index: i,
                value: c as f64,
                reason: "a row cannot use more values than it has columns",
            });
        }
        Ok(())
    }

    fn row(&self, i: usize) -> &'a [f64] {
        &self.values[i * self.n_cols..i * self.n_cols + self.counts[i]]
    }
}

/// The abscissae of a batch: a row per task, or one row shared by every task.
#[derive(Debug, Clone, Copy)]
pub enum Abscissae<'a> {
    /// Row i of the matrix belongs to task i (same shape and counts as the targets).
    PerRow(Rows<'a>),
    /// The same points for every task (whose target rows must then be complete).
    Shared(&'a [f64]),
}

/// Starts per task: `k` starts of `p` values for every task (`per_task`), or one shared set.
#[derive(Debug, Clone)]
pub enum Starts {
    /// The same starts for every task.
    Shared(Vec<Vec<f64>>),
    /// `k` starts per task, row-major `n_tasks × k × p` (task i's starts are
    /// `values[i·k·p..(i + 1)·k·p]`, one start after the other).
    PerTask {
        /// The start values.
        values: Vec<f64>,
        /// Starts per task.
        k: usize,
    },
    /// Data-driven starts computed per task ([`power::grid_starts`]), this many per task.
    Grid(usize),
}

/// How [`fit_power_rows`] solves each row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PowerMethod {
    /// The general Levenberg–Marquardt solver on (a, b, c).
    Lm,
    /// Variable projection ([`power::separable_fit`]) where it solves the same problem
    /// (least squares on the values, nothing fixed, a and c inside their bounds at the optimum),
    /// the general solver otherwise.
    Auto,
}

/// Fit y = a·x^(−b) + c independently to every row of (`x`, `y`), in parallel.
///
/// Row i uses its first `counts[i]` points; rows with fewer points than free parameters are
/// skipped (NaN parameters, no status). A row with invalid data (x ≤ 0, a non-finite value, a
/// non-positive y in log space) is an error naming the row.
pub fn fit_power_rows(
    x: Abscissae<'_>,
    y: Rows<'_>,
    space: Space,
    starts: &Starts,
    opts: &LmOptions,
    method: PowerMethod,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<TaskResult>> {
    y.check("y")?;
    let shared_model = match x {
        Abscissae::PerRow(xr) => {
            xr.check("x")?;
            if xr.counts != y.counts || xr.n_cols != y.n_cols {
                return Err(Error::InvalidArgument(
                    "x and y must have the same shape and valid points".into(),
                ));
            }
            None
        }
        Abscissae::Shared(xs) => {
            if xs.len() != y.n_cols || y.counts.iter().any(|&c| c != y.n_cols) {
                return Err(Error::InvalidArgument(
                    "a shared x needs one value per column and complete rows of y".into(),
                ));
            }
            // log x once for every task.
            Some(PowerLawModel::new(xs)?)
        }
    };
    let n_rows = y.counts.len();
    let p = power::N_PARAMS;
    if let Starts::PerTask { values, k } = starts {
        if *k == 0 {
            return Err(Error::InvalidArgument("at least one start per fit is needed".into()));
        }
        if values.len() != n_rows * k * p {
            return Err(Error::LengthMismatch {
                name: "starts",
                got: values.len(),
                expected: n_rows * k * p,
                why: "k starts of 3 values per fit",
            });
        }
    }
    let n_free = opts.fixed.iter().filter(|f| !**f).count();
    let separable = method == PowerMethod::Auto && power::separable_applicable(space, opts);
    // Centred log x once for every task when x is shared.
    let shared_sep = match (&shared_model, separable) {
        (Some(m), true) => Some(power::SeparableX::new(m.ln_x())),
        _ => None,
    };
    // The grid's powers x^(−b) once for every task when x is shared.
    let shared_grid = match (x, starts) {
        (Abscissae::Shared(xs), Starts::Grid(_)) => Some(power::GridBasis::new(xs, None)),
        _ => None,
    };
    (0..n_rows)
        .into_par_iter()
        .map_init(power::SeparableScratch::default, |scratch, i| {
            let (xi, yi) = match x {
                Abscissae::PerRow(xr) => (xr.row(i), y.row(i)),
                Abscissae::Shared(xs) => (xs, y.row(i)),
            };
            if xi.len() < n_free {
                return Ok(TaskResult::skipped(p));
            }
            // Validate the row first (x, then y), as the general problem does.
            let own_model = match &shared_model {
                Some(_) => None,
                None => Some(PowerLawModel::new(xi).map_err(|e| in_row(e, i))?),
            };
            let model = shared_model.as_ref().or(own_model.as_ref()).expect("one of the two");
            // Variable projection needs neither the general problem nor its copy of log x.
            let fast = separable && yi.iter().all(|v| v.is_finite());
            let problem = if fast {
                None
            } else {
                Some(DataProblem::new(model.clone(), yi, None, space).map_err(|e| in_row(e, i))?)
            };
            let own_basis;
            let basis = match (&shared_grid, starts) {
                (Some(b), _) => Some(b),
                (None, Starts::Grid(_)) => {
                    own_basis = power::GridBasis::new(xi, None);
                    Some(&own_basis)
                }
                _ => None,
            };
            let profile = basis.map(|b| b.profile(yi, &opts.lower, &opts.upper));
            let grid;
            let row_starts: &[Vec<f64>] = match (starts, &profile) {
                (Starts::Shared(s), _) => s,
                // Read from `flat` below.
                (Starts::PerTask { .. }, _) => &[],
                (Starts::Grid(k), Some(profile)) => {
                    grid = power::best_of_profile(profile, *k);
                    if grid.is_empty() {
                        return Ok(TaskResult::skipped(p));
                    }
                    &grid
                }
                (Starts::Grid(_), None) => unreachable!("a grid always has its basis"),
            };
            let flat = match starts {
                Starts::PerTask { values, k } => Some(&values[i * k * p..(i + 1) * k * p]),
                _ => None,
            };
            if fast {
                let own;
                let sx = match &shared_sep {
                    Some(sx) => sx,
                    None => {
                        own = power::SeparableX::new(model.ln_x());
                        &own
                    }
                };
                let done = match (flat, starts, &profile) {
                    (Some(f), _, _) => {
                        separable_row(sx, yi, f.chunks_exact(p).map(|q| q[1]), opts, stop, scratch)?
                    }
                    // The reduced problem is one-dimensional in b: one start per dip of the
                    // grid's error profile (neighbouring grid points share a basin).
                    (None, Starts::Grid(k), Some(profile)) => {
                        let minima = power::profile_minima(profile, *k);
                        separable_row(sx, yi, minima.iter().map(|q| q[1]), opts, stop, scratch)?
                    }
                    _ => separable_row(sx, yi, row_starts.iter().map(|q| q[1]), opts, stop, scratch)?,
                };
                if let Some(done) = done {
                    return Ok(done);
                }
            }
            let problem = match problem {
                Some(pr) => pr,
                None => DataProblem::new(model.clone(), yi, None, space).map_err(|e| in_row(e, i))?,
            };
            match flat {
                Some(f) => {
                    let own: Vec<Vec<f64>> = f.chunks_exact(p).map(<[f64]>::to_vec).collect();
                    multistart_seq(&problem, &own, opts, stop)
                }
                None => multistart_seq(&problem, row_starts, opts, stop),
            }
        })
        .collect()
}

/// Variable projection from the b of every start; the lowest cost wins. `None` when it does not
/// apply to this row (degenerate starts, no convergence, or a or c outside their bounds), so that
/// the caller runs the general solver.
fn separable_row(
    sx: &power::SeparableX,
    y: &[f64],
    b0s: impl Iterator<Item = f64>,
    opts: &LmOptions,
    stop: &(dyn Fn() -> bool + Sync),
    scratch: &mut power::SeparableScratch,
) -> Result<Option<TaskResult>> {
    let mut best: Option<power::SeparableReport> = None;
    let (mut n_evals, mut n_converged) = (0, 0);
    for b0 in b0s {
        let Some(rep) = power::separable_fit(sx, y, b0, opts, stop, scratch)? else { return Ok(None) };
        n_evals += rep.n_evals;
        n_converged += usize::from(rep.status.success());
        if best.as_ref().is_none_or(|b| rep.cost < b.cost) {
            best = Some(rep);
        }
    }
    let Some(best) = best else { return Ok(None) };
    let inside = [0, 2].iter().all(|&j| best.params[j] >= opts.lower[j] && best.params[j] <= opts.upper[j]);
    if !best.status.success() || !inside {
        return Ok(None);
    }
    Ok(Some(TaskResult {
        params: best.params.to_vec(),
        cost: best.cost,
        status: Some(best.status),
        n_evals,
        n_converged,
    }))
}

/// Name the row of a batch in an input error.
fn in_row(err: Error, row: usize) -> Error {
    match err {
        Error::Interrupted => Error::Interrupted,
        other => Error::InvalidArgument(format!("row {row}: {other}")),
    }
}

/// Refit the power law once per row of `weights` (`n_rep × n`, e.g. bootstrap multiplicities).
pub fn power_reweighted(
    x: &[f64],
    y: &[f64],
    weights: &[f64],
    space: Space,
    starts: &[Vec<f64>],
    opts: &LmOptions,
    stop: Stop<'_>,
) -> Result<Vec<TaskResult>> {
    let model = PowerLawModel::new(x)?;
    // Validate the targets once; each replicate then shares the model's log x.
    DataProblem::new(model.clone(), y, None, space)?;
    reweighted(x.len(), weights, |w| DataProblem::new(model.clone(), y, Some(w), space), starts, opts, stop)
}

/// Refit the Chinchilla law once per row of `weights` (`n_rep × n`).
pub fn chinchilla_reweighted(
    data: &ChinchillaData,
    weights: &[f64],
    space: Space,
    starts: &[Vec<f64>],
    opts: &LmOptions,
    stop: Stop<'_>,
) -> Result<Vec<TaskResult>> {
    reweighted(data.len(), weights, |w| ChinchillaProblem::new(data, Some(w), space), starts, opts, stop)
}

/// One multi-start solve per row of `weights` (`n_rep × n`, checked), in parallel: `problem(w)`
/// is the data weighted by row `w`.
fn reweighted<'w, P: Problem>(
    n: usize,
    weights: &'w [f64],
    problem: impl Fn(&'w [f64]) -> Result<P> + Sync + Send,
    starts: &[Vec<f64>],
    opts: &LmOptions,
    stop: Stop<'_>,
) -> Result<Vec<TaskResult>> {
    let n_rep = check_weights(weights, n)?;
    run(n_rep, |r| multistart_seq(&problem(&weights[r * n..(r + 1) * n])?, starts, opts, stop))
}

fn check_weights(weights: &[f64], n: usize) -> Result<usize> {
    if n == 0 || weights.len() % n != 0 {
        return Err(Error::InvalidArgument(format!(
            "weights has {} values, not a multiple of the {n} data points",
            weights.len()
        )));
    }
    Ok(weights.len() / n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n_rows: usize, n_cols: usize) -> (Vec<f64>, Vec<f64>, Vec<usize>) {
        let mut x = Vec::new();
        let mut y = Vec::new();
        for r in 0..n_rows {
            let (a, b, c) = (1.0 + r as f64 * 0.1, 0.3 + 0.01 * r as f64, 0.5);
            for j in 0..n_cols {
                let xv = 10f64.powf(1.0 + 4.0 * j as f64 / n_cols as f64);
                x.push(xv);
                y.push(a * xv.powf(-b) + c + 1e-5 * (((r * 7 + j * 3) % 5) as f64 - 2.0));
            }
        }
        (x, y, vec![n_cols; n_rows])
    }

    #[test]
    fn rows_match_single_fits_and_threads() {
        let (x, y, counts) = rows(40, 32);
        let opts = LmOptions::new(3);
        let xr = Abscissae::PerRow(Rows { values: &x, n_cols: 32, counts: &counts });
        let yr = Rows { values: &y, n_cols: 32, counts: &counts };
        let go = |k| {
            rayon::ThreadPoolBuilder::new().num_threads(k).build().unwrap().install(|| {
                fit_power_rows(xr, yr, Space::Linear, &Starts::Grid(2), &opts, PowerMethod::Lm, &|| false)
                    .unwrap()
            })
        };
        let (one, two) = (go(1), go(2));
        for (r, (a, b)) in one.iter().zip(&two).enumerate() {
            assert_eq!(a.params, b.params);
            assert!(a.success());
            let xi = &x[r * 32..(r + 1) * 32];
            let yi = &y[r * 32..(r + 1) * 32];
            let starts = power::grid_starts(xi, yi, None, 2, &opts.lower, &opts.upper);
            let single = power::fit(xi, yi, None, Space::Linear, &starts, &opts, &|| false).unwrap();
            assert_eq!(single.best.params, a.params, "row {r}");
            assert!((a.params[1] - (0.3 + 0.01 * r as f64)).abs() < 1e-3);
        }
    }

    #[test]
    fn separable_rows_agree_with_lm_rows() {
        let (x, y, counts) = rows(60, 48);
        let xr = Abscissae::PerRow(Rows { values: &x, n_cols: 48, counts: &counts });
        let yr = Rows { values: &y, n_cols: 48, counts: &counts };
        let mut opts = LmOptions::new(3);
        opts.lower[0] = 0.0;
        let go = |o: &LmOptions, m| {
            fit_power_rows(xr, yr, Space::Linear, &Starts::Grid(2), o, m, &|| false).unwrap()
        };
        let (lm, auto) = (go(&opts, PowerMethod::Lm), go(&opts, PowerMethod::Auto));
        let one_thread = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| go(&opts, PowerMethod::Auto));
        for (a, b) in auto.iter().zip(&one_thread) {
            assert_eq!(a.params, b.params);
        }
        for (r, (l, a)) in lm.iter().zip(&auto).enumerate() {
            assert!(l.success() && a.success(), "row {r}");
            assert!(a.cost <= l.cost * (1.0 + 1e-10), "row {r}");
            for j in 0..3 {
                assert!((l.params[j] - a.params[j]).abs() <= 1e-6 * l.params[j].abs(), "row {r} param {j}");
            }
        }
        let total = |v: &[TaskResult]| v.iter().map(|t| t.n_evals).sum::<usize>();
        assert!(total(&auto) < total(&lm), "{} vs {}", total(&auto), total(&lm));
        // Robust losses are not separable: the general solver runs, with identical results.
        opts.loss = crate::robust::RobustLoss::Huber(1e-3);
        let (lm, auto) = (go(&opts, PowerMethod::Lm), go(&opts, PowerMethod::Auto));
        for (l, a) in lm.iter().zip(&auto) {
            assert_eq!(l.params, a.params);
        }
    }

    #[test]
    fn shared_abscissae_equal_repeated_rows() {
        let (x, y, counts) = rows(12, 20);
        let opts = LmOptions::new(3);
        let yr = Rows { values: &y, n_cols: 20, counts: &counts };
        let per_row = Abscissae::PerRow(Rows { values: &x, n_cols: 20, counts: &counts });
        for m in [PowerMethod::Lm, PowerMethod::Auto] {
            let a =
                fit_power_rows(per_row, yr, Space::Linear, &Starts::Grid(2), &opts, m, &|| false).unwrap();
            let shared = Abscissae::Shared(&x[..20]);
            let b = fit_power_rows(shared, yr, Space::Linear, &Starts::Grid(2), &opts, m, &|| false).unwrap();
            for (ra, rb) in a.iter().zip(&b) {
                assert_eq!(ra.params, rb.params);
            }
        }
        let short = vec![19; 12];
        let yr_short = Rows { values: &y, n_cols: 20, counts: &short };
        let shared = Abscissae::Shared(&x[..20]);
        assert!(fit_power_rows(
            shared,
            yr_short,
            Space::Linear,
            &Starts::Grid(1),
            &opts,
            PowerMethod::Lm,
            &|| false
        )
        .is_err());
    }

    #[test]
    fn short_rows_are_skipped_and_bad_rows_named() {
        let (x, mut y, mut counts) = rows(3, 8);
        counts[1] = 2;
        let opts = LmOptions::new(3);
        let fit = |y: &[f64]| {
            fit_power_rows(
                Abscissae::PerRow(Rows { values: &x, n_cols: 8, counts: &counts }),
                Rows { values: y, n_cols: 8, counts: &counts },
                Space::Linear,
                &Starts::Grid(1),
                &opts,
                PowerMethod::Auto,
                &|| false,
            )
        };
        let res = fit(&y).unwrap();
        assert!(res[0].success() && !res[1].success() && res[1].params[0].is_nan());
        y[2 * 8 + 3] = f64::NAN;
        let err = fit(&y).unwrap_err();
        assert!(err.to_string().starts_with("row 2:"), "{err}");
    }

    #[test]
    fn unit_weights_reproduce_the_plain_fit() {
        let (x, y, _) = rows(1, 30);
        let opts = LmOptions::new(3);
        let starts = power::grid_starts(&x, &y, None, 2, &opts.lower, &opts.upper);
        let plain = power::fit(&x, &y, None, Space::Linear, &starts, &opts, &|| false).unwrap();
        let w = vec![1.0; 60];
        let reps = power_reweighted(&x, &y, &w, Space::Linear, &starts, &opts, &|| false).unwrap();
        assert_eq!(reps.len(), 2);
        assert_eq!(reps[0].params, plain.best.params);
        assert_eq!(reps[1].params, plain.best.params);
    }
}
