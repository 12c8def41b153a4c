//! The laws: one file per law, each a [`crate::problem::Model`] with an analytic Jacobian.

pub mod chinchilla;
pub mod convex_bound;
pub mod fsl;
pub mod momentum;
pub mod momentum_n;
pub mod multipower;
pub mod power;

/// One training curve of a schedule law: its per-step LR (`lr[k]` is the LR of lawfit's step k+1)
/// and the 0-based logged indices into it (each law says which order it needs).
#[derive(Debug, Clone, Copy)]
pub struct LoggedCurve<'a> {
    /// LR of every step.
    pub lr: &'a [f64],
    /// 0-based logged indices into `lr`.
    pub indices: &'a [usize],
}
#[cfg(test)]
pub(crate) mod testing;
