//! `wechat-mp`: a typed client for the parts of the WeChat Official Account API that Retract
//! needs — tokens (`stable_token`, a token service, a pasted token), the `freepublish` family,
//! quota and rid diagnostics. No Tauri, no storage: the app's rules live in `retract-core`.
//!
//! Invariants: secrets are [`secrecy::SecretString`] and never appear in any `Debug`, `Display`
//! or error; a delete is never resent (see [`api`]); `/cgi-bin/token` is never called.

pub mod api;
pub mod client;
pub mod error;
pub mod token;
pub mod types;

pub use api::{Api, Backoff, DELETE_CGI_PATH, QUOTA_ANSWER_TTL};
pub use client::{Client, ClientConfig, DEFAULT_API_BASE};
pub use error::{ApiError, Error, ErrorClass, TransportKind};
pub use secrecy::SecretString;
pub use token::{AccessToken, Clock, ManualClock, SystemClock, TokenCache, TokenSource};
pub use types::*;
