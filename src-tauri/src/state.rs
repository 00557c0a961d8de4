//! The app's managed state: built once at start-up from the environment and arguments.

use std::path::PathBuf;
use std::sync::Arc;

use retract_core::keyring::Keyring;
use wechat_sim::Sim;

use crate::commands::system::{AppInfo, DemoInfo};

pub struct AppState {
    pub data_dir: PathBuf,
    pub api_base_override: Option<String>,
    keyring: Arc<Keyring>,
    demo: Option<(Sim, u32)>,
}

impl AppState {
    pub fn new(
        data_dir: PathBuf,
        api_base_override: Option<String>,
        keyring: Keyring,
        demo: Option<(Sim, u32)>,
    ) -> Self {
        Self {
            data_dir,
            api_base_override,
            keyring: Arc::new(keyring),
            demo,
        }
    }

    pub fn keyring(&self) -> Arc<Keyring> {
        Arc::clone(&self.keyring)
    }

    pub fn info(&self) -> AppInfo {
        AppInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            data_dir: self.data_dir.display().to_string(),
            keyring_service: self.keyring.service().to_string(),
            api_base_override: self.api_base_override.clone(),
            demo: self.demo.as_ref().map(|(sim, messages)| DemoInfo {
                base_url: sim.base_url().to_string(),
                appid: wechat_sim::DEMO_APPID.to_string(),
                messages: *messages,
            }),
        }
    }
}
