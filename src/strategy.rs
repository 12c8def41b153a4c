//! Multi-start strategies over the Levenberg–Marquardt solver ([`crate::lm`]): plain multi-start
//! (in parallel, or in turn inside a batch task), screening with loose tolerances before
//! polishing the best starts, and ladders of ever finer subsamples of one long problem. Every
//! law's fit goes through these; the solver itself knows only one start.
//!
//! Results never depend on the thread count: starts are solved independently and compared in
//! start order.

use crate::error::{Error, Result};
use crate::lm::{self, LmOptions, LmReport, Status};
use crate::problem::{DataProblem, LinearStats, Model, Observations, Problem};
use rayon::prelude::*;

/// What a stop flag is: polled between iterations; `true` stops the solve with
/// [`Error::Interrupted`].
pub type Stop<'a> = &'a (dyn Fn() -> bool + Sync);

/// A fit's outcome: the best solve of the multi-start and the linear-space residual sums
/// (R², RMSE) at its optimum.
pub type Fitted = (MultiStartReport, LinearStats);

/// The outcome of one task of a batch.
#[derive(Debug, Clone)]
pub struct TaskResult {
    /// Best parameters (NaN when the task was skipped).
    pub params: Vec<f64>,
    /// Objective Σ wᵢ·ρ(rᵢ) at `params` (NaN when skipped).
    pub cost: f64,
    /// Termination of the best start; `None` when the task was skipped (too few points).
    pub status: Option<Status>,
    /// Cost evaluations over every start.
    pub n_evals: usize,
    /// Starts that converged.
    pub n_converged: usize,
}

impl TaskResult {
    /// The result of a task that was not run (too few data points).
    pub fn skipped(p: usize) -> Self {
        Self { params: vec![f64::NAN; p], cost: f64::NAN, status: None, n_evals: 0, n_converged: 0 }
    }

    /// Whether the best start converged.
    pub fn success(&self) -> bool {
        self.status.is_some_and(Status::success)
    }

    /// A scipy-style message.
    pub fn message(&self) -> &'static str {
        self.status
            .map_or("too few data points for the free parameters; the task was skipped", Status::message)
    }
}

/// Solve `problem` from each start in turn (no nested parallelism); the lowest cost wins, the
/// earliest start on ties.
pub fn multistart_seq<P: Problem>(
    problem: &P,
    starts: &[Vec<f64>],
    opts: &LmOptions,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<TaskResult> {
    if starts.is_empty() {
        return Err(Error::InvalidArgument("at least one start is needed".into()));
    }
    let mut best: Option<LmReport> = None;
    let (mut n_evals, mut n_converged) = (0, 0);
    for x0 in starts {
        let rep = lm::solve(problem, x0, opts, stop)?;
        n_evals += rep.n_evals;
        n_converged += usize::from(rep.status.success());
        if best.as_ref().is_none_or(|b| rep.cost < b.cost) {
            best = Some(rep);
        }
    }
    let best = best.expect("at least one start");
    Ok(TaskResult { params: best.params, cost: best.cost, status: Some(best.status), n_evals, n_converged })
}

/// Tolerances of the screening stage of [`screen_and_polish`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Screening {
    /// ftol and xtol of the screening solves (gtol is 1% of it).
    pub tol: f64,
    /// Evaluation budget of each screening solve.
    pub max_evals: usize,
    /// How many of the best screened starts are polished with the full options.
    pub polish: usize,
}

impl Default for Screening {
    fn default() -> Self {
        Self { tol: 1e-2, max_evals: 15, polish: 32 }
    }
}

/// Multi-start in two stages: every start is solved in parallel with loose tolerances
/// (`screen`), then the `screen.polish` lowest-cost results are solved again from where they
/// stopped with `opts`; the lowest polished cost wins (earliest start on ties).
///
/// The winner is therefore a full-tolerance solution, as with [`multistart`], at a fraction
/// of the cost when most starts fall into a few basins (a grid of thousands of starts).
/// `n_converged` counts the screening solves that met their (loose) tolerances.
pub fn screen_and_polish<P: Problem>(
    problem: &P,
    starts: &[Vec<f64>],
    opts: &LmOptions,
    screen: Screening,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<MultiStartReport> {
    if starts.is_empty() {
        return Err(Error::InvalidArgument("at least one start is needed".into()));
    }
    if screen.polish == 0 || starts.len() <= screen.polish {
        return multistart::<P, P>(problem, None, starts, opts, 1, stop);
    }
    let mut loose = opts.clone();
    loose.ftol = opts.ftol.max(screen.tol);
    loose.xtol = opts.xtol.max(screen.tol);
    loose.gtol = opts.gtol.max(0.01 * screen.tol);
    loose.max_evals = screen.max_evals.clamp(1, opts.max_evals);
    let first: Vec<LmReport> = (0..starts.len())
        .into_par_iter()
        .map(|i| lm::solve(problem, &starts[i], &loose, stop))
        .collect::<Result<_>>()?;
    let n_converged = first.iter().filter(|r| r.status.success()).count();
    let mut order: Vec<usize> = (0..first.len()).collect();
    order.sort_by(|&a, &b| first[a].cost.total_cmp(&first[b].cost).then(a.cmp(&b)));
    order.truncate(screen.polish);
    order.sort_unstable();
    let finals: Vec<LmReport> = (0..order.len())
        .into_par_iter()
        .map(|k| lm::solve(problem, &first[order[k]].params, opts, stop))
        .collect::<Result<_>>()?;
    let mut best_k = 0;
    for k in 1..finals.len() {
        if finals[k].cost < finals[best_k].cost {
            best_k = k;
        }
    }
    Ok(MultiStartReport {
        best_start: order[best_k],
        best: finals[best_k].clone(),
        n_converged,
        n_starts: starts.len(),
    })
}

/// Evaluation budget of a start on a coarse subsample.
const COARSE_MAX_EVALS: usize = 400;

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
    // On the subsample, a start still far off after this many evaluations will not win.
    let coarse_opts = coarse_options(opts);
    // The polish starts next to the optimum: exact curvature from the first step.
    let mut polish_opts = opts.clone();
    polish_opts.initial_curvature_floor = opts.curvature_floor;
    let run_all = |xs: &[Vec<f64>], on_full: bool| -> Result<Vec<LmReport>> {
        xs.par_iter()
            .map(|x0| match (on_full, coarse) {
                (false, Some(q)) => lm::solve(q, x0, &coarse_opts, stop),
                (true, Some(_)) => lm::solve(problem, x0, &polish_opts, stop),
                (_, None) => lm::solve(problem, x0, opts, stop),
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

/// Starts run to convergence on the coarsest level of [`multistart_levels`] after screening.
pub const LEVELS_SCREEN_POLISH: usize = 8;

/// Multi-start over a ladder of ever finer versions of one problem.
///
/// Every start runs on `levels[0]` (the coarsest, e.g. a strided subsample of a long log) for a
/// few evaluations, the [`LEVELS_SCREEN_POLISH`] best to convergence; the best result is then
/// polished on each following level in turn, the last being the full
/// problem. Each polish starts next to its level's optimum, so the full problem, the costly one,
/// needs only the two or three evaluations of a converged Newton step. With one level this is
/// plain multi-start.
pub fn multistart_levels<P: Problem>(
    levels: &[&P],
    starts: &[Vec<f64>],
    opts: &LmOptions,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<MultiStartReport> {
    let (first, finer) =
        levels.split_first().ok_or_else(|| Error::InvalidArgument("no problem to solve".into()))?;
    if finer.is_empty() {
        return multistart::<P, P>(first, None, starts, opts, 1, stop);
    }
    // Screen every start with a small budget, then run the best few to convergence: most grid
    // starts fall into the basins of the data-driven ones.
    let screen = Screening { tol: 1e-2, max_evals: 15, polish: LEVELS_SCREEN_POLISH };
    let mut rep = screen_and_polish(*first, starts, &coarse_options(opts), screen, stop)?;
    // A polish starts next to its level's optimum: the exact curvature of the cost (floor 0)
    // gives Newton steps there, converging in two or three evaluations.
    let mut polish_opts = opts.clone();
    polish_opts.curvature_floor = 0.0;
    polish_opts.initial_curvature_floor = 0.0;
    polish_opts.progress = None;
    for (k, level) in finer.iter().enumerate() {
        if k + 1 == finer.len() {
            polish_opts.progress.clone_from(&opts.progress);
        }
        rep.best = lm::solve(*level, &rep.best.params, &polish_opts, stop)?;
    }
    Ok(rep)
}

/// Options of the starts on a coarse version of a problem: a capped evaluation budget.
fn coarse_options(opts: &LmOptions) -> LmOptions {
    let mut coarse = opts.clone();
    coarse.max_evals = opts.max_evals.min(COARSE_MAX_EVALS);
    coarse
}

/// The plain fit of a law given as a [`Model`]: the observations wrapped into a [`DataProblem`],
/// every start solved to `opts` (in parallel; the lowest objective wins), and the linear-space
/// statistics at the optimum from a values-only pass ([`Model::prepare_values`]).
pub fn fit_model<M: Model>(
    model: M,
    observed: Observations<'_>,
    starts: &[Vec<f64>],
    opts: &LmOptions,
    stop: Stop<'_>,
) -> Result<Fitted> {
    let Observations { targets, weights, space } = observed;
    let problem = DataProblem::new(model, targets, weights, space)?;
    let rep = multistart::<_, DataProblem<'_, M>>(&problem, None, starts, opts, 1, stop)?;
    let stats = problem.linear_stats(&rep.best.params);
    Ok((rep, stats))
}
