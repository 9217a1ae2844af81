//! Seat ids and seat labels read out of request bodies. Each malformed value
//! becomes a [`FieldError`] named by its place in the body (`seats[2]`,
//! `seats[2].id`, `bestAvailable.section`), and reading goes on, so that one
//! 422 lists every mistake. Used by place-hold and manage-event, which both
//! take lists of seats.

use domain::ids::SeatId;
use domain::seat_map::SeatLabel;

use crate::problem::FieldError;

/// Reads every item of the body's list `list` with `read`, which reports an
/// item's errors under the field it is given (`{list}[{index}]`): the values
/// of the good items, the errors of the bad ones added to `errors`.
pub fn each_item<T, V>(
    list: &str,
    items: &[T],
    errors: &mut Vec<FieldError>,
    mut read: impl FnMut(&str, &T, &mut Vec<FieldError>) -> Option<V>,
) -> Vec<V> {
    items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| read(&format!("{list}[{index}]"), item, errors))
        .collect()
}

/// The seat id `raw`, or its error under `field`.
pub fn seat_id(field: &str, raw: &str, errors: &mut Vec<FieldError>) -> Option<SeatId> {
    SeatId::parse(raw)
        .map_err(|error| errors.push(FieldError::new(field, error)))
        .ok()
}

/// The seat ids of a list of them (`seats: [...]`); each malformed one is an
/// error named by its index.
pub fn seat_ids(list: &str, raw: &[String], errors: &mut Vec<FieldError>) -> Vec<SeatId> {
    each_item(list, raw, errors, |field, raw, errors| seat_id(field, raw, errors))
}

/// The seat label `raw` if given, or its error under `field`.
pub fn seat_label(field: &str, raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<SeatLabel> {
    SeatLabel::parse(raw?)
        .map_err(|error| errors.push(FieldError::new(field, error)))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_malformed_seat_id_is_named_by_its_index_and_the_good_ones_are_kept() {
        let mut errors = Vec::new();
        let raw = ["A1".to_owned(), "no way".to_owned(), "A2".to_owned(), String::new()];
        let seats = seat_ids("seats", &raw, &mut errors);
        assert_eq!(seats.iter().map(SeatId::as_str).collect::<Vec<_>>(), ["A1", "A2"]);
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["seats[1]", "seats[3]"]);
    }

    #[test]
    fn an_absent_label_is_no_label_and_no_error() {
        let mut errors = Vec::new();
        assert_eq!(seat_label("section", None, &mut errors), None);
        assert!(errors.is_empty());
    }
}
