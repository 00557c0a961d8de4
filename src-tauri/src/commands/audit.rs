//! The activity log: the list, the CSV export, and WeChat's record of a failed request (by
//! rid). SQLite and file work runs off the main thread.

use retract_core::accounts::AccountId;
use retract_core::archive;
use retract_core::audit::{self, AuditEvent, AuditFilter};
use serde::Serialize;
use specta::Type;
use tauri::State;

use super::in_background;
use crate::error::AppError;
use crate::state::AppState;

#[tauri::command]
#[specta::specta]
pub async fn list_audit(
    state: State<'_, AppState>,
    id: Option<AccountId>,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Vec<AuditEvent>, AppError> {
    let accounts = state.accounts()?;
    let filter = AuditFilter {
        account: id,
        from,
        to,
    };
    in_background(move || Ok(audit::list(accounts.store(), &filter, audit::LIST_LIMIT)?)).await
}

#[tauri::command]
#[specta::specta]
pub async fn export_audit(
    state: State<'_, AppState>,
    id: Option<AccountId>,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<String, AppError> {
    let accounts = state.accounts()?;
    let path = archive::export_folder(&state.exports_root(), "audit").join("audit.csv");
    let filter = AuditFilter {
        account: id,
        from,
        to,
    };
    in_background(move || {
        audit::export_csv(accounts.store(), &filter, &path)?;
        Ok(path.display().to_string())
    })
    .await
}

/// What the UI shows of WeChat's record of a request: when, from where, how long. The record's
/// request URL and bodies hold the access token (and for a token request the AppSecret):
/// they never cross IPC.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct RidView {
    pub invoke_time: i64,
    pub cost_in_ms: i64,
    pub client_ip: String,
}

impl From<wechat_mp::RidRecord> for RidView {
    fn from(r: wechat_mp::RidRecord) -> Self {
        Self {
            invoke_time: r.invoke_time,
            cost_in_ms: r.cost_in_ms,
            client_ip: r.client_ip,
        }
    }
}

/// What WeChat recorded about a failed request (`openapi/rid/get`, kept 7 days).
#[tauri::command]
#[specta::specta]
pub async fn lookup_rid(
    state: State<'_, AppState>,
    id: AccountId,
    rid: String,
) -> Result<RidView, AppError> {
    let record = super::account_api(&state, id).await?.rid(&rid).await?;
    Ok(record.into())
}
