//! The one error type of the core. Messages name the offending argument, index and value, so the
//! Python layer can pass them through unchanged.

use thiserror::Error;

/// Everything that can go wrong in the pure-Rust core.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum Error {
    /// A single element of an input array is not acceptable (NaN, infinite, negative, ...).
    #[error("{name}[{index}] is {value}; {reason}")]
    InvalidValue {
        /// Name of the argument, as the user passed it (`lr`, `loss`, ...).
        name: &'static str,
        /// Index of the first offending element.
        index: usize,
        /// The offending value.
        value: f64,
        /// Why it is rejected, and what to do about it.
        reason: &'static str,
    },
    /// Two arrays that must have the same length do not.
    #[error("{name} has length {got}, expected {expected} ({why})")]
    LengthMismatch {
        /// Name of the argument with the wrong length.
        name: &'static str,
        /// Its length.
        got: usize,
        /// The required length.
        expected: usize,
        /// What the length must match.
        why: &'static str,
    },
    /// A scalar option is out of its domain, or the arguments are inconsistent.
    #[error("{0}")]
    InvalidArgument(String),
    /// The caller asked the computation to stop (e.g. Ctrl-C seen between iterations).
    #[error("interrupted")]
    Interrupted,
}

/// Result alias of the core.
pub type Result<T> = std::result::Result<T, Error>;
