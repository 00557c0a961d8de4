//! Retract on the desktop outside its window: notifications (what the scheduler did, in the
//! window's language) and the optional start at login (off by default).

use tauri::AppHandle;

/// A desktop notification (its text also goes to the log); where the desktop has none, the log
/// says so and nothing else happens.
pub fn notify(app: &AppHandle, text: &str) {
    tracing::info!(text, "desktop notification");
    if let Err(e) = show_notification(app, text) {
        tracing::info!("no desktop notification ({e})");
    }
}

/// A notification body as plain text for freedesktop servers, which read the body as markup
/// (`<a href>`, `<b>`, `<img>`): an error text that came from a relay must not turn into a link.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) fn plain_body(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The freedesktop notification service, asked over the session bus (on a thread of its own:
/// D-Bus may be slow or absent).
#[cfg(target_os = "linux")]
fn show_notification(_app: &AppHandle, text: &str) -> Result<(), String> {
    let text = plain_body(text);
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

#[cfg(test)]
mod tests {
    use super::plain_body;

    #[test]
    fn a_notification_body_carries_no_markup() {
        let relay =
            r#"errcode 40001: <a href="https://evil.example/">log in again</a> & <img src=x>"#;
        let body = plain_body(relay);
        assert!(!body.contains('<') && !body.contains('>'), "{body}");
        assert_eq!(
            body,
            "errcode 40001: &lt;a href=&quot;https://evil.example/&quot;&gt;log in again&lt;/a&gt; &amp; &lt;img src=x&gt;"
        );
        assert_eq!(plain_body("队列已停止：配额用完"), "队列已停止：配额用完");
    }
}
