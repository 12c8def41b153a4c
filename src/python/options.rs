//! `SolverOptions`: the one bundle of solver settings every fit takes.

use super::prelude::*;

/// The solver settings of a fit, validated once: robust loss and scale, residual space, bounds,
/// fixed parameters, tolerances, evaluation budget, Gaussian prior and whether the starts are
/// already next to the optimum (`warm_start`: exact curvature from the first step). Every fit function of the
/// module takes one (`options=`); `lawfit._options.solver_options` builds it from `lf.fit`'s
/// arguments.
#[pyclass(frozen, module = "lawfit._core")]
pub(crate) struct SolverOptions {
    loss: RobustLoss,
    pub(crate) space: Space,
    lower: Vec<f64>,
    upper: Vec<f64>,
    fixed: Vec<bool>,
    ftol: f64,
    xtol: f64,
    gtol: f64,
    max_evals: usize,
    prior: Option<Prior>,
    /// The starts are already next to the optimum: exact curvature from the first step.
    warm_start: bool,
}

#[pymethods]
impl SolverOptions {
    #[new]
    #[pyo3(signature = (*, loss, delta, lower, upper, fixed, ftol, xtol, gtol, max_evals, space="log", prior=None, warm_start=false))]
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
        warm_start: bool,
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
            warm_start,
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
            "SolverOptions(loss={:?}, space={:?}, n_params={}, ftol={}, xtol={}, gtol={}, max_evals={}, prior={}, warm_start={})",
            self.loss,
            self.space,
            self.lower.len(),
            self.ftol,
            self.xtol,
            self.gtol,
            self.max_evals,
            self.prior.is_some(),
            self.warm_start
        )
    }
}

impl SolverOptions {
    /// The core solver's options for a law of `p` parameters (an error when the lengths differ).
    pub(crate) fn lm(&self, p: usize) -> PyResult<LmOptions> {
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
        if self.warm_start {
            opts.initial_curvature_floor = opts.curvature_floor;
        }
        opts.validate(p).map_err(to_py)?;
        Ok(opts)
    }
}

/// The solver inputs every fit binding converts alike: the core options for the law's
/// parameters, the observations (targets, optional weights, the options' residual space) and the
/// starts (one row each).
pub(crate) struct FitInputs<'a> {
    pub(crate) opts: LmOptions,
    pub(crate) observed: Observations<'a>,
    pub(crate) starts: Vec<Vec<f64>>,
}

impl SolverOptions {
    /// [`FitInputs`] of a law of `p` parameters; `targets` are called `target_name` in errors.
    pub(crate) fn fit_inputs<'a>(
        &self,
        p: usize,
        target_name: &str,
        targets: &'a PyReadonlyArray1<'_, f64>,
        weights: Option<&'a PyReadonlyArray1<'_, f64>>,
        starts: &PyReadonlyArray2<'_, f64>,
    ) -> PyResult<FitInputs<'a>> {
        let opts = self.lm(p)?;
        let targets = slice(target_name, targets)?;
        let weights = weights.map(|w| slice("weights", w)).transpose()?;
        let observed = Observations { targets, weights, space: self.space };
        Ok(FitInputs { opts, observed, starts: starts_of(starts) })
    }
}

impl FitInputs<'_> {
    /// Run `fit(inputs, stop)` off the GIL, interruptible by Ctrl-C, reporting `progress` (a
    /// Python callback, optional) over `total` solves.
    pub(crate) fn run<T: Send>(
        mut self,
        py: Python<'_>,
        progress: Option<Py<PyAny>>,
        total: usize,
        fit: impl FnOnce(&Self, Stop<'_>) -> Result<T, Error> + Send,
    ) -> PyResult<T> {
        let progress = progress_of(&mut self.opts, progress, total);
        run_interruptible(py, progress.as_ref(), |stop| fit(&self, stop))
    }
}

/// What a re-weighted refit (the bootstrap) runs on: one row of `weights` per replicate
/// (replicates × points, row-major), the options' residual space, the starts, the core options and
/// the stop flag.
pub(crate) struct Refit<'a> {
    pub(crate) weights: &'a [f64],
    pub(crate) space: Space,
    pub(crate) starts: Vec<Vec<f64>>,
    pub(crate) opts: LmOptions,
    pub(crate) stop: Stop<'a>,
}

impl SolverOptions {
    /// Run the re-weighted refits of a law of `p` parameters off the GIL (interruptible), as a
    /// batch dict: `refit` gets the converted [`Refit`] inputs.
    pub(crate) fn refit<'py>(
        &self,
        py: Python<'py>,
        p: usize,
        weights: &PyReadonlyArray2<'_, f64>,
        starts: &PyReadonlyArray2<'_, f64>,
        refit: impl FnOnce(Refit<'_>) -> Result<Vec<TaskResult>, Error> + Send,
    ) -> PyResult<Bound<'py, PyDict>> {
        let opts = self.lm(p)?;
        let (weights, _, _) = slice2("weights", weights)?;
        let (space, starts) = (self.space, starts_of(starts));
        let tasks = run_interruptible(py, None, |stop| refit(Refit { weights, space, starts, opts, stop }))?;
        tasks_dict(py, tasks, p)
    }
}
