//! The manifest of test tools: an added `allow` field shows in the check's
//! diff by name, and an unannotated field appears nowhere.

use azsdk_telemetry::manifest::{FieldMode, Manifest};
use azsdk_telemetry::{telemetry_tool, TelemetryArgs, TelemetryError};
use azsdk_telemetry_testkit::{check_manifest, ManifestMismatch};

#[derive(TelemetryArgs)]
struct Before {
    #[telemetry(allow, dimension = "language")]
    language: String,
    #[telemetry(hash)]
    tenant_id: String,
    session_secret_token: String,
}

#[derive(TelemetryArgs)]
struct After {
    #[telemetry(allow, dimension = "language")]
    language: String,
    #[telemetry(hash)]
    tenant_id: String,
    #[telemetry(allow)]
    dry_run_flag: bool,
    session_secret_token: String,
}

#[derive(Debug, TelemetryError)]
#[allow(dead_code)] // `Io` is only described, never returned.
enum ProbeError {
    #[telemetry(error_type = "ValidationError")]
    Invalid,
    #[telemetry(transparent)]
    Io(std::io::Error),
}

impl std::fmt::Display for ProbeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("probe failed")
    }
}

#[telemetry_tool(category = "testing", name = "manifest_probe_before")]
fn before(args: Before) -> Result<(), ProbeError> {
    let _ = (args.language, args.tenant_id, args.session_secret_token);
    Err(ProbeError::Invalid)
}

#[telemetry_tool(category = "testing", name = "manifest_probe_after")]
fn after(args: After, #[telemetry(presence)] note: Option<String>) -> Result<(), String> {
    let _ = (args.language, args.tenant_id, args.dry_run_flag);
    let _ = (args.session_secret_token, note);
    Ok(())
}

#[test]
fn the_probe_tools_run() {
    let args = |token: &str| Before {
        language: "Go".into(),
        tenant_id: "t".into(),
        session_secret_token: token.into(),
    };
    assert!(before(args("s")).is_err());
    let args = After {
        language: "Go".into(),
        tenant_id: "t".into(),
        dry_run_flag: true,
        session_secret_token: "s".into(),
    };
    assert!(after(args, None).is_ok());
}

/// The manifest with only the tool `name`, renamed `manifest_probe`.
fn only(name: &str) -> Manifest {
    let mut manifest = azsdk_telemetry::manifest();
    manifest.tools.retain(|tool| tool.name == name);
    assert_eq!(manifest.tools.len(), 1, "{name} is registered");
    manifest.tools[0].name = "manifest_probe".to_owned();
    manifest
}

#[test]
fn tools_register_their_fields_and_error_types() {
    let manifest = azsdk_telemetry::manifest();
    let before = manifest.tool("manifest_probe_before").unwrap();
    let keys: Vec<(&str, FieldMode, Option<&str>)> = before
        .fields
        .iter()
        .map(|f| (f.key.as_str(), f.mode, f.dimension.as_deref()))
        .collect();
    assert_eq!(
        keys,
        [
            ("language", FieldMode::Allow, Some("language")),
            ("tenantId", FieldMode::Hash, None)
        ]
    );
    assert_eq!(before.error_types, ["ValidationError"]);
    assert!(
        before.other_error_types,
        "the transparent io::Error gives Io* types"
    );
    let after = manifest.tool("manifest_probe_after").unwrap();
    assert_eq!(after.fields.last().unwrap().key, "note");
    assert_eq!(after.fields.last().unwrap().mode, FieldMode::Presence);
    assert_eq!(after.error_types, ["Error"]);
    assert!(!after.other_error_types);
    let names: Vec<&str> = manifest.tools.iter().map(|t| t.name.as_str()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "tools are listed by name");
    assert_eq!(azsdk_telemetry::manifest(), manifest, "stable");
}

#[test]
fn an_unannotated_field_appears_nowhere() {
    let manifest = azsdk_telemetry::manifest();
    for text in [manifest.to_json(), manifest.to_markdown()] {
        for name in ["sessionSecretToken", "session_secret_token", "SecretToken"] {
            assert!(!text.contains(name), "{name} appears in the manifest");
        }
    }
}

#[test]
fn an_added_allow_field_fails_the_check_with_a_diff_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("telemetry-manifest.json");
    std::fs::write(&path, only("manifest_probe_before").to_json()).unwrap();
    check_manifest(&only("manifest_probe_before"), &path).expect("unchanged");

    let error = check_manifest(&only("manifest_probe_after"), &path).unwrap_err();
    let ManifestMismatch::Changed { diff, .. } = &error else {
        panic!("{error}");
    };
    let added: Vec<&str> = diff.lines().filter(|l| l.starts_with('+')).collect();
    assert!(
        added.iter().any(|l| l.contains("\"key\": \"dryRunFlag\"")),
        "{diff}"
    );
    assert!(
        added.iter().any(|l| l.contains("\"mode\": \"allow\"")),
        "{diff}"
    );
    let message = error.to_string();
    assert!(
        message.contains("AZSDK_TELEMETRY_MANIFEST=overwrite"),
        "{message}"
    );
}
