//! What stays the owner's: the database and every export are readable by the owner only, and an
//! exported article page runs no script when opened.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use common::*;
use retract_core::accounts::SecretStorage;
use retract_core::archive;
use retract_core::store::Store;
use wechat_sim::{DEMO_APPID, DEMO_SECRET};

#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn the_database_its_journal_files_and_its_folder_are_the_owners_only() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("data");
    let path = folder.join("retract.db");
    let store = Store::open(&path).unwrap();
    store
        .audit(
            None,
            retract_core::audit::AuditAction::Sync,
            &serde_json::json!({}),
        )
        .unwrap();
    assert_eq!(mode(&folder), 0o700);
    for file in ["retract.db", "retract.db-wal", "retract.db-shm"] {
        assert_eq!(mode(&folder.join(file)), 0o600, "{file}");
    }
    drop(store);
    // A file an older build left readable by others is tightened on the next open.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    drop(Store::open(&path).unwrap());
    assert_eq!(mode(&path), 0o600);
}

#[tokio::test]
async fn exports_are_private_and_an_exported_page_cannot_run_script() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let target = oldest_messages(&w, 1);
    w.sim
        .edit_message(DEMO_APPID, &w.sim.messages(DEMO_APPID)[0].article_id, |m| {
            m.items[0].content = "<p>正文</p><script>alert(document.cookie)</script>".into()
        });
    confirmed(&w, &api, account, &target).await;
    let options = retract_core::execute::ExecOptions::default();
    retract_core::queue::run(&api, w.store(), account, &options, |_, _| {})
        .await
        .unwrap();
    let folder = w.dir.path().join("exports").join("archive-1");
    assert_eq!(archive::export(w.store(), account, &folder).unwrap(), 1);
    let pages: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    assert!(!pages.is_empty());
    for page in &pages {
        let html = std::fs::read_to_string(page).unwrap();
        let policy = html.find("Content-Security-Policy").expect("a CSP meta");
        assert!(html.contains(archive::EXPORT_CSP));
        // Nothing from the network, images included, and no referrer if a link is followed.
        assert!(!archive::EXPORT_CSP.contains("https:") && !archive::EXPORT_CSP.contains("http:"));
        assert!(html.contains(r#"<meta name="referrer" content="no-referrer">"#));
        assert!(
            html.contains("default-src 'none'"),
            "no script source is allowed"
        );
        if let Some(script) = html.find("<script>") {
            assert!(
                policy < script,
                "the policy comes before the article's HTML"
            );
        }
    }
    #[cfg(unix)]
    {
        assert_eq!(mode(&folder), 0o700);
        for entry in std::fs::read_dir(&folder).unwrap() {
            assert_eq!(mode(&entry.unwrap().path()), 0o600);
        }
        let csv = w
            .dir
            .path()
            .join("exports")
            .join("audit-1")
            .join("audit.csv");
        retract_core::audit::export_csv(w.store(), &Default::default(), &csv).unwrap();
        assert_eq!(mode(&csv), 0o600);
        assert_eq!(mode(csv.parent().unwrap()), 0o700);
    }
}

#[tokio::test]
async fn a_stale_plan_cannot_be_confirmed_and_a_wrong_phrase_is_not_echoed() {
    let w = world(10).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let sel = oldest_messages(&w, 1);
    let p = retract_core::plan::create(&api, w.store(), account, &sel)
        .await
        .unwrap();
    let wrong = retract_core::plan::confirm(w.store(), p.id, &p.nonce, "999")
        .unwrap_err()
        .to_string();
    assert!(
        !wrong.contains(&format!(" {} ", p.phrase)) && !wrong.ends_with(&p.phrase),
        "{wrong}"
    );
    // Sixteen minutes later the review is stale: refused, and the plan is done with.
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    conn.execute(
        "UPDATE plans SET created_at = created_at - 16 * 60 WHERE id = ?1",
        [p.id],
    )
    .unwrap();
    let stale = retract_core::plan::confirm(w.store(), p.id, &p.nonce, &p.phrase)
        .unwrap_err()
        .to_string();
    assert!(stale.contains("15 minutes"), "{stale}");
    assert_eq!(
        w.count("SELECT count(*) FROM plans WHERE status = 'cancelled'"),
        1
    );
    assert_eq!(w.sim.count(DELETE), 0);
}

/// The same database and keyring in a new process (no cached clients).
fn restarted(w: &World) -> retract_core::accounts::Accounts {
    retract_core::accounts::Accounts::new(
        std::sync::Arc::new(Store::open(&w.db_path()).unwrap()),
        std::sync::Arc::clone(&w.keyring),
        std::sync::Arc::new(wechat_mp::SystemClock),
        Some(w.sim.base_url().into()),
    )
}

#[tokio::test]
async fn a_secret_is_sent_only_where_it_was_saved_for() {
    require_keyring_session();
    let w = world(2).await;
    let account = w
        .accounts
        .save(&draft(DEMO_SECRET), SecretStorage::Keyring)
        .unwrap();
    restarted(&w)
        .api(account.id)
        .unwrap()
        .token()
        .await
        .unwrap();
    let tokens_before = w.sim.count("/cgi-bin/stable_token");

    // A restored or swapped database names another relay, proxy or token service.
    for tamper in [
        "UPDATE accounts SET api_base = 'https://relay.attacker.example'",
        "UPDATE accounts SET api_base = NULL, proxy = 'http://proxy.attacker.example:3128'",
    ] {
        let conn = rusqlite::Connection::open(w.db_path()).unwrap();
        conn.execute(tamper, []).unwrap();
        drop(conn);
        let again = restarted(&w);
        let Err(err) = again.api(account.id) else {
            panic!("{tamper}: a client was built for the secret");
        };
        assert!(
            matches!(err, retract_core::CoreError::SecretBoundElsewhere),
            "{tamper}: {err:?}"
        );
        assert!(err.to_string().contains("enter the secret again"), "{err}");
        let stored = again.get(account.id).unwrap();
        assert!(matches!(
            again.secret_storage(&stored),
            Err(retract_core::CoreError::SecretBoundElsewhere)
        ));
    }
    assert_eq!(
        w.sim.count("/cgi-bin/stable_token"),
        tokens_before,
        "nothing was sent"
    );

    // Back as saved: the secret is usable again.
    let conn = rusqlite::Connection::open(w.db_path()).unwrap();
    conn.execute("UPDATE accounts SET api_base = NULL, proxy = NULL", [])
        .unwrap();
    drop(conn);
    let again = restarted(&w);
    again.api(account.id).unwrap().token().await.unwrap();

    // A secret in the keyring without its destination (saved by hand, or by an older build)
    // is not sent either; entering it again binds it to the current destination.
    w.keyring
        .delete(&format!("{}:destination", account.secret_entry))
        .unwrap();
    let again = restarted(&w);
    assert!(matches!(
        again.api(account.id),
        Err(retract_core::CoreError::SecretBoundElsewhere)
    ));
    again
        .provide_session_secret(account.id, DEMO_SECRET)
        .unwrap();
    again.api(account.id).unwrap().token().await.unwrap();

    // Removal takes the binding with the secret.
    again.remove(account.id).unwrap();
    assert!(
        w.keyring
            .get(&format!("{}:destination", account.secret_entry))
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_token_service_credential_goes_only_to_its_own_service() {
    require_keyring_session();
    let w = world(2).await;
    let url = format!("{}{}", w.sim.base_url(), wechat_sim::TOKEN_SERVICE_PATH);
    let mut service = draft("");
    service.source = retract_core::accounts::DraftSource::Service {
        url: url.clone(),
        header_name: Some("X-Token-Key".into()),
        header_value: Some(wechat_sim::TOKEN_SERVICE_KEY.into()),
    };
    // The simulator's token service is on this computer: the operator says so.
    service.local_relay = true;
    let account = w.accounts.save(&service, SecretStorage::Keyring).unwrap();
    restarted(&w)
        .api(account.id)
        .unwrap()
        .token()
        .await
        .unwrap();
    let set = |service_url: &str, header: &str| {
        rusqlite::Connection::open(w.db_path())
            .unwrap()
            .execute(
                "UPDATE accounts SET service_url = ?1, service_header = ?2",
                [service_url, header],
            )
            .unwrap();
    };
    for (service_url, header) in [
        ("https://tokens.attacker.example/t", "X-Token-Key"),
        (url.as_str(), "X-Other"),
    ] {
        set(service_url, header);
        assert!(
            matches!(
                restarted(&w).api(account.id),
                Err(retract_core::CoreError::SecretBoundElsewhere)
            ),
            "{service_url} {header}"
        );
    }
    set(&url, "X-Token-Key");
    restarted(&w)
        .api(account.id)
        .unwrap()
        .token()
        .await
        .unwrap();
    assert_eq!(w.sim.count(wechat_sim::TOKEN_SERVICE_PATH), 2);
}

/// A database file with code of its own — a trigger that confirms again every plan the
/// operator cancels, a view, or one of Retract's own triggers with another body — is not used:
/// it could act by itself. The same file without it opens.
#[test]
fn a_database_carrying_triggers_or_views_of_its_own_is_not_used() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("retract.db");
    drop(Store::open(&path).unwrap());
    for (name, add, remove) in [
        (
            "reconfirm",
            "CREATE TRIGGER reconfirm AFTER UPDATE OF status ON plans BEGIN UPDATE plans SET status = 'confirmed' WHERE id = NEW.id; END;",
            "DROP TRIGGER reconfirm;",
        ),
        (
            "pending",
            "CREATE VIEW pending AS SELECT * FROM plans;",
            "DROP VIEW pending;",
        ),
        (
            "audit_no_delete",
            "DROP TRIGGER audit_no_delete; CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT 1; END;",
            "DROP TRIGGER audit_no_delete; CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
        ),
    ] {
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch(add).unwrap();
        drop(raw);
        match Store::open(&path) {
            Err(retract_core::CoreError::Store(why)) => {
                assert!(why.contains(name) && why.contains("not used"), "{why}")
            }
            other => panic!("{name}: a database with code of its own was opened: {other:?}"),
        }
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch(remove).unwrap();
        drop(raw);
        assert!(
            Store::open(&path).is_ok(),
            "{name}: the clean file opens again"
        );
    }
}

/// A confirmed plan runs only if it carries the seal this installation wrote when the operator
/// confirmed it (`seal.rs`). Edited in the file — another article, another position, another
/// account, a plan written in by hand, a finished plan set back to confirmed — or confirmed
/// under another key (a database from another installation): nothing of it is sent, and the
/// run says why. An untouched plan runs.
#[tokio::test]
async fn only_a_confirmation_this_retract_sealed_is_run() {
    let edits: [(&str, &str); 5] = [
        (
            "another article",
            "UPDATE plan_targets SET article_id = (SELECT article_id FROM items WHERE article_id <> plan_targets.article_id LIMIT 1)",
        ),
        ("another position", "UPDATE plan_targets SET idx = idx + 1"),
        (
            "another AppID",
            "UPDATE accounts SET appid = 'wx0000000000000000'",
        ),
        (
            "another time",
            "UPDATE plans SET confirmed_at = confirmed_at - 86400",
        ),
        ("no seal", "UPDATE plans SET seal = NULL"),
    ];
    for (what, edit) in edits {
        let w = world(6).await;
        let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
        let m = multi_item(&w, 2);
        confirmed(&w, &api, account, &[item(&m.article_id, 1)]).await;
        let raw = rusqlite::Connection::open(w.db_path()).unwrap();
        raw.execute_batch(edit).unwrap();
        drop(raw);
        w.sim.clear_log();
        let err =
            retract_core::queue::run(&api, w.store(), account, &Default::default(), |_, _| {})
                .await
                .map(|r| format!("{r:?}"));
        assert_eq!(w.sim.count(DELETE), 0, "{what}: sent");
        let said = match err {
            Err(e) => e.to_string(),
            Ok(run) => run,
        };
        assert!(
            said.contains("does not carry a confirmation"),
            "{what}: {said}"
        );
    }

    // A finished plan set back to confirmed with its targets planned again.
    let w = world(6).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let m = multi_item(&w, 2);
    let p = confirmed(&w, &api, account, &[item(&m.article_id, 2)]).await;
    retract_core::queue::run(&api, w.store(), account, &Default::default(), |_, _| {})
        .await
        .unwrap();
    assert_eq!(w.sim.count(DELETE), 1, "the untouched plan ran");
    let raw = rusqlite::Connection::open(w.db_path()).unwrap();
    raw.execute(
        "UPDATE plans SET status = 'confirmed' WHERE id = ?1",
        [p.id.0],
    )
    .unwrap();
    raw.execute(
        "UPDATE plan_targets SET state = 'planned', outcome = NULL WHERE plan_id = ?1",
        [p.id.0],
    )
    .unwrap();
    drop(raw);
    let _ =
        retract_core::queue::run(&api, w.store(), account, &Default::default(), |_, _| {}).await;
    assert_eq!(w.sim.count(DELETE), 1, "a finished plan gave its seal up");

    // Confirmed under another installation's key.
    let w = world(6).await;
    let (account, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    confirmed(&w, &api, account, &oldest_messages(&w, 1)).await;
    w.store()
        .set_seal_key(retract_core::seal::SealKey::random().unwrap());
    let _ =
        retract_core::queue::run(&api, w.store(), account, &Default::default(), |_, _| {}).await;
    assert_eq!(w.sim.count(DELETE), 0, "another key: not run");
}
