//! Bad input, systematically: arbitrary bytes and strings (seeded, replayable with
//! `RETRACT_BAD_INPUT_SEED=N`) through the response decoder, the errmsg parsers, the wizard's
//! field checks and the URL checks. None may panic; each answers with a typed error or a value
//! that obeys its rule. The figure (cases run) is printed in `make test`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use common::{Rng, seed};
use retract_core::accounts::{AccountDraft, DraftSource, field_check, validate};
use wechat_mp::client::{check_url, parse_answer};
use wechat_mp::error::{parse_rid, parse_whitelist_ip};
use wechat_mp::{Article, ArticleId, BatchGetPage, QuotaInfo};

const CASES: usize = 4_000;

/// Pieces that make the inputs look like what WeChat, a relay or a user would send, cut and
/// mixed with noise.
const PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "errcode",
    "errmsg",
    "0",
    "-1",
    "45009",
    "\"0\"",
    "news_item",
    "title",
    "is_deleted",
    "true",
    "1",
    "null",
    "total_count",
    "item",
    "article_id",
    "content",
    "rid: ",
    "6a1d7d64-1a5c7d64-18ff931f",
    "invalid ip ",
    "203.0.113.7",
    "requestIP: ",
    "::ffff:1.2.3.4",
    "https://",
    "http://",
    "127.0.0.1",
    "localhost",
    "mp.weixin.qq.com",
    "/s/",
    "?key=",
    "@",
    ":8443",
    "wx",
    "5e7d1c0ffee0a1b2",
    "标题",
    "\u{200B}",
    "\u{0007}",
    "\u{FEFF}",
    " ",
    "\n",
    "\\",
    "\\u0000",
    "1e999",
    "18446744073709551616",
    "<html>",
    "%",
    "#",
    // Whole near-valid answers and links, so the accepting paths are reached too.
    r#"{"total_count":1,"item_count":1,"item":[{"article_id":"A","content":{"news_item":[{"title":"t"}]}}]}"#,
    r#"{"news_item":[{"title":"t","is_deleted":1}]}"#,
    "https://mp.weixin.qq.com/s/AbC",
    "http://127.0.0.1:8787",
];

fn text(rng: &mut Rng) -> String {
    let mut out = String::new();
    let most = if rng.chance(30) { 1 } else { 12 };
    for _ in 0..1 + rng.below(most) {
        if rng.chance(15) {
            // A random character anywhere in Unicode's scalar values.
            let c = char::from_u32(rng.below(0x11_0000) as u32).unwrap_or('\u{FFFD}');
            out.push(c);
        } else {
            let piece: &&str = rng.pick(PIECES);
            out.push_str(piece);
        }
    }
    out
}

fn bytes(rng: &mut Rng) -> Vec<u8> {
    let mut out = text(rng).into_bytes();
    if rng.chance(20) {
        // Invalid UTF-8 and cut multi-byte sequences.
        for _ in 0..rng.below(6) {
            out.insert(
                rng.below(out.len() as u64 + 1) as usize,
                rng.below(256) as u8,
            );
        }
    }
    out
}

#[test]
fn arbitrary_input_gets_a_typed_answer_and_never_a_panic() {
    let seed = seed("RETRACT_BAD_INPUT_SEED", "bad input");
    let mut rng = Rng(seed);
    let mut accepted = [0usize; 6];
    for _ in 0..CASES {
        // The response decoder: any status and body.
        let status = *rng.pick(&[200, 200, 200, 502, 404, 301]);
        let body = bytes(&mut rng);
        if parse_answer::<BatchGetPage>(status, &body).is_ok() {
            assert_eq!(status, 200);
            accepted[0] += 1;
        }
        let _ = parse_answer::<Article>(status, &body);
        let _ = parse_answer::<QuotaInfo>(status, &body);

        // The errmsg parsers: a rid is three groups of eight hex digits; an IP parses.
        let errmsg = text(&mut rng);
        if let Some(rid) = parse_rid(&errmsg) {
            let groups: Vec<&str> = rid.split('-').collect();
            assert!(
                groups.len() == 3
                    && groups
                        .iter()
                        .all(|g| g.len() == 8 && g.chars().all(|c| c.is_ascii_hexdigit())),
                "{rid:?} from {errmsg:?}"
            );
            accepted[1] += 1;
        }
        if let Some(ip) = parse_whitelist_ip(&errmsg) {
            assert!(ip.parse::<std::net::IpAddr>().is_ok(), "{ip:?}");
            accepted[2] += 1;
        }

        // The URL check: only https, or plain http to this machine, and never credentials.
        let raw = text(&mut rng);
        if let Ok(url) = check_url(&raw, "the URL", false) {
            assert!(
                url.scheme() == "https" || wechat_mp::client::is_loopback(&url),
                "{url}"
            );
            assert!(
                url.username().is_empty() && url.password().is_none(),
                "{url}"
            );
            accepted[3] += 1;
        }
        if let Ok(link) = retract_core::links::article_link(&raw) {
            assert_eq!(link.host_str(), Some("mp.weixin.qq.com"));
            accepted[4] += 1;
        }
        if let Ok(id) = ArticleId::parse(&raw) {
            assert!(id.as_str().chars().all(|c| c.is_ascii_graphic()) && id.as_str().len() <= 256);
        }

        // The wizard's fields: the live check and the saving check agree, whatever is typed.
        let draft = AccountDraft {
            name: text(&mut rng),
            appid: if rng.chance(30) {
                format!("wx{:016x}", rng.next())
            } else {
                text(&mut rng)
            },
            source: match rng.below(3) {
                0 => DraftSource::Stable {
                    secret: if rng.chance(30) {
                        format!("{:016x}{:016x}", rng.next(), rng.next())
                    } else {
                        text(&mut rng)
                    },
                },
                1 => DraftSource::Service {
                    url: text(&mut rng),
                    header_name: rng.chance(50).then(|| text(&mut rng)),
                    header_value: rng.chance(50).then(|| text(&mut rng)),
                },
                _ => DraftSource::Pasted {
                    token: text(&mut rng),
                    expires_in_minutes: rng.chance(50).then(|| rng.below(200) as u32),
                },
            },
            proxy: rng.chance(30).then(|| text(&mut rng)),
            api_base: rng.chance(30).then(|| text(&mut rng)),
            local_relay: rng.chance(50),
        };
        let issues = field_check(&draft).issues;
        assert_eq!(
            validate(&draft).is_ok(),
            issues.is_empty(),
            "the live check and the save check disagree: {issues:?}"
        );
        if issues.is_empty() {
            accepted[5] += 1;
        }
    }
    println!(
        "bad input: {CASES} cases × 8 checks, 0 panics; accepted: {} pages, {} rids, {} IPs, {} URLs, {} article links, {} account drafts",
        accepted[0], accepted[1], accepted[2], accepted[3], accepted[4], accepted[5]
    );
}
