//! The operator's log: one file a day in the OS log folder (Tauri's path resolver; the data
//! folder's `logs/` under the test hook), kept 14 days, at info level (`RETRACT_LOG=debug` for
//! more). What is logged: every API call (host and path, status, errcode, rid, duration), every
//! journal transition, every error the UI is shown. What never is: a token, a secret, a request
//! or answer body, a URL query. The secret canary tests read these files.

use std::path::{Path, PathBuf};

use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

pub const FILE_PREFIX: &str = "retract";
const KEEP_DAYS: usize = 14;

/// Every file the process creates from now on is owner-only (mode 0600, folders 0700): the
/// log files the appender rotates in at midnight, long after start, included. (On Windows and
/// macOS the per-user folders are private already.)
pub fn owner_only_from_now() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Installs the subscriber writing to `dir` (created owner-only). Returns the folder, or why
/// there is no log (the app runs without one rather than not at all).
pub fn install(dir: &Path) -> Result<PathBuf, String> {
    retract_core::files::private_dir(dir)
        .map_err(|e| format!("cannot create the log folder {}: {e}", dir.display()))?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(FILE_PREFIX)
        .filename_suffix("log")
        .max_log_files(KEEP_DAYS)
        .build(dir)
        .map_err(|e| format!("cannot open a log file in {}: {e}", dir.display()))?;
    owner_only(dir);
    let level = match std::env::var("RETRACT_LOG").as_deref() {
        Ok("debug") => LevelFilter::DEBUG,
        Ok("warn") => LevelFilter::WARN,
        _ => LevelFilter::INFO,
    };
    // Our crates at the chosen level; libraries (WebKit glue, HTTP, D-Bus) only when they warn.
    let targets = Targets::new()
        .with_default(LevelFilter::WARN)
        .with_target("retract", level)
        .with_target("retract_lib", level)
        .with_target("retract_core", level)
        .with_target("wechat_mp", level)
        .with_target("wechat_sim", LevelFilter::WARN);
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(appender)
                .with_ansi(false)
                .with_target(true),
        )
        .with(targets)
        .try_init()
        .map_err(|e| format!("a logger was already installed: {e}"))?;
    Ok(dir.to_path_buf())
}

/// The appender creates files with the default mode; the folder is 0700 already, and today's
/// file (and older ones) are tightened to 0600 here as well.
fn owner_only(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(FILE_PREFIX) {
            let _ = retract_core::files::make_private(&entry.path());
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn files_made_after_start_are_owner_only() {
        super::owner_only_from_now();
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        // What the appender does at a rotation: a plain create.
        let path = dir.path().join("retract.2026-12-04.log");
        std::fs::write(&path, b"x").unwrap_or_else(|e| panic!("{e}"));
        let mode = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
}
