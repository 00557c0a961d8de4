//! Thin commands: take arguments and state, call core, map the error. One module per domain.

pub mod accounts;
pub mod archive;
pub mod articles;
pub mod audit;
pub mod deletions;
pub mod system;

use crate::error::AppError;
use crate::state::{AppState, blocking};

#[cfg(test)]
mod tests;

/// Where a command's progress goes: the window's events in the app, a recorder in the
/// host-agnostic tests (`commands/tests.rs`).
pub(crate) trait Progress: Send + Sync {
    fn sync(&self, event: articles::SyncProgressEvent);
    fn deletion(&self, event: deletions::DeletionProgressEvent);
}

impl Progress for tauri::AppHandle {
    fn sync(&self, event: articles::SyncProgressEvent) {
        use tauri_specta::Event;
        if let Err(e) = event.emit(self) {
            tracing::warn!("cannot send sync progress: {e}");
        }
    }

    fn deletion(&self, event: deletions::DeletionProgressEvent) {
        use tauri_specta::Event;
        if let Err(e) = event.emit(self) {
            tracing::warn!("cannot send deletion progress: {e}");
        }
    }
}

/// The account's API client. Building it may read the keyring (D-Bus, maybe an unlock
/// prompt), so it happens off the async runtime.
pub(crate) async fn account_api(
    state: &AppState,
    id: retract_core::accounts::AccountId,
) -> Result<wechat_mp::Api, AppError> {
    let accounts = state.accounts()?;
    blocking(move || Ok(accounts.api(id)?)).await
}

/// Runs SQLite or file work on a blocking thread, so a busy database or a large export never
/// freezes the window.
pub(crate) async fn in_background<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::internal(format!("background task failed: {e}")))?
}

/// Hands a URL or a folder to the system's opener (browser, file manager). Callers check what
/// they pass: only article links and Retract's own export folders get here.
pub(crate) async fn system_open(target: std::ffi::OsString) -> Result<(), AppError> {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    blocking(move || {
        std::process::Command::new(opener)
            .arg(&target)
            .spawn()
            .map(|_| ())
            .map_err(|e| AppError::internal(format!("cannot start {opener}: {e}")))
    })
    .await
}
