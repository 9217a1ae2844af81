//! Best available through the HTTP stack on the embedded backend: the seat
//! map is saved and shown, the pick holds the best seats that fit, and a
//! request nothing fits is a 409 that says how many seats match.

use crate::support::TestApp;
use http::{Method, StatusCode};
use serde_json::{Value, json};

/// Two sections: "Stalls" rows A and B (8 seats each, category "standard",
/// A3–A6 "premium"), then "Balcony" row A (4 seats, "standard").
fn venue() -> Value {
    let mut seats = Vec::new();
    for (section, row, count) in [("Stalls", "A", 8), ("Stalls", "B", 8), ("Balcony", "A", 4)] {
        for number in 1..=count {
            let premium = section == "Stalls" && row == "A" && (3..=6).contains(&number);
            seats.push(json!({
                "id": format!("{}-{row}{number}", &section[..1]),
                "priceCents": if premium { 5000 } else { 2000 },
                "section": section,
                "row": row,
                "number": number,
                "category": if premium { "premium" } else { "standard" },
            }));
        }
    }
    json!({ "name": "Venue", "startsAt": "2027-06-01T19:30:00Z", "currency": "EUR", "seats": seats })
}

async fn with_venue(app: &TestApp) {
    let response = app
        .call(Method::PUT, "/events/venue")
        .organizer()
        .json(&venue())
        .send()
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text);
}

async fn best(app: &TestApp, customer: &str, best: Value) -> crate::support::TestResponse {
    app.call(Method::POST, "/events/venue/holds")
        .by("acme", customer)
        .json(&json!({ "bestAvailable": best }))
        .send()
        .await
}

#[tokio::test]
async fn the_seat_map_is_saved_and_shown_with_availability() {
    let app = TestApp::new();
    let saved = app
        .call(Method::PUT, "/events/venue")
        .organizer()
        .json(&venue())
        .send()
        .await;
    assert_eq!(saved.status, StatusCode::CREATED);
    assert_eq!(
        saved.json["seats"][2],
        json!({ "id": "S-A3", "priceCents": 5000, "section": "Stalls", "row": "A", "number": 3, "category": "premium" })
    );
    let seats = app
        .call(Method::GET, "/events/venue/seats")
        .by("acme", "bob")
        .send()
        .await;
    assert_eq!(seats.json["seats"][16]["section"], "Balcony");
    assert_eq!(seats.json["seats"][16]["status"], "AVAILABLE");
    // A seat without a map keeps the old shape: no null fields.
    let plain = app
        .call(Method::PUT, "/events/plain")
        .organizer()
        .json(&crate::support::gig_body())
        .send()
        .await;
    assert_eq!(plain.json["seats"][0], json!({ "id": "A1", "priceCents": 1000 }));
}

#[tokio::test]
async fn a_seat_map_breaking_rules_is_rejected_naming_each_field() {
    let app = TestApp::new();
    let mut body = venue();
    body["seats"][1]["number"] = json!(1); // S-A2 now repeats S-A1's number
    body["seats"][2]["row"] = json!("   ");
    body["seats"][3]["number"] = json!(100_001);
    let response = app
        .call(Method::PUT, "/events/venue")
        .organizer()
        .json(&body)
        .send()
        .await;
    response.assert_problem(422, "validation-failed");
    let fields: Vec<&str> = response.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["seats[2].row", "seats[3].number"], "{}", response.text);
    body["seats"][2]["row"] = json!("A");
    body["seats"][3]["number"] = json!(4);
    let response = app
        .call(Method::PUT, "/events/venue")
        .organizer()
        .json(&body)
        .send()
        .await;
    response.assert_problem(422, "validation-failed");
    assert_eq!(
        response.json["errors"][0]["field"], "seats[1].number",
        "{}",
        response.text
    );
}

#[tokio::test]
async fn best_available_holds_the_best_run_and_the_next_buyer_gets_the_next_best() {
    let app = TestApp::new();
    with_venue(&app).await;
    let first = best(&app, "alice", json!({ "quantity": 4 })).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text);
    assert_eq!(
        first.json["seats"],
        json!(["S-A3", "S-A4", "S-A5", "S-A6"]),
        "the middle of the first row"
    );
    let second = best(&app, "bob", json!({ "quantity": 4 })).await;
    assert_eq!(
        second.json["seats"],
        json!(["S-B3", "S-B4", "S-B5", "S-B6"]),
        "row A has no run of 4 left"
    );
    let apart = best(&app, "carol", json!({ "quantity": 3, "together": false })).await;
    assert_eq!(
        apart.json["seats"],
        json!(["S-A2", "S-A7", "S-A1"]),
        "closest to the middle, seat by seat"
    );
    let balcony = best(&app, "dave", json!({ "quantity": 2, "section": "Balcony" })).await;
    assert_eq!(balcony.json["seats"], json!(["B-A2", "B-A3"]));
    // The hold is an ordinary hold: it can be verified and ordered.
    let hold_id = first.json["holdId"].as_str().unwrap();
    let verified = app
        .call(Method::GET, &format!("/holds/{hold_id}"))
        .by("acme", "alice")
        .send()
        .await;
    assert_eq!(verified.json["valid"], true, "{}", verified.text);
}

#[tokio::test]
async fn when_nothing_fits_it_is_seats_unavailable_with_how_many_seats_match() {
    let app = TestApp::new();
    with_venue(&app).await;
    assert_eq!(
        best(&app, "alice", json!({ "quantity": 4, "category": "premium" }))
            .await
            .status,
        StatusCode::CREATED
    );
    let none = best(&app, "bob", json!({ "quantity": 1, "category": "premium" })).await;
    none.assert_problem(409, "seats-unavailable");
    assert_eq!(none.json["unavailableSeats"], json!([]));
    assert_eq!(none.json["available"], 0);
    let too_many = best(&app, "bob", json!({ "quantity": 5, "section": "Balcony" })).await;
    too_many.assert_problem(409, "seats-unavailable");
    assert_eq!(too_many.json["available"], 4);
    let statuses = app
        .call(Method::GET, "/events/venue/seats")
        .by("acme", "bob")
        .send()
        .await;
    let held = statuses.json["seats"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "HELD")
        .count();
    assert_eq!(held, 4, "a refusal holds nothing");
}

#[tokio::test]
async fn a_twenty_thousand_seat_venue_with_its_map_fits_the_event_body_limit_and_picks() {
    let app = TestApp::new();
    let seats: Vec<Value> = venues::venue(20_000, 1)
        .iter()
        .map(|seat| {
            json!({
                "id": seat.id.as_str(),
                "priceCents": seat.price.0,
                "section": seat.place.section.as_ref().unwrap().as_str(),
                "row": seat.place.row.as_ref().unwrap().as_str(),
                "number": seat.place.number.unwrap(),
                "category": seat.place.category.as_ref().unwrap().as_str(),
            })
        })
        .collect();
    let body = json!({ "name": "Arena", "startsAt": "2027-06-01T19:30:00Z", "currency": "EUR", "seats": seats });
    let size = serde_json::to_vec(&body).unwrap().len();
    eprintln!("a 20 000-seat venue with its seat map is {size} bytes of JSON");
    let saved = app
        .call(Method::PUT, "/events/arena")
        .organizer()
        .json(&body)
        .send()
        .await;
    assert_eq!(
        saved.status,
        StatusCode::CREATED,
        "{size} bytes: {}",
        &saved.text[..saved.text.len().min(300)]
    );
    let held = app
        .call(Method::POST, "/events/arena/holds")
        .by("acme", "alice")
        .json(&json!({ "bestAvailable": { "quantity": 6, "section": "Circle" } }))
        .send()
        .await;
    assert_eq!(held.status, StatusCode::CREATED, "{}", held.text);
    assert!(
        held.json["seats"][0].as_str().unwrap().starts_with("C-A"),
        "{}",
        held.text
    );
}
