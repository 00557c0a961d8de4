//! The simulated WeChat: accounts, tokens, quotas, published messages and rids, as
//! `wechat-api.md` describes them. Pure logic over a simulated clock; no HTTP here.
//!
//! Invariants: every error answer carries a rid that `rid/get` can look up for 7 days;
//! quota days are Beijing days (UTC+8); a stable token is reused while it has more than
//! 5 minutes left and stays valid until its own expiry after rotation.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::data::{Rng, sample_message};

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

/// The ways WeChat may behave where its documentation is silent (**[unverified]** in
/// `wechat-api.md`). The default is the optimistic reading (the demo's world); each switch
/// turns one unknown the bad way, so tests can prove the app stays safe in that world too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quirks {
    /// Deleted items vanish from the answers and later items move up one position; a delete's
    /// `index` counts only the items still live.
    pub compact_positions: bool,
    /// `getarticle` and `batchget` show a delete only this many seconds after it was applied.
    pub lag_secs: u64,
    /// `getarticle` of a message whose every item is deleted answers 53600.
    pub deleted_message_53600: bool,
    /// `batchget` lists the oldest message first.
    pub oldest_first: bool,
    /// Business calls are checked against the IP whitelist too (40164; 61004 with a token
    /// from the token service, as a third-party platform's token would be).
    pub whitelist_on_business_calls: bool,
    /// A delete of an item that is already deleted answers this errcode (default: 0).
    pub second_delete_errcode: Option<i64>,
    /// `quota/get` answers 76021 (path unknown) for every path.
    pub quota_get_unknown: bool,
    /// The quota day starts at this hour, Beijing time (default 0: midnight).
    pub quota_reset_hour: u8,
    /// `batchget` and `getarticle` give each item's link in the long form
    /// (`s?__biz=…&mid=…&idx=…&sn=…#rd`) instead of the short `s/<id>` one.
    pub long_urls: bool,
    /// `batchget` and `getarticle` give long links that carry a parameter changing with every
    /// answer (a temporary link, as documented for `url`); `freepublish/get` keeps the short,
    /// permanent one.
    pub temporary_links: bool,
    /// Answers carry no links at all (`"url": null`).
    pub no_links: bool,
    /// `batchget` spells titles HTML-escaped (`&amp;`) with a trailing non-breaking space;
    /// `getarticle` spells them plainly.
    pub escaped_titles: bool,
    /// Every item of a message is shown under the title of its first item (duplicate titles
    /// in one message).
    pub twin_titles: bool,
    /// `author`, `digest` and the other text fields come as `null`; a deleted item is stripped
    /// to `is_deleted` (title, link and content `null`).
    pub null_fields: bool,
    /// `batchget` gives `update_time` only inside `content`, as a string.
    pub nested_update_time: bool,
    /// `batchget` lists messages in an order of its own (neither newest nor oldest first).
    pub shuffled_list: bool,
    /// Cover images (`thumb_url`) answer 404, as an expired or blocked image link would.
    pub broken_covers: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimItem {
    pub title: String,
    pub author: String,
    pub digest: String,
    pub content: String,
    /// The short link, `https://mp.weixin.qq.com/s/<id>`.
    pub url: String,
    /// The same article's long link (`__biz`, `mid`, `idx`, `sn`), as its page names it.
    pub long_url: String,
    /// The cover: a permanent image material of the account.
    pub thumb_media_id: String,
    pub is_deleted: bool,
    /// When a delete was applied (simulated seconds); `None` for items deleted by a test's
    /// edit, which show at once.
    pub deleted_at: Option<u64>,
}

impl SimItem {
    /// Deleted as the answers show it now (after the lag).
    fn shows_deleted(&self, now: u64, lag: u64) -> bool {
        self.is_deleted && self.deleted_at.is_none_or(|at| at + lag <= now)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimMessage {
    pub article_id: String,
    pub publish_id: String,
    pub update_time: i64,
    pub items: Vec<SimItem>,
}

impl SimMessage {
    fn all_deleted(&self) -> bool {
        self.items.iter().all(|i| i.is_deleted)
    }

    fn shows_all_deleted(&self, q: &Quirks, now: u64) -> bool {
        self.items.iter().all(|i| i.shows_deleted(now, q.lag_secs))
    }

    /// The items as an answer shows them. `listing`: `batchget` (titles spelled its way);
    /// `answer`: a number that differs for every answer (temporary links).
    fn news_items(
        &self,
        with_content: bool,
        listing: bool,
        answer: u64,
        q: &Quirks,
        now: u64,
        cover_base: &str,
    ) -> Vec<Value> {
        let first_title = self
            .items
            .first()
            .map(|i| i.title.as_str())
            .unwrap_or_default();
        self.items
            .iter()
            .filter(|i| !(q.compact_positions && i.shows_deleted(now, q.lag_secs)))
            .map(|i| {
                let deleted = i.shows_deleted(now, q.lag_secs);
                let title = if q.twin_titles { first_title } else { &i.title };
                let title = if q.escaped_titles && listing {
                    format!("{}\u{a0}", title.replace('&', "&amp;"))
                } else {
                    title.to_string()
                };
                let url = if q.no_links {
                    Value::Null
                } else if q.temporary_links {
                    let (link, fragment) = i.long_url.split_once('#').unwrap_or((&i.long_url, ""));
                    Value::from(format!("{link}&tempkey={answer:x}#{fragment}"))
                } else if q.long_urls {
                    Value::from(i.long_url.as_str())
                } else {
                    Value::from(i.url.as_str())
                };
                if q.null_fields && deleted {
                    return json!({"title": null, "author": null, "digest": null, "content": null, "url": null, "is_deleted": true});
                }
                let text = |v: &str| if q.null_fields { Value::Null } else { Value::from(v) };
                json!({
                    "title": title,
                    "author": text(&i.author),
                    "digest": text(&i.digest),
                    "content": if with_content { i.content.as_str() } else { "" },
                    "content_source_url": text(""),
                    "thumb_media_id": i.thumb_media_id,
                    "thumb_url": text(&crate::covers::url(cover_base, &i.thumb_media_id)),
                    "need_open_comment": 0,
                    "only_fans_can_comment": 0,
                    "url": url,
                    "is_deleted": deleted,
                })
            })
            .collect()
    }
}

#[derive(Debug)]
struct Token {
    appid: String,
    expires_at: u64,
    revoked: bool,
    stable: bool,
    /// Handed out by the token service (stands for a third-party platform's token).
    via_service: bool,
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

#[derive(Debug, Clone)]
struct RidEntry {
    at: u64,
    url: String,
    body: String,
    response: String,
    ip: String,
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

    pub fn new_rid(&mut self) -> String {
        self.rid_counter = self.rid_counter.wrapping_add(1);
        format!(
            "{:08x}-{:08x}-{:08x}",
            self.now() as u32,
            self.rid_counter,
            self.rng.next_u64() as u32
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

    /// Remembers what a request was and what it got, for `rid/get`.
    pub fn record_rid(&mut self, rid: &str, call: &Call<'_>, response: &str) {
        let entry = RidEntry {
            at: self.now(),
            url: call.url_for_log.to_string(),
            body: call.raw_body.to_string(),
            response: response.to_string(),
            ip: self.caller_ip.clone(),
        };
        self.rids.insert(rid.to_string(), entry);
    }

    fn stable_token(&mut self, body: &Value) -> Result<Value, (i64, String)> {
        let (appid, force) = self.check_credentials(body)?;
        let now = self.now();
        let day = self.day();
        let account = self
            .accounts
            .get_mut(&appid)
            .ok_or((40013, "invalid appid".into()))?;
        if force {
            account.force_refreshes.retain(|t| beijing_day(*t) == day);
            let too_soon = account
                .force_refreshes
                .last()
                .is_some_and(|t| now < t + FORCE_REFRESH_GAP);
            if account.force_refreshes.len() as u32 >= FORCE_REFRESH_PER_DAY || too_soon {
                return err(45009, "reach max api daily quota limit");
            }
            account.force_refreshes.push(now);
            for token in self.tokens.values_mut() {
                if token.appid == appid && token.stable {
                    token.revoked = true;
                }
            }
        } else if let Some(current) = account.current_stable.clone()
            && let Some(t) = self.tokens.get(&current)
            && !t.revoked
            && t.expires_at > now + ROTATE_BEFORE
        {
            return Ok(json!({"access_token": current, "expires_in": t.expires_at - now}));
        }
        let token = self.issue(&appid, true);
        Ok(json!({"access_token": token, "expires_in": TOKEN_LIFETIME}))
    }

    /// The endpoint Retract must never call; it behaves as WeChat's does (revokes the last one).
    fn plain_token(&mut self, body: &Value) -> Result<Value, (i64, String)> {
        let (appid, _) = self.check_credentials(body)?;
        for token in self.tokens.values_mut() {
            if token.appid == appid && !token.stable {
                token.revoked = true;
            }
        }
        let token = self.issue(&appid, false);
        Ok(json!({"access_token": token, "expires_in": TOKEN_LIFETIME}))
    }

    /// The simulated company token service hands out the first account's stable token.
    fn issue_for_service(&mut self) -> Result<Value, (i64, String)> {
        let Some(appid) = self.accounts.keys().min().cloned() else {
            return err(40013, "no account");
        };
        let secret = self.accounts[&appid].spec.secret.clone();
        let answer = self.stable_token(
            &json!({"grant_type":"client_credential","appid":appid,"secret":secret}),
        )?;
        if let Some(t) = answer
            .get("access_token")
            .and_then(Value::as_str)
            .and_then(|t| self.tokens.get_mut(t))
        {
            t.via_service = true;
        }
        Ok(answer)
    }

    /// With `whitelist_on_business_calls`, business calls are refused from an IP outside the
    /// whitelist: 40164, or 61004 (the platform's whitelist) for a token-service token.
    fn check_business_ip(&self, appid: &str, via_service: bool) -> Result<(), (i64, String)> {
        if !self.quirks.whitelist_on_business_calls {
            return Ok(());
        }
        let Some(list) = self
            .accounts
            .get(appid)
            .and_then(|a| a.spec.whitelist.as_ref())
        else {
            return Ok(());
        };
        if list.iter().any(|ip| ip == &self.caller_ip) {
            return Ok(());
        }
        let ip = &self.caller_ip;
        Err(if via_service {
            (
                61004,
                format!("access clientip is not registered requestIP: {ip}"),
            )
        } else {
            (
                40164,
                format!("invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist"),
            )
        })
    }

    fn check_credentials(&self, body: &Value) -> Result<(String, bool), (i64, String)> {
        if body.get("grant_type").and_then(Value::as_str) != Some("client_credential") {
            return err(40002, "invalid grant_type");
        }
        let appid = body
            .get("appid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let secret = body
            .get("secret")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(account) = self.accounts.get(appid) else {
            return err(40013, "invalid appid");
        };
        if account.spec.secret != secret {
            return err(40125, "invalid appsecret");
        }
        if let Some(list) = &account.spec.whitelist
            && !list.iter().any(|ip| ip == &self.caller_ip)
        {
            let ip = &self.caller_ip;
            return Err((
                40164,
                format!("invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist"),
            ));
        }
        if account.spec.risky_ip {
            return err(89503, "此次调用需要管理员确认，请耐心等候");
        }
        let force = match body.get("force_refresh") {
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        };
        Ok((appid.to_string(), force))
    }

    fn issue(&mut self, appid: &str, stable: bool) -> String {
        let token = format!("{}_{}", self.rng.token(100), self.rng.hex(12));
        let expires_at = self.now() + TOKEN_LIFETIME;
        self.tokens.insert(
            token.clone(),
            Token {
                appid: appid.to_string(),
                expires_at,
                revoked: false,
                stable,
                via_service: false,
            },
        );
        if stable && let Some(account) = self.accounts.get_mut(appid) {
            account.current_stable = Some(token.clone());
        }
        token
    }

    fn check_token(&self, token: Option<&str>) -> Result<(String, bool), (i64, String)> {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return err(41001, "access_token missing");
        };
        if token.len() > 512
            || !token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return err(40014, "invalid access_token");
        }
        match self.tokens.get(token) {
            Some(t) if t.revoked => err(
                40001,
                "invalid credential, access_token is invalid or not latest",
            ),
            Some(t) if t.expires_at <= self.now() => err(42001, "access_token expired"),
            Some(t) => Ok((t.appid.clone(), t.via_service)),
            None => err(
                40001,
                "invalid credential, access_token is invalid or not latest",
            ),
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

    fn rid_get(&self, body: &Value, now: u64) -> Result<Value, (i64, String)> {
        let rid = body.get("rid").and_then(Value::as_str).unwrap_or_default();
        let well_formed = rid.split('-').count() == 3
            && rid
                .split('-')
                .all(|g| g.len() == 8 && g.chars().all(|c| c.is_ascii_hexdigit()));
        if !well_formed {
            return err(76002, "rid error");
        }
        match self.rids.get(rid) {
            Some(e) if now < e.at + RID_KEPT => Ok(json!({"request": {
                "invoke_time": e.at,
                "cost_in_ms": 12,
                "request_url": e.url,
                "request_body": e.body,
                "response_body": e.response,
                "client_ip": e.ip,
            }})),
            _ => err(76001, "rid not found"),
        }
    }

    /// `{appid, article_id, idx, short, long}` for every item of every account.
    pub(crate) fn links(&self) -> Vec<Value> {
        self.accounts
            .iter()
            .flat_map(|(appid, a)| {
                a.messages.iter().flat_map(move |m| {
                    m.items.iter().enumerate().map(move |(i, item)| {
                        json!({"appid": appid, "article_id": m.article_id, "idx": i + 1, "short": item.url, "long": item.long_url, "cover": item.thumb_media_id, "title": item.title})
                    })
                })
            })
            .collect()
    }

    /// The public page of a short link, as a browser without cookies gets it: the article's
    /// long identity in `og:url` and script variables, or the notice that it was deleted.
    /// **[unverified]**: the real page's shape is not documented.
    pub(crate) fn article_page(&self, short_id: &str) -> String {
        let suffix = format!("/s/{short_id}");
        let item = self
            .accounts
            .values()
            .flat_map(|a| a.messages.iter())
            .flat_map(|m| m.items.iter())
            .find(|i| i.url.ends_with(&suffix));
        match item {
            Some(i) if i.is_deleted => "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title></title></head><body><div class=\"weui-msg\"><h2 class=\"weui-msg__title\">该内容已被发布者删除</h2></div></body></html>".into(),
            Some(i) => {
                let escaped = i.long_url.replace('&', "&amp;");
                // As the page's script has them: raw, not URL-decoded.
                let query = i.long_url.split(['?', '#']).nth(1).unwrap_or_default();
                let param = |name: &str| {
                    query
                        .split('&')
                        .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
                        .unwrap_or_default()
                        .to_string()
                };
                format!(
                    "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\n<meta property=\"og:title\" content=\"{title}\" />\n<meta property=\"og:url\" content=\"{escaped}\" />\n</head><body><h1 id=\"activity-name\">{title}</h1>\n<script>var biz = \"{biz}\"||\"\";\nvar sn = \"{sn}\" || \"\";\nvar mid = \"{mid}\" || \"\";\nvar idx = \"{idx}\" || \"\";\nvar msg_link = \"{escaped}\";</script>\n{content}</body></html>",
                    title = i.title,
                    biz = param("__biz"),
                    sn = param("sn"),
                    mid = param("mid"),
                    idx = param("idx"),
                    content = i.content,
                )
            }
            None => "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><p class=\"weui-msg__desc\">参数错误</p></body></html>".into(),
        }
    }

    pub(crate) fn account_mut(&mut self, appid: &str) -> Option<&mut Account> {
        self.accounts.get_mut(appid)
    }

    pub(crate) fn used_today(&self, appid: &str, path: &str) -> u32 {
        let day = self.day();
        self.accounts
            .get(appid)
            .and_then(|a| a.used.get(&(path.to_string(), day)))
            .copied()
            .unwrap_or(0)
    }
}

/// The permanent material id of an item's cover (derived, like the long link, without
/// touching the random stream).
pub fn cover_id(short_id: &str) -> String {
    let h = short_id.bytes().fold(0x8422_2325_cbf2_9ce4u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    format!("cover_{h:016x}{}", &short_id[..short_id.len().min(8)])
}

/// A long article link, derived from the account, the message and the short id (the random
/// stream that makes the sample data is not touched, so the data stays as it was).
pub fn long_link(appid: &str, serial: usize, idx: usize, short_id: &str) -> String {
    let hash = |text: &str| {
        text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        })
    };
    // base64 of a ten-digit number, as real `__biz` values are; this one holds a '+'.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = hash(appid);
    let biz: String = (0..10)
        .map(|k| ALPHABET[((b >> (k * 6)) & 63) as usize] as char)
        .collect();
    format!(
        "http://mp.weixin.qq.com/s?__biz=Mz{biz}+A==&mid={}&idx={idx}&sn={:016x}{:016x}&chksm={:08x}#rd",
        2_650_000_000u64 + serial as u64,
        hash(short_id),
        hash(&format!("{short_id}:sn")),
        hash(&format!("{short_id}:chk")) as u32
    )
}

impl Account {
    fn generate(spec: AccountSpec, now: u64) -> Self {
        let mut rng = Rng::new(spec.seed);
        let count = spec.messages;
        let messages = (0..count)
            .map(|serial| {
                // Oldest first, about one message every 30 hours, the newest a few hours ago.
                let age = (count - serial) as u64 * 30 * 3600 + rng.below(3600) as u64;
                SimMessage {
                    article_id: rng.token(43),
                    publish_id: format!("{}", 2_247_483_000u64 + serial as u64),
                    update_time: now.saturating_sub(age) as i64,
                    items: sample_message(&mut rng, serial)
                        .into_iter()
                        .enumerate()
                        .map(|(i, s)| {
                            let id = rng.token(22);
                            SimItem {
                                long_url: long_link(&spec.appid, serial, i + 1, &id),
                                thumb_media_id: cover_id(&id),
                                url: format!("https://mp.weixin.qq.com/s/{id}"),
                                title: s.title,
                                author: s.author,
                                digest: s.digest,
                                content: s.content,
                                is_deleted: false,
                                deleted_at: None,
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        Self {
            limits: QUOTA_DEFAULTS
                .iter()
                .map(|(p, l)| (p.to_string(), *l))
                .collect(),
            spec,
            messages,
            used: HashMap::new(),
            per_minute: HashMap::new(),
            current_stable: None,
            force_refreshes: Vec::new(),
            clear_quota_calls: Vec::new(),
            repeated_deletes: Vec::new(),
            deleted_materials: Vec::new(),
            drafts: Vec::new(),
            answers: 0,
        }
    }

    pub(crate) fn spec_mut(&mut self) -> &mut AccountSpec {
        &mut self.spec
    }

    pub(crate) fn set_limit(&mut self, path: &str, limit: u32) {
        self.limits.insert(path.to_string(), limit);
    }

    fn count_call(
        &mut self,
        path: &str,
        day: i64,
        minute: u64,
        minute_limit: u32,
    ) -> Result<(), (i64, String)> {
        let Some(&limit) = self.limits.get(path) else {
            return Ok(());
        };
        let used = self.used.entry((path.to_string(), day)).or_default();
        if *used >= limit {
            return err(45009, "reach max api daily quota limit");
        }
        let this_minute = self
            .per_minute
            .entry((path.to_string(), minute))
            .or_default();
        if *this_minute >= minute_limit {
            return err(
                45011,
                "api minute-quota reach limit, must slower, retry next minute",
            );
        }
        *used += 1;
        *this_minute += 1;
        Ok(())
    }

    fn find(&mut self, body: &Value) -> Result<&mut SimMessage, (i64, String)> {
        let id = body
            .get("article_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        self.messages
            .iter_mut()
            .find(|m| m.article_id == id)
            .ok_or((53600, "Article ID 无效".to_string()))
    }

    fn delete(&mut self, body: &Value, q: &Quirks, now: u64) -> Result<Value, (i64, String)> {
        let index = match body.get("index") {
            None | Some(Value::Null) => 0,
            Some(v) => match v.as_u64() {
                Some(n) => n as usize,
                None => {
                    return err(
                        47001,
                        "data format error: index must be a non-negative integer",
                    );
                }
            },
        };
        let message = self.find(body)?;
        let id = message.article_id.clone();
        if message.all_deleted() {
            self.repeated_deletes.push((id, index));
            return err(53600, "Article ID 无效");
        }
        if index == 0 {
            for item in message.items.iter_mut().filter(|i| !i.is_deleted) {
                item.is_deleted = true;
                item.deleted_at = Some(now);
            }
            return Ok(json!({"errcode": 0, "errmsg": "ok"}));
        }
        // With compacted positions, `index` counts only the items still live.
        let position = if q.compact_positions {
            message
                .items
                .iter()
                .enumerate()
                .filter(|(_, i)| !i.is_deleted)
                .nth(index - 1)
                .map(|(p, _)| p)
        } else {
            Some(index - 1).filter(|p| *p < message.items.len())
        };
        let Some(position) = position else {
            return err(53600, "invalid article index");
        };
        let item = &mut message.items[position];
        if item.is_deleted {
            self.repeated_deletes.push((id, position + 1));
            if let Some(code) = q.second_delete_errcode {
                return err(code, "article already deleted");
            }
            return Ok(json!({"errcode": 0, "errmsg": "ok"}));
        }
        item.is_deleted = true;
        item.deleted_at = Some(now);
        Ok(json!({"errcode": 0, "errmsg": "ok"}))
    }

    fn batchget(
        &mut self,
        body: &Value,
        q: &Quirks,
        now: u64,
        covers: &str,
    ) -> Result<Value, (i64, String)> {
        let (Some(offset), Some(count)) = (
            body.get("offset").and_then(Value::as_u64),
            body.get("count").and_then(Value::as_u64),
        ) else {
            return err(47001, "data format error: offset and count are required");
        };
        if !(1..=20).contains(&count) {
            return err(47001, "data format error: count must be 1..20");
        }
        let with_content = body.get("no_content").and_then(Value::as_u64) != Some(1);
        let mut visible: Vec<&SimMessage> = self
            .messages
            .iter()
            .filter(|m| !m.shows_all_deleted(q, now))
            .collect();
        if q.shuffled_list {
            // An order of its own, the same for every call.
            visible.sort_by_key(|m| {
                m.article_id.bytes().fold(0x811c_9dc5u32, |h, b| {
                    (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
                })
            });
        } else if q.oldest_first {
            visible.sort_by_key(|m| m.update_time);
        } else {
            visible.sort_by_key(|m| std::cmp::Reverse(m.update_time));
        }
        self.answers += 1;
        let answer = self.answers;
        let page: Vec<Value> = visible
            .iter()
            .skip(offset as usize)
            .take(count as usize)
            .map(|m| {
                let items = m.news_items(with_content, true, answer, q, now, covers);
                if q.nested_update_time {
                    json!({
                        "article_id": m.article_id,
                        "content": {"news_item": items, "create_time": m.update_time.to_string(), "update_time": m.update_time.to_string()},
                    })
                } else {
                    json!({
                        "article_id": m.article_id,
                        "content": {"news_item": items, "create_time": m.update_time, "update_time": m.update_time},
                        "update_time": m.update_time,
                    })
                }
            })
            .collect();
        Ok(json!({"total_count": visible.len(), "item_count": page.len(), "item": page}))
    }

    fn getarticle(
        &mut self,
        body: &Value,
        q: &Quirks,
        now: u64,
        covers: &str,
    ) -> Result<Value, (i64, String)> {
        self.answers += 1;
        let answer = self.answers;
        let message = self.find(body)?;
        if q.deleted_message_53600 && message.shows_all_deleted(q, now) {
            return err(53600, "Article ID 无效");
        }
        Ok(json!({"news_item": message.news_items(true, false, answer, q, now, covers)}))
    }

    fn publish_status(&mut self, body: &Value) -> Result<Value, (i64, String)> {
        let id = match body.get("publish_id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return err(47001, "data format error: publish_id is required"),
        };
        let Some(m) = self.messages.iter().find(|m| m.publish_id == id) else {
            return err(53600, "invalid publish_id");
        };
        let items: Vec<Value> = m
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| json!({"idx": i + 1, "article_url": it.url}))
            .collect();
        Ok(json!({
            "publish_id": m.publish_id,
            "publish_status": if m.all_deleted() { 5 } else { 0 },
            "article_id": m.article_id,
            "article_detail": {"count": items.len(), "item": items},
            "fail_idx": [],
        }))
    }

    fn quota(&self, body: &Value, day: i64, minute_limit: u32) -> Result<Value, (i64, String)> {
        let path = body
            .get("cgi_path")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !path.starts_with('/') {
            return err(76003, "cgi_path must start with /");
        }
        let Some(&limit) = self.limits.get(path) else {
            return err(76021, "cgi_path not found");
        };
        let used = self
            .used
            .get(&(path.to_string(), day))
            .copied()
            .unwrap_or(0);
        Ok(json!({
            "errcode": 0, "errmsg": "ok",
            "quota": {"daily_limit": limit, "used": used, "remain": limit.saturating_sub(used)},
            "rate_limit": {"call_count": minute_limit, "refresh_second": 60},
            "component_rate_limit": {"call_count": minute_limit, "refresh_second": 60},
        }))
    }

    /// `draft/add`: each article needs a title (at most 32 characters), content, and a cover
    /// that is a permanent image material of this account; author at most 16 characters,
    /// digest at most 128. The limits are WeChat's documented ones; the errcodes for them are
    /// **[unverified]** (45003 title, 45110 author, 45004 digest, 44004 empty content, 40007
    /// an invalid `thumb_media_id`, 44003 no articles).
    fn draft_add(&mut self, body: &Value) -> Result<Value, (i64, String)> {
        let Some(articles) = body.get("articles").and_then(Value::as_array) else {
            return err(47001, "data format error");
        };
        if articles.is_empty() {
            return err(44003, "empty news data");
        }
        let known = |id: &str| {
            !self.deleted_materials.iter().any(|d| d == id)
                && self
                    .messages
                    .iter()
                    .flat_map(|m| m.items.iter())
                    .any(|i| i.thumb_media_id == id)
        };
        for a in articles {
            let text = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or_default();
            if text("title").is_empty() || text("title").chars().count() > 32 {
                return err(45003, "title size out of limit");
            }
            if text("author").chars().count() > 16 {
                return err(45110, "author size out of limit");
            }
            if text("digest").chars().count() > 128 {
                return err(45004, "description size out of limit");
            }
            if text("content").trim().is_empty() {
                return err(44004, "empty content");
            }
            if !known(text("thumb_media_id")) {
                return err(40007, "invalid media_id");
            }
        }
        let media_id = format!("draft_{:04}_{}", self.drafts.len() + 1, articles.len());
        self.drafts
            .push((media_id.clone(), Value::Array(articles.clone())));
        Ok(json!({"media_id": media_id}))
    }

    fn clear_quota(&mut self, appid: &str, body: &Value, now: u64) -> Result<Value, (i64, String)> {
        if body.get("appid").and_then(Value::as_str) != Some(appid) {
            return err(40013, "invalid appid");
        }
        let month = beijing_month(now);
        self.clear_quota_calls
            .retain(|t| beijing_month(*t) == month);
        if self.clear_quota_calls.len() as u32 >= CLEAR_QUOTA_PER_MONTH {
            return err(48006, "forbid to clear quota because of reaching the limit");
        }
        self.clear_quota_calls.push(now);
        self.used.clear();
        self.per_minute.clear();
        Ok(json!({"errcode": 0, "errmsg": "ok"}))
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
