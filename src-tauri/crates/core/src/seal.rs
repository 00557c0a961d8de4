//! Confirmations the database file cannot carry by itself (issue 19, attacker D: someone who
//! can swap, restore or edit the database).
//!
//! When the operator confirms a plan, Retract writes `plans.seal`: an HMAC-SHA256, keyed with a
//! secret that lives in the OS keyring (never in the database), over the plan, its account and
//! AppID, the confirmation time, the schedule it was confirmed for and every target as reviewed
//! (position, article, reviewed titles and links). Before a run sends anything for a plan, the
//! seal is computed again and compared. A plan written into the file by hand, a plan whose
//! targets, account or time were changed, a plan confirmed by another installation (another
//! key), a finished plan set back to `confirmed`: none has a matching seal, and nothing of it
//! is sent. A plan gives its seal up when it finishes.
//!
//! Where the keyring cannot be reached, the key lives in this process only: plans confirmed in
//! this session run; after a restart they are refused and the operator plans them again.

use std::sync::{Mutex, OnceLock};

use hmac::{Hmac, KeyInit, Mac};
use rusqlite::{Connection, OptionalExtension, params};
use sha2::Sha256;

use crate::error::CoreError;
use crate::ids::PlanId;

/// The keyring entry (user name) that holds the key, in the app's keyring service.
pub const KEYRING_ENTRY: &str = "plan-seal-key";

/// 32 random bytes. Never shown: `Debug` says nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct SealKey([u8; 32]);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

impl SealKey {
    pub fn random() -> Result<Self, CoreError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| CoreError::Store(format!("no randomness for the plan seal key: {e}")))?;
        Ok(Self(bytes))
    }

    /// From its stored form (64 hex digits).
    pub fn from_hex(text: &str) -> Option<Self> {
        let text = text.trim();
        if text.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(bytes))
    }

    /// Its stored form, for the keyring (and the queue-runner test tool's environment).
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// The installation's key from the OS keyring, made (and stored there) the first time. An
/// error says why the keyring could not give one: the caller keeps the process key then.
pub fn key_from_keyring(keyring: &crate::keyring::Keyring) -> Result<SealKey, String> {
    use secrecy::ExposeSecret;
    match keyring.get(KEYRING_ENTRY).map_err(|e| e.to_string())? {
        Some(stored) => SealKey::from_hex(stored.expose_secret())
            .ok_or_else(|| "the keyring's plan seal key is not in its form".to_string()),
        None => {
            let key = SealKey::random().map_err(|e| e.to_string())?;
            keyring
                .set(KEYRING_ENTRY, &secrecy::SecretString::from(key.to_hex()))
                .map_err(|e| e.to_string())?;
            Ok(key)
        }
    }
}

/// The key of this process until one is set from the keyring: every store opened by this
/// process shares it (a second window, a test that reopens the file).
fn process_key() -> &'static SealKey {
    static KEY: OnceLock<SealKey> = OnceLock::new();
    KEY.get_or_init(|| {
        SealKey::random().unwrap_or_else(|_| {
            // No randomness at all: a key no other process has either (its address and time).
            let seed = format!("{:p}{:?}", &KEY, std::time::SystemTime::now());
            let mut bytes = [0u8; 32];
            for (i, b) in seed.bytes().enumerate() {
                bytes[i % 32] ^= b.rotate_left(i as u32 % 8);
            }
            SealKey(bytes)
        })
    })
}

/// The key a store seals with.
#[derive(Debug)]
pub(crate) struct Sealer(Mutex<SealKey>);

impl Default for Sealer {
    fn default() -> Self {
        Self(Mutex::new(process_key().clone()))
    }
}

impl Sealer {
    pub(crate) fn set(&self, key: SealKey) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = key;
    }

    pub(crate) fn key(&self) -> SealKey {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// What the seal covers, as one canonical text (JSON of plain values, in a fixed order).
fn sealed_text(conn: &Connection, plan: PlanId) -> rusqlite::Result<Option<String>> {
    let head: Option<(i64, String, Option<i64>, Option<i64>)> = conn
        .query_row(
            "SELECT p.account_id, a.appid, p.confirmed_at, p.scheduled_for
             FROM plans p JOIN accounts a ON a.id = p.account_id WHERE p.id = ?1",
            [plan],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    let Some((account, appid, confirmed_at, scheduled_for)) = head else {
        return Ok(None);
    };
    let mut stmt = conn.prepare_cached(
        "SELECT seq, article_id, idx, titles FROM plan_targets WHERE plan_id = ?1 ORDER BY seq",
    )?;
    let targets: Vec<(u32, String, u32, String)> = stmt
        .query_map([plan], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    Ok(Some(
        serde_json::json!([
            "retract plan seal 1",
            plan,
            account,
            appid,
            confirmed_at,
            scheduled_for,
            targets
        ])
        .to_string(),
    ))
}

fn mac(key: &SealKey, text: &str) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key.0)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(text.as_bytes());
    mac
}

/// Writes the seal of `plan` (inside the confirming transaction).
pub(crate) fn seal(conn: &Connection, key: &SealKey, plan: PlanId) -> rusqlite::Result<()> {
    let Some(text) = sealed_text(conn, plan)? else {
        return Err(rusqlite::Error::QueryReturnedNoRows);
    };
    let tag: String = mac(key, &text)
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    conn.execute(
        "UPDATE plans SET seal = ?1 WHERE id = ?2",
        params![tag, plan],
    )?;
    Ok(())
}

/// Whether `plan` carries the seal this installation would have written for it as it stands.
pub(crate) fn verify(conn: &Connection, key: &SealKey, plan: PlanId) -> Result<(), String> {
    let refuse = || {
        format!(
            "plan {plan} does not carry a confirmation this Retract made for what it holds now (its articles, account or time were changed, it was confirmed elsewhere, or the database was restored or replaced): nothing of it was sent. Cancel it and plan again"
        )
    };
    let stored: Option<String> = conn
        .query_row("SELECT seal FROM plans WHERE id = ?1", [plan], |r| r.get(0))
        .optional()
        .map_err(|e| e.to_string())?
        .flatten();
    let Some(stored) = stored else {
        return Err(refuse());
    };
    let Some(text) = sealed_text(conn, plan).map_err(|e| e.to_string())? else {
        return Err(refuse());
    };
    let bytes: Option<Vec<u8>> = (stored.len() == 64)
        .then(|| {
            (0..32)
                .map(|i| u8::from_str_radix(stored.get(2 * i..2 * i + 2)?, 16).ok())
                .collect()
        })
        .flatten();
    match bytes {
        Some(bytes) if mac(key, &text).verify_slice(&bytes).is_ok() => Ok(()),
        _ => Err(refuse()),
    }
}

#[cfg(test)]
mod tests {
    use super::SealKey;

    #[test]
    fn a_key_reads_back_from_its_stored_form_and_never_shows() {
        let key = SealKey::random().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(SealKey::from_hex(&key.to_hex()), Some(key.clone()));
        assert_eq!(format!("{key:?}"), "SealKey(..)");
        assert_eq!(SealKey::from_hex("00"), None);
        assert_eq!(SealKey::from_hex(&"zz".repeat(32)), None);
    }
}
