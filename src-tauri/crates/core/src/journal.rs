//! The deletion journal: one row per delete request of a confirmed plan, and its history.
//!
//! Invariants:
//! - a state change is compare-and-set: it names the state it expects, and exactly one row
//!   must change, or nothing is written and the caller stops ([`CoreError::Conflict`]). A
//!   target cancelled, or run by another window or process, can therefore never be sent by a
//!   runner that loaded it earlier;
//! - each change and its history row are committed together (WAL, `synchronous=FULL`);
//! - states and outcomes are typed here and stored as text; nothing else spells them.

use rusqlite::params;
use serde::{Deserialize, Serialize};
use wechat_mp::Error as WxError;

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::identity::Reviewed;
use crate::ids::PlanId;
use crate::store::Store;

/// Where one delete request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum JournalState {
    /// Confirmed, not yet started.
    Planned,
    /// Started: the re-check runs; nothing was sent.
    Intent,
    /// The delete request may be on its way.
    Sent,
    Done,
    Failed,
    /// Sent, and the answer did not say what happened: settled later with `getarticle`.
    Unknown,
    Skipped,
    /// Today's quota is used up; runs on a later quota day.
    Waiting,
    /// Waits for the operator's word: WeChat's answers could not settle it (a request that may
    /// have been applied still looks live after two checks far apart, or an answer proves
    /// nothing). Nothing sends it or asks WeChat about it again until the operator decides
    /// ([`crate::decide`]); other requests of the same message wait with it.
    Held,
}

impl JournalState {
    pub fn as_sql(self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Intent => "intent",
            Self::Sent => "sent",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::Unknown => "unknown",
            Self::Skipped => "skipped",
            Self::Waiting => "waiting",
            Self::Held => "held",
        }
    }

    pub fn from_sql(text: &str) -> Option<Self> {
        [
            Self::Planned,
            Self::Intent,
            Self::Sent,
            Self::Done,
            Self::Failed,
            Self::Unknown,
            Self::Skipped,
            Self::Waiting,
            Self::Held,
        ]
        .into_iter()
        .find(|s| s.as_sql() == text)
    }
}

/// Where one target ended up, for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Outcome {
    /// Deleted by this plan.
    Deleted,
    /// Already gone before we sent anything (deleted elsewhere), proven by WeChat.
    AlreadyGone,
    /// The article at that position is not the one the user reviewed: nothing sent.
    TitleMismatch,
    /// Today's delete quota is used up: waits for tomorrow.
    WaitingForQuota,
    /// The answer never came and the check could not settle it yet.
    Unknown,
    /// WeChat's answers could not prove what is live: nothing was sent, the run stopped.
    Unproven,
    /// Cancelled by the operator before it was sent.
    Cancelled,
    Failed,
    /// Not reached because the run stopped.
    NotRun,
    /// Waits for the operator's word (state `held`): WeChat's answers could not settle it.
    Held,
    /// Deleted, on the operator's word ("I checked in the MP console: it is gone"), not
    /// WeChat's.
    OperatorSaysGone,
    /// The operator gave up on it: nothing more is sent or checked for it.
    GivenUp,
    /// Not sent: the journal shows this position, or its whole message, already deleted by
    /// another request of Retract's.
    DeletedEarlier,
    /// Not sent yet: another request for the same message must be settled first; the queue
    /// checks again by itself.
    WaitingForCheck,
}

impl Outcome {
    pub fn as_sql(self) -> &'static str {
        match self {
            Self::Deleted => "deleted",
            Self::AlreadyGone => "alreadyGone",
            Self::TitleMismatch => "titleMismatch",
            Self::WaitingForQuota => "waitingForQuota",
            Self::Unknown => "unknown",
            Self::Unproven => "unproven",
            Self::Cancelled => "cancelled",
            Self::Failed => "failed",
            Self::NotRun => "notRun",
            Self::Held => "held",
            Self::OperatorSaysGone => "operatorSaysGone",
            Self::GivenUp => "givenUp",
            Self::DeletedEarlier => "deletedEarlier",
            Self::WaitingForCheck => "waitingForCheck",
        }
    }

    fn from_sql(text: &str) -> Option<Self> {
        [
            Self::Deleted,
            Self::AlreadyGone,
            Self::TitleMismatch,
            Self::WaitingForQuota,
            Self::Unknown,
            Self::Unproven,
            Self::Cancelled,
            Self::Failed,
            Self::NotRun,
            Self::Held,
            Self::OperatorSaysGone,
            Self::GivenUp,
            Self::DeletedEarlier,
            Self::WaitingForCheck,
        ]
        .into_iter()
        .find(|o| o.as_sql() == text)
    }
}

/// One journal row, as loaded.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub seq: u32,
    pub article_id: String,
    pub index: Option<u32>,
    /// Each item the user reviewed: title, position and link.
    pub items: Vec<Reviewed>,
    pub state: JournalState,
    pub outcome: Option<Outcome>,
    pub updated_at: i64,
    /// When a check after a possibly-applied delete first found it still live (the second
    /// check, far enough later, decides).
    pub seen_live_at: Option<i64>,
}

impl Target {
    pub fn titles(&self) -> Vec<String> {
        self.items.iter().map(|r| r.title.clone()).collect()
    }
}

fn bad_text(column: usize, what: &str, text: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        column,
        rusqlite::types::Type::Text,
        format!("unknown {what} {text:?} in the journal").into(),
    )
}

/// A request Retract finished with `done` for one message: what it reviewed.
pub(crate) struct DoneRequest {
    pub plan: PlanId,
    pub seq: u32,
    /// 0: the whole message.
    pub idx: u32,
    /// The reviewed items; `None` when the snapshot cannot be read (callers refuse to guess).
    pub reviewed: Option<Vec<Reviewed>>,
}

/// Every `done` request of `account` for `article_id`, oldest plan first. On any connection
/// (a sync reads it inside its page's transaction).
pub(crate) fn done_requests(
    conn: &rusqlite::Connection,
    account: AccountId,
    article_id: &str,
) -> rusqlite::Result<Vec<DoneRequest>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.plan_id, t.seq, t.idx, t.titles FROM plan_targets t JOIN plans p ON p.id = t.plan_id
         WHERE p.account_id = ?1 AND t.article_id = ?2 AND t.state = 'done'
         ORDER BY t.plan_id, t.seq",
    )?;
    let rows = stmt.query_map(params![account, article_id], |r| {
        let titles: String = r.get(3)?;
        Ok(DoneRequest {
            plan: r.get(0)?,
            seq: r.get(1)?,
            idx: r.get(2)?,
            reviewed: serde_json::from_str(&titles).ok(),
        })
    })?;
    rows.collect()
}

/// The plan's account and every target, in order.
pub(crate) fn load(store: &Store, plan: PlanId) -> Result<(AccountId, Vec<Target>), CoreError> {
    let conn = store.conn();
    let account: AccountId = conn
        .query_row("SELECT account_id FROM plans WHERE id = ?1", [plan], |r| {
            r.get(0)
        })
        .map_err(store.err("cannot read the plan"))?;
    let mut stmt = conn
        .prepare("SELECT seq, article_id, idx, titles, state, outcome, updated_at, seen_live_at FROM plan_targets WHERE plan_id = ?1 ORDER BY seq")
        .map_err(store.err("cannot read the plan"))?;
    let rows = stmt
        .query_map([plan], |r| {
            let idx: u32 = r.get(2)?;
            let titles: String = r.get(3)?;
            let state: String = r.get(4)?;
            let outcome: Option<String> = r.get(5)?;
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
                state: JournalState::from_sql(&state)
                    .ok_or_else(|| bad_text(4, "state", &state))?,
                outcome: match outcome {
                    Some(text) => Some(
                        Outcome::from_sql(&text).ok_or_else(|| bad_text(5, "outcome", &text))?,
                    ),
                    None => None,
                },
                updated_at: r.get(6)?,
                seen_live_at: r.get(7)?,
            })
        })
        .map_err(store.err("cannot read the plan"))?;
    let targets = rows
        .collect::<Result<_, _>>()
        .map_err(store.err("cannot read the plan"))?;
    Ok((account, targets))
}

/// One target, read again from the database (not from an earlier load).
pub(crate) fn reload(store: &Store, plan: PlanId, seq: u32) -> Result<Target, CoreError> {
    load(store, plan)?
        .1
        .into_iter()
        .find(|t| t.seq == seq)
        .ok_or_else(|| CoreError::NotFound(format!("target {seq} of plan {plan}")))
}

/// A state change, written only if the target is still in one of the states `from`.
pub(crate) struct CompareAndSet<'a> {
    pub plan: PlanId,
    pub seq: u32,
    pub from: &'a [JournalState],
    pub to: JournalState,
    pub outcome: Option<Outcome>,
    pub error: Option<&'a str>,
    pub errcode: Option<i64>,
    pub rid: Option<String>,
    /// Unix seconds on the runner's clock.
    pub at: i64,
}

impl<'a> CompareAndSet<'a> {
    pub fn new(
        plan: PlanId,
        seq: u32,
        from: &'a [JournalState],
        to: JournalState,
        at: i64,
    ) -> Self {
        Self {
            plan,
            seq,
            from,
            to,
            outcome: None,
            error: None,
            errcode: None,
            rid: None,
            at,
        }
    }

    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = Some(outcome);
        self
    }

    pub fn wechat_error(mut self, e: &WxError, text: &'a str) -> Self {
        self.error = Some(text);
        if let Some(api) = e.api() {
            self.errcode = Some(api.code);
            self.rid = api.rid.clone();
        }
        self
    }

    pub fn note(mut self, text: &'a str) -> Self {
        self.error = Some(text);
        self
    }

    /// Commits the change and its history row, or changes nothing and says why.
    pub fn commit(self, store: &Store) -> Result<(), CoreError> {
        let mut conn = store.conn();
        let tx = conn
            .transaction()
            .map_err(store.err("cannot write the journal"))?;
        let from: Vec<&str> = self.from.iter().map(|s| s.as_sql()).collect();
        let placeholders = (0..from.len())
            .map(|i| format!("?{}", i + 9))
            .collect::<Vec<_>>()
            .join(", ");
        let mut args: Vec<rusqlite::types::Value> = vec![
            self.plan.into(),
            self.seq.into(),
            self.to.as_sql().to_string().into(),
            self.outcome.map(|o| o.as_sql().to_string()).into(),
            self.errcode.into(),
            self.error.map(String::from).into(),
            self.rid.clone().into(),
            self.at.into(),
        ];
        args.extend(
            from.iter()
                .map(|s| rusqlite::types::Value::from(s.to_string())),
        );
        let changed = tx
            .execute(
                &format!(
                    "UPDATE plan_targets SET state = ?3, outcome = ?4, errcode = ?5, errmsg = ?6, rid = ?7, updated_at = ?8,
                         seen_live_at = CASE WHEN ?3 IN ('sent', 'unknown', 'held') THEN seen_live_at END
                     WHERE plan_id = ?1 AND seq = ?2 AND state IN ({placeholders})"
                ),
                rusqlite::params_from_iter(args),
            )
            .map_err(store.err("cannot write the journal"))?;
        if changed != 1 {
            let now: Option<String> = tx
                .query_row(
                    "SELECT state FROM plan_targets WHERE plan_id = ?1 AND seq = ?2",
                    params![self.plan, self.seq],
                    |r| r.get(0),
                )
                .ok();
            return Err(CoreError::Conflict(format!(
                "request {} of plan {} is {} now, not {}: it was cancelled or handled elsewhere; nothing more was sent",
                self.seq,
                self.plan,
                now.as_deref().unwrap_or("gone"),
                from.join(" or ")
            )));
        }
        tracing::info!(
            plan = self.plan.0,
            seq = self.seq,
            from = %from.join("|"),
            to = self.to.as_sql(),
            outcome = self.outcome.map(Outcome::as_sql),
            errcode = self.errcode,
            rid = self.rid.as_deref(),
            "journal transition"
        );
        tx.execute(
            "INSERT INTO journal_events (plan_id, seq, state, at, note) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                self.plan,
                self.seq,
                self.to.as_sql(),
                self.at,
                self.outcome.map(Outcome::as_sql)
            ],
        )
        .map_err(store.err("cannot write the journal"))?;
        tx.commit().map_err(store.err("cannot write the journal"))
    }
}

/// A confirmed plan with no request left to send, settle or decide is finished.
pub(crate) fn finish_if_settled(store: &Store, plan: PlanId) -> Result<(), CoreError> {
    store
        .conn()
        .execute(
            "UPDATE plans SET status = 'finished', seal = NULL WHERE id = ?1 AND status = 'confirmed'
               AND NOT EXISTS (SELECT 1 FROM plan_targets WHERE plan_id = ?1
                               AND state IN ('planned', 'waiting', 'intent', 'sent', 'unknown', 'held'))",
            [plan],
        )
        .map(|_| ())
        .map_err(store.err("cannot finish the plan"))
}

/// How many times this request was put back to wait for a check of its message
/// (`waitingForCheck` in its history).
pub(crate) fn times_waited(store: &Store, plan: PlanId, seq: u32) -> Result<u32, CoreError> {
    store
        .conn()
        .query_row(
            "SELECT count(*) FROM journal_events WHERE plan_id = ?1 AND seq = ?2 AND note = 'waitingForCheck'",
            params![plan, seq],
            |r| r.get(0),
        )
        .map_err(store.err("cannot read the journal"))
}

/// Records the first check that found a possibly-applied delete still live (`sent` or
/// `unknown`, state unchanged): the queue asks once more no sooner than
/// [`crate::settle::second_check_after`] later, and never sends it by itself.
pub(crate) fn mark_seen_live(
    store: &Store,
    plan: PlanId,
    seq: u32,
    at: i64,
) -> Result<(), CoreError> {
    let changed = store
        .conn()
        .execute(
            "UPDATE plan_targets SET seen_live_at = ?3
             WHERE plan_id = ?1 AND seq = ?2 AND state IN ('sent', 'unknown') AND seen_live_at IS NULL",
            params![plan, seq, at],
        )
        .map_err(store.err("cannot write the journal"))?;
    if changed != 1 {
        return Err(CoreError::Conflict(format!(
            "request {seq} of plan {plan} changed while it was being checked; nothing was sent"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_outcomes_round_trip_through_their_sql_text() {
        for s in [
            JournalState::Planned,
            JournalState::Intent,
            JournalState::Sent,
            JournalState::Done,
            JournalState::Failed,
            JournalState::Unknown,
            JournalState::Skipped,
            JournalState::Waiting,
            JournalState::Held,
        ] {
            assert_eq!(JournalState::from_sql(s.as_sql()), Some(s));
            // The UI reads the same words.
            assert_eq!(serde_json::to_value(s).unwrap_or_default(), s.as_sql());
        }
        assert_eq!(JournalState::from_sql("deleted"), None);
        for o in [
            Outcome::Deleted,
            Outcome::AlreadyGone,
            Outcome::Unproven,
            Outcome::NotRun,
            Outcome::Held,
            Outcome::OperatorSaysGone,
            Outcome::GivenUp,
            Outcome::DeletedEarlier,
            Outcome::WaitingForCheck,
        ] {
            assert_eq!(Outcome::from_sql(o.as_sql()), Some(o));
            assert_eq!(serde_json::to_value(o).unwrap_or_default(), o.as_sql());
        }
    }
}
