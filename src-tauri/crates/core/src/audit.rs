//! The audit log: every plan, request, reconciliation and quota clear, append-only (the
//! database refuses updates and deletes); listing with filters and CSV export.
//!
//! Invariant: nothing here holds a secret.

use std::path::Path;

use rusqlite::params;
use serde::Serialize;

use crate::error::CoreError;
use crate::error::io;
use crate::ids::AccountId;
use crate::store::Store;

/// The most events the activity log lists at once (the export has no limit).
pub const LIST_LIMIT: u32 = 1000;

/// What an audit event records. Stored as its snake_case name; the UI translates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub enum AuditAction {
    AccountAdded,
    AccountRemoved,
    Sync,
    PlanCreated,
    PlanConfirmed,
    PlanCancelled,
    PlanExecuted,
    DeleteRequest,
    Reconciled,
    QueueCancelled,
    QuotaCleared,
    /// A first sighting of WeChat's undocumented behaviour.
    Observed,
    /// An archived article re-created as a draft (`draft/add`), or the attempt and its error.
    DraftRestored,
    DraftRestoreFailed,
    /// The operator's word on a request WeChat's answers could not settle (gone, send again,
    /// give up): recorded as theirs, never as WeChat's.
    OperatorDecided,
    /// A name this build does not know (written by a newer Retract).
    Unknown,
}

impl AuditAction {
    const ALL: [Self; 15] = [
        Self::AccountAdded,
        Self::AccountRemoved,
        Self::Sync,
        Self::PlanCreated,
        Self::PlanConfirmed,
        Self::PlanCancelled,
        Self::PlanExecuted,
        Self::DeleteRequest,
        Self::Reconciled,
        Self::QueueCancelled,
        Self::QuotaCleared,
        Self::Observed,
        Self::DraftRestored,
        Self::DraftRestoreFailed,
        Self::OperatorDecided,
    ];

    pub fn as_sql(self) -> &'static str {
        match self {
            Self::AccountAdded => "account_added",
            Self::AccountRemoved => "account_removed",
            Self::Sync => "sync",
            Self::PlanCreated => "plan_created",
            Self::PlanConfirmed => "plan_confirmed",
            Self::PlanCancelled => "plan_cancelled",
            Self::PlanExecuted => "plan_executed",
            Self::DeleteRequest => "delete_request",
            Self::Reconciled => "reconciled",
            Self::QueueCancelled => "queue_cancelled",
            Self::QuotaCleared => "quota_cleared",
            Self::Observed => "observed",
            Self::DraftRestored => "draft_restored",
            Self::DraftRestoreFailed => "draft_restore_failed",
            Self::OperatorDecided => "operator_decided",
            Self::Unknown => "unknown",
        }
    }

    fn from_sql(text: &str) -> Self {
        Self::ALL
            .into_iter()
            .find(|a| a.as_sql() == text)
            .unwrap_or(Self::Unknown)
    }
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditEvent {
    pub id: i64,
    pub at: i64,
    pub account_id: Option<AccountId>,
    pub action: AuditAction,
    /// JSON, as written.
    pub detail: String,
    /// The WeChat request id in the detail, if any (for `rid/get`).
    pub rid: Option<String>,
    pub errcode: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub account: Option<AccountId>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Audit events, newest first, at most `limit`.
pub fn list(store: &Store, filter: &AuditFilter, limit: u32) -> Result<Vec<AuditEvent>, CoreError> {
    let conn = store.conn();
    let mut stmt = conn
        .prepare(
            "SELECT id, at, account_id, action, detail FROM audit
             WHERE (?1 IS NULL OR account_id = ?1) AND (?2 IS NULL OR at >= ?2) AND (?3 IS NULL OR at < ?3)
             ORDER BY id DESC LIMIT ?4",
        )
        .map_err(store.err("cannot read the audit log"))?;
    let rows = stmt
        .query_map(
            params![filter.account, filter.from, filter.to, limit],
            |r| {
                let detail: String = r.get(4)?;
                let parsed: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
                Ok(AuditEvent {
                    id: r.get(0)?,
                    at: r.get(1)?,
                    account_id: r.get(2)?,
                    action: AuditAction::from_sql(&r.get::<_, String>(3)?),
                    rid: parsed.get("rid").and_then(|v| v.as_str()).map(String::from),
                    errcode: parsed.get("errcode").and_then(serde_json::Value::as_i64),
                    detail,
                })
            },
        )
        .map_err(store.err("cannot read the audit log"))?;
    rows.collect::<Result<_, _>>()
        .map_err(store.err("cannot read the audit log"))
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes the filtered audit log as CSV (UTF-8 with a BOM, so spreadsheet programs read Chinese).
pub fn export_csv(store: &Store, filter: &AuditFilter, path: &Path) -> Result<u32, CoreError> {
    let events = list(store, filter, u32::MAX)?;
    if let Some(parent) = path.parent() {
        crate::files::private_dir(parent)
            .map_err(|e| io(parent, "cannot create the export folder", e))?;
    }
    let mut out = String::from("\u{FEFF}id,time_utc,account_id,action,errcode,rid,detail\n");
    for e in events.iter().rev() {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            e.id,
            e.at,
            e.account_id.map(|a| a.to_string()).unwrap_or_default(),
            csv_field(e.action.as_sql()),
            e.errcode.map(|c| c.to_string()).unwrap_or_default(),
            e.rid.clone().unwrap_or_default(),
            csv_field(&e.detail)
        ));
    }
    crate::files::write_private(path, out.as_bytes()).map_err(|e| io(path, "cannot write", e))?;
    Ok(events.len() as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_and_match_what_the_ui_reads() {
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::from_sql(a.as_sql()), a);
            assert_eq!(serde_json::to_value(a).unwrap_or_default(), a.as_sql());
        }
        assert_eq!(
            AuditAction::from_sql("from_the_future"),
            AuditAction::Unknown
        );
    }
}
