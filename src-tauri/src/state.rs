//! The app's managed state: built once at start-up from the environment and arguments.
//! The store may fail to open (a damaged or read-only file); the app still starts and every
//! command that needs it returns that error, so the window can explain it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use retract_core::accounts::{AccountId, Accounts};
use retract_core::demo::Demo;
use retract_core::keyring::Keyring;

use crate::error::{AppError, ErrorKind};

/// How many verifications (a token request and a quota read each, to an address the wizard
/// names) may start in one minute: plenty for an operator correcting a field, too few to make
/// Retract a prober for a script in the window.
pub const VERIFY_PER_MINUTE: usize = 12;

pub struct AppState {
    pub data_dir: PathBuf,
    /// Where exports go: the user's documents folder, or the data folder in tests.
    pub exports: PathBuf,
    pub api_base_override: Option<String>,
    keyring: Arc<Keyring>,
    accounts: Result<Arc<Accounts>, AppError>,
    demo: Demo,
    syncs: Mutex<HashMap<AccountId, Arc<AtomicBool>>>,
    /// One queue run per account in this process; others wait their turn (the file lock in
    /// `queue::run` keeps other processes out).
    runs: Mutex<HashMap<AccountId, Arc<tokio::sync::Mutex<()>>>>,
    /// The log folder, or why there is none (set once at start).
    pub log: Result<PathBuf, String>,
    /// Confirmations of irreversible actions without a plan (`clear_quota`).
    pub tickets: retract_core::tickets::Tickets,
    /// When the wizard's verifications (outbound requests the window can start) were made, the
    /// last minute's: at most [`VERIFY_PER_MINUTE`] of them.
    pub verifications: Mutex<std::collections::VecDeque<i64>>,
    /// The clock of every run and of the scheduler (a `ManualClock` in tests).
    pub clock: Arc<dyn wechat_mp::Clock>,
    /// "Pause all" from the tray: the scheduler resumes nothing while set.
    pub paused_all: AtomicBool,
    /// What the check of interrupted runs at start found, per account, until the window
    /// shows it (`startup_findings`).
    pub startup_findings: Mutex<HashMap<AccountId, Vec<retract_core::queue::Finding>>>,
    /// The window's language, for what is said outside it (tray, notifications).
    language: Mutex<crate::texts::Language>,
    /// Work under way that must not be cut short by renewing the process in the tray: queue
    /// runs (the scheduler's too) and the window's writes to WeChat or the keyring.
    busy: Arc<AtomicUsize>,
    /// Confirmations are sealed with the installation's key from the keyring (not with this
    /// session's): a plan confirmed now still runs in a later process.
    pub sealed_by_keyring: bool,
}

/// Holds [`AppState::busy`] up while alive.
pub struct Busy(Arc<AtomicUsize>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A queue's turn in this process ([`AppState::queue_turn`]); counts as busy.
pub struct QueueTurn {
    _turn: tokio::sync::OwnedMutexGuard<()>,
    _busy: Busy,
}

pub use retract_core::demo::DEMO_MESSAGES;

impl AppState {
    pub fn new(
        data_dir: PathBuf,
        exports: PathBuf,
        api_base_override: Option<String>,
        keyring: Arc<Keyring>,
        accounts: Result<Arc<Accounts>, AppError>,
    ) -> Self {
        Self {
            data_dir,
            exports,
            api_base_override,
            keyring,
            accounts,
            demo: Demo::default(),
            syncs: Mutex::new(HashMap::new()),
            runs: Mutex::new(HashMap::new()),
            log: Err("no log in this process".into()),
            tickets: Default::default(),
            verifications: Mutex::new(std::collections::VecDeque::new()),
            clock: Arc::new(wechat_mp::SystemClock),
            paused_all: AtomicBool::new(false),
            startup_findings: Mutex::new(HashMap::new()),
            language: Mutex::new(Default::default()),
            busy: Arc::new(AtomicUsize::new(0)),
            sealed_by_keyring: false,
        }
    }

    /// Marks work under way until the returned value is dropped.
    pub fn busy(&self) -> Busy {
        self.busy.fetch_add(1, Ordering::SeqCst);
        Busy(Arc::clone(&self.busy))
    }

    /// Whether any queue run or write of the window is under way.
    pub fn is_busy(&self) -> bool {
        self.busy.load(Ordering::SeqCst) > 0
    }

    pub fn language(&self) -> crate::texts::Language {
        *self.language.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_language(&self, language: crate::texts::Language) {
        *self.language.lock().unwrap_or_else(|p| p.into_inner()) = language;
    }

    pub fn exports_root(&self) -> PathBuf {
        self.exports.clone()
    }

    pub fn keyring(&self) -> Arc<Keyring> {
        Arc::clone(&self.keyring)
    }

    pub fn accounts(&self) -> Result<Arc<Accounts>, AppError> {
        self.accounts.clone()
    }

    /// How runs of this app execute: on its clock, with the default waits.
    pub fn exec_options(&self) -> retract_core::execute::ExecOptions {
        retract_core::execute::ExecOptions {
            clock: Arc::clone(&self.clock),
            ..Default::default()
        }
    }

    /// Starts the embedded simulator (once) and (re)creates the demo account on it.
    pub async fn start_demo(&self) -> Result<retract_core::accounts::Account, AppError> {
        let accounts = self.accounts()?;
        Ok(self.demo.start(&accounts).await?)
    }

    /// Waits for this account's queue to be free in this process; hold the guard while running.
    pub async fn queue_turn(&self, account: AccountId) -> QueueTurn {
        let busy = self.busy();
        let lock = Arc::clone(
            self.runs
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .entry(account)
                .or_default(),
        );
        QueueTurn {
            _turn: lock.lock_owned().await,
            _busy: busy,
        }
    }

    /// A fresh cancel flag for an account's sync (replacing any old one).
    pub fn sync_flag(&self, account: AccountId) -> Arc<AtomicBool> {
        let flag = Arc::new(AtomicBool::new(false));
        self.syncs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(account, Arc::clone(&flag));
        flag
    }

    pub fn cancel_sync(&self, account: AccountId) {
        if let Some(flag) = self
            .syncs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&account)
        {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    /// The running demo simulator's address, if the demo was started.
    pub fn demo_base(&self) -> Option<String> {
        self.demo.base_url()
    }

    /// Deletes that continue by themselves, across all accounts ([`retract_core::queue::continuing`]): what
    /// keeps Retract in the tray and what "quit" talks about.
    pub fn still_queued(&self) -> u32 {
        let Ok(accounts) = self.accounts() else {
            return 0;
        };
        let Ok(list) = accounts.list() else {
            return 0;
        };
        let now = self.exec_options().now();
        list.iter()
            .filter_map(|a| retract_core::queue::status(accounts.store(), a.id).ok())
            .map(|s| retract_core::queue::continuing(&s, now))
            .sum()
    }

    /// Why the local database could not be opened, if it could not.
    pub fn storage_error(&self) -> Option<String> {
        self.accounts.as_ref().err().map(|e| e.message.clone())
    }
}

/// Runs keyring and other blocking work off the async runtime, bounded in time.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let task = tokio::task::spawn_blocking(work);
    match tokio::time::timeout(Duration::from_secs(30), task).await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => Err(AppError::internal(format!("background task failed: {e}"))),
        Err(_) => Err(AppError::new(
            ErrorKind::KeyringLocked,
            "the keyring did not answer within 30 seconds (an unlock prompt may be waiting)",
        )),
    }
}

impl AppState {
    /// Counts one verification now; refused beyond [`VERIFY_PER_MINUTE`] in the last minute.
    pub fn admit_verification(&self, now: i64) -> Result<(), AppError> {
        let mut recent = self.verifications.lock().unwrap_or_else(|p| p.into_inner());
        while recent.front().is_some_and(|t| *t <= now - 60) {
            recent.pop_front();
        }
        if recent.len() >= VERIFY_PER_MINUTE {
            return Err(AppError::new(
                crate::error::ErrorKind::RateLimited,
                format!(
                    "{VERIFY_PER_MINUTE} checks in the last minute: wait a minute before checking again"
                ),
            ));
        }
        recent.push_back(now);
        Ok(())
    }
}
