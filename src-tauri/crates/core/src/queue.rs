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

/// One plan of the queue, counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PlanProgress {
    pub plan_id: PlanId,
    pub created_at: i64,
    pub requests: u32,
    pub done: u32,
    pub waiting: u32,
    pub planned: u32,
    /// intent, sent or unknown: to be reconciled before anything else.
    pub unsettled: u32,
    /// Waiting for the operator's word (see [`crate::decide`]); their messages wait with them.
    pub held: u32,
    pub failed: u32,
    pub skipped: u32,
    /// A scheduled plan: nothing of it is sent before this time (Unix seconds). Cleared once
    /// a run of it has sent or settled something (a run stopped before that keeps the time).
    pub not_before: Option<i64>,
    /// Its requests in order, each with the titles the operator reviewed and where it stands;
    /// listed by [`status_in_full`] only (empty from [`status`]).
    pub items: Vec<QueuedRequest>,
}

/// One request of a queued plan, as the queue view lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QueuedRequest {
    pub seq: u32,
    /// `false`: one article; `true`: the whole message (every title listed).
    pub whole: bool,
    pub titles: Vec<String>,
    pub state: JournalState,
}

/// How long after its time a scheduled plan still runs by itself. Later (the app was not
/// running), it waits for the operator: a take-down hours late may no longer be wanted.
pub const SCHEDULE_GRACE_SECS: i64 = 3600;

/// How long after a quota pause ended the work waiting for it still resumes by itself. Later
/// (Retract was not running then, or the file is a restored backup), a run the scheduler starts
/// only settles what may have gone out; the operator's "Resume" sends the rest.
pub const RESUME_GRACE_SECS: i64 = 12 * 3600;

/// Where a plan stands with respect to its schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Not scheduled, or its run has started.
    Unscheduled,
    /// Its time has not come.
    Later,
    /// Its time has come, within the grace period: the scheduler runs it.
    Due,
    /// Its time passed more than the grace period ago: the operator decides.
    Overdue,
}

impl PlanProgress {
    pub fn schedule(&self, now: i64) -> Schedule {
        match self.not_before {
            None => Schedule::Unscheduled,
            Some(t) if t > now => Schedule::Later,
            Some(t) if now - t <= SCHEDULE_GRACE_SECS => Schedule::Due,
            Some(_) => Schedule::Overdue,
        }
    }

    /// Whether a run now may send this plan's planned requests.
    pub fn runnable(&self, now: i64) -> bool {
        matches!(self.schedule(now), Schedule::Unscheduled | Schedule::Due)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct QueueStatus {
    pub plans: Vec<PlanProgress>,
    /// Unix seconds: no delete is sent before (45009 until the next quota day).
    pub paused_until: Option<i64>,
    /// The queue runs by itself at this time: a check of a possibly-applied delete is due, a
    /// request waits for one in its message, or a bounded retry after a passing failure.
    pub wake_at: Option<i64>,
    /// A run stopped for a reason only the operator can clear (whitelist, credentials, answers
    /// that cannot be trusted, retries used up): nothing runs by itself until the operator
    /// runs the queue.
    pub stopped_at: Option<i64>,
}

impl QueueStatus {
    /// Work waits for a quota pause that ended more than [`RESUME_GRACE_SECS`] ago: it is not
    /// sent by itself (see the constant).
    pub fn resume_overdue(&self, now: i64) -> bool {
        let waiting: u32 = self.plans.iter().map(|p| p.waiting).sum();
        waiting > 0
            && self
                .paused_until
                .is_some_and(|until| until <= now && now - until > RESUME_GRACE_SECS)
    }

    pub fn has_work(&self) -> bool {
        self.plans
            .iter()
            .any(|p| p.waiting + p.planned + p.unsettled > 0)
    }

    /// Whether the queue should run now, without anyone clicking: something waits for quota
    /// (its pause is over), a scheduled plan's time has come, or the queue's own wake time has
    /// come (a check, or a bounded retry; also during a quota pause, since a run then only
    /// reads). Never while a run by itself stopped to ask the operator, and a wake time set
    /// for later holds the rest back until then. Held requests never wake it: they wait for
    /// the operator.
    pub fn due_for_resume(&self, now: i64) -> bool {
        if self.stopped_at.is_some() {
            return false;
        }
        // A due check runs even during a quota pause (it only reads; the run sends nothing
        // while paused).
        if let Some(wake) = self.wake_at {
            return wake <= now;
        }
        if self.paused_until.is_some_and(|until| until > now) {
            return false;
        }
        let waiting: u32 = self.plans.iter().map(|p| p.waiting).sum();
        let scheduled = self
            .plans
            .iter()
            .any(|p| p.planned > 0 && p.schedule(now) == Schedule::Due);
        (waiting > 0 && !self.resume_overdue(now)) || scheduled
    }
}

pub use crate::runlock::RunLock;

/// The start of the next quota day: WeChat's daily counters reset at midnight in Beijing (UTC+8).
pub fn next_quota_day(now_unix: i64) -> i64 {
    const BEIJING: i64 = 8 * 3600;
    ((now_unix + BEIJING) / 86_400 + 1) * 86_400 - BEIJING
}

pub fn status(store: &Store, account: AccountId) -> Result<QueueStatus, CoreError> {
    let conn = store.conn();
    let (paused_until, wake_at, stopped_at): (Option<i64>, Option<i64>, Option<i64>) = conn
        .query_row(
            "SELECT queue_paused_until, queue_wake_at, queue_stopped_at FROM accounts WHERE id = ?1",
            [account],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .map_err(store.err("cannot read the queue"))?;
    let mut stmt = conn
        .prepare(
            "SELECT p.id, p.created_at, count(*),
                    sum(t.state = 'done'), sum(t.state = 'waiting'), sum(t.state = 'planned'),
                    sum(t.state IN ('intent', 'sent', 'unknown')), sum(t.state = 'failed'), sum(t.state = 'skipped'),
                    p.not_before, sum(t.state = 'held')
             FROM plans p JOIN plan_targets t ON t.plan_id = p.id
             WHERE p.account_id = ?1 AND p.status = 'confirmed'
             GROUP BY p.id ORDER BY p.id",
        )
        .map_err(store.err("cannot read the queue"))?;
    let plans = stmt
        .query_map([account], |r| {
            Ok(PlanProgress {
                plan_id: r.get(0)?,
                created_at: r.get(1)?,
                requests: r.get(2)?,
                done: r.get(3)?,
                waiting: r.get(4)?,
                planned: r.get(5)?,
                unsettled: r.get(6)?,
                failed: r.get(7)?,
                skipped: r.get(8)?,
                not_before: r.get(9)?,
                held: r.get(10)?,
                items: Vec::new(),
            })
        })
        .map_err(store.err("cannot read the queue"))?
        .collect::<Result<Vec<PlanProgress>, _>>()
        .map_err(store.err("cannot read the queue"))?;
    drop(stmt);
    drop(conn);
    // A possibly-applied delete wakes the queue when its check is due, however it got there
    // (a run, a crash and the check at start, another process).
    let check = next_checks(store, account, execute::SETTLE_AFTER_SECS as i64)?;
    let wake_at = [wake_at, check].into_iter().flatten().min();
    Ok(QueueStatus {
        plans,
        paused_until,
        wake_at,
        stopped_at,
    })
}

/// How many of a queue's deletes continue by themselves at `now`: those waiting for a later
/// quota day or for their scheduled time, and — while the queue has a wake time of its own (a
/// check of a possibly-applied delete, a request waiting for one, a bounded retry) — its
/// planned and unsettled ones. A queue stopped for the operator runs nothing by itself; a
/// scheduled plan that missed its time and held requests wait for the operator too.
pub fn continuing(status: &QueueStatus, now: i64) -> u32 {
    if status.stopped_at.is_some() {
        return 0;
    }
    let wakes = status.wake_at.is_some();
    status
        .plans
        .iter()
        .map(|p| match p.schedule(now) {
            // A plan waiting for its time needs Retract running then.
            Schedule::Later | Schedule::Due => p.waiting + p.planned,
            _ if wakes => p.waiting + p.planned + p.unsettled,
            _ => p.waiting,
        })
        .sum()
}

/// [`status`] with every plan's requests listed (`items`), for the window's queue view. The
/// scheduler's minute pass and the tray count with [`status`] alone: they read no journal rows.
pub fn status_in_full(store: &Store, account: AccountId) -> Result<QueueStatus, CoreError> {
    let mut status = status(store, account)?;
    for plan in &mut status.plans {
        plan.items = crate::journal::load(store, plan.plan_id)?
            .1
            .iter()
            .map(|t| QueuedRequest {
                seq: t.seq,
                whole: t.index.is_none(),
                titles: t.titles(),
                state: t.state,
            })
            .collect();
    }
    Ok(status)
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
mod tests {
    use super::*;

    fn status(waiting: u32, unsettled: u32, paused_until: Option<i64>) -> QueueStatus {
        QueueStatus {
            plans: vec![PlanProgress {
                plan_id: PlanId(1),
                created_at: 0,
                requests: 5,
                done: 1,
                waiting,
                planned: 0,
                unsettled,
                held: 0,
                failed: 0,
                skipped: 0,
                not_before: None,
                items: Vec::new(),
            }],
            paused_until,
            wake_at: None,
            stopped_at: None,
        }
    }

    #[test]
    fn a_scheduled_plan_is_due_from_its_time_for_an_hour_then_waits_for_the_operator() {
        let mut s = status(0, 0, None);
        s.plans[0].planned = 2;
        s.plans[0].not_before = Some(1_000);
        let p = &s.plans[0];
        assert_eq!(p.schedule(999), Schedule::Later);
        assert_eq!(p.schedule(1_000), Schedule::Due);
        assert_eq!(p.schedule(1_000 + SCHEDULE_GRACE_SECS), Schedule::Due);
        assert_eq!(p.schedule(1_001 + SCHEDULE_GRACE_SECS), Schedule::Overdue);
        assert!(!p.runnable(999) && p.runnable(1_000) && !p.runnable(1_001 + SCHEDULE_GRACE_SECS));
        assert!(!s.due_for_resume(999));
        assert!(s.due_for_resume(1_000));
        assert!(
            !s.due_for_resume(1_001 + SCHEDULE_GRACE_SECS),
            "late: the operator decides"
        );
        s.paused_until = Some(2_000);
        assert!(!s.due_for_resume(1_500), "a quota pause holds it too");
    }

    #[test]
    fn waiting_work_resumes_by_itself_after_its_pause_unless_a_stop_asks_the_operator() {
        assert!(status(2, 0, None).due_for_resume(100));
        assert!(status(2, 0, Some(100)).due_for_resume(100));
        assert!(!status(2, 0, Some(101)).due_for_resume(100), "still paused");
        assert!(
            status(2, 1, None).due_for_resume(100),
            "a delete to verify blocks its own message, not the queue (the run settles it first)"
        );
        assert!(!status(0, 0, None).due_for_resume(100), "nothing waits");
        let mut stopped = status(2, 0, None);
        stopped.stopped_at = Some(50);
        assert!(
            !stopped.due_for_resume(100),
            "a run by itself stopped to ask the operator: nothing runs by itself again"
        );
    }

    #[test]
    fn the_queue_wakes_itself_at_its_wake_time_and_a_retry_set_later_holds_the_rest() {
        let mut s = status(0, 1, None);
        s.wake_at = Some(130);
        assert!(!s.due_for_resume(129), "a check is due at 130, not before");
        assert!(s.due_for_resume(130));
        let mut s = status(2, 0, None);
        s.wake_at = Some(400);
        assert!(
            !s.due_for_resume(100),
            "a retry after a passing failure waits for its time, even with quota-waiting work"
        );
        s.paused_until = Some(500);
        assert!(
            s.due_for_resume(450),
            "a due check runs in a quota pause (reads only; nothing is sent while paused)"
        );
        s.wake_at = None;
        assert!(
            !s.due_for_resume(450),
            "quota-waiting work waits for the pause"
        );
    }

    #[test]
    fn a_later_quota_day_is_tried_hourly_only_right_after_a_pause() {
        let midnight = next_quota_day(1_000_000);
        assert_eq!(
            pause_end(midnight + 10, Some(midnight)),
            midnight + 10 + 3600
        );
        assert_eq!(
            pause_end(midnight + 10, None),
            next_quota_day(midnight + 10)
        );
        assert_eq!(
            pause_end(midnight + 7200, Some(midnight)),
            next_quota_day(midnight + 7200),
            "a pause long over is a new day's exhaustion"
        );
    }
}
