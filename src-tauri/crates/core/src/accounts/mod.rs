//! Accounts: profiles in SQLite (no secrets), secrets in the OS keyring (or, on the operator's
//! explicit choice, in memory for this session only), and one [`wechat_mp::Api`] per account so
//! its token cache lives as long as the app.
//!
//! | module | what it holds |
//! |---|---|
//! | `draft` | the wizard's field checks |
//! | `profile` | `Profile` / `TokenSetup`, the stored `Account`, the choice of API base |
//! | `secrets` | where a secret lives, and the name of its keyring entry |
//! | `clients` | a profile and its secret made into an API client; Verify |
//!
//! Invariants:
//! - a secret is stored only after its shape was checked, and is read back to confirm;
//! - there is no plaintext fallback: when the keyring fails, the caller decides (session only);
//! - removing an account removes its keyring entries, its session secrets and its local index.

mod clients;
mod draft;
mod profile;
mod secrets;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rusqlite::{OptionalExtension, params};
use wechat_mp::{Api, Clock};

pub use clients::VerifyReport;
pub use draft::{
    AccountDraft, DraftSource, Field, FieldCheck, FieldIssue, FieldProblem, clean_field,
    field_check, parse_appid, parse_secret, validate,
};
pub use profile::{
    Account, AccountId, Destination, Profile, SecretDestinations, SourceKind, TokenSetup,
    api_base_for,
};
pub use secrets::{SecretStorage, entry_name};

use crate::error::CoreError;
use crate::keyring::Keyring;
use crate::store::Store;

/// All accounts of one database, their secrets and their API clients.
pub struct Accounts {
    store: Arc<Store>,
    secrets: secrets::Secrets,
    clock: Arc<dyn Clock>,
    /// `RETRACT_API_BASE`: every non-demo account talks to this base instead.
    api_base_override: Option<String>,
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
            secrets: secrets::Secrets::new(keyring),
            clock,
            api_base_override,
            apis: Mutex::new(HashMap::new()),
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    pub fn keyring(&self) -> &Arc<Keyring> {
        self.secrets.keyring()
    }

    /// Checks the fields, obtains a token, reads the delete quota and makes one listing call
    /// (the publishing permission). Nothing is stored.
    pub async fn verify(&self, draft: &AccountDraft) -> Result<VerifyReport, CoreError> {
        let checked = draft::checked(draft, crate::now_unix())?;
        let api = self.client(&checked.profile, false, checked.secret)?;
        clients::verify_for_setup(&api).await
    }

    /// Stores the profile and its secret. With [`SecretStorage::Keyring`] the secret is written
    /// to the OS keyring and read back; if that fails nothing is kept and the keyring error is
    /// returned, so the UI can explain it and offer [`SecretStorage::SessionOnly`].
    pub fn save(&self, draft: &AccountDraft, storage: SecretStorage) -> Result<Account, CoreError> {
        let now = crate::now_unix();
        let c = draft::checked(draft, now)?;
        let appid = &c.profile.appid;
        let exists: Option<(i64, Option<i64>)> = self
            .store
            .conn()
            .query_row(
                "SELECT id, removed_at FROM accounts WHERE appid = ?1 AND is_demo = 0",
                [appid],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(self.store.err("cannot read the accounts"))?;
        if let Some((_, None)) = exists {
            return Err(CoreError::Invalid(format!(
                "an account with AppID {appid} already exists"
            )));
        }
        if let Some(secret) = &c.secret {
            let entry = entry_name(appid, c.profile.setup.kind());
            self.secrets
                .put(&entry, secret, storage, &c.profile.destination())?;
        }
        // The same AppID added again after a removal gets its old row back: what Retract
        // deleted for it (journal, archive) is still known, so it is never planned again.
        let id = match exists {
            Some((old, Some(_))) => {
                let id = AccountId(old);
                profile::revive(&self.store, id, &c.name, &c.profile, now)?;
                id
            }
            _ => profile::insert(&self.store, &c.name, &c.profile, false, now)?,
        };
        self.store.audit(
            Some(id),
            crate::audit::AuditAction::AccountAdded,
            &serde_json::json!({"appid": appid, "source": c.profile.setup.kind(), "secret_storage": storage, "re_added": exists.is_some()}),
        )?;
        self.get(id)
    }

    /// The demo account on the embedded simulator: created fresh (its old index wiped) each
    /// time the demo starts, flagged `is_demo`, its public secret kept in memory only.
    pub fn ensure_demo(
        &self,
        base_url: &str,
        appid: &str,
        secret: &str,
    ) -> Result<Account, CoreError> {
        self.store
            .conn()
            .execute("DELETE FROM accounts WHERE is_demo = 1", [])
            .map_err(self.store.err("cannot reset the demo account"))?;
        let demo = Profile {
            appid: appid.into(),
            setup: TokenSetup::Stable,
            api_base: Some(base_url.into()),
            proxy: None,
        };
        let id = profile::insert(&self.store, "Demo 演示", &demo, true, crate::now_unix())?;
        self.secrets.put_demo(id, secret);
        self.apis().remove(&id);
        self.get(id)
    }

    pub fn list(&self) -> Result<Vec<Account>, CoreError> {
        profile::list(&self.store)
    }

    pub fn get(&self, id: AccountId) -> Result<Account, CoreError> {
        profile::get(&self.store, id)
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

    /// Removes an account, holding its run lock (no run or sync is under way). Refused while
    /// a delete of it is unsettled or waits for the operator's word: that must be settled
    /// first, or the answer would be lost with the account. Deletes that were confirmed but
    /// never sent are cancelled. The keyring entries go first (so a failure leaves the account
    /// usable and visible), then the article index; the row, journal and archive are kept
    /// (hidden), so the same AppID added again knows what Retract deleted for it.
    pub fn remove(&self, id: AccountId) -> Result<(), CoreError> {
        let account = self.get(id)?;
        let _lock = crate::runlock::RunLock::try_acquire(&self.store, id)?;
        let unsettled: i64 = self
            .store
            .conn()
            .query_row(
                "SELECT count(*) FROM plan_targets t JOIN plans p ON p.id = t.plan_id
                 WHERE p.account_id = ?1 AND p.status = 'confirmed' AND t.state IN ('intent', 'sent', 'unknown', 'held')",
                [id],
                |r| r.get(0),
            )
            .map_err(self.store.err("cannot read the journal"))?;
        if unsettled > 0 {
            return Err(CoreError::Invalid(format!(
                "{unsettled} delete requests of this account are not settled yet (their outcome is being checked, or waits for your decision in the queue); settle them before removing the account"
            )));
        }
        if !account.is_demo {
            self.secrets
                .forget_account(&account.profile.appid, account.profile.setup.kind())?;
        }
        self.apis().remove(&id);
        {
            let mut conn = self.store.conn();
            let tx = conn
                .transaction()
                .map_err(self.store.err("cannot remove the account"))?;
            tx.execute_batch(&format!(
                "UPDATE plan_targets SET state = 'skipped', outcome = 'cancelled', updated_at = {now}
                     WHERE state IN ('planned', 'waiting') AND plan_id IN (SELECT id FROM plans WHERE account_id = {id});
                 UPDATE plans SET status = 'finished' WHERE account_id = {id} AND status = 'confirmed';
                 UPDATE plans SET status = 'cancelled' WHERE account_id = {id} AND status = 'planned';
                 DELETE FROM messages WHERE account_id = {id};
                 UPDATE accounts SET removed_at = {now}, queue_paused_until = NULL, queue_wake_at = NULL,
                     queue_retries = 0, queue_stopped_at = NULL, sync_cursor = NULL WHERE id = {id};",
                now = crate::now_unix(),
                id = id.0
            ))
            .map_err(self.store.err("cannot remove the account"))?;
            tx.commit()
                .map_err(self.store.err("cannot remove the account"))?;
        }
        self.store.audit(
            Some(id),
            crate::audit::AuditAction::AccountRemoved,
            &serde_json::json!({"appid": account.profile.appid}),
        )
    }

    /// Where this account's secret is right now, if anywhere.
    pub fn secret_storage(&self, account: &Account) -> Result<Option<SecretStorage>, CoreError> {
        if account.is_demo {
            return Ok(Some(SecretStorage::SessionOnly));
        }
        self.secrets
            .storage_of(&account.secret_entry, &account.profile.destination())
    }

    /// Where the account's secret goes now, and where the one Retract holds was given for.
    pub fn secret_destinations(&self, id: AccountId) -> Result<SecretDestinations, CoreError> {
        let account = self.get(id)?;
        let now = Destination::parse(&account.profile.destination())
            .ok_or_else(|| CoreError::Store("the account's destination cannot be read".into()))?;
        let saved_for = self
            .secrets
            .bound_to(&account.secret_entry)?
            .and_then(|text| Destination::parse(&text));
        Ok(SecretDestinations { now, saved_for })
    }

    /// Puts a secret back for this session (after a launch where the keyring was unavailable).
    pub fn provide_session_secret(&self, id: AccountId, secret: &str) -> Result<(), CoreError> {
        let account = self.get(id)?;
        let secret = match account.profile.setup {
            TokenSetup::Stable => parse_secret(secret)?,
            _ => clean_field(secret, "the secret")?.into(),
        };
        self.secrets.put(
            &account.secret_entry,
            &secret,
            SecretStorage::SessionOnly,
            &account.profile.destination(),
        )?;
        self.apis().remove(&id);
        Ok(())
    }

    /// Re-checks a saved account: token and delete quota.
    pub async fn reverify(&self, id: AccountId) -> Result<VerifyReport, CoreError> {
        let api = self.api(id)?;
        clients::verify_with(&api).await
    }

    /// The account's API client, built once and cached (its token cache with it).
    pub fn api(&self, id: AccountId) -> Result<Api, CoreError> {
        if let Some(api) = self.apis().get(&id) {
            return Ok(api.clone());
        }
        let a = self.get(id)?;
        let secret = if a.is_demo {
            self.secrets.demo(id)
        } else {
            self.secrets
                .find(&a.secret_entry, &a.profile.destination())?
        };
        if a.profile.setup.needs_secret() && secret.is_none() {
            return Err(CoreError::SecretMissing);
        }
        let api = self.client(&a.profile, a.is_demo, secret)?;
        self.apis().insert(id, api.clone());
        Ok(api)
    }

    /// The API base a debug build's test hook puts every real account on, if any.
    pub fn api_base_override(&self) -> Option<&str> {
        self.api_base_override.as_deref()
    }

    /// Where the public pages of an account's short links are read: WeChat's article host;
    /// for the demo its simulator, and under the test hook the hook's base (debug builds).
    pub fn pages_base(&self, id: AccountId) -> Result<url::Url, CoreError> {
        let account = self.get(id)?;
        let base = match (account.is_demo, self.api_base_override.as_deref()) {
            (true, _) | (false, Some(_)) => api_base_for(
                &account.profile,
                account.is_demo,
                self.api_base_override.as_deref(),
            ),
            (false, None) => crate::links::ARTICLE_PAGES.to_string(),
        };
        let base = if base.ends_with('/') {
            base
        } else {
            format!("{base}/")
        };
        url::Url::parse(&base)
            .map_err(|e| CoreError::Invalid(format!("bad article page address: {e}")))
    }

    /// A client for `profile` on the API base it should use.
    fn client(
        &self,
        profile: &Profile,
        is_demo: bool,
        secret: Option<secrecy::SecretString>,
    ) -> Result<Api, CoreError> {
        let base = api_base_for(profile, is_demo, self.api_base_override.as_deref());
        let resolved = Profile {
            api_base: Some(base),
            ..profile.clone()
        };
        clients::build_api(&resolved, secret, Arc::clone(&self.clock))
    }

    fn apis(&self) -> std::sync::MutexGuard<'_, HashMap<AccountId, Api>> {
        self.apis.lock().unwrap_or_else(|p| p.into_inner())
    }
}
