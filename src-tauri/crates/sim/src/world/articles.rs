//! The published messages and their items: how each account's are made up, how the listing
//! and reading calls show them (with the quirks), and how a delete changes them.

use serde_json::{Value, json};

use std::collections::HashMap;

use super::{Account, AccountSpec, QUOTA_DEFAULTS, Quirks, err};
use crate::data::{Rng, sample_message};

#[derive(Debug, Clone, PartialEq)]
pub struct SimItem {
    pub title: String,
    pub author: String,
    pub digest: String,
    pub content: String,
    /// The short link, `https://mp.weixin.qq.com/s/<id>`.
    pub url: String,
    /// The same article's long link (`__biz`, `mid`, `idx`, `sn`), as its page names it.
    pub long_url: String,
    /// The cover: a permanent image material of the account.
    pub thumb_media_id: String,
    pub is_deleted: bool,
    /// When a delete was applied (simulated seconds); `None` for items deleted by a test's
    /// edit, which show at once.
    pub deleted_at: Option<u64>,
}

impl SimItem {
    /// Deleted as the answers show it now (after the lag).
    fn shows_deleted(&self, now: u64, lag: u64) -> bool {
        self.is_deleted && self.deleted_at.is_none_or(|at| at + lag <= now)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SimMessage {
    pub article_id: String,
    pub publish_id: String,
    pub update_time: i64,
    pub items: Vec<SimItem>,
}

impl SimMessage {
    fn all_deleted(&self) -> bool {
        self.items.iter().all(|i| i.is_deleted)
    }

    fn shows_all_deleted(&self, q: &Quirks, now: u64) -> bool {
        self.items.iter().all(|i| i.shows_deleted(now, q.lag_secs))
    }

    /// The items as an answer shows them. `listing`: `batchget` (titles spelled its way);
    /// `answer`: a number that differs for every answer (temporary links).
    fn news_items(
        &self,
        with_content: bool,
        listing: bool,
        answer: u64,
        q: &Quirks,
        now: u64,
        cover_base: &str,
    ) -> Vec<Value> {
        let first_title = self
            .items
            .first()
            .map(|i| i.title.as_str())
            .unwrap_or_default();
        self.items
            .iter()
            .filter(|i| !(q.compact_positions && i.shows_deleted(now, q.lag_secs)))
            .map(|i| {
                let deleted = i.shows_deleted(now, q.lag_secs);
                let title = if q.twin_titles { first_title } else { &i.title };
                let title = if q.escaped_titles && listing {
                    format!("{}\u{a0}", title.replace('&', "&amp;"))
                } else {
                    title.to_string()
                };
                let url = if q.no_links {
                    Value::Null
                } else if q.temporary_links {
                    let (link, fragment) = i.long_url.split_once('#').unwrap_or((&i.long_url, ""));
                    Value::from(format!("{link}&tempkey={answer:x}#{fragment}"))
                } else if q.long_urls {
                    Value::from(i.long_url.as_str())
                } else {
                    Value::from(i.url.as_str())
                };
                if q.null_fields && deleted {
                    return json!({"title": null, "author": null, "digest": null, "content": null, "url": null, "is_deleted": true});
                }
                let text = |v: &str| if q.null_fields { Value::Null } else { Value::from(v) };
                json!({
                    "title": title,
                    "author": text(&i.author),
                    "digest": text(&i.digest),
                    "content": if with_content { i.content.as_str() } else { "" },
                    "content_source_url": text(""),
                    "thumb_media_id": i.thumb_media_id,
                    "thumb_url": text(&crate::covers::url(cover_base, &i.thumb_media_id)),
                    "need_open_comment": 0,
                    "only_fans_can_comment": 0,
                    "url": url,
                    "is_deleted": deleted,
                })
            })
            .collect()
    }
}

/// The permanent material id of an item's cover (derived, like the long link, without
/// touching the random stream).
pub fn cover_id(short_id: &str) -> String {
    let h = short_id.bytes().fold(0x8422_2325_cbf2_9ce4u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    format!("cover_{h:016x}{}", &short_id[..short_id.len().min(8)])
}

/// A long article link, derived from the account, the message and the short id (the random
/// stream that makes the sample data is not touched, so the data stays as it was).
pub fn long_link(appid: &str, serial: usize, idx: usize, short_id: &str) -> String {
    let hash = |text: &str| {
        text.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
        })
    };
    // base64 of a ten-digit number, as real `__biz` values are; this one holds a '+'.
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = hash(appid);
    let biz: String = (0..10)
        .map(|k| ALPHABET[((b >> (k * 6)) & 63) as usize] as char)
        .collect();
    format!(
        "http://mp.weixin.qq.com/s?__biz=Mz{biz}+A==&mid={}&idx={idx}&sn={:016x}{:016x}&chksm={:08x}#rd",
        2_650_000_000u64 + serial as u64,
        hash(short_id),
        hash(&format!("{short_id}:sn")),
        hash(&format!("{short_id}:chk")) as u32
    )
}

impl Account {
    pub(super) fn generate(spec: AccountSpec, now: u64) -> Self {
        let mut rng = Rng::new(spec.seed);
        let count = spec.messages;
        let messages = (0..count)
            .map(|serial| {
                // Oldest first, about one message every 30 hours, the newest a few hours ago.
                let age = (count - serial) as u64 * 30 * 3600 + rng.below(3600) as u64;
                SimMessage {
                    article_id: rng.token(43),
                    publish_id: format!("{}", 2_247_483_000u64 + serial as u64),
                    update_time: now.saturating_sub(age) as i64,
                    items: sample_message(&mut rng, serial)
                        .into_iter()
                        .enumerate()
                        .map(|(i, s)| {
                            let id = rng.token(22);
                            SimItem {
                                long_url: long_link(&spec.appid, serial, i + 1, &id),
                                thumb_media_id: cover_id(&id),
                                url: format!("https://mp.weixin.qq.com/s/{id}"),
                                title: s.title,
                                author: s.author,
                                digest: s.digest,
                                content: s.content,
                                is_deleted: false,
                                deleted_at: None,
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        Self {
            limits: QUOTA_DEFAULTS
                .iter()
                .map(|(p, l)| (p.to_string(), *l))
                .collect(),
            spec,
            messages,
            used: HashMap::new(),
            per_minute: HashMap::new(),
            current_stable: None,
            force_refreshes: Vec::new(),
            clear_quota_calls: Vec::new(),
            repeated_deletes: Vec::new(),
            deleted_materials: Vec::new(),
            drafts: Vec::new(),
            answers: 0,
        }
    }

    pub(super) fn find(&mut self, body: &Value) -> Result<&mut SimMessage, (i64, String)> {
        let id = body
            .get("article_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        self.messages
            .iter_mut()
            .find(|m| m.article_id == id)
            .ok_or((53600, "Article ID 无效".to_string()))
    }

    pub(super) fn delete(
        &mut self,
        body: &Value,
        q: &Quirks,
        now: u64,
    ) -> Result<Value, (i64, String)> {
        let index = match body.get("index") {
            None | Some(Value::Null) => 0,
            Some(v) => match v.as_u64() {
                Some(n) => n as usize,
                None => {
                    return err(
                        47001,
                        "data format error: index must be a non-negative integer",
                    );
                }
            },
        };
        let message = self.find(body)?;
        let id = message.article_id.clone();
        if message.all_deleted() {
            self.repeated_deletes.push((id, index));
            return err(53600, "Article ID 无效");
        }
        if index == 0 {
            for item in message.items.iter_mut().filter(|i| !i.is_deleted) {
                item.is_deleted = true;
                item.deleted_at = Some(now);
            }
            return Ok(json!({"errcode": 0, "errmsg": "ok"}));
        }
        // With compacted positions, `index` counts only the items still live.
        let position = if q.compact_positions {
            message
                .items
                .iter()
                .enumerate()
                .filter(|(_, i)| !i.is_deleted)
                .nth(index - 1)
                .map(|(p, _)| p)
        } else {
            Some(index - 1).filter(|p| *p < message.items.len())
        };
        let Some(position) = position else {
            return err(53600, "invalid article index");
        };
        let item = &mut message.items[position];
        if item.is_deleted {
            self.repeated_deletes.push((id, position + 1));
            if let Some(code) = q.second_delete_errcode {
                return err(code, "article already deleted");
            }
            return Ok(json!({"errcode": 0, "errmsg": "ok"}));
        }
        item.is_deleted = true;
        item.deleted_at = Some(now);
        Ok(json!({"errcode": 0, "errmsg": "ok"}))
    }

    pub(super) fn batchget(
        &mut self,
        body: &Value,
        q: &Quirks,
        now: u64,
        covers: &str,
    ) -> Result<Value, (i64, String)> {
        let (Some(offset), Some(count)) = (
            body.get("offset").and_then(Value::as_u64),
            body.get("count").and_then(Value::as_u64),
        ) else {
            return err(47001, "data format error: offset and count are required");
        };
        if !(1..=20).contains(&count) {
            return err(47001, "data format error: count must be 1..20");
        }
        let with_content = body.get("no_content").and_then(Value::as_u64) != Some(1);
        let mut visible: Vec<&SimMessage> = self
            .messages
            .iter()
            .filter(|m| !m.shows_all_deleted(q, now))
            .collect();
        if q.shuffled_list {
            // An order of its own, the same for every call.
            visible.sort_by_key(|m| {
                m.article_id.bytes().fold(0x811c_9dc5u32, |h, b| {
                    (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
                })
            });
        } else if q.oldest_first {
            visible.sort_by_key(|m| m.update_time);
        } else {
            visible.sort_by_key(|m| std::cmp::Reverse(m.update_time));
        }
        self.answers += 1;
        let answer = self.answers;
        let page: Vec<Value> = visible
            .iter()
            .skip(offset as usize)
            .take(count as usize)
            .map(|m| {
                let items = m.news_items(with_content, true, answer, q, now, covers);
                if q.nested_update_time {
                    json!({
                        "article_id": m.article_id,
                        "content": {"news_item": items, "create_time": m.update_time.to_string(), "update_time": m.update_time.to_string()},
                    })
                } else {
                    json!({
                        "article_id": m.article_id,
                        "content": {"news_item": items, "create_time": m.update_time, "update_time": m.update_time},
                        "update_time": m.update_time,
                    })
                }
            })
            .collect();
        Ok(json!({"total_count": visible.len(), "item_count": page.len(), "item": page}))
    }

    pub(super) fn getarticle(
        &mut self,
        body: &Value,
        q: &Quirks,
        now: u64,
        covers: &str,
    ) -> Result<Value, (i64, String)> {
        self.answers += 1;
        let answer = self.answers;
        let message = self.find(body)?;
        if q.deleted_message_53600 && message.shows_all_deleted(q, now) {
            return err(53600, "Article ID 无效");
        }
        Ok(json!({"news_item": message.news_items(true, false, answer, q, now, covers)}))
    }

    pub(super) fn publish_status(&mut self, body: &Value) -> Result<Value, (i64, String)> {
        let id = match body.get("publish_id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return err(47001, "data format error: publish_id is required"),
        };
        let Some(m) = self.messages.iter().find(|m| m.publish_id == id) else {
            return err(53600, "invalid publish_id");
        };
        let items: Vec<Value> = m
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| json!({"idx": i + 1, "article_url": it.url}))
            .collect();
        Ok(json!({
            "publish_id": m.publish_id,
            "publish_status": if m.all_deleted() { 5 } else { 0 },
            "article_id": m.article_id,
            "article_detail": {"count": items.len(), "item": items},
            "fail_idx": [],
        }))
    }
}
