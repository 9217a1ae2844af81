//! I9 from the hold's side: whether a recorded hold may stand on the event
//! it was placed on, once its claims are written.
//!
//! A replacement that could break holds is checked and written under a
//! freeze (put_event). A hold reads the event's change marks only after its
//! claims are written, so either the replacement's check sees the claims or
//! the hold sees the freeze or the new version, and steps back.

use super::placement::Placement;
use crate::errors::UseCaseError;

impl Placement<'_> {
    /// Whether the hold, written on the event at `version`, may stand: no
    /// replacement that could break it is being checked or landed since,
    /// or the one that landed kept its seats and currency. A freeze whose
    /// time has passed by this clock is broken first ([`EventCatalog::break_freeze`]):
    /// its writer can then no longer land, however late its write arrives.
    ///
    /// [`EventCatalog::break_freeze`]: crate::ports::EventCatalog::break_freeze
    pub(super) async fn still_stands(&self, version: u64) -> Result<bool, UseCaseError> {
        let (hold, ports) = (&self.hold, &self.use_cases.ports);
        let events = &ports.events;
        let mut marks = events.change_marks(&hold.tenant, &hold.event).await?;
        let now = ports.clock.now();
        if let Some(lapsed) = marks.and_then(|marks| marks.frozen_until).filter(|until| *until <= now) {
            events.break_freeze(&hold.tenant, &hold.event, lapsed).await?;
            // Broken by us, or ended by its writer's put meanwhile: read what
            // the event is now.
            marks = events.change_marks(&hold.tenant, &hold.event).await?;
        }
        if marks.is_some_and(|marks| marks.frozen_until.is_some()) {
            // A live freeze (or, after a break, another replacement's).
            return Ok(false);
        }
        let replaced = marks.is_none_or(|marks| marks.breaking_version > version);
        Ok(!replaced || self.still_fits_event().await?)
    }

    /// Whether the event as it is now still has every seat of the hold, at
    /// its currency: a breaking replacement that landed may not have touched it.
    async fn still_fits_event(&self) -> Result<bool, UseCaseError> {
        let hold = &self.hold;
        let Some(current) = self.use_cases.ports.events.get(&hold.tenant, &hold.event).await? else {
            return Ok(false);
        };
        Ok(current.event.currency == hold.currency
            && (hold.counts_toward_limit || current.event.max_seats_per_customer.is_none())
            && hold.seats.iter().all(|seat| current.event.seat(&seat.id).is_some()))
    }
}
