//! What an account has shown of WeChat's undocumented behaviour (the **[unverified]** points of
//! `wechat-api.md`), recorded the first time it is seen, with the date and, where WeChat gave
//! one, the rid. The system-check screen lists them: evidence beats our reading of the docs.
//!
//! Invariant: one row per account and kind (the first sighting); recording never fails a run
//! (a failed write is logged and dropped: the run's own safety does not depend on it).

use rusqlite::params;
use serde::Serialize;

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum Behaviour {
    /// A reviewed item was found at another position: deleted items leave the list and the
    /// later ones move up.
    PositionsCompacted,
    /// An item Retract deleted (errcode 0) was still shown live afterwards: deletes show late.
    LateDelete,
    /// A message known to be published answered 53600 once deleted.
    DeletedMessage53600,
}

impl Behaviour {
    fn as_sql(self) -> &'static str {
        match self {
            Self::PositionsCompacted => "positionsCompacted",
            Self::LateDelete => "lateDelete",
            Self::DeletedMessage53600 => "deletedMessage53600",
        }
    }

    fn from_sql(text: &str) -> Option<Self> {
        [
            Self::PositionsCompacted,
            Self::LateDelete,
            Self::DeletedMessage53600,
        ]
        .into_iter()
        .find(|b| b.as_sql() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Observation {
    pub account_id: AccountId,
    pub behaviour: Behaviour,
    /// Unix seconds of the first sighting.
    pub at: i64,
    pub rid: Option<String>,
    /// Which article showed it.
    pub detail: String,
}

/// Records the first sighting of `behaviour` for `account`; later ones are ignored.
pub(crate) fn record(
    store: &Store,
    account: AccountId,
    behaviour: Behaviour,
    rid: Option<&str>,
    detail: &str,
) {
    let written = store.conn().execute(
        "INSERT OR IGNORE INTO observations (account_id, kind, at, rid, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![account, behaviour.as_sql(), crate::now_unix(), rid, detail],
    );
    match written {
        Ok(1) => {
            tracing::info!(
                account = account.0,
                behaviour = behaviour.as_sql(),
                "first sighting recorded"
            );
            let _ = store.audit(
                Some(account),
                crate::audit::AuditAction::Observed,
                &serde_json::json!({"behaviour": behaviour, "rid": rid, "detail": detail}),
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!("cannot record an observation: {e}"),
    }
}

/// Whether `account` has shown `behaviour`.
pub(crate) fn seen(
    store: &Store,
    account: AccountId,
    behaviour: Behaviour,
) -> Result<bool, CoreError> {
    store
        .conn()
        .query_row(
            "SELECT count(*) FROM observations WHERE account_id = ?1 AND kind = ?2",
            params![account, behaviour.as_sql()],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)
        .map_err(store.err("cannot read the observations"))
}

/// Every first sighting, newest first.
pub fn list(store: &Store) -> Result<Vec<Observation>, CoreError> {
    let conn = store.conn();
    let mut stmt = conn
        .prepare("SELECT account_id, kind, at, rid, detail FROM observations ORDER BY at DESC, account_id")
        .map_err(store.err("cannot read the observations"))?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, AccountId>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<String>>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .map_err(store.err("cannot read the observations"))?;
    let mut out = Vec::new();
    for row in rows {
        let (account_id, kind, at, rid, detail) =
            row.map_err(store.err("cannot read the observations"))?;
        // A kind this build does not know (written by a newer one) is skipped, not an error.
        if let Some(behaviour) = Behaviour::from_sql(&kind) {
            out.push(Observation {
                account_id,
                behaviour,
                at,
                rid,
                detail,
            });
        }
    }
    Ok(out)
}
