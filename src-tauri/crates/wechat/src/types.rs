//! Typed requests and answers of the endpoints Retract uses. Every answer type tolerates
//! missing optional fields and ignores unknown ones; only what identifies an item is required.

use std::num::NonZeroU32;

use serde::{Deserialize, Deserializer, Serialize};

use crate::Error;

/// An `article_id` as returned on publish: checked before it is ever sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ArticleId(String);

impl ArticleId {
    pub const MAX_LEN: usize = 256;

    /// Non-empty, at most [`Self::MAX_LEN`] characters, printable ASCII without spaces.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let id = raw.trim();
        if id.is_empty() {
            return Err(Error::InvalidInput("the article id is empty".into()));
        }
        if id.len() > Self::MAX_LEN {
            return Err(Error::InvalidInput(format!(
                "the article id is {} characters long; WeChat ids are far shorter (at most {})",
                id.len(),
                Self::MAX_LEN
            )));
        }
        if !id.chars().all(|c| c.is_ascii_graphic()) {
            return Err(Error::InvalidInput(
                "the article id contains characters WeChat ids never have (only ASCII letters, digits and symbols)".into(),
            ));
        }
        Ok(Self(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ArticleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a delete removes. There is no way to say "index 0" by accident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteTarget {
    /// One article of the message, 1-based.
    Item(NonZeroU32),
    /// Every article of the message (`index` is left out of the request).
    WholeMessage,
}

#[derive(Debug, Serialize)]
pub(crate) struct DeleteRequest<'a> {
    pub article_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u32>,
}

#[derive(Debug, Serialize)]
pub(crate) struct BatchGetRequest {
    pub offset: u32,
    pub count: u32,
    /// 1 leaves out the HTML; WeChat wants a number, not a boolean.
    pub no_content: u8,
}

#[derive(Debug, Serialize)]
pub(crate) struct ArticleIdRequest<'a> {
    pub article_id: &'a str,
}

/// One article of a new draft (`draft/add`): what an archived article brings back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DraftArticle {
    pub title: String,
    pub author: String,
    pub digest: String,
    pub content: String,
    pub content_source_url: String,
    /// The cover: a permanent image material of the account.
    pub thumb_media_id: String,
    pub need_open_comment: u8,
    pub only_fans_can_comment: u8,
}

impl From<&NewsItem> for DraftArticle {
    fn from(item: &NewsItem) -> Self {
        Self {
            title: item.title.clone(),
            author: item.author.clone(),
            digest: item.digest.clone(),
            content: item.content.clone(),
            content_source_url: item.content_source_url.clone(),
            thumb_media_id: item.thumb_media_id.clone(),
            need_open_comment: item.need_open_comment,
            only_fans_can_comment: item.only_fans_can_comment,
        }
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct DraftAddRequest<'a> {
    pub articles: &'a [DraftArticle],
}

#[derive(Debug, Deserialize)]
pub struct DraftAdded {
    pub media_id: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct PublishIdRequest<'a> {
    pub publish_id: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct CgiPathRequest<'a> {
    pub cgi_path: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct AppIdRequest<'a> {
    pub appid: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct RidRequest<'a> {
    pub rid: &'a str,
}

/// One article (item) of a published message. Every field is optional: a deleted item may
/// come back with its fields stripped, and one odd item must not fail a whole page.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct NewsItem {
    #[serde(default, deserialize_with = "lenient_string")]
    pub title: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub author: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub digest: String,
    /// HTML; empty when listed with `no_content = 1`.
    #[serde(default, deserialize_with = "lenient_string")]
    pub content: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub content_source_url: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub thumb_media_id: String,
    #[serde(default, deserialize_with = "lenient_string")]
    pub thumb_url: String,
    #[serde(default, deserialize_with = "lenient_u8")]
    pub need_open_comment: u8,
    #[serde(default, deserialize_with = "lenient_u8")]
    pub only_fans_can_comment: u8,
    #[serde(default, deserialize_with = "lenient_string")]
    pub url: String,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub is_deleted: bool,
    /// The entry at this position was not an object at all (`null`, a string, a number): its
    /// position is kept, nothing about it is known. Never proof of anything: a check that meets
    /// one proves nothing, and a listing does not show it as an article.
    #[serde(skip)]
    pub undecodable: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
pub struct MessageContent {
    #[serde(default, deserialize_with = "lenient_items")]
    pub news_item: Vec<NewsItem>,
}

/// One published message as `batchget` lists it. `article_id` may come as a string or a
/// number; `update_time` as a number or a numeric string, beside `content` or (reported)
/// inside it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PublishedMessage {
    pub article_id: ArticleId,
    pub update_time: i64,
    pub content: MessageContent,
}

impl<'de> Deserialize<'de> for PublishedMessage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            article_id: Option<serde_json::Value>,
            #[serde(default)]
            update_time: Option<serde_json::Value>,
            #[serde(default)]
            content: Option<serde_json::Value>,
        }
        let raw = Raw::deserialize(d)?;
        let id = match raw.article_id {
            Some(serde_json::Value::String(s)) => s,
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => return Err(serde::de::Error::custom("a message without an article_id")),
        };
        let article_id = ArticleId::parse(&id).map_err(serde::de::Error::custom)?;
        let nested_time = raw
            .content
            .as_ref()
            .and_then(|c| c.get("update_time"))
            .and_then(unix_time);
        let update_time = raw
            .update_time
            .as_ref()
            .and_then(unix_time)
            .filter(|t| *t > 0)
            .or(nested_time)
            .unwrap_or(0);
        let content = match raw.content {
            Some(c @ serde_json::Value::Object(_)) => {
                serde_json::from_value(c).map_err(serde::de::Error::custom)?
            }
            _ => MessageContent::default(),
        };
        Ok(Self {
            article_id,
            update_time,
            content,
        })
    }
}

/// Unix seconds from a number or a numeric string.
fn unix_time(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// One `batchget` page. A message that cannot be decoded at all (no `article_id`) is left out
/// and counted in `undecodable`, so the caller knows the page is not the whole truth.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchGetPage {
    /// `None` when the answer had no `total_count`: nothing can be concluded from its size.
    pub total_count: Option<u32>,
    pub item_count: u32,
    pub item: Vec<PublishedMessage>,
    pub undecodable: u32,
}

impl<'de> Deserialize<'de> for BatchGetPage {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(default)]
            total_count: Option<serde_json::Value>,
            #[serde(default)]
            item_count: Option<serde_json::Value>,
            #[serde(default)]
            item: Vec<serde_json::Value>,
        }
        let raw = Raw::deserialize(d)?;
        let count = |v: Option<serde_json::Value>| match v {
            Some(serde_json::Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let mut item = Vec::with_capacity(raw.item.len());
        let mut undecodable = 0;
        for value in raw.item {
            match serde_json::from_value::<PublishedMessage>(value) {
                Ok(m) => {
                    // An entry of a message that could not be read leaves the page short of
                    // the whole truth too.
                    undecodable +=
                        m.content.news_item.iter().filter(|i| i.undecodable).count() as u32;
                    item.push(m);
                }
                Err(_) => undecodable += 1,
            }
        }
        Ok(Self {
            total_count: count(raw.total_count),
            item_count: count(raw.item_count).unwrap_or(0),
            item,
            undecodable,
        })
    }
}

/// `getarticle`: every item of the message, deleted ones flagged. An empty or missing
/// `news_item` is kept as empty: it is never proof that anything is gone.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Article {
    #[serde(default, deserialize_with = "lenient_items")]
    pub news_item: Vec<NewsItem>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PublishArticleUrl {
    #[serde(default, deserialize_with = "lenient_u32")]
    pub idx: u32,
    #[serde(default, deserialize_with = "lenient_string")]
    pub article_url: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PublishDetail {
    #[serde(default, deserialize_with = "lenient_u32")]
    pub count: u32,
    #[serde(default, deserialize_with = "lenient_vec")]
    pub item: Vec<PublishArticleUrl>,
}

/// `freepublish/get`. Numbers may come as strings and ids as numbers; a `publish_status`
/// that cannot be read is -1 (unknown), never 0 (ok) or 5 (deleted).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PublishStatus {
    #[serde(default, deserialize_with = "lenient_string")]
    pub publish_id: String,
    /// 0 ok, 1 publishing, 2 originality failed, 3 failed, 4 rejected, 5 deleted, 6 banned;
    /// -1: not readable.
    #[serde(default = "unknown_status", deserialize_with = "lenient_status")]
    pub publish_status: i32,
    #[serde(default, deserialize_with = "lenient_opt_string")]
    pub article_id: Option<String>,
    #[serde(default)]
    pub article_detail: Option<PublishDetail>,
}

fn unknown_status() -> i32 {
    -1
}

fn lenient_status<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n.as_i64().and_then(|v| i32::try_from(v).ok()),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .unwrap_or(-1))
}

fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n.as_u64().and_then(|v| u32::try_from(v).ok()),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .unwrap_or(0))
}

fn lenient_opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
    .filter(|s| !s.trim().is_empty()))
}

/// A list whose entries that do not decode are left out (a list of links: nothing is
/// concluded from one missing).
fn lenient_vec<'de, D: Deserializer<'de>, T: serde::de::DeserializeOwned>(
    d: D,
) -> Result<Vec<T>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Array(values) => values
            .into_iter()
            .filter_map(|v| serde_json::from_value(v).ok())
            .collect(),
        _ => Vec::new(),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct DailyQuota {
    pub daily_limit: u32,
    pub used: u32,
    pub remain: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct RateLimit {
    #[serde(default)]
    pub call_count: u32,
    #[serde(default)]
    pub refresh_second: u32,
}

/// `openapi/quota/get`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QuotaInfo {
    pub quota: DailyQuota,
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
    #[serde(default)]
    pub component_rate_limit: Option<RateLimit>,
}

/// `openapi/rid/get`: what WeChat recorded about one request. `request_url` carries the
/// `access_token` and a `stable_token` body the AppSecret: never shown, logged or passed on
/// (the `Debug` output leaves them out).
#[derive(Clone, PartialEq, Deserialize)]
pub struct RidRecord {
    #[serde(default)]
    pub invoke_time: i64,
    #[serde(default)]
    pub cost_in_ms: i64,
    #[serde(default)]
    pub request_url: String,
    #[serde(default)]
    pub request_body: String,
    #[serde(default)]
    pub response_body: String,
    #[serde(default)]
    pub client_ip: String,
}

impl std::fmt::Debug for RidRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RidRecord")
            .field("invoke_time", &self.invoke_time)
            .field("cost_in_ms", &self.cost_in_ms)
            .field("client_ip", &self.client_ip)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RidAnswer {
    pub request: RidRecord,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct DomainIps {
    #[serde(default)]
    pub ip_list: Vec<String>,
}

fn lenient_u8<'de, D: Deserializer<'de>>(d: D) -> Result<u8, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Number(n) => n.as_u64().and_then(|v| u8::try_from(v).ok()).unwrap_or(0),
        serde_json::Value::Bool(b) => u8::from(b),
        serde_json::Value::String(s) => s.trim().parse().unwrap_or(0),
        _ => 0,
    })
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => b,
        serde_json::Value::Number(n) => n.as_i64().is_some_and(|v| v != 0),
        serde_json::Value::String(s) => matches!(s.trim(), "1" | "true"),
        _ => false,
    })
}

/// A list of items where every field of an object is read leniently (a `null`, a number for a
/// string: what did parse is kept, `is_deleted` above all), and an entry that is not an object
/// becomes a placeholder marked `undecodable` at its position, so positions stay where WeChat
/// put them.
fn lenient_items<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<NewsItem>, D::Error> {
    let values = match serde_json::Value::deserialize(d)? {
        serde_json::Value::Array(values) => values,
        _ => Vec::new(),
    };
    Ok(values
        .into_iter()
        .map(|v| match v {
            serde_json::Value::Object(_) => {
                serde_json::from_value(v).unwrap_or_else(|_| NewsItem {
                    undecodable: true,
                    ..NewsItem::default()
                })
            }
            _ => NewsItem {
                undecodable: true,
                ..NewsItem::default()
            },
        })
        .collect())
}

fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Number(n) => n.to_string(),
        _ => String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publish_status_reads_numbers_as_strings_and_ids_as_numbers() {
        let status: PublishStatus = serde_json::from_value(serde_json::json!({
            "publish_id": 2247483000u64, "publish_status": "5", "article_id": 12345,
            "article_detail": {"count": "2", "item": [{"idx": "1", "article_url": "https://mp.weixin.qq.com/s/a"}, null]}
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(status.publish_status, 5);
        assert_eq!(status.article_id.as_deref(), Some("12345"));
        let detail = status.article_detail.unwrap_or_else(|| panic!("no detail"));
        assert_eq!(
            (detail.count, detail.item.len(), detail.item[0].idx),
            (2, 1, 1)
        );
        // A status nobody can read is unknown: never "ok" nor "deleted".
        let odd: PublishStatus =
            serde_json::from_value(serde_json::json!({"publish_status": null}))
                .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((odd.publish_status, odd.article_id), (-1, None));
    }

    #[test]
    fn a_listing_reads_ids_and_times_in_either_form_and_either_place() {
        let page: BatchGetPage = serde_json::from_value(serde_json::json!({
            "total_count": "3", "item_count": 3,
            "item": [
                {"article_id": 123456, "update_time": "1700000000", "content": {"news_item": [{"title": "甲"}]}},
                {"article_id": "B", "content": {"update_time": 1700000100, "news_item": [{"title": "乙", "author": null, "url": null, "digest": 7}]}},
                {"article_id": "C", "update_time": 1700000200, "content": {"news_item": [null, {"title": "丙", "is_deleted": 1}]}}
            ]
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(page.total_count, Some(3));
        assert_eq!(page.item.len(), 3, "no message dropped");
        assert_eq!(page.item[0].article_id.as_str(), "123456");
        assert_eq!(page.item[0].update_time, 1_700_000_000);
        assert_eq!(
            page.item[1].update_time, 1_700_000_100,
            "nested under content"
        );
        let b = &page.item[1].content.news_item[0];
        assert_eq!(
            (b.title.as_str(), b.author.as_str(), b.digest.as_str()),
            ("乙", "", "7")
        );
        let c = &page.item[2].content.news_item;
        assert!(
            c[0].undecodable && !c[0].is_deleted,
            "a null entry keeps its position, unknown"
        );
        assert!(c[1].is_deleted && !c[1].undecodable);
        assert_eq!(
            page.undecodable, 1,
            "the page says it is not the whole truth"
        );
    }

    #[test]
    fn article_id_rejects_empty_oversized_and_non_ascii() {
        assert!(ArticleId::parse("  ").is_err());
        assert!(ArticleId::parse(&"a".repeat(257)).is_err());
        assert!(ArticleId::parse("文章").is_err());
        assert!(ArticleId::parse("abc def").is_err());
        assert_eq!(
            ArticleId::parse(" ZOIgtVA3DPKp_-x ").unwrap().as_str(),
            "ZOIgtVA3DPKp_-x"
        );
    }

    #[test]
    fn whole_message_delete_leaves_index_out() {
        let whole = DeleteRequest {
            article_id: "A",
            index: None,
        };
        assert_eq!(
            serde_json::to_string(&whole).unwrap(),
            r#"{"article_id":"A"}"#
        );
        let one = DeleteRequest {
            article_id: "A",
            index: Some(2),
        };
        assert_eq!(
            serde_json::to_string(&one).unwrap(),
            r#"{"article_id":"A","index":2}"#
        );
    }

    #[test]
    fn a_stripped_deleted_item_does_not_fail_its_page_and_keeps_its_position() {
        let page: BatchGetPage = serde_json::from_str(
            r#"{"total_count":2,"item_count":2,"item":[
                {"article_id":"A","update_time":5,"content":{"news_item":[{"title":"一"},{"is_deleted":true},7]}},
                {"update_time":6}
            ]}"#,
        )
        .unwrap();
        assert_eq!(page.total_count, Some(2));
        assert_eq!(page.item.len(), 1);
        assert_eq!(
            page.undecodable, 2,
            "the message without an id, and the entry that is not an article, are counted, not hidden"
        );
        let items = &page.item[0].content.news_item;
        assert_eq!(items.len(), 3, "positions are kept");
        assert!(items[1].is_deleted && items[1].title.is_empty());
        assert!(
            !items[2].is_deleted,
            "an undecodable slot is never taken as deleted"
        );
        let empty: BatchGetPage = serde_json::from_str(r#"{"item":[]}"#).unwrap();
        assert_eq!(empty.total_count, None);
    }

    #[test]
    fn news_item_accepts_loose_flag_types_and_missing_fields() {
        let item: NewsItem = serde_json::from_str(
            r#"{"title":"标题","is_deleted":1,"need_open_comment":true,"extra":{}}"#,
        )
        .unwrap();
        assert!(item.is_deleted);
        assert_eq!(item.need_open_comment, 1);
        assert_eq!(item.title, "标题");
    }
}
