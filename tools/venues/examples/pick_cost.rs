//! Cost of one best-available pick on a 20 000-seat venue, at 0 %, 50 % and
//! 95 % of seats unavailable (ADR 15; docs/benchmarks.md, best available).
//!
//! The pick is pure CPU: the event and the set of unavailable seat ids are
//! in memory, as the use case has them after its reads. Two ways a venue
//! fills: *scattered* (seats taken at random, the worst case for `together`:
//! gaps everywhere) and *best first* (taken in pick order, so the pick walks
//! past every full row). The baseline is one lookup of every seat in the
//! unavailable set — the least any pick that looks at each seat once costs.
//!
//! Usage: `cargo run --release -p venues --example pick_cost [REPETITIONS]`

#![allow(clippy::unwrap_used, clippy::cast_precision_loss)] // A benchmark: a failed unwrap is a failed run.

use std::collections::HashSet;
use std::hint::black_box;
use std::time::Instant;

use domain::event::Event;
use domain::ids::{EventId, SeatId, TenantId};
use domain::money::Currency;
use domain::seat_map::{BestAvailable, Pick, SeatLabel};
use domain::time::Timestamp;
use venues::{Dice, venue};

const SEATS: usize = 20_000;

/// The `per_cent` percentile of `samples`.
fn micros(samples: &mut [f64], per_cent: usize) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[(samples.len() - 1) * per_cent / 100]
}

/// `repetitions` timings of `work`, in µs.
fn time(repetitions: usize, mut work: impl FnMut()) -> Vec<f64> {
    (0..repetitions)
        .map(|_| {
            let started = Instant::now();
            work();
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect()
}

fn main() {
    let repetitions: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
    let seats = venue(SEATS, 2026);
    // Building the event from seats already in memory (as a read from the
    // store does): the same venue without its seat map is the baseline.
    let plain: Vec<_> = seats
        .iter()
        .map(|s| domain::event::Seat::new(s.id.clone(), s.price))
        .collect();
    let mut build_with_map = build_cost(&seats);
    let mut build_plain = build_cost(&plain);
    let event = arena(seats.clone()).unwrap();
    let (with_map, without) = (micros(&mut build_with_map, 50), micros(&mut build_plain, 50));
    println!(
        "{SEATS} seats, {repetitions} picks per row. Building the event: p50 {with_map:.0} µs with its seat map, \
         {without:.0} µs without (ratio {:.2}).\n",
        with_map / without
    );
    println!("| venue | unavailable | request | baseline p50 | pick p50 | pick p95 | ratio p50 |");
    println!("|---|---:|---|---:|---:|---:|---:|");
    let together = |quantity| BestAvailable {
        quantity,
        category: None,
        section: None,
        together: true,
    };
    let requests = [
        ("4 together", together(4)),
        ("6 together", together(6)),
        (
            "4 apart",
            BestAvailable {
                together: false,
                ..together(4)
            },
        ),
        (
            "2 together, premium",
            BestAvailable {
                category: Some(SeatLabel::parse("premium").unwrap()),
                ..together(2)
            },
        ),
    ];
    let mut worst: f64 = 0.0;
    for percent in [0_usize, 50, 95] {
        for fill in ["scattered", "best first"] {
            let unavailable = taken(&event, percent, fill);
            let mut baseline = time(repetitions, || {
                black_box(event.seats().iter().filter(|s| unavailable.contains(&s.id)).count());
            });
            let baseline = micros(&mut baseline, 50);
            for (name, request) in &requests {
                let mut picks = time(repetitions, || {
                    black_box(event.pick_best_available(request, |id| unavailable.contains(id)));
                });
                let (p50, p95) = (micros(&mut picks, 50), micros(&mut picks, 95));
                worst = worst.max(p50);
                println!(
                    "| {fill} | {percent} % | {name} | {baseline:.1} µs | {p50:.1} µs | {p95:.1} µs | {:.2} |",
                    p50 / baseline
                );
            }
        }
    }
    println!(
        "\nGoal pick p50 ≤ 1 ms on {SEATS} seats: worst {worst:.1} µs, {}.",
        if worst <= 1000.0 { "met" } else { "NOT met" }
    );
}

/// The benchmark's event of `seats`.
fn arena(seats: Vec<domain::event::Seat>) -> Result<Event, Vec<domain::event::EventRuleError>> {
    Event::new(
        TenantId::parse("acme").unwrap(),
        EventId::parse("arena").unwrap(),
        "Arena",
        Timestamp::from_millis(0),
        Currency::parse("EUR").unwrap(),
        seats,
    )
}

/// Timings of `Event::new` on copies of `seats` made beforehand, in µs.
fn build_cost(seats: &[domain::event::Seat]) -> Vec<f64> {
    (0..20)
        .map(|_| {
            let copy = seats.to_vec();
            let started = Instant::now();
            let event = arena(copy);
            let elapsed = started.elapsed().as_secs_f64() * 1e6;
            drop(black_box(event));
            elapsed
        })
        .collect()
}

/// `percent` of the venue's seats, taken at random (`scattered`) or in the
/// order single-seat picks would take them (`best first`).
fn taken(event: &Event, percent: usize, fill: &str) -> HashSet<SeatId> {
    let wanted = event.seats().len() * percent / 100;
    let mut unavailable = HashSet::with_capacity(wanted);
    if fill == "scattered" {
        let mut dice = Dice::new(percent as u64);
        let count = event.seats().len() as u64;
        while unavailable.len() < wanted {
            let seat = &event.seats()[usize::try_from(dice.between(0, count - 1)).unwrap()];
            unavailable.insert(seat.id.clone());
        }
    } else {
        let one_apart = BestAvailable {
            quantity: 48,
            category: None,
            section: None,
            together: false,
        };
        while unavailable.len() < wanted {
            let Pick::Seats(picked) = event.pick_best_available(&one_apart, |id| unavailable.contains(id)) else {
                break;
            };
            let room = wanted - unavailable.len();
            unavailable.extend(picked.into_iter().take(room));
        }
    }
    unavailable
}
