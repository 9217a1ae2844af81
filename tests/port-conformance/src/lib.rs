//! # Port conformance suites
//!
//! The written contracts in `application::ports`, as code. Each adapter's
//! tests call [`seat_lock_conformance!`] or [`store_conformance!`] with a
//! function that builds a fresh [`SeatLockFixture`] / [`StoreFixture`]; the
//! macro generates one named test per case, so the in-memory, Redis and
//! DynamoDB adapters are held to exactly the same behaviour.
//!
//! Every case uses its own random tenant, so suites can share one server.

// The suite asserts; a failed expectation is a failed conformance test.
#![allow(clippy::missing_panics_doc, clippy::unwrap_used, clippy::expect_used)]
// Fixtures hold trait objects; printing them would say nothing useful.
#![allow(missing_debug_implementations)]

pub mod seat_locks;
pub mod store;

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use application::ports::{EventCatalog, HoldStore, IdempotencyStore, OrderStore, SeatLocks};
use domain::ids::{EventId, SeatId, TenantId};

/// Moves time for TTL-based expiry: a manual clock, or real waiting for
/// backends whose clock we do not control (Redis).
pub trait TimeControl: Send + Sync {
    fn advance(&self, by: Duration) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>>;
}

/// Real time: for Redis, whose TTLs run on its own clock.
#[derive(Debug, Clone, Copy)]
pub struct RealTime;

impl TimeControl for RealTime {
    fn advance(&self, by: Duration) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(tokio::time::sleep(by))
    }
}

/// A seat-lock adapter under test, and whatever keeps its server alive.
pub struct SeatLockFixture {
    pub locks: Arc<dyn SeatLocks>,
    pub time: Arc<dyn TimeControl>,
    pub keep_alive: Box<dyn Any + Send>,
}

/// The durable-store adapters under test (usually one object behind all four).
pub struct StoreFixture {
    pub events: Arc<dyn EventCatalog>,
    pub holds: Arc<dyn HoldStore>,
    pub orders: Arc<dyn OrderStore>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub keep_alive: Box<dyn Any + Send>,
}

/// A tenant no other case uses.
pub fn unique_tenant() -> TenantId {
    TenantId::parse(&format!("t{}", uuid::Uuid::new_v4().simple())).unwrap()
}

pub fn event_id(name: &str) -> EventId {
    EventId::parse(name).unwrap()
}

pub fn seats(names: &[&str]) -> Vec<SeatId> {
    names.iter().map(|n| SeatId::parse(n).unwrap()).collect()
}

/// Generates one `#[tokio::test]` per seat-lock case, each with a fresh fixture from `$setup`.
#[macro_export]
macro_rules! seat_lock_conformance {
    ($setup:path) => {
        $crate::seat_lock_conformance!(@cases $setup;
            a_lock_takes_every_seat_or_none_and_lists_every_conflict_in_request_order,
            sold_seats_are_never_lockable_and_stay_sold,
            a_hold_may_relock_its_own_seats,
            release_only_removes_the_holds_own_locks_and_is_repeatable,
            an_expired_lock_is_free_and_lockable_again,
            the_same_seat_in_another_event_or_tenant_is_independent,
            empty_seat_lists_are_no_ops,
            extend_moves_only_the_holds_own_locks,
            mirror_fills_missing_locks_marks_sold_and_clears_unbacked_ones,
            a_sold_marker_runs_out_after_its_ttl_and_unsold_removes_only_markers,
            an_unsold_seat_ignores_sold_markers_for_its_window_but_not_holds,
        );
    };
    (@cases $setup:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let fixture = $setup().await;
                $crate::seat_locks::$case(&fixture).await;
            }
        )*
    };
}

/// Generates one `#[tokio::test]` per durable-store case, each with a fresh fixture from `$setup`.
#[macro_export]
macro_rules! store_conformance {
    ($setup:path) => {
        $crate::store_conformance!(@cases $setup;
            an_event_round_trips_with_a_version_and_writes_are_optimistic,
            change_marks_record_breaking_versions_and_a_freeze_is_exclusive_until_a_put_ends_it,
            a_broken_freeze_fences_its_writer_out,
            an_event_with_twenty_thousand_seats_round_trips,
            an_event_with_the_largest_seat_map_round_trips,
            a_hold_round_trips_and_is_invisible_to_other_tenants,
            placing_claims_every_seat_or_none_and_names_what_claims_them,
            releasing_is_conditional_on_an_active_unexpired_hold_and_frees_its_claims,
            extending_moves_the_hold_and_its_claims_together_and_a_retried_move_succeeds,
            extending_an_ended_or_changed_hold_or_one_that_lost_a_seat_writes_nothing,
            an_abandoned_placement_never_leaves_an_active_hold_whether_or_not_it_had_landed,
            a_claim_is_exclusive_until_its_lease_or_retention_runs_out,
            a_write_retried_after_it_was_applied_is_recognised_as_ours,
            a_completed_record_replays_its_exact_answer,
            completing_or_abandoning_needs_the_current_lease,
            a_commit_writes_order_sold_seats_hold_and_record_together,
            a_commit_on_a_seat_its_hold_lost_names_it_and_writes_nothing,
            a_commit_on_an_inactive_or_foreign_hold_writes_nothing,
            a_commit_without_the_lease_writes_nothing,
            a_cancel_frees_the_seats_and_completes_the_record_together_and_a_resend_succeeds,
            a_cancel_of_a_cancelled_order_or_without_the_lease_writes_nothing,
            a_cancel_never_frees_a_seat_another_order_sold,
            a_counted_placement_needs_the_tally_version_it_read_and_writes_nothing_otherwise,
            a_counted_hold_leaves_the_tally_when_released_or_lapsed_and_counts_as_its_order_until_cancelled,
            holds_and_orders_without_a_limit_leave_no_tally,
            a_hold_counted_out_of_its_tally_is_neither_converted_nor_extended,
            forgetting_tally_entries_removes_only_those_named_and_creates_no_tally,
        );
    };
    (@cases $setup:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let fixture = $setup().await;
                $crate::store::$case(&fixture).await;
            }
        )*
    };
}

#[cfg(test)]
mod registration {
    //! A case is written once, as a `pub async fn` taking its fixture, and
    //! named once in its macro; a case written but not named would run on no
    //! adapter, and nothing else would fail. These tests are that failure.

    use std::collections::BTreeSet;

    const LIB: &str = include_str!("lib.rs");

    /// The `pub async fn` names in `source` whose one parameter is
    /// `f: &fixture` (rustfmt may wrap a long signature over lines).
    fn cases_written(source: &str, fixture: &str) -> BTreeSet<String> {
        let wanted = format!("f: &{fixture}");
        source
            .split("\npub async fn ")
            .skip(1)
            .filter_map(|rest| {
                let (name, rest) = rest.split_once('(')?;
                let (params, _) = rest.split_once(')')?;
                let params: String = params.split_whitespace().collect::<Vec<_>>().join(" ");
                (params.trim_end_matches(',') == wanted).then(|| name.trim().to_owned())
            })
            .collect()
    }

    /// The names listed after `macro_name!(@cases $setup;` up to its `);`.
    fn cases_named(macro_name: &str) -> BTreeSet<String> {
        let start = format!("$crate::{macro_name}!(@cases $setup;");
        let list = LIB.split_once(&start).map(|(_, rest)| rest).unwrap_or_default();
        let list = list.split_once(");").map(|(list, _)| list).unwrap_or_default();
        list.split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_seat_lock_case_is_named_in_its_macro_and_every_name_is_a_case() {
        let written = cases_written(include_str!("seat_locks.rs"), "SeatLockFixture");
        assert!(written.len() >= 10, "the reader found the cases: {written:?}");
        assert_eq!(written, cases_named("seat_lock_conformance"));
    }

    #[test]
    fn every_store_case_is_named_in_its_macro_and_every_name_is_a_case() {
        let written = cases_written(include_str!("store.rs"), "StoreFixture");
        assert!(written.len() >= 20, "the reader found the cases: {written:?}");
        assert_eq!(written, cases_named("store_conformance"));
    }

    #[test]
    fn a_case_left_out_of_the_macro_is_seen() {
        let source = "\npub async fn named(f: &StoreFixture) {}\npub async fn forgotten(\n    f: &StoreFixture,\n) {}\nasync fn helper(f: &StoreFixture) {}\n";
        let written = cases_written(source, "StoreFixture");
        assert!(written.contains("forgotten") && written.len() == 2, "{written:?}");
    }
}
