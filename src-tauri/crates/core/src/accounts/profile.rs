//! An account's profile — AppID, how its token is obtained, where its API lives — and how
//! profiles are stored in SQLite. No secret is ever part of a profile.
//!
//! Invariants: a stored token source that this build does not know is an error, never silently
//! another source; the choice of API base is one pure function ([`api_base_for`]).

use rusqlite::params;
use serde::Serialize;

use crate::error::CoreError;
use crate::store::Store;

pub use crate::ids::AccountId;

/// How an account's token is obtained, as the UI names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum SourceKind {
    Stable,
    Service,
    Pasted,
}

impl SourceKind {
    pub(crate) fn as_sql(self) -> &'static str {
        match self {
            Self::Stable => "stable",
            Self::Service => "service",
            Self::Pasted => "pasted",
        }
    }

    pub(crate) fn from_sql(text: &str) -> Option<Self> {
        [Self::Stable, Self::Service, Self::Pasted]
            .into_iter()
            .find(|k| k.as_sql() == text)
    }
}

/// How the token is obtained, with what each way needs (the secret itself lives elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum TokenSetup {
    /// AppID + AppSecret through `stable_token`.
    Stable,
    /// A company's (or a platform's) token service; `header` names the credential header,
    /// whose value is the account's secret.
    Service { url: String, header: Option<String> },
    /// A token pasted by hand; `expires_at` in Unix seconds when known.
    Pasted { expires_at: Option<i64> },
}

impl TokenSetup {
    pub fn kind(&self) -> SourceKind {
        match self {
            Self::Stable => SourceKind::Stable,
            Self::Service { .. } => SourceKind::Service,
            Self::Pasted { .. } => SourceKind::Pasted,
        }
    }

    /// Whether this way needs a secret at all (a token service may need none).
    pub fn needs_secret(&self) -> bool {
        !matches!(self, Self::Service { header: None, .. })
    }
}

/// Everything needed to talk to WeChat for one account, except its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Profile {
    pub appid: String,
    pub setup: TokenSetup,
    /// A relay (or the simulator); `None`: WeChat's own API.
    pub api_base: Option<String>,
    pub proxy: Option<String>,
}

impl Profile {
    /// Where this profile sends its secret, as one comparable string: the API base (for the
    /// AppSecret and every token), the proxy, and a token service's URL. Bound to the secret in
    /// the keyring (see `secrets`).
    pub fn destination(&self) -> String {
        let service = match &self.setup {
            TokenSetup::Service { url, header } => {
                format!("{url} {}", header.as_deref().unwrap_or_default())
            }
            _ => String::new(),
        };
        format!(
            "v1\napi={}\nproxy={}\nservice={}",
            self.api_base
                .as_deref()
                .unwrap_or(wechat_mp::DEFAULT_API_BASE),
            self.proxy.as_deref().unwrap_or_default(),
            service.trim()
        )
    }
}

/// Where a secret goes, as the operator reads it: the API, the proxy, the token service (with
/// its header's name). Credentials in a proxy's address are left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Destination {
    pub api_base: String,
    pub proxy: Option<String>,
    pub token_service: Option<String>,
}

impl Destination {
    /// Reads the form [`Profile::destination`] writes; `None` for any other text.
    pub fn parse(text: &str) -> Option<Self> {
        let mut lines = text.lines();
        if lines.next()? != "v1" {
            return None;
        }
        let mut field = |key: &str| {
            lines
                .next()
                .and_then(|l| l.strip_prefix(key))
                .map(|v| v.trim().to_string())
        };
        let api_base = field("api=")?;
        let proxy = field("proxy=")?;
        let service = field("service=")?;
        let without_credentials = |raw: String| match url::Url::parse(&raw) {
            Ok(mut u) if !u.username().is_empty() || u.password().is_some() => {
                let _ = u.set_username("");
                let _ = u.set_password(None);
                u.to_string()
            }
            _ => raw,
        };
        Some(Self {
            api_base,
            proxy: (!proxy.is_empty()).then(|| without_credentials(proxy)),
            token_service: (!service.is_empty()).then_some(service),
        })
    }
}

/// Where an account's secret would go now, and where the secret Retract holds was given for
/// (they differ after the database named another address: `SecretBoundElsewhere`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct SecretDestinations {
    pub now: Destination,
    /// `None`: no secret is held (or its binding cannot be read).
    pub saved_for: Option<Destination>,
}

/// A stored account: everything but secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub profile: Profile,
    pub is_demo: bool,
    pub created_at: i64,
    pub synced_at: Option<i64>,
    /// The keyring entry (under the app's service name) that holds this account's secret.
    pub secret_entry: String,
}

/// Which API base an account talks to: a demo account always its simulator; any other account
/// the test hook's override when set, else its own relay, else WeChat.
pub fn api_base_for(profile: &Profile, is_demo: bool, override_base: Option<&str>) -> String {
    match (is_demo, override_base, profile.api_base.as_deref()) {
        (true, _, Some(base)) => base.to_string(),
        (false, Some(over), _) => over.to_string(),
        (_, _, Some(base)) => base.to_string(),
        _ => wechat_mp::DEFAULT_API_BASE.to_string(),
    }
}

const COLUMNS: &str = "id, name, appid, token_source, service_url, service_header, pasted_expires_at, proxy, api_base, is_demo, created_at, synced_at";

fn row_to_account(r: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    let source: String = r.get(3)?;
    let kind = SourceKind::from_sql(&source).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            3,
            rusqlite::types::Type::Text,
            format!("unknown token source {source:?}: written by a newer Retract?").into(),
        )
    })?;
    let setup = match kind {
        SourceKind::Stable => TokenSetup::Stable,
        SourceKind::Service => TokenSetup::Service {
            url: r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            header: r.get(5)?,
        },
        SourceKind::Pasted => TokenSetup::Pasted {
            expires_at: r.get(6)?,
        },
    };
    let appid: String = r.get(2)?;
    Ok(Account {
        id: r.get(0)?,
        name: r.get(1)?,
        secret_entry: super::secrets::entry_name(&appid, kind),
        profile: Profile {
            appid,
            setup,
            proxy: r.get(7)?,
            api_base: r.get(8)?,
        },
        is_demo: r.get(9)?,
        created_at: r.get(10)?,
        synced_at: r.get(11)?,
    })
}

/// The token setup as the accounts table stores it: service URL, header, pasted expiry.
fn setup_columns(setup: &TokenSetup) -> (Option<&str>, Option<&str>, Option<i64>) {
    match setup {
        TokenSetup::Stable => (None, None, None),
        TokenSetup::Service { url, header } => (Some(url.as_str()), header.as_deref(), None),
        TokenSetup::Pasted { expires_at } => (None, None, *expires_at),
    }
}

pub(crate) fn insert(
    store: &Store,
    name: &str,
    profile: &Profile,
    is_demo: bool,
    now: i64,
) -> Result<AccountId, CoreError> {
    let (url, header, expires_at) = setup_columns(&profile.setup);
    let conn = store.conn();
    conn.execute(
        "INSERT INTO accounts (name, appid, token_source, service_url, service_header, pasted_expires_at, proxy, api_base, is_demo, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![name, profile.appid, profile.setup.kind().as_sql(), url, header, expires_at, profile.proxy, profile.api_base, is_demo, now],
    )
    .map_err(store.err("cannot save the account"))?;
    Ok(AccountId(conn.last_insert_rowid()))
}

/// Brings back a removed account's row (same id, so its journal and archive are its own
/// again) with the profile just entered.
pub(crate) fn revive(
    store: &Store,
    id: AccountId,
    name: &str,
    profile: &Profile,
    now: i64,
) -> Result<(), CoreError> {
    let (url, header, expires_at) = setup_columns(&profile.setup);
    store
        .conn()
        .execute(
            "UPDATE accounts SET name = ?2, token_source = ?3, service_url = ?4, service_header = ?5, pasted_expires_at = ?6,
                 proxy = ?7, api_base = ?8, created_at = ?9, removed_at = NULL, synced_at = NULL, sync_cursor = NULL
             WHERE id = ?1 AND removed_at IS NOT NULL",
            params![id, name, profile.setup.kind().as_sql(), url, header, expires_at, profile.proxy, profile.api_base, now],
        )
        .map(|_| ())
        .map_err(store.err("cannot save the account"))
}

pub(crate) fn list(store: &Store) -> Result<Vec<Account>, CoreError> {
    let conn = store.conn();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {COLUMNS} FROM accounts WHERE removed_at IS NULL ORDER BY is_demo, created_at, id"
        ))
        .map_err(store.err("cannot read the accounts"))?;
    let rows = stmt
        .query_map([], row_to_account)
        .map_err(store.err("cannot read the accounts"))?;
    rows.collect::<Result<_, _>>()
        .map_err(store.err("cannot read the accounts"))
}

pub(crate) fn get(store: &Store, id: AccountId) -> Result<Account, CoreError> {
    use rusqlite::OptionalExtension;
    store
        .conn()
        .query_row(
            &format!("SELECT {COLUMNS} FROM accounts WHERE id = ?1 AND removed_at IS NULL"),
            [id],
            row_to_account,
        )
        .optional()
        .map_err(store.err("cannot read the account"))?
        .ok_or_else(|| CoreError::NotFound(format!("account {id}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(api_base: Option<&str>) -> Profile {
        Profile {
            appid: "wx5e7d1c0ffee0a1b2".into(),
            setup: TokenSetup::Stable,
            api_base: api_base.map(String::from),
            proxy: None,
        }
    }

    #[test]
    fn the_api_base_follows_demo_then_override_then_relay_then_wechat() {
        let relay = "https://relay.example.com/wx";
        let sim = "http://127.0.0.1:9";
        assert_eq!(
            api_base_for(&profile(None), false, None),
            wechat_mp::DEFAULT_API_BASE
        );
        assert_eq!(api_base_for(&profile(Some(relay)), false, None), relay);
        assert_eq!(
            api_base_for(&profile(Some(relay)), false, Some(sim)),
            sim,
            "the test hook wins"
        );
        assert_eq!(
            api_base_for(&profile(Some("http://127.0.0.1:7")), true, Some(sim)),
            "http://127.0.0.1:7",
            "a demo account keeps its own simulator"
        );
    }

    #[test]
    fn an_unknown_stored_token_source_is_refused_not_taken_as_stable() {
        assert_eq!(SourceKind::from_sql("service"), Some(SourceKind::Service));
        assert_eq!(SourceKind::from_sql("oauth"), None);
        assert_eq!(SourceKind::from_sql(""), None);
        assert!(
            !TokenSetup::Service {
                url: "u".into(),
                header: None
            }
            .needs_secret()
        );
        assert!(TokenSetup::Pasted { expires_at: None }.needs_secret());
    }

    #[test]
    fn a_destination_reads_back_as_the_operator_sees_it() {
        let profile = Profile {
            appid: "wx1234567890abcdef".into(),
            setup: TokenSetup::Service {
                url: "https://token.corp.example/wx".into(),
                header: Some("X-Key".into()),
            },
            api_base: Some("https://relay.corp.example".into()),
            proxy: Some("http://ops:pw@proxy.corp.example:3128".into()),
        };
        let d = Destination::parse(&profile.destination()).unwrap_or_else(|| panic!("unreadable"));
        assert_eq!(d.api_base, "https://relay.corp.example");
        assert_eq!(d.proxy.as_deref(), Some("http://proxy.corp.example:3128/"));
        assert_eq!(
            d.token_service.as_deref(),
            Some("https://token.corp.example/wx X-Key")
        );
        let plain = Profile {
            setup: TokenSetup::Stable,
            api_base: None,
            proxy: None,
            ..profile
        };
        let d = Destination::parse(&plain.destination()).unwrap_or_else(|| panic!("unreadable"));
        assert_eq!((d.proxy, d.token_service), (None, None));
        assert_eq!(Destination::parse("v2\napi=x"), None);
    }
}
