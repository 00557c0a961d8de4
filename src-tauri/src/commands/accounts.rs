//! Accounts: the setup wizard's checks, verify, save (keyring or this session only), rename,
//! re-verify, remove, and the demo account.

use retract_core::accounts::{
    self, Account, AccountDraft, AccountId, DraftSource, SecretStorage, VerifyReport,
};
use retract_core::tickets::TicketAction;
use serde::{Deserialize, Serialize};
use specta::Type;
use tauri::State;

use crate::error::AppError;
use crate::state::{AppState, blocking};

/// What the wizard sends. The secret travels in, never out.
#[derive(Debug, Clone, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct AccountInput {
    pub name: String,
    pub appid: String,
    pub source: SourceInput,
    pub proxy: Option<String>,
    pub api_base: Option<String>,
    /// "A relay runs on this computer": only then may the API base or token service be a
    /// loopback address.
    #[serde(default)]
    pub local_relay: bool,
}

#[derive(Clone, Deserialize, Type)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SourceInput {
    #[serde(rename_all = "camelCase")]
    Stable { secret: String },
    #[serde(rename_all = "camelCase")]
    Service {
        url: String,
        header_name: Option<String>,
        header_value: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    Pasted {
        token: String,
        expires_in_minutes: Option<u32>,
    },
}

// Hand-written so no secret can be printed by a stray `{:?}`.
impl std::fmt::Debug for SourceInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Stable { .. } => "Stable { .. }",
            Self::Service { .. } => "Service { .. }",
            Self::Pasted { .. } => "Pasted { .. }",
        })
    }
}

impl From<AccountInput> for AccountDraft {
    fn from(i: AccountInput) -> Self {
        AccountDraft {
            name: i.name,
            appid: i.appid,
            source: match i.source {
                SourceInput::Stable { secret } => DraftSource::Stable { secret },
                SourceInput::Service {
                    url,
                    header_name,
                    header_value,
                } => DraftSource::Service {
                    url,
                    header_name,
                    header_value,
                },
                SourceInput::Pasted {
                    token,
                    expires_in_minutes,
                } => DraftSource::Pasted {
                    token,
                    expires_in_minutes,
                },
            },
            proxy: i.proxy,
            api_base: i.api_base,
            local_relay: i.local_relay,
        }
    }
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct SavedAccount {
    pub account: Account,
    pub storage: SecretStorage,
    /// The keyring service the secret is filed under (shown to the user).
    pub keyring_service: String,
}

#[tauri::command]
#[specta::specta]
pub async fn list_accounts(state: State<'_, AppState>) -> Result<Vec<Account>, AppError> {
    let accounts = state.accounts()?;
    super::in_background(move || Ok(accounts.list()?)).await
}

/// The wizard's live field check: every problem of every field, by Rust's rules (the one
/// source of truth). No network, nothing stored.
#[tauri::command]
#[specta::specta]
pub fn check_account(input: AccountInput) -> accounts::FieldCheck {
    accounts::field_check(&input.into())
}

/// Obtains a token and reads the delete quota. Nothing is stored.
#[tauri::command]
#[specta::specta]
pub async fn verify_account(
    state: State<'_, AppState>,
    input: AccountInput,
) -> Result<VerifyReport, AppError> {
    state.admit_verification(retract_core::now_unix())?;
    Ok(state.accounts()?.verify(&input.into()).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn save_account(
    state: State<'_, AppState>,
    input: AccountInput,
    storage: SecretStorage,
) -> Result<SavedAccount, AppError> {
    let _busy = state.busy();
    let accounts = state.accounts()?;
    let service = state.keyring().service().to_string();
    let account = blocking(move || Ok(accounts.save(&input.into(), storage)?)).await?;
    Ok(SavedAccount {
        account,
        storage,
        keyring_service: service,
    })
}

#[tauri::command]
#[specta::specta]
pub async fn rename_account(
    state: State<'_, AppState>,
    id: AccountId,
    name: String,
) -> Result<Account, AppError> {
    let accounts = state.accounts()?;
    super::in_background(move || Ok(accounts.rename(id, &name)?)).await
}

/// A ticket for removing `id`, asked for when the removal confirm opens.
#[tauri::command]
#[specta::specta]
pub async fn prepare_remove_account(
    state: State<'_, AppState>,
    id: AccountId,
) -> Result<String, AppError> {
    prepare_remove_account_on(&state, id)
}

pub(crate) fn prepare_remove_account_on(
    state: &AppState,
    id: AccountId,
) -> Result<String, AppError> {
    state.accounts()?.get(id)?;
    super::issue_ticket(state, id, TicketAction::RemoveAccount)
}

/// Removes the keyring entries, the profile and the local index of an account — only with
/// the ticket of [`prepare_remove_account`]: a bare call removes nothing.
#[tauri::command]
#[specta::specta]
pub async fn remove_account(
    state: State<'_, AppState>,
    id: AccountId,
    ticket: String,
) -> Result<(), AppError> {
    let _busy = state.busy();
    remove_account_on(&state, id, &ticket).await
}

pub(crate) async fn remove_account_on(
    state: &AppState,
    id: AccountId,
    ticket: &str,
) -> Result<(), AppError> {
    super::redeem_ticket(state, id, TicketAction::RemoveAccount, ticket)?;
    let accounts = state.accounts()?;
    blocking(move || Ok(accounts.remove(id)?)).await
}

/// Token and delete quota of a saved account (also the quota meter's source).
#[tauri::command]
#[specta::specta]
pub async fn reverify_account(
    state: State<'_, AppState>,
    id: AccountId,
) -> Result<VerifyReport, AppError> {
    super::account_api(&state, id).await?;
    Ok(state.accounts()?.reverify(id).await?)
}

/// Where the account's secret is now: keyring, this session, or nowhere (ask again).
#[tauri::command]
#[specta::specta]
pub async fn secret_storage(
    state: State<'_, AppState>,
    id: AccountId,
) -> Result<Option<SecretStorage>, AppError> {
    let accounts = state.accounts()?;
    blocking(move || {
        let account = accounts.get(id)?;
        Ok(accounts.secret_storage(&account)?)
    })
    .await
}

/// Where the account's secret goes now, and where the secret Retract holds was given for:
/// shown when the secret must be given again after the database named another address.
#[tauri::command]
#[specta::specta]
pub async fn secret_destinations(
    state: State<'_, AppState>,
    id: AccountId,
) -> Result<retract_core::accounts::SecretDestinations, AppError> {
    let accounts = state.accounts()?;
    blocking(move || Ok(accounts.secret_destinations(id)?)).await
}

/// Gives the secret again for this session (when it is in no keyring).
#[tauri::command]
#[specta::specta]
pub async fn provide_secret(
    state: State<'_, AppState>,
    id: AccountId,
    secret: String,
) -> Result<(), AppError> {
    let accounts = state.accounts()?;
    super::in_background(move || Ok(accounts.provide_session_secret(id, &secret)?)).await
}

/// Every account at a glance, from the local database (no API call; the window asks each
/// account's quota with `reverify_account`).
#[tauri::command]
#[specta::specta]
pub async fn accounts_overview(
    state: State<'_, AppState>,
) -> Result<Vec<retract_core::overview::AccountSummary>, AppError> {
    let accounts = state.accounts()?;
    blocking(move || Ok(retract_core::overview::summaries(&accounts)?)).await
}

/// Starts the built-in simulator and opens the demo account on it.
#[tauri::command]
#[specta::specta]
pub async fn start_demo(state: State<'_, AppState>) -> Result<Account, AppError> {
    state.start_demo().await
}
