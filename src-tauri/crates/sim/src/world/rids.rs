//! Request ids: every error answer carries one, and `rid/get` tells what that request was for
//! 7 days.

use serde_json::{Value, json};

use super::{Call, RID_KEPT, World, err};

#[derive(Debug, Clone)]
pub(super) struct RidEntry {
    at: u64,
    url: String,
    body: String,
    response: String,
    ip: String,
}

impl World {
    pub fn new_rid(&mut self) -> String {
        self.rid_counter = self.rid_counter.wrapping_add(1);
        format!(
            "{:08x}-{:08x}-{:08x}",
            self.now() as u32,
            self.rid_counter,
            self.rng.next_u64() as u32
        )
    }

    /// Remembers what a request was and what it got, for `rid/get`.
    pub fn record_rid(&mut self, rid: &str, call: &Call<'_>, response: &str) {
        let entry = RidEntry {
            at: self.now(),
            url: call.url_for_log.to_string(),
            body: call.raw_body.to_string(),
            response: response.to_string(),
            ip: self.caller_ip.clone(),
        };
        self.rids.insert(rid.to_string(), entry);
    }

    pub(super) fn rid_get(&self, body: &Value, now: u64) -> Result<Value, (i64, String)> {
        let rid = body.get("rid").and_then(Value::as_str).unwrap_or_default();
        let well_formed = rid.split('-').count() == 3
            && rid
                .split('-')
                .all(|g| g.len() == 8 && g.chars().all(|c| c.is_ascii_hexdigit()));
        if !well_formed {
            return err(76002, "rid error");
        }
        match self.rids.get(rid) {
            Some(e) if now < e.at + RID_KEPT => Ok(json!({"request": {
                "invoke_time": e.at,
                "cost_in_ms": 12,
                "request_url": e.url,
                "request_body": e.body,
                "response_body": e.response,
                "client_ip": e.ip,
            }})),
            _ => err(76001, "rid not found"),
        }
    }
}
