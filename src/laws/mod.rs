//! The laws: one file per law, each a [`crate::problem::Model`] with an analytic Jacobian.

pub mod chinchilla;
pub mod convex_bound;
pub mod fsl;
pub mod momentum;
pub mod momentum_n;
pub mod multipower;
pub mod power;
#[cfg(test)]
pub(crate) mod testing;
