//! The body of `POST /events/{eventId}/holds` — `{seats:[…]}` or
//! `{bestAvailable:{…}}`, exactly one, plus `ttlSeconds?` — read into the
//! domain's requests, and how a refused hold is logged and counted.

use application::{Rejection, UseCaseError};
use domain::hold::HoldRequestError;
use domain::ids::SeatId;
use domain::seat_map::BestAvailable;
use serde::Deserialize;

use crate::problem::{ApiError, FieldError};
use crate::request_fields::{seat_ids, seat_label};
use crate::request_telemetry::BusinessEvent;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaceHoldBody {
    seats: Option<Vec<String>>,
    best_available: Option<BestAvailableBody>,
    ttl_seconds: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BestAvailableBody {
    quantity: u64,
    category: Option<String>,
    section: Option<String>,
    together: Option<bool>,
}

/// Which seats a hold asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeatsWanted {
    These(Vec<SeatId>),
    BestAvailable(BestAvailable),
}

/// The hold a body asks for: its seats, and for how long (`None`: the default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldWanted {
    pub seats: SeatsWanted,
    pub ttl_seconds: Option<u64>,
}

impl PlaceHoldBody {
    /// The hold the body asks for.
    ///
    /// # Errors
    /// 422 naming every malformed field, or `seats` when the body gives both
    /// `seats` and `bestAvailable` or neither.
    pub fn read(self) -> Result<HoldWanted, ApiError> {
        let mut errors = Vec::new();
        let seats = match (self.seats, self.best_available) {
            (Some(seats), None) => SeatsWanted::These(seat_ids("seats", &seats, &mut errors)),
            (None, Some(best)) => {
                let category = seat_label("bestAvailable.category", best.category.as_deref(), &mut errors);
                let section = seat_label("bestAvailable.section", best.section.as_deref(), &mut errors);
                SeatsWanted::BestAvailable(BestAvailable {
                    // The upper bound (MAX_SEATS_PER_HOLD) is the use case's.
                    quantity: usize::try_from(best.quantity).unwrap_or(usize::MAX),
                    category,
                    section,
                    together: best.together.unwrap_or(true),
                })
            }
            _ => {
                return Err(ApiError::validation(vec![FieldError::new(
                    "seats",
                    "give either seats or bestAvailable, not both or neither",
                )]));
            }
        };
        if errors.is_empty() {
            Ok(HoldWanted {
                seats,
                ttl_seconds: self.ttl_seconds,
            })
        } else {
            Err(ApiError::validation(errors))
        }
    }
}

/// A best-available hold's refusal: its shape errors named by the fields it
/// has (`bestAvailable.quantity`, `ttlSeconds`), anything else as
/// [`hold_refused`].
pub fn best_available_refused(error: UseCaseError) -> ApiError {
    match error {
        UseCaseError::Rejected(Rejection::InvalidHoldRequest(errors)) => {
            let field = |error: &HoldRequestError| match error {
                HoldRequestError::TtlOutOfRange => "ttlSeconds",
                _ => "bestAvailable.quantity",
            };
            ApiError::validation(errors.iter().map(|e| FieldError::new(field(e), e)).collect())
        }
        other => hold_refused(other),
    }
}

/// A refused hold as a problem; taken seats, no fit and the seat limit are
/// logged and counted as business events.
pub fn hold_refused(error: UseCaseError) -> ApiError {
    match &error {
        UseCaseError::Rejected(Rejection::SeatsUnavailable(seats)) => {
            tracing::info!(event = "hold.rejected", unavailable = seats.len(), "seats unavailable");
            ApiError::from(error).reporting(BusinessEvent::HoldRejected)
        }
        UseCaseError::Rejected(Rejection::NoSeatsFit { available }) => {
            tracing::info!(
                event = "hold.no_fit",
                available,
                "no seats fit the best-available request"
            );
            ApiError::from(error).reporting(BusinessEvent::HoldRejected)
        }
        UseCaseError::Rejected(Rejection::CustomerLimitReached(reached)) => {
            tracing::info!(
                event = "hold.over_limit",
                limit = reached.limit.get(),
                current = reached.current,
                "over the seat limit per customer"
            );
            ApiError::from(error).reporting(BusinessEvent::HoldOverLimit)
        }
        _ => error.into(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn read(body: Value) -> Result<HoldWanted, ApiError> {
        serde_json::from_value::<PlaceHoldBody>(body).unwrap().read()
    }

    fn fields(error: &ApiError) -> Vec<String> {
        let body: Value = serde_json::from_slice(&error.body()).unwrap();
        body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["field"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn a_body_asks_for_seats_or_the_best_available_never_both_nor_neither() {
        let both = read(json!({"seats": ["A1"], "bestAvailable": {"quantity": 1}})).unwrap_err();
        assert_eq!(fields(&both), ["seats"]);
        assert_eq!(fields(&read(json!({})).unwrap_err()), ["seats"]);
        let wanted = read(json!({"bestAvailable": {"quantity": 2}, "ttlSeconds": 90})).unwrap();
        assert_eq!(wanted.ttl_seconds, Some(90));
        assert!(matches!(
            wanted.seats,
            SeatsWanted::BestAvailable(BestAvailable {
                quantity: 2,
                together: true,
                ..
            })
        ));
    }

    #[test]
    fn every_malformed_seat_id_or_filter_is_named_by_its_field() {
        let seats = read(json!({"seats": ["A1", "no way", "A 3"]})).unwrap_err();
        assert_eq!(fields(&seats), ["seats[1]", "seats[2]"]);
        let filters = read(json!({"bestAvailable": {"quantity": 1, "category": "", "section": " "}})).unwrap_err();
        assert_eq!(fields(&filters), ["bestAvailable.category", "bestAvailable.section"]);
    }
}
