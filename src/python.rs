//! The Python binding: the only file that knows Python exists. It converts arguments, releases
//! the GIL around every O(n) call, and maps [`Error`] to Python exceptions.

use crate::areas::{self as core_areas, AreaOptions, WarmupMode};
use crate::error::Error;
use crate::laws::momentum::{self, MomentumConfig, RunSchedule};
use crate::laws::momentum_n;
use crate::lm::{LmOptions, MultiStartReport, Status};
use crate::problem::Space;
use crate::robust::RobustLoss;
use numpy::{IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pyo3::create_exception!(
    _core,
    LawfitInputError,
    PyValueError,
    "Bad input to lawfit: the message names the argument, index and value."
);

fn to_py(err: Error) -> PyErr {
    match err {
        Error::Interrupted => PyKeyboardInterrupt::new_err("interrupted"),
        Error::InvalidValue { .. } | Error::LengthMismatch { .. } | Error::InvalidArgument(_) => {
            LawfitInputError::new_err(err.to_string())
        }
    }
}

/// Borrow a 1-D float64 array without copying; the Python layer makes it contiguous first.
fn slice<'a>(name: &str, arr: &'a PyReadonlyArray1<'_, f64>) -> PyResult<&'a [f64]> {
    arr.as_slice()
        .map_err(|_| LawfitInputError::new_err(format!("{name} must be a C-contiguous float64 array")))
}

type F64Array<'py> = Bound<'py, PyArray1<f64>>;

/// S1, S2 (and dS2/dλ when `derivative`) for every step of `lr`.
#[pyfunction]
#[pyo3(signature = (lr, *, decay=0.999, warmup_steps=0, warmup="as_peak", derivative=false))]
fn areas<'py>(
    py: Python<'py>,
    lr: PyReadonlyArray1<'py, f64>,
    decay: f64,
    warmup_steps: usize,
    warmup: &str,
    derivative: bool,
) -> PyResult<(F64Array<'py>, F64Array<'py>, Option<F64Array<'py>>)> {
    let lr = slice("lr", &lr)?;
    let opts = AreaOptions { decay, warmup_steps, warmup: WarmupMode::parse(warmup).map_err(to_py)? };
    let (s1, s2, d) = py
        .detach(|| -> Result<_, Error> {
            let (s1, s2) = core_areas::areas(lr, &opts)?;
            let d = if derivative { Some(core_areas::ds2_ddecay(lr, &opts)?) } else { None };
            Ok((s1, s2, d))
        })
        .map_err(to_py)?;
    Ok((s1.into_pyarray(py), s2.into_pyarray(py), d.map(|d| d.into_pyarray(py))))
}

/// Run `work` off the GIL on a scoped thread while this thread watches for Ctrl-C; the work
/// polls the returned flag between iterations and stops with [`Error::Interrupted`].
fn run_interruptible<T: Send>(
    py: Python<'_>,
    work: impl FnOnce(&(dyn Fn() -> bool + Sync)) -> Result<T, Error> + Send,
) -> PyResult<T> {
    let interrupted = AtomicBool::new(false);
    let result = py.detach(|| {
        std::thread::scope(|scope| {
            // The worker wakes this thread when it finishes, so short calls do not wait out a
            // whole polling interval.
            let waiter = std::thread::current();
            let flag = &interrupted;
            let handle = scope.spawn(move || {
                let out = work(&|| flag.load(Ordering::Relaxed));
                waiter.unpark();
                out
            });
            while !handle.is_finished() {
                std::thread::park_timeout(Duration::from_millis(20));
                if handle.is_finished() {
                    break;
                }
                if Python::attach(|py| py.check_signals()).is_err() {
                    interrupted.store(true, Ordering::Relaxed);
                }
            }
            handle.join()
        })
    });
    match result {
        Ok(r) => r.map_err(to_py),
        Err(_) => Err(pyo3::exceptions::PyRuntimeError::new_err("lawfit internal error: a worker panicked")),
    }
}

fn space_of(name: &str) -> PyResult<Space> {
    match name {
        "log" => Ok(Space::Log),
        "linear" => Ok(Space::Linear),
        other => Err(LawfitInputError::new_err(format!("space must be 'log' or 'linear', got {other:?}"))),
    }
}

fn steps_of(name: &str, arr: &PyReadonlyArray1<'_, i64>) -> PyResult<Vec<usize>> {
    let s = arr
        .as_slice()
        .map_err(|_| LawfitInputError::new_err(format!("{name} must be a C-contiguous int64 array")))?;
    s.iter()
        .enumerate()
        .map(|(i, &v)| {
            usize::try_from(v).map_err(|_| {
                LawfitInputError::new_err(format!("{name}[{i}] is {v}; steps are 1-based positive integers"))
            })
        })
        .collect()
}

/// Build one [`RunSchedule`] per run from Python lists.
fn runs_of<'a>(
    lrs: &'a [PyReadonlyArray1<'_, f64>],
    steps: &[PyReadonlyArray1<'_, i64>],
    warmup_steps: &[usize],
    warmup: &str,
    decay: f64,
) -> PyResult<Vec<RunSchedule<'a>>> {
    if steps.len() != lrs.len() || warmup_steps.len() != lrs.len() {
        return Err(LawfitInputError::new_err(format!(
            "got {} LR arrays, {} step arrays and {} warmup lengths; one of each per run",
            lrs.len(),
            steps.len(),
            warmup_steps.len()
        )));
    }
    let mode = WarmupMode::parse(warmup).map_err(to_py)?;
    lrs.iter()
        .zip(steps)
        .zip(warmup_steps)
        .map(|((lr, st), &w)| {
            Ok(RunSchedule {
                lr: slice("lr", lr)?,
                steps: steps_of("steps", st)?,
                areas: AreaOptions { decay, warmup_steps: w, warmup: mode },
            })
        })
        .collect()
}

fn report_dict<'py>(py: Python<'py>, rep: MultiStartReport) -> PyResult<Bound<'py, PyDict>> {
    let p = rep.best.params.len();
    let d = PyDict::new(py);
    d.set_item("params", rep.best.params.into_pyarray(py))?;
    d.set_item("cost", rep.best.cost)?;
    d.set_item("gradient", rep.best.gradient.into_pyarray(py))?;
    let h = PyArray1::from_vec(py, rep.best.hessian).reshape([p, p])?;
    d.set_item("hessian", h)?;
    d.set_item("n_evals", rep.best.n_evals)?;
    d.set_item("n_iter", rep.best.n_iter)?;
    d.set_item("status", format!("{:?}", rep.best.status))?;
    d.set_item("message", rep.best.status.message())?;
    d.set_item("success", rep.best.status.success())?;
    d.set_item("best_start", rep.best_start)?;
    d.set_item("n_converged", rep.n_converged)?;
    d.set_item("n_starts", rep.n_starts)?;
    Ok(d)
}

/// Solver options from Python arguments.
#[allow(clippy::too_many_arguments)]
fn lm_options(
    p: usize,
    loss: &str,
    delta: f64,
    lower: &[f64],
    upper: &[f64],
    fixed: Vec<bool>,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_evals: usize,
) -> PyResult<LmOptions> {
    let mut opts = LmOptions::new(p);
    opts.loss = RobustLoss::parse(loss, delta).map_err(to_py)?;
    opts.lower = lower.to_vec();
    opts.upper = upper.to_vec();
    opts.fixed = fixed;
    opts.ftol = ftol;
    opts.xtol = xtol;
    opts.gtol = gtol;
    opts.max_evals = max_evals;
    Ok(opts)
}

fn starts_of(starts: &PyReadonlyArray2<'_, f64>) -> Vec<Vec<f64>> {
    starts.as_array().rows().into_iter().map(|r| r.to_vec()).collect()
}

/// Fit the momentum law jointly over runs; returns a dict describing the best solve.
#[pyfunction]
#[pyo3(signature = (lrs, steps, targets, weights, *, warmup_steps, warmup, decay, fit_decay, fit_zeta, zeta,
    loss, delta, space, starts, lower, upper, fixed, ftol, xtol, gtol, max_evals))]
#[allow(clippy::too_many_arguments)]
fn fit_momentum<'py>(
    py: Python<'py>,
    lrs: Vec<PyReadonlyArray1<'py, f64>>,
    steps: Vec<PyReadonlyArray1<'py, i64>>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    warmup_steps: Vec<usize>,
    warmup: &str,
    decay: f64,
    fit_decay: bool,
    fit_zeta: bool,
    zeta: f64,
    loss: &str,
    delta: f64,
    space: &str,
    starts: PyReadonlyArray2<'py, f64>,
    lower: PyReadonlyArray1<'py, f64>,
    upper: PyReadonlyArray1<'py, f64>,
    fixed: Vec<bool>,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_evals: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let runs = runs_of(&lrs, &steps, &warmup_steps, warmup, decay)?;
    let config = MomentumConfig { fit_decay, fit_zeta, zeta };
    let p = 4 + usize::from(fit_decay) + usize::from(fit_zeta);
    let opts = lm_options(
        p,
        loss,
        delta,
        slice("lower", &lower)?,
        slice("upper", &upper)?,
        fixed,
        ftol,
        xtol,
        gtol,
        max_evals,
    )?;
    let targets = slice("loss", &targets)?;
    let weights = weights.as_ref().map(|w| slice("weights", w)).transpose()?;
    let space = space_of(space)?;
    let starts = starts_of(&starts);
    let rep = run_interruptible(py, |stop| {
        momentum::fit(runs, config, targets, weights, space, &starts, &opts, stop)
    })?;
    report_dict(py, rep)
}

/// Momentum-law predictions at the logged steps of each run (runs concatenated).
#[pyfunction]
#[pyo3(signature = (lrs, steps, params, *, warmup_steps, warmup, decay, fit_decay, fit_zeta, zeta))]
#[allow(clippy::too_many_arguments)]
fn predict_momentum<'py>(
    py: Python<'py>,
    lrs: Vec<PyReadonlyArray1<'py, f64>>,
    steps: Vec<PyReadonlyArray1<'py, i64>>,
    params: Vec<f64>,
    warmup_steps: Vec<usize>,
    warmup: &str,
    decay: f64,
    fit_decay: bool,
    fit_zeta: bool,
    zeta: f64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let runs = runs_of(&lrs, &steps, &warmup_steps, warmup, decay)?;
    let config = MomentumConfig { fit_decay, fit_zeta, zeta };
    let out = py.detach(|| momentum::predict(runs, config, &params)).map_err(to_py)?;
    Ok(out.into_pyarray(py))
}

/// Fit the N-extended momentum law jointly over runs of model sizes `sizes`.
#[pyfunction]
#[pyo3(signature = (lrs, steps, sizes, targets, weights, *, warmup_steps, warmup, decay,
    loss, delta, space, starts, lower, upper, fixed, ftol, xtol, gtol, max_evals))]
#[allow(clippy::too_many_arguments)]
fn fit_momentum_n<'py>(
    py: Python<'py>,
    lrs: Vec<PyReadonlyArray1<'py, f64>>,
    steps: Vec<PyReadonlyArray1<'py, i64>>,
    sizes: Vec<f64>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    warmup_steps: Vec<usize>,
    warmup: &str,
    decay: f64,
    loss: &str,
    delta: f64,
    space: &str,
    starts: PyReadonlyArray2<'py, f64>,
    lower: PyReadonlyArray1<'py, f64>,
    upper: PyReadonlyArray1<'py, f64>,
    fixed: Vec<bool>,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_evals: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let runs = runs_of(&lrs, &steps, &warmup_steps, warmup, decay)?;
    let opts = lm_options(
        7,
        loss,
        delta,
        slice("lower", &lower)?,
        slice("upper", &upper)?,
        fixed,
        ftol,
        xtol,
        gtol,
        max_evals,
    )?;
    let targets = slice("loss", &targets)?;
    let weights = weights.as_ref().map(|w| slice("weights", w)).transpose()?;
    let space = space_of(space)?;
    let starts = starts_of(&starts);
    let rep = run_interruptible(py, |stop| {
        momentum_n::fit(runs, &sizes, targets, weights, space, &starts, &opts, stop)
    })?;
    report_dict(py, rep)
}

/// N-extended momentum-law predictions at the logged steps of each run (runs concatenated).
#[pyfunction]
#[pyo3(signature = (lrs, steps, sizes, params, *, warmup_steps, warmup, decay))]
#[allow(clippy::too_many_arguments)]
fn predict_momentum_n<'py>(
    py: Python<'py>,
    lrs: Vec<PyReadonlyArray1<'py, f64>>,
    steps: Vec<PyReadonlyArray1<'py, i64>>,
    sizes: Vec<f64>,
    params: Vec<f64>,
    warmup_steps: Vec<usize>,
    warmup: &str,
    decay: f64,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let runs = runs_of(&lrs, &steps, &warmup_steps, warmup, decay)?;
    let out = py.detach(|| momentum_n::predict(runs, &sizes, &params)).map_err(to_py)?;
    Ok(out.into_pyarray(py))
}

// ---- size laws and batches ----
// Chinchilla (spec §4), the power law with an irreducible term (spec §5), many independent fits
// at once (`fit_many`) and re-weighted refits (the bootstrap). Conversions only; the work is in
// `laws::chinchilla`, `laws::power` and `batch`.

use crate::batch::{self, Abscissae, PowerMethod, Rows, Screening, Starts, TaskResult};
use crate::laws::{chinchilla, power};
use numpy::PyReadonlyArray3;

/// Borrow a C-contiguous 2-D float64 array as (values, n_rows, n_cols).
fn slice2<'a>(name: &str, arr: &'a PyReadonlyArray2<'_, f64>) -> PyResult<(&'a [f64], usize, usize)> {
    let (n_rows, n_cols) = arr.as_array().dim();
    let values = arr
        .as_slice()
        .map_err(|_| LawfitInputError::new_err(format!("{name} must be a C-contiguous float64 array")))?;
    Ok((values, n_rows, n_cols))
}

/// Names of the termination codes of a batch (`status` holds indices into this list).
const STATUS_NAMES: [&str; 8] =
    ["Ftol", "Xtol", "Gtol", "NothingToFit", "MaxEvals", "NonFiniteStart", "Stalled", "Skipped"];

fn status_code(status: Option<Status>) -> u8 {
    match status {
        Some(Status::Ftol) => 0,
        Some(Status::Xtol) => 1,
        Some(Status::Gtol) => 2,
        Some(Status::NothingToFit) => 3,
        Some(Status::MaxEvals) => 4,
        Some(Status::NonFiniteStart) => 5,
        Some(Status::Stalled) => 6,
        None => 7,
    }
}

/// Results of a batch of tasks as a dict of arrays (`params` is n_tasks × p; `status` holds
/// indices into `status_names`).
fn tasks_dict<'py>(py: Python<'py>, tasks: Vec<TaskResult>, p: usize) -> PyResult<Bound<'py, PyDict>> {
    let n = tasks.len();
    let mut params = Vec::with_capacity(n * p);
    let mut cost = Vec::with_capacity(n);
    let mut success = Vec::with_capacity(n);
    let mut status = Vec::with_capacity(n);
    let mut n_evals = Vec::with_capacity(n);
    let mut n_converged = Vec::with_capacity(n);
    for t in tasks {
        params.extend_from_slice(&t.params);
        cost.push(t.cost);
        success.push(t.success());
        status.push(status_code(t.status));
        n_evals.push(t.n_evals as u64);
        n_converged.push(t.n_converged as u64);
    }
    let d = PyDict::new(py);
    d.set_item("params", PyArray1::from_vec(py, params).reshape([n, p])?)?;
    d.set_item("cost", cost.into_pyarray(py))?;
    d.set_item("success", success.into_pyarray(py))?;
    d.set_item("status", status.into_pyarray(py))?;
    d.set_item("status_names", STATUS_NAMES.to_vec())?;
    d.set_item("n_evals", n_evals.into_pyarray(py))?;
    d.set_item("n_converged", n_converged.into_pyarray(py))?;
    Ok(d)
}

/// Epoch's grid of 4,500 Chinchilla starts, solver order (e, a, b, alpha, beta), shape (4500, 5).
#[pyfunction]
fn chinchilla_default_starts(py: Python<'_>) -> PyResult<Bound<'_, numpy::PyArray2<f64>>> {
    let flat: Vec<f64> = chinchilla::default_starts().into_iter().flatten().collect();
    let n = flat.len() / chinchilla::N_PARAMS;
    PyArray1::from_vec(py, flat).reshape([n, chinchilla::N_PARAMS])
}

/// Fit L(N, D) = E + A/N^α + B/D^β (log-sum-exp form) from every start; returns the report dict.
#[pyfunction]
#[pyo3(signature = (n, d, targets, weights, *, loss, delta, space, starts, lower, upper, fixed,
    ftol, xtol, gtol, max_evals, polish=32, screen_tol=1e-2, screen_max_evals=15))]
#[allow(clippy::too_many_arguments)]
fn fit_chinchilla<'py>(
    py: Python<'py>,
    n: PyReadonlyArray1<'py, f64>,
    d: PyReadonlyArray1<'py, f64>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    loss: &str,
    delta: f64,
    space: &str,
    starts: PyReadonlyArray2<'py, f64>,
    lower: PyReadonlyArray1<'py, f64>,
    upper: PyReadonlyArray1<'py, f64>,
    fixed: Vec<bool>,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_evals: usize,
    polish: usize,
    screen_tol: f64,
    screen_max_evals: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = lm_options(
        chinchilla::N_PARAMS,
        loss,
        delta,
        slice("lower", &lower)?,
        slice("upper", &upper)?,
        fixed,
        ftol,
        xtol,
        gtol,
        max_evals,
    )?;
    if !(screen_tol.is_finite() && screen_tol >= 0.0) {
        return Err(LawfitInputError::new_err(format!(
            "screen_tol must be finite and >= 0, got {screen_tol}"
        )));
    }
    let screen = (polish > 0).then_some(Screening { tol: screen_tol, max_evals: screen_max_evals, polish });
    let (n, d, targets) = (slice("N", &n)?, slice("D", &d)?, slice("loss", &targets)?);
    let weights = weights.as_ref().map(|w| slice("weights", w)).transpose()?;
    let space = space_of(space)?;
    let starts = starts_of(&starts);
    let rep = run_interruptible(py, |stop| {
        let data = chinchilla::ChinchillaData::new(n, d, targets)?;
        chinchilla::fit(&data, weights, space, &starts, &opts, screen, stop)
    })?;
    report_dict(py, rep)
}

/// Chinchilla predictions L̂(N, D) for solver-order parameters (e, a, b, alpha, beta).
#[pyfunction]
fn predict_chinchilla<'py>(
    py: Python<'py>,
    n: PyReadonlyArray1<'py, f64>,
    d: PyReadonlyArray1<'py, f64>,
    params: Vec<f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (n, d) = (slice("N", &n)?, slice("D", &d)?);
    let out = py.detach(|| chinchilla::predict(n, d, &params)).map_err(to_py)?;
    Ok(out.into_pyarray(py))
}

/// Refit the Chinchilla law once per row of `weights` (n_rep × n), in parallel.
#[pyfunction]
#[pyo3(signature = (n, d, targets, weights, *, loss, delta, space, starts, lower, upper, fixed,
    ftol, xtol, gtol, max_evals))]
#[allow(clippy::too_many_arguments)]
fn refit_chinchilla<'py>(
    py: Python<'py>,
    n: PyReadonlyArray1<'py, f64>,
    d: PyReadonlyArray1<'py, f64>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: PyReadonlyArray2<'py, f64>,
    loss: &str,
    delta: f64,
    space: &str,
    starts: PyReadonlyArray2<'py, f64>,
    lower: PyReadonlyArray1<'py, f64>,
    upper: PyReadonlyArray1<'py, f64>,
    fixed: Vec<bool>,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_evals: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = lm_options(
        chinchilla::N_PARAMS,
        loss,
        delta,
        slice("lower", &lower)?,
        slice("upper", &upper)?,
        fixed,
        ftol,
        xtol,
        gtol,
        max_evals,
    )?;
    let (n, d, targets) = (slice("N", &n)?, slice("D", &d)?, slice("loss", &targets)?);
    let (w, _, _) = slice2("weights", &weights)?;
    let space = space_of(space)?;
    let starts = starts_of(&starts);
    let tasks = run_interruptible(py, |stop| {
        let data = chinchilla::ChinchillaData::new(n, d, targets)?;
        batch::chinchilla_reweighted(&data, w, space, &starts, &opts, stop)
    })?;
    tasks_dict(py, tasks, chinchilla::N_PARAMS)
}

/// Fit y = a·x^(−b) + c from every start; returns the report dict.
#[pyfunction]
#[pyo3(signature = (x, targets, weights, *, loss, delta, space, starts, lower, upper, fixed,
    ftol, xtol, gtol, max_evals))]
#[allow(clippy::too_many_arguments)]
fn fit_power_law<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    loss: &str,
    delta: f64,
    space: &str,
    starts: PyReadonlyArray2<'py, f64>,
    lower: PyReadonlyArray1<'py, f64>,
    upper: PyReadonlyArray1<'py, f64>,
    fixed: Vec<bool>,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_evals: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = lm_options(
        power::N_PARAMS,
        loss,
        delta,
        slice("lower", &lower)?,
        slice("upper", &upper)?,
        fixed,
        ftol,
        xtol,
        gtol,
        max_evals,
    )?;
    let (x, targets) = (slice("x", &x)?, slice("y", &targets)?);
    let weights = weights.as_ref().map(|w| slice("weights", w)).transpose()?;
    let space = space_of(space)?;
    let starts = starts_of(&starts);
    let rep = run_interruptible(py, |stop| power::fit(x, targets, weights, space, &starts, &opts, stop))?;
    report_dict(py, rep)
}

/// Power-law predictions a·x^(−b) + c.
#[pyfunction]
fn predict_power_law<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    params: Vec<f64>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let x = slice("x", &x)?;
    let out = py.detach(|| power::predict(x, &params)).map_err(to_py)?;
    Ok(out.into_pyarray(py))
}

/// Data-driven power-law starts (variable projection over a grid of b), shape (k, 3).
#[pyfunction]
#[pyo3(signature = (x, y, weights, *, keep, lower, upper))]
fn power_law_grid_starts<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    y: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    keep: usize,
    lower: PyReadonlyArray1<'py, f64>,
    upper: PyReadonlyArray1<'py, f64>,
) -> PyResult<Bound<'py, numpy::PyArray2<f64>>> {
    let (x, y) = (slice("x", &x)?, slice("y", &y)?);
    let weights = weights.as_ref().map(|w| slice("weights", w)).transpose()?;
    let (lower, upper) = (slice("lower", &lower)?, slice("upper", &upper)?);
    if y.len() != x.len() || lower.len() != power::N_PARAMS || upper.len() != power::N_PARAMS {
        return Err(LawfitInputError::new_err("x and y must have equal lengths; bounds need 3 values"));
    }
    let starts = power::grid_starts(x, y, weights, keep, lower, upper);
    let k = starts.len();
    let flat: Vec<f64> = starts.into_iter().flatten().collect();
    PyArray1::from_vec(py, flat).reshape([k, power::N_PARAMS])
}

/// Refit the power law once per row of `weights` (n_rep × n), in parallel.
#[pyfunction]
#[pyo3(signature = (x, targets, weights, *, loss, delta, space, starts, lower, upper, fixed,
    ftol, xtol, gtol, max_evals))]
#[allow(clippy::too_many_arguments)]
fn refit_power_law<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: PyReadonlyArray2<'py, f64>,
    loss: &str,
    delta: f64,
    space: &str,
    starts: PyReadonlyArray2<'py, f64>,
    lower: PyReadonlyArray1<'py, f64>,
    upper: PyReadonlyArray1<'py, f64>,
    fixed: Vec<bool>,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_evals: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = lm_options(
        power::N_PARAMS,
        loss,
        delta,
        slice("lower", &lower)?,
        slice("upper", &upper)?,
        fixed,
        ftol,
        xtol,
        gtol,
        max_evals,
    )?;
    let (x, targets) = (slice("x", &x)?, slice("y", &targets)?);
    let (w, _, _) = slice2("weights", &weights)?;
    let space = space_of(space)?;
    let starts = starts_of(&starts);
    let tasks =
        run_interruptible(py, |stop| batch::power_reweighted(x, targets, w, space, &starts, &opts, stop))?;
    tasks_dict(py, tasks, power::N_PARAMS)
}

/// Fit the power law independently to every row of `x`, `y` (n_fits × n_points; row i uses its
/// first `counts[i]` points). `starts`: None (data-driven, `grid_keep` per row), (k, 3) shared,
/// or (n_fits, k, 3) per row.
#[pyfunction]
#[pyo3(signature = (x, y, counts, *, starts, shared_starts, grid_keep, loss, delta, space, lower, upper,
    fixed, ftol, xtol, gtol, max_evals, method="auto"))]
#[allow(clippy::too_many_arguments)]
fn fit_many_power_law<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray2<'py, f64>,
    counts: PyReadonlyArray1<'py, i64>,
    starts: Option<PyReadonlyArray3<'py, f64>>,
    shared_starts: Option<PyReadonlyArray2<'py, f64>>,
    grid_keep: usize,
    loss: &str,
    delta: f64,
    space: &str,
    lower: PyReadonlyArray1<'py, f64>,
    upper: PyReadonlyArray1<'py, f64>,
    fixed: Vec<bool>,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_evals: usize,
    method: &str,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = lm_options(
        power::N_PARAMS,
        loss,
        delta,
        slice("lower", &lower)?,
        slice("upper", &upper)?,
        fixed,
        ftol,
        xtol,
        gtol,
        max_evals,
    )?;
    let method = match method {
        "auto" => PowerMethod::Auto,
        "lm" => PowerMethod::Lm,
        other => {
            return Err(LawfitInputError::new_err(format!("method must be 'auto' or 'lm', got {other:?}")))
        }
    };
    let (xv, x_rows, _) = slice2("x", &x)?;
    let (yv, n_rows, n_cols) = slice2("y", &y)?;
    let counts: Vec<usize> = steps_of("counts", &counts)?;
    if counts.len() != n_rows {
        return Err(LawfitInputError::new_err(format!(
            "counts has {} entries, expected {n_rows}",
            counts.len()
        )));
    }
    let starts = match (starts, shared_starts) {
        (Some(s), None) => Starts::PerTask(
            s.as_array().outer_iter().map(|m| m.rows().into_iter().map(|r| r.to_vec()).collect()).collect(),
        ),
        (None, Some(s)) => Starts::Shared(starts_of(&s)),
        (None, None) => Starts::Grid(grid_keep),
        (Some(_), Some(_)) => {
            return Err(LawfitInputError::new_err("pass either per-fit starts or shared starts, not both"))
        }
    };
    let space = space_of(space)?;
    let tasks = run_interruptible(py, |stop| {
        // One row of x is shared by every fit.
        let xr = if x_rows == 1 {
            Abscissae::Shared(xv)
        } else {
            Abscissae::PerRow(Rows { values: xv, n_cols, counts: &counts })
        };
        let yr = Rows { values: yv, n_cols, counts: &counts };
        batch::fit_power_rows(xr, yr, space, &starts, &opts, method, stop)
    })?;
    tasks_dict(py, tasks, power::N_PARAMS)
}
// ---- end of size laws and batches ----

/// The extension module `lawfit._core`.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("LawfitInputError", m.py().get_type::<LawfitInputError>())?;
    m.add_function(wrap_pyfunction!(areas, m)?)?;
    m.add_function(wrap_pyfunction!(fit_momentum, m)?)?;
    m.add_function(wrap_pyfunction!(predict_momentum, m)?)?;
    m.add_function(wrap_pyfunction!(fit_momentum_n, m)?)?;
    m.add_function(wrap_pyfunction!(predict_momentum_n, m)?)?;
    // size laws and batches
    m.add_function(wrap_pyfunction!(chinchilla_default_starts, m)?)?;
    m.add_function(wrap_pyfunction!(fit_chinchilla, m)?)?;
    m.add_function(wrap_pyfunction!(predict_chinchilla, m)?)?;
    m.add_function(wrap_pyfunction!(refit_chinchilla, m)?)?;
    m.add_function(wrap_pyfunction!(fit_power_law, m)?)?;
    m.add_function(wrap_pyfunction!(predict_power_law, m)?)?;
    m.add_function(wrap_pyfunction!(power_law_grid_starts, m)?)?;
    m.add_function(wrap_pyfunction!(refit_power_law, m)?)?;
    m.add_function(wrap_pyfunction!(fit_many_power_law, m)?)?;
    Ok(())
}
