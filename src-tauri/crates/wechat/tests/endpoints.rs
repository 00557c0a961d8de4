//! Every endpoint against the simulator over real loopback HTTP: success and its error classes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use std::num::NonZeroU32;
use std::time::Duration;

use common::*;
use wechat_mp::{ArticleId, DELETE_CGI_PATH, DeleteTarget, Error, ErrorClass, TokenSource};
use wechat_sim::{DEMO_APPID, DEMO_SECRET, Fault, SimConfig};

fn item(n: u32) -> DeleteTarget {
    DeleteTarget::Item(NonZeroU32::new(n).unwrap())
}

fn id(s: &str) -> ArticleId {
    ArticleId::parse(s).unwrap()
}

/// The first message of the account with at least `min_items` items.
fn message_with(rig: &Rig, min_items: usize) -> wechat_sim::SimMessage {
    rig.sim
        .messages(DEMO_APPID)
        .into_iter()
        .find(|m| m.items.len() >= min_items)
        .expect("sample data has such a message")
}

#[tokio::test]
async fn batchget_lists_newest_first_without_content_and_keeps_chinese_intact() {
    let rig = rig(30).await;
    let page = rig.api.batchget(0, 20).await.unwrap();
    assert_eq!(page.total_count.unwrap(), 30);
    assert_eq!(page.item_count, 20);
    assert_eq!(page.item.len(), 20);
    assert!(
        page.item
            .windows(2)
            .all(|w| w[0].update_time >= w[1].update_time)
    );
    let sent = rig
        .sim
        .requests()
        .into_iter()
        .find(|r| r.path == BATCHGET)
        .unwrap();
    assert_eq!(
        sent.json()["no_content"],
        1,
        "no_content must be the number 1"
    );
    let first = &page.item[0];
    let truth = rig
        .sim
        .message(DEMO_APPID, first.article_id.as_str())
        .unwrap();
    assert_eq!(first.content.news_item[0].title, truth.items[0].title);
    assert!(
        first.content.news_item[0]
            .title
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    );
    assert!(first.content.news_item.iter().all(|i| i.content.is_empty()));
    let tail = rig.api.batchget(20, 20).await.unwrap();
    assert_eq!(tail.item.len(), 10);
}

#[tokio::test]
async fn batchget_count_is_checked_before_sending() {
    let rig = rig(3).await;
    for count in [0, 21] {
        let err = rig.api.batchget(0, count).await.unwrap_err();
        assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
    }
    assert_eq!(rig.sim.requests().len(), 0, "nothing may be sent");
}

#[tokio::test]
async fn list_all_gives_the_same_messages_one_page_or_several_in_flight() {
    let rig = rig(95).await;
    let serial = rig.api.list_all(1).await.unwrap();
    let parallel = rig.api.list_all(4).await.unwrap();
    assert_eq!(serial.len(), 95);
    assert_eq!(serial, parallel);
    assert_eq!(rig.sim.count(BATCHGET), 2 * 5);
    let mut ids: Vec<_> = serial
        .iter()
        .map(|m| m.article_id.as_str().to_string())
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 95, "no message listed twice");
}

#[tokio::test]
async fn delete_one_item_sends_its_index_and_only_that_item_goes() {
    let rig = rig(40).await;
    let target = message_with(&rig, 3);
    rig.api
        .delete(&id(&target.article_id), item(2))
        .await
        .unwrap();
    let after = rig.sim.message(DEMO_APPID, &target.article_id).unwrap();
    let deleted: Vec<bool> = after.items.iter().map(|i| i.is_deleted).collect();
    assert_eq!(&deleted[..3], &[false, true, false]);
    let sent = rig
        .sim
        .requests()
        .into_iter()
        .find(|r| r.path == DELETE)
        .unwrap();
    assert_eq!(sent.json()["index"], 2);
    assert_eq!(sent.json()["article_id"], target.article_id.as_str());
}

#[tokio::test]
async fn delete_whole_message_leaves_index_out_and_removes_every_item() {
    let rig = rig(40).await;
    let target = message_with(&rig, 2);
    rig.api
        .delete(&id(&target.article_id), DeleteTarget::WholeMessage)
        .await
        .unwrap();
    let after = rig.sim.message(DEMO_APPID, &target.article_id).unwrap();
    assert!(after.items.iter().all(|i| i.is_deleted));
    let sent = rig
        .sim
        .requests()
        .into_iter()
        .find(|r| r.path == DELETE)
        .unwrap();
    assert!(sent.json().get("index").is_none(), "{}", sent.body);
    // A fully deleted message disappears from the list but getarticle still knows it.
    let listed = rig.api.list_all(2).await.unwrap();
    assert!(
        listed
            .iter()
            .all(|m| m.article_id.as_str() != target.article_id)
    );
    let article = rig.api.get_article(&id(&target.article_id)).await.unwrap();
    assert!(article.news_item.iter().all(|i| i.is_deleted));
}

#[tokio::test]
async fn getarticle_returns_html_and_flags_deleted_items() {
    let rig = rig(10).await;
    let target = message_with(&rig, 1);
    let article = rig.api.get_article(&id(&target.article_id)).await.unwrap();
    assert_eq!(article.news_item.len(), target.items.len());
    assert!(article.news_item[0].content.contains("<section>"));
    assert!(
        article.news_item[0]
            .url
            .starts_with("https://mp.weixin.qq.com/s/")
    );
    rig.api
        .delete(&id(&target.article_id), item(1))
        .await
        .unwrap();
    let article = rig.api.get_article(&id(&target.article_id)).await.unwrap();
    assert!(article.news_item[0].is_deleted);
}

#[tokio::test]
async fn unknown_article_is_53600_invalid_article() {
    let rig = rig(3).await;
    for result in [
        rig.api.get_article(&id("doesNotExist")).await.map(|_| ()),
        rig.api
            .delete(&id("doesNotExist"), DeleteTarget::WholeMessage)
            .await,
    ] {
        let err = result.unwrap_err();
        let api = err.api().expect("an API error");
        assert_eq!(api.code, 53600);
        assert_eq!(api.class, ErrorClass::InvalidArticle);
        assert!(api.rid.is_some(), "every WeChat error carries a rid");
    }
    assert_eq!(rig.sim.count(DELETE), 1, "a 53600 is not retried");
}

#[tokio::test]
async fn publish_status_reports_5_after_the_whole_message_is_deleted() {
    let rig = rig(5).await;
    let target = message_with(&rig, 1);
    let status = rig.api.publish_status(&target.publish_id).await.unwrap();
    assert_eq!(status.publish_status, 0);
    assert_eq!(
        status.article_id.as_deref(),
        Some(target.article_id.as_str())
    );
    assert_eq!(
        status.article_detail.unwrap().count as usize,
        target.items.len()
    );
    rig.api
        .delete(&id(&target.article_id), DeleteTarget::WholeMessage)
        .await
        .unwrap();
    assert_eq!(
        rig.api
            .publish_status(&target.publish_id)
            .await
            .unwrap()
            .publish_status,
        5
    );
    assert!(matches!(
        rig.api.publish_status(" ").await,
        Err(Error::InvalidInput(_))
    ));
}

#[tokio::test]
async fn quota_shows_delete_allowance_and_counts_each_delete() {
    let rig = rig(5).await;
    let q = rig.api.quota(DELETE_CGI_PATH).await.unwrap();
    assert_eq!(
        (q.quota.daily_limit, q.quota.used, q.quota.remain),
        (10, 0, 10)
    );
    let target = message_with(&rig, 1);
    rig.api
        .delete(&id(&target.article_id), DeleteTarget::WholeMessage)
        .await
        .unwrap();
    let q = rig.api.quota(DELETE_CGI_PATH).await.unwrap();
    assert_eq!((q.quota.used, q.quota.remain), (1, 9));
    assert!(q.rate_limit.is_some());

    let before = rig.sim.requests().len();
    assert!(matches!(
        rig.api.quota("cgi-bin/freepublish/delete").await,
        Err(Error::InvalidInput(_))
    ));
    assert_eq!(
        rig.sim.requests().len(),
        before,
        "a path without '/' is refused before sending"
    );
    let err = rig.api.quota("/cgi-bin/nothing").await.unwrap_err();
    assert_eq!(err.api().unwrap().code, 76021);
}

#[tokio::test]
async fn daily_delete_quota_answers_45009_and_is_not_retried() {
    let rig = rig(20).await;
    rig.sim.set_daily_limit(DEMO_APPID, DELETE, 1);
    let messages = rig.sim.messages(DEMO_APPID);
    rig.api
        .delete(&id(&messages[0].article_id), DeleteTarget::WholeMessage)
        .await
        .unwrap();
    let err = rig
        .api
        .delete(&id(&messages[1].article_id), DeleteTarget::WholeMessage)
        .await
        .unwrap_err();
    assert_eq!(err.class(), Some(&ErrorClass::DailyQuota));
    assert_eq!(rig.sim.count(DELETE), 2);
    assert!(
        !rig.sim
            .message(DEMO_APPID, &messages[1].article_id)
            .unwrap()
            .items[0]
            .is_deleted
    );
    // The next Beijing day brings the quota back.
    rig.sim.roll_day();
    rig.clock.advance(Duration::from_secs(86_400));
    rig.api
        .delete(&id(&messages[1].article_id), DeleteTarget::WholeMessage)
        .await
        .unwrap();
}

#[tokio::test]
async fn minute_limit_answers_45011() {
    let mut config = SimConfig::demo(5);
    config.minute_limit = 2;
    let rig = rig_with(config).await;
    rig.api.batchget(0, 1).await.unwrap();
    rig.api.batchget(0, 1).await.unwrap();
    let err = rig.api.batchget(0, 1).await.unwrap_err();
    assert_eq!(err.class(), Some(&ErrorClass::MinuteLimit));
    assert_eq!(
        rig.sim.count(BATCHGET),
        3,
        "45011 is the caller's to wait out, not retried at once"
    );
}

#[tokio::test]
async fn clear_quota_resets_counters_is_never_resent_and_stops_at_10_a_month() {
    let rig = rig(20).await;
    let m = rig.sim.messages(DEMO_APPID);
    rig.api
        .delete(&id(&m[0].article_id), DeleteTarget::WholeMessage)
        .await
        .unwrap();
    assert_eq!(rig.sim.used_today(DEMO_APPID, DELETE), 1);
    rig.api.clear_quota(DEMO_APPID).await.unwrap();
    assert_eq!(rig.sim.used_today(DEMO_APPID, DELETE), 0);

    rig.sim.inject("/cgi-bin/clear_quota", Fault::Busy, 1);
    let err = rig.api.clear_quota(DEMO_APPID).await.unwrap_err();
    assert_eq!(err.class(), Some(&ErrorClass::Busy));
    assert_eq!(
        rig.sim.count("/cgi-bin/clear_quota"),
        2,
        "a busy clear_quota is not resent"
    );

    for _ in 0..9 {
        rig.api.clear_quota(DEMO_APPID).await.unwrap();
    }
    let err = rig.api.clear_quota(DEMO_APPID).await.unwrap_err();
    assert_eq!(err.class(), Some(&ErrorClass::ClearQuotaExhausted));
    assert_eq!(err.api().unwrap().code, 48006);
}

#[tokio::test]
async fn rid_of_an_error_can_be_looked_up_for_7_days_and_its_debug_hides_the_token() {
    let rig = rig(3).await;
    let err = rig.api.get_article(&id("nope")).await.unwrap_err();
    let rid = err.api().unwrap().rid.clone().unwrap();
    let record = rig.api.rid(&rid).await.unwrap();
    assert!(
        record
            .request_url
            .contains("/cgi-bin/freepublish/getarticle")
    );
    // As WeChat's own example: the recorded URL carries the live token...
    let token = {
        use secrecy::ExposeSecret;
        rig.api
            .token()
            .await
            .unwrap()
            .secret()
            .expose_secret()
            .to_string()
    };
    assert!(
        record.request_url.contains(&token),
        "the simulator records it as WeChat does"
    );
    // ... so it must never be printed.
    let shown = format!("{record:?}");
    assert!(
        !shown.contains(&token) && shown.contains("203.0.113.45"),
        "{shown}"
    );
    assert!(record.response_body.contains("53600"));
    assert_eq!(record.client_ip, "203.0.113.45");
    assert_eq!(
        rig.api
            .rid("not-a-rid")
            .await
            .unwrap_err()
            .api()
            .unwrap()
            .code,
        76002
    );
    rig.sim.advance(Duration::from_secs(8 * 86_400));
    rig.clock.advance(Duration::from_secs(8 * 86_400));
    assert_eq!(
        rig.api.rid(&rid).await.unwrap_err().api().unwrap().code,
        76001
    );
}

#[tokio::test]
async fn api_domain_ips_is_a_cheap_token_check() {
    let rig = rig(1).await;
    let ips = rig.api.api_domain_ips().await.unwrap();
    assert!(!ips.ip_list.is_empty());
    let sent = rig
        .sim
        .requests()
        .into_iter()
        .find(|r| r.path == "/cgi-bin/get_api_domain_ip")
        .unwrap();
    assert_eq!(sent.method, "GET");
    assert!(sent.query.contains("access_token=***"));
}

#[tokio::test]
async fn wrong_secret_and_wrong_appid_are_configuration_errors_sent_once() {
    let rig = rig(1).await;
    for (appid, secret, code) in [
        (DEMO_APPID, "00000000000000000000000000000000", 40125),
        ("wx0000000000000000", DEMO_SECRET, 40013),
    ] {
        rig.sim.clear_log();
        let api = api_with(
            client_for(&rig.sim),
            stable_source(appid, secret),
            &rig.clock,
        );
        let err = api.batchget(0, 1).await.unwrap_err();
        assert_eq!(err.api().unwrap().code, code);
        assert_eq!(err.class(), Some(&ErrorClass::Configuration));
        assert_eq!(
            rig.sim.count(STABLE),
            1,
            "configuration errors are never retried"
        );
        assert_eq!(rig.sim.count(BATCHGET), 0);
    }
}

#[tokio::test]
async fn ip_not_whitelisted_carries_the_ip_wechat_saw() {
    let rig = rig(1).await;
    rig.sim.configure(DEMO_APPID, |a| {
        a.whitelist = Some(vec!["198.51.100.1".into()])
    });
    rig.sim.set_caller_ip("203.0.113.99");
    let err = rig.api.token().await.unwrap_err();
    assert_eq!(err.api().unwrap().code, 40164);
    assert_eq!(
        err.class(),
        Some(&ErrorClass::IpNotWhitelisted {
            ip: Some("203.0.113.99".into()),
            platform: false,
        })
    );
    assert_eq!(rig.sim.count(STABLE), 1);
    rig.sim.set_caller_ip("198.51.100.1");
    rig.api.token().await.unwrap();
}

#[tokio::test]
async fn risky_ip_needs_an_admin_and_is_not_retried() {
    let rig = rig(1).await;
    rig.sim.configure(DEMO_APPID, |a| a.risky_ip = true);
    let err = rig.api.quota(DELETE_CGI_PATH).await.unwrap_err();
    assert_eq!(err.api().unwrap().code, 89503);
    assert_eq!(err.class(), Some(&ErrorClass::RiskyIp));
    assert_eq!(rig.sim.count(STABLE), 1);
}

#[tokio::test]
async fn unverified_account_gets_48001_on_every_freepublish_api() {
    let rig = rig(3).await;
    rig.sim.configure(DEMO_APPID, |a| a.verified = false);
    let some = rig.sim.messages(DEMO_APPID)[0].article_id.clone();
    let errors = [
        rig.api.batchget(0, 1).await.map(|_| ()).unwrap_err(),
        rig.api
            .get_article(&id(&some))
            .await
            .map(|_| ())
            .unwrap_err(),
        rig.api
            .delete(&id(&some), DeleteTarget::WholeMessage)
            .await
            .unwrap_err(),
    ];
    for err in errors {
        assert_eq!(err.api().unwrap().code, 48001);
        assert_eq!(err.class(), Some(&ErrorClass::Unauthorized));
    }
    assert_eq!(rig.sim.count(DELETE), 1);
    assert_eq!(rig.sim.count(BATCHGET), 1);
}

#[tokio::test]
async fn token_service_source_works_with_its_key_and_fails_clearly_without() {
    let rig = rig(2).await;
    let url = format!("{}{}", rig.sim.base_url(), wechat_sim::TOKEN_SERVICE_PATH);
    let good = TokenSource::Service {
        url: url.parse().unwrap(),
        header: Some((
            "X-Token-Key".into(),
            wechat_sim::TOKEN_SERVICE_KEY.to_string().into(),
        )),
    };
    let api = api_with(client_for(&rig.sim), good, &rig.clock);
    assert_eq!(api.batchget(0, 2).await.unwrap().item.len(), 2);

    let bad = TokenSource::Service {
        url: url.parse().unwrap(),
        header: None,
    };
    let api = api_with(client_for(&rig.sim), bad, &rig.clock);
    let err = api.batchget(0, 2).await.unwrap_err();
    assert!(
        matches!(err, Error::HttpStatus { status: 401, .. }),
        "{err:?}"
    );
}

/// A forward proxy that answers every request 502 and records each request line, so a test
/// sees exactly what reached it.
async fn recording_proxy() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match conn.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let line = String::from_utf8_lossy(&head)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            log.lock().unwrap().push(line);
            let _ = conn
                .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    (url, seen)
}

#[tokio::test]
async fn an_explicit_proxy_carries_remote_traffic_and_never_loopback_traffic() {
    let rig = rig(4).await;
    let (proxy, seen) = recording_proxy().await;
    let proxied = |base: &str| {
        wechat_mp::Client::new(&wechat_mp::ClientConfig {
            api_base: base.into(),
            proxy: Some(proxy.clone()),
            ..wechat_mp::ClientConfig::default()
        })
        .unwrap()
    };

    // A remote API base goes through the proxy (which refuses it here).
    let remote = api_with(
        proxied(wechat_mp::DEFAULT_API_BASE),
        TokenSource::Fixed {
            token: "canary-token-for-proxy-test".to_string().into(),
            expires_at: None,
        },
        &rig.clock,
    );
    assert!(remote.batchget(0, 4).await.is_err());
    let through_proxy = |seen: &std::sync::Mutex<Vec<String>>| {
        let lines = seen.lock().unwrap().clone();
        assert!(
            lines
                .iter()
                .all(|l| l == "CONNECT api.weixin.qq.com:443 HTTP/1.1"),
            "only tunnels to WeChat reach the proxy, nothing in clear, nothing for 127.0.0.1: {lines:?}"
        );
        assert!(
            !lines
                .iter()
                .any(|l| l.contains("canary") || l.contains(DEMO_SECRET)),
            "no token or secret reached the proxy: {lines:?}"
        );
        lines.len()
    };
    let remote_calls = through_proxy(&seen);
    assert!(remote_calls >= 1);

    // A loopback API base (a tunnel, the simulator) is reached directly: the AppSecret in the
    // token call and the token in every URL go over plain HTTP and must not leave the machine.
    let local = api_with(
        proxied(rig.sim.base_url()),
        stable_source(DEMO_APPID, DEMO_SECRET),
        &rig.clock,
    );
    assert_eq!(local.batchget(0, 4).await.unwrap().item.len(), 4);
    assert_eq!(rig.sim.count(STABLE), 1);
    assert_eq!(through_proxy(&seen), remote_calls);

    // So is a loopback token service behind a remote API base.
    let service = TokenSource::Service {
        url: format!("{}{}", rig.sim.base_url(), wechat_sim::TOKEN_SERVICE_PATH)
            .parse()
            .unwrap(),
        header: Some((
            "X-Token-Key".into(),
            wechat_sim::TOKEN_SERVICE_KEY.to_string().into(),
        )),
    };
    let mixed = api_with(proxied(wechat_mp::DEFAULT_API_BASE), service, &rig.clock);
    assert!(mixed.batchget(0, 4).await.is_err());
    assert_eq!(rig.sim.count(wechat_sim::TOKEN_SERVICE_PATH), 1);
    assert!(through_proxy(&seen) > remote_calls);

    let bad = wechat_mp::Client::new(&wechat_mp::ClientConfig {
        proxy: Some("socks9://proxy".into()),
        ..wechat_mp::ClientConfig::default()
    });
    assert!(matches!(bad, Err(Error::InvalidInput(_))));
}

#[tokio::test]
async fn a_quota_answer_is_kept_a_minute_and_forgotten_after_a_delete() {
    const QUOTA: &str = "/cgi-bin/openapi/quota/get";
    let rig = rig(5).await;
    let first = rig.api.quota(wechat_mp::DELETE_CGI_PATH).await.unwrap();
    let again = rig.api.quota(wechat_mp::DELETE_CGI_PATH).await.unwrap();
    assert_eq!(first, again);
    assert_eq!(
        rig.sim.count(QUOTA),
        1,
        "the second answer came from the last minute's"
    );
    // Another path is another answer.
    rig.api.quota(GETARTICLE).await.unwrap();
    assert_eq!(rig.sim.count(QUOTA), 2);

    // A delete spends quota: the next question goes to WeChat, and sees it spent.
    let target = message_with(&rig, 1);
    rig.api
        .delete(&id(&target.article_id), DeleteTarget::WholeMessage)
        .await
        .unwrap();
    let after = rig.api.quota(wechat_mp::DELETE_CGI_PATH).await.unwrap();
    assert_eq!(rig.sim.count(QUOTA), 3);
    assert_eq!(after.quota.used, first.quota.used + 1);

    // A minute later the kept answer is stale; `quota_fresh` never uses it.
    rig.clock.advance(wechat_mp::QUOTA_ANSWER_TTL);
    rig.api.quota(wechat_mp::DELETE_CGI_PATH).await.unwrap();
    assert_eq!(rig.sim.count(QUOTA), 4);
    rig.api
        .quota_fresh(wechat_mp::DELETE_CGI_PATH)
        .await
        .unwrap();
    assert_eq!(rig.sim.count(QUOTA), 5);
}
