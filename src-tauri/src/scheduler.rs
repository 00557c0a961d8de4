//! Work that goes on without a click: once a minute, every account whose queue waits for quota
//! and whose pause is over is run (the same `queue::run` as the Resume button), whether or not
//! its window is open. The UI hears about it through `QueueChangedEvent`.
//!
//! Invariant: only quota-waiting work is resumed here; anything left to verify after a crash
//! waits for the operator's look (`QueueStatus::due_for_resume`).

use std::time::Duration;

use retract_core::accounts::AccountId;
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::{AppHandle, Manager};
use tauri_specta::Event;

use crate::commands::deletions;
use crate::state::AppState;

/// An account's queue changed without the UI asking (the scheduler ran it).
#[derive(Debug, Clone, Serialize, Deserialize, Type, Event)]
#[serde(rename_all = "camelCase")]
pub struct QueueChangedEvent {
    pub account_id: AccountId,
}

const EVERY: Duration = Duration::from_secs(60);

/// Starts the once-a-minute loop on the app's async runtime.
pub fn start(app: AppHandle) {
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(EVERY).await;
            tick(&app).await;
        }
    });
}

async fn tick(app: &AppHandle) {
    let state = app.state::<AppState>();
    let Ok(accounts) = state.accounts() else {
        return;
    };
    let Ok(list) = accounts.list() else {
        return;
    };
    let now = retract_core::now_unix();
    for account in list {
        let due = retract_core::queue::status(accounts.store(), account.id)
            .is_ok_and(|s| s.due_for_resume(now));
        if !due {
            continue;
        }
        match deletions::run_queue(app, &state, account.id).await {
            Ok(_) => {
                if let Err(e) = (QueueChangedEvent {
                    account_id: account.id,
                })
                .emit(app)
                {
                    tracing::warn!("cannot send queue change: {e}");
                }
            }
            // A missing secret, a busy queue, a network failure: tried again next minute.
            Err(e) => {
                tracing::info!(account = account.id.0, kind = ?e.kind, "scheduled resume did not run")
            }
        }
    }
}
