//! The endpoints, with the retry policy that makes them safe to call.
//!
//! Policy (see `wechat-api.md`):
//! - 40001 / 40014 / 42001: drop the token if it is the one used, fetch one (normal mode), retry once;
//! - reads (`batchget`, `getarticle`, `get`, `quota/get`, `rid/get`, `get_api_domain_ip`) are
//!   retried with backoff on -1, HTTP 5xx and network failures, a bounded number of times;
//! - writes (`delete`, `clear_quota`) are never resent. A delete whose answer never came, or came
//!   as -1 / 5xx / garbage, is [`Error::DeleteOutcomeUnknown`]: the caller reconciles with
//!   `getarticle`;
//! - every other WeChat error (40164, 48001, 40125, 40013, 89503, 45009, ...) is returned at once.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::{Client, WriteAck};
use crate::error::{Error, ErrorClass};
use crate::token::{AccessToken, TokenCache};
use crate::types::*;

pub const BATCHGET_MAX_COUNT: u32 = 20;
pub const DELETE_CGI_PATH: &str = "/cgi-bin/freepublish/delete";

/// How reads back off: `base`, doubled each time, plus up to 50 % jitter.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max_retries: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            max_retries: 3,
        }
    }
}

impl Backoff {
    fn delay(&self, attempt: u32) -> Duration {
        let exp = self.base.saturating_mul(1 << attempt.min(10));
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let jitter = exp.mul_f64(f64::from(nanos % 500) / 1000.0);
        exp + jitter
    }
}

/// How long one `quota/get` answer is reused by [`Api::quota`]. The call is advisory and has a
/// daily limit of its own; opening an account, planning and the quota meter all ask for it.
pub const QUOTA_ANSWER_TTL: Duration = Duration::from_secs(60);

/// One account's API: a client and that account's token cache. Cheap to clone (clones share
/// the token cache and the `quota/get` answers).
#[derive(Debug, Clone)]
pub struct Api {
    client: Client,
    tokens: Arc<TokenCache>,
    backoff: Backoff,
    quota_answers: Arc<
        std::sync::Mutex<std::collections::HashMap<String, (std::time::SystemTime, QuotaInfo)>>,
    >,
}

enum Kind {
    Read,
    Write,
}

impl Api {
    pub fn new(client: Client, tokens: Arc<TokenCache>) -> Self {
        Self {
            client,
            tokens,
            backoff: Backoff::default(),
            quota_answers: Arc::default(),
        }
    }

    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    pub fn tokens(&self) -> &TokenCache {
        &self.tokens
    }

    /// The HTTP client of this account (its proxy settings), for public pages.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Fetches (or reuses) a token: proves the credentials work without spending any API quota.
    pub async fn token(&self) -> Result<AccessToken, Error> {
        self.tokens.get(&self.client).await
    }

    /// Deletes one item or a whole message. Irreversible; never resent by this function.
    pub async fn delete(&self, article_id: &ArticleId, target: DeleteTarget) -> Result<(), Error> {
        let body = DeleteRequest {
            article_id: article_id.as_str(),
            index: match target {
                DeleteTarget::Item(n) => Some(n.get()),
                DeleteTarget::WholeMessage => None,
            },
        };
        let path = "cgi-bin/freepublish/delete";
        // Whatever the answer, the delete quota may have changed.
        self.forget_quota();
        self.with_stages(Kind::Write, |token| {
            let client = &self.client;
            let body = &body;
            async move {
                client
                    .call::<_, WriteAck>(Method::POST, path, Some(token.secret()), Some(body))
                    .await
            }
        })
        .await
        .map(|_| ())
        .map_err(|failure| match failure {
            // No token, so no delete left the machine: the plain error, never "may have been applied".
            Failure::Token(e) => e,
            Failure::Send(e) => outcome_of_failed_delete(e),
        })
    }

    /// One page of published messages; `count` must be 1..=20 (checked before sending).
    pub async fn batchget(&self, offset: u32, count: u32) -> Result<BatchGetPage, Error> {
        if !(1..=BATCHGET_MAX_COUNT).contains(&count) {
            return Err(Error::InvalidInput(format!(
                "batchget count must be between 1 and {BATCHGET_MAX_COUNT}, not {count}"
            )));
        }
        let body = BatchGetRequest {
            offset,
            count,
            no_content: 1,
        };
        self.post("cgi-bin/freepublish/batchget", &body, Kind::Read)
            .await
    }

    /// Every published message, with at most `in_flight` pages requested at once.
    /// The first page tells the total; the others are fetched by offset and kept in order.
    pub async fn list_all(&self, in_flight: usize) -> Result<Vec<PublishedMessage>, Error> {
        let first = self.batchget(0, BATCHGET_MAX_COUNT).await?;
        let total = first.total_count.unwrap_or(0);
        let mut pages = vec![(0, first.item)];
        let semaphore = Arc::new(tokio::sync::Semaphore::new(in_flight.max(1)));
        let mut tasks = tokio::task::JoinSet::new();
        for offset in (BATCHGET_MAX_COUNT..total).step_by(BATCHGET_MAX_COUNT as usize) {
            let permit = Arc::clone(&semaphore)
                .acquire_owned()
                .await
                .map_err(|_| Error::InvalidInput("listing was cancelled".into()))?;
            let api = self.clone();
            tasks.spawn(async move {
                let page = api.batchget(offset, BATCHGET_MAX_COUNT).await;
                drop(permit);
                (offset, page)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let (offset, page) =
                joined.map_err(|e| Error::InvalidInput(format!("a listing task failed: {e}")))?;
            pages.push((offset, page?.item));
        }
        pages.sort_by_key(|(offset, _)| *offset);
        Ok(pages.into_iter().flat_map(|(_, items)| items).collect())
    }

    /// The full message, HTML included, with each item's `is_deleted`: the oracle after a delete.
    pub async fn get_article(&self, article_id: &ArticleId) -> Result<Article, Error> {
        self.get_article_raw(article_id).await.map(|(a, _)| a)
    }

    /// As [`Self::get_article`], with the answer's body exactly as received: the archive keeps
    /// that text, unknown fields included, not a re-serialised copy.
    pub async fn get_article_raw(
        &self,
        article_id: &ArticleId,
    ) -> Result<(Article, String), Error> {
        let body = ArticleIdRequest {
            article_id: article_id.as_str(),
        };
        self.with_policy(Kind::Read, |token| {
            let client = &self.client;
            let body = &body;
            async move {
                client
                    .call_keeping_raw(
                        Method::POST,
                        "cgi-bin/freepublish/getarticle",
                        Some(token.secret()),
                        Some(body),
                    )
                    .await
            }
        })
        .await
    }

    /// Creates a draft from `articles` (`draft/add`); answers its `media_id`. Never resent by
    /// this function: a lost answer may have made the draft, and a second call a second one.
    pub async fn draft_add(&self, articles: &[DraftArticle]) -> Result<String, Error> {
        if articles.is_empty() {
            return Err(Error::InvalidInput(
                "a draft needs at least one article".into(),
            ));
        }
        let body = DraftAddRequest { articles };
        let added: DraftAdded = self.post("cgi-bin/draft/add", &body, Kind::Write).await?;
        if added.media_id.trim().is_empty() {
            return Err(Error::Decode {
                detail: "draft/add answered without a media_id".into(),
                excerpt: String::new(),
            });
        }
        Ok(added.media_id)
    }

    pub async fn publish_status(&self, publish_id: &str) -> Result<PublishStatus, Error> {
        if publish_id.trim().is_empty() {
            return Err(Error::InvalidInput("the publish id is empty".into()));
        }
        let body = PublishIdRequest {
            publish_id: publish_id.trim(),
        };
        self.post("cgi-bin/freepublish/get", &body, Kind::Read)
            .await
    }

    /// Daily quota of one API, e.g. [`DELETE_CGI_PATH`]. The path must start with `/`.
    /// `quota/get`, answered from the last minute's answer for the path when there is one.
    /// Any delete or `clear_quota` forgets those answers.
    pub async fn quota(&self, cgi_path: &str) -> Result<QuotaInfo, Error> {
        let now = self.tokens.now();
        let kept = self.answers().get(cgi_path).and_then(|(at, answer)| {
            let age = now.duration_since(*at).ok()?;
            (age < QUOTA_ANSWER_TTL).then(|| answer.clone())
        });
        match kept {
            Some(answer) => Ok(answer),
            None => self.quota_fresh(cgi_path).await,
        }
    }

    /// `quota/get`, always asked (the queue asks this way whether the quota day has come).
    pub async fn quota_fresh(&self, cgi_path: &str) -> Result<QuotaInfo, Error> {
        let answer = self.ask_quota(cgi_path).await?;
        self.answers()
            .insert(cgi_path.to_string(), (self.tokens.now(), answer.clone()));
        Ok(answer)
    }

    /// Forgets the kept `quota/get` answers (after anything that spends or resets quota).
    pub fn forget_quota(&self) {
        self.answers().clear();
    }

    fn answers(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::HashMap<String, (std::time::SystemTime, QuotaInfo)>,
    > {
        self.quota_answers.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn ask_quota(&self, cgi_path: &str) -> Result<QuotaInfo, Error> {
        if !cgi_path.starts_with('/') {
            return Err(Error::InvalidInput(format!(
                "the API path must start with '/', got {cgi_path:?}"
            )));
        }
        let body = CgiPathRequest { cgi_path };
        self.post("cgi-bin/openapi/quota/get", &body, Kind::Read)
            .await
    }

    /// Resets **all** daily counters of the account. 10 a month, shared with the web console.
    /// Only on an explicit, confirmed user action; never resent.
    pub async fn clear_quota(&self, appid: &str) -> Result<(), Error> {
        let body = AppIdRequest { appid };
        self.forget_quota();
        self.post::<_, WriteAck>("cgi-bin/clear_quota", &body, Kind::Write)
            .await
            .map(|_| ())
    }

    /// What WeChat recorded about a request, by the rid of its error (kept 7 days).
    pub async fn rid(&self, rid: &str) -> Result<RidRecord, Error> {
        let body = RidRequest { rid: rid.trim() };
        let answer: RidAnswer = self
            .post("cgi-bin/openapi/rid/get", &body, Kind::Read)
            .await?;
        Ok(answer.request)
    }

    /// WeChat's API server addresses: a cheap check that a token works.
    pub async fn api_domain_ips(&self) -> Result<DomainIps, Error> {
        self.with_policy(Kind::Read, |token| {
            let client = self.client.clone();
            async move {
                client
                    .call::<(), DomainIps>(
                        Method::GET,
                        "cgi-bin/get_api_domain_ip",
                        Some(token.secret()),
                        None,
                    )
                    .await
            }
        })
        .await
    }

    async fn post<B: Serialize + Sync, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        kind: Kind,
    ) -> Result<T, Error> {
        self.with_policy(kind, |token| {
            let client = &self.client;
            async move {
                client
                    .call(Method::POST, path, Some(token.secret()), Some(body))
                    .await
            }
        })
        .await
    }

    async fn with_policy<T, F, Fut>(&self, kind: Kind, send: F) -> Result<T, Error>
    where
        F: FnMut(AccessToken) -> Fut,
        Fut: std::future::Future<Output = Result<T, Error>>,
    {
        self.with_stages(kind, send)
            .await
            .map_err(Failure::into_error)
    }

    /// The policy, telling a failure to obtain a token (nothing was sent) from a failure of the
    /// call itself.
    async fn with_stages<T, F, Fut>(&self, kind: Kind, mut send: F) -> Result<T, Failure>
    where
        F: FnMut(AccessToken) -> Fut,
        Fut: std::future::Future<Output = Result<T, Error>>,
    {
        let mut token_refreshed = false;
        let mut attempt = 0;
        loop {
            let result = match self.tokens.get(&self.client).await {
                Ok(token) => match send(token.clone()).await {
                    Err(e) if e.class() == Some(&ErrorClass::TokenInvalid) && !token_refreshed => {
                        self.tokens.invalidate(&token).await;
                        token_refreshed = true;
                        continue;
                    }
                    other => other.map_err(Failure::Send),
                },
                Err(e) => Err(Failure::Token(e)),
            };
            match result {
                Err(f)
                    if matches!(kind, Kind::Read)
                        && is_transient(f.error())
                        && attempt < self.backoff.max_retries =>
                {
                    tracing::debug!(attempt, error = %f.error(), "transient failure; backing off");
                    tokio::time::sleep(self.backoff.delay(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }
}

/// Where a call failed: obtaining the token (nothing was sent) or the call itself.
enum Failure {
    Token(Error),
    Send(Error),
}

impl Failure {
    fn error(&self) -> &Error {
        match self {
            Failure::Token(e) | Failure::Send(e) => e,
        }
    }

    fn into_error(self) -> Error {
        match self {
            Failure::Token(e) | Failure::Send(e) => e,
        }
    }
}

/// -1, HTTP 5xx and network failures: worth retrying for a read.
fn is_transient(e: &Error) -> bool {
    match e {
        Error::Api(api) => api.class == ErrorClass::Busy,
        Error::HttpStatus { status, .. } => *status >= 500,
        Error::Transport { .. } => true,
        _ => false,
    }
}

/// A delete that failed in a way that says nothing about whether WeChat applied it becomes
/// "outcome unknown". Only a connection that never opened proves nothing was sent.
fn outcome_of_failed_delete(e: Error) -> Error {
    let unknown = match &e {
        Error::Transport {
            may_have_reached_server,
            ..
        } => *may_have_reached_server,
        // Only a known refusal proves nothing was applied (`wechat-api.md`: an error answer
        // to a delete has come with the delete applied). -1 and any code we do not know —
        // a relay's own `{"errcode":502}`, a new WeChat code — leave the outcome unknown.
        Error::Api(api) => matches!(api.class, ErrorClass::Busy | ErrorClass::Other),
        // A non-200 status comes from something in between as often as from WeChat: it
        // proves nothing about the request it may have forwarded.
        Error::HttpStatus { .. } => true,
        Error::Decode { .. } => true,
        _ => false,
    };
    if unknown {
        Error::DeleteOutcomeUnknown { cause: Box::new(e) }
    } else {
        e
    }
}
