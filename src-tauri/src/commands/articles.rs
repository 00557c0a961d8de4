//! The article index: sync (with progress events and cancel), search, open in the browser.

use retract_core::accounts::AccountId;
use retract_core::index::{self, ArticleFilter, ArticleRow, SyncProgress, SyncReport};
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::{AppHandle, State};
use tauri_specta::Event;

use crate::error::{AppError, ErrorKind};
use crate::state::AppState;

/// Sent after every page a sync stores.
#[derive(Debug, Clone, Serialize, Deserialize, Type, Event)]
#[serde(rename_all = "camelCase")]
pub struct SyncProgressEvent {
    pub account_id: AccountId,
    pub pages: u32,
    pub messages: u32,
    pub new_messages: u32,
    pub total: u32,
}

#[derive(Debug, Clone, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct FilterInput {
    pub query: Option<String>,
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub to: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ArticlePage {
    pub total: u32,
    pub offset: u32,
    pub rows: Vec<ArticleRow>,
}

#[tauri::command]
#[specta::specta]
pub async fn sync_articles(
    app: AppHandle,
    state: State<'_, AppState>,
    id: AccountId,
    full: bool,
) -> Result<SyncReport, AppError> {
    // A sync and a delete run of one account never overlap (the core also holds the
    // cross-process lock).
    let _turn = state.queue_turn(id).await;
    let accounts = state.accounts()?;
    let api = super::account_api(&state, id).await?;
    let cancel = state.sync_flag(id);
    let report = index::sync(
        &api,
        accounts.store(),
        id,
        full,
        &cancel,
        |p: &SyncProgress| {
            let event = SyncProgressEvent {
                account_id: id,
                pages: p.pages,
                messages: p.messages,
                new_messages: p.new_messages,
                total: p.total,
            };
            if let Err(e) = event.emit(&app) {
                tracing::warn!("cannot send sync progress: {e}");
            }
        },
    )
    .await?;
    Ok(report)
}

#[tauri::command]
#[specta::specta]
pub fn cancel_sync(state: State<'_, AppState>, id: AccountId) {
    state.cancel_sync(id);
}

/// One window of the filtered list; no API call.
#[tauri::command]
#[specta::specta]
pub fn list_articles(
    state: State<'_, AppState>,
    id: AccountId,
    filter: FilterInput,
    offset: u32,
    limit: u32,
) -> Result<ArticlePage, AppError> {
    let filter = ArticleFilter {
        query: filter.query,
        from: filter.from,
        to: filter.to,
    };
    let (total, rows) = index::search(state.accounts()?.store(), id, &filter, offset, limit)?;
    Ok(ArticlePage {
        total,
        offset,
        rows,
    })
}

/// Only article pages on mp.weixin.qq.com, over HTTPS: nothing else is opened.
pub fn check_article_url(raw: &str) -> Result<url::Url, AppError> {
    let url = url::Url::parse(raw)
        .map_err(|_| AppError::new(ErrorKind::InvalidInput, "not a valid URL"))?;
    if url.scheme() != "https"
        || url.host_str() != Some("mp.weixin.qq.com")
        || !url.username().is_empty()
        || url.port().is_some()
    {
        return Err(AppError::new(
            ErrorKind::InvalidInput,
            "only https://mp.weixin.qq.com article links are opened",
        ));
    }
    Ok(url)
}

/// Opens an article in the system browser; its HTML is never rendered inside the app.
#[tauri::command]
#[specta::specta]
pub async fn open_article(url: String) -> Result<(), AppError> {
    let url = check_article_url(&url)?;
    super::system_open(url.as_str().into()).await
}

#[cfg(test)]
mod tests {
    use super::check_article_url;

    #[test]
    fn only_https_mp_weixin_links_are_opened() {
        assert!(check_article_url("https://mp.weixin.qq.com/s/AbC_12-x").is_ok());
        for bad in [
            "http://mp.weixin.qq.com/s/x",
            "https://mp.weixin.qq.com.evil.example/s/x",
            "https://evil.example/?u=https://mp.weixin.qq.com",
            "https://user@mp.weixin.qq.com/s/x",
            "https://mp.weixin.qq.com:8443/s/x",
            "file:///etc/passwd",
            "javascript:alert(1)",
        ] {
            assert!(check_article_url(bad).is_err(), "{bad}");
        }
    }
}
