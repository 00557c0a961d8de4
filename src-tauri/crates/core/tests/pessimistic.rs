//! The promise against the WeChat we cannot see: every behaviour that `wechat-api.md` marks
//! [unverified], and every answer a relay in the middle may give, turned the bad way in the
//! simulator (`wechat_sim::Quirks`, `Fault::Answer`). Each test failed before its fix; the
//! safe outcome is either the right answer or a stop that asks the operator.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime};

use common::*;
use retract_core::CoreError;
use retract_core::accounts::SecretStorage;
use retract_core::decide::Decision;
use retract_core::execute::{ExecOptions, Outcome, Problem};
use retract_core::index;
use retract_core::journal::JournalState;
use retract_core::plan::{self, Selection};
use retract_core::queue;
use wechat_mp::{
    Api, Client, ClientConfig, Clock, ManualClock, SystemClock, TokenCache, TokenSource,
};
use wechat_sim::{AccountSpec, DEMO_APPID, DEMO_SECRET, Fault, Quirks, SimConfig, SimItem};

fn relay(body: &str) -> Fault {
    Fault::Answer {
        status: 200,
        body: body.into(),
        applied: false,
    }
}

fn live_in_sim(w: &World, article_id: &str) -> bool {
    w.sim
        .message(DEMO_APPID, article_id)
        .unwrap()
        .items
        .iter()
        .any(|i| !i.is_deleted)
}

fn deleted_in_index(w: &World) -> i64 {
    w.count("SELECT count(*) FROM items WHERE is_deleted = 1")
}

fn stop_of(run: &queue::QueueRun) -> Problem {
    run.reports
        .iter()
        .find_map(|r| r.stop.clone())
        .expect("the run stopped")
}

// --- The three scenarios found by trying it as a new user ---------------------------------

#[tokio::test]
async fn a_relay_answering_an_empty_object_to_a_delete_is_never_taken_as_deleted() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 3)).await;
    let clock = ManualClock::new(SystemTime::now());
    let bodies = ["{}", r#"{"errmsg":"ok"}"#, r#"{"ok":true}"#];
    for (i, body) in bodies.into_iter().enumerate() {
        w.sim.inject(DELETE, relay(body), 1);
        let r = run(&w, &api, account, &clock).await;
        assert_eq!(r.reports[0].results[i].outcome, Outcome::Unknown, "{body}");
        assert!(matches!(stop_of(&r), Problem::Wechat(_)), "the run stops");
        assert_eq!(deleted_in_index(&w), 0, "nothing shown deleted");
        assert!(live_in_sim(&w, &p.targets[i].article_id));
        clock.advance(Duration::from_secs(31));
    }
    // Each is checked twice, far apart; still live, each waits for the operator's word.
    run(&w, &api, account, &clock).await;
    clock.advance(Duration::from_secs(
        retract_core::settle::second_check_gap(false) as u64,
    ));
    run(&w, &api, account, &clock).await;
    assert_eq!(states(&w, p.id), ["held", "held", "held"]);
    assert_eq!(w.sim.count(DELETE), 3, "nothing sent twice by itself");
    for seq in 1..=3 {
        retract_core::decide::decide(w.store(), p.id, seq, Decision::SendAgain, 0).unwrap();
    }
    run(&w, &api, account, &clock).await;
    assert_eq!(states(&w, p.id), ["done", "done", "done"]);
    assert!(!live_in_sim(&w, &p.targets[0].article_id));
}

#[tokio::test]
async fn an_empty_news_item_before_a_delete_holds_that_message_and_the_run_goes_on() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 3)).await;
    // The first check answers no items, the second no news_item at all; the third is WeChat's.
    w.sim.inject(GETARTICLE, relay(r#"{"news_item":[]}"#), 1);
    w.sim.inject(GETARTICLE, relay("{}"), 1);
    w.sim.clear_log();
    let clock = ManualClock::new(SystemTime::now());
    let r = run(&w, &api, account, &clock).await;
    let outcomes: Vec<Outcome> = r.reports[0].results.iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes, [Outcome::Held, Outcome::Held, Outcome::Deleted]);
    assert!(
        r.reports[0].stop.is_none(),
        "one message's doubt is not the account's"
    );
    assert_eq!(states(&w, p.id), ["held", "held", "done"]);
    assert_eq!(w.sim.count(DELETE), 1, "nothing sent for the held two");
    // Held: later runs ask nothing about them.
    let reads = w.sim.count(GETARTICLE);
    run(&w, &api, account, &clock).await;
    assert_eq!(w.sim.count(GETARTICLE), reads);
    // The operator's word: send again. The real answer comes back: the plan finishes.
    for seq in 1..=2 {
        retract_core::decide::decide(w.store(), p.id, seq, Decision::SendAgain, 0).unwrap();
    }
    run(&w, &api, account, &clock).await;
    assert_eq!(states(&w, p.id), ["done", "done", "done"]);
}

#[tokio::test]
async fn one_empty_page_during_a_full_resync_marks_nothing_deleted() {
    let w = world(90).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let never = AtomicBool::new(false);
    for skip in [0, 2] {
        // The first page, or the third, comes back empty.
        w.sim.inject(BATCHGET, Fault::Pass, skip);
        w.sim
            .inject(BATCHGET, relay(r#"{"total_count":0,"item":[]}"#), 1);
        let report = retract_core::sync::sync(&api, w.store(), account, true, &never, |_| {})
            .await
            .unwrap();
        assert_eq!(report.vanished, 0);
        assert!(report.incomplete, "the walk says it saw an odd list");
        assert_eq!(deleted_in_index(&w), 0, "not one article marked deleted");
    }
    // A page whose total changes under the walk proves nothing either.
    w.sim.inject(
        BATCHGET,
        relay(r#"{"total_count":5,"item_count":0,"item":[]}"#),
        1,
    );
    let report = retract_core::sync::sync(&api, w.store(), account, true, &never, |_| {})
        .await
        .unwrap();
    assert!(report.incomplete);
    assert_eq!(deleted_in_index(&w), 0);
}

// --- What a missing slot, a moved title or a stranger item means --------------------------

#[tokio::test]
async fn in_a_world_where_positions_compact_a_missing_slot_or_moved_title_stops() {
    let w = world(20).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let m = multi_item(&w, 3);
    let sel = [
        Selection::Item {
            article_id: m.article_id.clone(),
            index: 3,
        },
        Selection::Item {
            article_id: m.article_id.clone(),
            index: 2,
        },
    ];
    let p = confirmed(&w, &api, account, &sel).await;
    // Someone deletes item 1 in the MP console, and this WeChat compacts positions.
    w.sim.set_quirks(Quirks {
        compact_positions: true,
        ..Quirks::default()
    });
    w.sim.edit_message(DEMO_APPID, &m.article_id, |msg| {
        msg.items[0].is_deleted = true
    });
    w.sim.clear_log();
    let clock = ManualClock::new(SystemTime::now());
    let r = run(&w, &api, account, &clock).await;
    let first = &r.reports[0].results[0];
    assert_eq!(first.outcome, Outcome::Held);
    assert!(
        first.message.as_deref().unwrap().contains("position 3"),
        "{first:?}"
    );
    assert_eq!(
        r.reports[0].results[1].outcome,
        Outcome::WaitingForCheck,
        "its sibling waits with it"
    );
    assert_eq!(
        w.sim.count(DELETE),
        0,
        "nothing sent into shifted positions"
    );
    assert_eq!(states(&w, p.id), ["held", "planned"]);
    let after = w.sim.message(DEMO_APPID, &m.article_id).unwrap();
    assert!(!after.items[1].is_deleted && !after.items[2].is_deleted);
}

#[tokio::test]
async fn a_whole_message_delete_is_refused_when_an_unreviewed_item_is_live() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 1)).await;
    w.sim
        .edit_message(DEMO_APPID, &p.targets[0].article_id, |msg| {
            msg.items.push(SimItem {
                title: "后来加上的文章".into(),
                author: String::new(),
                digest: String::new(),
                content: "<p>新</p>".into(),
                url: "https://mp.weixin.qq.com/s/new".into(),
                long_url: "http://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=9&sn=0#rd".into(),
                thumb_media_id: "cover_new".into(),
                is_deleted: false,
                deleted_at: None,
            })
        });
    let clock = ManualClock::new(SystemTime::now());
    let r = run(&w, &api, account, &clock).await;
    assert_eq!(r.reports[0].results[0].outcome, Outcome::TitleMismatch);
    assert!(
        r.reports[0].results[0]
            .message
            .as_deref()
            .unwrap()
            .contains("后来加上的文章")
    );
    assert_eq!(w.sim.count(DELETE), 0);
    assert!(live_in_sim(&w, &p.targets[0].article_id));
}

// --- The archive -----------------------------------------------------------------------------

#[tokio::test]
async fn the_archive_holds_the_answer_exactly_as_received_or_nothing_is_sent() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 2)).await;
    let first = w.sim.message(DEMO_APPID, &p.targets[0].article_id).unwrap();
    let items: Vec<String> = first
        .items
        .iter()
        .map(|i| {
            serde_json::json!({"title": i.title, "content": i.content, "url": i.url, "is_deleted": false, "x_future_field": {"kept": [1, "二"]}})
                .to_string()
        })
        .collect();
    // Unknown fields, odd spacing: the archive must keep every byte.
    let raw = format!("{{ \"news_item\": [{}],  \"x_top\": 7 }}", items.join(", "));
    w.sim.inject(
        GETARTICLE,
        Fault::Answer {
            status: 200,
            body: raw.clone(),
            applied: false,
        },
        1,
    );
    // The second target's archive write fails: it must not be sent.
    let clock = ManualClock::new(SystemTime::now());
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    conn.execute_batch(&format!(
        "CREATE TRIGGER no_archive BEFORE INSERT ON archive WHEN NEW.article_id = '{}' BEGIN SELECT RAISE(ABORT, 'disk says no'); END;",
        p.targets[1].article_id
    ))
    .unwrap();
    let err = queue::run(&api, w.store(), account, &options_on(&clock), |_, _| {})
        .await
        .unwrap_err();
    assert!(
        matches!(err, CoreError::Store(ref m) if m.contains("archive")),
        "{err}"
    );
    let stored: String = conn
        .query_row(
            "SELECT json FROM archive WHERE article_id = ?1",
            [&p.targets[0].article_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, raw, "byte for byte");
    assert_eq!(states(&w, p.id), ["done", "planned"]);
    assert_eq!(w.sim.count(DELETE), 1, "the unarchived target was not sent");
    assert!(live_in_sim(&w, &p.targets[1].article_id));
}

// --- Cancel, across processes ----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_from_another_process_is_obeyed_by_a_running_runner() {
    let mut config = SimConfig::demo(30);
    config.minute_limit = 1_000_000;
    let w = world_with(config).await;
    for path in [DELETE, GETARTICLE] {
        w.sim.set_daily_limit(DEMO_APPID, path, 1_000);
    }
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 8)).await;
    w.sim
        .set_latency(Some(GETARTICLE), Duration::from_millis(150));
    let mut child = queue_runner(&w, account)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the runner is under way, then cancel from this process (as another window).
    let started = std::time::Instant::now();
    while w.count("SELECT count(*) FROM plan_targets WHERE state = 'done'") < 2 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the runner did not start"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cancelled = queue::cancel_unsent(w.store(), p.id).unwrap();
    assert!(cancelled >= 1, "something was left to cancel");
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    // Every cancelled target is still live at WeChat; every delete sent is a done one.
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    let mut stmt = conn
        .prepare("SELECT article_id, state, outcome FROM plan_targets WHERE plan_id = ?1")
        .unwrap();
    let rows: Vec<(String, String, Option<String>)> = stmt
        .query_map([p.id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut done = 0;
    for (article_id, state, outcome) in &rows {
        match state.as_str() {
            "done" => {
                done += 1;
                assert!(!live_in_sim(&w, article_id));
            }
            "skipped" => {
                assert_eq!(outcome.as_deref(), Some("cancelled"));
                assert!(
                    live_in_sim(&w, article_id),
                    "a cancelled target was deleted"
                );
            }
            other => panic!("unexpected state {other} ({stderr})"),
        }
    }
    assert_eq!(
        w.sim.count(DELETE),
        done,
        "one delete per done target, none more"
    );
    assert_eq!(done + cancelled as usize, rows.len());
    // A runner stopped by the cancel says so; one that finished its target first is fine too.
    assert!(status.success() || status.code() == Some(3), "{stderr}");
}

#[tokio::test]
async fn a_journal_change_is_compare_and_set() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 3)).await;
    // Another runner took target 1 between our load and our first write.
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    conn.execute(
        "UPDATE plan_targets SET state = 'sent' WHERE plan_id = ?1 AND seq = 1",
        [p.id],
    )
    .unwrap();
    // execute() reads the journal, then writes planned -> intent for seq 2 and 3 only.
    let report =
        retract_core::execute::execute(&api, w.store(), p.id, &ExecOptions::default(), |r| {
            if r.seq == 1 {
                // While the runner is busy, the operator cancels what is not sent.
                queue::cancel_unsent(
                    &retract_core::store::Store::open(&w.db_path()).unwrap(),
                    p.id,
                )
                .unwrap();
            }
        })
        .await
        .unwrap();
    assert!(
        matches!(report.stop, Some(Problem::Conflict(_))),
        "{:?}",
        report.stop
    );
    assert_eq!(w.sim.count(DELETE), 0, "nothing sent after the cancel");
    assert_eq!(states(&w, p.id), ["sent", "skipped", "skipped"]);
}

// --- Late-showing deletes ------------------------------------------------------------------

#[tokio::test]
async fn an_unknown_outcome_is_settled_only_after_the_delay_so_a_lagging_wechat_is_not_hit_twice() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 1)).await;
    w.sim.set_quirks(Quirks {
        lag_secs: 20,
        ..Quirks::default()
    });
    w.sim.inject(DELETE, Fault::LoseResponse, 1);
    let clock = ManualClock::new(SystemTime::now());
    run(&w, &api, account, &clock).await;
    assert_eq!(states(&w, p.id), ["unknown"]);
    // Straight away: WeChat would still show it; nothing is asked, nothing sent.
    let before = w.sim.count(GETARTICLE);
    let r = run(&w, &api, account, &clock).await;
    assert_eq!(r.findings[0].now, JournalState::Unknown);
    assert_eq!(w.sim.count(GETARTICLE), before);
    // 31 s later on both clocks, the lag has passed: proven deleted, one delete in all.
    clock.advance(Duration::from_secs(31));
    w.sim.advance(Duration::from_secs(31));
    let r = run(&w, &api, account, &clock).await;
    assert_eq!(r.findings[0].now, JournalState::Done);
    assert_eq!(w.sim.count(DELETE), 1);
    assert!(w.sim.repeated_deletes(DEMO_APPID).is_empty());
}

// --- Token and rate-limit failures around a delete ------------------------------------------

#[tokio::test]
async fn a_token_that_cannot_be_fetched_for_a_delete_is_not_an_unknown_outcome() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 1)).await;
    // The delete is refused for its token; fetching a new one breaks on the way.
    w.sim.inject(DELETE, Fault::Errcode { code: 40001 }, 1);
    w.sim
        .inject("/cgi-bin/stable_token", Fault::DropUnapplied, 1);
    let clock = ManualClock::new(SystemTime::now());
    let r = run(&w, &api, account, &clock).await;
    let result = &r.reports[0].results[0];
    assert_eq!(result.outcome, Outcome::NotRun, "{result:?}");
    assert!(matches!(
        stop_of(&r),
        Problem::Wechat(wechat_mp::Error::Transport { .. })
    ));
    assert_eq!(states(&w, p.id), ["planned"], "sendable, not unknown");
    run(&w, &api, account, &clock).await;
    assert_eq!(states(&w, p.id), ["done"]);
}

#[tokio::test]
async fn a_second_45011_on_a_delete_or_one_on_a_read_stops_and_keeps_targets_sendable() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 3)).await;
    w.sim.inject(DELETE, Fault::Errcode { code: 45011 }, 2);
    let clock = ManualClock::new(SystemTime::now());
    let r = run(&w, &api, account, &clock).await;
    assert_eq!(r.reports[0].results[0].outcome, Outcome::NotRun);
    assert_eq!(states(&w, p.id), ["planned", "planned", "planned"]);
    // On the re-check (a read) too: the run stops, nothing sent, nothing failed.
    w.sim.inject(GETARTICLE, Fault::Errcode { code: 45011 }, 1);
    let sent = w.sim.count(DELETE);
    let r = run(&w, &api, account, &clock).await;
    assert!(matches!(stop_of(&r), Problem::Wechat(ref e) if e.api().unwrap().code == 45011));
    assert_eq!(w.sim.count(DELETE), sent);
    assert_eq!(states(&w, p.id), ["planned", "planned", "planned"]);
    run(&w, &api, account, &clock).await;
    assert_eq!(states(&w, p.id), ["done", "done", "done"]);
}

// --- quota/get is advisory --------------------------------------------------------------------

#[tokio::test]
async fn verify_and_resume_work_when_quota_get_does_not_know_the_path() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    w.sim.set_quirks(Quirks {
        quota_get_unknown: true,
        ..Quirks::default()
    });
    let report = w.accounts.verify(&draft(DEMO_SECRET)).await.unwrap();
    assert_eq!(
        report.delete_remain, None,
        "verified without a quota figure"
    );
    w.sim.set_daily_limit(DEMO_APPID, DELETE, 1);
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 2)).await;
    assert_eq!(p.days_needed, None);
    let clock = ManualClock::new(SystemTime::now());
    let first = run(&w, &api, account, &clock).await;
    assert!(first.paused_until.is_some());
    assert_eq!(states(&w, p.id), ["done", "waiting"]);
    // The next quota day: no quota/get answer, so one delete is simply tried.
    w.sim.roll_day();
    clock.advance(Duration::from_secs(86_400));
    run(&w, &api, account, &clock).await;
    assert_eq!(states(&w, p.id), ["done", "done"]);
}

// --- Sync -------------------------------------------------------------------------------------

#[tokio::test]
async fn a_first_sync_beyond_the_list_quota_resumes_on_the_next_quota_day() {
    let w = world(45).await;
    let (account, api) = unsynced_account(&w);
    w.sim.set_daily_limit(DEMO_APPID, BATCHGET, 2);
    let never = AtomicBool::new(false);
    let first = retract_core::sync::sync(&api, w.store(), account, false, &never, |_| {})
        .await
        .unwrap();
    assert_eq!(first.resume_at, Some(40));
    assert_eq!(first.progress.messages, 40);
    w.sim.roll_day();
    w.sim.set_daily_limit(DEMO_APPID, BATCHGET, 3);
    w.sim.clear_log();
    let second = retract_core::sync::sync(&api, w.store(), account, false, &never, |_| {})
        .await
        .unwrap_or_else(|e| panic!("second sync: {e}"));
    assert_eq!(second.resume_at, None);
    let offsets = batchget_offsets(&w);
    assert_eq!(
        offsets,
        [0, 20, 40],
        "the top first (what was published since), then one page before where it stopped"
    );
    assert_eq!(
        w.count("SELECT count(*) FROM messages"),
        45,
        "the older messages were indexed too"
    );
}

#[tokio::test]
async fn a_sync_broken_by_an_error_does_not_make_the_next_one_walk_every_page() {
    let w = world(60).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let never = AtomicBool::new(false);
    // A full re-sync breaks on its second page (an error that is not the list quota).
    w.sim.inject(BATCHGET, Fault::Pass, 1);
    w.sim.inject(BATCHGET, Fault::Errcode { code: 47001 }, 1);
    assert!(
        retract_core::sync::sync(&api, w.store(), account, true, &never, |_| {})
            .await
            .is_err()
    );
    // The next incremental sync starts at the top and stops at the first known page.
    w.sim.clear_log();
    let report = retract_core::sync::sync(&api, w.store(), account, false, &never, |_| {})
        .await
        .unwrap();
    assert_eq!(report.progress.pages, 1);
    assert_eq!(
        w.sim.count(BATCHGET),
        1,
        "one list call, not the rest of the list"
    );
}

#[tokio::test]
async fn a_sync_waits_for_a_running_queue_of_the_same_account() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let lock = queue::RunLock::try_acquire(w.store(), account).unwrap();
    let never = AtomicBool::new(false);
    let err = retract_core::sync::sync(&api, w.store(), account, true, &never, |_| {})
        .await
        .unwrap_err();
    assert!(matches!(err, CoreError::Busy(_)), "{err}");
    drop(lock);
    retract_core::sync::sync(&api, w.store(), account, true, &never, |_| {})
        .await
        .unwrap();
}

#[tokio::test]
async fn a_message_gone_from_the_list_is_marked_deleted_only_with_proof() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let ids: Vec<String> = w
        .sim
        .messages(DEMO_APPID)
        .iter()
        .map(|m| m.article_id.clone())
        .collect();
    // One message deleted in the console: the list no longer has it, getarticle flags it.
    w.sim.edit_message(DEMO_APPID, &ids[0], |m| {
        m.items.iter_mut().for_each(|i| i.is_deleted = true)
    });
    let never = AtomicBool::new(false);
    let report = retract_core::sync::sync(&api, w.store(), account, true, &never, |_| {})
        .await
        .unwrap();
    assert_eq!((report.vanished, report.unverified), (1, 0));
    // A stripped, deleted item in a listed message does not fail its page.
    let m = &w.sim.messages(DEMO_APPID)[1];
    let page = serde_json::json!({"total_count": 1, "item_count": 1, "item": [
        {"article_id": m.article_id, "update_time": m.update_time, "content": {"news_item": [{"is_deleted": true}]}}
    ]});
    w.sim.inject(BATCHGET, relay(&page.to_string()), 1);
    let report = retract_core::sync::sync(&api, w.store(), account, false, &never, |_| {})
        .await
        .unwrap();
    assert_eq!(report.progress.messages, 1);
}

// --- A token of another account, a platform's whitelist ------------------------------------

#[tokio::test]
async fn a_token_of_another_account_cannot_make_targets_look_gone() {
    let mut config = SimConfig::demo(10);
    let mut other = AccountSpec::new("wx00000000000000bb", "b".repeat(32).as_str(), 5);
    other.seed = 2;
    config.accounts.push(other);
    let w = world_with(config).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 2)).await;
    // The pasted token (or a misconfigured token service) belongs to account B.
    let b = Api::new(
        Client::new(&ClientConfig::with_base(w.sim.base_url())).unwrap(),
        Arc::new(TokenCache::new(
            TokenSource::Stable {
                appid: "wx00000000000000bb".into(),
                secret: "b".repeat(32).into(),
            },
            Arc::new(SystemClock),
        )),
    );
    let clock = ManualClock::new(SystemTime::now());
    let r = queue::run(&b, w.store(), account, &options_on(&clock), |_, _| {})
        .await
        .unwrap();
    assert!(
        matches!(stop_of(&r), Problem::Unproven(ref why) if why.contains("another account")),
        "{:?}",
        stop_of(&r)
    );
    assert_eq!(states(&w, p.id), ["planned", "planned"]);
    assert_eq!(deleted_in_index(&w), 0, "nothing counted as gone");
    assert_eq!(w.sim.count(DELETE), 0);
}

#[tokio::test]
async fn a_platform_whitelist_refusal_stops_the_run_with_the_ip() {
    let w = world(10).await;
    let (account, _) = synced_account(&w, SecretStorage::SessionOnly).await;
    let service = Api::new(
        Client::new(&ClientConfig::with_base(w.sim.base_url())).unwrap(),
        Arc::new(TokenCache::new(
            TokenSource::Service {
                url: format!("{}{}", w.sim.base_url(), wechat_sim::TOKEN_SERVICE_PATH)
                    .parse()
                    .unwrap(),
                header: Some(("X-Token-Key".into(), wechat_sim::TOKEN_SERVICE_KEY.into())),
            },
            Arc::new(SystemClock),
        )),
    );
    let p = confirmed(&w, &service, account, &oldest_messages(&w, 2)).await;
    w.sim.set_quirks(Quirks {
        whitelist_on_business_calls: true,
        ..Quirks::default()
    });
    w.sim.configure(DEMO_APPID, |a| {
        a.whitelist = Some(vec!["198.51.100.7".into()])
    });
    let clock = ManualClock::new(SystemTime::now());
    let r = queue::run(&service, w.store(), account, &options_on(&clock), |_, _| {})
        .await
        .unwrap();
    let Problem::Wechat(e) = stop_of(&r) else {
        panic!("{:?}", stop_of(&r))
    };
    assert_eq!(e.api().unwrap().code, 61004);
    assert_eq!(
        e.class(),
        Some(&wechat_mp::ErrorClass::IpNotWhitelisted {
            ip: Some("203.0.113.45".into()),
            platform: true
        })
    );
    assert_eq!(states(&w, p.id), ["planned", "planned"]);
}

// --- Learning from evidence ---------------------------------------------------------------

#[tokio::test]
async fn the_first_sighting_of_each_undocumented_behaviour_is_recorded() {
    use retract_core::observations::{self, Behaviour};
    let w = world(30).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let clock = ManualClock::new(SystemTime::now());
    assert!(observations::list(w.store()).unwrap().is_empty());

    // Lag: item 3 is deleted (errcode 0), then the check of item 2 still shows it live.
    w.sim.set_quirks(Quirks {
        lag_secs: 20,
        ..Quirks::default()
    });
    let m = multi_item(&w, 3);
    let sel = [3, 2].map(|index| Selection::Item {
        article_id: m.article_id.clone(),
        index,
    });
    confirmed(&w, &api, account, &sel).await;
    run(&w, &api, account, &clock).await;

    // 53600 for a message deleted in the console (twice, with a live control in between).
    w.sim.set_quirks(Quirks {
        deleted_message_53600: true,
        ..Quirks::default()
    });
    let whole = oldest_messages(&w, 3).pop().unwrap();
    let Selection::WholeMessage { article_id } = &whole else {
        unreachable!()
    };
    w.sim.edit_message(DEMO_APPID, article_id, |msg| {
        msg.items.iter_mut().for_each(|i| i.is_deleted = true)
    });
    let p = confirmed(&w, &api, account, std::slice::from_ref(&whole)).await;
    let r = run(&w, &api, account, &clock).await;
    let last = r.reports.iter().find(|x| x.plan_id == p.id).unwrap();
    assert_eq!(last.results[0].outcome, Outcome::AlreadyGone);

    // Compaction: item 1 goes in the console; the reviewed item 2 is now at position 1.
    w.sim.set_quirks(Quirks {
        compact_positions: true,
        ..Quirks::default()
    });
    let other = w
        .sim
        .messages(DEMO_APPID)
        .into_iter()
        .rev()
        .find(|x| x.items.len() >= 3 && x.article_id != m.article_id)
        .unwrap();
    let p = confirmed(
        &w,
        &api,
        account,
        &[Selection::Item {
            article_id: other.article_id.clone(),
            index: 2,
        }],
    )
    .await;
    w.sim.edit_message(DEMO_APPID, &other.article_id, |msg| {
        msg.items[0].is_deleted = true
    });
    let r = run(&w, &api, account, &clock).await;
    let held = r.reports.iter().find(|x| x.plan_id == p.id).unwrap();
    assert!(
        held.results[0]
            .message
            .as_deref()
            .unwrap()
            .contains("another position")
    );
    assert_eq!(states(&w, p.id), ["held"]);

    let seen: Vec<Behaviour> = observations::list(w.store())
        .unwrap()
        .into_iter()
        .map(|o| o.behaviour)
        .collect();
    for b in [
        Behaviour::LateDelete,
        Behaviour::DeletedMessage53600,
        Behaviour::PositionsCompacted,
    ] {
        assert!(seen.contains(&b), "{b:?} not recorded: {seen:?}");
    }
    assert_eq!(seen.len(), 3, "one row per behaviour");
    let with_rid = observations::list(w.store())
        .unwrap()
        .into_iter()
        .find(|o| o.behaviour == Behaviour::DeletedMessage53600)
        .unwrap();
    assert!(with_rid.rid.is_some(), "the 53600 answer's rid is kept");
}

#[tokio::test]
async fn a_listing_that_shows_a_delete_late_does_not_bring_the_article_back() {
    let w = world(30).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    w.sim.set_quirks(Quirks {
        lag_secs: 20,
        ..Quirks::default()
    });
    let m = multi_item(&w, 2);
    let items: Vec<Selection> = (1..=m.items.len() as u32)
        .rev()
        .map(|index| Selection::Item {
            article_id: m.article_id.clone(),
            index,
        })
        .collect();
    let clock = ManualClock::new(SystemTime::now());
    let p = confirmed(&w, &api, account, &items).await;
    run(&w, &api, account, &clock).await;
    assert!(states(&w, p.id).iter().all(|s| s == "done"));
    // A full sync right away still lists the message with every item live.
    let never = AtomicBool::new(false);
    retract_core::sync::sync(&api, w.store(), account, true, &never, |_| {})
        .await
        .unwrap();
    let shown_live = w.count(&format!(
        "SELECT count(*) FROM items WHERE article_id = '{}' AND is_deleted = 0",
        m.article_id
    ));
    assert_eq!(
        shown_live, 0,
        "what Retract deleted stays deleted in the index"
    );
    // So the whole message cannot be planned again and deleted a second time.
    let again = plan::create(
        &api,
        w.store(),
        account,
        &[Selection::WholeMessage {
            article_id: m.article_id.clone(),
        }],
    )
    .await;
    assert!(matches!(again, Err(CoreError::Invalid(_))), "{again:?}");
    assert!(w.sim.repeated_deletes(DEMO_APPID).is_empty());
}

#[tokio::test]
async fn a_quota_day_that_starts_at_another_hour_costs_hours_not_a_day() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    w.sim.set_quirks(Quirks {
        quota_reset_hour: 5,
        ..Quirks::default()
    });
    // Start both clocks at 10:00 Beijing time, well inside a 05:00-to-05:00 quota day.
    let clock = ManualClock::new(SystemTime::now());
    let now = clock
        .now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let ten = ((now + 8 * 3600) / 86_400 + 1) * 86_400 - 8 * 3600 + 10 * 3600;
    let to_ten = Duration::from_secs(ten - now);
    clock.advance(to_ten);
    w.sim.advance(to_ten);
    w.sim.set_daily_limit(DEMO_APPID, DELETE, 1);
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 2)).await;
    let first = run(&w, &api, account, &clock).await;
    let midnight = first.paused_until.unwrap();
    assert_eq!(midnight, queue::next_quota_day(ten as i64));
    // Midnight comes; this WeChat's day has not turned yet: an hour, not another day.
    let to_midnight = Duration::from_secs(midnight as u64 - ten + 1);
    clock.advance(to_midnight);
    w.sim.advance(to_midnight);
    let refused = run(&w, &api, account, &clock).await;
    assert_eq!(refused.paused_until, Some(midnight + 1 + 3600));
    assert_eq!(states(&w, p.id), ["done", "waiting"]);
    // 05:00 passes: the next try finishes the plan the same morning.
    for _ in 0..5 {
        clock.advance(Duration::from_secs(3600));
        w.sim.advance(Duration::from_secs(3600));
        run(&w, &api, account, &clock).await;
    }
    assert_eq!(states(&w, p.id), ["done", "done"]);
}

#[tokio::test]
async fn a_listing_with_nulls_numbers_and_a_nested_time_shows_no_false_live_article() {
    let w = world(3).await;
    let (account, api) = unsynced_account(&w);
    w.sim.inject(
        BATCHGET,
        relay(
            r#"{"total_count":1,"item_count":1,"item":[{"article_id":"X1","content":{"update_time":"1700000100","news_item":[
                {"title":"甲","author":null,"digest":null,"url":null,"is_deleted":false},
                {"title":"乙","author":null,"url":null,"content":null,"is_deleted":true},
                null]}}]}"#,
        ),
        1,
    );
    let never = AtomicBool::new(false);
    retract_core::sync::sync(&api, w.store(), account, false, &never, |_| {})
        .await
        .unwrap();
    let (_, rows) = index::search(w.store(), account, &Default::default(), 0, 100).unwrap();
    let shown: Vec<(String, u32, bool, i64)> = rows
        .iter()
        .map(|r| (r.title.clone(), r.index, r.is_deleted, r.publish_time))
        .collect();
    assert_eq!(
        shown,
        [
            ("甲".to_string(), 1, false, 1_700_000_100),
            ("乙".to_string(), 2, true, 1_700_000_100)
        ],
        "nulls read as empty, the deleted item stays deleted, the entry that is no article is not shown, the time read from inside content"
    );
}

#[tokio::test]
async fn a_control_article_deleted_in_the_console_since_the_sync_is_not_taken_for_a_foreign_token()
{
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    w.sim.set_quirks(Quirks {
        deleted_message_53600: true,
        ..Quirks::default()
    });
    let whole = oldest_messages(&w, 1);
    let Selection::WholeMessage { article_id: target } = &whole[0] else {
        unreachable!()
    };
    let p = confirmed(&w, &api, account, &whole).await;
    // The publisher deleted, in the MP console, the target and the first control (the live
    // article with the smallest id): both answer 53600 now; the index does not know.
    let mut ids: Vec<String> = w
        .sim
        .messages(DEMO_APPID)
        .into_iter()
        .map(|m| m.article_id)
        .filter(|id| id != target)
        .collect();
    ids.sort();
    for id in [target.clone(), ids[0].clone()] {
        w.sim.edit_message(DEMO_APPID, &id, |m| {
            m.items.iter_mut().for_each(|i| i.is_deleted = true)
        });
    }
    let clock = ManualClock::new(SystemTime::now());
    let r = run(&w, &api, account, &clock).await;
    assert_eq!(
        r.reports[0].results[0].outcome,
        Outcome::AlreadyGone,
        "the second control vouched for the token: {:?}",
        r.reports[0].stop
    );
    assert_eq!(states(&w, p.id), ["done"]);
    assert_eq!(w.sim.count(DELETE), 0, "nothing to send: it was gone");
}
