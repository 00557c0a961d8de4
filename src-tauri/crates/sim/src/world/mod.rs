//! The simulated WeChat: accounts, tokens, quotas, published messages and rids, as
//! `wechat-api.md` describes them. Pure logic over a simulated clock; no HTTP here.
//!
//! Invariants: every error answer carries a rid that `rid/get` can look up for 7 days;
//! quota days are Beijing days (UTC+8); a stable token is reused while it has more than
//! 5 minutes left and stays valid until its own expiry after rotation.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::data::Rng;

mod articles;
mod drafts;
mod pages;
mod quirks;
mod quota;
mod rids;
mod tokens;

pub use articles::{SimItem, SimMessage, cover_id, long_link};
pub use quirks::Quirks;
use rids::RidEntry;
use tokens::Token;

pub const TOKEN_LIFETIME: u64 = 7200;
const ROTATE_BEFORE: u64 = 300;
const FORCE_REFRESH_PER_DAY: u32 = 20;
const FORCE_REFRESH_GAP: u64 = 30;
const CLEAR_QUOTA_PER_MONTH: u32 = 10;
const RID_KEPT: u64 = 7 * 86_400;

/// The APIs with a daily quota, and their defaults for a new account.
pub const QUOTA_DEFAULTS: &[(&str, u32)] = &[
    ("/cgi-bin/freepublish/delete", 10),
    ("/cgi-bin/freepublish/batchget", 100),
    ("/cgi-bin/freepublish/getarticle", 100),
    ("/cgi-bin/freepublish/get", 100),
    ("/cgi-bin/get_api_domain_ip", 10_000),
];

/// How an account is set up.
#[derive(Debug, Clone)]
pub struct AccountSpec {
    pub appid: String,
    pub secret: String,
    pub verified: bool,
    /// `None`: every IP may fetch tokens. `Some(list)`: only those.
    pub whitelist: Option<Vec<String>>,
    /// Token requests answer 89503 (an admin must confirm the IP).
    pub risky_ip: bool,
    pub messages: usize,
    pub seed: u64,
}

impl AccountSpec {
    pub fn new(appid: &str, secret: &str, messages: usize) -> Self {
        Self {
            appid: appid.into(),
            secret: secret.into(),
            verified: true,
            whitelist: None,
            risky_ip: false,
            messages,
            seed: 1,
        }
    }
}

#[derive(Debug)]
pub(crate) struct Account {
    spec: AccountSpec,
    pub(crate) messages: Vec<SimMessage>,
    /// (path, Beijing day) -> calls counted.
    used: HashMap<(String, i64), u32>,
    limits: HashMap<String, u32>,
    /// (path, minute) -> calls.
    per_minute: HashMap<(String, u64), u32>,
    current_stable: Option<String>,
    force_refreshes: Vec<u64>,
    clear_quota_calls: Vec<u64>,
    /// Deletes that hit an item (or a message) already deleted: the ground truth of
    /// "deleted twice".
    pub(crate) repeated_deletes: Vec<(String, usize)>,
    /// Permanent materials deleted from the library since (covers `draft/add` refuses).
    pub(crate) deleted_materials: Vec<String>,
    /// Drafts made through `draft/add`: (media_id, the articles as sent).
    pub(crate) drafts: Vec<(String, Value)>,
    /// Answers given so far (temporary links change with each).
    answers: u64,
}

/// The whole simulated service.
#[derive(Debug)]
pub struct World {
    pub(crate) accounts: HashMap<String, Account>,
    tokens: HashMap<String, Token>,
    rids: HashMap<String, RidEntry>,
    rng: Rng,
    rid_counter: u32,
    pub(crate) clock_offset: Duration,
    pub(crate) caller_ip: String,
    pub(crate) minute_limit: u32,
    /// Credential a token service request must send in `X-Token-Key`.
    pub(crate) token_service_key: String,
    pub(crate) quirks: Quirks,
    /// Where this server serves cover images (`http://127.0.0.1:PORT/mmbiz/`); empty: listings
    /// carry no `thumb_url`.
    pub(crate) cover_base: String,
}

/// A business call: path, query token, parsed body.
pub struct Call<'a> {
    pub path: &'a str,
    pub token: Option<&'a str>,
    pub body: &'a Value,
    pub url_for_log: &'a str,
    pub raw_body: &'a str,
}

fn err<T>(code: i64, msg: &str) -> Result<T, (i64, String)> {
    Err((code, msg.to_string()))
}

impl World {
    pub fn new(specs: Vec<AccountSpec>, caller_ip: String, minute_limit: u32) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let accounts = specs
            .into_iter()
            .map(|spec| (spec.appid.clone(), Account::generate(spec, now)))
            .collect();
        Self {
            accounts,
            tokens: HashMap::new(),
            rids: HashMap::new(),
            rng: Rng::new(now ^ 0x5EED),
            rid_counter: 0,
            clock_offset: Duration::ZERO,
            caller_ip,
            minute_limit,
            token_service_key: "demo-token-service-key".into(),
            quirks: Quirks::default(),
            cover_base: String::new(),
        }
    }

    /// Simulated wall-clock seconds: real time plus whatever tests advanced.
    pub fn now(&self) -> u64 {
        (SystemTime::now() + self.clock_offset)
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    fn day(&self) -> i64 {
        beijing_day(
            self.now()
                .saturating_sub(u64::from(self.quirks.quota_reset_hour) * 3600),
        )
    }

    /// Answers one call. Errors come back as `(errcode, errmsg)`; the server adds the rid.
    pub fn answer(&mut self, call: &Call<'_>) -> Result<Value, (i64, String)> {
        match call.path {
            "/cgi-bin/stable_token" => self.stable_token(call.body),
            "/cgi-bin/token" => self.plain_token(call.body),
            "/_sim/token-service" => self.issue_for_service(),
            path => {
                let (appid, via_service) = self.check_token(call.token)?;
                self.check_business_ip(&appid, via_service)?;
                self.business(&appid, path, call.body)
            }
        }
    }

    fn business(&mut self, appid: &str, path: &str, body: &Value) -> Result<Value, (i64, String)> {
        let now = self.now();
        let day = self.day();
        let minute_limit = self.minute_limit;
        let quirks = self.quirks.clone();
        let covers = self.cover_base.clone();
        let account = self
            .accounts
            .get_mut(appid)
            .ok_or((40013, "invalid appid".into()))?;
        if path.starts_with("/cgi-bin/freepublish/") && !account.spec.verified {
            return err(48001, "api unauthorized");
        }
        account.count_call(path, day, now / 60, minute_limit)?;
        match path {
            "/cgi-bin/freepublish/delete" => account.delete(body, &quirks, now),
            "/cgi-bin/freepublish/batchget" => account.batchget(body, &quirks, now, &covers),
            "/cgi-bin/freepublish/getarticle" => account.getarticle(body, &quirks, now, &covers),
            "/cgi-bin/freepublish/get" => account.publish_status(body),
            "/cgi-bin/openapi/quota/get" if quirks.quota_get_unknown => {
                err(76021, "cgi_path not found")
            }
            "/cgi-bin/openapi/quota/get" => account.quota(body, day, minute_limit),
            "/cgi-bin/clear_quota" => account.clear_quota(appid, body, now),
            "/cgi-bin/draft/add" => account.draft_add(body),
            "/cgi-bin/openapi/rid/get" => self.rid_get(body, now),
            "/cgi-bin/get_api_domain_ip" => {
                Ok(json!({"ip_list": ["101.226.103.0/25", "101.226.233.128/25"]}))
            }
            _ => err(40066, "invalid url"),
        }
    }

    pub(crate) fn account_mut(&mut self, appid: &str) -> Option<&mut Account> {
        self.accounts.get_mut(appid)
    }
}

impl Account {
    pub(crate) fn spec_mut(&mut self) -> &mut AccountSpec {
        &mut self.spec
    }

    pub(crate) fn set_limit(&mut self, path: &str, limit: u32) {
        self.limits.insert(path.to_string(), limit);
    }
}

/// Days since the epoch in Beijing time: WeChat's quotas reset at midnight there.
pub fn beijing_day(unix: u64) -> i64 {
    ((unix + 8 * 3600) / 86_400) as i64
}

fn beijing_month(unix: u64) -> i64 {
    // 30-day buckets are close enough for a simulator's monthly allowance.
    beijing_day(unix) / 30
}
