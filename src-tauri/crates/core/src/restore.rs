//! Undo by draft: an archived article re-created through `draft/add` from the fields WeChat
//! returned right before the delete (title, author, digest, content, original link, cover,
//! comment settings), so the operator can review and publish it again from the MP console.
//! What does not come back: the old link, reads, likes and comments, the publish time.
//!
//! Invariants: only what this target deleted is restored (its item, or the items of a whole
//! message that were live before it), and only when the delete went through; a request whose
//! answer was lost is never resent (it may have made the draft) and is recorded as "may have
//! been made", which the next attempt shows first; every attempt is in the audit log, with
//! the `media_id` or the error. No length limit of Retract's own is applied: WeChat's refusal
//! (with its errcode) is explained instead (a 39-character title has been accepted against a
//! documented 32).

use rusqlite::OptionalExtension;
use serde::Serialize;
use wechat_mp::{Api, DraftArticle};

use crate::accounts::AccountId;
use crate::audit::AuditAction;
use crate::error::CoreError;
use crate::identity::{self, Reviewed};
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Restored {
    /// The new draft's id in the MP console's drafts box.
    pub media_id: String,
    pub titles: Vec<String>,
}

/// The articles an archived target brings back, in their old order. Only the copy of a
/// request whose delete went through (journal `done`: WeChat's answer, or the operator's word)
/// is restored: a copy taken before a delete that never happened is of an article still live.
/// Titles, authors and digests are given back as text (HTML entities decoded: the draft API
/// would show `&amp;` as written).
pub fn draft_articles(
    store: &Store,
    account: AccountId,
    archive_id: i64,
) -> Result<Vec<DraftArticle>, CoreError> {
    // The copy, its target's position, reviewed snapshot, state and outcome.
    type Copy = (String, u32, Option<String>, Option<String>, Option<String>);
    let row: Option<Copy> = store
        .conn()
        .query_row(
            "SELECT a.json, coalesce(t.idx, 0), t.titles, t.state, t.outcome FROM archive a
             LEFT JOIN plan_targets t ON t.plan_id = a.plan_id AND t.seq = a.seq
             WHERE a.id = ?1 AND a.account_id = ?2",
            rusqlite::params![archive_id, account],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()
        .map_err(store.err("cannot read the archive"))?;
    let Some((json, idx, titles, state, outcome)) = row else {
        return Err(CoreError::NotFound(format!(
            "archived copy {archive_id} of this account"
        )));
    };
    let deleted = state.as_deref() == Some("done")
        && matches!(outcome.as_deref(), Some("deleted" | "operatorSaysGone"));
    if !deleted {
        return Err(CoreError::Invalid(format!(
            "archived copy {archive_id} was taken before a delete that did not go through: the article was not deleted by that request, so there is nothing to restore"
        )));
    }
    let article: wechat_mp::Article = serde_json::from_str(&json)
        .map_err(|e| CoreError::Store(format!("archive entry {archive_id} is damaged: {e}")))?;
    let reviewed: Vec<Reviewed> = titles
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or_default();
    let items: Vec<DraftArticle> = match idx {
        0 => article
            .news_item
            .iter()
            .filter(|i| !i.is_deleted && !i.undecodable)
            .map(as_text)
            .collect(),
        n => {
            // The reviewed item by its link where the copy has one, else its position.
            let by_link = reviewed.first().and_then(|r| {
                let link = r.link.as_deref()?;
                article
                    .news_item
                    .iter()
                    .find(|i| identity::compare_links(link, &i.url) == identity::Links::Same)
            });
            by_link
                .or_else(|| article.news_item.get(n as usize - 1))
                .filter(|i| !i.undecodable)
                .map(as_text)
                .into_iter()
                .collect()
        }
    };
    if items.is_empty() {
        return Err(CoreError::Invalid(format!(
            "archived copy {archive_id} holds no article to restore"
        )));
    }
    if let Some(bare) = items.iter().find(|i| i.thumb_media_id.trim().is_empty()) {
        return Err(CoreError::Invalid(format!(
            "the archived copy of \"{}\" has no cover image id, which a draft needs: create the draft in the MP console from the exported HTML",
            bare.title
        )));
    }
    Ok(items)
}

fn as_text(item: &wechat_mp::NewsItem) -> DraftArticle {
    let mut article = DraftArticle::from(item);
    article.title = identity::unescape_html(&article.title).trim().to_string();
    article.author = identity::unescape_html(&article.author).trim().to_string();
    article.digest = identity::unescape_html(&article.digest);
    article
}

/// Whether a failed `draft/add` may have made the draft all the same: a lost or unreadable
/// answer, a gateway's status, -1 (busy) or a code Retract does not know. Only refusals known
/// to come before anything is made (token, settings, whitelist, limits, permission, the
/// draft's own fields) say "not made".
pub fn may_have_made(e: &wechat_mp::Error) -> bool {
    use wechat_mp::{Error, ErrorClass};
    match e {
        Error::Api(a) => match a.class {
            ErrorClass::TokenInvalid
            | ErrorClass::Configuration
            | ErrorClass::IpNotWhitelisted { .. }
            | ErrorClass::RiskyIp
            | ErrorClass::DailyQuota
            | ErrorClass::MinuteLimit
            | ErrorClass::Unauthorized => false,
            // The draft's own fields: cover, lengths, empty parts.
            _ => !matches!(
                a.code,
                40007 | 45003 | 45004 | 45110 | 44003 | 44004 | 40009
            ),
        },
        Error::Transport {
            may_have_reached_server,
            ..
        } => *may_have_reached_server,
        Error::InvalidInput(_) => false,
        _ => true,
    }
}

/// Re-creates an archived target as one draft. Sends one `draft/add`.
pub async fn restore_as_draft(
    api: &Api,
    store: &Store,
    account: AccountId,
    archive_id: i64,
) -> Result<Restored, CoreError> {
    let articles = draft_articles(store, account, archive_id)?;
    let titles: Vec<String> = articles.iter().map(|a| a.title.clone()).collect();
    match api.draft_add(&articles).await {
        Ok(media_id) => {
            store.audit(
                Some(account),
                AuditAction::DraftRestored,
                &serde_json::json!({"archive": archive_id, "media_id": media_id, "articles": titles.len()}),
            )?;
            Ok(Restored { media_id, titles })
        }
        Err(e) => {
            let api_error = e.api();
            store.audit(
                Some(account),
                AuditAction::DraftRestoreFailed,
                &serde_json::json!({
                    "archive": archive_id,
                    "errcode": api_error.map(|a| a.code),
                    "rid": api_error.and_then(|a| a.rid.clone()),
                    "error": e.to_string(),
                    "may_exist": may_have_made(&e),
                }),
            )?;
            Err(e.into())
        }
    }
}
