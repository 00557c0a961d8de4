//! Work that goes on without a click, for every account at once, whether or not its browser
//! (or the window) is open:
//! - at start, every account whose last run left a delete unsettled is checked with WeChat
//!   (`getarticle` reads only; what is still unclear waits for the operator);
//! - once a minute, every account whose queue waits for quota and whose pause is over, holds
//!   a scheduled plan whose time has come, or whose own wake time has come, is run (the same
//!   queue runner as the Resume button; a scheduled plan more than an hour late waits for the
//!   operator instead);
//! - a run the scheduler started that finishes, or stops for an account-level reason, is told
//!   as a desktop notification; the UI hears about every run through `QueueChangedEvent`.
//!
//! Invariant: only what woke the queue is run here — quota-waiting work whose day came,
//! scheduled plans at their time, the queue's own wake time (a due check of a possibly-applied
//! delete, a bounded retry after a passing failure); never a queue whose last run stopped to
//! ask the operator, and never a held request (`QueueStatus::due_for_resume`, `queue::RunBy`).
//! A stop that asks the operator is notified once. "Pause all" stops the passes.
//! The passes are host-agnostic (`*_on`) and tested with an injected clock and the simulator's
//! day roll (`commands/tests.rs`).

use std::sync::atomic::Ordering;
use std::time::Duration;

use retract_core::accounts::{Account, AccountId};
use retract_core::execute::Outcome;
use retract_core::queue::{self, Finding, QueueStatus};
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::{AppHandle, Manager};
use tauri_specta::Event;

use crate::commands::Progress;
use crate::commands::deletions::{self, QueueRunView};
use crate::error::{AppError, ErrorKind};
use crate::state::AppState;
use crate::texts::Language;

/// An account's queue changed without the UI asking (the scheduler ran it).
#[derive(Debug, Clone, Serialize, Deserialize, Type, Event)]
#[serde(rename_all = "camelCase")]
pub struct QueueChangedEvent {
    pub account_id: AccountId,
    pub reason: QueueChange,
}

/// Why the scheduler changed a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum QueueChange {
    /// The check at start settled what an interrupted run left unknown (reads only).
    CheckedAtStart,
    /// The queue ran by itself: its quota day or a scheduled plan's time came.
    Ran,
}

/// What one pass did for one account.
pub(crate) struct Ran {
    pub account: Account,
    pub result: Result<QueueRunView, AppError>,
    /// Requests held for the operator's word before the run.
    pub held_before: u32,
    /// The queue after the run (`None` if it could not be read).
    pub after: Option<QueueStatus>,
}

/// Runs every account's queue whose quota pause is over, on the state's clock. Nothing while
/// "pause all" is on.
pub(crate) async fn tick_on(progress: &impl Progress, state: &AppState) -> Vec<Ran> {
    if state.paused_all.load(Ordering::SeqCst) {
        return Vec::new();
    }
    let Ok(accounts) = state.accounts() else {
        return Vec::new();
    };
    let Ok(list) = accounts.list() else {
        return Vec::new();
    };
    let now = state.exec_options().now();
    let mut ran = Vec::new();
    for account in list {
        let Some(before) = queue::status(accounts.store(), account.id)
            .ok()
            .filter(|s| s.due_for_resume(now))
        else {
            continue;
        };
        tracing::info!(
            account = account.id.0,
            "scheduler: running a queue whose quota day, scheduled time or check came"
        );
        let result =
            deletions::run_queue(progress, state, account.id, queue::RunBy::Scheduler).await;
        let after = queue::status(accounts.store(), account.id).ok();
        ran.push(Ran {
            account,
            result,
            held_before: before.plans.iter().map(|p| p.held).sum(),
            after,
        });
    }
    ran
}

/// At start: settles, with reads only, what an interrupted run of any account left unknown.
pub(crate) async fn reconcile_all_on(
    state: &AppState,
) -> Vec<(AccountId, Result<Vec<Finding>, AppError>)> {
    let Ok(accounts) = state.accounts() else {
        return Vec::new();
    };
    let Ok(list) = accounts.list() else {
        return Vec::new();
    };
    let mut done = Vec::new();
    for account in list {
        let unsettled = queue::status(accounts.store(), account.id)
            .is_ok_and(|s| s.plans.iter().any(|p| p.unsettled > 0));
        if !unsettled {
            continue;
        }
        let result = async {
            let _turn = state.queue_turn(account.id).await;
            let api = crate::commands::account_api(state, account.id).await?;
            Ok(queue::reconcile(&api, accounts.store(), account.id, &state.exec_options()).await?)
        }
        .await;
        tracing::info!(
            account = account.id.0,
            ok = result.is_ok(),
            "scheduler: checked an interrupted run at start"
        );
        if let Ok(found) = &result
            && !found.is_empty()
        {
            state
                .startup_findings
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(account.id)
                .or_default()
                .extend(found.iter().cloned());
        }
        done.push((account.id, result));
    }
    done
}

/// The desktop notification for a run the scheduler started, if it deserves one, in the
/// window's language: the queue finished; it stopped to ask the operator (then it does not run
/// by itself again, so this is said once); or requests were put on hold for the operator's
/// word. A pause for quota and a passing failure the queue retries by itself are no news.
pub(crate) fn notice(ran: &Ran, language: Language) -> Option<String> {
    let name = &ran.account.name;
    let stopped = ran.after.as_ref().is_some_and(|s| s.stopped_at.is_some());
    match &ran.result {
        Err(e) if e.kind != ErrorKind::Busy && stopped => {
            Some(language.queue_stopped(name, &language.stop_reason(e)))
        }
        Err(_) => None,
        Ok(view) => {
            if let Some(stop) = view
                .stopped
                .as_ref()
                .filter(|e| e.kind != ErrorKind::QuotaExhausted && stopped)
            {
                return Some(language.queue_stopped(name, &language.stop_reason(stop)));
            }
            let held = ran
                .after
                .as_ref()
                .map(|s| s.plans.iter().map(|p| p.held).sum::<u32>())
                .unwrap_or(0);
            if held > ran.held_before {
                return Some(language.needs_decision(name, held - ran.held_before));
            }
            let left = ran.after.as_ref().map(|s| {
                s.plans
                    .iter()
                    .map(|p| p.planned + p.waiting + p.unsettled)
                    .sum::<u32>()
            })?;
            // A plan's report lists all its targets, those of earlier days included.
            let deleted = view
                .reports
                .iter()
                .flat_map(|r| &r.results)
                .filter(|r| r.outcome == Outcome::Deleted)
                .count();
            (left == 0 && view.paused_until.is_none()).then(|| language.queue_done(name, deleted))
        }
    }
}

/// How often the scheduler looks. `RETRACT_SCHEDULER_SECS` (a debug-only test hook) shortens it.
fn every() -> Duration {
    let secs = crate::hooks::test_hook("RETRACT_SCHEDULER_SECS")
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|s| *s > 0)
        .unwrap_or(60);
    Duration::from_secs(secs)
}

/// Starts the scheduler on the app's async runtime.
pub fn start(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        {
            let state = app.state::<AppState>();
            for (account, result) in reconcile_all_on(&state).await {
                if let Err(e) = result {
                    tracing::info!(account = account.0, kind = ?e.kind, "interrupted run not checked at start");
                }
                emit_changed(&app, account, QueueChange::CheckedAtStart);
            }
        }
        let every = every();
        loop {
            tokio::time::sleep(every).await;
            let state = app.state::<AppState>();
            for ran in tick_on(&app, &state).await {
                if let Err(e) = &ran.result {
                    tracing::info!(account = ran.account.id.0, kind = ?e.kind, "scheduled resume did not run");
                }
                if let Some(text) = notice(&ran, state.language()) {
                    crate::desktop::notify(&app, &text);
                }
                emit_changed(&app, ran.account.id, QueueChange::Ran);
            }
            crate::tray::refresh(&app, &state);
        }
    });
}

fn emit_changed(app: &AppHandle, account_id: AccountId, reason: QueueChange) {
    if let Err(e) = (QueueChangedEvent { account_id, reason }).emit(app) {
        tracing::warn!("cannot send queue change: {e}");
    }
}
