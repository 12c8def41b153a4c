//! Loss-curve laws: LR areas, the momentum laws, the multi-power law, the functional scaling law
//! and the convex last-iterate bound (conversions only; the work is in `crate::laws`).

use super::inputs::{ConvexBoundOptions, Curves, MomentumOptions, PyMultiPowerOptions};
use super::prelude::*;

/// S1, S2 (and dS2/dλ when `derivative`) for every step of `lr`, as the rows of one
/// `(2 or 3, len(lr))` float64 array.
///
/// One NumPy allocation for all rows, written in place without the GIL: NumPy's allocator asks
/// for huge pages on large blocks, and a single block (unlike two or three separate ones) is kept
/// by glibc's heap between calls instead of being returned to the OS and page-faulted in again,
/// which for 1e5–1e6 steps costs more than the computation itself.
#[pyfunction]
#[pyo3(signature = (lr, *, decay=0.999, warmup_steps=0, warmup="as_peak", derivative=false))]
pub(crate) fn areas<'py>(
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
pub(crate) fn areas_at<'py>(
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

/// Fit the momentum law jointly over `curves` (1-based steps); returns a dict describing the best
/// solve.
#[pyfunction]
#[pyo3(signature = (curves, targets, weights, *, law, starts, progress=None, options))]
pub(crate) fn fit_momentum<'py>(
    curves: &Bound<'py, Curves>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    law: PyRef<'py, MomentumOptions>,
    starts: PyReadonlyArray2<'py, f64>,
    progress: Option<Py<PyAny>>,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    let (py, curves) = (curves.py(), curves.get());
    let lrs = curves.borrow_lrs(py)?;
    let runs = curves.runs(&curves.lr_slices(&lrs)?, &law);
    let config = law.config;
    let fit = options.fit_inputs(law.n_params(), "loss", &targets, weights.as_ref(), &starts)?;
    // Long logs screen the starts on a subsample, run the best few on, then polish the winner.
    let n_starts = fit.starts.len();
    let total = if fit.observed.targets.len() > momentum::COARSE_ABOVE {
        let screened = if n_starts > crate::strategy::LEVELS_SCREEN_POLISH {
            crate::strategy::LEVELS_SCREEN_POLISH
        } else {
            0
        };
        n_starts + screened + 1
    } else {
        n_starts
    };
    let rep = fit.run(py, progress, total, |f, stop| {
        momentum::fit(runs, config, f.observed, &f.starts, &f.opts, stop)
    })?;
    report_with_stats(py, rep)
}

/// Momentum-law predictions at the logged steps of each curve (curves concatenated).
#[pyfunction]
#[pyo3(signature = (curves, params, *, law))]
pub(crate) fn predict_momentum<'py>(
    curves: &Bound<'py, Curves>,
    params: Vec<f64>,
    law: PyRef<'py, MomentumOptions>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (py, curves) = (curves.py(), curves.get());
    let lrs = curves.borrow_lrs(py)?;
    let runs = curves.runs(&curves.lr_slices(&lrs)?, &law);
    let config = law.config;
    let out = detach_in_pool(py, || momentum::predict(runs, config, &params))?.map_err(to_py)?;
    Ok(out.into_pyarray(py))
}

/// Fit the N-extended momentum law jointly over `curves` of model sizes `sizes` (one per curve).
#[pyfunction]
#[pyo3(signature = (curves, sizes, targets, weights, *, law, starts, options))]
pub(crate) fn fit_momentum_n<'py>(
    curves: &Bound<'py, Curves>,
    sizes: Vec<f64>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    law: PyRef<'py, MomentumOptions>,
    starts: PyReadonlyArray2<'py, f64>,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    let (py, curves) = (curves.py(), curves.get());
    let lrs = curves.borrow_lrs(py)?;
    let runs = curves.runs(&curves.lr_slices(&lrs)?, law.areas_only()?);
    let fit = options.fit_inputs(7, "loss", &targets, weights.as_ref(), &starts)?;
    let rep =
        fit.run(py, None, 0, |f, stop| momentum_n::fit(runs, &sizes, f.observed, &f.starts, &f.opts, stop))?;
    report_dict(py, rep)
}

/// N-extended momentum-law predictions at the logged steps of each curve (curves concatenated).
#[pyfunction]
#[pyo3(signature = (curves, sizes, params, *, law))]
pub(crate) fn predict_momentum_n<'py>(
    curves: &Bound<'py, Curves>,
    sizes: Vec<f64>,
    params: Vec<f64>,
    law: PyRef<'py, MomentumOptions>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let (py, curves) = (curves.py(), curves.get());
    let lrs = curves.borrow_lrs(py)?;
    let runs = curves.runs(&curves.lr_slices(&lrs)?, law.areas_only()?);
    let out = detach_in_pool(py, || momentum_n::predict(runs, &sizes, &params))?.map_err(to_py)?;
    Ok(out.into_pyarray(py))
}

// ---- multi-power law ----

/// The 7 parameters from a dict with exactly the keys of `PARAM_NAMES` or a sequence of 7 numbers.
pub(crate) fn multipower_params(params: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
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

/// The multi-power law (Luo et al. 2025) at the logged steps of `curves` sharing parameters:
/// predictions (n,) and, when `gradients`, also the (n, 7) gradient matrix.
#[pyfunction]
#[pyo3(signature = (curves, params, *, law, gradients=false))]
pub(crate) fn multipower_predict<'py>(
    curves: &Bound<'py, Curves>,
    params: &Bound<'py, PyAny>,
    law: PyRef<'py, PyMultiPowerOptions>,
    gradients: bool,
) -> PyResult<Bound<'py, PyAny>> {
    use crate::laws::multipower::{MultiPowerModel, N_PARAMS};
    let (py, curves) = (curves.py(), curves.get());
    let params = multipower_params(params)?;
    let lrs = curves.borrow_lrs(py)?;
    let lr_slices = curves.lr_slices(&lrs)?;
    let indices = curves.indices();
    let options = law.inner;
    let (values, grads) = detach_in_pool(py, || -> Result<_, Error> {
        let model = MultiPowerModel::new(&Curves::logged(&lr_slices, &indices), options)?;
        Ok(model.evaluate(&params, gradients))
    })?
    .map_err(to_py)?;
    values_and_gradients(py, values, grads, N_PARAMS)
}

// ---- end multi-power law ----

/// Fit the multi-power law jointly over `curves`.
#[pyfunction]
#[pyo3(signature = (curves, targets, weights, *, law, starts, progress=None, options))]
pub(crate) fn fit_multipower<'py>(
    curves: &Bound<'py, Curves>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    law: PyRef<'py, PyMultiPowerOptions>,
    starts: PyReadonlyArray2<'py, f64>,
    progress: Option<Py<PyAny>>,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    use crate::laws::multipower::{self, N_PARAMS};
    let (py, curves) = (curves.py(), curves.get());
    let lrs = curves.borrow_lrs(py)?;
    let lr_slices = curves.lr_slices(&lrs)?;
    let indices = curves.indices();
    let logged = Curves::logged(&lr_slices, &indices);
    let law_options = law.inner;
    let fit = options.fit_inputs(N_PARAMS, "loss", &targets, weights.as_ref(), &starts)?;
    let total = fit.starts.len();
    let rep = fit.run(py, progress, total, |f, stop| {
        multipower::fit(&logged, law_options, f.observed, &f.starts, &f.opts, stop)
    })?;
    report_with_stats(py, rep)
}

// ---- functional scaling law and convex last-iterate bound (issue 18) ----
// Conversions only; the work is in `laws::fsl` and `laws::convex_bound`.

/// The functional scaling law at the logged steps of `curves` sharing parameters (each curve's
/// warmup: LR changes before it are not drops): predictions (n,) and, when `gradients`, also the
/// (n, 7) gradient matrix.
#[pyfunction]
#[pyo3(signature = (curves, params, *, exact=false, gradients=false))]
pub(crate) fn fsl_predict<'py>(
    curves: &Bound<'py, Curves>,
    params: Vec<f64>,
    exact: bool,
    gradients: bool,
) -> PyResult<Bound<'py, PyAny>> {
    use crate::laws::fsl::{FslModel, FslOptions, N_PARAMS, PARAM_NAMES};
    let (py, curves) = (curves.py(), curves.get());
    check_params(&params, &PARAM_NAMES)?;
    let lrs = curves.borrow_lrs(py)?;
    let lr_slices = curves.lr_slices(&lrs)?;
    let indices = curves.indices();
    let (values, grads) = py
        .detach(|| -> Result<_, Error> {
            let model = FslModel::new(&curves.fsl(&lr_slices, &indices), FslOptions { exact })?;
            Ok(model.evaluate(&params, gradients))
        })
        .map_err(to_py)?;
    values_and_gradients(py, values, grads, N_PARAMS)
}

/// Fit the functional scaling law jointly over `curves`.
#[pyfunction]
#[pyo3(signature = (curves, targets, weights, *, exact, starts, progress=None, options))]
pub(crate) fn fit_fsl<'py>(
    curves: &Bound<'py, Curves>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    exact: bool,
    starts: PyReadonlyArray2<'py, f64>,
    progress: Option<Py<PyAny>>,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    use crate::laws::fsl::{self, FslOptions, N_PARAMS};
    let (py, curves) = (curves.py(), curves.get());
    let lrs = curves.borrow_lrs(py)?;
    let lr_slices = curves.lr_slices(&lrs)?;
    let indices = curves.indices();
    let fsl_curves = curves.fsl(&lr_slices, &indices);
    let fit = options.fit_inputs(N_PARAMS, "loss", &targets, weights.as_ref(), &starts)?;
    let total = fit.starts.len();
    let rep = fit.run(py, progress, total, |f, stop| {
        fsl::fit(&fsl_curves, FslOptions { exact }, f.observed, &f.starts, &f.opts, stop)
    })?;
    report_with_stats(py, rep)
}

/// The convex last-iterate bound law C + Ω_T at the logged steps of `curves` sharing parameters
/// (`law.g_model` "constant": C, D, G; "parametric": C, D, G1, A1, G2, A2, B): predictions (n,)
/// and, when `gradients`, also the (n, p) gradient matrix.
#[pyfunction]
#[pyo3(signature = (curves, params, *, law, gradients=false))]
pub(crate) fn convex_bound_predict<'py>(
    curves: &Bound<'py, Curves>,
    params: Vec<f64>,
    law: PyRef<'py, ConvexBoundOptions>,
    gradients: bool,
) -> PyResult<Bound<'py, PyAny>> {
    use crate::laws::convex_bound::BoundModel;
    let (py, curves) = (curves.py(), curves.get());
    let (gm, exact) = (law.g_model, law.exact);
    let lrs = curves.borrow_lrs(py)?;
    let lr_slices = curves.lr_slices(&lrs)?;
    let indices = curves.indices();
    let (values, grads) = py
        .detach(|| -> Result<_, Error> {
            let model = BoundModel::new(&Curves::logged(&lr_slices, &indices), gm, exact)?;
            check_params(&params, model.param_names()).map_err(|e| Error::InvalidArgument(e.to_string()))?;
            Ok(model.evaluate(&params, gradients))
        })
        .map_err(to_py)?;
    values_and_gradients(py, values, grads, gm.n_params())
}

/// Fit the convex-bound law jointly over `curves`.
#[pyfunction]
#[pyo3(signature = (curves, targets, weights, *, law, starts, progress=None, options))]
pub(crate) fn fit_convex_bound<'py>(
    curves: &Bound<'py, Curves>,
    targets: PyReadonlyArray1<'py, f64>,
    weights: Option<PyReadonlyArray1<'py, f64>>,
    law: PyRef<'py, ConvexBoundOptions>,
    starts: PyReadonlyArray2<'py, f64>,
    progress: Option<Py<PyAny>>,
    options: PyRef<'py, SolverOptions>,
) -> PyResult<Bound<'py, PyDict>> {
    use crate::laws::convex_bound;
    let (py, curves) = (curves.py(), curves.get());
    let (gm, exact) = (law.g_model, law.exact);
    let lrs = curves.borrow_lrs(py)?;
    let lr_slices = curves.lr_slices(&lrs)?;
    let indices = curves.indices();
    let logged = Curves::logged(&lr_slices, &indices);
    let fit = options.fit_inputs(gm.n_params(), "loss", &targets, weights.as_ref(), &starts)?;
    let total = fit.starts.len();
    let rep = fit.run(py, progress, total, |f, stop| {
        convex_bound::fit(&logged, gm, exact, f.observed, &f.starts, &f.opts, stop)
    })?;
    report_with_stats(py, rep)
}
// ---- end of functional scaling law and convex last-iterate bound ----
