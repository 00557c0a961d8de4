//! Covers for the list, against the simulator over loopback and real files: read once from
//! the image host the listing names, kept on disk, never read from a host that is not WeChat's.

mod common;

use common::*;
use retract_core::accounts::SecretStorage;
use retract_core::{covers, index};

const COVER_PATH: &str = "/mmbiz/";

#[tokio::test]
async fn a_cover_is_read_once_kept_on_disk_and_shown_again_without_the_host() {
    let w = world(6).await;
    let (id, _api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let rows = index::search(w.store(), id, &Default::default(), 0, 50)
        .unwrap()
        .1;
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r.has_cover),
        "the listing's thumb_url was not kept"
    );
    let first = &rows[0];
    let dir = w.dir.path().join("covers");

    let cover = covers::cover(&w.accounts, id, &first.article_id, first.index, &dir)
        .await
        .unwrap()
        .expect("a cover");
    assert_eq!(cover.mime, "image/png");
    let reads = || w.sim.cover_requests().len();
    assert_eq!(reads(), 1);
    // The request carried no token and no referrer.
    let asked = w.sim.cover_requests().remove(0);
    assert!(asked.path.starts_with(COVER_PATH), "{}", asked.path);
    assert!(!asked.query.contains("access_token"), "{}", asked.query);
    assert_eq!(asked.body, "", "a referrer was sent: {}", asked.body);

    // Again: from the disk, the host is not asked.
    let again = covers::cover(&w.accounts, id, &first.article_id, first.index, &dir)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again, cover);
    assert_eq!(reads(), 1, "a kept cover was read from the host again");
    let kept: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
    assert_eq!(kept.len(), 1, "one file per cover, no leftovers");

    // A listing that names another host (a relay's choice) gets no cover, and nothing is read.
    rusqlite::Connection::open(w.db_path())
        .unwrap()
        .execute(
            "UPDATE items SET thumb_url = 'http://127.0.0.1:9/elsewhere.png' WHERE article_id = ?1 AND idx = ?2",
            rusqlite::params![first.article_id, first.index],
        )
        .unwrap();
    let elsewhere = covers::cover(&w.accounts, id, &first.article_id, first.index, &dir)
        .await
        .unwrap();
    assert_eq!(elsewhere, None);
}

#[tokio::test]
async fn an_answer_that_is_not_an_image_is_not_shown_nor_kept() {
    let w = world(3).await;
    let (id, _api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let rows = index::search(w.store(), id, &Default::default(), 0, 50)
        .unwrap()
        .1;
    let first = &rows[0];
    // The simulator's own API page answers JSON, not a picture.
    let page = format!("{}/cgi-bin/freepublish/get", w.sim.base_url());
    rusqlite::Connection::open(w.db_path())
        .unwrap()
        .execute(
            "UPDATE items SET thumb_url = ?3 WHERE article_id = ?1 AND idx = ?2",
            rusqlite::params![first.article_id, first.index, page],
        )
        .unwrap();
    let dir = w.dir.path().join("covers");
    let got = covers::cover(&w.accounts, id, &first.article_id, first.index, &dir).await;
    assert!(matches!(got, Ok(None) | Err(_)), "{got:?}");
    assert!(
        !dir.exists() || std::fs::read_dir(&dir).unwrap().next().is_none(),
        "a non-image was kept"
    );
}
