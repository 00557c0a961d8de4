//! The fault matrix of the deletion queue, against the simulator over real HTTP with a real
//! SQLite file. Numbers refer to the list in the safety-net issue; 10 (descending order, title
//! mismatch) lives in journey.rs and 12 (SIGKILL loop) in killloop.rs.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::*;
use retract_core::accounts::SecretStorage;
use retract_core::execute::{ExecOptions, Problem, Waiter};
use retract_core::ids::{AccountId, PlanId};
use retract_core::journal::JournalState;
use retract_core::plan::{self, Selection};
use retract_core::queue;
use retract_core::store::Store;
use wechat_mp::ManualClock;
use wechat_sim::{DEMO_APPID, Fault, SimConfig};

/// Records every wait instead of sleeping: virtual time.
#[derive(Default)]
struct Recorder(Mutex<Vec<Duration>>);

impl Waiter for Recorder {
    fn wait(
        &self,
        how_long: Duration,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        self.0.lock().unwrap().push(how_long);
        Box::pin(async {})
    }
}

fn recording() -> (ExecOptions, Arc<Recorder>) {
    recording_on(&ManualClock::new(SystemTime::now()))
}

/// Options whose waits are recorded and whose clock is `clock` (moved by the test).
fn recording_on(clock: &ManualClock) -> (ExecOptions, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    (
        ExecOptions {
            waiter: recorder.clone(),
            clock: Arc::new(clock.clone()),
            ..ExecOptions::default()
        },
        recorder,
    )
}

async fn run_queue(w: &World, api: &wechat_mp::Api, account: AccountId) -> queue::QueueRun {
    let (options, _) = recording();
    queue::run(api, w.store(), account, &options, |_, _| {})
        .await
        .unwrap()
}

/// Runs the queue on `clock`, then moves it past the settle delay.
async fn run_then_wait(
    w: &World,
    api: &wechat_mp::Api,
    account: AccountId,
    clock: &ManualClock,
) -> queue::QueueRun {
    let (options, _) = recording_on(clock);
    let run = queue::run(api, w.store(), account, &options, |_, _| {})
        .await
        .unwrap();
    clock.advance(Duration::from_secs(31));
    run
}

fn history(w: &World, plan: PlanId, seq: u32) -> Vec<String> {
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    let mut stmt = conn
        .prepare("SELECT state FROM journal_events WHERE plan_id = ?1 AND seq = ?2 ORDER BY id")
        .unwrap();
    stmt.query_map(rusqlite::params![plan, seq], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn deleted_in_sim(w: &World, article_id: &str) -> bool {
    w.sim
        .message(DEMO_APPID, article_id)
        .unwrap()
        .items
        .iter()
        .all(|i| i.is_deleted)
}

fn set_state(w: &World, plan: PlanId, seq: u32, state: &str) {
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    conn.execute(
        "UPDATE plan_targets SET state = ?3 WHERE plan_id = ?1 AND seq = ?2",
        rusqlite::params![plan, seq, state],
    )
    .unwrap();
}

/// Every delete request of an article after its first one is preceded, since the previous
/// delete, by a getarticle of the same article: no resend without proof.
fn assert_no_blind_resend(w: &World) {
    let mut last_check_since_delete: std::collections::HashMap<String, bool> = Default::default();
    for r in w.sim.requests() {
        let id = r.json()["article_id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        match r.path.as_str() {
            GETARTICLE => {
                last_check_since_delete.insert(id, true);
            }
            DELETE => {
                if let Some(checked) = last_check_since_delete.get(&id) {
                    assert!(
                        *checked,
                        "a delete of {id} was resent without a getarticle in between"
                    );
                }
                last_check_since_delete.insert(id, false);
            }
            _ => {}
        }
    }
}

#[tokio::test]
async fn f1_an_answered_delete_is_done_with_one_audit_row() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 1)).await;
    run_queue(&w, &api, account).await;
    assert_eq!(states(&w, p.id), ["done"]);
    assert_eq!(history(&w, p.id, 1), ["intent", "sent", "done"]);
    assert_eq!(w.sim.count(DELETE), 1);
    assert_eq!(
        w.count("SELECT count(*) FROM audit WHERE action = 'delete_request'"),
        1
    );
    assert!(w.count("SELECT count(*) FROM audit WHERE action = 'delete_request' AND detail LIKE '%\"errcode\":0%'") == 1);
}

#[tokio::test]
async fn f2_a_lost_answer_to_an_applied_delete_is_settled_by_getarticle() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 1)).await;
    w.sim.inject(DELETE, Fault::LoseResponse, 1);
    let clock = ManualClock::new(SystemTime::now());
    run_then_wait(&w, &api, account, &clock).await;
    assert_eq!(history(&w, p.id, 1), ["intent", "sent", "unknown"]);
    run_then_wait(&w, &api, account, &clock).await;
    assert_eq!(history(&w, p.id, 1), ["intent", "sent", "unknown", "done"]);
    assert_eq!(w.sim.count(DELETE), 1, "exactly one delete");
    assert!(deleted_in_sim(&w, &p.targets[0].article_id));
}

#[tokio::test]
async fn f3_a_lost_unapplied_delete_is_held_after_two_checks_and_sent_again_only_on_the_operators_word()
 {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 1)).await;
    w.sim.inject(DELETE, Fault::DropUnapplied, 1);
    let clock = ManualClock::new(SystemTime::now());
    run_then_wait(&w, &api, account, &clock).await;
    // 31 s later: the first check sees it live. That alone sends nothing.
    run_then_wait(&w, &api, account, &clock).await;
    assert_eq!(states(&w, p.id), ["unknown"]);
    // Runs before the second check is due ask WeChat nothing.
    let reads = w.sim.count(GETARTICLE);
    run_then_wait(&w, &api, account, &clock).await;
    assert_eq!(
        w.sim.count(GETARTICLE),
        reads,
        "no read before the second check"
    );
    clock.advance(Duration::from_secs(
        retract_core::settle::second_check_gap(false) as u64,
    ));
    run_then_wait(&w, &api, account, &clock).await;
    assert_eq!(
        states(&w, p.id),
        ["held"],
        "live on two checks far apart: held"
    );
    for _ in 0..3 {
        clock.advance(Duration::from_secs(3600));
        run_then_wait(&w, &api, account, &clock).await;
    }
    assert_eq!(w.sim.count(DELETE), 1, "nothing sends a held request");
    assert_eq!(
        w.sim.count(GETARTICLE),
        reads + 1,
        "nor asks about it again"
    );
    retract_core::decide::decide(
        w.store(),
        p.id,
        1,
        retract_core::decide::Decision::SendAgain,
        0,
    )
    .unwrap();
    run_then_wait(&w, &api, account, &clock).await;
    assert_eq!(
        history(&w, p.id, 1),
        [
            "intent", "sent", "unknown", "held", "planned", "intent", "sent", "done"
        ]
    );
    assert_eq!(w.sim.count(DELETE), 2);
    assert_no_blind_resend(&w);
}

#[tokio::test]
async fn f4_killed_after_the_intent_commit_reconciles_then_sends_once() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 1)).await;
    set_state(&w, p.id, 1, "intent"); // the crash: intent committed, nothing sent
    let run = run_queue(&w, &api, account).await;
    assert_eq!(run.findings.len(), 1);
    assert_eq!(
        (run.findings[0].was, run.findings[0].now),
        (JournalState::Intent, JournalState::Planned)
    );
    assert_eq!(w.sim.count(DELETE), 1);
    assert_eq!(states(&w, p.id), ["done"]);
}

#[tokio::test]
async fn f5_killed_after_sending_is_reconciled_without_a_blind_resend() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 1)).await;
    // The crash: `sent` committed, WeChat applied it, the outcome was never written.
    set_state(&w, p.id, 1, "sent");
    w.sim
        .edit_message(DEMO_APPID, &p.targets[0].article_id, |m| {
            m.items.iter_mut().for_each(|i| i.is_deleted = true)
        });
    // Settled only once the delay has passed: a lagging WeChat could still show it.
    let clock = ManualClock::new(SystemTime::now());
    let early = run_then_wait(&w, &api, account, &clock).await;
    assert_eq!(
        (early.findings[0].was, early.findings[0].now),
        (JournalState::Sent, JournalState::Sent)
    );
    assert_eq!(w.sim.count(GETARTICLE), 0, "not even asked yet");
    let run = run_then_wait(&w, &api, account, &clock).await;
    assert_eq!(
        (run.findings[0].was, run.findings[0].now),
        (JournalState::Sent, JournalState::Done)
    );
    assert_eq!(w.sim.count(DELETE), 0, "nothing resent");
    assert_eq!(
        w.count("SELECT count(*) FROM plan_targets WHERE outcome = 'deleted'"),
        1
    );
}

#[tokio::test]
async fn f6_a_minute_limit_waits_once_in_virtual_time_then_retries_once() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 1)).await;
    w.sim.inject(DELETE, Fault::Errcode { code: 45011 }, 1);
    let (options, recorder) = recording();
    queue::run(&api, w.store(), account, &options, |_, _| {})
        .await
        .unwrap();
    assert_eq!(*recorder.0.lock().unwrap(), [Duration::from_secs(61)]);
    assert_eq!(w.sim.count(DELETE), 2);
    assert_eq!(states(&w, p.id), ["done"]);
}

#[tokio::test]
async fn f7_an_exhausted_quota_pauses_until_the_next_day_then_resumes() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    w.sim.set_daily_limit(DEMO_APPID, DELETE, 1);
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 3)).await;
    let clock = ManualClock::new(SystemTime::now());
    let (options, _) = recording_on(&clock);
    let first = queue::run(&api, w.store(), account, &options, |_, _| {})
        .await
        .unwrap();
    assert!(first.paused_until.is_some());
    assert_eq!(states(&w, p.id), ["done", "waiting", "planned"]);
    let status = queue::status(w.store(), account).unwrap();
    assert_eq!(
        (
            status.plans[0].done,
            status.plans[0].waiting,
            status.plans[0].planned
        ),
        (1, 1, 1)
    );

    // Later, before the pause ends: nothing is sent. (Halfway there: "a minute later" is
    // the next day at 23:59:40 Beijing time.)
    let until = first.paused_until.unwrap();
    let now = options.now();
    clock.advance(Duration::from_secs(((until - now) / 2).max(0) as u64));
    let again = queue::run(&api, w.store(), account, &options, |_, _| {})
        .await
        .unwrap();
    assert_eq!(again.paused_until, first.paused_until);
    assert_eq!(w.sim.count(DELETE), 2);

    // The next quota day, on both clocks.
    w.sim.roll_day();
    clock.advance(Duration::from_secs(86_400));
    queue::run(&api, w.store(), account, &options, |_, _| {})
        .await
        .unwrap();
    // One a day: the second target today, the third tomorrow.
    assert_eq!(states(&w, p.id), ["done", "done", "waiting"]);
    w.sim.roll_day();
    clock.advance(Duration::from_secs(86_400));
    queue::run(&api, w.store(), account, &options, |_, _| {})
        .await
        .unwrap();
    assert_eq!(states(&w, p.id), ["done", "done", "done"]);
    assert!(p.targets.iter().all(|t| deleted_in_sim(&w, &t.article_id)));
}

#[tokio::test]
async fn f8_an_expired_token_is_refreshed_once_in_normal_mode_and_the_delete_retried_once() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 1)).await;
    w.sim.clear_log();
    w.sim.inject(DELETE, Fault::Errcode { code: 42001 }, 1);
    run_queue(&w, &api, account).await;
    let tokens: Vec<_> = w
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path == "/cgi-bin/stable_token")
        .collect();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].json()["force_refresh"], false);
    assert_eq!(w.sim.count(DELETE), 2);
    assert_eq!(states(&w, p.id), ["done"]);
}

#[tokio::test]
async fn f9_system_busy_on_deletes_is_never_resent_without_the_operator_and_ends_reconciled() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 1)).await;
    w.sim.inject(DELETE, Fault::Busy, 2);
    let clock = ManualClock::new(SystemTime::now());
    run_then_wait(&w, &api, account, &clock).await;
    assert_eq!(states(&w, p.id), ["unknown"], "a busy answer is unknown");
    assert_eq!(w.sim.count(GETARTICLE), 1, "only the check before sending");
    for round in 1..=2 {
        run_then_wait(&w, &api, account, &clock).await;
        clock.advance(Duration::from_secs(
            retract_core::settle::second_check_gap(false) as u64,
        ));
        run_then_wait(&w, &api, account, &clock).await;
        assert_eq!(states(&w, p.id), ["held"]);
        assert_eq!(w.sim.count(DELETE), round, "held: nothing sent by itself");
        retract_core::decide::decide(
            w.store(),
            p.id,
            1,
            retract_core::decide::Decision::SendAgain,
            0,
        )
        .unwrap();
        run_then_wait(&w, &api, account, &clock).await;
    }
    assert_eq!(states(&w, p.id), ["done"]);
    assert_eq!(w.sim.count(DELETE), 3);
    assert_no_blind_resend(&w);
}

#[tokio::test]
async fn f11_canary_secret_and_token_reach_no_log_database_payload_or_error() {
    let canary = "ca11a1ca11a1ca11a1ca11a1ca11a1ca";
    let mut config = SimConfig::demo(10);
    config.accounts[0].secret = canary.into();
    let w = world_with(config).await;
    let account = w
        .accounts
        .save(&draft(canary), SecretStorage::SessionOnly)
        .unwrap();
    let api = w.accounts.api(account.id).unwrap();
    let token = {
        use secrecy::ExposeSecret;
        api.token()
            .await
            .unwrap()
            .secret()
            .expose_secret()
            .to_string()
    };
    let logs = Arc::new(Mutex::new(Vec::<u8>::new()));
    let sink = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || LogSink(sink.clone()))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let never = std::sync::atomic::AtomicBool::new(false);
    retract_core::sync::sync(&api, w.store(), account.id, true, &never, |_| {})
        .await
        .unwrap();
    let mut shown = Vec::new();
    let faults = [
        Fault::Busy,
        Fault::BadGateway,
        Fault::MalformedJson,
        Fault::LoseResponse,
        Fault::DropUnapplied,
        Fault::Errcode { code: 45009 },
        Fault::Errcode { code: 40001 },
    ];
    let sel = oldest_messages(&w, faults.len());
    let mut runs = 0;
    for (fault, target) in faults.into_iter().zip(&sel) {
        // A message of its own per fault, so every fault path really runs.
        let p = plan::create(&api, w.store(), account.id, std::slice::from_ref(target))
            .await
            .unwrap();
        plan::confirm(w.store(), p.id, &p.nonce, &p.phrase).unwrap();
        runs += 1;
        w.sim.inject(DELETE, fault.clone(), 2);
        w.sim.inject(GETARTICLE, fault, 1);
        let (options, _) = recording();
        match queue::run(&api, w.store(), account.id, &options, |_, _| {}).await {
            Ok(run) => shown.push(
                serde_json::to_string(&run).unwrap()
                    + &format!(
                        "{:?}",
                        run.reports.iter().map(|r| &r.stop).collect::<Vec<_>>()
                    ),
            ),
            Err(e) => shown.push(format!("{e} {e:?}")),
        }
        let _ = queue::clear_quota(&api, w.store(), account.id, DEMO_APPID)
            .await
            .map_err(|e| shown.push(format!("{e} {e:?}")));
        shown.push(serde_json::to_string(&queue::status(w.store(), account.id).unwrap()).unwrap());
    }
    // A wrong secret and a revoked token, through the same paths.
    let wrong = w
        .accounts
        .verify(&draft("00000000000000000000000000000000"))
        .await
        .unwrap_err();
    shown.push(format!("{wrong} {wrong:?}"));
    let everything = [
        shown.join("\n").into_bytes(),
        logs.lock().unwrap().clone(),
        w.db_bytes(),
    ]
    .concat();
    for secret in [canary, &token] {
        assert!(!contains(&everything, secret), "a secret leaked");
    }
    // Every fault ran: a result (or an error) per fault, a clear_quota attempt and a status each.
    assert_eq!(runs, 7);
    assert!(shown.len() > 2 * runs, "{} entries", shown.len());
    assert!(
        shown.iter().any(|s| s.contains("unknown")),
        "the lost answers were shown as unknown"
    );

    // Panic and error output of a real process running the queue.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_queue-runner"))
        .args([
            w.db_path().to_str().unwrap(),
            "http://127.0.0.1:9",
            &account.id.to_string(),
        ])
        .env("RETRACT_RUNNER_SECRET", canary)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let printed = [out.stdout, out.stderr].concat();
    assert!(!out.status.success());
    assert!(
        !contains(&printed, canary) && !contains(&printed, &token),
        "{}",
        String::from_utf8_lossy(&printed)
    );
}

#[derive(Clone)]
struct LogSink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn cancelling_a_queue_touches_only_what_was_not_sent() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    w.sim.set_daily_limit(DEMO_APPID, DELETE, 1);
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 3)).await;
    run_queue(&w, &api, account).await;
    set_state(&w, p.id, 2, "unknown");
    assert_eq!(queue::cancel_unsent(w.store(), p.id).unwrap(), 1);
    assert_eq!(states(&w, p.id), ["done", "unknown", "skipped"]);
    assert!(
        queue::status(w.store(), account).unwrap().plans[0].unsettled == 1,
        "unknown stays to be reconciled"
    );
}

#[tokio::test]
async fn bad_inputs_are_refused_before_anything_is_sent() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let real = w.sim.messages(DEMO_APPID)[0].article_id.clone();
    w.sim.clear_log();
    let bad: Vec<Vec<Selection>> = vec![
        vec![],
        vec![Selection::WholeMessage {
            article_id: String::new(),
        }],
        vec![Selection::WholeMessage {
            article_id: "x".repeat(10_000),
        }],
        vec![Selection::WholeMessage {
            article_id: "文章编号".into(),
        }],
        vec![Selection::Item {
            article_id: real.clone(),
            index: 0,
        }],
        vec![Selection::Item {
            article_id: real.clone(),
            index: u32::MAX,
        }],
    ];
    for selection in bad {
        let err = plan::create(&api, w.store(), account, &selection)
            .await
            .unwrap_err();
        assert!(
            matches!(err, retract_core::CoreError::Invalid(_)),
            "{err:?}"
        );
    }
    assert!(
        serde_json::from_str::<Selection>(r#"{"kind":"item","articleId":"a","index":-1}"#).is_err(),
        "a negative index cannot even be decoded"
    );
    assert_eq!(w.sim.requests().len(), 0, "nothing was sent for bad input");
    assert_eq!(
        w.count("SELECT count(*) FROM plans"),
        0,
        "nothing was stored"
    );
}

#[test]
fn a_damaged_database_is_refused_with_a_clear_error_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retract.db");
    {
        let store = Store::open(&path).unwrap();
        store
            .audit(
                None,
                retract_core::audit::AuditAction::Sync,
                &serde_json::json!({"x": "y".repeat(20_000)}),
            )
            .unwrap();
    }
    // Checkpoint and close, then scribble over the middle of the file.
    let mut bytes = std::fs::read(&path).unwrap();
    let mid = bytes.len() / 2;
    let end = (mid + 4096).min(bytes.len());
    for b in &mut bytes[mid..end] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = Store::open(&path).unwrap_err().to_string();
    assert!(
        err.contains("damaged") || err.contains("not a Retract database"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        bytes,
        "the file was left untouched"
    );
}

#[tokio::test]
async fn the_audit_log_is_append_only_even_for_direct_sql() {
    let w = world(3).await;
    let (account, _) = synced_account(&w, SecretStorage::SessionOnly).await;
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    let before = w.count("SELECT count(*) FROM audit");
    assert!(before >= 2);
    for sql in ["UPDATE audit SET action = 'x'", "DELETE FROM audit"] {
        let err = conn.execute(sql, []).unwrap_err().to_string();
        assert!(err.contains("append-only"), "{err}");
    }
    assert_eq!(w.count("SELECT count(*) FROM audit"), before);
    // Removing the account keeps its history.
    w.accounts.remove(account).unwrap();
    assert!(w.count("SELECT count(*) FROM audit") > before);
}

#[test]
fn an_old_database_is_upgraded_in_place_keeping_its_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retract.db");
    drop(Store::open(&path).unwrap());
    // Turn the fresh file back into a version-1 file with one row, as an early build left it.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP INDEX plan_targets_message; DROP TABLE plan_targets;
             CREATE TABLE plan_targets (
                 plan_id INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
                 article_id TEXT NOT NULL, idx INTEGER NOT NULL CHECK (idx >= 0), titles TEXT NOT NULL,
                 publish_time INTEGER NOT NULL,
                 state TEXT NOT NULL CHECK (state IN ('planned', 'intent', 'sent', 'done', 'failed', 'unknown', 'skipped', 'waiting')),
                 outcome TEXT, errcode INTEGER, errmsg TEXT, rid TEXT, updated_at INTEGER NOT NULL,
                 PRIMARY KEY (plan_id, seq));
             ALTER TABLE accounts DROP COLUMN queue_wake_at; ALTER TABLE accounts DROP COLUMN queue_retries;
             ALTER TABLE accounts DROP COLUMN queue_stopped_at; ALTER TABLE accounts DROP COLUMN removed_at;
             ALTER TABLE plans DROP COLUMN not_before; ALTER TABLE plans DROP COLUMN seal;
             ALTER TABLE plans DROP COLUMN scheduled_for;
             ALTER TABLE items DROP COLUMN thumb_url; ALTER TABLE items DROP COLUMN deleted_at;
             DROP TRIGGER search_rev_item_add; DROP TRIGGER search_rev_item_change;
             DROP TRIGGER search_rev_item_drop; DROP TRIGGER search_rev_message_change; DROP TABLE search_rev;
             DROP TABLE observations; ALTER TABLE accounts DROP COLUMN sync_cursor;
             DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;
             ALTER TABLE archive DROP COLUMN seq; ALTER TABLE accounts DROP COLUMN queue_paused_until;
             INSERT INTO audit (at, action, detail) VALUES (1, 'from_v1', '{}');
             INSERT INTO accounts (id, name, appid, token_source, created_at) VALUES (1, 'v1', 'wx1', 'stable', 1);
             INSERT INTO plans (id, account_id, nonce, phrase, status, created_at) VALUES (1, 1, 'n', '1', 'confirmed', 1);
             INSERT INTO plan_targets (plan_id, seq, article_id, idx, titles, publish_time, state, outcome, rid, updated_at)
                 VALUES (1, 1, 'A', 2, '[[\"周报\",2]]', 1, 'unknown', 'unknown', 'rid-1', 5);
             PRAGMA user_version = 1;",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i32 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 10);
    // The journal was rebuilt (schema 8) with its rows, and takes the operator's `held` now.
    let row: (String, String, Option<i64>) = conn
        .query_row(
            "SELECT state, rid, seen_live_at FROM plan_targets WHERE plan_id = 1 AND seq = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(row, ("unknown".into(), "rid-1".into(), None));
    conn.execute(
        "UPDATE plan_targets SET state = 'held', seen_live_at = 9 WHERE plan_id = 1",
        [],
    )
    .unwrap();
    conn.execute(
        "UPDATE accounts SET queue_wake_at = 1, queue_retries = 1, queue_stopped_at = 1, removed_at = 1 WHERE 0",
        [],
    )
    .unwrap();
    let rev: i64 = conn
        .query_row("SELECT n FROM search_rev", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rev, 1, "search's revision starts once");
    conn.execute("UPDATE plans SET not_before = 1 WHERE 0", [])
        .unwrap();
    conn.execute("UPDATE accounts SET queue_paused_until = 1 WHERE 0", [])
        .unwrap();
    conn.execute("UPDATE archive SET seq = 1 WHERE 0", [])
        .unwrap();
    conn.execute(
        "UPDATE items SET thumb_url = '', deleted_at = 1 WHERE 0",
        [],
    )
    .unwrap();
    let kept: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit WHERE action = 'from_v1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kept, 1);
    assert!(
        conn.execute("DELETE FROM audit", []).is_err(),
        "the upgraded log is append-only too"
    );
}

#[test]
fn a_database_from_a_newer_retract_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retract.db");
    drop(Store::open(&path).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99;")
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).unwrap_err().to_string();
    assert!(err.contains("newer Retract"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[tokio::test]
async fn a_53600_answer_to_a_delete_is_not_taken_as_proof() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 1)).await;
    w.sim.inject(DELETE, Fault::Errcode { code: 53600 }, 1);
    run_queue(&w, &api, account).await;
    // getarticle still shows it: the item failed, it is not marked done.
    assert_eq!(states(&w, p.id), ["failed"]);
    assert!(!deleted_in_sim(&w, &p.targets[0].article_id));
}

#[tokio::test]
async fn an_account_level_refusal_stops_the_run_and_keeps_everything_sendable() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 3)).await;
    w.sim.inject(DELETE, Fault::Errcode { code: 40164 }, 1);
    let run = run_queue(&w, &api, account).await;
    let Some(Problem::Wechat(stop)) = run.reports[0].stop.clone() else {
        panic!("{:?}", run.reports[0].stop)
    };
    assert_eq!(stop.api().unwrap().code, 40164);
    assert_eq!(
        states(&w, p.id),
        ["planned", "planned", "planned"],
        "nothing applied, nothing lost"
    );
    assert_eq!(w.sim.count(DELETE), 1);
    // The whitelist fixed, Resume finishes the plan.
    run_queue(&w, &api, account).await;
    assert_eq!(states(&w, p.id), ["done", "done", "done"]);
    assert_eq!(w.sim.count(DELETE), 4);
}

#[tokio::test]
async fn two_runners_on_one_account_never_run_at_once() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let p = confirmed(&w, &api, account, &oldest_messages(&w, 3)).await;
    w.sim.set_latency(None, Duration::from_millis(30));
    let (options, _) = recording();
    let (a, b) = tokio::join!(
        queue::run(&api, w.store(), account, &options, |_, _| {}),
        queue::run(&api, w.store(), account, &options, |_, _| {}),
    );
    let busy = [&a, &b]
        .iter()
        .filter(|r| matches!(r, Err(retract_core::CoreError::Busy(_))))
        .count();
    assert_eq!(busy, 1, "exactly one of two simultaneous runs is refused");
    assert_eq!(states(&w, p.id), ["done", "done", "done"]);
    assert_eq!(w.sim.count(DELETE), 3, "one delete per target");
    // The lock is released with the run.
    queue::run(&api, w.store(), account, &options, |_, _| {})
        .await
        .unwrap();
}
