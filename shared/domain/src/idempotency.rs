//! Exactly-once order creation (I3): idempotency keys, scopes and the rule
//! that decides who may work on a key.
//!
//! A request claims its scope by writing an IN_PROGRESS record with a lease.
//! Whoever holds an unexpired lease owns the scope; a record whose lease ran
//! out (its owner crashed) or whose retention ran out may be claimed again.
//! The order id is derived from the scope, so even a takeover after a crash
//! cannot create a second order.

use std::fmt;

use crate::ids::{CustomerId, TenantId};
use crate::time::Timestamp;

/// Longest idempotency key, in characters.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyKeyError {
    #[error("must be 1 to 255 characters")]
    BadLength,
    #[error("may only contain visible ASCII characters")]
    BadCharacter,
}

/// A client-chosen key naming one logical request (the `Idempotency-Key` header).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(text: &str) -> Result<Self, IdempotencyKeyError> {
        if text.is_empty() || text.len() > MAX_IDEMPOTENCY_KEY_LEN {
            return Err(IdempotencyKeyError::BadLength);
        }
        if !text.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(IdempotencyKeyError::BadCharacter);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// SHA-256 of the canonical request body. Computed by the interface layer,
/// which owns the body's format; compared here as opaque bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

/// Whose key it is and for which operation: one customer's key never touches
/// another's, and the same key on two routes names two requests.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyScope {
    pub tenant: TenantId,
    pub customer: CustomerId,
    pub operation: &'static str,
    pub key: IdempotencyKey,
}

impl fmt::Display for IdempotencyScope {
    /// The canonical text of the scope. Tenant and customer ids cannot
    /// contain `:` and the operation is a constant, so with the free-form key
    /// last the text is unambiguous; it names storage keys and seeds order ids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}",
            self.tenant,
            self.customer,
            self.operation,
            self.key.as_str()
        )
    }
}

/// Identifies one attempt's claim on a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaseId(pub u128);

/// Seeds the order id of one idempotency record: chosen when the record is
/// created (the first attempt's lease id), inherited by a takeover, new when
/// a key is reused after its record's retention ran out. So a takeover lands
/// on the crashed attempt's order id, and a reused key never collides with
/// the order of the key's previous life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrderSeed(pub u128);

/// The phase of an existing idempotency record, as far as claiming goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordPhase {
    InProgress { lease_expires_at: Timestamp },
    Completed,
}

/// Whether a new attempt may claim a scope whose record is `existing`
/// (`None` when there is no record). Both adapters implement exactly this
/// rule: the in-memory one by calling it, DynamoDB as a condition expression.
pub fn may_claim(existing: Option<(RecordPhase, Timestamp)>, now: Timestamp) -> bool {
    match existing {
        None => true,
        Some((_, record_expires_at)) if now >= record_expires_at => true,
        Some((RecordPhase::InProgress { lease_expires_at }, _)) => now >= lease_expires_at,
        Some((RecordPhase::Completed, _)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: i64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    #[test]
    fn a_key_of_visible_ascii_up_to_255_characters_is_accepted() {
        assert!(IdempotencyKey::parse("order-1!~").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
    }

    #[test]
    fn an_empty_or_overlong_key_is_rejected() {
        assert_eq!(IdempotencyKey::parse(""), Err(IdempotencyKeyError::BadLength));
        assert_eq!(
            IdempotencyKey::parse(&"k".repeat(256)),
            Err(IdempotencyKeyError::BadLength)
        );
    }

    #[test]
    fn a_key_with_spaces_controls_or_non_ascii_is_rejected() {
        for bad in ["a b", "a\tb", "é", "a\u{7f}"] {
            assert_eq!(
                IdempotencyKey::parse(bad),
                Err(IdempotencyKeyError::BadCharacter),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_scope_text_names_tenant_customer_operation_and_key() {
        let scope = IdempotencyScope {
            tenant: TenantId::parse("acme").unwrap(),
            customer: CustomerId::parse("alice").unwrap(),
            operation: "POST /orders",
            key: IdempotencyKey::parse("k:1").unwrap(),
        };
        assert_eq!(scope.to_string(), "acme:alice:POST /orders:k:1");
    }

    #[test]
    fn a_fingerprint_prints_as_lowercase_hex() {
        let mut bytes = [0u8; 32];
        bytes[0] = 0xAB;
        assert!(Fingerprint(bytes).to_string().starts_with("ab00"));
        assert_eq!(Fingerprint(bytes).to_string().len(), 64);
    }

    #[test]
    fn a_scope_without_a_record_may_be_claimed() {
        assert!(may_claim(None, at(0)));
    }

    #[test]
    fn a_completed_record_may_not_be_claimed_until_it_expires() {
        assert!(!may_claim(Some((RecordPhase::Completed, at(100))), at(99)));
        assert!(may_claim(Some((RecordPhase::Completed, at(100))), at(100)));
    }

    #[test]
    fn an_in_progress_record_may_be_taken_over_once_its_lease_runs_out() {
        let running = RecordPhase::InProgress {
            lease_expires_at: at(50),
        };
        assert!(!may_claim(Some((running, at(100))), at(49)));
        assert!(may_claim(Some((running, at(100))), at(50)));
    }
}
