//! The scheduler's passes without a window (`tick_on`, `reconcile_all_on`) on an injected
//! clock and the simulator's day roll: scheduled plans at their time, waiting plans on the next
//! quota day, what is notified, and what keeps Retract running.

use super::*;

/// Two whole messages planned and confirmed with one delete left today: one goes, one waits.
async fn waiting_plan(h: &Host, id: retract_core::accounts::AccountId) -> i64 {
    let progress = Recorder::default();
    sync_on(&progress, &h.state, id, false).await.unwrap();
    h.sim.set_daily_limit(DEMO_APPID, DELETE, 1);
    let selection: Vec<Selection> = h.sim.messages(DEMO_APPID)[..2]
        .iter()
        .map(|m| Selection::WholeMessage {
            article_id: m.article_id.clone(),
        })
        .collect();
    let plan = plan_on(&h.state, id, &selection).await.unwrap();
    let view = execute_on(&progress, &h.state, plan.id, &plan.nonce, &plan.phrase)
        .await
        .unwrap();
    assert_eq!(
        h.sim.count(DELETE),
        2,
        "one deleted, one refused with 45009"
    );
    view.paused_until
        .expect("the queue waits for the next quota day")
}

/// A saved, synced account and a plan (not confirmed) to delete its oldest message whole.
async fn oldest_planned(h: &Host) -> (retract_core::accounts::AccountId, retract_core::plan::Plan) {
    let id = saved_account(h).await;
    sync_on(&Recorder::default(), &h.state, id, false)
        .await
        .unwrap();
    let selection = vec![Selection::WholeMessage {
        article_id: h.sim.messages(DEMO_APPID)[0].article_id.clone(),
    }];
    (id, plan_on(&h.state, id, &selection).await.unwrap())
}

#[tokio::test]
async fn the_scheduler_runs_a_scheduled_plan_at_its_time_and_not_before() {
    use crate::commands::deletions::schedule_on;
    use crate::scheduler::tick_on;
    let h = host(10).await;
    let (_, plan) = oldest_planned(&h).await;
    let progress = Recorder::default();
    let at = h.state.exec_options().now() + 3 * 3600;
    // The wrong phrase is refused here too: scheduling is a confirmation like any other.
    assert!(schedule_on(&h.state, plan.id, &plan.nonce, "999", at).is_err());
    let status = schedule_on(&h.state, plan.id, &plan.nonce, &plan.phrase, at).unwrap();
    assert_eq!(status.plans[0].not_before, Some(at));
    assert_eq!(
        h.state.still_queued(),
        1,
        "a plan waiting for its time keeps Retract in the tray"
    );

    // An hour before: nothing.
    h.clock.advance(std::time::Duration::from_secs(2 * 3600));
    assert!(tick_on(&progress, &h.state).await.is_empty());
    assert_eq!(h.sim.count(DELETE), 0);
    // Its time: the scheduler runs it, window or not.
    h.clock.advance(std::time::Duration::from_secs(3600 + 30));
    let ran = tick_on(&progress, &h.state).await;
    assert_eq!(ran.len(), 1);
    assert!(ran[0].result.as_ref().unwrap().stopped.is_none());
    assert_eq!(h.sim.count(DELETE), 1);
    assert_eq!(h.state.still_queued(), 0);
    assert!(tick_on(&progress, &h.state).await.is_empty());
}

#[tokio::test]
async fn the_scheduler_resumes_a_waiting_plan_when_the_quota_day_turns() {
    use crate::scheduler::{notice, tick_on};
    use std::sync::atomic::Ordering;
    let h = host(10).await;
    let id = saved_account(&h).await;
    let until = waiting_plan(&h, id).await;
    assert_eq!(h.state.still_queued(), 1);
    let progress = Recorder::default();

    // Before the quota day: nothing runs, nothing is sent.
    assert!(tick_on(&progress, &h.state).await.is_empty());
    assert_eq!(h.sim.count(DELETE), 2);

    // The day turns in WeChat and on the app's clock. Nobody opens this account's browser.
    h.sim.roll_day();
    let now = h.state.exec_options().now();
    h.clock
        .advance(std::time::Duration::from_secs((until - now + 1) as u64));
    // "Pause all" from the tray holds it back...
    h.state.paused_all.store(true, Ordering::SeqCst);
    assert!(tick_on(&progress, &h.state).await.is_empty());
    assert_eq!(h.sim.count(DELETE), 2);
    // ...and without it the scheduler runs the queue.
    h.state.paused_all.store(false, Ordering::SeqCst);
    let ran = tick_on(&progress, &h.state).await;
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0].account.id, id);
    let view = ran[0].result.as_ref().unwrap();
    assert!(view.stopped.is_none());
    assert_eq!(h.sim.count(DELETE), 3);
    let outcomes = progress.outcomes.lock().unwrap().clone();
    assert!(
        outcomes.contains(&Outcome::Deleted) && outcomes.iter().all(|o| *o == Outcome::Deleted),
        "{outcomes:?}"
    );
    assert_eq!(h.state.still_queued(), 0);
    // Said in the window's language: Chinese until the window says otherwise, then English.
    let text = notice(&ran[0], h.state.language()).expect("a finished queue is told");
    assert!(
        text.contains("已完成") && text.contains("共删除 2 篇"),
        "{text}"
    );
    h.state.set_language(crate::texts::Language::En);
    let text = notice(&ran[0], h.state.language()).expect("a finished queue is told");
    assert!(
        text.contains("2 deleted in all") && !text.contains("已完成"),
        "{text}"
    );
    // Done: the next pass has nothing to do.
    assert!(tick_on(&progress, &h.state).await.is_empty());
    assert_eq!(h.sim.count(DELETE), 3);
}

#[tokio::test]
async fn a_pause_for_quota_is_no_news_and_a_stop_for_the_account_is() {
    use crate::scheduler::{notice, tick_on};
    let h = host(10).await;
    let id = saved_account(&h).await;
    let until = waiting_plan(&h, id).await;
    let now = h.state.exec_options().now();
    h.clock
        .advance(std::time::Duration::from_secs((until - now + 1) as u64));
    // The app's day turned but WeChat's did not: refused again, paused again, no notification.
    let ran = tick_on(&Recorder::default(), &h.state).await;
    assert_eq!(ran.len(), 1);
    assert_eq!(
        notice(&ran[0], h.state.language()),
        None,
        "{:?}",
        ran[0].result.as_ref().map(|v| &v.stopped)
    );
    // An account-level refusal (the IP whitelist) stops the queue: that is news. WeChat's
    // day turns, and the token has run out by then (the whitelist is checked when a new one
    // is fetched: without the token's 7200 s, a day roll that jumps less than that — from
    // 22:00 Beijing — would delete with the old token and finish instead).
    h.sim.roll_day();
    h.sim.advance(std::time::Duration::from_secs(7201));
    h.clock.advance(std::time::Duration::from_secs(7200));
    h.sim.configure(DEMO_APPID, |a| {
        a.whitelist = Some(vec!["198.51.100.1".into()])
    });
    let ran = tick_on(&Recorder::default(), &h.state).await;
    assert_eq!(ran.len(), 1);
    let text = notice(&ran[0], h.state.language()).expect("a stop is told");
    assert!(
        text.contains("停止") && text.contains("白名单") && !text.contains("stopped"),
        "{text}"
    );
    let english = notice(&ran[0], crate::texts::Language::En).expect("a stop is told");
    assert!(
        english.contains("stopped") && !english.contains("停止"),
        "{english}"
    );
}

#[tokio::test]
async fn quota_get_is_asked_once_a_minute_per_account_and_again_after_deletes() {
    const QUOTA: &str = "/cgi-bin/openapi/quota/get";
    let h = host(30).await;
    let id = saved_account(&h).await;
    let accounts = h.state.accounts().unwrap();
    let progress = Recorder::default();
    let mut steps = Vec::new();
    let mut last = 0;
    let mut step = |name: &str, sim: &Sim| {
        let now = sim.count(QUOTA);
        steps.push(format!("{name}: {}", now - last));
        last = now;
        now
    };
    // What the window does: the quota meter on opening, a sync, opening again, a plan, the
    // delete run, the meter after it (twice: the result and the queue panel both refresh).
    accounts.reverify(id).await.unwrap();
    assert_eq!(step("open the account", &h.sim), 1);
    sync_on(&progress, &h.state, id, false).await.unwrap();
    step("sync (its list quota, asked fresh)", &h.sim);
    accounts.reverify(id).await.unwrap();
    accounts.reverify(id).await.unwrap();
    let after_reopen = step("open it twice more within the minute", &h.sim);
    assert_eq!(after_reopen, 2, "reopening within a minute asks nothing");
    let target = h.sim.messages(DEMO_APPID)[0].article_id.clone();
    let plan = plan_on(
        &h.state,
        id,
        &[Selection::WholeMessage { article_id: target }],
    )
    .await
    .unwrap();
    step("plan (delete quota kept; getarticle quota asked)", &h.sim);
    execute_on(&progress, &h.state, plan.id, &plan.nonce, &plan.phrase)
        .await
        .unwrap();
    step("run the delete", &h.sim);
    accounts.reverify(id).await.unwrap();
    let after_delete = step("meter after the run", &h.sim);
    assert_eq!(
        after_delete,
        after_reopen + 2,
        "a delete spends quota: the meter asks again"
    );
    accounts.reverify(id).await.unwrap();
    assert_eq!(step("queue panel refresh", &h.sim), after_delete);
    println!("quota/get calls per user action: {}", steps.join("; "));
}

#[tokio::test]
async fn a_stop_that_asks_the_operator_is_told_once_and_the_scheduler_then_leaves_it_alone() {
    use crate::commands::deletions::schedule_on;
    use crate::scheduler::{notice, tick_on};
    let h = host(10).await;
    let (id, plan) = oldest_planned(&h).await;
    let at = h.state.exec_options().now() + 120;
    schedule_on(&h.state, plan.id, &plan.nonce, &plan.phrase, at).unwrap();
    // At its time the whitelist refuses the check: an account-level stop.
    h.sim.inject(
        "/cgi-bin/freepublish/getarticle",
        Fault::Errcode { code: 40164 },
        1,
    );
    let mut told = Vec::new();
    let mut runs = 0;
    for _ in 0..30 {
        h.clock.advance(std::time::Duration::from_secs(60));
        for ran in tick_on(&Recorder::default(), &h.state).await {
            runs += 1;
            told.extend(notice(&ran, h.state.language()));
        }
    }
    assert_eq!(runs, 1, "run once at its time, then left alone");
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].contains("白名单"), "{}", told[0]);
    assert_eq!(h.sim.count(DELETE), 0);
    let status = h.state.accounts().unwrap();
    let queue = retract_core::queue::status(status.store(), id).unwrap();
    assert!(queue.stopped_at.is_some());
    assert_eq!(
        queue.plans[0].not_before,
        Some(at),
        "nothing was sent: it keeps its time"
    );
    assert_eq!(
        h.state.still_queued(),
        0,
        "stopped for the operator: nothing keeps Retract in the tray"
    );
}

#[tokio::test]
async fn a_pending_check_of_a_lost_answer_keeps_retract_running_until_it_is_settled() {
    use crate::scheduler::tick_on;
    let h = host(10).await;
    let (_, plan) = oldest_planned(&h).await;
    let progress = Recorder::default();
    h.sim.inject(DELETE, Fault::LoseResponse, 1);
    execute_on(&progress, &h.state, plan.id, &plan.nonce, &plan.phrase)
        .await
        .unwrap();
    assert_eq!(
        h.state.still_queued(),
        1,
        "the window says it checks again by itself: closing it keeps Retract in the tray"
    );
    h.clock.advance(std::time::Duration::from_secs(31));
    let ran = tick_on(&Recorder::default(), &h.state).await;
    assert_eq!(ran.len(), 1, "the scheduler wakes for the check");
    assert_eq!(
        h.state.still_queued(),
        0,
        "settled: nothing keeps it running"
    );
    assert_eq!(h.sim.count(DELETE), 1);
}
