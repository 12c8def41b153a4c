//! Python callables on the core's Levenberg–Marquardt solver (`lawfit.least_squares`).

use super::prelude::*;

// ---- Python callables on the same solver ----

/// Residuals (and Jacobian) computed by Python callables, evaluated once per solver evaluation.
pub(crate) struct PyProblem {
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
pub(crate) fn least_squares<'py>(
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
