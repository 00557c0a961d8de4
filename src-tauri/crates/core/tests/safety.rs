//! The safety property, checked in many drawn worlds — attended and unattended.
//!
//! Each case draws a world (the simulator's [`Quirks`]: compacted positions, deletes shown
//! late by up to 10 minutes, 53600 for deleted messages, oldest-first and unordered lists, a
//! second delete answering an error, `quota/get` not knowing the path, another quota hour;
//! short, long, temporary or no links, titles spelled with entities, duplicate titles in a
//! message, `null` fields and stripped deleted items, `update_time` inside `content`), one to three
//! plans at once (their selections may overlap; some are scheduled), faults on every endpoint
//! (relays answering `{}` or HTML or an empty list, cut answers, busy, limits) and a sequence
//! of actions: the operator's runs (in this process, killed by dropping the run at a random
//! await point, or as the `queue-runner` process, killed with SIGKILL), scheduler ticks, the
//! operator's statements on held requests (truthful: the MP console shows the truth) and
//! cancellations, with the clock moving by seconds to hours (across Beijing midnight). Then
//! it checks the simulator's ground truth:
//!
//! 1. no item was deleted that is not in a confirmed plan;
//! 2. no item was deleted twice;
//! 3. nothing is journaled `done`, or marked deleted in the index, that is still live;
//! 4. every deleted item has an archive row holding the JSON it had;
//! 5. after every sync, no live item is marked deleted in the index (part of 3);
//!
//! and, after a quiet phase in which WeChat answers normally and only the scheduler acts,
//! two liveness properties:
//!
//! 6. every request whose delete may have gone out is settled (done, or held for the
//!    operator) within a bounded number of scheduler ticks, with no operator action;
//! 7. a queue that stopped to ask the operator is stopped once (one notification) and spends
//!    no quota while it waits.
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
use retract_core::decide::{self, Decision};
use retract_core::execute::ExecOptions;
use retract_core::identity::{Key, Reviewed, normalize_title};
use retract_core::ids::{AccountId, PlanId};
use retract_core::index;
use retract_core::plan::{self, Selection};
use retract_core::queue;
use retract_core::settle::second_check_gap;
use wechat_mp::{Api, Backoff, Clock, ManualClock};
use wechat_sim::{DEMO_APPID, Fault, Quirks, SimConfig};

const QUOTA: &str = "/cgi-bin/openapi/quota/get";
const CASES_PER_WORLD: usize = 25;

fn draw_world(rng: &mut Rng, n: usize) -> Quirks {
    // The first world is the optimistic one; the others turn the unknowns the bad way.
    if n == 0 {
        return Quirks::default();
    }
    Quirks {
        compact_positions: rng.chance(40),
        lag_secs: *rng.pick(&[0, 0, 5, 25, 45, 120, 400, 600]),
        deleted_message_53600: rng.chance(50),
        oldest_first: rng.chance(30),
        whitelist_on_business_calls: false,
        second_delete_errcode: *rng.pick(&[None, Some(-1), Some(53600), Some(0)]),
        quota_get_unknown: rng.chance(30),
        quota_reset_hour: *rng.pick(&[0, 0, 5, 16]),
        long_urls: rng.chance(50),
        temporary_links: rng.chance(20),
        no_links: rng.chance(15),
        escaped_titles: rng.chance(30),
        twin_titles: rng.chance(25),
        null_fields: rng.chance(25),
        nested_update_time: rng.chance(20),
        shuffled_list: rng.chance(15),
        // Covers are the list's pictures; the core never reads them.
        broken_covers: false,
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
    plans: usize,
    scheduled: usize,
    overlapping: usize,
    long_lags: usize,
    ticks: usize,
    decisions: usize,
    held: usize,
    operator_stops: usize,
    violations: usize,
}

/// One item of the simulator, by what identifies it whatever the answers show (titles may
/// repeat and be spelled differently): its message and its short link.
type ItemKey = (String, String);

/// The simulator's truth: every item, whether it is deleted, and its title.
fn truth(w: &World) -> HashMap<ItemKey, (bool, String)> {
    w.sim
        .messages(DEMO_APPID)
        .into_iter()
        .flat_map(|m| {
            m.items
                .into_iter()
                .map(move |i| ((m.article_id.clone(), i.url), (i.is_deleted, i.title)))
        })
        .collect()
}

/// Who is who in the simulator: any link of an item as the answers gave it (short, long,
/// with whatever parameters) to its short link, and each message's items with the title the
/// answers show (under `twin_titles`, the first item's).
struct Names {
    links: HashMap<Key, String>,
    shown: HashMap<String, Vec<(String, String)>>,
}

fn names(w: &World) -> Names {
    let twin = w.sim.quirks().twin_titles;
    let mut links = HashMap::new();
    let mut shown = HashMap::new();
    for m in w.sim.messages(DEMO_APPID) {
        let first = m.items.first().map(|i| i.title.clone()).unwrap_or_default();
        for i in &m.items {
            links.insert(Key::of(&i.url).unwrap(), i.url.clone());
            links.insert(Key::of(&i.long_url).unwrap(), i.url.clone());
        }
        let items = m
            .items
            .iter()
            .map(|i| {
                let title = if twin { first.clone() } else { i.title.clone() };
                (i.url.clone(), title)
            })
            .collect();
        shown.insert(m.article_id, items);
    }
    Names { links, shown }
}

impl Names {
    /// The items a stored link and title may name: the one its link names; with no link
    /// (answers without links), every item of the message shown under that title — one,
    /// unless titles repeat in the message.
    fn items(&self, article_id: &str, link: &str, title: &str) -> Vec<ItemKey> {
        if let Some(key) = Key::of(link) {
            return self
                .links
                .get(&key)
                .map(|short| vec![(article_id.to_string(), short.clone())])
                .unwrap_or_default();
        }
        let title = normalize_title(title);
        self.shown
            .get(article_id)
            .into_iter()
            .flatten()
            .filter(|(_, shown)| normalize_title(shown) == title)
            .map(|(short, _)| (article_id.to_string(), short.clone()))
            .collect()
    }
}

fn deleted_now(w: &World) -> HashSet<ItemKey> {
    truth(w)
        .into_iter()
        .filter(|(_, (d, _))| *d)
        .map(|(k, _)| k)
        .collect()
}

/// Checks the five properties; returns the violations found, described.
fn violations(w: &World, deleted_before: &HashSet<ItemKey>) -> Vec<String> {
    let mut found = Vec::new();
    let truth = truth(w);
    let names = names(w);
    let live = |key: &ItemKey| truth.get(key).is_some_and(|(d, _)| !*d);
    // Surely live: every item the name may stand for is live.
    let surely_live = |keys: &[ItemKey]| !keys.is_empty() && keys.iter().all(live);
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    // Reviewed items of every confirmed plan, and journal `done` targets.
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
        let titles: Vec<Reviewed> = serde_json::from_str(&titles).unwrap();
        for r in titles {
            let link = r.link.as_deref().unwrap_or_default();
            let keys = names.items(&article_id, link, &r.title);
            if keys.is_empty() {
                found.push(format!(
                    "0: a plan reviewed {article_id} \"{}\" ({link:?}), which names no article",
                    r.title
                ));
            }
            if state == "done" {
                done.push(keys.clone());
            }
            reviewed.extend(keys);
        }
    }
    // 1. Deleted only what was reviewed and confirmed.
    for (key, (deleted, title)) in &truth {
        if *deleted && !deleted_before.contains(key) && !reviewed.contains(key) {
            found.push(format!(
                "1: {} \"{title}\" ({}) deleted without a confirmed plan",
                key.0, key.1
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
    for keys in &done {
        if surely_live(keys) {
            found.push(format!("3: journal says done for {keys:?}, still live"));
        }
    }
    // ... and nothing marked deleted in the index that is live (5, after every sync).
    let mut stmt = conn
        .prepare("SELECT article_id, url, title FROM items WHERE is_deleted = 1")
        .unwrap();
    let marked: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (article_id, url, title) in marked {
        if surely_live(&names.items(&article_id, &url, &title)) {
            found.push(format!(
                "3/5: index shows {article_id} \"{title}\" ({url}) deleted, still live"
            ));
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
    for (key, (deleted, title)) in &truth {
        if !*deleted || deleted_before.contains(key) {
            continue;
        }
        let kept = archived.iter().any(|(id, json)| {
            *id == key.0
                && serde_json::from_str::<serde_json::Value>(json).is_ok_and(|v| {
                    v["news_item"].as_array().is_some_and(|items| {
                        items.iter().any(|i| {
                            names
                                .items(
                                    id,
                                    i["url"].as_str().unwrap_or_default(),
                                    i["title"].as_str().unwrap_or_default(),
                                )
                                .contains(key)
                                && i["is_deleted"] == false
                                && i["content"].as_str().is_some_and(|c| !c.is_empty())
                        })
                    })
                })
        });
        if !kept {
            found.push(format!(
                "4: {} \"{title}\" ({}) deleted with no archived copy",
                key.0, key.1
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

fn confirmed_plans(w: &World, account: AccountId) -> Vec<PlanId> {
    queue::status(w.store(), account)
        .unwrap()
        .plans
        .iter()
        .map(|p| p.plan_id)
        .collect()
}

/// The operator looks at one held request in the MP console (the simulator's truth, with no
/// lag) and says what is true: gone, or live and to be sent again; sometimes gives up.
fn operator_decides(w: &World, account: AccountId, rng: &mut Rng, figures: &mut Figures) {
    let held = decide::awaiting(w.store(), account).unwrap();
    if held.is_empty() {
        return;
    }
    let h = rng.pick(&held);
    let message = w.sim.message(DEMO_APPID, &h.article_id).unwrap();
    // The operator knows the article itself (the MP console shows it), not just its title.
    let titles: String = rusqlite::Connection::open(w.db_path())
        .unwrap()
        .query_row(
            "SELECT titles FROM plan_targets WHERE plan_id = ?1 AND seq = ?2",
            rusqlite::params![h.plan_id, h.seq],
            |r| r.get(0),
        )
        .unwrap();
    let reviewed: Vec<Reviewed> = serde_json::from_str(&titles).unwrap();
    let names = names(w);
    let gone = match h.index {
        Some(_) => reviewed.iter().all(|r| {
            let keys = names.items(
                &h.article_id,
                r.link.as_deref().unwrap_or_default(),
                &r.title,
            );
            !keys.is_empty()
                && keys
                    .iter()
                    .all(|k| message.items.iter().any(|i| i.url == k.1 && i.is_deleted))
        }),
        None => message.items.iter().all(|i| i.is_deleted),
    };
    let decision = if rng.chance(20) {
        Decision::GiveUp
    } else if gone {
        Decision::Gone
    } else {
        Decision::SendAgain
    };
    // Where positions compact and an earlier item of the message is gone, the position the
    // request names has moved: the careful operator gives up on it rather than send it.
    let moved = w.sim.quirks().compact_positions
        && h.index.is_some_and(|i| {
            message
                .items
                .iter()
                .take(i as usize - 1)
                .any(|item| item.is_deleted)
        });
    let decision = if moved { Decision::GiveUp } else { decision };
    if decide::decide(w.store(), h.plan_id, h.seq, decision, 0).is_ok() {
        figures.decisions += 1;
    }
}

/// Properties 6 and 7, in a quiet phase: WeChat answers normally, only the scheduler acts,
/// ticks a minute apart with a jump past the second check and a day's turn.
async fn liveness(
    w: &World,
    api: &Api,
    account: AccountId,
    clock: &ManualClock,
    figures: &mut Figures,
) -> Vec<String> {
    let mut found = Vec::new();
    let mut stopped_since: Option<usize> = None;
    for step in 0..14 {
        let secs = match step {
            5 => (second_check_gap(true) + 60) as u64,
            9 => 86_400,
            _ => 61,
        };
        if step == 9 {
            w.sim.roll_day();
            clock.advance(Duration::from_secs(secs));
        } else {
            pass(w, clock, secs);
        }
        let before = w.sim.requests().len();
        let stopped_before = queue::status(w.store(), account)
            .unwrap()
            .stopped_at
            .is_some();
        let ran = tick(w, api, account, clock).await;
        figures.ticks += 1;
        if stopped_before {
            if ran || w.sim.requests().len() != before {
                found.push(
                    "7: a queue stopped for the operator ran by itself or spent quota".into(),
                );
            }
        } else if queue::status(w.store(), account)
            .unwrap()
            .stopped_at
            .is_some()
        {
            // Stopped by this run: that is the one notification.
            figures.operator_stops += 1;
            if stopped_since.is_some() {
                found.push("7: stopped to ask the operator twice".into());
            }
            stopped_since = Some(step);
        }
    }
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    let open: i64 = conn
        .query_row(
            "SELECT count(*) FROM plan_targets t JOIN plans p ON p.id = t.plan_id
             WHERE p.account_id = ?1 AND p.status = 'confirmed' AND t.state IN ('sent', 'unknown')",
            [account.0],
            |r| r.get(0),
        )
        .unwrap();
    let stopped = queue::status(w.store(), account)
        .unwrap()
        .stopped_at
        .is_some();
    if open > 0 && !stopped {
        let detail: Vec<(i64, u32, String, i64, Option<i64>)> = conn
            .prepare(
                "SELECT t.plan_id, t.seq, t.state, t.updated_at, t.seen_live_at FROM plan_targets t JOIN plans p ON p.id = t.plan_id
                 WHERE p.account_id = ?1 AND p.status = 'confirmed' AND t.state IN ('sent', 'unknown')",
            )
            .unwrap()
            .query_map([account.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let status = queue::status(w.store(), account).unwrap();
        found.push(format!(
            "6: {open} possibly-sent requests still unsettled after the quiet phase, and the queue did not ask the operator: {detail:?}, now {}, wake {:?}, paused {:?}",
            options_on(clock).now(),
            status.wake_at,
            status.paused_until
        ));
    }
    found
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
        let deleted_before = deleted_now(&w);
        if quirks.lag_secs > 30 {
            figures.long_lags += 1;
        }
        for _ in 0..CASES_PER_WORLD.min(budget - figures.cases) {
            figures.cases += 1;
            // A sync first, sometimes under a fault of its own.
            if rng.chance(40) {
                if rng.chance(50) {
                    let (path, fault) = draw_fault(&mut rng);
                    w.sim.inject(path, fault, 1);
                }
                let never = AtomicBool::new(false);
                let _ = retract_core::sync::sync(
                    &api,
                    w.store(),
                    account,
                    rng.chance(50),
                    &never,
                    |_| {},
                )
                .await;
                let found = violations(&w, &deleted_before);
                all.extend(found.iter().map(|v| format!("after sync: {v}")));
            }
            // One to three plans, drawn independently: their selections may overlap.
            let mut drafted = Vec::new();
            let mut touched = HashSet::new();
            let mut overlap = false;
            for _ in 0..=rng.below(3) {
                let selection = draw_selection(&w, account, &mut rng);
                if selection.is_empty() {
                    continue;
                }
                for s in &selection {
                    let id = match s {
                        Selection::Item { article_id, .. }
                        | Selection::WholeMessage { article_id } => article_id.clone(),
                    };
                    overlap |= !touched.insert(id);
                }
                match plan::create(&api, w.store(), account, &selection).await {
                    Ok(p) => drafted.push(p),
                    Err(_) => figures.refused_plans += 1,
                }
            }
            figures.overlapping += usize::from(overlap);
            let now = options_on(&clock).now();
            for p in &drafted {
                let confirmed = if rng.chance(25) {
                    let at = now + rng.between(1, 900) as i64;
                    plan::confirm_scheduled(w.store(), p.id, &p.nonce, &p.phrase, at, now)
                        .inspect(|_| figures.scheduled += 1)
                } else {
                    plan::confirm(w.store(), p.id, &p.nonce, &p.phrase)
                };
                match confirmed {
                    Ok(_) => figures.plans += 1,
                    Err(_) => figures.refused_plans += 1,
                }
            }
            for _ in 0..rng.below(4) {
                let (path, fault) = draw_fault(&mut rng);
                w.sim.inject(path, fault, 1 + rng.below(2) as usize);
            }
            // What happens while the operator is (sometimes) away.
            for _ in 0..8 {
                match rng.below(10) {
                    0..=3 => run_once(&w, &api, account, &clock, &mut rng, &mut figures).await,
                    4..=6 => {
                        figures.ticks += 1;
                        let _ = tick(&w, &api, account, &clock).await;
                    }
                    7 => operator_decides(&w, account, &mut rng, &mut figures),
                    8 => {
                        let plans = confirmed_plans(&w, account);
                        if !plans.is_empty() {
                            queue::cancel_unsent(w.store(), *rng.pick(&plans)).unwrap();
                        }
                    }
                    _ => {}
                }
                all.extend(violations(&w, &deleted_before));
                // Time passes on both clocks: settle delays and lags run out, days turn.
                let secs = *rng.pick(&[31, 61, 300, 700, 3600]);
                pass(&w, &clock, secs);
                if queue::status(w.store(), account)
                    .unwrap()
                    .paused_until
                    .is_some()
                    && rng.chance(50)
                {
                    w.sim.roll_day();
                    clock.advance(Duration::from_secs(86_400));
                }
            }
            // Quiet: WeChat answers normally from here, and only the scheduler acts.
            w.sim.clear_faults();
            if rng.chance(30) {
                // ... except one account-level refusal, sometimes: the whitelist changed.
                w.sim.inject(GETARTICLE, Fault::Errcode { code: 40164 }, 1);
            }
            all.extend(liveness(&w, &api, account, &clock, &mut figures).await);
            w.sim.clear_faults();
            all.extend(violations(&w, &deleted_before));
            // The operator clears up before the next case: their word on what is held, and
            // what was not sent is cancelled.
            for _ in 0..4 {
                operator_decides(&w, account, &mut rng, &mut figures);
            }
            for p in confirmed_plans(&w, account) {
                queue::cancel_unsent(w.store(), p).unwrap();
            }
        }
        figures.deletes += w.sim.count(DELETE);
        figures.held += w.count(
            "SELECT count(DISTINCT plan_id || '-' || seq) FROM journal_events WHERE state = 'held'",
        ) as usize;
    }
    figures.violations = all.len();
    println!(
        "safety property: {} worlds ({} with reads lagging over 30 s), {} cases ({} with overlapping selections), {} plans confirmed ({} scheduled), {} plans refused, {} runs, {} scheduler ticks, {} kills (dropped) + {} SIGKILLs, {} delete requests, {} stops, {} requests held for the operator, {} operator statements, {} queues stopped to ask the operator, {} violations of 7 properties",
        figures.worlds,
        figures.long_lags,
        figures.cases,
        figures.overlapping,
        figures.plans,
        figures.scheduled,
        figures.refused_plans,
        figures.runs,
        figures.ticks,
        figures.kills,
        figures.sigkills,
        figures.deletes,
        figures.stops,
        figures.held,
        figures.decisions,
        figures.operator_stops,
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
