//! `derive(TelemetryArgs)` and inline parameter annotations, through `capture()`.

mod macros_common;

use std::fmt;
use std::path::{Path, PathBuf};

use azsdk_telemetry::{telemetry_tool, TelemetryArgs};
use azsdk_telemetry_testkit::capture;
use macros_common::{only_tool, tool_args, tool_properties};
use serde_json::json;

#[derive(TelemetryArgs)]
struct GenerateSdkArgs {
    #[telemetry(allow, dimension = "serviceName")]
    service: String,
    #[telemetry(allow, dimension = "language")]
    language: String,
    #[telemetry(allow, dimension = "planeType")]
    plane: &'static str,
    #[telemetry(allow, dimension = "isCustomSdk")]
    custom: bool,
    #[telemetry(allow, dimension = "team")]
    team: String,
    #[telemetry(allow)]
    api_version: Option<String>,
    #[telemetry(presence)]
    typespec_project_root: PathBuf,
    #[telemetry(hash)]
    tenant_id: String,
    #[telemetry(skip)]
    skipped_value: String,
    api_key: String,
}

fn generate_args() -> GenerateSdkArgs {
    GenerateSdkArgs {
        service: "storage".into(),
        language: ".NET".into(),
        plane: "data",
        custom: false,
        team: "storage-sdk".into(),
        api_version: None,
        typespec_project_root: PathBuf::from("specification/storage"),
        tenant_id: "abc".into(),
        skipped_value: "skipped-marker-9f1c".into(),
        api_key: "unannotated-marker-3e7a".into(),
    }
}

#[telemetry_tool(category = "generating", name = "azsdk_generate_sdk")]
fn generate_sdk(args: GenerateSdkArgs) -> String {
    format!(
        "{}:{}",
        args.service,
        args.api_key.len() + usize::from(args.skipped_value.is_empty())
    )
}

#[test]
fn every_annotation_lands_exactly_in_the_envelope() {
    let capture = capture();
    assert_eq!(generate_sdk(generate_args()), "storage:23");
    assert!(!generate_args().skipped_value.is_empty());
    let properties = tool_properties(&capture);
    let sha_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    let expected_args = json!({
        "service": "storage",
        "language": ".NET",
        "plane": "data",
        "custom": false,
        "team": "storage-sdk",
        "typespecProjectRoot": true,
        "tenantId": sha_abc,
    })
    .to_string();
    assert_eq!(
        serde_json::Value::Object(properties),
        json!({
            "toolName": "azsdk_generate_sdk",
            "toolCategory": "generating",
            "toolArgs": expected_args,
            "language": ".NET",
            "planeType": "data",
            "serviceName": "storage",
            "isCustomSdk": "false",
            "team": "storage-sdk",
        })
    );
    let tool = only_tool(&capture);
    assert!(tool.success);
    assert_eq!(tool.is_custom_sdk, Some(false));
}

#[test]
fn an_unannotated_field_appears_in_no_emitted_byte() {
    let capture = capture();
    generate_sdk(generate_args());
    let bytes = serde_json::to_string(&capture.envelopes()).unwrap();
    for needle in [
        "api_key",
        "apiKey",
        "unannotated-marker-3e7a",
        "skipped_value",
        "skippedValue",
        "skipped-marker-9f1c",
        "specification/storage",
        "apiVersion",
    ] {
        assert!(!bytes.contains(needle), "{needle} leaked: {bytes}");
    }
    let debug = format!("{:?}", capture.events());
    assert!(!debug.contains("unannotated-marker-3e7a"));
}

#[derive(TelemetryArgs)]
#[telemetry(rename_all = "snake_case")]
struct Renamed {
    #[telemetry(allow)]
    api_version: String,
    #[telemetry(allow, rename = "Mode")]
    test_mode: TestMode,
    #[telemetry(allow(display))]
    sdk_release_type: ReleaseType,
}

#[derive(TelemetryArgs)]
enum TestMode {
    Playback,
    #[allow(dead_code)]
    LiveRecord,
}

/// Neither `ArgValue` nor `TelemetryArgs`: recorded through `Display`, as the
/// field asks with `allow(display)`.
enum ReleaseType {
    Preview,
}

impl fmt::Display for ReleaseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReleaseType::Preview => f.write_str("preview-by-display"),
        }
    }
}

#[telemetry_tool(category = "testing")]
fn run_tests(args: &Renamed) -> usize {
    args.api_version.len()
}

#[test]
fn rename_all_rename_and_enums() {
    let capture = capture();
    let args = Renamed {
        api_version: "2025-09-01".into(),
        test_mode: TestMode::Playback,
        sdk_release_type: ReleaseType::Preview,
    };
    run_tests(&args);
    assert_eq!(
        only_tool(&capture).tool_args.as_deref(),
        Some(
            r#"{"api_version":"2025-09-01","Mode":"playback","sdk_release_type":"preview-by-display"}"#
        )
    );
    assert_eq!(only_tool(&capture).tool_name, "run_tests");
}

#[derive(TelemetryArgs)]
struct Displayed {
    #[telemetry(allow(display), dimension = "releaseType")]
    release: ReleaseType,
    #[telemetry(hash(display))]
    hashed: ReleaseType,
}

#[telemetry_tool(category = "releasing")]
fn release(#[telemetry(allow(display))] kind: ReleaseType, args: Displayed) -> bool {
    matches!(
        (kind, args.release),
        (ReleaseType::Preview, ReleaseType::Preview)
    )
}

#[test]
fn display_is_recorded_when_asked_for() {
    let capture = capture();
    let args = Displayed {
        release: ReleaseType::Preview,
        hashed: ReleaseType::Preview,
    };
    assert!(release(ReleaseType::Preview, args));
    let args = tool_args(&capture);
    assert_eq!(args["kind"], "preview-by-display");
    assert_eq!(args["release"], "preview-by-display");
    // The SHA-256 of the `Display` text, never the text.
    assert_eq!(
        args["hashed"],
        "8c32cf1ecf5a763ce50688c384aa7734223603f6393f6a050691848828d8fcb2"
    );
    assert_eq!(
        tool_properties(&capture)["releaseType"],
        "preview-by-display"
    );
}

#[derive(TelemetryArgs)]
struct Values {
    #[telemetry(allow)]
    count: u32,
    #[telemetry(allow)]
    negative: i64,
    #[telemetry(allow)]
    ratio: f64,
    #[telemetry(allow)]
    languages: Vec<String>,
    #[telemetry(allow)]
    output: PathBuf,
    #[telemetry(allow)]
    maybe: Option<u8>,
    #[telemetry(allow)]
    absent: Option<String>,
    #[telemetry(presence)]
    absent_path: Option<PathBuf>,
    #[telemetry(hash)]
    absent_hash: Option<String>,
    #[telemetry(allow)]
    modes: Vec<TestMode>,
}

#[telemetry_tool(category = "validating")]
fn values(values: Values) -> bool {
    values.count > 0
}

#[test]
fn value_types_and_absent_options() {
    let capture = capture();
    values(Values {
        count: 3,
        negative: -4,
        ratio: 0.5,
        languages: vec![".NET".into(), "Java".into()],
        output: PathBuf::from("sdk/storage"),
        maybe: Some(7),
        absent: None,
        absent_path: None,
        absent_hash: None,
        modes: vec![TestMode::Playback],
    });
    assert_eq!(
        tool_args(&capture),
        json!({
            "count": 3,
            "negative": -4,
            "ratio": 0.5,
            "languages": [".NET", "Java"],
            "output": "sdk/storage",
            "maybe": 7,
            "modes": ["playback"],
        })
    );
}

#[derive(TelemetryArgs)]
struct Inner {
    #[telemetry(allow, dimension = "language")]
    language: String,
    #[allow(dead_code)]
    token: String,
}

#[derive(TelemetryArgs)]
struct Outer {
    #[telemetry(allow)]
    nested: Inner,
    #[telemetry(flatten)]
    flat: Flat,
    #[telemetry(allow)]
    missing: Option<Inner>,
}

#[derive(TelemetryArgs)]
struct Flat {
    #[telemetry(allow)]
    verbose: bool,
}

#[telemetry_tool(category = "building")]
fn nested(args: Outer) {
    let _ = args;
}

#[test]
fn nested_and_flattened_structs() {
    let capture = capture();
    nested(Outer {
        nested: Inner {
            language: "Go".into(),
            token: "nested-secret".into(),
        },
        flat: Flat { verbose: true },
        missing: None,
    });
    assert_eq!(
        tool_args(&capture),
        json!({ "nested": { "language": "Go" }, "verbose": true })
    );
    assert_eq!(only_tool(&capture).language.as_deref(), Some("Go"));
}

#[telemetry_tool(category = "generating")]
fn inline(
    #[telemetry(allow, dimension = "language")] language: &str,
    #[telemetry(presence)] output_dir: &Path,
    #[telemetry(hash)] tenant: String,
    #[telemetry(allow, rename = "svc")] service_name: Option<&str>,
    #[telemetry(skip)] skipped: &str,
    plain_secret: &str,
    args: Flat,
) -> usize {
    language.len()
        + output_dir.as_os_str().len()
        + tenant.len()
        + skipped.len()
        + plain_secret.len()
        + usize::from(args.verbose)
        + service_name.map_or(0, str::len)
}

#[test]
fn inline_parameter_annotations() {
    let capture = capture();
    let value = inline(
        "Python",
        Path::new("out"),
        "abc".into(),
        Some("storage"),
        "skip-me",
        "plain-secret-77",
        Flat { verbose: false },
    );
    assert_eq!(value, 6 + 3 + 3 + 7 + 15 + 7);
    let tool = only_tool(&capture);
    assert_eq!(
        tool.tool_args.as_deref(),
        Some(
            r#"{"language":"Python","outputDir":true,"tenant":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad","svc":"storage","verbose":false}"#
        )
    );
    assert_eq!(tool.language.as_deref(), Some("Python"));
    let bytes = serde_json::to_string(&capture.envelopes()).unwrap();
    assert!(!bytes.contains("plain-secret-77") && !bytes.contains("plainSecret"));
}

#[telemetry_tool(category = "generating")]
fn no_args() -> u8 {
    1
}

#[test]
fn a_tool_without_arguments_records_an_empty_object() {
    let capture = capture();
    no_args();
    assert_eq!(only_tool(&capture).tool_args.as_deref(), Some("{}"));
}

#[telemetry_tool(category = "testing")]
fn inner_tool(#[telemetry(allow, dimension = "language")] language: &str) -> usize {
    language.len()
}

#[telemetry_tool(category = "testing")]
fn outer_tool(
    #[telemetry(allow, dimension = "serviceName")] service: &str,
    #[telemetry(allow)] note: &str,
) -> usize {
    inner_tool("Go") + service.len() + note.len()
}

#[test]
fn each_call_records_only_its_own_arguments_in_turn_and_nested() {
    let capture = capture();
    let long = "x".repeat(2000);
    outer_tool("storage", &long);
    inner_tool("Rust");
    let tools: Vec<_> = capture
        .events()
        .iter()
        .filter_map(|record| record.event().as_tool().cloned())
        .collect();
    let summary: Vec<_> = tools
        .iter()
        .map(|tool| {
            (
                tool.tool_name.to_string(),
                tool.tool_args.clone().unwrap_or_default(),
                tool.language.clone(),
                tool.service_name.clone(),
            )
        })
        .collect();
    let outer_args = json!({ "service": "storage", "note": long }).to_string();
    assert_eq!(
        summary,
        [
            // The inner call finishes first, while the outer one still records.
            (
                "inner_tool".into(),
                r#"{"language":"Go"}"#.into(),
                Some("Go".into()),
                None
            ),
            (
                "outer_tool".into(),
                outer_args,
                None,
                Some("storage".into())
            ),
            (
                "inner_tool".into(),
                r#"{"language":"Rust"}"#.into(),
                Some("Rust".into()),
                None
            ),
        ]
    );
}
