//! The core's error: what went wrong, in a form the shell maps onto its IPC error kinds.
//! Invariant: no variant carries a secret (the errors it wraps carry none).

use std::path::Path;

use crate::keyring::KeyringError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Wechat(#[from] wechat_mp::Error),
    #[error(transparent)]
    Keyring(#[from] KeyringError),
    /// The local database failed; the message says which file and what to do.
    #[error("{0}")]
    Store(String),
    /// Input the user can correct; nothing was stored or sent.
    #[error("{0}")]
    Invalid(String),
    #[error("{0} was not found")]
    NotFound(String),
    /// The account's secret is in no keyring and not in this session: ask for it again.
    #[error("the AppSecret of this account is not available; enter it again")]
    SecretMissing,
    /// The account's stored destination (API base, proxy, token service) is not the one its
    /// secret was saved for: the database was changed or replaced. Nothing was sent.
    #[error(
        "this account's secret was saved for another address (API base, proxy or token service) than the local database now names; it was not sent. If you changed these, enter the secret again in the account settings; if not, the database was replaced: check it"
    )]
    SecretBoundElsewhere,
    /// A confirmation that does not match its plan (wrong phrase, used or unknown nonce).
    #[error("{0}")]
    ConfirmationRejected(String),
    /// Another runner holds this account's queue.
    #[error("{0}")]
    Busy(String),
    /// WeChat's answers (or a relay's in between) could not prove what is live or gone; nothing
    /// more was sent. The operator should look (MP console, token source, relay).
    #[error("{0}")]
    Unproven(String),
    /// A journal row changed under a runner: cancelled, or handled by another window or
    /// process. Nothing more was sent.
    #[error("{0}")]
    Conflict(String),
    /// The article changed since the operator reviewed it (title, position or link); that
    /// request was not sent.
    #[error("{0}")]
    Changed(String),
    /// Not sent yet, by design: WeChat has to show an earlier delete of the same message first
    /// (the queue goes on by itself).
    #[error("{0}")]
    Waiting(String),
    /// A sync was cancelled by the user.
    #[error("cancelled")]
    Cancelled,
}

impl CoreError {
    pub(crate) fn store(path: &Path, what: &str, e: rusqlite::Error) -> Self {
        let hint = match &e {
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                rusqlite::ErrorCode::ReadOnly => " (the file or its folder is read-only)",
                rusqlite::ErrorCode::CannotOpen => {
                    " (check that the folder exists and is writable)"
                }
                rusqlite::ErrorCode::NotADatabase => " (the file is not a Retract database)",
                rusqlite::ErrorCode::DatabaseCorrupt => " (the file is damaged)",
                rusqlite::ErrorCode::DiskFull => " (the disk is full)",
                _ => "",
            },
            _ => "",
        };
        Self::Store(format!("{}: {what}{hint}: {e}", path.display()))
    }
}

/// A file error (an export, a kept copy), naming the file.
pub(crate) fn io(path: &Path, what: &str, e: std::io::Error) -> CoreError {
    CoreError::Store(format!("{}: {what}: {e}", path.display()))
}
