//! Test support: realistic seat maps for races and benchmarks.
//!
//! A venue is sections in a fixed order (Stalls, Circle, Balcony, then
//! numbered upper tiers), each of rows "A", "B", … of 20–40 seats numbered
//! from 1. The first three rows of each section are category "premium",
//! the rest "standard". Row lengths come from a seeded generator, so one
//! seed is one venue, on every machine.

use domain::event::Seat;
use domain::ids::SeatId;
use domain::money::Cents;
use domain::seat_map::{SeatLabel, SeatPlace};

/// Rows per section before the next section starts.
const ROWS_PER_SECTION: usize = 26;

/// A deterministic generator (SplitMix64): no dependency, same numbers everywhere.
#[derive(Debug, Clone)]
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `low..=high`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }
}

/// A section's name and the prefix of its seat ids.
fn section_name(index: usize) -> (String, String) {
    match index {
        0 => ("Stalls".to_owned(), "S".to_owned()),
        1 => ("Circle".to_owned(), "C".to_owned()),
        2 => ("Balcony".to_owned(), "B".to_owned()),
        n => (format!("Tier {}", n - 2), format!("T{}", n - 2)),
    }
}

/// The row label of row `index` within its section: A…Z.
fn row_name(index: usize) -> String {
    char::from(b'A' + u8::try_from(index % 26).unwrap_or(0)).to_string()
}

fn label(text: &str) -> Option<SeatLabel> {
    SeatLabel::parse(text).ok()
}

/// A venue of exactly `seats` seats (the last row may be shorter), priced
/// by category; ids are `<section initial><tier>-<row><number>`, e.g. `S-A12`.
pub fn venue(seats: usize, seed: u64) -> Vec<Seat> {
    let mut dice = Dice::new(seed);
    let mut venue = Vec::with_capacity(seats);
    let mut row_index = 0;
    while venue.len() < seats {
        let (section, prefix) = section_name(row_index / ROWS_PER_SECTION);
        let row = row_name(row_index % ROWS_PER_SECTION);
        let premium = row_index % ROWS_PER_SECTION < 3;
        let length = usize::try_from(dice.between(20, 40))
            .unwrap_or(20)
            .min(seats - venue.len());
        for number in 1..=length {
            let id = format!("{prefix}-{row}{number}");
            let Ok(id) = SeatId::parse(&id) else { continue };
            let mut seat = Seat::new(id, Cents(if premium { 9000 } else { 4500 }));
            seat.place = SeatPlace {
                section: label(&section),
                row: label(&row),
                number: u32::try_from(number).ok(),
                category: label(if premium { "premium" } else { "standard" }),
            };
            venue.push(seat);
        }
        row_index += 1;
    }
    venue
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_venue_has_the_asked_size_rows_of_twenty_to_forty_and_unique_ids() {
        let seats = venue(20_000, 7);
        assert_eq!(seats.len(), 20_000);
        let ids: std::collections::HashSet<&str> = seats.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids.len(), seats.len(), "unique ids");
        let mut rows: std::collections::HashMap<(String, String), usize> = std::collections::HashMap::new();
        for seat in &seats {
            let key = (
                seat.place.section.as_ref().map(ToString::to_string).unwrap_or_default(),
                seat.place.row.as_ref().map(ToString::to_string).unwrap_or_default(),
            );
            *rows.entry(key).or_default() += 1;
        }
        // Every row but the venue's last is 20–40 seats.
        assert!(rows.values().filter(|n| !(20..=40).contains(*n)).count() <= 1);
        assert_eq!(venue(500, 7)[..], seats[..500], "one seed, one venue");
    }
}
