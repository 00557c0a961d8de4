//! `wechat-sim` as a program: `cargo run -p wechat-sim -- --port 8787 --articles 300`.

use std::process::ExitCode;

use wechat_sim::{
    DEMO_APPID, DEMO_SECRET, Quirks, Sim, SimConfig, TOKEN_SERVICE_KEY, TOKEN_SERVICE_PATH,
};

const USAGE: &str = "usage: wechat-sim [--port PORT] [--articles N] [--latency-ms MS] [--caller-ip IP] [--quirks JSON]
  --quirks turns WeChat's undocumented behaviour the bad way, e.g.
           '{\"compact_positions\":true,\"lag_secs\":20,\"deleted_message_53600\":true}'";

fn parse_args() -> Result<(SimConfig, u64, Quirks), String> {
    let mut config = SimConfig::demo(300);
    let mut latency = 0;
    let mut quirks = Quirks::default();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_string());
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |_| format!("{flag} takes a number, not {value:?}\n{USAGE}");
        match flag.as_str() {
            "--port" => config.port = value.parse().map_err(bad)?,
            "--articles" => config.accounts[0].messages = value.parse().map_err(bad)?,
            "--latency-ms" => latency = value.parse().map_err(bad)?,
            "--caller-ip" => config.caller_ip = value,
            "--quirks" => {
                quirks = serde_json::from_str(&value)
                    .map_err(|e| format!("--quirks is not a valid world ({e})\n{USAGE}"))?;
            }
            _ => return Err(format!("unknown option {flag}\n{USAGE}")),
        }
    }
    Ok((config, latency, quirks))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (config, latency, quirks) = match parse_args() {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let messages = config.accounts[0].messages;
    let sim = match Sim::start(config).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("wechat-sim: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    if latency > 0 {
        sim.set_latency(None, std::time::Duration::from_millis(latency));
    }
    if quirks != Quirks::default() {
        println!(
            "world: {}",
            serde_json::to_string(&quirks).unwrap_or_default()
        );
    }
    sim.set_quirks(quirks);
    println!("wechat-sim listening on {}", sim.base_url());
    println!(
        "demo account: AppID {DEMO_APPID}  AppSecret {DEMO_SECRET}  ({messages} published messages)"
    );
    println!(
        "token service: {}{TOKEN_SERVICE_PATH} with header X-Token-Key: {TOKEN_SERVICE_KEY}",
        sim.base_url()
    );
    println!("request log: GET {}/_sim/requests", sim.base_url());
    if tokio::signal::ctrl_c().await.is_err() {
        eprintln!("wechat-sim: cannot wait for Ctrl-C; stopping");
    }
    ExitCode::SUCCESS
}
