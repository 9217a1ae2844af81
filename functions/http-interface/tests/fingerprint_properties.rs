//! The idempotency fingerprint (docs/contract.md, Idempotency rule 2) over
//! generated JSON documents: the same logical body in any key order or
//! spacing has the same fingerprint; a different body has a different one.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed property.

use http_interface::json_body::fingerprint;
use proptest::prelude::*;
use serde_json::{Map, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// Writes `value` as JSON text with object keys in an order chosen by
/// `shuffle` and `spacing` whitespace around every token.
fn render(value: &Value, shuffle: u64, spacing: &str, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            let len = entries.len().max(1);
            let rotate = usize::try_from(shuffle).unwrap() % len;
            entries.rotate_left(rotate);
            if shuffle % 2 == 1 {
                entries.reverse();
            }
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(spacing);
                out.push_str(&Value::String(key.clone()).to_string());
                out.push_str(spacing);
                out.push(':');
                out.push_str(spacing);
                render(item, shuffle / 3, spacing, out);
                out.push_str(spacing);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(spacing);
                render(item, shuffle / 5, spacing, out);
            }
            out.push_str(spacing);
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

proptest! {
    #[test]
    fn any_key_order_or_spacing_gives_the_same_fingerprint(
        value in json_value(),
        shuffle in any::<u64>(),
        spacing in "[ \t\r\n]{0,3}",
    ) {
        let mut text = String::new();
        render(&value, shuffle, &spacing, &mut text);
        let reparsed: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(
            fingerprint(&reparsed),
            fingerprint(&value),
            "idempotency rule 2: the same body must fingerprint the same, whatever its layout: {}", text
        );
    }

    #[test]
    fn different_bodies_give_different_fingerprints(a in json_value(), b in json_value()) {
        prop_assume!(a != b);
        prop_assert_ne!(fingerprint(&a), fingerprint(&b), "a different body reused a key's fingerprint");
    }
}
