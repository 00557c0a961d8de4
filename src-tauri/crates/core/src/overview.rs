//! Every account at a glance (agencies run tens of them): what the local database knows,
//! without any API call. The window adds each account's live quota, or the reason it cannot
//! be read (whitelist, verification, credentials), from `reverify`.

use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::accounts::{AccountId, Accounts};
use crate::error::CoreError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AccountSummary {
    pub id: AccountId,
    pub name: String,
    pub appid: String,
    pub is_demo: bool,
    /// Live articles in the local index.
    pub articles: u32,
    /// Articles the index knows as deleted.
    pub deleted: u32,
    pub synced_at: Option<i64>,
    /// A sync stopped by the list quota continues from this message on the next quota day.
    pub sync_resume_at: Option<u32>,
    /// Delete requests confirmed and not sent yet.
    pub planned: u32,
    /// Delete requests waiting for a later quota day.
    pub waiting: u32,
    /// Requests of an interrupted run whose outcome must be checked before anything else.
    pub unsettled: u32,
    /// Requests waiting for the operator's word (WeChat's answers could not settle them).
    pub held: u32,
    /// A run by itself stopped to ask the operator; nothing runs by itself until they do.
    pub stopped_at: Option<i64>,
    pub paused_until: Option<i64>,
    /// The secret is in no keyring and not in this session: it must be given again.
    pub secret_missing: bool,
}

/// One summary per account, in the order of the account list.
pub fn summaries(accounts: &Accounts) -> Result<Vec<AccountSummary>, CoreError> {
    let store = accounts.store();
    let mut out = Vec::new();
    for account in accounts.list()? {
        let id = account.id;
        let (articles, deleted, cursor): (i64, i64, Option<u32>) = {
            let conn = store.conn();
            let counts: (i64, i64) = conn
                .query_row(
                    "SELECT coalesce(sum(is_deleted = 0), 0), coalesce(sum(is_deleted = 1), 0) FROM items WHERE account_id = ?1",
                    [id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(store.err("cannot count the index"))?;
            let cursor = conn
                .query_row(
                    "SELECT sync_cursor FROM accounts WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(store.err("cannot read the account"))?
                .flatten();
            (counts.0, counts.1, cursor)
        };
        let queue = crate::queue::status(store, id)?;
        let sum = |f: fn(&crate::queue::PlanProgress) -> u32| queue.plans.iter().map(f).sum();
        // A keyring that cannot be asked right now is not "missing": reverify says what is wrong.
        let secret_missing = matches!(accounts.secret_storage(&account), Ok(None));
        out.push(AccountSummary {
            id,
            name: account.name,
            appid: account.profile.appid,
            is_demo: account.is_demo,
            articles: articles as u32,
            deleted: deleted as u32,
            synced_at: account.synced_at,
            sync_resume_at: cursor,
            planned: sum(|p| p.planned),
            waiting: sum(|p| p.waiting),
            unsettled: sum(|p| p.unsettled),
            held: sum(|p| p.held),
            stopped_at: queue.stopped_at,
            paused_until: queue.paused_until,
            secret_missing,
        });
    }
    Ok(out)
}
