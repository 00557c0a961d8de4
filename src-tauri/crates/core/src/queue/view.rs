//! What a queue holds, counted: each plan's requests by state, the pause, the wake time and the
//! stop, and the rules read from them (when a scheduled plan runs by itself, when waiting work
//! resumes, how many deletes need Retract to stay running). Reads only.

use serde::Serialize;

use super::next_checks;
use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::execute;
use crate::journal::JournalState;
use crate::plan::PlanId;
use crate::store::Store;

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
