//! The decision that an article is gone (or still there, or changed, or undecided): one
//! `getarticle` answer against the snapshot the operator reviewed. Pure: no store, no network,
//! no clock; it uses only the answer, the reviewed items and `crate::identity`.

use wechat_mp::{Article, NewsItem};

use super::RecheckVerdict;
use crate::identity::{Links, Reviewed, compare_links, same_title};
use crate::journal::Target;

/// How one item of an answer relates to a reviewed item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rel {
    /// The same link (and the same title).
    Same,
    /// No links on either side, and the same normalised title: the same article only if no
    /// other live item of the message has that title too.
    SameTitle,
    /// The same link under another title: the article was edited since the review.
    Edited,
    /// Another article: another link, or no links and another title.
    Other,
    /// The same title, but links that cannot be compared (one side has none, or a short and a
    /// long link): cannot tell.
    Unsure,
}

pub(super) fn relation(r: &Reviewed, item: &NewsItem) -> Rel {
    let titles = same_title(&r.title, &item.title);
    // A plan made before links were recorded is matched by title, as it was reviewed.
    let links = match &r.link {
        None => Links::Neither,
        Some(link) => compare_links(link, &item.url),
    };
    match (links, titles) {
        (Links::Same, true) => Rel::Same,
        (Links::Same, false) => Rel::Edited,
        (Links::Neither, true) => Rel::SameTitle,
        (Links::NotComparable, true) => Rel::Unsure,
        (Links::Differ, _) | (Links::Neither | Links::NotComparable, false) => Rel::Other,
    }
}

/// A deleted entry WeChat stripped of everything that could say which article it was.
fn stripped(item: &NewsItem) -> bool {
    item.title.trim().is_empty() && item.url.trim().is_empty()
}

/// The pure part of the check: the answer against the reviewed snapshot, by identity (see
/// [`crate::identity`]): the link where both sides have one, else the normalised title.
pub(crate) fn judge(article: &Article, t: &Target) -> RecheckVerdict {
    if t.items.is_empty() {
        return RecheckVerdict::Unproven(
            "the plan holds no reviewed titles for this request".into(),
        );
    }
    if article.news_item.is_empty() {
        return RecheckVerdict::Unproven(
            "WeChat (or something in between) answered with no articles at all for this message; that proves nothing, so nothing was sent".into(),
        );
    }
    if let Some(pos) = article.news_item.iter().position(|i| i.undecodable) {
        return RecheckVerdict::Unproven(format!(
            "WeChat's answer (or a relay's) has an entry at position {} that is not an article at all; that proves nothing, so nothing was sent",
            pos + 1
        ));
    }
    match t.index {
        Some(pos) => judge_item(article, &t.items[0], pos),
        None => judge_whole(article, &t.items),
    }
}

/// An item request: `r` reviewed at `pos`, the position the delete would name.
fn judge_item(article: &Article, r: &Reviewed, pos: u32) -> RecheckVerdict {
    let live = |(_, item): &(usize, &NewsItem)| !item.is_deleted;
    // Where else the reviewed article is live (its link, or its title when there are none).
    let elsewhere = article
        .news_item
        .iter()
        .enumerate()
        .filter(live)
        .find(|(i, item)| {
            *i + 1 != pos as usize && matches!(relation(r, item), Rel::Same | Rel::SameTitle)
        })
        .map(|(i, _)| i + 1);
    let moved = |at: usize| {
        RecheckVerdict::Moved(format!(
            "the reviewed \"{}\" is now at another position ({at}, not position {pos}); positions moved, so nothing was sent",
            r.title
        ))
    };
    let Some(item) = article.news_item.get((pos as usize).wrapping_sub(1)) else {
        if let Some(at) = elsewhere {
            return moved(at);
        }
        return RecheckVerdict::Unproven(format!(
            "WeChat's answer has no article at position {pos} (it lists {}); positions may have moved, so nothing was sent",
            article.news_item.len()
        ));
    };
    if item.is_deleted {
        return match (relation(r, item), elsewhere) {
            (_, Some(at)) => moved(at),
            (Rel::Same | Rel::SameTitle | Rel::Edited, None) => RecheckVerdict::Gone,
            // Stripped of title and link: nothing says it is another article, and the
            // reviewed one is live nowhere in the message.
            _ if stripped(item) => RecheckVerdict::Gone,
            (Rel::Other, None) => RecheckVerdict::Unproven(format!(
                "position {pos} holds a deleted article that is not the reviewed \"{}\" (\"{}\"); positions may have moved, so nothing is concluded",
                r.title, item.title
            )),
            (Rel::Unsure, None) => RecheckVerdict::Unproven(format!(
                "position {pos} holds a deleted article titled like the reviewed \"{}\", but its link cannot be compared with the reviewed one; nothing is concluded",
                r.title
            )),
        };
    }
    match relation(r, item) {
        Rel::Same => RecheckVerdict::Present,
        Rel::SameTitle => {
            let twins = article
                .news_item
                .iter()
                .filter(|i| !i.is_deleted && same_title(&i.title, &r.title))
                .count();
            if twins > 1 {
                RecheckVerdict::Unproven(format!(
                    "{twins} live articles of this message are titled \"{}\" and WeChat gives no links to tell them apart; if positions moved, the one at position {pos} may not be the reviewed one, so nothing was sent. Delete it in the MP console, or delete the whole message",
                    r.title
                ))
            } else {
                RecheckVerdict::Present
            }
        }
        Rel::Edited => RecheckVerdict::Changed(format!(
            "the article at position {pos} is the reviewed one, but its title is now \"{}\", not \"{}\"; it was edited since the review",
            item.title, r.title
        )),
        Rel::Other => match elsewhere {
            Some(at) => moved(at),
            None if same_title(&item.title, &r.title) => RecheckVerdict::Changed(format!(
                "position {pos} holds an article titled \"{}\" like the reviewed one, but under another link: another article with the same title (the reviewed one is not live in this message), or WeChat gave this article a new link; nothing was sent. Check it in the MP console",
                item.title
            )),
            None => RecheckVerdict::Changed(format!(
                "position {pos} now holds \"{}\", not the reviewed \"{}\"",
                item.title, r.title
            )),
        },
        Rel::Unsure => RecheckVerdict::Unproven(format!(
            "position {pos} holds \"{}\", but WeChat's link for it now cannot be compared with the one it listed at the review (one is missing, or one is short and one long); nothing was sent",
            item.title
        )),
    }
}

fn judge_whole(article: &Article, reviewed: &[Reviewed]) -> RecheckVerdict {
    if article.news_item.iter().all(|i| i.is_deleted) {
        return RecheckVerdict::Gone;
    }
    // Every live item must be one the operator reviewed (each reviewed item vouches for one).
    let mut unused: Vec<&Reviewed> = reviewed.iter().collect();
    for (i, item) in article.news_item.iter().enumerate() {
        if item.is_deleted {
            continue;
        }
        let rels: Vec<Rel> = unused.iter().map(|r| relation(r, item)).collect();
        if let Some(k) = rels
            .iter()
            .position(|rel| matches!(rel, Rel::Same | Rel::SameTitle))
        {
            unused.remove(k);
            continue;
        }
        if let Some(k) = rels.iter().position(|rel| *rel == Rel::Edited) {
            return RecheckVerdict::Changed(format!(
                "\"{}\" at position {} is now titled \"{}\"; it was edited since the review",
                unused[k].title,
                i + 1,
                item.title
            ));
        }
        if rels.contains(&Rel::Unsure) {
            return RecheckVerdict::Unproven(format!(
                "\"{}\" at position {} cannot be matched to a reviewed article: its link cannot be compared with the reviewed ones; nothing was sent",
                item.title,
                i + 1
            ));
        }
        return RecheckVerdict::Changed(format!(
            "the message now also holds \"{}\" at position {}, which was not reviewed; deleting the whole message would remove it",
            item.title,
            i + 1
        ));
    }
    RecheckVerdict::Present
}
