//! The main window shows the app and nothing else: a navigation away from the app's own
//! origin (a link in a page, `location.href` from a script) is refused, and so is every new
//! window (`window.open`, `target="_blank"`). Article links open in the system browser through
//! the `open_article` command, never in the app.
//!
//! The window is built here at start and built again when the tray opens it: closing it to the
//! tray destroys it, web process and all (`tray.rs`).

use tauri::webview::NewWindowResponse;
use tauri::{AppHandle, Url, WebviewWindow, WebviewWindowBuilder};

/// The app's own pages: `tauri://localhost` (Linux, macOS), `http(s)://tauri.localhost`
/// (Windows), and the empty page a webview starts from.
pub fn allowed(url: &Url) -> bool {
    match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => {
            url.host_str() == Some("tauri.localhost")
                && url.port().is_none()
                && url.username().is_empty()
        }
        "about" => url.path() == "blank",
        _ => false,
    }
}

/// Builds the main window from its configuration (`create: false` there) with both guards.
pub fn main_window(app: &AppHandle) -> Result<WebviewWindow, String> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|w| w.label == "main")
        .cloned()
        .ok_or("the configuration has no main window")?;
    WebviewWindowBuilder::from_config(app, &config)
        .map_err(|e| format!("cannot build the main window: {e}"))?
        .on_navigation(|url| {
            let ok = allowed(url);
            if !ok {
                tracing::warn!(scheme = url.scheme(), host = ?url.host_str(), "navigation away from the app refused");
            }
            ok
        })
        .on_new_window(|url, _| {
            tracing::warn!(scheme = url.scheme(), host = ?url.host_str(), "new window refused");
            NewWindowResponse::Deny
        })
        .build()
        .map_err(|e| format!("cannot open the main window: {e}"))
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn only_the_apps_own_pages_are_allowed() {
        for good in [
            "tauri://localhost/",
            "tauri://localhost/index.html#accounts",
            "http://tauri.localhost/",
            "https://tauri.localhost/index.html",
            "about:blank",
        ] {
            assert!(
                allowed(&good.parse().unwrap_or_else(|e| panic!("{e}"))),
                "{good}"
            );
        }
        for bad in [
            "https://mp.weixin.qq.com/s/abc",
            "https://evil.example/",
            "http://localhost:5173/",
            "http://127.0.0.1:8787/",
            "tauri://evil.example/",
            "http://tauri.localhost.evil.example/",
            "http://tauri.localhost:8080/",
            "http://user@tauri.localhost/",
            "file:///etc/passwd",
            "data:text/html,<script>alert(1)</script>",
            "javascript:alert(1)",
            "about:srcdoc",
        ] {
            assert!(
                !allowed(&bad.parse().unwrap_or_else(|e| panic!("{e}"))),
                "{bad}"
            );
        }
    }
}
