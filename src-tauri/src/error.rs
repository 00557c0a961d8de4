//! The one error type that crosses IPC. The UI branches on `kind`, never on `message`;
//! `message` is English for logs and bug reports, the UI shows its own translated text.
//! Invariant: no field ever holds a secret (the errors it is built from hold none).

use serde::Serialize;
use specta::Type;

use retract_core::CoreError;
use retract_core::keyring::KeyringError;
use wechat_mp::{Error as WxError, ErrorClass};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum ErrorKind {
    /// No Secret Service reachable (no session bus or no provider).
    KeyringUnavailable,
    /// The keyring exists but is locked and could not be unlocked.
    KeyringLocked,
    /// Input the user can fix (a URL, an id); nothing was sent.
    InvalidInput,
    /// Wrong AppID or AppSecret, frozen secret, bad platform authorization.
    InvalidCredentials,
    /// 40164: `ip` holds the address WeChat saw.
    IpNotWhitelisted,
    /// 61004: a third-party platform's token, and the caller is not in the **platform's**
    /// whitelist; `ip` holds the address WeChat saw.
    PlatformIpNotWhitelisted,
    /// 89501/89503/89506/89507: an admin must confirm the IP, or it is blocked for a while.
    RiskyIp,
    /// 45009: today's quota for this API is used up.
    QuotaExhausted,
    /// 45011: wait a minute.
    RateLimited,
    /// 48006: `clear_quota`'s monthly allowance (10, shared with the web console) is used up.
    ClearQuotaExhausted,
    /// 48001 and friends: the account may not use this API (not verified).
    Unauthorized,
    /// 53600: the article is gone or the id is wrong.
    ArticleGone,
    /// The pasted token expired or was rejected.
    TokenExpired,
    /// WeChat rejected the token even after one refresh.
    TokenRejected,
    /// The network failed before WeChat answered.
    Network,
    /// A delete whose outcome is unknown; it must be reconciled, never resent blindly.
    OutcomeUnknown,
    /// Any other WeChat error: shown with its code and rid.
    Wechat,
    /// The local database cannot be used (damaged, read-only, disk full); the message says which file.
    Storage,
    /// The account, plan or article no longer exists.
    NotFound,
    /// The account's secret is in no keyring and not in this session: ask for it again.
    SecretMissing,
    /// The database names another destination than the one the secret was saved for; the
    /// secret was not sent. Enter it again (binding it to the current destination) or check
    /// the database.
    SecretBoundElsewhere,
    /// The second confirmation did not match the plan (or the plan was used already).
    ConfirmationRejected,
    /// The user cancelled (a sync).
    Cancelled,
    /// Another Retract window is running this account's deletes.
    Busy,
    /// WeChat's answers (or a relay's in between) could not prove what is live or gone; the
    /// run stopped and nothing more was sent. The operator should look.
    Unproven,
    /// A request was cancelled, or handled by another window, while a run was under way; the
    /// run stopped and nothing more was sent.
    Conflict,
    /// The article changed since the review (title, position or link); it was not deleted.
    ArticleChanged,
    /// A request waits until WeChat shows an earlier delete of the same message; the queue
    /// goes on by itself. Information, not a failure.
    WaitingForCheck,
    /// A bug or an unexpected state on our side.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Type, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error("{message}")]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
    pub detail: Option<String>,
    /// WeChat's errcode, when WeChat answered.
    pub errcode: Option<i32>,
    /// WeChat's request id, for support and `rid/get`.
    pub rid: Option<String>,
    /// The caller IP WeChat saw (40164).
    pub ip: Option<String>,
}

impl AppError {
    /// Every error the UI is shown starts here, so each is logged here (messages carry no
    /// secret: they cross IPC as they are).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        let message = message.into();
        tracing::info!(kind = ?kind, %message, "error");
        Self {
            kind,
            message,
            detail: None,
            errcode: None,
            rid: None,
            ip: None,
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}

impl From<KeyringError> for AppError {
    fn from(e: KeyringError) -> Self {
        let kind = match e {
            KeyringError::Locked(_) => ErrorKind::KeyringLocked,
            KeyringError::NoSessionBus(_)
            | KeyringError::NoProvider(_)
            | KeyringError::Other(_) => ErrorKind::KeyringUnavailable,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<CoreError> for AppError {
    fn from(e: CoreError) -> Self {
        let message = e.to_string();
        match e {
            CoreError::Wechat(e) => e.into(),
            CoreError::Keyring(e) => e.into(),
            CoreError::Store(_) => Self::new(ErrorKind::Storage, message),
            CoreError::Invalid(_) => Self::new(ErrorKind::InvalidInput, message),
            CoreError::NotFound(_) => Self::new(ErrorKind::NotFound, message),
            CoreError::SecretMissing => Self::new(ErrorKind::SecretMissing, message),
            CoreError::SecretBoundElsewhere => Self::new(ErrorKind::SecretBoundElsewhere, message),
            CoreError::ConfirmationRejected(_) => {
                Self::new(ErrorKind::ConfirmationRejected, message)
            }
            CoreError::Cancelled => Self::new(ErrorKind::Cancelled, message),
            CoreError::Busy(_) => Self::new(ErrorKind::Busy, message),
            CoreError::Unproven(_) => Self::new(ErrorKind::Unproven, message),
            CoreError::Conflict(_) => Self::new(ErrorKind::Conflict, message),
            CoreError::Changed(_) => Self::new(ErrorKind::ArticleChanged, message),
            CoreError::Waiting(_) => Self::new(ErrorKind::WaitingForCheck, message),
        }
    }
}

impl From<WxError> for AppError {
    fn from(e: WxError) -> Self {
        let message = e.to_string();
        match e {
            WxError::Api(api) => {
                let (kind, ip) = match api.class {
                    ErrorClass::TokenInvalid => (ErrorKind::TokenRejected, None),
                    ErrorClass::Configuration => (ErrorKind::InvalidCredentials, None),
                    ErrorClass::IpNotWhitelisted { ip, platform } => (
                        if platform {
                            ErrorKind::PlatformIpNotWhitelisted
                        } else {
                            ErrorKind::IpNotWhitelisted
                        },
                        ip,
                    ),
                    ErrorClass::RiskyIp => (ErrorKind::RiskyIp, None),
                    ErrorClass::DailyQuota => (ErrorKind::QuotaExhausted, None),
                    ErrorClass::MinuteLimit => (ErrorKind::RateLimited, None),
                    ErrorClass::Unauthorized => (ErrorKind::Unauthorized, None),
                    ErrorClass::InvalidArticle => (ErrorKind::ArticleGone, None),
                    ErrorClass::ClearQuotaExhausted => (ErrorKind::ClearQuotaExhausted, None),
                    ErrorClass::Busy | ErrorClass::Other => (ErrorKind::Wechat, None),
                };
                Self {
                    kind,
                    message,
                    detail: Some(api.message),
                    errcode: i32::try_from(api.code).ok(),
                    rid: api.rid,
                    ip,
                }
            }
            WxError::Transport { detail, .. } => Self {
                detail: Some(detail),
                ..Self::new(ErrorKind::Network, message)
            },
            WxError::HttpStatus { .. } | WxError::Decode { .. } => {
                Self::new(ErrorKind::Network, message)
            }
            WxError::InvalidInput(_) => Self::new(ErrorKind::InvalidInput, message),
            WxError::DeleteOutcomeUnknown { .. } => Self::new(ErrorKind::OutcomeUnknown, message),
            WxError::FixedTokenExpired => Self::new(ErrorKind::TokenExpired, message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wechat_mp::ApiError;

    #[test]
    fn whitelist_error_reaches_the_ui_with_ip_code_and_rid() {
        let api = ApiError::new(
            40164,
            "invalid ip 203.0.113.9 ipv6 ::ffff:203.0.113.9, not in whitelist rid: 6a1d7d64-1a5c7d64-18ff931f",
        );
        let e = AppError::from(WxError::Api(api));
        assert_eq!(e.kind, ErrorKind::IpNotWhitelisted);
        assert_eq!(e.ip.as_deref(), Some("203.0.113.9"));
        assert_eq!(e.errcode, Some(40164));
        assert_eq!(e.rid.as_deref(), Some("6a1d7d64-1a5c7d64-18ff931f"));
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["kind"], "ipNotWhitelisted");
    }

    #[test]
    fn each_wechat_class_gets_the_kind_the_ui_acts_on() {
        for (code, kind) in [
            (40125, ErrorKind::InvalidCredentials),
            (40013, ErrorKind::InvalidCredentials),
            (48001, ErrorKind::Unauthorized),
            (89503, ErrorKind::RiskyIp),
            (45009, ErrorKind::QuotaExhausted),
            (45011, ErrorKind::RateLimited),
            (53600, ErrorKind::ArticleGone),
            (61004, ErrorKind::PlatformIpNotWhitelisted),
            (48006, ErrorKind::ClearQuotaExhausted),
            (42001, ErrorKind::TokenRejected),
            (-1, ErrorKind::Wechat),
        ] {
            let e = AppError::from(WxError::Api(ApiError::new(code, "x")));
            assert_eq!(e.kind, kind, "code {code}");
        }
        let unknown = WxError::DeleteOutcomeUnknown {
            cause: Box::new(WxError::InvalidInput("x".into())),
        };
        assert_eq!(AppError::from(unknown).kind, ErrorKind::OutcomeUnknown);
        let unproven = AppError::from(CoreError::Unproven("empty news_item".into()));
        assert_eq!(unproven.kind, ErrorKind::Unproven);
        let conflict = AppError::from(CoreError::Conflict("cancelled".into()));
        assert_eq!(conflict.kind, ErrorKind::Conflict);
        let platform = AppError::from(WxError::Api(ApiError::new(
            61004,
            "access clientip is not registered requestIP: 198.51.100.23 rid: 6a1d7d64-1a5c7d64-18ff931f",
        )));
        assert_eq!(platform.ip.as_deref(), Some("198.51.100.23"));
        let locked = AppError::from(KeyringError::Locked("prompt dismissed".into()));
        assert_eq!(locked.kind, ErrorKind::KeyringLocked);
        let no_bus = AppError::from(KeyringError::NoSessionBus("x".into()));
        assert_eq!(no_bus.kind, ErrorKind::KeyringUnavailable);
    }
}
