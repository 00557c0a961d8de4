//! The sign-off sheet: a plan's requests as CSV, for whoever must approve a take-down before
//! step 2 (an agency's client, a manager). One row per article, with the account, the message's
//! publish time in Beijing time, the position, whether the whole message goes, title and link.
//! UTF-8 with a BOM, so spreadsheet programs read Chinese; a cell that would start a formula is
//! quoted as text.

use std::path::Path;

use rusqlite::params;

use crate::accounts::Accounts;
use crate::error::CoreError;
use crate::identity::Reviewed;
use crate::plan::PlanId;

/// A CSV cell: quoted when it holds a separator, and never read as a formula.
fn cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM` on Beijing's clock (UTC+8, no daylight saving).
pub fn beijing(unix: i64) -> String {
    let t = unix + 8 * 3600;
    let (days, secs) = (t.div_euclid(86_400), t.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60
    )
}

/// Writes the sheet of `plan` to `path`; returns the number of article rows.
pub fn export(accounts: &Accounts, plan: PlanId, path: &Path) -> Result<u32, CoreError> {
    let store = accounts.store();
    let account = crate::plan::account_of(store, plan)?;
    let a = accounts.get(account)?;
    let rows: Vec<(u32, String, u32, String, i64)> = {
        let conn = store.conn();
        let mut stmt = conn
            .prepare("SELECT seq, article_id, idx, titles, publish_time FROM plan_targets WHERE plan_id = ?1 ORDER BY seq")
            .map_err(store.err("cannot read the plan"))?;
        let found = stmt
            .query_map(params![plan], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .map_err(store.err("cannot read the plan"))?;
        found
            .collect::<Result<_, _>>()
            .map_err(store.err("cannot read the plan"))?
    };
    let mut out = String::from(
        "\u{FEFF}account,appid,request,message_published_beijing,position,whole_message,title,link\n",
    );
    let mut count = 0;
    for (seq, _article, idx, titles, published) in rows {
        let items: Vec<Reviewed> = serde_json::from_str(&titles).map_err(|e| {
            CoreError::Store(format!(
                "request {seq} of plan {plan}: unreadable titles ({e})"
            ))
        })?;
        for item in items {
            count += 1;
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{}\n",
                cell(&a.name),
                cell(&a.profile.appid),
                seq,
                beijing(published),
                item.index,
                if idx == 0 { "yes" } else { "no" },
                cell(&item.title),
                cell(item.link.as_deref().unwrap_or_default()),
            ));
        }
    }
    if let Some(parent) = path.parent() {
        crate::files::private_dir(parent).map_err(|e| {
            CoreError::Store(format!(
                "{}: cannot create the export folder: {e}",
                parent.display()
            ))
        })?;
    }
    crate::files::write_private(path, out.as_bytes())
        .map_err(|e| CoreError::Store(format!("{}: cannot write: {e}", path.display())))?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_never_formulas() {
        assert_eq!(cell("周报"), "周报");
        assert_eq!(cell("a,b"), "\"a,b\"");
        assert_eq!(cell("say \"hi\", ok"), "\"say \"\"hi\"\", ok\"");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("+1"), "'+1");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
    }

    #[test]
    fn beijing_time_crosses_midnight_and_years_where_utc_does_not() {
        assert_eq!(beijing(0), "1970-01-01 08:00");
        // 2025-12-03 15:59 UTC is 23:59 in Beijing; a minute later it is the 4th.
        assert_eq!(beijing(1_764_777_540), "2025-12-03 23:59");
        assert_eq!(beijing(1_764_777_600), "2025-12-04 00:00");
        // New year's eve 16:00 UTC is new year's day in Beijing.
        assert_eq!(beijing(1_798_732_800), "2027-01-01 00:00");
        // A leap day.
        assert_eq!(beijing(1_709_164_800 - 8 * 3600), "2024-02-29 00:00");
    }
}
