//! Shared set-up: a simulator on loopback and a client pointed at it.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use wechat_mp::{
    Api, Backoff, Client, ClientConfig, ManualClock, SecretString, TokenCache, TokenSource,
};
use wechat_sim::{DEMO_APPID, DEMO_SECRET, Sim, SimConfig};

pub struct Rig {
    pub sim: Sim,
    pub api: Api,
    pub clock: ManualClock,
}

pub fn fast_backoff() -> Backoff {
    Backoff {
        base: Duration::from_millis(5),
        max_retries: 3,
    }
}

pub fn client_for(sim: &Sim) -> Client {
    client_with_timeout(sim.base_url(), Duration::from_secs(5))
}

pub fn client_with_timeout(base: &str, timeout: Duration) -> Client {
    Client::new(&ClientConfig {
        api_base: base.to_string(),
        proxy: None,
        connect_timeout: Duration::from_secs(2),
        request_timeout: timeout,
    })
    .unwrap()
}

pub fn stable_source(appid: &str, secret: &str) -> TokenSource {
    TokenSource::Stable {
        appid: appid.into(),
        secret: SecretString::from(secret.to_string()),
    }
}

pub fn api_with(client: Client, source: TokenSource, clock: &ManualClock) -> Api {
    let cache = TokenCache::new(source, Arc::new(clock.clone()));
    Api::new(client, Arc::new(cache)).with_backoff(fast_backoff())
}

pub async fn rig_with(config: SimConfig) -> Rig {
    let sim = Sim::start(config).await.unwrap();
    let clock = ManualClock::new(SystemTime::now());
    let api = api_with(
        client_for(&sim),
        stable_source(DEMO_APPID, DEMO_SECRET),
        &clock,
    );
    Rig { sim, api, clock }
}

pub async fn rig(messages: usize) -> Rig {
    rig_with(SimConfig::demo(messages)).await
}

impl Drop for Rig {
    fn drop(&mut self) {
        // Whatever a test did, the invalidating token endpoint must never have been called.
        if !std::thread::panicking() {
            assert_eq!(
                self.sim.count("/cgi-bin/token"),
                0,
                "/cgi-bin/token was called"
            );
            assert!(
                self.sim.requests().iter().all(|r| !r.unexpected),
                "unexpected request: {:?}",
                self.sim.requests().iter().find(|r| r.unexpected)
            );
        }
    }
}

pub const DELETE: &str = "/cgi-bin/freepublish/delete";
pub const BATCHGET: &str = "/cgi-bin/freepublish/batchget";
pub const GETARTICLE: &str = "/cgi-bin/freepublish/getarticle";
pub const STABLE: &str = "/cgi-bin/stable_token";
