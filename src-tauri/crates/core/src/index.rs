//! The local article index: what the list shows and searches, without any API call. The
//! walk that fills it from `freepublish/batchget` is `sync.rs`; this module reads it (search,
//! a message's items, a cover's address) and records what it learns was deleted.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::store::Store;
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
    /// Unix seconds: when this index learnt the article was deleted (by Retract, or by a sync);
    /// None for live articles and for deletes learnt before schema 10.
    pub deleted_at: Option<i64>,
    /// WeChat listed a cover for it (the shell serves it from its cover cache).
    pub has_cover: bool,
}

pub use crate::search::ArticleFilter;

/// What [`row_to_article`] reads, from the join of an item and its message.
const ARTICLE_COLUMNS: &str = "i.article_id, i.idx, m.item_count, i.title, i.author, i.digest, i.url, m.update_time, i.is_deleted, i.deleted_at, i.thumb_url <> ''";
const ARTICLE_JOIN: &str =
    "FROM items i JOIN messages m ON m.account_id = i.account_id AND m.article_id = i.article_id";

/// `SELECT` of article rows, for a `WHERE` to follow.
fn article_rows() -> String {
    format!("SELECT {ARTICLE_COLUMNS} {ARTICLE_JOIN}")
}

/// One window of the filtered list (newest first) and the total it is a window of. Reads the
/// account's in-memory search copy (rebuilt when the index changed), then the window's rows.
pub fn search(
    store: &Store,
    account: AccountId,
    filter: &ArticleFilter,
    offset: u32,
    limit: u32,
) -> Result<(u32, Vec<ArticleRow>), CoreError> {
    let conn = store.conn();
    let (snapshot, query) = crate::search::prepare(store, &conn, account, filter)?;
    let found = snapshot.find(
        &query,
        filter.from,
        filter.to,
        filter.live_only,
        offset as usize,
        limit.min(500) as usize,
    );
    let mut stmt = conn
        .prepare_cached(&format!("{} WHERE i.rowid = ?1", article_rows()))
        .map_err(store.err("cannot search the index"))?;
    let mut rows = Vec::with_capacity(found.rowids.len());
    for rowid in found.rowids {
        // The copy was taken under this same lock at the current revision: every row exists.
        let row = stmt
            .query_row([rowid], row_to_article)
            .map_err(store.err("cannot search the index"))?;
        rows.push(row);
    }
    Ok((found.total, rows))
}

/// The same answer as [`search`] by a full SQL scan (`instr` on every title and author; ASCII
/// case-insensitive only): the reference the in-memory search is checked and measured against.
#[doc(hidden)]
pub fn search_by_scan(
    store: &Store,
    account: AccountId,
    filter: &ArticleFilter,
    offset: u32,
    limit: u32,
) -> Result<(u32, Vec<ArticleRow>), CoreError> {
    use rusqlite::types::Value;
    let mut from_where = format!(" {ARTICLE_JOIN} WHERE i.account_id = ?1");
    let mut args: Vec<Value> = vec![account.into()];
    if let Some(q) = filter
        .query
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
    {
        args.push(Value::Text(q.to_lowercase()));
        let n = args.len();
        from_where.push_str(&format!(
            " AND (instr(lower(i.title), ?{n}) > 0 OR instr(lower(i.author), ?{n}) > 0)"
        ));
    }
    if let Some(from) = filter.from {
        args.push(Value::Integer(from));
        from_where.push_str(&format!(" AND m.update_time >= ?{}", args.len()));
    }
    if let Some(to) = filter.to {
        args.push(Value::Integer(to));
        from_where.push_str(&format!(" AND m.update_time < ?{}", args.len()));
    }
    let conn = store.conn();
    let total: i64 = conn
        .query_row(
            &format!("SELECT count(*){from_where}"),
            rusqlite::params_from_iter(args.iter()),
            |r| r.get(0),
        )
        .map_err(store.err("cannot search the index"))?;
    let sql = format!(
        "SELECT {ARTICLE_COLUMNS}{from_where}
         ORDER BY m.update_time DESC, i.article_id, i.idx LIMIT {} OFFSET {offset}",
        limit.min(500)
    );
    let mut stmt = conn
        .prepare(&sql)
        .map_err(store.err("cannot search the index"))?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args.iter()), row_to_article)
        .map_err(store.err("cannot search the index"))?
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
        .prepare(&format!(
            "{} WHERE i.account_id = ?1 AND i.article_id = ?2 ORDER BY i.idx",
            article_rows()
        ))
        .map_err(store.err("cannot read the index"))?;
    let rows = stmt
        .query_map(params![account, article_id], row_to_article)
        .map_err(store.err("cannot read the index"))?;
    rows.collect::<Result<_, _>>()
        .map_err(store.err("cannot read the index"))
}

/// Marks one item (or, with `index` None, every item) of a message deleted in the index.
/// `at` (unix seconds) is kept as when it went, unless an earlier time is known.
pub fn mark_deleted(
    store: &Store,
    account: AccountId,
    article_id: &str,
    index: Option<u32>,
    at: i64,
) -> Result<(), CoreError> {
    let conn = store.conn();
    match index {
        Some(i) => conn.execute(
            "UPDATE items SET is_deleted = 1, deleted_at = coalesce(deleted_at, ?4) WHERE account_id = ?1 AND article_id = ?2 AND idx = ?3",
            params![account, article_id, i, at],
        ),
        None => conn.execute(
            "UPDATE items SET is_deleted = 1, deleted_at = coalesce(deleted_at, ?3) WHERE account_id = ?1 AND article_id = ?2",
            params![account, article_id, at],
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
        deleted_at: r.get(9)?,
        has_cover: r.get(10)?,
    })
}

/// The cover WeChat listed for one article (`thumb_url`), if any: the shell fetches it.
pub fn cover_url(
    store: &Store,
    account: AccountId,
    article_id: &str,
    index: u32,
) -> Result<Option<String>, CoreError> {
    store
        .conn()
        .query_row(
            "SELECT thumb_url FROM items WHERE account_id = ?1 AND article_id = ?2 AND idx = ?3 AND thumb_url <> ''",
            params![account, article_id, index],
            |r| r.get(0),
        )
        .optional()
        .map_err(store.err("cannot read the index"))
}
