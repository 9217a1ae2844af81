//! Properties of the best-available pick over generated seat maps
//! (proptest). A brute-force reference, written from docs/contract.md's wording
//! and sharing no code with the pick, says which seats are best; the pick
//! must agree with it, and must return only available, matching seats
//! (adjacent ones with `together`) whenever a fit exists.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed property.

use std::collections::HashSet;

use domain::event::{Event, Seat};
use domain::ids::{EventId, SeatId, TenantId};
use domain::money::{Cents, Currency};
use domain::seat_map::{BestAvailable, Pick, SeatLabel, SeatPlace};
use domain::time::Timestamp;
use proptest::prelude::*;

/// A generated seat: section 0–2, row 0–3, a number (maybe none), category 0–1.
#[derive(Debug, Clone)]
struct GeneratedSeat {
    section: Option<u8>,
    row: Option<u8>,
    number: Option<u32>,
    category: u8,
    taken: bool,
}

fn generated_seat() -> impl Strategy<Value = GeneratedSeat> {
    (
        prop::option::weighted(0.9, 0_u8..3),
        prop::option::weighted(0.9, 0_u8..4),
        prop::option::weighted(0.9, 0_u32..14),
        0_u8..2,
        prop::bool::weighted(0.4),
    )
        .prop_map(|(section, row, number, category, taken)| GeneratedSeat {
            section,
            row,
            number,
            category,
            taken,
        })
}

fn label(prefix: &str, n: Option<u8>) -> Option<SeatLabel> {
    n.map(|n| SeatLabel::parse(&format!("{prefix}{n}")).unwrap())
}

/// The seats, with numbers made unique within each row (repeats dropped).
fn seat_map(generated: Vec<GeneratedSeat>) -> (Vec<Seat>, Vec<bool>) {
    let mut used = HashSet::new();
    let mut seats = Vec::new();
    let mut taken = Vec::new();
    for (i, g) in generated.into_iter().enumerate() {
        if g.number.is_some() && !used.insert((g.section, g.row, g.number)) {
            continue;
        }
        let mut seat = Seat::new(SeatId::parse(&format!("s{i}")).unwrap(), Cents(100));
        seat.place = SeatPlace {
            section: label("sec", g.section),
            row: label("row", g.row),
            number: g.number,
            category: label("cat", Some(g.category)),
        };
        seats.push(seat);
        taken.push(g.taken);
    }
    (seats, taken)
}

fn event(seats: Vec<Seat>) -> Event {
    Event::new(
        TenantId::parse("acme").unwrap(),
        EventId::parse("gig").unwrap(),
        "Gig",
        Timestamp::from_millis(0),
        Currency::parse("EUR").unwrap(),
        seats,
    )
    .unwrap()
}

/// docs/contract.md's order, brute force: a seat's row rank is (its section's
/// first position in the list, its row's first position in the list).
fn row_rank(seats: &[Seat], seat: &Seat) -> (usize, usize) {
    let section = seats
        .iter()
        .position(|s| s.place.section == seat.place.section)
        .unwrap();
    let row = seats
        .iter()
        .position(|s| s.place.section == seat.place.section && s.place.row == seat.place.row)
        .unwrap();
    (section, row)
}

/// Twice the middle of a seat's row: its lowest plus its highest number.
fn middle_x2(seats: &[Seat], seat: &Seat) -> u64 {
    let numbers: Vec<u64> = seats
        .iter()
        .filter(|s| s.place.section == seat.place.section && s.place.row == seat.place.row)
        .filter_map(|s| s.place.number.map(u64::from))
        .collect();
    numbers.iter().min().unwrap_or(&0) + numbers.iter().max().unwrap_or(&0)
}

/// The reference pick: every candidate, ordered by the documented rule.
fn reference(seats: &[Seat], taken: &[bool], request: &BestAvailable) -> Option<Vec<SeatId>> {
    let free = |i: usize| {
        !taken[i]
            && (request.category.is_none() || seats[i].place.category == request.category)
            && (request.section.is_none() || seats[i].place.section == request.section)
    };
    if request.together {
        // (row rank, distance from the middle, first number): smallest is best.
        type Rank = ((usize, usize), u64, u32);
        let mut best: Option<(Rank, Vec<SeatId>)> = None;
        for (i, seat) in seats.iter().enumerate() {
            let Some(first) = seat.place.number else { continue };
            if !free(i) {
                continue;
            }
            let mut run = vec![seat.id.clone()];
            for next in first + 1..first + u32::try_from(request.quantity).unwrap() {
                let found = seats.iter().position(|s| {
                    s.place.section == seat.place.section
                        && s.place.row == seat.place.row
                        && s.place.number == Some(next)
                });
                match found {
                    Some(j) if free(j) => run.push(seats[j].id.clone()),
                    _ => break,
                }
            }
            if run.len() < request.quantity {
                continue;
            }
            let last = u64::from(first) + request.quantity as u64 - 1;
            let key = (
                row_rank(seats, seat),
                (u64::from(first) + last).abs_diff(middle_x2(seats, seat)),
                first,
            );
            if best.as_ref().is_none_or(|(rank, _)| key < *rank) {
                best = Some((key, run));
            }
        }
        best.map(|(_, run)| run)
    } else {
        let mut candidates: Vec<usize> = (0..seats.len()).filter(|i| free(*i)).collect();
        candidates.sort_by_key(|i| {
            let seat = &seats[*i];
            let closeness = seat
                .place
                .number
                .map(|n| (2 * u64::from(n)).abs_diff(middle_x2(seats, seat)));
            (
                row_rank(seats, seat),
                closeness.is_none(),
                closeness,
                seat.place.number,
                *i,
            )
        });
        (candidates.len() >= request.quantity).then(|| {
            candidates[..request.quantity]
                .iter()
                .map(|i| seats[*i].id.clone())
                .collect()
        })
    }
}

fn request() -> impl Strategy<Value = BestAvailable> {
    (
        1_usize..6,
        prop::option::of(0_u8..2),
        prop::option::of(0_u8..3),
        any::<bool>(),
    )
        .prop_map(|(quantity, category, section, together)| BestAvailable {
            quantity,
            category: label("cat", category),
            section: label("sec", section),
            together,
        })
}

/// A generated case: the seats, which are taken, the event, and the taken ids.
fn case(generated: Vec<GeneratedSeat>) -> (Vec<Seat>, Vec<bool>, Event, HashSet<SeatId>) {
    let (seats, taken) = seat_map(generated);
    let event = event(seats.clone());
    let unavailable = seats
        .iter()
        .zip(&taken)
        .filter(|(_, t)| **t)
        .map(|(s, _)| s.id.clone())
        .collect();
    (seats, taken, event, unavailable)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// The pick returns the reference's seats, in its order, exactly when
    /// a fit exists; otherwise it counts the available matching seats.
    #[test]
    fn the_pick_is_the_best_fit_whenever_one_exists(
        generated in prop::collection::vec(generated_seat(), 1..80),
        request in request(),
    ) {
        let (seats, taken, event, unavailable) = case(generated);
        let pick = event.pick_best_available(&request, |id| unavailable.contains(id));
        match (reference(&seats, &taken, &request), pick) {
            (Some(best), Pick::Seats(picked)) => prop_assert_eq!(picked, best, "best by the documented order"),
            (None, Pick::NoFit { available }) => {
                let matching = seats.iter().zip(&taken).filter(|(s, t)| {
                    !**t
                        && (request.category.is_none() || s.place.category == request.category)
                        && (request.section.is_none() || s.place.section == request.section)
                });
                prop_assert_eq!(available, matching.count(), "available counts free matching seats");
            }
            (best, pick) => prop_assert!(false, "fit exists: {:?}, pick: {:?}", best.is_some(), pick),
        }
    }

    /// Whatever the reference says, a pick's seats are distinct, available,
    /// match the filters, and with `together` are consecutive numbers of one row.
    #[test]
    fn a_picked_hold_is_available_matching_and_adjacent_when_together(
        generated in prop::collection::vec(generated_seat(), 1..80),
        request in request(),
    ) {
        let (_, _, event, unavailable) = case(generated);
        if let Pick::Seats(picked) = event.pick_best_available(&request, |id| unavailable.contains(id)) {
            prop_assert_eq!(picked.len(), request.quantity);
            prop_assert_eq!(picked.iter().collect::<HashSet<_>>().len(), picked.len(), "distinct");
            let places: Vec<&SeatPlace> = picked.iter().map(|id| &event.seat(id).unwrap().place).collect();
            for (id, place) in picked.iter().zip(&places) {
                prop_assert!(!unavailable.contains(id), "only available seats");
                prop_assert!(request.category.is_none() || place.category == request.category);
                prop_assert!(request.section.is_none() || place.section == request.section);
            }
            if request.together {
                for pair in places.windows(2) {
                    prop_assert_eq!((&pair[0].section, &pair[0].row), (&pair[1].section, &pair[1].row), "one row");
                    prop_assert_eq!(pair[0].number.map(|n| n + 1), pair[1].number, "consecutive numbers");
                }
            }
        }
    }
}
