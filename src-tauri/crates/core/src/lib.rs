//! `retract-core`: Retract's rules without a window. This crate grows with the product:
//! accounts and the OS keyring now; the local index, deletion plans and the journal next.
//! It never depends on Tauri, so every rule is testable with plain `cargo test`.

pub mod keyring;
