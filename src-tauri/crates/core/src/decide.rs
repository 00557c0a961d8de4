//! The operator's word on a request that WeChat's answers could not settle: a possibly-applied
//! delete that still looked live on two checks far apart, or one whose checks prove nothing.
//! Such a request is `held` (see [`crate::settle`]); nothing sends it or asks WeChat about it
//! again until the operator says one of:
//! - "I checked in the MP console: it is gone" → `done`, outcome `operatorSaysGone`;
//! - "it is live: send again" → `planned` (sent by the next run, after a fresh re-check);
//! - "give up on it" → `skipped`, outcome `givenUp`.
//!
//! Invariant: every statement is audited as the operator's, with what WeChat last said, and is
//! shown as the operator's word, never as WeChat's. It holds the account's run lock, so no run
//! is under way while it is written.

use rusqlite::params;
use serde::{Deserialize, Serialize};

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::execute::Outcome;
use crate::index;
use crate::journal::{self, CompareAndSet, JournalState};
use crate::plan::PlanId;
use crate::runlock::RunLock;
use crate::store::Store;

use JournalState::{Done, Held, Planned, Sent, Skipped, Unknown};

/// What the operator says about one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Decision {
    /// "I checked in the MP console: it is gone."
    Gone,
    /// "It is live: send the delete again."
    SendAgain,
    /// "Give up on it: send nothing more."
    GiveUp,
}

/// A request waiting for the operator's word, with what WeChat (or the check) last said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AwaitingDecision {
    pub plan_id: PlanId,
    pub seq: u32,
    pub article_id: String,
    /// `None`: the whole message.
    pub index: Option<u32>,
    pub titles: Vec<String>,
    /// Why it waits: the last check's finding, as recorded in the journal.
    pub why: String,
    /// When it was put on hold (Unix seconds).
    pub since: i64,
    /// Whether a delete request for it may have gone out (it was sent, or its answer was
    /// lost): "send again" then risks a second delete if the first one was applied.
    pub may_have_been_sent: bool,
}

/// The account's held requests, oldest first.
pub fn awaiting(store: &Store, account: AccountId) -> Result<Vec<AwaitingDecision>, CoreError> {
    let rows: Vec<(PlanId, u32, Option<String>, i64, i64)> = {
        let conn = store.conn();
        let mut stmt = conn
            .prepare(
                "SELECT t.plan_id, t.seq, t.errmsg, t.updated_at,
                        EXISTS (SELECT 1 FROM journal_events e WHERE e.plan_id = t.plan_id AND e.seq = t.seq AND e.state = 'sent')
                 FROM plan_targets t JOIN plans p ON p.id = t.plan_id
                 WHERE p.account_id = ?1 AND p.status = 'confirmed' AND t.state = 'held'
                 ORDER BY t.updated_at, t.plan_id, t.seq",
            )
            .map_err(store.err("cannot read the journal"))?;
        stmt.query_map([account], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .map_err(store.err("cannot read the journal"))?
        .collect::<Result<_, _>>()
        .map_err(store.err("cannot read the journal"))?
    };
    rows.into_iter()
        .map(|(plan, seq, why, since, sent)| {
            let t = journal::reload(store, plan, seq)?;
            Ok(AwaitingDecision {
                plan_id: plan,
                seq,
                article_id: t.article_id.clone(),
                index: t.index,
                titles: t.titles(),
                why: why.unwrap_or_default(),
                since,
                may_have_been_sent: sent != 0,
            })
        })
        .collect()
}

/// Records the operator's word on one held (or still unknown) request. Returns its account.
pub fn decide(
    store: &Store,
    plan: PlanId,
    seq: u32,
    decision: Decision,
    now: i64,
) -> Result<AccountId, CoreError> {
    let (account, _) = journal::load(store, plan)?;
    let _lock = RunLock::try_acquire(store, account)?;
    let t = journal::reload(store, plan, seq)?;
    if !matches!(t.state, Held | Unknown | Sent) {
        return Err(CoreError::Conflict(format!(
            "request {seq} of plan {plan} is {} now and needs no decision; nothing was changed",
            t.state.as_sql()
        )));
    }
    let from = [t.state];
    let why = match decision {
        Decision::Gone => "the operator checked in the MP console: it is gone",
        Decision::SendAgain => "the operator says it is live: send the delete again",
        Decision::GiveUp => "the operator gave up on it: nothing more is sent",
    };
    let last_said = load_errmsg(store, plan, seq)?;
    match decision {
        Decision::Gone => {
            CompareAndSet::new(plan, seq, &from, Done, now)
                .outcome(Outcome::OperatorSaysGone)
                .note(why)
                .commit(store)?;
            index::mark_deleted(store, account, &t.article_id, t.index, now)?;
        }
        Decision::SendAgain => {
            CompareAndSet::new(plan, seq, &from, Planned, now)
                .note(why)
                .commit(store)?;
        }
        Decision::GiveUp => {
            CompareAndSet::new(plan, seq, &from, Skipped, now)
                .outcome(Outcome::GivenUp)
                .note(why)
                .commit(store)?;
        }
    }
    store.audit(
        Some(account),
        crate::audit::AuditAction::OperatorDecided,
        &serde_json::json!({
            "plan": plan, "seq": seq, "article_id": t.article_id, "index": t.index,
            "titles": t.titles(), "decision": decision, "was": t.state, "last_said": last_said,
        }),
    )?;
    journal::finish_if_settled(store, plan)?;
    Ok(account)
}

fn load_errmsg(store: &Store, plan: PlanId, seq: u32) -> Result<Option<String>, CoreError> {
    store
        .conn()
        .query_row(
            "SELECT errmsg FROM plan_targets WHERE plan_id = ?1 AND seq = ?2",
            params![plan, seq],
            |r| r.get(0),
        )
        .map_err(store.err("cannot read the journal"))
}
