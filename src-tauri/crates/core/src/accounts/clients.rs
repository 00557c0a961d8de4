//! Turning a profile and its secret into an API client, and "Verify": a token, and the delete
//! quota when WeChat's advisory `quota/get` answers.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use secrecy::SecretString;
use serde::Serialize;
use wechat_mp::{Api, Client, ClientConfig, Clock, DELETE_CGI_PATH, TokenCache, TokenSource};

use super::profile::{Profile, TokenSetup};
use crate::error::CoreError;

/// The result of "Verify": a token was obtained, and the delete quota read when `quota/get`
/// answered (it is advisory, and may not know the path: then all three are `None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct VerifyReport {
    pub delete_daily_limit: Option<u32>,
    pub delete_used: Option<u32>,
    pub delete_remain: Option<u32>,
    /// The publishing APIs answered one listing call (the setup's check of 48001, which
    /// `quota/get` does not reveal); `None` where it was not asked (a re-check spends no list
    /// quota).
    pub can_publish: Option<bool>,
}

/// An API client for `profile` (whose `api_base` is the one to use, already chosen with
/// [`super::profile::api_base_for`]) with its secret.
pub(crate) fn build_api(
    profile: &Profile,
    secret: Option<SecretString>,
    clock: Arc<dyn Clock>,
) -> Result<Api, CoreError> {
    let client = Client::new(&ClientConfig {
        api_base: profile
            .api_base
            .clone()
            .unwrap_or_else(|| wechat_mp::DEFAULT_API_BASE.to_string()),
        proxy: profile.proxy.clone(),
        ..ClientConfig::default()
    })?;
    let missing = || CoreError::SecretMissing;
    let source = match &profile.setup {
        TokenSetup::Stable => TokenSource::Stable {
            appid: profile.appid.clone(),
            secret: secret.ok_or_else(missing)?,
        },
        TokenSetup::Service { url, header } => TokenSource::Service {
            url: wechat_mp::client::check_url(url, "the token service URL", false)?,
            header: match (header, secret) {
                (Some(name), Some(value)) => Some((name.clone(), value)),
                (Some(_), None) => return Err(missing()),
                _ => None,
            },
        },
        TokenSetup::Pasted { expires_at } => TokenSource::Fixed {
            token: secret.ok_or_else(missing)?,
            expires_at: expires_at
                .map(|t| SystemTime::UNIX_EPOCH + Duration::from_secs(t.max(0) as u64)),
        },
    };
    Ok(Api::new(client, Arc::new(TokenCache::new(source, clock))))
}

pub(crate) async fn verify_with(api: &Api) -> Result<VerifyReport, CoreError> {
    api.token().await?;
    match api.quota(DELETE_CGI_PATH).await {
        Ok(q) => Ok(VerifyReport {
            delete_daily_limit: Some(q.quota.daily_limit),
            delete_used: Some(q.quota.used),
            delete_remain: Some(q.quota.remain),
            can_publish: None,
        }),
        // Account-level refusals are what Verify is for; they still fail it.
        Err(e) if is_account_refusal(&e) => Err(e.into()),
        Err(e) => {
            tracing::debug!(error = %e, "quota/get did not answer; the token works");
            Ok(VerifyReport {
                delete_daily_limit: None,
                delete_used: None,
                delete_remain: None,
                can_publish: None,
            })
        }
    }
}

/// The setup's check: token and quota as [`verify_with`], then one listing call (one of the
/// day's 100), because an unverified account's `quota/get` answers while its publishing APIs
/// refuse with 48001. Refusals that concern the account fail the check; anything else leaves
/// `can_publish` unknown.
pub(crate) async fn verify_for_setup(api: &Api) -> Result<VerifyReport, CoreError> {
    let mut report = verify_with(api).await?;
    match api.batchget(0, 1).await {
        Ok(_) => report.can_publish = Some(true),
        Err(e) if is_account_refusal(&e) => return Err(e.into()),
        Err(e) => {
            tracing::debug!(error = %e, "the listing check did not answer; publishing unknown")
        }
    }
    Ok(report)
}

/// Errors of `quota/get` that concern the account, not the advisory quota API itself.
fn is_account_refusal(e: &wechat_mp::Error) -> bool {
    use wechat_mp::ErrorClass as C;
    matches!(
        e.class(),
        Some(
            C::IpNotWhitelisted { .. }
                | C::RiskyIp
                | C::Unauthorized
                | C::Configuration
                | C::TokenInvalid
        )
    ) || matches!(
        e,
        wechat_mp::Error::Transport { .. } | wechat_mp::Error::FixedTokenExpired
    )
}
