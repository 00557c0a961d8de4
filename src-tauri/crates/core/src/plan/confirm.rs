//! The second step: a plan is confirmed once, with its nonce and the phrase the operator typed
//! (now, or for a scheduled time), within [`PLAN_TTL_SECS`] of its review; the confirmation is
//! sealed with the installation's key.

use rusqlite::{OptionalExtension, params};

use std::collections::BTreeSet;

use super::{PlanId, cancel, live_clash};
use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::store::Store;

/// A plan must be confirmed within this many seconds of being made (the review may be stale).
pub const PLAN_TTL_SECS: i64 = 15 * 60;

/// Full-width digits (typed with a Chinese input method) count as the ASCII ones.
pub fn normalize_phrase(typed: &str) -> String {
    typed
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// The account a plan deletes from.
pub fn account_of(store: &Store, plan: PlanId) -> Result<AccountId, CoreError> {
    store
        .conn()
        .query_row("SELECT account_id FROM plans WHERE id = ?1", [plan], |r| {
            r.get(0)
        })
        .optional()
        .map_err(store.err("cannot read the plan"))?
        .ok_or_else(|| CoreError::NotFound(format!("plan {plan}")))
}

/// An account name as typed and as stored compare equal: spaces and letter case do not count.
pub fn same_account_name(typed: &str, name: &str) -> bool {
    let fold = |s: &str| -> String {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect()
    };
    !fold(typed).is_empty() && fold(typed) == fold(name)
}

/// The second confirmation step, checked here and not only in the UI. Single use.
pub fn confirm(
    store: &Store,
    plan: PlanId,
    nonce: &str,
    typed: &str,
) -> Result<AccountId, CoreError> {
    confirm_for(store, plan, nonce, typed, None)
}

/// How far ahead a plan may be scheduled.
pub const SCHEDULE_MAX_AHEAD_SECS: i64 = 90 * 86_400;

/// As [`confirm`], for a plan that waits in the queue until `at` (Unix seconds) and is then
/// run by the scheduler, with the same journal and checks as any run.
pub fn confirm_scheduled(
    store: &Store,
    plan: PlanId,
    nonce: &str,
    typed: &str,
    at: i64,
    now: i64,
) -> Result<AccountId, CoreError> {
    // The window asks for a minute ahead; here only a time already past is refused (the
    // operator may have lingered over step two).
    if at <= now {
        return Err(CoreError::Invalid(
            "the scheduled time has passed: pick a later time, or delete now".into(),
        ));
    }
    if at > now + SCHEDULE_MAX_AHEAD_SECS {
        return Err(CoreError::Invalid(
            "a deletion can be scheduled at most 90 days ahead".into(),
        ));
    }
    confirm_for(store, plan, nonce, typed, Some(at))
}

fn confirm_for(
    store: &Store,
    plan: PlanId,
    nonce: &str,
    typed: &str,
    not_before: Option<i64>,
) -> Result<AccountId, CoreError> {
    let row: Option<(AccountId, String, String, String, i64)> = store
        .conn()
        .query_row(
            "SELECT account_id, nonce, phrase, status, created_at FROM plans WHERE id = ?1",
            [plan],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()
        .map_err(store.err("cannot read the plan"))?;
    let Some((account, stored_nonce, phrase, status, created_at)) = row else {
        return Err(CoreError::ConfirmationRejected(format!(
            "plan {plan} does not exist"
        )));
    };
    if status != "planned" {
        return Err(CoreError::ConfirmationRejected(format!(
            "plan {plan} was already {status}; make a new plan"
        )));
    }
    if stored_nonce != nonce {
        return Err(CoreError::ConfirmationRejected(
            "this confirmation does not belong to the plan".into(),
        ));
    }
    if crate::now_unix() - created_at > PLAN_TTL_SECS {
        cancel(store, plan)?;
        return Err(CoreError::ConfirmationRejected(format!(
            "plan {plan} was made more than 15 minutes ago and the list may have changed; review the selection again"
        )));
    }
    // The phrase is not repeated: an error must not hand a stray script what to type.
    if normalize_phrase(typed) != phrase {
        return Err(CoreError::ConfirmationRejected(
            "the typed number does not match the number of articles in the plan".into(),
        ));
    }
    let changed = {
        // Checked and written in one write transaction: two windows (or processes) confirming
        // overlapping plans at once cannot both win.
        let mut conn = store.conn();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(store.err("cannot confirm the plan"))?;
        let targets: Vec<(String, u32)> = {
            let mut stmt = tx
                .prepare("SELECT article_id, idx FROM plan_targets WHERE plan_id = ?1")
                .map_err(store.err("cannot read the plan"))?;
            stmt.query_map([plan], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(store.err("cannot read the plan"))?
                .collect::<Result<_, _>>()
                .map_err(store.err("cannot read the plan"))?
        };
        for (article_id, idx) in &targets {
            let which = (*idx > 0).then(|| BTreeSet::from([*idx]));
            if let Some(clash) = live_clash(&tx, account, article_id, which.as_ref(), Some(plan))
                .map_err(store.err("cannot read the journal"))?
            {
                return Err(CoreError::ConfirmationRejected(format!(
                    "{clash}. Nothing was confirmed: review the selection again"
                )));
            }
        }
        let changed = tx
            .execute(
                "UPDATE plans SET status = 'confirmed', confirmed_at = ?1, not_before = ?3, scheduled_for = ?3 WHERE id = ?2 AND status = 'planned'",
                params![crate::now_unix(), plan, not_before],
            )
            .map_err(store.err("cannot confirm the plan"))?;
        if changed == 1 {
            crate::seal::seal(&tx, &store.seal_key(), plan)
                .map_err(store.err("cannot confirm the plan"))?;
        }
        tx.commit().map_err(store.err("cannot confirm the plan"))?;
        changed
    };
    if changed != 1 {
        return Err(CoreError::ConfirmationRejected(format!(
            "plan {plan} was confirmed elsewhere"
        )));
    }
    store.audit(
        Some(account),
        crate::audit::AuditAction::PlanConfirmed,
        &serde_json::json!({"plan": plan, "not_before": not_before}),
    )?;
    Ok(account)
}
