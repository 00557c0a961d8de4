//! The simulator on the wire, with a plain HTTP client: exact JSON shapes and WeChat's rules,
//! independent of our own client's assumptions.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use wechat_sim::{DEMO_APPID, DEMO_SECRET, Fault, Sim, SimConfig};

async fn post(sim: &Sim, path: &str, token: Option<&str>, body: Value) -> Value {
    let mut url = format!("{}{path}", sim.base_url());
    if let Some(t) = token {
        url.push_str(&format!("?access_token={t}"));
    }
    reqwest::Client::new()
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
    assert_eq!(
        again["expires_in"], 345,
        "the remaining lifetime, as in WeChat's example"
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
    let old = stable(&sim, false).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
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
    let resp = reqwest::get(format!("{}/cgi-bin/message/mass/delete", sim.base_url()))
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
    let a: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    let b: Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    let a = a["access_token"].as_str().unwrap();
    assert_ne!(Some(a), b["access_token"].as_str());
    assert_eq!(list_one(&sim, a).await["errcode"], 40001);
    assert!(sim.requests()[0].query.contains("secret=***"));
}

#[tokio::test]
async fn faults_can_be_injected_over_http_too() {
    let sim = Sim::start(SimConfig::demo(1)).await.unwrap();
    let client = reqwest::Client::new();
    client
        .post(format!("{}/_sim/fault", sim.base_url()))
        .json(&json!({"path":"/cgi-bin/freepublish/batchget","fault":{"kind":"errcode","code":45011},"times":1}))
        .send()
        .await
        .unwrap();
    let token = stable(&sim, false).await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
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
    let raw = reqwest::Client::new()
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
    let client = reqwest::Client::new();
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
