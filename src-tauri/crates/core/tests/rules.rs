//! Selecting by rule and spending less quota, on a real SQLite index synced from the
//! simulator: whole messages where every live item matches, the cap, and the review's offer to
//! merge item-by-item requests into one whole-message request.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use retract_core::accounts::SecretStorage;
use retract_core::index::ArticleFilter;
use retract_core::plan::{self, Selection};
use retract_core::rules;
use wechat_sim::DEMO_APPID;

mod common;
use common::*;

/// Renames items in the index through a second connection, as another process would.
fn retitle(w: &World, article_id: &str, idx: u32, title: &str) {
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    let n = conn
        .execute(
            "UPDATE items SET title = ?1 WHERE article_id = ?2 AND idx = ?3",
            rusqlite::params![title, article_id, idx],
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_rule_selects_whole_messages_where_every_live_item_matches_and_items_elsewhere() {
    let w = world(80).await;
    let (id, api) = synced_account(&w, SecretStorage::Keyring).await;
    let messages = w.sim.messages(DEMO_APPID);
    let multi: Vec<_> = messages
        .iter()
        .filter(|m| m.items.len() >= 3)
        .take(2)
        .collect();
    let single = messages.iter().find(|m| m.items.len() == 1).unwrap();
    let (whole, partial) = (multi[0], multi[1]);
    for i in 1..=whole.items.len() as u32 {
        retitle(&w, &whole.article_id, i, &format!("Campaign 2024 part {i}"));
    }
    retitle(
        &w,
        &partial.article_id,
        2,
        "campaign 2024 (an item of a longer message)",
    );
    retitle(&w, &single.article_id, 1, "CAMPAIGN 2024 single");
    let filter = ArticleFilter {
        query: Some(" campaign 2024 ".into()),
        ..Default::default()
    };

    let chosen = rules::select_matching(&api, w.store(), id, &filter)
        .await
        .unwrap();
    let n = whole.items.len() as u32;
    assert_eq!(chosen.articles, n + 2);
    assert_eq!(chosen.matched, n + 2);
    assert_eq!((chosen.requests, chosen.whole_messages), (3, 1));
    assert!(!chosen.capped);
    assert_eq!(chosen.days_needed, Some(1), "3 requests fit today's 10");
    assert_eq!(
        chosen.selections()[0],
        Selection::WholeMessage {
            article_id: whole.article_id.clone()
        }
    );
    for item in [
        Selection::Item {
            article_id: partial.article_id.clone(),
            index: 2,
        },
        Selection::Item {
            article_id: single.article_id.clone(),
            index: 1,
        },
    ] {
        assert!(chosen.selections().contains(&item), "{item:?}");
    }
    assert_eq!(chosen.picks.len(), 3);
    assert_eq!(
        chosen.picks[0].articles, n,
        "a whole message counts its live items"
    );

    // The selection plans as it says: 3 requests for n + 2 articles.
    let planned = plan::create(&api, w.store(), id, &chosen.selections())
        .await
        .unwrap();
    assert_eq!((planned.requests, planned.articles), (3, n + 2));
    assert!(planned.mergeable.is_empty(), "nothing left to merge");

    // A deleted item no longer counts: the message's other items are still all it has live.
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    conn.execute(
        "UPDATE items SET is_deleted = 1 WHERE article_id = ?1 AND idx = 1",
        [&whole.article_id],
    )
    .unwrap();
    let after = rules::matching(w.store(), id, &filter, rules::MATCH_CAP).unwrap();
    assert_eq!((after.articles, after.whole_messages), (n + 1, 1));

    // The cap stops at a message boundary and says so.
    let capped = rules::matching(w.store(), id, &filter, n).unwrap();
    assert!(capped.capped);
    assert!(capped.articles <= n && capped.articles < capped.matched);
    assert_eq!(capped.matched, n + 1);
}

#[tokio::test]
async fn the_review_offers_one_whole_message_request_for_every_live_item_selected_one_by_one() {
    let w = world(40).await;
    let (id, api) = synced_account(&w, SecretStorage::Keyring).await;
    let messages = w.sim.messages(DEMO_APPID);
    let m = messages.iter().find(|m| m.items.len() >= 3).unwrap();
    let other = messages
        .iter()
        .find(|o| o.items.len() >= 2 && o.article_id != m.article_id)
        .unwrap();
    let n = m.items.len() as u32;
    let mut one_by_one: Vec<Selection> = (1..=n)
        .map(|index| Selection::Item {
            article_id: m.article_id.clone(),
            index,
        })
        .collect();
    // Only part of another message: not mergeable.
    one_by_one.push(Selection::Item {
        article_id: other.article_id.clone(),
        index: 1,
    });

    let planned = plan::create(&api, w.store(), id, &one_by_one)
        .await
        .unwrap();
    assert_eq!(planned.requests, n + 1);
    assert_eq!(planned.mergeable.len(), 1);
    assert_eq!(planned.mergeable[0].article_id, m.article_id);
    assert_eq!(planned.mergeable[0].requests, n);

    // Merged, the same articles cost n - 1 fewer requests.
    let merged = plan::create(
        &api,
        w.store(),
        id,
        &[
            Selection::WholeMessage {
                article_id: m.article_id.clone(),
            },
            Selection::Item {
                article_id: other.article_id.clone(),
                index: 1,
            },
        ],
    )
    .await
    .unwrap();
    assert_eq!((merged.requests, merged.articles), (2, planned.articles));
    assert!(merged.mergeable.is_empty());
}

#[tokio::test]
async fn pasted_links_are_found_in_either_shape_and_every_miss_says_why() {
    use retract_core::rules::LinkOutcome as O;
    let w = world(40).await;
    // The index holds long links (what WeChat is believed to list); operators paste both.
    w.sim.set_quirks(wechat_sim::Quirks {
        long_urls: true,
        ..Default::default()
    });
    let (id, api) = synced_account(&w, SecretStorage::Keyring).await;
    let messages = w.sim.messages(DEMO_APPID);
    let multi: Vec<_> = messages.iter().filter(|m| m.items.len() >= 2).collect();
    let (a, b, c, d) = (&multi[0], &multi[1], &multi[2], &multi[3]);
    // The publisher deleted c's first article on WeChat; the index does not know yet.
    w.sim
        .edit_message(DEMO_APPID, &c.article_id, |m| m.items[0].is_deleted = true);
    let broken_page = d.items[0].url.rsplit('/').next().unwrap().to_string();
    w.sim.inject(
        &format!("/s/{broken_page}"),
        wechat_sim::Fault::BadGateway,
        1,
    );
    // Another account of this Retract holds one article.
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    conn.execute_batch(
        "INSERT INTO accounts (id, name, appid, token_source, created_at) VALUES (99, '分公司服务号', 'wx0000000000000099', 'pasted', 0);
         INSERT INTO messages (account_id, article_id, update_time, item_count) VALUES (99, 'other-msg', 1, 1);
         INSERT INTO items (account_id, article_id, idx, title, author, digest, url) VALUES (99, 'other-msg', 1, '分公司的文章', '', '', 'https://mp.weixin.qq.com/s/OtherAccountArticle01');",
    )
    .unwrap();

    let b2 = &b.items[1].long_url;
    let biz = b2
        .split("__biz=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let tracked = b2
        .replace("http://", "https://")
        .replace('&', "&amp;")
        .replace("#rd", "&scene=21&sessionid=1700000000#wechat_redirect");
    let text = format!(
        "法务要求下线以下文章：\n\
         1. {a1}?scene=1#rd\n\
         2. “{tracked}”\n\
         3. {b2_short}，\n\
         4. {c1}\n\
         5. {d1}\n\
         6. https://mp.weixin.qq.com/s/OtherAccountArticle01\n\
         7. http://mp.weixin.qq.com/s?__biz=MzkOTHERbiz==&mid=1&idx=1&sn=00#rd\n\
         8. http://mp.weixin.qq.com/s?__biz={biz}&mid=2650999999&idx=1&sn=00#rd\n\
         9. {b2_resigned}\n\
         10. https://mp.weixin.qq.com/s/NoSuchArticle000000000\n\
         11. https://example.com/not-wechat\n\
         12. https://mp.weixin.qq.com/s?__biz={biz}&idx=1",
        a1 = a.items[0].url,
        b2_short = b.items[1].url,
        c1 = c.items[0].url,
        d1 = d.items[0].url,
        b2_resigned = b2.replace("&sn=", "&sn=ff"),
    );
    w.sim.clear_log();
    let report = rules::find_links(
        &api,
        w.store(),
        id,
        &text,
        &url::Url::parse(&format!("{}/", w.sim.base_url())).unwrap(),
    )
    .await
    .unwrap();
    let outcomes: Vec<O> = report.links.iter().map(|l| l.outcome).collect();
    assert_eq!(
        outcomes,
        vec![
            O::Found,            // short link, resolved through its page
            O::Found,            // long link with &amp;, https, tracking, #wechat_redirect
            O::Repeated,         // the same article again, short
            O::GoneOnWechat,     // its page says the publisher deleted it
            O::Unresolved,       // its page answered 502
            O::OtherAccount,     // in another account's index
            O::ForeignAccount,   // another __biz
            O::NotInIndex,       // this __biz, a message the index does not have
            O::Mismatch,         // this article's position, another signature
            O::Unresolved,       // a short id with no article behind it
            O::NotAnArticleLink, // not WeChat
            O::Incomplete,       // no mid
        ],
        "{:#?}",
        report.links
    );
    assert_eq!(report.found, 2);
    assert!(report.links[0].resolved && !report.links[1].resolved);
    assert_eq!(
        (report.links[0].article_id.as_deref(), report.links[0].index),
        (Some(a.article_id.as_str()), Some(1))
    );
    assert_eq!(
        (report.links[1].article_id.as_deref(), report.links[1].index),
        (Some(b.article_id.as_str()), Some(2))
    );
    assert_eq!(report.links[5].account.as_deref(), Some("分公司服务号"));
    assert!(
        report.links[4].detail.as_deref().unwrap().contains("502"),
        "{:?}",
        report.links[4].detail
    );
    // One page read per short link not in the index as such, and nothing else.
    let paths: Vec<String> = w.sim.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths.len(), 5, "{paths:?}");
    assert!(paths.iter().all(|p| p.starts_with("/s/")), "{paths:?}");
}
