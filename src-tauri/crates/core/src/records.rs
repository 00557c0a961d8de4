//! What Retract keeps about what it did: the archive of deleted articles (full JSON and HTML,
//! taken right before each delete) and the append-only audit log; listing and export.
//!
//! Invariants: exports only write inside the folder they are given, with file names built from
//! ids and numbers (never from titles); nothing here holds a secret.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::params;
use serde::Serialize;

use crate::accounts::AccountId;
use crate::error::CoreError;
use crate::store::Store;

/// A deleted article as the "deleted articles" view lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeletedArticle {
    pub archive_id: i64,
    pub article_id: String,
    pub plan_id: Option<i64>,
    /// When the copy was taken (right before the delete).
    pub archived_at: i64,
    /// When the journal recorded it done.
    pub deleted_at: Option<i64>,
    /// 0: the whole message; n: the n-th article.
    pub index: u32,
    pub titles: Vec<String>,
}

/// One row per target whose delete went through (its latest archived copy), newest first.
pub fn deleted(store: &Store, account: AccountId) -> Result<Vec<DeletedArticle>, CoreError> {
    let conn = store.conn();
    let mut stmt = conn
        .prepare(
            "SELECT a.id, t.article_id, t.plan_id, a.fetched_at, t.updated_at, t.idx, t.titles
             FROM plan_targets t JOIN plans p ON p.id = t.plan_id
             JOIN archive a ON a.id = (SELECT max(id) FROM archive WHERE plan_id = t.plan_id AND seq = t.seq)
             WHERE p.account_id = ?1 AND t.state = 'done' AND t.outcome = 'deleted'
             ORDER BY t.updated_at DESC, a.id DESC",
        )
        .map_err(store.err("cannot read the archive"))?;
    let rows = stmt
        .query_map([account], |r| {
            let titles: String = r.get(6)?;
            let titles: Vec<(String, u32)> = serde_json::from_str(&titles).unwrap_or_default();
            Ok(DeletedArticle {
                archive_id: r.get(0)?,
                article_id: r.get(1)?,
                plan_id: r.get(2)?,
                archived_at: r.get(3)?,
                deleted_at: r.get(4)?,
                index: r.get(5)?,
                titles: titles.into_iter().map(|(t, _)| t).collect(),
            })
        })
        .map_err(store.err("cannot read the archive"))?;
    rows.collect::<Result<_, _>>()
        .map_err(store.err("cannot read the archive"))
}

fn io(path: &Path, what: &str, e: std::io::Error) -> CoreError {
    CoreError::Store(format!("{}: {what}: {e}", path.display()))
}

/// A file-name-safe stem: letters, digits, - and _ only.
fn safe(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Writes each archived article as `<article>-<archive id>.json` plus one `.html` file per item
/// into `folder` (created if needed). Returns the number of articles written.
pub fn export_archive(store: &Store, account: AccountId, folder: &Path) -> Result<u32, CoreError> {
    std::fs::create_dir_all(folder)
        .map_err(|e| io(folder, "cannot create the export folder", e))?;
    let rows: Vec<(i64, String, String)> = {
        let conn = store.conn();
        let mut stmt = conn
            // The latest copy of each target (a target retried after 45009 was copied twice).
            .prepare(
                "SELECT id, article_id, json FROM archive WHERE id IN
                 (SELECT max(id) FROM archive WHERE account_id = ?1 GROUP BY plan_id, seq) ORDER BY id",
            )
            .map_err(store.err("cannot read the archive"))?;
        stmt.query_map([account], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(store.err("cannot read the archive"))?
            .collect::<Result<_, _>>()
            .map_err(store.err("cannot read the archive"))?
    };
    for (id, article_id, json) in &rows {
        let stem = format!("{}-{id}", safe(article_id));
        let path = folder.join(format!("{stem}.json"));
        std::fs::write(&path, json).map_err(|e| io(&path, "cannot write", e))?;
        let article: wechat_mp::Article = serde_json::from_str(json)
            .map_err(|e| CoreError::Store(format!("archive entry {id} is damaged: {e}")))?;
        for (n, item) in article.news_item.iter().enumerate() {
            let path = folder.join(format!("{stem}-{}.html", n + 1));
            let page = format!(
                "<!doctype html>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<!-- {} · {} -->\n{}\n",
                html_escape(&item.title),
                html_escape(&item.author),
                html_escape(&item.url),
                item.content
            );
            std::fs::write(&path, page).map_err(|e| io(&path, "cannot write", e))?;
        }
    }
    Ok(rows.len() as u32)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One audit event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AuditEvent {
    pub id: i64,
    pub at: i64,
    pub account_id: Option<i64>,
    pub action: String,
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
pub fn audit(
    store: &Store,
    filter: &AuditFilter,
    limit: u32,
) -> Result<Vec<AuditEvent>, CoreError> {
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
                    action: r.get(3)?,
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
pub fn export_audit_csv(
    store: &Store,
    filter: &AuditFilter,
    path: &Path,
) -> Result<u32, CoreError> {
    let events = audit(store, filter, u32::MAX)?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| io(parent, "cannot create the export folder", e))?;
    }
    let mut file = std::fs::File::create(path).map_err(|e| io(path, "cannot write", e))?;
    let mut out = String::from("\u{FEFF}id,time_utc,account_id,action,errcode,rid,detail\n");
    for e in events.iter().rev() {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            e.id,
            e.at,
            e.account_id.map(|a| a.to_string()).unwrap_or_default(),
            csv_field(&e.action),
            e.errcode.map(|c| c.to_string()).unwrap_or_default(),
            e.rid.clone().unwrap_or_default(),
            csv_field(&e.detail)
        ));
    }
    file.write_all(out.as_bytes())
        .map_err(|e| io(path, "cannot write", e))?;
    Ok(events.len() as u32)
}

/// A fresh, dated folder for one export under `root`.
pub fn export_folder(root: &Path, what: &str) -> PathBuf {
    root.join(format!("{what}-{}", crate::now_unix()))
}
