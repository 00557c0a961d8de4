//! The wizard's field checks: what the operator typed, cleaned and checked before anything is
//! sent or stored. No network, no storage.
//!
//! Invariant: an error message never repeats a secret's value.
//!
//! Length: about 520 lines, one idea — each field's rule sits beside the others it is checked
//! with (a service URL with its header, a loopback address with the operator's consent), so a
//! reader sees every rule a draft must pass in one place. Its tests are in `draft_tests.rs`.

use secrecy::SecretString;
use serde::Serialize;

use super::profile::{Profile, TokenSetup};
use crate::error::CoreError;

/// What the wizard sends. The secret travels once, from the UI into Rust, and never back.
pub struct AccountDraft {
    pub name: String,
    pub appid: String,
    pub source: DraftSource,
    pub proxy: Option<String>,
    pub api_base: Option<String>,
    /// The operator's explicit word that the API base or token service is a relay on this
    /// computer (an SSH tunnel, a local relay): only then may either be a loopback address.
    pub local_relay: bool,
}

pub enum DraftSource {
    Stable {
        secret: String,
    },
    Service {
        url: String,
        header_name: Option<String>,
        header_value: Option<String>,
    },
    Pasted {
        token: String,
        expires_in_minutes: Option<u32>,
    },
}

/// A field of the wizard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Field {
    Name,
    Appid,
    Secret,
    ServiceUrl,
    Header,
    Token,
    Proxy,
    ApiBase,
}

/// What is wrong with a field, for the UI to say in the operator's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum FieldProblem {
    Empty,
    /// Not the shape this field has (an AppID, an AppSecret, a token, a header name).
    Shape,
    /// An invisible control character (pasted from somewhere).
    ControlCharacter,
    TooLong,
    NotAUrl,
    /// Plain http to a host that is not this machine.
    NeedsHttps,
    /// Only half of a pair (header name and value).
    Incomplete,
    /// A credential in a URL's query (`?key=…`): it would be stored in plain text; it belongs
    /// in the header field, whose value goes to the keyring.
    CredentialInUrl,
    /// An address on this computer (127.0.0.1, localhost, ::1) without the operator's word
    /// that a relay runs there: otherwise a field could make Retract read a local service.
    LocalWithoutConsent,
}

/// One problem of one field; the message is the English text for logs and errors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FieldIssue {
    pub field: Field,
    pub problem: FieldProblem,
    #[serde(skip)]
    #[cfg_attr(feature = "specta", specta(skip))]
    pub message: String,
}

impl FieldIssue {
    fn new(field: Field, problem: FieldProblem, message: impl Into<String>) -> Self {
        Self {
            field,
            problem,
            message: message.into(),
        }
    }
}

impl From<FieldIssue> for CoreError {
    fn from(issue: FieldIssue) -> Self {
        CoreError::Invalid(issue.message)
    }
}

/// What the wizard's live check answers: every problem of every field, and which fields had
/// invisible characters removed (so the UI can say so).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FieldCheck {
    pub issues: Vec<FieldIssue>,
    pub cleaned: Vec<Field>,
}

/// A checked draft: the display name, the profile, and the secret that goes with it.
pub(crate) struct CheckedDraft {
    pub name: String,
    pub profile: Profile,
    pub secret: Option<SecretString>,
}

/// Characters that sneak in with copy and paste and are removed silently.
const INVISIBLE: &[char] = &[
    '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}',
];

/// Trims, drops zero-width characters, and refuses anything else a field should not hold.
pub fn clean_field(raw: &str, what: &str) -> Result<String, CoreError> {
    Ok(cleaned(raw, Field::Name, what)?)
}

fn had_invisible(raw: &str) -> bool {
    raw.chars().any(|c| INVISIBLE.contains(&c))
}

fn cleaned(raw: &str, field: Field, what: &str) -> Result<String, FieldIssue> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !INVISIBLE.contains(c))
        .map(|c| {
            if c == '\u{00A0}' || c == '\u{3000}' {
                ' '
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().to_string();
    if let Some(bad) = cleaned.chars().find(|c| c.is_control()) {
        return Err(FieldIssue::new(
            field,
            FieldProblem::ControlCharacter,
            format!(
                "{what} contains an invisible control character (U+{:04X}); type it again instead of pasting",
                bad as u32
            ),
        ));
    }
    Ok(cleaned)
}

fn is_hex(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_hexdigit())
}

/// `wx` followed by 16 hexadecimal characters, lower-cased.
pub fn parse_appid(raw: &str) -> Result<String, CoreError> {
    Ok(appid_of(raw)?)
}

fn appid_of(raw: &str) -> Result<String, FieldIssue> {
    let appid = cleaned(raw, Field::Appid, "the AppID")?;
    if appid.is_empty() {
        return Err(FieldIssue::new(
            Field::Appid,
            FieldProblem::Empty,
            "the AppID is empty",
        ));
    }
    let ok = appid.len() == 18 && appid.starts_with("wx") && is_hex(&appid[2..]);
    if !ok {
        return Err(FieldIssue::new(
            Field::Appid,
            FieldProblem::Shape,
            format!(
                "the AppID must be \"wx\" followed by 16 hexadecimal characters (18 in all); this one has {} characters",
                appid.chars().count()
            ),
        ));
    }
    Ok(appid.to_ascii_lowercase())
}

/// 32 hexadecimal characters. The message never repeats the value.
pub fn parse_secret(raw: &str) -> Result<SecretString, CoreError> {
    Ok(secret_of(raw)?)
}

fn secret_of(raw: &str) -> Result<SecretString, FieldIssue> {
    let secret = cleaned(raw, Field::Secret, "the AppSecret")?;
    if secret.is_empty() {
        return Err(FieldIssue::new(
            Field::Secret,
            FieldProblem::Empty,
            "the AppSecret is empty",
        ));
    }
    if secret.len() != 32 || !is_hex(&secret) {
        return Err(FieldIssue::new(
            Field::Secret,
            FieldProblem::Shape,
            format!(
                "the AppSecret must be 32 hexadecimal characters; this one has {} characters{}",
                secret.chars().count(),
                if is_hex(&secret) {
                    ""
                } else {
                    " and other characters than 0-9 and a-f"
                }
            ),
        ));
    }
    Ok(SecretString::from(secret))
}

/// A display name, required (every dialog that deletes names the account by it), at most 40
/// characters.
fn name_of(raw: &str, _appid: &str) -> Result<String, FieldIssue> {
    let name = cleaned(raw, Field::Name, "the account name")?;
    if name.is_empty() {
        return Err(FieldIssue::new(
            Field::Name,
            FieldProblem::Empty,
            "the account name is empty: type the account's name as the MP console shows it (top left, or Settings & Development → Account settings)",
        ));
    }
    if name.chars().count() > 40 {
        return Err(FieldIssue::new(
            Field::Name,
            FieldProblem::TooLong,
            "the account name is longer than 40 characters",
        ));
    }
    Ok(name)
}

fn optional_url(
    raw: Option<&str>,
    field: Field,
    what: &str,
    proxy: bool,
) -> Result<Option<String>, FieldIssue> {
    let Some(raw) = raw else { return Ok(None) };
    let text = cleaned(raw, field, what)?;
    if text.is_empty() {
        return Ok(None);
    }
    match wechat_mp::client::check_url(&text, what, proxy) {
        Ok(url) => Ok(Some(url.to_string())),
        Err(e) => {
            let plain_http = url::Url::parse(&text).is_ok_and(|u| u.scheme() == "http");
            let problem = if plain_http {
                FieldProblem::NeedsHttps
            } else {
                FieldProblem::NotAUrl
            };
            Err(FieldIssue::new(field, problem, e.to_string()))
        }
    }
}

/// A loopback destination (API base, token service) is taken only with the operator's word.
fn local_consent(
    url: Option<&str>,
    field: Field,
    what: &str,
    consent: bool,
) -> Result<(), FieldIssue> {
    let local = url
        .and_then(|u| url::Url::parse(u).ok())
        .is_some_and(|u| match u.host() {
            Some(url::Host::Domain(d)) => {
                d.eq_ignore_ascii_case("localhost")
                    || d.to_ascii_lowercase().ends_with(".localhost")
            }
            Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_unspecified(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.is_unspecified(),
            None => false,
        });
    if local && !consent {
        return Err(FieldIssue::new(
            field,
            FieldProblem::LocalWithoutConsent,
            format!(
                "{what} is on this computer: turn on \"a relay runs on this computer\" if that is what you set up (an SSH tunnel, a local relay)"
            ),
        ));
    }
    Ok(())
}

fn service_url(source: &DraftSource) -> Option<&str> {
    match source {
        DraftSource::Service { url, .. } => Some(url.as_str()),
        _ => None,
    }
}

/// The wizard's field checks, without any network call or storage.
pub fn validate(draft: &AccountDraft) -> Result<(), CoreError> {
    checked(draft, crate::now_unix()).map(|_| ())
}

/// Every problem of every field at once, for the wizard's hints as the operator types (the
/// same checks that `checked` runs, so Rust is the one source of truth).
pub fn field_check(draft: &AccountDraft) -> FieldCheck {
    let mut issues = Vec::new();
    let mut note = |r: Result<(), FieldIssue>| {
        if let Err(issue) = r {
            issues.push(issue);
        }
    };
    note(appid_of(&draft.appid).map(|_| ()));
    note(name_of(&draft.name, "").map(|_| ()));
    note(optional_url(draft.proxy.as_deref(), Field::Proxy, "the proxy URL", true).map(|_| ()));
    note(
        optional_url(
            draft.api_base.as_deref(),
            Field::ApiBase,
            "the API base URL",
            false,
        )
        .map(|_| ()),
    );
    note(setup_of(&draft.source, 0).map(|_| ()));
    note(local_consent(
        draft.api_base.as_deref(),
        Field::ApiBase,
        "the API base URL",
        draft.local_relay,
    ));
    note(local_consent(
        service_url(&draft.source),
        Field::ServiceUrl,
        "the token service URL",
        draft.local_relay,
    ));
    let mut cleaned = Vec::new();
    if had_invisible(&draft.appid) {
        cleaned.push(Field::Appid);
    }
    if let DraftSource::Stable { secret } = &draft.source
        && had_invisible(secret)
    {
        cleaned.push(Field::Secret);
    }
    FieldCheck { issues, cleaned }
}

/// Checks every field; `now` dates a pasted token's expiry. The first problem is the error.
pub(crate) fn checked(draft: &AccountDraft, now: i64) -> Result<CheckedDraft, CoreError> {
    let appid = appid_of(&draft.appid)?;
    let name = name_of(&draft.name, &appid)?;
    let proxy = optional_url(draft.proxy.as_deref(), Field::Proxy, "the proxy URL", true)?;
    let api_base = optional_url(
        draft.api_base.as_deref(),
        Field::ApiBase,
        "the API base URL",
        false,
    )?;
    let (setup, secret) = setup_of(&draft.source, now)?;
    local_consent(
        api_base.as_deref(),
        Field::ApiBase,
        "the API base URL",
        draft.local_relay,
    )?;
    local_consent(
        service_url(&draft.source),
        Field::ServiceUrl,
        "the token service URL",
        draft.local_relay,
    )?;
    Ok(CheckedDraft {
        name,
        profile: Profile {
            appid,
            setup,
            api_base,
            proxy,
        },
        secret,
    })
}

/// The token setup and its secret, from the chosen source's fields.
fn setup_of(
    source: &DraftSource,
    now: i64,
) -> Result<(TokenSetup, Option<SecretString>), FieldIssue> {
    match source {
        DraftSource::Stable { secret } => Ok((TokenSetup::Stable, Some(secret_of(secret)?))),
        DraftSource::Service {
            url,
            header_name,
            header_value,
        } => {
            let url = optional_url(Some(url), Field::ServiceUrl, "the token service URL", false)?
                .ok_or_else(|| {
                FieldIssue::new(
                    Field::ServiceUrl,
                    FieldProblem::Empty,
                    "the token service URL is empty",
                )
            })?;
            refuse_credentials_in_query(&url)?;
            let (header, secret) = service_header(header_name.as_deref(), header_value.as_deref())?;
            Ok((TokenSetup::Service { url, header }, secret))
        }
        DraftSource::Pasted {
            token,
            expires_in_minutes,
        } => {
            let token = cleaned(token, Field::Token, "the access token")?;
            if token.is_empty() {
                return Err(FieldIssue::new(
                    Field::Token,
                    FieldProblem::Empty,
                    "the access token is empty",
                ));
            }
            if token.len() > 512 || !token.chars().all(|c| c.is_ascii_graphic()) {
                return Err(FieldIssue::new(
                    Field::Token,
                    FieldProblem::Shape,
                    "the access token must be 1 to 512 characters of letters, digits and symbols",
                ));
            }
            let expires_at = expires_in_minutes.map(|m| now + i64::from(m) * 60);
            Ok((
                TokenSetup::Pasted { expires_at },
                Some(SecretString::from(token)),
            ))
        }
    }
}

/// Query parameter names that carry a credential (matched as parts of the name).
const CREDENTIAL_WORDS: &[&str] = &[
    "key",
    "token",
    "secret",
    "pass",
    "pwd",
    "auth",
    "sign",
    "credential",
    "ticket",
];

/// A token service URL is stored in SQLite and shown in the UI: no credential may ride in it.
fn refuse_credentials_in_query(url: &str) -> Result<(), FieldIssue> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Ok(());
    };
    if let Some((name, _)) = parsed.query_pairs().find(|(name, _)| {
        let lower = name.to_ascii_lowercase();
        CREDENTIAL_WORDS.iter().any(|w| lower.contains(w))
    }) {
        return Err(FieldIssue::new(
            Field::ServiceUrl,
            FieldProblem::CredentialInUrl,
            format!(
                "the token service URL carries a credential ({name}=…); put it in the header field instead, whose value is kept in the keyring"
            ),
        ));
    }
    Ok(())
}

/// A token service's credential header: both name and value, or neither.
fn service_header(
    name: Option<&str>,
    value: Option<&str>,
) -> Result<(Option<String>, Option<SecretString>), FieldIssue> {
    let name = name
        .map(|h| cleaned(h, Field::Header, "the header name"))
        .transpose()?;
    let value = value
        .map(|h| cleaned(h, Field::Header, "the header value"))
        .transpose()?;
    match (
        name.filter(|n| !n.is_empty()),
        value.filter(|v| !v.is_empty()),
    ) {
        (Some(n), Some(v)) => {
            if !n
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(FieldIssue::new(
                    Field::Header,
                    FieldProblem::Shape,
                    format!("the header name {n:?} may only hold letters, digits, - and _"),
                ));
            }
            Ok((Some(n), Some(SecretString::from(v))))
        }
        (None, None) => Ok((None, None)),
        _ => Err(FieldIssue::new(
            Field::Header,
            FieldProblem::Incomplete,
            "give both the header name and its value, or neither",
        )),
    }
}

#[cfg(test)]
#[path = "draft_tests.rs"]
mod tests;
