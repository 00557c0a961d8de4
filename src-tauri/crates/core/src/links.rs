//! WeChat article links: the only links the app hands to the system browser, and the links an
//! operator pastes to find articles ("take down these 14 links legal sent us").
//!
//! A pasted link comes in two shapes, and the index may hold either (which one `batchget`
//! returns is **[unverified]**):
//! - short: `https://mp.weixin.qq.com/s/<id>` — an opaque id, the same string wherever it
//!   appears, so it is matched as is;
//! - long: `…/s?__biz=<account>&mid=<message>&idx=<position>&sn=<signature>` (or the older
//!   `/mp/appmsg/show?__biz=…&appmsgid=…&itemidx=…`) — matched on `__biz`, `mid` and `idx`,
//!   with `sn` compared when both sides have one.
//!
//! What varies and is ignored: `http`/`https`, a missing scheme, upper-case host, `&amp;` for
//! `&` (links copied from HTML), percent-encoding of `__biz` (`%3D%3D`) and `+` read as a
//! space, tracking parameters (`chksm`, `scene`, `sessionid`, `key`, …), `#rd` and
//! `#wechat_redirect`, trailing punctuation of the sentence around the link.

use url::Url;

use crate::error::CoreError;

/// An article link on `https://mp.weixin.qq.com/s…`: no other scheme, host, port, path or
/// credentials.
pub fn article_link(raw: &str) -> Result<Url, CoreError> {
    let refuse =
        || CoreError::Invalid("only https://mp.weixin.qq.com/s article links are opened".into());
    let url = Url::parse(raw.trim()).map_err(|_| refuse())?;
    let ok = url.scheme() == "https"
        && url.host_str() == Some("mp.weixin.qq.com")
        && url.username().is_empty()
        && url.password().is_none()
        && url.port().is_none()
        && (url.path() == "/s" || url.path().starts_with("/s/"));
    if ok { Ok(url) } else { Err(refuse()) }
}

/// What identifies one article in a link.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LinkKey {
    /// The id of a short link (`/s/<id>`), case-sensitive.
    Short(String),
    /// `__biz` (the account), `mid` (the message) and `idx` (1-based position).
    Long { biz: String, mid: String, idx: u32 },
}

/// A link read from pasted text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLink {
    pub key: LinkKey,
    /// The signature of a long link, when it has one.
    pub sn: Option<String>,
}

/// Why a piece of pasted text is not a usable article link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// A link, but not to a WeChat article page.
    NotAnArticle,
    /// An article link without the parts that say which article (`mid`, `idx`, an id).
    Incomplete,
}

const HOST: &str = "mp.weixin.qq.com";

/// Where article pages are read from (short links resolve to their long identity there).
pub const ARTICLE_PAGES: &str = "https://mp.weixin.qq.com/";

/// Reads one link in any of the forms above.
pub fn parse_link(raw: &str) -> Result<ParsedLink, LinkProblem> {
    let text = raw.trim().replace("&amp;", "&");
    let with_scheme = if text.contains("://") {
        text
    } else {
        format!("https://{text}")
    };
    let url = Url::parse(&with_scheme).map_err(|_| LinkProblem::NotAnArticle)?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str() != Some(HOST) {
        return Err(LinkProblem::NotAnArticle);
    }
    let path = url.path().trim_end_matches('/');
    if let Some(id) = path.strip_prefix("/s/") {
        let ok = !id.is_empty()
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        return if ok {
            Ok(ParsedLink {
                key: LinkKey::Short(id.to_string()),
                sn: None,
            })
        } else {
            Err(LinkProblem::Incomplete)
        };
    }
    let (mid_name, idx_name) = match path {
        "/s" => ("mid", "idx"),
        "/mp/appmsg/show" => ("appmsgid", "itemidx"),
        _ => return Err(LinkProblem::NotAnArticle),
    };
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    // base64 may hold '+', which a query decodes as a space.
    let biz = param("__biz").map(|b| b.replace(' ', "+"));
    let mid = param(mid_name).filter(|m| m.chars().all(|c| c.is_ascii_digit()));
    let idx = param(idx_name)
        .and_then(|i| i.parse::<u32>().ok())
        .filter(|i| *i >= 1);
    match (biz, mid, idx) {
        (Some(biz), Some(mid), Some(idx)) => Ok(ParsedLink {
            key: LinkKey::Long { biz, mid, idx },
            sn: param("sn"),
        }),
        _ => Err(LinkProblem::Incomplete),
    }
}

/// One piece of pasted text that looks like a link, in the order pasted: the words of the text
/// that hold `mp.weixin.qq.com` or `://`, cut at the link's start and trimmed of the sentence's
/// punctuation. Other words are not links and are left out.
pub fn link_candidates(text: &str) -> Vec<String> {
    // `&amp;` first: its ';' would otherwise split a link copied from HTML.
    let text = text.replace("&amp;", "&");
    let separators = |c: char| {
        c.is_whitespace()
            || matches!(
                c,
                ',' | ';'
                    | '，'
                    | '；'
                    | '、'
                    | '。'
                    | '"'
                    | '\''
                    | '“'
                    | '”'
                    | '‘'
                    | '’'
                    | '<'
                    | '>'
                    | '（'
                    | '）'
                    | '【'
                    | '】'
                    | '「'
                    | '」'
            )
    };
    text.split(separators)
        .filter_map(|word| {
            let start = ["https://", "http://", "://"]
                .iter()
                .filter_map(|p| word.find(p))
                .min()
                .or_else(|| word.find(HOST))?;
            let piece =
                word[start..].trim_end_matches(['.', ')', ']', '!', '?', ':', '！', '？', '：']);
            (!piece.is_empty()).then(|| piece.to_string())
        })
        .collect()
}

/// What an article page says about the article it shows. **[unverified]**: read from the page
/// as a browser gets it (no cookies), whose shape WeChat does not document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageSays {
    /// The long identity of the article.
    Article(ParsedLink),
    /// The page says the publisher deleted the article (or it was taken down).
    Gone,
    /// Neither: a verification page, an error page, a changed layout.
    Unclear,
}

/// Reads an article page for its `__biz`, `mid`, `idx` and `sn`, from the places the page
/// itself writes them — the `og:url` meta tag of its `<head>`, and the `msg_link` and
/// `biz`/`mid`/`idx`/`sn` variables of its own `<script>` blocks — never from the article's
/// text, which the publisher (or anyone quoted) wrote. Every place that names the article
/// must agree, or the page is unclear.
pub fn read_article_page(html: &str) -> PageSays {
    let long = |link: &str| match parse_link(link) {
        Ok(
            p @ ParsedLink {
                key: LinkKey::Long { .. },
                ..
            },
        ) => Some(p),
        _ => None,
    };
    // ASCII lower-casing keeps every byte offset.
    let lower = html.to_ascii_lowercase();
    let head = lower.find("</head>").map(|end| &html[..end]).unwrap_or("");
    let scripts = script_blocks(html, &lower);
    let in_scripts = |marker: &str| scripts.iter().find_map(|s| quoted_after(s, marker));
    let og = quoted_after(head, "property=\"og:url\" content=").and_then(|v| long(&v));
    let msg_link = in_scripts("var msg_link =")
        .or_else(|| in_scripts("msg_link ="))
        .and_then(|v| long(&v));
    let var = |name: &str| {
        in_scripts(&format!("var {name} ="))
            .or_else(|| in_scripts(&format!("var {name}=")))
            .filter(|v| !v.trim().is_empty())
    };
    let vars = match (var("biz"), var("mid"), var("idx")) {
        (Some(biz), Some(mid), Some(idx)) => long(&format!(
            "https://{HOST}/s?__biz={biz}&mid={mid}&idx={idx}&sn={}",
            var("sn").unwrap_or_default()
        )),
        _ => None,
    };
    let named: Vec<ParsedLink> = [og, msg_link, vars].into_iter().flatten().collect();
    if let Some(first) = named.first() {
        let signatures: Vec<&str> = named
            .iter()
            .filter_map(|p| p.sn.as_deref())
            .filter(|sn| !sn.is_empty())
            .collect();
        let agree =
            named.iter().all(|p| p.key == first.key) && signatures.windows(2).all(|w| w[0] == w[1]);
        return if agree {
            let signed = named
                .iter()
                .find(|p| p.sn.as_ref().is_some_and(|s| !s.is_empty()));
            PageSays::Article(signed.unwrap_or(first).clone())
        } else {
            PageSays::Unclear
        };
    }
    const GONE: &[&str] = &[
        "该内容已被发布者删除",
        "此内容因违规无法查看",
        "此内容被投诉且经审核涉嫌侵权",
    ];
    if GONE.iter().any(|g| html.contains(g)) {
        PageSays::Gone
    } else {
        PageSays::Unclear
    }
}

/// The quoted value right after `marker` in `text` (within 40 characters of it).
fn quoted_after(text: &str, marker: &str) -> Option<String> {
    let at = text.find(marker)? + marker.len();
    let rest = &text[at..];
    let open = rest.find(['"', '\''])?;
    let quote = rest[open..].chars().next()?;
    let value = &rest[open + 1..];
    let close = value.find(quote)?;
    // A value far from its marker is some other string.
    (open < 40).then(|| value[..close].to_string())
}

/// The text inside each `<script …>…</script>` of the page.
fn script_blocks<'a>(html: &'a str, lower: &str) -> Vec<&'a str> {
    let mut blocks = Vec::new();
    let mut from = 0;
    while let Some(open) = lower[from..].find("<script").map(|i| i + from) {
        let Some(body) = lower[open..].find('>').map(|i| i + open + 1) else {
            break;
        };
        let end = lower[body..]
            .find("</script")
            .map_or(html.len(), |i| i + body);
        blocks.push(&html[body..end]);
        from = end;
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_mp_weixin_article_links_are_opened() {
        for good in [
            "https://mp.weixin.qq.com/s/AbC_12-x",
            "https://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1",
        ] {
            assert!(article_link(good).is_ok(), "{good}");
        }
        for bad in [
            "http://mp.weixin.qq.com/s/x",
            "https://mp.weixin.qq.com.evil.example/s/x",
            "https://evil.example/?u=https://mp.weixin.qq.com",
            "https://user@mp.weixin.qq.com/s/x",
            "https://user:pw@mp.weixin.qq.com/s/x",
            "https://mp.weixin.qq.com:8443/s/x",
            "https://mp.weixin.qq.com/cgi-bin/loginpage",
            "https://mp.weixin.qq.com/sx",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "",
        ] {
            assert!(article_link(bad).is_err(), "{bad}");
        }
    }

    fn long(biz: &str, mid: &str, idx: u32) -> LinkKey {
        LinkKey::Long {
            biz: biz.into(),
            mid: mid.into(),
            idx,
        }
    }

    /// Every form an operator has: each row is a pasted link and the key it must give.
    #[test]
    fn every_variant_of_an_article_link_gives_the_same_key() {
        let short = LinkKey::Short("Qx9_k-2mZ7VbN4aL0pR8sT".into());
        let article = long("MzA5NjI+ODk0OQ==", "2650123456", 2);
        let table: &[(&str, &LinkKey, Option<&str>)] = &[
            (
                "https://mp.weixin.qq.com/s/Qx9_k-2mZ7VbN4aL0pR8sT",
                &short,
                None,
            ),
            (
                "http://mp.weixin.qq.com/s/Qx9_k-2mZ7VbN4aL0pR8sT",
                &short,
                None,
            ),
            ("mp.weixin.qq.com/s/Qx9_k-2mZ7VbN4aL0pR8sT", &short, None),
            (
                "https://MP.WEIXIN.QQ.COM/s/Qx9_k-2mZ7VbN4aL0pR8sT/",
                &short,
                None,
            ),
            (
                "https://mp.weixin.qq.com/s/Qx9_k-2mZ7VbN4aL0pR8sT?scene=1&sessionid=99#rd",
                &short,
                None,
            ),
            (
                "https://mp.weixin.qq.com/s/Qx9_k-2mZ7VbN4aL0pR8sT#wechat_redirect",
                &short,
                None,
            ),
            (
                "  https://mp.weixin.qq.com/s/Qx9_k-2mZ7VbN4aL0pR8sT  ",
                &short,
                None,
            ),
            (
                "https://mp.weixin.qq.com/s?__biz=MzA5NjI%2BODk0OQ%3D%3D&mid=2650123456&idx=2&sn=0d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a&chksm=bd0a1c2f8a7d9e3b&scene=21#wechat_redirect",
                &article,
                Some("0d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a"),
            ),
            (
                "http://mp.weixin.qq.com/s?__biz=MzA5NjI+ODk0OQ==&mid=2650123456&idx=2&sn=0d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a#rd",
                &article,
                Some("0d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a"),
            ),
            (
                "https://mp.weixin.qq.com/s?__biz=MzA5NjI+ODk0OQ==&amp;mid=2650123456&amp;idx=2&amp;sn=0d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a&amp;chksm=1#rd",
                &article,
                Some("0d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a"),
            ),
            (
                "mp.weixin.qq.com/s?idx=2&mid=2650123456&__biz=MzA5NjI%2BODk0OQ==&key=abc&ascene=1&uin=MTIz&devicetype=Windows",
                &article,
                None,
            ),
            (
                "https://mp.weixin.qq.com/mp/appmsg/show?__biz=MzA5NjI%2BODk0OQ==&appmsgid=2650123456&itemidx=2&sign=x#wechat_redirect",
                &article,
                None,
            ),
        ];
        for (raw, key, sn) in table {
            let parsed = parse_link(raw).unwrap_or_else(|e| panic!("{raw}: {e:?}"));
            assert_eq!(&parsed.key, *key, "{raw}");
            assert_eq!(parsed.sn.as_deref(), *sn, "{raw}");
        }
    }

    #[test]
    fn links_that_say_no_article_are_told_apart_from_links_elsewhere() {
        for raw in [
            "https://mp.weixin.qq.com/s?__biz=MzA=&idx=1",
            "https://mp.weixin.qq.com/s?__biz=MzA=&mid=12&idx=0",
            "https://mp.weixin.qq.com/s?mid=12&idx=1",
            "https://mp.weixin.qq.com/s?__biz=MzA=&mid=12x&idx=1",
            "https://mp.weixin.qq.com/s/",
            "https://mp.weixin.qq.com/s/bad%20id",
        ] {
            assert_eq!(parse_link(raw), Err(LinkProblem::Incomplete), "{raw}");
        }
        for raw in [
            "https://weixin.qq.com/s/abc",
            "https://mp.weixin.qq.com.evil.example/s/abc",
            "https://mp.weixin.qq.com/cgi-bin/home",
            "ftp://mp.weixin.qq.com/s/abc",
            "https://example.com/?u=https://mp.weixin.qq.com/s/abc",
            "not a link",
        ] {
            assert_eq!(parse_link(raw), Err(LinkProblem::NotAnArticle), "{raw}");
        }
    }

    #[test]
    fn links_are_picked_out_of_the_text_they_were_pasted_in() {
        let text = "法务要求下线：\n1. https://mp.weixin.qq.com/s/AAA，\n2.“http://mp.weixin.qq.com/s?__biz=MzA=&amp;mid=1&amp;idx=2#rd”。\n见 mp.weixin.qq.com/s/BBB) 和 https://example.com/x 谢谢";
        assert_eq!(
            link_candidates(text),
            vec![
                "https://mp.weixin.qq.com/s/AAA",
                "http://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=2#rd",
                "mp.weixin.qq.com/s/BBB",
                "https://example.com/x",
            ]
        );
        assert!(link_candidates("只有文字，没有链接").is_empty());
    }

    #[test]
    fn an_article_page_gives_its_long_identity_or_says_it_is_gone() {
        let meta = r#"<html><head><meta property="og:url" content="http://mp.weixin.qq.com/s?__biz=MzA5NjI+ODk0OQ==&amp;mid=2650123456&amp;idx=2&amp;sn=abc123&amp;chksm=9#rd" /></head><body></body></html>"#;
        let expected = ParsedLink {
            key: long("MzA5NjI+ODk0OQ==", "2650123456", 2),
            sn: Some("abc123".into()),
        };
        assert_eq!(read_article_page(meta), PageSays::Article(expected.clone()));
        let vars = r#"<script>var biz = "MzA5NjI+ODk0OQ=="||""; var sn = "abc123" || ""; var mid = "2650123456" || ""; var idx = "2" || "";</script>"#;
        assert_eq!(read_article_page(vars), PageSays::Article(expected.clone()));
        let msg_link = r#"<script type="text/javascript">var msg_link = "http://mp.weixin.qq.com/s?__biz=MzA5NjI+ODk0OQ==&amp;mid=2650123456&amp;idx=2&amp;sn=abc123#rd";</script>"#;
        assert_eq!(
            read_article_page(msg_link),
            PageSays::Article(expected.clone())
        );
        // All three, agreeing (as the real page and the simulator write it).
        let all = format!(
            "{}{vars}{msg_link}",
            &meta[..meta.find("<body>").unwrap_or(0)]
        );
        assert_eq!(read_article_page(&all), PageSays::Article(expected));
        assert_eq!(
            read_article_page("<div class=\"weui-msg__title\">该内容已被发布者删除</div>"),
            PageSays::Gone
        );
        assert_eq!(
            read_article_page("<html>环境异常，请完成验证</html>"),
            PageSays::Unclear
        );
        assert_eq!(read_article_page(""), PageSays::Unclear);
    }

    #[test]
    fn the_article_text_cannot_steer_which_article_a_page_is() {
        let other = "http://mp.weixin.qq.com/s?__biz=MzOther==&amp;mid=1&amp;idx=1&amp;sn=f00";
        // Markers written in the article's text (the body, outside any script) are not read.
        for body in [
            format!(r#"<p>property="og:url" content="{other}"</p>"#),
            format!(r#"<p>var msg_link = "{other}";</p>"#),
            r#"<p>var biz = "MzOther=="; var mid = "1"; var idx = "1";</p>"#.to_string(),
        ] {
            let page = format!("<html><head><title>t</title></head><body>{body}</body></html>");
            assert_eq!(read_article_page(&page), PageSays::Unclear, "{body}");
        }
        // The head and the page's own script disagree: unclear, not the first one found.
        let page = format!(
            r#"<html><head><meta property="og:url" content="http://mp.weixin.qq.com/s?__biz=MzA==&amp;mid=2&amp;idx=1&amp;sn=aa" /></head><body><script>var msg_link = "{other}";</script></body></html>"#
        );
        assert_eq!(read_article_page(&page), PageSays::Unclear);
        // Same article, one signed and one not: agreed, and the signature kept.
        let page = r#"<html><head><meta property="og:url" content="http://mp.weixin.qq.com/s?__biz=MzA==&amp;mid=2&amp;idx=1" /></head><body><script>var msg_link = "http://mp.weixin.qq.com/s?__biz=MzA==&amp;mid=2&amp;idx=1&amp;sn=aa";</script></body></html>"#;
        assert!(
            matches!(read_article_page(page), PageSays::Article(ParsedLink { sn: Some(ref sn), .. }) if sn == "aa")
        );
    }
}
