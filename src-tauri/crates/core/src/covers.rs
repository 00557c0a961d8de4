//! Article covers for the list: WeChat's `thumb_url`, read once the way its image host
//! allows (no referrer, no cookies) and kept on disk, so the list shows covers offline and
//! asks WeChat's host for each cover once.
//!
//! Only two kinds of address are read: WeChat's image hosts (`*.qpic.cn`, `*.qlogo.cn`), and,
//! for the demo and the simulator, the loopback address the account's API is on. A listing
//! that names any other host gets no cover: the list never becomes a way to make this
//! computer fetch an address a relay chose.

use std::path::{Path, PathBuf};

use url::Url;

use crate::accounts::{AccountId, Accounts, api_base_for};
use crate::error::CoreError;
use crate::index;

/// What the list shows: the bytes and their type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
}

/// WeChat's image hosts, as listings name them.
const WECHAT_IMAGE_HOSTS: &[&str] = &["qpic.cn", "qlogo.cn"];

/// Whether `url` may be read for a cover of an account whose API is at `api_base`.
pub fn allowed(url: &Url, api_base: &str) -> bool {
    if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() {
        return false;
    }
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    if WECHAT_IMAGE_HOSTS
        .iter()
        .any(|h| host == *h || host.ends_with(&format!(".{h}")))
    {
        return true;
    }
    // The simulator (demo, tests) serves its covers beside its API, on loopback only.
    Url::parse(api_base).is_ok_and(|base| {
        wechat_mp::client::is_loopback(&base)
            && wechat_mp::client::is_loopback(url)
            && base.host() == url.host()
            && base.port_or_known_default() == url.port_or_known_default()
    })
}

/// The image type by its first bytes; anything else is not shown.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Where a cover's copy is kept: one file per address.
fn cache_file(dir: &Path, url: &str) -> PathBuf {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(url.as_bytes());
    let name: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    dir.join(name)
}

/// The cover of one article: from the disk copy, else read and kept. `Ok(None)`: it has none
/// (none listed, a host not allowed, an answer that is not an image).
pub async fn cover(
    accounts: &Accounts,
    account: AccountId,
    article_id: &str,
    index: u32,
    dir: &Path,
) -> Result<Option<Cover>, CoreError> {
    let Some(address) = index::cover_url(accounts.store(), account, article_id, index)? else {
        return Ok(None);
    };
    let Ok(url) = Url::parse(&address) else {
        return Ok(None);
    };
    let a = accounts.get(account)?;
    let base = api_base_for(&a.profile, a.is_demo, accounts.api_base_override());
    if !allowed(&url, &base) {
        tracing::info!(
            host = url.host_str().unwrap_or_default(),
            "a cover on a host that is not WeChat's was not read"
        );
        return Ok(None);
    }
    let file = cache_file(dir, url.as_str());
    if let Ok(bytes) = std::fs::read(&file)
        && let Some(mime) = sniff(&bytes)
    {
        return Ok(Some(Cover { bytes, mime }));
    }
    let api = accounts.api(account)?;
    let bytes = api.client().fetch_image(url).await?;
    let Some(mime) = sniff(&bytes) else {
        return Ok(None);
    };
    // A copy that cannot be written is read again next time; the cover still shows.
    // Written aside and renamed, so a copy cut short is never taken for the cover.
    let part = file.with_extension("part");
    let kept = crate::files::private_dir(dir)
        .and_then(|()| crate::files::write_private(&part, &bytes))
        .and_then(|()| std::fs::rename(&part, &file));
    if let Err(e) = kept {
        tracing::debug!(error = %e, "a cover could not be kept on disk");
    }
    Ok(Some(Cover { bytes, mime }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn wechat_image_hosts_and_the_loopback_api_only() {
        let real = "https://api.weixin.qq.com";
        let sim = "http://127.0.0.1:4000";
        assert!(allowed(
            &url("http://mmbiz.qpic.cn/mmbiz_jpg/x/0?wx_fmt=jpeg"),
            real
        ));
        assert!(allowed(&url("https://mmbiz.qlogo.cn/a.png"), real));
        assert!(allowed(
            &url("http://127.0.0.1:4000/mmbiz/cover_a.png"),
            sim
        ));
        // Neighbours that must not pass: look-alike hosts, another loopback port, the loopback
        // address for a real account, credentials, other schemes.
        assert!(!allowed(&url("http://qpic.cn.evil.example/a.png"), real));
        assert!(!allowed(&url("http://evilqpic.cn/a.png"), real));
        assert!(!allowed(
            &url("http://127.0.0.1:4001/mmbiz/cover_a.png"),
            sim
        ));
        assert!(!allowed(
            &url("http://127.0.0.1:4000/mmbiz/cover_a.png"),
            real
        ));
        assert!(!allowed(&url("http://user:pw@mmbiz.qpic.cn/a.png"), real));
        assert!(!allowed(&url("file:///etc/passwd"), real));
        assert!(!allowed(&url("ftp://mmbiz.qpic.cn/a.png"), real));
    }

    #[test]
    fn only_images_are_shown() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff(&[0xff, 0xd8, 0xff, 0xe0]), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a..."), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"<html><script>"), None);
        assert_eq!(sniff(b"<svg onload=x>"), None);
        assert_eq!(sniff(b""), None);
    }
}
