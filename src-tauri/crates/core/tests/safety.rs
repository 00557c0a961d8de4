//! The safety property, checked in many drawn worlds.
//!
//! Each case draws a world (the simulator's [`Quirks`]: compacted positions, lagging deletes,
//! 53600 for deleted messages, oldest-first lists, a second delete answering an error,
//! `quota/get` not knowing the path, another quota hour), a selection, faults on every
//! endpoint (relays answering `{}` or HTML or an empty list, cut answers, busy, limits) and
//! kill moments; it runs the real queue runner against it — in this process, killed by
//! dropping the run at a random await point, or as the `queue-runner` process, killed with
//! SIGKILL — and then checks the simulator's ground truth:
//!
//! 1. no item was deleted that is not in a confirmed plan;
//! 2. no item was deleted twice;
//! 3. nothing is journaled `done`, or marked deleted in the index, that is still live;
//! 4. every deleted item has an archive row holding the JSON it had;
//! 5. after every sync, no live item is marked deleted in the index (part of 3).
//!
//! A stop that asks the operator is an accepted outcome and is counted. The seed is printed;
//! `RETRACT_SAFETY_SEED=N` replays a run, `RETRACT_SAFETY_CASES=N` sets the budget (`make soak`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime};

use common::*;
use retract_core::accounts::SecretStorage;
use retract_core::execute::ExecOptions;
use retract_core::ids::AccountId;
use retract_core::index;
use retract_core::plan::{self, Selection};
use retract_core::queue;
use wechat_mp::{Api, Backoff, Clock, ManualClock};
use wechat_sim::{DEMO_APPID, Fault, Quirks, SimConfig};

const BATCHGET: &str = "/cgi-bin/freepublish/batchget";
const QUOTA: &str = "/cgi-bin/openapi/quota/get";
const CASES_PER_WORLD: usize = 25;

fn draw_world(rng: &mut Rng, n: usize) -> Quirks {
    // The first world is the optimistic one; the others turn the unknowns the bad way.
    if n == 0 {
        return Quirks::default();
    }
    Quirks {
        compact_positions: rng.chance(40),
        lag_secs: *rng.pick(&[0, 0, 5, 20, 25]),
        deleted_message_53600: rng.chance(50),
        oldest_first: rng.chance(30),
        whitelist_on_business_calls: false,
        second_delete_errcode: *rng.pick(&[None, Some(-1), Some(53600), Some(0)]),
        quota_get_unknown: rng.chance(30),
        quota_reset_hour: *rng.pick(&[0, 0, 5, 16]),
        long_urls: rng.chance(50),
    }
}

fn relay(body: &str, applied: bool) -> Fault {
    Fault::Answer {
        status: 200,
        body: body.into(),
        applied,
    }
}

fn draw_fault(rng: &mut Rng) -> (&'static str, Fault) {
    let delete_faults = [
        Fault::Busy,
        Fault::BadGateway,
        Fault::MalformedJson,
        Fault::LoseResponse,
        Fault::DropUnapplied,
        Fault::Errcode { code: 45011 },
        Fault::Errcode { code: 45009 },
        Fault::Errcode { code: 40001 },
        Fault::Errcode { code: 53600 },
        relay("{}", false),
        relay("{}", true),
        relay(r#"{"errmsg":"ok"}"#, true),
        relay("<html>portal</html>", false),
        Fault::Delay { millis: 40 },
    ];
    let read_faults = [
        Fault::Busy,
        Fault::BadGateway,
        Fault::MalformedJson,
        Fault::Errcode { code: 45011 },
        Fault::Errcode { code: 53600 },
        relay(r#"{"news_item":[]}"#, false),
        relay("{}", false),
        relay("<html>portal</html>", false),
    ];
    match rng.below(10) {
        0..=4 => (DELETE, rng.pick(&delete_faults).clone()),
        5..=7 => (GETARTICLE, rng.pick(&read_faults).clone()),
        8 => (
            BATCHGET,
            rng.pick(&[
                relay(r#"{"total_count":0,"item":[]}"#, false),
                relay(r#"{"total_count":3,"item":[]}"#, false),
                Fault::Busy,
            ])
            .clone(),
        ),
        _ => (
            QUOTA,
            rng.pick(&[Fault::Errcode { code: 76021 }, relay("{}", false)])
                .clone(),
        ),
    }
}

#[derive(Default, Debug)]
struct Figures {
    worlds: usize,
    cases: usize,
    runs: usize,
    kills: usize,
    sigkills: usize,
    deletes: usize,
    stops: usize,
    refused_plans: usize,
    violations: usize,
}

/// The simulator's truth: (article_id, title) of every item, and whether it is deleted.
fn truth(w: &World) -> HashMap<(String, String), bool> {
    w.sim
        .messages(DEMO_APPID)
        .into_iter()
        .flat_map(|m| {
            m.items
                .into_iter()
                .map(move |i| ((m.article_id.clone(), i.title), i.is_deleted))
        })
        .collect()
}

/// Checks the five properties; returns the violations found, described.
fn violations(w: &World, deleted_before: &HashSet<(String, String)>) -> Vec<String> {
    let mut found = Vec::new();
    let truth = truth(w);
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    // Reviewed (article_id, title) of every confirmed plan, and journal `done` targets.
    let mut reviewed = HashSet::new();
    let mut done = Vec::new();
    let mut stmt = conn
        .prepare(
            "SELECT t.article_id, t.titles, t.state FROM plan_targets t JOIN plans p ON p.id = t.plan_id
             WHERE p.status IN ('confirmed', 'finished')",
        )
        .unwrap();
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (article_id, titles, state) in rows {
        let titles: Vec<(String, u32)> = serde_json::from_str(&titles).unwrap();
        for (title, _) in titles {
            reviewed.insert((article_id.clone(), title.clone()));
            if state == "done" {
                done.push((article_id.clone(), title));
            }
        }
    }
    // 1. Deleted only what was reviewed and confirmed.
    for ((article_id, title), deleted) in &truth {
        let key = (article_id.clone(), title.clone());
        if *deleted && !deleted_before.contains(&key) && !reviewed.contains(&key) {
            found.push(format!(
                "1: {article_id} \"{title}\" deleted without a confirmed plan"
            ));
        }
    }
    // 2. Never twice.
    for (article_id, position) in w.sim.repeated_deletes(DEMO_APPID) {
        found.push(format!(
            "2: {article_id}#{position} received a second delete"
        ));
    }
    // 3. Nothing journaled done that is live...
    for key in &done {
        if truth.get(key) == Some(&false) {
            found.push(format!("3: journal says done for {key:?}, still live"));
        }
    }
    // ... and nothing marked deleted in the index that is live (5, after every sync).
    let mut stmt = conn
        .prepare("SELECT article_id, title FROM items WHERE is_deleted = 1")
        .unwrap();
    let marked: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for key in marked {
        if truth.get(&key) == Some(&false) {
            found.push(format!("3/5: index shows {key:?} deleted, still live"));
        }
    }
    // 4. Every item deleted here has an archived copy of the JSON it had while live.
    let mut stmt = conn
        .prepare("SELECT article_id, json FROM archive")
        .unwrap();
    let archived: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for ((article_id, title), deleted) in &truth {
        if !*deleted || deleted_before.contains(&(article_id.clone(), title.clone())) {
            continue;
        }
        let kept = archived.iter().any(|(id, json)| {
            id == article_id
                && serde_json::from_str::<serde_json::Value>(json).is_ok_and(|v| {
                    v["news_item"].as_array().is_some_and(|items| {
                        items.iter().any(|i| {
                            i["title"] == title.as_str()
                                && i["is_deleted"] == false
                                && i["content"].as_str().is_some_and(|c| !c.is_empty())
                        })
                    })
                })
        });
        if !kept {
            found.push(format!(
                "4: {article_id} \"{title}\" deleted with no archived copy"
            ));
        }
    }
    found
}

/// A selection of live rows from the index: single items and whole messages.
fn draw_selection(w: &World, account: AccountId, rng: &mut Rng) -> Vec<Selection> {
    let (_, rows) = index::search(w.store(), account, &Default::default(), 0, 500).unwrap();
    let live: Vec<_> = rows.iter().filter(|r| !r.is_deleted).collect();
    let mut selection = Vec::new();
    for _ in 0..=rng.below(3) {
        if live.is_empty() {
            break;
        }
        let row = rng.pick(&live);
        if rng.chance(35) {
            selection.push(Selection::WholeMessage {
                article_id: row.article_id.clone(),
            });
        } else {
            selection.push(Selection::Item {
                article_id: row.article_id.clone(),
                index: row.index,
            });
        }
    }
    selection
}

fn seconds_ahead(clock: &ManualClock) -> i64 {
    let now = SystemTime::now();
    match clock.now().duration_since(now) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// A request the killed runner had already sent is still processed by WeChat (the simulator
/// finishes what it received). The test moves its clocks 31 s right after, so it first lets
/// such a request land, as those 31 s would in reality (latency 2 ms, the longest fault 40 ms).
async fn settle_in_flight() {
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// One run of the queue: in this process (maybe dropped mid-way) or as a killed process.
async fn run_once(
    w: &World,
    api: &Api,
    account: AccountId,
    clock: &ManualClock,
    rng: &mut Rng,
    figures: &mut Figures,
) {
    figures.runs += 1;
    if rng.chance(20) {
        let mut child = queue_runner(w, account)
            .env(
                "RETRACT_CLOCK_OFFSET_SECS",
                seconds_ahead(clock).to_string(),
            )
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(10 + rng.below(120))).await;
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            figures.sigkills += 1;
            settle_in_flight().await;
        }
        child.wait().unwrap();
        return;
    }
    let options = ExecOptions {
        clock: Arc::new(clock.clone()),
        minute_wait: Duration::ZERO,
        ..ExecOptions::default()
    };
    let run = queue::run(api, w.store(), account, &options, |_, _| {});
    let result = if rng.chance(30) {
        // Killed at a random await point: the future is dropped, as a crash would.
        match tokio::time::timeout(Duration::from_millis(1 + rng.below(30)), run).await {
            Ok(result) => Some(result),
            Err(_) => {
                figures.kills += 1;
                settle_in_flight().await;
                None
            }
        }
    } else {
        Some(run.await)
    };
    match result {
        Some(Ok(run)) if run.reports.iter().any(|r| r.stop.is_some()) => figures.stops += 1,
        Some(Err(_)) => figures.stops += 1,
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_unreviewed_twice_falsely_or_without_a_copy_in_any_drawn_world() {
    let seed = seed("RETRACT_SAFETY_SEED", "safety property");
    let budget: usize = std::env::var("RETRACT_SAFETY_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let mut rng = Rng(seed);
    let mut figures = Figures::default();
    let mut all = std::collections::BTreeSet::new();
    while figures.cases < budget {
        let quirks = draw_world(&mut rng, figures.worlds);
        figures.worlds += 1;
        let mut config = SimConfig::demo(40);
        config.minute_limit = 1_000_000;
        config.accounts[0].seed = rng.next();
        let w = world_with(config).await;
        for path in [DELETE, GETARTICLE, BATCHGET] {
            w.sim.set_daily_limit(DEMO_APPID, path, 100_000);
        }
        let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
        // Reads back off for real in the app; here a millisecond keeps the budget small.
        let api = api.with_backoff(Backoff {
            base: Duration::from_millis(1),
            max_retries: 3,
        });
        w.sim.set_quirks(quirks.clone());
        w.sim.set_latency(None, Duration::from_millis(2));
        let clock = ManualClock::new(SystemTime::now());
        let deleted_before: HashSet<(String, String)> = truth(&w)
            .into_iter()
            .filter(|(_, d)| *d)
            .map(|(k, _)| k)
            .collect();
        for _ in 0..CASES_PER_WORLD.min(budget - figures.cases) {
            figures.cases += 1;
            // A sync first, sometimes under a fault of its own.
            if rng.chance(40) {
                if rng.chance(50) {
                    let (path, fault) = draw_fault(&mut rng);
                    w.sim.inject(path, fault, 1);
                }
                let never = AtomicBool::new(false);
                let _ = index::sync(&api, w.store(), account, rng.chance(50), &never, |_| {}).await;
                let found = violations(&w, &deleted_before);
                all.extend(found.iter().map(|v| format!("after sync: {v}")));
            }
            let selection = draw_selection(&w, account, &mut rng);
            if selection.is_empty() {
                continue;
            }
            let p = match plan::create(&api, w.store(), account, &selection).await {
                Ok(p) => p,
                Err(_) => {
                    figures.refused_plans += 1;
                    continue;
                }
            };
            plan::confirm(w.store(), p.id, &p.nonce, &p.phrase).unwrap();
            for _ in 0..rng.below(4) {
                let (path, fault) = draw_fault(&mut rng);
                w.sim.inject(path, fault, 1 + rng.below(2) as usize);
            }
            for _ in 0..6 {
                run_once(&w, &api, account, &clock, &mut rng, &mut figures).await;
                all.extend(violations(&w, &deleted_before));
                if !queue::status(w.store(), account).unwrap().has_work() {
                    break;
                }
                // Time passes on both clocks: settle delays and lags run out, days turn.
                clock.advance(Duration::from_secs(31));
                w.sim.advance(Duration::from_secs(31));
                if queue::status(w.store(), account)
                    .unwrap()
                    .paused_until
                    .is_some()
                {
                    w.sim.roll_day();
                    clock.advance(Duration::from_secs(86_400));
                }
            }
            // What is left waits for the operator: cancel what was not sent.
            queue::cancel_unsent(w.store(), p.id).unwrap();
        }
        figures.deletes += w.sim.count(DELETE);
    }
    figures.violations = all.len();
    println!(
        "safety property: {} worlds, {} cases, {} runs, {} kills (dropped) + {} SIGKILLs, {} delete requests, {} stops that ask the operator, {} plans refused, {} violations",
        figures.worlds,
        figures.cases,
        figures.runs,
        figures.kills,
        figures.sigkills,
        figures.deletes,
        figures.stops,
        figures.refused_plans,
        figures.violations
    );
    assert!(
        all.is_empty(),
        "seed {seed}: {} violations, first: {:#?}",
        all.len(),
        all.iter().take(10).collect::<Vec<_>>()
    );
    assert!(figures.cases >= budget && figures.deletes > 0);
}
