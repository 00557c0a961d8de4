//! Undo by draft against the simulator: what a restore sends to `draft/add` (only what the
//! delete removed, every field the archive holds), what it records, and how each failure
//! reaches the operator without a blind retry.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use retract_core::CoreError;
use retract_core::accounts::SecretStorage;
use retract_core::archive;
use retract_core::execute::{self, ExecOptions};
use retract_core::plan::Selection;
use retract_core::restore;
use wechat_sim::{DEMO_APPID, Fault};

mod common;
use common::*;

const DRAFT_ADD: &str = "/cgi-bin/draft/add";

/// Deletes `selection` through a confirmed plan; the archive then holds each target.
async fn delete(
    w: &World,
    api: &wechat_mp::Api,
    account: retract_core::accounts::AccountId,
    selection: &[Selection],
) {
    let p = confirmed(w, api, account, selection).await;
    execute::execute(api, w.store(), p.id, &ExecOptions::default(), |_| {})
        .await
        .unwrap();
}

#[tokio::test]
async fn a_restore_re_creates_exactly_what_was_deleted_as_one_draft_and_is_audited() {
    let w = world(30).await;
    let (id, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let messages = w.sim.messages(DEMO_APPID);
    let m = messages.iter().find(|m| m.items.len() >= 3).unwrap();
    let whole = messages
        .iter()
        .find(|o| o.items.len() >= 2 && o.article_id != m.article_id)
        .unwrap();
    // Item 2 of m first; then the whole of `whole` after its first item went on its own.
    delete(&w, &api, id, &[item(&m.article_id, 2)]).await;
    delete(&w, &api, id, &[item(&whole.article_id, 1)]).await;
    delete(
        &w,
        &api,
        id,
        &[Selection::WholeMessage {
            article_id: whole.article_id.clone(),
        }],
    )
    .await;
    let deleted = archive::list(w.store(), id).unwrap();
    assert_eq!(deleted.len(), 3);
    let of = |article: &str, index: u32| {
        deleted
            .iter()
            .find(|d| d.article_id == article && d.index == index)
            .unwrap()
            .clone()
    };

    // One item: that item, every field as WeChat had it.
    let item = of(&m.article_id, 2);
    w.sim.clear_log();
    let restored = restore::restore_as_draft(&api, w.store(), id, item.archive_id)
        .await
        .unwrap();
    let source = &m.items[1];
    assert_eq!(restored.titles, vec![source.title.clone()]);
    let drafts = w.sim.drafts(DEMO_APPID);
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0].0, restored.media_id);
    let sent = &drafts[0].1[0];
    assert_eq!(sent["title"], source.title.as_str());
    assert_eq!(sent["author"], source.author.as_str());
    assert_eq!(sent["digest"], source.digest.as_str());
    assert_eq!(sent["content"], source.content.as_str());
    assert_eq!(sent["thumb_media_id"], source.thumb_media_id.as_str());
    assert_eq!(sent["need_open_comment"], 0);
    assert!(
        sent.get("url").is_none() && sent.get("is_deleted").is_none(),
        "only draft fields: {sent}"
    );
    assert_eq!(w.sim.count(DRAFT_ADD), 1);

    // A whole message: only the items still live when it was deleted (item 1 went earlier).
    let rest = of(&whole.article_id, 0);
    let restored = restore::restore_as_draft(&api, w.store(), id, rest.archive_id)
        .await
        .unwrap();
    let expected: Vec<String> = whole
        .items
        .iter()
        .skip(1)
        .map(|i| i.title.clone())
        .collect();
    assert_eq!(restored.titles, expected);
    assert_eq!(
        w.sim.drafts(DEMO_APPID)[1].1.as_array().unwrap().len(),
        whole.items.len() - 1
    );

    // The deleted list and the audit log say so.
    let listed = of_list(&w, id, item.archive_id);
    assert_eq!(
        listed.draft_media_id.as_deref(),
        Some(w.sim.drafts(DEMO_APPID)[0].0.as_str())
    );
    assert!(listed.restored_at.is_some());
    assert_eq!(
        w.count("SELECT count(*) FROM audit WHERE action = 'draft_restored'"),
        2
    );
    // The article stays deleted on WeChat: a draft is new, not the old article.
    assert!(w.sim.message(DEMO_APPID, &m.article_id).unwrap().items[1].is_deleted);
}

/// A world whose oldest message's first item was deleted: the world, the account, its client,
/// that message as the simulator had it, and the item's archive id.
async fn one_item_deleted() -> (
    World,
    retract_core::accounts::AccountId,
    wechat_mp::Api,
    wechat_sim::SimMessage,
    i64,
) {
    let w = world(20).await;
    let (id, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let m = w.sim.messages(DEMO_APPID).into_iter().next().unwrap();
    let item = item(&m.article_id, 1);
    delete(&w, &api, id, &[item]).await;
    let archived = archive::list(w.store(), id).unwrap()[0].archive_id;
    (w, id, api, m, archived)
}

fn of_list(
    w: &World,
    id: retract_core::accounts::AccountId,
    archive_id: i64,
) -> archive::DeletedArticle {
    archive::list(w.store(), id)
        .unwrap()
        .into_iter()
        .find(|d| d.archive_id == archive_id)
        .unwrap()
}

#[tokio::test]
async fn a_refused_or_lost_restore_says_why_is_audited_and_is_not_resent() {
    let (w, id, api, m, archived) = one_item_deleted().await;

    // The cover was deleted from the material library since: 40007, nothing made.
    w.sim
        .delete_material(DEMO_APPID, &m.items[0].thumb_media_id);
    w.sim.clear_log();
    let err = restore::restore_as_draft(&api, w.store(), id, archived)
        .await
        .unwrap_err();
    match &err {
        CoreError::Wechat(e) => assert_eq!(e.api().unwrap().code, 40007),
        other => panic!("{other:?}"),
    }
    assert_eq!(w.sim.count(DRAFT_ADD), 1, "a refusal is not retried");
    assert!(w.sim.drafts(DEMO_APPID).is_empty());
    assert_eq!(
        w.count("SELECT count(*) FROM audit WHERE action = 'draft_restore_failed' AND json_extract(detail, '$.errcode') = 40007"),
        1
    );
    assert!(of_list(&w, id, archived).draft_media_id.is_none());

    // An answer lost after WeChat made the draft: reported, never sent again.
    let (w, id, api, _, archived) = one_item_deleted().await;
    w.sim.inject(DRAFT_ADD, Fault::LoseResponse, 1);
    w.sim.clear_log();
    assert!(
        restore::restore_as_draft(&api, w.store(), id, archived)
            .await
            .is_err()
    );
    assert_eq!(
        w.sim.count(DRAFT_ADD),
        1,
        "a write whose answer was lost is not resent"
    );
    assert_eq!(
        w.sim.drafts(DEMO_APPID).len(),
        1,
        "WeChat made it; the operator is told to look"
    );

    // The list says a draft may exist since then; a second attempt is shown that first.
    let doubt = of_list(&w, id, archived).draft_may_exist_since;
    assert!(
        doubt.is_some(),
        "a lost answer is recorded as 'may have been made'"
    );
    // So do -1 and a code Retract does not know; a refusal of the draft's own fields does not.
    for (fault, may_exist) in [
        (Fault::Errcode { code: -1 }, true),
        (Fault::Errcode { code: 47099 }, true),
        (Fault::Errcode { code: 45003 }, false),
    ] {
        let (w, id, api, _, archived) = one_item_deleted().await;
        w.sim.inject(DRAFT_ADD, fault.clone(), 1);
        assert!(
            restore::restore_as_draft(&api, w.store(), id, archived)
                .await
                .is_err()
        );
        assert_eq!(
            of_list(&w, id, archived).draft_may_exist_since.is_some(),
            may_exist,
            "{fault:?}"
        );
        // A restore that then works clears the doubt.
        restore::restore_as_draft(&api, w.store(), id, archived)
            .await
            .unwrap();
        let row = of_list(&w, id, archived);
        assert!(row.draft_may_exist_since.is_none() && row.draft_media_id.is_some());
    }

    // Another account's archive entry is not this account's to restore.
    let other = retract_core::accounts::AccountId(id.0 + 1000);
    assert!(matches!(
        restore::restore_as_draft(&api, w.store(), other, archived).await,
        Err(CoreError::NotFound(_))
    ));
}

/// Only the copy of a request whose delete went through is restored: a copy taken before a
/// delete that WeChat refused is of an article still live.
#[tokio::test]
async fn only_a_copy_of_what_was_deleted_is_restored() {
    let w = world(20).await;
    let (id, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let m = w.sim.messages(DEMO_APPID).into_iter().next().unwrap();
    // The check passes and the copy is taken; the delete is refused (not applied).
    w.sim.inject(DELETE, Fault::Errcode { code: 48001 }, 1);
    delete(&w, &api, id, &[item(&m.article_id, 1)]).await;
    assert!(!w.sim.message(DEMO_APPID, &m.article_id).unwrap().items[0].is_deleted);
    let copy: i64 = w.count("SELECT max(id) FROM archive");
    assert!(copy > 0, "the copy was taken before the delete was sent");
    assert!(archive::list(w.store(), id).unwrap().is_empty());
    w.sim.clear_log();
    let err = restore::restore_as_draft(&api, w.store(), id, copy)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CoreError::Invalid(why) if why.contains("nothing to restore")),
        "{err:?}"
    );
    assert_eq!(w.sim.count(DRAFT_ADD), 0);
}

/// A title listed as `研发 &amp; 运营` goes back as `研发 & 运营`; a title longer than the
/// documented 32 characters is sent as is, and WeChat's refusal (if any) is what the operator
/// sees, with its errcode.
#[tokio::test]
async fn titles_go_back_as_text_and_only_wechat_refuses_their_length() {
    let w = world(20).await;
    let first = w.sim.messages(DEMO_APPID).into_iter().next().unwrap();
    w.sim.edit_message(DEMO_APPID, &first.article_id, |msg| {
        msg.items[0].title = "研发 &amp; 运营 &lt;周报&gt;".into();
        msg.items[0].author = "张三&amp;李四".into();
    });
    let (id, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    delete(&w, &api, id, &[item(&first.article_id, 1)]).await;
    let archived = archive::list(w.store(), id).unwrap()[0].archive_id;
    restore::restore_as_draft(&api, w.store(), id, archived)
        .await
        .unwrap();
    let (_, sent) = w.sim.drafts(DEMO_APPID).pop().unwrap();
    assert_eq!(sent[0]["title"], "研发 & 运营 <周报>");
    assert_eq!(sent[0]["author"], "张三&李四");

    // 39 characters: sent, not refused by Retract; the simulator (our reading of the
    // documentation) refuses with 45003, and that errcode is what comes back.
    let w = world(20).await;
    let first = w.sim.messages(DEMO_APPID).into_iter().next().unwrap();
    let long: String = "很长的标题".repeat(8).chars().take(39).collect();
    w.sim.edit_message(DEMO_APPID, &first.article_id, |msg| {
        msg.items[0].title = long.clone();
    });
    let (id, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    delete(&w, &api, id, &[item(&first.article_id, 1)]).await;
    let archived = archive::list(w.store(), id).unwrap()[0].archive_id;
    w.sim.clear_log();
    let err = restore::restore_as_draft(&api, w.store(), id, archived)
        .await
        .unwrap_err();
    assert_eq!(w.sim.count(DRAFT_ADD), 1, "sent: WeChat decides");
    match &err {
        CoreError::Wechat(e) => assert_eq!(e.api().unwrap().code, 45003),
        other => panic!("{other:?}"),
    }
}
