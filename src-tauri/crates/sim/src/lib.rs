//! `wechat-sim`: a faithful fake of the WeChat Official Account API on loopback, used by the
//! client's tests, the app's tests, benchmarks and the demo account.
//!
//! It follows `wechat-api.md`, not our client's assumptions: stable tokens with rotation and
//! overlap, daily and per-minute quotas, 48001 for unverified accounts, 40164 with the caller's
//! IP, rids on every error, per-item `is_deleted`, and faults injected per endpoint.

mod covers;
mod data;
mod server;
mod world;

use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use server::{Fault, LoggedRequest};
pub use world::{
    AccountSpec, QUOTA_DEFAULTS, Quirks, SimItem, SimMessage, TOKEN_LIFETIME, beijing_day,
};

use server::{Faults, Shared, lock};
use world::World;

/// The demo account: the same in every build, so the README can print it.
pub const DEMO_APPID: &str = "wx5e7d1c0ffee0a1b2";
pub const DEMO_SECRET: &str = "3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d";
/// What the simulated token service expects in `X-Token-Key`.
pub const TOKEN_SERVICE_KEY: &str = "demo-token-service-key";
pub const TOKEN_SERVICE_PATH: &str = "/_sim/token-service";

/// How to start a simulator.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub accounts: Vec<AccountSpec>,
    /// The public IP the simulated WeChat "sees" for us (shown in 40164).
    pub caller_ip: String,
    /// Calls per minute per API before 45011.
    pub minute_limit: u32,
    /// 0 picks a free port.
    pub port: u16,
    /// Serve the `/_sim/*` control endpoints (faults, clock, request log, configuration).
    /// Tests need them; the app's embedded demo turns them off.
    pub control_endpoints: bool,
}

impl SimConfig {
    /// The demo account with `messages` published messages.
    pub fn demo(messages: usize) -> Self {
        Self {
            accounts: vec![AccountSpec::new(DEMO_APPID, DEMO_SECRET, messages)],
            caller_ip: "203.0.113.45".into(),
            minute_limit: 1_000,
            port: 0,
            control_endpoints: true,
        }
    }
}

/// A running simulator. Dropping it stops the server.
pub struct Sim {
    shared: Arc<Shared>,
    base_url: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Sim {
    /// Binds 127.0.0.1 and serves in the background of the current tokio runtime.
    pub async fn start(config: SimConfig) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let mut world = World::new(config.accounts, config.caller_ip, config.minute_limit);
        world.cover_base = format!("http://{addr}{}", covers::PATH);
        let shared = Arc::new(Shared {
            world: Mutex::new(world),
            log: Mutex::new(Vec::new()),
            covers: Mutex::new(Vec::new()),
            hosts: vec![
                format!("127.0.0.1:{}", addr.port()),
                format!("localhost:{}", addr.port()),
            ],
            control: config.control_endpoints,
            faults: Mutex::new(Faults::default()),
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = server::router(Arc::clone(&shared));
        tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                eprintln!("wechat-sim stopped: {e}");
            }
        });
        Ok(Self {
            shared,
            base_url: format!("http://{addr}"),
            shutdown: Some(tx),
        })
    }

    /// `http://127.0.0.1:PORT`, to use as the API base URL.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The cover images requested so far, in order (not API calls: `requests` leaves them out).
    pub fn cover_requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.covers).clone()
    }

    /// Everything received so far, in order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.log).clone()
    }

    /// How many requests reached `path` (e.g. `/cgi-bin/freepublish/delete`).
    pub fn count(&self, path: &str) -> usize {
        lock(&self.shared.log)
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    pub fn clear_log(&self) {
        lock(&self.shared.log).clear();
    }

    /// The next `times` requests to `path` get `fault`.
    pub fn inject(&self, path: &str, fault: Fault, times: usize) {
        lock(&self.shared.faults).push(path, fault, times);
    }

    /// Drops every fault not yet served: from here WeChat answers normally.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Added before every answer to `path` (or to every path with `None`).
    pub fn set_latency(&self, path: Option<&str>, latency: Duration) {
        lock(&self.shared.faults).set_latency(path, latency);
    }

    /// Moves the simulated clock forward (token expiry, quota days, rid retention).
    pub fn advance(&self, by: Duration) {
        lock(&self.shared.world).clock_offset += by;
    }

    /// Moves the clock to the start of the next Beijing day: daily quotas are fresh again.
    pub fn roll_day(&self) {
        let mut world = lock(&self.shared.world);
        let now = world.now();
        let reset = u64::from(world.quirks.quota_reset_hour) * 3600;
        let next_midnight = ((now + 8 * 3600 - reset) / 86_400 + 1) * 86_400 - 8 * 3600 + reset;
        world.clock_offset += Duration::from_secs(next_midnight - now + 1);
    }

    /// Turns the world's undocumented behaviours the bad way (see [`Quirks`]).
    pub fn set_quirks(&self, quirks: Quirks) {
        lock(&self.shared.world).quirks = quirks;
    }

    pub fn quirks(&self) -> Quirks {
        lock(&self.shared.world).quirks.clone()
    }

    /// Deletes that reached an item or message already deleted, as (article_id, position;
    /// 0 for the whole message): the ground truth of "deleted twice".
    pub fn repeated_deletes(&self, appid: &str) -> Vec<(String, usize)> {
        lock(&self.shared.world)
            .accounts
            .get(appid)
            .map(|a| a.repeated_deletes.clone())
            .unwrap_or_default()
    }

    /// Deletes a permanent material from the account's library (a cover `draft/add` then refuses).
    pub fn delete_material(&self, appid: &str, media_id: &str) {
        if let Some(account) = lock(&self.shared.world).account_mut(appid) {
            account.deleted_materials.push(media_id.to_string());
        }
    }

    /// The drafts made through `draft/add`: (media_id, the articles as sent).
    pub fn drafts(&self, appid: &str) -> Vec<(String, serde_json::Value)> {
        lock(&self.shared.world)
            .accounts
            .get(appid)
            .map(|a| a.drafts.clone())
            .unwrap_or_default()
    }

    pub fn set_caller_ip(&self, ip: &str) {
        lock(&self.shared.world).caller_ip = ip.to_string();
    }

    /// Changes an account's setup (verification, whitelist, risky-IP mode).
    pub fn configure(&self, appid: &str, change: impl FnOnce(&mut AccountSpec)) {
        if let Some(account) = lock(&self.shared.world).account_mut(appid) {
            change(account.spec_mut());
        }
    }

    /// Sets an API's daily limit for one account.
    pub fn set_daily_limit(&self, appid: &str, cgi_path: &str, limit: u32) {
        if let Some(account) = lock(&self.shared.world).account_mut(appid) {
            account.set_limit(cgi_path, limit);
        }
    }

    pub fn used_today(&self, appid: &str, cgi_path: &str) -> u32 {
        lock(&self.shared.world).used_today(appid, cgi_path)
    }

    /// The account's messages as the simulator holds them (deleted items included).
    pub fn messages(&self, appid: &str) -> Vec<SimMessage> {
        lock(&self.shared.world)
            .accounts
            .get(appid)
            .map(|a| a.messages.clone())
            .unwrap_or_default()
    }

    /// Changes a published message behind the app's back (an editor in the MP console).
    pub fn edit_message(
        &self,
        appid: &str,
        article_id: &str,
        change: impl FnOnce(&mut SimMessage),
    ) {
        if let Some(account) = lock(&self.shared.world).account_mut(appid)
            && let Some(m) = account
                .messages
                .iter_mut()
                .find(|m| m.article_id == article_id)
        {
            change(m);
        }
    }

    /// Publishes a new message now (an editor in the MP console), one item per title; returns
    /// its `article_id`.
    pub fn publish(&self, appid: &str, titles: &[&str]) -> String {
        let mut world = lock(&self.shared.world);
        let now = world.now();
        let Some(account) = world.account_mut(appid) else {
            return String::new();
        };
        let serial = account.messages.len();
        let article_id = format!("published_{serial}_{now}");
        let items = titles
            .iter()
            .enumerate()
            .map(|(i, title)| {
                let id = format!("new{serial}x{i}");
                world::SimItem {
                    title: title.to_string(),
                    author: "编辑部".into(),
                    digest: String::new(),
                    content: format!("<p>{title}</p>"),
                    url: format!("https://mp.weixin.qq.com/s/{id}"),
                    long_url: world::long_link(appid, serial, i + 1, &id),
                    thumb_media_id: world::cover_id(&id),
                    is_deleted: false,
                    deleted_at: None,
                }
            })
            .collect();
        account.messages.push(SimMessage {
            article_id: article_id.clone(),
            publish_id: format!("{}", 3_000_000_000u64 + serial as u64),
            update_time: now as i64,
            items,
        });
        article_id
    }

    pub fn message(&self, appid: &str, article_id: &str) -> Option<SimMessage> {
        self.messages(appid)
            .into_iter()
            .find(|m| m.article_id == article_id)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
