//! The switches that turn one of WeChat's undocumented behaviours the bad way.

use serde::{Deserialize, Serialize};

/// The ways WeChat may behave where its documentation is silent (**[unverified]** in
/// `wechat-api.md`). The default is the optimistic reading (the demo's world); each switch
/// turns one unknown the bad way, so tests can prove the app stays safe in that world too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Quirks {
    /// Deleted items vanish from the answers and later items move up one position; a delete's
    /// `index` counts only the items still live.
    pub compact_positions: bool,
    /// `getarticle` and `batchget` show a delete only this many seconds after it was applied.
    pub lag_secs: u64,
    /// `getarticle` of a message whose every item is deleted answers 53600.
    pub deleted_message_53600: bool,
    /// `batchget` lists the oldest message first.
    pub oldest_first: bool,
    /// Business calls are checked against the IP whitelist too (40164; 61004 with a token
    /// from the token service, as a third-party platform's token would be).
    pub whitelist_on_business_calls: bool,
    /// A delete of an item that is already deleted answers this errcode (default: 0).
    pub second_delete_errcode: Option<i64>,
    /// `quota/get` answers 76021 (path unknown) for every path.
    pub quota_get_unknown: bool,
    /// The quota day starts at this hour, Beijing time (default 0: midnight).
    pub quota_reset_hour: u8,
    /// `batchget` and `getarticle` give each item's link in the long form
    /// (`s?__biz=…&mid=…&idx=…&sn=…#rd`) instead of the short `s/<id>` one.
    pub long_urls: bool,
    /// `batchget` and `getarticle` give long links that carry a parameter changing with every
    /// answer (a temporary link, as documented for `url`); `freepublish/get` keeps the short,
    /// permanent one.
    pub temporary_links: bool,
    /// Answers carry no links at all (`"url": null`).
    pub no_links: bool,
    /// `batchget` spells titles HTML-escaped (`&amp;`) with a trailing non-breaking space;
    /// `getarticle` spells them plainly.
    pub escaped_titles: bool,
    /// Every item of a message is shown under the title of its first item (duplicate titles
    /// in one message).
    pub twin_titles: bool,
    /// `author`, `digest` and the other text fields come as `null`; a deleted item is stripped
    /// to `is_deleted` (title, link and content `null`).
    pub null_fields: bool,
    /// `batchget` gives `update_time` only inside `content`, as a string.
    pub nested_update_time: bool,
    /// `batchget` lists messages in an order of its own (neither newest nor oldest first).
    pub shuffled_list: bool,
    /// Cover images (`thumb_url`) answer 404, as an expired or blocked image link would.
    pub broken_covers: bool,
}
