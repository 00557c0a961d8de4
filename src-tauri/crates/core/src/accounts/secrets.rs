//! Where an account's secret lives: the OS keyring, or — on the operator's explicit choice,
//! or for the demo — memory for this session only. Never plaintext on disk.
//!
//! Invariants: a secret written to the keyring is read back before it counts as stored; the
//! keyring entry's name is derived here and nowhere else (the UI is told it); a secret is handed
//! out only for the destination it was saved for.
//!
//! Why the binding: where a secret is sent (API base, proxy, token service) lives in SQLite,
//! which nothing protects. A restored or swapped database would otherwise send the AppSecret to
//! its own address on the next sync. So the destination is written next to the secret (a second
//! keyring entry, `<entry>:destination`; in memory for session secrets) and compared before use.

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

fn binding_name(entry: &str) -> String {
    format!("{entry}:destination")
}

fn demo_key(id: AccountId) -> String {
    format!("demo:{id}")
}

/// The keyring and this session's in-memory secrets.
pub(crate) struct Secrets {
    keyring: Arc<Keyring>,
    /// entry → (secret, the destination it was given for).
    session: Mutex<HashMap<String, (SecretString, String)>>,
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

    fn session(&self) -> MutexGuard<'_, HashMap<String, (SecretString, String)>> {
        self.session.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a secret as chosen, bound to `destination`. In the keyring both are read back;
    /// if that fails, nothing is kept.
    pub fn put(
        &self,
        entry: &str,
        secret: &SecretString,
        storage: SecretStorage,
        destination: &str,
    ) -> Result<(), CoreError> {
        match storage {
            SecretStorage::Keyring => {
                let binding = binding_name(entry);
                let dest = SecretString::from(destination.to_string());
                let written = self
                    .keyring
                    .set(&binding, &dest)
                    .and_then(|()| self.keyring.set(entry, secret))
                    .and_then(|()| Ok((self.keyring.get(entry)?, self.keyring.get(&binding)?)));
                let intact = matches!(&written, Ok((Some(s), Some(d)))
                    if s.expose_secret() == secret.expose_secret() && d.expose_secret() == destination);
                if !intact {
                    let _ = self.keyring.delete(entry);
                    let _ = self.keyring.delete(&binding);
                    written?;
                    return Err(CoreError::Keyring(KeyringError::Other(
                        "the keyring did not give the secret back as written".into(),
                    )));
                }
            }
            SecretStorage::SessionOnly => {
                self.session()
                    .insert(entry.to_string(), (secret.clone(), destination.to_string()));
            }
        }
        Ok(())
    }

    /// The destination the secret of `entry` was given for (this session's, else the
    /// keyring's), whatever the account names now; `None` when there is no secret.
    pub fn bound_to(&self, entry: &str) -> Result<Option<String>, CoreError> {
        if let Some((_, bound)) = self.session().get(entry) {
            return Ok(Some(bound.clone()));
        }
        if self.keyring.get(entry)?.is_none() {
            return Ok(None);
        }
        Ok(self
            .keyring
            .get(&binding_name(entry))?
            .map(|d| d.expose_secret().to_string()))
    }

    /// This session's secret if there is one, else the keyring's — only for `destination`.
    pub fn find(&self, entry: &str, destination: &str) -> Result<Option<SecretString>, CoreError> {
        Ok(self.locate(entry, destination)?.map(|(s, _)| s))
    }

    /// Where the secret of `entry` is right now, if anywhere (and bound to `destination`).
    pub fn storage_of(
        &self,
        entry: &str,
        destination: &str,
    ) -> Result<Option<SecretStorage>, CoreError> {
        Ok(self.locate(entry, destination)?.map(|(_, at)| at))
    }

    fn locate(
        &self,
        entry: &str,
        destination: &str,
    ) -> Result<Option<(SecretString, SecretStorage)>, CoreError> {
        let elsewhere = || CoreError::SecretBoundElsewhere;
        if let Some((secret, bound)) = self.session().get(entry).cloned() {
            return if bound == destination {
                Ok(Some((secret, SecretStorage::SessionOnly)))
            } else {
                Err(elsewhere())
            };
        }
        let Some(secret) = self.keyring.get(entry)? else {
            return Ok(None);
        };
        match self.keyring.get(&binding_name(entry))? {
            Some(bound) if bound.expose_secret() == destination => {
                Ok(Some((secret, SecretStorage::Keyring)))
            }
            // Another destination, or a secret saved before secrets were bound: not sent.
            _ => Err(elsewhere()),
        }
    }

    /// Forgets every secret an account may have had. A secret kept for this session only was
    /// never written to a keyring: an unreachable keyring (the reason to choose "session only")
    /// does not block the removal then.
    pub fn forget_account(&self, appid: &str, current: SourceKind) -> Result<(), CoreError> {
        let session_only = self.session().contains_key(&entry_name(appid, current));
        for kind in [SourceKind::Stable, SourceKind::Service, SourceKind::Pasted] {
            let entry = entry_name(appid, kind);
            self.session().remove(&entry);
            for name in [binding_name(&entry), entry] {
                match self.keyring.delete(&name) {
                    Ok(_) => {}
                    Err(KeyringError::NoSessionBus(_) | KeyringError::NoProvider(_))
                        if session_only => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(())
    }

    /// The demo's public secret, in memory only.
    pub fn put_demo(&self, id: AccountId, secret: &str) {
        self.session().insert(
            demo_key(id),
            (SecretString::from(secret.to_string()), String::new()),
        );
    }

    pub fn demo(&self, id: AccountId) -> Option<SecretString> {
        self.session().get(&demo_key(id)).map(|(s, _)| s.clone())
    }
}
