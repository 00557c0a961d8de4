//! The `cover:` scheme the list's images load from: `cover://localhost/<account>/<article>/<item>`
//! (`http://cover.localhost/…` on Windows). Answers with the cover core keeps on disk, or
//! 404, which the list shows as a plain placeholder.

use tauri::http::{Request, Response, StatusCode, header};
use tauri::{Manager, UriSchemeContext, UriSchemeResponder, Wry};

use crate::state::AppState;

pub const SCHEME: &str = "cover";

/// `(account, article id, item)` from the request's path.
fn target(path: &str) -> Option<(i64, String, u32)> {
    let mut parts = path.trim_start_matches('/').split('/');
    let account = parts.next()?.parse().ok()?;
    let article = parts.next()?;
    let item = parts.next()?.parse().ok()?;
    let ok = parts.next().is_none()
        && !article.is_empty()
        && article.len() <= 128
        && article
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    ok.then(|| (account, article.to_string(), item))
}

fn empty(status: StatusCode) -> Response<Vec<u8>> {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = status;
    response
}

pub fn handle(
    ctx: UriSchemeContext<'_, Wry>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let Some((account, article, item)) = target(request.uri().path()) else {
        responder.respond(empty(StatusCode::NOT_FOUND));
        return;
    };
    let state = ctx.app_handle().state::<AppState>();
    let (Ok(accounts), dir) = (state.accounts(), state.data_dir.join("covers")) else {
        responder.respond(empty(StatusCode::NOT_FOUND));
        return;
    };
    tauri::async_runtime::spawn(async move {
        let answer = match retract_core::covers::cover(
            &accounts,
            retract_core::accounts::AccountId(account),
            &article,
            item,
            &dir,
        )
        .await
        {
            Ok(Some(cover)) => Response::builder()
                .header(header::CONTENT_TYPE, cover.mime)
                .header("X-Content-Type-Options", "nosniff")
                .header(header::CACHE_CONTROL, "max-age=86400")
                .body(cover.bytes)
                .unwrap_or_else(|_| empty(StatusCode::INTERNAL_SERVER_ERROR)),
            Ok(None) => empty(StatusCode::NOT_FOUND),
            Err(e) => {
                tracing::debug!(error = %e, "a cover could not be read");
                empty(StatusCode::NOT_FOUND)
            }
        };
        responder.respond(answer);
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_well_formed_paths_name_a_cover() {
        assert_eq!(super::target("/3/Ab_c-1/2"), Some((3, "Ab_c-1".into(), 2)));
        assert_eq!(super::target("/3/abc/2/extra"), None);
        assert_eq!(super::target("/3/../2"), None);
        assert_eq!(super::target("/x/abc/2"), None);
        assert_eq!(super::target("/3//2"), None);
        assert_eq!(super::target("/3/a%2Fb/2"), None);
    }
}
