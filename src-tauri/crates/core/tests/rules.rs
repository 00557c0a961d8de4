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
