//! Files only their owner can read: the database (it holds the index, the journal and the
//! archive of deleted articles), its folder, and every export. On Unix: folders 0700, files
//! 0600. Elsewhere the user profile's own permissions apply.

use std::io::Write;
use std::path::Path;

/// Creates `dir` (and what is missing above it); the folder itself is the owner's only.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    restrict(dir, 0o700)
}

/// Writes `bytes` to a new or truncated file that only the owner can read.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    // An existing file keeps its old mode through `open`: tighten it as well.
    restrict(path, 0o600)?;
    file.write_all(bytes)
}

/// Makes sure the database file exists with owner-only permissions before SQLite opens it
/// (SQLite gives its `-wal` and `-shm` files the database file's permissions).
pub fn private_database(path: &Path) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        private_dir(parent)?;
    }
    if path.exists() {
        if path.is_file() {
            restrict(path, 0o600)?;
        }
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path).map(|_| ())
}

/// Tightens an existing file to owner-only (files written by others' code, such as the log
/// appender's, which creates them with the default mode).
pub fn make_private(path: &Path) -> std::io::Result<()> {
    restrict(path, 0o600)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}
