//! Settling what a run left open, and the rules that keep one message's requests apart.
//!
//! - A target in `intent` was never sent (`sent` is committed before sending): back to
//!   `planned`.
//! - A target in `sent` or `unknown` may have been applied. It is asked about with
//!   `getarticle` no sooner than `settle_after` after it was sent. Proven gone → `done`. Still
//!   live → asked **once more**, no sooner than [`second_check_gap`] after that first look
//!   (WeChat may show a delete minutes late); gone then → `done`, still live → `held`. Any
//!   answer that proves nothing (a changed or moved position, an empty answer) → `held`.
//!   A possibly-applied delete is therefore never put back to `planned` by a check: only the
//!   operator's "send again" does that ([`crate::decide`]). At most two reads per target.
//! - Before a request is sent, the journal is asked: a `done` of the same position or of the
//!   whole message means it is not sent at all ([`already_deleted`]); an unsettled or held
//!   request of the same message, or a delete there less than `settle_after` ago, makes it
//!   wait ([`message_wait`]) — per message: other messages go on.

use rusqlite::OptionalExtension;
use wechat_mp::Api;

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::execute::{ExecOptions, Outcome};
use crate::identity;
use crate::index;
use crate::journal::{self, CompareAndSet, JournalState, Target};
use crate::observations::{self, Behaviour};
use crate::plan::PlanId;
use crate::recheck::{self, CheckError, ControlArticleCheck, RecheckVerdict};
use crate::store::Store;

use JournalState::{Done, Held, Intent, Planned, Sent, Unknown};

/// How long after a possibly-applied delete was first seen live the second, deciding check
/// waits: 10 minutes (twenty times the 30 s first delay; the longest lag reported for WeChat's
/// reads is well under a minute), 30 minutes once the account has shown a late delete.
pub fn second_check_gap(late_deletes_seen: bool) -> i64 {
    if late_deletes_seen { 30 * 60 } else { 10 * 60 }
}

pub(crate) fn gap_for(store: &Store, account: AccountId) -> Result<i64, CoreError> {
    let seen = observations::seen(store, account, Behaviour::LateDelete)?;
    Ok(second_check_gap(seen))
}

/// The gap a run uses: the options' own (a test hook of the queue runner), else the account's.
fn gap_of(store: &Store, account: AccountId, options: &ExecOptions) -> Result<i64, CoreError> {
    match options.second_check {
        Some(gap) => Ok(gap.as_secs() as i64),
        None => gap_for(store, account),
    }
}

/// Where reconciliation left one target.
pub struct Settled {
    /// `None`: too early to ask, or asked once and found live (asked again later); unchanged.
    pub state: Option<JournalState>,
    pub was: JournalState,
    pub article_id: String,
    pub index: Option<u32>,
    pub titles: Vec<String>,
}

/// When the queue should next ask WeChat about a `sent` or `unknown` target (last changed at
/// `updated_at`, first seen live at `seen_live_at`), on the runner's clock.
pub(crate) fn next_check(
    updated_at: i64,
    seen_live_at: Option<i64>,
    settle_after: i64,
    gap: i64,
) -> i64 {
    match seen_live_at {
        Some(seen) => seen + gap,
        None => updated_at + settle_after,
    }
}

/// Reconciles one target left in `intent`, `sent` or `unknown` (see the module's rules). A
/// failed read is returned as an error and the target keeps its state.
pub async fn settle(
    api: &Api,
    store: &Store,
    account: AccountId,
    plan: PlanId,
    seq: u32,
    options: &ExecOptions,
) -> Result<Settled, CoreError> {
    let t = journal::reload(store, plan, seq)?;
    let now = options.now();
    let settled = |state| Settled {
        state,
        was: t.state,
        article_id: t.article_id.clone(),
        index: t.index,
        titles: t.titles(),
    };
    match t.state {
        Intent => {
            CompareAndSet::new(plan, seq, &[Intent], Planned, now).commit(store)?;
            return Ok(settled(Some(Planned)));
        }
        Sent | Unknown => {}
        _ => return Ok(settled(None)),
    }
    let gap = gap_of(store, account, options)?;
    if now
        < next_check(
            t.updated_at,
            t.seen_live_at,
            options.settle_after.as_secs() as i64,
            gap,
        )
    {
        return Ok(settled(None));
    }
    let from = [t.state];
    let mut ctx = ControlArticleCheck::default();
    let verdict = match recheck::prove(api, store, account, plan, &t, false, &mut ctx).await {
        Ok(v) => v,
        Err(CheckError::Wechat(e)) => return Err(CoreError::Wechat(e)),
        Err(CheckError::Core(e)) => return Err(e),
    };
    let hold = |why: &str| -> Result<Settled, CoreError> {
        CompareAndSet::new(plan, seq, &from, Held, now)
            .outcome(Outcome::Held)
            .note(why)
            .commit(store)?;
        Ok(settled(Some(Held)))
    };
    match verdict {
        RecheckVerdict::Gone => {
            CompareAndSet::new(plan, seq, &from, Done, now)
                .outcome(Outcome::Deleted)
                .commit(store)?;
            index::mark_deleted(store, account, &t.article_id, t.index, now)?;
            Ok(settled(Some(Done)))
        }
        RecheckVerdict::Present => match t.seen_live_at {
            None => {
                journal::mark_seen_live(store, plan, seq, now)?;
                Ok(settled(None))
            }
            Some(first) => hold(&format!(
                "WeChat showed it live {} s after the delete may have gone out, and again {} s later: the delete may not have been applied, or WeChat shows it very late. Nothing sends it again without your word",
                first - t.updated_at,
                now - first
            )),
        },
        // After a request that may have been applied, a changed position is no proof that
        // nothing was deleted: positions may have moved because of it.
        RecheckVerdict::Changed(why)
        | RecheckVerdict::Unproven(why)
        | RecheckVerdict::Moved(why)
        | RecheckVerdict::Lagging(why) => hold(&why),
        // Nothing of the account's answers can be trusted: it stays as it is, and the run
        // stops for the operator.
        RecheckVerdict::Untrusted(why) => Err(CoreError::Unproven(why)),
    }
}

/// The request of Retract's that already deleted this article or its whole message (journal
/// `done`), if any: then this one is never sent. The same article is known as everywhere
/// ([`identity::is_reviewed_item`]): by its link, else by its position and normalised title;
/// a whole-message request is "already deleted" only by a whole-message `done`.
pub(crate) fn already_deleted(
    store: &Store,
    account: AccountId,
    plan: PlanId,
    t: &Target,
) -> Result<Option<(PlanId, u32)>, CoreError> {
    let done = journal::done_requests(&store.conn(), account, &t.article_id)
        .map_err(store.err("cannot read the journal"))?;
    let mine = match (t.index, t.items.first()) {
        (Some(pos), Some(r)) => Some((pos, r)),
        _ => None,
    };
    Ok(done
        .into_iter()
        .filter(|d| !(d.plan == plan && d.seq == t.seq))
        .find(|d| {
            if d.idx == 0 {
                return true;
            }
            let Some((pos, r)) = mine else {
                return false;
            };
            // A damaged snapshot cannot say what it deleted: the same position counts.
            let Some(theirs) = &d.reviewed else {
                return d.idx == pos;
            };
            theirs.iter().any(|d| {
                identity::is_reviewed_item(d, pos, &r.title, r.link.as_deref().unwrap_or_default())
            })
        })
        .map(|d| (d.plan, d.seq)))
}

/// Why a request must wait before it is sent, and until when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessageWait {
    pub why: String,
    /// When the queue can look again by itself; `None`: it waits for the operator's word on a
    /// held request of the same message.
    pub until: Option<i64>,
}

/// Whether another request for the same message must settle before this one is sent:
/// - one whose delete may be out there and is not settled yet (`sent`, `unknown`): until it
///   is, a fresh check cannot tell a lagging "still there" from the truth;
/// - one held for the operator's word: the message waits with it;
/// - for an item, a delete at this or an earlier position, or of the whole message, done less
///   than `settle_after` ago: if WeChat compacts positions and shows it late, this item's
///   position may have moved while the check still shows the old one. After the delay the
///   check sees the move. (A whole-message request needs no such wait: its check refuses a
///   moved title and an unreviewed live item alike.)
pub(crate) fn message_wait(
    store: &Store,
    account: AccountId,
    plan: PlanId,
    t: &Target,
    options: &ExecOptions,
) -> Result<Option<MessageWait>, CoreError> {
    let settle_after = options.settle_after.as_secs() as i64;
    let recent = options.now() - settle_after;
    let gap = gap_of(store, account, options)?;
    let other: Option<(PlanId, u32)> = store
        .conn()
        .query_row(
            "SELECT t.plan_id, t.seq FROM plan_targets t JOIN plans p ON p.id = t.plan_id
             WHERE p.account_id = ?1 AND t.article_id = ?2 AND NOT (t.plan_id = ?3 AND t.seq = ?4)
               AND (t.state IN ('sent', 'unknown', 'held')
                    OR (t.state = 'done' AND t.updated_at > ?6 AND ?5 > 0 AND t.idx <= ?5))
             ORDER BY t.state = 'held' DESC LIMIT 1",
            rusqlite::params![
                account,
                t.article_id,
                plan,
                t.seq,
                t.index.unwrap_or(0),
                recent
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(store.err("cannot read the journal"))?;
    let Some((p, s)) = other else {
        return Ok(None);
    };
    let sibling = journal::reload(store, p, s)?;
    Ok(Some(match sibling.state {
        Held => MessageWait {
            why: format!(
                "request {s} of plan {p} for the same message waits for your decision; this one waits with it"
            ),
            until: None,
        },
        Done => MessageWait {
            why: format!(
                "request {s} of plan {p} just deleted an article of the same message; positions may move, so this one waits {settle_after} s and is checked again by itself"
            ),
            until: Some(sibling.updated_at + settle_after),
        },
        _ => MessageWait {
            why: format!(
                "request {s} of plan {p} for the same message may have been applied and is not settled yet; this one continues by itself once WeChat has been asked about it"
            ),
            until: Some(next_check(
                sibling.updated_at,
                sibling.seen_live_at,
                settle_after,
                gap,
            )),
        },
    }))
}
