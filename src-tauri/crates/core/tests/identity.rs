//! Knowing the article, not its position (issue 18): identity by link, titles that read the
//! same, answers with nulls and stripped items, and lists in any order — each in a family of
//! the simulator's worlds (short, long, temporary or no links; compacted positions or not).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use std::sync::atomic::AtomicBool;
use std::time::SystemTime;

use common::*;
use retract_core::CoreError;
use retract_core::accounts::SecretStorage;
use retract_core::execute::Outcome;
use retract_core::index;
use retract_core::plan;
use retract_core::sync::ListOrder;
use wechat_mp::ManualClock;
use wechat_sim::{DEMO_APPID, Quirks};

/// How the answers give links: short, long, temporary (changing with every answer), none.
fn link_worlds() -> Vec<(&'static str, Quirks)> {
    vec![
        ("short links", Quirks::default()),
        (
            "long links",
            Quirks {
                long_urls: true,
                ..Quirks::default()
            },
        ),
        (
            "temporary links",
            Quirks {
                temporary_links: true,
                ..Quirks::default()
            },
        ),
        (
            "no links",
            Quirks {
                no_links: true,
                ..Quirks::default()
            },
        ),
    ]
}

async fn sync(
    w: &World,
    api: &wechat_mp::Api,
    account: retract_core::ids::AccountId,
    full: bool,
) -> retract_core::sync::SyncReport {
    let never = AtomicBool::new(false);
    retract_core::sync::sync(api, w.store(), account, full, &never, |_| {})
        .await
        .unwrap()
}

// --- Duplicate titles and compaction ----------------------------------------------------------

/// `[X "周报", Y "周报", Z "周报"]`: the operator reviews Y (position 2); X is deleted in the MP
/// console; WeChat may compact positions, so position 2 may now hold Z. Whatever the world,
/// Y is deleted or the run stops; Z never goes.
#[tokio::test]
async fn duplicate_titles_and_moved_positions_delete_the_reviewed_item_or_stop_never_its_twin() {
    for (links, base) in link_worlds() {
        for compact in [false, true] {
            let label = format!("{links}, compact {compact}");
            let w = world(12).await;
            w.sim.set_quirks(Quirks {
                twin_titles: true,
                ..base.clone()
            });
            let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
            let m = multi_item(&w, 3);
            let y = item(&m.article_id, 2);
            let made = plan::create(&api, w.store(), account, std::slice::from_ref(&y)).await;
            if base.no_links {
                // Nothing could tell Y from its twins: not planned alone, and it says why.
                let Err(CoreError::Invalid(why)) = made else {
                    panic!("{label}: planned an item whose twins no link tells apart: {made:?}");
                };
                assert!(why.contains("tell them apart"), "{label}: {why}");
                assert_eq!(w.sim.count(DELETE), 0);
                continue;
            }
            let p = made.unwrap();
            plan::confirm(w.store(), p.id, &p.nonce, &p.phrase).unwrap();
            w.sim.set_quirks(Quirks {
                twin_titles: true,
                compact_positions: compact,
                ..base.clone()
            });
            w.sim.edit_message(DEMO_APPID, &m.article_id, |msg| {
                msg.items[0].is_deleted = true;
            });
            let clock = ManualClock::new(SystemTime::now());
            let r = run(&w, &api, account, &clock).await;
            let after = w.sim.message(DEMO_APPID, &m.article_id).unwrap();
            assert!(
                !after.items[2].is_deleted,
                "{label}: the twin Z was deleted instead of the reviewed Y: {r:?}"
            );
            let outcome = r.reports[0].results[0].outcome;
            if after.items[1].is_deleted {
                assert_eq!(outcome, Outcome::Deleted, "{label}");
                assert_eq!(states(&w, p.id), ["done"], "{label}");
            } else {
                // Stopped for the operator, nothing sent.
                assert_eq!(outcome, Outcome::Held, "{label}: {r:?}");
                assert_eq!(w.sim.count(DELETE), 0, "{label}");
            }
            // Where positions did not move, the reviewed item simply goes.
            if !compact {
                assert!(after.items[1].is_deleted, "{label}: {r:?}");
            }
        }
    }
}

/// Retract deleted Y; the listing still shows it (WeChat lists deletes late) beside its
/// live twin Z. The listing keeps Y deleted and Z live and selectable.
#[tokio::test]
async fn a_late_listing_keeps_the_deleted_item_deleted_and_its_live_twin_selectable() {
    for (links, base) in link_worlds().into_iter().filter(|(_, q)| !q.no_links) {
        let w = world(12).await;
        w.sim.set_quirks(Quirks {
            twin_titles: true,
            ..base.clone()
        });
        let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
        let m = multi_item(&w, 3);
        confirmed(&w, &api, account, &[item(&m.article_id, 2)]).await;
        let clock = ManualClock::new(SystemTime::now());
        run(&w, &api, account, &clock).await;
        assert!(w.sim.message(DEMO_APPID, &m.article_id).unwrap().items[1].is_deleted);
        w.sim.set_quirks(Quirks {
            twin_titles: true,
            lag_secs: 3600,
            ..base.clone()
        });
        let report = sync(&w, &api, account, true).await;
        assert!(!report.incomplete, "{links}");
        let rows = index::message_items(w.store(), account, &m.article_id).unwrap();
        let flags: Vec<bool> = rows.iter().map(|r| r.is_deleted).collect();
        assert_eq!(&flags[..3], [false, true, false], "{links}: {rows:?}");
        // Z can still be planned; Y cannot.
        let z = item(&m.article_id, 3);
        assert!(
            plan::create(&api, w.store(), account, &[z]).await.is_ok(),
            "{links}"
        );
        let y = item(&m.article_id, 2);
        assert!(
            plan::create(&api, w.store(), account, &[y]).await.is_err(),
            "{links}"
        );
    }
}

// --- Titles that read the same ------------------------------------------------------------------

/// The list spells a title `研发 &amp; 运营\u{a0}`, `getarticle` spells it `研发 & 运营`: the same
/// article, deleted — with links and without.
#[tokio::test]
async fn a_title_spelled_with_entities_or_odd_spaces_deletes_the_reviewed_item() {
    for (links, base) in link_worlds() {
        let w = world(12).await;
        let m = multi_item(&w, 2);
        w.sim.edit_message(DEMO_APPID, &m.article_id, |msg| {
            msg.items[0].title = "研发 & 运营 周报".into();
            msg.items[1].title = "  合作 &  伙伴 ".into();
        });
        w.sim.set_quirks(Quirks {
            escaped_titles: true,
            ..base.clone()
        });
        let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
        let listed = index::message_items(w.store(), account, &m.article_id).unwrap();
        // The list spells it `研发 &amp; 运营 周报\u{a0}`; the index shows it as text.
        assert!(
            listed[0].title.starts_with("研发 & 运营 周报"),
            "{links}: {:?}",
            listed[0].title
        );
        let p = confirmed(
            &w,
            &api,
            account,
            &[item(&m.article_id, 1), item(&m.article_id, 2)],
        )
        .await;
        let clock = ManualClock::new(SystemTime::now());
        let mut r = run(&w, &api, account, &clock).await;
        // The second item waits for the first to show (positions may move): later runs.
        for _ in 0..3 {
            if states(&w, p.id).iter().all(|s| s == "done") {
                break;
            }
            pass(&w, &clock, 61);
            r = run(&w, &api, account, &clock).await;
        }
        assert_eq!(states(&w, p.id), ["done", "done"], "{links}: {r:?}");
        let after = w.sim.message(DEMO_APPID, &m.article_id).unwrap();
        assert!(
            after.items[0].is_deleted && after.items[1].is_deleted,
            "{links}"
        );
    }
}

// --- Nulls and stripped items -------------------------------------------------------------------

/// Text fields come as `null`, and a deleted item is stripped to `is_deleted`: the index
/// shows it deleted (never as a live article with no title), keeps the message whole, and a
/// check after Retract's own delete proves it gone.
#[tokio::test]
async fn a_null_field_or_a_stripped_deleted_item_never_shows_as_a_live_article() {
    for (links, base) in link_worlds() {
        let w = world(12).await;
        let m = multi_item(&w, 3);
        w.sim.edit_message(DEMO_APPID, &m.article_id, |msg| {
            msg.items[1].is_deleted = true;
        });
        w.sim.set_quirks(Quirks {
            null_fields: true,
            ..base.clone()
        });
        let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
        let report = sync(&w, &api, account, true).await;
        assert!(
            !report.incomplete,
            "{links}: nulls are no reason to distrust the walk"
        );
        let rows = index::message_items(w.store(), account, &m.article_id).unwrap();
        assert_eq!(rows.len(), m.items.len(), "{links}");
        assert!(rows[1].is_deleted, "{links}: {rows:?}");
        assert!(
            rows.iter()
                .filter(|r| !r.is_deleted)
                .all(|r| !r.title.is_empty()),
            "{links}: {rows:?}"
        );
        let (_, all) = index::search(w.store(), account, &Default::default(), 0, 500).unwrap();
        assert!(
            all.iter().all(|r| r.is_deleted || !r.title.is_empty()),
            "{links}: a live row without a title"
        );
        // Retract deletes item 3; the answer after it is stripped too: proven gone.
        let p = confirmed(&w, &api, account, &[item(&m.article_id, 3)]).await;
        let clock = ManualClock::new(SystemTime::now());
        run(&w, &api, account, &clock).await;
        assert_eq!(states(&w, p.id), ["done"], "{links}");
        assert!(w.sim.message(DEMO_APPID, &m.article_id).unwrap().items[2].is_deleted);
    }
}

// --- Lists in any order -------------------------------------------------------------------------

/// A message published after the last sync is found by an incremental sync whether the list
/// is newest first, oldest first or in no order, over three pages; the report says which
/// order it saw.
#[tokio::test]
async fn an_incremental_sync_finds_what_was_published_since_in_any_list_order() {
    let orders = [
        ("newest first", Quirks::default(), ListOrder::NewestFirst),
        (
            "oldest first",
            Quirks {
                oldest_first: true,
                ..Quirks::default()
            },
            ListOrder::OldestFirst,
        ),
        (
            "no order",
            Quirks {
                shuffled_list: true,
                ..Quirks::default()
            },
            ListOrder::NoOrder,
        ),
    ];
    for (name, quirks, expected) in orders {
        for published in [1, 2] {
            let w = world(45).await;
            w.sim.set_quirks(quirks.clone());
            let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
            let mut new = Vec::new();
            for n in 0..published {
                w.sim.advance(std::time::Duration::from_secs(3600));
                new.push(w.sim.publish(DEMO_APPID, &[&format!("今早发的第 {n} 篇")]));
            }
            w.sim.clear_log();
            let report = sync(&w, &api, account, false).await;
            for id in &new {
                let rows = index::message_items(w.store(), account, id).unwrap();
                assert_eq!(
                    rows.len(),
                    1,
                    "{name}: {id} not found by an incremental sync"
                );
                assert!(!rows[0].is_deleted);
            }
            assert_eq!(report.order, expected, "{name}");
            assert_eq!(report.progress.new_messages, published as u32, "{name}");
            let calls = batchget_offsets(&w).len();
            match expected {
                // The top page holds what is new; the next one is known.
                ListOrder::NewestFirst => assert!(calls <= 2, "{name}: {calls} calls"),
                // The first page, then back from the end: not every page.
                ListOrder::OldestFirst => assert!(calls <= 3, "{name}: {calls} calls"),
                // Every page.
                _ => assert_eq!(calls, 3, "{name}"),
            }
        }
    }
}

/// `update_time` inside `content`, as a string: every article is dated as WeChat dated it.
#[tokio::test]
async fn update_time_under_content_dates_the_article() {
    let w = world(25).await;
    w.sim.set_quirks(Quirks {
        nested_update_time: true,
        ..Quirks::default()
    });
    let (account, _api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let (_, rows) = index::search(w.store(), account, &Default::default(), 0, 500).unwrap();
    assert!(!rows.is_empty());
    for m in w.sim.messages(DEMO_APPID) {
        let row = rows.iter().find(|r| r.article_id == m.article_id).unwrap();
        assert_eq!(row.publish_time, m.update_time, "{}", m.article_id);
    }
    // A date filter finds the newest message by its date.
    let newest = w.sim.messages(DEMO_APPID).last().unwrap().update_time;
    let filter = index::ArticleFilter {
        from: Some(newest - 60),
        ..Default::default()
    };
    let (total, _) = index::search(w.store(), account, &filter, 0, 50).unwrap();
    assert!(total >= 1);
}

// --- Temporary and permanent links ------------------------------------------------------------

/// The list gives temporary long links (a key that changes with every answer); the operator
/// pastes the permanent short link (`freepublish/get`'s `article_url`, what readers share).
/// It is found, through its public page, and the report says so; the temporary link itself
/// is found as stored, whatever its key.
#[tokio::test]
async fn a_permanent_link_finds_an_article_the_list_gave_a_temporary_link_for() {
    let w = world(12).await;
    w.sim.set_quirks(Quirks {
        temporary_links: true,
        ..Quirks::default()
    });
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let m = multi_item(&w, 2);
    let stored = index::message_items(w.store(), account, &m.article_id).unwrap();
    assert!(stored[1].url.contains("tempkey="), "{:?}", stored[1].url);
    let pasted_later = stored[1].url.replace("tempkey=", "tempkey=ff");
    let text = format!("{}\n{pasted_later}", m.items[0].url);
    let pages = url::Url::parse(&format!("{}/", w.sim.base_url())).unwrap();
    let report = retract_core::rules::find_links(&api, w.store(), account, &text, &pages)
        .await
        .unwrap();
    let found: Vec<_> = report
        .links
        .iter()
        .map(|l| (l.outcome, l.index, l.resolved))
        .collect();
    use retract_core::rules::LinkOutcome::Found;
    assert_eq!(found, [(Found, Some(1), true), (Found, Some(2), false)]);
}
