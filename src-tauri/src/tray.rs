//! Living with a closed window: while deletes are still queued, closing the window hides it and
//! a tray icon keeps Retract (and its scheduler) running. The tray menu opens the window, pauses
//! or resumes all queues, and quits — its label says what is still waiting. Also the desktop
//! notifications of the scheduler, and the optional start at login (off by default).
//!
//! Labels are in both languages: the tray does not know which one the window shows.

use std::sync::Mutex;
use std::sync::atomic::Ordering;

use tauri::menu::{Menu, MenuItem};
use tauri::tray::TrayIconBuilder;
use tauri::{AppHandle, Manager, Window, WindowEvent, Wry};

use crate::state::AppState;

const TRAY_ID: &str = "retract";

/// The menu items whose text changes.
#[derive(Default)]
struct Items(Mutex<Option<(MenuItem<Wry>, MenuItem<Wry>)>>);

/// The window asked to close: with deletes still queued, hide it and keep running in the tray.
pub fn on_window_event(window: &Window, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    let app = window.app_handle();
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    let queued = crate::scheduler::still_queued(&state);
    if queued == 0 {
        return;
    }
    match ensure(app) {
        Ok(()) => {
            api.prevent_close();
            let _ = window.hide();
            refresh(app, &state);
            notify(
                app,
                &format!(
                    "Retract 在托盘中继续运行：还有 {queued} 个删除在队列中。\nRetract keeps running in the tray: {queued} deletes are still queued."
                ),
            );
            tracing::info!(
                queued,
                "window closed with work queued: running in the tray"
            );
        }
        // No tray on this desktop: closing quits, as it would without work (the queue resumes
        // at the next start).
        Err(e) => tracing::warn!("no tray icon ({e}); closing quits with {queued} deletes queued"),
    }
}

fn quit_label(queued: u32) -> String {
    if queued == 0 {
        "退出 / Quit".into()
    } else {
        format!("退出（仍有 {queued} 个删除在等待）/ Quit ({queued} deletes still waiting)")
    }
}

fn pause_label(paused: bool) -> &'static str {
    if paused {
        "继续所有队列 / Resume all queues"
    } else {
        "暂停所有队列 / Pause all queues"
    }
}

/// Creates the tray icon once.
fn ensure(app: &AppHandle) -> tauri::Result<()> {
    if app.tray_by_id(TRAY_ID).is_some() {
        return Ok(());
    }
    let state = app.state::<AppState>();
    let open = MenuItem::with_id(
        app,
        "open",
        "打开 Retract / Open Retract",
        true,
        None::<&str>,
    )?;
    let pause = MenuItem::with_id(
        app,
        "pause",
        pause_label(state.paused_all.load(Ordering::SeqCst)),
        true,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(
        app,
        "quit",
        quit_label(crate::scheduler::still_queued(&state)),
        true,
        None::<&str>,
    )?;
    let menu = Menu::with_items(app, &[&open, &pause, &quit])?;
    app.manage(Items::default());
    *app.state::<Items>()
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some((pause.clone(), quit.clone()));
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

fn show_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Brings the tray's labels up to date (after each scheduler pass and each toggle).
pub fn refresh(app: &AppHandle, state: &AppState) {
    let Some(items) = app.try_state::<Items>() else {
        return;
    };
    let guard = items.0.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((pause, quit)) = guard.as_ref() {
        let _ = pause.set_text(pause_label(state.paused_all.load(Ordering::SeqCst)));
        let _ = quit.set_text(quit_label(crate::scheduler::still_queued(state)));
    }
}

/// A desktop notification; where the desktop has none, the log says so and nothing else happens.
pub fn notify(app: &AppHandle, text: &str) {
    if let Err(e) = show_notification(app, text) {
        tracing::info!("no desktop notification ({e})");
    }
}

/// The freedesktop notification service, asked over the session bus (on a thread of its own:
/// D-Bus may be slow or absent).
#[cfg(target_os = "linux")]
fn show_notification(_app: &AppHandle, text: &str) -> Result<(), String> {
    let text = text.to_string();
    let call = move || -> zbus::Result<()> {
        let bus = zbus::blocking::Connection::session()?;
        let hints: std::collections::HashMap<&str, zbus::zvariant::Value<'_>> =
            std::collections::HashMap::new();
        bus.call_method(
            Some("org.freedesktop.Notifications"),
            "/org/freedesktop/Notifications",
            Some("org.freedesktop.Notifications"),
            "Notify",
            &(
                "Retract",
                0u32,
                "",
                "Retract",
                text.as_str(),
                Vec::<&str>::new(),
                hints,
                -1i32,
            ),
        )?;
        Ok(())
    };
    std::thread::spawn(move || match call() {
        Ok(()) => tracing::info!("desktop notification shown"),
        Err(e) => tracing::info!("no desktop notification ({e})"),
    });
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn show_notification(app: &AppHandle, text: &str) -> Result<(), String> {
    use tauri_plugin_notification::NotificationExt;
    app.notification()
        .builder()
        .title("Retract")
        .body(text)
        .show()
        .map_err(|e| e.to_string())
}

/// Whether Retract starts at login (off unless the operator turns it on).
pub fn autostart(app: &AppHandle) -> Result<bool, String> {
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch().is_enabled().map_err(|e| e.to_string())
}

pub fn set_autostart(app: &AppHandle, on: bool) -> Result<bool, String> {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    if on {
        launcher.enable()
    } else {
        launcher.disable()
    }
    .map_err(|e| e.to_string())?;
    tracing::info!(on, "start at login changed");
    autostart(app)
}
