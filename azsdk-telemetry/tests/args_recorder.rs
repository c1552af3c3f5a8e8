//! `ArgsRecorder` and `ArgValue` through the public API: order, absent values, hashing,
//! presence, promoted dimensions, nested objects and escaping.

use std::path::{Path, PathBuf};

use azsdk_telemetry::{ArgValue, ArgsRecorder, TelemetryArgs};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// `toolArgs`' documented limit on the wire, in bytes.
const TOOL_ARGS_MAX_BYTES: usize = 8192;

#[test]
fn records_in_order_and_leaves_none_out() {
    let mut recorder = ArgsRecorder::new();
    recorder.allow("b", "x");
    recorder.allow("a", &1u8);
    recorder.allow("none", &None::<String>);
    recorder.allow("flag", &Some(true));
    assert_eq!(recorder.json(), r#"{"b":"x","a":1,"flag":true}"#);
}

#[test]
fn hash_matches_the_sha256_test_vector() {
    let mut recorder = ArgsRecorder::new();
    recorder.hash("k", "abc");
    recorder.hash("n", &None::<&str>);
    assert_eq!(
        recorder.json(),
        r#"{"k":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}"#
    );
}

#[test]
fn presence_never_records_the_value() {
    let mut recorder = ArgsRecorder::new();
    recorder.presence("root", &PathBuf::from("/secret/place"));
    recorder.presence("absent", &None::<PathBuf>);
    assert_eq!(recorder.json(), r#"{"root":true}"#);
}

#[test]
fn dimensions_join_lists_and_skip_absent_values() {
    let mut recorder = ArgsRecorder::new();
    recorder.allow_dimension("languages", "languages", &vec![".NET", "Java"]);
    recorder.allow_dimension("custom", "isCustomSdk", &true);
    recorder.allow_dimension("none", "planeType", &None::<String>);
    assert_eq!(
        recorder.dimensions().collect::<Vec<_>>(),
        [("languages", ".NET,Java"), ("isCustomSdk", "true")]
    );
    assert_eq!(
        recorder.json(),
        r#"{"languages":[".NET","Java"],"custom":true}"#
    );
}

#[test]
fn numbers_paths_and_vectors() {
    assert_eq!(u128::MAX.arg_value(), Some(json!(u128::MAX.to_string())));
    assert_eq!(7i128.arg_value(), Some(json!(7)));
    assert_eq!(1.5f64.arg_value(), Some(json!(1.5)));
    assert_eq!(f64::NAN.arg_value(), Some(Value::Null));
    assert_eq!(Path::new("a/b").arg_value(), Some(json!("a/b")));
    assert_eq!(
        vec![Some(1), None, Some(3)].arg_value(),
        Some(json!([1, 3]))
    );
}

struct Inner;
impl TelemetryArgs for Inner {
    fn record_args(&self, recorder: &mut ArgsRecorder) {
        recorder.allow_dimension("lang", "language", "Go");
    }
}

#[test]
fn nested_objects_promote_their_dimensions() {
    let mut recorder = ArgsRecorder::new();
    recorder.nested("inner", &Inner);
    recorder.nested("none", &None::<Inner>);
    assert_eq!(recorder.json(), r#"{"inner":{"lang":"Go"}}"#);
    assert_eq!(
        recorder.dimensions().next().map(|(_, value)| value),
        Some("Go")
    );
}

#[test]
fn escapes_keys_and_values() {
    let mut recorder = ArgsRecorder::new();
    recorder.allow("k\"ey", "va\"l\\ue\n");
    let json = recorder.json();
    let parsed: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed, json!({"k\"ey": "va\"l\\ue\n"}));
}

#[test]
fn hashes_non_strings_by_their_json_text() {
    let mut recorder = ArgsRecorder::new();
    recorder.hash("n", &[1, 2]);
    recorder.hash("s", "a\"b");
    let parsed: Value = serde_json::from_str(&recorder.json()).unwrap();
    let hex = |bytes: &[u8]| {
        Sha256::digest(bytes)
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>()
    };
    assert_eq!(parsed["n"], json!(hex(b"[1,2]")));
    assert_eq!(parsed["s"], json!(hex(b"a\"b")));
}

#[test]
fn default_and_new_record_alike() {
    let mut taken = ArgsRecorder::default();
    assert!(taken.is_empty());
    assert_eq!(taken.json(), "{}");
    taken.allow("a", &1u8);
    assert_eq!(taken.json(), r#"{"a":1}"#);
    assert_eq!(ArgsRecorder::new().into_parts().0, "{}");
}

#[test]
fn stays_within_the_limit_and_valid_json() {
    let mut recorder = ArgsRecorder::new();
    let big = "x".repeat(3000);
    for i in 0..10 {
        recorder.allow(&format!("k{i}"), big.as_str());
    }
    let json = recorder.json();
    assert!(json.len() <= TOOL_ARGS_MAX_BYTES, "{}", json.len());
    let parsed: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed["_truncated"], json!(true));
    assert_eq!(parsed["k0"], json!(big));
    assert!(parsed.get("k9").is_none());
}

#[test]
fn a_single_huge_value_is_bounded_before_it_is_copied() {
    let huge = "y".repeat(TOOL_ARGS_MAX_BYTES * 4);
    let value = huge.arg_value().unwrap();
    assert_eq!(value.as_str().unwrap().len(), TOOL_ARGS_MAX_BYTES);
    let mut recorder = ArgsRecorder::new();
    recorder.allow("huge", huge.as_str());
    assert_eq!(recorder.json(), r#"{"_truncated":true}"#);
}

struct Big(usize);
impl TelemetryArgs for Big {
    fn record_args(&self, recorder: &mut ArgsRecorder) {
        recorder.allow_dimension("lang", "language", "Rust");
        for i in 0..self.0 {
            recorder.allow(&format!("k{i}"), "x".repeat(1000).as_str());
        }
        recorder.allow_dimension("svc", "serviceName", "storage");
    }
}

struct Outer;
impl TelemetryArgs for Outer {
    fn record_args(&self, recorder: &mut ArgsRecorder) {
        recorder.allow("first", "kept");
        recorder.nested("small", &Big(1));
        recorder.nested("big", &Big(20));
        recorder.allow("after", "left out");
    }
}

#[test]
fn a_nested_value_that_does_not_fit_is_left_out_whole() {
    let mut recorder = ArgsRecorder::new();
    Outer.record_args(&mut recorder);
    let json = recorder.json();
    assert!(json.len() <= TOOL_ARGS_MAX_BYTES);
    let parsed: Value = serde_json::from_str(&json).unwrap();
    let keys: Vec<_> = parsed.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["first", "small", "_truncated"]);
    assert_eq!(parsed["small"]["k0"].as_str().unwrap().len(), 1000);
    // Dimensions are promoted whatever was kept.
    let names: Vec<_> = recorder.dimensions().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        ["language", "serviceName", "language", "serviceName"]
    );
}
