//! `retract-core`: Retract's rules without a window — accounts and the OS keyring, the local
//! SQLite store and article index, deletion plans and their execution from a durable journal.
//! It never depends on Tauri, so every rule is testable with plain `cargo test`.

pub mod accounts;
pub mod archive;
pub mod audit;
pub mod covers;
pub mod decide;
#[cfg(feature = "demo")]
pub mod demo;
pub mod error;
pub mod execute;
pub mod files;
pub mod identity;
pub mod ids;
pub mod index;
pub mod journal;
pub mod keyring;
pub mod links;
pub mod observations;
pub mod overview;
pub mod plan;
pub mod queue;
mod recheck;
pub mod restore;
pub mod rules;
pub mod runlock;
pub mod seal;
mod search;
pub mod settle;
pub mod signoff;
pub mod store;
pub mod sync;
pub mod tickets;

pub use error::CoreError;

/// Wall-clock seconds since the epoch, for timestamps in the store.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
