//! Searching the index as one types: an in-memory copy of every article's title and author
//! (lower-cased) in list order, per account, checked against the database's revision.
//!
//! Why not SQL: a substring needs a scan (`instr` on 50,000 rows took ~70 ms), and FTS5's
//! trigram index only helps queries of three characters or more, while most Chinese queries
//! are one or two. Walking a list that is already in list order, with a SIMD substring finder
//! built once per query, answers every query length alike; see BENCHMARKS.md.
//!
//! Invariants:
//! - a copy is used only while `search_rev` (bumped by triggers on every change to `items`
//!   and `messages`, by any process) is the revision it was built at: never a stale answer;
//! - the list order is the one the UI shows: newest message first, then message, then
//!   position;
//! - at most [`CACHED_ACCOUNTS`] copies are kept (about 100 bytes an article).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use memchr::memmem::Finder;
use rusqlite::Connection;

use crate::ids::AccountId;

pub(crate) const CACHED_ACCOUNTS: usize = 8;

/// One article as search sees it.
struct Entry {
    rowid: i64,
    time: i64,
    title: Box<str>,
    author: Box<str>,
    article_id: Box<str>,
    idx: u32,
    deleted: bool,
}

/// One account's articles in list order, at one revision of the database.
pub(crate) struct Snapshot {
    rev: i64,
    entries: Vec<Entry>,
}

/// What a query matched: how many, and the `items` rowids of the requested window.
pub(crate) struct Matches {
    pub total: u32,
    pub rowids: Vec<i64>,
}

#[derive(Default)]
pub(crate) struct Cache {
    // (snapshot, last use) per account.
    copies: Mutex<HashMap<AccountId, (Arc<Snapshot>, u64)>>,
    uses: std::sync::atomic::AtomicU64,
}

impl Cache {
    /// The account's copy at the database's current revision, built if needed.
    pub(crate) fn snapshot(
        &self,
        conn: &Connection,
        account: AccountId,
    ) -> rusqlite::Result<Arc<Snapshot>> {
        let rev: i64 = conn.query_row("SELECT n FROM search_rev", [], |r| r.get(0))?;
        let tick = self.uses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut copies = self.copies.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((snap, used)) = copies.get_mut(&account)
            && snap.rev == rev
        {
            *used = tick;
            return Ok(snap.clone());
        }
        let snap = Arc::new(build(conn, account, rev)?);
        copies.insert(account, (snap.clone(), tick));
        if copies.len() > CACHED_ACCOUNTS
            && let Some(oldest) = copies
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(k, _)| *k)
        {
            copies.remove(&oldest);
        }
        Ok(snap)
    }

    #[cfg(test)]
    fn cached(&self) -> usize {
        self.copies.lock().map(|c| c.len()).unwrap_or(0)
    }
}

/// What the list is narrowed to: text, a date range, live articles only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleFilter {
    /// Substring of the title or the author (Chinese works; ASCII is case-insensitive).
    pub query: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    /// Leave out deleted articles ("隐藏已删除").
    pub live_only: bool,
}

fn build(conn: &Connection, account: AccountId, rev: i64) -> rusqlite::Result<Snapshot> {
    let mut stmt = conn.prepare(
        "SELECT i.rowid, m.update_time, i.title, i.author, i.article_id, i.idx, i.is_deleted
         FROM items i JOIN messages m ON m.account_id = i.account_id AND m.article_id = i.article_id
         WHERE i.account_id = ?1 ORDER BY m.update_time DESC, i.article_id, i.idx",
    )?;
    let entries = stmt
        .query_map([account], |r| {
            Ok(Entry {
                rowid: r.get(0)?,
                time: r.get(1)?,
                title: fold(&r.get::<_, String>(2)?).into_boxed_str(),
                author: fold(&r.get::<_, String>(3)?).into_boxed_str(),
                article_id: r.get::<_, String>(4)?.into_boxed_str(),
                idx: r.get(5)?,
                deleted: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Snapshot { rev, entries })
}

/// The account's current copy (the caller holds the store's connection) and the filter's text
/// as the copy compares it.
pub(crate) fn prepare(
    store: &crate::store::Store,
    conn: &Connection,
    account: AccountId,
    filter: &ArticleFilter,
) -> Result<(Arc<Snapshot>, String), crate::CoreError> {
    let snapshot = store
        .search_cache()
        .snapshot(conn, account)
        .map_err(store.err("cannot search the index"))?;
    Ok((snapshot, fold(filter.query.as_deref().unwrap_or("").trim())))
}

/// What both sides of a comparison are reduced to: Unicode lower case.
pub(crate) fn fold(text: &str) -> String {
    text.to_lowercase()
}

impl Snapshot {
    /// The articles published in `[from, to)` whose title or author holds `query` (already
    /// folded and trimmed; empty matches all): the total, and rowids `offset..offset + limit`.
    pub(crate) fn find(
        &self,
        query: &str,
        from: Option<i64>,
        to: Option<i64>,
        live_only: bool,
        offset: usize,
        limit: usize,
    ) -> Matches {
        let mut total = 0usize;
        let mut rowids = Vec::new();
        self.each_match(query, from, to, |_, e| {
            if live_only && e.deleted {
                return;
            }
            if total >= offset && rowids.len() < limit {
                rowids.push(e.rowid);
            }
            total += 1;
        });
        Matches {
            total: total as u32,
            rowids,
        }
    }

    /// Calls `keep` with the position and entry of every match, in list order.
    fn each_match(
        &self,
        query: &str,
        from: Option<i64>,
        to: Option<i64>,
        mut keep: impl FnMut(usize, &Entry),
    ) {
        // Newest first: `to` (exclusive) cuts the front, `from` (inclusive) the back.
        let start = to.map_or(0, |to| self.entries.partition_point(|e| e.time >= to));
        let end = from.map_or(self.entries.len(), |from| {
            self.entries.partition_point(|e| e.time >= from)
        });
        let range = self.entries.get(start..end.max(start)).unwrap_or(&[]);
        let finder = Finder::new(query.as_bytes());
        for (i, e) in range.iter().enumerate() {
            let hit = query.is_empty()
                || finder.find(e.title.as_bytes()).is_some()
                || finder.find(e.author.as_bytes()).is_some();
            if hit {
                keep(start + i, e);
            }
        }
    }

    /// The live articles that match, grouped by message in list order: for each message, its
    /// id, the positions that match, and how many live items it has in all.
    pub(crate) fn live_matches_by_message(
        &self,
        query: &str,
        from: Option<i64>,
        to: Option<i64>,
    ) -> Vec<MessageMatch> {
        let mut out: Vec<MessageMatch> = Vec::new();
        self.each_match(query, from, to, |at, e| {
            if e.deleted {
                return;
            }
            match out.last_mut() {
                Some(m) if *m.article_id == *e.article_id => m.matched.push(e.idx),
                _ => out.push(MessageMatch {
                    article_id: e.article_id.to_string(),
                    matched: vec![e.idx],
                    live: self.live_items_around(at),
                }),
            }
        });
        out
    }

    /// Live items of the message at `at`: its items sit next to each other in list order.
    fn live_items_around(&self, at: usize) -> u32 {
        let id = &self.entries[at].article_id;
        let same = |e: &&Entry| e.article_id == *id;
        let before = self.entries[..at].iter().rev().take_while(same);
        let after = self.entries[at..].iter().take_while(same);
        before.chain(after).filter(|e| !e.deleted).count() as u32
    }
}

/// One message's share of a rule's matches.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct MessageMatch {
    pub article_id: String,
    /// Positions (1-based) of the live items that match, in list order.
    pub matched: Vec<u32>,
    /// Live items of the message in all (matched or not).
    pub live: u32,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn snapshot(rows: &[(i64, &str, &str)]) -> Snapshot {
        Snapshot {
            rev: 1,
            entries: rows
                .iter()
                .enumerate()
                .map(|(i, (time, title, author))| Entry {
                    rowid: i as i64 + 1,
                    time: *time,
                    title: fold(title).into(),
                    author: fold(author).into(),
                    article_id: format!("m{time}").into(),
                    idx: 1,
                    deleted: false,
                })
                .collect(),
        }
    }

    #[test]
    fn hiding_deleted_articles_leaves_them_out_of_the_total_and_the_window() {
        let mut s = snapshot(&[(40, "a", ""), (30, "b", ""), (20, "c", ""), (10, "d", "")]);
        s.entries[1].deleted = true;
        s.entries[3].deleted = true;
        assert_eq!(s.find("", None, None, false, 0, 10).total, 4);
        let live = s.find("", None, None, true, 0, 10);
        assert_eq!((live.total, live.rowids), (2, vec![1, 3]));
        // The window counts live articles only: the second live one is at offset 1.
        assert_eq!(s.find("", None, None, true, 1, 1).rowids, vec![3]);
    }

    #[test]
    fn a_query_matches_title_or_author_in_any_case_and_never_across_the_two() {
        let s = snapshot(&[
            (30, "双十一 Sale 预告", "品牌中心"),
            (20, "Ärger im Büro", "Editor"),
            (10, "周报", "Sale Team"),
        ]);
        assert_eq!(s.find("sale", None, None, false, 0, 10).rowids, vec![1, 3]);
        assert_eq!(s.find("双", None, None, false, 0, 10).rowids, vec![1]);
        assert_eq!(
            s.find(&fold("ÄRGER"), None, None, false, 0, 10).rowids,
            vec![2]
        );
        // "预告" ends the title and "品牌" starts the author: no match across them.
        assert_eq!(s.find("预告品牌", None, None, false, 0, 10).total, 0);
        assert_eq!(s.find("", None, None, false, 0, 10).total, 3);
    }

    #[test]
    fn dates_bound_the_list_and_the_window_pages_through_the_matches() {
        let s = snapshot(&[
            (50, "a", ""),
            (40, "a", ""),
            (40, "b", ""),
            (30, "a", ""),
            (10, "a", ""),
        ]);
        // from inclusive, to exclusive.
        assert_eq!(
            s.find("", Some(30), Some(50), false, 0, 10).rowids,
            vec![2, 3, 4]
        );
        assert_eq!(s.find("a", Some(40), None, false, 0, 10).rowids, vec![1, 2]);
        assert_eq!(s.find("a", None, Some(11), false, 0, 10).rowids, vec![5]);
        assert_eq!(s.find("a", Some(60), None, false, 0, 10).total, 0);
        assert_eq!(
            s.find("a", Some(40), Some(30), false, 0, 10).total,
            0,
            "an empty range"
        );
        let page = s.find("a", None, None, false, 1, 2);
        assert_eq!((page.total, page.rowids), (4, vec![2, 4]));
    }

    #[test]
    fn matches_group_by_message_and_know_each_message_s_live_items() {
        let item = |time: i64, id: &str, idx: u32, title: &str, deleted: bool| Entry {
            rowid: 0,
            time,
            title: fold(title).into(),
            author: "".into(),
            article_id: id.into(),
            idx,
            deleted,
        };
        let s = Snapshot {
            rev: 1,
            entries: vec![
                item(30, "a", 1, "campaign 2024 intro", false),
                item(30, "a", 2, "campaign 2024 prizes", false),
                item(30, "a", 3, "old campaign 2024 note", true),
                item(20, "b", 1, "campaign 2024 recap", false),
                item(20, "b", 2, "weekly news", false),
                item(10, "c", 1, "campaign 2024 deleted", true),
            ],
        };
        let found = s.live_matches_by_message("campaign 2024", None, None);
        assert_eq!(
            found,
            vec![
                MessageMatch {
                    article_id: "a".into(),
                    matched: vec![1, 2],
                    live: 2
                },
                MessageMatch {
                    article_id: "b".into(),
                    matched: vec![1],
                    live: 2
                },
            ]
        );
        assert_eq!(
            s.live_matches_by_message("campaign", Some(25), None).len(),
            1
        );
    }

    #[test]
    fn only_the_most_recently_used_accounts_stay_cached() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE search_rev (n INTEGER NOT NULL); INSERT INTO search_rev VALUES (1);
             CREATE TABLE messages (account_id, article_id, update_time);
             CREATE TABLE items (account_id, article_id, idx, title, author, is_deleted);",
        )
        .unwrap();
        let cache = Cache::default();
        for id in 1..=(CACHED_ACCOUNTS as i64 + 3) {
            cache.snapshot(&conn, AccountId(id)).unwrap();
        }
        assert_eq!(cache.cached(), CACHED_ACCOUNTS);
    }
}
