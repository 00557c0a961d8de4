//! The deleted-articles archive and the audit log: lists, exports, and rid lookups.

use retract_core::accounts::AccountId;
use retract_core::records::{self, AuditEvent, AuditFilter, DeletedArticle};
use serde::Serialize;
use specta::Type;
use tauri::State;

use crate::error::{AppError, ErrorKind};
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub fn list_deleted(
    state: State<'_, AppState>,
    id: AccountId,
) -> Result<Vec<DeletedArticle>, AppError> {
    Ok(records::deleted(state.accounts()?.store(), id)?)
}

/// Writes the archive (one JSON per article, one HTML per item) to a new export folder.
#[tauri::command]
#[specta::specta]
pub fn export_archive(state: State<'_, AppState>, id: AccountId) -> Result<String, AppError> {
    let folder = records::export_folder(&state.exports_root(), "archive");
    records::export_archive(state.accounts()?.store(), id, &folder)?;
    Ok(folder.display().to_string())
}

#[tauri::command]
#[specta::specta]
pub fn list_audit(
    state: State<'_, AppState>,
    id: Option<AccountId>,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Vec<AuditEvent>, AppError> {
    Ok(records::audit(
        state.accounts()?.store(),
        &AuditFilter {
            account: id,
            from,
            to,
        },
        1000,
    )?)
}

#[tauri::command]
#[specta::specta]
pub fn export_audit(
    state: State<'_, AppState>,
    id: Option<AccountId>,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<String, AppError> {
    let path = records::export_folder(&state.exports_root(), "audit").join("audit.csv");
    records::export_audit_csv(
        state.accounts()?.store(),
        &AuditFilter {
            account: id,
            from,
            to,
        },
        &path,
    )?;
    Ok(path.display().to_string())
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct RidView {
    pub invoke_time: i64,
    pub cost_in_ms: i64,
    pub request_url: String,
    pub request_body: String,
    pub response_body: String,
    pub client_ip: String,
}

/// What WeChat recorded about a failed request (`openapi/rid/get`, kept 7 days).
#[tauri::command]
#[specta::specta]
pub async fn lookup_rid(
    state: State<'_, AppState>,
    id: AccountId,
    rid: String,
) -> Result<RidView, AppError> {
    let r = super::account_api(&state, id).await?.rid(&rid).await?;
    Ok(RidView {
        invoke_time: r.invoke_time,
        cost_in_ms: r.cost_in_ms,
        request_url: r.request_url,
        request_body: r.request_body,
        response_body: r.response_body,
        client_ip: r.client_ip,
    })
}

/// Opens an export folder in the file manager; only folders under the exports root.
#[tauri::command]
#[specta::specta]
pub async fn open_export(state: State<'_, AppState>, path: String) -> Result<(), AppError> {
    let root = state.exports_root();
    let wanted = std::path::PathBuf::from(&path);
    let inside = wanted
        .canonicalize()
        .ok()
        .zip(root.canonicalize().ok())
        .is_some_and(|(w, r)| w.starts_with(r));
    if !inside {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            "only Retract's own export folders are opened",
        ));
    }
    let folder = if wanted.is_file() {
        wanted
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or(wanted)
    } else {
        wanted
    };
    super::system_open(folder.into_os_string()).await
}
