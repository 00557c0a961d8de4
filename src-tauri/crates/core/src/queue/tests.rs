//! Tests of the queue's rules read from its counts (`view.rs`) and of its pause times.

use super::*;

fn status(waiting: u32, unsettled: u32, paused_until: Option<i64>) -> QueueStatus {
    QueueStatus {
        plans: vec![PlanProgress {
            plan_id: PlanId(1),
            created_at: 0,
            requests: 5,
            done: 1,
            waiting,
            planned: 0,
            unsettled,
            held: 0,
            failed: 0,
            skipped: 0,
            not_before: None,
            items: Vec::new(),
        }],
        paused_until,
        wake_at: None,
        stopped_at: None,
    }
}

#[test]
fn a_scheduled_plan_is_due_from_its_time_for_an_hour_then_waits_for_the_operator() {
    let mut s = status(0, 0, None);
    s.plans[0].planned = 2;
    s.plans[0].not_before = Some(1_000);
    let p = &s.plans[0];
    assert_eq!(p.schedule(999), Schedule::Later);
    assert_eq!(p.schedule(1_000), Schedule::Due);
    assert_eq!(p.schedule(1_000 + SCHEDULE_GRACE_SECS), Schedule::Due);
    assert_eq!(p.schedule(1_001 + SCHEDULE_GRACE_SECS), Schedule::Overdue);
    assert!(!p.runnable(999) && p.runnable(1_000) && !p.runnable(1_001 + SCHEDULE_GRACE_SECS));
    assert!(!s.due_for_resume(999));
    assert!(s.due_for_resume(1_000));
    assert!(
        !s.due_for_resume(1_001 + SCHEDULE_GRACE_SECS),
        "late: the operator decides"
    );
    s.paused_until = Some(2_000);
    assert!(!s.due_for_resume(1_500), "a quota pause holds it too");
}

#[test]
fn waiting_work_resumes_by_itself_after_its_pause_unless_a_stop_asks_the_operator() {
    assert!(status(2, 0, None).due_for_resume(100));
    assert!(status(2, 0, Some(100)).due_for_resume(100));
    assert!(!status(2, 0, Some(101)).due_for_resume(100), "still paused");
    assert!(
        status(2, 1, None).due_for_resume(100),
        "a delete to verify blocks its own message, not the queue (the run settles it first)"
    );
    assert!(!status(0, 0, None).due_for_resume(100), "nothing waits");
    let mut stopped = status(2, 0, None);
    stopped.stopped_at = Some(50);
    assert!(
        !stopped.due_for_resume(100),
        "a run by itself stopped to ask the operator: nothing runs by itself again"
    );
}

#[test]
fn the_queue_wakes_itself_at_its_wake_time_and_a_retry_set_later_holds_the_rest() {
    let mut s = status(0, 1, None);
    s.wake_at = Some(130);
    assert!(!s.due_for_resume(129), "a check is due at 130, not before");
    assert!(s.due_for_resume(130));
    let mut s = status(2, 0, None);
    s.wake_at = Some(400);
    assert!(
        !s.due_for_resume(100),
        "a retry after a passing failure waits for its time, even with quota-waiting work"
    );
    s.paused_until = Some(500);
    assert!(
        s.due_for_resume(450),
        "a due check runs in a quota pause (reads only; nothing is sent while paused)"
    );
    s.wake_at = None;
    assert!(
        !s.due_for_resume(450),
        "quota-waiting work waits for the pause"
    );
}

#[test]
fn a_later_quota_day_is_tried_hourly_only_right_after_a_pause() {
    let midnight = next_quota_day(1_000_000);
    assert_eq!(
        pause_end(midnight + 10, Some(midnight)),
        midnight + 10 + 3600
    );
    assert_eq!(
        pause_end(midnight + 10, None),
        next_quota_day(midnight + 10)
    );
    assert_eq!(
        pause_end(midnight + 7200, Some(midnight)),
        next_quota_day(midnight + 7200),
        "a pause long over is a new day's exhaustion"
    );
}
