//! The sign-off sheet of a plan, written to a real file from a plan made against the
//! simulator: every article once, the whole message marked, Chinese intact, nothing confirmed.

mod common;

use common::*;
use retract_core::accounts::SecretStorage;
use retract_core::plan::{self, Selection};
use retract_core::signoff;

#[tokio::test]
async fn the_sheet_lists_every_article_of_the_plan_and_confirms_nothing() {
    let w = world(8).await;
    let (id, api) = synced_account(&w, SecretStorage::SessionOnly).await;
    let whole = multi_item(&w, 2);
    let single = w
        .sim
        .messages(wechat_sim::DEMO_APPID)
        .into_iter()
        .find(|m| m.article_id != whole.article_id)
        .unwrap();
    let selection = [
        Selection::WholeMessage {
            article_id: whole.article_id.clone(),
        },
        item(&single.article_id, 1),
    ];
    let p = plan::create(&api, w.store(), id, &selection).await.unwrap();
    let path = w.dir.path().join("sign-off").join("plan.csv");
    let rows = signoff::export(&w.accounts, p.id, &path).unwrap();
    assert_eq!(rows as usize, whole.items.len() + 1);

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with('\u{FEFF}'),
        "no BOM: spreadsheet programs misread Chinese"
    );
    let lines: Vec<&str> = text.trim_start_matches('\u{FEFF}').lines().collect();
    assert_eq!(
        lines[0],
        "account,appid,request,message_published_beijing,position,whole_message,title,link"
    );
    assert_eq!(lines.len(), rows as usize + 1);
    for item in &whole.items {
        assert!(
            lines
                .iter()
                .any(|l| l.contains(&item.title) && l.contains(",yes,")),
            "{} is not on the sheet as part of its whole message",
            item.title
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&single.items[0].title) && l.contains(",no,"))
    );
    assert!(
        lines[1..].iter().all(|l| l.starts_with("公司服务号,")),
        "{lines:?}"
    );

    // Nothing was confirmed or sent: the plan still takes its confirmation.
    assert_eq!(w.sim.count("/cgi-bin/freepublish/delete"), 0);
    plan::confirm(w.store(), p.id, &p.nonce, &p.phrase).unwrap();
}
