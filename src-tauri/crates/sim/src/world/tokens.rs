//! Access tokens: the stable and the plain token call, the token service, and the checks every
//! business call passes first (a live token, the IP whitelist).

use serde_json::{Value, json};

use super::{
    FORCE_REFRESH_GAP, FORCE_REFRESH_PER_DAY, ROTATE_BEFORE, TOKEN_LIFETIME, World, beijing_day,
    err,
};

#[derive(Debug)]
pub(super) struct Token {
    appid: String,
    expires_at: u64,
    revoked: bool,
    stable: bool,
    /// Handed out by the token service (stands for a third-party platform's token).
    via_service: bool,
}

impl World {
    pub(super) fn stable_token(&mut self, body: &Value) -> Result<Value, (i64, String)> {
        let (appid, force) = self.check_credentials(body)?;
        let now = self.now();
        let day = self.day();
        let account = self
            .accounts
            .get_mut(&appid)
            .ok_or((40013, "invalid appid".into()))?;
        if force {
            account.force_refreshes.retain(|t| beijing_day(*t) == day);
            let too_soon = account
                .force_refreshes
                .last()
                .is_some_and(|t| now < t + FORCE_REFRESH_GAP);
            if account.force_refreshes.len() as u32 >= FORCE_REFRESH_PER_DAY || too_soon {
                return err(45009, "reach max api daily quota limit");
            }
            account.force_refreshes.push(now);
            for token in self.tokens.values_mut() {
                if token.appid == appid && token.stable {
                    token.revoked = true;
                }
            }
        } else if let Some(current) = account.current_stable.clone()
            && let Some(t) = self.tokens.get(&current)
            && !t.revoked
            && t.expires_at > now + ROTATE_BEFORE
        {
            return Ok(json!({"access_token": current, "expires_in": t.expires_at - now}));
        }
        let token = self.issue(&appid, true);
        Ok(json!({"access_token": token, "expires_in": TOKEN_LIFETIME}))
    }

    /// The endpoint Retract must never call; it behaves as WeChat's does (revokes the last one).
    pub(super) fn plain_token(&mut self, body: &Value) -> Result<Value, (i64, String)> {
        let (appid, _) = self.check_credentials(body)?;
        for token in self.tokens.values_mut() {
            if token.appid == appid && !token.stable {
                token.revoked = true;
            }
        }
        let token = self.issue(&appid, false);
        Ok(json!({"access_token": token, "expires_in": TOKEN_LIFETIME}))
    }

    /// The simulated company token service hands out the first account's stable token.
    pub(super) fn issue_for_service(&mut self) -> Result<Value, (i64, String)> {
        let Some(appid) = self.accounts.keys().min().cloned() else {
            return err(40013, "no account");
        };
        let secret = self.accounts[&appid].spec.secret.clone();
        let answer = self.stable_token(
            &json!({"grant_type":"client_credential","appid":appid,"secret":secret}),
        )?;
        if let Some(t) = answer
            .get("access_token")
            .and_then(Value::as_str)
            .and_then(|t| self.tokens.get_mut(t))
        {
            t.via_service = true;
        }
        Ok(answer)
    }

    /// With `whitelist_on_business_calls`, business calls are refused from an IP outside the
    /// whitelist: 40164, or 61004 (the platform's whitelist) for a token-service token.
    pub(super) fn check_business_ip(
        &self,
        appid: &str,
        via_service: bool,
    ) -> Result<(), (i64, String)> {
        if !self.quirks.whitelist_on_business_calls {
            return Ok(());
        }
        let Some(list) = self
            .accounts
            .get(appid)
            .and_then(|a| a.spec.whitelist.as_ref())
        else {
            return Ok(());
        };
        if list.iter().any(|ip| ip == &self.caller_ip) {
            return Ok(());
        }
        let ip = &self.caller_ip;
        Err(if via_service {
            (
                61004,
                format!("access clientip is not registered requestIP: {ip}"),
            )
        } else {
            (
                40164,
                format!("invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist"),
            )
        })
    }

    pub(super) fn check_credentials(&self, body: &Value) -> Result<(String, bool), (i64, String)> {
        if body.get("grant_type").and_then(Value::as_str) != Some("client_credential") {
            return err(40002, "invalid grant_type");
        }
        let appid = body
            .get("appid")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let secret = body
            .get("secret")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some(account) = self.accounts.get(appid) else {
            return err(40013, "invalid appid");
        };
        if account.spec.secret != secret {
            return err(40125, "invalid appsecret");
        }
        if let Some(list) = &account.spec.whitelist
            && !list.iter().any(|ip| ip == &self.caller_ip)
        {
            let ip = &self.caller_ip;
            return Err((
                40164,
                format!("invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist"),
            ));
        }
        if account.spec.risky_ip {
            return err(89503, "此次调用需要管理员确认，请耐心等候");
        }
        let force = match body.get("force_refresh") {
            Some(Value::Bool(b)) => *b,
            Some(Value::Number(n)) => n.as_i64() == Some(1),
            _ => false,
        };
        Ok((appid.to_string(), force))
    }

    pub(super) fn issue(&mut self, appid: &str, stable: bool) -> String {
        let token = format!("{}_{}", self.rng.token(100), self.rng.hex(12));
        let expires_at = self.now() + TOKEN_LIFETIME;
        self.tokens.insert(
            token.clone(),
            Token {
                appid: appid.to_string(),
                expires_at,
                revoked: false,
                stable,
                via_service: false,
            },
        );
        if stable && let Some(account) = self.accounts.get_mut(appid) {
            account.current_stable = Some(token.clone());
        }
        token
    }

    pub(super) fn check_token(&self, token: Option<&str>) -> Result<(String, bool), (i64, String)> {
        let Some(token) = token.filter(|t| !t.is_empty()) else {
            return err(41001, "access_token missing");
        };
        if token.len() > 512
            || !token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return err(40014, "invalid access_token");
        }
        match self.tokens.get(token) {
            Some(t) if t.revoked => err(
                40001,
                "invalid credential, access_token is invalid or not latest",
            ),
            Some(t) if t.expires_at <= self.now() => err(42001, "access_token expired"),
            Some(t) => Ok((t.appid.clone(), t.via_service)),
            None => err(
                40001,
                "invalid credential, access_token is invalid or not latest",
            ),
        }
    }
}
