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
    pub failed: u32,
    pub skipped: u32,
    /// A scheduled plan: nothing of it is sent before this time (Unix seconds). Cleared when
    /// its run starts.
    pub not_before: Option<i64>,
}

/// How long after its time a scheduled plan still runs by itself. Later (the app was not
/// running), it waits for the operator: a take-down hours late may no longer be wanted.
pub const SCHEDULE_GRACE_SECS: i64 = 3600;

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
}

impl QueueStatus {
    pub fn has_work(&self) -> bool {
        self.plans
            .iter()
            .any(|p| p.waiting + p.planned + p.unsettled > 0)
    }

    /// Whether the queue should run now, without anyone clicking: something waits for quota
    /// or a scheduled plan's time has come, nothing is left to verify (that needs the
    /// operator's look), and no pause runs.
    pub fn due_for_resume(&self, now: i64) -> bool {
        let (waiting, unsettled) = self
            .plans
            .iter()
            .fold((0, 0), |(w, u), p| (w + p.waiting, u + p.unsettled));
        let scheduled = self
            .plans
            .iter()
            .any(|p| p.planned > 0 && p.schedule(now) == Schedule::Due);
        (waiting > 0 || scheduled)
            && unsettled == 0
            && self.paused_until.is_none_or(|until| until <= now)
    }
}

/// Held while a run or a reconciliation changes an account's journal.
pub struct RunLock {
    _file: std::fs::File,
}

impl RunLock {
    /// Takes the account's lock or says that another runner has it.
    pub fn try_acquire(store: &Store, account: AccountId) -> Result<Self, CoreError> {
        let path = store.path().with_extension(format!("queue-{account}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| {
                CoreError::Store(format!(
                    "{}: cannot open the queue lock: {e}",
                    path.display()
                ))
            })?;
        match file.try_lock() {
            Ok(()) => Ok(Self { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(CoreError::Busy(
                "another Retract window is running this account's deletes; wait for it to finish"
                    .into(),
            )),
            Err(std::fs::TryLockError::Error(e)) => Err(CoreError::Store(format!(
                "{}: cannot lock the queue: {e}",
                path.display()
            ))),
        }
    }
}

/// The start of the next quota day: WeChat's daily counters reset at midnight in Beijing (UTC+8).
pub fn next_quota_day(now_unix: i64) -> i64 {
    const BEIJING: i64 = 8 * 3600;
    ((now_unix + BEIJING) / 86_400 + 1) * 86_400 - BEIJING
}

pub fn status(store: &Store, account: AccountId) -> Result<QueueStatus, CoreError> {
    let conn = store.conn();
    let paused_until: Option<i64> = conn
        .query_row(
            "SELECT queue_paused_until FROM accounts WHERE id = ?1",
            [account],
            |r| r.get(0),
        )
        .map_err(store.err("cannot read the queue"))?;
    let mut stmt = conn
        .prepare(
            "SELECT p.id, p.created_at, count(*),
                    sum(t.state = 'done'), sum(t.state = 'waiting'), sum(t.state = 'planned'),
                    sum(t.state IN ('intent', 'sent', 'unknown')), sum(t.state = 'failed'), sum(t.state = 'skipped'),
                    p.not_before
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
            })
        })
        .map_err(store.err("cannot read the queue"))?
        .collect::<Result<_, _>>()
        .map_err(store.err("cannot read the queue"))?;
    Ok(QueueStatus {
        plans,
        paused_until,
    })
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

/// Reconciles, then runs every confirmed plan of the account, oldest first, one request at a
/// time. The app calls this on "Resume" and when a paused queue's quota day has come.
pub async fn run(
    api: &Api,
    store: &Store,
    account: AccountId,
    options: &ExecOptions,
    mut on_result: impl FnMut(PlanId, &TargetResult),
) -> Result<QueueRun, CoreError> {
    let _lock = RunLock::try_acquire(store, account)?;
    let now = options.now();
    let before = status(store, account)?;
    if let Some(until) = before.paused_until.filter(|u| *u > now) {
        return Ok(QueueRun {
            findings: Vec::new(),
            reports: Vec::new(),
            paused_until: Some(until),
        });
    }
    let findings = reconcile_locked(api, store, account, options).await?;
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
        if plan.not_before.is_some() {
            // Its time came and its run starts: from here it is an ordinary confirmed plan
            // (what 45009 leaves waiting resumes on the next quota day like any other).
            store
                .conn()
                .execute(
                    "UPDATE plans SET not_before = NULL WHERE id = ?1",
                    [plan.plan_id],
                )
                .map_err(store.err("cannot start the scheduled plan"))?;
        }
        let report = execute::execute(api, store, plan.plan_id, options, |r| {
            on_result(plan.plan_id, r)
        })
        .await?;
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
    let left: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM plan_targets WHERE plan_id = ?1 AND state IN ('sent', 'unknown')",
            [plan],
            |r| r.get(0),
        )
        .map_err(store.err("cannot cancel the queue"))?;
    if left == 0 {
        store
            .conn()
            .execute(
                "UPDATE plans SET status = 'finished' WHERE id = ?1 AND status = 'confirmed'",
                [plan],
            )
            .map_err(store.err("cannot cancel the queue"))?;
    }
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
                failed: 0,
                skipped: 0,
                not_before: None,
            }],
            paused_until,
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
    fn waiting_work_resumes_by_itself_only_after_its_pause_and_with_nothing_to_verify() {
        assert!(status(2, 0, None).due_for_resume(100));
        assert!(status(2, 0, Some(100)).due_for_resume(100));
        assert!(!status(2, 0, Some(101)).due_for_resume(100), "still paused");
        assert!(
            !status(2, 1, None).due_for_resume(100),
            "the operator verifies first"
        );
        assert!(!status(0, 0, None).due_for_resume(100), "nothing waits");
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
