//! `keyring-probe [SERVICE]`: runs the keyring self-test and prints its report as JSON.
//! For diagnosing a user's machine, and for tests that need a fresh process (a different
//! D-Bus environment) to prove how each keyring failure is reported.

fn main() -> std::process::ExitCode {
    let service = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "app.retract.keyring-probe".to_string());
    let report = retract_core::keyring::Keyring::new(service).self_test();
    match serde_json::to_string(&report) {
        Ok(json) => println!("{json}"),
        Err(e) => eprintln!("cannot print the report: {e}"),
    }
    if report.ok() {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}
