//! A seat's status — AVAILABLE, HELD or SOLD — derived in ONE place, for
//! availability (`get_availability`) and for checking a replacement
//! (`put_event`).
//!
//! The durable claims decide (I6, I7): a sold claim (or the previous
//! release's sold record, which the store reads as one) is SOLD, a live
//! hold's claim is HELD. The seat locks add one thing only: a seat locked by
//! a hold and without a claim is HELD, because holds placed by the release
//! before claims are known only there (ADR 12, until the backfill). A sold
//! marker in the seat locks never makes a seat SOLD: every sale has a durable
//! claim, so a marker without one is stale (left by a sale since cancelled,
//! or written back late) and the seat is AVAILABLE, as the order commit
//! (which goes by the claims) treats it. Place-hold is the one exception, by
//! design: its fast filter refuses a seat with a sold marker without reading
//! the claims, so such a seat shows AVAILABLE but cannot be held until the
//! marker lapses (`SOLD_MARKER_TTL`, 5 minutes; docs/contract.md, "Seats may
//! stay unavailable briefly").
//!
//! Availability passes no locks: it reads the claims alone (never Redis), so
//! a hold of the previous release shows AVAILABLE there until it ends, while
//! a replacement that could break holds asks the locks too (ADR 12).

use domain::event::SeatStatus;
use domain::hold::SeatClaim;

use crate::ports::SeatLock;

/// The status of a seat with live claim `claim` (`None`: no claim) and seat
/// lock `lock` (`None`: not asked).
pub(crate) fn seat_status(claim: Option<&SeatClaim>, lock: Option<&SeatLock>) -> SeatStatus {
    match (claim, lock) {
        (Some(SeatClaim::Sold), _) => SeatStatus::Sold,
        (Some(SeatClaim::HeldBy { .. }), _) | (None, Some(SeatLock::HeldBy(_))) => SeatStatus::Held,
        (None, Some(SeatLock::Sold | SeatLock::Free) | None) => SeatStatus::Available,
    }
}

#[cfg(test)]
mod tests {
    use domain::ids::HoldId;
    use domain::time::Timestamp;

    use super::*;

    fn hold() -> HoldId {
        HoldId::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001).unwrap()
    }

    #[test]
    fn the_claim_decides_whatever_the_lock_says() {
        let held = SeatClaim::HeldBy {
            hold: hold(),
            until: Timestamp::from_millis(1),
        };
        for lock in [
            None,
            Some(SeatLock::Free),
            Some(SeatLock::Sold),
            Some(SeatLock::HeldBy(hold())),
        ] {
            assert_eq!(seat_status(Some(&SeatClaim::Sold), lock.as_ref()), SeatStatus::Sold);
            assert_eq!(seat_status(Some(&held), lock.as_ref()), SeatStatus::Held);
        }
    }

    #[test]
    fn without_a_claim_a_holds_lock_is_held_and_a_sold_marker_is_stale() {
        assert_eq!(seat_status(None, Some(&SeatLock::HeldBy(hold()))), SeatStatus::Held);
        assert_eq!(seat_status(None, Some(&SeatLock::Sold)), SeatStatus::Available);
        assert_eq!(seat_status(None, Some(&SeatLock::Free)), SeatStatus::Available);
        assert_eq!(seat_status(None, None), SeatStatus::Available);
    }
}
