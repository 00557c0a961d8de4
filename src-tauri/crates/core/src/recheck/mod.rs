//! The re-check before a delete and after an unknown outcome: what `getarticle` proves about a
//! target, and the archive copy taken before anything is sent.
//!
//! Invariants (see `wechat-api.md`, "Something in the middle"):
//! - only a slot that is present with `is_deleted: true` proves an item gone; a missing slot,
//!   an empty `news_item`, or the reviewed title found at another position proves nothing and
//!   stops the run ([`RecheckVerdict::Unproven`]);
//! - 53600 proves a message gone only when a control article of the same account, known live,
//!   answers normally in the same run (a token of another account answers 53600 for everything;
//!   a second control is asked when the first fails, since the publisher may have deleted it
//!   in the MP console) and the target answers 53600 again after it (a one-off 53600 proves
//!   nothing);
//! - a whole-message delete is refused when a live item exists that the operator did not review;
//! - the archive keeps the `getarticle` body exactly as received; if it cannot be written, or
//!   the answer lacks the content (HTML) of a live item the request removes, the target is not
//!   sent.

use rusqlite::params;
use wechat_mp::{Api, Article, ArticleId, Error as WxError, ErrorClass};

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::identity::Reviewed;
use crate::journal::Target;
use crate::observations::{self, Behaviour};
use crate::plan::PlanId;
use crate::store::Store;

mod judge;

pub(crate) use judge::judge;
use judge::{Rel, relation};

/// What `getarticle` says about a target right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RecheckVerdict {
    /// Every reviewed item is live at its position with the reviewed title.
    Present,
    /// Proven gone: its slots are present and flagged deleted (or 53600 with a live control).
    Gone,
    /// The article changed since the review (another title at the position, an unreviewed live
    /// item): this target is skipped, nothing sent.
    Changed(String),
    /// The answer cannot decide: stop the run and ask the operator.
    Unproven(String),
    /// The reviewed title is live at another position: positions moved (like `Unproven`, and
    /// recorded as evidence of compaction).
    Moved(String),
    /// The answer does not show yet a delete Retract made at an earlier position of this
    /// message (WeChat shows deletes late): if positions compact, the position the check shows
    /// may not be the one a delete would hit. Nothing is sent now; the queue looks again later.
    Lagging(String),
    /// The account's answers cannot be trusted at all (a control article known to be live
    /// answers 53600, or comes back empty): the token probably belongs to another account.
    /// Every request of the account waits; the run stops.
    Untrusted(String),
}

/// What one run learned once and reuses: whether 53600 can be trusted for this account.
#[derive(Debug, Default)]
pub(crate) struct ControlArticleCheck {
    control_answered: bool,
}

/// Live articles of the account with no delete under way or in doubt, to tell "this id is
/// gone" from "this token belongs to another account" (at most `n`, distinct messages). A
/// message that only waits in a plan is as live as any: nothing was sent for it.
fn control_articles(
    store: &Store,
    account: AccountId,
    besides: &str,
    n: u32,
) -> Result<Vec<String>, CoreError> {
    let conn = store.conn();
    let mut stmt = conn
        .prepare(
            "SELECT DISTINCT i.article_id FROM items i
             WHERE i.account_id = ?1 AND i.is_deleted = 0 AND i.article_id <> ?2
               AND i.article_id NOT IN (SELECT t.article_id FROM plan_targets t JOIN plans p ON p.id = t.plan_id
                                        WHERE p.account_id = ?1 AND t.state IN ('intent', 'sent', 'unknown', 'held'))
             ORDER BY i.article_id LIMIT ?3",
        )
        .map_err(store.err("cannot read the index"))?;
    stmt.query_map(params![account, besides, n], |r| r.get(0))
        .map_err(store.err("cannot read the index"))?
        .collect::<Result<_, _>>()
        .map_err(store.err("cannot read the index"))
}

/// Why the control articles could not vouch for a 53600.
enum Control {
    /// No other live article to ask: this target cannot be proven (the rest of the account can).
    Missing(String),
    /// The controls themselves answered wrongly: nothing of the account's answers can be trusted.
    Untrusted(String),
}

/// How many control articles are asked before the account's answers are called untrusted: a
/// control the publisher deleted in the MP console since the last sync answers 53600 too.
const CONTROLS: u32 = 2;

async fn control_answers(
    api: &Api,
    store: &Store,
    account: AccountId,
    target: &str,
    ctx: &mut ControlArticleCheck,
) -> Result<Result<(), Control>, CheckError> {
    if ctx.control_answered {
        return Ok(Ok(()));
    }
    let controls = control_articles(store, account, target, CONTROLS)?;
    if controls.is_empty() {
        return Ok(Err(Control::Missing(
            "WeChat answered 53600 (invalid article id), and there is no other live article of this account to check the token against; check the article in the MP console".into(),
        )));
    }
    let mut failed = Vec::new();
    for control in &controls {
        let id = ArticleId::parse(control).map_err(CheckError::Wechat)?;
        match api.get_article(&id).await {
            Ok(a) if a.news_item.iter().any(|i| !i.is_deleted) => {
                ctx.control_answered = true;
                return Ok(Ok(()));
            }
            Ok(_) => failed.push(control.as_str()),
            Err(e) if e.class() == Some(&ErrorClass::InvalidArticle) => {
                failed.push(control.as_str());
            }
            Err(e) => return Err(CheckError::Wechat(e)),
        }
    }
    Ok(Err(Control::Untrusted(format!(
        "WeChat answered 53600 (invalid article id), and so did (or came back without live items) every article known to be live that Retract asked to check the token ({}): the token probably belongs to another account; check the token source and the MP console",
        failed.join(", ")
    ))))
}

/// Whether a whole message is proven gone (for a sync that no longer lists it): every item
/// flagged deleted, or 53600 while a live control article answers. Anything else, including a
/// failed read, is "not proven".
pub(crate) async fn message_gone(
    api: &Api,
    store: &Store,
    account: AccountId,
    article_id: &str,
    ctx: &mut ControlArticleCheck,
) -> Result<bool, CoreError> {
    let Ok(id) = ArticleId::parse(article_id) else {
        return Ok(false);
    };
    match api.get_article(&id).await {
        Ok(a) => Ok(!a.news_item.is_empty() && a.news_item.iter().all(|i| i.is_deleted)),
        Err(e) if e.class() == Some(&ErrorClass::InvalidArticle) => {
            match control_answers(api, store, account, article_id, ctx).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(CheckError::Wechat(_)) => return Ok(false),
                Err(CheckError::Core(e)) => return Err(e),
            }
            // Said twice, with a live control in between: gone.
            Ok(matches!(
                api.get_article(&id).await,
                Err(e) if e.class() == Some(&ErrorClass::InvalidArticle)
            ))
        }
        Err(_) => Ok(false),
    }
}

/// Why a check could not be made at all (nothing is concluded from it).
#[derive(Debug)]
pub(crate) enum CheckError {
    Wechat(WxError),
    Core(CoreError),
}

impl From<CoreError> for CheckError {
    fn from(e: CoreError) -> Self {
        Self::Core(e)
    }
}

/// Asks `getarticle` about `t`. With `archive`, a `Present` target's answer is archived first
/// (raw, as received); a failed archive write is an error, so nothing is sent.
pub(crate) async fn prove(
    api: &Api,
    store: &Store,
    account: AccountId,
    plan: PlanId,
    t: &Target,
    archive: bool,
    ctx: &mut ControlArticleCheck,
) -> Result<RecheckVerdict, CheckError> {
    let id = ArticleId::parse(&t.article_id).map_err(CheckError::Wechat)?;
    let (article, raw) = match api.get_article_raw(&id).await {
        Ok(answer) => answer,
        Err(e) if e.class() == Some(&ErrorClass::InvalidArticle) => {
            match control_answers(api, store, account, &t.article_id, ctx).await? {
                Ok(()) => {}
                Err(Control::Missing(why)) => return Ok(RecheckVerdict::Unproven(why)),
                Err(Control::Untrusted(why)) => return Ok(RecheckVerdict::Untrusted(why)),
            }
            // The token is the account's. A one-off 53600 (from a relay, a hiccup) must not
            // end an article: it counts only when WeChat says it again.
            match api.get_article_raw(&id).await {
                Ok(answer) => answer,
                Err(e) if e.class() == Some(&ErrorClass::InvalidArticle) => {
                    let rid = e.api().and_then(|a| a.rid.clone());
                    observations::record(
                        store,
                        account,
                        Behaviour::DeletedMessage53600,
                        rid.as_deref(),
                        &t.article_id,
                    );
                    return Ok(RecheckVerdict::Gone);
                }
                Err(e) => return Err(CheckError::Wechat(e)),
            }
        }
        Err(e) => return Err(CheckError::Wechat(e)),
    };
    let late = notice_late_deletes(store, account, &t.article_id, &article)?;
    if archive && let Some(pos) = t.index.and_then(|i| late.into_iter().find(|p| *p < i)) {
        return Ok(RecheckVerdict::Lagging(format!(
            "WeChat's answer still shows the article Retract deleted at position {pos} of this message as live; until it shows that delete, a position after it cannot be trusted, so nothing was sent and the queue looks again later"
        )));
    }
    let verdict = match judge(&article, t) {
        RecheckVerdict::Moved(why) => {
            observations::record(
                store,
                account,
                Behaviour::PositionsCompacted,
                None,
                &t.article_id,
            );
            RecheckVerdict::Moved(why)
        }
        other => other,
    };
    if archive
        && verdict == RecheckVerdict::Present
        && let Some(title) = without_content(&article, t)
    {
        return Ok(RecheckVerdict::Unproven(format!(
            "WeChat's answer (or a relay's) holds no text for \"{title}\": without a full copy in the archive nothing is sent"
        )));
    }
    if archive && verdict == RecheckVerdict::Present {
        store
            .conn()
            .execute(
                "INSERT INTO archive (account_id, article_id, plan_id, seq, fetched_at, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![account, t.article_id, plan, t.seq, crate::now_unix(), raw],
            )
            .map_err(store.err("cannot archive the article before deleting it; nothing was sent"))?;
    }
    Ok(verdict)
}

/// The title of a live item this request would remove whose answer has no content (HTML):
/// the archive gate needs every one of them in full before a delete goes out.
fn without_content(article: &Article, t: &Target) -> Option<String> {
    let removed = |pos: usize| match t.index {
        Some(i) => i as usize == pos,
        None => true,
    };
    article
        .news_item
        .iter()
        .enumerate()
        .find(|(i, item)| removed(i + 1) && !item.is_deleted && item.content.trim().is_empty())
        .map(|(_, item)| item.title.clone())
}

/// An item Retract deleted (WeChat answered errcode 0, or the operator said gone) that this
/// answer still shows live, at the same position with the same title, is evidence that deletes
/// show late. Returns those positions.
fn notice_late_deletes(
    store: &Store,
    account: AccountId,
    article_id: &str,
    article: &Article,
) -> Result<Vec<u32>, CoreError> {
    let done: Vec<(u32, String)> = {
        let conn = store.conn();
        let mut stmt = conn
            .prepare(
                "SELECT t.idx, t.titles FROM plan_targets t JOIN plans p ON p.id = t.plan_id
                 WHERE p.account_id = ?1 AND t.article_id = ?2 AND t.state = 'done'
                   AND t.outcome IN ('deleted', 'operatorSaysGone') AND t.idx > 0",
            )
            .map_err(store.err("cannot read the journal"))?;
        stmt.query_map(params![account, article_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(store.err("cannot read the journal"))?
            .collect::<Result<_, _>>()
            .map_err(store.err("cannot read the journal"))?
    };
    let mut late = Vec::new();
    for (idx, titles) in done {
        let reviewed: Vec<Reviewed> = serde_json::from_str(&titles).unwrap_or_default();
        let shown_live = article.news_item.get(idx as usize - 1).is_some_and(|i| {
            !i.is_deleted
                && reviewed
                    .iter()
                    .any(|r| matches!(relation(r, i), Rel::Same | Rel::SameTitle))
        });
        if shown_live {
            observations::record(store, account, Behaviour::LateDelete, None, article_id);
            late.push(idx);
        }
    }
    Ok(late)
}

#[cfg(test)]
mod tests;
