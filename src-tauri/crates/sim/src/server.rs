//! The HTTP face of the simulator: routing, fault injection, the request log, rids on errors.
//!
//! Every request is logged (token values masked) before anything else happens, so a test can
//! prove what reached "WeChat" — including requests the simulator then answered with a fault.
//! Unknown paths answer loudly (HTTP 404 and a log entry marked `unexpected`).

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::world::{Call, World};

/// A fault the next matching request(s) get instead of (or on top of) the normal answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// No fault: this request goes through as usual (to queue a fault for a later one).
    Pass,
    /// `errcode: -1` "system busy"; nothing is applied.
    Busy,
    /// Any errcode, e.g. 45011 or 42001; nothing is applied.
    Errcode { code: i64 },
    /// HTTP 502 with an HTML page, as a gateway answers; nothing is applied.
    BadGateway,
    /// HTTP 200 with a body cut in the middle; the call **is** applied.
    MalformedJson,
    /// The call is applied, then the connection breaks before the answer is complete.
    LoseResponse,
    /// The connection breaks and the call is **not** applied (lost on the way in).
    DropUnapplied,
    /// The call is applied, then the answer waits `millis` (past the client's timeout).
    Delay { millis: u64 },
    /// Something in the middle (a relay, a proxy, a captive portal) answers `body` with
    /// `status` — `{}`, JSON without `errcode`, an HTML page, a cut body, an empty page. With
    /// `applied` the call reached WeChat first (and WeChat's own answer was lost).
    Answer {
        status: u16,
        body: String,
        #[serde(default)]
        applied: bool,
    },
}

/// One request as the simulator saw it. Token values are masked as `***`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    pub body: String,
    /// A path the simulator does not serve.
    pub unexpected: bool,
}

impl LoggedRequest {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Faults {
    once: HashMap<String, VecDeque<Fault>>,
    latency: HashMap<String, Duration>,
    latency_all: Duration,
}

impl Faults {
    pub(crate) fn push(&mut self, path: &str, fault: Fault, times: usize) {
        let queue = self.once.entry(path.to_string()).or_default();
        queue.extend(std::iter::repeat_n(fault, times));
    }

    pub(crate) fn clear(&mut self) {
        self.once.clear();
    }

    pub(crate) fn set_latency(&mut self, path: Option<&str>, latency: Duration) {
        match path {
            Some(p) => {
                self.latency.insert(p.to_string(), latency);
            }
            None => self.latency_all = latency,
        }
    }

    fn take(&mut self, path: &str) -> (Option<Fault>, Duration) {
        let fault = self.once.get_mut(path).and_then(VecDeque::pop_front);
        let latency = self.latency.get(path).copied().unwrap_or(self.latency_all);
        (fault, latency)
    }
}

pub(crate) struct Shared {
    pub world: Mutex<World>,
    pub log: Mutex<Vec<LoggedRequest>>,
    /// Cover images served (kept apart: they are not API calls).
    pub covers: Mutex<Vec<LoggedRequest>>,
    pub faults: Mutex<Faults>,
    /// The `Host` values this server answers to: its own loopback address only, so a web page
    /// cannot reach it through DNS rebinding.
    pub hosts: Vec<String>,
    /// Whether `/_sim/*` control endpoints are served.
    pub control: bool,
}

pub(crate) type AppState = Arc<Shared>;

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

const SERVED: &[&str] = &[
    "/cgi-bin/stable_token",
    "/cgi-bin/token",
    "/cgi-bin/freepublish/delete",
    "/cgi-bin/freepublish/batchget",
    "/cgi-bin/freepublish/getarticle",
    "/cgi-bin/freepublish/get",
    "/cgi-bin/openapi/quota/get",
    "/cgi-bin/clear_quota",
    "/cgi-bin/draft/add",
    "/cgi-bin/openapi/rid/get",
    "/cgi-bin/get_api_domain_ip",
    "/_sim/token-service",
];

pub(crate) fn router(state: AppState) -> axum::Router {
    let control = axum::Router::new()
        .route("/_sim/requests", axum::routing::get(requests))
        .route("/_sim/links", axum::routing::get(links))
        .route("/_sim/drafts", axum::routing::get(drafts))
        .route("/_sim/advance", axum::routing::post(advance))
        .route("/_sim/fault", axum::routing::post(inject))
        .route("/_sim/configure", axum::routing::post(configure));
    let app = if state.control {
        control
    } else {
        axum::Router::new()
    };
    let app = app.route(
        &format!("{}{{file}}", crate::covers::PATH),
        axum::routing::get(serve_cover),
    );
    app.fallback(handle)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&state),
            only_own_host,
        ))
        .with_state(state)
}

/// A cover image (`/mmbiz/<id>.png`), logged apart from the API calls.
async fn serve_cover(
    State(state): State<AppState>,
    Path(file): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    // Logged apart from the API calls, with the referrer (if any) in the body: tests check
    // none is sent.
    let referrer = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    lock(&state.covers).push(LoggedRequest {
        method: "GET".into(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
        body: referrer.to_string(),
        unexpected: false,
    });
    let broken = lock(&state.world).quirks.broken_covers;
    let Some(id) = file.strip_suffix(".png") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if broken || !id.starts_with("cover_") {
        return StatusCode::NOT_FOUND.into_response();
    }
    match crate::covers::picture(id) {
        Ok(png) => ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// Answers only requests addressed to this server's own loopback address (`Host` checked).
/// A request in absolute form (`POST http://host/path`) comes from a proxy client — the
/// client tests use the simulator as a forward proxy — never from a web page.
async fn only_own_host(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let proxied = request.uri().authority().is_some();
    if !proxied && !state.hosts.iter().any(|h| h == host) {
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "wechat-sim answers only on its own loopback address",
        )
            .into_response();
    }
    next.run(request).await
}

async fn requests(State(state): State<AppState>) -> impl IntoResponse {
    axum::Json(lock(&state.log).clone())
}

/// Every account's drafts made through `draft/add`.
async fn drafts(State(state): State<AppState>) -> impl IntoResponse {
    let world = lock(&state.world);
    let all: Vec<Value> = world
        .accounts
        .iter()
        .flat_map(|(appid, a)| {
            a.drafts.iter().map(
                move |(id, articles)| json!({"appid": appid, "media_id": id, "articles": articles}),
            )
        })
        .collect();
    axum::Json(all)
}

/// Every item's two links (short and long), for tests that paste links as operators do.
async fn links(State(state): State<AppState>) -> impl IntoResponse {
    let world = lock(&state.world);
    axum::Json(world.links())
}

#[derive(Deserialize)]
struct Advance {
    seconds: u64,
}

async fn advance(
    State(state): State<AppState>,
    axum::Json(a): axum::Json<Advance>,
) -> impl IntoResponse {
    lock(&state.world).clock_offset += Duration::from_secs(a.seconds);
    axum::Json(json!({"ok": true}))
}

#[derive(Deserialize)]
struct Inject {
    path: String,
    fault: Fault,
    #[serde(default = "one")]
    times: usize,
}

fn one() -> usize {
    1
}

async fn inject(
    State(state): State<AppState>,
    axum::Json(i): axum::Json<Inject>,
) -> impl IntoResponse {
    lock(&state.faults).push(&i.path, i.fault, i.times);
    axum::Json(json!({"ok": true}))
}

/// Changes an account's setup over HTTP, for tests that run the simulator as a process.
#[derive(Deserialize)]
struct Configure {
    appid: Option<String>,
    /// `Some(null)` clears the whitelist; absent leaves it.
    #[serde(default, with = "double_option")]
    whitelist: Option<Option<Vec<String>>>,
    verified: Option<bool>,
    risky_ip: Option<bool>,
    caller_ip: Option<String>,
    delete_daily_limit: Option<u32>,
    /// A permanent material deleted from the library since (a cover `draft/add` refuses).
    delete_material: Option<String>,
    /// The world's answers where WeChat's documentation is silent.
    quirks: Option<crate::world::Quirks>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

async fn configure(
    State(state): State<AppState>,
    axum::Json(c): axum::Json<Configure>,
) -> Response {
    let mut world = lock(&state.world);
    if let Some(ip) = c.caller_ip {
        world.caller_ip = ip;
    }
    if let Some(quirks) = c.quirks {
        world.quirks = quirks;
    }
    if let Some(appid) = c.appid {
        let Some(account) = world.account_mut(&appid) else {
            return (
                StatusCode::NOT_FOUND,
                axum::Json(json!({"error": format!("no account {appid}")})),
            )
                .into_response();
        };
        if let Some(limit) = c.delete_daily_limit {
            account.set_limit("/cgi-bin/freepublish/delete", limit);
        }
        if let Some(id) = c.delete_material {
            account.deleted_materials.push(id);
        }
        let spec = account.spec_mut();
        if let Some(list) = c.whitelist {
            spec.whitelist = list;
        }
        if let Some(v) = c.verified {
            spec.verified = v;
        }
        if let Some(r) = c.risky_ip {
            spec.risky_ip = r;
        }
    }
    axum::Json(json!({"ok": true})).into_response()
}

fn query_param<'a>(query: &'a str, key: &str) -> Option<std::borrow::Cow<'a, str>> {
    url_pairs(query).find(|(k, _)| k == key).map(|(_, v)| v)
}

fn url_pairs(
    query: &str,
) -> impl Iterator<Item = (std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)> {
    query.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (percent_decode(k), percent_decode(v))
    })
}

fn percent_decode(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('%') && !s.contains('+') {
        return std::borrow::Cow::Borrowed(s);
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    std::borrow::Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// The query with every `access_token` value replaced by `***`.
fn masked_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if k == "access_token" || k == "secret" => format!("{k}=***"),
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The body with a `secret` field masked (stable_token carries the AppSecret).
fn masked_body(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(Value::Object(mut map)) => {
            for key in ["secret", "access_token"] {
                if map.contains_key(key) {
                    map.insert(key.into(), Value::String("***".into()));
                }
            }
            Value::Object(map).to_string()
        }
        _ => body.to_string(),
    }
}

/// Once a request has fully arrived it is processed to the end, even if the caller goes away
/// meanwhile (a killed client must not un-send a delete): the work runs in its own task.
async fn handle(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    tokio::spawn(process(state, method, uri, headers, body))
        .await
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn process(
    state: AppState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let query = uri.query().unwrap_or_default().to_string();
    let raw_body = String::from_utf8_lossy(&body).into_owned();
    // A short link's public page (mp.weixin.qq.com in the real world).
    let page = path
        .strip_prefix("/s/")
        .filter(|id| method == Method::GET && !id.is_empty())
        .map(str::to_string);
    let served = SERVED.contains(&path.as_str()) || page.is_some();
    lock(&state.log).push(LoggedRequest {
        method: method.to_string(),
        path: path.clone(),
        query: masked_query(&query),
        body: masked_body(&raw_body),
        unexpected: !served,
    });
    if !served {
        return (
            StatusCode::NOT_FOUND,
            axum::Json(
                json!({"errcode": 40066, "errmsg": format!("wechat-sim does not serve {path}")}),
            ),
        )
            .into_response();
    }
    if path == "/_sim/token-service" {
        let key = headers
            .get("x-token-key")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if key != lock(&state.world).token_service_key {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"error": "missing or wrong X-Token-Key"})),
            )
                .into_response();
        }
    }

    let (fault, latency) = lock(&state.faults).take(&path);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match fault {
        Some(Fault::DropUnapplied) => return broken_response(),
        Some(Fault::Busy) => {
            return error_answer(&state, &path, &query, &raw_body, -1, "system error");
        }
        Some(Fault::Errcode { code }) => {
            return error_answer(&state, &path, &query, &raw_body, code, "injected error");
        }
        Some(Fault::Answer {
            status,
            ref body,
            applied: false,
        }) => return relay_answer(status, body),
        Some(Fault::BadGateway) => {
            return (
                StatusCode::BAD_GATEWAY,
                [(header::CONTENT_TYPE, "text/html")],
                "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
            )
                .into_response();
        }
        _ => {}
    }
    if let Some(id) = page {
        let html = lock(&state.world).article_page(&id);
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response();
    }

    let parsed: Value = if raw_body.trim().is_empty() {
        Value::Object(Default::default())
    } else {
        match serde_json::from_str(&raw_body) {
            Ok(v) => v,
            Err(_) => {
                return error_answer(&state, &path, &query, &raw_body, 47001, "data format error");
            }
        }
    };
    // The plain token endpoint takes its parameters from the query string.
    let parsed = if path == "/cgi-bin/token" {
        json!({
            "grant_type": query_param(&query, "grant_type"),
            "appid": query_param(&query, "appid"),
            "secret": query_param(&query, "secret"),
        })
    } else {
        parsed
    };
    let token = query_param(&query, "access_token").map(|t| t.into_owned());
    // What `rid/get` returns holds the request as WeChat saw it, token and secret included
    // (WeChat's own example shows `access_token=` in `request_url`): the app must not pass it on.
    let url_for_log = format!("https://api.weixin.qq.com{path}?{query}");
    let answer = {
        let mut world = lock(&state.world);
        let call = Call {
            path: &path,
            token: token.as_deref(),
            body: &parsed,
            url_for_log: &url_for_log,
            raw_body: &raw_body,
        };
        match world.answer(&call) {
            Ok(v) => v,
            Err((code, msg)) => {
                let rid = world.new_rid();
                let v = json!({"errcode": code, "errmsg": format!("{msg} rid: {rid}")});
                world.record_rid(&rid, &call, &v.to_string());
                v
            }
        }
    };
    let text = answer.to_string();
    match fault {
        Some(Fault::MalformedJson) => {
            // Cut in the middle, on a character boundary (the body holds Chinese text).
            let mut cut = text.len() / 2;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            json_response(text[..cut].to_string())
        }
        Some(Fault::LoseResponse) => broken_response(),
        Some(Fault::Answer { status, body, .. }) => relay_answer(status, &body),
        Some(Fault::Delay { millis }) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            json_response(text)
        }
        _ => json_response(text),
    }
}

/// Headers, then a body that breaks: the client sees the connection cut mid-answer.
fn broken_response() -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::new(BrokenBody))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn relay_answer(status: u16, body: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    (status, body.to_string()).into_response()
}

fn json_response(text: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        text,
    )
        .into_response()
}

fn error_answer(
    state: &AppState,
    path: &str,
    query: &str,
    raw_body: &str,
    code: i64,
    msg: &str,
) -> Response {
    let mut world = lock(&state.world);
    let rid = world.new_rid();
    let v = json!({"errcode": code, "errmsg": format!("{msg} rid: {rid}")});
    let url = format!("https://api.weixin.qq.com{path}?{query}");
    let body = raw_body.to_string();
    let call = Call {
        path,
        token: None,
        body: &Value::Null,
        url_for_log: &url,
        raw_body: &body,
    };
    world.record_rid(&rid, &call, &v.to_string());
    json_response(v.to_string())
}

/// A body that fails as soon as it is read: hyper cuts the connection mid-answer.
struct BrokenBody;

impl http_body::Body for BrokenBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "wechat-sim: response lost on purpose",
        ))))
    }
}
