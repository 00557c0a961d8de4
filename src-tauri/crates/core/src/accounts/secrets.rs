//! Where an account's secret lives: the OS keyring, or — on the operator's explicit choice,
//! or for the demo — memory for this session only. Never plaintext on disk.
//!
//! Invariants: a secret written to the keyring is read back before it counts as stored; the
//! keyring entry's name is derived here and nowhere else (the UI is told it).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::profile::{AccountId, SourceKind};
use crate::error::CoreError;
use crate::keyring::{Keyring, KeyringError};

/// Where a saved secret lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum SecretStorage {
    Keyring,
    SessionOnly,
}

/// The keyring entry (user name under the app's service) for an account's secret.
pub fn entry_name(appid: &str, kind: SourceKind) -> String {
    match kind {
        SourceKind::Stable => format!("{appid}:appsecret"),
        SourceKind::Service => format!("{appid}:token-service-credential"),
        SourceKind::Pasted => format!("{appid}:pasted-token"),
    }
}

fn demo_key(id: AccountId) -> String {
    format!("demo:{id}")
}

/// The keyring and this session's in-memory secrets.
pub(crate) struct Secrets {
    keyring: Arc<Keyring>,
    session: Mutex<HashMap<String, SecretString>>,
}

impl Secrets {
    pub fn new(keyring: Arc<Keyring>) -> Self {
        Self {
            keyring,
            session: Mutex::new(HashMap::new()),
        }
    }

    pub fn keyring(&self) -> &Arc<Keyring> {
        &self.keyring
    }

    fn session(&self) -> MutexGuard<'_, HashMap<String, SecretString>> {
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a secret as chosen. In the keyring it is read back; if that fails, nothing is kept.
    pub fn put(
        &self,
        entry: &str,
        secret: &SecretString,
        storage: SecretStorage,
    ) -> Result<(), CoreError> {
        match storage {
            SecretStorage::Keyring => {
                self.keyring.set(entry, secret)?;
                let back = self.keyring.get(entry)?;
                if back.as_ref().map(|b| b.expose_secret()) != Some(secret.expose_secret()) {
                    let _ = self.keyring.delete(entry);
                    return Err(CoreError::Keyring(KeyringError::Other(
                        "the keyring did not give the secret back as written".into(),
                    )));
                }
            }
            SecretStorage::SessionOnly => {
                self.session().insert(entry.to_string(), secret.clone());
            }
        }
        Ok(())
    }

    /// This session's secret if there is one, else the keyring's.
    pub fn find(&self, entry: &str) -> Result<Option<SecretString>, CoreError> {
        if let Some(s) = self.session().get(entry).cloned() {
            return Ok(Some(s));
        }
        Ok(self.keyring.get(entry)?)
    }

    /// Where the secret of `entry` is right now, if anywhere.
    pub fn storage_of(&self, entry: &str) -> Result<Option<SecretStorage>, CoreError> {
        if self.session().contains_key(entry) {
            return Ok(Some(SecretStorage::SessionOnly));
        }
        Ok(self.keyring.get(entry)?.map(|_| SecretStorage::Keyring))
    }

    /// Forgets every secret an account may have had. A secret kept for this session only was
    /// never written to a keyring: an unreachable keyring (the reason to choose "session only")
    /// does not block the removal then.
    pub fn forget_account(&self, appid: &str, current: SourceKind) -> Result<(), CoreError> {
        let session_only = self.session().contains_key(&entry_name(appid, current));
        for kind in [SourceKind::Stable, SourceKind::Service, SourceKind::Pasted] {
            let entry = entry_name(appid, kind);
            self.session().remove(&entry);
            match self.keyring.delete(&entry) {
                Ok(_) => {}
                Err(KeyringError::NoSessionBus(_) | KeyringError::NoProvider(_))
                    if session_only => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The demo's public secret, in memory only.
    pub fn put_demo(&self, id: AccountId, secret: &str) {
        self.session()
            .insert(demo_key(id), SecretString::from(secret.to_string()));
    }

    pub fn demo(&self, id: AccountId) -> Option<SecretString> {
        self.session().get(&demo_key(id)).cloned()
    }
}
