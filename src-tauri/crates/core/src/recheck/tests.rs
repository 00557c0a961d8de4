//! Tests of the re-check: `judge` against answers of every shape, and the control articles.

use super::*;
use crate::journal::JournalState;

fn article(items: &[(&str, bool)]) -> Article {
    serde_json::from_value(serde_json::json!({
        "news_item": items.iter().map(|(t, d)| serde_json::json!({"title": t, "is_deleted": d})).collect::<Vec<_>>()
    }))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn target(index: Option<u32>, items: &[(&str, u32)]) -> Target {
    Target {
        seq: 1,
        article_id: "A".into(),
        index,
        items: items
            .iter()
            .map(|(t, p)| Reviewed {
                title: t.to_string(),
                index: *p,
                link: None,
            })
            .collect(),
        state: JournalState::Intent,
        outcome: None,
        updated_at: 0,
        seen_live_at: None,
    }
}

#[test]
fn only_a_present_slot_flagged_deleted_proves_an_item_gone() {
    let t = target(Some(2), &[("二", 2)]);
    assert_eq!(
        judge(&article(&[("一", false), ("二", true)]), &t),
        RecheckVerdict::Gone
    );
    assert_eq!(
        judge(&article(&[("一", false), ("二", false)]), &t),
        RecheckVerdict::Present
    );
    // The slot is missing (positions compacted, or a stripped answer): no proof.
    assert!(matches!(
        judge(&article(&[("一", false)]), &t),
        RecheckVerdict::Unproven(_)
    ));
    assert!(matches!(
        judge(&article(&[]), &t),
        RecheckVerdict::Unproven(_)
    ));
}

#[test]
fn an_entry_that_is_not_an_article_proves_nothing_and_a_stripped_deleted_item_stays_deleted() {
    let t = target(Some(2), &[("二", 2)]);
    let odd: Article = serde_json::from_value(serde_json::json!({
        "news_item": [{"title": "一", "author": null, "is_deleted": false}, null]
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        matches!(judge(&odd, &t), RecheckVerdict::Unproven(_)),
        "{odd:?}"
    );
    // Stripped, with nulls: what parsed is kept, `is_deleted` above all.
    let stripped: Article = serde_json::from_value(serde_json::json!({
        "news_item": [{"title": "一", "is_deleted": false}, {"title": "二", "author": null, "url": null, "content": null, "is_deleted": true}]
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(judge(&stripped, &t), RecheckVerdict::Gone);
}

#[test]
fn the_reviewed_title_at_another_position_stops_and_an_edit_skips() {
    let t = target(Some(2), &[("二", 2)]);
    assert!(matches!(
        judge(&article(&[("二", false), ("三", false)]), &t),
        RecheckVerdict::Moved(_)
    ));
    assert!(matches!(
        judge(&article(&[("一", false), ("二（改）", false)]), &t),
        RecheckVerdict::Changed(_)
    ));
}

fn linked(items: &[(&str, &str, bool)]) -> Article {
    serde_json::from_value(serde_json::json!({
        "news_item": items.iter().map(|(t, u, d)| serde_json::json!({"title": t, "url": u, "is_deleted": d})).collect::<Vec<_>>()
    }))
    .unwrap_or_else(|e| panic!("{e}"))
}

fn reviewed(index: Option<u32>, items: &[(&str, u32, &str)]) -> Target {
    Target {
        items: items
            .iter()
            .map(|(t, p, u)| Reviewed::new(t, *p, u))
            .collect(),
        ..target(index, &[])
    }
}

const Y: &str = "https://mp.weixin.qq.com/s/Y";
const Z: &str = "https://mp.weixin.qq.com/s/Z";
const X: &str = "https://mp.weixin.qq.com/s/X";

#[test]
fn twins_are_told_apart_by_their_links_and_without_links_they_stop() {
    let t = reviewed(Some(2), &[("周报", 2, Y)]);
    // Compacted: Z moved into position 2, Y is at 1.
    assert!(matches!(
        judge(&linked(&[("周报", Y, false), ("周报", Z, false)]), &t),
        RecheckVerdict::Moved(_)
    ));
    // Y gone (compacted away), Z at 2: not Y, nothing sent.
    assert!(matches!(
        judge(&linked(&[("周报", X, false), ("周报", Z, false)]), &t),
        RecheckVerdict::Changed(_)
    ));
    // A deleted Z at position 2 proves nothing about Y.
    assert!(matches!(
        judge(&linked(&[("周报", X, false), ("周报", Z, true)]), &t),
        RecheckVerdict::Unproven(_)
    ));
    assert_eq!(
        judge(&linked(&[("周报", X, false), ("周报", Y, true)]), &t),
        RecheckVerdict::Gone
    );
    assert_eq!(
        judge(&linked(&[("周报", X, false), ("周报 ", Y, false)]), &t),
        RecheckVerdict::Present
    );
    // Without links on either side, two live twins stop.
    let bare = reviewed(Some(2), &[("周报", 2, "")]);
    assert!(matches!(
        judge(&linked(&[("周报", "", false), ("周报", "", false)]), &bare),
        RecheckVerdict::Unproven(_)
    ));
    assert_eq!(
        judge(
            &linked(&[("月报", "", false), ("周报&#32;", "", false)]),
            &bare
        ),
        RecheckVerdict::Present
    );
    // A link on one side only, or a short and a long one: cannot tell.
    assert!(matches!(
        judge(&linked(&[("月报", X, false), ("周报", "", false)]), &t),
        RecheckVerdict::Unproven(_)
    ));
    assert!(matches!(
        judge(
            &linked(&[
                ("月报", X, false),
                (
                    "周报",
                    "https://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=2",
                    false
                )
            ]),
            &t
        ),
        RecheckVerdict::Unproven(_)
    ));
    // The same link under an edited title: the article changed since the review.
    assert!(matches!(
        judge(
            &linked(&[("月报", X, false), ("周报（更正）", Y, false)]),
            &t
        ),
        RecheckVerdict::Changed(_)
    ));
}

#[test]
fn a_whole_message_is_matched_item_by_item_by_identity() {
    let t = reviewed(None, &[("周报", 1, Y), ("周报", 2, Z)]);
    // Positions moved (one deleted in between): still only reviewed items live.
    assert_eq!(
        judge(&linked(&[("周报", Z, false), ("周报", Y, false)]), &t),
        RecheckVerdict::Present
    );
    // A live twin that was not reviewed.
    assert!(matches!(
        judge(&linked(&[("周报", Y, false), ("周报", X, false)]), &t),
        RecheckVerdict::Changed(_)
    ));
    // Without links, each reviewed title vouches for one live item only.
    let bare = reviewed(None, &[("周报", 1, "")]);
    assert!(matches!(
        judge(&linked(&[("周报", "", false), ("周报", "", false)]), &bare),
        RecheckVerdict::Changed(_)
    ));
}

#[test]
fn a_whole_message_needs_every_item_deleted_and_no_unreviewed_live_item() {
    let t = target(None, &[("一", 1), ("二", 2)]);
    assert_eq!(
        judge(&article(&[("一", true), ("二", true)]), &t),
        RecheckVerdict::Gone
    );
    assert_eq!(
        judge(&article(&[("一", true), ("二", false)]), &t),
        RecheckVerdict::Present
    );
    assert!(matches!(
        judge(&article(&[("一", false), ("二", false), ("新", false)]), &t),
        RecheckVerdict::Changed(_)
    ));
    assert!(matches!(
        judge(&article(&[]), &t),
        RecheckVerdict::Unproven(_)
    ));
}
