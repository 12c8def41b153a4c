//! Laws of data points and batches: Chinchilla, the power law, `fit_many` and bootstrap refits.

use super::prelude::*;

// ---- size laws and batches ----
// Chinchilla (spec §4), the power law with an irreducible term (spec §5), many independent fits
// at once (`fit_many`) and re-weighted refits (the bootstrap). Conversions only; the work is in
// `laws::chinchilla`, `laws::power` and `batch`.

/// Epoch's grid of 4,500 Chinchilla starts, solver order (e, a, b, alpha, beta), shape (4500, 5).
#[pyfunction]
pub(crate) fn chinchilla_default_starts(py: Python<'_>) -> PyResult<Bound<'_, numpy::PyArray2<f64>>> {
    let flat: Vec<f64> = detach_in_pool(py, || chinchilla::default_starts().into_iter().flatten().collect())?;
    let n = flat.len() / chinchilla::N_PARAMS;
    PyArray1::from_vec(py, flat).reshape([n, chinchilla::N_PARAMS])
}

/// Fit L(N, D) = E + A/N^α + B/D^β (log-sum-exp form) from every start; returns the report dict.
#[pyfunction]
#[pyo3(signature = (n, d, targets, weights, *, starts, polish=32, screen_tol=1e-2, screen_max_evals=15, options))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn fit_chinchilla<'py>(
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
    let fit = options.fit_inputs(chinchilla::N_PARAMS, "loss", &targets, weights.as_ref(), &starts)?;
    if !(screen_tol.is_finite() && screen_tol >= 0.0) {
        return Err(LawfitInputError::new_err(format!(
            "screen_tol must be finite and >= 0, got {screen_tol}"
        )));
    }
    let screen = (polish > 0).then_some(Screening { tol: screen_tol, max_evals: screen_max_evals, polish });
    let (n, d) = (slice("N", &n)?, slice("D", &d)?);
    let rep = fit.run(py, None, 0, |f, stop| {
        let Observations { targets, weights, space } = f.observed;
        let data = chinchilla::ChinchillaData::new(n, d, targets)?;
        chinchilla::fit(&data, weights, space, &f.starts, &f.opts, screen, stop)
    })?;
    report_dict(py, rep)
}

/// Chinchilla predictions L̂(N, D) for solver-order parameters (e, a, b, alpha, beta).
#[pyfunction]
pub(crate) fn predict_chinchilla<'py>(
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
pub(crate) fn refit_chinchilla<'py>(
    py: Python<'py>,
    n: PyReadonlyArray1<'py, f64>,
    d: PyReadonlyArray1<'py, f64>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: PyReadonlyArray2<'py, f64>,
    starts: PyReadonlyArray2<'py, f64>,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    let (n, d, targets) = (slice("N", &n)?, slice("D", &d)?, slice("loss", &targets)?);
    options.refit(py, chinchilla::N_PARAMS, &weights, &starts, |r| {
        let data = chinchilla::ChinchillaData::new(n, d, targets)?;
        batch::chinchilla_reweighted(&data, r.weights, r.space, &r.starts, &r.opts, r.stop)
    })
}

/// Fit y = a·x^(−b) + c from every start; returns the report dict.
#[pyfunction]
#[pyo3(signature = (x, targets, weights, *, starts, options))]
pub(crate) fn fit_power_law<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    starts: PyReadonlyArray2<'py, f64>,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    let fit = options.fit_inputs(power::N_PARAMS, "y", &targets, weights.as_ref(), &starts)?;
    let x = slice("x", &x)?;
    let rep = fit.run(py, None, 0, |f, stop| {
        let Observations { targets, weights, space } = f.observed;
        power::fit(x, targets, weights, space, &f.starts, &f.opts, stop)
    })?;
    report_dict(py, rep)
}

/// Power-law predictions a·x^(−b) + c.
#[pyfunction]
pub(crate) fn predict_power_law<'py>(
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
pub(crate) fn power_law_grid_starts<'py>(
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
pub(crate) fn refit_power_law<'py>(
    py: Python<'py>,
    x: PyReadonlyArray1<'py, f64>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: PyReadonlyArray2<'py, f64>,
    starts: PyReadonlyArray2<'py, f64>,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    let (x, targets) = (slice("x", &x)?, slice("y", &targets)?);
    options.refit(py, power::N_PARAMS, &weights, &starts, |r| {
        batch::power_reweighted(x, targets, r.weights, r.space, &r.starts, &r.opts, r.stop)
    })
}

/// Fit the power law independently to every row of `x`, `y` (n_fits × n_points; row i uses its
/// first `counts[i]` points). `starts`: None (data-driven, `grid_keep` per row), (k, 3) shared,
/// or (n_fits, k, 3) per row.
#[pyfunction]
#[pyo3(signature = (x, y, counts, *, starts, shared_starts, grid_keep, method="auto", options))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn fit_many_power_law<'py>(
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
