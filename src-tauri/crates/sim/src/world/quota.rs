//! Quotas: each call counted per Beijing day and per minute, `quota/get`, and `clear_quota`
//! with its monthly allowance.

use serde_json::{Value, json};

use super::{Account, CLEAR_QUOTA_PER_MONTH, World, beijing_month, err};

impl Account {
    pub(super) fn count_call(
        &mut self,
        path: &str,
        day: i64,
        minute: u64,
        minute_limit: u32,
    ) -> Result<(), (i64, String)> {
        let Some(&limit) = self.limits.get(path) else {
            return Ok(());
        };
        let used = self.used.entry((path.to_string(), day)).or_default();
        if *used >= limit {
            return err(45009, "reach max api daily quota limit");
        }
        let this_minute = self
            .per_minute
            .entry((path.to_string(), minute))
            .or_default();
        if *this_minute >= minute_limit {
            return err(
                45011,
                "api minute-quota reach limit, must slower, retry next minute",
            );
        }
        *used += 1;
        *this_minute += 1;
        Ok(())
    }

    pub(super) fn quota(
        &self,
        body: &Value,
        day: i64,
        minute_limit: u32,
    ) -> Result<Value, (i64, String)> {
        let path = body
            .get("cgi_path")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !path.starts_with('/') {
            return err(76003, "cgi_path must start with /");
        }
        let Some(&limit) = self.limits.get(path) else {
            return err(76021, "cgi_path not found");
        };
        let used = self
            .used
            .get(&(path.to_string(), day))
            .copied()
            .unwrap_or(0);
        Ok(json!({
            "errcode": 0, "errmsg": "ok",
            "quota": {"daily_limit": limit, "used": used, "remain": limit.saturating_sub(used)},
            "rate_limit": {"call_count": minute_limit, "refresh_second": 60},
            "component_rate_limit": {"call_count": minute_limit, "refresh_second": 60},
        }))
    }

    pub(super) fn clear_quota(
        &mut self,
        appid: &str,
        body: &Value,
        now: u64,
    ) -> Result<Value, (i64, String)> {
        if body.get("appid").and_then(Value::as_str) != Some(appid) {
            return err(40013, "invalid appid");
        }
        let month = beijing_month(now);
        self.clear_quota_calls
            .retain(|t| beijing_month(*t) == month);
        if self.clear_quota_calls.len() as u32 >= CLEAR_QUOTA_PER_MONTH {
            return err(48006, "forbid to clear quota because of reaching the limit");
        }
        self.clear_quota_calls.push(now);
        self.used.clear();
        self.per_minute.clear();
        Ok(json!({"errcode": 0, "errmsg": "ok"}))
    }
}

impl World {
    pub(crate) fn used_today(&self, appid: &str, path: &str) -> u32 {
        let day = self.day();
        self.accounts
            .get(appid)
            .and_then(|a| a.used.get(&(path.to_string(), day)))
            .copied()
            .unwrap_or(0)
    }
}
