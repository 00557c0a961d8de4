//! One account's deletion queue: every confirmed plan that is not finished, across restarts and
//! across quota days.
//!
//! Invariants:
//! - before any new delete, targets left in `intent`, `sent` or `unknown` (a crash, a cut
//!   connection) are reconciled ([`crate::settle::settle`]): `intent` was never sent; `sent` and
//!   `unknown` are asked about with `getarticle` only once `settle_after` has passed (a lagging
//!   WeChat could still show a deleted item). A target whose check fails stays as it is and
//!   nothing else is sent;
//! - 45009 pauses the queue until the next quota day (midnight, Beijing time; hourly after
//!   that when WeChat's day turns out to start later). `quota/get` is advisory: when it does
//!   not answer, the next quota day simply tries one delete;
//! - cancelling touches only what was not sent, and needs no lock: every journal change of a
//!   runner is compare-and-set, so a cancelled target is never sent;
//! - one runner per account at a time, across processes: a run holds an OS file lock next to
//!   the database (released by the OS even when the process is killed).
//!
//! Length: about 490 lines, one idea — running a queue (settle first, then send, then pause,
//! wake or stop), whose steps share the lock and the journal's order. What a queue holds,
//! counted, is in `view.rs`; its tests in `tests.rs`.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use wechat_mp::{Api, DELETE_CGI_PATH, Error as WxError};

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::execute::{self, ExecOptions, ExecutionReport, Outcome, TargetResult};
use crate::journal::JournalState;
use crate::plan::PlanId;
use crate::store::Store;

/// What reconciliation found for one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Finding {
    pub plan_id: PlanId,
    pub seq: u32,
    pub article_id: String,
    pub index: Option<u32>,
    pub titles: Vec<String>,
    /// The journal state it was left in: intent, sent or unknown.
    pub was: JournalState,
    /// What it is now: done (deleted), planned (to send), skipped, or — too early to ask
    /// WeChat — still what it was.
    pub now: JournalState,
}

mod view;

pub use view::{
    PlanProgress, QueueStatus, QueuedRequest, RESUME_GRACE_SECS, SCHEDULE_GRACE_SECS, Schedule,
    continuing, status, status_in_full,
};

pub use crate::runlock::RunLock;

/// The start of the next quota day: WeChat's daily counters reset at midnight in Beijing (UTC+8).
pub fn next_quota_day(now_unix: i64) -> i64 {
    const BEIJING: i64 = 8 * 3600;
    ((now_unix + BEIJING) / 86_400 + 1) * 86_400 - BEIJING
}

/// Settles every target left between `intent` and an outcome, with `getarticle` only.
pub async fn reconcile(
    api: &Api,
    store: &Store,
    account: AccountId,
    options: &ExecOptions,
) -> Result<Vec<Finding>, CoreError> {
    let _lock = RunLock::try_acquire(store, account)?;
    reconcile_locked(api, store, account, options).await
}

async fn reconcile_locked(
    api: &Api,
    store: &Store,
    account: AccountId,
    options: &ExecOptions,
) -> Result<Vec<Finding>, CoreError> {
    let pending: Vec<(PlanId, u32)> = {
        let conn = store.conn();
        let mut stmt = conn
            .prepare(
                "SELECT t.plan_id, t.seq, t.state FROM plan_targets t JOIN plans p ON p.id = t.plan_id
                 WHERE p.account_id = ?1 AND p.status = 'confirmed' AND t.state IN ('intent', 'sent', 'unknown')
                 ORDER BY t.plan_id, t.seq",
            )
            .map_err(store.err("cannot read the journal"))?;
        stmt.query_map([account], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(store.err("cannot read the journal"))?
            .collect::<Result<_, _>>()
            .map_err(store.err("cannot read the journal"))?
    };
    let mut findings = Vec::new();
    for (plan, seq) in pending {
        let settled = crate::settle::settle(api, store, account, plan, seq, options).await?;
        let now = settled.state.unwrap_or(settled.was);
        if settled.state.is_some() {
            store.audit(
                Some(account),
                crate::audit::AuditAction::Reconciled,
                &serde_json::json!({"plan": plan, "seq": seq, "was": settled.was, "now": now, "article_id": settled.article_id, "index": settled.index}),
            )?;
        }
        findings.push(Finding {
            plan_id: plan,
            seq,
            article_id: settled.article_id,
            index: settled.index,
            titles: settled.titles,
            was: settled.was,
            now,
        });
    }
    Ok(findings)
}

/// What one run of the queue did.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QueueRun {
    pub findings: Vec<Finding>,
    pub reports: Vec<ExecutionReport>,
    /// Set when nothing could be sent: the pause (45009) or an empty quota.
    pub paused_until: Option<i64>,
}

/// Who started a run: the operator's click clears a stop that asked for them; the scheduler
/// never runs a queue whose last run stopped to ask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunBy {
    Operator,
    Scheduler,
}

/// Passing failures are retried by the queue itself this many times, these many seconds
/// apart; then it stops and asks the operator.
pub const RETRY_DELAYS_SECS: [i64; 3] = [60, 300, 900];

/// Reconciles, then runs every confirmed plan of the account, oldest first, one request at a
/// time. The operator's Resume and the confirmations call this.
pub async fn run(
    api: &Api,
    store: &Store,
    account: AccountId,
    options: &ExecOptions,
    on_result: impl FnMut(PlanId, &TargetResult),
) -> Result<QueueRun, CoreError> {
    run_as(api, store, account, options, RunBy::Operator, on_result).await
}

/// [`run`], started by the scheduler: nothing if the last run stopped to ask the operator.
pub async fn run_as(
    api: &Api,
    store: &Store,
    account: AccountId,
    options: &ExecOptions,
    by: RunBy,
    on_result: impl FnMut(PlanId, &TargetResult),
) -> Result<QueueRun, CoreError> {
    let _lock = RunLock::try_acquire(store, account)?;
    let before = status(store, account)?;
    match by {
        RunBy::Operator => set_wake(store, account, None, 0, None)?,
        RunBy::Scheduler if before.stopped_at.is_some() => {
            return Ok(QueueRun {
                findings: Vec::new(),
                reports: Vec::new(),
                paused_until: None,
            });
        }
        RunBy::Scheduler => {}
    }
    let result = if by == RunBy::Scheduler && before.resume_overdue(options.now()) {
        // Reads only: what may have gone out is settled; nothing waiting is sent.
        reconcile_locked(api, store, account, options)
            .await
            .map(|findings| QueueRun {
                findings,
                reports: Vec::new(),
                paused_until: before.paused_until,
            })
    } else {
        run_locked(api, store, account, options, &before, on_result).await
    };
    after_run(store, account, options, &result)?;
    result
}

async fn run_locked(
    api: &Api,
    store: &Store,
    account: AccountId,
    options: &ExecOptions,
    before: &QueueStatus,
    mut on_result: impl FnMut(PlanId, &TargetResult),
) -> Result<QueueRun, CoreError> {
    let now = options.now();
    // Settling is reads only: a pause of the delete quota does not hold it.
    let findings = reconcile_locked(api, store, account, options).await?;
    if let Some(until) = before.paused_until.filter(|u| *u > now) {
        return Ok(QueueRun {
            findings,
            reports: Vec::new(),
            paused_until: Some(until),
        });
    }
    let waiting: u32 = before.plans.iter().map(|p| p.waiting).sum();
    if waiting > 0 {
        // Quota back? `quota/get` is advisory: an answer of 0 keeps everything waiting; no
        // answer (76021, an error) means trying one delete, which 45009 pauses again.
        let remain = match api.quota_fresh(DELETE_CGI_PATH).await {
            Ok(q) => Some(q.quota.remain),
            Err(e) => {
                tracing::debug!(error = %e, "quota/get did not answer; trying the queue");
                None
            }
        };
        if remain == Some(0) {
            let until = pause_end(now, before.paused_until);
            pause(store, account, Some(until))?;
            return Ok(QueueRun {
                findings,
                reports: Vec::new(),
                paused_until: Some(until),
            });
        }
        store
            .conn()
            .execute(
                "UPDATE plan_targets SET state = 'planned', outcome = NULL
                 WHERE state = 'waiting' AND plan_id IN (SELECT id FROM plans WHERE account_id = ?1 AND status = 'confirmed')",
                [account],
            )
            .map_err(store.err("cannot resume the queue"))?;
    }
    pause(store, account, None)?;
    let mut reports = Vec::new();
    let mut paused_until = None;
    for plan in status(store, account)?
        .plans
        .iter()
        .filter(|p| p.planned > 0 && p.runnable(now))
    {
        let report = execute::execute(api, store, plan.plan_id, options, |r| {
            on_result(plan.plan_id, r)
        })
        .await?;
        let moved = report
            .results
            .iter()
            .any(|r| !matches!(r.outcome, Outcome::NotRun | Outcome::WaitingForCheck));
        if plan.not_before.is_some() && moved {
            // Its run has sent or settled something: from here it is an ordinary confirmed
            // plan (what 45009 leaves waiting resumes on the next quota day like any other).
            // Stopped before that, it keeps its time and its grace hour.
            store
                .conn()
                .execute(
                    "UPDATE plans SET not_before = NULL WHERE id = ?1",
                    [plan.plan_id],
                )
                .map_err(store.err("cannot start the scheduled plan"))?;
        }
        let stop = report.stop.clone();
        reports.push(report);
        if let Some(problem) = stop {
            if let execute::Problem::Wechat(e) = &problem
                && e.class() == Some(&wechat_mp::ErrorClass::DailyQuota)
            {
                let until = pause_end(now, before.paused_until);
                pause(store, account, Some(until))?;
                paused_until = Some(until);
            }
            break;
        }
    }
    Ok(QueueRun {
        findings,
        reports,
        paused_until,
    })
}

/// A failure that passes by itself (the network, WeChat busy, the per-minute limit, an answer
/// lost on the way): the queue tries again by itself, a bounded number of times.
fn passing(e: &WxError) -> bool {
    matches!(
        e,
        WxError::Transport { .. }
            | WxError::HttpStatus { .. }
            | WxError::Decode { .. }
            | WxError::DeleteOutcomeUnknown { .. }
    ) || matches!(
        e.class(),
        Some(wechat_mp::ErrorClass::Busy | wechat_mp::ErrorClass::MinuteLimit)
    )
}

/// Where a run leaves the queue's own wake time: the next check a possibly-applied delete (or
/// a request waiting for one) needs; a bounded retry after a passing failure; or, for a stop
/// only the operator can clear (or retries used up), stopped.
fn after_run(
    store: &Store,
    account: AccountId,
    options: &ExecOptions,
    result: &Result<QueueRun, CoreError>,
) -> Result<(), CoreError> {
    let now = options.now();
    let retries = current_retries(store, account)?;
    let stop: Option<Result<&WxError, ()>> = match result {
        Err(CoreError::Wechat(e)) => Some(Ok(e)),
        // Another runner, or the operator cancelling under this one: nothing to ask.
        Err(CoreError::Busy(_) | CoreError::Conflict(_)) => None,
        Err(_) => Some(Err(())),
        Ok(run) => run.reports.iter().find_map(|r| match &r.stop {
            Some(execute::Problem::Wechat(e)) => Some(Ok(e)),
            Some(execute::Problem::Conflict(_)) | None => None,
            Some(_) => Some(Err(())),
        }),
    };
    let checks = next_checks(store, account, options.settle_after.as_secs() as i64)?;
    let waits = match result {
        Ok(run) => run.reports.iter().filter_map(|r| r.wake_at).min(),
        Err(_) => None,
    };
    let soonest = [checks, waits].into_iter().flatten().min();
    match stop {
        Some(Ok(e)) if e.class() == Some(&wechat_mp::ErrorClass::DailyQuota) => {
            set_wake(store, account, soonest, 0, None)
        }
        Some(Ok(e)) if passing(e) => match RETRY_DELAYS_SECS.get(retries as usize) {
            Some(delay) => {
                let at = (now + delay).max(soonest.unwrap_or(0));
                set_wake(store, account, Some(at), retries + 1, None)
            }
            None => set_wake(store, account, None, retries, Some(now)),
        },
        Some(_) => set_wake(store, account, None, 0, Some(now)),
        None => set_wake(store, account, soonest, 0, None),
    }
}

fn current_retries(store: &Store, account: AccountId) -> Result<u32, CoreError> {
    store
        .conn()
        .query_row(
            "SELECT queue_retries FROM accounts WHERE id = ?1",
            [account],
            |r| r.get(0),
        )
        .map_err(store.err("cannot read the queue"))
}

/// The earliest time a `sent` or `unknown` target of the account may be asked about.
fn next_checks(
    store: &Store,
    account: AccountId,
    settle_after: i64,
) -> Result<Option<i64>, CoreError> {
    let rows: Vec<(i64, Option<i64>)> = {
        let conn = store.conn();
        let mut stmt = conn
            .prepare(
                "SELECT t.updated_at, t.seen_live_at FROM plan_targets t JOIN plans p ON p.id = t.plan_id
                 WHERE p.account_id = ?1 AND p.status = 'confirmed' AND t.state IN ('sent', 'unknown')",
            )
            .map_err(store.err("cannot read the journal"))?;
        stmt.query_map([account], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(store.err("cannot read the journal"))?
            .collect::<Result<_, _>>()
            .map_err(store.err("cannot read the journal"))?
    };
    let gap = crate::settle::gap_for(store, account)?;
    Ok(rows
        .into_iter()
        .map(|(updated, seen)| crate::settle::next_check(updated, seen, settle_after, gap))
        .min())
}

fn set_wake(
    store: &Store,
    account: AccountId,
    wake_at: Option<i64>,
    retries: u32,
    stopped_at: Option<i64>,
) -> Result<(), CoreError> {
    store
        .conn()
        .execute(
            "UPDATE accounts SET queue_wake_at = ?2, queue_retries = ?3, queue_stopped_at = ?4 WHERE id = ?1",
            params![account, wake_at, retries, stopped_at],
        )
        .map(|_| ())
        .map_err(store.err("cannot record the queue's next run"))
}

/// When a queue refused for quota tries again. Normally at the next quota day (midnight,
/// Beijing time). But if a pause ended less than an hour ago and WeChat still refuses, its
/// day does not start at midnight (undocumented, and possible): try again in an hour rather
/// than losing a whole day.
pub fn pause_end(now: i64, previous_pause: Option<i64>) -> i64 {
    match previous_pause {
        Some(ended) if ended <= now && now - ended < 3600 => now + 3600,
        _ => next_quota_day(now),
    }
}

fn pause(store: &Store, account: AccountId, until: Option<i64>) -> Result<(), CoreError> {
    store
        .conn()
        .execute(
            "UPDATE accounts SET queue_paused_until = ?1 WHERE id = ?2",
            params![until, account],
        )
        .map(|_| ())
        .map_err(store.err("cannot record the queue pause"))
}

/// Cancels what was not sent (planned, waiting, intent) in a plan; returns how many.
/// The operator's "run now" for a scheduled plan that missed its time (the app was not
/// running): it becomes an ordinary confirmed plan, which the next run sends. Only an overdue
/// plan: one whose time is still ahead waits for it, or is cancelled.
pub fn release_overdue(store: &Store, plan: PlanId, now: i64) -> Result<AccountId, CoreError> {
    let account: Option<AccountId> = store
        .conn()
        .query_row(
            "UPDATE plans SET not_before = NULL
             WHERE id = ?1 AND status = 'confirmed' AND not_before IS NOT NULL AND not_before < ?2
             RETURNING account_id",
            params![plan, now - SCHEDULE_GRACE_SECS],
            |r| r.get(0),
        )
        .optional()
        .map_err(store.err("cannot release the scheduled plan"))?;
    let account = account.ok_or_else(|| {
        CoreError::Invalid(format!(
            "plan {plan} is not a scheduled plan that missed its time"
        ))
    })?;
    store.audit(
        Some(account),
        crate::audit::AuditAction::PlanConfirmed,
        &serde_json::json!({"plan": plan, "released_late": true}),
    )?;
    Ok(account)
}

pub fn cancel_unsent(store: &Store, plan: PlanId) -> Result<u32, CoreError> {
    let changed = store
        .conn()
        .execute(
            "UPDATE plan_targets SET state = 'skipped', outcome = ?3, updated_at = ?2
             WHERE plan_id = ?1 AND state IN ('planned', 'waiting', 'intent')",
            params![plan, crate::now_unix(), Outcome::Cancelled.as_sql()],
        )
        .map_err(store.err("cannot cancel the queue"))?;
    // Finished only when nothing of it may still be out there or wait for a word.
    crate::journal::finish_if_settled(store, plan)?;
    store.audit(
        None,
        crate::audit::AuditAction::QueueCancelled,
        &serde_json::json!({"plan": plan, "cancelled": changed}),
    )?;
    Ok(changed as u32)
}

/// Resets **all** daily counters of the account (10 a month, shared with the web console).
/// An explicit, confirmed user action only; lifts the pause.
pub async fn clear_quota(
    api: &Api,
    store: &Store,
    account: AccountId,
    appid: &str,
) -> Result<(), CoreError> {
    let result = api.clear_quota(appid).await;
    let code = match &result {
        Ok(()) => 0,
        Err(e) => e.api().map(|a| a.code).unwrap_or(-2),
    };
    store.audit(
        Some(account),
        crate::audit::AuditAction::QuotaCleared,
        &serde_json::json!({"errcode": code, "rid": result.as_ref().err().and_then(WxError::api).and_then(|a| a.rid.clone())}),
    )?;
    result?;
    pause(store, account, None)
}

#[cfg(test)]
mod tests;
