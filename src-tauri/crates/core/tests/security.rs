//! What stays the owner's: the database and every export are readable by the owner only, and an
//! exported article page runs no script when opened.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

mod common;

use common::*;
use retract_core::accounts::SecretStorage;
use retract_core::archive;
use retract_core::store::Store;
use wechat_sim::DEMO_APPID;

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
