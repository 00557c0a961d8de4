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

/// Every live article matching `filter`, as selections, with the quota days they need.
pub async fn select_matching(
    api: &Api,
    store: &Store,
    account: AccountId,
    filter: &ArticleFilter,
) -> Result<MatchSelection, CoreError> {
    let chosen = matching(store, account, filter, MATCH_CAP)?;
    Ok(with_days(api, chosen).await)
}

/// Adds the quota days a selection's requests need (`quota/get`, cached a minute).
pub async fn with_days(api: &Api, mut chosen: MatchSelection) -> MatchSelection {
    let deletes = api.quota(DELETE_CGI_PATH).await.ok();
    let reads = api.quota(GETARTICLE_CGI_PATH).await.ok();
    chosen.days_needed = days_needed_with_reads(
        chosen.requests,
        deletes.map(|q| (q.quota.remain, q.quota.daily_limit)),
        reads.map(|q| (q.quota.remain, q.quota.daily_limit)),
    );
    chosen
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
        let (snapshot, query) = crate::search::prepare(store, &conn, account, filter)?;
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

/// At most this many links are read from one paste, and at most this many short links are
/// resolved by reading their pages (one HTTPS request each).
pub const LINKS_CAP: usize = 500;
pub const RESOLVE_CAP: usize = 50;

/// What became of one pasted link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum LinkOutcome {
    /// In this account's index, live: selected.
    Found,
    /// In this account's index, already deleted.
    AlreadyDeleted,
    /// The same article as an earlier link.
    Repeated,
    /// In the index of another account of this Retract (named in `account`).
    OtherAccount,
    /// Its `__biz` is not this account's: another Official Account, not in Retract.
    ForeignAccount,
    /// This account's link shape, not in the index: published after the last sync, or
    /// mass-sent (群发), which the API can neither list nor delete.
    NotInIndex,
    /// `__biz`, `mid` and `idx` match an indexed article but the signature (`sn`) differs:
    /// not selected, so nothing is deleted on a guess.
    Mismatch,
    /// Its page says the publisher deleted it, or it was taken down.
    GoneOnWechat,
    /// A short link whose page could not be read or did not say which article it is.
    Unresolved,
    /// Too many short links in one paste: this one was not looked up.
    NotLookedUp,
    /// An article link without the parts that name the article.
    Incomplete,
    /// Not a link to a WeChat article.
    NotAnArticleLink,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LinkMatch {
    /// The link as pasted (at most 300 characters).
    pub link: String,
    pub outcome: LinkOutcome,
    pub article_id: Option<String>,
    pub index: Option<u32>,
    pub title: Option<String>,
    /// The other Retract account that holds it.
    pub account: Option<String>,
    /// Found by reading the short link's page.
    pub resolved: bool,
    /// Why a page could not be read.
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LinkReport {
    pub links: Vec<LinkMatch>,
    /// Links found live in this account: what the paste selects.
    pub found: u32,
    /// More links were pasted than [`LINKS_CAP`]; the rest were not read.
    pub truncated: bool,
}

struct Indexed {
    account: AccountId,
    account_name: String,
    article_id: String,
    idx: u32,
    title: String,
    deleted: bool,
    sn: Option<String>,
}

/// Finds pasted links in the index. Reads the index, and the pages of short links the index
/// does not hold as such (from `pages`: `https://mp.weixin.qq.com/`, the simulator in tests).
pub async fn find_links(
    api: &Api,
    store: &Store,
    account: AccountId,
    text: &str,
    pages: &url::Url,
) -> Result<LinkReport, CoreError> {
    use crate::links::{
        LinkKey, LinkProblem, PageSays, link_candidates, parse_link, read_article_page,
    };
    use std::collections::HashSet;

    let (by_key, own_biz) = index_links(store, account)?;
    let candidates = link_candidates(text);
    let truncated = candidates.len() > LINKS_CAP;
    let mut seen: HashSet<(String, u32)> = HashSet::new();
    let mut resolved_count = 0;
    let mut links = Vec::new();
    for raw in candidates.into_iter().take(LINKS_CAP) {
        let mut m = LinkMatch {
            link: raw.chars().take(300).collect(),
            outcome: LinkOutcome::NotAnArticleLink,
            article_id: None,
            index: None,
            title: None,
            account: None,
            resolved: false,
            detail: None,
        };
        let parsed = match parse_link(&raw) {
            Ok(p) => p,
            Err(LinkProblem::NotAnArticle) => {
                links.push(m);
                continue;
            }
            Err(LinkProblem::Incomplete) => {
                m.outcome = LinkOutcome::Incomplete;
                links.push(m);
                continue;
            }
        };
        let mut key = parsed.key.clone();
        let mut sn = parsed.sn.clone();
        if let LinkKey::Short(id) = &parsed.key
            && !by_key.contains_key(&parsed.key)
        {
            if resolved_count >= RESOLVE_CAP {
                m.outcome = LinkOutcome::NotLookedUp;
                links.push(m);
                continue;
            }
            resolved_count += 1;
            let page = pages
                .join(&format!("s/{id}"))
                .map_err(|e| CoreError::Invalid(format!("bad article page address: {e}")))?;
            match api.client().fetch_page(page).await {
                Ok(html) => match read_article_page(&html) {
                    PageSays::Article(p) => {
                        key = p.key;
                        sn = p.sn;
                        m.resolved = true;
                    }
                    PageSays::Gone => {
                        m.outcome = LinkOutcome::GoneOnWechat;
                        links.push(m);
                        continue;
                    }
                    PageSays::Unclear => {
                        m.outcome = LinkOutcome::Unresolved;
                        m.detail = Some(
                            "the page did not say which article it is (a verification page?)"
                                .into(),
                        );
                        links.push(m);
                        continue;
                    }
                },
                Err(e) => {
                    m.outcome = LinkOutcome::Unresolved;
                    m.detail = Some(e.to_string());
                    links.push(m);
                    continue;
                }
            }
        }
        let hits = by_key.get(&key).map(Vec::as_slice).unwrap_or(&[]);
        let own = hits.iter().find(|h| h.account == account);
        m.outcome = match (own, hits.first()) {
            (Some(h), _) => {
                m.article_id = Some(h.article_id.clone());
                m.index = Some(h.idx);
                m.title = Some(h.title.clone());
                let signed_apart = matches!((&sn, &h.sn), (Some(a), Some(b)) if a != b);
                if signed_apart {
                    LinkOutcome::Mismatch
                } else if h.deleted {
                    LinkOutcome::AlreadyDeleted
                } else if !seen.insert((h.article_id.clone(), h.idx)) {
                    LinkOutcome::Repeated
                } else {
                    LinkOutcome::Found
                }
            }
            (None, Some(h)) => {
                m.account = Some(h.account_name.clone());
                m.title = Some(h.title.clone());
                LinkOutcome::OtherAccount
            }
            (None, None) => match &key {
                LinkKey::Long { biz, .. } if !own_biz.is_empty() && !own_biz.contains(biz) => {
                    LinkOutcome::ForeignAccount
                }
                _ => LinkOutcome::NotInIndex,
            },
        };
        links.push(m);
    }
    let found = links
        .iter()
        .filter(|l| l.outcome == LinkOutcome::Found)
        .count() as u32;
    Ok(LinkReport {
        links,
        found,
        truncated,
    })
}

type LinkIndex = std::collections::HashMap<crate::links::LinkKey, Vec<Indexed>>;

/// Every indexed article of every account by its link's key (this account's first in each
/// list), and the `__biz` values of this account's long links.
fn index_links(
    store: &Store,
    account: AccountId,
) -> Result<(LinkIndex, std::collections::HashSet<String>), CoreError> {
    use crate::links::{LinkKey, parse_link};
    let conn = store.conn();
    let mut stmt = conn
        .prepare(
            "SELECT i.account_id, a.name, i.article_id, i.idx, i.title, i.is_deleted, i.url
             FROM items i JOIN accounts a ON a.id = i.account_id
             ORDER BY i.account_id != ?1, i.account_id",
        )
        .map_err(store.err("cannot read the index"))?;
    let rows = stmt
        .query_map([account], |r| {
            Ok((
                Indexed {
                    account: r.get(0)?,
                    account_name: r.get(1)?,
                    article_id: r.get(2)?,
                    idx: r.get(3)?,
                    title: r.get(4)?,
                    deleted: r.get(5)?,
                    sn: None,
                },
                r.get::<_, String>(6)?,
            ))
        })
        .map_err(store.err("cannot read the index"))?;
    let mut by_key = LinkIndex::new();
    let mut own_biz = std::collections::HashSet::new();
    for row in rows {
        let (mut hit, url) = row.map_err(store.err("cannot read the index"))?;
        let Ok(parsed) = parse_link(&url) else {
            continue;
        };
        if let LinkKey::Long { biz, .. } = &parsed.key
            && hit.account == account
        {
            own_biz.insert(biz.clone());
        }
        hit.sn = parsed.sn;
        by_key.entry(parsed.key).or_default().push(hit);
    }
    Ok((by_key, own_biz))
}
