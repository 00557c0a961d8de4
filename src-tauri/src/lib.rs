//! The Tauri shell: wiring only. Logic lives in `retract-core` and `wechat-mp`.
//!
//! Test hooks (debug builds only; a release build ignores them and says so):
//! `RETRACT_DATA_DIR` puts all app data in a folder,
//! `RETRACT_API_BASE` points every account at another API base (wechat-sim in tests),
//! `--demo` starts an embedded simulator with a sample account.

mod commands;
mod covers;
mod desktop;
mod error;
mod hooks;
mod log;
mod navigation;
mod rendering;
mod scheduler;
mod state;
mod texts;
mod tray;

use std::path::PathBuf;
use std::sync::Arc;

use hooks::test_hook;
use retract_core::accounts::Accounts;
use retract_core::keyring::{Keyring, service_name};
use retract_core::store::Store;
use tauri::Manager;

pub use error::{AppError, ErrorKind};
use state::AppState;

/// The tauri-specta builder: the one list of commands and events, used by the app and by the
/// test that writes `ui/src/bindings.ts`.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    use commands::{accounts, archive, articles, audit, deletions, system};
    tauri_specta::Builder::<tauri::Wry>::new()
        // Our IPC types only travel one way at a time, so one TypeScript type per Rust type.
        .disable_serde_phases()
        // Row ids and Unix seconds are i64 in Rust and far below 2^53: plain numbers in TS.
        .dangerously_cast_bigints_to_number()
        // How late a scheduled plan may still run by itself: the queue panel shows the same rule.
        .constant(
            "SCHEDULE_GRACE_SECS",
            retract_core::queue::SCHEDULE_GRACE_SECS,
        )
        // How long after a quota pause waiting work still resumes by itself: the same rule.
        .constant("RESUME_GRACE_SECS", retract_core::queue::RESUME_GRACE_SECS)
        .commands(tauri_specta::collect_commands![
            system::app_info,
            system::keyring_self_test,
            system::list_observations,
            system::open_log_folder,
            system::autostart_status,
            system::set_autostart,
            system::prepare_autostart,
            system::set_language,
            accounts::list_accounts,
            accounts::check_account,
            accounts::verify_account,
            accounts::save_account,
            accounts::rename_account,
            accounts::remove_account,
            accounts::reverify_account,
            accounts::secret_storage,
            accounts::secret_destinations,
            accounts::prepare_remove_account,
            accounts::provide_secret,
            accounts::start_demo,
            accounts::accounts_overview,
            articles::full_sync_cost,
            articles::sync_articles,
            articles::cancel_sync,
            articles::list_articles,
            articles::select_matching,
            articles::find_links,
            articles::open_article,
            deletions::plan_deletion,
            deletions::cancel_plan,
            deletions::execute_plan,
            deletions::schedule_plan,
            deletions::run_overdue_plan,
            deletions::queue_status,
            deletions::startup_findings,
            deletions::reconcile_queue,
            deletions::resume_queue,
            deletions::cancel_queue,
            deletions::awaiting_decisions,
            deletions::decide_request,
            deletions::prepare_clear_quota,
            deletions::clear_quota,
            archive::list_deleted,
            archive::restore_draft,
            archive::export_archive,
            audit::list_audit,
            audit::export_audit,
            deletions::export_plan,
            audit::lookup_rid,
            archive::open_export,
        ])
        .events(tauri_specta::collect_events![
            articles::SyncProgressEvent,
            deletions::DeletionProgressEvent,
            scheduler::QueueChangedEvent,
        ])
}

/// Where the generated TypeScript goes, relative to this crate.
pub const BINDINGS_PATH: &str = "../ui/src/bindings.ts";

fn data_dir(app: &tauri::App, hook: Option<&str>) -> Result<PathBuf, String> {
    let dir = match hook {
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

pub fn run() {
    log::owner_only_from_now();
    let builder = specta_builder();
    let demo = std::env::args().any(|a| a == "--demo");
    // A process renewed in the tray (`tray.rs`) starts without a window.
    let renewed = tray::Renewed::from_args(std::env::args());
    let app = tauri::Builder::default();
    #[cfg(not(target_os = "linux"))]
    let app = app.plugin(tauri_plugin_notification::init());
    let result = app
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            None,
        ))
        .on_window_event(tray::on_window_event)
        .register_asynchronous_uri_scheme_protocol(covers::SCHEME, covers::handle)
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            let window = match renewed {
                Some(_) => None,
                None => Some(navigation::main_window(app.handle())?),
            };
            builder.mount_events(app);
            let data_hook = test_hook("RETRACT_DATA_DIR");
            let data_dir = data_dir(app, data_hook.as_deref())?;
            let log = match &data_hook {
                Some(_) => Ok(data_dir.join("logs")),
                None => app
                    .path()
                    .app_log_dir()
                    .map_err(|e| format!("no log folder for this user: {e}")),
            }
            .and_then(|dir| log::install(&dir));
            match &log {
                Ok(dir) => tracing::info!(
                    version = env!("CARGO_PKG_VERSION"),
                    log = %dir.display(),
                    "Retract started"
                ),
                Err(e) => eprintln!("Retract: running without a log file: {e}"),
            }
            if let Some(window) = &window {
                rendering::apply(window, test_hook("RETRACT_SOFTWARE_RENDERING").is_some());
            }
            let keyring = Arc::new(Keyring::new(service_name(&app.config().identifier)));
            let api_base = test_hook("RETRACT_API_BASE");
            let mut sealed_by_keyring = false;
            let accounts = Store::open(&data_dir.join("retract.db"))
                .map(|store| {
                    // Confirmations are sealed with the installation's key from the keyring;
                    // without a keyring, with this session's (plans then run in this session).
                    match retract_core::seal::key_from_keyring(&keyring) {
                        Ok(key) => {
                            store.set_seal_key(key);
                            sealed_by_keyring = true;
                        }
                        Err(e) => tracing::warn!(error = %e, "no plan seal key in the keyring; plans confirmed now run in this session only"),
                    }
                    Arc::new(Accounts::new(
                        Arc::new(store),
                        Arc::clone(&keyring),
                        Arc::new(wechat_mp::SystemClock),
                        api_base.clone(),
                    ))
                })
                .map_err(AppError::from);
            // Exports go to Documents/Retract, except when tests pin all data to one folder.
            let exports = match (test_hook("RETRACT_DATA_DIR"), app.path().document_dir()) {
                (None, Ok(docs)) => docs.join("Retract"),
                _ => data_dir.join("exports"),
            };
            let mut state = AppState::new(data_dir, exports, api_base, keyring, accounts);
            state.log = log;
            state.sealed_by_keyring = sealed_by_keyring;
            // A demo account kept from an earlier run talks to a simulator that ended with that
            // run: start a fresh one for it too, or it would only show network errors.
            let demo_kept = state
                .accounts()
                .ok()
                .and_then(|a| a.list().ok())
                .is_some_and(|list| list.iter().any(|a| a.is_demo));
            if (demo || demo_kept)
                && let Err(e) = tauri::async_runtime::block_on(state.start_demo())
            {
                eprintln!("Retract: the demo could not start: {}", e.message);
            }
            app.manage(state);
            if let Some(renewed) = renewed {
                tray::enter(app.handle(), renewed);
            }
            scheduler::start(app.handle().clone());
            Ok(())
        })
        .build(tauri::generate_context!());
    match result {
        // With the window closed to the tray, the app goes on without windows.
        Ok(app) => app.run(tray::on_run_event),
        Err(e) => {
            eprintln!("Retract could not start: {e}");
            std::process::exit(1);
        }
    }
}
