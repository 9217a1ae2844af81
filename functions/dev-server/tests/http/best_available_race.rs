//! Best available under fire: 500 buyers ask for 2–6 seats together, best
//! available, of a 400-seat venue (rows of 20–40, tools/venues) through TWO
//! dev-server processes on real Redis and DynamoDB Local (concurrent Lambda
//! instances). Demand is five times the venue.
//!
//! Checked against DynamoDB's final state (the seat claims, read with the
//! store adapter), not just the answers:
//! - every seat claimed belongs to a hold that was answered 201, with
//!   exactly that hold's seats (no partial hold, no leftover claim);
//! - no seat is in two 201 holds;
//! - every 201's seats are consecutive numbers of one row;
//! - after a sequential sweep (one buyer asking for 2 until refused), the
//!   venue is fully held or every remaining gap is a single seat: the pick
//!   finds a fit whenever one exists.
//!
//! And the pick's source of truth under failure (ADR 15): a flushed Redis
//! (the availability index lost) and a stopped one (I8) never give a seat
//! twice; the index is rebuilt from the claims, or the claims answer alone.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use crate::support::process::DevServer;
use application::ports::{Clock, HoldStore};
use domain::event::Seat;
use domain::hold::SeatClaim;
use domain::ids::{EventId, HoldId, SeatId, TenantId};
use dynamodb_store::DynamoStore;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use system_runtime::SystemClock;
use tokio::sync::Semaphore;
use venues::Dice;

const SEATS: usize = 400;
const BUYERS: usize = 500;
const IN_FLIGHT: usize = 32;

struct Sale {
    servers: Vec<DevServer>,
    client: Client,
    tenant: String,
}

impl Sale {
    async fn best(&self, server: usize, customer: &str, quantity: usize) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}/events/venue/holds", self.servers[server % 2].base_url))
            .header("X-Tenant-Id", &self.tenant)
            .header("X-Customer-Id", customer)
            .json(&json!({ "bestAvailable": { "quantity": quantity } }))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .expect("every request gets an answer");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}

fn seat_json(seat: &Seat) -> Value {
    let label = |l: &Option<domain::seat_map::SeatLabel>| l.as_ref().map(ToString::to_string);
    json!({
        "id": seat.id.as_str(),
        "priceCents": seat.price.0,
        "section": label(&seat.place.section),
        "row": label(&seat.place.row),
        "number": seat.place.number,
        "category": label(&seat.place.category),
    })
}

/// The (section, row, number) of every seat of the venue.
type Places = HashMap<String, (String, String, u32)>;

fn places(venue: &[Seat]) -> Places {
    venue
        .iter()
        .map(|seat| {
            let place = (
                seat.place.section.as_ref().unwrap().to_string(),
                seat.place.row.as_ref().unwrap().to_string(),
                seat.place.number.unwrap(),
            );
            (seat.id.to_string(), place)
        })
        .collect()
}

fn assert_adjacent(places: &Places, seats: &[String]) {
    let mut spots: Vec<&(String, String, u32)> = seats.iter().map(|s| &places[s]).collect();
    spots.sort_by_key(|spot| spot.2);
    for pair in spots.windows(2) {
        assert_eq!((&pair[0].0, &pair[0].1), (&pair[1].0, &pair[1].1), "one row: {seats:?}");
        assert_eq!(pair[0].2 + 1, pair[1].2, "consecutive numbers: {seats:?}");
    }
}

/// The longest run of free consecutive numbers in any row.
fn longest_free_run(venue: &[Seat], taken: &HashSet<String>) -> usize {
    let mut longest = 0;
    let mut run = 0;
    let mut previous: Option<(&Seat, bool)> = None;
    for seat in venue {
        let free = !taken.contains(seat.id.as_str());
        let continues = previous.is_some_and(|(before, was_free)| {
            was_free && before.place.row == seat.place.row && before.place.section == seat.place.section
        });
        run = if free { if continues { run + 1 } else { 1 } } else { 0 };
        longest = longest.max(run);
        previous = Some((seat, free));
    }
    longest
}

fn seats_of(answer: &Value) -> Vec<String> {
    answer["seats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

/// Two dev servers on one Redis and a fresh DynamoDB table, the venue put;
/// also the store adapter on that table, to read the final state.
async fn sale(venue: &[Seat]) -> (Arc<Sale>, DynamoStore, [test_backends::KeepAlive; 2]) {
    let (redis_url, redis) = test_backends::redis();
    let (sale, store, dynamodb) = sale_on(venue, redis_url).await;
    (sale, store, [redis, dynamodb])
}

/// [`sale`] on the Redis at `redis_url`; returns DynamoDB's keep-alive.
async fn sale_on(venue: &[Seat], redis_url: String) -> (Arc<Sale>, DynamoStore, test_backends::KeepAlive) {
    let (endpoint, dynamodb) = test_backends::dynamodb();
    let client = test_backends::dynamodb_client(&endpoint).await;
    let table = test_backends::fresh_table(&client).await;
    let env = [
        ("BACKEND", "aws".to_owned()),
        ("REDIS_URL", redis_url),
        ("TABLE_NAME", table.clone()),
        ("AWS_ENDPOINT_URL", endpoint),
        (
            "DYNAMODB_TIMEOUT_MS",
            test_backends::EMULATOR_DYNAMODB_TIMEOUT_MS.to_owned(),
        ),
    ];
    let sale = Sale {
        servers: vec![DevServer::start(&env), DevServer::start(&env)],
        client: Client::builder().pool_max_idle_per_host(IN_FLIGHT).build().unwrap(),
        tenant: format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]),
    };
    let body = json!({
        "name": "Venue", "startsAt": "2030-01-01T20:00:00Z", "currency": "EUR",
        "seats": venue.iter().map(seat_json).collect::<Vec<_>>(),
    });
    let created = sale
        .client
        .put(format!("{}/events/venue", sale.servers[0].base_url))
        .header("X-Tenant-Id", &sale.tenant)
        .header("X-Customer-Id", "boss")
        .header("X-Roles", "organizer")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    (Arc::new(sale), DynamoStore::new(client, table), dynamodb)
}

/// Every claim in DynamoDB belongs to a 201 hold, with exactly its seats,
/// as the hold item says too; no seat is in two 201 holds. Returns the
/// seats claimed.
async fn assert_claims_are_the_granted_holds(
    store: &DynamoStore,
    tenant: &str,
    granted: &HashMap<HoldId, Vec<String>>,
) -> HashSet<String> {
    let tenant = TenantId::parse(tenant).unwrap();
    let event = EventId::parse("venue").unwrap();
    let claims = store.seat_claims(&tenant, &event, SystemClock.now()).await.unwrap();
    let mut claimed_by: HashMap<HoldId, HashSet<String>> = HashMap::new();
    for (seat, claim) in &claims {
        let SeatClaim::HeldBy { hold, .. } = claim else {
            panic!("{seat} is {claim:?}: nothing was sold");
        };
        claimed_by.entry(*hold).or_default().insert(seat.to_string());
    }
    let mut in_a_hold: HashSet<String> = HashSet::new();
    for (hold, seats) in granted {
        for seat in seats {
            assert!(in_a_hold.insert(seat.clone()), "{seat} is in two 201 holds");
        }
        let expected: HashSet<String> = seats.iter().cloned().collect();
        assert_eq!(
            claimed_by.get(hold),
            Some(&expected),
            "hold {hold}: its claims are its seats"
        );
        let stored = store.get(&tenant, *hold).await.unwrap().expect("a 201 hold is stored");
        let stored: HashSet<String> = stored.seats.iter().map(|s| s.id.to_string()).collect();
        assert_eq!(stored, expected, "hold {hold} as stored");
    }
    assert_eq!(claimed_by.len(), granted.len(), "every claim belongs to a 201 hold");
    claims.keys().map(SeatId::to_string).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_buyers_of_best_available_on_two_instances_get_whole_adjacent_holds_and_fill_the_venue() {
    let venue = venues::venue(SEATS, 18);
    let places = places(&venue);
    let (sale, store, _backends) = sale(&venue).await;

    let gate = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut dice = Dice::new(500);
    let mut buyers = tokio::task::JoinSet::new();
    for buyer in 0..BUYERS {
        let quantity = usize::try_from(dice.between(2, 6)).unwrap();
        let (sale, gate) = (Arc::clone(&sale), Arc::clone(&gate));
        buyers.spawn(async move {
            let _turn = gate.acquire().await.unwrap();
            let (status, answer) = sale.best(buyer, &format!("buyer{buyer}"), quantity).await;
            (quantity, status, answer)
        });
    }
    let mut granted: HashMap<HoldId, Vec<String>> = HashMap::new();
    let mut refused = 0;
    for (quantity, status, answer) in buyers.join_all().await {
        match status {
            StatusCode::CREATED => {
                let seats = seats_of(&answer);
                assert_eq!(seats.len(), quantity, "never a partial hold: {answer}");
                assert_adjacent(&places, &seats);
                granted.insert(HoldId::parse(answer["holdId"].as_str().unwrap()).unwrap(), seats);
            }
            StatusCode::CONFLICT => {
                assert_eq!(answer["type"], "/problems/seats-unavailable", "{answer}");
                assert_eq!(answer["unavailableSeats"], json!([]), "{answer}");
                refused += 1;
            }
            other => panic!("a best-available hold answered {other}: {answer}"),
        }
    }
    assert!(!granted.is_empty() && refused > 0, "demand is five times the venue");

    // The sweep: nobody else is buying, so a refusal means nothing fits.
    loop {
        let (status, answer) = sale.best(0, "sweeper", 2).await;
        if status == StatusCode::CONFLICT {
            break;
        }
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let seats = seats_of(&answer);
        assert_adjacent(&places, &seats);
        granted.insert(HoldId::parse(answer["holdId"].as_str().unwrap()).unwrap(), seats);
    }

    let taken = assert_claims_are_the_granted_holds(&store, &sale.tenant, &granted).await;
    let longest = longest_free_run(&venue, &taken);
    assert!(
        longest < 2,
        "{} of {SEATS} seats held; a run of {longest} free seats is left though 2 were asked for",
        taken.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flushed_or_stopped_redis_never_gives_a_seat_twice_to_best_available() {
    let mut redis = test_backends::RedisServer::start();
    let venue = venues::venue(40, 3);
    let places = places(&venue);
    let (sale, store, _dynamodb) = sale_on(&venue, redis.url()).await;
    let mut granted: HashMap<HoldId, Vec<String>> = HashMap::new();
    let mut hold = |status: StatusCode, answer: &Value| {
        assert_eq!(status, StatusCode::CREATED, "{answer}");
        let seats = seats_of(answer);
        assert_adjacent(&places, &seats);
        granted.insert(HoldId::parse(answer["holdId"].as_str().unwrap()).unwrap(), seats);
    };
    let (status, answer) = sale.best(0, "alice", 4).await;
    hold(status, &answer);

    // Redis forgets everything: its index too. The next pick rebuilds it
    // from the claims and does not pick alice's seats again.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut connection = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("FLUSHALL").query_async::<()>(&mut connection).await.unwrap();
    let (status, answer) = sale.best(1, "bob", 4).await;
    hold(status, &answer);
    let (status, answer) = sale.best(0, "carol", 4).await;
    hold(status, &answer);

    // Redis is gone: the claims answer alone (I8), slower, never wrong.
    redis.stop();
    for buyer in ["dave", "erin", "frank"] {
        let (status, answer) = sale.best(1, buyer, 4).await;
        hold(status, &answer);
    }
    assert_claims_are_the_granted_holds(&store, &sale.tenant, &granted).await;
}
