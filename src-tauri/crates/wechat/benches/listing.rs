//! Benchmarks (not tests): `make bench` or `cargo bench -p wechat-mp --bench listing`.
//!
//! 1. Listing 2,000 published messages (100 pages of 20: a whole day's batchget quota) from
//!    the simulator with 50 ms injected latency per request, one page at a time versus 4 in flight.
//! 2. 1,000 concurrent token requests on a cold cache versus a single caller.
//!
//! Every configuration runs in the same process, interleaved round by round, so machine noise
//! hits them alike; we report medians and ratios, never absolute thresholds.

#![allow(clippy::expect_used)] // a benchmark that cannot run should stop loudly

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use wechat_mp::{Api, Client, ClientConfig, ManualClock, SecretString, TokenCache, TokenSource};
use wechat_sim::{DEMO_APPID, DEMO_SECRET, Sim, SimConfig};

const MESSAGES: usize = 2_000;
const LATENCY: Duration = Duration::from_millis(50);
const LIST_ROUNDS: usize = 5;
const TOKEN_ROUNDS: usize = 21;
const CALLERS: usize = 1_000;

fn api(sim: &Sim) -> Api {
    let client = Client::new(&ClientConfig::with_base(sim.base_url())).expect("loopback client");
    let source = TokenSource::Stable {
        appid: DEMO_APPID.into(),
        secret: SecretString::from(DEMO_SECRET.to_string()),
    };
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    Api::new(client, Arc::new(TokenCache::new(source, clock)))
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A fresh simulator per run: the listing spends the whole daily batchget quota.
async fn time_listing(in_flight: usize) -> Duration {
    let mut config = SimConfig::demo(MESSAGES);
    config.minute_limit = 10_000;
    let sim = Sim::start(config).await.expect("simulator");
    let api = api(&sim);
    api.token().await.expect("token");
    sim.set_latency(None, LATENCY);
    let start = Instant::now();
    let listed = api.list_all(in_flight).await.expect("listing");
    let elapsed = start.elapsed();
    assert_eq!(listed.len(), MESSAGES, "the benchmark must list everything");
    elapsed
}

async fn time_tokens(callers: usize) -> (Duration, usize) {
    let sim = Sim::start(SimConfig::demo(1)).await.expect("simulator");
    let api = api(&sim);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..callers {
        let api = api.clone();
        tasks.spawn(async move { api.token().await.map(|_| ()) });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("task").expect("token");
    }
    let elapsed = start.elapsed();
    (elapsed, sim.count("/cgi-bin/stable_token"))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    println!(
        "listing {MESSAGES} messages, {LATENCY:?} latency per request, {LIST_ROUNDS} rounds (interleaved)"
    );
    let (mut serial, mut parallel) = (Vec::new(), Vec::new());
    for round in 1..=LIST_ROUNDS {
        let s = time_listing(1).await;
        let p = time_listing(4).await;
        println!(
            "  round {round}: 1 in flight {:8.1} ms | 4 in flight {:8.1} ms",
            ms(s),
            ms(p)
        );
        serial.push(s);
        parallel.push(p);
    }
    let (s, p) = (median(serial), median(parallel));
    println!(
        "  median: 1 in flight {:.1} ms, 4 in flight {:.1} ms, speed-up x{:.2}",
        ms(s),
        ms(p),
        s.as_secs_f64() / p.as_secs_f64()
    );

    println!("token cache, cold, {TOKEN_ROUNDS} rounds (interleaved)");
    let (mut one, mut many) = (Vec::new(), Vec::new());
    let mut max_fetches = 0;
    for _ in 0..TOKEN_ROUNDS {
        let (a, fa) = time_tokens(1).await;
        let (b, fb) = time_tokens(CALLERS).await;
        max_fetches = max_fetches.max(fa).max(fb);
        one.push(a);
        many.push(b);
    }
    let (a, b) = (median(one), median(many));
    println!(
        "  median: 1 caller {:.2} ms, {CALLERS} callers {:.2} ms, ratio x{:.2}; stable_token requests per round at most {max_fetches}",
        ms(a),
        ms(b),
        b.as_secs_f64() / a.as_secs_f64()
    );
}
