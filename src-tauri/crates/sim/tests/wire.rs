//! The simulator on the wire, with a plain HTTP client: exact JSON shapes and WeChat's rules,
//! independent of our own client's assumptions.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use wechat_sim::{DEMO_APPID, DEMO_SECRET, Fault, Sim, SimConfig};

/// A plain reqwest client (reqwest is built without a default TLS provider: install ring's).
fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn post(sim: &Sim, path: &str, token: Option<&str>, body: Value) -> Value {
    let mut url = format!("{}{path}", sim.base_url());
    if let Some(t) = token {
        url.push_str(&format!("?access_token={t}"));
    }
    http()
        .post(url)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn stable(sim: &Sim, force: bool) -> Value {
    post(
        sim,
        "/cgi-bin/stable_token",
        None,
        json!({"grant_type":"client_credential","appid":DEMO_APPID,"secret":DEMO_SECRET,"force_refresh":force}),
    )
    .await
}

/// A fresh stable token's value.
async fn token_of(sim: &Sim) -> String {
    stable(sim, false).await["access_token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn list_one(sim: &Sim, token: &str) -> Value {
    post(
        sim,
        "/cgi-bin/freepublish/batchget",
        Some(token),
        json!({"offset":0,"count":1,"no_content":1}),
    )
    .await
}

#[tokio::test]
async fn stable_token_is_reused_with_remaining_lifetime_then_rotated_with_overlap() {
    let sim = Sim::start(SimConfig::demo(2)).await.unwrap();
    let first = stable(&sim, false).await;
    assert_eq!(first["expires_in"], 7200);
    assert!(
        first.get("errcode").is_none(),
        "token answers carry no errcode"
    );
    sim.advance(Duration::from_secs(6855));
    let again = stable(&sim, false).await;
    assert_eq!(again["access_token"], first["access_token"]);
    // The simulator's clock is the real one moved forward: a second may tick between the two
    // requests on a loaded machine.
    let left = again["expires_in"].as_u64().unwrap();
    assert!(
        (344..=345).contains(&left),
        "the remaining lifetime, as in WeChat's example (345): {left}"
    );
    // Inside the last 5 minutes: a new token, and the old one still works until it expires.
    sim.advance(Duration::from_secs(100));
    let rotated = stable(&sim, false).await;
    assert_ne!(rotated["access_token"], first["access_token"]);
    let old = first["access_token"].as_str().unwrap();
    assert_eq!(list_one(&sim, old).await["item_count"], 1);
    sim.advance(Duration::from_secs(300));
    assert_eq!(list_one(&sim, old).await["errcode"], 42001);
}

#[tokio::test]
async fn force_refresh_revokes_the_old_token_and_is_limited_to_20_a_day_30_s_apart() {
    let sim = Sim::start(SimConfig::demo(1)).await.unwrap();
    // At the start of a Beijing day: 20 refreshes 31 s apart take 10 minutes, which from
    // 23:50 on would count into two days.
    sim.roll_day();
    let old = token_of(&sim).await;
    let forced = stable(&sim, true).await;
    assert_ne!(forced["access_token"].as_str().unwrap(), old);
    assert_eq!(list_one(&sim, &old).await["errcode"], 40001);
    assert_eq!(
        stable(&sim, true).await["errcode"],
        45009,
        "30 s apart at least"
    );
    for _ in 0..19 {
        sim.advance(Duration::from_secs(31));
        assert!(stable(&sim, true).await.get("access_token").is_some());
    }
    sim.advance(Duration::from_secs(31));
    assert_eq!(stable(&sim, true).await["errcode"], 45009, "20 a day");
}

#[tokio::test]
async fn every_error_carries_a_rid_and_unknown_paths_are_loud() {
    let sim = Sim::start(SimConfig::demo(1)).await.unwrap();
    let missing = post(&sim, "/cgi-bin/freepublish/batchget", None, json!({})).await;
    assert_eq!(missing["errcode"], 41001);
    let msg = missing["errmsg"].as_str().unwrap();
    let rid = msg.rsplit("rid: ").next().unwrap();
    assert_eq!(rid.len(), 26, "{msg}");
    let resp = http()
        .get(format!("{}/cgi-bin/message/mass/delete", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    assert!(sim.requests().last().unwrap().unexpected);
    let bad = post(
        &sim,
        "/cgi-bin/stable_token",
        None,
        json!({"grant_type":"client_credential","appid":DEMO_APPID,"secret":"x"}),
    )
    .await;
    assert_eq!(bad["errcode"], 40125);
    assert!(
        !format!("{:?}", sim.requests()).contains(DEMO_SECRET),
        "the log masks the secret"
    );
}

#[tokio::test]
async fn the_plain_token_endpoint_revokes_the_previous_plain_token_as_wechat_does() {
    let sim = Sim::start(SimConfig::demo(1)).await.unwrap();
    let url = format!(
        "{}/cgi-bin/token?grant_type=client_credential&appid={DEMO_APPID}&secret={DEMO_SECRET}",
        sim.base_url()
    );
    let a: Value = http().get(&url).send().await.unwrap().json().await.unwrap();
    let b: Value = http().get(&url).send().await.unwrap().json().await.unwrap();
    let a = a["access_token"].as_str().unwrap();
    assert_ne!(Some(a), b["access_token"].as_str());
    assert_eq!(list_one(&sim, a).await["errcode"], 40001);
    assert!(sim.requests()[0].query.contains("secret=***"));
}

#[tokio::test]
async fn faults_can_be_injected_over_http_too() {
    let sim = Sim::start(SimConfig::demo(1)).await.unwrap();
    let client = http();
    client
        .post(format!("{}/_sim/fault", sim.base_url()))
        .json(&json!({"path":"/cgi-bin/freepublish/batchget","fault":{"kind":"errcode","code":45011},"times":1}))
        .send()
        .await
        .unwrap();
    let token = token_of(&sim).await;
    assert_eq!(list_one(&sim, &token).await["errcode"], 45011);
    assert_eq!(list_one(&sim, &token).await["item_count"], 1);
    let log: Vec<Value> = client
        .get(format!("{}/_sim/requests", sim.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        log.iter()
            .any(|r| r["path"] == "/cgi-bin/freepublish/batchget"
                && r["query"] == "access_token=***")
    );
    sim.inject("/cgi-bin/freepublish/batchget", Fault::MalformedJson, 1);
    let raw = http()
        .post(format!(
            "{}/cgi-bin/freepublish/batchget?access_token={token}",
            sim.base_url()
        ))
        .json(&json!({"offset":0,"count":1}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(serde_json::from_str::<Value>(&raw).is_err(), "{raw}");
}

#[test]
fn the_binary_prints_where_it_listens_and_the_demo_credentials() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wechat-sim"))
        .args(["--port", "0", "--articles", "7"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        first.starts_with("wechat-sim listening on http://127.0.0.1:"),
        "{first}"
    );
    assert!(
        second.contains(DEMO_APPID)
            && second.contains(DEMO_SECRET)
            && second.contains("7 published"),
        "{second}"
    );
    let bad = Command::new(env!("CARGO_BIN_EXE_wechat-sim"))
        .args(["--articles", "many"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("takes a number"));
}

#[tokio::test]
async fn accounts_can_be_configured_over_http_for_out_of_process_tests() {
    let sim = Sim::start(SimConfig::demo(1)).await.unwrap();
    let client = http();
    let status = client
        .post(format!("{}/_sim/configure", sim.base_url()))
        .json(&json!({"appid": DEMO_APPID, "whitelist": ["198.51.100.1"], "caller_ip": "203.0.113.77"}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    let refused = stable(&sim, false).await;
    assert_eq!(refused["errcode"], 40164);
    assert!(refused["errmsg"].as_str().unwrap().contains("203.0.113.77"));
    client
        .post(format!("{}/_sim/configure", sim.base_url()))
        .json(&json!({"appid": DEMO_APPID, "whitelist": null}))
        .send()
        .await
        .unwrap();
    assert!(stable(&sim, false).await.get("access_token").is_some());
    let unknown = client
        .post(format!("{}/_sim/configure", sim.base_url()))
        .json(&json!({"appid": "wx0000000000000000"}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(unknown, 404);
}

/// Each pessimistic switch, on the wire: what it makes WeChat answer.
#[tokio::test]
async fn quirks_turn_each_undocumented_behaviour_the_bad_way() {
    use wechat_sim::Quirks;
    let sim = Sim::start(SimConfig::demo(30)).await.unwrap();
    let token = token_of(&sim).await;
    let t = Some(token.as_str());
    let m = sim
        .messages(DEMO_APPID)
        .into_iter()
        .find(|m| m.items.len() >= 4)
        .unwrap();
    let getarticle = json!({"article_id": m.article_id});
    // Compaction: item 1 goes; getarticle lists the rest from position 1, and index 1 of a
    // delete now means the old item 2.
    sim.set_quirks(Quirks {
        compact_positions: true,
        ..Quirks::default()
    });
    let del = |index: u32| json!({"article_id": m.article_id, "index": index});
    assert_eq!(
        post(&sim, "/cgi-bin/freepublish/delete", t, del(1)).await["errcode"],
        0
    );
    let shown = post(
        &sim,
        "/cgi-bin/freepublish/getarticle",
        t,
        getarticle.clone(),
    )
    .await;
    assert_eq!(
        shown["news_item"].as_array().unwrap().len(),
        m.items.len() - 1
    );
    assert_eq!(shown["news_item"][0]["title"], m.items[1].title.as_str());
    assert_eq!(
        post(&sim, "/cgi-bin/freepublish/delete", t, del(1)).await["errcode"],
        0
    );
    let truth = sim.message(DEMO_APPID, &m.article_id).unwrap();
    assert!(truth.items[0].is_deleted && truth.items[1].is_deleted && !truth.items[2].is_deleted);

    // Lag: a delete shows only after lag_secs.
    sim.set_quirks(Quirks {
        lag_secs: 20,
        ..Quirks::default()
    });
    assert_eq!(
        post(&sim, "/cgi-bin/freepublish/delete", t, del(3)).await["errcode"],
        0
    );
    assert_eq!(
        post(
            &sim,
            "/cgi-bin/freepublish/getarticle",
            t,
            getarticle.clone()
        )
        .await["news_item"][2]["is_deleted"],
        false,
        "not shown yet"
    );
    sim.advance(Duration::from_secs(21));
    assert_eq!(
        post(
            &sim,
            "/cgi-bin/freepublish/getarticle",
            t,
            getarticle.clone()
        )
        .await["news_item"][2]["is_deleted"],
        true
    );

    // A second delete of the same item answers an error; the repeat is recorded.
    sim.set_quirks(Quirks {
        second_delete_errcode: Some(-1),
        ..Quirks::default()
    });
    assert_eq!(
        post(&sim, "/cgi-bin/freepublish/delete", t, del(3)).await["errcode"],
        -1
    );
    assert_eq!(
        sim.repeated_deletes(DEMO_APPID),
        [(m.article_id.clone(), 3)]
    );

    // 53600 for a fully deleted message; 76021 from quota/get; oldest first.
    sim.set_quirks(Quirks {
        deleted_message_53600: true,
        quota_get_unknown: true,
        oldest_first: true,
        ..Quirks::default()
    });
    sim.edit_message(DEMO_APPID, &m.article_id, |msg| {
        msg.items.iter_mut().for_each(|i| i.is_deleted = true)
    });
    assert_eq!(
        post(
            &sim,
            "/cgi-bin/freepublish/getarticle",
            t,
            getarticle.clone()
        )
        .await["errcode"],
        53600
    );
    let quota = post(
        &sim,
        "/cgi-bin/openapi/quota/get",
        t,
        json!({"cgi_path": "/cgi-bin/freepublish/delete"}),
    )
    .await;
    assert_eq!(quota["errcode"], 76021);
    let page = post(
        &sim,
        "/cgi-bin/freepublish/batchget",
        t,
        json!({"offset": 0, "count": 20, "no_content": 1}),
    )
    .await;
    let times: Vec<i64> = page["item"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["update_time"].as_i64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "oldest first: {times:?}"
    );

    // The whitelist on business calls: 40164 with a stable token.
    sim.set_quirks(Quirks {
        whitelist_on_business_calls: true,
        ..Quirks::default()
    });
    sim.configure(DEMO_APPID, |a| {
        a.whitelist = Some(vec!["198.51.100.7".into()])
    });
    let refused = list_one(&sim, &token).await;
    assert_eq!(refused["errcode"], 40164);
    assert!(refused["errmsg"].as_str().unwrap().contains("203.0.113.45"));

    // A quota day that starts at 05:00 Beijing time, in a world that never knew another
    // (the calls above were counted in midnight days: between 00:00 and 05:00 Beijing the
    // next 05:00 day is the midnight day they were counted in).
    let sim = Sim::start(SimConfig::demo(3)).await.unwrap();
    sim.set_quirks(Quirks {
        quota_reset_hour: 5,
        ..Quirks::default()
    });
    let token = token_of(&sim).await;
    sim.set_daily_limit(DEMO_APPID, "/cgi-bin/freepublish/batchget", 1);
    let _ = list_one(&sim, &token).await;
    assert_eq!(list_one(&sim, &token).await["errcode"], 45009);
    sim.roll_day();
    let fresh = token_of(&sim).await;
    let answer = list_one(&sim, &fresh).await;
    assert!(answer.get("errcode").is_none(), "{answer}");
}

/// A relay in the middle: any status and body, with or without the call reaching WeChat.
#[tokio::test]
async fn a_relay_answer_replaces_wechats_and_may_or_may_not_apply() {
    let sim = Sim::start(SimConfig::demo(3)).await.unwrap();
    let token = token_of(&sim).await;
    let ids: Vec<String> = sim
        .messages(DEMO_APPID)
        .iter()
        .map(|m| m.article_id.clone())
        .collect();
    for (id, applied) in [(&ids[0], false), (&ids[1], true)] {
        sim.inject(
            "/cgi-bin/freepublish/delete",
            Fault::Answer {
                status: 200,
                body: "{}".into(),
                applied,
            },
            1,
        );
        let answer = post(
            &sim,
            "/cgi-bin/freepublish/delete",
            Some(&token),
            json!({"article_id": id}),
        )
        .await;
        assert_eq!(answer, json!({}));
        let m = sim.message(DEMO_APPID, id).unwrap();
        assert_eq!(m.items.iter().all(|i| i.is_deleted), applied);
    }
}

/// The app's embedded demo: WeChat paths only, and only to its own `Host`.
#[tokio::test]
async fn without_control_endpoints_and_for_a_foreign_host_nothing_is_served() {
    let config = SimConfig {
        control_endpoints: false,
        ..SimConfig::demo(2)
    };
    let sim = Sim::start(config).await.unwrap();
    let client = http();
    for path in [
        "/_sim/requests",
        "/_sim/fault",
        "/_sim/configure",
        "/_sim/advance",
    ] {
        let status = client
            .post(format!("{}{path}", sim.base_url()))
            .body("{}")
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), 404, "{path}");
    }
    assert!(
        stable(&sim, false).await["access_token"].is_string(),
        "WeChat paths work"
    );
    let rebound = client
        .post(format!("{}/cgi-bin/stable_token", sim.base_url()))
        .header(reqwest::header::HOST, "rebound.example")
        .body("{}")
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(rebound.as_u16(), 421);
    // The test simulator keeps its control endpoints.
    let test_sim = Sim::start(SimConfig::demo(1)).await.unwrap();
    let log = client
        .get(format!("{}/_sim/requests", test_sim.base_url()))
        .send()
        .await
        .unwrap();
    assert!(log.status().is_success());
}

#[tokio::test]
async fn a_listing_names_each_cover_and_the_image_host_serves_it_unless_covers_are_broken() {
    let sim = Sim::start(SimConfig::demo(2)).await.unwrap();
    let token = token_of(&sim).await;
    let listed = list_one(&sim, &token).await;
    let thumb = listed["item"][0]["content"]["news_item"][0]["thumb_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        thumb.starts_with(&format!("{}/mmbiz/cover_", sim.base_url())) && thumb.ends_with(".png"),
        "{thumb}"
    );
    let answer = http().get(&thumb).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["content-type"], "image/png");
    let bytes = answer.bytes().await.unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // Covers are logged apart from the API calls.
    assert_eq!(sim.cover_requests().len(), 1);
    assert!(
        sim.requests()
            .iter()
            .all(|r| !r.path.starts_with("/mmbiz/"))
    );
    // Not a cover of ours, and every cover under the quirk: 404.
    let other = format!("{}/mmbiz/passwd.png", sim.base_url());
    assert_eq!(http().get(&other).send().await.unwrap().status(), 404);
    sim.set_quirks(wechat_sim::Quirks {
        broken_covers: true,
        ..Default::default()
    });
    assert_eq!(http().get(&thumb).send().await.unwrap().status(), 404);
}
