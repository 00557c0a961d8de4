//! Against the real Secret Service: `make test` runs these inside `dbus-run-session` with a
//! fresh, unlocked gnome-keyring (see `scripts/with-keyring.sh`).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use std::process::Command;

use retract_core::keyring::Keyring;
use secrecy::{ExposeSecret, SecretString};

fn unique_service(tag: &str) -> String {
    format!("app.retract.test.{tag}.{}", std::process::id())
}

fn require_session() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "these tests need a D-Bus session with an unlocked gnome-keyring: run them through `make test` \
         or scripts/with-keyring.sh"
    );
}

#[test]
fn secret_round_trips_through_the_real_keyring_and_absence_is_not_an_error() {
    require_session();
    let keyring = Keyring::new(unique_service("roundtrip"));
    let user = "wx5e7d1c0ffee0a1b2";
    assert!(keyring.get(user).unwrap().is_none());
    assert!(!keyring.delete(user).unwrap());
    let secret = SecretString::from("3f2a9c8e7d6b5a4f3e2d1c0b9a8f7e6d 中文".to_string());
    keyring.set(user, &secret).unwrap();
    assert_eq!(
        keyring.get(user).unwrap().unwrap().expose_secret(),
        secret.expose_secret()
    );
    // The entry is really in the Secret Service, under our service name.
    let found = Command::new("secret-tool")
        .args(["search", "--all", "service", keyring.service()])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&found.stdout).to_string()
        + &String::from_utf8_lossy(&found.stderr);
    assert!(
        listing.contains(user),
        "secret-tool did not find the entry: {listing}"
    );
    assert!(keyring.delete(user).unwrap());
    assert!(keyring.get(user).unwrap().is_none());
}

#[test]
fn builds_are_kept_apart_by_service_name() {
    require_session();
    let a = Keyring::new(unique_service("a"));
    let b = Keyring::new(unique_service("b"));
    a.set("same-user", &SecretString::from("from-a".to_string()))
        .unwrap();
    assert!(b.get("same-user").unwrap().is_none());
    a.delete("same-user").unwrap();
    assert!(
        retract_core::keyring::service_name("app.retract.desktop").ends_with(".dev"),
        "tests run a debug build"
    );
}

#[test]
fn self_test_reports_the_store_that_answered() {
    require_session();
    let report = Keyring::new(unique_service("self")).self_test();
    assert!(report.ok(), "{report:?}");
    assert!(
        report
            .store
            .as_deref()
            .unwrap_or_default()
            .contains("Secret Service"),
        "{report:?}"
    );
}

fn probe(envs: &[(&str, &str)], remove: &[&str]) -> serde_json::Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyring-probe"));
    cmd.arg(unique_service("probe"));
    for k in remove {
        cmd.env_remove(k);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(!out.status.success(), "the probe should fail here");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn no_session_bus_is_reported_as_such() {
    let report = probe(
        &[(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/retract-bus",
        )],
        &[],
    );
    assert_eq!(report["error"]["problem"], "no_session_bus", "{report}");
    assert_eq!(report["wrote"], false);
}

#[test]
fn a_locked_keyring_is_reported_as_locked_without_hanging() {
    // A private session whose gnome-keyring starts with a locked (or absent) login keyring and
    // no way to prompt: every write must fail fast as "locked".
    let data = std::env::temp_dir().join(format!("retract-locked-{}", std::process::id()));
    std::fs::create_dir_all(&data).unwrap();
    let out = Command::new("timeout")
        .args([
            "30",
            "dbus-run-session",
            "--",
            env!("CARGO_BIN_EXE_keyring-probe"),
            &unique_service("locked"),
        ])
        .env("XDG_DATA_HOME", &data)
        // Nothing of the outer session may leak in: with GNOME_KEYRING_CONTROL set, the new
        // daemon would attach to the outer (unlocked) keyring; with DISPLAY, it would prompt.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("GNOME_KEYRING_CONTROL")
        .env_remove("SSH_AUTH_SOCK")
        .output()
        .unwrap();
    // The activated gnome-keyring shares stdout and prints its own variables: take our JSON line.
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let json_line = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_default();
    let report: serde_json::Value = serde_json::from_str(json_line).unwrap_or_else(|e| {
        panic!(
            "{e}: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(report["error"]["problem"], "locked", "{report}");
    let _ = std::fs::remove_dir_all(&data);
}
