//! Thin commands: take arguments and state, call core, map the error. One module per domain.

pub mod system;
