//! The one error type of the client, and how WeChat's numeric codes are classified.
//!
//! Invariants: no variant holds a URL, an access token or an AppSecret. Transport errors are
//! turned into [`Error::Transport`] at exactly one place ([`Error::from_reqwest`]), which drops
//! the URL (it carries `access_token=` in the query) before anything is formatted.

use std::fmt;

/// What a caller should do about a WeChat `errcode`, independent of the exact number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorClass {
    /// 40001 / 40014 / 42001: the token is stale; refetch (normal mode) and retry once.
    TokenInvalid,
    /// 40013 / 40125 / 40243 / 61023 / 61024: the account's settings are wrong; never retried.
    Configuration,
    /// 40164 (the account's whitelist) or 61004 (a third-party platform's whitelist, with a
    /// platform token): the caller's public IP is not whitelisted. `ip` is the address WeChat saw.
    IpNotWhitelisted { ip: Option<String>, platform: bool },
    /// 89501 / 89503 / 89506 / 89507: an admin must confirm this IP, or it is blocked for a while.
    RiskyIp,
    /// 45009: this API's daily quota is used up.
    DailyQuota,
    /// 45011: per-minute limit; wait about a minute.
    MinuteLimit,
    /// -1: system busy.
    Busy,
    /// 48001 / 50001 / 50002 / 61003 / 61007: the account may not call this API.
    Unauthorized,
    /// 53600: the article id is unknown (deleted, or never existed).
    InvalidArticle,
    /// 48006: the monthly `clear_quota` allowance is used up.
    ClearQuotaExhausted,
    /// Anything else: shown as is, with its rid.
    Other,
}

impl ErrorClass {
    /// Classifies a WeChat `errcode`; `errmsg` is needed to recover the IP of a 40164.
    pub fn of(code: i64, errmsg: &str) -> Self {
        match code {
            40001 | 40014 | 42001 => Self::TokenInvalid,
            40013 | 40125 | 40243 | 61023 | 61024 => Self::Configuration,
            40164 => Self::IpNotWhitelisted {
                ip: parse_whitelist_ip(errmsg),
                platform: false,
            },
            61004 => Self::IpNotWhitelisted {
                ip: parse_whitelist_ip(errmsg),
                platform: true,
            },
            89501 | 89503 | 89506 | 89507 => Self::RiskyIp,
            45009 => Self::DailyQuota,
            45011 => Self::MinuteLimit,
            -1 => Self::Busy,
            48001 | 50001 | 50002 | 61003 | 61007 => Self::Unauthorized,
            53600 => Self::InvalidArticle,
            48006 => Self::ClearQuotaExhausted,
            _ => Self::Other,
        }
    }
}

/// A WeChat answer with a non-zero `errcode`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: i64,
    /// `errmsg` as WeChat sent it (it never contains our secrets; WeChat does not echo them).
    pub message: String,
    /// The request id at the end of `errmsg`, for WeChat support and `openapi/rid/get`.
    pub rid: Option<String>,
    pub class: ErrorClass,
}

impl ApiError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            code,
            rid: parse_rid(&message),
            class: ErrorClass::of(code, &message),
            message,
        }
    }
}

/// How a request failed below HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// DNS, refused connection, TLS handshake: the request never left.
    Connect,
    /// No complete answer within the timeout.
    Timeout,
    /// The connection broke while the request or the answer was under way.
    Interrupted,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("WeChat error {}: {}", .0.code, .0.message)]
    Api(ApiError),

    /// `may_have_reached_server` is false only when no byte of the request can have arrived.
    #[error("network error ({kind:?}): {detail}")]
    Transport {
        kind: TransportKind,
        may_have_reached_server: bool,
        detail: String,
    },

    /// A non-2xx HTTP status (WeChat itself answers errors with 200; this is a proxy or gateway).
    /// The message names the status only: what a relay or token service wrote reaches neither
    /// the window nor the log file (`excerpt`, masked, is for a debug-level log line).
    #[error("HTTP {status} from the API server")]
    HttpStatus { status: u16, excerpt: String },

    /// The body was not the JSON we expected; `excerpt` is its beginning (masked), kept for a
    /// debug-level log line only — the message says what was wrong, not what was written.
    #[error("unexpected answer from the API server ({detail})")]
    Decode { detail: String, excerpt: String },

    /// Rejected before anything was sent.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// A delete whose answer never came, or came as "system busy": it may or may not have been
    /// applied. Ask `getarticle` before sending anything again.
    #[error(
        "the delete may or may not have been applied ({cause}); check with getarticle before retrying"
    )]
    DeleteOutcomeUnknown { cause: Box<Error> },

    /// A pasted token that expired or was rejected: it cannot be renewed by the app.
    #[error("the pasted access token has expired or was rejected; paste a new one")]
    FixedTokenExpired,
}

impl Error {
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    pub fn class(&self) -> Option<&ErrorClass> {
        self.api().map(|e| &e.class)
    }

    /// The one conversion point from reqwest: the URL (with `access_token=`) is dropped first.
    pub(crate) fn from_reqwest(err: reqwest::Error) -> Self {
        let err = err.without_url();
        let kind = if err.is_timeout() {
            TransportKind::Timeout
        } else if err.is_connect() {
            TransportKind::Connect
        } else {
            TransportKind::Interrupted
        };
        if err.is_decode() {
            return Error::Decode {
                detail: error_chain(&err),
                excerpt: String::new(),
            };
        }
        Error::Transport {
            kind,
            // A connect timeout is reported as both; the request cannot have been sent then.
            may_have_reached_server: !err.is_connect(),
            detail: redact(&error_chain(&err)),
        }
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Masks anything that looks like a query credential. Defence in depth: no URL should reach
/// an error in the first place.
pub(crate) fn redact(text: &str) -> String {
    // JSON keys match by suffix, so `authorizer_access_token` and friends are covered too.
    let by_key = [
        "access_token=",
        "secret=",
        "access_token\":\"",
        "access_token\": \"",
        "secret\":\"",
        "secret\": \"",
        "refresh_token\":\"",
        "refresh_token\": \"",
    ]
    .iter()
    .fold(text.to_string(), |acc, key| mask_after(&acc, key));
    mask_token_shapes(&by_key)
}

/// Masks every run that looks like a credential whatever its key (`accessToken`, `token`,
/// `Authorization: Bearer …`, a bare value): 20 or more characters of the alphabets tokens and
/// secrets are written in, holding both letters and digits. A request id (`6a1d7d64-1a5c7d64-
/// 18ff931f`: groups of 8) stays readable.
pub(crate) fn mask_token_shapes(text: &str) -> String {
    let token_char = |c: char| {
        c.is_ascii_alphanumeric() || matches!(c, '_' | '+' | '/' | '=' | '.' | '%' | '~' | '-')
    };
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let long = run.chars().count() >= 20;
        let mixed =
            run.chars().any(|c| c.is_ascii_digit()) && run.chars().any(|c| c.is_ascii_alphabetic());
        let rid = parse_rid(&format!("rid: {run}")).is_some_and(|r| r == *run);
        if long && mixed && !rid {
            out.push_str("<redacted>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if token_char(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

fn mask_after(text: &str, key: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(key) {
        let after = pos + key.len();
        out.push_str(&rest[..after]);
        out.push_str("<redacted>");
        let tail = &rest[after..];
        let end = tail.find(['&', '"', ' ', ')', '\'']).unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Extracts the request id from an `errmsg` such as `invalid credential rid: 6a1d7d64-1a5c7d64-18ff931f`.
pub fn parse_rid(errmsg: &str) -> Option<String> {
    let pos = errmsg.rfind("rid:")?;
    let candidate = errmsg[pos + 4..]
        .trim_start()
        .split(|c: char| c.is_whitespace() || c == ',' || c == ']')
        .next()?;
    let groups: Vec<&str> = candidate.split('-').collect();
    let well_formed = groups.len() == 3
        && groups
            .iter()
            .all(|g| g.len() == 8 && g.chars().all(|c| c.is_ascii_hexdigit()));
    well_formed.then(|| candidate.to_string())
}

/// Extracts the caller IP from a 40164 `errmsg` (`invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, not
/// in whitelist`) or a 61004 one (`access clientip is not registered requestIP: 1.2.3.4`).
pub fn parse_whitelist_ip(errmsg: &str) -> Option<String> {
    ["invalid ip ", "requestIP: ", "requestIP:"]
        .iter()
        .find_map(|marker| {
            let pos = errmsg.find(marker)?;
            let word = errmsg[pos + marker.len()..]
                .trim_start()
                .split(|c: char| c.is_whitespace() || c == ',')
                .next()?;
            word.parse::<std::net::IpAddr>().ok()
        })
        .map(|ip| ip.to_string())
}

/// The first characters of a body, for a decode or status error; credentials masked.
pub(crate) fn excerpt(body: &[u8]) -> String {
    const MAX: usize = 200;
    // Masked before it is cut, so a token cut at the edge is not left half visible.
    let head = &body[..body.len().min(4096)];
    let text = redact(&String::from_utf8_lossy(head));
    let mut cut: String = text.chars().take(MAX).collect();
    if text.chars().count() > MAX || body.len() > head.len() {
        cut.push('…');
    }
    tracing::debug!(excerpt = %cut, "the answer that could not be used");
    cut
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rid_is_parsed_from_both_separators_and_rejected_when_malformed() {
        assert_eq!(
            parse_rid("invalid credential rid: 6a1d7d64-1a5c7d64-18ff931f").as_deref(),
            Some("6a1d7d64-1a5c7d64-18ff931f")
        );
        assert_eq!(
            parse_rid("api unauthorized, rid: 0000000a-1a5c7d64-18ff931f").as_deref(),
            Some("0000000a-1a5c7d64-18ff931f")
        );
        assert_eq!(parse_rid("api unauthorized hint: [abcd]"), None);
        assert_eq!(parse_rid("rid: nothex00-1a5c7d64-18ff931f"), None);
    }

    #[test]
    fn whitelist_ip_is_recovered_from_errmsg() {
        let msg = "invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist rid: 6a1d7d64-1a5c7d64-18ff931f";
        assert_eq!(
            ErrorClass::of(40164, msg),
            ErrorClass::IpNotWhitelisted {
                ip: Some("203.0.113.7".into()),
                platform: false,
            }
        );
        assert_eq!(
            ErrorClass::of(40164, "not in whitelist"),
            ErrorClass::IpNotWhitelisted {
                ip: None,
                platform: false
            }
        );
        assert_eq!(
            ErrorClass::of(
                61004,
                "access clientip is not registered requestIP: 198.51.100.23 rid: 6a1d7d64-1a5c7d64-18ff931f"
            ),
            ErrorClass::IpNotWhitelisted {
                ip: Some("198.51.100.23".into()),
                platform: true,
            }
        );
    }

    #[test]
    fn codes_map_to_their_documented_class() {
        for (code, class) in [
            (40001, ErrorClass::TokenInvalid),
            (40014, ErrorClass::TokenInvalid),
            (42001, ErrorClass::TokenInvalid),
            (40013, ErrorClass::Configuration),
            (40125, ErrorClass::Configuration),
            (40243, ErrorClass::Configuration),
            (89503, ErrorClass::RiskyIp),
            (89506, ErrorClass::RiskyIp),
            (45009, ErrorClass::DailyQuota),
            (45011, ErrorClass::MinuteLimit),
            (-1, ErrorClass::Busy),
            (48001, ErrorClass::Unauthorized),
            (50002, ErrorClass::Unauthorized),
            (53600, ErrorClass::InvalidArticle),
            (48006, ErrorClass::ClearQuotaExhausted),
            (76021, ErrorClass::Other),
        ] {
            assert_eq!(ErrorClass::of(code, ""), class, "code {code}");
        }
    }

    #[test]
    fn redact_masks_anything_shaped_like_a_token_whatever_its_key() {
        let token = "85_Xk3jQm9LzVbN2pR7tWc4YdF6gH8jK0lM2nB4vC6xZ8aS1dF3gH5jK7lQ9wE2rT4y";
        for body in [
            format!(r#"{{"accessToken":"{token}"}}"#),
            format!(r#"{{"token": "{token}", "expires": 7200}}"#),
            format!("Authorization: Bearer {token}"),
            format!("<html>your token is {token}</html>"),
            format!("{{\"data\":{{\"t\":\"{token}\"}}}}"),
        ] {
            let out = redact(&body);
            assert!(!out.contains(&token[..12]), "{out}");
            assert!(out.contains("<redacted>"), "{out}");
        }
        // What helps support stays: a request id, words, short numbers.
        let kept = "system error rid: 6a1d7d64-1a5c7d64-18ff931f, errcode 45009 api_minute_limit";
        assert_eq!(redact(kept), kept);
    }

    #[test]
    fn redact_masks_every_credential_in_a_text() {
        let text =
            "GET /cgi-bin/x?access_token=SECRET1&a=1 and secret=SECRET2 then access_token=SECRET3";
        let out = redact(text);
        assert!(!out.contains("SECRET"), "{out}");
        assert_eq!(out.matches("<redacted>").count(), 3);
        let json =
            r#"{"access_token":"SECRET4","expires_in":"x","authorizer_refresh_token": "SECRET5"}"#;
        let out = redact(json);
        assert!(!out.contains("SECRET"), "{out}");
        assert!(out.contains("expires_in"), "{out}");
    }
}
