//! Which article is which: the reviewed snapshot of a plan, and how it is recognised again in a
//! later answer of WeChat's.
//!
//! An article is known by its **link** (`url`, present in `batchget` and `getarticle` alike):
//! a short link's id, or a long link's `__biz`/`mid`/`idx` (tracking parameters, `sn`, the
//! scheme and `&amp;` ignored). Only when neither side has a link does the **normalised title**
//! stand in for it (HTML entities decoded, Unicode NFC, every run of whitespace — non-breaking
//! and ideographic spaces included — made one space, trimmed, zero-width characters removed).
//!
//! Rules:
//! - links are compared only when both sides have one of the same kind (short with short, long
//!   with long); a short and a long link of the same article cannot be told equal without
//!   fetching its page, so they are "not comparable", never "equal";
//! - a snapshot taken before links were recorded (`link: None`) is matched by title, as it was
//!   planned; one taken since records the link, empty when WeChat gave none.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use unicode_normalization::UnicodeNormalization;

use crate::links::{LinkKey, parse_link};

/// One item as the operator reviewed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reviewed {
    pub title: String,
    /// 1-based position in the message when reviewed.
    pub index: u32,
    /// The item's link as listed (`Some("")`: WeChat gave none); `None`: a plan made before
    /// links were recorded.
    pub link: Option<String>,
}

impl Reviewed {
    pub fn new(title: &str, index: u32, link: &str) -> Self {
        Self {
            title: title.to_string(),
            index,
            link: Some(link.trim().to_string()),
        }
    }
}

// Stored as `[title, index, link]` (older plans: `[title, index]`), inside `plan_targets.titles`.
impl Serialize for Reviewed {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.link {
            Some(link) => (&self.title, self.index, link).serialize(s),
            None => (&self.title, self.index).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Reviewed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            WithLink(String, u32, String),
            TitleOnly(String, u32),
        }
        Ok(match Stored::deserialize(d)? {
            Stored::WithLink(title, index, link) => Self {
                title,
                index,
                link: Some(link),
            },
            Stored::TitleOnly(title, index) => Self {
                title,
                index,
                link: None,
            },
        })
    }
}

/// What identifies an article in its link, in a form that compares.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A WeChat article link (short id, or long `__biz`/`mid`/`idx`).
    Article(LinkKey),
    /// Some other link (not WeChat's forms): the text, fragment and `&amp;` aside.
    Other(String),
}

impl Key {
    /// The key of a link; `None` for an empty one.
    pub fn of(link: &str) -> Option<Self> {
        let link = link.trim();
        if link.is_empty() {
            return None;
        }
        Some(match parse_link(link) {
            Ok(p) => Key::Article(p.key),
            Err(_) => {
                let text = link.replace("&amp;", "&");
                Key::Other(text.split('#').next().unwrap_or_default().to_string())
            }
        })
    }

    fn kind(&self) -> u8 {
        match self {
            Key::Article(LinkKey::Short(_)) => 0,
            Key::Article(LinkKey::Long { .. }) => 1,
            Key::Other(_) => 2,
        }
    }
}

/// What two links say about two items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Both have a link of the same kind, and it is the same article.
    Same,
    /// Both have a link of the same kind, and they differ: two articles.
    Differ,
    /// Neither has a link: only the title can stand in.
    Neither,
    /// One side has none, or the two are of kinds that cannot be compared.
    NotComparable,
}

pub fn compare_links(a: &str, b: &str) -> Links {
    match (Key::of(a), Key::of(b)) {
        (None, None) => Links::Neither,
        (Some(a), Some(b)) if a.kind() == b.kind() => {
            if a == b {
                Links::Same
            } else {
                Links::Differ
            }
        }
        _ => Links::NotComparable,
    }
}

/// The title as compared: entities decoded, NFC, whitespace collapsed and trimmed.
pub fn normalize_title(title: &str) -> String {
    let decoded = unescape_html(title);
    let mut out = String::with_capacity(decoded.len());
    let mut space = false;
    for c in decoded.nfc() {
        if matches!(
            c,
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}'
        ) {
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

pub fn same_title(a: &str, b: &str) -> bool {
    normalize_title(a) == normalize_title(b)
}

/// Decodes the HTML entities a title may carry: the named ones that occur in text (`&amp;`,
/// `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&nbsp;`) and numeric ones. Decoded twice at most, for
/// `&amp;amp;` (a title escaped twice on its way). Anything else stays as written.
pub fn unescape_html(text: &str) -> String {
    let once = unescape_once(text);
    if once.contains('&') && once != text {
        unescape_once(&once)
    } else {
        once
    }
}

fn unescape_once(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let decoded = tail.find(';').filter(|end| *end <= 10).and_then(|end| {
            let name = &tail[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                _ => name.strip_prefix('#').and_then(|n| {
                    let code = match n.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => n.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            }?;
            Some((c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether a journal entry (a reviewed item of a request Retract finished) is the item listed
/// at `position` with `title` and `link`: the same link when both sides have comparable ones,
/// otherwise the same position and the same normalised title.
pub fn is_reviewed_item(r: &Reviewed, position: u32, title: &str, link: &str) -> bool {
    match compare_links(r.link.as_deref().unwrap_or_default(), link) {
        Links::Same => true,
        Links::Differ => false,
        Links::Neither | Links::NotComparable => r.index == position && same_title(&r.title, title),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_that_read_the_same_compare_equal_and_others_do_not() {
        for (a, b) in [
            ("A &amp; B", "A & B"),
            ("A &amp;amp; B", "A & B"),
            ("周报 ", "周报"),
            ("周报\u{a0}第 3 期", "周报 第 3 期"),
            ("周报\u{3000}第3期", "周报 第3期"),
            ("  a\t\n b ", "a b"),
            ("&#21608;报", "周报"),
            ("&#x5468;报", "周报"),
            ("e\u{301}t\u{e9}", "\u{e9}t\u{e9}"),
            ("零\u{200b}宽", "零宽"),
            ("&quot;引号&quot; &lt;b&gt;", "\"引号\" <b>"),
        ] {
            assert!(same_title(a, b), "{a:?} vs {b:?}");
        }
        for (a, b) in [
            ("周报", "周报（改）"),
            ("A & B", "A &amp B"),
            ("ab", "a b"),
            ("&bogus;", "&"),
        ] {
            assert!(!same_title(a, b), "{a:?} vs {b:?}");
        }
        // Text that only looks like an entity stays as written.
        assert_eq!(unescape_html("R&D; 5 & 6 &"), "R&D; 5 & 6 &");
    }

    #[test]
    fn links_compare_by_what_identifies_the_article() {
        let long = "http://mp.weixin.qq.com/s?__biz=MzA+A==&mid=26501&idx=2&sn=aa&chksm=1#rd";
        assert_eq!(
            compare_links(
                long,
                "https://mp.weixin.qq.com/s?__biz=MzA%2BA%3D%3D&amp;mid=26501&amp;idx=2&amp;sn=aa&scene=21"
            ),
            Links::Same
        );
        assert_eq!(
            compare_links(
                long,
                "https://mp.weixin.qq.com/s?__biz=MzA+A==&mid=26501&idx=3&sn=bb"
            ),
            Links::Differ
        );
        assert_eq!(
            compare_links(
                "https://mp.weixin.qq.com/s/AbC",
                "https://mp.weixin.qq.com/s/AbC"
            ),
            Links::Same
        );
        assert_eq!(
            compare_links(
                "https://mp.weixin.qq.com/s/AbC",
                "https://mp.weixin.qq.com/s/abc"
            ),
            Links::Differ
        );
        assert_eq!(
            compare_links("https://mp.weixin.qq.com/s/AbC", long),
            Links::NotComparable
        );
        assert_eq!(
            compare_links("", "https://mp.weixin.qq.com/s/AbC"),
            Links::NotComparable
        );
        assert_eq!(compare_links(" ", ""), Links::Neither);
    }

    #[test]
    fn snapshots_read_old_and_new_forms() {
        let new = Reviewed::new("周报", 2, "https://mp.weixin.qq.com/s/x");
        let text = serde_json::to_string(&vec![new.clone()]).unwrap_or_default();
        assert_eq!(text, r#"[["周报",2,"https://mp.weixin.qq.com/s/x"]]"#);
        let back: Vec<Reviewed> = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back, vec![new]);
        let old: Vec<Reviewed> = serde_json::from_str(r#"[["周报",2]]"#).unwrap_or_default();
        assert_eq!(old[0].link, None);
        assert!(serde_json::from_str::<Vec<Reviewed>>(r#"[["周报"]]"#).is_err());
    }

    #[test]
    fn a_journal_entry_is_its_item_by_link_then_by_position_and_title() {
        let with = Reviewed::new("周报", 2, "https://mp.weixin.qq.com/s/Y");
        assert!(is_reviewed_item(
            &with,
            1,
            "周报",
            "https://mp.weixin.qq.com/s/Y"
        ));
        assert!(!is_reviewed_item(
            &with,
            2,
            "周报",
            "https://mp.weixin.qq.com/s/Z"
        ));
        let old = Reviewed {
            title: "A &amp; B".into(),
            index: 2,
            link: None,
        };
        assert!(is_reviewed_item(
            &old,
            2,
            "A & B ",
            "https://mp.weixin.qq.com/s/Z"
        ));
        assert!(!is_reviewed_item(&old, 1, "A & B", ""));
    }
}
