//! Links the app hands to the system browser: only WeChat article pages, nothing else.

use url::Url;

use crate::error::CoreError;

/// An article link on `https://mp.weixin.qq.com/s…`: no other scheme, host, port, path or
/// credentials.
pub fn article_link(raw: &str) -> Result<Url, CoreError> {
    let refuse =
        || CoreError::Invalid("only https://mp.weixin.qq.com/s article links are opened".into());
    let url = Url::parse(raw.trim()).map_err(|_| refuse())?;
    let ok = url.scheme() == "https"
        && url.host_str() == Some("mp.weixin.qq.com")
        && url.username().is_empty()
        && url.password().is_none()
        && url.port().is_none()
        && (url.path() == "/s" || url.path().starts_with("/s/"));
    if ok { Ok(url) } else { Err(refuse()) }
}

#[cfg(test)]
mod tests {
    use super::article_link;

    #[test]
    fn only_https_mp_weixin_article_links_are_opened() {
        for good in [
            "https://mp.weixin.qq.com/s/AbC_12-x",
            "https://mp.weixin.qq.com/s?__biz=MzA&mid=1&idx=1",
        ] {
            assert!(article_link(good).is_ok(), "{good}");
        }
        for bad in [
            "http://mp.weixin.qq.com/s/x",
            "https://mp.weixin.qq.com.evil.example/s/x",
            "https://evil.example/?u=https://mp.weixin.qq.com",
            "https://user@mp.weixin.qq.com/s/x",
            "https://user:pw@mp.weixin.qq.com/s/x",
            "https://mp.weixin.qq.com:8443/s/x",
            "https://mp.weixin.qq.com/cgi-bin/loginpage",
            "https://mp.weixin.qq.com/sx",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "",
        ] {
            assert!(article_link(bad).is_err(), "{bad}");
        }
    }
}
