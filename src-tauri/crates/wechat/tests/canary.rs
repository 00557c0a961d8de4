//! Canaries: a recognisable AppSecret and token are pushed through every failure path; neither
//! may appear in any error's `Display` or `Debug`, nor in the client's own `Debug` output.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use std::time::{Duration, SystemTime};

use common::*;
use secrecy::ExposeSecret;
use wechat_mp::{Api, ArticleId, DeleteTarget, Error, ManualClock, SecretString, TokenSource};
use wechat_sim::{DEMO_APPID, Fault};

const CANARY_SECRET: &str = "c0ffeec0ffeec0ffeec0ffeec0ffee99";
const CANARY_TOKEN: &str = "CANARYTOKEN_3k9s8d7f6g5h4j3k2l1";

fn assert_clean(err: &Error, secrets: &[&str]) {
    let shown = format!("{err} | {err:?}");
    for secret in secrets {
        assert!(!shown.contains(secret), "secret leaked into error: {shown}");
    }
}

fn fixed(clock: &ManualClock) -> (TokenSource, ManualClock) {
    let source = TokenSource::Fixed {
        token: SecretString::from(CANARY_TOKEN.to_string()),
        expires_at: None,
    };
    (source, clock.clone())
}

fn any_id() -> ArticleId {
    ArticleId::parse("AbCdEf").unwrap()
}

#[tokio::test]
async fn dns_failure_refused_connection_and_tls_failure_do_not_show_the_token() {
    let clock = ManualClock::new(SystemTime::now());
    let closed_port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let sim = wechat_sim::Sim::start(wechat_sim::SimConfig::demo(1))
        .await
        .unwrap();
    let tls_to_plain = sim.base_url().replace("http://", "https://");
    for base in [
        "https://retract-canary.invalid".to_string(),
        format!("http://127.0.0.1:{closed_port}"),
        tls_to_plain,
    ] {
        let (source, clock) = fixed(&clock);
        let api = api_with(
            client_with_timeout(&base, Duration::from_secs(5)),
            source,
            &clock,
        );
        let err = api.batchget(0, 1).await.unwrap_err();
        assert!(matches!(err, Error::Transport { .. }), "{base}: {err:?}");
        assert_clean(&err, &[CANARY_TOKEN]);
        let err = api
            .delete(&any_id(), DeleteTarget::WholeMessage)
            .await
            .unwrap_err();
        assert_clean(&err, &[CANARY_TOKEN]);
    }
}

#[tokio::test]
async fn timeouts_gateway_pages_garbage_and_api_errors_do_not_show_secrets() {
    let rig = rig(3).await;
    let token = rig.api.token().await.unwrap();
    let real_token = token.secret().expose_secret().to_string();
    let clock = ManualClock::new(SystemTime::now());
    let api = api_with(
        client_with_timeout(rig.sim.base_url(), Duration::from_millis(300)),
        TokenSource::Fixed {
            token: token.secret().clone(),
            expires_at: None,
        },
        &clock,
    );
    for fault in [
        Fault::Delay { millis: 1200 },
        Fault::LoseResponse,
        Fault::BadGateway,
        Fault::MalformedJson,
        Fault::Busy,
        Fault::Errcode { code: 45009 },
    ] {
        rig.sim.inject(DELETE, fault.clone(), 1);
        let err = api
            .delete(&any_id(), DeleteTarget::WholeMessage)
            .await
            .unwrap_err();
        assert_clean(&err, &[&real_token]);
        rig.sim.inject(BATCHGET, fault.clone(), 4);
        let err = api.batchget(0, 1).await.unwrap_err();
        assert_clean(&err, &[&real_token]);
    }
}

#[tokio::test]
async fn wrong_secret_and_rejected_tokens_do_not_show_the_secret() {
    let rig = rig(1).await;
    let api = api_with(
        client_for(&rig.sim),
        stable_source(DEMO_APPID, CANARY_SECRET),
        &rig.clock,
    );
    let err = api.batchget(0, 1).await.unwrap_err();
    assert_eq!(err.api().unwrap().code, 40125);
    assert_clean(&err, &[CANARY_SECRET]);
    let shown = format!("{api:?}");
    assert!(!shown.contains(CANARY_SECRET), "{shown}");

    let (source, clock) = fixed(&rig.clock);
    let api = api_with(client_for(&rig.sim), source, &clock);
    let err = api.batchget(0, 1).await.unwrap_err();
    assert_clean(&err, &[CANARY_TOKEN]);
    assert!(!format!("{api:?}").contains(CANARY_TOKEN));
    // The simulator's own log never holds them either.
    let log = format!("{:?}", rig.sim.requests());
    assert!(
        !log.contains(CANARY_SECRET) && !log.contains(CANARY_TOKEN),
        "{log}"
    );
}

/// A token service on loopback that answers one request with `status` and `body`, then closes.
async fn serve_once(status: u16, body: String) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let reply = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        if let Ok((mut sock, _)) = listener.accept().await {
            let mut buf = [0u8; 2048];
            let _ = sock.read(&mut buf).await;
            let _ = sock.write_all(reply.as_bytes()).await;
        }
    });
    addr
}

/// An API whose token comes from the service at `addr`.
fn api_of_service(addr: std::net::SocketAddr, clock: &ManualClock) -> Api {
    let source = TokenSource::Service {
        url: format!("http://{addr}/token").parse().unwrap(),
        header: None,
    };
    api_with(
        client_with_timeout(&format!("http://{addr}"), Duration::from_secs(5)),
        source,
        clock,
    )
}

#[tokio::test]
async fn a_token_service_answer_of_the_wrong_shape_does_not_echo_the_token() {
    // A token service that answers {"access_token": "...", "expires_in": {...}} (a bad shape):
    // the decode error keeps an excerpt of the body, with the token masked.
    let addr = serve_once(
        200,
        format!(
            r#"{{"access_token":"{CANARY_TOKEN}","expires_in":7200,"access_token_list":5, "oops": }}"#
        ),
    )
    .await;
    let clock = ManualClock::new(SystemTime::now());
    let api = api_of_service(addr, &clock);
    let err = api.token().await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err:?}");
    assert_clean(&err, &[CANARY_TOKEN]);
}

/// A token service (or a relay) that answers in a shape of its own — `accessToken`, `token`,
/// an `Authorization` line, HTML, a gateway error — with a live token in it: the error the
/// window and the log get says what was wrong, never what was written, and the excerpt kept
/// for a debug line has the token masked, whatever its key.
#[tokio::test]
async fn answers_of_any_shape_never_carry_a_token_into_an_error() {
    let bodies = [
        (
            200,
            format!(r#"{{"accessToken":"{CANARY_TOKEN}","expiresIn":"soon"}}"#),
        ),
        (200, format!(r#"{{"data":{{"token":"{CANARY_TOKEN}"}}}}"#)),
        (200, format!("Authorization: Bearer {CANARY_TOKEN}")),
        (
            200,
            format!("<html><body>token={CANARY_TOKEN}</body></html>"),
        ),
        (
            502,
            format!("<html>bad gateway, last token {CANARY_TOKEN}</html>"),
        ),
    ];
    for (status, body) in bodies {
        let addr = serve_once(status, body).await;
        let clock = ManualClock::new(SystemTime::now());
        let api = api_of_service(addr, &clock);
        let err = api.token().await.unwrap_err();
        assert!(
            matches!(err, Error::Decode { .. } | Error::HttpStatus { .. }),
            "{err:?}"
        );
        assert_clean(&err, &[CANARY_TOKEN, &CANARY_TOKEN[..20]]);
        // The message holds no part of the body at all.
        let shown = err.to_string();
        assert!(
            !shown.contains("html") && !shown.contains("Bearer") && !shown.contains("data"),
            "{shown}"
        );
    }
}
