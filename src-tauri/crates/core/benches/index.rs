//! Benchmarks (not tests): `make bench`, or `cargo bench -p retract-core --bench index`.
//!
//! 1. A full sync of 2,000 published messages from the simulator into a real SQLite file
//!    (WAL, synchronous=FULL), with and without 50 ms latency per request.
//! 2. Searching an index of about 50,000 articles: title/author substrings (Chinese), a date
//!    range, against an unfiltered first page as the baseline in the same run.
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
    let report = index::sync(&api, &store, account, true, &never, |_| {})
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
    index::sync(&api, &store, account, true, &never, |_| {})
        .await
        .unwrap();
    let (articles, _) = index::search(&store, account, &ArticleFilter::default(), 0, 1).unwrap();
    println!(
        "search over {articles} articles, 21 rounds (interleaved), first window of 100 rows + total"
    );
    let newest = index::search(&store, account, &ArticleFilter::default(), 0, 1)
        .unwrap()
        .1[0]
        .publish_time;
    let cases: Vec<(&str, ArticleFilter)> = vec![
        ("baseline: no filter", ArticleFilter::default()),
        (
            "title substring 报名通道",
            ArticleFilter {
                query: Some("报名通道".into()),
                ..Default::default()
            },
        ),
        (
            "rare substring 双十一备货",
            ArticleFilter {
                query: Some("双十一备货".into()),
                ..Default::default()
            },
        ),
        (
            "author 品牌中心",
            ArticleFilter {
                query: Some("品牌中心".into()),
                ..Default::default()
            },
        ),
        (
            "no match",
            ArticleFilter {
                query: Some("不存在的标题".into()),
                ..Default::default()
            },
        ),
        (
            "last 90 days",
            ArticleFilter {
                from: Some(newest - 90 * 86_400),
                ..Default::default()
            },
        ),
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); cases.len()];
    let mut totals = vec![0; cases.len()];
    for _ in 0..21 {
        for (i, (_, filter)) in cases.iter().enumerate() {
            let start = Instant::now();
            let (total, rows) = index::search(&store, account, filter, 0, 100).unwrap();
            samples[i].push(start.elapsed());
            totals[i] = total;
            assert!(rows.len() <= 100);
        }
    }
    let base = median(samples[0].clone());
    for (i, (name, _)) in cases.iter().enumerate() {
        let m = median(samples[i].clone());
        println!(
            "  {name:<28} {:7.2} ms  x{:.2} of baseline  ({} hits)",
            ms(m),
            m.as_secs_f64() / base.as_secs_f64(),
            totals[i]
        );
    }
}
