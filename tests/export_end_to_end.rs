//! The whole pipeline against a real HTTP server on 127.0.0.1: annotated
//! events through `tracing`, the layer, the exporter, gzip, the ingestion
//! protocol.

use std::process::Command;
use std::time::Duration;

use azsdk_telemetry::{ClientInfo, TelemetryLayer, ToolExecuted};
use azsdk_telemetry_testkit::{IngestionServer, Mode, TEST_INSTRUMENTATION_KEY};
use serde_json::Value;
use tracing_subscriber::prelude::*;

fn name(envelope: &Value) -> &str {
    envelope["data"]["baseData"]["name"].as_str().unwrap_or("")
}

#[test]
fn tool_calls_reach_the_ingestion_endpoint_as_valid_envelopes() {
    let server = IngestionServer::start();
    let state = tempfile::tempdir().unwrap();
    let (layer, handle) = TelemetryLayer::builder()
        .ignore_environment()
        .state_dir(state.path())
        .app_name("e2e")
        .app_version("2.0.0")
        .first_run_notice(false)
        .connection_string(server.connection_string())
        .configure_export(|config| config.with_max_batch_age(Duration::from_millis(50)))
        .build()
        .unwrap();
    handle.set_client(ClientInfo::new("Visual Studio Code", "1.100.1"));
    let guard = tracing_subscriber::registry().with(layer).set_default();
    for n in 0..25 {
        ToolExecuted {
            tool_name: "azsdk_run_tests".into(),
            tool_category: "testing".into(),
            success: n % 5 != 0,
            error_message: (n % 5 == 0).then(|| format!("failed with AccountKey=c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTIzNA== at step {n}")),
            ..ToolExecuted::default()
        }
        .emit();
    }
    drop(guard);
    assert!(handle.shutdown(Duration::from_secs(5)));

    let received = server.received();
    // The counters outlive the shutdown and account for every record.
    let stats = handle
        .export_stats()
        .expect("exporter counters after shutdown");
    assert!(stats.is_balanced(), "{stats:?}");
    assert_eq!(stats.sent as usize, received.len());
    assert_eq!(handle.stats().emitted, stats.emitted);
    let names: Vec<&str> = received.iter().map(name).collect();
    assert_eq!(names.first(), Some(&"SystemInstalled"));
    assert_eq!(names.iter().filter(|n| **n == "ToolExecuted").count(), 25);
    assert_eq!(names.last(), Some(&"SystemStopped"));
    for envelope in &received {
        assert_eq!(envelope["iKey"], TEST_INSTRUMENTATION_KEY);
        assert_eq!(envelope["tags"]["ai.application.ver"], "2.0.0");
        let props = &envelope["data"]["baseData"]["properties"];
        if name(envelope) == "ToolExecuted" {
            assert_eq!(props["clientName"], "Visual Studio Code");
        }
        let text = envelope.to_string();
        assert!(
            !text.contains("c2VjcmV0c2Vj"),
            "scrubbed before sending: {text}"
        );
    }
    let request = &server.requests()[0];
    assert_eq!(request.header("content-encoding"), Some("gzip"));
    assert!(
        request.status == 200,
        "the server found every envelope valid: {}",
        request.status
    );
}

#[test]
fn opted_out_nothing_reaches_the_server() {
    let server = IngestionServer::start();
    let (layer, handle) = TelemetryLayer::builder()
        .ignore_environment()
        .enabled(false)
        .connection_string(server.connection_string())
        .build()
        .unwrap();
    let guard = tracing_subscriber::registry().with(layer).set_default();
    ToolExecuted::default().emit();
    drop(guard);
    drop(handle);
    std::thread::sleep(Duration::from_millis(200));
    assert!(server.requests().is_empty());
}

#[test]
fn a_bad_connection_string_is_a_clear_error_that_hides_the_key() {
    let error = TelemetryLayer::builder()
        .ignore_environment()
        .connection_string(
            "InstrumentationKey=1234-secret-key;IngestionEndpoint=http://collector.contoso.com/",
        )
        .build::<tracing_subscriber::Registry>()
        .unwrap_err()
        .to_string();
    assert!(error.contains("connection string"), "{error}");
    assert!(!error.contains("1234-secret-key"), "{error}");
}

#[test]
fn a_crash_while_offline_is_spooled_and_delivered_by_the_next_start() {
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let state = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_telemetry-child"))
        .args(["panic", state.path().to_str().unwrap()])
        .env(
            "APPLICATIONINSIGHTS_CONNECTION_STRING",
            server.connection_string(),
        )
        .env_remove("AZSDK_TELEMETRY_ENABLED")
        .env_remove("DO_NOT_TRACK")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let spool = state.path().join("spool");
    let spooled = std::fs::read_dir(&spool)
        .map(|dir| dir.count())
        .unwrap_or(0);
    assert!(
        spooled > 0,
        "the crash was written to the spool before the process died"
    );

    server.set_mode(Mode::Normal);
    let (_layer, handle) = TelemetryLayer::builder()
        .ignore_environment()
        .state_dir(state.path())
        .lifecycle_events(false)
        .connection_string(server.connection_string())
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    assert!(
        server.wait_for(3, Duration::from_secs(10)),
        "spooled records are resent at the next start: {:?}",
        server.received().iter().map(name).collect::<Vec<_>>()
    );
    drop(handle);
    let received = server.received();
    let crash = received
        .iter()
        .find(|envelope| name(envelope) == "SystemCrashed")
        .expect("the crash arrived");
    let message = crash["data"]["baseData"]["properties"]["errorMessage"]
        .as_str()
        .unwrap();
    assert!(message.starts_with("could not open"), "{message}");
    assert!(!message.contains("c2VjcmV0a2V5"), "{message}");
}
