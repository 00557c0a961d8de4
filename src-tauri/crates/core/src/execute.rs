//! Executes a confirmed plan from its journal, one request at a time.
//!
//! For each target, in plan order:
//! 0. the journal is asked first: a position (or whole message) Retract already deleted is
//!    never sent again (`deletedEarlier`); a request of the same message that is unsettled,
//!    held for the operator, or just deleted makes this one wait (`waitingForCheck`, still
//!    `planned`) — the run goes on with other messages;
//! 1. `planned → intent` is committed (compare-and-set: a cancelled target stops the run here);
//! 2. `getarticle` re-checks the target ([`crate::recheck`]) and its answer is archived as
//!    received; a target that cannot be archived in full is not sent;
//! 3. `intent → sent` is committed, then the delete request goes out;
//! 4. the outcome is committed: `done` only on an explicit errcode 0 or when `getarticle`
//!    proves the item deleted. A delete whose answer never came, or came as anything but a
//!    known refusal, is `unknown`: the run stops, and the target is settled by
//!    [`crate::settle`] no sooner than [`ExecOptions::settle_after`] later, because WeChat may
//!    show a delete with a lag. A check that proves nothing puts the target on `held`: it
//!    waits for the operator's word ([`crate::decide`]), and only its own message waits with
//!    it.
//!
//! Account-level problems (quota used up, IP not whitelisted, unverified account, bad
//! credentials, the per-minute limit twice, a failed re-check, answers that cannot be trusted)
//! stop the run; targets not reached stay `planned` and nothing is lost.
//!
//! Length: about 550 lines, on purpose — one target's run is one state machine, and every
//! transition of it is read in one place. Settling lives in `settle`, the proofs in `recheck`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use wechat_mp::{Api, ArticleId, Clock, Error as WxError, ErrorClass, SystemClock};

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::index;
pub use crate::journal::Outcome;
use crate::journal::{self, CompareAndSet, JournalState, Target};
use crate::plan::PlanId;
use crate::recheck::{self, CheckError, ControlArticleCheck, RecheckVerdict};
use crate::store::Store;

use JournalState::{Done, Failed, Held, Intent, Planned, Sent, Skipped, Unknown, Waiting};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TargetResult {
    pub seq: u32,
    pub article_id: String,
    pub index: Option<u32>,
    pub titles: Vec<String>,
    pub outcome: Outcome,
    pub errcode: Option<i64>,
    pub message: Option<String>,
    pub rid: Option<String>,
}

/// Why a target was not deleted, or why a run stopped.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    #[error(transparent)]
    Wechat(WxError),
    /// WeChat's answers (or a relay's) could not prove what is live.
    #[error("{0}")]
    Unproven(String),
    /// The article changed since the review.
    #[error("{0}")]
    Changed(String),
    /// The journal changed under the runner: cancelled, or handled by another runner.
    #[error("{0}")]
    Conflict(String),
    /// Not sent yet, by design: another request of the same message is settled first (the
    /// queue looks again by itself, or after the operator's word on a held request).
    #[error("{0}")]
    Wait(String),
}

impl From<Problem> for CoreError {
    fn from(p: Problem) -> Self {
        match p {
            Problem::Wechat(e) => CoreError::Wechat(e),
            Problem::Unproven(why) => CoreError::Unproven(why),
            Problem::Changed(why) => CoreError::Changed(why),
            Problem::Conflict(why) => CoreError::Conflict(why),
            Problem::Wait(why) => CoreError::Waiting(why),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ExecutionReport {
    pub plan_id: PlanId,
    pub results: Vec<TargetResult>,
    /// Why the run stopped early, for the shell to explain (it crosses IPC as the shell's
    /// error type, not as this one).
    #[serde(skip)]
    #[cfg_attr(feature = "specta", specta(skip))]
    pub stop: Option<Problem>,
    /// The earliest time a request of this run that waits for a check of its message can go
    /// on (the queue wakes itself then).
    #[serde(skip)]
    #[cfg_attr(feature = "specta", specta(skip))]
    pub wake_at: Option<i64>,
}

/// Waits: the real clock in the app, a recorder in tests (virtual time, no real sleeping).
pub trait Waiter: Send + Sync {
    fn wait(&self, how_long: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

#[derive(Debug, Default)]
pub struct RealWaiter;

impl Waiter for RealWaiter {
    fn wait(&self, how_long: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(how_long))
    }
}

/// How long a request waits before it is checked again when WeChat's answer did not show yet
/// a delete Retract made earlier in the same message ([`RecheckVerdict::Lagging`]).
pub const LAGGING_RETRY_SECS: i64 = 120;

/// How many such looks before the request is held for the operator (about 20 minutes).
pub const LAGGING_LOOKS: u32 = 10;

/// A possibly-applied delete is first asked about this long after it was sent (the default
/// of [`ExecOptions::settle_after`]).
pub const SETTLE_AFTER_SECS: u64 = 30;

/// What the app uses by default; tests swap the waiter and the clock.
#[derive(Clone)]
pub struct ExecOptions {
    /// How long a 45011 (per-minute limit) waits before the one retry.
    pub minute_wait: Duration,
    pub waiter: Arc<dyn Waiter>,
    /// The runner's clock: journal times and the settle delay are measured on it.
    pub clock: Arc<dyn Clock>,
    /// A target whose delete may have gone out is settled with `getarticle` no sooner than
    /// this after it was sent: WeChat may show a delete with a lag.
    pub settle_after: Duration,
    /// How long after a first check found a possibly-applied delete live the second, deciding
    /// check waits. `None`: by the account's evidence ([`crate::settle::second_check_gap`]).
    pub second_check: Option<Duration>,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            minute_wait: Duration::from_secs(61),
            waiter: Arc::new(RealWaiter),
            clock: Arc::new(SystemClock),
            settle_after: Duration::from_secs(SETTLE_AFTER_SECS),
            second_check: None,
        }
    }
}

impl ExecOptions {
    pub fn now(&self) -> i64 {
        self.clock
            .now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    }
}

/// Errors that concern the whole account, or a state the runner cannot trust: the run stops
/// and the rest waits. Transport, status and decode errors reach here only from obtaining a
/// token (a delete's own are "outcome unknown"), so nothing was sent.
fn stops_the_run(e: &WxError) -> bool {
    matches!(
        e.class(),
        Some(
            ErrorClass::DailyQuota
                | ErrorClass::MinuteLimit
                | ErrorClass::Busy
                | ErrorClass::IpNotWhitelisted { .. }
                | ErrorClass::RiskyIp
                | ErrorClass::Unauthorized
                | ErrorClass::Configuration
                | ErrorClass::TokenInvalid
        )
    ) || matches!(
        e,
        WxError::FixedTokenExpired
            | WxError::Transport { .. }
            | WxError::HttpStatus { .. }
            | WxError::Decode { .. }
            | WxError::DeleteOutcomeUnknown { .. }
    )
}

/// Where one target's run ended.
struct TargetEnding {
    outcome: Outcome,
    problem: Option<Problem>,
    /// The problem concerns the account (or the runner's trust in its answers): nothing more
    /// is sent in this run.
    stops: bool,
    /// A wait for a check of the same message ends then.
    wake_at: Option<i64>,
}

impl TargetEnding {
    fn ok(outcome: Outcome) -> Self {
        Self {
            outcome,
            problem: None,
            stops: false,
            wake_at: None,
        }
    }

    fn stop(outcome: Outcome, problem: Problem) -> Self {
        Self {
            outcome,
            problem: Some(problem),
            stops: true,
            wake_at: None,
        }
    }

    /// Not this one (this message), but the run goes on with the others.
    fn aside(outcome: Outcome, problem: Problem) -> Self {
        Self {
            outcome,
            problem: Some(problem),
            stops: false,
            wake_at: None,
        }
    }
}

/// Runs a confirmed plan. `on_result` is called after each target settles.
pub async fn execute(
    api: &Api,
    store: &Store,
    plan: PlanId,
    options: &ExecOptions,
    mut on_result: impl FnMut(&TargetResult),
) -> Result<ExecutionReport, CoreError> {
    let status: String = store
        .conn()
        .query_row("SELECT status FROM plans WHERE id = ?1", [plan], |r| {
            r.get(0)
        })
        .map_err(store.err("cannot read the plan"))?;
    if status != "confirmed" {
        return Err(CoreError::ConfirmationRejected(format!(
            "plan {plan} is {status}, not confirmed; nothing was sent"
        )));
    }
    // The operator's confirmation, as this installation sealed it (`seal.rs`): a plan the
    // database carries by itself is not run.
    crate::seal::verify(&store.conn(), &store.seal_key(), plan)
        .map_err(CoreError::ConfirmationRejected)?;
    let (account, targets) = journal::load(store, plan)?;
    let mut ctx = ControlArticleCheck::default();
    let mut results = Vec::new();
    let mut stop: Option<Problem> = None;
    let mut wake_at: Option<i64> = None;
    for t in &targets {
        let result = if stop.is_some() || t.state != Planned {
            result_of(t, settled_outcome(t), None)
        } else {
            let step = match run_one(api, store, account, plan, t, options, &mut ctx).await {
                Ok(step) => step,
                // Cancelled or taken by another runner since it was loaded: nothing sent.
                Err(CoreError::Conflict(why)) => {
                    TargetEnding::stop(Outcome::NotRun, Problem::Conflict(why))
                }
                Err(e) => return Err(e),
            };
            let result = result_of(t, step.outcome, step.problem.as_ref());
            wake_at = match (wake_at, step.wake_at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if step.stops {
                stop = step.problem;
            }
            result
        };
        on_result(&result);
        results.push(result);
    }
    journal::finish_if_settled(store, plan)?;
    store.audit(
        Some(account),
        crate::audit::AuditAction::PlanExecuted,
        &serde_json::json!({"plan": plan, "results": results.iter().map(|r| (r.seq, r.outcome)).collect::<Vec<_>>(), "stopped": stop.as_ref().map(ToString::to_string)}),
    )?;
    Ok(ExecutionReport {
        plan_id: plan,
        results,
        stop,
        wake_at,
    })
}

/// The outcome to show for a target this run did not touch, from its journal state.
fn settled_outcome(t: &Target) -> Outcome {
    match (t.state, t.outcome) {
        (Planned, _) => Outcome::NotRun,
        (Waiting, _) => Outcome::WaitingForQuota,
        (Done, Some(o @ (Outcome::AlreadyGone | Outcome::Deleted | Outcome::OperatorSaysGone))) => {
            o
        }
        (Done, _) => Outcome::Deleted,
        (
            Skipped,
            Some(
                o @ (Outcome::TitleMismatch
                | Outcome::Cancelled
                | Outcome::GivenUp
                | Outcome::DeletedEarlier),
            ),
        ) => o,
        (Skipped, _) => Outcome::NotRun,
        (Unknown | Sent | Intent, _) => Outcome::Unknown,
        (Held, _) => Outcome::Held,
        (Failed, _) => Outcome::Failed,
    }
}

fn result_of(t: &Target, outcome: Outcome, problem: Option<&Problem>) -> TargetResult {
    let api = match problem {
        Some(Problem::Wechat(e)) => e.api(),
        _ => None,
    };
    TargetResult {
        seq: t.seq,
        article_id: t.article_id.clone(),
        index: t.index,
        titles: t.titles(),
        outcome,
        errcode: api.map(|a| a.code),
        message: problem.map(ToString::to_string),
        rid: api.and_then(|a| a.rid.clone()),
    }
}

async fn run_one(
    api: &Api,
    store: &Store,
    account: AccountId,
    plan: PlanId,
    t: &Target,
    options: &ExecOptions,
    ctx: &mut ControlArticleCheck,
) -> Result<TargetEnding, CoreError> {
    let seq = t.seq;
    // The journal first: a position (or message) Retract already deleted is never sent again,
    // whatever a lagging `getarticle` still shows.
    if let Some((p, s)) = crate::settle::already_deleted(store, account, plan, t)? {
        let why = format!(
            "request {s} of plan {p} already deleted this (see the activity log); nothing was sent"
        );
        CompareAndSet::new(plan, seq, &[Planned], Skipped, options.now())
            .outcome(Outcome::DeletedEarlier)
            .note(&why)
            .commit(store)?;
        return Ok(TargetEnding::ok(Outcome::DeletedEarlier));
    }
    if let Some(wait) = crate::settle::message_wait(store, account, plan, t, options)? {
        // Left `planned`: this message waits, the others go on.
        return Ok(TargetEnding {
            wake_at: wait.until,
            ..TargetEnding::aside(Outcome::WaitingForCheck, Problem::Wait(wait.why))
        });
    }
    CompareAndSet::new(plan, seq, &[Planned], Intent, options.now()).commit(store)?;
    match recheck::prove(api, store, account, plan, t, true, ctx).await {
        Ok(RecheckVerdict::Present) => {}
        Ok(RecheckVerdict::Gone) => {
            CompareAndSet::new(plan, seq, &[Intent], Done, options.now())
                .outcome(Outcome::AlreadyGone)
                .commit(store)?;
            index::mark_deleted(store, account, &t.article_id, t.index, options.now())?;
            return Ok(TargetEnding::ok(Outcome::AlreadyGone));
        }
        Ok(RecheckVerdict::Changed(why)) => return changed(store, plan, seq, Intent, why, options),
        Ok(RecheckVerdict::Unproven(why) | RecheckVerdict::Moved(why)) => {
            return hold(store, plan, seq, Intent, why, options);
        }
        Ok(RecheckVerdict::Untrusted(why)) => return untrusted(store, plan, seq, why, options),
        Ok(RecheckVerdict::Lagging(why)) => {
            // Not sent, and no failure: it waits for WeChat to show the earlier delete — a
            // bounded number of times (each look is a read), then the operator decides.
            if journal::times_waited(store, plan, seq)? >= LAGGING_LOOKS {
                return hold(store, plan, seq, Intent, why, options);
            }
            CompareAndSet::new(plan, seq, &[Intent], Planned, options.now())
                .outcome(Outcome::WaitingForCheck)
                .note(&why)
                .commit(store)?;
            return Ok(TargetEnding {
                wake_at: Some(options.now() + LAGGING_RETRY_SECS),
                ..TargetEnding::aside(Outcome::WaitingForCheck, Problem::Wait(why))
            });
        }
        Err(CheckError::Wechat(e)) => return not_sent(store, plan, seq, Intent, e, options),
        Err(CheckError::Core(e)) => {
            // The archive (or the index) could not be written: nothing is sent.
            CompareAndSet::new(plan, seq, &[Intent], Planned, options.now()).commit(store)?;
            return Err(e);
        }
    }
    let id = ArticleId::parse(&t.article_id).map_err(CoreError::Wechat)?;
    let target = crate::plan::delete_target(t.index);
    let mut waited_a_minute = false;
    loop {
        CompareAndSet::new(plan, seq, &[Intent], Sent, options.now()).commit(store)?;
        let answer = api.delete(&id, target).await;
        audit_request(store, account, plan, t, &answer)?;
        let e = match answer {
            Ok(()) => {
                CompareAndSet::new(plan, seq, &[Sent], Done, options.now())
                    .outcome(Outcome::Deleted)
                    .commit(store)?;
                index::mark_deleted(store, account, &t.article_id, t.index, options.now())?;
                return Ok(TargetEnding::ok(Outcome::Deleted));
            }
            Err(e) => e,
        };
        let text = e.to_string();
        match &e {
            WxError::DeleteOutcomeUnknown { .. } => {
                // Settled later (see `settle`): an immediate check could see a lagging
                // "still there" and send the delete twice.
                CompareAndSet::new(plan, seq, &[Sent], Unknown, options.now())
                    .outcome(Outcome::Unknown)
                    .wechat_error(&e, &text)
                    .commit(store)?;
                return Ok(TargetEnding {
                    wake_at: Some(options.now() + options.settle_after.as_secs() as i64),
                    ..TargetEnding::stop(Outcome::Unknown, Problem::Wechat(e))
                });
            }
            _ if e.class() == Some(&ErrorClass::MinuteLimit) && !waited_a_minute => {
                // Answered, so not applied: wait out the minute and try once more.
                waited_a_minute = true;
                CompareAndSet::new(plan, seq, &[Sent], Intent, options.now())
                    .wechat_error(&e, &text)
                    .commit(store)?;
                options.waiter.wait(options.minute_wait).await;
            }
            // 53600 on a delete is not proof by itself: getarticle decides.
            _ if e.class() == Some(&ErrorClass::InvalidArticle) => {
                return match recheck::prove(api, store, account, plan, t, false, ctx).await {
                    Ok(RecheckVerdict::Gone) => {
                        CompareAndSet::new(plan, seq, &[Sent], Done, options.now())
                            .outcome(Outcome::AlreadyGone)
                            .commit(store)?;
                        index::mark_deleted(store, account, &t.article_id, t.index, options.now())?;
                        Ok(TargetEnding::ok(Outcome::AlreadyGone))
                    }
                    // After an answer, a changed position proves nothing: it may have moved
                    // because of this very request.
                    Ok(
                        RecheckVerdict::Changed(why)
                        | RecheckVerdict::Unproven(why)
                        | RecheckVerdict::Moved(why)
                        | RecheckVerdict::Lagging(why),
                    ) => hold(store, plan, seq, Sent, why, options),
                    Ok(RecheckVerdict::Untrusted(why)) => {
                        hold(store, plan, seq, Sent, why, options).map(|step| TargetEnding {
                            stops: true,
                            ..step
                        })
                    }
                    Ok(RecheckVerdict::Present) => {
                        CompareAndSet::new(plan, seq, &[Sent], Failed, options.now())
                            .outcome(Outcome::Failed)
                            .wechat_error(&e, &text)
                            .commit(store)?;
                        Ok(TargetEnding::aside(Outcome::Failed, Problem::Wechat(e)))
                    }
                    Err(CheckError::Wechat(_)) => {
                        // The check failed: whether the 53600 was WeChat's last word is unknown.
                        CompareAndSet::new(plan, seq, &[Sent], Unknown, options.now())
                            .outcome(Outcome::Unknown)
                            .wechat_error(&e, &text)
                            .commit(store)?;
                        Ok(TargetEnding {
                            wake_at: Some(options.now() + options.settle_after.as_secs() as i64),
                            ..TargetEnding::stop(Outcome::Unknown, Problem::Wechat(e))
                        })
                    }
                    Err(CheckError::Core(core)) => Err(core),
                };
            }
            _ if stops_the_run(&e) => return not_sent(store, plan, seq, Sent, e, options),
            _ => {
                // A known refusal of WeChat's for this request (answered, so not applied).
                // Anything else was made "outcome unknown" by the client.
                CompareAndSet::new(plan, seq, &[Sent], Failed, options.now())
                    .outcome(Outcome::Failed)
                    .wechat_error(&e, &text)
                    .commit(store)?;
                return Ok(TargetEnding::aside(Outcome::Failed, Problem::Wechat(e)));
            }
        }
    }
}

/// One audit row per delete request: what was sent and what came back (errcode, errmsg, rid).
fn audit_request(
    store: &Store,
    account: AccountId,
    plan: PlanId,
    t: &Target,
    answer: &Result<(), WxError>,
) -> Result<(), CoreError> {
    let api = answer.as_ref().err().and_then(WxError::api);
    store.audit(
        Some(account),
        crate::audit::AuditAction::DeleteRequest,
        &serde_json::json!({
            "plan": plan,
            "seq": t.seq,
            "article_id": t.article_id,
            "index": t.index,
            "titles": t.titles(),
            "errcode": api.map(|a| a.code).unwrap_or(if answer.is_ok() { 0 } else { -2 }),
            "errmsg": answer.as_ref().err().map(ToString::to_string),
            "rid": api.and_then(|a| a.rid.clone()),
        }),
    )
}

/// The article changed since the review, and nothing was sent: this target is skipped.
fn changed(
    store: &Store,
    plan: PlanId,
    seq: u32,
    from: JournalState,
    why: String,
    options: &ExecOptions,
) -> Result<TargetEnding, CoreError> {
    CompareAndSet::new(plan, seq, &[from], Skipped, options.now())
        .outcome(Outcome::TitleMismatch)
        .note(&why)
        .commit(store)?;
    Ok(TargetEnding::aside(
        Outcome::TitleMismatch,
        Problem::Changed(why),
    ))
}

/// The answers cannot settle this target: it waits for the operator's word (`held`), and so
/// does the rest of its message; the run goes on with other messages.
fn hold(
    store: &Store,
    plan: PlanId,
    seq: u32,
    from: JournalState,
    why: String,
    options: &ExecOptions,
) -> Result<TargetEnding, CoreError> {
    CompareAndSet::new(plan, seq, &[from], Held, options.now())
        .outcome(Outcome::Held)
        .note(&why)
        .commit(store)?;
    Ok(TargetEnding::aside(Outcome::Held, Problem::Unproven(why)))
}

/// The account's answers cannot be trusted (see [`RecheckVerdict::Untrusted`]): nothing was sent,
/// the target stays sendable, and the run stops for the operator.
fn untrusted(
    store: &Store,
    plan: PlanId,
    seq: u32,
    why: String,
    options: &ExecOptions,
) -> Result<TargetEnding, CoreError> {
    CompareAndSet::new(plan, seq, &[Intent], Planned, options.now())
        .outcome(Outcome::Unproven)
        .note(&why)
        .commit(store)?;
    Ok(TargetEnding::stop(
        Outcome::Unproven,
        Problem::Unproven(why),
    ))
}

/// Nothing was applied (the re-check failed, or WeChat refused the whole account for now): the
/// target stays `planned` so a later run sends it (a daily-quota refusal waits instead), and
/// the run stops.
fn not_sent(
    store: &Store,
    plan: PlanId,
    seq: u32,
    from: JournalState,
    e: WxError,
    options: &ExecOptions,
) -> Result<TargetEnding, CoreError> {
    let text = e.to_string();
    let (state, outcome) = if e.class() == Some(&ErrorClass::DailyQuota) {
        (Waiting, Outcome::WaitingForQuota)
    } else {
        (Planned, Outcome::NotRun)
    };
    CompareAndSet::new(plan, seq, &[from], state, options.now())
        .outcome(outcome)
        .wechat_error(&e, &text)
        .commit(store)?;
    Ok(TargetEnding::stop(outcome, Problem::Wechat(e)))
}
