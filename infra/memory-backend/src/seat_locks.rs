//! Seat locks in a map, with the same semantics as the Redis scripts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use application::ports::{BackendError, Clock, LockError, MirroredLock, SeatLock, SeatLocks};
use async_trait::async_trait;
use domain::ids::{EventId, HoldId, SeatId, TenantId};
use domain::time::Timestamp;

#[derive(Debug, Clone, Copy)]
enum Entry {
    Held { hold: HoldId, expires_at: Timestamp },
    Sold { expires_at: Timestamp },
}

type EventKey = (TenantId, EventId);

/// One event's seat locks, and until when each cancelled sale's seat
/// ignores sold markers (Redis's `unsold:` keys).
#[derive(Debug, Default)]
struct EventLocks {
    seats: HashMap<SeatId, Entry>,
    unsold_until: HashMap<SeatId, Timestamp>,
}

impl EventLocks {
    fn marks_sold(&mut self, seat: &SeatId, ttl: Duration, now: Timestamp) {
        if self.unsold_until.get(seat).is_some_and(|until| *until > now) {
            return;
        }
        self.seats.insert(
            seat.clone(),
            Entry::Sold {
                expires_at: now.plus(ttl),
            },
        );
    }
}

/// Seat locks for every event, expiring by the injected clock.
pub struct MemorySeatLocks {
    clock: Arc<dyn Clock>,
    events: Mutex<HashMap<EventKey, EventLocks>>,
}

impl std::fmt::Debug for MemorySeatLocks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySeatLocks").finish_non_exhaustive()
    }
}

impl MemorySeatLocks {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            events: Mutex::new(HashMap::new()),
        }
    }

    /// Drops every lock and sold marker, as a Redis flush or failover would.
    /// Exists so tests can prove I6: losing the locks never oversells.
    pub fn forget_everything(&self) {
        self.map().clear();
    }

    /// How many seat entries (locks, sold markers and unsold windows) are
    /// kept, for the soak test.
    pub fn entries(&self) -> usize {
        self.map()
            .values()
            .map(|locks| locks.seats.len() + locks.unsold_until.len())
            .sum()
    }

    fn map(&self) -> MutexGuard<'_, HashMap<EventKey, EventLocks>> {
        // A panic while holding the lock cannot leave a half-applied change:
        // every critical section below checks before it writes.
        self.events.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn current(entry: Option<&Entry>, now: Timestamp) -> SeatLock {
    match entry {
        Some(Entry::Sold { expires_at }) if *expires_at > now => SeatLock::Sold,
        Some(Entry::Held { hold, expires_at }) if *expires_at > now => SeatLock::HeldBy(*hold),
        _ => SeatLock::Free,
    }
}

#[async_trait]
impl SeatLocks for MemorySeatLocks {
    async fn lock(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
        ttl: Duration,
    ) -> Result<(), LockError> {
        let now = self.clock.now();
        let mut events = self.map();
        let locks = &mut events.entry((tenant.clone(), event.clone())).or_default().seats;
        let taken: Vec<SeatId> = seats
            .iter()
            .filter(|seat| match current(locks.get(*seat), now) {
                SeatLock::Free => false,
                SeatLock::HeldBy(owner) => owner != hold,
                SeatLock::Sold => true,
            })
            .cloned()
            .collect();
        if !taken.is_empty() {
            return Err(LockError::Unavailable(taken));
        }
        let expires_at = now.plus(ttl);
        for seat in seats {
            locks.insert(seat.clone(), Entry::Held { hold, expires_at });
        }
        // Lapsed locks are dropped whenever an event's map doubles, so a
        // long-running dev server stays bounded (like Redis's PX).
        if locks.len() >= 64 && locks.len().is_power_of_two() {
            locks.retain(|_, entry| match entry {
                Entry::Held { expires_at, .. } | Entry::Sold { expires_at } => *expires_at > now,
            });
        }
        Ok(())
    }

    async fn release(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
    ) -> Result<(), BackendError> {
        let mut events = self.map();
        if let Some(locks) = events.get_mut(&(tenant.clone(), event.clone())).map(|e| &mut e.seats) {
            for seat in seats {
                if matches!(locks.get(seat), Some(Entry::Held { hold: owner, .. }) if *owner == hold) {
                    locks.remove(seat);
                }
            }
        }
        Ok(())
    }

    async fn inspect(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
    ) -> Result<Vec<SeatLock>, BackendError> {
        let now = self.clock.now();
        let events = self.map();
        let locks = events.get(&(tenant.clone(), event.clone())).map(|e| &e.seats);
        Ok(seats
            .iter()
            .map(|seat| current(locks.and_then(|l| l.get(seat)), now))
            .collect())
    }

    async fn mark_sold(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        ttl: Duration,
    ) -> Result<(), BackendError> {
        let now = self.clock.now();
        let mut events = self.map();
        let locks = events.entry((tenant.clone(), event.clone())).or_default();
        for seat in seats {
            locks.marks_sold(seat, ttl, now);
        }
        Ok(())
    }

    async fn extend(
        &self,
        tenant: &TenantId,
        event: &EventId,
        seats: &[SeatId],
        hold: HoldId,
        ttl: Duration,
    ) -> Result<(), BackendError> {
        let now = self.clock.now();
        let mut events = self.map();
        if let Some(locks) = events.get_mut(&(tenant.clone(), event.clone())).map(|e| &mut e.seats) {
            for seat in seats {
                if current(locks.get(seat), now) == SeatLock::HeldBy(hold) {
                    locks.insert(
                        seat.clone(),
                        Entry::Held {
                            hold,
                            expires_at: now.plus(ttl),
                        },
                    );
                }
            }
        }
        Ok(())
    }

    async fn mirror(
        &self,
        tenant: &TenantId,
        event: &EventId,
        mirrored: &[(SeatId, MirroredLock)],
    ) -> Result<(), BackendError> {
        let now = self.clock.now();
        let mut events = self.map();
        let locks = events.entry((tenant.clone(), event.clone())).or_default();
        for (seat, lock) in mirrored {
            match (*lock, current(locks.seats.get(seat), now)) {
                (MirroredLock::Held { hold, ttl }, SeatLock::Free) => {
                    locks.seats.insert(
                        seat.clone(),
                        Entry::Held {
                            hold,
                            expires_at: now.plus(ttl),
                        },
                    );
                }
                (MirroredLock::Sold { ttl }, _) => locks.marks_sold(seat, ttl, now),
                (MirroredLock::Unsold { ignore_sold_for }, held) => {
                    if held == SeatLock::Sold {
                        locks.seats.remove(seat);
                    }
                    if let Some(window) = ignore_sold_for {
                        locks.unsold_until.retain(|_, until| *until > now);
                        locks.unsold_until.insert(seat.clone(), now.plus(window));
                    }
                }
                (MirroredLock::Free { owner }, SeatLock::HeldBy(holder)) if owner == holder => {
                    locks.seats.remove(seat);
                }
                _ => {}
            }
        }
        Ok(())
    }
}
