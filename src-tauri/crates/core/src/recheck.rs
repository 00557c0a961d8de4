//! The re-check before a delete and after an unknown outcome: what `getarticle` proves about a
//! target, and the archive copy taken before anything is sent.
//!
//! Invariants (see `wechat-api.md`, "Something in the middle"):
//! - only a slot that is present with `is_deleted: true` proves an item gone; a missing slot,
//!   an empty `news_item`, or the reviewed title found at another position proves nothing and
//!   stops the run ([`Verdict::Unproven`]);
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
use wechat_mp::{Api, Article, ArticleId, Error as WxError, ErrorClass, NewsItem};

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::identity::{Links, Reviewed, compare_links, same_title};
use crate::journal::Target;
use crate::observations::{self, Behaviour};
use crate::plan::PlanId;
use crate::store::Store;

/// What `getarticle` says about a target right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
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
pub(crate) struct RunContext {
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
    ctx: &mut RunContext,
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
    ctx: &mut RunContext,
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
    ctx: &mut RunContext,
) -> Result<Verdict, CheckError> {
    let id = ArticleId::parse(&t.article_id).map_err(CheckError::Wechat)?;
    let (article, raw) = match api.get_article_raw(&id).await {
        Ok(answer) => answer,
        Err(e) if e.class() == Some(&ErrorClass::InvalidArticle) => {
            match control_answers(api, store, account, &t.article_id, ctx).await? {
                Ok(()) => {}
                Err(Control::Missing(why)) => return Ok(Verdict::Unproven(why)),
                Err(Control::Untrusted(why)) => return Ok(Verdict::Untrusted(why)),
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
                    return Ok(Verdict::Gone);
                }
                Err(e) => return Err(CheckError::Wechat(e)),
            }
        }
        Err(e) => return Err(CheckError::Wechat(e)),
    };
    let late = notice_late_deletes(store, account, &t.article_id, &article)?;
    if archive && let Some(pos) = t.index.and_then(|i| late.into_iter().find(|p| *p < i)) {
        return Ok(Verdict::Lagging(format!(
            "WeChat's answer still shows the article Retract deleted at position {pos} of this message as live; until it shows that delete, a position after it cannot be trusted, so nothing was sent and the queue looks again later"
        )));
    }
    let verdict = match judge(&article, t) {
        Verdict::Moved(why) => {
            observations::record(
                store,
                account,
                Behaviour::PositionsCompacted,
                None,
                &t.article_id,
            );
            Verdict::Moved(why)
        }
        other => other,
    };
    if archive
        && verdict == Verdict::Present
        && let Some(title) = without_content(&article, t)
    {
        return Ok(Verdict::Unproven(format!(
            "WeChat's answer (or a relay's) holds no text for \"{title}\": without a full copy in the archive nothing is sent"
        )));
    }
    if archive && verdict == Verdict::Present {
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

/// How one item of an answer relates to a reviewed item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    /// The same link (and the same title).
    Same,
    /// No links on either side, and the same normalised title: the same article only if no
    /// other live item of the message has that title too.
    SameTitle,
    /// The same link under another title: the article was edited since the review.
    Edited,
    /// Another article: another link, or no links and another title.
    Other,
    /// The same title, but links that cannot be compared (one side has none, or a short and a
    /// long link): cannot tell.
    Unsure,
}

fn relation(r: &Reviewed, item: &NewsItem) -> Rel {
    let titles = same_title(&r.title, &item.title);
    // A plan made before links were recorded is matched by title, as it was reviewed.
    let links = match &r.link {
        None => Links::Neither,
        Some(link) => compare_links(link, &item.url),
    };
    match (links, titles) {
        (Links::Same, true) => Rel::Same,
        (Links::Same, false) => Rel::Edited,
        (Links::Neither, true) => Rel::SameTitle,
        (Links::NotComparable, true) => Rel::Unsure,
        (Links::Differ, _) | (Links::Neither | Links::NotComparable, false) => Rel::Other,
    }
}

/// A deleted entry WeChat stripped of everything that could say which article it was.
fn stripped(item: &NewsItem) -> bool {
    item.title.trim().is_empty() && item.url.trim().is_empty()
}

/// The pure part of the check: the answer against the reviewed snapshot, by identity (see
/// [`crate::identity`]): the link where both sides have one, else the normalised title.
pub(crate) fn judge(article: &Article, t: &Target) -> Verdict {
    if t.items.is_empty() {
        return Verdict::Unproven("the plan holds no reviewed titles for this request".into());
    }
    if article.news_item.is_empty() {
        return Verdict::Unproven(
            "WeChat (or something in between) answered with no articles at all for this message; that proves nothing, so nothing was sent".into(),
        );
    }
    if let Some(pos) = article.news_item.iter().position(|i| i.undecodable) {
        return Verdict::Unproven(format!(
            "WeChat's answer (or a relay's) has an entry at position {} that is not an article at all; that proves nothing, so nothing was sent",
            pos + 1
        ));
    }
    match t.index {
        Some(pos) => judge_item(article, &t.items[0], pos),
        None => judge_whole(article, &t.items),
    }
}

/// An item request: `r` reviewed at `pos`, the position the delete would name.
fn judge_item(article: &Article, r: &Reviewed, pos: u32) -> Verdict {
    let live = |(_, item): &(usize, &NewsItem)| !item.is_deleted;
    // Where else the reviewed article is live (its link, or its title when there are none).
    let elsewhere = article
        .news_item
        .iter()
        .enumerate()
        .filter(live)
        .find(|(i, item)| {
            *i + 1 != pos as usize && matches!(relation(r, item), Rel::Same | Rel::SameTitle)
        })
        .map(|(i, _)| i + 1);
    let moved = |at: usize| {
        Verdict::Moved(format!(
            "the reviewed \"{}\" is now at another position ({at}, not position {pos}); positions moved, so nothing was sent",
            r.title
        ))
    };
    let Some(item) = article.news_item.get((pos as usize).wrapping_sub(1)) else {
        if let Some(at) = elsewhere {
            return moved(at);
        }
        return Verdict::Unproven(format!(
            "WeChat's answer has no article at position {pos} (it lists {}); positions may have moved, so nothing was sent",
            article.news_item.len()
        ));
    };
    if item.is_deleted {
        return match (relation(r, item), elsewhere) {
            (_, Some(at)) => moved(at),
            (Rel::Same | Rel::SameTitle | Rel::Edited, None) => Verdict::Gone,
            // Stripped of title and link: nothing says it is another article, and the
            // reviewed one is live nowhere in the message.
            _ if stripped(item) => Verdict::Gone,
            (Rel::Other, None) => Verdict::Unproven(format!(
                "position {pos} holds a deleted article that is not the reviewed \"{}\" (\"{}\"); positions may have moved, so nothing is concluded",
                r.title, item.title
            )),
            (Rel::Unsure, None) => Verdict::Unproven(format!(
                "position {pos} holds a deleted article titled like the reviewed \"{}\", but its link cannot be compared with the reviewed one; nothing is concluded",
                r.title
            )),
        };
    }
    match relation(r, item) {
        Rel::Same => Verdict::Present,
        Rel::SameTitle => {
            let twins = article
                .news_item
                .iter()
                .filter(|i| !i.is_deleted && same_title(&i.title, &r.title))
                .count();
            if twins > 1 {
                Verdict::Unproven(format!(
                    "{twins} live articles of this message are titled \"{}\" and WeChat gives no links to tell them apart; if positions moved, the one at position {pos} may not be the reviewed one, so nothing was sent. Delete it in the MP console, or delete the whole message",
                    r.title
                ))
            } else {
                Verdict::Present
            }
        }
        Rel::Edited => Verdict::Changed(format!(
            "the article at position {pos} is the reviewed one, but its title is now \"{}\", not \"{}\"; it was edited since the review",
            item.title, r.title
        )),
        Rel::Other => match elsewhere {
            Some(at) => moved(at),
            None if same_title(&item.title, &r.title) => Verdict::Changed(format!(
                "position {pos} holds an article titled \"{}\" like the reviewed one, but under another link: another article with the same title (the reviewed one is not live in this message), or WeChat gave this article a new link; nothing was sent. Check it in the MP console",
                item.title
            )),
            None => Verdict::Changed(format!(
                "position {pos} now holds \"{}\", not the reviewed \"{}\"",
                item.title, r.title
            )),
        },
        Rel::Unsure => Verdict::Unproven(format!(
            "position {pos} holds \"{}\", but WeChat's link for it now cannot be compared with the one it listed at the review (one is missing, or one is short and one long); nothing was sent",
            item.title
        )),
    }
}

fn judge_whole(article: &Article, reviewed: &[Reviewed]) -> Verdict {
    if article.news_item.iter().all(|i| i.is_deleted) {
        return Verdict::Gone;
    }
    // Every live item must be one the operator reviewed (each reviewed item vouches for one).
    let mut unused: Vec<&Reviewed> = reviewed.iter().collect();
    for (i, item) in article.news_item.iter().enumerate() {
        if item.is_deleted {
            continue;
        }
        let rels: Vec<Rel> = unused.iter().map(|r| relation(r, item)).collect();
        if let Some(k) = rels
            .iter()
            .position(|rel| matches!(rel, Rel::Same | Rel::SameTitle))
        {
            unused.remove(k);
            continue;
        }
        if let Some(k) = rels.iter().position(|rel| *rel == Rel::Edited) {
            return Verdict::Changed(format!(
                "\"{}\" at position {} is now titled \"{}\"; it was edited since the review",
                unused[k].title,
                i + 1,
                item.title
            ));
        }
        if rels.contains(&Rel::Unsure) {
            return Verdict::Unproven(format!(
                "\"{}\" at position {} cannot be matched to a reviewed article: its link cannot be compared with the reviewed ones; nothing was sent",
                item.title,
                i + 1
            ));
        }
        return Verdict::Changed(format!(
            "the message now also holds \"{}\" at position {}, which was not reviewed; deleting the whole message would remove it",
            item.title,
            i + 1
        ));
    }
    Verdict::Present
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::JournalState;

    fn article(items: &[(&str, bool)]) -> Article {
        serde_json::from_value(serde_json::json!({
            "news_item": items.iter().map(|(t, d)| serde_json::json!({"title": t, "is_deleted": d})).collect::<Vec<_>>()
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn target(index: Option<u32>, items: &[(&str, u32)]) -> Target {
        Target {
            seq: 1,
            article_id: "A".into(),
            index,
            items: items
                .iter()
                .map(|(t, p)| Reviewed {
                    title: t.to_string(),
                    index: *p,
                    link: None,
                })
                .collect(),
            state: JournalState::Intent,
            outcome: None,
            updated_at: 0,
            seen_live_at: None,
        }
    }

    #[test]
    fn only_a_present_slot_flagged_deleted_proves_an_item_gone() {
        let t = target(Some(2), &[("二", 2)]);
        assert_eq!(
            judge(&article(&[("一", false), ("二", true)]), &t),
            Verdict::Gone
        );
        assert_eq!(
            judge(&article(&[("一", false), ("二", false)]), &t),
            Verdict::Present
        );
        // The slot is missing (positions compacted, or a stripped answer): no proof.
        assert!(matches!(
            judge(&article(&[("一", false)]), &t),
            Verdict::Unproven(_)
        ));
        assert!(matches!(judge(&article(&[]), &t), Verdict::Unproven(_)));
    }

    #[test]
    fn an_entry_that_is_not_an_article_proves_nothing_and_a_stripped_deleted_item_stays_deleted() {
        let t = target(Some(2), &[("二", 2)]);
        let odd: Article = serde_json::from_value(serde_json::json!({
            "news_item": [{"title": "一", "author": null, "is_deleted": false}, null]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(judge(&odd, &t), Verdict::Unproven(_)), "{odd:?}");
        // Stripped, with nulls: what parsed is kept, `is_deleted` above all.
        let stripped: Article = serde_json::from_value(serde_json::json!({
            "news_item": [{"title": "一", "is_deleted": false}, {"title": "二", "author": null, "url": null, "content": null, "is_deleted": true}]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(judge(&stripped, &t), Verdict::Gone);
    }

    #[test]
    fn the_reviewed_title_at_another_position_stops_and_an_edit_skips() {
        let t = target(Some(2), &[("二", 2)]);
        assert!(matches!(
            judge(&article(&[("二", false), ("三", false)]), &t),
            Verdict::Moved(_)
        ));
        assert!(matches!(
            judge(&article(&[("一", false), ("二（改）", false)]), &t),
            Verdict::Changed(_)
        ));
    }

    fn linked(items: &[(&str, &str, bool)]) -> Article {
        serde_json::from_value(serde_json::json!({
            "news_item": items.iter().map(|(t, u, d)| serde_json::json!({"title": t, "url": u, "is_deleted": d})).collect::<Vec<_>>()
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn reviewed(index: Option<u32>, items: &[(&str, u32, &str)]) -> Target {
        Target {
            items: items
                .iter()
                .map(|(t, p, u)| Reviewed::new(t, *p, u))
                .collect(),
            ..target(index, &[])
        }
    }

    const Y: &str = "https://mp.weixin.qq.com/s/Y";
    const Z: &str = "https://mp.weixin.qq.com/s/Z";
    const X: &str = "https://mp.weixin.qq.com/s/X";

    #[test]
    fn twins_are_told_apart_by_their_links_and_without_links_they_stop() {
        let t = reviewed(Some(2), &[("周报", 2, Y)]);
        // Compacted: Z moved into position 2, Y is at 1.
        assert!(matches!(
            judge(&linked(&[("周报", Y, false), ("周报", Z, false)]), &t),
            Verdict::Moved(_)
        ));
        // Y gone (compacted away), Z at 2: not Y, nothing sent.
        assert!(matches!(
            judge(&linked(&[("周报", X, false), ("周报", Z, false)]), &t),
            Verdict::Changed(_)
        ));
        // A deleted Z at position 2 proves nothing about Y.
        assert!(matches!(
            judge(&linked(&[("周报", X, false), ("周报", Z, true)]), &t),
            Verdict::Unproven(_)
        ));
        assert_eq!(
            judge(&linked(&[("周报", X, false), ("周报", Y, true)]), &t),
            Verdict::Gone
        );
        assert_eq!(
            judge(&linked(&[("周报", X, false), ("周报 ", Y, false)]), &t),
            Verdict::Present
        );
        // Without links on either side, two live twins stop.
        let bare = reviewed(Some(2), &[("周报", 2, "")]);
        assert!(matches!(
            judge(&linked(&[("周报", "", false), ("周报", "", false)]), &bare),
            Verdict::Unproven(_)
        ));
        assert_eq!(
            judge(
                &linked(&[("月报", "", false), ("周报&#32;", "", false)]),
                &bare
            ),
            Verdict::Present
        );
        // A link on one side only, or a short and a long one: cannot tell.
        assert!(matches!(
            judge(&linked(&[("月报", X, false), ("周报", "", false)]), &t),
            Verdict::Unproven(_)
        ));
        assert!(matches!(
            judge(
                &linked(&[
                    ("月报", X, false),
                    (
                        "周报",
                        "https://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=2",
                        false
                    )
                ]),
                &t
            ),
            Verdict::Unproven(_)
        ));
        // The same link under an edited title: the article changed since the review.
        assert!(matches!(
            judge(
                &linked(&[("月报", X, false), ("周报（更正）", Y, false)]),
                &t
            ),
            Verdict::Changed(_)
        ));
    }

    #[test]
    fn a_whole_message_is_matched_item_by_item_by_identity() {
        let t = reviewed(None, &[("周报", 1, Y), ("周报", 2, Z)]);
        // Positions moved (one deleted in between): still only reviewed items live.
        assert_eq!(
            judge(&linked(&[("周报", Z, false), ("周报", Y, false)]), &t),
            Verdict::Present
        );
        // A live twin that was not reviewed.
        assert!(matches!(
            judge(&linked(&[("周报", Y, false), ("周报", X, false)]), &t),
            Verdict::Changed(_)
        ));
        // Without links, each reviewed title vouches for one live item only.
        let bare = reviewed(None, &[("周报", 1, "")]);
        assert!(matches!(
            judge(&linked(&[("周报", "", false), ("周报", "", false)]), &bare),
            Verdict::Changed(_)
        ));
    }

    #[test]
    fn a_whole_message_needs_every_item_deleted_and_no_unreviewed_live_item() {
        let t = target(None, &[("一", 1), ("二", 2)]);
        assert_eq!(
            judge(&article(&[("一", true), ("二", true)]), &t),
            Verdict::Gone
        );
        assert_eq!(
            judge(&article(&[("一", true), ("二", false)]), &t),
            Verdict::Present
        );
        assert!(matches!(
            judge(&article(&[("一", false), ("二", false), ("新", false)]), &t),
            Verdict::Changed(_)
        ));
        assert!(matches!(judge(&article(&[]), &t), Verdict::Unproven(_)));
    }
}
