//! The archive of deleted articles: the `getarticle` answer of each one, exactly as WeChat sent
//! it right before the delete; listing and export (JSON per article, HTML per item).
//!
//! Invariants: exports only write inside the folder they are given, with file names built from
//! ids and numbers (never from titles); nothing here holds a secret.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::accounts::AccountId;
use crate::error::{CoreError, io};
use crate::store::Store;

/// A deleted article as the "deleted articles" view lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DeletedArticle {
    pub archive_id: i64,
    pub article_id: String,
    pub plan_id: Option<crate::ids::PlanId>,
    /// When the copy was taken (right before the delete).
    pub archived_at: i64,
    /// When the journal recorded it done.
    pub deleted_at: Option<i64>,
    /// 0: the whole message; n: the n-th article.
    pub index: u32,
    pub titles: Vec<String>,
    /// The last time it was restored as a draft, and that draft's id.
    pub restored_at: Option<i64>,
    pub draft_media_id: Option<String>,
    /// Known deleted on the operator's word (checked in the MP console), not WeChat's: the
    /// delete's answer was lost and WeChat's answers could not settle it.
    pub by_operator: bool,
    /// An attempt to restore it got no answer it could trust (lost, -1, an unknown code) since
    /// the last restore that did: a draft may have been made then. The next attempt says so.
    pub draft_may_exist_since: Option<i64>,
}

/// One row per target whose delete went through (its latest archived copy), newest first; a
/// lost answer the operator settled as gone counts, marked as the operator's word.
pub fn list(store: &Store, account: AccountId) -> Result<Vec<DeletedArticle>, CoreError> {
    let conn = store.conn();
    let mut stmt = conn
        .prepare(
            // The account's restores are read once (the audit log is long), the last per copy.
            "WITH last_restore AS (
                 SELECT json_extract(detail, '$.archive') AS archive_id, max(id) AS audit_id
                 FROM audit WHERE account_id = ?1 AND action = 'draft_restored' GROUP BY 1),
             last_doubt AS (
                 -- SQLite gives the bare `at` of the row holding max(id).
                 SELECT json_extract(detail, '$.archive') AS archive_id, max(id) AS audit_id, at
                 FROM audit WHERE account_id = ?1 AND action = 'draft_restore_failed'
                   AND json_extract(detail, '$.may_exist') = 1 GROUP BY 1)
             SELECT a.id, t.article_id, t.plan_id, a.fetched_at, t.updated_at, t.idx, t.titles, r.at, json_extract(r.detail, '$.media_id'),
                    t.outcome = 'operatorSaysGone',
                    CASE WHEN d.audit_id IS NOT NULL AND (l.audit_id IS NULL OR d.audit_id > l.audit_id) THEN d.at END
             FROM plan_targets t JOIN plans p ON p.id = t.plan_id
             JOIN archive a ON a.id = (SELECT max(id) FROM archive WHERE plan_id = t.plan_id AND seq = t.seq)
             LEFT JOIN last_restore l ON l.archive_id = a.id
             LEFT JOIN audit r ON r.id = l.audit_id
             LEFT JOIN last_doubt d ON d.archive_id = a.id
             WHERE p.account_id = ?1 AND t.state = 'done' AND t.outcome IN ('deleted', 'operatorSaysGone')
             ORDER BY t.updated_at DESC, a.id DESC",
        )
        .map_err(store.err("cannot read the archive"))?;
    let rows = stmt
        .query_map([account], |r| {
            let titles: String = r.get(6)?;
            let titles: Vec<crate::identity::Reviewed> =
                serde_json::from_str(&titles).unwrap_or_default();
            Ok(DeletedArticle {
                archive_id: r.get(0)?,
                article_id: r.get(1)?,
                plan_id: r.get(2)?,
                archived_at: r.get(3)?,
                deleted_at: r.get(4)?,
                index: r.get(5)?,
                titles: titles.into_iter().map(|r| r.title).collect(),
                restored_at: r.get(7)?,
                draft_media_id: r.get(8)?,
                by_operator: r.get(9)?,
                draft_may_exist_since: r.get(10)?,
            })
        })
        .map_err(store.err("cannot read the archive"))?;
    rows.collect::<Result<_, _>>()
        .map_err(store.err("cannot read the archive"))
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
pub fn export(store: &Store, account: AccountId, folder: &Path) -> Result<u32, CoreError> {
    crate::files::private_dir(folder)
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
        crate::files::write_private(&path, json.as_bytes())
            .map_err(|e| io(&path, "cannot write", e))?;
        let article: wechat_mp::Article = serde_json::from_str(json)
            .map_err(|e| CoreError::Store(format!("archive entry {id} is damaged: {e}")))?;
        for (n, item) in article.news_item.iter().enumerate() {
            let path = folder.join(format!("{stem}-{}.html", n + 1));
            // The article's HTML is kept as written; opened in a browser, it runs no script
            // and loads nothing from the network (its images stay on WeChat's servers: loading
            // them would tell those servers, and the image host, that the export was opened).
            let page = format!(
                "<!doctype html>\n<meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"{EXPORT_CSP}\">\n<meta name=\"referrer\" content=\"no-referrer\">\n<title>{}</title>\n<!-- {} · {} · images are not loaded: their addresses are in the HTML below and in the .json copy -->\n{}\n",
                html_escape(&item.title),
                html_escape(&item.author),
                html_escape(&item.url),
                item.content
            );
            crate::files::write_private(&path, page.as_bytes())
                .map_err(|e| io(&path, "cannot write", e))?;
        }
    }
    Ok(rows.len() as u32)
}

/// The policy every exported article page carries.
pub const EXPORT_CSP: &str = "default-src 'none'; img-src data:; style-src 'unsafe-inline'";

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The folder to show for `wanted` (an export folder, or the folder of an exported file), if
/// it lies inside `root`: nothing else is ever handed to the system's file manager.
pub fn folder_to_open(root: &Path, wanted: &Path) -> Result<PathBuf, CoreError> {
    let inside = wanted
        .canonicalize()
        .ok()
        .zip(root.canonicalize().ok())
        .is_some_and(|(w, r)| w.starts_with(r));
    if !inside {
        return Err(CoreError::Invalid(
            "only Retract's own export folders are opened".into(),
        ));
    }
    Ok(if wanted.is_file() {
        wanted
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| wanted.to_path_buf())
    } else {
        wanted.to_path_buf()
    })
}

/// A fresh, dated folder for one export under `root`.
pub fn export_folder(root: &Path, what: &str) -> PathBuf {
    root.join(format!("{what}-{}", crate::now_unix()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_folders_inside_the_exports_root_are_opened() {
        let dir = std::env::temp_dir().join(format!("retract-open-{}", std::process::id()));
        let root = dir.join("exports");
        let export = root.join("archive-1");
        std::fs::create_dir_all(&export).unwrap_or_else(|e| panic!("{e}"));
        let file = export.join("a.json");
        std::fs::write(&file, "{}").unwrap_or_else(|e| panic!("{e}"));
        let open = |p: &Path| folder_to_open(&root, p);
        assert!(open(&export).is_ok());
        assert_eq!(
            open(&file).unwrap_or_else(|e| panic!("{e}")),
            export,
            "a file opens its folder"
        );
        for outside in [
            dir.clone(),
            root.join("..").join(".."),
            root.join("archive-1/../../"),
            PathBuf::from("/etc"),
            root.join("missing"),
        ] {
            assert!(open(&outside).is_err(), "{}", outside.display());
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
