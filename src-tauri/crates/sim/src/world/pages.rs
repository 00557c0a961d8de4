//! What is seen outside the API: an article's public page (for a short link) and the list of
//! every item's links, for tests.

use serde_json::{Value, json};

use super::World;

impl World {
    /// `{appid, article_id, idx, short, long}` for every item of every account.
    pub(crate) fn links(&self) -> Vec<Value> {
        self.accounts
            .iter()
            .flat_map(|(appid, a)| {
                a.messages.iter().flat_map(move |m| {
                    m.items.iter().enumerate().map(move |(i, item)| {
                        json!({"appid": appid, "article_id": m.article_id, "idx": i + 1, "short": item.url, "long": item.long_url, "cover": item.thumb_media_id, "title": item.title})
                    })
                })
            })
            .collect()
    }

    /// The public page of a short link, as a browser without cookies gets it: the article's
    /// long identity in `og:url` and script variables, or the notice that it was deleted.
    /// **[unverified]**: the real page's shape is not documented.
    pub(crate) fn article_page(&self, short_id: &str) -> String {
        let suffix = format!("/s/{short_id}");
        let item = self
            .accounts
            .values()
            .flat_map(|a| a.messages.iter())
            .flat_map(|m| m.items.iter())
            .find(|i| i.url.ends_with(&suffix));
        match item {
            Some(i) if i.is_deleted => "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title></title></head><body><div class=\"weui-msg\"><h2 class=\"weui-msg__title\">该内容已被发布者删除</h2></div></body></html>".into(),
            Some(i) => {
                let escaped = i.long_url.replace('&', "&amp;");
                // As the page's script has them: raw, not URL-decoded.
                let query = i.long_url.split(['?', '#']).nth(1).unwrap_or_default();
                let param = |name: &str| {
                    query
                        .split('&')
                        .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
                        .unwrap_or_default()
                        .to_string()
                };
                format!(
                    "<!DOCTYPE html><html><head><meta charset=\"utf-8\">\n<meta property=\"og:title\" content=\"{title}\" />\n<meta property=\"og:url\" content=\"{escaped}\" />\n</head><body><h1 id=\"activity-name\">{title}</h1>\n<script>var biz = \"{biz}\"||\"\";\nvar sn = \"{sn}\" || \"\";\nvar mid = \"{mid}\" || \"\";\nvar idx = \"{idx}\" || \"\";\nvar msg_link = \"{escaped}\";</script>\n{content}</body></html>",
                    title = i.title,
                    biz = param("__biz"),
                    sn = param("sn"),
                    mid = param("mid"),
                    idx = param("idx"),
                    content = i.content,
                )
            }
            None => "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><p class=\"weui-msg__desc\">参数错误</p></body></html>".into(),
        }
    }
}
