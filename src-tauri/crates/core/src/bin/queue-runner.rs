//! `queue-runner DB API_BASE ACCOUNT_ID`: runs one account's deletion queue with exactly the
//! app's code path (`retract_core::queue::run`: reconcile, then the confirmed plans), then
//! prints a JSON summary. The secret comes from `RETRACT_RUNNER_SECRET` and stays in memory.
//!
//! The kill-loop test starts it against the simulator and kills it with SIGKILL at random
//! moments; it is also a way to drain a queue without a window.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use retract_core::accounts::Accounts;
use retract_core::execute::ExecOptions;
use retract_core::keyring::Keyring;
use retract_core::queue;
use retract_core::store::Store;
use wechat_mp::SystemClock;

async fn drain(db: &str, base: &str, account: i64) -> Result<queue::QueueRun, String> {
    let store = Arc::new(Store::open(std::path::Path::new(db)).map_err(|e| e.to_string())?);
    // The keyring is never reached: the secret is given for this session before any lookup.
    let keyring = Arc::new(Keyring::new("app.retract.queue-runner"));
    let accounts = Accounts::new(
        Arc::clone(&store),
        keyring,
        Arc::new(SystemClock),
        Some(base.to_string()),
    );
    let secret = std::env::var("RETRACT_RUNNER_SECRET")
        .map_err(|_| "RETRACT_RUNNER_SECRET is not set".to_string())?;
    accounts
        .provide_session_secret(account, &secret)
        .map_err(|e| e.to_string())?;
    let api = accounts.api(account).map_err(|e| e.to_string())?;
    let options = ExecOptions {
        minute_wait: Duration::from_secs(1),
        ..ExecOptions::default()
    };
    queue::run(&api, &store, account, &SystemClock, &options, |_, _| {})
        .await
        .map_err(|e| e.to_string())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [db, base, account] = args.as_slice() else {
        eprintln!("usage: queue-runner DB API_BASE ACCOUNT_ID");
        return ExitCode::from(2);
    };
    let Ok(account) = account.parse::<i64>() else {
        eprintln!("queue-runner: ACCOUNT_ID must be a number, not {account:?}");
        return ExitCode::from(2);
    };
    match drain(db, base, account).await {
        Ok(run) => {
            let done: usize = run.reports.iter().map(|r| r.results.len()).sum();
            println!(
                "{}",
                serde_json::json!({"findings": run.findings.len(), "results": done, "paused_until": run.paused_until})
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("queue-runner: {e}");
            ExitCode::FAILURE
        }
    }
}
