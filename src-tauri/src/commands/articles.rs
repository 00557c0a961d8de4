//! The article index: sync (with progress events and cancel), search, open in the browser.

use retract_core::accounts::AccountId;
use retract_core::index::{self, ArticleFilter, ArticleRow};
use retract_core::rules::{self, LinkReport, MatchSelection};
use retract_core::sync::{SyncProgress, SyncReport};
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::{AppHandle, State};
use tauri_specta::Event;

use crate::error::AppError;
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
    /// Leave out deleted articles.
    #[serde(default)]
    pub live_only: bool,
}

impl From<FilterInput> for ArticleFilter {
    fn from(f: FilterInput) -> Self {
        Self {
            query: f.query,
            from: f.from,
            to: f.to,
            live_only: f.live_only,
        }
    }
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ArticlePage {
    pub total: u32,
    pub offset: u32,
    pub rows: Vec<ArticleRow>,
}

/// What a full re-sync would cost (asked before one starts; reads `quota/get` only).
#[tauri::command]
#[specta::specta]
pub async fn full_sync_cost(
    state: State<'_, AppState>,
    id: AccountId,
) -> Result<retract_core::sync::FullSyncCost, AppError> {
    let api = super::account_api(&state, id).await?;
    Ok(retract_core::sync::full_sync_cost(&api, state.accounts()?.store(), id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn sync_articles(
    app: AppHandle,
    state: State<'_, AppState>,
    id: AccountId,
    full: bool,
) -> Result<SyncReport, AppError> {
    sync_on(&app, &state, id, full).await
}

/// The sync, with its progress going to `progress`.
pub(crate) async fn sync_on(
    progress: &impl super::Progress,
    state: &AppState,
    id: AccountId,
    full: bool,
) -> Result<SyncReport, AppError> {
    // A sync and a delete run of one account never overlap (the core also holds the
    // cross-process lock).
    let _turn = state.queue_turn(id).await;
    let accounts = state.accounts()?;
    let api = super::account_api(state, id).await?;
    let cancel = state.sync_flag(id);
    let report = retract_core::sync::sync(
        &api,
        accounts.store(),
        id,
        full,
        &cancel,
        |p: &SyncProgress| {
            progress.sync(SyncProgressEvent {
                account_id: id,
                pages: p.pages,
                messages: p.messages,
                new_messages: p.new_messages,
                total: p.total,
            })
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
pub async fn list_articles(
    state: State<'_, AppState>,
    id: AccountId,
    filter: FilterInput,
    offset: u32,
    limit: u32,
) -> Result<ArticlePage, AppError> {
    let accounts = state.accounts()?;
    let filter = ArticleFilter::from(filter);
    super::in_background(move || {
        let (total, rows) = index::search(accounts.store(), id, &filter, offset, limit)?;
        Ok(ArticlePage {
            total,
            offset,
            rows,
        })
    })
    .await
}

/// Every live article matching the filter, as the fewest delete requests, with the quota days
/// they need (reads `quota/get`, cached a minute; nothing is planned or sent).
#[tauri::command]
#[specta::specta]
pub async fn select_matching(
    state: State<'_, AppState>,
    id: AccountId,
    filter: FilterInput,
) -> Result<MatchSelection, AppError> {
    let accounts = state.accounts()?;
    let api = super::account_api(&state, id).await?;
    let filter = ArticleFilter::from(filter);
    // The index walk off the async threads (a copy rebuilt after a change takes a moment).
    let chosen = super::in_background(move || {
        Ok(rules::matching(
            accounts.store(),
            id,
            &filter,
            rules::MATCH_CAP,
        )?)
    })
    .await?;
    Ok(rules::with_days(&api, chosen).await)
}

/// Finds pasted article links in the index (reads the pages of short links it does not hold as
/// such); selects nothing itself: the window ticks what was found.
#[tauri::command]
#[specta::specta]
pub async fn find_links(
    state: State<'_, AppState>,
    id: AccountId,
    text: String,
) -> Result<LinkReport, AppError> {
    if text.len() > 256 * 1024 {
        return Err(AppError::from(retract_core::CoreError::Invalid(
            "the pasted text is longer than 256 KiB; paste the links in parts".into(),
        )));
    }
    let accounts = state.accounts()?;
    let api = super::account_api(&state, id).await?;
    let pages = accounts.pages_base(id)?;
    Ok(rules::find_links(&api, accounts.store(), id, &text, &pages).await?)
}

/// Opens an article in the system browser; its HTML is never rendered inside the app.
#[tauri::command]
#[specta::specta]
pub async fn open_article(app: tauri::AppHandle, url: String) -> Result<(), AppError> {
    let url = retract_core::links::article_link(&url)?;
    super::system_open(&app, super::Openable::Link(url)).await
}
