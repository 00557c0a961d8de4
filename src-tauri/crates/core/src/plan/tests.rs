//! Tests of plan building (`mod.rs`).

use super::*;

#[test]
fn days_needed_counts_today_then_whole_days() {
    assert_eq!(days_needed(3, 10, 10), Some(1));
    assert_eq!(days_needed(25, 7, 10), Some(3));
    assert_eq!(days_needed(17, 7, 10), Some(2));
    assert_eq!(days_needed(1, 0, 10), Some(2));
    assert_eq!(days_needed(5, 0, 0), None);
}

#[test]
fn the_scarcer_of_delete_and_getarticle_quota_sets_the_days() {
    // 10 deletes left but only 4 re-checks today: 3 days for 12 requests at 10/day reads.
    assert_eq!(
        days_needed_with_reads(12, Some((10, 10)), Some((4, 10))),
        Some(2)
    );
    assert_eq!(
        days_needed_with_reads(12, Some((10, 10)), Some((0, 5))),
        Some(4)
    );
    assert_eq!(days_needed_with_reads(3, Some((10, 10)), None), Some(1));
    assert_eq!(days_needed_with_reads(3, None, Some((10, 100))), None);
}

#[test]
fn full_width_digits_from_an_input_method_are_accepted() {
    assert_eq!(normalize_phrase(" １２ "), "12");
    assert_eq!(normalize_phrase("3"), "3");
    assert_eq!(normalize_phrase("三"), "三");
}
