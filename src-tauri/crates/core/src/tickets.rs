//! Single-use confirmations for actions that have no plan of their own: `clear_quota` (10 a
//! month, shared with the web console), removing an account, starting at login.
//!
//! The UI asks for a ticket when it opens the confirm dialog and hands it back with the
//! confirmation; Rust accepts a ticket once, for the account it was issued for, within
//! [`TICKET_TTL_SECS`]. A bare call of the command (no dialog opened), a second call, or a call
//! for another account gets `ConfirmationRejected` and nothing is sent. Tickets live in memory
//! only: a restart forgets them, and the operator confirms again.
//!
//! What this proves: that a confirm dialog for this account and action was opened in the last
//! five minutes, and that its confirmation is used once. It is not a boundary against script in
//! the webview, which could ask for a ticket itself (`prepare_*` answers the window); that
//! script is kept out instead (see `commands/deletions.rs` and the threat model).

use std::collections::HashMap;
use std::sync::Mutex;

use crate::CoreError;
use crate::accounts::AccountId;

/// How long a confirm dialog may stay open before its ticket is refused.
pub const TICKET_TTL_SECS: i64 = 5 * 60;

/// What a ticket allows. One kind today; the type keeps a ticket for one action from
/// confirming another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketAction {
    ClearQuota,
    /// Removing an account (its keyring entries and its index).
    RemoveAccount,
    /// Starting Retract at login, or not (for the app, not an account: [`APP`]).
    Autostart,
}

/// The "account" of tickets that concern the whole app.
pub const APP: AccountId = AccountId(0);

#[derive(Debug, Default)]
pub struct Tickets {
    issued: Mutex<HashMap<(AccountId, TicketAction), (String, i64)>>,
}

impl Tickets {
    /// Issues a fresh ticket for `action` on `account`, replacing any earlier one.
    pub fn issue(
        &self,
        account: AccountId,
        action: TicketAction,
        now: i64,
    ) -> Result<String, CoreError> {
        let nonce = crate::plan::random_nonce()?;
        self.lock().insert((account, action), (nonce.clone(), now));
        Ok(nonce)
    }

    /// Accepts `nonce` once. Whatever the answer, the ticket is gone afterwards.
    pub fn redeem(
        &self,
        account: AccountId,
        action: TicketAction,
        nonce: &str,
        now: i64,
    ) -> Result<(), CoreError> {
        let issued = self.lock().remove(&(account, action));
        match issued {
            Some((expected, at)) if expected == nonce && now - at <= TICKET_TTL_SECS && now >= at => {
                Ok(())
            }
            Some((expected, _)) if expected == nonce => Err(CoreError::ConfirmationRejected(
                "the confirmation is older than 5 minutes; open the dialog again".into(),
            )),
            _ => Err(CoreError::ConfirmationRejected(
                "this confirmation was not issued for this account or was used already; open the dialog again"
                    .into(),
            )),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(AccountId, TicketAction), (String, i64)>> {
        self.issued.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const A: AccountId = AccountId(1);
    const B: AccountId = AccountId(2);

    #[test]
    fn a_ticket_confirms_once_for_its_account_within_its_time() {
        let t = Tickets::default();
        let n = t.issue(A, TicketAction::ClearQuota, 1_000).unwrap();
        assert_eq!(n.len(), 32);
        assert!(
            t.redeem(B, TicketAction::ClearQuota, &n, 1_001).is_err(),
            "another account"
        );
        // A wrong guess burns the ticket: no retries against the same one.
        let n = t.issue(A, TicketAction::ClearQuota, 1_000).unwrap();
        assert!(
            t.redeem(A, TicketAction::ClearQuota, "guess", 1_001)
                .is_err()
        );
        assert!(t.redeem(A, TicketAction::ClearQuota, &n, 1_001).is_err());

        let n = t.issue(A, TicketAction::ClearQuota, 1_000).unwrap();
        t.redeem(A, TicketAction::ClearQuota, &n, 1_000 + TICKET_TTL_SECS)
            .unwrap();
        assert!(
            t.redeem(A, TicketAction::ClearQuota, &n, 1_001).is_err(),
            "single use"
        );

        let late = t.issue(A, TicketAction::ClearQuota, 1_000).unwrap();
        let err = t
            .redeem(A, TicketAction::ClearQuota, &late, 1_001 + TICKET_TTL_SECS)
            .unwrap_err();
        assert!(err.to_string().contains("5 minutes"), "{err}");
    }

    #[test]
    fn a_newer_ticket_replaces_the_older_one() {
        let t = Tickets::default();
        let old = t.issue(A, TicketAction::ClearQuota, 10).unwrap();
        let new = t.issue(A, TicketAction::ClearQuota, 11).unwrap();
        assert_ne!(old, new);
        assert!(t.redeem(A, TicketAction::ClearQuota, &old, 12).is_err());
        assert!(
            t.redeem(A, TicketAction::ClearQuota, &new, 12).is_err(),
            "the wrong one burned it"
        );
    }
}
