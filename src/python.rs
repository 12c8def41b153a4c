//! The Python binding: the only file that knows Python exists. It converts arguments, releases
//! the GIL around every O(n) call, and maps [`Error`] to Python exceptions.

use crate::areas::{self as core_areas, AreaOptions, WarmupMode};
use crate::error::Error;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::{PyKeyboardInterrupt, PyValueError};
use pyo3::prelude::*;

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
    let (values, grads) = py
        .detach(|| -> Result<_, Error> {
            let curves: Vec<MultiPowerCurve<'_>> =
                lrs.iter().zip(&indices).map(|(lr, idx)| MultiPowerCurve { lr, indices: idx }).collect();
            let model = MultiPowerModel::new(&curves, options)?;
            Ok(model.evaluate(&params, gradients))
        })
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

/// The extension module `lawfit._core`.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("LawfitInputError", m.py().get_type::<LawfitInputError>())?;
    m.add_function(wrap_pyfunction!(areas, m)?)?;
    m.add_function(wrap_pyfunction!(multipower_predict, m)?)?;
    Ok(())
}
