//! Shared set-up for the core's tests: the simulator on loopback, a real SQLite file in a
//! temp folder, and accounts whose secret lives in the real keyring or in memory.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use retract_core::accounts::{AccountDraft, Accounts, DraftSource, SecretStorage};
use retract_core::execute::ExecOptions;
use retract_core::ids::{AccountId, PlanId};
use retract_core::keyring::Keyring;
use retract_core::plan::{self, Plan, Selection};
use retract_core::queue;
use retract_core::store::Store;
use wechat_mp::{Api, ManualClock, SystemClock};
use wechat_sim::{DEMO_APPID, DEMO_SECRET, Sim, SimConfig};

pub const DELETE: &str = "/cgi-bin/freepublish/delete";
pub const GETARTICLE: &str = "/cgi-bin/freepublish/getarticle";
pub const BATCHGET: &str = "/cgi-bin/freepublish/batchget";

/// A runner's options on `clock` (moved by the test), with no real minute to wait.
pub fn options_on(clock: &ManualClock) -> ExecOptions {
    ExecOptions {
        clock: Arc::new(clock.clone()),
        minute_wait: Duration::ZERO,
        ..ExecOptions::default()
    }
}

/// Time passes on both clocks: the app's and WeChat's (the simulator's lag runs on its own).
pub fn pass(w: &World, clock: &ManualClock, secs: u64) {
    clock.advance(Duration::from_secs(secs));
    w.sim.advance(Duration::from_secs(secs));
}

/// The operator's run of the queue (Resume), on `clock`.
pub async fn run(w: &World, api: &Api, account: AccountId, clock: &ManualClock) -> queue::QueueRun {
    queue::run(api, w.store(), account, &options_on(clock), |_, _| {})
        .await
        .unwrap()
}

/// A run the scheduler starts (due or not), on `clock`.
pub async fn scheduler_run(
    w: &World,
    api: &Api,
    account: AccountId,
    clock: &ManualClock,
) -> Result<queue::QueueRun, retract_core::CoreError> {
    queue::run_as(
        api,
        w.store(),
        account,
        &options_on(clock),
        queue::RunBy::Scheduler,
        |_, _| {},
    )
    .await
}

/// One scheduler tick: the queue runs only if it is due, as the app's scheduler runs it.
/// Whether it ran.
pub async fn tick(w: &World, api: &Api, account: AccountId, clock: &ManualClock) -> bool {
    let now = options_on(clock).now();
    if !queue::status(w.store(), account)
        .unwrap()
        .due_for_resume(now)
    {
        return false;
    }
    let _ = scheduler_run(w, api, account, clock).await;
    true
}

/// The offsets the list calls asked for, in order (a call made again after a refusal for
/// an expired token counts once).
pub fn batchget_offsets(w: &World) -> Vec<u64> {
    let mut offsets: Vec<u64> = w
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path == BATCHGET)
        .map(|r| r.json()["offset"].as_u64().unwrap())
        .collect();
    offsets.dedup();
    offsets
}

pub struct World {
    pub sim: Sim,
    pub dir: tempfile::TempDir,
    pub accounts: Accounts,
    pub keyring: Arc<Keyring>,
}

impl World {
    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("retract.db")
    }

    pub fn store(&self) -> &Store {
        self.accounts.store()
    }

    /// Every byte of the database files (main file, WAL, shared memory).
    pub fn db_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            all.extend(std::fs::read(entry.unwrap().path()).unwrap_or_default());
        }
        all
    }

    pub fn count(&self, sql: &str) -> i64 {
        let conn = rusqlite::Connection::open(self.db_path()).unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{}.{nanos}", std::process::id())
}

/// A keyring handle under a service name of its own. It talks to the Secret Service only when
/// a test stores a secret there (those tests run inside `scripts/with-keyring.sh`).
pub fn keyring(tag: &str) -> Arc<Keyring> {
    Arc::new(Keyring::new(format!("app.retract.test.{tag}.{}", unique())))
}

pub fn require_keyring_session() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "run through `make test` or scripts/with-keyring.sh: this test uses the real keyring"
    );
}

pub async fn world_with(config: SimConfig) -> World {
    let sim = Sim::start(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(&dir.path().join("retract.db")).unwrap());
    let keyring = keyring("core");
    let accounts = Accounts::new(
        store,
        Arc::clone(&keyring),
        Arc::new(SystemClock),
        Some(sim.base_url().to_string()),
    );
    World {
        sim,
        dir,
        accounts,
        keyring,
    }
}

pub async fn world(messages: usize) -> World {
    world_with(SimConfig::demo(messages)).await
}

pub fn draft(secret: &str) -> AccountDraft {
    AccountDraft {
        name: "  公司服务号 ".into(),
        appid: DEMO_APPID.to_uppercase().replace("WX", "wx"),
        source: DraftSource::Stable {
            secret: secret.into(),
        },
        proxy: None,
        api_base: None,
        local_relay: false,
    }
}

/// The demo account saved for this session only, with nothing synced yet.
pub fn unsynced_account(w: &World) -> (AccountId, Api) {
    let account = w
        .accounts
        .save(&draft(DEMO_SECRET), SecretStorage::SessionOnly)
        .unwrap();
    let api = w.accounts.api(account.id).unwrap();
    (account.id, api)
}

/// An account (secret kept as `storage` says) whose whole list is in the index.
pub async fn synced_account(w: &World, storage: SecretStorage) -> (AccountId, Api) {
    if storage == SecretStorage::Keyring {
        require_keyring_session();
    }
    let account = w.accounts.save(&draft(DEMO_SECRET), storage).unwrap();
    let api = w.accounts.api(account.id).unwrap();
    let never = AtomicBool::new(false);
    retract_core::sync::sync(&api, w.store(), account.id, true, &never, |_| {})
        .await
        .unwrap();
    (account.id, api)
}

/// One article of a message, by position.
pub fn item(article_id: &str, index: u32) -> Selection {
    Selection::Item {
        article_id: article_id.into(),
        index,
    }
}

/// Whole-message selections of the `n` oldest messages.
pub fn oldest_messages(w: &World, n: usize) -> Vec<Selection> {
    w.sim
        .messages(DEMO_APPID)
        .iter()
        .take(n)
        .map(|m| Selection::WholeMessage {
            article_id: m.article_id.clone(),
        })
        .collect()
}

/// Plans and confirms the selection, as both confirm steps would.
pub async fn confirmed(w: &World, api: &Api, account: AccountId, selection: &[Selection]) -> Plan {
    let p = plan::create(api, w.store(), account, selection)
        .await
        .unwrap();
    plan::confirm(w.store(), p.id, &p.nonce, &p.phrase).unwrap();
    p
}

/// The app's queue runner (`queue::run` in its own process) on this world's database; the
/// secret goes in through the environment, as the binary expects.
pub fn queue_runner(w: &World, account: AccountId) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_queue-runner"));
    command
        .args([
            w.db_path().to_str().unwrap(),
            w.sim.base_url(),
            &account.to_string(),
        ])
        .env("RETRACT_RUNNER_SECRET", DEMO_SECRET)
        .env("RETRACT_RUNNER_SEAL", w.store().seal_key_for_runner());
    command
}

/// The journal state of each target of a plan, in order.
pub fn states(w: &World, plan: PlanId) -> Vec<String> {
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    let mut stmt = conn
        .prepare("SELECT state FROM plan_targets WHERE plan_id = ?1 ORDER BY seq")
        .unwrap();
    stmt.query_map([plan], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The newest message with at least `min` items.
pub fn multi_item(w: &World, min: usize) -> wechat_sim::SimMessage {
    w.sim
        .messages(DEMO_APPID)
        .into_iter()
        .rev()
        .find(|m| m.items.len() >= min)
        .unwrap()
}

/// The seed of a randomized test: `var` from the environment (to replay a run), else the
/// clock. Printed, so every log says how to replay it.
pub fn seed(var: &str, what: &str) -> u64 {
    let seed = std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
                | 1
        });
    println!("{what} seed {seed} (replay with {var}={seed})");
    seed
}

/// A small seeded generator (xorshift): the loops and the property test print their seed
/// and replay from it.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}
