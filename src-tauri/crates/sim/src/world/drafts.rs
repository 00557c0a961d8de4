//! Drafts: `draft/add`, which the archive's restore uses to put a deleted article back as a
//! draft.

use serde_json::{Value, json};

use super::{Account, err};

impl Account {
    /// `draft/add`: each article needs a title (at most 32 characters), content, and a cover
    /// that is a permanent image material of this account; author at most 16 characters,
    /// digest at most 128. The limits are WeChat's documented ones; the errcodes for them are
    /// **[unverified]** (45003 title, 45110 author, 45004 digest, 44004 empty content, 40007
    /// an invalid `thumb_media_id`, 44003 no articles).
    pub(super) fn draft_add(&mut self, body: &Value) -> Result<Value, (i64, String)> {
        let Some(articles) = body.get("articles").and_then(Value::as_array) else {
            return err(47001, "data format error");
        };
        if articles.is_empty() {
            return err(44003, "empty news data");
        }
        let known = |id: &str| {
            !self.deleted_materials.iter().any(|d| d == id)
                && self
                    .messages
                    .iter()
                    .flat_map(|m| m.items.iter())
                    .any(|i| i.thumb_media_id == id)
        };
        for a in articles {
            let text = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or_default();
            if text("title").is_empty() || text("title").chars().count() > 32 {
                return err(45003, "title size out of limit");
            }
            if text("author").chars().count() > 16 {
                return err(45110, "author size out of limit");
            }
            if text("digest").chars().count() > 128 {
                return err(45004, "description size out of limit");
            }
            if text("content").trim().is_empty() {
                return err(44004, "empty content");
            }
            if !known(text("thumb_media_id")) {
                return err(40007, "invalid media_id");
            }
        }
        let media_id = format!("draft_{:04}_{}", self.drafts.len() + 1, articles.len());
        self.drafts
            .push((media_id.clone(), Value::Array(articles.clone())));
        Ok(json!({"media_id": media_id}))
    }
}
