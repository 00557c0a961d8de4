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
/// A single-use ticket for `action` on `account` (the app's own: `tickets::APP`), asked for
/// when its confirm opens; [`redeem_ticket`] takes it back once, within five minutes.
pub(crate) fn issue_ticket(
    state: &AppState,
    account: retract_core::accounts::AccountId,
    action: retract_core::tickets::TicketAction,
) -> Result<String, AppError> {
    Ok(state
        .tickets
        .issue(account, action, retract_core::now_unix())?)
}

pub(crate) fn redeem_ticket(
    state: &AppState,
    account: retract_core::accounts::AccountId,
    action: retract_core::tickets::TicketAction,
    ticket: &str,
) -> Result<(), AppError> {
    Ok(state
        .tickets
        .redeem(account, action, ticket, retract_core::now_unix())?)
}

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

/// What the system's opener may be handed. Callers check first (`links::article_link`,
/// `archive::folder_to_open`): only article links and Retract's own folders get here.
pub(crate) enum Openable {
    Link(url::Url),
    Folder(std::path::PathBuf),
}

/// Hands a checked link or folder to the OS (browser, file manager) through the official
/// opener plugin. The plugin's own commands are not granted to the webview: its scope is these
/// Rust-side checks, and this is the only place that opens anything.
pub(crate) async fn system_open(app: &tauri::AppHandle, target: Openable) -> Result<(), AppError> {
    use tauri_plugin_opener::OpenerExt;
    let app = app.clone();
    blocking(move || {
        let opener = app.opener();
        let result = match &target {
            Openable::Link(url) => opener.open_url(url.as_str(), None::<&str>),
            Openable::Folder(path) => opener.open_path(path.to_string_lossy(), None::<&str>),
        };
        result.map_err(|e| AppError::internal(format!("the system could not open it: {e}")))
    })
    .await
}
