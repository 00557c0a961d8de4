//! How the window is drawn on Linux.
//!
//! WebKitGTK composites the page on the GPU by default (through llvmpipe, a software OpenGL,
//! where there is no GPU). For a page of forms and one list that costs far more than it gives:
//! measured in BENCHMARKS.md, the web process drops by about 100 MiB and the window paints
//! sooner when WebKit draws the page itself. So Retract asks WebKit for that, with two
//! exceptions:
//! - `RETRACT_GPU=1` keeps WebKit's own choice, for anyone whose screen is better served by it;
//! - a window driven by WebDriver keeps it too: WebKitGTK 2.50's full-window WebDriver
//!   screenshot never answers when the page is not composited (element screenshots and the
//!   window itself are fine). Tests that must see the shipped mode pin it with the debug-only
//!   hook `RETRACT_SOFTWARE_RENDERING=1`.

/// Whether the window should be drawn without GPU compositing (asked on Linux only).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub fn software(gpu_asked: Option<&str>, automated: bool, pinned_by_test: bool) -> bool {
    if pinned_by_test {
        return true;
    }
    let gpu_asked = gpu_asked.is_some_and(|v| !v.is_empty() && v != "0");
    !gpu_asked && !automated
}

/// Applies the choice to the main window's webview, as early as the window exists (at start,
/// and each time the tray opens the window again).
#[cfg(target_os = "linux")]
pub fn apply(window: &tauri::WebviewWindow, pinned_by_test: bool) {
    use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};

    let gpu_asked = std::env::var("RETRACT_GPU").ok();
    let applied = window.with_webview(move |webview| {
        let view = webview.inner();
        if !software(
            gpu_asked.as_deref(),
            view.is_controlled_by_automation(),
            pinned_by_test,
        ) {
            return;
        }
        if let Some(settings) = WebViewExt::settings(&view) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
            tracing::info!("drawing the window without GPU compositing (RETRACT_GPU=1 keeps it)");
        }
    });
    if let Err(e) = applied {
        tracing::warn!(error = %e, "could not choose how the window is drawn");
    }
}

/// Elsewhere the system webview (WebView2, WKWebView) decides, and is left to.
#[cfg(not(target_os = "linux"))]
pub fn apply(_window: &tauri::WebviewWindow, _pinned_by_test: bool) {}

#[cfg(test)]
mod tests {
    use super::software;

    #[test]
    fn software_drawing_unless_asked_for_the_gpu_or_under_webdriver() {
        assert!(software(None, false, false), "the default");
        assert!(software(Some("0"), false, false));
        assert!(software(Some(""), false, false));
        assert!(!software(Some("1"), false, false), "RETRACT_GPU=1");
        assert!(!software(None, true, false), "under WebDriver");
        assert!(software(None, true, true), "a test pins the shipped mode");
        assert!(software(Some("1"), true, true));
    }
}
