//! The retry policy and the token cache, proven by what the simulator received.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::*;
use wechat_mp::token::force_refresh_stable_token;
use wechat_mp::{
    Api, ArticleId, DeleteTarget, Error, ErrorClass, ManualClock, SecretString, TokenCache,
    TokenSource, TransportKind,
};
use wechat_sim::{DEMO_APPID, DEMO_SECRET, Fault};

fn first_message(rig: &Rig) -> ArticleId {
    ArticleId::parse(&rig.sim.messages(DEMO_APPID)[0].article_id).unwrap()
}

fn one() -> DeleteTarget {
    DeleteTarget::Item(NonZeroU32::MIN)
}

#[tokio::test]
async fn token_is_fetched_once_in_normal_mode_and_reused() {
    let rig = rig(5).await;
    for _ in 0..5 {
        rig.api.batchget(0, 1).await.unwrap();
    }
    assert_eq!(rig.sim.count(STABLE), 1);
    let sent = rig
        .sim
        .requests()
        .into_iter()
        .find(|r| r.path == STABLE)
        .unwrap();
    assert_eq!(sent.json()["force_refresh"], false);
    assert_eq!(
        sent.json()["secret"],
        "***",
        "the simulator log masks the secret"
    );
    assert!(
        !sent.query.contains("secret"),
        "the AppSecret never travels in a URL"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_callers_cause_exactly_one_token_request() {
    let rig = rig(1).await;
    let api = rig.api.clone();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let api = api.clone();
        tasks.spawn(async move { api.token().await.map(|_| ()) });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().unwrap();
    }
    assert_eq!(rig.sim.count(STABLE), 1);
    assert_eq!(rig.api.tokens().fetch_count(), 1);
}

#[tokio::test]
async fn token_is_refreshed_a_margin_before_expiry() {
    let rig = rig(1).await;
    rig.api.token().await.unwrap();
    rig.clock.advance(Duration::from_secs(7200 - 121));
    rig.api.token().await.unwrap();
    assert_eq!(rig.sim.count(STABLE), 1, "still outside the margin");
    rig.clock.advance(Duration::from_secs(2));
    rig.api.token().await.unwrap();
    assert_eq!(
        rig.sim.count(STABLE),
        2,
        "inside the 120 s margin: refreshed"
    );
}

#[tokio::test]
async fn two_copies_of_the_app_share_one_stable_token_with_the_remaining_lifetime() {
    let rig = rig(1).await;
    let first = rig.api.token().await.unwrap();
    rig.sim.advance(Duration::from_secs(1000));
    let other_clock = ManualClock::new(SystemTime::now());
    let other = api_with(
        client_for(&rig.sim),
        stable_source(DEMO_APPID, DEMO_SECRET),
        &other_clock,
    );
    let second = other.token().await.unwrap();
    use secrecy::ExposeSecret;
    assert_eq!(
        first.secret().expose_secret(),
        second.secret().expose_secret()
    );
    let left = second
        .expires_at()
        .unwrap()
        .duration_since(SystemTime::now())
        .unwrap();
    assert!(
        left <= Duration::from_secs(6200) && left > Duration::from_secs(6100),
        "{left:?}"
    );
}

#[tokio::test]
async fn stale_token_is_refetched_once_then_the_call_is_retried_once() {
    let rig = rig(3).await;
    rig.sim.inject(BATCHGET, Fault::Errcode { code: 42001 }, 1);
    rig.api.batchget(0, 1).await.unwrap();
    assert_eq!(rig.sim.count(STABLE), 2);
    assert_eq!(rig.sim.count(BATCHGET), 2);
    assert!(
        rig.sim
            .requests()
            .iter()
            .filter(|r| r.path == STABLE)
            .all(|r| r.json()["force_refresh"] == false)
    );

    // Twice in a row: one retry only, then the error is the caller's.
    rig.sim.clear_log();
    rig.sim.inject(BATCHGET, Fault::Errcode { code: 40001 }, 2);
    let err = rig.api.batchget(0, 1).await.unwrap_err();
    assert_eq!(err.class(), Some(&ErrorClass::TokenInvalid));
    assert_eq!(rig.sim.count(BATCHGET), 2);
    assert_eq!(rig.sim.count(STABLE), 1);
}

#[tokio::test]
async fn a_delete_refused_for_a_stale_token_is_retried_once_since_it_was_not_applied() {
    let rig = rig(3).await;
    rig.sim.inject(DELETE, Fault::Errcode { code: 42001 }, 1);
    let target = first_message(&rig);
    rig.api
        .delete(&target, DeleteTarget::WholeMessage)
        .await
        .unwrap();
    assert_eq!(rig.sim.count(DELETE), 2);
    assert!(rig.sim.message(DEMO_APPID, target.as_str()).unwrap().items[0].is_deleted);
}

#[tokio::test]
async fn explicit_force_refresh_invalidates_for_everyone_and_caches_recover_in_normal_mode() {
    let rig = rig(3).await;
    let old = rig.api.token().await.unwrap();
    let client = client_for(&rig.sim);
    let secret = SecretString::from(DEMO_SECRET.to_string());
    let fresh = force_refresh_stable_token(&client, DEMO_APPID, &secret, &rig.clock)
        .await
        .unwrap();
    use secrecy::ExposeSecret;
    assert_ne!(old.secret().expose_secret(), fresh.secret().expose_secret());
    rig.api.batchget(0, 1).await.unwrap();
    let forced: Vec<_> = rig
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.path == STABLE && r.json()["force_refresh"] == true)
        .collect();
    assert_eq!(forced.len(), 1, "only the explicit call forces");
    // 30 s apart at the least.
    let err = force_refresh_stable_token(&client, DEMO_APPID, &secret, &rig.clock)
        .await
        .unwrap_err();
    assert_eq!(err.class(), Some(&ErrorClass::DailyQuota));
}

#[tokio::test]
async fn reads_back_off_and_retry_on_busy_and_bad_gateway_then_give_up() {
    let rig = rig(3).await;
    rig.sim.inject(BATCHGET, Fault::Busy, 2);
    rig.sim.inject(BATCHGET, Fault::BadGateway, 1);
    assert_eq!(rig.api.batchget(0, 3).await.unwrap().item.len(), 3);
    assert_eq!(rig.sim.count(BATCHGET), 4);

    rig.sim.clear_log();
    rig.sim.inject(GETARTICLE, Fault::Busy, 10);
    let err = rig.api.get_article(&first_message(&rig)).await.unwrap_err();
    assert_eq!(err.class(), Some(&ErrorClass::Busy));
    assert_eq!(rig.sim.count(GETARTICLE), 4, "one try and three retries");
}

#[tokio::test]
async fn a_lost_answer_to_an_applied_delete_is_outcome_unknown_and_not_resent() {
    let rig = rig(3).await;
    let target = first_message(&rig);
    rig.sim.inject(DELETE, Fault::LoseResponse, 1);
    let err = rig
        .api
        .delete(&target, DeleteTarget::WholeMessage)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DeleteOutcomeUnknown { .. }), "{err:?}");
    assert_eq!(rig.sim.count(DELETE), 1);
    assert!(
        rig.sim.message(DEMO_APPID, target.as_str()).unwrap().items[0].is_deleted,
        "it was applied"
    );
    // getarticle settles it.
    let article = rig.api.get_article(&target).await.unwrap();
    assert!(article.news_item.iter().all(|i| i.is_deleted));
}

#[tokio::test]
async fn busy_gateway_and_garbage_answers_to_a_delete_are_outcome_unknown_each_sent_once() {
    for fault in [Fault::Busy, Fault::BadGateway, Fault::MalformedJson] {
        let rig = rig(3).await;
        rig.sim.inject(DELETE, fault.clone(), 3);
        let err = rig
            .api
            .delete(&first_message(&rig), one())
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::DeleteOutcomeUnknown { .. }),
            "{fault:?}: {err:?}"
        );
        assert_eq!(rig.sim.count(DELETE), 1, "{fault:?}: never resent");
    }
}

#[tokio::test]
async fn a_delete_past_the_timeout_is_outcome_unknown() {
    let rig = rig(3).await;
    let clock = ManualClock::new(SystemTime::now());
    let api = api_with(
        client_with_timeout(rig.sim.base_url(), Duration::from_millis(300)),
        stable_source(DEMO_APPID, DEMO_SECRET),
        &clock,
    );
    api.token().await.unwrap();
    rig.sim.inject(DELETE, Fault::Delay { millis: 1500 }, 1);
    let err = api.delete(&first_message(&rig), one()).await.unwrap_err();
    match err {
        Error::DeleteOutcomeUnknown { cause } => assert!(
            matches!(
                *cause,
                Error::Transport {
                    kind: TransportKind::Timeout,
                    may_have_reached_server: true,
                    ..
                }
            ),
            "{cause:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(rig.sim.count(DELETE), 1);
}

#[tokio::test]
async fn a_refused_connection_proves_the_delete_never_left() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let clock = ManualClock::new(SystemTime::now());
    let fixed = TokenSource::Fixed {
        token: SecretString::from("pasted".to_string()),
        expires_at: None,
    };
    let api = api_with(
        client_for_base(&format!("http://127.0.0.1:{port}")),
        fixed,
        &clock,
    );
    let err = api
        .delete(&ArticleId::parse("abc").unwrap(), one())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: TransportKind::Connect,
                may_have_reached_server: false,
                ..
            }
        ),
        "{err:?}"
    );
}

fn client_for_base(base: &str) -> wechat_mp::Client {
    client_with_timeout(base, Duration::from_secs(5))
}

#[tokio::test]
async fn a_pasted_token_is_used_until_it_expires_or_is_rejected_and_never_renewed() {
    let rig = rig(3).await;
    let token = rig.api.token().await.unwrap();
    let clock = ManualClock::new(SystemTime::now());
    let fixed = TokenSource::Fixed {
        token: token.secret().clone(),
        expires_at: Some(SystemTime::now() + Duration::from_secs(600)),
    };
    let api = Api::new(
        client_for(&rig.sim),
        Arc::new(TokenCache::new(fixed, Arc::new(clock.clone()))),
    );
    api.batchget(0, 1).await.unwrap();
    clock.advance(Duration::from_secs(601));
    rig.sim.clear_log();
    assert!(matches!(
        api.batchget(0, 1).await,
        Err(Error::FixedTokenExpired)
    ));
    assert_eq!(
        rig.sim.requests().len(),
        0,
        "an expired pasted token is not even sent"
    );

    let fixed = TokenSource::Fixed {
        token: SecretString::from("revoked_token".to_string()),
        expires_at: None,
    };
    let api = api_with(client_for(&rig.sim), fixed, &clock);
    assert!(matches!(
        api.batchget(0, 1).await,
        Err(Error::FixedTokenExpired)
    ));
    assert_eq!(rig.sim.count(BATCHGET), 1);
    assert_eq!(rig.sim.count(STABLE), 0);
}

#[tokio::test]
async fn a_delete_lost_on_the_way_in_is_outcome_unknown_and_was_not_applied() {
    let rig = rig(3).await;
    let target = first_message(&rig);
    rig.sim.inject(DELETE, Fault::DropUnapplied, 1);
    let err = rig
        .api
        .delete(&target, DeleteTarget::WholeMessage)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DeleteOutcomeUnknown { .. }), "{err:?}");
    assert_eq!(rig.sim.count(DELETE), 1);
    assert!(
        !rig.sim.message(DEMO_APPID, target.as_str()).unwrap().items[0].is_deleted,
        "not applied"
    );
}

/// A hostile relay or token service cannot make the client read without end: API answers stop
/// at 16 MiB, token answers at 64 KiB, announced or not; an oversized answer to a delete is an
/// unknown outcome, never success.
#[tokio::test]
async fn oversized_answers_are_refused_before_they_exhaust_memory() {
    let rig = rig(3).await;
    let huge = format!(
        "{{\"news_item\":[{{\"title\":\"x\",\"content\":\"{}\"}}]}}",
        "a".repeat(wechat_mp::client::API_ANSWER_LIMIT)
    );
    let relay = |body: String| Fault::Answer {
        status: 200,
        body,
        applied: false,
    };
    rig.sim
        .inject("/cgi-bin/freepublish/getarticle", relay(huge.clone()), 1);
    let err = rig.api.get_article(&first_message(&rig)).await.unwrap_err();
    assert!(
        matches!(err, Error::Decode { ref detail, .. } if detail.contains("larger than")),
        "{err:?}"
    );
    rig.sim
        .inject("/cgi-bin/freepublish/delete", relay(huge), 1);
    let err = rig
        .api
        .delete(&first_message(&rig), one())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::DeleteOutcomeUnknown { .. }), "{err:?}");

    // A token answer of 100 KiB is refused too.
    let fat_token = format!(
        "{{\"access_token\":\"T\",\"expires_in\":7200,\"pad\":\"{}\"}}",
        "p".repeat(100 * 1024)
    );
    let fresh = rig_with(wechat_sim::SimConfig::demo(1)).await;
    fresh.sim.inject(STABLE, relay(fat_token), 1);
    let err = fresh.api.token().await.unwrap_err();
    assert!(
        matches!(err, Error::Decode { ref detail, .. } if detail.contains("64 KiB")),
        "{err:?}"
    );
    // A normal answer after that works.
    fresh.api.token().await.unwrap();
}
