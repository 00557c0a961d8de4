//! The walk of WeChat's published list (`freepublish/batchget`, without HTML) into the local
//! index, and what a full re-sync costs.
//!
//! Invariants:
//! - every page is committed as it arrives: a cancelled or failed sync keeps what it fetched;
//! - an incremental sync stops at the first page whose messages are all known and unchanged
//!   (the list is newest first); a full sync walks every page;
//! - a message is marked deleted from a listing only when the walk saw exactly `total_count`
//!   messages, that count held for the whole walk, and `getarticle` proves the unlisted
//!   message gone: an empty or odd page proves nothing;
//! - the batchget quota is precious (100 a day): nothing is fetched twice within one sync.
//!
//! Length: about 510 lines, one idea — one walk of the list, whose stopping rule, page
//! commits and deleted-message proof depend on each other and read best together.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use wechat_mp::{Api, PublishedMessage};

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::identity::{self, Reviewed};
use crate::index::mark_deleted;
use crate::store::Store;

pub const BATCHGET_PATH: &str = "/cgi-bin/freepublish/batchget";

/// What a full re-sync will cost, asked before one starts: it walks the whole list again, one
/// `batchget` call per 20 messages, from the day's list quota (100 calls on a default account).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FullSyncCost {
    /// Messages in the local index now.
    pub messages: u32,
    /// `batchget` calls the walk needs, about (messages published since add pages).
    pub calls: u32,
    /// Today's list quota, when `quota/get` answered.
    pub list_remain: Option<u32>,
    pub list_limit: Option<u32>,
}

/// The cost of a full re-sync: the index's size, and what `quota/get` says is left today.
pub async fn full_sync_cost(
    api: &Api,
    store: &Store,
    account: AccountId,
) -> Result<FullSyncCost, CoreError> {
    let messages: i64 = store
        .conn()
        .query_row(
            "SELECT count(*) FROM messages WHERE account_id = ?1",
            [account],
            |r| r.get(0),
        )
        .map_err(store.err("cannot count the indexed messages"))?;
    let messages = messages as u32;
    let quota = api.quota(BATCHGET_PATH).await.ok();
    Ok(FullSyncCost {
        messages,
        calls: messages.div_ceil(PAGE).max(1),
        list_remain: quota.as_ref().map(|q| q.quota.remain),
        list_limit: quota.as_ref().map(|q| q.quota.daily_limit),
    })
}

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
    /// Messages no longer listed (full sync only) that `getarticle` proved gone, marked deleted.
    pub vanished: u32,
    /// Messages no longer listed that could not be proven gone: left as they were.
    pub unverified: u32,
    /// The walk did not see one consistent list (an empty or odd page, `total_count` changing
    /// under it): nothing was marked deleted from it.
    pub incomplete: bool,
    /// The list quota ran out (45009) before the walk ended: the next sync continues from
    /// this offset, on the next quota day.
    pub resume_at: Option<u32>,
    /// The list quota after the sync, when `quota/get` answered.
    pub list_quota: Option<ListQuota>,
    /// The order the pages read were in, by their `update_time`.
    pub order: ListOrder,
}

/// The order `batchget` listed messages in, as the `update_time` of the pages read shows it.
/// WeChat does not guarantee one: operators report lists that are not newest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum ListOrder {
    /// Too few dated messages to tell (taken as newest first, as documented).
    #[default]
    Unknown,
    NewestFirst,
    OldestFirst,
    /// Neither: an incremental sync cannot stop early and reads every page.
    NoOrder,
}

impl ListOrder {
    /// Folds in consecutive `update_time`s (0, unknown, and equal times say nothing).
    fn observe(self, times: impl IntoIterator<Item = i64>) -> Self {
        let mut order = self;
        let mut last: Option<i64> = None;
        for t in times.into_iter().filter(|t| *t > 0) {
            if let Some(prev) = last {
                let step = match t.cmp(&prev) {
                    std::cmp::Ordering::Less => Self::NewestFirst,
                    std::cmp::Ordering::Greater => Self::OldestFirst,
                    std::cmp::Ordering::Equal => order,
                };
                order = match (order, step) {
                    (Self::Unknown, step) => step,
                    (a, b) if a == b => a,
                    _ => Self::NoOrder,
                };
            }
            last = Some(t);
        }
        order
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ListQuota {
    pub used: u32,
    pub daily_limit: u32,
}

const PAGE: u32 = 20;

/// At most this many unlisted messages are asked about with `getarticle` in one sync (its
/// quota is 100 a day and deletes need it too); the rest wait for the next full sync.
const VANISH_CHECKS: usize = 20;

/// Fetches the list into the index. `on_progress` is called after every stored page.
///
/// The list's order is read from `update_time` as pages arrive ([`ListOrder`]): newest first,
/// an incremental sync stops at the first page it already knows; oldest first, it goes to the
/// end of the list (where the new messages are) and reads back until a page it knows; in no
/// order, it reads every page. Messages are stored by `article_id`, so a message listed twice
/// (an offset answering an earlier page again) is stored once and the walk is not taken as
/// the whole list.
///
/// Holds the account's queue lock: a sync and a delete run never overlap. A walk stopped by
/// 45009 keeps its place (`sync_cursor`). The next sync reads the top of the list first (what
/// was published since: "take down what we published this morning" must not wait for the
/// old pages), then continues one page before that place (whole-message deletes made in
/// between move every later message up; pages are stored idempotently, so the overlap is
/// harmless), and — unless it is a full walk — stops at the first page from that place on
/// that it already knows, instead of walking every older page.
pub async fn sync(
    api: &Api,
    store: &Store,
    account: AccountId,
    full: bool,
    cancel: &AtomicBool,
    mut on_progress: impl FnMut(&SyncProgress),
) -> Result<SyncReport, CoreError> {
    let _lock = crate::runlock::RunLock::try_acquire(store, account)?;
    let cursor: Option<u32> = store
        .conn()
        .query_row(
            "SELECT sync_cursor FROM accounts WHERE id = ?1",
            [account],
            |r| r.get(0),
        )
        .map_err(store.err("cannot read the account"))?;
    let resuming = cursor.is_some();
    let mut progress = SyncProgress::default();
    let mut seen = HashSet::new();
    let mut offset = cursor.map(|c| c.saturating_sub(PAGE)).unwrap_or(0);
    // A resumed walk reads the top page first, then goes on from its place.
    let mut top_first = resuming && offset > 0;
    let mut cancelled = false;
    let mut resume_at = None;
    let mut first_total: Option<u32> = None;
    let mut consistent = true;
    let mut order = ListOrder::Unknown;
    // The last `update_time` of the page before, when pages are read in sequence.
    let mut previous_last: Option<(u32, i64)> = None;
    let mut read: HashSet<u32> = HashSet::new();
    // Oldest first: reading back from the end of the list.
    let mut backwards = false;
    loop {
        if cancel.load(Ordering::SeqCst) {
            cancelled = true;
            break;
        }
        let at = if top_first { 0 } else { offset };
        let page = match api.batchget(at, PAGE).await {
            Ok(page) => page,
            Err(e)
                if e.class() == Some(&wechat_mp::ErrorClass::DailyQuota)
                    && (at > 0 || top_first) =>
            {
                resume_at = Some(if top_first {
                    cursor.unwrap_or(offset)
                } else {
                    offset
                });
                break;
            }
            Err(e) => {
                // A resumed walk keeps what it reached. Any other walk starts over next time:
                // an incremental sync from the top stops at the first known page, while a saved
                // cursor would make it walk every older page and spend the day's list quota.
                if resuming {
                    save_cursor(store, account, Some(offset))?;
                }
                return Err(e.into());
            }
        };
        read.insert(at);
        progress.pages += 1;
        match (first_total, page.total_count) {
            (None, Some(total)) if progress.pages == 1 => first_total = Some(total),
            (Some(a), Some(b)) if a == b => {}
            _ => consistent = false,
        }
        progress.total = page.total_count.unwrap_or(progress.total);
        consistent &= page.undecodable == 0;
        let times: Vec<i64> = page.item.iter().map(|m| m.update_time).collect();
        let joined = previous_last
            .filter(|(end, _)| *end == at)
            .map(|(_, t)| t)
            .into_iter()
            .chain(times.iter().copied());
        order = order.observe(joined);
        previous_last = times
            .iter()
            .rev()
            .find(|t| **t > 0)
            .map(|t| (at + page.item.len() as u32, *t));
        let (fresh, stored) = store_page(store, account, &page.item)?;
        consistent &= stored == page.item.len();
        progress.new_messages += fresh;
        progress.messages += page.item.len() as u32;
        let before = seen.len();
        seen.extend(page.item.iter().map(|m| m.article_id.as_str().to_string()));
        // A message listed again within the walk: the list moved, or repeats itself.
        consistent &= seen.len() - before == page.item.len();
        on_progress(&progress);
        if top_first {
            top_first = false;
            continue;
        }
        let expected = page.total_count.unwrap_or(0);
        if page.item.is_empty() {
            // An empty page before the end is not the end of the list.
            consistent &= offset >= expected;
            break;
        }
        if backwards {
            // Back from the end: done at the first page that holds nothing new, or where the
            // walk has been already.
            if fresh == 0 || offset < PAGE || read.contains(&(offset - PAGE)) {
                break;
            }
            offset -= PAGE;
            continue;
        }
        // An incremental walk ends at the first page it already knows — for a resumed one,
        // the first such page from its old place on (before it, known pages are expected).
        let past_place = cursor.is_none_or(|c| offset >= c);
        offset += PAGE;
        if offset >= expected {
            break;
        }
        if full {
            continue;
        }
        match order {
            ListOrder::Unknown | ListOrder::NewestFirst => {
                if past_place && fresh == 0 {
                    break;
                }
            }
            ListOrder::OldestFirst => {
                // The new messages are at the end: go there and read back.
                let last = (expected - 1) / PAGE * PAGE;
                if last > offset && !read.contains(&last) {
                    offset = last;
                    backwards = true;
                    previous_last = None;
                }
            }
            // No order to rely on: every page.
            ListOrder::NoOrder => {}
        }
    }
    if !cancelled {
        save_cursor(store, account, resume_at)?;
    }
    // An empty list is never taken as "everything was deleted": that is what a transient
    // empty page looks like.
    let whole_walk = full
        && !resuming
        && !cancelled
        && resume_at.is_none()
        && consistent
        && !seen.is_empty()
        && first_total == Some(seen.len() as u32);
    let (vanished, unverified) = if whole_walk {
        settle_vanished(api, store, account, &seen).await?
    } else {
        (0, 0)
    };
    if !cancelled && resume_at.is_none() {
        store
            .conn()
            .execute(
                "UPDATE accounts SET synced_at = ?1 WHERE id = ?2",
                params![crate::now_unix(), account],
            )
            .map_err(store.err("cannot record the sync time"))?;
    }
    let list_quota = api
        .quota_fresh(BATCHGET_PATH)
        .await
        .ok()
        .map(|q| ListQuota {
            used: q.quota.used,
            daily_limit: q.quota.daily_limit,
        });
    let incomplete = full && !cancelled && (!whole_walk || unverified > 0);
    store.audit(
        Some(account),
        crate::audit::AuditAction::Sync,
        &serde_json::json!({"full": full, "pages": progress.pages, "messages": progress.messages, "new": progress.new_messages, "cancelled": cancelled, "vanished": vanished, "unverified": unverified, "incomplete": incomplete, "resume_at": resume_at, "order": order}),
    )?;
    Ok(SyncReport {
        progress,
        full,
        cancelled,
        vanished,
        unverified,
        incomplete,
        resume_at,
        list_quota,
        order,
    })
}

fn save_cursor(store: &Store, account: AccountId, at: Option<u32>) -> Result<(), CoreError> {
    store
        .conn()
        .execute(
            "UPDATE accounts SET sync_cursor = ?1 WHERE id = ?2",
            params![at, account],
        )
        .map(|_| ())
        .map_err(store.err("cannot record where the sync stopped"))
}

/// Stores one page in one transaction; returns how many messages were new or changed, and
/// how many were stored. A message listed without any item (a stripped answer) is left as the
/// index has it: an empty list never replaces what was known.
fn store_page(
    store: &Store,
    account: AccountId,
    page: &[PublishedMessage],
) -> Result<(u32, usize), CoreError> {
    // When a sync learns of a delete: shown beside the row, so the wall clock will do.
    let now = crate::now_unix();
    let mut conn = store.conn();
    let tx = conn
        .transaction()
        .map_err(store.err("cannot write the index"))?;
    let mut fresh = 0;
    let mut stored = 0;
    for m in page.iter().filter(|m| !m.content.news_item.is_empty()) {
        stored += 1;
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
        // When each item was first known deleted survives the page's rewrite of the message.
        let deleted_at: HashMap<i64, i64> = {
            let mut stmt = tx
                .prepare("SELECT idx, deleted_at FROM items WHERE account_id = ?1 AND article_id = ?2 AND deleted_at IS NOT NULL")
                .map_err(store.err("cannot read the index"))?;
            let rows = stmt
                .query_map(params![account, id], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(store.err("cannot read the index"))?;
            rows.collect::<Result<_, _>>()
                .map_err(store.err("cannot read the index"))?
        };
        tx.execute(
            "DELETE FROM items WHERE account_id = ?1 AND article_id = ?2",
            params![account, id],
        )
        .map_err(store.err("cannot write the index"))?;
        for (i, item) in m.content.news_item.iter().enumerate() {
            // An entry that is not an article at all is no article to show (the page counts
            // it as undecodable, so the walk proves nothing from it).
            if item.undecodable {
                continue;
            }
            // Shown and searched as text: a list that spells `&` as `&amp;` shows `&`.
            let text = identity::unescape_html;
            let position = i as i64 + 1;
            let gone_at = if item.is_deleted {
                Some(deleted_at.get(&position).copied().unwrap_or(now))
            } else {
                None
            };
            tx.execute(
                "INSERT INTO items (account_id, article_id, idx, title, author, digest, url, is_deleted, thumb_url, deleted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![account, id, position, text(&item.title), text(&item.author), text(&item.digest), item.url, item.is_deleted, item.thumb_url, gone_at],
            )
            .map_err(store.err("cannot write the index"))?;
        }
        // A listing never brings back what Retract proved deleted (WeChat may list a delete
        // late): an item a `done` request of this message removed (known by its link, else
        // its position and normalised title) stays deleted, so it cannot be planned, and
        // deleted, again; a message Retract deleted whole stays deleted whole. A live sibling
        // with the same title is not touched.
        let done = crate::journal::done_requests(&tx, account, id)
            .map_err(store.err("cannot read the journal"))?;
        let whole_done = done.iter().any(|d| d.idx == 0);
        let reviewed: Vec<&Reviewed> = done
            .iter()
            .flat_map(|d| d.reviewed.iter().flatten())
            .collect();
        for (i, item) in m.content.news_item.iter().enumerate() {
            let position = i as u32 + 1;
            if item.undecodable || item.is_deleted {
                continue;
            }
            let deleted_by_retract = whole_done
                || reviewed
                    .iter()
                    .any(|r| identity::is_reviewed_item(r, position, &item.title, &item.url));
            if deleted_by_retract {
                let at = deleted_at.get(&i64::from(position)).copied().unwrap_or(now);
                tx.execute(
                    "UPDATE items SET is_deleted = 1, deleted_at = ?4 WHERE account_id = ?1 AND article_id = ?2 AND idx = ?3",
                    params![account, id, position, at],
                )
                .map_err(store.err("cannot write the index"))?;
            }
        }
    }
    tx.commit().map_err(store.err("cannot write the index"))?;
    Ok((fresh, stored))
}

/// Messages of the index that a whole, consistent walk no longer listed: each is marked
/// deleted only when `getarticle` proves it (every item flagged deleted, or 53600 while a live
/// control article answers). Returns (proven gone, left unverified).
async fn settle_vanished(
    api: &Api,
    store: &Store,
    account: AccountId,
    seen: &HashSet<String>,
) -> Result<(u32, u32), CoreError> {
    let ids: Vec<String> = {
        let conn = store.conn();
        let mut stmt = conn
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
    let candidates: Vec<&String> = ids.iter().filter(|id| !seen.contains(*id)).collect();
    let mut ctx = crate::recheck::ControlArticleCheck::default();
    let mut vanished = 0;
    for id in candidates.iter().take(VANISH_CHECKS) {
        if crate::recheck::message_gone(api, store, account, id, &mut ctx).await? {
            mark_deleted(store, account, id, None, crate::now_unix())?;
            vanished += 1;
        }
    }
    Ok((vanished, candidates.len() as u32 - vanished))
}
