//! The Tauri shell: wiring only. Logic lives in `retract-core` and `wechat-mp`.
//!
//! Test hooks (see architecture.md): `RETRACT_DATA_DIR` puts all app data in a folder,
//! `RETRACT_API_BASE` points every account at another API base (wechat-sim in tests),
//! `--demo` starts an embedded simulator with a sample account.

mod commands;
mod error;
mod state;

use std::path::PathBuf;

use tauri::Manager;

pub use error::{AppError, ErrorKind};
use state::AppState;

/// The tauri-specta builder: the one list of commands, used by the app and by the test that
/// writes `ui/src/bindings.ts`.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    // Our IPC types only travel one way at a time, so one TypeScript type per Rust type.
    tauri_specta::Builder::<tauri::Wry>::new()
        .disable_serde_phases()
        .commands(tauri_specta::collect_commands![
            commands::system::app_info,
            commands::system::keyring_self_test,
        ])
}

/// Where the generated TypeScript goes, relative to this crate.
pub const BINDINGS_PATH: &str = "../ui/src/bindings.ts";

pub const DEMO_MESSAGES: u32 = 300;

fn data_dir(app: &tauri::App) -> Result<PathBuf, String> {
    let dir = match std::env::var_os("RETRACT_DATA_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => app
            .path()
            .app_data_dir()
            .map_err(|e| format!("no data folder for this user: {e}"))?,
    };
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot create the data folder {}: {e}", dir.display()))?;
    Ok(dir)
}

fn start_demo() -> Result<wechat_sim::Sim, String> {
    tauri::async_runtime::block_on(wechat_sim::Sim::start(wechat_sim::SimConfig::demo(
        DEMO_MESSAGES as usize,
    )))
    .map_err(|e| format!("cannot start the demo simulator: {e}"))
}

pub fn run() {
    let builder = specta_builder();
    let demo = std::env::args().any(|a| a == "--demo");
    let result = tauri::Builder::default()
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            builder.mount_events(app);
            let data_dir = data_dir(app)?;
            let identifier = app.config().identifier.clone();
            let keyring = retract_core::keyring::Keyring::new(retract_core::keyring::service_name(
                &identifier,
            ));
            let api_base = std::env::var("RETRACT_API_BASE")
                .ok()
                .filter(|s| !s.is_empty());
            let demo = if demo {
                Some((start_demo()?, DEMO_MESSAGES))
            } else {
                None
            };
            app.manage(AppState::new(data_dir, api_base, keyring, demo));
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("Retract could not start: {e}");
        std::process::exit(1);
    }
}
