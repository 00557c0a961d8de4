//! Executes a confirmed plan from its journal, one request at a time.
//!
//! For each target, in plan order:
//! 1. `intent` is committed before anything is sent;
//! 2. `getarticle` re-checks the target (still there, the same title at that position) and the
//!    full article (HTML included) is archived locally;
//! 3. `sent` is committed, then the delete request goes out;
//! 4. the outcome is committed: `done` only on errcode 0 or when `getarticle` proves the item
//!    deleted; a delete whose answer never came is `unknown` and is settled with `getarticle`
//!    (deleted → done; still there with the same title → sent exactly once more).
//!
//! Account-level problems (quota used up, IP not whitelisted, unverified account, bad
//! credentials) stop the run; targets not reached stay `planned`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::params;
use serde::{Deserialize, Serialize};
use wechat_mp::{Api, ArticleId, Error as WxError, ErrorClass};

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::index;
use crate::plan::PlanId;
use crate::store::Store;

/// Where one target ended up, for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Outcome {
    /// Deleted by this plan.
    Deleted,
    /// Already gone before we sent anything (deleted elsewhere, or 53600).
    AlreadyGone,
    /// The article at that position is not the one the user reviewed: nothing sent.
    TitleMismatch,
    /// Today's delete quota is used up: waits for tomorrow.
    WaitingForQuota,
    /// The answer never came and the check could not settle it yet.
    Unknown,
    Failed,
    /// Not reached because the run stopped.
    NotRun,
}

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

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ExecutionReport {
    pub plan_id: PlanId,
    pub results: Vec<TargetResult>,
    /// Why the run stopped early, if it did.
    pub stopped: Option<String>,
    /// The error that stopped the run, for the shell to explain (not sent over IPC as is).
    #[serde(skip)]
    #[cfg_attr(feature = "specta", specta(skip))]
    pub stop_error: Option<WxError>,
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

/// What the app uses by default; tests swap the waiter.
#[derive(Clone)]
pub struct ExecOptions {
    /// How long a 45011 (per-minute limit) waits before the one retry.
    pub minute_wait: Duration,
    pub waiter: Arc<dyn Waiter>,
}

impl Default for ExecOptions {
    fn default() -> Self {
        Self {
            minute_wait: Duration::from_secs(61),
            waiter: Arc::new(RealWaiter),
        }
    }
}

struct Target {
    seq: u32,
    article_id: String,
    index: Option<u32>,
    /// (title, position) of each item the user reviewed.
    items: Vec<(String, u32)>,
    state: String,
    outcome: Option<String>,
}

fn load(store: &Store, plan: PlanId) -> Result<(AccountId, Vec<Target>), CoreError> {
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
    load_any(store, plan)
}

fn load_any(store: &Store, plan: PlanId) -> Result<(AccountId, Vec<Target>), CoreError> {
    let conn = store.conn();
    let account: AccountId = conn
        .query_row("SELECT account_id FROM plans WHERE id = ?1", [plan], |r| {
            r.get(0)
        })
        .map_err(store.err("cannot read the plan"))?;
    let mut stmt = conn
        .prepare("SELECT seq, article_id, idx, titles, state, outcome FROM plan_targets WHERE plan_id = ?1 ORDER BY seq")
        .map_err(store.err("cannot read the plan"))?;
    let rows = stmt
        .query_map([plan], |r| {
            let idx: u32 = r.get(2)?;
            let titles: String = r.get(3)?;
            Ok(Target {
                seq: r.get(0)?,
                article_id: r.get(1)?,
                index: (idx > 0).then_some(idx),
                // A damaged snapshot is an error, never an empty list (which could pass as "gone").
                items: serde_json::from_str(&titles).map_err(|e| {
                    rusqlite::Error::FromSqlConversionFailure(
                        3,
                        rusqlite::types::Type::Text,
                        Box::new(e),
                    )
                })?,
                state: r.get(4)?,
                outcome: r.get(5)?,
            })
        })
        .map_err(store.err("cannot read the plan"))?;
    let targets = rows
        .collect::<Result<_, _>>()
        .map_err(store.err("cannot read the plan"))?;
    Ok((account, targets))
}

/// Commits a state change of one target and its history row together.
fn journal(
    store: &Store,
    plan: PlanId,
    seq: u32,
    state: &str,
    outcome: Option<Outcome>,
    error: Option<&WxError>,
) -> Result<(), CoreError> {
    let api = error.and_then(WxError::api);
    let message = error.map(|e| e.to_string());
    let outcome = outcome.map(|o| {
        serde_json::to_value(o)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    });
    let mut conn = store.conn();
    let tx = conn
        .transaction()
        .map_err(store.err("cannot write the journal"))?;
    let now = crate::now_unix();
    tx.execute(
        "UPDATE plan_targets SET state = ?3, outcome = ?4, errcode = ?5, errmsg = ?6, rid = ?7, updated_at = ?8 WHERE plan_id = ?1 AND seq = ?2",
        params![plan, seq, state, outcome, api.map(|a| a.code), message, api.and_then(|a| a.rid.clone()), now],
    )
    .map_err(store.err("cannot write the journal"))?;
    tx.execute(
        "INSERT INTO journal_events (plan_id, seq, state, at, note) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![plan, seq, state, now, outcome],
    )
    .map_err(store.err("cannot write the journal"))?;
    tx.commit().map_err(store.err("cannot write the journal"))
}

/// What `getarticle` says about a target right now.
enum Check {
    /// Still there with the titles the user reviewed.
    Present,
    Gone,
    Mismatch(String),
}

async fn check(
    api: &Api,
    store: &Store,
    account: AccountId,
    plan: PlanId,
    t: &Target,
    archive: bool,
) -> Result<Check, WxError> {
    let id = ArticleId::parse(&t.article_id)?;
    let article = match api.get_article(&id).await {
        Ok(a) => a,
        Err(e) if e.class() == Some(&ErrorClass::InvalidArticle) => return Ok(Check::Gone),
        Err(e) => return Err(e),
    };
    if t.items.is_empty() {
        return Ok(Check::Mismatch(
            "the plan holds no reviewed titles for this target".into(),
        ));
    }
    let live_at = |pos: u32| {
        article
            .news_item
            .get((pos as usize).wrapping_sub(1))
            .filter(|i| !i.is_deleted)
    };
    if t.items.iter().all(|(_, pos)| live_at(*pos).is_none()) {
        return Ok(Check::Gone);
    }
    for (title, pos) in &t.items {
        match live_at(*pos) {
            Some(item) if &item.title == title => {}
            Some(item) => {
                return Ok(Check::Mismatch(format!(
                    "position {pos} now holds \"{}\", not the reviewed \"{title}\"",
                    item.title
                )));
            }
            None if t.index.is_some() => return Ok(Check::Gone),
            None => {}
        }
    }
    if archive {
        let json = serde_json::to_string(&article).unwrap_or_default();
        let _ = store.conn().execute(
            "INSERT INTO archive (account_id, article_id, plan_id, seq, fetched_at, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![account, t.article_id, plan, t.seq, crate::now_unix(), json],
        );
    }
    Ok(Check::Present)
}

/// Errors that concern the whole account: the run stops and the rest waits.
fn stops_the_run(e: &WxError) -> bool {
    matches!(
        e.class(),
        Some(
            ErrorClass::DailyQuota
                | ErrorClass::IpNotWhitelisted { .. }
                | ErrorClass::RiskyIp
                | ErrorClass::Unauthorized
                | ErrorClass::Configuration
                | ErrorClass::TokenInvalid
        )
    ) || matches!(
        e,
        WxError::FixedTokenExpired
            | WxError::Transport {
                may_have_reached_server: false,
                ..
            }
    )
}

/// Runs a confirmed plan. `on_result` is called after each target settles.
pub async fn execute(
    api: &Api,
    store: &Store,
    plan: PlanId,
    options: &ExecOptions,
    mut on_result: impl FnMut(&TargetResult),
) -> Result<ExecutionReport, CoreError> {
    let (account, targets) = load(store, plan)?;
    let mut results = Vec::new();
    let mut stop_error: Option<WxError> = None;
    for t in &targets {
        let result = if stop_error.is_some() || t.state != "planned" {
            result_of(t, settled_outcome(t), None)
        } else {
            match run_one(api, store, account, plan, t, options).await? {
                (outcome, Some(e)) => {
                    let result = result_of(t, outcome, Some(&e));
                    if stops_the_run(&e) {
                        stop_error = Some(e);
                    }
                    result
                }
                (outcome, None) => result_of(t, outcome, None),
            }
        };
        on_result(&result);
        results.push(result);
    }
    let finished = results.iter().all(|r| {
        !matches!(
            r.outcome,
            Outcome::NotRun | Outcome::WaitingForQuota | Outcome::Unknown
        )
    });
    if finished {
        store
            .conn()
            .execute("UPDATE plans SET status = 'finished' WHERE id = ?1", [plan])
            .map_err(store.err("cannot finish the plan"))?;
    }
    let stopped = stop_error.as_ref().map(ToString::to_string);
    store.audit(
        Some(account),
        "plan_executed",
        &serde_json::json!({"plan": plan, "results": results.iter().map(|r| (r.seq, r.outcome)).collect::<Vec<_>>(), "stopped": stopped}),
    )?;
    Ok(ExecutionReport {
        plan_id: plan,
        results,
        stopped,
        stop_error,
    })
}

/// Where reconciliation left one target.
pub struct Settled {
    pub state: String,
    pub article_id: String,
    pub index: Option<u32>,
    pub titles: Vec<String>,
}

/// Reconciles one target left in `intent`, `sent` or `unknown`, with `getarticle` only:
/// gone → `done` (a sent one counts as deleted: getarticle is the proof); still there with the
/// reviewed title → `planned`; changed → `skipped`. A failed check is returned as an error and
/// the target keeps its state.
pub async fn settle(
    api: &Api,
    store: &Store,
    account: AccountId,
    plan: PlanId,
    seq: u32,
) -> Result<Settled, CoreError> {
    let (_, targets) = load_any(store, plan)?;
    let t = targets
        .into_iter()
        .find(|t| t.seq == seq)
        .ok_or_else(|| CoreError::NotFound(format!("target {seq} of plan {plan}")))?;
    let state = match check(api, store, account, plan, &t, false).await? {
        Check::Gone => {
            let outcome = if t.state == "intent" {
                Outcome::AlreadyGone
            } else {
                Outcome::Deleted
            };
            journal(store, plan, t.seq, "done", Some(outcome), None)?;
            index::mark_deleted(store, account, &t.article_id, t.index)?;
            "done"
        }
        Check::Present => {
            journal(store, plan, t.seq, "planned", None, None)?;
            "planned"
        }
        Check::Mismatch(why) => {
            skip_mismatch(store, plan, &t, why)?;
            "skipped"
        }
    };
    Ok(Settled {
        state: state.to_string(),
        titles: t.items.iter().map(|(title, _)| title.clone()).collect(),
        article_id: t.article_id,
        index: t.index,
    })
}

/// The outcome to show for a target this run did not touch, from its journal state.
fn settled_outcome(t: &Target) -> Outcome {
    match (t.state.as_str(), t.outcome.as_deref()) {
        ("planned", _) => Outcome::NotRun,
        ("waiting", _) => Outcome::WaitingForQuota,
        ("done", Some("alreadyGone")) => Outcome::AlreadyGone,
        ("done", _) => Outcome::Deleted,
        ("skipped", Some("titleMismatch")) => Outcome::TitleMismatch,
        ("skipped", _) => Outcome::NotRun,
        ("unknown" | "sent" | "intent", _) => Outcome::Unknown,
        _ => Outcome::Failed,
    }
}

fn result_of(t: &Target, outcome: Outcome, e: Option<&WxError>) -> TargetResult {
    TargetResult {
        seq: t.seq,
        article_id: t.article_id.clone(),
        index: t.index,
        titles: t.items.iter().map(|(title, _)| title.clone()).collect(),
        outcome,
        errcode: e.and_then(WxError::api).map(|a| a.code),
        message: e.map(|e| e.to_string()),
        rid: e.and_then(WxError::api).and_then(|a| a.rid.clone()),
    }
}

async fn run_one(
    api: &Api,
    store: &Store,
    account: AccountId,
    plan: PlanId,
    t: &Target,
    options: &ExecOptions,
) -> Result<(Outcome, Option<WxError>), CoreError> {
    journal(store, plan, t.seq, "intent", None, None)?;
    match check(api, store, account, plan, t, true).await {
        Ok(Check::Present) => {}
        Ok(Check::Gone) => return settle_gone(store, account, plan, t),
        Ok(Check::Mismatch(why)) => return skip_mismatch(store, plan, t, why),
        Err(e) => return not_sent(store, plan, t, e),
    }
    let id = ArticleId::parse(&t.article_id).map_err(CoreError::Wechat)?;
    let target = crate::plan::delete_target(t.index);
    let mut waited_a_minute = false;
    let mut resent_after_check = false;
    loop {
        journal(store, plan, t.seq, "sent", None, None)?;
        let answer = api.delete(&id, target).await;
        audit_request(store, account, plan, t, &answer)?;
        match answer {
            Ok(()) => {
                journal(store, plan, t.seq, "done", Some(Outcome::Deleted), None)?;
                index::mark_deleted(store, account, &t.article_id, t.index)?;
                return Ok((Outcome::Deleted, None));
            }
            Err(e @ WxError::DeleteOutcomeUnknown { .. }) => {
                journal(
                    store,
                    plan,
                    t.seq,
                    "unknown",
                    Some(Outcome::Unknown),
                    Some(&e),
                )?;
                match check(api, store, account, plan, t, false).await {
                    Ok(Check::Gone) => {
                        journal(store, plan, t.seq, "done", Some(Outcome::Deleted), None)?;
                        index::mark_deleted(store, account, &t.article_id, t.index)?;
                        return Ok((Outcome::Deleted, None));
                    }
                    Ok(Check::Present) if !resent_after_check => {
                        resent_after_check = true;
                        continue;
                    }
                    Ok(Check::Mismatch(why)) => return skip_mismatch(store, plan, t, why),
                    // Still unsettled: it stays `unknown` in the journal for a later check.
                    Ok(Check::Present) | Err(_) => return Ok((Outcome::Unknown, Some(e))),
                }
            }
            Err(e) if e.class() == Some(&ErrorClass::MinuteLimit) && !waited_a_minute => {
                // Not applied: wait out the minute and try once more.
                waited_a_minute = true;
                journal(store, plan, t.seq, "intent", None, Some(&e))?;
                options.waiter.wait(options.minute_wait).await;
            }
            // 53600 on a delete is not proof by itself: getarticle decides.
            Err(e) if e.class() == Some(&ErrorClass::InvalidArticle) => {
                return match check(api, store, account, plan, t, false).await {
                    Ok(Check::Gone) => settle_gone(store, account, plan, t),
                    Ok(Check::Mismatch(why)) => skip_mismatch(store, plan, t, why),
                    Ok(Check::Present) => failed(store, plan, t, e),
                    Err(check_error) => not_sent(store, plan, t, check_error),
                };
            }
            Err(e) if stops_the_run(&e) => return not_sent(store, plan, t, e),
            Err(e) => return failed(store, plan, t, e),
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
        "delete_request",
        &serde_json::json!({
            "plan": plan,
            "seq": t.seq,
            "article_id": t.article_id,
            "index": t.index,
            "titles": t.items.iter().map(|(title, _)| title).collect::<Vec<_>>(),
            "errcode": api.map(|a| a.code).unwrap_or(if answer.is_ok() { 0 } else { -2 }),
            "errmsg": answer.as_ref().err().map(ToString::to_string),
            "rid": api.and_then(|a| a.rid.clone()),
        }),
    )
}

/// The article at the target's position is not the one reviewed: nothing is sent for it.
fn skip_mismatch(
    store: &Store,
    plan: PlanId,
    t: &Target,
    why: String,
) -> Result<(Outcome, Option<WxError>), CoreError> {
    let e = WxError::InvalidInput(why);
    journal(
        store,
        plan,
        t.seq,
        "skipped",
        Some(Outcome::TitleMismatch),
        Some(&e),
    )?;
    Ok((Outcome::TitleMismatch, Some(e)))
}

fn settle_gone(
    store: &Store,
    account: AccountId,
    plan: PlanId,
    t: &Target,
) -> Result<(Outcome, Option<WxError>), CoreError> {
    journal(store, plan, t.seq, "done", Some(Outcome::AlreadyGone), None)?;
    index::mark_deleted(store, account, &t.article_id, t.index)?;
    Ok((Outcome::AlreadyGone, None))
}

/// Nothing was applied (the pre-check failed, or WeChat refused the whole account for now):
/// the target stays `planned` so a later run sends it; a daily-quota refusal waits instead.
fn not_sent(
    store: &Store,
    plan: PlanId,
    t: &Target,
    e: WxError,
) -> Result<(Outcome, Option<WxError>), CoreError> {
    if e.class() == Some(&ErrorClass::DailyQuota) {
        journal(
            store,
            plan,
            t.seq,
            "waiting",
            Some(Outcome::WaitingForQuota),
            Some(&e),
        )?;
        return Ok((Outcome::WaitingForQuota, Some(e)));
    }
    journal(
        store,
        plan,
        t.seq,
        "planned",
        Some(Outcome::NotRun),
        Some(&e),
    )?;
    Ok((Outcome::NotRun, Some(e)))
}

/// WeChat refused this delete for a reason of its own (answered, so not applied).
fn failed(
    store: &Store,
    plan: PlanId,
    t: &Target,
    e: WxError,
) -> Result<(Outcome, Option<WxError>), CoreError> {
    journal(
        store,
        plan,
        t.seq,
        "failed",
        Some(Outcome::Failed),
        Some(&e),
    )?;
    Ok((Outcome::Failed, Some(e)))
}
