//! Thin commands: take arguments and state, call core, map the error. One module per domain.

pub mod accounts;
pub mod articles;
pub mod deletions;
pub mod records;
pub mod system;
