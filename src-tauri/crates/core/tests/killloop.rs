//! Fault 12: a real process running the deletion queue (`queue-runner`, the app's own
//! `queue::run`) is killed with SIGKILL at random moments during 30-target plans and started
//! again, at least 50 times. After every kill the journal never shows `done` without the
//! simulator agreeing, and the simulator never receives two deletes for the same target.
//! The seed is printed; `RETRACT_KILL_SEED=N` replays a run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use common::*;
use retract_core::accounts::SecretStorage;
use retract_core::decide::{self, Decision};
use retract_core::ids::AccountId;
use retract_core::plan::Selection;
use retract_core::queue;
use wechat_sim::{DEMO_APPID, SimConfig};

const MIN_KILLS: u32 = 50;
const TARGETS_PER_PLAN: usize = 30;

/// The next 30 targets: items 2 then 1 of multi-item messages and whole messages, alternating.
fn next_selection(w: &World, used: &mut usize) -> Vec<Selection> {
    let messages = w.sim.messages(DEMO_APPID);
    let mut selection = Vec::new();
    let mut targets = 0;
    while targets < TARGETS_PER_PLAN {
        let m = &messages[*used];
        *used += 1;
        if m.items.len() >= 2 && targets + 2 <= TARGETS_PER_PLAN && used.is_multiple_of(2) {
            for index in [1, 2] {
                selection.push(Selection::Item {
                    article_id: m.article_id.clone(),
                    index,
                });
            }
            targets += 2;
        } else {
            selection.push(Selection::WholeMessage {
                article_id: m.article_id.clone(),
            });
            targets += 1;
        }
    }
    selection
}

/// Checks both invariants; returns how many deletes the simulator received.
fn check_invariants(w: &World) -> usize {
    // 1. Never two deletes for the same target.
    let mut received: HashMap<(String, i64), u32> = HashMap::new();
    for r in w.sim.requests().into_iter().filter(|r| r.path == DELETE) {
        let body = r.json();
        let key = (
            body["article_id"].as_str().unwrap().to_string(),
            body["index"].as_i64().unwrap_or(0),
        );
        *received.entry(key).or_default() += 1;
    }
    let duplicates: Vec<_> = received.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        duplicates.is_empty(),
        "the simulator received a delete twice: {duplicates:?}"
    );

    // 2. Nothing is `done` that the simulator does not show deleted.
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    let mut stmt = conn
        .prepare("SELECT article_id, idx FROM plan_targets WHERE state = 'done'")
        .unwrap();
    let done: Vec<(String, u32)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (article_id, idx) in done {
        let m = w.sim.message(DEMO_APPID, &article_id).unwrap();
        let proven = if idx == 0 {
            m.items.iter().all(|i| i.is_deleted)
        } else {
            m.items[idx as usize - 1].is_deleted
        };
        assert!(
            proven,
            "journal says done for {article_id}#{idx} but WeChat still has it"
        );
    }
    received.values().map(|n| *n as usize).sum()
}

fn runner(w: &World, account: AccountId) -> std::process::Child {
    queue_runner(w, account)
        // This world shows deletes at once; lag is covered by the safety property test.
        .env("RETRACT_SETTLE_AFTER_SECS", "0")
        .env("RETRACT_SECOND_CHECK_SECS", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_moments_never_deletes_twice_nor_claims_done_without_proof() {
    let mut config = SimConfig::demo(400);
    config.minute_limit = 1_000_000;
    let w = world_with(config).await;
    for path in [DELETE, GETARTICLE, "/cgi-bin/freepublish/batchget"] {
        w.sim.set_daily_limit(DEMO_APPID, path, 1_000_000);
    }
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    // Every request takes a while, so kills land in the middle of things.
    w.sim.set_latency(None, Duration::from_millis(12));
    let seed = seed("RETRACT_KILL_SEED", "kill loop");
    let mut rng = Rng(seed);
    let (mut kills, mut finished_runs, mut plans, mut targets, mut used) =
        (0u32, 0u32, 0u32, 0usize, 0usize);
    let mut statements = 0u32;

    while kills < MIN_KILLS {
        let selection = next_selection(&w, &mut used);
        let p = confirmed(&w, &api, account, &selection).await;
        plans += 1;
        targets += p.targets.len();
        while queue::status(w.store(), account).unwrap().has_work() {
            let mut child = runner(&w, account);
            tokio::time::sleep(Duration::from_millis(rng.between(5, 160))).await;
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                use std::io::Read;
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                assert!(status.success(), "the runner failed on its own: {err}");
                finished_runs += 1;
            } else {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                kills += 1;
            }
            check_invariants(&w);
            // A request killed after `sent` and before WeChat got it looks live on both
            // checks and waits for the operator's word: the operator looks at the MP console
            // (the simulator's truth) and says so.
            for h in decide::awaiting(w.store(), account).unwrap() {
                let m = w.sim.message(DEMO_APPID, &h.article_id).unwrap();
                let gone = match h.index {
                    Some(i) => m.items[i as usize - 1].is_deleted,
                    None => m.items.iter().all(|i| i.is_deleted),
                };
                let decision = if gone {
                    Decision::Gone
                } else {
                    Decision::SendAgain
                };
                decide::decide(w.store(), h.plan_id, h.seq, decision, 0).unwrap();
                statements += 1;
            }
        }
    }
    // Everything planned was deleted, each exactly once.
    let received = check_invariants(&w);
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    let not_done: i64 = conn
        .query_row(
            "SELECT count(*) FROM plan_targets WHERE state <> 'done'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(not_done, 0);
    assert_eq!(
        received, targets,
        "one delete request per target, no more, no less"
    );
    println!(
        "kill loop: {kills} SIGKILLs, {finished_runs} runs finished on their own, {plans} plans, {targets} targets, {received} delete requests, {statements} operator statements on held requests, 0 duplicates, 0 done without proof"
    );
}
