//! The commands without a window: each command's body (`*_on`) runs against a real `AppState`
//! — a SQLite file in a temp folder, the simulator on loopback, secrets for this session only —
//! with progress recorded instead of emitted. What the UI receives is what is asserted.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod scheduler;

use std::sync::{Arc, Mutex};

use retract_core::accounts::{Accounts, SecretStorage};
use retract_core::execute::Outcome;
use retract_core::keyring::Keyring;
use retract_core::plan::Selection;
use retract_core::store::Store;
use wechat_sim::{DEMO_APPID, DEMO_SECRET, Fault, Sim, SimConfig};

use super::accounts::{AccountInput, SourceInput};
use super::articles::{SyncProgressEvent, sync_on};
use super::deletions::{DeletionProgressEvent, execute_on, plan_on};
use super::{Progress, in_background};
use crate::error::ErrorKind;
use crate::state::AppState;

const DELETE: &str = "/cgi-bin/freepublish/delete";

#[derive(Default)]
struct Recorder {
    pages: Mutex<Vec<u32>>,
    outcomes: Mutex<Vec<Outcome>>,
}

impl Progress for Recorder {
    fn sync(&self, event: SyncProgressEvent) {
        self.pages.lock().unwrap().push(event.pages);
    }
    fn deletion(&self, event: DeletionProgressEvent) {
        self.outcomes.lock().unwrap().push(event.outcome);
    }
}

struct Host {
    sim: Sim,
    _dir: tempfile::TempDir,
    state: AppState,
    /// The clock of every run and of the scheduler.
    clock: wechat_mp::ManualClock,
}

async fn host(messages: usize) -> Host {
    let sim = Sim::start(SimConfig::demo(messages)).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let keyring = Arc::new(Keyring::new(format!(
        "app.retract.test.commands.{}",
        std::process::id()
    )));
    let store = Arc::new(Store::open(&dir.path().join("retract.db")).unwrap());
    let accounts = Arc::new(Accounts::new(
        store,
        Arc::clone(&keyring),
        Arc::new(wechat_mp::SystemClock),
        Some(sim.base_url().to_string()),
    ));
    let mut state = AppState::new(
        dir.path().to_path_buf(),
        dir.path().join("exports"),
        Some(sim.base_url().to_string()),
        keyring,
        Ok(accounts),
    );
    let clock = wechat_mp::ManualClock::new(std::time::SystemTime::now());
    state.clock = Arc::new(clock.clone());
    Host {
        sim,
        _dir: dir,
        state,
        clock,
    }
}

/// The wizard's save, for this session only (no keyring needed).
async fn saved_account(h: &Host) -> retract_core::accounts::AccountId {
    let input = AccountInput {
        name: "测试服务号".into(),
        appid: DEMO_APPID.into(),
        source: SourceInput::Stable {
            secret: DEMO_SECRET.into(),
        },
        proxy: None,
        api_base: None,
        local_relay: false,
    };
    let accounts = h.state.accounts().unwrap();
    in_background(move || Ok(accounts.save(&input.into(), SecretStorage::SessionOnly)?))
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn the_journey_through_the_commands_reports_what_the_ui_shows() {
    let h = host(30).await;
    let id = saved_account(&h).await;
    let progress = Recorder::default();
    let report = sync_on(&progress, &h.state, id, false).await.unwrap();
    assert_eq!(report.progress.messages, 30);
    assert_eq!(
        *progress.pages.lock().unwrap(),
        [1, 2],
        "a progress event per page"
    );

    let target = h.sim.messages(DEMO_APPID)[0].article_id.clone();
    let selection = [Selection::WholeMessage {
        article_id: target.clone(),
    }];
    let plan = plan_on(&h.state, id, &selection).await.unwrap();

    // A wrong phrase is refused in Rust, with the kind the UI branches on; nothing is sent.
    let wrong = execute_on(&progress, &h.state, plan.id, &plan.nonce, "999")
        .await
        .unwrap_err();
    assert_eq!(wrong.kind, ErrorKind::ConfirmationRejected);
    let stale = execute_on(&progress, &h.state, plan.id, "not-the-nonce", &plan.phrase)
        .await
        .unwrap_err();
    assert_eq!(stale.kind, ErrorKind::ConfirmationRejected);
    assert_eq!(h.sim.count(DELETE), 0);

    let view = execute_on(&progress, &h.state, plan.id, &plan.nonce, &plan.phrase)
        .await
        .unwrap();
    assert!(view.stopped.is_none());
    assert_eq!(view.reports[0].results[0].outcome, Outcome::Deleted);
    assert_eq!(*progress.outcomes.lock().unwrap(), [Outcome::Deleted]);
    assert_eq!(h.sim.count(DELETE), 1);
    // Single use: the same confirmation again sends nothing.
    let again = execute_on(&progress, &h.state, plan.id, &plan.nonce, &plan.phrase)
        .await
        .unwrap_err();
    assert_eq!(again.kind, ErrorKind::ConfirmationRejected);
    assert_eq!(h.sim.count(DELETE), 1);
}

#[tokio::test]
async fn a_stopped_run_reaches_the_ui_as_a_typed_error() {
    let h = host(10).await;
    let id = saved_account(&h).await;
    sync_on(&Recorder::default(), &h.state, id, false)
        .await
        .unwrap();
    let target = h.sim.messages(DEMO_APPID)[0].article_id.clone();
    let plan = plan_on(
        &h.state,
        id,
        &[Selection::WholeMessage { article_id: target }],
    )
    .await
    .unwrap();
    h.sim.inject(
        DELETE,
        Fault::Answer {
            status: 200,
            body: "{}".into(),
            applied: false,
        },
        1,
    );
    let view = execute_on(
        &Recorder::default(),
        &h.state,
        plan.id,
        &plan.nonce,
        &plan.phrase,
    )
    .await
    .unwrap();
    let stopped = view.stopped.clone().expect("the run stopped");
    assert_eq!(stopped.kind, ErrorKind::OutcomeUnknown);
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["stopped"]["kind"], "outcomeUnknown");
    assert_eq!(json["reports"][0]["results"][0]["outcome"], "unknown");
}

#[tokio::test]
async fn refusals_of_the_opener_and_of_unknown_accounts_are_input_errors() {
    let h = host(3).await;
    let outside = retract_core::archive::folder_to_open(
        &h.state.exports_root(),
        std::path::Path::new("/etc"),
    )
    .unwrap_err();
    assert_eq!(
        crate::error::AppError::from(outside).kind,
        ErrorKind::InvalidInput
    );
    let link = retract_core::links::article_link("https://evil.example/s/x").unwrap_err();
    assert_eq!(
        crate::error::AppError::from(link).kind,
        ErrorKind::InvalidInput
    );
    let missing = plan_on(
        &h.state,
        retract_core::ids::AccountId(999),
        &[Selection::WholeMessage {
            article_id: "x".into(),
        }],
    )
    .await
    .unwrap_err();
    assert_eq!(missing.kind, ErrorKind::NotFound);
}

#[tokio::test]
async fn the_demo_starts_once_and_its_account_is_made_afresh_each_time() {
    let h = host(3).await;
    let first = h.state.start_demo().await.unwrap();
    let base = h.state.demo_base().expect("the demo simulator runs");
    assert!(first.is_demo);
    assert_eq!(first.profile.api_base.as_deref(), Some(base.as_str()));
    let again = h.state.start_demo().await.unwrap();
    assert!(again.is_demo);
    assert_eq!(
        h.state.demo_base().as_deref(),
        Some(base.as_str()),
        "one simulator"
    );
    let accounts = h.state.accounts().unwrap();
    assert_eq!(
        accounts
            .list()
            .unwrap()
            .iter()
            .filter(|a| a.is_demo)
            .count(),
        1
    );
    // It works end to end on its own simulator, whatever RETRACT_API_BASE says.
    let api = accounts.api(again.id).unwrap();
    api.token().await.unwrap();
}

#[tokio::test]
async fn a_rid_lookup_shows_time_ip_and_cost_and_never_the_token_it_holds() {
    let h = host(3).await;
    let id = saved_account(&h).await;
    let api = h.state.accounts().unwrap().api(id).unwrap();
    let err = api
        .get_article(&wechat_mp::ArticleId::parse("nope").unwrap())
        .await
        .unwrap_err();
    let rid = err.api().unwrap().rid.clone().unwrap();
    let token = {
        use secrecy::ExposeSecret;
        api.token()
            .await
            .unwrap()
            .secret()
            .expose_secret()
            .to_string()
    };
    let record = api.rid(&rid).await.unwrap();
    assert!(
        record.request_url.contains(&token),
        "WeChat's record holds the token"
    );
    let view = serde_json::to_string(&super::audit::RidView::from(record)).unwrap();
    assert!(!view.contains(&token), "{view}");
    assert!(
        view.contains("203.0.113.45") && view.contains("costInMs"),
        "{view}"
    );
}

#[tokio::test]
async fn clear_quota_needs_its_own_ticket_from_rust() {
    use super::deletions::{clear_quota_on, prepare_clear_quota_on};
    const CLEAR: &str = "/cgi-bin/clear_quota";
    let h = host(5).await;
    let id = saved_account(&h).await;

    // A webview calling the command without opening the dialog gets nothing sent.
    let bare = clear_quota_on(&h.state, id, "").await.unwrap_err();
    assert_eq!(bare.kind, ErrorKind::ConfirmationRejected);
    // A ticket for one account does not confirm another.
    let other = retract_core::accounts::AccountId(id.0 + 1);
    assert!(
        prepare_clear_quota_on(&h.state, other).is_err(),
        "no such account"
    );
    let ticket = prepare_clear_quota_on(&h.state, id).unwrap();
    let wrong = clear_quota_on(&h.state, other, &ticket).await.unwrap_err();
    assert_eq!(wrong.kind, ErrorKind::ConfirmationRejected);
    assert_eq!(h.sim.count(CLEAR), 0);

    let ticket = prepare_clear_quota_on(&h.state, id).unwrap();
    clear_quota_on(&h.state, id, &ticket).await.unwrap();
    assert_eq!(h.sim.count(CLEAR), 1);
    let again = clear_quota_on(&h.state, id, &ticket).await.unwrap_err();
    assert_eq!(again.kind, ErrorKind::ConfirmationRejected, "single use");
    assert_eq!(h.sim.count(CLEAR), 1);
}

#[tokio::test]
async fn removing_an_account_and_start_at_login_need_a_ticket_from_rust() {
    use super::accounts::{prepare_remove_account_on, remove_account_on};
    let h = host(3).await;
    let id = saved_account(&h).await;
    // A bare call, a guess, a ticket for another account or action: nothing removed.
    let bare = remove_account_on(&h.state, id, "").await.unwrap_err();
    assert_eq!(bare.kind, ErrorKind::ConfirmationRejected);
    let clear_ticket = super::deletions::prepare_clear_quota_on(&h.state, id).unwrap();
    let wrong = remove_account_on(&h.state, id, &clear_ticket)
        .await
        .unwrap_err();
    assert_eq!(wrong.kind, ErrorKind::ConfirmationRejected);
    assert!(h.state.accounts().unwrap().get(id).is_ok(), "still there");
    let ticket = prepare_remove_account_on(&h.state, id).unwrap();
    remove_account_on(&h.state, id, &ticket).await.unwrap();
    assert!(h.state.accounts().unwrap().get(id).is_err(), "removed");

    // Start at login: the switch's ticket, once.
    let bare = super::system::autostart_ticket(&h.state, "").unwrap_err();
    assert_eq!(bare.kind, ErrorKind::ConfirmationRejected);
    let ticket = h
        .state
        .tickets
        .issue(
            retract_core::tickets::APP,
            retract_core::tickets::TicketAction::Autostart,
            retract_core::now_unix(),
        )
        .unwrap();
    super::system::autostart_ticket(&h.state, &ticket).unwrap();
    assert!(
        super::system::autostart_ticket(&h.state, &ticket).is_err(),
        "single use"
    );
}

#[tokio::test]
async fn verifications_the_window_can_start_are_limited_per_minute() {
    let h = host(1).await;
    let now = 1_000_000;
    for _ in 0..crate::state::VERIFY_PER_MINUTE {
        h.state.admit_verification(now).unwrap();
    }
    let refused = h.state.admit_verification(now + 30).unwrap_err();
    assert_eq!(refused.kind, ErrorKind::RateLimited);
    assert!(
        refused.message.contains("wait a minute"),
        "{}",
        refused.message
    );
    // A minute later, checks are admitted again.
    h.state.admit_verification(now + 61).unwrap();
}

#[tokio::test]
async fn with_two_accounts_step_two_needs_the_plans_account_name_and_nothing_else_passes() {
    use crate::commands::deletions::check_account_named;
    let h = host(12).await;
    let id = saved_account(&h).await;
    let progress = Recorder::default();
    sync_on(&progress, &h.state, id, false).await.unwrap();
    let target = h.sim.messages(DEMO_APPID)[0].article_id.clone();
    let plan = plan_on(
        &h.state,
        id,
        &[Selection::WholeMessage { article_id: target }],
    )
    .await
    .unwrap();
    // One account: the number is enough, as before.
    assert!(check_account_named(&h.state, plan.id, None).is_ok());

    // A second account (the demo, same AppID, another name): now the name is asked for too.
    let demo = h.state.start_demo().await.unwrap();
    assert_ne!(demo.name, "测试服务号");
    for typed in [
        None,
        Some(""),
        Some(demo.name.as_str()),
        Some("测试服务"),
        Some(DEMO_APPID),
    ] {
        let refused = check_account_named(&h.state, plan.id, typed).unwrap_err();
        assert_eq!(refused.kind, ErrorKind::ConfirmationRejected, "{typed:?}");
    }
    assert_eq!(h.sim.count(DELETE), 0);
    // Spaces around it and ASCII case do not count; the name itself does.
    assert!(check_account_named(&h.state, plan.id, Some(" 测试服务号 ")).is_ok());
}
