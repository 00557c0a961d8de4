//! The operator's journey in the core, without a window: accounts (real keyring), sync into a
//! real SQLite file, search, plan, confirm and execute against the simulator over loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use retract_core::CoreError;
use retract_core::accounts::{Accounts, SecretStorage};
use retract_core::execute::{self, ExecOptions, Outcome};
use retract_core::index::{self, ArticleFilter};
use retract_core::plan::{self, Selection};
use retract_core::store::Store;
use wechat_mp::SystemClock;
use wechat_sim::{DEMO_APPID, DEMO_SECRET, Fault};

mod common;
use common::*;

#[tokio::test]
async fn verify_reads_the_delete_quota_and_bad_fields_are_refused_before_any_request() {
    let w = world(3).await;
    let report = w.accounts.verify(&draft(DEMO_SECRET)).await.unwrap();
    assert_eq!(
        (
            report.delete_daily_limit,
            report.delete_used,
            report.delete_remain
        ),
        (Some(10), Some(0), Some(10))
    );
    assert_eq!(
        report.can_publish,
        Some(true),
        "the setup makes one listing call"
    );
    let lists = |w: &World| {
        w.sim
            .requests()
            .iter()
            .filter(|r| r.path == "/cgi-bin/freepublish/batchget")
            .count()
    };
    assert_eq!(lists(&w), 1);

    // An unverified account: quota/get answers, the publishing APIs refuse (48001). The setup
    // says so now, not at the first sync.
    w.sim.configure(DEMO_APPID, |a| a.verified = false);
    let unverified = w.accounts.verify(&draft(DEMO_SECRET)).await.unwrap_err();
    match unverified {
        CoreError::Wechat(e) => assert_eq!(e.api().unwrap().code, 48001),
        other => panic!("{other:?}"),
    }
    w.sim.configure(DEMO_APPID, |a| a.verified = true);

    w.sim.clear_log();
    let short = w.accounts.verify(&draft("abc")).await.unwrap_err();
    assert!(
        matches!(short, CoreError::Invalid(ref m) if m.contains("32 hexadecimal")),
        "{short}"
    );
    assert!(
        w.sim.requests().is_empty(),
        "a malformed secret is never sent"
    );

    let wrong = w
        .accounts
        .verify(&draft("00000000000000000000000000000000"))
        .await
        .unwrap_err();
    match wrong {
        CoreError::Wechat(e) => assert_eq!(e.api().unwrap().code, 40125),
        other => panic!("{other:?}"),
    }
    w.sim.configure(DEMO_APPID, |a| {
        a.whitelist = Some(vec!["198.51.100.7".into()])
    });
    let blocked = w.accounts.verify(&draft(DEMO_SECRET)).await.unwrap_err();
    match blocked {
        CoreError::Wechat(e) => assert_eq!(
            e.class(),
            Some(&wechat_mp::ErrorClass::IpNotWhitelisted {
                ip: Some("203.0.113.45".into()),
                platform: false,
            })
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn saved_secret_lives_in_the_keyring_only_and_survives_a_restart() {
    require_keyring_session();
    let w = world(3).await;
    let canary = "c0ffee00c0ffee00c0ffee00c0ffee00";
    w.sim.configure(DEMO_APPID, |a| a.secret = canary.into());
    let account = w
        .accounts
        .save(&draft(canary), SecretStorage::Keyring)
        .unwrap();
    assert_eq!(account.name, "公司服务号");
    assert_eq!(account.profile.appid, DEMO_APPID);
    assert_eq!(
        w.accounts.secret_storage(&account).unwrap(),
        Some(SecretStorage::Keyring)
    );
    w.accounts.api(account.id).unwrap().token().await.unwrap();
    assert!(
        !contains(&w.db_bytes(), canary),
        "the AppSecret reached the database files"
    );
    assert!(
        !contains(&w.db_bytes(), "c0ffee00"),
        "part of the AppSecret reached the database files"
    );

    // A new process: same database, same keyring, no memory.
    let store = Arc::new(Store::open(&w.dir.path().join("retract.db")).unwrap());
    let again = Accounts::new(
        store,
        Arc::clone(&w.keyring),
        Arc::new(SystemClock),
        Some(w.sim.base_url().into()),
    );
    again.api(account.id).unwrap().token().await.unwrap();

    // Duplicates are refused; removal clears the keyring entry and the rows.
    assert!(
        w.accounts
            .save(&draft(canary), SecretStorage::Keyring)
            .is_err()
    );
    again.remove(account.id).unwrap();
    assert_eq!(
        w.keyring
            .get(&format!("{DEMO_APPID}:appsecret"))
            .unwrap()
            .map(|_| ()),
        None
    );
    assert!(again.list().unwrap().is_empty());
}

#[tokio::test]
async fn a_session_only_secret_is_gone_after_a_restart_and_never_touches_the_keyring() {
    require_keyring_session();
    let w = world(1).await;
    let account = w
        .accounts
        .save(&draft(DEMO_SECRET), SecretStorage::SessionOnly)
        .unwrap();
    w.accounts.api(account.id).unwrap().token().await.unwrap();
    assert!(
        w.keyring
            .get(&format!("{DEMO_APPID}:appsecret"))
            .unwrap()
            .is_none()
    );
    let store = Arc::new(Store::open(&w.dir.path().join("retract.db")).unwrap());
    let again = Accounts::new(store, Arc::clone(&w.keyring), Arc::new(SystemClock), None);
    assert!(matches!(
        again.api(account.id),
        Err(CoreError::SecretMissing)
    ));
    again
        .provide_session_secret(account.id, DEMO_SECRET)
        .unwrap();
    assert!(again.api(account.id).is_ok());
}

#[tokio::test]
async fn sync_indexes_everything_then_stops_early_and_can_be_cancelled() {
    let w = world(95).await;
    let id = synced_account(&w, SecretStorage::Keyring).await.0;
    let (total, _) =
        index::search(w.accounts.store(), id, &ArticleFilter::default(), 0, 10).unwrap();
    let expected: usize = w
        .sim
        .messages(DEMO_APPID)
        .iter()
        .map(|m| m.items.len())
        .sum();
    assert_eq!(total as usize, expected);
    assert_eq!(w.sim.count("/cgi-bin/freepublish/batchget"), 5);

    // Nothing new: an incremental sync reads one page and stops.
    w.sim.clear_log();
    let api = w.accounts.api(id).unwrap();
    let never = AtomicBool::new(false);
    let report = retract_core::sync::sync(&api, w.accounts.store(), id, false, &never, |_| {})
        .await
        .unwrap();
    assert_eq!(report.progress.pages, 1);
    assert_eq!(w.sim.count("/cgi-bin/freepublish/batchget"), 1);
    assert_eq!(report.list_quota.unwrap().used, 6);

    // Cancelled after the second page: two pages stored, no more requested.
    w.sim.clear_log();
    let cancel = AtomicBool::new(false);
    let report = retract_core::sync::sync(&api, w.accounts.store(), id, true, &cancel, |p| {
        if p.pages == 2 {
            cancel.store(true, Ordering::SeqCst);
        }
    })
    .await
    .unwrap();
    assert!(report.cancelled);
    assert_eq!(report.progress.pages, 2);
    assert_eq!(w.sim.count("/cgi-bin/freepublish/batchget"), 2);
}

#[tokio::test]
async fn search_finds_chinese_substrings_and_authors_and_filters_dates_without_api_calls() {
    let w = world(60).await;
    let id = synced_account(&w, SecretStorage::Keyring).await.0;
    w.sim.clear_log();
    let store = w.accounts.store();
    let all = index::search(store, id, &ArticleFilter::default(), 0, 500)
        .unwrap()
        .1;
    let sample = &all[7];
    let needle: String = sample.title.chars().skip(1).take(4).collect();
    let hits = index::search(
        store,
        id,
        &ArticleFilter {
            query: Some(needle.clone()),
            ..Default::default()
        },
        0,
        500,
    )
    .unwrap();
    assert!(
        hits.1
            .iter()
            .all(|r| r.title.contains(&needle) || r.author.contains(&needle))
    );
    assert_eq!(
        hits.0 as usize,
        all.iter()
            .filter(|r| r.title.contains(&needle) || r.author.contains(&needle))
            .count()
    );
    assert!(
        hits.1
            .iter()
            .any(|r| r.article_id == sample.article_id && r.index == sample.index)
    );
    let by_author = index::search(
        store,
        id,
        &ArticleFilter {
            query: Some(sample.author.clone()),
            ..Default::default()
        },
        0,
        500,
    )
    .unwrap();
    assert!(
        by_author
            .1
            .iter()
            .all(|r| r.author.contains(&sample.author) || r.title.contains(&sample.author))
    );
    let from = sample.publish_time;
    let ranged = index::search(
        store,
        id,
        &ArticleFilter {
            from: Some(from),
            to: Some(from + 1),
            ..Default::default()
        },
        0,
        500,
    )
    .unwrap();
    assert!(ranged.0 >= 1 && ranged.1.iter().all(|r| r.publish_time == from));
    assert!(w.sim.requests().is_empty(), "search never calls the API");
}

#[tokio::test]
async fn the_in_memory_search_answers_exactly_what_a_full_scan_answers_and_never_a_stale_list() {
    let w = world(120).await;
    let id = synced_account(&w, SecretStorage::Keyring).await.0;
    let store = w.accounts.store();
    let all = index::search_by_scan(store, id, &ArticleFilter::default(), 0, 500)
        .unwrap()
        .1;
    let mid = all[all.len() / 2].publish_time;
    // One- to many-character Chinese and Latin pieces of real titles and authors, with and
    // without dates, and windows past the first.
    let mut queries: Vec<String> = vec!["".into(), "不存在的标题".into(), "A".into(), "e".into()];
    for r in all.iter().step_by(17) {
        let chars: Vec<char> = r.title.chars().collect();
        for len in [1, 2, 3, 5] {
            queries.push(chars.iter().skip(1).take(len).collect());
        }
        queries.push(r.author.clone());
    }
    let mut compared = 0;
    for q in &queries {
        for (from, to) in [
            (None, None),
            (Some(mid), None),
            (None, Some(mid)),
            (Some(mid - 86_400 * 30), Some(mid + 1)),
        ] {
            let filter = ArticleFilter {
                query: Some(q.clone()),
                from,
                to,
                live_only: false,
            };
            for (offset, limit) in [(0, 100), (3, 7)] {
                let fast = index::search(store, id, &filter, offset, limit).unwrap();
                let scan = index::search_by_scan(store, id, &filter, offset, limit).unwrap();
                assert_eq!(
                    fast, scan,
                    "query {q:?} from {from:?} to {to:?} window {offset}+{limit}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 200, "{compared}");

    // A change to the index, made by another connection (another process) as much as by this
    // one, is seen by the next search.
    let target = &all[0];
    let filter = ArticleFilter {
        query: Some(target.title.clone()),
        ..Default::default()
    };
    let before = index::search(store, id, &filter, 0, 10).unwrap().1;
    assert!(
        before
            .iter()
            .any(|r| r.article_id == target.article_id && !r.is_deleted)
    );
    let other = rusqlite::Connection::open(store.path()).unwrap();
    other
        .execute(
            "UPDATE items SET title = 'renamed elsewhere', is_deleted = 1 WHERE article_id = ?1 AND idx = ?2",
            rusqlite::params![target.article_id, target.index],
        )
        .unwrap();
    let gone = index::search(store, id, &filter, 0, 10).unwrap().1;
    assert!(
        !gone
            .iter()
            .any(|r| r.article_id == target.article_id && r.index == target.index)
    );
    let renamed = index::search(
        store,
        id,
        &ArticleFilter {
            query: Some("RENAMED else".into()),
            ..Default::default()
        },
        0,
        10,
    )
    .unwrap()
    .1;
    assert_eq!(renamed.len(), 1);
    assert!(renamed[0].is_deleted);
}

#[tokio::test]
async fn one_item_goes_only_after_both_confirmations_and_the_plan_is_single_use() {
    let w = world(30).await;
    let id = synced_account(&w, SecretStorage::Keyring).await.0;
    let api = w.accounts.api(id).unwrap();
    let store = w.accounts.store();
    let m = multi_item(&w, 2);
    let sel = [Selection::Item {
        article_id: m.article_id.clone(),
        index: 2,
    }];
    let p = plan::create(&api, store, id, &sel).await.unwrap();
    assert_eq!((p.articles, p.requests, p.phrase.as_str()), (1, 1, "1"));
    assert_eq!(p.quota_remain, Some(10));
    assert_eq!(p.targets[0].items[0].title, m.items[1].title);

    // Executing an unconfirmed plan sends nothing; neither do wrong nonces or phrases.
    assert!(
        execute::execute(&api, store, p.id, &ExecOptions::default(), |_| {})
            .await
            .is_err()
    );
    assert!(plan::confirm(store, p.id, "0000", "1").is_err());
    assert!(plan::confirm(store, p.id, &p.nonce, "2").is_err());
    assert_eq!(w.sim.count(DELETE), 0);

    plan::confirm(store, p.id, &p.nonce, "１").unwrap();
    let report = execute::execute(&api, store, p.id, &ExecOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(report.results[0].outcome, Outcome::Deleted);
    assert_eq!(w.sim.count(DELETE), 1);
    let after = w.sim.message(DEMO_APPID, &m.article_id).unwrap();
    assert!(after.items[1].is_deleted && !after.items[0].is_deleted);
    let rows = index::message_items(store, id, &m.article_id).unwrap();
    assert!(
        rows[1].is_deleted && !rows[0].is_deleted,
        "the index follows"
    );
    assert!(
        plan::confirm(store, p.id, &p.nonce, "1").is_err(),
        "a plan is used once"
    );
}

#[tokio::test]
async fn items_of_one_message_go_highest_first_and_a_whole_message_absorbs_its_items() {
    let w = world(40).await;
    let id = synced_account(&w, SecretStorage::Keyring).await.0;
    let api = w.accounts.api(id).unwrap();
    let store = w.accounts.store();
    let m = multi_item(&w, 3);
    let other = multi_item(&w, 2);
    let other = w
        .sim
        .messages(DEMO_APPID)
        .into_iter()
        .find(|x| x.article_id != m.article_id && x.items.len() >= 2)
        .unwrap_or(other);
    let sel = [
        Selection::Item {
            article_id: m.article_id.clone(),
            index: 1,
        },
        Selection::Item {
            article_id: m.article_id.clone(),
            index: 3,
        },
        Selection::Item {
            article_id: m.article_id.clone(),
            index: 2,
        },
        Selection::Item {
            article_id: other.article_id.clone(),
            index: 1,
        },
        Selection::WholeMessage {
            article_id: other.article_id.clone(),
        },
    ];
    let p = plan::create(&api, store, id, &sel).await.unwrap();
    let whole = p
        .targets
        .iter()
        .find(|t| t.article_id == other.article_id)
        .unwrap();
    assert_eq!(whole.index, None);
    assert_eq!(whole.items.len(), other.items.len());
    assert_eq!(p.requests, 4);
    plan::confirm(store, p.id, &p.nonce, &p.phrase).unwrap();
    execute::execute(&api, store, p.id, &ExecOptions::default(), |_| {})
        .await
        .unwrap();
    let sent: Vec<serde_json::Value> = w
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path == DELETE)
        .map(|r| r.json())
        .collect();
    let on_m: Vec<i64> = sent
        .iter()
        .filter(|b| b["article_id"] == m.article_id.as_str())
        .map(|b| b["index"].as_i64().unwrap())
        .collect();
    assert_eq!(on_m, vec![3, 2, 1]);
    let on_other: Vec<&serde_json::Value> = sent
        .iter()
        .filter(|b| b["article_id"] == other.article_id.as_str())
        .collect();
    assert_eq!(on_other.len(), 1);
    assert!(
        on_other[0].get("index").is_none(),
        "whole message: index left out"
    );
}

#[tokio::test]
async fn a_changed_title_at_the_position_stops_that_item_and_nothing_is_sent_for_it() {
    let w = world(20).await;
    let id = synced_account(&w, SecretStorage::Keyring).await.0;
    let api = w.accounts.api(id).unwrap();
    let store = w.accounts.store();
    let m = multi_item(&w, 1);
    let p = plan::create(
        &api,
        store,
        id,
        &[Selection::Item {
            article_id: m.article_id.clone(),
            index: 1,
        }],
    )
    .await
    .unwrap();
    w.sim.edit_message(DEMO_APPID, &m.article_id, |msg| {
        msg.items[0].title = "被编辑过的标题".into()
    });
    plan::confirm(store, p.id, &p.nonce, &p.phrase).unwrap();
    let report = execute::execute(&api, store, p.id, &ExecOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(report.results[0].outcome, Outcome::TitleMismatch);
    assert_eq!(w.sim.count(DELETE), 0);
}

#[tokio::test]
async fn a_lost_answer_is_settled_by_getarticle_without_a_second_delete() {
    let w = world(20).await;
    let id = synced_account(&w, SecretStorage::Keyring).await.0;
    let api = w.accounts.api(id).unwrap();
    let store = w.accounts.store();
    let m = multi_item(&w, 1);
    let p = plan::create(
        &api,
        store,
        id,
        &[Selection::WholeMessage {
            article_id: m.article_id.clone(),
        }],
    )
    .await
    .unwrap();
    plan::confirm(store, p.id, &p.nonce, &p.phrase).unwrap();
    w.sim.inject(DELETE, Fault::LoseResponse, 1);
    let report = execute::execute(&api, store, p.id, &ExecOptions::default(), |_| {})
        .await
        .unwrap();
    // Not settled at once: WeChat may show a delete with a lag.
    assert_eq!(report.results[0].outcome, Outcome::Unknown);
    let later = ExecOptions {
        settle_after: std::time::Duration::ZERO,
        ..ExecOptions::default()
    };
    let findings = retract_core::queue::reconcile(&api, store, id, &later)
        .await
        .unwrap();
    assert_eq!(findings[0].now, retract_core::journal::JournalState::Done);
    assert_eq!(w.sim.count(DELETE), 1);
    let archived: i64 = w.count("SELECT count(*) FROM archive");
    assert_eq!(
        archived, 1,
        "the full article was archived before the delete"
    );
}

#[tokio::test]
async fn an_exhausted_quota_waits_and_stops_the_run_cancel_sends_nothing() {
    let w = world(30).await;
    let id = synced_account(&w, SecretStorage::Keyring).await.0;
    let api = w.accounts.api(id).unwrap();
    let store = w.accounts.store();
    w.sim.set_daily_limit(DEMO_APPID, DELETE, 1);
    let ids: Vec<String> = w
        .sim
        .messages(DEMO_APPID)
        .iter()
        .rev()
        .take(3)
        .map(|m| m.article_id.clone())
        .collect();
    let sel: Vec<Selection> = ids
        .iter()
        .map(|a| Selection::WholeMessage {
            article_id: a.clone(),
        })
        .collect();
    let p = plan::create(&api, store, id, &sel).await.unwrap();
    assert_eq!(p.quota_remain, Some(1));
    plan::confirm(store, p.id, &p.nonce, &p.phrase).unwrap();
    let report = execute::execute(&api, store, p.id, &ExecOptions::default(), |_| {})
        .await
        .unwrap();
    let outcomes: Vec<Outcome> = report.results.iter().map(|r| r.outcome).collect();
    assert_eq!(
        outcomes,
        vec![Outcome::Deleted, Outcome::WaitingForQuota, Outcome::NotRun]
    );
    assert!(report.stop.is_some());
    assert_eq!(w.sim.count(DELETE), 2);

    let again = [Selection::WholeMessage {
        article_id: ids[2].clone(),
    }];
    // Still in the first plan (not reached): a second plan for it is refused, naming it.
    let clash = plan::create(&api, store, id, &again)
        .await
        .unwrap_err()
        .to_string();
    assert!(clash.contains(&format!("plan {}", p.id)), "{clash}");
    retract_core::queue::cancel_unsent(store, p.id).unwrap();
    let p2 = plan::create(&api, store, id, &again).await.unwrap();
    w.sim.clear_log();
    plan::cancel(store, p2.id).unwrap();
    assert!(plan::confirm(store, p2.id, &p2.nonce, &p2.phrase).is_err());
    assert_eq!(w.sim.count(DELETE), 0);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retract.db");
    let junk = b"these are somebody's notes, not a database\n".repeat(200);
    std::fs::write(&path, &junk).unwrap();
    let err = Store::open(&path).unwrap_err().to_string();
    assert!(
        err.contains("not a Retract database") || err.contains("damaged"),
        "{err}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), junk);
}

#[test]
fn a_read_only_folder_gives_an_error_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let path = ro.join("retract.db");
    // Root ignores permission bits, so make the path itself unusable: a folder where the file should be.
    std::fs::create_dir(&path).unwrap();
    let err = Store::open(&path).unwrap_err().to_string();
    assert!(err.contains("retract.db"), "{err}");
    assert!(
        err.contains("writable") || err.contains("cannot open"),
        "{err}"
    );
}
