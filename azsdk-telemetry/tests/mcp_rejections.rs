#![cfg(feature = "rmcp")]
//! Arguments rejected before a registered tool runs, through `mcp::call_tool`: each serde
//! rejection's `errorType`, and an `errorMessage` that names only annotated arguments.

use azsdk_telemetry::mcp::{self, INVALID_ARGUMENTS, MISSING_FIELD};
use azsdk_telemetry::{telemetry_tool, ArgValue, MemorySink, TelemetryArgs, TelemetryLayer};
use proptest::prelude::*;
use rmcp::model::CallToolRequestParams;
use rmcp::ErrorData;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing_subscriber::layer::SubscriberExt;

const TOOL: &str = "mcp_rejections_check";

/// Records `service, language, prNumber, languages, pair`; never `apiKey`.
#[derive(Debug, Deserialize, TelemetryArgs)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
struct Args {
    #[telemetry(allow)]
    service: String,
    #[telemetry(allow)]
    language: Language,
    #[serde(default)]
    #[telemetry(allow)]
    pr_number: Option<u32>,
    #[serde(default)]
    #[telemetry(allow)]
    languages: Vec<Language>,
    #[serde(default)]
    #[telemetry(allow)]
    pair: Option<Pair>,
    #[serde(default)]
    api_key: Option<String>,
}

#[derive(Debug, Deserialize, TelemetryArgs)]
enum Language {
    Python,
    Go,
}

/// `(u8, u8)` as serde reads it, in a type of this file's so that it can be recorded.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct Pair((u8, u8));

impl ArgValue for Pair {
    fn arg_value(&self) -> Option<Value> {
        Some(json!([self.0 .0, self.0 .1]))
    }
}

#[telemetry_tool(category = "testing", name = "mcp_rejections_check")]
#[allow(dead_code)] // never called: every call is rejected before it runs
fn check(args: Args) -> String {
    args.service
}

/// The `ToolExecuted` `call_tool` records for `arguments` when the server answers as
/// rmcp's `Parameters<Args>` does for the deserializer's `message`.
fn rejected(arguments: Option<&Value>, message: &str) -> Value {
    let sink = MemorySink::new();
    let (layer, _handle) = TelemetryLayer::builder()
        .ignore_environment()
        .lifecycle_events(false)
        .crash_reporting(false)
        .sink(sink.clone())
        .build::<tracing_subscriber::Registry>()
        .expect("the layer builds");
    let mut request = CallToolRequestParams::new(TOOL);
    if let Some(arguments) = arguments {
        request = request.with_arguments(arguments.as_object().cloned().expect("an object"));
    }
    let message = format!("failed to deserialize parameters: {message}");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let answer =
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            runtime.block_on(mcp::call_tool(request, |_| async move {
                Err(ErrorData::invalid_params(message, None))
            }))
        });
    assert!(answer.is_err(), "{answer:?}");
    let mut envelopes = sink.envelopes();
    assert_eq!(envelopes.len(), 1, "{envelopes:#?}");
    let record = envelopes.pop().unwrap()["data"]["baseData"].take();
    assert_eq!(record["name"], "ToolExecuted");
    assert_eq!(record["properties"]["toolName"], TOOL);
    record
}

/// `(errorType, errorMessage)` of a record.
fn error_of(record: &Value) -> (&str, Option<&str>) {
    let properties = &record["properties"];
    (
        properties["errorType"].as_str().expect("an errorType"),
        properties["errorMessage"].as_str(),
    )
}

/// The record of `arguments` rejected with serde's own message for them.
fn classified(arguments: &Value) -> Value {
    let message = serde_json::from_value::<Args>(arguments.clone())
        .map(|_| ())
        .expect_err("the arguments are invalid")
        .to_string();
    rejected(Some(arguments), &message)
}

#[test]
fn the_tool_records_the_keys_the_rejections_may_name() {
    let manifest = azsdk_telemetry::manifest();
    let keys: Vec<&str> = manifest.tool(TOOL).expect("registered").fields[..]
        .iter()
        .map(|field| field.key.as_str())
        .collect();
    assert_eq!(
        keys,
        ["service", "language", "prNumber", "languages", "pair"]
    );
}

#[test]
fn each_kind_of_rejection_is_classified_and_names_the_annotated_argument() {
    let cases = [
        (
            json!({ "language": "Go" }),
            MISSING_FIELD,
            "argument `service` is missing",
        ),
        (
            json!({ "service": "storage", "language": "Rust-7f3a" }),
            mcp::UNKNOWN_VARIANT,
            "argument `language` is not one of its allowed values: expected `Python` or `Go`",
        ),
        (
            json!({ "service": "storage", "language": "Go", "languages": ["Go", "Cobol-9e1d"] }),
            mcp::UNKNOWN_VARIANT,
            "argument `languages` is not one of its allowed values: expected `Python` or `Go`",
        ),
        (
            json!({ "service": "storage", "language": "Go", "prNumber": "twelve-4b2c" }),
            mcp::INVALID_TYPE,
            "argument `prNumber` has the wrong type: expected u32",
        ),
        (
            json!({ "service": "storage", "language": "Go", "prNumber": -3 }),
            mcp::INVALID_VALUE,
            "argument `prNumber` has an invalid value: expected u32",
        ),
        (
            json!({ "service": "storage", "language": "Go", "pair": [1, 2, 3] }),
            mcp::INVALID_LENGTH,
            "argument `pair` has the wrong number of items: expected fewer elements in array",
        ),
        (
            json!({ "service": "storage", "language": "Go", "secretField-5a1f": 1 }),
            mcp::UNKNOWN_FIELD,
            "an argument the tool does not take is given",
        ),
        (
            json!({ "service": "storage", "language": "Go", "apiKey": 77 }),
            mcp::INVALID_TYPE,
            "an argument has the wrong type",
        ),
    ];
    for (arguments, error_type, sentence) in cases {
        let record = classified(&arguments);
        assert_eq!(
            error_of(&record),
            (error_type, Some(sentence)),
            "{arguments}"
        );
        assert_eq!(record["success"], false, "{arguments}");
    }
}

#[test]
fn an_unannotated_field_is_never_named_and_its_expected_words_are_dropped() {
    let arguments = json!({ "language": "Go", "service": "storage" });
    let missing = rejected(Some(&arguments), "missing field `apiKey`");
    assert_eq!(
        error_of(&missing),
        (MISSING_FIELD, Some("a required argument is missing"))
    );
}

#[test]
fn a_value_several_annotated_arguments_hold_names_them_all() {
    let arguments = json!({ "service": 5, "language": "Go", "prNumber": 5 });
    let record = rejected(
        Some(&arguments),
        "invalid type: integer `5`, expected a string",
    );
    assert_eq!(
        error_of(&record).1,
        Some("argument `service` or `prNumber` has the wrong type: expected a string")
    );
}

#[test]
fn other_messages_are_invalid_arguments_without_their_text() {
    for message in [
        "",
        "bad date `2025-13-01`",
        "unknown variant `x",
        "invalid type",
    ] {
        let record = rejected(None, message);
        let (_, sentence) = error_of(&record);
        assert!(
            !sentence.unwrap_or_default().contains('`'),
            "{message:?}: {record:#?}"
        );
    }
    let record = rejected(None, "bad date `2025-13-01`");
    assert_eq!(error_of(&record).0, INVALID_ARGUMENTS);
}

/// serde_json's rendering of each kind of value in `invalid type` names the argument
/// holding that value, and not one holding another.
#[test]
fn serde_json_renders_values_as_the_front_door_reads_them() {
    for value in [
        json!(null),
        json!(true),
        json!(7),
        json!(-7),
        json!(1.5),
        json!(2.0),
        json!("a \"quoted\" text"),
        json!([1]),
        json!({ "a": 1 }),
    ] {
        let message = if value.is_null() {
            serde_json::from_value::<bool>(value.clone()).map(|_| ())
        } else {
            serde_json::from_value::<()>(value.clone())
        }
        .expect_err("a value of another type")
        .to_string();
        let rest = message.strip_prefix("invalid type: ").expect(&message);
        let (shown, expected) = rest.rsplit_once(", expected ").expect(&message);
        let named = rejected(Some(&json!({ "service": value })), &message);
        assert_eq!(
            error_of(&named).1,
            Some(&*format!(
                "argument `service` has the wrong type: expected {expected}"
            )),
            "{value}: {shown}"
        );
        let other = rejected(Some(&json!({ "service": "other" })), &message);
        assert_eq!(
            error_of(&other).1,
            Some("an argument has the wrong type"),
            "{value}: {shown}"
        );
    }
}

proptest! {
    #[test]
    fn any_message_classifies_without_a_panic(message in "\\PC{0,80}", key in "[a-z`]{0,6}") {
        // `key` is an argument of the client's; `service` and `languages` are recorded keys.
        let arguments = json!({
            key: message.clone(),
            "service": message.clone(),
            "languages": [message.clone()],
        });
        for prefix in ["", "missing field `", "unknown variant `", "invalid type: ",
                       "invalid value: ", "invalid length ", "duplicate field `", "unknown field `"] {
            let text = format!("{prefix}{message}");
            let record = rejected(Some(&arguments), &text);
            prop_assert_eq!(&record["success"], false);
        }
    }
}
