//! What the app is running against, and whether the OS keyring works.

use serde::Serialize;
use specta::Type;
use tauri::State;

use retract_core::tickets::{APP, TicketAction};

use crate::error::AppError;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub keyring_service: String,
    /// The API every account talks to when `RETRACT_API_BASE` overrides it.
    pub api_base_override: Option<String>,
    /// Set when the app runs the built-in simulator (`--demo`).
    pub demo: Option<DemoInfo>,
    /// Set when the local database could not be opened: what happened and what to do.
    pub storage_error: Option<String>,
    /// The folder of the daily log files, to hand to support; `None` when no log could be
    /// opened (then `log_error` says why).
    pub log_dir: Option<String>,
    pub log_error: Option<String>,
    /// Variables of the environment that route or re-trust Retract's requests to WeChat (the
    /// AppSecret and tokens travel that way too), as found at start; empty when none is set.
    pub routing: Vec<EnvRoute>,
}

/// One variable of the environment that changes where Retract's requests go or whom they trust.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct EnvRoute {
    pub variable: String,
    /// What it says, without credentials: a proxy's host and port, a certificate file's path.
    pub shown: String,
}

/// The variables reqwest (system proxy) and rustls (extra trust) honour, in the order they win.
const ROUTING: &[&str] = &[
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// What the environment `get` says about routing, credentials left out. In a release build
/// `TAURI_WEBVIEW_AUTOMATION` is named too: with it, another program can drive the window
/// (the end-to-end tests set it for debug builds).
pub fn routing(get: impl Fn(&str) -> Option<String>) -> Vec<EnvRoute> {
    let automation = (!cfg!(debug_assertions))
        .then(|| get("TAURI_WEBVIEW_AUTOMATION").filter(|v| !v.trim().is_empty()))
        .flatten()
        .map(|value| EnvRoute {
            variable: "TAURI_WEBVIEW_AUTOMATION".into(),
            shown: value,
        });
    ROUTING
        .iter()
        .filter_map(|name| {
            let value = get(name).filter(|v| !v.trim().is_empty())?;
            let shown = if name.starts_with("SSL_") {
                value
            } else {
                match url::Url::parse(value.trim()) {
                    Ok(u) => format!(
                        "{}://{}{}",
                        u.scheme(),
                        u.host_str().unwrap_or("?"),
                        u.port().map(|p| format!(":{p}")).unwrap_or_default()
                    ),
                    // host:port without a scheme, maybe user:pass@ in front.
                    Err(_) => value.rsplit('@').next().unwrap_or_default().to_string(),
                }
            };
            Some(EnvRoute {
                variable: name.to_string(),
                shown,
            })
        })
        .chain(automation)
        .collect()
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct DemoInfo {
    pub base_url: String,
    pub appid: String,
    pub messages: u32,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct KeyringReport {
    pub ok: bool,
    pub service: String,
    pub store: Option<String>,
    pub wrote: bool,
    pub read_back: bool,
    pub deleted: bool,
    pub error: Option<AppError>,
}

#[tauri::command]
#[specta::specta]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        data_dir: state.data_dir.display().to_string(),
        keyring_service: state.keyring().service().to_string(),
        api_base_override: state.api_base_override.clone(),
        demo: state.demo_base().map(|base_url| DemoInfo {
            base_url,
            appid: wechat_sim::DEMO_APPID.to_string(),
            messages: crate::state::DEMO_MESSAGES,
        }),
        storage_error: state.storage_error(),
        log_dir: state.log.as_ref().ok().map(|d| d.display().to_string()),
        log_error: state.log.as_ref().err().cloned(),
        routing: routing(|name| std::env::var(name).ok()),
    }
}

/// Opens the log folder in the system's file manager.
#[tauri::command]
#[specta::specta]
pub async fn open_log_folder(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
) -> Result<(), AppError> {
    let dir = state.log.clone().map_err(AppError::internal)?;
    super::system_open(&app, super::Openable::Folder(dir)).await
}

/// What each account has shown of WeChat's undocumented behaviour, first sightings only.
#[tauri::command]
#[specta::specta]
pub async fn list_observations(
    state: State<'_, AppState>,
) -> Result<Vec<retract_core::observations::Observation>, AppError> {
    let accounts = state.accounts()?;
    let store = std::sync::Arc::clone(accounts.store());
    tokio::task::spawn_blocking(move || retract_core::observations::list(&store))
        .await
        .map_err(|e| AppError::internal(format!("reading the observations failed: {e}")))?
        .map_err(AppError::from)
}

/// Writes, reads back and deletes a canary entry in the OS keyring.
#[tauri::command]
#[specta::specta]
pub async fn keyring_self_test(state: State<'_, AppState>) -> Result<KeyringReport, AppError> {
    let keyring = state.keyring();
    // D-Bus calls block and an unlock prompt may wait on the user: off the async runtime, bounded.
    let report = crate::state::blocking(move || Ok(keyring.self_test())).await?;
    Ok(KeyringReport {
        ok: report.ok(),
        service: report.service,
        store: report.store,
        wrote: report.wrote,
        read_back: report.read_back,
        deleted: report.deleted,
        error: report.error.map(AppError::from),
    })
}

/// Whether Retract starts at login (off by default).
#[tauri::command]
#[specta::specta]
pub fn autostart_status(app: tauri::AppHandle) -> Result<bool, AppError> {
    crate::desktop::autostart(&app)
        .map_err(|e| AppError::internal(format!("cannot read the start-at-login setting: {e}")))
}

/// The window's language, so the tray and desktop notifications speak it too.
#[tauri::command]
#[specta::specta]
pub fn set_language(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    language: crate::texts::Language,
) {
    state.set_language(language);
    crate::tray::refresh(&app, &state);
}

/// Turns start at login on or off; answers the setting as it is afterwards.
/// A ticket for turning start-at-login on or off, asked for when the switch is used.
#[tauri::command]
#[specta::specta]
pub fn prepare_autostart(state: State<'_, AppState>) -> Result<String, AppError> {
    super::issue_ticket(&state, APP, TicketAction::Autostart)
}

/// Redeems the ticket of [`prepare_autostart`]: a bare call changes nothing.
pub(crate) fn autostart_ticket(state: &AppState, ticket: &str) -> Result<(), AppError> {
    super::redeem_ticket(state, APP, TicketAction::Autostart, ticket)
}

#[tauri::command]
#[specta::specta]
pub fn set_autostart(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    on: bool,
    ticket: String,
) -> Result<bool, AppError> {
    autostart_ticket(&state, &ticket)?;
    crate::desktop::set_autostart(&app, on)
        .map_err(|e| AppError::internal(format!("cannot change the start-at-login setting: {e}")))
}

#[cfg(test)]
mod tests {
    use super::routing;

    #[test]
    fn the_environment_routing_requests_is_named_without_its_credentials() {
        let env = |name: &str| match name {
            "HTTPS_PROXY" => Some("http://ops:hunter2@proxy.corp.example:3128".to_string()),
            "all_proxy" => Some("socks5://u:p@10.0.0.9:1080".to_string()),
            "SSL_CERT_FILE" => Some("/home/ops/corp-ca.pem".to_string()),
            "http_proxy" => Some("  ".to_string()),
            _ => None,
        };
        let found = routing(env);
        let shown: Vec<(&str, &str)> = found
            .iter()
            .map(|r| (r.variable.as_str(), r.shown.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                ("HTTPS_PROXY", "http://proxy.corp.example:3128"),
                ("all_proxy", "socks5://10.0.0.9:1080"),
                ("SSL_CERT_FILE", "/home/ops/corp-ca.pem"),
            ]
        );
        assert!(!format!("{found:?}").contains("hunter2"));
        assert!(routing(|_| None).is_empty());
    }
}
