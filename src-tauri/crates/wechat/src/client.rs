//! The HTTP layer: one shared reqwest client per configuration and the one response path.
//!
//! Invariants:
//! - the API base is HTTPS, except for loopback hosts (the simulator, a local relay);
//! - every answer goes through [`parse_answer`]: HTTP status first, then WeChat's `errcode`
//!   (which arrives with HTTP 200), then the typed body;
//! - the access token is added to the query here and nowhere else, and no URL leaves this module.

use std::time::Duration;

use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{ApiError, Error, excerpt};

pub const DEFAULT_API_BASE: &str = "https://api.weixin.qq.com";

/// The largest answer read from the API (a `getarticle` with its HTML is far smaller).
pub const API_ANSWER_LIMIT: usize = 16 * 1024 * 1024;
/// The largest answer read from a token endpoint or token service.
pub const TOKEN_ANSWER_LIMIT: usize = 64 * 1024;
/// The most read of a public article page (real ones are a few hundred KiB to a few MiB).
pub const PAGE_LIMIT: usize = 8 * 1024 * 1024;
/// The largest cover image read (WeChat's covers are well under 1 MiB).
pub const IMAGE_LIMIT: usize = 4 * 1024 * 1024;

/// How to reach the API. Built by the caller, checked by [`Client::new`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://api.weixin.qq.com`, a company relay, or the simulator on loopback.
    pub api_base: String,
    /// An explicit proxy for all traffic to non-loopback hosts (`http://` or `https://`).
    /// Without it the standard `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY` variables apply.
    /// Loopback destinations never go through a proxy (see [`Client`]).
    pub proxy: Option<String>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            api_base: DEFAULT_API_BASE.to_string(),
            proxy: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl ClientConfig {
    pub fn with_base(api_base: impl Into<String>) -> Self {
        Self {
            api_base: api_base.into(),
            ..Self::default()
        }
    }
}

/// A cheap-to-clone handle on the reqwest clients (connection pools shared by all clones).
///
/// Two clients: `http` honours the configured or system proxy; `direct` uses none and carries
/// every request to a loopback host. Plain HTTP is allowed only to loopback, where the other end
/// is on this machine (an SSH tunnel to a whitelisted relay, the simulator); sent through a
/// proxy, that clear text (the AppSecret, every token) would leave the machine.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    direct: reqwest::Client,
    base: Url,
}

/// True for `localhost`, 127.0.0.0/8 and ::1: the only hosts allowed over plain HTTP.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Checks a URL the user typed for an API base, a token service or a proxy.
/// `what` names the field in the error message.
pub fn check_url(raw: &str, what: &str, allow_http_proxy: bool) -> Result<Url, Error> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::InvalidInput(format!("{what} is not a valid URL ({e})")))?;
    if url.host().is_none() {
        return Err(Error::InvalidInput(format!("{what} has no host name")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::InvalidInput(format!(
            "{what} must not contain a user name or password"
        )));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_http_proxy || is_loopback(&url) => Ok(url),
        "http" => Err(Error::InvalidInput(format!(
            "{what} must use https:// (plain http is only allowed for 127.0.0.1 / localhost)"
        ))),
        other => Err(Error::InvalidInput(format!(
            "{what} uses the unsupported scheme {other}:// (use https://)"
        ))),
    }
}

impl Client {
    pub fn new(config: &ClientConfig) -> Result<Self, Error> {
        let mut base = check_url(&config.api_base, "the API base URL", false)?;
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let builder = || {
            reqwest::Client::builder()
                .connect_timeout(config.connect_timeout)
                .timeout(config.request_timeout)
                .user_agent(concat!("Retract/", env!("CARGO_PKG_VERSION")))
                .redirect(reqwest::redirect::Policy::none())
        };
        let set_up = |b: reqwest::ClientBuilder| {
            b.build()
                .map_err(|e| Error::InvalidInput(format!("cannot set up HTTPS ({e})")))
        };
        // rustls's provider, once per process (reqwest is built without a default one).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let direct = set_up(builder().no_proxy())?;
        let mut builder = builder();
        if let Some(proxy) = config.proxy.as_deref().filter(|p| !p.trim().is_empty()) {
            let proxy_url = check_url(proxy, "the proxy URL", true)?;
            let proxy = reqwest::Proxy::all(proxy_url.as_str())
                .map_err(|e| Error::InvalidInput(format!("the proxy URL is not usable ({e})")))?;
            builder = builder.proxy(proxy);
        }
        let http = set_up(builder)?;
        Ok(Self { http, direct, base })
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    /// Sends one request to `path` (relative to the base, e.g. `cgi-bin/freepublish/delete`)
    /// and decodes the answer. No retries here: policy lives in [`crate::Api`].
    pub(crate) async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&SecretString>,
        body: Option<&B>,
    ) -> Result<T, Error> {
        let url = self.url(path)?;
        let (answer, _) = self
            .send(method, url, token, body, None, API_ANSWER_LIMIT)
            .await?;
        Ok(answer)
    }

    /// A call to a token endpoint (`stable_token`): its answer is small, so it is capped small.
    pub(crate) async fn call_token<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        let url = self.url(path)?;
        let (answer, _) = self
            .send(
                Method::POST,
                url,
                None,
                Some(body),
                None,
                TOKEN_ANSWER_LIMIT,
            )
            .await?;
        Ok(answer)
    }

    /// As [`Self::call`], and also the body exactly as it was received (for the archive).
    pub(crate) async fn call_keeping_raw<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        token: Option<&SecretString>,
        body: Option<&B>,
    ) -> Result<(T, String), Error> {
        let url = self.url(path)?;
        self.send(method, url, token, body, None, API_ANSWER_LIMIT)
            .await
    }

    /// A request to an absolute URL (a token service) with an optional credential header.
    pub(crate) async fn call_absolute<T: DeserializeOwned>(
        &self,
        url: Url,
        header: Option<(&str, &SecretString)>,
    ) -> Result<T, Error> {
        let (answer, _) = self
            .send::<(), T>(Method::GET, url, None, None, header, TOKEN_ANSWER_LIMIT)
            .await?;
        Ok(answer)
    }

    /// Reads a public web page (an article page) as text: GET, no token, no cookies, no
    /// redirects followed, at most [`PAGE_LIMIT`] bytes. Any status but 200 is an error.
    pub async fn fetch_page(&self, url: Url) -> Result<String, Error> {
        let log_path = format!("{}{}", url.host_str().unwrap_or_default(), url.path());
        let http = if is_loopback(&url) {
            &self.direct
        } else {
            &self.http
        };
        let started = std::time::Instant::now();
        let mut response = http.get(url).send().await.map_err(Error::from_reqwest)?;
        let status = response.status().as_u16();
        let body = read_capped(&mut response, PAGE_LIMIT).await?;
        tracing::info!(path = %log_path, status, bytes = body.len(), ms = started.elapsed().as_millis() as u64, "article page read");
        if status != 200 {
            return Err(Error::HttpStatus {
                status,
                excerpt: excerpt(&body),
            });
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// Reads a public image (an article's cover) as bytes: GET, no token, no cookies, no
    /// referrer, no redirects followed, at most [`IMAGE_LIMIT`] bytes. Any status but 200 is
    /// an error.
    pub async fn fetch_image(&self, url: Url) -> Result<Vec<u8>, Error> {
        let log_path = format!("{}{}", url.host_str().unwrap_or_default(), url.path());
        let http = if is_loopback(&url) {
            &self.direct
        } else {
            &self.http
        };
        let mut response = http.get(url).send().await.map_err(Error::from_reqwest)?;
        let status = response.status().as_u16();
        let body = read_capped(&mut response, IMAGE_LIMIT).await?;
        tracing::debug!(path = %log_path, status, bytes = body.len(), "cover read");
        if status != 200 {
            return Err(Error::HttpStatus {
                status,
                excerpt: String::new(),
            });
        }
        Ok(body)
    }

    fn url(&self, path: &str) -> Result<Url, Error> {
        self.base
            .join(path.trim_start_matches('/'))
            .map_err(|e| Error::InvalidInput(format!("bad API path ({e})")))
    }

    async fn send<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        mut url: Url,
        token: Option<&SecretString>,
        body: Option<&B>,
        header: Option<(&str, &SecretString)>,
        limit: usize,
    ) -> Result<(T, String), Error> {
        // The path only: the query holds the token.
        let log_path = format!("{}{}", url.host_str().unwrap_or_default(), url.path());
        if let Some(token) = token {
            url.query_pairs_mut()
                .append_pair("access_token", token.expose_secret());
        }
        let http = if is_loopback(&url) {
            &self.direct
        } else {
            &self.http
        };
        let mut request = http.request(method, url);
        if let Some(body) = body {
            // serde_json writes UTF-8 as is (no \u escapes), so Chinese text round-trips.
            let bytes = serde_json::to_vec(body)
                .map_err(|e| Error::InvalidInput(format!("cannot encode the request ({e})")))?;
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes);
        }
        if let Some((name, value)) = header {
            let mut value =
                reqwest::header::HeaderValue::from_str(value.expose_secret()).map_err(|_| {
                    Error::InvalidInput(
                        "the token service credential has invalid characters".into(),
                    )
                })?;
            value.set_sensitive(true);
            request = request.header(name, value);
        }
        let started = std::time::Instant::now();
        let sent = request.send().await.map_err(Error::from_reqwest);
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => {
                // Transport errors carry no URL (`Error::from_reqwest`).
                tracing::warn!(path = %log_path, error = %e, ms = started.elapsed().as_millis() as u64, "API call failed before an answer");
                return Err(e);
            }
        };
        let status = response.status().as_u16();
        let body = read_capped(&mut response, limit).await?;
        let answer = parse_answer(status, &body);
        log_call(&log_path, status, &answer, started.elapsed());
        let answer = answer?;
        // parse_answer accepted it as JSON, so it is UTF-8.
        Ok((answer, String::from_utf8_lossy(&body).into_owned()))
    }
}

/// The body, capped by the announced length and again while reading (a relay may not announce).
async fn read_capped(response: &mut reqwest::Response, limit: usize) -> Result<Vec<u8>, Error> {
    let too_large = || Error::Decode {
        detail: format!(
            "the answer is larger than {} KiB, more than any WeChat answer; it was not read",
            limit / 1024
        ),
        excerpt: String::new(),
    };
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Error::from_reqwest)? {
        if body.len() + chunk.len() > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// One line per API call for the operator's log: host and path, HTTP status, errcode, rid and
/// duration — never the query (it holds the token), a header or a body.
fn log_call<T>(path: &str, status: u16, answer: &Result<T, Error>, took: Duration) {
    let ms = took.as_millis() as u64;
    match answer {
        Ok(_) => tracing::info!(path, status, errcode = 0, ms, "API call"),
        Err(Error::Api(api)) => tracing::info!(
            path,
            status,
            errcode = api.code,
            rid = api.rid.as_deref(),
            ms,
            "API call"
        ),
        // The kind only: an excerpt of a relay's body has no place in the log.
        Err(Error::Decode { .. }) => {
            tracing::warn!(
                path,
                status,
                ms,
                "API call: the answer could not be decoded"
            )
        }
        Err(_) => tracing::warn!(path, status, ms, "API call: not a WeChat answer"),
    }
}

/// The one response path: status, then `errcode`, then the typed body.
pub fn parse_answer<T: DeserializeOwned>(status: u16, body: &[u8]) -> Result<T, Error> {
    if !(200..300).contains(&status) {
        return Err(Error::HttpStatus {
            status,
            excerpt: excerpt(body),
        });
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| Error::Decode {
        detail: format!("not JSON: {e}"),
        excerpt: excerpt(body),
    })?;
    if let Some(code) = errcode(&value)?
        && code != 0
    {
        let message = value
            .get("errmsg")
            .and_then(|m| m.as_str())
            .unwrap_or_default();
        return Err(Error::Api(ApiError::new(code, message)));
    }
    serde_json::from_value(value).map_err(|e| Error::Decode {
        detail: format!("unexpected shape: {e}"),
        excerpt: excerpt(body),
    })
}

/// The answer to a write (`delete`, `clear_quota`). WeChat always answers a write with
/// `errcode`; a body without it (`{}`, a relay's own JSON) proves nothing, so only an explicit
/// `errcode: 0` (number or string) decodes. Anything else is a decode error, which for a delete
/// means "outcome unknown", never success.
#[derive(Debug)]
pub(crate) struct WriteAck;

impl<'de> serde::Deserialize<'de> for WriteAck {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        match value.get("errcode") {
            Some(serde_json::Value::Number(n)) if n.as_i64() == Some(0) => Ok(WriteAck),
            Some(serde_json::Value::String(s)) if s.trim() == "0" => Ok(WriteAck),
            _ => Err(serde::de::Error::custom(
                "the answer to a write holds no errcode 0, so it does not confirm the write",
            )),
        }
    }
}

/// `errcode` as a number or a numeric string; absent means success (token answers have none).
fn errcode(value: &serde_json::Value) -> Result<Option<i64>, Error> {
    match value.get("errcode") {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| bad_code(value)),
        Some(serde_json::Value::String(s)) => {
            s.trim().parse().map(Some).map_err(|_| bad_code(value))
        }
        Some(_) => Err(bad_code(value)),
    }
}

fn bad_code(value: &serde_json::Value) -> Error {
    Error::Decode {
        detail: "errcode is not a number".into(),
        excerpt: excerpt(value.to_string().as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Token {
        access_token: String,
        expires_in: u32,
    }

    #[test]
    fn missing_errcode_is_success_and_unknown_fields_are_ignored() {
        let t: Token = parse_answer(
            200,
            br#"{"access_token":"T","expires_in":345,"new_field":[1]}"#,
        )
        .unwrap();
        assert_eq!(t.expires_in, 345);
    }

    #[test]
    fn errcode_zero_as_number_or_string_is_success() {
        let body = br#"{"errcode":"0","errmsg":"ok","access_token":"T","expires_in":1}"#;
        assert!(parse_answer::<Token>(200, body).is_ok());
        let body = br#"{"errcode":0,"access_token":"T","expires_in":1}"#;
        assert!(parse_answer::<Token>(200, body).is_ok());
    }

    #[test]
    fn string_errcode_is_an_api_error_with_rid() {
        let body = br#"{"errcode":"45009","errmsg":"reach max api daily quota limit rid: 6a1d7d64-1a5c7d64-18ff931f"}"#;
        let err = parse_answer::<Token>(200, body).unwrap_err();
        let api = err.api().unwrap();
        assert_eq!(api.code, 45009);
        assert_eq!(api.rid.as_deref(), Some("6a1d7d64-1a5c7d64-18ff931f"));
    }

    #[test]
    fn a_write_is_confirmed_only_by_an_explicit_errcode_zero() {
        assert!(parse_answer::<WriteAck>(200, br#"{"errcode":0,"errmsg":"ok"}"#).is_ok());
        assert!(parse_answer::<WriteAck>(200, br#"{"errcode":"0"}"#).is_ok());
        for body in [
            &br#"{}"#[..],
            br#"{"errmsg":"ok"}"#,
            br#"{"errcode":null}"#,
            br#"{"ok":true,"relay":"forwarded"}"#,
            br#"[]"#,
        ] {
            let err = parse_answer::<WriteAck>(200, body).unwrap_err();
            assert!(
                matches!(err, Error::Decode { .. }),
                "{} gave {err:?}",
                String::from_utf8_lossy(body)
            );
        }
        // A non-zero code is still WeChat's error, not a decode error.
        let err = parse_answer::<WriteAck>(200, br#"{"errcode":48001,"errmsg":"x"}"#).unwrap_err();
        assert_eq!(err.api().map(|a| a.code), Some(48001));
    }

    #[test]
    fn html_gateway_page_is_a_status_error_with_an_excerpt() {
        let err = parse_answer::<Token>(502, b"<html><body>Bad Gateway</body></html>").unwrap_err();
        match err {
            Error::HttpStatus { status, excerpt } => {
                assert_eq!(status, 502);
                assert!(excerpt.contains("Bad Gateway"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_json_is_a_decode_error_keeping_the_start() {
        let err = parse_answer::<Token>(200, br#"{"access_token":"abc"#).unwrap_err();
        assert!(
            matches!(err, Error::Decode { ref excerpt, .. } if excerpt.starts_with("{\"access"))
        );
    }

    #[test]
    fn plain_http_is_refused_except_on_loopback() {
        assert!(check_url("http://api.example.com", "x", false).is_err());
        assert!(check_url("http://127.0.0.1:8787", "x", false).is_ok());
        assert!(check_url("http://[::1]:8787", "x", false).is_ok());
        assert!(check_url("http://localhost:1", "x", false).is_ok());
        assert!(check_url("https://relay.example.com/wx", "x", false).is_ok());
        assert!(check_url("ftp://relay.example.com", "x", false).is_err());
        assert!(check_url("https://user:pw@relay.example.com", "x", false).is_err());
        assert!(check_url("http://proxy.corp:3128", "x", true).is_ok());
    }

    #[test]
    fn base_path_of_a_relay_is_kept() {
        let c = Client::new(&ClientConfig::with_base("https://relay.example.com/wx")).unwrap();
        assert_eq!(
            c.url("/cgi-bin/stable_token").unwrap().as_str(),
            "https://relay.example.com/wx/cgi-bin/stable_token"
        );
    }
}
