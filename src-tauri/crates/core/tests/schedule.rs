//! Scheduled deletion: a confirmed plan waits in the queue until its time, then runs through
//! the same `queue::run` (journal, re-checks) as any other; a plan whose time passed while the
//! app was not running waits for the operator; a scheduled plan can be cancelled until then.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use retract_core::CoreError;
use retract_core::accounts::SecretStorage;
use retract_core::execute::ExecOptions;
use retract_core::plan::{self, Selection};
use retract_core::queue::{self, SCHEDULE_GRACE_SECS, Schedule};
use wechat_mp::ManualClock;

mod common;
use common::*;

const DELETE: &str = "/cgi-bin/freepublish/delete";

fn options(clock: &Arc<ManualClock>) -> ExecOptions {
    ExecOptions {
        clock: clock.clone(),
        settle_after: Duration::ZERO,
        ..Default::default()
    }
}

#[tokio::test]
async fn a_scheduled_plan_sends_nothing_before_its_time_and_runs_by_itself_when_it_comes() {
    let w = world(20).await;
    let (id, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let now = options(&clock).now();
    let selection = oldest_messages(&w, 2);
    let p = plan::create(&api, w.store(), id, &selection).await.unwrap();

    // Bad times are refused and leave the plan as it was.
    for at in [now - 10, now, now + plan::SCHEDULE_MAX_AHEAD_SECS + 60] {
        let err =
            plan::confirm_scheduled(w.store(), p.id, &p.nonce, &p.phrase, at, now).unwrap_err();
        assert!(matches!(err, CoreError::Invalid(_)), "{at}: {err}");
    }
    let at = now + 2 * 3600;
    plan::confirm_scheduled(w.store(), p.id, &p.nonce, &p.phrase, at, now).unwrap();
    let status = queue::status(w.store(), id).unwrap();
    assert_eq!(status.plans[0].not_before, Some(at));
    assert_eq!(status.plans[0].schedule(now), Schedule::Later);
    assert!(!status.due_for_resume(now));

    // Any run before the time (a Resume click, another plan's run) leaves it alone.
    w.sim.clear_log();
    let run = queue::run(&api, w.store(), id, &options(&clock), |_, _| {})
        .await
        .unwrap();
    assert!(run.reports.is_empty());
    assert_eq!(w.sim.count(DELETE), 0);

    // Its time comes: due, and the run sends it, re-checked and journalled like any plan.
    clock.advance(Duration::from_secs(2 * 3600 + 5));
    let now = options(&clock).now();
    assert!(queue::status(w.store(), id).unwrap().due_for_resume(now));
    let run = queue::run(&api, w.store(), id, &options(&clock), |_, _| {})
        .await
        .unwrap();
    assert_eq!(run.reports.len(), 1);
    assert_eq!(w.sim.count(DELETE), 2);
    let after = queue::status(w.store(), id).unwrap();
    assert!(
        after.plans.is_empty()
            || after
                .plans
                .iter()
                .all(|p| p.done == p.requests && p.not_before.is_none())
    );
    assert_eq!(states(&w, p.id), vec!["done", "done"]);
}

#[tokio::test]
async fn a_plan_that_missed_its_time_waits_for_the_operator_and_a_cancelled_one_never_runs() {
    let w = world(20).await;
    let (id, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let now = options(&clock).now();
    let messages = oldest_messages(&w, 2);
    let late = plan::create(&api, w.store(), id, &messages[..1])
        .await
        .unwrap();
    plan::confirm_scheduled(
        w.store(),
        late.id,
        &late.nonce,
        &late.phrase,
        now + 600,
        now,
    )
    .unwrap();
    let dropped = plan::create(&api, w.store(), id, &messages[1..])
        .await
        .unwrap();
    plan::confirm_scheduled(
        w.store(),
        dropped.id,
        &dropped.nonce,
        &dropped.phrase,
        now + 600,
        now,
    )
    .unwrap();
    assert_eq!(queue::cancel_unsent(w.store(), dropped.id).unwrap(), 1);

    // The app was not running at the time; it starts long after.
    clock.advance(Duration::from_secs(600 + SCHEDULE_GRACE_SECS as u64 + 60));
    let now = options(&clock).now();
    let status = queue::status(w.store(), id).unwrap();
    let plan_of = |pid| {
        status
            .plans
            .iter()
            .find(|p| p.plan_id == pid)
            .unwrap()
            .clone()
    };
    assert_eq!(plan_of(late.id).schedule(now), Schedule::Overdue);
    assert!(
        !status.due_for_resume(now),
        "an overdue plan does not run by itself"
    );
    w.sim.clear_log();
    queue::run(&api, w.store(), id, &options(&clock), |_, _| {})
        .await
        .unwrap();
    assert_eq!(w.sim.count(DELETE), 0, "nor with any other run");

    // A plan not yet overdue cannot be released early.
    let fresh = plan::create(
        &api,
        w.store(),
        id,
        &[Selection::Item {
            article_id: w.sim.messages(wechat_sim::DEMO_APPID)[5].article_id.clone(),
            index: 1,
        }],
    )
    .await
    .unwrap();
    plan::confirm_scheduled(
        w.store(),
        fresh.id,
        &fresh.nonce,
        &fresh.phrase,
        now + 600,
        now,
    )
    .unwrap();
    assert!(queue::release_overdue(w.store(), fresh.id, now).is_err());

    // The operator's "run now" releases it; the next run sends it (and only it).
    assert_eq!(queue::release_overdue(w.store(), late.id, now).unwrap(), id);
    queue::run(&api, w.store(), id, &options(&clock), |_, _| {})
        .await
        .unwrap();
    assert_eq!(w.sim.count(DELETE), 1);
    assert_eq!(states(&w, late.id), vec!["done"]);
    assert_eq!(states(&w, dropped.id), vec!["skipped"]);
    assert_eq!(states(&w, fresh.id), vec!["planned"]);
}

#[tokio::test]
async fn the_queue_view_lists_each_requests_titles_and_state_and_the_counts_read_no_journal() {
    let w = world(6).await;
    let (id, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let whole = multi_item(&w, 2);
    let p = plan::create(
        &api,
        w.store(),
        id,
        &[Selection::WholeMessage {
            article_id: whole.article_id.clone(),
        }],
    )
    .await
    .unwrap();
    let now = wechat_mp::Clock::now(&wechat_mp::SystemClock)
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    plan::confirm_scheduled(w.store(), p.id, &p.nonce, &p.phrase, now + 3600, now).unwrap();

    // The counts (the scheduler's minute pass, the tray) list no requests.
    let counted = queue::status(w.store(), id).unwrap();
    assert_eq!(counted.plans[0].planned, 1);
    assert!(counted.plans[0].items.is_empty());

    // The window's view lists them: the whole message, every reviewed title, its state.
    let full = queue::status_in_full(w.store(), id).unwrap();
    let items = &full.plans[0].items;
    assert_eq!(items.len(), 1);
    assert!(items[0].whole);
    let titles: Vec<String> = whole.items.iter().map(|i| i.title.clone()).collect();
    assert_eq!(items[0].titles, titles);
    assert_eq!(items[0].state, retract_core::journal::JournalState::Planned);
    assert_eq!(full.plans[0].planned, counted.plans[0].planned);
}
