//! Deterministic sample content: realistic Chinese titles, authors and digests for messages
//! of 1..8 items, from a seed. The same seed always gives the same account.

/// SplitMix64: tiny, seedable, good enough for sample data (not for anything secret).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }

    /// `len` characters of the URL-safe base64 alphabet, like WeChat's ids.
    pub fn token(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len())] as char)
            .collect()
    }

    pub fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit(self.below(16) as u32, 16).unwrap_or('0'))
            .collect()
    }
}

const TOPICS: &[&str] = &[
    "新品发布",
    "品牌故事",
    "用户指南",
    "行业观察",
    "活动预告",
    "会员福利",
    "门店上新",
    "技术分享",
    "年度回顾",
    "招聘启事",
    "公益行动",
    "节日特辑",
    "客户案例",
    "产品更新",
];

const HEADLINES: &[&str] = &[
    "十个细节告诉你我们为什么不一样",
    "一文读懂新版会员权益",
    "春季限定系列正式上线",
    "我们和一百位用户聊了聊",
    "关于服务调整的说明",
    "周末去哪儿？这份清单请收好",
    "从零到一：一个小团队的三年",
    "这些常见问题，我们一次说清楚",
    "年终盘点：你最喜欢的十篇文章",
    "限时优惠倒计时三天",
    "新门店开业，欢迎来坐坐",
    "如何用五分钟完成设置",
    "写给第一次来的你",
    "双十一备货指南",
    "一封来自创始人的信",
    "夏日新品试吃报告",
    "我们为什么坚持手工制作",
    "安全提醒：谨防冒充客服诈骗",
    "直播回放：与设计师面对面",
    "中秋礼盒预售开启",
    "读者来信精选",
    "幕后：一张海报的诞生",
    "社区活动报名通道已开放",
    "系统维护公告",
];

const AUTHORS: &[&str] = &[
    "小编",
    "运营部",
    "王晓",
    "李明",
    "陈静",
    "张伟",
    "品牌中心",
    "刘洋",
    "编辑部",
    "赵磊",
];

const DIGESTS: &[&str] = &[
    "点击阅读全文，了解更多详情。",
    "这篇文章整理了大家最关心的问题，建议收藏。",
    "活动名额有限，先到先得。",
    "感谢每一位一路同行的你。",
    "我们把这段经历写了下来，希望对你有帮助。",
    "新功能已全面上线，欢迎体验并告诉我们你的想法。",
];

/// One sample item before the simulator assigns ids and times.
#[derive(Debug, Clone)]
pub struct SampleItem {
    pub title: String,
    pub author: String,
    pub digest: String,
    pub content: String,
}

/// 1..=8 items, most messages short (as real accounts publish them).
pub fn sample_message(rng: &mut Rng, serial: usize) -> Vec<SampleItem> {
    let count = match rng.below(10) {
        0..=4 => 1,
        5..=6 => 2,
        7 => 3,
        8 => 4 + rng.below(2),
        _ => 6 + rng.below(3),
    };
    (0..count)
        .map(|i| {
            let topic = rng.pick(TOPICS);
            let headline = rng.pick(HEADLINES);
            let title = if i == 0 {
                format!("{topic}｜{headline}")
            } else {
                format!("{headline}（{}）", serial % 97 + i)
            };
            let digest = rng.pick(DIGESTS).to_string();
            let content = format!(
                "<section><h1>{title}</h1><p>{digest}</p><p>第 {serial} 期 · 第 {} 篇</p></section>",
                i + 1
            );
            SampleItem {
                author: rng.pick(AUTHORS).to_string(),
                title,
                digest,
                content,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_messages_and_sizes_stay_in_1_to_8() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for serial in 0..500 {
            let x = sample_message(&mut a, serial);
            let y = sample_message(&mut b, serial);
            assert!((1..=8).contains(&x.len()));
            assert_eq!(
                x.iter().map(|i| &i.title).collect::<Vec<_>>(),
                y.iter().map(|i| &i.title).collect::<Vec<_>>()
            );
        }
    }
}
