//! Property tests for `TelemetryArgs` values: arbitrary Unicode, huge strings and deep nesting,
//! through `derive(TelemetryArgs)`, the `ArgsRecorder` and the record's scrubbing gate, never
//! panic and always give a `toolArgs` that is valid JSON (a JSON object) within
//! `TOOL_ARGS_MAX_BYTES` on the wire.

use azsdk_telemetry::MemorySink;
/// The documented limit of `toolArgs` on the wire.
const TOOL_ARGS_MAX_BYTES: usize = 8192;
use azsdk_telemetry::{ArgsRecorder, TelemetryArgs, TelemetryLayer, ToolExecuted};
use proptest::prelude::*;
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug, TelemetryArgs)]
struct Flat {
    #[telemetry(allow, dimension = "language")]
    language: String,
    #[telemetry(allow)]
    note: Option<String>,
    #[telemetry(allow)]
    lists: Vec<Vec<String>>,
    #[telemetry(allow)]
    maybe: Option<Option<Vec<Option<String>>>>,
    #[telemetry(presence)]
    path: Option<std::path::PathBuf>,
    #[telemetry(hash)]
    tenant: String,
    #[telemetry(allow)]
    number: f64,
    #[allow(dead_code)]
    secret: String,
}

#[derive(Debug, TelemetryArgs)]
struct Node {
    #[telemetry(allow)]
    label: String,
    #[telemetry(allow)]
    child: Option<Box<Node>>,
}

#[derive(Debug, TelemetryArgs)]
struct Outer {
    #[telemetry(allow)]
    flat: Flat,
    #[telemetry(flatten)]
    inner: Node,
    #[telemetry(allow)]
    tree: Node,
}

fn chain(labels: &[String]) -> Node {
    let mut node = None;
    for label in labels.iter().rev() {
        node = Some(Box::new(Node {
            label: label.clone(),
            child: node,
        }));
    }
    node.map_or_else(
        || Node {
            label: String::new(),
            child: None,
        },
        |b| *b,
    )
}

/// Strings that matter: arbitrary Unicode, JSON metacharacters, secrets, and huge ones.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => "\\PC{0,64}",
        1 => "[\"\\\\{}\\[\\]:,\\u{0}-\\u{1f}\\u{7f}\\u{2028}\\u{fffd}]{0,40}",
        1 => Just("AccountKey=c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA==".to_owned()),
        1 => Just("/home/alice/secret \"quoted\" path".to_owned()),
        1 => (1usize..4 * TOOL_ARGS_MAX_BYTES, any::<char>()).prop_map(|(n, c)| c.to_string().repeat(n / c.len_utf8().max(1))),
    ]
}

fn flat() -> impl Strategy<Value = Flat> {
    (
        text(),
        proptest::option::of(text()),
        proptest::collection::vec(proptest::collection::vec(text(), 0..4), 0..4),
        proptest::option::of(proptest::option::of(proptest::collection::vec(
            proptest::option::of(text()),
            0..4,
        ))),
        proptest::option::of(text().prop_map(std::path::PathBuf::from)),
        text(),
        any::<f64>(),
    )
        .prop_map(
            |(language, note, lists, maybe, path, tenant, number)| Flat {
                language,
                note,
                lists,
                maybe,
                path,
                tenant,
                number,
                secret: "never-recorded-secret".into(),
            },
        )
}

/// `toolArgs` as it goes on the wire, through the record's scrubbing gate.
fn on_the_wire(args: &impl TelemetryArgs) -> (String, Value) {
    let mut recorder = ArgsRecorder::new();
    args.record_args(&mut recorder);
    let (json, dimensions) = recorder.into_parts();
    let event = ToolExecuted {
        tool_name: "azsdk_props".into(),
        tool_category: "testing".into(),
        success: true,
        tool_args: Some(json.clone()),
        dimensions: dimensions.into_iter().collect(),
        ..ToolExecuted::default()
    };
    let envelope = envelope_of(&event);
    let wire = envelope["data"]["baseData"]["properties"]["toolArgs"]
        .as_str()
        .expect("toolArgs is a string property")
        .to_owned();
    (wire.clone(), parse_object(&wire, &json))
}

/// The envelope of `event` as the layer's sinks write it.
fn envelope_of(event: &ToolExecuted) -> Value {
    let memory = MemorySink::new();
    let (layer, _handle) = TelemetryLayer::builder()
        .ignore_environment()
        .lifecycle_events(false)
        .crash_reporting(false)
        .sink(memory.clone())
        .build::<tracing_subscriber::Registry>()
        .expect("the layer builds");
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || event.emit());
    memory.envelopes().pop().expect("one envelope")
}

fn parse_object(wire: &str, recorded: &str) -> Value {
    assert!(
        wire.len() <= TOOL_ARGS_MAX_BYTES,
        "toolArgs is {} bytes (recorded {} bytes)",
        wire.len(),
        recorded.len()
    );
    let parsed: Value = serde_json::from_str(wire)
        .unwrap_or_else(|e| panic!("toolArgs is not JSON ({e}): {wire:.300}"));
    assert!(parsed.is_object(), "toolArgs is an object: {wire:.300}");
    parsed
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn flat_values_give_valid_bounded_json(args in flat()) {
        let (wire, parsed) = on_the_wire(&args);
        prop_assert!(!wire.contains("never-recorded-secret"));
        prop_assert!(!wire.contains("c2VjcmV0c2VjcmV0c2Vj"), "scrubbed: {wire:.300}");
        // What fitted is what was given (scrubbing aside); the rest is marked.
        if parsed.get("_truncated").is_none() {
            prop_assert!(parsed.get("language").is_some());
        }
    }

    #[test]
    fn nested_and_flattened_values_give_valid_bounded_json(
        a in flat(),
        labels in proptest::collection::vec(text(), 0..8),
        tree in proptest::collection::vec(text(), 0..8),
    ) {
        let outer = Outer { flat: a, inner: chain(&labels), tree: chain(&tree) };
        on_the_wire(&outer);
    }

    #[test]
    fn deep_nesting_gives_valid_bounded_json(depth in 0usize..2000, label in "[a-z]{0,4}") {
        let labels = vec![label; depth];
        let node = chain(&labels);
        let (wire, _) = on_the_wire(&node);
        prop_assert!(wire.len() <= TOOL_ARGS_MAX_BYTES);
        drop_deep(node);
    }
}

/// Drops a long chain iteratively (the default drop would recurse once per level).
fn drop_deep(mut node: Node) {
    while let Some(child) = node.child.take() {
        node = *child;
    }
}

#[test]
fn five_thousand_levels_and_a_megabyte_string() {
    let mut labels = vec![String::from("x"); 5000];
    labels[0] = "é".repeat(512 * 1024);
    labels[40] = "\u{2028}\"}]{".repeat(10_000);
    let node = chain(&labels);
    let (wire, parsed) = on_the_wire(&node);
    assert!(wire.len() <= TOOL_ARGS_MAX_BYTES);
    assert_eq!(parsed["_truncated"], true);
    drop_deep(node);
}
