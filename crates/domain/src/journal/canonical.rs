//! Canonical JSON: the one byte sequence a JSON value hashes to.
//!
//! Rules: object keys sorted by their UTF-8 bytes; no insignificant whitespace; strings escaped
//! as `serde_json` escapes them; numbers printed as `serde_json` prints them. The encoder sorts
//! keys itself rather than relying on `serde_json::Map` ordering, which a dependency could change
//! with the `preserve_order` feature.

use serde_json::Value;

/// Encodes `value` canonically.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_value(value, &mut out);
    out
}

fn write_value(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (idx, item) in items.iter().enumerate() {
                if idx > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // serde_json's default map already iterates in key order; sort only when a
            // dependency switched it to insertion order.
            if !entries.windows(2).all(|w| w[0].0.as_bytes() <= w[1].0.as_bytes()) {
                entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            }
            out.push('{');
            for (idx, (key, item)) in entries.into_iter().enumerate() {
                if idx > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(item, out);
            }
            out.push('}');
        }
    }
}

fn write_string(text: &str, out: &mut String) {
    out.push_str(&serde_json::to_string(text).expect("strings always serialise"));
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    #[test]
    fn sorts_keys_and_drops_whitespace() {
        let value = json!({"b": 1, "a": {"d": [1, 2.5, "x"], "c": null}, "名": "浙江"});
        assert_eq!(canonical_json(&value), r#"{"a":{"c":null,"d":[1,2.5,"x"]},"b":1,"名":"浙江"}"#);
    }

    #[test]
    fn escapes_control_characters() {
        assert_eq!(canonical_json(&json!("a\"b\n")), r#""a\"b\n""#);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            (-1e12f64..1e12).prop_map(|f| json!(f)),
            "\\PC{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("\\PC{0,6}", inner, 0..6).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn canonical_text_round_trips_to_the_same_text(value in arb_json()) {
            let text = canonical_json(&value);
            let reparsed: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(canonical_json(&reparsed), text);
        }
    }
}
