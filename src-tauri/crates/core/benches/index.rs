//! Benchmarks (not tests): `make bench`, or `cargo bench -p retract-core --bench index`.
//!
//! 1. A full sync of 2,000 published messages from the simulator into a real SQLite file
//!    (WAL, synchronous=FULL), with and without 50 ms latency per request.
//! 2. Searching an index of about 50,000 articles (a fifth with Latin titles): 1- to
//!    16-character Chinese and Latin substrings, with and without a date range; the
//!    distribution (p50, p95, max) of the in-memory search against the SQL scan it replaced,
//!    run side by side, and the cost of rebuilding the copy after a change.
//!
//! Medians of interleaved rounds; ratios against the baseline; no thresholds.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark that cannot run should stop loudly

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use retract_core::index::{self, ArticleFilter};
use retract_core::store::Store;
use wechat_mp::{Api, Client, ClientConfig, SecretString, SystemClock, TokenCache, TokenSource};
use wechat_sim::{DEMO_APPID, DEMO_SECRET, Sim, SimConfig};

fn api(sim: &Sim) -> Api {
    let client = Client::new(&ClientConfig::with_base(sim.base_url())).unwrap();
    let source = TokenSource::Stable {
        appid: DEMO_APPID.into(),
        secret: SecretString::from(DEMO_SECRET.to_string()),
    };
    Api::new(
        client,
        Arc::new(TokenCache::new(source, Arc::new(SystemClock))),
    )
}

/// A store with one account row (the index needs its foreign key).
fn store(dir: &std::path::Path) -> (Store, retract_core::ids::AccountId) {
    let store = Store::open(&dir.join("bench.db")).unwrap();
    let keyring = Arc::new(retract_core::keyring::Keyring::new("unused"));
    let accounts = retract_core::accounts::Accounts::new(
        Arc::new(store),
        keyring,
        Arc::new(SystemClock),
        None,
    );
    let account = accounts
        .ensure_demo("http://127.0.0.1:1", DEMO_APPID, DEMO_SECRET)
        .unwrap();
    drop(accounts);
    (Store::open(&dir.join("bench.db")).unwrap(), account.id)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn time_sync(messages: usize, latency: Duration) -> (Duration, u32) {
    let mut config = SimConfig::demo(messages);
    config.minute_limit = 100_000;
    let sim = Sim::start(config).await.unwrap();
    sim.set_daily_limit(DEMO_APPID, "/cgi-bin/freepublish/batchget", 100_000);
    let api = api(&sim);
    api.token().await.unwrap();
    sim.set_latency(None, latency);
    let dir = tempfile::tempdir().unwrap();
    let (store, account) = store(dir.path());
    let never = AtomicBool::new(false);
    let start = Instant::now();
    let report = retract_core::sync::sync(&api, &store, account, true, &never, |_| {})
        .await
        .unwrap();
    let elapsed = start.elapsed();
    assert_eq!(report.progress.messages as usize, messages);
    (elapsed, report.progress.pages)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!("full sync of 2000 messages into SQLite, 5 rounds (interleaved)");
    let (mut fast, mut slow) = (Vec::new(), Vec::new());
    for round in 1..=5 {
        let (a, pages) = time_sync(2_000, Duration::ZERO).await;
        let (b, _) = time_sync(2_000, Duration::from_millis(50)).await;
        println!(
            "  round {round}: no latency {:8.1} ms | 50 ms latency {:8.1} ms ({pages} pages)",
            ms(a),
            ms(b)
        );
        fast.push(a);
        slow.push(b);
    }
    println!(
        "  median: no latency {:.1} ms, 50 ms latency {:.1} ms",
        ms(median(fast)),
        ms(median(slow))
    );

    // About 50,000 articles: 21,500 messages of 1..8 items.
    let mut config = SimConfig::demo(21_500);
    config.minute_limit = 100_000;
    let sim = Sim::start(config).await.unwrap();
    sim.set_daily_limit(DEMO_APPID, "/cgi-bin/freepublish/batchget", 100_000);
    let api = api(&sim);
    let dir = tempfile::tempdir().unwrap();
    let (store, account) = store(dir.path());
    let never = AtomicBool::new(false);
    retract_core::sync::sync(&api, &store, account, true, &never, |_| {})
        .await
        .unwrap();
    latin_titles(&store);
    let (articles, _) = index::search(&store, account, &ArticleFilter::default(), 0, 1).unwrap();
    let newest = index::search(&store, account, &ArticleFilter::default(), 0, 1)
        .unwrap()
        .1[0]
        .publish_time;
    let year = Some(newest - 365 * 86_400);
    let queries: &[(&str, &str)] = &[
        ("zh 1", "新"),
        ("zh 1", "信"),
        ("zh 2", "活动"),
        ("zh 2", "会员"),
        ("zh 3", "双十一"),
        ("zh 4", "报名通道"),
        ("zh 4 author", "品牌中心"),
        ("zh 6", "一封来自创始"),
        ("zh none", "不存在的标题"),
        ("latin 1", "a"),
        ("latin 2", "sa"),
        ("latin 3", "Sal"),
        ("latin 5", "sale "),
        ("latin 16", "spring sale 2024"),
        ("latin none", "zzzq"),
        ("no filter", ""),
    ];
    let mut cases: Vec<(String, ArticleFilter)> = Vec::new();
    for (class, q) in queries {
        for (range, from) in [("", None), (", last year", year)] {
            cases.push((
                format!("{class}{range}"),
                ArticleFilter {
                    query: Some(q.to_string()),
                    from,
                    to: None,
                    live_only: false,
                },
            ));
        }
    }
    println!(
        "search over {articles} articles: {} queries (1- to 16-character Chinese and Latin, with and without a date range), 21 interleaved rounds, first window of 100 rows + total",
        cases.len()
    );
    // Warm the in-memory copy once; its build after a change is timed separately below.
    index::search(&store, account, &ArticleFilter::default(), 0, 100).unwrap();
    let mut fast: Vec<Duration> = Vec::new();
    let mut scan: Vec<Duration> = Vec::new();
    let mut per_case: Vec<(Vec<Duration>, Vec<Duration>, u32)> =
        vec![(Vec::new(), Vec::new(), 0); cases.len()];
    for _ in 0..21 {
        for (i, (_, filter)) in cases.iter().enumerate() {
            let start = Instant::now();
            let (total, rows) = index::search(&store, account, filter, 0, 100).unwrap();
            let a = start.elapsed();
            let start = Instant::now();
            let (scan_total, _) = index::search_by_scan(&store, account, filter, 0, 100).unwrap();
            let b = start.elapsed();
            assert!(rows.len() <= 100);
            assert_eq!(total, scan_total, "{:?}", filter.query);
            fast.push(a);
            scan.push(b);
            per_case[i].0.push(a);
            per_case[i].1.push(b);
            per_case[i].2 = total;
        }
    }
    let (fast_p50, scan_p50) = (percentile(&fast, 50), percentile(&scan, 50));
    println!(
        "  in-memory copy: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms ({} searches)",
        ms(fast_p50),
        ms(percentile(&fast, 95)),
        ms(percentile(&fast, 100)),
        fast.len()
    );
    println!(
        "  SQL scan (before): p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms; p50 ratio in-memory/scan x{:.3}",
        ms(scan_p50),
        ms(percentile(&scan, 95)),
        ms(percentile(&scan, 100)),
        fast_p50.as_secs_f64() / scan_p50.as_secs_f64()
    );
    for (i, (name, _)) in cases.iter().enumerate() {
        let (a, b, hits) = &per_case[i];
        println!(
            "  {name:<26} median {:6.2} ms (p95 {:6.2})  scan {:6.2} ms  ({hits} hits)",
            ms(percentile(a, 50)),
            ms(percentile(a, 95)),
            ms(percentile(b, 50))
        );
    }

    // The first search after the index changed rebuilds the account's copy.
    let mut rebuild = Vec::new();
    for _ in 0..7 {
        touch_one_title(&store);
        let start = Instant::now();
        index::search(&store, account, &ArticleFilter::default(), 0, 100).unwrap();
        rebuild.push(start.elapsed());
    }
    println!(
        "  first search after a change (rebuilds the copy): median {:.1} ms, max {:.1} ms",
        ms(percentile(&rebuild, 50)),
        ms(percentile(&rebuild, 100))
    );
}

/// The `p`th percentile (nearest rank) of `samples`.
fn percentile(samples: &[Duration], p: usize) -> Duration {
    let mut v = samples.to_vec();
    v.sort();
    let rank = (p * v.len()).div_ceil(100).max(1);
    v[rank - 1]
}

/// Gives every fifth article a Latin title (the simulator writes Chinese ones), through a
/// second connection as another process would.
fn latin_titles(store: &Store) {
    const LATIN: &[&str] = &[
        "Spring Sale 2024: what is new",
        "Member Day recap",
        "How we ship: a letter from the founder",
        "Store opening in Shanghai",
        "SALE ends Sunday",
        "Q3 product update",
    ];
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    let ids: Vec<i64> = tx
        .prepare("SELECT rowid FROM items WHERE rowid % 5 = 0")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (n, id) in ids.iter().enumerate() {
        tx.execute(
            "UPDATE items SET title = ?1 WHERE rowid = ?2",
            rusqlite::params![format!("{} #{n}", LATIN[n % LATIN.len()]), id],
        )
        .unwrap();
    }
    tx.commit().unwrap();
    // Leave the file as a finished sync would: the changes folded back from the WAL.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
}

fn touch_one_title(store: &Store) {
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.execute(
        "UPDATE items SET title = title || '.' WHERE rowid = (SELECT min(rowid) FROM items)",
        [],
    )
    .unwrap();
}
