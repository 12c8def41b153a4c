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

/// The extension module `lawfit._core`.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("LawfitInputError", m.py().get_type::<LawfitInputError>())?;
    m.add_function(wrap_pyfunction!(areas, m)?)?;
    Ok(())
}
