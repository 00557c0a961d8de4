//! Deletion: plan (nothing sent), cancel, and confirm-then-execute with the typed phrase.
//! The nonce and the phrase are checked here, in Rust: the UI alone cannot delete.

use retract_core::accounts::AccountId;
use retract_core::execute::{self, ExecOptions, ExecutionReport, TargetResult};
use retract_core::plan::{self, Plan, PlanId, Selection};
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::{AppHandle, State};
use tauri_specta::Event;

use crate::error::AppError;
use crate::state::{AppState, blocking};

/// Sent as each target of a running plan settles.
#[derive(Debug, Clone, Serialize, Deserialize, Type, Event)]
#[serde(rename_all = "camelCase")]
pub struct DeletionProgressEvent {
    pub plan_id: PlanId,
    pub seq: u32,
    pub outcome: retract_core::execute::Outcome,
}

#[tauri::command]
#[specta::specta]
pub async fn plan_deletion(
    state: State<'_, AppState>,
    id: AccountId,
    selection: Vec<Selection>,
) -> Result<Plan, AppError> {
    let accounts = state.accounts()?;
    let for_api = std::sync::Arc::clone(&accounts);
    let api = blocking(move || Ok(for_api.api(id)?)).await?;
    Ok(plan::create(&api, accounts.store(), id, &selection).await?)
}

#[tauri::command]
#[specta::specta]
pub fn cancel_plan(state: State<'_, AppState>, plan_id: PlanId) -> Result<(), AppError> {
    Ok(plan::cancel(state.accounts()?.store(), plan_id)?)
}

/// Checks nonce and phrase, marks the plan used, then runs it one request at a time.
#[tauri::command]
#[specta::specta]
pub async fn execute_plan(
    app: AppHandle,
    state: State<'_, AppState>,
    plan_id: PlanId,
    nonce: String,
    phrase: String,
) -> Result<ExecutionReport, AppError> {
    let accounts = state.accounts()?;
    let account = plan::confirm(accounts.store(), plan_id, &nonce, &phrase)?;
    let for_api = std::sync::Arc::clone(&accounts);
    let api = blocking(move || Ok(for_api.api(account)?)).await?;
    let report = execute::execute(
        &api,
        accounts.store(),
        plan_id,
        ExecOptions::default(),
        |r: &TargetResult| {
            let event = DeletionProgressEvent {
                plan_id,
                seq: r.seq,
                outcome: r.outcome,
            };
            if let Err(e) = event.emit(&app) {
                tracing::warn!("cannot send deletion progress: {e}");
            }
        },
    )
    .await?;
    Ok(report)
}
