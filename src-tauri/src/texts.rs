//! What Retract says outside its window — the tray menu and desktop notifications — in the
//! language the window shows. The window tells Rust its language at start and on every switch
//! (`set_language`); until it has, Chinese, the window's own default.

use serde::{Deserialize, Serialize};

use crate::error::{AppError, ErrorKind};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub enum Language {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Language {
    pub fn open(self) -> &'static str {
        match self {
            Self::ZhCn => "打开 Retract",
            Self::En => "Open Retract",
        }
    }

    pub fn pause_all(self, paused: bool) -> &'static str {
        match (self, paused) {
            (Self::ZhCn, false) => "暂停所有队列",
            (Self::ZhCn, true) => "继续所有队列",
            (Self::En, false) => "Pause all queues",
            (Self::En, true) => "Resume all queues",
        }
    }

    pub fn quit(self, waiting: u32) -> String {
        match (self, waiting) {
            (Self::ZhCn, 0) => "退出".into(),
            (Self::ZhCn, n) => format!("退出（仍有 {n} 个删除在等待）"),
            (Self::En, 0) => "Quit".into(),
            (Self::En, 1) => "Quit (1 delete still waiting)".into(),
            (Self::En, n) => format!("Quit ({n} deletes still waiting)"),
        }
    }

    pub fn kept_in_tray(self, waiting: u32) -> String {
        match (self, waiting) {
            (Self::ZhCn, n) => format!("Retract 在托盘中继续运行：还有 {n} 个删除在队列中。"),
            (Self::En, 1) => "Retract keeps running in the tray: 1 delete is still queued.".into(),
            (Self::En, n) => {
                format!("Retract keeps running in the tray: {n} deletes are still queued.")
            }
        }
    }

    pub fn queue_stopped(self, account: &str, why: &str) -> String {
        match self {
            Self::ZhCn => format!("「{account}」的删除队列停止了，请打开 Retract 查看。（{why}）"),
            Self::En => {
                format!("{account}: the deletion queue stopped; open Retract to see why. ({why})")
            }
        }
    }

    /// Why a queue stopped, short: the error's message in English (it is English); in Chinese
    /// a sentence for every kind, with the code and IP WeChat gave (never the English message).
    pub fn stop_reason(self, e: &AppError) -> String {
        if self == Self::En {
            return e.message.clone();
        }
        let code = e
            .errcode
            .map(|c| format!("，errcode {c}"))
            .unwrap_or_default();
        match e.kind {
            ErrorKind::IpNotWhitelisted | ErrorKind::PlatformIpNotWhitelisted => match &e.ip {
                Some(ip) => format!("本机 IP {ip} 不在 IP 白名单中{code}"),
                None => format!("本机 IP 不在 IP 白名单中{code}"),
            },
            ErrorKind::RiskyIp => format!("IP 需要管理员确认或暂被限制{code}"),
            ErrorKind::InvalidCredentials => format!("AppID 或 AppSecret 不正确{code}"),
            ErrorKind::Unauthorized => format!("账号无权调用此接口（未认证？）{code}"),
            ErrorKind::TokenExpired | ErrorKind::TokenRejected => {
                format!("access_token 无效或已过期{code}")
            }
            ErrorKind::SecretMissing | ErrorKind::SecretBoundElsewhere => {
                "需要重新输入 AppSecret".into()
            }
            ErrorKind::KeyringUnavailable | ErrorKind::KeyringLocked => "系统钥匙串不可用".into(),
            ErrorKind::Network => "网络错误，微信未应答".into(),
            ErrorKind::OutcomeUnknown | ErrorKind::Unproven => "有删除结果尚未确认".into(),
            ErrorKind::Storage => "本地数据库无法使用".into(),
            ErrorKind::QuotaExhausted => format!("今日删除次数已用完{code}"),
            ErrorKind::RateLimited => format!("调用过于频繁{code}"),
            ErrorKind::ClearQuotaExhausted => format!("本月调用次数清零的机会已用完{code}"),
            ErrorKind::ArticleGone => format!("文章不存在或已被删除{code}"),
            ErrorKind::ArticleChanged => "文章在核对后有了变化，未删除".into(),
            ErrorKind::WaitingForCheck => "等待微信显示同一消息中上一篇的删除".into(),
            ErrorKind::Conflict => "删除请求已被取消，或已由另一个窗口处理".into(),
            ErrorKind::Busy => "另一个 Retract 窗口正在执行".into(),
            ErrorKind::ConfirmationRejected => "确认未通过".into(),
            ErrorKind::InvalidInput => "输入有误".into(),
            ErrorKind::NotFound => "要找的内容已不存在".into(),
            ErrorKind::Cancelled => "已取消".into(),
            ErrorKind::Wechat => format!("微信返回了错误{code}"),
            ErrorKind::Internal => "Retract 内部错误（详情见日志）".into(),
        }
    }

    /// Requests the queue put on hold for the operator's word (WeChat's answers could not
    /// settle them); the rest of the queue goes on.
    pub fn needs_decision(self, account: &str, held: u32) -> String {
        match (self, held) {
            (Self::ZhCn, n) => format!(
                "「{account}」有 {n} 个删除请求无法从微信的回答中确认结果，已暂停等待你的确认；其余删除照常进行。"
            ),
            (Self::En, 1) => format!(
                "{account}: WeChat's answers could not settle 1 delete request; it waits for your decision, the rest goes on."
            ),
            (Self::En, n) => format!(
                "{account}: WeChat's answers could not settle {n} delete requests; they wait for your decision, the rest goes on."
            ),
        }
    }

    pub fn queue_done(self, account: &str, deleted: usize) -> String {
        match (self, deleted) {
            (Self::ZhCn, n) => format!("「{account}」的删除队列已完成，共删除 {n} 篇。"),
            (Self::En, 1) => format!("{account}: the deletion queue is done; 1 deleted in all."),
            (Self::En, n) => format!("{account}: the deletion queue is done; {n} deleted in all."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Language::{self, En, ZhCn};
    use crate::error::{AppError, ErrorKind};

    fn has_chinese(s: &str) -> bool {
        s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
    }

    fn everything(lang: Language) -> Vec<String> {
        vec![
            lang.open().into(),
            lang.pause_all(false).into(),
            lang.pause_all(true).into(),
            lang.quit(0),
            lang.quit(1),
            lang.quit(3),
            lang.kept_in_tray(1),
            lang.kept_in_tray(3),
            lang.queue_stopped("Acme", "IP whitelist"),
            lang.queue_done("Acme", 1),
            lang.queue_done("Acme", 2),
            lang.needs_decision("Acme", 1),
            lang.needs_decision("Acme", 2),
        ]
    }

    #[test]
    fn each_text_is_in_one_language_only() {
        for text in everything(En) {
            assert!(!has_chinese(&text), "English with Chinese in it: {text}");
        }
        for text in everything(ZhCn) {
            assert!(has_chinese(&text), "not Chinese: {text}");
            assert!(
                !text.contains(" the ") && !text.contains("Quit"),
                "Chinese with English in it: {text}"
            );
        }
    }

    #[test]
    fn a_stop_is_explained_in_the_language_with_what_wechat_said() {
        let mut e = AppError::new(
            ErrorKind::IpNotWhitelisted,
            "IP 203.0.113.45 is not whitelisted",
        );
        e.errcode = Some(40164);
        e.ip = Some("203.0.113.45".into());
        let zh = ZhCn.stop_reason(&e);
        assert!(
            zh.contains("白名单") && zh.contains("203.0.113.45") && zh.contains("40164"),
            "{zh}"
        );
        assert!(!zh.contains("whitelisted"), "{zh}");
        assert_eq!(En.stop_reason(&e), "IP 203.0.113.45 is not whitelisted");
        // Every other kind is worded in Chinese too, with WeChat's code, never the English
        // message (before: "errcode 40007: invalid media_id" inside a Chinese notification).
        let mut other = AppError::new(ErrorKind::Wechat, "errcode 40007: invalid media_id");
        other.errcode = Some(40007);
        let zh = ZhCn.stop_reason(&other);
        assert!(zh.contains("40007") && has_chinese(&zh), "{zh}");
        assert!(!zh.contains("invalid"), "{zh}");
        for kind in [
            ErrorKind::ArticleChanged,
            ErrorKind::WaitingForCheck,
            ErrorKind::Internal,
            ErrorKind::InvalidInput,
            ErrorKind::Conflict,
        ] {
            let zh = ZhCn.stop_reason(&AppError::new(kind, "an English sentence from the core"));
            assert!(
                has_chinese(&zh) && !zh.contains("English"),
                "{kind:?}: {zh}"
            );
        }
    }

    #[test]
    fn counts_and_names_are_said() {
        assert_eq!(En.quit(3), "Quit (3 deletes still waiting)");
        assert_eq!(En.quit(1), "Quit (1 delete still waiting)");
        assert_eq!(ZhCn.quit(0), "退出");
        assert!(
            ZhCn.queue_done("公司号", 2).contains("「公司号」")
                && ZhCn.queue_done("公司号", 2).contains('2')
        );
        assert!(
            En.queue_stopped("Acme", "errcode 40164")
                .ends_with("(errcode 40164)")
        );
    }

    #[test]
    fn the_window_names_its_languages_as_the_ui_does() {
        assert_eq!(serde_json::to_string(&ZhCn).unwrap(), "\"zh-CN\"");
        assert_eq!(serde_json::from_str::<Language>("\"en\"").unwrap(), En);
        assert!(serde_json::from_str::<Language>("\"fr\"").is_err());
    }
}
