//! Writes a Retract database with one account whose local index holds at least N articles,
//! synced from an in-process simulator through the app's own sync. For the desktop benchmark
//! (`make bench-desktop`): the app is measured idle with a realistic index.
//!
//!   cargo run --release -p retract-core --example seed_index -- DB_PATH ARTICLES [SCHEDULED]
//!
//! The account's secret is kept for this process only, so the app opens it with its index and
//! no secret: it makes no API call while it is measured. With SCHEDULED, that many articles
//! also wait in the delete queue, scheduled a week ahead: closing the window then keeps the
//! app in the tray (the benchmark's tray figures).

#![allow(clippy::unwrap_used, clippy::expect_used)] // a tool that cannot run should stop loudly

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use retract_core::accounts::{AccountDraft, Accounts, DraftSource, SecretStorage};
use retract_core::store::Store;
use retract_core::{index, plan};
use wechat_sim::{DEMO_APPID, DEMO_SECRET, Sim, SimConfig};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let db = std::path::PathBuf::from(args.next().expect("usage: seed_index DB_PATH ARTICLES"));
    let articles: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .expect("ARTICLES: a number");
    let scheduled: usize = args
        .next()
        .map_or(0, |n| n.parse().expect("SCHEDULED: a number"));
    // The sample data averages about 2.3 articles a message.
    let sim = Sim::start(SimConfig::demo(articles * 10 / 23 + 1))
        .await
        .unwrap();
    sim.set_daily_limit(DEMO_APPID, "/cgi-bin/freepublish/batchget", 1_000_000);
    let store = Arc::new(Store::open(&db).unwrap());
    let accounts = Accounts::new(
        Arc::clone(&store),
        Arc::new(retract_core::keyring::Keyring::new(
            "app.retract.bench.unused",
        )),
        Arc::new(wechat_mp::SystemClock),
        Some(sim.base_url().to_string()),
    );
    let draft = AccountDraft {
        name: "基准测试服务号".into(),
        appid: DEMO_APPID.into(),
        source: DraftSource::Stable {
            secret: DEMO_SECRET.into(),
        },
        proxy: None,
        api_base: None,
        local_relay: false,
    };
    let account = accounts.save(&draft, SecretStorage::SessionOnly).unwrap();
    let api = accounts.api(account.id).unwrap();
    let report = retract_core::sync::sync(
        &api,
        &store,
        account.id,
        true,
        &AtomicBool::new(false),
        |_| {},
    )
    .await
    .unwrap();
    let everything = index::ArticleFilter {
        query: None,
        from: None,
        to: None,
        live_only: false,
    };
    let (total, _) = index::search(&store, account.id, &everything, 0, 1).unwrap();
    assert!(total as usize >= articles, "only {total} articles indexed");
    if scheduled > 0 {
        let (_, rows) =
            index::search(&store, account.id, &everything, 0, scheduled as u32).unwrap();
        let selection: Vec<_> = rows
            .iter()
            .map(|r| plan::Selection::Item {
                article_id: r.article_id.clone(),
                index: r.index,
            })
            .collect();
        let plan = plan::create(&api, &store, account.id, &selection)
            .await
            .unwrap();
        let now = retract_core::now_unix();
        plan::confirm_scheduled(
            &store,
            plan.id,
            &plan.nonce,
            &plan.phrase,
            now + 7 * 86_400,
            now,
        )
        .unwrap();
    }
    println!(
        "{}: {} messages, {total} articles indexed, {scheduled} scheduled a week ahead",
        db.display(),
        report.progress.messages
    );
}
