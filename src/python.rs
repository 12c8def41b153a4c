//! The Python binding: the only file that knows Python exists. It converts arguments, releases
//! the GIL around every O(n) call, and maps [`Error`] to Python exceptions.

use crate::areas::{self as core_areas, AreaOptions, WarmupMode};
use crate::error::Error;
use crate::laws::momentum::{self, MomentumConfig, RunSchedule, Steps};
use crate::laws::momentum_n;
use crate::lm::{LmOptions, Prior, Status};
use crate::problem::{Observations, Space};
use crate::robust::RobustLoss;
use crate::strategy::{MultiStartReport, Screening, TaskResult};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

// `lawfit._core` (not `_core`) so that `__module__` names an importable module and the class
// pickles (spawn pools, Dask): pickle finds exception classes by their qualified name.
pyo3::create_exception!(
    lawfit._core,
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

// ---- per-process thread pool (fork safety) ----
// Every entry point runs its work inside `pool.install`, on a rayon pool owned by this process,
// never on rayon's global pool: after `fork` only the forking thread exists in the child, so a
// pool inherited from the parent has no workers and any `par_iter` on it would wait forever. The
// pool is keyed by the process id and rebuilt (lazily, on the first call) in a child whose pid
// differs; the parent's stale pool is leaked, not dropped, since dropping would touch its latches,
// which a parent thread may have held at the fork. `process_pool` is only called with the GIL
// held, and `os.fork` holds the GIL, so no thread is inside the mutex when a Python-level fork
// happens. The pool is sized like rayon's global pool: `RAYON_NUM_THREADS`, else one thread per
// logical CPU; results do not depend on the thread count (the kernels split work in fixed chunks).

struct ProcessPool {
    pid: u32,
    pool: Arc<rayon::ThreadPool>,
}

static PROCESS_POOL: std::sync::Mutex<Option<ProcessPool>> = std::sync::Mutex::new(None);

/// The rayon pool of the current process, built on first use in each process.
fn process_pool() -> PyResult<Arc<rayon::ThreadPool>> {
    let mut slot = PROCESS_POOL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let pid = std::process::id();
    if let Some(current) = slot.as_ref().filter(|p| p.pid == pid) {
        return Ok(current.pool.clone());
    }
    let pool =
        rayon::ThreadPoolBuilder::new().thread_name(|i| format!("lawfit-{i}")).build().map_err(|e| {
            pyo3::exceptions::PyRuntimeError::new_err(format!("lawfit: cannot start threads: {e}"))
        })?;
    let pool = Arc::new(pool);
    if let Some(stale) = slot.replace(ProcessPool { pid, pool: pool.clone() }) {
        std::mem::forget(stale);
    }
    Ok(pool)
}

/// Run `work` without the GIL on this process's pool (see [`process_pool`]).
fn detach_in_pool<T: Send>(py: Python<'_>, work: impl FnOnce() -> T + Send) -> PyResult<T> {
    let pool = process_pool()?;
    Ok(py.detach(move || pool.install(work)))
}

/// The number of threads of this process's lawfit pool (for tests and diagnostics).
#[pyfunction]
fn pool_threads() -> PyResult<usize> {
    Ok(process_pool()?.current_num_threads())
}

// ---- end per-process thread pool ----

/// Borrow a 1-D float64 array without copying; the Python layer makes it contiguous first.
fn slice<'a>(name: &str, arr: &'a PyReadonlyArray1<'_, f64>) -> PyResult<&'a [f64]> {
    arr.as_slice()
        .map_err(|_| LawfitInputError::new_err(format!("{name} must be a C-contiguous float64 array")))
}

/// S1, S2 (and dS2/dλ when `derivative`) for every step of `lr`, as the rows of one
/// `(2 or 3, len(lr))` float64 array.
///
/// One NumPy allocation for all rows, written in place without the GIL: NumPy's allocator asks
/// for huge pages on large blocks, and a single block (unlike two or three separate ones) is kept
/// by glibc's heap between calls instead of being returned to the OS and page-faulted in again,
/// which for 1e5–1e6 steps costs more than the computation itself.
#[pyfunction]
#[pyo3(signature = (lr, *, decay=0.999, warmup_steps=0, warmup="as_peak", derivative=false))]
fn areas<'py>(
    py: Python<'py>,
    lr: PyReadonlyArray1<'py, f64>,
    decay: f64,
    warmup_steps: usize,
    warmup: &str,
    derivative: bool,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let lr = slice("lr", &lr)?;
    let opts = AreaOptions { decay, warmup_steps, warmup: WarmupMode::parse(warmup).map_err(to_py)? };
    let n = lr.len();
    let out = PyArray2::<f64>::zeros(py, [if derivative { 3 } else { 2 }, n], false);
    {
        let mut rows = out.readwrite();
        let all = rows
            .as_slice_mut()
            .map_err(|_| LawfitInputError::new_err("internal error: output array is not contiguous"))?;
        let (s1, rest) = all.split_at_mut(n);
        let (s2, d) = rest.split_at_mut(n);
        detach_in_pool(py, || -> Result<(), Error> {
            core_areas::areas_into(lr, &opts, s1, s2)?;
            if derivative {
                core_areas::ds2_ddecay_into(lr, &opts, d)?;
            }
            Ok(())
        })?
        .map_err(to_py)?;
    }
    Ok(out)
}

/// S1 and S2 at some 1-based `steps` (ascending) of a schedule: shape (2, len(steps)); O(T) time
/// at most, O(T / 256 + len(steps)) memory (no per-step arrays).
#[pyfunction]
#[pyo3(signature = (lr, steps, *, decay=0.999, warmup_steps=0, warmup="as_peak"))]
fn areas_at<'py>(
    py: Python<'py>,
    lr: PyReadonlyArray1<'py, f64>,
    steps: PyReadonlyArray1<'py, i64>,
    decay: f64,
    warmup_steps: usize,
    warmup: &str,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let lr = slice("lr", &lr)?;
    let steps = steps_of("steps", &steps)?;
    momentum::validate_steps(&steps, lr.len()).map_err(to_py)?;
    let opts = AreaOptions { decay, warmup_steps, warmup: WarmupMode::parse(warmup).map_err(to_py)? };
    let k = steps.len();
    let mut out = vec![0.0; 2 * k];
    detach_in_pool(py, || -> Result<(), Error> {
        let stream = core_areas::AreaStream::new(lr, &opts)?;
        let indices: Vec<usize> = steps.iter().map(|s| s - 1).collect();
        let (s1, s2) = out.split_at_mut(k);
        stream.values_at(&indices, s1, s2);
        Ok(())
    })?
    .map_err(to_py)?;
    numpy::PyArray1::from_vec(py, out).reshape([2, k])
}

/// A Python callable `callback(done, total)` told how many solves of a multi-start finished.
struct Progress {
    counter: Arc<AtomicUsize>,
    total: usize,
    callback: Py<PyAny>,
}

/// Run `work` off the GIL on a scoped thread while this thread watches for Ctrl-C (and reports
/// progress); the work polls the returned flag between iterations and stops with
/// [`Error::Interrupted`].
fn run_interruptible<T: Send>(
    py: Python<'_>,
    progress: Option<&Progress>,
    work: impl FnOnce(&(dyn Fn() -> bool + Sync)) -> Result<T, Error> + Send,
) -> PyResult<T> {
    let pool = process_pool()?;
    let interrupted = AtomicBool::new(false);
    let mut reported = usize::MAX;
    let mut callback_error: Option<PyErr> = None;
    let result = py.detach(|| {
        std::thread::scope(|scope| {
            // The worker wakes this thread when it finishes, so short calls do not wait out a
            // whole polling interval.
            let waiter = std::thread::current();
            let flag = &interrupted;
            let handle = scope.spawn(move || {
                let out = pool.install(|| work(&|| flag.load(Ordering::Relaxed)));
                waiter.unpark();
                out
            });
            while !handle.is_finished() {
                std::thread::park_timeout(Duration::from_millis(20));
                if handle.is_finished() {
                    break;
                }
                Python::attach(|py| {
                    if py.check_signals().is_err() {
                        interrupted.store(true, Ordering::Relaxed);
                    }
                    if let Some(p) = progress {
                        let done = p.counter.load(Ordering::Relaxed).min(p.total);
                        if done != reported && callback_error.is_none() {
                            reported = done;
                            if let Err(e) = p.callback.call1(py, (done, p.total)) {
                                callback_error = Some(e);
                                interrupted.store(true, Ordering::Relaxed);
                            }
                        }
                    }
                });
            }
            handle.join()
        })
    });
    if let Some(e) = callback_error {
        return Err(e);
    }
    match result {
        Ok(r) => r.map_err(to_py),
        Err(_) => Err(pyo3::exceptions::PyRuntimeError::new_err("lawfit internal error: a worker panicked")),
    }
}

/// Attach a progress counter to `opts` when Python passed a callback.
fn progress_of(opts: &mut LmOptions, callback: Option<Py<PyAny>>, total: usize) -> Option<Progress> {
    callback.map(|callback| {
        let counter = Arc::new(AtomicUsize::new(0));
        opts.progress = Some(counter.clone());
        Progress { counter, total, callback }
    })
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

/// The logged steps of a run with `n_steps` steps: [`Steps::Every`] when they are exactly
/// `1..=n_steps` (checked in one pass, nothing copied), else the converted list.
fn run_steps_of(arr: &PyReadonlyArray1<'_, i64>, n_steps: usize) -> PyResult<Steps> {
    let s =
        arr.as_slice().map_err(|_| LawfitInputError::new_err("steps must be a C-contiguous int64 array"))?;
    // Strictly increasing integers from 1 to n over n entries are exactly 1..=n.
    let every = s.len() == n_steps
        && s.first() == Some(&1)
        && usize::try_from(s[s.len() - 1]).ok() == Some(n_steps)
        && s.windows(2).all(|w| w[0] < w[1]);
    if every {
        Ok(Steps::Every)
    } else {
        steps_of("steps", arr).map(Steps::Logged)
    }
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
            let lr = slice("lr", lr)?;
            Ok(RunSchedule {
                steps: run_steps_of(st, lr.len())?,
                lr,
                areas: AreaOptions { decay, warmup_steps: w, warmup: mode },
            })
        })
        .collect()
}

/// [`report_dict`] plus the linear-space residual sums of the best fit.
fn report_with_stats<'py>(
    py: Python<'py>,
    (rep, stats): (MultiStartReport, crate::problem::LinearStats),
) -> PyResult<Bound<'py, PyDict>> {
    let d = report_dict(py, rep)?;
    d.set_item("linear_sum_sq", stats.sum_sq)?;
    d.set_item("linear_sum_abs", stats.sum_abs)?;
    d.set_item("linear_total_sq", stats.total_sq)?;
    Ok(d)
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

/// The solver settings of a fit, validated once: robust loss and scale, residual space, bounds,
/// fixed parameters, tolerances, evaluation budget and Gaussian prior. Every fit function of the
/// module takes one (`options=`); `lawfit._options.solver_options` builds it from `lf.fit`'s
/// arguments.
#[pyclass(frozen, module = "lawfit._core")]
struct SolverOptions {
    loss: RobustLoss,
    space: Space,
    lower: Vec<f64>,
    upper: Vec<f64>,
    fixed: Vec<bool>,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_evals: usize,
    prior: Option<Prior>,
}

#[pymethods]
impl SolverOptions {
    #[new]
    #[pyo3(signature = (*, loss, delta, lower, upper, fixed, ftol, xtol, gtol, max_evals, space="log", prior=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        loss: &str,
        delta: f64,
        lower: Vec<f64>,
        upper: Vec<f64>,
        fixed: Vec<bool>,
        ftol: f64,
        xtol: f64,
        gtol: f64,
        max_evals: usize,
        space: &str,
        prior: Option<(Vec<f64>, Vec<f64>)>,
    ) -> PyResult<Self> {
        let p = lower.len();
        let options = Self {
            loss: RobustLoss::parse(loss, delta).map_err(to_py)?,
            space: space_of(space)?,
            lower,
            upper,
            fixed,
            ftol,
            xtol,
            gtol,
            max_evals,
            prior: prior.map(|(mean, weight)| Prior { mean, weight }),
        };
        // Lengths, bounds, tolerances and the prior, checked as the solver will.
        options.lm(p)?;
        Ok(options)
    }

    /// Number of parameters the options are for.
    #[getter]
    fn n_params(&self) -> usize {
        self.lower.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "SolverOptions(loss={:?}, space={:?}, n_params={}, ftol={}, xtol={}, gtol={}, max_evals={}, prior={})",
            self.loss,
            self.space,
            self.lower.len(),
            self.ftol,
            self.xtol,
            self.gtol,
            self.max_evals,
            self.prior.is_some()
        )
    }
}

impl SolverOptions {
    /// The core solver's options for a law of `p` parameters (an error when the lengths differ).
    fn lm(&self, p: usize) -> PyResult<LmOptions> {
        let mut opts = LmOptions::new(p);
        opts.loss = self.loss;
        opts.lower.clone_from(&self.lower);
        opts.upper.clone_from(&self.upper);
        opts.fixed.clone_from(&self.fixed);
        opts.ftol = self.ftol;
        opts.xtol = self.xtol;
        opts.gtol = self.gtol;
        opts.max_evals = self.max_evals;
        opts.prior.clone_from(&self.prior);
        opts.validate(p).map_err(to_py)?;
        Ok(opts)
    }
}

fn starts_of(starts: &PyReadonlyArray2<'_, f64>) -> Vec<Vec<f64>> {
    starts.as_array().rows().into_iter().map(|r| r.to_vec()).collect()
}

/// Fit the momentum law jointly over runs; returns a dict describing the best solve.
#[pyfunction]
#[pyo3(signature = (lrs, steps, targets, weights, *, warmup_steps, warmup, decay, fit_decay, fit_zeta, zeta, starts, progress=None, options))]
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
    starts: PyReadonlyArray2<'py, f64>,
    progress: Option<Py<PyAny>>,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    let runs = runs_of(&lrs, &steps, &warmup_steps, warmup, decay)?;
    let config = MomentumConfig { fit_decay, fit_zeta, zeta };
    let p = 4 + usize::from(fit_decay) + usize::from(fit_zeta);
    let mut opts = options.lm(p)?;
    let targets = slice("loss", &targets)?;
    let weights = weights.as_ref().map(|w| slice("weights", w)).transpose()?;
    let space = options.space;
    let starts = starts_of(&starts);
    // Long logs screen the starts on a subsample, run the best few on, then polish the winner.
    let total = if targets.len() > momentum::COARSE_ABOVE {
        let screened = if starts.len() > crate::strategy::LEVELS_SCREEN_POLISH {
            crate::strategy::LEVELS_SCREEN_POLISH
        } else {
            0
        };
        starts.len() + screened + 1
    } else {
        starts.len()
    };
    let progress = progress_of(&mut opts, progress, total);
    let rep = run_interruptible(py, progress.as_ref(), |stop| {
        momentum::fit(runs, config, Observations { targets, weights, space }, &starts, &opts, stop)
    })?;
    report_with_stats(py, rep)
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
    let out = detach_in_pool(py, || momentum::predict(runs, config, &params))?.map_err(to_py)?;
    Ok(out.into_pyarray(py))
}

/// Fit the N-extended momentum law jointly over runs of model sizes `sizes`.
#[pyfunction]
#[pyo3(signature = (lrs, steps, sizes, targets, weights, *, warmup_steps, warmup, decay, starts, options))]
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
    starts: PyReadonlyArray2<'py, f64>,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    let runs = runs_of(&lrs, &steps, &warmup_steps, warmup, decay)?;
    let opts = options.lm(7)?;
    let targets = slice("loss", &targets)?;
    let weights = weights.as_ref().map(|w| slice("weights", w)).transpose()?;
    let space = options.space;
    let starts = starts_of(&starts);
    let rep = run_interruptible(py, None, |stop| {
        momentum_n::fit(runs, &sizes, Observations { targets, weights, space }, &starts, &opts, stop)
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
    let out = detach_in_pool(py, || momentum_n::predict(runs, &sizes, &params))?.map_err(to_py)?;
    Ok(out.into_pyarray(py))
}

// ---- Python callables on the same solver ----

/// Residuals (and Jacobian) computed by Python callables, evaluated once per solver evaluation.
struct PyProblem {
    fun: Py<PyAny>,
    jac: Option<Py<PyAny>>,
    n: usize,
    p: usize,
    error: std::sync::Mutex<Option<PyErr>>,
}

/// One evaluation: residuals (n) and Jacobian (n×p, row-major), or `None` after a Python error.
type PyEvaluation = Option<(Vec<f64>, Vec<f64>)>;

impl PyProblem {
    fn call_vector(
        &self,
        py: Python<'_>,
        f: &Py<PyAny>,
        x: &[f64],
        len: usize,
        what: &str,
    ) -> PyResult<Vec<f64>> {
        let arg = PyArray1::from_slice(py, x);
        let out = f.call1(py, (arg,))?;
        let arr: Vec<f64> = out.extract(py).or_else(|_| {
            let flat = py.import("numpy")?.call_method1("ravel", (out.bind(py),))?;
            let flat = py.import("numpy")?.call_method1("asarray", (flat, "float64"))?;
            flat.extract::<Vec<f64>>()
        })?;
        if arr.len() != len {
            return Err(LawfitInputError::new_err(format!(
                "{what} returned {} values, expected {len}",
                arr.len()
            )));
        }
        Ok(arr)
    }

    fn evaluate(&self, params: &[f64]) -> PyResult<(Vec<f64>, Vec<f64>)> {
        Python::attach(|py| {
            let r = self.call_vector(py, &self.fun, params, self.n, "fun")?;
            let jac = match &self.jac {
                Some(j) => self.call_vector(py, j, params, self.n * self.p, "jac")?,
                None => {
                    // Forward differences, scipy's '2-point' step.
                    let mut jac = vec![0.0; self.n * self.p];
                    for k in 0..self.p {
                        let h = f64::EPSILON.sqrt() * params[k].abs().max(1.0);
                        let mut x = params.to_vec();
                        x[k] += h;
                        let rk = self.call_vector(py, &self.fun, &x, self.n, "fun")?;
                        for i in 0..self.n {
                            jac[i * self.p + k] = (rk[i] - r[i]) / h;
                        }
                    }
                    jac
                }
            };
            Ok((r, jac))
        })
    }
}

impl crate::problem::Problem for PyProblem {
    type Prepared = PyEvaluation;

    fn n_params(&self) -> usize {
        self.p
    }

    fn n_residuals(&self) -> usize {
        self.n
    }

    fn prepare(&self, params: &[f64]) -> PyEvaluation {
        if self.error.lock().map(|e| e.is_some()).unwrap_or(true) {
            return None;
        }
        match self.evaluate(params) {
            Ok(v) => Some(v),
            Err(e) => {
                if let Ok(mut slot) = self.error.lock() {
                    slot.get_or_insert(e);
                }
                None
            }
        }
    }

    fn eval_chunk(
        &self,
        _params: &[f64],
        prepared: &PyEvaluation,
        start: usize,
        residuals: &mut [f64],
        jacobian: Option<&mut [f64]>,
    ) {
        let len = residuals.len();
        match prepared {
            Some((r, jac)) => {
                residuals.copy_from_slice(&r[start..start + len]);
                if let Some(j) = jacobian {
                    j.copy_from_slice(&jac[start * self.p..(start + len) * self.p]);
                }
            }
            // A Python error: a non-finite cost stops the solver; the error is re-raised after.
            None => residuals.fill(f64::NAN),
        }
    }
}

/// Minimise Σ ρ(fᵢ(x)) for a Python callable `fun(x) -> residuals` (optional `jac(x) -> (n, p)`).
#[pyfunction]
#[pyo3(signature = (fun, jac, x0, n_residuals, *, options))]
fn least_squares<'py>(
    py: Python<'py>,
    fun: Py<PyAny>,
    jac: Option<Py<PyAny>>,
    x0: Vec<f64>,
    n_residuals: usize,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    let p = x0.len();
    let opts = options.lm(p)?;
    let problem = PyProblem { fun, jac, n: n_residuals, p, error: std::sync::Mutex::new(None) };
    // The solver runs on this process's pool (see `process_pool`) and takes the GIL for each call
    // of the callables; this thread watches for Ctrl-C meanwhile.
    let result = run_interruptible(py, None, |stop| Ok(crate::lm::solve(&problem, &x0, &opts, stop)));
    if let Some(err) = problem.error.lock().ok().and_then(|mut e| e.take()) {
        return Err(err);
    }
    let rep = result?.map_err(to_py)?;
    let n_converged = usize::from(rep.status.success());
    report_dict(py, MultiStartReport { best: rep, best_start: 0, n_converged, n_starts: 1 })
}

// ---- multi-power law ----

/// A 1-D array as a slice, borrowed when contiguous, copied otherwise.
fn cow_slice<'a, T: numpy::Element + Copy>(
    arr: &'a numpy::PyReadonlyArray1<'_, T>,
) -> std::borrow::Cow<'a, [T]> {
    match arr.as_slice() {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(arr.as_array().iter().copied().collect()),
    }
}

/// The 7 parameters from a dict with exactly the keys of `PARAM_NAMES` or a sequence of 7 numbers.
fn multipower_params(params: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    use crate::laws::multipower::{N_PARAMS, PARAM_NAMES};
    use pyo3::types::PyDict;
    let values: Vec<f64> = if let Ok(d) = params.cast::<PyDict>() {
        for key in d.keys() {
            let name: String = key.extract()?;
            if !PARAM_NAMES.contains(&name.as_str()) {
                return Err(LawfitInputError::new_err(format!(
                    "params has an unknown key {name:?}; the multi-power law's parameters are {PARAM_NAMES:?}"
                )));
            }
        }
        PARAM_NAMES
            .iter()
            .map(|&k| match d.get_item(k)? {
                Some(v) => v.extract::<f64>(),
                None => Err(LawfitInputError::new_err(format!(
                    "params is missing {k:?}; the multi-power law's parameters are {PARAM_NAMES:?}"
                ))),
            })
            .collect::<PyResult<_>>()?
    } else {
        params.extract().map_err(|_| {
            LawfitInputError::new_err("params must be a dict {name: value} or a sequence of 7 numbers")
        })?
    };
    if values.len() != N_PARAMS {
        return Err(LawfitInputError::new_err(format!(
            "params has {} values, expected 7 ({PARAM_NAMES:?})",
            values.len()
        )));
    }
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(LawfitInputError::new_err(format!(
            "params[{:?}] is {v}; parameters must be finite",
            PARAM_NAMES[i]
        )));
    }
    Ok(values)
}

/// The multi-power law (Luo et al. 2025) at the logged indices of one or more LR schedules sharing
/// parameters: predictions (n,) and, when `gradients`, also the (n, 7) gradient matrix.
#[pyfunction]
#[pyo3(signature = (lrs_list, indices_list, params, *, exact=false, gradients=false, s1_form="repo", warmup_steps=None))]
#[allow(clippy::too_many_arguments)]
fn multipower_predict<'py>(
    py: Python<'py>,
    lrs_list: Vec<numpy::PyArrayLike1<'py, f64, numpy::AllowTypeChange>>,
    indices_list: Vec<numpy::PyArrayLike1<'py, i64>>,
    params: &Bound<'py, PyAny>,
    exact: bool,
    gradients: bool,
    s1_form: &str,
    warmup_steps: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    use crate::laws::multipower::{MultiPowerCurve, MultiPowerModel, MultiPowerOptions, S1Form, N_PARAMS};
    if lrs_list.len() != indices_list.len() {
        return Err(LawfitInputError::new_err(format!(
            "lrs_list has {} schedules but indices_list has {}; pass one index array per schedule",
            lrs_list.len(),
            indices_list.len()
        )));
    }
    let params = multipower_params(params)?;
    let options = MultiPowerOptions { exact, s1_form: S1Form::parse(s1_form, warmup_steps).map_err(to_py)? };
    let lrs: Vec<_> = lrs_list.iter().map(|a| cow_slice(a)).collect();
    let mut indices = Vec::with_capacity(indices_list.len());
    for (c, arr) in indices_list.iter().enumerate() {
        let raw = cow_slice(arr);
        let idx = raw
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                usize::try_from(v).map_err(|_| {
                    LawfitInputError::new_err(format!(
                        "indices_list[{c}][{i}] is {v}; indices must be non-negative"
                    ))
                })
            })
            .collect::<PyResult<Vec<usize>>>()?;
        indices.push(idx);
    }
    let (values, grads) = detach_in_pool(py, || -> Result<_, Error> {
        let curves: Vec<MultiPowerCurve<'_>> =
            lrs.iter().zip(&indices).map(|(lr, idx)| MultiPowerCurve { lr, indices: idx }).collect();
        let model = MultiPowerModel::new(&curves, options)?;
        Ok(model.evaluate(&params, gradients))
    })?
    .map_err(to_py)?;
    let n = values.len();
    let values = values.into_pyarray(py).into_any();
    match grads {
        None => Ok(values),
        Some(g) => {
            let g = numpy::ndarray::Array2::from_shape_vec((n, N_PARAMS), g).expect("n × 7 gradients");
            Ok((values, g.into_pyarray(py)).into_pyobject(py)?.into_any())
        }
    }
}

// ---- end multi-power law ----

/// Fit the multi-power law jointly over curves (0-based logged indices into each LR array).
#[pyfunction]
#[pyo3(signature = (lrs, indices, targets, weights, *, exact, s1_form, warmup_steps, starts, progress=None, polish=false, options))]
#[allow(clippy::too_many_arguments)]
fn fit_multipower<'py>(
    py: Python<'py>,
    lrs: Vec<PyReadonlyArray1<'py, f64>>,
    indices: Vec<PyReadonlyArray1<'py, i64>>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    exact: bool,
    s1_form: &str,
    warmup_steps: Option<usize>,
    starts: PyReadonlyArray2<'py, f64>,
    progress: Option<Py<PyAny>>,
    polish: bool,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    use crate::laws::multipower::{self, MultiPowerCurve, MultiPowerOptions, S1Form, N_PARAMS};
    if lrs.len() != indices.len() {
        return Err(LawfitInputError::new_err(format!(
            "got {} LR arrays and {} index arrays; one of each per curve",
            lrs.len(),
            indices.len()
        )));
    }
    let lr_slices: Vec<&[f64]> = lrs.iter().map(|a| slice("lr", a)).collect::<PyResult<_>>()?;
    let index_vecs: Vec<Vec<usize>> =
        indices.iter().map(|a| steps_of("indices", a)).collect::<PyResult<_>>()?;
    let curves: Vec<MultiPowerCurve<'_>> =
        lr_slices.iter().zip(&index_vecs).map(|(lr, idx)| MultiPowerCurve { lr, indices: idx }).collect();
    let law_options =
        MultiPowerOptions { exact, s1_form: S1Form::parse(s1_form, warmup_steps).map_err(to_py)? };
    let mut opts = options.lm(N_PARAMS)?;
    let targets = slice("loss", &targets)?;
    let weights = weights.as_ref().map(|w| slice("weights", w)).transpose()?;
    let space = options.space;
    let starts = starts_of(&starts);
    if polish {
        // The start is already next to the optimum: exact curvature from the first step.
        opts.initial_curvature_floor = opts.curvature_floor;
    }
    let progress = progress_of(&mut opts, progress, starts.len());
    let rep = run_interruptible(py, progress.as_ref(), |stop| {
        multipower::fit(&curves, law_options, Observations { targets, weights, space }, &starts, &opts, stop)
    })?;
    report_with_stats(py, rep)
}

// ---- size laws and batches ----
// Chinchilla (spec §4), the power law with an irreducible term (spec §5), many independent fits
// at once (`fit_many`) and re-weighted refits (the bootstrap). Conversions only; the work is in
// `laws::chinchilla`, `laws::power` and `batch`.

use crate::batch::{self, Abscissae, PowerMethod, Rows, Starts};
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
    let flat: Vec<f64> = detach_in_pool(py, || chinchilla::default_starts().into_iter().flatten().collect())?;
    let n = flat.len() / chinchilla::N_PARAMS;
    PyArray1::from_vec(py, flat).reshape([n, chinchilla::N_PARAMS])
}

/// Fit L(N, D) = E + A/N^α + B/D^β (log-sum-exp form) from every start; returns the report dict.
#[pyfunction]
#[pyo3(signature = (n, d, targets, weights, *, starts, polish=32, screen_tol=1e-2, screen_max_evals=15, options))]
#[allow(clippy::too_many_arguments)]
fn fit_chinchilla<'py>(
    py: Python<'py>,
    n: PyReadonlyArray1<'py, f64>,
    d: PyReadonlyArray1<'py, f64>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    starts: PyReadonlyArray2<'py, f64>,
    polish: usize,
    screen_tol: f64,
    screen_max_evals: usize,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = options.lm(chinchilla::N_PARAMS)?;
    if !(screen_tol.is_finite() && screen_tol >= 0.0) {
        return Err(LawfitInputError::new_err(format!(
            "screen_tol must be finite and >= 0, got {screen_tol}"
        )));
    }
    let screen = (polish > 0).then_some(Screening { tol: screen_tol, max_evals: screen_max_evals, polish });
    let (n, d, targets) = (slice("N", &n)?, slice("D", &d)?, slice("loss", &targets)?);
    let weights = weights.as_ref().map(|w| slice("weights", w)).transpose()?;
    let space = options.space;
    let starts = starts_of(&starts);
    let rep = run_interruptible(py, None, |stop| {
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
    let out = detach_in_pool(py, || chinchilla::predict(n, d, &params))?.map_err(to_py)?;
    Ok(out.into_pyarray(py))
}

/// Refit the Chinchilla law once per row of `weights` (n_rep × n), in parallel.
#[pyfunction]
#[pyo3(signature = (n, d, targets, weights, *, starts, options))]
fn refit_chinchilla<'py>(
    py: Python<'py>,
    n: PyReadonlyArray1<'py, f64>,
    d: PyReadonlyArray1<'py, f64>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: PyReadonlyArray2<'py, f64>,
    starts: PyReadonlyArray2<'py, f64>,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = options.lm(chinchilla::N_PARAMS)?;
    let (n, d, targets) = (slice("N", &n)?, slice("D", &d)?, slice("loss", &targets)?);
    let (w, _, _) = slice2("weights", &weights)?;
    let space = options.space;
    let starts = starts_of(&starts);
    let tasks = run_interruptible(py, None, |stop| {
        let data = chinchilla::ChinchillaData::new(n, d, targets)?;
        batch::chinchilla_reweighted(&data, w, space, &starts, &opts, stop)
    })?;
    tasks_dict(py, tasks, chinchilla::N_PARAMS)
}

/// Fit y = a·x^(−b) + c from every start; returns the report dict.
#[pyfunction]
#[pyo3(signature = (x, targets, weights, *, starts, options))]
fn fit_power_law<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    starts: PyReadonlyArray2<'py, f64>,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = options.lm(power::N_PARAMS)?;
    let (x, targets) = (slice("x", &x)?, slice("y", &targets)?);
    let weights = weights.as_ref().map(|w| slice("weights", w)).transpose()?;
    let space = options.space;
    let starts = starts_of(&starts);
    let rep =
        run_interruptible(py, None, |stop| power::fit(x, targets, weights, space, &starts, &opts, stop))?;
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
    let out = detach_in_pool(py, || power::predict(x, &params))?.map_err(to_py)?;
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
    let starts = detach_in_pool(py, || power::grid_starts(x, y, weights, keep, lower, upper))?;
    let k = starts.len();
    let flat: Vec<f64> = starts.into_iter().flatten().collect();
    PyArray1::from_vec(py, flat).reshape([k, power::N_PARAMS])
}

/// Refit the power law once per row of `weights` (n_rep × n), in parallel.
#[pyfunction]
#[pyo3(signature = (x, targets, weights, *, starts, options))]
fn refit_power_law<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: PyReadonlyArray2<'py, f64>,
    starts: PyReadonlyArray2<'py, f64>,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = options.lm(power::N_PARAMS)?;
    let (x, targets) = (slice("x", &x)?, slice("y", &targets)?);
    let (w, _, _) = slice2("weights", &weights)?;
    let space = options.space;
    let starts = starts_of(&starts);
    let tasks = run_interruptible(py, None, |stop| {
        batch::power_reweighted(x, targets, w, space, &starts, &opts, stop)
    })?;
    tasks_dict(py, tasks, power::N_PARAMS)
}

/// Fit the power law independently to every row of `x`, `y` (n_fits × n_points; row i uses its
/// first `counts[i]` points). `starts`: None (data-driven, `grid_keep` per row), (k, 3) shared,
/// or (n_fits, k, 3) per row.
#[pyfunction]
#[pyo3(signature = (x, y, counts, *, starts, shared_starts, grid_keep, method="auto", options))]
#[allow(clippy::too_many_arguments)]
fn fit_many_power_law<'py>(
    py: Python<'py>,
    x: PyReadonlyArray2<'py, f64>,
    y: PyReadonlyArray2<'py, f64>,
    counts: PyReadonlyArray1<'py, i64>,
    starts: Option<PyReadonlyArray3<'py, f64>>,
    shared_starts: Option<PyReadonlyArray2<'py, f64>>,
    grid_keep: usize,
    method: &str,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    let opts = options.lm(power::N_PARAMS)?;
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
        (Some(s), None) => {
            let (_, k, p) = s.as_array().dim();
            if p != power::N_PARAMS {
                return Err(LawfitInputError::new_err(format!("starts must have 3 values each, got {p}")));
            }
            Starts::PerTask { values: s.as_array().iter().copied().collect(), k }
        }
        (None, Some(s)) => Starts::Shared(starts_of(&s)),
        (None, None) => Starts::Grid(grid_keep),
        (Some(_), Some(_)) => {
            return Err(LawfitInputError::new_err("pass either per-fit starts or shared starts, not both"))
        }
    };
    let space = options.space;
    let tasks = run_interruptible(py, None, |stop| {
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

// ---- functional scaling law and convex last-iterate bound (issue 18) ----
// Conversions only; the work is in `laws::fsl` and `laws::convex_bound`.

/// 0-based indices from int64 arrays (each non-negative).
fn index_vecs(indices: &[PyReadonlyArray1<'_, i64>]) -> PyResult<Vec<Vec<usize>>> {
    indices.iter().map(|a| steps_of("indices", a)).collect()
}

/// Check that `params` has `p` finite values.
fn check_params(params: &[f64], names: &[&str]) -> PyResult<()> {
    if params.len() != names.len() {
        return Err(LawfitInputError::new_err(format!(
            "params has {} values, expected {} ({names:?})",
            params.len(),
            names.len()
        )));
    }
    if let Some((i, v)) = params.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(LawfitInputError::new_err(format!(
            "params[{:?}] is {v}; parameters must be finite",
            names[i]
        )));
    }
    Ok(())
}

/// Values (n,) and, when `gradients`, the (n, p) gradient matrix, as Python objects.
fn values_and_gradients<'py>(
    py: Python<'py>,
    values: Vec<f64>,
    grads: Option<Vec<f64>>,
    p: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let n = values.len();
    let values = values.into_pyarray(py).into_any();
    match grads {
        None => Ok(values),
        Some(g) => {
            let g = numpy::ndarray::Array2::from_shape_vec((n, p), g).expect("n × p gradients");
            Ok((values, g.into_pyarray(py)).into_pyobject(py)?.into_any())
        }
    }
}

/// The functional scaling law at the 0-based logged indices of LR schedules sharing parameters
/// (`warmups[c]`: LR changes before it are not drops): predictions (n,) and, when `gradients`,
/// also the (n, 7) gradient matrix.
#[pyfunction]
#[pyo3(signature = (lrs, indices, warmups, params, *, exact=false, gradients=false))]
fn fsl_predict<'py>(
    py: Python<'py>,
    lrs: Vec<PyReadonlyArray1<'py, f64>>,
    indices: Vec<PyReadonlyArray1<'py, i64>>,
    warmups: Vec<usize>,
    params: Vec<f64>,
    exact: bool,
    gradients: bool,
) -> PyResult<Bound<'py, PyAny>> {
    use crate::laws::fsl::{FslCurve, FslModel, FslOptions, N_PARAMS, PARAM_NAMES};
    if lrs.len() != indices.len() || lrs.len() != warmups.len() {
        return Err(LawfitInputError::new_err("pass one LR array, one index array and one warmup per curve"));
    }
    check_params(&params, &PARAM_NAMES)?;
    let lr_slices: Vec<&[f64]> = lrs.iter().map(|a| slice("lr", a)).collect::<PyResult<_>>()?;
    let idx = index_vecs(&indices)?;
    let (values, grads) = py
        .detach(|| -> Result<_, Error> {
            let curves: Vec<FslCurve<'_>> = lr_slices
                .iter()
                .zip(&idx)
                .zip(&warmups)
                .map(|((lr, ix), &w)| FslCurve { lr, indices: ix, warmup: w })
                .collect();
            let model = FslModel::new(&curves, FslOptions { exact })?;
            Ok(model.evaluate(&params, gradients))
        })
        .map_err(to_py)?;
    values_and_gradients(py, values, grads, N_PARAMS)
}

/// Fit the functional scaling law jointly over curves (0-based logged indices).
#[pyfunction]
#[pyo3(signature = (lrs, indices, warmups, targets, weights, *, exact, starts, progress=None, options))]
#[allow(clippy::too_many_arguments)]
fn fit_fsl<'py>(
    py: Python<'py>,
    lrs: Vec<PyReadonlyArray1<'py, f64>>,
    indices: Vec<PyReadonlyArray1<'py, i64>>,
    warmups: Vec<usize>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    exact: bool,
    starts: PyReadonlyArray2<'py, f64>,
    progress: Option<Py<PyAny>>,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    use crate::laws::fsl::{self, FslCurve, FslOptions, N_PARAMS};
    if lrs.len() != indices.len() || lrs.len() != warmups.len() {
        return Err(LawfitInputError::new_err("pass one LR array, one index array and one warmup per curve"));
    }
    let lr_slices: Vec<&[f64]> = lrs.iter().map(|a| slice("lr", a)).collect::<PyResult<_>>()?;
    let idx = index_vecs(&indices)?;
    let curves: Vec<FslCurve<'_>> = lr_slices
        .iter()
        .zip(&idx)
        .zip(&warmups)
        .map(|((lr, ix), &w)| FslCurve { lr, indices: ix, warmup: w })
        .collect();
    let mut opts = options.lm(N_PARAMS)?;
    let targets = slice("loss", &targets)?;
    let weights = weights.as_ref().map(|w| slice("weights", w)).transpose()?;
    let space = options.space;
    let starts = starts_of(&starts);
    let progress = progress_of(&mut opts, progress, starts.len());
    let rep = run_interruptible(py, progress.as_ref(), |stop| {
        fsl::fit(
            &curves,
            FslOptions { exact },
            Observations { targets, weights, space },
            &starts,
            &opts,
            stop,
        )
    })?;
    report_with_stats(py, rep)
}

/// The convex last-iterate bound law C + Ω_T at the 0-based logged indices of LR schedules sharing
/// parameters (`g_model` "constant": C, D, G; "parametric": C, D, G1, A1, G2, A2, B): predictions
/// (n,) and, when `gradients`, also the (n, p) gradient matrix.
#[pyfunction]
#[pyo3(signature = (lrs, indices, params, *, g_model="constant", exact=false, gradients=false))]
fn convex_bound_predict<'py>(
    py: Python<'py>,
    lrs: Vec<PyReadonlyArray1<'py, f64>>,
    indices: Vec<PyReadonlyArray1<'py, i64>>,
    params: Vec<f64>,
    g_model: &str,
    exact: bool,
    gradients: bool,
) -> PyResult<Bound<'py, PyAny>> {
    use crate::laws::convex_bound::{BoundCurve, BoundModel, GradientModel};
    if lrs.len() != indices.len() {
        return Err(LawfitInputError::new_err("pass one LR array and one index array per curve"));
    }
    let gm = GradientModel::parse(g_model).map_err(to_py)?;
    let lr_slices: Vec<&[f64]> = lrs.iter().map(|a| slice("lr", a)).collect::<PyResult<_>>()?;
    let idx = index_vecs(&indices)?;
    let p = gm.n_params();
    let (values, grads) = py
        .detach(|| -> Result<_, Error> {
            let curves: Vec<BoundCurve<'_>> =
                lr_slices.iter().zip(&idx).map(|(lr, ix)| BoundCurve { lr, indices: ix }).collect();
            let model = BoundModel::new(&curves, gm, exact)?;
            check_params(&params, model.param_names()).map_err(|e| Error::InvalidArgument(e.to_string()))?;
            Ok(model.evaluate(&params, gradients))
        })
        .map_err(to_py)?;
    values_and_gradients(py, values, grads, p)
}

/// Fit the convex-bound law jointly over curves (0-based logged indices).
#[pyfunction]
#[pyo3(signature = (lrs, indices, targets, weights, *, g_model, exact, starts, progress=None, options))]
#[allow(clippy::too_many_arguments)]
fn fit_convex_bound<'py>(
    py: Python<'py>,
    lrs: Vec<PyReadonlyArray1<'py, f64>>,
    indices: Vec<PyReadonlyArray1<'py, i64>>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    g_model: &str,
    exact: bool,
    starts: PyReadonlyArray2<'py, f64>,
    progress: Option<Py<PyAny>>,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    use crate::laws::convex_bound::{self, BoundCurve, GradientModel};
    if lrs.len() != indices.len() {
        return Err(LawfitInputError::new_err("pass one LR array and one index array per curve"));
    }
    let gm = GradientModel::parse(g_model).map_err(to_py)?;
    let lr_slices: Vec<&[f64]> = lrs.iter().map(|a| slice("lr", a)).collect::<PyResult<_>>()?;
    let idx = index_vecs(&indices)?;
    let curves: Vec<BoundCurve<'_>> =
        lr_slices.iter().zip(&idx).map(|(lr, ix)| BoundCurve { lr, indices: ix }).collect();
    let mut opts = options.lm(gm.n_params())?;
    let targets = slice("loss", &targets)?;
    let weights = weights.as_ref().map(|w| slice("weights", w)).transpose()?;
    let space = options.space;
    let starts = starts_of(&starts);
    let progress = progress_of(&mut opts, progress, starts.len());
    let rep = run_interruptible(py, progress.as_ref(), |stop| {
        convex_bound::fit(&curves, gm, exact, Observations { targets, weights, space }, &starts, &opts, stop)
    })?;
    report_with_stats(py, rep)
}
// ---- end of functional scaling law and convex last-iterate bound ----

/// The extension module `lawfit._core`.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("LawfitInputError", m.py().get_type::<LawfitInputError>())?;
    m.add_class::<SolverOptions>()?;
    m.add_function(wrap_pyfunction!(pool_threads, m)?)?;
    m.add_function(wrap_pyfunction!(areas, m)?)?;
    m.add_function(wrap_pyfunction!(areas_at, m)?)?;
    m.add_function(wrap_pyfunction!(fit_momentum, m)?)?;
    m.add_function(wrap_pyfunction!(predict_momentum, m)?)?;
    m.add_function(wrap_pyfunction!(fit_momentum_n, m)?)?;
    m.add_function(wrap_pyfunction!(predict_momentum_n, m)?)?;
    m.add_function(wrap_pyfunction!(least_squares, m)?)?;
    m.add_function(wrap_pyfunction!(multipower_predict, m)?)?;
    m.add_function(wrap_pyfunction!(fit_multipower, m)?)?;
    m.add_function(wrap_pyfunction!(chinchilla_default_starts, m)?)?;
    m.add_function(wrap_pyfunction!(fit_chinchilla, m)?)?;
    m.add_function(wrap_pyfunction!(predict_chinchilla, m)?)?;
    m.add_function(wrap_pyfunction!(refit_chinchilla, m)?)?;
    m.add_function(wrap_pyfunction!(fit_power_law, m)?)?;
    m.add_function(wrap_pyfunction!(predict_power_law, m)?)?;
    m.add_function(wrap_pyfunction!(power_law_grid_starts, m)?)?;
    m.add_function(wrap_pyfunction!(refit_power_law, m)?)?;
    m.add_function(wrap_pyfunction!(fit_many_power_law, m)?)?;
    m.add_function(wrap_pyfunction!(fsl_predict, m)?)?;
    m.add_function(wrap_pyfunction!(fit_fsl, m)?)?;
    m.add_function(wrap_pyfunction!(convex_bound_predict, m)?)?;
    m.add_function(wrap_pyfunction!(fit_convex_bound, m)?)?;
    Ok(())
}
