//! The `SeatLocks` contract, case by case.

use std::time::Duration;

use application::ports::{LockError, MirroredLock, SeatLock};
use domain::ids::HoldId;

use crate::{SeatLockFixture, event_id, seats, unique_tenant};

fn hold(n: u64) -> HoldId {
    HoldId::parse(&format!("01890a5d-ac96-7{n:03x}-bcce-b302099a8057")).unwrap()
}

const MINUTE: Duration = Duration::from_secs(60);

fn unavailable(result: Result<(), LockError>) -> Vec<domain::ids::SeatId> {
    match result {
        Err(LockError::Unavailable(seats)) => seats,
        other => panic!("expected seats unavailable, got {other:?}"),
    }
}

pub async fn a_lock_takes_every_seat_or_none_and_lists_every_conflict_in_request_order(f: &SeatLockFixture) {
    let (tenant, event) = (unique_tenant(), event_id("gig"));
    f.locks
        .lock(&tenant, &event, &seats(&["A", "B"]), hold(1), MINUTE)
        .await
        .unwrap();
    let conflict = f
        .locks
        .lock(&tenant, &event, &seats(&["C", "B", "D", "A"]), hold(2), MINUTE)
        .await;
    assert_eq!(unavailable(conflict), seats(&["B", "A"]));
    let states = f
        .locks
        .inspect(&tenant, &event, &seats(&["A", "B", "C", "D"]))
        .await
        .unwrap();
    assert_eq!(
        states,
        [
            SeatLock::HeldBy(hold(1)),
            SeatLock::HeldBy(hold(1)),
            SeatLock::Free,
            SeatLock::Free
        ]
    );
}

pub async fn sold_seats_are_never_lockable_and_stay_sold(f: &SeatLockFixture) {
    let (tenant, event) = (unique_tenant(), event_id("gig"));
    f.locks
        .lock(&tenant, &event, &seats(&["A"]), hold(1), MINUTE)
        .await
        .unwrap();
    f.locks
        .mark_sold(&tenant, &event, &seats(&["A", "B"]), MINUTE)
        .await
        .unwrap();
    let conflict = f
        .locks
        .lock(&tenant, &event, &seats(&["B", "C", "A"]), hold(2), MINUTE)
        .await;
    assert_eq!(unavailable(conflict), seats(&["B", "A"]));
    f.locks.release(&tenant, &event, &seats(&["A"]), hold(1)).await.unwrap();
    let states = f
        .locks
        .inspect(&tenant, &event, &seats(&["A", "B", "C"]))
        .await
        .unwrap();
    assert_eq!(states, [SeatLock::Sold, SeatLock::Sold, SeatLock::Free]);
}

pub async fn a_hold_may_relock_its_own_seats(f: &SeatLockFixture) {
    let (tenant, event) = (unique_tenant(), event_id("gig"));
    f.locks
        .lock(&tenant, &event, &seats(&["A"]), hold(1), MINUTE)
        .await
        .unwrap();
    f.locks
        .lock(&tenant, &event, &seats(&["A", "B"]), hold(1), MINUTE)
        .await
        .unwrap();
    let states = f.locks.inspect(&tenant, &event, &seats(&["A", "B"])).await.unwrap();
    assert_eq!(states, [SeatLock::HeldBy(hold(1)); 2]);
}

pub async fn release_only_removes_the_holds_own_locks_and_is_repeatable(f: &SeatLockFixture) {
    let (tenant, event) = (unique_tenant(), event_id("gig"));
    f.locks
        .lock(&tenant, &event, &seats(&["A"]), hold(1), MINUTE)
        .await
        .unwrap();
    f.locks
        .lock(&tenant, &event, &seats(&["B"]), hold(2), MINUTE)
        .await
        .unwrap();
    f.locks
        .release(&tenant, &event, &seats(&["A", "B"]), hold(2))
        .await
        .unwrap();
    f.locks
        .release(&tenant, &event, &seats(&["A", "B"]), hold(2))
        .await
        .unwrap();
    let states = f.locks.inspect(&tenant, &event, &seats(&["A", "B"])).await.unwrap();
    assert_eq!(states, [SeatLock::HeldBy(hold(1)), SeatLock::Free]);
}

pub async fn an_expired_lock_is_free_and_lockable_again(f: &SeatLockFixture) {
    let (tenant, event) = (unique_tenant(), event_id("gig"));
    f.locks
        .lock(&tenant, &event, &seats(&["A"]), hold(1), Duration::from_millis(150))
        .await
        .unwrap();
    f.time.advance(Duration::from_millis(300)).await;
    assert_eq!(
        f.locks.inspect(&tenant, &event, &seats(&["A"])).await.unwrap(),
        [SeatLock::Free]
    );
    f.locks
        .lock(&tenant, &event, &seats(&["A"]), hold(2), MINUTE)
        .await
        .unwrap();
}

pub async fn a_sold_marker_runs_out_after_its_ttl_and_unsold_removes_only_markers(f: &SeatLockFixture) {
    let (tenant, event) = (unique_tenant(), event_id("gig"));
    f.locks
        .mark_sold(&tenant, &event, &seats(&["A"]), Duration::from_millis(150))
        .await
        .unwrap();
    f.locks
        .mark_sold(&tenant, &event, &seats(&["B"]), MINUTE)
        .await
        .unwrap();
    f.locks
        .lock(&tenant, &event, &seats(&["C"]), hold(1), MINUTE)
        .await
        .unwrap();
    f.time.advance(Duration::from_millis(300)).await;
    f.locks
        .mirror(
            &tenant,
            &event,
            &[
                (
                    seats(&["B"])[0].clone(),
                    MirroredLock::Unsold {
                        ignore_sold_for: Some(MINUTE),
                    },
                ),
                (
                    seats(&["C"])[0].clone(),
                    MirroredLock::Unsold {
                        ignore_sold_for: Some(MINUTE),
                    },
                ),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        f.locks
            .inspect(&tenant, &event, &seats(&["A", "B", "C"]))
            .await
            .unwrap(),
        [SeatLock::Free, SeatLock::Free, SeatLock::HeldBy(hold(1))],
        "A ran out, B was unmarked, C's hold lock is not a marker"
    );
}

/// A cancel's unmark keeps a write-back that read the claims before the
/// cancel (or the order's own slow `mark_sold`) from marking the freed seat
/// sold again; a new hold still locks it, and after the window markers are
/// written as before.
pub async fn an_unsold_seat_ignores_sold_markers_for_its_window_but_not_holds(f: &SeatLockFixture) {
    let (tenant, event) = (unique_tenant(), event_id("gig"));
    let window = Duration::from_millis(1500);
    f.locks
        .mark_sold(&tenant, &event, &seats(&["A", "B"]), MINUTE)
        .await
        .unwrap();
    f.locks
        .mirror(
            &tenant,
            &event,
            &[(
                seats(&["A"])[0].clone(),
                MirroredLock::Unsold {
                    ignore_sold_for: Some(window),
                },
            )],
        )
        .await
        .unwrap();
    let late_markers_of_a = || async {
        f.locks
            .mark_sold(&tenant, &event, &seats(&["A"]), MINUTE)
            .await
            .unwrap();
        let write_back = [(seats(&["A"])[0].clone(), MirroredLock::Sold { ttl: MINUTE })];
        f.locks.mirror(&tenant, &event, &write_back).await.unwrap();
    };
    late_markers_of_a().await;
    assert_eq!(
        f.locks.inspect(&tenant, &event, &seats(&["A", "B"])).await.unwrap(),
        [SeatLock::Free, SeatLock::Sold],
        "late markers of A are ignored; B was never unsold"
    );
    f.locks
        .lock(&tenant, &event, &seats(&["A"]), hold(1), MINUTE)
        .await
        .unwrap();
    late_markers_of_a().await;
    assert_eq!(
        f.locks.inspect(&tenant, &event, &seats(&["A"])).await.unwrap(),
        [SeatLock::HeldBy(hold(1))],
        "a new hold of the freed seat is not overwritten by a late marker"
    );
    f.time.advance(Duration::from_millis(1700)).await;
    f.locks
        .mark_sold(&tenant, &event, &seats(&["A"]), MINUTE)
        .await
        .unwrap();
    assert_eq!(
        f.locks.inspect(&tenant, &event, &seats(&["A"])).await.unwrap(),
        [SeatLock::Sold],
        "after the window, a sale marks the seat again"
    );
}

pub async fn the_same_seat_in_another_event_or_tenant_is_independent(f: &SeatLockFixture) {
    let (tenant, other_tenant) = (unique_tenant(), unique_tenant());
    f.locks
        .lock(&tenant, &event_id("gig"), &seats(&["A"]), hold(1), MINUTE)
        .await
        .unwrap();
    f.locks
        .lock(&tenant, &event_id("other"), &seats(&["A"]), hold(2), MINUTE)
        .await
        .unwrap();
    f.locks
        .lock(&other_tenant, &event_id("gig"), &seats(&["A"]), hold(3), MINUTE)
        .await
        .unwrap();
}

pub async fn empty_seat_lists_are_no_ops(f: &SeatLockFixture) {
    let (tenant, event) = (unique_tenant(), event_id("gig"));
    f.locks.lock(&tenant, &event, &[], hold(1), MINUTE).await.unwrap();
    f.locks.release(&tenant, &event, &[], hold(1)).await.unwrap();
    f.locks.mark_sold(&tenant, &event, &[], MINUTE).await.unwrap();
    assert!(f.locks.inspect(&tenant, &event, &[]).await.unwrap().is_empty());
}

pub async fn extend_moves_only_the_holds_own_locks(f: &SeatLockFixture) {
    let (tenant, event) = (unique_tenant(), event_id("gig"));
    let short = Duration::from_millis(300);
    f.locks
        .lock(&tenant, &event, &seats(&["A"]), hold(1), short)
        .await
        .unwrap();
    f.locks
        .lock(&tenant, &event, &seats(&["B"]), hold(2), short)
        .await
        .unwrap();
    f.locks
        .extend(&tenant, &event, &seats(&["A", "B", "C"]), hold(1), MINUTE)
        .await
        .unwrap();
    f.time.advance(Duration::from_millis(600)).await;
    assert_eq!(
        f.locks
            .inspect(&tenant, &event, &seats(&["A", "B", "C"]))
            .await
            .unwrap(),
        [SeatLock::HeldBy(hold(1)), SeatLock::Free, SeatLock::Free],
        "only hold 1's own lock lives on; nothing was created"
    );
}

pub async fn mirror_fills_missing_locks_marks_sold_and_clears_unbacked_ones(f: &SeatLockFixture) {
    let (tenant, event) = (unique_tenant(), event_id("gig"));
    f.locks
        .lock(&tenant, &event, &seats(&["A", "D"]), hold(1), MINUTE)
        .await
        .unwrap();
    f.locks
        .mark_sold(&tenant, &event, &seats(&["E"]), MINUTE)
        .await
        .unwrap();
    f.locks
        .lock(&tenant, &event, &seats(&["F"]), hold(3), MINUTE)
        .await
        .unwrap();
    let held_by_2 = MirroredLock::Held {
        hold: hold(2),
        ttl: MINUTE,
    };
    f.locks
        .mirror(
            &tenant,
            &event,
            &[
                (seats(&["A"])[0].clone(), held_by_2),
                (seats(&["B"])[0].clone(), held_by_2),
                (seats(&["C"])[0].clone(), MirroredLock::Sold { ttl: MINUTE }),
                (seats(&["D"])[0].clone(), MirroredLock::Free { owner: hold(1) }),
                (seats(&["E"])[0].clone(), MirroredLock::Free { owner: hold(1) }),
                (seats(&["F"])[0].clone(), MirroredLock::Free { owner: hold(2) }),
            ],
        )
        .await
        .unwrap();
    assert_eq!(
        f.locks
            .inspect(&tenant, &event, &seats(&["A", "B", "C", "D", "E", "F"]))
            .await
            .unwrap(),
        [
            SeatLock::HeldBy(hold(1)),
            SeatLock::HeldBy(hold(2)),
            SeatLock::Sold,
            SeatLock::Free,
            SeatLock::Sold,
            SeatLock::HeldBy(hold(3))
        ],
        "a held lock fills only a gap, sold replaces, free clears only the named hold's lock"
    );
    f.locks.mirror(&tenant, &event, &[]).await.unwrap();
}
