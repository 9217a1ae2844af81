//! Seats and the seat map — each seat's id, price and where it is (`section`, `row`, `number`) and what
//! kind it is (`category`) — and the best-available pick over it
//! (docs/contract.md, Routes: best available; ADR 15).
//!
//! Every field is optional, so events defined before the map keep working.
//! A row is identified by its section and row label together; a missing
//! section or row is a value of its own. Numbers are unique within a row, so
//! "consecutive numbers" means one thing.
//!
//! **Best first.** Sections in the order the event first lists them, rows
//! within a section likewise, then the seats closest to the middle of the
//! row (the midpoint of its lowest and highest number). With `together`, the
//! pick is `quantity` consecutive numbers in one row: the first row that has
//! such a run, and in it the run whose centre is closest to the middle (the
//! lower numbers on a tie). Without `together`, seats are taken one by one in
//! that order; unnumbered seats come after the numbered ones of their row,
//! in the event's order.
//!
//! The rows are indexed once, when the event is built; a pick walks only as
//! far as it must (docs/benchmarks.md, best available).

use std::collections::HashMap;
use std::fmt;

use crate::ids::SeatId;
use crate::money::Cents;

/// A seat for sale, its current price, and its place on the seat map.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seat {
    pub id: SeatId,
    pub price: Cents,
    pub place: SeatPlace,
}

impl Seat {
    /// A seat with no place on the seat map (no section, row, number or category).
    pub fn new(id: SeatId, price: Cents) -> Self {
        Self {
            id,
            price,
            place: SeatPlace::default(),
        }
    }
}

/// Longest section, row or category label, in characters.
pub const MAX_LABEL_CHARS: usize = 32;
/// Longest label in bytes of UTF-8: with it, 2 000 seats with the longest
/// ids and labels stay under DynamoDB's 400 KB item limit, and 20 000 under
/// its 4 MB transaction limit (ADR 15).
pub const MAX_LABEL_BYTES: usize = 40;
/// Highest seat number.
pub const MAX_SEAT_NUMBER: u32 = 100_000;

/// Why a piece of text is not a valid label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("must not be blank")]
    Blank,
    #[error("must be at most {MAX_LABEL_CHARS} characters and {MAX_LABEL_BYTES} bytes of UTF-8")]
    TooLong,
    #[error("must not contain control characters, '\"' or '\\'")]
    BadCharacter,
}

/// A section, row or category name as the organizer writes it ("Stalls",
/// "AA", "Premium"): trimmed, 1–32 characters (at most 40 bytes), no
/// control characters, quotes or backslashes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeatLabel(String);

impl SeatLabel {
    /// Parses untrusted text.
    pub fn parse(text: &str) -> Result<Self, LabelError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(LabelError::Blank);
        }
        if text.chars().count() > MAX_LABEL_CHARS || text.len() > MAX_LABEL_BYTES {
            return Err(LabelError::TooLong);
        }
        // Quotes and backslashes double in JSON and again in a Lambda event:
        // without them a 4 MiB event body stays within Lambda's 6 MB (ADR 15).
        if text.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
            return Err(LabelError::BadCharacter);
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SeatLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a seat is and what kind it is. All optional.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeatPlace {
    pub section: Option<SeatLabel>,
    pub row: Option<SeatLabel>,
    /// 0–[`MAX_SEAT_NUMBER`], unique within the section and row.
    pub number: Option<u32>,
    pub category: Option<SeatLabel>,
}

/// A best-available request: `quantity` seats matching the filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BestAvailable {
    /// 1..=`MAX_SEATS_PER_HOLD`, checked by the caller.
    pub quantity: usize,
    pub category: Option<SeatLabel>,
    pub section: Option<SeatLabel>,
    /// Consecutive numbers in one row (the default).
    pub together: bool,
}

/// What a pick found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// The best seats, in the order they were chosen (together: ascending numbers).
    Seats(Vec<SeatId>),
    /// Nothing fits; `available` seats match the filters and are available.
    NoFit { available: usize },
}

/// One row of the event, its seats ordered for picking.
#[derive(Debug, PartialEq, Eq)]
struct SeatRow {
    /// Positions in the event's seat list: numbered seats by ascending
    /// number, then unnumbered ones in the event's order.
    seats: Vec<usize>,
    /// How many of `seats` have a number.
    numbered: usize,
    /// Twice the row's middle (lowest + highest number): whole numbers only.
    middle_x2: u64,
}

/// An event's rows, best first. Built once per event.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SeatRows {
    rows: Vec<SeatRow>,
}

impl SeatRows {
    /// Groups `seats` into rows, best first; also returns the positions of
    /// seats whose number repeats within their row (every one after the
    /// first), which [`Event::new`](crate::event::Event::new) rejects.
    pub(crate) fn index(seats: &[Seat]) -> (Self, Vec<usize>) {
        let mut section_rank: HashMap<Option<&str>, usize> = HashMap::new();
        let mut row_of: HashMap<(Option<&str>, Option<&str>), usize> = HashMap::new();
        let mut rows: Vec<(usize, Vec<usize>)> = Vec::new();
        for (position, seat) in seats.iter().enumerate() {
            let section = seat.place.section.as_ref().map(SeatLabel::as_str);
            let row = seat.place.row.as_ref().map(SeatLabel::as_str);
            let next_rank = section_rank.len();
            let rank = *section_rank.entry(section).or_insert(next_rank);
            let next_row = rows.len();
            let index = *row_of.entry((section, row)).or_insert(next_row);
            if index == next_row {
                rows.push((rank, Vec::new()));
            }
            rows[index].1.push(position);
        }
        // Stable: rows of one section keep their first-listed order.
        rows.sort_by_key(|(rank, _)| *rank);
        let mut repeated = Vec::new();
        let rows = rows
            .into_iter()
            .map(|(_, mut members)| {
                members.sort_by_key(|p| (seats[*p].place.number.is_none(), seats[*p].place.number, *p));
                let numbered = members.iter().take_while(|p| seats[**p].place.number.is_some()).count();
                for pair in members[..numbered].windows(2) {
                    if seats[pair[0]].place.number == seats[pair[1]].place.number {
                        repeated.push(pair[1]);
                    }
                }
                let number = |i: usize| u64::from(seats[members[i]].place.number.unwrap_or(0));
                let middle_x2 = if numbered == 0 {
                    0
                } else {
                    number(0) + number(numbered - 1)
                };
                SeatRow {
                    seats: members,
                    numbered,
                    middle_x2,
                }
            })
            .collect();
        repeated.sort_unstable();
        (Self { rows }, repeated)
    }

    /// The best seats for `request` among those not `unavailable`.
    pub(crate) fn pick(&self, seats: &[Seat], request: &BestAvailable, unavailable: impl Fn(&SeatId) -> bool) -> Pick {
        let quantity = request.quantity.max(1);
        let section_matches = |row: &SeatRow| {
            request.section.is_none()
                || row
                    .seats
                    .first()
                    .is_some_and(|p| seats[*p].place.section == request.section)
        };
        let free = |position: usize| {
            let seat = &seats[position];
            (request.category.is_none() || seat.place.category == request.category) && !unavailable(&seat.id)
        };
        let mut chosen = Vec::with_capacity(quantity);
        // Free seats seen in rows without a fit: when nothing fits, every
        // matching row was seen, so this is the answer's `available`.
        let mut seen_free = 0;
        for row in self.rows.iter().filter(|row| section_matches(row)) {
            if request.together {
                match best_run(row, seats, quantity, &free) {
                    Ok(run) => return Pick::Seats(run.iter().map(|p| seats[*p].id.clone()).collect()),
                    Err(free_numbered) => {
                        seen_free += free_numbered + row.seats[row.numbered..].iter().filter(|p| free(**p)).count();
                    }
                }
            } else {
                for position in closest_to_middle(row, seats) {
                    if free(position) {
                        chosen.push(seats[position].id.clone());
                        if chosen.len() == quantity {
                            return Pick::Seats(chosen);
                        }
                    }
                }
            }
        }
        // Apart, every free matching seat was chosen and still too few.
        Pick::NoFit {
            available: if request.together { seen_free } else { chosen.len() },
        }
    }
}

/// How many of `seats` match `request`'s filters and are not `unavailable`.
pub(crate) fn count_available(seats: &[Seat], request: &BestAvailable, unavailable: impl Fn(&SeatId) -> bool) -> usize {
    seats
        .iter()
        .filter(|seat| {
            (request.section.is_none() || seat.place.section == request.section)
                && (request.category.is_none() || seat.place.category == request.category)
                && !unavailable(&seat.id)
        })
        .count()
}

/// The run of `quantity` free consecutive numbers in `row` whose centre is
/// closest to the row's middle (lower numbers on a tie); if there is none,
/// how many of the row's numbered seats are free.
fn best_run<'r>(
    row: &'r SeatRow,
    seats: &[Seat],
    quantity: usize,
    free: &impl Fn(usize) -> bool,
) -> Result<&'r [usize], usize> {
    let numbered = &row.seats[..row.numbered];
    let number = |i: usize| u64::from(seats[numbered[i]].place.number.unwrap_or(0));
    let mut best: Option<(u64, usize)> = None;
    let mut run_start = 0;
    let mut free_seats = 0;
    for (i, &position) in numbered.iter().enumerate() {
        if !free(position) {
            run_start = i + 1;
            continue;
        }
        free_seats += 1;
        if i > run_start && number(i) != number(i - 1) + 1 {
            run_start = i;
        }
        if i + 1 >= run_start + quantity {
            let first = i + 1 - quantity;
            let distance = (number(first) + number(i)).abs_diff(row.middle_x2);
            if best.is_none_or(|(d, _)| distance < d) {
                best = Some((distance, first));
            }
        }
    }
    best.map(|(_, first)| &numbered[first..first + quantity])
        .ok_or(free_seats)
}

/// A row's seats closest to its middle first (the lower number on a tie),
/// then its unnumbered seats in the event's order.
fn closest_to_middle<'r>(row: &'r SeatRow, seats: &'r [Seat]) -> impl Iterator<Item = usize> + 'r {
    let numbered = &row.seats[..row.numbered];
    let twice = move |i: usize| 2 * u64::from(seats[numbered[i]].place.number.unwrap_or(0));
    // `right` is the first seat at or past the middle; `left` walks down from before it.
    let mut right = numbered.partition_point(|p| 2 * u64::from(seats[*p].place.number.unwrap_or(0)) < row.middle_x2);
    let mut left = right;
    let outward = std::iter::from_fn(move || {
        let take_left = match (left > 0, right < numbered.len()) {
            (false, false) => return None,
            (true, false) => true,
            (false, true) => false,
            (true, true) => row.middle_x2 - twice(left - 1) <= twice(right) - row.middle_x2,
        };
        if take_left {
            left -= 1;
            Some(numbered[left])
        } else {
            right += 1;
            Some(numbered[right - 1])
        }
    });
    outward.chain(row.seats[row.numbered..].iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, EventRuleError};
    use crate::ids::{EventId, TenantId};
    use crate::money::Currency;
    use crate::time::Timestamp;

    #[allow(clippy::unnecessary_wraps)] // Reads as the optional field it fills.
    fn label(text: &str) -> Option<SeatLabel> {
        Some(SeatLabel::parse(text).unwrap())
    }

    /// `rows` as (section, row, first number, seats, category); ids are `section-row-number`.
    fn venue(rows: &[(&str, &str, u32, u32, &str)]) -> Vec<Seat> {
        let mut seats = Vec::new();
        for (section, row, first, count, category) in rows {
            for number in *first..first + count {
                let mut seat = Seat::new(SeatId::parse(&format!("{section}-{row}-{number}")).unwrap(), Cents(100));
                seat.place = SeatPlace {
                    section: label(section),
                    row: label(row),
                    number: Some(number),
                    category: label(category),
                };
                seats.push(seat);
            }
        }
        seats
    }

    fn event(seats: Vec<Seat>) -> Result<Event, Vec<EventRuleError>> {
        Event::new(
            TenantId::parse("acme").unwrap(),
            EventId::parse("gig").unwrap(),
            "Gig",
            Timestamp::from_millis(0),
            Currency::parse("EUR").unwrap(),
            seats,
        )
    }

    fn request(quantity: usize, together: bool) -> BestAvailable {
        BestAvailable {
            quantity,
            category: None,
            section: None,
            together,
        }
    }

    fn ids(pick: &Pick) -> Vec<&str> {
        match pick {
            Pick::Seats(seats) => seats.iter().map(SeatId::as_str).collect(),
            Pick::NoFit { .. } => Vec::new(),
        }
    }

    fn taken(list: &[&str]) -> impl Fn(&SeatId) -> bool {
        let list: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        move |id| list.iter().any(|s| s == id.as_str())
    }

    #[test]
    fn labels_are_trimmed_and_must_be_short_printable_text() {
        assert_eq!(SeatLabel::parse("  Stalls ").unwrap().as_str(), "Stalls");
        assert_eq!(SeatLabel::parse("   "), Err(LabelError::Blank));
        assert_eq!(SeatLabel::parse(&"x".repeat(33)), Err(LabelError::TooLong));
        assert_eq!(SeatLabel::parse("a\u{0}b"), Err(LabelError::BadCharacter));
        assert_eq!(SeatLabel::parse("a\"b"), Err(LabelError::BadCharacter));
        assert_eq!(SeatLabel::parse("a\\b"), Err(LabelError::BadCharacter));
        assert!(SeatLabel::parse(&"é".repeat(20)).is_ok(), "40 bytes");
        assert_eq!(
            SeatLabel::parse(&"é".repeat(21)),
            Err(LabelError::TooLong),
            "21 characters but 42 bytes"
        );
    }

    #[test]
    fn a_number_may_repeat_across_rows_but_not_within_one() {
        assert!(
            event(venue(&[
                ("S", "A", 1, 5, "x"),
                ("S", "B", 1, 5, "x"),
                ("T", "A", 1, 5, "x")
            ]))
            .is_ok()
        );
        let mut seats = venue(&[("S", "A", 1, 3, "x")]);
        let mut again = seats[1].clone();
        again.id = SeatId::parse("other").unwrap();
        seats.push(again);
        assert_eq!(
            event(seats),
            Err(vec![EventRuleError::DuplicateSeatNumber {
                seat: SeatId::parse("other").unwrap(),
                index: 3
            }])
        );
    }

    #[test]
    fn together_takes_the_first_row_with_room_and_the_run_closest_to_its_middle() {
        let e = event(venue(&[("Stalls", "A", 1, 10, "x"), ("Stalls", "B", 1, 10, "x")])).unwrap();
        // Row A's middle is 5.5: four seats centred there are 4–7.
        assert_eq!(
            ids(&e.pick_best_available(&request(4, true), |_| false)),
            ["Stalls-A-4", "Stalls-A-5", "Stalls-A-6", "Stalls-A-7"]
        );
        // 5 taken: the runs left are 1–4 and 6–10; 6–9 (centre 7.5) beats 1–4 (centre 2.5).
        assert_eq!(
            ids(&e.pick_best_available(&request(4, true), taken(&["Stalls-A-5"]))),
            ["Stalls-A-6", "Stalls-A-7", "Stalls-A-8", "Stalls-A-9"]
        );
        // Row A has no run of 4 left: row B.
        assert_eq!(
            ids(&e.pick_best_available(&request(4, true), taken(&["Stalls-A-4", "Stalls-A-8"]))),
            ["Stalls-B-4", "Stalls-B-5", "Stalls-B-6", "Stalls-B-7"]
        );
        // An odd quantity in an even row: two runs are equally close; the lower wins.
        assert_eq!(
            ids(&e.pick_best_available(&request(1, true), |_| false)),
            ["Stalls-A-5"]
        );
    }

    #[test]
    fn together_never_spans_a_gap_in_the_numbers() {
        // Seats 1–3 and 5–7: no four consecutive numbers.
        let mut seats = venue(&[("S", "A", 1, 3, "x")]);
        seats.extend(venue(&[("S", "A", 5, 3, "x")]));
        let e = event(seats).unwrap();
        assert_eq!(
            e.pick_best_available(&request(4, true), |_| false),
            Pick::NoFit { available: 6 }
        );
        assert_eq!(ids(&e.pick_best_available(&request(4, false), |_| false)).len(), 4);
    }

    #[test]
    fn sections_come_in_the_events_order_and_rows_within_them() {
        // Listed: balcony row A, stalls row A, balcony row B. Balcony is first, and its row B before stalls.
        let e = event(venue(&[
            ("Balcony", "A", 1, 2, "x"),
            ("Stalls", "A", 1, 10, "x"),
            ("Balcony", "B", 1, 4, "x"),
        ]))
        .unwrap();
        assert_eq!(
            ids(&e.pick_best_available(&request(3, true), |_| false)),
            ["Balcony-B-1", "Balcony-B-2", "Balcony-B-3"]
        );
        let stalls = BestAvailable {
            section: label("Stalls"),
            ..request(3, true)
        };
        // Middle 5.5: 4–6 and 5–7 are equally close, and the lower wins.
        assert_eq!(
            ids(&e.pick_best_available(&stalls, |_| false)),
            ["Stalls-A-4", "Stalls-A-5", "Stalls-A-6"]
        );
    }

    #[test]
    fn the_category_filter_applies_to_every_seat_of_the_pick() {
        let mut seats = venue(&[("S", "A", 1, 10, "cheap")]);
        for seat in &mut seats[3..7] {
            seat.place.category = label("premium");
        }
        let e = event(seats).unwrap();
        let premium = BestAvailable {
            category: label("premium"),
            ..request(4, true)
        };
        assert_eq!(
            ids(&e.pick_best_available(&premium, |_| false)),
            ["S-A-4", "S-A-5", "S-A-6", "S-A-7"]
        );
        let five = BestAvailable { quantity: 5, ..premium };
        assert_eq!(e.pick_best_available(&five, |_| false), Pick::NoFit { available: 4 });
    }

    #[test]
    fn apart_takes_seats_closest_to_the_middle_row_by_row() {
        let e = event(venue(&[("S", "A", 1, 5, "x"), ("S", "B", 1, 5, "x")])).unwrap();
        // Row A's middle is 3; then 2 and 4 (2 first on the tie); 3 is taken.
        assert_eq!(
            ids(&e.pick_best_available(&request(4, false), taken(&["S-A-3"]))),
            ["S-A-2", "S-A-4", "S-A-1", "S-A-5"]
        );
        assert_eq!(
            ids(&e.pick_best_available(&request(3, false), taken(&["S-A-1", "S-A-2", "S-A-3", "S-A-4"]))),
            ["S-A-5", "S-B-3", "S-B-2"]
        );
    }

    #[test]
    fn seats_without_a_place_can_be_picked_apart_but_never_together() {
        let seats: Vec<Seat> = ["a", "b", "c"]
            .iter()
            .map(|id| Seat::new(SeatId::parse(id).unwrap(), Cents(1)))
            .collect();
        let e = event(seats).unwrap();
        assert_eq!(
            ids(&e.pick_best_available(&request(2, false), taken(&["a"]))),
            ["b", "c"]
        );
        assert_eq!(
            e.pick_best_available(&request(2, true), |_| false),
            Pick::NoFit { available: 3 }
        );
    }

    #[test]
    fn when_nothing_fits_it_counts_the_available_seats_that_match() {
        let e = event(venue(&[("S", "A", 1, 3, "x"), ("T", "A", 1, 3, "x")])).unwrap();
        let in_t = BestAvailable {
            section: label("T"),
            ..request(3, true)
        };
        assert_eq!(
            e.pick_best_available(&in_t, taken(&["T-A-2", "S-A-1"])),
            Pick::NoFit { available: 2 }
        );
    }
}
