//! `queue-runner DB API_BASE ACCOUNT_ID`: runs one account's deletion queue with exactly the
//! app's code path (`retract_core::queue::run`: reconcile, then the confirmed plans), then
//! prints a JSON summary. Exit status 3: the run stopped early (the reason is on stderr). The secret comes from `RETRACT_RUNNER_SECRET` and stays in memory; the plans' seal key
//! from `RETRACT_RUNNER_SEAL` (without it, plans confirmed by another process are refused).
//!
//! The kill-loop test starts it against the simulator and kills it with SIGKILL at random
//! moments; it is also a way to drain a queue without a window. `RETRACT_SETTLE_AFTER_SECS`
//! (a test hook) shortens the wait before a possibly-sent delete is settled with `getarticle`
//! (30 s by default), for worlds where WeChat shows deletes at once;
//! `RETRACT_CLOCK_OFFSET_SECS` moves the runner's clock (a test hook: the safety property test
//! keeps it in step with the simulator's moved clock).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use retract_core::accounts::Accounts;
use retract_core::execute::ExecOptions;
use retract_core::keyring::Keyring;
use retract_core::queue;
use retract_core::store::Store;

async fn drain(
    db: &str,
    base: &str,
    account: retract_core::ids::AccountId,
) -> Result<queue::QueueRun, String> {
    let store = Arc::new(Store::open(std::path::Path::new(db)).map_err(|e| e.to_string())?);
    // The plans' seal key of the process that confirmed them (the app keeps it in the keyring).
    if let Some(key) = std::env::var("RETRACT_RUNNER_SEAL")
        .ok()
        .and_then(|k| retract_core::seal::SealKey::from_hex(&k))
    {
        store.set_seal_key(key);
    }
    // The keyring is never reached: the secret is given for this session before any lookup.
    let keyring = Arc::new(Keyring::new("app.retract.queue-runner"));
    let accounts = Accounts::new(
        Arc::clone(&store),
        keyring,
        Arc::new(wechat_mp::SystemClock),
        Some(base.to_string()),
    );
    let secret = std::env::var("RETRACT_RUNNER_SECRET")
        .map_err(|_| "RETRACT_RUNNER_SECRET is not set".to_string())?;
    accounts
        .provide_session_secret(account, &secret)
        .map_err(|e| e.to_string())?;
    let api = accounts.api(account).map_err(|e| e.to_string())?;
    let mut options = ExecOptions {
        minute_wait: Duration::from_secs(1),
        ..ExecOptions::default()
    };
    if let Some(offset) = std::env::var("RETRACT_CLOCK_OFFSET_SECS")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
    {
        options.clock = Arc::new(OffsetClock(offset));
    }
    if let Some(secs) = std::env::var("RETRACT_SETTLE_AFTER_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        options.settle_after = Duration::from_secs(secs);
    }
    if let Some(secs) = std::env::var("RETRACT_SECOND_CHECK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        options.second_check = Some(Duration::from_secs(secs));
    }
    queue::run(&api, &store, account, &options, |_, _| {})
        .await
        .map_err(|e| e.to_string())
}

/// The system clock moved by a number of seconds.
#[derive(Debug)]
struct OffsetClock(i64);

impl wechat_mp::Clock for OffsetClock {
    fn now(&self) -> std::time::SystemTime {
        let now = std::time::SystemTime::now();
        let by = Duration::from_secs(self.0.unsigned_abs());
        if self.0 >= 0 { now + by } else { now - by }
    }
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
    match drain(db, base, retract_core::ids::AccountId(account)).await {
        Ok(run) => {
            let done: usize = run.reports.iter().map(|r| r.results.len()).sum();
            let stop = run.reports.iter().find_map(|r| r.stop.as_ref());
            println!(
                "{}",
                serde_json::json!({"findings": run.findings.len(), "results": done, "paused_until": run.paused_until, "stopped": stop.map(ToString::to_string)})
            );
            match stop {
                // A pause for quota is the queue working as planned.
                Some(_) if run.paused_until.is_some() => ExitCode::SUCCESS,
                Some(problem) => {
                    eprintln!("queue-runner: the run stopped: {problem}");
                    ExitCode::from(3)
                }
                None => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            eprintln!("queue-runner: {e}");
            ExitCode::FAILURE
        }
    }
}
