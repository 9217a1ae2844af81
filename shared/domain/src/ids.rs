//! Validated identifiers.
//!
//! Every id that crosses a trust boundary is parsed once, here, into a type
//! that cannot hold an invalid value (docs/contract.md, Identity and
//! tenancy). Tenant, customer, event and seat ids are short slugs of
//! `[A-Za-z0-9._-]`; hold and order ids are UUIDs. Keeping the alphabet
//! narrow also keeps storage keys unambiguous: none of these ids can contain
//! the `#`, `:` or `{}` separators that the adapters use to build keys.

use std::fmt;

use crate::time::Timestamp;
use crate::uuid_text;

/// Why a piece of text is not a valid identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must start with a letter or digit and contain only letters, digits, '.', '_' and '-'")]
    BadCharacter,
    #[error("must be a UUID")]
    NotAUuid,
    #[error("must be a version 7 UUID")]
    WrongUuidVersion,
}

fn parse_slug(text: &str, max: usize) -> Result<String, IdError> {
    if text.is_empty() {
        return Err(IdError::Empty);
    }
    if text.len() > max {
        return Err(IdError::TooLong { max });
    }
    // Starting with a letter or digit rules out `.` and `..`, which a client
    // resolving a Location header would treat as path steps.
    if !text.as_bytes()[0].is_ascii_alphanumeric()
        || !text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err(IdError::BadCharacter);
    }
    Ok(text.to_owned())
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident, max = $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Longest accepted id, in characters.
            pub const MAX_LEN: usize = $max;

            /// Parses untrusted text.
            pub fn parse(text: &str) -> Result<Self, IdError> {
                parse_slug(text, Self::MAX_LEN).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

slug_id!(
    /// The organisation (venue, promoter) that owns events, holds and orders.
    TenantId,
    max = 64
);
slug_id!(
    /// A buyer within a tenant (the JWT `sub`).
    CustomerId,
    max = 64
);
slug_id!(
    /// An event (a concert, a match) within a tenant.
    EventId,
    max = 64
);
slug_id!(
    /// A seat within an event, e.g. `A-12`.
    SeatId,
    max = 32
);

/// A hold's id: a UUID v7, so ids sort by creation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HoldId(u128);

impl HoldId {
    /// When the id was made: a UUID v7 starts with its Unix time in
    /// milliseconds (48 bits). Tells a lock whose hold may still be being
    /// placed from one that outlived its placement.
    pub fn minted_at(self) -> Timestamp {
        Timestamp::from_millis(i64::try_from(self.0 >> 80).unwrap_or(i64::MAX))
    }

    /// Wraps freshly generated UUID v7 bits.
    pub fn from_u128(bits: u128) -> Result<Self, IdError> {
        if uuid_text::version(bits) == 7 {
            Ok(Self(bits))
        } else {
            Err(IdError::WrongUuidVersion)
        }
    }

    /// Parses untrusted text (hyphenated UUID, any hex case).
    pub fn parse(text: &str) -> Result<Self, IdError> {
        let bits = uuid_text::parse(text).ok_or(IdError::NotAUuid)?;
        Self::from_u128(bits)
    }

    pub fn as_u128(self) -> u128 {
        self.0
    }
}

impl fmt::Display for HoldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        uuid_text::write(self.0, f)
    }
}

/// An order's id: a UUID derived from the idempotency scope, so a retry that
/// takes over after a crash reproduces the same id (docs/contract.md,
/// Identity and tenancy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderId(u128);

impl OrderId {
    pub fn from_u128(bits: u128) -> Self {
        Self(bits)
    }

    /// Parses untrusted text (hyphenated UUID, any hex case).
    pub fn parse(text: &str) -> Result<Self, IdError> {
        uuid_text::parse(text).map(Self).ok_or(IdError::NotAUuid)
    }

    pub fn as_u128(self) -> u128 {
        self.0
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        uuid_text::write(self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_of_letters_digits_dots_underscores_and_dashes_is_accepted() {
        assert_eq!(
            TenantId::parse("acme.co_2-x").map(|t| t.to_string()),
            Ok("acme.co_2-x".to_owned())
        );
    }

    #[test]
    fn an_empty_id_is_rejected() {
        assert_eq!(EventId::parse(""), Err(IdError::Empty));
    }

    #[test]
    fn a_tenant_id_of_64_characters_is_accepted_and_65_is_rejected() {
        assert!(TenantId::parse(&"t".repeat(64)).is_ok());
        assert_eq!(TenantId::parse(&"t".repeat(65)), Err(IdError::TooLong { max: 64 }));
    }

    #[test]
    fn a_seat_id_longer_than_32_characters_is_rejected() {
        assert!(SeatId::parse(&"s".repeat(32)).is_ok());
        assert_eq!(SeatId::parse(&"s".repeat(33)), Err(IdError::TooLong { max: 32 }));
    }

    #[test]
    fn ids_with_key_separators_or_spaces_are_rejected() {
        for bad in ["a#b", "a:b", "{a}", "a b", "é", "a/b"] {
            assert_eq!(CustomerId::parse(bad), Err(IdError::BadCharacter), "{bad}");
        }
    }

    #[test]
    fn a_hold_id_must_be_a_version_7_uuid() {
        let v7 = "01890a5d-ac96-774b-bcce-b302099a8057";
        assert_eq!(HoldId::parse(v7).map(|h| h.to_string()), Ok(v7.to_owned()));
        assert_eq!(
            HoldId::parse("0e3f1a52-3b8a-4f6e-9a5c-2f1d1c9b8a7e"),
            Err(IdError::WrongUuidVersion)
        );
        assert_eq!(HoldId::parse("not-a-uuid"), Err(IdError::NotAUuid));
    }

    #[test]
    fn a_hold_id_tells_when_it_was_minted() {
        let id = HoldId::parse("01890a5d-ac96-774b-bcce-b302099a8057").unwrap();
        assert_eq!(id.minted_at(), Timestamp::from_millis(0x0189_0a5d_ac96));
    }

    #[test]
    fn an_order_id_accepts_any_uuid_and_prints_lowercase() {
        let id = OrderId::parse("0E3F1A52-3B8A-5F6E-9A5C-2F1D1C9B8A7E");
        assert_eq!(
            id.map(|o| o.to_string()),
            Ok("0e3f1a52-3b8a-5f6e-9a5c-2f1d1c9b8a7e".to_owned())
        );
    }
}
