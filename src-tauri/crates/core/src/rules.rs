//! Selecting by rule: every live article that matches the current search and date range,
//! turned into the fewest delete requests (a message whose every live item matches goes as one
//! whole-message request), with what it costs in quota days. Nothing is planned here: the
//! operator sees the selection in the list, and the review and two-step confirm follow as for
//! any selection.

use serde::Serialize;
use wechat_mp::{Api, DELETE_CGI_PATH};

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::index::ArticleFilter;
use crate::plan::{GETARTICLE_CGI_PATH, Selection, days_needed_with_reads};
use crate::store::Store;

/// At most this many articles are selected by one rule (50 days of a default account's delete
/// quota); the operator narrows the search for more, and is told so.
pub const MATCH_CAP: u32 = 500;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MatchSelection {
    /// Whole messages first, in list order, then single items.
    pub picks: Vec<Pick>,
    /// Live articles selected.
    pub articles: u32,
    /// Delete requests they need (a whole message is one).
    pub requests: u32,
    /// Messages taken whole because every live item matched.
    pub whole_messages: u32,
    /// Live articles that matched in all; more than `articles` when the cap was reached.
    pub matched: u32,
    /// The cap stopped the selection (at a message boundary).
    pub capped: bool,
    pub cap: u32,
    /// Quota days the requests need, when the quota could be read.
    pub days_needed: Option<u32>,
}

/// One request of a rule's selection, with the live articles it removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Pick {
    pub selection: Selection,
    pub articles: u32,
}

impl MatchSelection {
    /// What `plan::create` takes.
    pub fn selections(&self) -> Vec<Selection> {
        self.picks.iter().map(|p| p.selection.clone()).collect()
    }
}

/// Every live article matching `filter`, as selections.
pub async fn select_matching(
    api: &Api,
    store: &Store,
    account: AccountId,
    filter: &ArticleFilter,
) -> Result<MatchSelection, CoreError> {
    let mut chosen = matching(store, account, filter, MATCH_CAP)?;
    let deletes = api.quota(DELETE_CGI_PATH).await.ok();
    let reads = api.quota(GETARTICLE_CGI_PATH).await.ok();
    chosen.days_needed = days_needed_with_reads(
        chosen.requests,
        deletes.map(|q| (q.quota.remain, q.quota.daily_limit)),
        reads.map(|q| (q.quota.remain, q.quota.daily_limit)),
    );
    Ok(chosen)
}

/// The selection without the quota: reads the index only.
pub fn matching(
    store: &Store,
    account: AccountId,
    filter: &ArticleFilter,
    cap: u32,
) -> Result<MatchSelection, CoreError> {
    let found = {
        let conn = store.conn();
        let snapshot = store
            .search_cache()
            .snapshot(&conn, account)
            .map_err(store.err("cannot search the index"))?;
        let query = crate::search::fold(filter.query.as_deref().unwrap_or("").trim());
        snapshot.live_matches_by_message(&query, filter.from, filter.to)
    };
    let matched: u32 = found.iter().map(|m| m.matched.len() as u32).sum();
    let (mut wholes, mut items) = (Vec::new(), Vec::new());
    let mut articles = 0;
    let mut capped = false;
    for m in found {
        let count = m.matched.len() as u32;
        if articles + count > cap {
            capped = true;
            break;
        }
        articles += count;
        if m.live >= 2 && count == m.live {
            wholes.push(Pick {
                selection: Selection::WholeMessage {
                    article_id: m.article_id,
                },
                articles: count,
            });
        } else {
            items.extend(m.matched.into_iter().map(|index| Pick {
                selection: Selection::Item {
                    article_id: m.article_id.clone(),
                    index,
                },
                articles: 1,
            }));
        }
    }
    let whole_messages = wholes.len() as u32;
    let requests = whole_messages + items.len() as u32;
    wholes.extend(items);
    Ok(MatchSelection {
        picks: wholes,
        articles,
        requests,
        whole_messages,
        matched,
        capped,
        cap,
        days_needed: None,
    })
}
