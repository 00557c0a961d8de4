//! Deletion plans: the user's selection turned into an exact, reviewable list of delete
//! requests, with the snapshot the user saw, the quota it needs and a single-use nonce.
//! Nothing is sent here.
//!
//! Invariants:
//! - a target is `Item(n ≥ 1)` or `WholeMessage`; a whole message absorbs item selections of
//!   the same message;
//! - items of one message are ordered from the highest index down;
//! - a plan is confirmed at most once, only with its nonce and its phrase.
//!
//! The confirmation (step two) is in `confirm.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;

use rusqlite::params;
use serde::{Deserialize, Serialize};
use wechat_mp::{Api, DELETE_CGI_PATH, DeleteTarget};

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::identity::{self, Reviewed};
use crate::index::{self, ArticleRow};
use crate::store::Store;

pub use crate::ids::PlanId;

mod confirm;

pub use confirm::{
    PLAN_TTL_SECS, SCHEDULE_MAX_AHEAD_SECS, account_of, confirm, confirm_scheduled,
    normalize_phrase, same_account_name,
};

/// What the user ticked in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Selection {
    Item { article_id: String, index: u32 },
    WholeMessage { article_id: String },
}

/// One delete request of a plan, with what the user saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PlanTarget {
    pub seq: u32,
    pub article_id: String,
    /// `None`: the whole message.
    pub index: Option<u32>,
    /// The items this request removes: one, or every live item of the message.
    pub items: Vec<ArticleRow>,
    pub publish_time: i64,
}

/// What a stored target deletes: its position (1-based), or with none (stored as 0) the whole
/// message. The one place the journal's `idx` becomes a typed delete target.
pub fn delete_target(index: Option<u32>) -> DeleteTarget {
    match index.and_then(NonZeroU32::new) {
        Some(n) => DeleteTarget::Item(n),
        None => DeleteTarget::WholeMessage,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Plan {
    pub id: PlanId,
    pub account_id: AccountId,
    pub nonce: String,
    /// What the user types in step two: the number of articles, easy with any input method.
    pub phrase: String,
    pub targets: Vec<PlanTarget>,
    /// Articles removed in all (a whole message counts its live items).
    pub articles: u32,
    /// Delete requests (each costs one of the daily quota).
    pub requests: u32,
    pub quota_remain: Option<u32>,
    pub quota_limit: Option<u32>,
    /// Quota days the plan needs (today counts as the first), when the quota could be read.
    pub days_needed: Option<u32>,
    /// Messages this plan deletes item by item down to the last live item: each could go as
    /// one whole-message request instead. Offered in the review, never done silently.
    pub mergeable: Vec<Mergeable>,
}

/// A message whose every live item the plan deletes one request at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Mergeable {
    pub article_id: String,
    /// The requests the plan spends on it now (one per item); merged, it spends one.
    pub requests: u32,
}

/// The messages of `targets` whose item requests cover every live item (two or more).
fn mergeable(targets: &[PlanTarget], live_counts: &BTreeMap<String, usize>) -> Vec<Mergeable> {
    let mut per_message: BTreeMap<&str, u32> = BTreeMap::new();
    for t in targets.iter().filter(|t| t.index.is_some()) {
        *per_message.entry(&t.article_id).or_default() += 1;
    }
    let mut out: Vec<Mergeable> = per_message
        .into_iter()
        .filter(|(id, n)| *n >= 2 && live_counts.get(*id) == Some(&(*n as usize)))
        .map(|(id, n)| Mergeable {
            article_id: id.to_string(),
            requests: n,
        })
        .collect();
    // In the plan's order (newest first).
    out.sort_by_key(|m| targets.iter().position(|t| t.article_id == m.article_id));
    out
}

/// Today's remaining quota first, then whole days of `limit`.
pub fn days_needed(requests: u32, remain: u32, limit: u32) -> Option<u32> {
    if requests <= remain {
        return Some(1);
    }
    let rest = requests - remain;
    (limit > 0).then(|| 1 + rest.div_ceil(limit))
}

/// Every delete request first spends one `getarticle` (the re-check), which has its own daily
/// quota: the plan needs as many days as the scarcer of the two allows. `None` when neither
/// quota could be read.
pub fn days_needed_with_reads(
    requests: u32,
    deletes: Option<(u32, u32)>,
    reads: Option<(u32, u32)>,
) -> Option<u32> {
    let of =
        |q: Option<(u32, u32)>| q.and_then(|(remain, limit)| days_needed(requests, remain, limit));
    match (of(deletes), of(reads)) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b).filter(|_| deletes.is_some()),
    }
}

pub const GETARTICLE_CGI_PATH: &str = "/cgi-bin/freepublish/getarticle";

/// 128 random bits as hex: plan nonces and confirmation tickets.
pub fn random_nonce() -> Result<String, CoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| CoreError::Store(format!("no randomness for a confirmation nonce: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Builds and stores a plan from a selection. Reads the delete quota; sends no delete.
pub async fn create(
    api: &Api,
    store: &Store,
    account: AccountId,
    selection: &[Selection],
) -> Result<Plan, CoreError> {
    if selection.is_empty() {
        return Err(CoreError::Invalid("nothing is selected".into()));
    }
    // article_id -> None (whole) or the set of item indices.
    let mut chosen: BTreeMap<String, Option<BTreeSet<u32>>> = BTreeMap::new();
    for s in selection {
        match s {
            Selection::WholeMessage { article_id } => {
                chosen.insert(article_id.clone(), None);
            }
            Selection::Item { article_id, index } => {
                if *index == 0 {
                    return Err(CoreError::Invalid("an item position starts at 1".into()));
                }
                if let Some(set) = chosen
                    .entry(article_id.clone())
                    .or_insert_with(|| Some(BTreeSet::new()))
                {
                    set.insert(*index);
                }
            }
        }
    }
    let mut targets = Vec::new();
    let mut live_counts: BTreeMap<String, usize> = BTreeMap::new();
    for (article_id, which) in &chosen {
        if let Some(clash) = live_clash(&store.conn(), account, article_id, which.as_ref(), None)
            .map_err(store.err("cannot read the journal"))?
        {
            return Err(CoreError::Invalid(clash));
        }
        let items = index::message_items(store, account, article_id)?;
        if items.is_empty() {
            return Err(CoreError::Invalid(format!(
                "article {article_id} is not in the local index; sync first"
            )));
        }
        refuse_done(store, account, article_id, which.as_ref(), &items)?;
        let live: Vec<ArticleRow> = items.iter().filter(|i| !i.is_deleted).cloned().collect();
        live_counts.insert(article_id.clone(), live.len());
        let publish_time = items[0].publish_time;
        match which {
            None => {
                if live.is_empty() {
                    return Err(CoreError::Invalid(format!(
                        "every article of message {article_id} is already deleted"
                    )));
                }
                targets.push(PlanTarget {
                    seq: 0,
                    article_id: article_id.clone(),
                    index: None,
                    items: live,
                    publish_time,
                });
            }
            Some(indices) => {
                for i in indices.iter().rev() {
                    let Some(row) = items.iter().find(|r| r.index == *i) else {
                        return Err(CoreError::Invalid(format!(
                            "message {article_id} has no article at position {i}"
                        )));
                    };
                    if row.is_deleted {
                        return Err(CoreError::Invalid(format!(
                            "\"{}\" is already deleted",
                            row.title
                        )));
                    }
                    refuse_twins(row, &items)?;
                    targets.push(PlanTarget {
                        seq: 0,
                        article_id: article_id.clone(),
                        index: Some(*i),
                        items: vec![row.clone()],
                        publish_time,
                    });
                }
            }
        }
    }
    // Newest message first, as the list shows them; inside a message the order above holds.
    targets.sort_by(|a, b| {
        b.publish_time
            .cmp(&a.publish_time)
            .then(a.article_id.cmp(&b.article_id))
    });
    for (seq, t) in targets.iter_mut().enumerate() {
        t.seq = seq as u32 + 1;
    }
    let articles: u32 = targets.iter().map(|t| t.items.len() as u32).sum();
    let requests = targets.len() as u32;
    let quota = api.quota(DELETE_CGI_PATH).await.ok();
    let reads = api.quota(GETARTICLE_CGI_PATH).await.ok();
    let nonce = random_nonce()?;
    let phrase = articles.to_string();
    let id = {
        let mut conn = store.conn();
        let tx = conn
            .transaction()
            .map_err(store.err("cannot save the plan"))?;
        tx.execute(
            "INSERT INTO plans (account_id, nonce, phrase, status, created_at) VALUES (?1, ?2, ?3, 'planned', ?4)",
            params![account, nonce, phrase, crate::now_unix()],
        )
        .map_err(store.err("cannot save the plan"))?;
        let id = PlanId(tx.last_insert_rowid());
        for t in &targets {
            let titles = serde_json::to_string(
                &t.items
                    .iter()
                    .map(|i| Reviewed::new(&i.title, i.index, &i.url))
                    .collect::<Vec<_>>(),
            )
            .map_err(|e| CoreError::Store(format!("cannot encode the plan: {e}")))?;
            tx.execute(
                "INSERT INTO plan_targets (plan_id, seq, article_id, idx, titles, publish_time, state, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'planned', ?7)",
                params![id, t.seq, t.article_id, t.index.unwrap_or(0), titles, t.publish_time, crate::now_unix()],
            )
            .map_err(store.err("cannot save the plan"))?;
        }
        tx.commit().map_err(store.err("cannot save the plan"))?;
        id
    };
    store.audit(
        Some(account),
        crate::audit::AuditAction::PlanCreated,
        &serde_json::json!({"plan": id, "requests": targets.len(), "articles": articles}),
    )?;
    Ok(Plan {
        id,
        account_id: account,
        nonce,
        phrase,
        requests: targets.len() as u32,
        articles,
        quota_remain: quota.as_ref().map(|q| q.quota.remain),
        quota_limit: quota.as_ref().map(|q| q.quota.daily_limit),
        days_needed: days_needed_with_reads(
            requests,
            quota
                .as_ref()
                .map(|q| (q.quota.remain, q.quota.daily_limit)),
            reads
                .as_ref()
                .map(|q| (q.quota.remain, q.quota.daily_limit)),
        ),
        mergeable: mergeable(&targets, &live_counts),
        targets,
    })
}

/// A target Retract already deleted (its journal says `done`) is never planned again, even if
/// a listing still shows it live: WeChat may show a delete late, and a second delete of the
/// same item is exactly what the journal exists to prevent. "The same item" is known by its
/// link, else by its position and normalised title ([`identity::is_reviewed_item`]); a whole
/// message Retract deleted refuses everything of it.
fn refuse_done(
    store: &Store,
    account: AccountId,
    article_id: &str,
    which: Option<&BTreeSet<u32>>,
    items: &[ArticleRow],
) -> Result<(), CoreError> {
    let done = crate::journal::done_requests(&store.conn(), account, article_id)
        .map_err(store.err("cannot read the journal"))?;
    let refuse = || {
        Err(CoreError::Invalid(format!(
            "Retract already deleted this from message {article_id} (see the activity log); WeChat may show a delete late, so it is not planned again"
        )))
    };
    if done.iter().any(|d| d.idx == 0) {
        return refuse();
    }
    let Some(which) = which else {
        return Ok(());
    };
    for d in &done {
        // A damaged snapshot cannot say what it deleted: refuse rather than guess.
        let Some(reviewed) = &d.reviewed else {
            return refuse();
        };
        let hit = items
            .iter()
            .filter(|row| which.contains(&row.index))
            .any(|row| {
                reviewed
                    .iter()
                    .any(|r| identity::is_reviewed_item(r, row.index, &row.title, &row.url))
            });
        if hit {
            return refuse();
        }
    }
    Ok(())
}

/// An item with no link, in a message where another item has the same title: if positions
/// move (WeChat may compact them), nothing could tell the reviewed one from its twin, so
/// such an item is not planned alone.
fn refuse_twins(row: &ArticleRow, items: &[ArticleRow]) -> Result<(), CoreError> {
    if identity::Key::of(&row.url).is_some() {
        return Ok(());
    }
    let twins = items
        .iter()
        .filter(|i| identity::same_title(&i.title, &row.title))
        .count();
    if twins > 1 {
        return Err(CoreError::Invalid(format!(
            "message {} holds {twins} articles titled \"{}\" and WeChat gave no links to tell them apart; if positions move, Retract could not be sure which one it deletes. Delete the whole message, or this article in the MP console",
            row.article_id, row.title
        )));
    }
    Ok(())
}

/// The first request of another confirmed plan that is still under way (planned, waiting,
/// intent, sent, unknown, held) for the same position of `article_id`, for any of its
/// positions when `which` is the whole message, or for the whole message: one live request
/// per article position, or the second could delete an article nobody reviewed (positions
/// may compact). Described for the operator.
pub(super) fn live_clash(
    conn: &rusqlite::Connection,
    account: AccountId,
    article_id: &str,
    which: Option<&BTreeSet<u32>>,
    besides: Option<PlanId>,
) -> Result<Option<String>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.plan_id, t.idx, t.titles, t.state, p.not_before FROM plan_targets t JOIN plans p ON p.id = t.plan_id
         WHERE p.account_id = ?1 AND p.status = 'confirmed' AND t.article_id = ?2 AND p.id IS NOT ?3
           AND t.state IN ('planned', 'waiting', 'intent', 'sent', 'unknown', 'held')
         ORDER BY t.plan_id, t.seq",
    )?;
    let rows = stmt
        .query_map(params![account, article_id, besides], |r| {
            Ok((
                r.get::<_, PlanId>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows
        .into_iter()
        .find(|(_, idx, ..)| match which {
            None => true,
            Some(set) => *idx == 0 || set.contains(idx),
        })
        .map(|(plan, idx, titles, state, not_before)| {
            let title = serde_json::from_str::<Vec<Reviewed>>(&titles)
                .ok()
                .and_then(|t| t.into_iter().next())
                .map(|r| r.title)
                .unwrap_or_default();
            let what = if idx == 0 {
                "its whole message".to_string()
            } else {
                format!("\"{title}\"")
            };
            let when = match (state.as_str(), not_before) {
                (_, Some(_)) => "scheduled",
                ("waiting", _) => "waiting for quota",
                ("held", _) => "waiting for your decision",
                ("sent" | "unknown" | "intent", _) => "being checked with WeChat",
                _ => "waiting to run",
            };
            format!(
                "plan {plan} already deletes {what} from message {article_id} ({when}); one request per article at a time. Cancel that plan first, or leave this article out"
            )
        }))
}

/// Cancels a plan that was not confirmed. Nothing was sent, nothing will be.
pub fn cancel(store: &Store, plan: PlanId) -> Result<(), CoreError> {
    let changed = store
        .conn()
        .execute(
            "UPDATE plans SET status = 'cancelled' WHERE id = ?1 AND status = 'planned'",
            [plan],
        )
        .map_err(store.err("cannot cancel the plan"))?;
    if changed == 1 {
        store
            .conn()
            .execute("UPDATE plan_targets SET state = 'skipped', outcome = 'cancelled' WHERE plan_id = ?1", [plan])
            .map_err(store.err("cannot cancel the plan"))?;
        store.audit(
            None,
            crate::audit::AuditAction::PlanCancelled,
            &serde_json::json!({"plan": plan}),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
