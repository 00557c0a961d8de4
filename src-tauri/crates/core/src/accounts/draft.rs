//! The wizard's field checks: what the operator typed, cleaned and checked before anything is
//! sent or stored. No network, no storage.
//!
//! Invariant: an error message never repeats a secret's value.

use secrecy::SecretString;

use super::profile::{Profile, TokenSetup};
use crate::error::CoreError;

/// What the wizard sends. The secret travels once, from the UI into Rust, and never back.
pub struct AccountDraft {
    pub name: String,
    pub appid: String,
    pub source: DraftSource,
    pub proxy: Option<String>,
    pub api_base: Option<String>,
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
pub fn clean_field(raw: &str, field: &str) -> Result<String, CoreError> {
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
        return Err(CoreError::Invalid(format!(
            "{field} contains an invisible control character (U+{:04X}); type it again instead of pasting",
            bad as u32
        )));
    }
    Ok(cleaned)
}

fn is_hex(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_hexdigit())
}

/// `wx` followed by 16 hexadecimal characters, lower-cased.
pub fn parse_appid(raw: &str) -> Result<String, CoreError> {
    let appid = clean_field(raw, "the AppID")?;
    if appid.is_empty() {
        return Err(CoreError::Invalid("the AppID is empty".into()));
    }
    let ok = appid.len() == 18 && appid.starts_with("wx") && is_hex(&appid[2..]);
    if !ok {
        return Err(CoreError::Invalid(format!(
            "the AppID must be \"wx\" followed by 16 hexadecimal characters (18 in all); this one has {} characters",
            appid.chars().count()
        )));
    }
    Ok(appid.to_ascii_lowercase())
}

/// 32 hexadecimal characters. The message never repeats the value.
pub fn parse_secret(raw: &str) -> Result<SecretString, CoreError> {
    let secret = clean_field(raw, "the AppSecret")?;
    if secret.is_empty() {
        return Err(CoreError::Invalid("the AppSecret is empty".into()));
    }
    if secret.len() != 32 || !is_hex(&secret) {
        return Err(CoreError::Invalid(format!(
            "the AppSecret must be 32 hexadecimal characters; this one has {} characters{}",
            secret.chars().count(),
            if is_hex(&secret) {
                ""
            } else {
                " and other characters than 0-9 and a-f"
            }
        )));
    }
    Ok(SecretString::from(secret))
}

/// A display name: the AppID when left empty, at most 40 characters.
pub(crate) fn parse_name(raw: &str, appid: &str) -> Result<String, CoreError> {
    let name = clean_field(raw, "the account name")?;
    if name.chars().count() > 40 {
        return Err(CoreError::Invalid(
            "the account name is longer than 40 characters".into(),
        ));
    }
    Ok(if name.is_empty() {
        appid.to_string()
    } else {
        name
    })
}

fn optional_url(raw: Option<&str>, what: &str, proxy: bool) -> Result<Option<String>, CoreError> {
    let Some(raw) = raw else { return Ok(None) };
    let cleaned = clean_field(raw, what)?;
    if cleaned.is_empty() {
        return Ok(None);
    }
    let url = wechat_mp::client::check_url(&cleaned, what, proxy)?;
    Ok(Some(url.to_string()))
}

/// The wizard's field checks, without any network call or storage.
pub fn validate(draft: &AccountDraft) -> Result<(), CoreError> {
    checked(draft, crate::now_unix()).map(|_| ())
}

/// Checks every field; `now` dates a pasted token's expiry.
pub(crate) fn checked(draft: &AccountDraft, now: i64) -> Result<CheckedDraft, CoreError> {
    let appid = parse_appid(&draft.appid)?;
    let name = parse_name(&draft.name, &appid)?;
    let proxy = optional_url(draft.proxy.as_deref(), "the proxy URL", true)?;
    let api_base = optional_url(draft.api_base.as_deref(), "the API base URL", false)?;
    let (setup, secret) = match &draft.source {
        DraftSource::Stable { secret } => (TokenSetup::Stable, Some(parse_secret(secret)?)),
        DraftSource::Service {
            url,
            header_name,
            header_value,
        } => {
            let url = optional_url(Some(url), "the token service URL", false)?
                .ok_or_else(|| CoreError::Invalid("the token service URL is empty".into()))?;
            let (header, secret) = service_header(header_name.as_deref(), header_value.as_deref())?;
            (TokenSetup::Service { url, header }, secret)
        }
        DraftSource::Pasted {
            token,
            expires_in_minutes,
        } => {
            let token = clean_field(token, "the access token")?;
            if token.is_empty() || token.len() > 512 || !token.chars().all(|c| c.is_ascii_graphic())
            {
                return Err(CoreError::Invalid(
                    "the access token must be 1 to 512 characters of letters, digits and symbols"
                        .into(),
                ));
            }
            let expires_at = expires_in_minutes.map(|m| now + i64::from(m) * 60);
            (
                TokenSetup::Pasted { expires_at },
                Some(SecretString::from(token)),
            )
        }
    };
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

/// A token service's credential header: both name and value, or neither.
fn service_header(
    name: Option<&str>,
    value: Option<&str>,
) -> Result<(Option<String>, Option<SecretString>), CoreError> {
    let name = name
        .map(|h| clean_field(h, "the header name"))
        .transpose()?;
    let value = value
        .map(|h| clean_field(h, "the header value"))
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
                return Err(CoreError::Invalid(format!(
                    "the header name {n:?} may only hold letters, digits, - and _"
                )));
            }
            Ok((Some(n), Some(SecretString::from(v))))
        }
        (None, None) => Ok((None, None)),
        _ => Err(CoreError::Invalid(
            "give both the header name and its value, or neither".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn appid_is_checked_trimmed_and_cleaned_of_invisible_characters() {
        assert_eq!(
            parse_appid("  wx5E7D1C0FFEE0A1B2\u{200B} ").unwrap_or_default(),
            "wx5e7d1c0ffee0a1b2"
        );
        for bad in [
            "",
            "wx123",
            "ab5e7d1c0ffee0a1b2",
            "wx5e7d1c0ffee0a1bz",
            "wx5e7d1c0ffee0a1b2a",
        ] {
            assert!(parse_appid(bad).is_err(), "{bad}");
        }
        let err = parse_appid("wx5e7d1c0ffee0a\u{0007}b2")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("U+0007"), "{err}");
    }

    #[test]
    fn secret_errors_say_what_is_wrong_without_repeating_the_secret() {
        let s = parse_secret("\u{FEFF}3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d\n")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.expose_secret(), "3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d");
        let err = parse_secret("3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("31 characters") && !err.contains("3f2a9c"),
            "{err}"
        );
        let err = parse_secret("zz2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("other characters"), "{err}");
    }

    #[test]
    fn a_service_header_needs_both_halves() {
        assert!(service_header(Some("X-Key"), None).is_err());
        assert!(service_header(None, Some("v")).is_err());
        assert!(service_header(Some("X Key"), Some("v")).is_err());
        let (name, value) = service_header(Some(" X-Key "), Some("v")).unwrap_or((None, None));
        assert_eq!(name.as_deref(), Some("X-Key"));
        assert!(value.is_some());
        assert!(matches!(
            service_header(Some(""), Some("")),
            Ok((None, None))
        ));
    }
}
