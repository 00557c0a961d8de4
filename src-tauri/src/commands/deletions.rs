//! Deletion: plan (nothing sent), cancel, confirm-then-run, and the account's queue (status,
//! reconcile, resume, cancel what was not sent, clear_quota). Running goes through
//! `queue::run`, the same code path the kill-loop test drives in a separate process.
//!
//! What the nonce and the phrase prove, precisely: that this confirmation belongs to *this*
//! plan as it was reviewed (a plan changed, cancelled, expired or already used is refused), and
//! that it was made once. They are **not** a boundary against script running in the webview:
//! `plan_deletion` hands both to the window, so such a script could plan and confirm in two
//! calls. Retract keeps that script from existing instead (no remote content, no raw HTML, a
//! CSP of the app's own scripts, `freezePrototype`, navigation and new windows refused:
//! `docs/architecture.md`, "Threat model"). A native dialog raised from Rust would make the
//! confirmation a boundary, but it would also take the review (titles, counts, the schedule)
//! out of the accessible, translated, WebDriver-tested window into a platform dialog we could
//! test on Linux only; with script kept out, the guard it adds is against a threat the CSP
//! already closes, so the two-step confirm stays a guard against slips.

use retract_core::accounts::AccountId;
use retract_core::decide::{self, AwaitingDecision, Decision};
use retract_core::execute::{ExecutionReport, Outcome, TargetResult};
use retract_core::plan::{self, Plan, PlanId, Selection};
use retract_core::queue::{self, Finding, QueueRun, QueueStatus, RunBy};
use retract_core::tickets::TicketAction;
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::{AppHandle, State};
use tauri_specta::Event;

use crate::error::AppError;
use crate::state::AppState;

/// Sent as each target of a running plan settles.
#[derive(Debug, Clone, Serialize, Deserialize, Type, Event)]
#[serde(rename_all = "camelCase")]
pub struct DeletionProgressEvent {
    pub plan_id: PlanId,
    pub seq: u32,
    pub outcome: Outcome,
}

/// What a run of the queue did, with the reason it stopped explained like any other error.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct QueueRunView {
    pub findings: Vec<Finding>,
    pub reports: Vec<ExecutionReport>,
    pub paused_until: Option<i64>,
    pub stopped: Option<AppError>,
}

impl From<QueueRun> for QueueRunView {
    fn from(run: QueueRun) -> Self {
        let stopped = run
            .reports
            .iter()
            .find_map(|r| r.stop.clone())
            .map(|problem| AppError::from(retract_core::CoreError::from(problem)));
        Self {
            findings: run.findings,
            reports: run.reports,
            paused_until: run.paused_until,
            stopped,
        }
    }
}

/// Runs the account's queue: for the operator (a click clears a stop that asked for them) or
/// for the scheduler (nothing when the last run stopped to ask the operator).
pub(crate) async fn run_queue(
    progress: &impl super::Progress,
    state: &AppState,
    id: AccountId,
    by: RunBy,
) -> Result<QueueRunView, AppError> {
    let _turn = state.queue_turn(id).await;
    let api = super::account_api(state, id).await?;
    let accounts = state.accounts()?;
    let run = queue::run_as(
        &api,
        accounts.store(),
        id,
        &state.exec_options(),
        by,
        |plan_id, r: &TargetResult| {
            progress.deletion(DeletionProgressEvent {
                plan_id,
                seq: r.seq,
                outcome: r.outcome,
            })
        },
    )
    .await?;
    Ok(run.into())
}

#[tauri::command]
#[specta::specta]
pub async fn plan_deletion(
    state: State<'_, AppState>,
    id: AccountId,
    selection: Vec<Selection>,
) -> Result<Plan, AppError> {
    plan_on(&state, id, &selection).await
}

pub(crate) async fn plan_on(
    state: &AppState,
    id: AccountId,
    selection: &[Selection],
) -> Result<Plan, AppError> {
    let api = super::account_api(state, id).await?;
    Ok(plan::create(&api, state.accounts()?.store(), id, selection).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_plan(state: State<'_, AppState>, plan_id: PlanId) -> Result<(), AppError> {
    let accounts = state.accounts()?;
    super::in_background(move || Ok(plan::cancel(accounts.store(), plan_id)?)).await
}

/// Checks nonce and phrase, marks the plan used, then runs the account's queue (this plan
/// included) one request at a time.
#[tauri::command]
#[specta::specta]
pub async fn execute_plan(
    app: AppHandle,
    state: State<'_, AppState>,
    plan_id: PlanId,
    nonce: String,
    phrase: String,
    account_name: Option<String>,
) -> Result<QueueRunView, AppError> {
    check_account_named(&state, plan_id, account_name.as_deref())?;
    execute_on(&app, &state, plan_id, &nonce, &phrase).await
}

/// Writes the plan's sign-off sheet (CSV) into the exports folder; answers its path. Sends
/// nothing and changes nothing: the plan still needs both confirmations.
#[tauri::command]
#[specta::specta]
pub async fn export_plan(state: State<'_, AppState>, plan_id: PlanId) -> Result<String, AppError> {
    let accounts = state.accounts()?;
    let path = retract_core::archive::export_folder(&state.exports_root(), "sign-off")
        .join(format!("plan-{}.csv", plan_id.0));
    super::in_background(move || {
        retract_core::signoff::export(&accounts, plan_id, &path)?;
        Ok(path.display().to_string())
    })
    .await
}

/// With more than one account configured, step two also asks for the name of the account the
/// plan deletes from (the count alone does not catch "the wrong account"): checked here too.
pub(crate) fn check_account_named(
    state: &AppState,
    plan_id: PlanId,
    typed: Option<&str>,
) -> Result<(), AppError> {
    let accounts = state.accounts()?;
    let listed = accounts.list()?;
    if listed.len() < 2 {
        return Ok(());
    }
    let account = plan::account_of(accounts.store(), plan_id)?;
    let name = listed
        .iter()
        .find(|a| a.id == account)
        .map(|a| a.name.as_str())
        .unwrap_or_default();
    if typed.is_some_and(|t| plan::same_account_name(t, name)) {
        return Ok(());
    }
    Err(AppError::new(
        crate::error::ErrorKind::ConfirmationRejected,
        "the account name typed is not the name of the account this plan deletes from; nothing was sent",
    ))
}

/// Both confirmations checked here, then the queue runs with its progress going to `progress`.
pub(crate) async fn execute_on(
    progress: &impl super::Progress,
    state: &AppState,
    plan_id: PlanId,
    nonce: &str,
    phrase: &str,
) -> Result<QueueRunView, AppError> {
    let account = plan::confirm(state.accounts()?.store(), plan_id, nonce, phrase)?;
    run_queue(progress, state, account, RunBy::Operator).await
}

/// Checks nonce and phrase and confirms the plan for a time (`at`, Unix seconds): it waits in
/// the queue, cancelable, and the scheduler runs it then. Sends nothing now.
#[tauri::command]
#[specta::specta]
pub async fn schedule_plan(
    state: State<'_, AppState>,
    plan_id: PlanId,
    nonce: String,
    phrase: String,
    at: i64,
    account_name: Option<String>,
) -> Result<QueueStatus, AppError> {
    check_account_named(&state, plan_id, account_name.as_deref())?;
    schedule_on(&state, plan_id, &nonce, &phrase, at)
}

pub(crate) fn schedule_on(
    state: &AppState,
    plan_id: PlanId,
    nonce: &str,
    phrase: &str,
    at: i64,
) -> Result<QueueStatus, AppError> {
    let accounts = state.accounts()?;
    let now = state.exec_options().now();
    let account = plan::confirm_scheduled(accounts.store(), plan_id, nonce, phrase, at, now)?;
    Ok(queue::status_in_full(accounts.store(), account)?)
}

/// The operator's "run now" for a scheduled plan that missed its time while Retract was not
/// running; then the queue runs.
#[tauri::command]
#[specta::specta]
pub async fn run_overdue_plan(
    app: AppHandle,
    state: State<'_, AppState>,
    plan_id: PlanId,
) -> Result<QueueRunView, AppError> {
    let now = state.exec_options().now();
    let account = queue::release_overdue(state.accounts()?.store(), plan_id, now)?;
    run_queue(&app, &state, account, RunBy::Operator).await
}

#[tauri::command]
#[specta::specta]
pub async fn queue_status(
    state: State<'_, AppState>,
    id: AccountId,
) -> Result<QueueStatus, AppError> {
    let accounts = state.accounts()?;
    super::in_background(move || Ok(queue::status_in_full(accounts.store(), id)?)).await
}

/// What the check of interrupted runs at start found for this account (handed over once).
#[tauri::command]
#[specta::specta]
pub fn startup_findings(state: State<'_, AppState>, id: AccountId) -> Vec<Finding> {
    state
        .startup_findings
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&id)
        .unwrap_or_default()
}

/// Settles what a crash or a cut connection left unknown, with getarticle only.
#[tauri::command]
#[specta::specta]
pub async fn reconcile_queue(
    state: State<'_, AppState>,
    id: AccountId,
) -> Result<Vec<Finding>, AppError> {
    let _turn = state.queue_turn(id).await;
    let api = super::account_api(&state, id).await?;
    Ok(queue::reconcile(&api, state.accounts()?.store(), id, &state.exec_options()).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn resume_queue(
    app: AppHandle,
    state: State<'_, AppState>,
    id: AccountId,
) -> Result<QueueRunView, AppError> {
    run_queue(&app, &state, id, RunBy::Operator).await
}

/// The account's requests that wait for the operator's word (held), with what WeChat said.
#[tauri::command]
#[specta::specta]
pub async fn awaiting_decisions(
    state: State<'_, AppState>,
    id: AccountId,
) -> Result<Vec<AwaitingDecision>, AppError> {
    let accounts = state.accounts()?;
    super::in_background(move || Ok(decide::awaiting(accounts.store(), id)?)).await
}

/// The operator's word on one held request: gone (checked in the MP console), send again, or
/// give up. Recorded in the activity log as the operator's. "Send again" only makes it
/// sendable: the next run re-checks it before anything is sent.
#[tauri::command]
#[specta::specta]
pub async fn decide_request(
    state: State<'_, AppState>,
    plan_id: PlanId,
    seq: u32,
    decision: Decision,
) -> Result<QueueStatus, AppError> {
    let _busy = state.busy();
    decide_on(&state, plan_id, seq, decision).await
}

pub(crate) async fn decide_on(
    state: &AppState,
    plan_id: PlanId,
    seq: u32,
    decision: Decision,
) -> Result<QueueStatus, AppError> {
    let accounts = state.accounts()?;
    let now = state.exec_options().now();
    super::in_background(move || {
        let account = decide::decide(accounts.store(), plan_id, seq, decision, now)?;
        Ok(queue::status_in_full(accounts.store(), account)?)
    })
    .await
}

/// Cancels what was not sent in a plan; returns how many targets were cancelled.
#[tauri::command]
#[specta::specta]
pub async fn cancel_queue(state: State<'_, AppState>, plan_id: PlanId) -> Result<u32, AppError> {
    let accounts = state.accounts()?;
    super::in_background(move || Ok(queue::cancel_unsent(accounts.store(), plan_id)?)).await
}

/// Opens the confirmation of a `clear_quota`: a single-use ticket for this account, valid for
/// five minutes. Sends nothing.
#[tauri::command]
#[specta::specta]
pub async fn prepare_clear_quota(
    state: State<'_, AppState>,
    id: AccountId,
) -> Result<String, AppError> {
    prepare_clear_quota_on(&state, id)
}

pub(crate) fn prepare_clear_quota_on(state: &AppState, id: AccountId) -> Result<String, AppError> {
    state.accounts()?.get(id)?;
    super::issue_ticket(state, id, TicketAction::ClearQuota)
}

/// Resets all of the account's daily counters (10 a month, shared with the web console).
/// Only with the ticket of [`prepare_clear_quota`]: the dialog is not the only guard.
#[tauri::command]
#[specta::specta]
pub async fn clear_quota(
    state: State<'_, AppState>,
    id: AccountId,
    ticket: String,
) -> Result<(), AppError> {
    let _busy = state.busy();
    clear_quota_on(&state, id, &ticket).await
}

pub(crate) async fn clear_quota_on(
    state: &AppState,
    id: AccountId,
    ticket: &str,
) -> Result<(), AppError> {
    super::redeem_ticket(state, id, TicketAction::ClearQuota, ticket)?;
    let api = super::account_api(state, id).await?;
    let accounts = state.accounts()?;
    let appid = accounts.get(id)?.profile.appid;
    Ok(queue::clear_quota(&api, accounts.store(), id, &appid).await?)
}
