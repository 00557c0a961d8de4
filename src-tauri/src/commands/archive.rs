//! The archive of deleted articles: the list, restore as draft, the export, and opening an
//! export folder. SQLite and file work runs off the main thread.

use retract_core::accounts::AccountId;
use retract_core::archive::{self, DeletedArticle};
use tauri::State;

use super::in_background;
use crate::error::AppError;
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub async fn list_deleted(
    state: State<'_, AppState>,
    id: AccountId,
) -> Result<Vec<DeletedArticle>, AppError> {
    let accounts = state.accounts()?;
    in_background(move || Ok(archive::list(accounts.store(), id)?)).await
}

/// Re-creates an archived target as a draft (`draft/add`, sent once); audited either way.
#[tauri::command]
#[specta::specta]
pub async fn restore_draft(
    state: State<'_, AppState>,
    id: AccountId,
    archive_id: i64,
) -> Result<retract_core::restore::Restored, AppError> {
    let _busy = state.busy();
    let accounts = state.accounts()?;
    let api = super::account_api(&state, id).await?;
    Ok(retract_core::restore::restore_as_draft(&api, accounts.store(), id, archive_id).await?)
}

/// Writes the archive (one JSON per article, one HTML per item) to a new export folder.
#[tauri::command]
#[specta::specta]
pub async fn export_archive(state: State<'_, AppState>, id: AccountId) -> Result<String, AppError> {
    let accounts = state.accounts()?;
    let folder = archive::export_folder(&state.exports_root(), "archive");
    in_background(move || {
        archive::export(accounts.store(), id, &folder)?;
        Ok(folder.display().to_string())
    })
    .await
}

/// Opens an export folder in the file manager; only folders under the exports root.
#[tauri::command]
#[specta::specta]
pub async fn open_export(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    path: String,
) -> Result<(), AppError> {
    let folder = archive::folder_to_open(&state.exports_root(), std::path::Path::new(&path))?;
    super::system_open(&app, super::Openable::Folder(folder)).await
}
