//! Conversions between NumPy/Python values and the core's types, and the report dicts.

use super::prelude::*;

/// Borrow a 1-D float64 array without copying; the Python layer makes it contiguous first.
pub(crate) fn slice<'a>(name: &str, arr: &'a PyReadonlyArray1<'_, f64>) -> PyResult<&'a [f64]> {
    arr.as_slice()
        .map_err(|_| LawfitInputError::new_err(format!("{name} must be a C-contiguous float64 array")))
}

pub(crate) fn space_of(name: &str) -> PyResult<Space> {
    match name {
        "log" => Ok(Space::Log),
        "linear" => Ok(Space::Linear),
        other => Err(LawfitInputError::new_err(format!("space must be 'log' or 'linear', got {other:?}"))),
    }
}

pub(crate) fn steps_of(name: &str, arr: &PyReadonlyArray1<'_, i64>) -> PyResult<Vec<usize>> {
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

/// [`report_dict`] plus the linear-space residual sums of the best fit.
pub(crate) fn report_with_stats<'py>(
    py: Python<'py>,
    (rep, stats): (MultiStartReport, crate::problem::LinearStats),
) -> PyResult<Bound<'py, PyDict>> {
    let d = report_dict(py, rep)?;
    d.set_item("linear_sum_sq", stats.sum_sq)?;
    d.set_item("linear_sum_abs", stats.sum_abs)?;
    d.set_item("linear_total_sq", stats.total_sq)?;
    Ok(d)
}

pub(crate) fn report_dict<'py>(py: Python<'py>, rep: MultiStartReport) -> PyResult<Bound<'py, PyDict>> {
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

pub(crate) fn starts_of(starts: &PyReadonlyArray2<'_, f64>) -> Vec<Vec<f64>> {
    starts.as_array().rows().into_iter().map(|r| r.to_vec()).collect()
}

/// A 1-D array as a slice, borrowed when contiguous, copied otherwise.
pub(crate) fn cow_slice<'a, T: numpy::Element + Copy>(
    arr: &'a numpy::PyReadonlyArray1<'_, T>,
) -> std::borrow::Cow<'a, [T]> {
    match arr.as_slice() {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(arr.as_array().iter().copied().collect()),
    }
}

/// Borrow a C-contiguous 2-D float64 array as (values, n_rows, n_cols).
pub(crate) fn slice2<'a>(
    name: &str,
    arr: &'a PyReadonlyArray2<'_, f64>,
) -> PyResult<(&'a [f64], usize, usize)> {
    let (n_rows, n_cols) = arr.as_array().dim();
    let values = arr
        .as_slice()
        .map_err(|_| LawfitInputError::new_err(format!("{name} must be a C-contiguous float64 array")))?;
    Ok((values, n_rows, n_cols))
}

/// Names of the termination codes of a batch (`status` holds indices into this list).
pub(crate) const STATUS_NAMES: [&str; 8] =
    ["Ftol", "Xtol", "Gtol", "NothingToFit", "MaxEvals", "NonFiniteStart", "Stalled", "Skipped"];

pub(crate) fn status_code(status: Option<Status>) -> u8 {
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
pub(crate) fn tasks_dict<'py>(
    py: Python<'py>,
    tasks: Vec<TaskResult>,
    p: usize,
) -> PyResult<Bound<'py, PyDict>> {
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

/// Check that `params` has `p` finite values.
pub(crate) fn check_params(params: &[f64], names: &[&str]) -> PyResult<()> {
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
pub(crate) fn values_and_gradients<'py>(
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
