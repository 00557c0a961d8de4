//! The account's run lock: one runner (a queue run, a reconciliation, a sync, an operator's
//! statement, removing the account) per account at a time, across windows and processes. An
//! OS file lock next to the database, released by the OS even when the process is killed.
//! Depends on the store's path only, so any layer may take it.

use crate::error::CoreError;
use crate::ids::AccountId;
use crate::store::Store;

/// Held while a run or a reconciliation changes an account's journal.
pub struct RunLock {
    _file: std::fs::File,
}

impl RunLock {
    /// Takes the account's lock or says that another runner has it.
    pub fn try_acquire(store: &Store, account: AccountId) -> Result<Self, CoreError> {
        let path = store.path().with_extension(format!("queue-{account}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| {
                CoreError::Store(format!(
                    "{}: cannot open the queue lock: {e}",
                    path.display()
                ))
            })?;
        // A process being started (fork, then exec) holds a copy of every open file of this
        // one until its exec closes them, this lock's included: a lock that is busy only for
        // that moment is waited out (at most about 0.2 s); a runner holds it for seconds.
        let mut attempts = 0;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Self { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if attempts < 20 => {
                    attempts += 1;
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(CoreError::Busy(
                        "another Retract window is running this account's deletes; wait for it to finish"
                            .into(),
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(CoreError::Store(format!(
                        "{}: cannot lock the queue: {e}",
                        path.display()
                    )));
                }
            }
        }
    }
}
