//! Secrets in the OS keyring: the freedesktop Secret Service on Linux (gnome-keyring, KWallet,
//! KeePassXC), the login Keychain on macOS, the Credential Manager on Windows.
//!
//! Invariants:
//! - the store is connected lazily and a failed connection is retried on the next call, so a
//!   user who starts or unlocks their keyring does not have to restart the app;
//! - a missing entry is absence (`Ok(None)`), never an error;
//! - every failure is classified into something the UI can explain; no error carries a secret;
//! - there is no plaintext fallback: when no keyring works, the caller must say so.
//!
//! Calls block on D-Bus (and may wait on an unlock prompt): async callers run them in
//! `spawn_blocking`.

use std::sync::{Arc, Mutex};

use keyring_core::{CredentialStore, Entry};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

/// The keyring service name for this build: release builds and dev/test builds never share
/// entries.
pub fn service_name(app_identifier: &str) -> String {
    if cfg!(debug_assertions) {
        format!("{app_identifier}.dev")
    } else {
        app_identifier.to_string()
    }
}

/// The OS keyring this build uses, as the self-test names it.
pub const STORE_NAME: &str = if cfg!(target_os = "linux") {
    "Secret Service"
} else if cfg!(target_os = "macos") {
    "macOS Keychain"
} else if cfg!(windows) {
    "Windows Credential Manager"
} else {
    "none on this system"
};

#[cfg(target_os = "linux")]
fn open_store() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = zbus_secret_service_keyring_store::Store::new()?;
    Ok(store)
}

#[cfg(target_os = "macos")]
fn open_store() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()?;
    Ok(store)
}

#[cfg(windows)]
fn open_store() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = windows_native_keyring_store::Store::new()?;
    Ok(store)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn open_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Err(keyring_core::Error::NotSupportedByStore(
        "Retract knows no keyring on this system".into(),
    ))
}

/// Why the keyring cannot be used, in terms a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "problem", content = "detail", rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum KeyringError {
    /// No D-Bus session bus (a bare SSH or container session).
    #[error("no D-Bus session bus: {0}")]
    NoSessionBus(String),
    /// A bus, but nothing provides the Secret Service (no gnome-keyring / KWallet).
    #[error("no Secret Service provider (install gnome-keyring or KWallet): {0}")]
    NoProvider(String),
    /// The keyring is locked and could not be unlocked (prompt dismissed or impossible).
    #[error("the keyring is locked: {0}")]
    Locked(String),
    #[error("keyring error: {0}")]
    Other(String),
}

impl KeyringError {
    fn classify(err: &keyring_core::Error) -> Self {
        let text = err.to_string();
        let lower = text.to_lowercase();
        if matches!(err, keyring_core::Error::NoStorageAccess(_))
            || lower.contains("prompt dismissed")
            || lower.contains("result not returned")
            || lower.contains("locked")
        {
            Self::Locked(text)
        } else if lower.contains("serviceunknown") || lower.contains("not provided by any .service")
        {
            Self::NoProvider(text)
        } else if lower.contains("failed to connect")
            || lower.contains("dbus_session_bus_address")
            || lower.contains("session bus")
            || lower.contains("no such file or directory")
        {
            Self::NoSessionBus(text)
        } else {
            Self::Other(text)
        }
    }
}

/// One app's entries in the OS keyring, under one service name.
pub struct Keyring {
    service: String,
    store: Mutex<Option<Arc<CredentialStore>>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

/// What the self-test found: which store answered, or why none works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelfTest {
    pub service: String,
    /// The store's own description, when one answered.
    pub store: Option<String>,
    pub wrote: bool,
    pub read_back: bool,
    pub deleted: bool,
    pub error: Option<KeyringError>,
}

impl SelfTest {
    pub fn ok(&self) -> bool {
        self.wrote && self.read_back && self.deleted && self.error.is_none()
    }
}

impl Keyring {
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
            store: Mutex::new(None),
        }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn store(&self) -> Result<Arc<CredentialStore>, KeyringError> {
        let mut slot = self.store.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(store) = slot.as_ref() {
            return Ok(Arc::clone(store));
        }
        let store = open_store().map_err(|e| KeyringError::classify(&e))?;
        *slot = Some(Arc::clone(&store));
        Ok(store)
    }

    /// A store that fails at the bus level may have gone away; reconnect next time.
    fn forget_store_on(&self, err: &KeyringError) {
        if matches!(
            err,
            KeyringError::NoSessionBus(_) | KeyringError::NoProvider(_)
        ) {
            *self.store.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }

    fn entry(&self, user: &str) -> Result<Entry, KeyringError> {
        let store = self.store()?;
        Entry::new_in_store(&store, &self.service, user).map_err(|e| KeyringError::classify(&e))
    }

    fn run<T>(&self, op: impl FnOnce() -> Result<T, KeyringError>) -> Result<T, KeyringError> {
        op().inspect_err(|e| self.forget_store_on(e))
    }

    pub fn set(&self, user: &str, secret: &SecretString) -> Result<(), KeyringError> {
        self.run(|| {
            self.entry(user)?
                .set_password(secret.expose_secret())
                .map_err(|e| KeyringError::classify(&e))
        })
    }

    /// `Ok(None)` when there is no such entry.
    pub fn get(&self, user: &str) -> Result<Option<SecretString>, KeyringError> {
        self.run(|| match self.entry(user)?.get_password() {
            Ok(p) => Ok(Some(SecretString::from(p))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(KeyringError::classify(&e)),
        })
    }

    /// `Ok(false)` when there was nothing to delete.
    pub fn delete(&self, user: &str) -> Result<bool, KeyringError> {
        self.run(|| match self.entry(user)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(KeyringError::classify(&e)),
        })
    }

    /// Writes, reads back and deletes a canary entry; reports how far it got.
    pub fn self_test(&self) -> SelfTest {
        let mut report = SelfTest {
            service: self.service.clone(),
            // The OS's store by name, even when it does not answer.
            store: Some(STORE_NAME.to_string()),
            wrote: false,
            read_back: false,
            deleted: false,
            error: None,
        };
        let user = "retract-self-test";
        let canary = SecretString::from(format!("self-test-{}", std::process::id()));
        let outcome = (|| {
            let vendor = keyring_core::api::CredentialStoreApi::vendor(&*self.store()?);
            report.store = Some(format!("{STORE_NAME} ({vendor})"));
            self.set(user, &canary)?;
            report.wrote = true;
            let back = self.get(user)?;
            report.read_back = back.is_some_and(|b| b.expose_secret() == canary.expose_secret());
            report.deleted = self.delete(user)?;
            Ok::<_, KeyringError>(())
        })();
        if let Err(e) = outcome {
            report.error = Some(e);
        } else if !report.read_back {
            report.error = Some(KeyringError::Other(
                "the keyring stored the entry but gave back something else".into(),
            ));
        }
        report
    }
}
