//! Access tokens: where they come from and how one account's token is cached.
//!
//! Invariants:
//! - `/cgi-bin/token` is never called (it invalidates the customer's own tokens);
//! - `stable_token` is called in normal mode only; [`force_refresh_stable_token`] is a separate,
//!   explicit function the app calls only on a user's request;
//! - the cache is single-flight: however many callers wait, one fetch runs at a time;
//! - a token is dropped only if it is the very token a failed call used (another caller may
//!   already have installed a newer one).

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::client::Client;
use crate::error::Error;

/// Wall-clock time, injected so tests can move it.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> SystemTime;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that only moves when told to.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    pub fn new(start: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Where an account's token comes from.
pub enum TokenSource {
    /// AppID + AppSecret through `stable_token` (normal mode).
    Stable { appid: String, secret: SecretString },
    /// A company token service or a third-party platform's service, answering
    /// `{"access_token","expires_in"}` to a GET, with an optional credential header.
    Service {
        url: Url,
        header: Option<(String, SecretString)>,
    },
    /// A token pasted by hand; `expires_at` when the user knows it.
    Fixed {
        token: SecretString,
        expires_at: Option<SystemTime>,
    },
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenSource::Stable { appid, .. } => f
                .debug_struct("Stable")
                .field("appid", appid)
                .field("secret", &"<redacted>")
                .finish(),
            TokenSource::Service { url, header } => f
                .debug_struct("Service")
                .field("host", &url.host_str())
                .field("header", &header.as_ref().map(|(n, _)| (n, "<redacted>")))
                .finish(),
            TokenSource::Fixed { expires_at, .. } => f
                .debug_struct("Fixed")
                .field("token", &"<redacted>")
                .field("expires_at", expires_at)
                .finish(),
        }
    }
}

/// A token and when it stops working. Cloning shares nothing mutable.
#[derive(Clone)]
pub struct AccessToken {
    value: SecretString,
    expires_at: Option<SystemTime>,
}

impl AccessToken {
    pub fn secret(&self) -> &SecretString {
        &self.value
    }

    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    fn same_as(&self, other: &AccessToken) -> bool {
        self.value.expose_secret() == other.value.expose_secret()
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("value", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    /// A third-party platform's token service may answer with its own field name.
    #[serde(alias = "authorizer_access_token")]
    access_token: SecretString,
    #[serde(default, deserialize_with = "lenient_seconds")]
    expires_in: Option<u64>,
}

/// `expires_in` as a number or a numeric string (token services are written by many hands).
fn lenient_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

#[derive(Serialize)]
struct StableTokenRequest<'a> {
    grant_type: &'static str,
    appid: &'a str,
    secret: &'a str,
    force_refresh: bool,
}

const MAX_TOKEN_LEN: usize = 512;
const MAX_LIFETIME: u64 = 7200;

async fn stable_token(
    client: &Client,
    appid: &str,
    secret: &SecretString,
    force_refresh: bool,
) -> Result<TokenAnswer, Error> {
    let body = StableTokenRequest {
        grant_type: "client_credential",
        appid,
        secret: secret.expose_secret(),
        force_refresh,
    };
    client.call_token("cgi-bin/stable_token", &body).await
}

/// Invalidates the account's stable token **for everyone** and returns a new one. At most 20 a
/// day, 30 s apart. Only for an explicit user action ("my token leaked").
pub async fn force_refresh_stable_token(
    client: &Client,
    appid: &str,
    secret: &SecretString,
    clock: &dyn Clock,
) -> Result<AccessToken, Error> {
    let answer = stable_token(client, appid, secret, true).await?;
    checked(answer, clock.now())
}

fn checked(answer: TokenAnswer, now: SystemTime) -> Result<AccessToken, Error> {
    let len = answer.access_token.expose_secret().len();
    if len == 0 || len > MAX_TOKEN_LEN {
        return Err(Error::Decode {
            detail: format!("the token answer holds a token of {len} characters"),
            excerpt: String::new(),
        });
    }
    let lifetime = answer.expires_in.unwrap_or(MAX_LIFETIME).min(MAX_LIFETIME);
    Ok(AccessToken {
        value: answer.access_token,
        expires_at: Some(now + Duration::from_secs(lifetime)),
    })
}

struct Cached {
    token: AccessToken,
    refresh_at: Option<SystemTime>,
}

/// One account's token: fetched on first use, reused until `margin` before expiry.
pub struct TokenCache {
    source: TokenSource,
    clock: Arc<dyn Clock>,
    margin: Duration,
    state: tokio::sync::Mutex<Option<Cached>>,
    /// A rejected pasted token stays rejected until the user pastes a new one.
    fixed_rejected: Mutex<bool>,
    fetches: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("source", &self.source)
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    /// The cache's clock (the API keeps other short-lived answers on it too).
    pub(crate) fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Refresh this long before expiry by default. WeChat's stable token overlaps old and new
    /// for 5 minutes, so a token refreshed 2 minutes early is never refused for age.
    pub const DEFAULT_MARGIN: Duration = Duration::from_secs(120);

    pub fn new(source: TokenSource, clock: Arc<dyn Clock>) -> Self {
        Self {
            source,
            clock,
            margin: Self::DEFAULT_MARGIN,
            state: tokio::sync::Mutex::new(None),
            fixed_rejected: Mutex::new(false),
            fetches: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    pub fn source(&self) -> &TokenSource {
        &self.source
    }

    /// How many times a token was fetched from the source (for tests and diagnostics).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A valid token, fetching one if none is cached or the cached one is due for refresh.
    pub async fn get(&self, client: &Client) -> Result<AccessToken, Error> {
        if let TokenSource::Fixed { token, expires_at } = &self.source {
            return self.fixed(token, *expires_at);
        }
        let mut state = self.state.lock().await;
        let now = self.clock.now();
        if let Some(cached) = state.as_ref()
            && cached.refresh_at.is_none_or(|at| now < at)
        {
            return Ok(cached.token.clone());
        }
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let token = self.fetch(client).await?;
        let refresh_at = token.expires_at.map(|exp| {
            // Never schedule a refresh before half the lifetime, even for a short-lived answer,
            // so a source that hands out nearly-expired tokens cannot make us fetch on every call.
            let lifetime = exp.duration_since(now).unwrap_or_default();
            exp - self.margin.min(lifetime / 2)
        });
        *state = Some(Cached {
            token: token.clone(),
            refresh_at,
        });
        Ok(token)
    }

    /// Forgets `used` if it is still the cached token; a newer one stays.
    pub async fn invalidate(&self, used: &AccessToken) {
        if matches!(self.source, TokenSource::Fixed { .. }) {
            *self
                .fixed_rejected
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = true;
            return;
        }
        let mut state = self.state.lock().await;
        if state.as_ref().is_some_and(|c| c.token.same_as(used)) {
            *state = None;
        }
    }

    fn fixed(
        &self,
        token: &SecretString,
        expires_at: Option<SystemTime>,
    ) -> Result<AccessToken, Error> {
        let rejected = *self
            .fixed_rejected
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let expired = expires_at.is_some_and(|at| self.clock.now() >= at);
        if rejected || expired {
            return Err(Error::FixedTokenExpired);
        }
        Ok(AccessToken {
            value: token.clone(),
            expires_at,
        })
    }

    async fn fetch(&self, client: &Client) -> Result<AccessToken, Error> {
        let answer = match &self.source {
            TokenSource::Stable { appid, secret } => {
                stable_token(client, appid, secret, false).await?
            }
            TokenSource::Service { url, header } => {
                let header = header.as_ref().map(|(n, v)| (n.as_str(), v));
                client.call_absolute(url.clone(), header).await?
            }
            TokenSource::Fixed { .. } => return Err(Error::FixedTokenExpired),
        };
        checked(answer, self.clock.now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_platform_token_service_answer_is_accepted() {
        let answer: TokenAnswer = crate::client::parse_answer(
            200,
            br#"{"authorizer_access_token":"PLATFORMTOKEN","expires_in":"7200","authorizer_refresh_token":"R"}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let now = SystemTime::UNIX_EPOCH;
        let token = checked(answer, now).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(token.secret().expose_secret(), "PLATFORMTOKEN");
        assert_eq!(token.expires_at(), Some(now + Duration::from_secs(7200)));
    }
}
