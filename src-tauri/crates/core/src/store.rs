//! The local SQLite store: accounts (no secrets), the article index, plans and their journal,
//! the archive of deleted articles and the audit log.
//!
//! Invariants:
//! - WAL with `synchronous=FULL`: a committed journal row survives a crash or power loss;
//! - no column ever holds an AppSecret, a token-service credential or an access token;
//! - the schema is versioned with `user_version`; a newer file than we know is refused, not
//!   rewritten, and a file that is not a Retract database is refused with a clear error.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OpenFlags};

use crate::error::CoreError;

const SCHEMA_VERSION: i32 = 10;

const SCHEMA: &str = r#"
CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    appid         TEXT NOT NULL,
    token_source  TEXT NOT NULL CHECK (token_source IN ('stable', 'service', 'pasted')),
    service_url   TEXT,
    service_header TEXT,
    pasted_expires_at INTEGER,
    proxy         TEXT,
    api_base      TEXT,
    is_demo       INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    synced_at     INTEGER
);
CREATE UNIQUE INDEX accounts_appid ON accounts(appid, is_demo);

CREATE TABLE messages (
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    article_id  TEXT NOT NULL,
    update_time INTEGER NOT NULL,
    item_count  INTEGER NOT NULL,
    PRIMARY KEY (account_id, article_id)
);
CREATE INDEX messages_time ON messages(account_id, update_time DESC);

CREATE TABLE items (
    account_id  INTEGER NOT NULL,
    article_id  TEXT NOT NULL,
    idx         INTEGER NOT NULL CHECK (idx >= 1),
    title       TEXT NOT NULL,
    author      TEXT NOT NULL,
    digest      TEXT NOT NULL,
    url         TEXT NOT NULL,
    is_deleted  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, article_id, idx),
    FOREIGN KEY (account_id, article_id) REFERENCES messages(account_id, article_id) ON DELETE CASCADE
);

CREATE TABLE plans (
    id           INTEGER PRIMARY KEY,
    account_id   INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    nonce        TEXT NOT NULL,
    phrase       TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('planned', 'confirmed', 'cancelled', 'finished')),
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER
);

-- The journal: one row per delete request to make, with its state history in `events`.
CREATE TABLE plan_targets (
    plan_id      INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    article_id   TEXT NOT NULL,
    idx          INTEGER NOT NULL CHECK (idx >= 0),  -- 0: the whole message
    titles       TEXT NOT NULL,                      -- JSON array: the titles the user saw
    publish_time INTEGER NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('planned', 'intent', 'sent', 'done', 'failed', 'unknown', 'skipped', 'waiting')),
    outcome      TEXT,
    errcode      INTEGER,
    errmsg       TEXT,
    rid          TEXT,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (plan_id, seq)
);

CREATE TABLE journal_events (
    id         INTEGER PRIMARY KEY,
    plan_id    INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    state      TEXT NOT NULL,
    at         INTEGER NOT NULL,
    note       TEXT
);

CREATE TABLE archive (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL,
    article_id  TEXT NOT NULL,
    plan_id     INTEGER,
    fetched_at  INTEGER NOT NULL,
    json        TEXT NOT NULL
);

CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    account_id  INTEGER,
    action      TEXT NOT NULL,
    detail      TEXT NOT NULL
);
"#;

/// Upgrades, in order: entry `n` takes a version-`n` file to version `n + 1`.
const MIGRATIONS: &[&str] = &[
    // 1 -> 2: a queue stopped by 45009 waits until the next quota day.
    "ALTER TABLE accounts ADD COLUMN queue_paused_until INTEGER;",
    // 2 -> 3: an archived copy belongs to one target of a plan (a retried target is copied again).
    "ALTER TABLE archive ADD COLUMN seq INTEGER;",
    // 3 -> 4: the audit log is append-only, enforced by the database itself.
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
     CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    // 4 -> 5: a sync stopped by the list quota continues where it stopped; what an account
    // showed of WeChat's undocumented behaviour, first seen when.
    "ALTER TABLE accounts ADD COLUMN sync_cursor INTEGER;
     CREATE TABLE observations (
         account_id INTEGER NOT NULL,
         kind       TEXT NOT NULL,
         at         INTEGER NOT NULL,
         rid        TEXT,
         detail     TEXT NOT NULL,
         PRIMARY KEY (account_id, kind)
     );",
    // 5 -> 6: one revision number for everything search reads; its in-memory copies are
    // used only while it holds (any writer, any process, bumps it).
    "CREATE TABLE search_rev (n INTEGER NOT NULL);
     INSERT INTO search_rev VALUES (1);
     CREATE TRIGGER search_rev_item_add AFTER INSERT ON items BEGIN UPDATE search_rev SET n = n + 1; END;
     CREATE TRIGGER search_rev_item_change AFTER UPDATE ON items BEGIN UPDATE search_rev SET n = n + 1; END;
     CREATE TRIGGER search_rev_item_drop AFTER DELETE ON items BEGIN UPDATE search_rev SET n = n + 1; END;
     CREATE TRIGGER search_rev_message_change AFTER UPDATE OF update_time ON messages BEGIN UPDATE search_rev SET n = n + 1; END;",
    // 6 -> 7: a confirmed plan may wait for a time ("take it down at 00:00 on the 1st").
    "ALTER TABLE plans ADD COLUMN not_before INTEGER;",
    // 7 -> 8: a request WeChat's answers cannot settle waits for the operator's word (`held`);
    // a possibly-applied delete seen live once is asked about again later (`seen_live_at`);
    // the queue wakes by itself for a check or a bounded retry (`queue_wake_at`,
    // `queue_retries`) and stays still once a run by itself stopped to ask the operator
    // (`queue_stopped_at`). A removed account keeps its row, journal and archive
    // (`removed_at`), so the same AppID added again knows what it deleted. SQLite cannot
    // change a CHECK: the journal table is rebuilt.
    "CREATE TABLE plan_targets_v8 (
         plan_id      INTEGER NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
         seq          INTEGER NOT NULL,
         article_id   TEXT NOT NULL,
         idx          INTEGER NOT NULL CHECK (idx >= 0),
         titles       TEXT NOT NULL,
         publish_time INTEGER NOT NULL,
         state        TEXT NOT NULL CHECK (state IN ('planned', 'intent', 'sent', 'done', 'failed', 'unknown', 'skipped', 'waiting', 'held')),
         outcome      TEXT,
         errcode      INTEGER,
         errmsg       TEXT,
         rid          TEXT,
         updated_at   INTEGER NOT NULL,
         seen_live_at INTEGER,
         PRIMARY KEY (plan_id, seq)
     );
     INSERT INTO plan_targets_v8 (plan_id, seq, article_id, idx, titles, publish_time, state, outcome, errcode, errmsg, rid, updated_at)
         SELECT plan_id, seq, article_id, idx, titles, publish_time, state, outcome, errcode, errmsg, rid, updated_at FROM plan_targets;
     DROP TABLE plan_targets;
     ALTER TABLE plan_targets_v8 RENAME TO plan_targets;
     CREATE INDEX plan_targets_message ON plan_targets(article_id, state);
     ALTER TABLE accounts ADD COLUMN queue_wake_at INTEGER;
     ALTER TABLE accounts ADD COLUMN queue_retries INTEGER NOT NULL DEFAULT 0;
     ALTER TABLE accounts ADD COLUMN queue_stopped_at INTEGER;
     ALTER TABLE accounts ADD COLUMN removed_at INTEGER;",
    // 8 -> 9: a confirmed plan carries a seal keyed from the OS keyring (`seal.rs`), over what
    // it deletes and the time it was confirmed for (`scheduled_for`: `not_before` changes as
    // the plan runs). Plans confirmed before have none and are not run: planned again.
    "ALTER TABLE plans ADD COLUMN seal TEXT;
     ALTER TABLE plans ADD COLUMN scheduled_for INTEGER;",
    // 9 -> 10: the list shows each article's cover (WeChat's `thumb_url`, fetched through the
    // shell's cover cache) and when the index learnt it was deleted.
    "ALTER TABLE items ADD COLUMN thumb_url TEXT NOT NULL DEFAULT '';
     ALTER TABLE items ADD COLUMN deleted_at INTEGER;",
];

/// One database file. Operations are short; a mutex serialises them.
pub struct Store {
    path: PathBuf,
    conn: Mutex<Connection>,
    search: crate::search::Cache,
    sealer: crate::seal::Sealer,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// The triggers and views of `conn` that Retract's own schema does not have, by name (a
/// changed body counts as not Retract's): Retract's own are what its schema and migrations
/// write into an empty database, compared with whitespace aside.
fn foreign_code(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let code = |conn: &Connection| -> rusqlite::Result<Vec<(String, String)>> {
        let mut stmt = conn.prepare(
            "SELECT name, coalesce(sql, '') FROM sqlite_master WHERE type IN ('trigger', 'view') ORDER BY name",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.map(|r| {
            r.map(|(name, sql): (String, String)| {
                (name, sql.split_whitespace().collect::<Vec<_>>().join(" "))
            })
        })
        .collect()
    };
    let reference = Connection::open_in_memory()?;
    reference.execute_batch(&format!("{SCHEMA} {}", MIGRATIONS.join(" ")))?;
    let ours = code(&reference)?;
    Ok(code(conn)?
        .into_iter()
        .filter(|entry| !ours.contains(entry))
        .map(|(name, _)| name)
        .collect())
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, CoreError> {
        // Owner-only before SQLite touches it; its -wal and -shm files inherit the mode.
        crate::files::private_database(path).map_err(|e| {
            CoreError::Store(format!(
                "{}: cannot prepare the database file (is the folder writable?): {e}",
                path.display()
            ))
        })?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| CoreError::store(path, "cannot open the database", e))?;
        let store = Self {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
            search: crate::search::Cache::default(),
            sealer: crate::seal::Sealer::default(),
        };
        store.prepare()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn prepare(&self) -> Result<(), CoreError> {
        let conn = self.conn();
        let fail = |what: &str, e: rusqlite::Error| CoreError::store(&self.path, what, e);
        // Any read of a file that is not SQLite fails here ("file is not a database").
        let version: i32 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| fail("this file is not a Retract database or is damaged", e))?;
        if version > SCHEMA_VERSION {
            return Err(CoreError::Store(format!(
                "{} was written by a newer Retract (schema {version}); update Retract to open it",
                self.path.display()
            )));
        }
        // An integrity problem is reported before anything is written.
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| fail("cannot check the database", e))?;
        if check != "ok" {
            return Err(CoreError::Store(format!(
                "{} is damaged ({check}); it was left untouched — restore a backup or move it away",
                self.path.display()
            )));
        }
        // `trusted_schema = OFF`: a view or trigger in the file may not call functions with side
        // effects (a file is data, not code).
        conn.execute_batch(
            "PRAGMA trusted_schema = OFF; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
        )
        .map_err(|e| fail("cannot configure the database (is the folder writable?)", e))?;
        if version == 0 {
            let tables: i64 = conn
                .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
                .map_err(|e| fail("cannot read the database", e))?;
            if tables > 0 {
                return Err(CoreError::Store(format!(
                    "{} holds tables Retract did not create; it was left untouched",
                    self.path.display()
                )));
            }
            conn.execute_batch(&format!("BEGIN; {SCHEMA} PRAGMA user_version = 1; COMMIT;"))
                .map_err(|e| fail("cannot create the tables", e))?;
        }
        let mut at = version.max(1);
        while at < SCHEMA_VERSION {
            let step = MIGRATIONS[(at - 1) as usize];
            conn.execute_batch(&format!(
                "BEGIN; {step} PRAGMA user_version = {}; COMMIT;",
                at + 1
            ))
            .map_err(|e| fail("cannot upgrade the database", e))?;
            at += 1;
        }
        let strangers = foreign_code(&conn).map_err(|e| fail("cannot read the database", e))?;
        if !strangers.is_empty() {
            return Err(CoreError::Store(format!(
                "{} holds triggers or views Retract did not write ({}): a database changed outside Retract could act by itself (confirm a plan, undo a cancel), so it is not used. Restore a backup, or move the file away and let Retract start a new one",
                self.path.display(),
                strangers.join(", ")
            )));
        }
        Ok(())
    }

    /// The key plans are sealed with from now on: the app's, from the OS keyring. Until it is
    /// set, the key of this process (see [`crate::seal`]).
    pub fn set_seal_key(&self, key: crate::seal::SealKey) {
        self.sealer.set(key);
    }

    pub(crate) fn seal_key(&self) -> crate::seal::SealKey {
        self.sealer.key()
    }

    /// Seals `plan` as it stands now, with this store's key. For tests that build journals
    /// the planner refuses (two plans for one position) to reach the runner's own checks
    /// behind it; the app never calls it.
    #[doc(hidden)]
    pub fn reseal_for_tests(&self, plan: crate::ids::PlanId) -> Result<(), CoreError> {
        crate::seal::seal(&self.conn(), &self.seal_key(), plan)
            .map_err(self.err("cannot seal the plan"))
    }

    /// The key in its stored form, for the `queue-runner` test tool only (it runs a queue in
    /// another process against the same file). The app never calls it.
    #[doc(hidden)]
    pub fn seal_key_for_runner(&self) -> String {
        self.sealer.key().to_hex()
    }

    /// The connection, for the modules of this crate.
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn search_cache(&self) -> &crate::search::Cache {
        &self.search
    }

    /// Maps a rusqlite error of this store into a [`CoreError`].
    pub(crate) fn err(&self, what: &str) -> impl Fn(rusqlite::Error) -> CoreError + '_ {
        let what = what.to_string();
        move |e| CoreError::store(&self.path, &what, e)
    }

    /// Appends an audit event. `detail` is JSON, never holding a secret.
    pub fn audit(
        &self,
        account_id: Option<crate::ids::AccountId>,
        action: crate::audit::AuditAction,
        detail: &serde_json::Value,
    ) -> Result<(), CoreError> {
        self.conn()
            .execute(
                "INSERT INTO audit (at, account_id, action, detail) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![
                    crate::now_unix(),
                    account_id,
                    action.as_sql(),
                    detail.to_string()
                ],
            )
            .map(|_| ())
            .map_err(self.err("cannot write the audit log"))
    }
}
