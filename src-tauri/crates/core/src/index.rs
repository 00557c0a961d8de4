//! The local article index: filled from `freepublish/batchget` (without HTML), searched
//! without any API call.
//!
//! Invariants:
//! - every page is committed as it arrives: a cancelled or failed sync keeps what it fetched;
//! - an incremental sync stops at the first page whose messages are all known and unchanged
//!   (the list is newest first); a full sync walks every page and marks messages that are no
//!   longer listed as deleted;
//! - the batchget quota is precious (100 a day): nothing is fetched twice within one sync.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use wechat_mp::{Api, PublishedMessage};

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::store::Store;

pub const BATCHGET_PATH: &str = "/cgi-bin/freepublish/batchget";

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncProgress {
    pub pages: u32,
    pub messages: u32,
    pub new_messages: u32,
    /// `total_count` as WeChat reported it on the last page.
    pub total: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SyncReport {
    pub progress: SyncProgress,
    pub full: bool,
    pub cancelled: bool,
    /// Messages that disappeared from the list (full sync only) and were marked deleted.
    pub vanished: u32,
    /// The list quota after the sync, when `quota/get` answered.
    pub list_quota: Option<ListQuota>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ListQuota {
    pub used: u32,
    pub daily_limit: u32,
}

/// One article (item) of a message, as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ArticleRow {
    pub article_id: String,
    /// 1-based position inside the message.
    pub index: u32,
    pub item_count: u32,
    pub title: String,
    pub author: String,
    pub digest: String,
    pub url: String,
    /// Unix seconds.
    pub publish_time: i64,
    pub is_deleted: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleFilter {
    /// Substring of the title or the author (Chinese works; ASCII is case-insensitive).
    pub query: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

const PAGE: u32 = 20;

/// Fetches the list into the index. `on_progress` is called after every stored page.
pub async fn sync(
    api: &Api,
    store: &Store,
    account: AccountId,
    full: bool,
    cancel: &AtomicBool,
    mut on_progress: impl FnMut(&SyncProgress),
) -> Result<SyncReport, CoreError> {
    let mut progress = SyncProgress::default();
    let mut seen = HashSet::new();
    let mut offset = 0;
    let mut cancelled = false;
    loop {
        if cancel.load(Ordering::SeqCst) {
            cancelled = true;
            break;
        }
        let page = api.batchget(offset, PAGE).await?;
        progress.pages += 1;
        progress.total = page.total_count;
        let fresh = store_page(store, account, &page.item)?;
        progress.new_messages += fresh;
        progress.messages += page.item.len() as u32;
        seen.extend(page.item.iter().map(|m| m.article_id.as_str().to_string()));
        on_progress(&progress);
        offset += PAGE;
        let end = page.item.is_empty() || offset >= page.total_count;
        if end || (!full && fresh == 0) {
            break;
        }
    }
    let vanished = if full && !cancelled {
        mark_vanished(store, account, &seen)?
    } else {
        0
    };
    if !cancelled {
        store
            .conn()
            .execute(
                "UPDATE accounts SET synced_at = ?1 WHERE id = ?2",
                params![crate::now_unix(), account],
            )
            .map_err(store.err("cannot record the sync time"))?;
    }
    let list_quota = api.quota(BATCHGET_PATH).await.ok().map(|q| ListQuota {
        used: q.quota.used,
        daily_limit: q.quota.daily_limit,
    });
    store.audit(
        Some(account),
        "sync",
        &serde_json::json!({"full": full, "pages": progress.pages, "messages": progress.messages, "new": progress.new_messages, "cancelled": cancelled, "vanished": vanished}),
    )?;
    Ok(SyncReport {
        progress,
        full,
        cancelled,
        vanished,
        list_quota,
    })
}

/// Stores one page in one transaction; returns how many messages were new or changed.
fn store_page(
    store: &Store,
    account: AccountId,
    page: &[PublishedMessage],
) -> Result<u32, CoreError> {
    let mut conn = store.conn();
    let tx = conn
        .transaction()
        .map_err(store.err("cannot write the index"))?;
    let mut fresh = 0;
    for m in page {
        let id = m.article_id.as_str();
        let known: Option<(i64, i64)> = tx
            .query_row(
                "SELECT update_time, (SELECT count(*) FROM items WHERE account_id = ?1 AND article_id = ?2 AND is_deleted = 1)
                 FROM messages WHERE account_id = ?1 AND article_id = ?2",
                params![account, id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(store.err("cannot read the index"))?;
        let deleted_now = m.content.news_item.iter().filter(|i| i.is_deleted).count() as i64;
        if known != Some((m.update_time, deleted_now)) {
            fresh += 1;
        }
        tx.execute(
            "INSERT INTO messages (account_id, article_id, update_time, item_count) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (account_id, article_id) DO UPDATE SET update_time = excluded.update_time, item_count = excluded.item_count",
            params![account, id, m.update_time, m.content.news_item.len() as i64],
        )
        .map_err(store.err("cannot write the index"))?;
        tx.execute(
            "DELETE FROM items WHERE account_id = ?1 AND article_id = ?2",
            params![account, id],
        )
        .map_err(store.err("cannot write the index"))?;
        for (i, item) in m.content.news_item.iter().enumerate() {
            tx.execute(
                "INSERT INTO items (account_id, article_id, idx, title, author, digest, url, is_deleted) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![account, id, i as i64 + 1, item.title, item.author, item.digest, item.url, item.is_deleted],
            )
            .map_err(store.err("cannot write the index"))?;
        }
    }
    tx.commit().map_err(store.err("cannot write the index"))?;
    Ok(fresh)
}

fn mark_vanished(
    store: &Store,
    account: AccountId,
    seen: &HashSet<String>,
) -> Result<u32, CoreError> {
    let mut conn = store.conn();
    let tx = conn
        .transaction()
        .map_err(store.err("cannot write the index"))?;
    let ids: Vec<String> = {
        let mut stmt = tx
            .prepare(
                "SELECT DISTINCT article_id FROM items WHERE account_id = ?1 AND is_deleted = 0",
            )
            .map_err(store.err("cannot read the index"))?;
        let rows = stmt
            .query_map([account], |r| r.get(0))
            .map_err(store.err("cannot read the index"))?;
        rows.collect::<Result<_, _>>()
            .map_err(store.err("cannot read the index"))?
    };
    let mut vanished = 0;
    for id in ids.iter().filter(|id| !seen.contains(*id)) {
        tx.execute(
            "UPDATE items SET is_deleted = 1 WHERE account_id = ?1 AND article_id = ?2",
            params![account, id],
        )
        .map_err(store.err("cannot write the index"))?;
        vanished += 1;
    }
    tx.commit().map_err(store.err("cannot write the index"))?;
    Ok(vanished)
}

fn filter_sql(filter: &ArticleFilter) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut sql = String::from(
        " FROM items i JOIN messages m ON m.account_id = i.account_id AND m.article_id = i.article_id WHERE i.account_id = ?1",
    );
    let mut args: Vec<Value> = Vec::new();
    if let Some(q) = filter
        .query
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
    {
        args.push(Value::Text(q.to_lowercase()));
        let n = args.len() + 1;
        sql.push_str(&format!(
            " AND (instr(lower(i.title), ?{n}) > 0 OR instr(lower(i.author), ?{n}) > 0)"
        ));
    }
    if let Some(from) = filter.from {
        args.push(Value::Integer(from));
        sql.push_str(&format!(" AND m.update_time >= ?{}", args.len() + 1));
    }
    if let Some(to) = filter.to {
        args.push(Value::Integer(to));
        sql.push_str(&format!(" AND m.update_time < ?{}", args.len() + 1));
    }
    (sql, args)
}

/// One window of the filtered list (newest first) and the total it is a window of.
pub fn search(
    store: &Store,
    account: AccountId,
    filter: &ArticleFilter,
    offset: u32,
    limit: u32,
) -> Result<(u32, Vec<ArticleRow>), CoreError> {
    let (from_where, args) = filter_sql(filter);
    let conn = store.conn();
    let mut all: Vec<rusqlite::types::Value> = vec![account.into()];
    all.extend(args);
    let total: i64 = conn
        .query_row(
            &format!("SELECT count(*){from_where}"),
            rusqlite::params_from_iter(all.iter()),
            |r| r.get(0),
        )
        .map_err(store.err("cannot search the index"))?;
    let sql = format!(
        "SELECT i.article_id, i.idx, m.item_count, i.title, i.author, i.digest, i.url, m.update_time, i.is_deleted{from_where}
         ORDER BY m.update_time DESC, i.article_id, i.idx LIMIT {} OFFSET {}",
        limit.min(500),
        offset
    );
    let mut stmt = conn
        .prepare(&sql)
        .map_err(store.err("cannot search the index"))?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(all.iter()), row_to_article)
        .map_err(store.err("cannot search the index"))?;
    let rows = rows
        .collect::<Result<_, _>>()
        .map_err(store.err("cannot search the index"))?;
    Ok((total as u32, rows))
}

/// Every item of one message, in position order.
pub fn message_items(
    store: &Store,
    account: AccountId,
    article_id: &str,
) -> Result<Vec<ArticleRow>, CoreError> {
    let conn = store.conn();
    let mut stmt = conn
        .prepare(
            "SELECT i.article_id, i.idx, m.item_count, i.title, i.author, i.digest, i.url, m.update_time, i.is_deleted
             FROM items i JOIN messages m ON m.account_id = i.account_id AND m.article_id = i.article_id
             WHERE i.account_id = ?1 AND i.article_id = ?2 ORDER BY i.idx",
        )
        .map_err(store.err("cannot read the index"))?;
    let rows = stmt
        .query_map(params![account, article_id], row_to_article)
        .map_err(store.err("cannot read the index"))?;
    rows.collect::<Result<_, _>>()
        .map_err(store.err("cannot read the index"))
}

/// Marks one item (or, with `index` None, every item) of a message deleted in the index.
pub fn mark_deleted(
    store: &Store,
    account: AccountId,
    article_id: &str,
    index: Option<u32>,
) -> Result<(), CoreError> {
    let conn = store.conn();
    match index {
        Some(i) => conn.execute(
            "UPDATE items SET is_deleted = 1 WHERE account_id = ?1 AND article_id = ?2 AND idx = ?3",
            params![account, article_id, i],
        ),
        None => conn.execute(
            "UPDATE items SET is_deleted = 1 WHERE account_id = ?1 AND article_id = ?2",
            params![account, article_id],
        ),
    }
    .map(|_| ())
    .map_err(store.err("cannot update the index"))
}

fn row_to_article(r: &rusqlite::Row<'_>) -> rusqlite::Result<ArticleRow> {
    Ok(ArticleRow {
        article_id: r.get(0)?,
        index: r.get(1)?,
        item_count: r.get(2)?,
        title: r.get(3)?,
        author: r.get(4)?,
        digest: r.get(5)?,
        url: r.get(6)?,
        publish_time: r.get(7)?,
        is_deleted: r.get(8)?,
    })
}
