//! Undo by draft: an archived article re-created through `draft/add` from the fields WeChat
//! returned right before the delete (title, author, digest, content, original link, cover,
//! comment settings), so the operator can review and publish it again from the MP console.
//! What does not come back: the old link, reads, likes and comments, the publish time.
//!
//! Invariants: only what this target deleted is restored (its item, or the items of a whole
//! message that were live before it); a request whose answer was lost is never resent (it may
//! have made the draft); every attempt is in the audit log, with the `media_id` or the error.

use rusqlite::OptionalExtension;
use serde::Serialize;
use wechat_mp::{Api, DraftArticle};

use crate::accounts::AccountId;
use crate::audit::AuditAction;
use crate::error::CoreError;
use crate::store::Store;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Restored {
    /// The new draft's id in the MP console's drafts box.
    pub media_id: String,
    pub titles: Vec<String>,
}

/// The articles an archived target brings back, in their old order.
pub fn draft_articles(
    store: &Store,
    account: AccountId,
    archive_id: i64,
) -> Result<Vec<DraftArticle>, CoreError> {
    let row: Option<(String, u32)> = store
        .conn()
        .query_row(
            "SELECT a.json, coalesce(t.idx, 0) FROM archive a
             LEFT JOIN plan_targets t ON t.plan_id = a.plan_id AND t.seq = a.seq
             WHERE a.id = ?1 AND a.account_id = ?2",
            rusqlite::params![archive_id, account],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(store.err("cannot read the archive"))?;
    let Some((json, idx)) = row else {
        return Err(CoreError::NotFound(format!(
            "archived copy {archive_id} of this account"
        )));
    };
    let article: wechat_mp::Article = serde_json::from_str(&json)
        .map_err(|e| CoreError::Store(format!("archive entry {archive_id} is damaged: {e}")))?;
    let items: Vec<DraftArticle> = match idx {
        0 => article
            .news_item
            .iter()
            .filter(|i| !i.is_deleted)
            .map(DraftArticle::from)
            .collect(),
        n => article
            .news_item
            .get(n as usize - 1)
            .map(DraftArticle::from)
            .into_iter()
            .collect(),
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
                }),
            )?;
            Err(e.into())
        }
    }
}
