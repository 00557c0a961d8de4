//! Settling what a run left open: a target in `intent` (never sent) goes back to `planned`; a
//! target in `sent` or `unknown` is asked about with `getarticle` once `settle_after` has passed,
//! because WeChat may show a delete late. And the rule that keeps a message's other requests
//! waiting while one of them is unsettled, or just deleted an earlier position.

use rusqlite::OptionalExtension;
use wechat_mp::Api;

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::execute::{ExecOptions, Outcome};
use crate::index;
use crate::journal::{self, JournalState, Target, Transition};
use crate::plan::PlanId;
use crate::recheck::{self, CheckError, RunContext, Verdict};
use crate::store::Store;

use JournalState::{Done, Intent, Planned, Sent, Skipped, Unknown};

/// Where reconciliation left one target.
pub struct Settled {
    /// `None`: too early to ask (sent less than `settle_after` ago); unchanged.
    pub state: Option<JournalState>,
    pub was: JournalState,
    pub article_id: String,
    pub index: Option<u32>,
    pub titles: Vec<String>,
}

/// Reconciles one target left in `intent`, `sent` or `unknown`:
/// - `intent` was never sent (`sent` is committed before sending): back to `planned`;
/// - `sent` / `unknown`, once `settle_after` has passed: `getarticle` decides — proven gone →
///   `done`; still there with the reviewed title → `planned` (sent once more after a fresh
///   check); changed → `skipped`; unproven → it stays and the error says why.
///
/// A failed check is returned as an error and the target keeps its state.
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
            Transition::new(plan, seq, &[Intent], Planned, now).commit(store)?;
            return Ok(settled(Some(Planned)));
        }
        Sent | Unknown => {}
        _ => return Ok(settled(None)),
    }
    let since = now - t.updated_at;
    if since < options.settle_after.as_secs() as i64 {
        return Ok(settled(None));
    }
    let from = [t.state];
    let mut ctx = RunContext::default();
    let verdict = match recheck::prove(api, store, account, plan, &t, false, &mut ctx).await {
        Ok(v) => v,
        Err(CheckError::Wechat(e)) => return Err(CoreError::Wechat(e)),
        Err(CheckError::Core(e)) => return Err(e),
    };
    let state = match verdict {
        Verdict::Gone => {
            Transition::new(plan, seq, &from, Done, now)
                .outcome(Outcome::Deleted)
                .commit(store)?;
            index::mark_deleted(store, account, &t.article_id, t.index)?;
            Done
        }
        Verdict::Present => {
            Transition::new(plan, seq, &from, Planned, now).commit(store)?;
            Planned
        }
        Verdict::Changed(why) => {
            Transition::new(plan, seq, &from, Skipped, now)
                .outcome(Outcome::TitleMismatch)
                .note(&why)
                .commit(store)?;
            Skipped
        }
        Verdict::Unproven(why) | Verdict::Moved(why) => return Err(CoreError::Unproven(why)),
    };
    Ok(settled(Some(state)))
}

/// Why another request for the same message must settle before this one is sent, if it must:
/// - one whose delete may be out there and is not settled yet: until it is, a fresh check
///   cannot tell a lagging "still there" from the truth;
/// - a delete at an earlier position of the message, done less than `settle_after` ago: if
///   WeChat compacts positions and shows it late, this item's position may have moved while
///   the check still shows the old one. After the delay the check sees the move and stops.
pub(crate) fn unsettled_sibling(
    store: &Store,
    account: AccountId,
    plan: PlanId,
    t: &Target,
    options: &ExecOptions,
) -> Result<Option<String>, CoreError> {
    let recent = options.now() - options.settle_after.as_secs() as i64;
    let other: Option<(PlanId, u32, String)> = store
        .conn()
        .query_row(
            "SELECT t.plan_id, t.seq, t.state FROM plan_targets t JOIN plans p ON p.id = t.plan_id
             WHERE p.account_id = ?1 AND t.article_id = ?2 AND NOT (t.plan_id = ?3 AND t.seq = ?4)
               AND (t.state IN ('sent', 'unknown')
                    OR (t.state = 'done' AND ?5 > 0 AND t.idx > 0 AND t.idx < ?5 AND t.updated_at > ?6))
             LIMIT 1",
            rusqlite::params![account, t.article_id, plan, t.seq, t.index.unwrap_or(0), recent],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(store.err("cannot read the journal"))?;
    Ok(other.map(|(p, s, state)| {
        if state == "done" {
            format!(
                "request {s} of plan {p} just deleted an earlier article of the same message; positions may move, so this one waits about 30 s and is checked again"
            )
        } else {
            format!(
                "request {s} of plan {p} for the same message may have been applied and is not settled yet; it is checked with WeChat about 30 s after it was sent, then this one continues"
            )
        }
    }))
}
