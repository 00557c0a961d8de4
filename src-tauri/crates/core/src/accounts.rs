//! Accounts: the wizard's field checks, profiles in SQLite (no secrets), secrets in the OS
//! keyring (or, on the user's explicit choice, in memory for this session only), and one
//! [`wechat_mp::Api`] per account so its token cache lives as long as the app.
//!
//! Invariants:
//! - a secret is stored only after its shape was checked, and is read back to confirm;
//! - there is no plaintext fallback: when the keyring fails, the caller decides (session only);
//! - removing an account removes its keyring entries, its session secrets and its local index.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use rusqlite::{OptionalExtension, params};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use wechat_mp::{Api, Client, ClientConfig, Clock, DELETE_CGI_PATH, TokenCache, TokenSource};

use crate::error::CoreError;
use crate::keyring::{Keyring, KeyringError};
use crate::store::Store;

pub type AccountId = i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum SourceKind {
    Stable,
    Service,
    Pasted,
}

impl SourceKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Stable => "stable",
            Self::Service => "service",
            Self::Pasted => "pasted",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "service" => Self::Service,
            "pasted" => Self::Pasted,
            _ => Self::Stable,
        }
    }

    /// The keyring entry that holds this source's secret.
    fn secret_user(self, appid: &str) -> String {
        match self {
            Self::Stable => format!("{appid}:appsecret"),
            Self::Service => format!("{appid}:token-service-credential"),
            Self::Pasted => format!("{appid}:pasted-token"),
        }
    }
}

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

/// A stored account: everything but secrets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub appid: String,
    pub source: SourceKind,
    pub service_url: Option<String>,
    pub service_header: Option<String>,
    pub pasted_expires_at: Option<i64>,
    pub proxy: Option<String>,
    pub api_base: Option<String>,
    pub is_demo: bool,
    pub created_at: i64,
    pub synced_at: Option<i64>,
}

/// Where a saved secret lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum SecretStorage {
    Keyring,
    SessionOnly,
}

/// The result of "Verify": a token was obtained, and the delete quota read when `quota/get`
/// answered (it is advisory, and may not know the path: then all three are `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VerifyReport {
    pub delete_daily_limit: Option<u32>,
    pub delete_used: Option<u32>,
    pub delete_remain: Option<u32>,
}

/// A checked draft: cleaned fields and the secret, ready to use.
struct Checked {
    name: String,
    appid: String,
    kind: SourceKind,
    secret: Option<SecretString>,
    service_url: Option<String>,
    service_header: Option<String>,
    pasted_expires_at: Option<i64>,
    proxy: Option<String>,
    api_base: Option<String>,
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

/// `wx` followed by 16 hexadecimal characters.
pub fn check_appid(raw: &str) -> Result<String, CoreError> {
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
pub fn check_secret(raw: &str) -> Result<SecretString, CoreError> {
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
    check(draft, crate::now_unix()).map(|_| ())
}

fn check(draft: &AccountDraft, now: i64) -> Result<Checked, CoreError> {
    let appid = check_appid(&draft.appid)?;
    let mut name = clean_field(&draft.name, "the account name")?;
    if name.is_empty() {
        name = appid.clone();
    }
    if name.chars().count() > 40 {
        return Err(CoreError::Invalid(
            "the account name is longer than 40 characters".into(),
        ));
    }
    let proxy = optional_url(draft.proxy.as_deref(), "the proxy URL", true)?;
    let api_base = optional_url(draft.api_base.as_deref(), "the API base URL", false)?;
    let mut checked = Checked {
        name,
        appid,
        kind: SourceKind::Stable,
        secret: None,
        service_url: None,
        service_header: None,
        pasted_expires_at: None,
        proxy,
        api_base,
    };
    match &draft.source {
        DraftSource::Stable { secret } => checked.secret = Some(check_secret(secret)?),
        DraftSource::Service {
            url,
            header_name,
            header_value,
        } => {
            checked.kind = SourceKind::Service;
            checked.service_url = optional_url(Some(url), "the token service URL", false)?;
            if checked.service_url.is_none() {
                return Err(CoreError::Invalid("the token service URL is empty".into()));
            }
            let name = header_name
                .as_deref()
                .map(|h| clean_field(h, "the header name"))
                .transpose()?;
            let value = header_value
                .as_deref()
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
                    checked.service_header = Some(n);
                    checked.secret = Some(SecretString::from(v));
                }
                (None, None) => {}
                _ => {
                    return Err(CoreError::Invalid(
                        "give both the header name and its value, or neither".into(),
                    ));
                }
            }
        }
        DraftSource::Pasted {
            token,
            expires_in_minutes,
        } => {
            checked.kind = SourceKind::Pasted;
            let token = clean_field(token, "the access token")?;
            if token.is_empty() || token.len() > 512 || !token.chars().all(|c| c.is_ascii_graphic())
            {
                return Err(CoreError::Invalid(
                    "the access token must be 1 to 512 characters of letters, digits and symbols"
                        .into(),
                ));
            }
            checked.secret = Some(SecretString::from(token));
            checked.pasted_expires_at = expires_in_minutes.map(|m| now + i64::from(m) * 60);
        }
    }
    Ok(checked)
}

/// All accounts of one database, their secrets and their API clients.
pub struct Accounts {
    store: Arc<Store>,
    keyring: Arc<Keyring>,
    clock: Arc<dyn Clock>,
    /// `RETRACT_API_BASE`: every non-demo account talks to this base instead.
    api_base_override: Option<String>,
    session_secrets: Mutex<HashMap<String, SecretString>>,
    apis: Mutex<HashMap<AccountId, Api>>,
}

impl Accounts {
    pub fn new(
        store: Arc<Store>,
        keyring: Arc<Keyring>,
        clock: Arc<dyn Clock>,
        api_base_override: Option<String>,
    ) -> Self {
        Self {
            store,
            keyring,
            clock,
            api_base_override,
            session_secrets: Mutex::new(HashMap::new()),
            apis: Mutex::new(HashMap::new()),
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    /// Checks the fields, obtains a token and reads the delete quota. Nothing is stored.
    pub async fn verify(&self, draft: &AccountDraft) -> Result<VerifyReport, CoreError> {
        let checked = check(draft, crate::now_unix())?;
        let api = self.build_api(
            checked.kind,
            &checked.appid,
            checked.secret.clone(),
            checked.service_url.as_deref(),
            checked.service_header.as_deref(),
            checked.pasted_expires_at,
            checked.proxy.as_deref(),
            checked.api_base.as_deref(),
            false,
        )?;
        verify_with(&api).await
    }

    /// Stores the profile and its secret. With [`SecretStorage::Keyring`] the secret is written
    /// to the OS keyring and read back; if that fails nothing is kept and the keyring error is
    /// returned, so the UI can explain it and offer [`SecretStorage::SessionOnly`].
    pub fn save(&self, draft: &AccountDraft, storage: SecretStorage) -> Result<Account, CoreError> {
        let now = crate::now_unix();
        let c = check(draft, now)?;
        let exists: Option<i64> = self
            .store
            .conn()
            .query_row(
                "SELECT id FROM accounts WHERE appid = ?1 AND is_demo = 0",
                [&c.appid],
                |r| r.get(0),
            )
            .optional()
            .map_err(self.store.err("cannot read the accounts"))?;
        if exists.is_some() {
            return Err(CoreError::Invalid(format!(
                "an account with AppID {} already exists",
                c.appid
            )));
        }
        if let Some(secret) = &c.secret {
            let user = c.kind.secret_user(&c.appid);
            match storage {
                SecretStorage::Keyring => {
                    self.keyring.set(&user, secret)?;
                    let back = self.keyring.get(&user)?;
                    if back.as_ref().map(|b| b.expose_secret()) != Some(secret.expose_secret()) {
                        let _ = self.keyring.delete(&user);
                        return Err(CoreError::Keyring(crate::keyring::KeyringError::Other(
                            "the keyring did not give the secret back as written".into(),
                        )));
                    }
                }
                SecretStorage::SessionOnly => {
                    self.session().insert(user, secret.clone());
                }
            }
        }
        let id = self.insert(&c, false, now)?;
        self.store.audit(Some(id), "account_added", &serde_json::json!({"appid": c.appid, "source": c.kind.as_str(), "secret_storage": storage}))?;
        self.get(id)
    }

    fn insert(&self, c: &Checked, is_demo: bool, now: i64) -> Result<AccountId, CoreError> {
        let conn = self.store.conn();
        conn.execute(
            "INSERT INTO accounts (name, appid, token_source, service_url, service_header, pasted_expires_at, proxy, api_base, is_demo, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![c.name, c.appid, c.kind.as_str(), c.service_url, c.service_header, c.pasted_expires_at, c.proxy, c.api_base, is_demo, now],
        )
        .map_err(self.store.err("cannot save the account"))?;
        Ok(conn.last_insert_rowid())
    }

    /// The demo account on the embedded simulator: created fresh (its old index wiped) each
    /// time the demo starts, flagged `is_demo`, its public secret kept in memory only.
    pub fn ensure_demo(
        &self,
        base_url: &str,
        appid: &str,
        secret: &str,
    ) -> Result<Account, CoreError> {
        {
            let conn = self.store.conn();
            conn.execute("DELETE FROM accounts WHERE is_demo = 1", [])
                .map_err(self.store.err("cannot reset the demo account"))?;
        }
        let c = Checked {
            name: "Demo 演示".into(),
            appid: appid.into(),
            kind: SourceKind::Stable,
            secret: None,
            service_url: None,
            service_header: None,
            pasted_expires_at: None,
            proxy: None,
            api_base: Some(base_url.into()),
        };
        let id = self.insert(&c, true, crate::now_unix())?;
        self.session()
            .insert(demo_secret_key(id), SecretString::from(secret.to_string()));
        self.apis().remove(&id);
        self.get(id)
    }

    pub fn list(&self) -> Result<Vec<Account>, CoreError> {
        let conn = self.store.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {COLUMNS} FROM accounts ORDER BY is_demo, created_at, id"
            ))
            .map_err(self.store.err("cannot read the accounts"))?;
        let rows = stmt
            .query_map([], row_to_account)
            .map_err(self.store.err("cannot read the accounts"))?;
        rows.collect::<Result<_, _>>()
            .map_err(self.store.err("cannot read the accounts"))
    }

    pub fn get(&self, id: AccountId) -> Result<Account, CoreError> {
        self.store
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM accounts WHERE id = ?1"),
                [id],
                row_to_account,
            )
            .optional()
            .map_err(self.store.err("cannot read the account"))?
            .ok_or_else(|| CoreError::NotFound(format!("account {id}")))
    }

    pub fn rename(&self, id: AccountId, name: &str) -> Result<Account, CoreError> {
        let name = clean_field(name, "the account name")?;
        if name.is_empty() || name.chars().count() > 40 {
            return Err(CoreError::Invalid(
                "the account name must be 1 to 40 characters".into(),
            ));
        }
        let changed = self
            .store
            .conn()
            .execute(
                "UPDATE accounts SET name = ?1 WHERE id = ?2",
                params![name, id],
            )
            .map_err(self.store.err("cannot rename the account"))?;
        if changed == 0 {
            return Err(CoreError::NotFound(format!("account {id}")));
        }
        self.get(id)
    }

    /// Removes the keyring entries first (so a failure leaves the account usable and visible),
    /// then the profile and, by cascade, its index, plans and journal.
    pub fn remove(&self, id: AccountId) -> Result<(), CoreError> {
        let account = self.get(id)?;
        if !account.is_demo {
            // A secret kept for this session only was never written to a keyring: an unreachable
            // keyring (the reason to choose "session only") must not block the removal then.
            let session_only = self
                .session()
                .contains_key(&account.source.secret_user(&account.appid));
            for kind in [SourceKind::Stable, SourceKind::Service, SourceKind::Pasted] {
                let user = kind.secret_user(&account.appid);
                self.session().remove(&user);
                match self.keyring.delete(&user) {
                    Ok(_) => {}
                    Err(KeyringError::NoSessionBus(_) | KeyringError::NoProvider(_))
                        if session_only => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        self.apis().remove(&id);
        self.store
            .conn()
            .execute("DELETE FROM accounts WHERE id = ?1", [id])
            .map_err(self.store.err("cannot remove the account"))?;
        self.store.audit(
            Some(id),
            "account_removed",
            &serde_json::json!({"appid": account.appid}),
        )
    }

    /// Where this account's secret is right now, if anywhere.
    pub fn secret_storage(&self, account: &Account) -> Result<Option<SecretStorage>, CoreError> {
        if account.is_demo {
            return Ok(Some(SecretStorage::SessionOnly));
        }
        let user = account.source.secret_user(&account.appid);
        if self.session().contains_key(&user) {
            return Ok(Some(SecretStorage::SessionOnly));
        }
        Ok(self.keyring.get(&user)?.map(|_| SecretStorage::Keyring))
    }

    /// Puts a secret back for this session (after a launch where the keyring was unavailable).
    pub fn provide_session_secret(&self, id: AccountId, secret: &str) -> Result<(), CoreError> {
        let account = self.get(id)?;
        let secret = match account.source {
            SourceKind::Stable => check_secret(secret)?,
            _ => SecretString::from(clean_field(secret, "the secret")?),
        };
        self.session()
            .insert(account.source.secret_user(&account.appid), secret);
        self.apis().remove(&id);
        Ok(())
    }

    /// Re-checks a saved account: token and delete quota.
    pub async fn reverify(&self, id: AccountId) -> Result<VerifyReport, CoreError> {
        let api = self.api(id)?;
        verify_with(&api).await
    }

    /// The account's API client, built once and cached (its token cache with it).
    pub fn api(&self, id: AccountId) -> Result<Api, CoreError> {
        if let Some(api) = self.apis().get(&id) {
            return Ok(api.clone());
        }
        let a = self.get(id)?;
        let secret = if a.is_demo {
            self.session().get(&demo_secret_key(id)).cloned()
        } else {
            let user = a.source.secret_user(&a.appid);
            match self.session().get(&user).cloned() {
                Some(s) => Some(s),
                None => self.keyring.get(&user)?,
            }
        };
        let needs_secret = a.source != SourceKind::Service || a.service_header.is_some();
        if needs_secret && secret.is_none() {
            return Err(CoreError::SecretMissing);
        }
        let api = self.build_api(
            a.source,
            &a.appid,
            secret,
            a.service_url.as_deref(),
            a.service_header.as_deref(),
            a.pasted_expires_at,
            a.proxy.as_deref(),
            a.api_base.as_deref(),
            a.is_demo,
        )?;
        self.apis().insert(id, api.clone());
        Ok(api)
    }

    #[allow(clippy::too_many_arguments)]
    fn build_api(
        &self,
        kind: SourceKind,
        appid: &str,
        secret: Option<SecretString>,
        service_url: Option<&str>,
        service_header: Option<&str>,
        pasted_expires_at: Option<i64>,
        proxy: Option<&str>,
        api_base: Option<&str>,
        is_demo: bool,
    ) -> Result<Api, CoreError> {
        let base = match (is_demo, &self.api_base_override, api_base) {
            (true, _, Some(base)) => base.to_string(),
            (false, Some(over), _) => over.clone(),
            (_, _, Some(base)) => base.to_string(),
            _ => wechat_mp::DEFAULT_API_BASE.to_string(),
        };
        let client = Client::new(&ClientConfig {
            api_base: base,
            proxy: proxy.map(str::to_string),
            ..ClientConfig::default()
        })?;
        let missing = || CoreError::SecretMissing;
        let source = match kind {
            SourceKind::Stable => TokenSource::Stable {
                appid: appid.to_string(),
                secret: secret.ok_or_else(missing)?,
            },
            SourceKind::Service => TokenSource::Service {
                url: wechat_mp::client::check_url(
                    service_url.unwrap_or_default(),
                    "the token service URL",
                    false,
                )?,
                header: match (service_header, secret) {
                    (Some(name), Some(value)) => Some((name.to_string(), value)),
                    _ => None,
                },
            },
            SourceKind::Pasted => TokenSource::Fixed {
                token: secret.ok_or_else(missing)?,
                expires_at: pasted_expires_at
                    .map(|t| SystemTime::UNIX_EPOCH + Duration::from_secs(t.max(0) as u64)),
            },
        };
        let cache = TokenCache::new(source, Arc::clone(&self.clock));
        Ok(Api::new(client, Arc::new(cache)))
    }

    fn session(&self) -> std::sync::MutexGuard<'_, HashMap<String, SecretString>> {
        self.session_secrets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn apis(&self) -> std::sync::MutexGuard<'_, HashMap<AccountId, Api>> {
        self.apis.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn demo_secret_key(id: AccountId) -> String {
    format!("demo:{id}")
}

async fn verify_with(api: &Api) -> Result<VerifyReport, CoreError> {
    api.token().await?;
    match api.quota(DELETE_CGI_PATH).await {
        Ok(q) => Ok(VerifyReport {
            delete_daily_limit: Some(q.quota.daily_limit),
            delete_used: Some(q.quota.used),
            delete_remain: Some(q.quota.remain),
        }),
        // Account-level refusals are what Verify is for; they still fail it.
        Err(e) if is_account_refusal(&e) => Err(e.into()),
        Err(e) => {
            tracing::debug!(error = %e, "quota/get did not answer; the token works");
            Ok(VerifyReport {
                delete_daily_limit: None,
                delete_used: None,
                delete_remain: None,
            })
        }
    }
}

/// Errors of `quota/get` that concern the account, not the advisory quota API itself.
fn is_account_refusal(e: &wechat_mp::Error) -> bool {
    use wechat_mp::ErrorClass as C;
    matches!(
        e.class(),
        Some(
            C::IpNotWhitelisted { .. }
                | C::RiskyIp
                | C::Unauthorized
                | C::Configuration
                | C::TokenInvalid
        )
    ) || matches!(
        e,
        wechat_mp::Error::Transport { .. } | wechat_mp::Error::FixedTokenExpired
    )
}

const COLUMNS: &str = "id, name, appid, token_source, service_url, service_header, pasted_expires_at, proxy, api_base, is_demo, created_at, synced_at";

fn row_to_account(r: &rusqlite::Row<'_>) -> rusqlite::Result<Account> {
    Ok(Account {
        id: r.get(0)?,
        name: r.get(1)?,
        appid: r.get(2)?,
        source: SourceKind::parse(&r.get::<_, String>(3)?),
        service_url: r.get(4)?,
        service_header: r.get(5)?,
        pasted_expires_at: r.get(6)?,
        proxy: r.get(7)?,
        api_base: r.get(8)?,
        is_demo: r.get(9)?,
        created_at: r.get(10)?,
        synced_at: r.get(11)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appid_is_checked_trimmed_and_cleaned_of_invisible_characters() {
        assert_eq!(
            check_appid("  wx5E7D1C0FFEE0A1B2\u{200B} ").unwrap(),
            "wx5e7d1c0ffee0a1b2"
        );
        for bad in [
            "",
            "wx123",
            "ab5e7d1c0ffee0a1b2",
            "wx5e7d1c0ffee0a1bz",
            "wx5e7d1c0ffee0a1b2a",
        ] {
            assert!(check_appid(bad).is_err(), "{bad}");
        }
        let err = check_appid("wx5e7d1c0ffee0a\u{0007}b2")
            .unwrap_err()
            .to_string();
        assert!(err.contains("U+0007"), "{err}");
    }

    #[test]
    fn secret_errors_say_what_is_wrong_without_repeating_the_secret() {
        let s = check_secret("\u{FEFF}3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d\n").unwrap();
        assert_eq!(s.expose_secret(), "3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d");
        let err = check_secret("3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("31 characters") && !err.contains("3f2a9c"),
            "{err}"
        );
        let err = check_secret("zz2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d")
            .unwrap_err()
            .to_string();
        assert!(err.contains("other characters"), "{err}");
    }
}
