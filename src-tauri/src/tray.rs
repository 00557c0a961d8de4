//! Living with a closed window: while deletes are still queued, closing the window keeps
//! Retract (and its scheduler) running with a tray icon. The window itself is destroyed — its
//! web process with it, most of what the running app holds in memory — and the tray's "open"
//! builds it again. The tray menu also pauses or resumes all queues, and quits; its label says
//! what is still waiting.
//!
//! On Linux the process then renews itself once it is quiet (no queue run and no write of the
//! window under way): it replaces its own image (`exec`, same process id) with one started in
//! the tray, without a window, so the libraries the window touched and WebKit's network process
//! are let go too. It does not when this process holds something a new image would lose (a
//! secret or a seal key kept for this session only, the demo's simulator) or when WebDriver
//! drives the window. Notifications and start at login are in `desktop.rs`.
//!
//! Everything here is said in the window's language (`texts.rs`).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, RunEvent, Window, WindowEvent, Wry};

use crate::desktop::notify;
use crate::hooks::test_hook;
use crate::navigation;
use crate::rendering;
use crate::state::AppState;
use crate::texts::Language;

const TRAY_ID: &str = "retract";

/// The menu items, whose texts change with the queues and the language.
#[derive(Default)]
struct Items(Mutex<Option<[MenuItem<Wry>; 3]>>);

/// Whether the last window closed to the tray (deletes were still queued): the app then goes on
/// without a window instead of ending.
#[derive(Default)]
struct InTray(AtomicBool);

fn set_in_tray(app: &AppHandle, on: bool) {
    // `manage` keeps the first value it was given: later calls only find it.
    app.manage(InTray::default());
    app.state::<InTray>().0.store(on, Ordering::SeqCst);
}

fn in_tray(app: &AppHandle) -> bool {
    app.try_state::<InTray>()
        .is_some_and(|t| t.0.load(Ordering::SeqCst))
}

/// The window asked to close: with deletes still queued, let it go (web view and all) and keep
/// running in the tray.
pub fn on_window_event(window: &Window, event: &WindowEvent) {
    let WindowEvent::CloseRequested { .. } = event else {
        return;
    };
    let app = window.app_handle();
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    let queued = state.still_queued();
    let in_tray = queued > 0
        && match ensure(app, queued) {
            Ok(()) => true,
            // No tray on this desktop: closing quits, as it would without work (the queue
            // resumes at the next start).
            Err(e) => {
                tracing::warn!("no tray icon ({e}); closing quits with {queued} deletes queued");
                false
            }
        };
    set_in_tray(app, in_tray);
    if in_tray {
        notify(app, &state.language().kept_in_tray(queued));
        tracing::info!(
            queued,
            "window closed with work queued: running in the tray"
        );
    }
}

/// The last window went: end the app, unless it closed to the tray. An exit asked for by code
/// (the tray's "quit") always ends it.
pub fn on_run_event(app: &AppHandle, event: RunEvent) {
    let RunEvent::ExitRequested {
        code: None, api, ..
    } = event
    else {
        return;
    };
    if in_tray(app) {
        api.prevent_exit();
        tracing::info!(
            "the window is closed and its web view released; Retract goes on in the tray"
        );
        renew_when_quiet(app.clone());
    }
}

/// What a process renewed in the tray is started with: the window's language and "pause all".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Renewed {
    pub language: Language,
    pub paused_all: bool,
}

const IN_TRAY: &str = "--in-tray";
const LANGUAGE_EN: &str = "--language=en";
const PAUSED_ALL: &str = "--paused-all";

impl Renewed {
    /// `Some` when this process was renewed in the tray.
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Option<Self> {
        let args: Vec<String> = args.into_iter().collect();
        args.iter().any(|a| a == IN_TRAY).then(|| Self {
            language: if args.iter().any(|a| a == LANGUAGE_EN) {
                Language::En
            } else {
                Language::ZhCn
            },
            paused_all: args.iter().any(|a| a == PAUSED_ALL),
        })
    }

    /// The arguments of the renewed process: this one's (our own flags aside), then ours.
    fn args(self, own: impl IntoIterator<Item = String>) -> Vec<String> {
        let mut args: Vec<String> = own
            .into_iter()
            .filter(|a| a != IN_TRAY && a != PAUSED_ALL && !a.starts_with("--language="))
            .collect();
        args.push(IN_TRAY.into());
        args.push(match self.language {
            Language::En => LANGUAGE_EN.into(),
            Language::ZhCn => "--language=zh-CN".into(),
        });
        if self.paused_all {
            args.push(PAUSED_ALL.into());
        }
        args
    }
}

/// At the start of a renewed process: the tray icon at once, with what the old one showed.
pub fn enter(app: &AppHandle, renewed: Renewed) {
    let state = app.state::<AppState>();
    state.set_language(renewed.language);
    state.paused_all.store(renewed.paused_all, Ordering::SeqCst);
    set_in_tray(app, true);
    match ensure(app, state.still_queued()) {
        Ok(()) => tracing::info!("renewed in the tray, without a window"),
        // Without a tray icon there would be no way back to the window: open it.
        Err(e) => {
            tracing::warn!("renewed, but no tray icon ({e}): the window opens instead");
            set_in_tray(app, false);
            show_window(app);
        }
    }
}

/// Why this process must stay as it is in the tray, if it must.
fn why_not_renew(state: &AppState) -> Option<&'static str> {
    if !cfg!(target_os = "linux") {
        return Some("renewing in the tray is done on Linux only");
    }
    if std::env::var("TAURI_WEBVIEW_AUTOMATION").is_ok_and(|v| v == "true") {
        return Some("WebDriver drives the window");
    }
    if !state.sealed_by_keyring {
        return Some("plans are sealed with this session's key");
    }
    let Ok(accounts) = state.accounts() else {
        return Some("the database is not open");
    };
    let Ok(list) = accounts.list() else {
        return Some("the accounts cannot be read");
    };
    if list.iter().any(|a| a.is_demo) {
        return Some("the demo's simulator lives in this process");
    }
    // A secret in the keyring, or none at all, is found again by the renewed image.
    let session_only = list.iter().any(|a| {
        matches!(
            accounts.secret_storage(a),
            Ok(Some(retract_core::accounts::SecretStorage::SessionOnly))
        )
    });
    if session_only {
        return Some("a secret is kept for this session only");
    }
    None
}

/// After the window closed to the tray: waits for quiet, then renews the process (Linux). The
/// checks run on a thread of their own: they read the keyring.
fn renew_when_quiet(app: AppHandle) {
    let settle = test_hook("RETRACT_TRAY_SETTLE_SECS")
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    std::thread::spawn(move || {
        if let Some(why) = why_not_renew(&app.state::<AppState>()) {
            tracing::info!(why, "the tray keeps this process as it is");
            return;
        }
        std::thread::sleep(std::time::Duration::from_secs(settle));
        loop {
            if app.get_webview_window("main").is_some() {
                return; // opened again meanwhile
            }
            if !app.state::<AppState>().is_busy() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_secs(2));
        }
        let handle = app.clone();
        let _ = app.run_on_main_thread(move || renew(&handle));
    });
}

/// Replaces this process's image with one started in the tray. Returns only if that failed.
#[cfg(target_os = "linux")]
fn renew(app: &AppHandle) {
    use std::os::unix::process::CommandExt;

    let state = app.state::<AppState>();
    // Checked again on the main thread: the window may have opened, or a run begun. (A run the
    // scheduler starts in the instant after this check is cut short like a crash, which the
    // journal is built for: nothing it had not sent is lost, what it sent is checked again.)
    if app.get_webview_window("main").is_some() || state.is_busy() {
        tracing::info!("not renewed: the window opened or work began");
        return;
    }
    let renewed = Renewed {
        language: state.language(),
        paused_all: state.paused_all.load(Ordering::SeqCst),
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            tracing::warn!("not renewed in the tray: no path to this program ({e})");
            return;
        }
    };
    end_webkit_children();
    tracing::info!(
        "renewing the process in the tray: the window's libraries and WebKit's processes are let go"
    );
    let e = std::process::Command::new(&exe)
        .args(renewed.args(std::env::args().skip(1)))
        .exec();
    tracing::warn!("not renewed in the tray: {e}");
}

#[cfg(not(target_os = "linux"))]
fn renew(_app: &AppHandle) {}

/// Ends and reaps WebKit's processes under this one (the network process outlives the
/// window), so none is left behind for the renewed image, which knows nothing of them.
#[cfg(target_os = "linux")]
fn end_webkit_children() {
    use rustix::process::{Pid, Signal, WaitOptions, kill_process, waitpid};

    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = stat[open + 1..close].to_string();
        let parent = stat[close + 1..].split_whitespace().nth(1);
        if parent != Some(me.as_str()) || !comm.starts_with("WebKit") {
            continue;
        }
        if let Some(pid) = Pid::from_raw(pid) {
            let _ = kill_process(pid, Signal::TERM);
            // Up to two seconds to go by itself; then it is killed.
            let gone = (0..40).any(|_| {
                let reaped = waitpid(Some(pid), WaitOptions::NOHANG);
                let done = !matches!(reaped, Ok(None));
                if !done {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                done
            });
            if !gone {
                let _ = kill_process(pid, Signal::KILL);
                let _ = waitpid(Some(pid), WaitOptions::empty());
            }
            tracing::info!(process = comm, "ended with the window");
        }
    }
}

/// Creates the tray icon once, or brings its labels up to date; `queued` is what still waits.
fn ensure(app: &AppHandle, queued: u32) -> tauri::Result<()> {
    let state = app.state::<AppState>();
    if app.tray_by_id(TRAY_ID).is_some() {
        if let Some(items) = app.try_state::<Items>() {
            relabel(&items, &state, queued);
        }
        return Ok(());
    }
    let [open, pause, quit] = labels(&state, queued);
    let open = MenuItem::with_id(app, "open", open, true, None::<&str>)?;
    let pause = MenuItem::with_id(app, "pause", pause, true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", quit, true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &pause, &quit])?;
    app.manage(Items::default());
    *app.state::<Items>()
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some([open, pause, quit]);
    let mut tray = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Retract")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => show_window(app),
            "pause" => {
                let state = app.state::<AppState>();
                let now = !state.paused_all.load(Ordering::SeqCst);
                state.paused_all.store(now, Ordering::SeqCst);
                tracing::info!(paused = now, "pause all from the tray");
                refresh(app, &state);
            }
            "quit" => {
                tracing::info!("quit from the tray");
                app.exit(0);
            }
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        tray = tray.icon(icon.clone());
    }
    tray.build(app)?;
    Ok(())
}

/// The tray's "open": the window, built again if it closed to the tray.
fn show_window(app: &AppHandle) {
    let window = match app.get_webview_window("main") {
        Some(window) => window,
        None => match navigation::main_window(app) {
            Ok(window) => {
                rendering::apply(&window, test_hook("RETRACT_SOFTWARE_RENDERING").is_some());
                tracing::info!("the window is open again (from the tray)");
                window
            }
            Err(e) => {
                tracing::error!("the tray could not open the window: {e}");
                return;
            }
        },
    };
    let _ = window.show();
    let _ = window.unminimize();
    let _ = window.set_focus();
}

/// The menu's texts: open, pause or resume all, quit (with what still waits).
fn labels(state: &AppState, queued: u32) -> [String; 3] {
    let language = state.language();
    [
        language.open().to_string(),
        language
            .pause_all(state.paused_all.load(Ordering::SeqCst))
            .to_string(),
        language.quit(queued),
    ]
}

/// Brings the tray's labels up to date (after each scheduler pass, each toggle and each change
/// of language). Without a tray icon (nothing queued yet) there is nothing to do.
pub fn refresh(app: &AppHandle, state: &AppState) {
    if let Some(items) = app.try_state::<Items>() {
        relabel(&items, state, state.still_queued());
    }
}

fn relabel(items: &Items, state: &AppState, queued: u32) {
    let guard = items.0.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(items) = guard.as_ref() {
        for (item, text) in items.iter().zip(labels(state, queued)) {
            let _ = item.set_text(text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Renewed;
    use crate::texts::Language;

    #[test]
    fn a_renewed_process_gets_the_language_and_pause_and_keeps_the_other_arguments() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(Renewed::from_args(args(&["retract", "--demo"])), None);
        let renewed = Renewed {
            language: Language::En,
            paused_all: true,
        };
        let next = renewed.args(args(&["--demo"]));
        assert_eq!(
            next,
            args(&["--demo", "--in-tray", "--language=en", "--paused-all"])
        );
        assert_eq!(Renewed::from_args(next.clone()), Some(renewed));
        // Renewed again (opened, closed, renewed): our flags are not repeated or kept stale.
        let zh = Renewed {
            language: Language::ZhCn,
            paused_all: false,
        };
        let again = zh.args(next);
        assert_eq!(again, args(&["--demo", "--in-tray", "--language=zh-CN"]));
        assert_eq!(Renewed::from_args(again), Some(zh));
    }
}
