//! The demo: the simulator embedded in the app, and the demo account on it, so anyone can try
//! the whole journey without a WeChat account. Only with the `demo` feature (the app has it).
//!
//! Invariants: one simulator per app run, started on first use; the demo account is created
//! fresh (its old index wiped) each time the demo starts; its secret is public and kept in
//! memory only; the demo runs in the optimistic world (no `Quirks`); its simulator serves the
//! WeChat paths only (no `/_sim/*` control endpoints) and only to its own loopback address.

use std::sync::Mutex;

use wechat_sim::{Sim, SimConfig};

use crate::accounts::{Account, Accounts};
use crate::error::CoreError;

/// How many published messages the demo account has.
pub const DEMO_MESSAGES: u32 = 300;

#[derive(Default)]
pub struct Demo {
    sim: Mutex<Option<Sim>>,
}

impl Demo {
    /// The running simulator's address, if the demo was started.
    pub fn base_url(&self) -> Option<String> {
        self.sim
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|s| s.base_url().to_string())
    }

    /// Starts the simulator (once) and (re)creates the demo account on it.
    pub async fn start(&self, accounts: &Accounts) -> Result<Account, CoreError> {
        let base = match self.base_url() {
            Some(base) => base,
            None => {
                // Only the WeChat paths: no fault injection, clock or log for anyone on loopback.
                let config = SimConfig {
                    control_endpoints: false,
                    ..SimConfig::demo(DEMO_MESSAGES as usize)
                };
                let sim = Sim::start(config).await.map_err(|e| {
                    CoreError::Store(format!("cannot start the demo simulator: {e}"))
                })?;
                let base = sim.base_url().to_string();
                *self.sim.lock().unwrap_or_else(|p| p.into_inner()) = Some(sim);
                base
            }
        };
        accounts.ensure_demo(&base, wechat_sim::DEMO_APPID, wechat_sim::DEMO_SECRET)
    }
}
