//! Issue 18: keys of every family the scrubber knows, random, alone and inside sentences,
//! through every route a string from outside the annotations takes into an event (an
//! allowlisted argument, a promoted dimension, an error message, the MCP client's and the
//! agent's identity, a configuration change, a crash reason): never emitted. Plus a spoofed
//! client identity. (The host name only the kernel knows: `sanitize`'s own tests.)

use azsdk_telemetry::MemorySink;
use azsdk_telemetry::{
    AgentInfo, ClientInfo, SystemCrashed, TelemetryBuilder, TelemetryHandle, TelemetryLayer,
    ToolExecuted,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::Value;
use tracing_subscriber::prelude::*;

/// Standard base64 (for Docker `auth` values).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One random key per family: (family, key as it appears, the secret part that must go).
fn key() -> impl Strategy<Value = (&'static str, String)> {
    let families: Vec<BoxedStrategy<(&'static str, String)>> = vec![
        "[A-Za-z0-9+/]{40}".prop_map(|k| ("aws-secret", k)).boxed(),
        "AKIA[A-Z0-9]{16}".prop_map(|k| ("aws-key-id", k)).boxed(),
        "[a-z2-7]{51}[2-7]".prop_map(|k| ("ado-pat", k)).boxed(),
        "[0-9a-f]{31}[0-9]".prop_map(|k| ("hex-32", k)).boxed(),
        "[0-9a-f]{39}[a-f]".prop_map(|k| ("hex-40", k)).boxed(),
        "(AC|SK)[0-9a-f]{32}".prop_map(|k| ("twilio", k)).boxed(),
        ("[a-z0-9]{6}", "[a-z]{7}[0-9]{2}[a-z0-9]{7}")
            .prop_map(|(a, b)| ("k8s-bootstrap", format!("{a}.{b}")))
            .boxed(),
        "hvs\\.[A-Za-z0-9_-]{90}".prop_map(|k| ("vault", k)).boxed(),
        "[A-Za-z0-9_-]{54}=="
            .prop_map(|k| {
                (
                    "function-code",
                    format!("https://fn.azurewebsites.net/api/run?code={k}"),
                )
            })
            .boxed(),
        ("[a-z]{4,10}", "[A-Za-z0-9_-]{27}")
            .prop_map(|(user, pat)| {
                (
                    "docker-auth",
                    base64(format!("{user}:dckr_pat_{pat}").as_bytes()),
                )
            })
            .boxed(),
        (
            "[A-Za-z0-9_-]{20}",
            "[A-Za-z0-9_-]{30}",
            "[A-Za-z0-9_-]{43}",
        )
            .prop_map(|(h, p, s)| ("jwt-eyAi", format!("eyAi{h}.{p}.{s}")))
            .boxed(),
        (
            "[A-Za-z0-9]{33}",
            "(\\+ASb|\\+AEh|\\+ARm|AIoT|AzCa)",
            "[A-P][A-Za-z0-9]{5}",
        )
            .prop_map(|(a, sig, b)| ("azure-identifiable-32", format!("{a}{sig}{b}=")))
            .boxed(),
        (
            "[A-Za-z0-9+/]{76}",
            "(\\+ASt|ACDb|APIM|\\+ABa)",
            "[A-Za-z0-9]{6}",
        )
            .prop_map(|(a, sig, b)| ("azure-identifiable-64", format!("{a}{sig}{b}==")))
            .boxed(),
        ("[A-Za-z0-9]{42}", "[A-D][A-Za-z0-9]{5}")
            .prop_map(|(a, b)| ("azure-search", format!("{a}AzSe{b}")))
            .boxed(),
        "[A-Za-z0-9_~.-]{3}[78]Q~[A-Za-z0-9_~-]{34}"
            .prop_map(|k| ("entra-secret", k))
            .boxed(),
        "ghp_[A-Za-z0-9]{36}".prop_map(|k| ("github", k)).boxed(),
        "xoxb-[0-9]{12}-[0-9]{12}-[A-Za-z0-9]{24}"
            .prop_map(|k| ("slack", k))
            .boxed(),
        "sk-proj-[A-Za-z0-9_-]{48}"
            .prop_map(|k| ("openai", k))
            .boxed(),
        "SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}"
            .prop_map(|k| ("sendgrid", k))
            .boxed(),
    ];
    proptest::strategy::Union::new(families)
}

/// The sentences a key is planted in (the error messages of the issue among them).
fn sentences(key: &str) -> Vec<String> {
    vec![
        key.to_owned(),
        format!("invalid service name '{key}'"),
        format!("repository root {key} does not exist"),
        format!("call failed for {key}: status 401"),
    ]
}

/// Runs of 8+ letters and digits of the key (of its secret part, for a key planted in a
/// URL): none may survive anywhere.
fn fragments(key: &str) -> Vec<&str> {
    let secret = key.rsplit_once("code=").map_or(key, |(_, s)| s);
    secret
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|f| f.len() >= 8)
        .collect()
}

/// Runs `work` under a real layer (memory sink, a state directory for settings) built by
/// `configure`, then shuts it down; returns the envelopes.
fn run_layer(
    configure: impl FnOnce(TelemetryBuilder) -> TelemetryBuilder,
    work: impl FnOnce(&mut TelemetryHandle),
) -> Vec<Value> {
    let state = tempfile::tempdir().unwrap();
    let sink = MemorySink::new();
    let builder = TelemetryLayer::builder()
        .ignore_environment()
        .state_dir(state.path())
        .first_run_notice(false)
        .crash_reporting(false)
        .sink(sink.clone());
    let (layer, mut handle) = configure(builder).build().unwrap();
    let guard = tracing_subscriber::registry().with(layer).set_default();
    work(&mut handle);
    drop(guard);
    handle.shutdown(std::time::Duration::from_secs(5));
    sink.envelopes()
}

/// What a text becomes on the wire as a tool call's promoted dimension: the scrubber the
/// layer ships, with this machine's identity, and no length limit.
fn scrub(text: &str) -> String {
    let envelopes = run_layer(
        |b| b.lifecycle_events(false),
        |_| {
            let mut call = ToolExecuted {
                tool_name: "azsdk_check".into(),
                tool_category: "validating".into(),
                ..ToolExecuted::default()
            };
            call.set_dimension("text", text);
            call.emit();
        },
    );
    let properties = &envelopes[0]["data"]["baseData"]["properties"];
    properties["text"]
        .as_str()
        .expect("a string property")
        .to_owned()
}

/// Every route at once, through a real layer with a memory sink; returns the envelopes.
fn emit_everywhere(text: &str) -> Vec<Value> {
    run_layer(
        |b| b.client(ClientInfo::new(text, text)),
        |handle| {
            let mut call = ToolExecuted {
                tool_name: "azsdk_check".into(),
                tool_category: "validating".into(),
                tool_args: Some(
                    serde_json::json!({ "serviceName": text, "repo": text }).to_string(),
                ),
                service_name: Some(text.to_owned()),
                tool_response: Some(text.to_owned()),
                error_message: Some(format!("invalid service name {text}")),
                ..ToolExecuted::default()
            };
            call.set_dimension("team", text);
            call.emit();
            handle.set_client(ClientInfo::new(text, text));
            handle.set_agent(AgentInfo::new(text).version(text).model(text));
            call.emit();
            handle.configure("github.token", text).unwrap();
            handle.record(SystemCrashed {
                crash_reason: text.to_owned(),
                error_message: Some(text.to_owned()),
                stack_trace: Some(text.to_owned()),
            });
        },
    )
}

fn config() -> Config {
    // A fixed seed: shape detection is a judgement on random strings, so a run must not
    // depend on the draw (the miss rates are measured in `sanitize::shape`'s docs).
    Config {
        cases: 48,
        rng_seed: RngSeed::Fixed(18),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_key_survives_the_scrubber((family, key) in key()) {
        for text in sentences(&key) {
            let out = scrub(&text);
            for f in fragments(&key) {
                prop_assert!(!out.contains(f), "[{family}] {text:?} -> {out:?}");
            }
        }
    }
}

proptest! {
    #![proptest_config(Config { cases: 24, ..config() })]

    #[test]
    fn no_key_is_emitted_by_any_route((family, key) in key()) {
        let text = format!("invalid service name '{key}'");
        for route in [key.as_str(), text.as_str()] {
            let envelopes = emit_everywhere(route);
            prop_assert!(envelopes.len() >= 4, "{}", envelopes.len());
            let all = serde_json::to_string(&envelopes).unwrap();
            for f in fragments(&key) {
                prop_assert!(!all.contains(f), "[{family}] {f:?} emitted: {all}");
            }
        }
    }
}

#[test]
fn signatures_win_over_filler() {
    for key in [
        format!("{}+AStAAAAAA==", "A".repeat(76)),
        format!("{}ACDbcccccc==", "c".repeat(76)),
        format!("{}AzFuccccc==", "c".repeat(44)),
        format!("{}AzSeAccccc", "c".repeat(42)),
        format!("{}+ASbAccccc=", "c".repeat(33)),
        format!("{}+ACRAccccc", "c".repeat(42)),
        "bP88Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx".to_owned(),
        "AKIAIOSFODNN7EXAMPLE".to_owned(),
        "eyAiYWxnIjogIkhTMjU2IiB9.eyAic3ViIjogIjEiIH0.c2lnbmF0dXJlc2lnbmF0dXJl".to_owned(),
        "ewogICJhbGciOiAiSFMyNTYiCn0.ewogICJzdWIiOiAiMSIKfQ.c2lnbmF0dXJl".to_owned(),
        "abcdef.0123456789abcdef".to_owned(),
    ] {
        let out = scrub(&key);
        assert_eq!(out, "[REDACTED]", "{key}");
    }
    assert_eq!(
        scrub(
            "InstrumentationKey=1f2e3d4c-5b6a-4789-8abc-0123456789ab;IngestionEndpoint=https://x/"
        ),
        "InstrumentationKey=[REDACTED];IngestionEndpoint=https://x/"
    );
}

#[test]
fn readable_text_stays_readable() {
    for text in [
        "needs a GitHub token: set GITHUB_TOKEN",
        "Python",
        "azure-sdk-for-python",
        "specification/storage/resource-manager",
        "dafa7817-e246-48f3-91a7-e87653d587b8",
        "1.2.3-beta.20240101.1",
        "AzureStorageBlobsClientOptions2024ServiceVersion",
    ] {
        assert_eq!(scrub(text), text);
    }
}

#[test]
fn a_spoofed_client_identity_is_scrubbed_and_settings_keep_their_values_only_when_safe() {
    let home = "/home/mallory/.config/client";
    let envelopes = run_layer(
        |b| b.lifecycle_events(false),
        |handle| {
            handle.set_client(ClientInfo::new("mallory@contoso.com", home));
            handle.set_agent(AgentInfo::new("agent password=hunter2").model("8.8.8.8"));
            ToolExecuted::default().emit();
            handle
                .configure("github.token", "lowercase-not-a-key-shape")
                .unwrap();
            handle.configure("log.level", "debug").unwrap();
            handle.configure("log.level", "mallory's secret").unwrap();
        },
    );
    let props = |i: usize| envelopes[i]["data"]["baseData"]["properties"].clone();
    let tool = props(0);
    assert_eq!(tool["clientName"], "[EMAIL]");
    assert_eq!(tool["clientVersion"], "[PATH]");
    assert_eq!(tool["agentName"], "agent password=[REDACTED]");
    assert_eq!(tool["agentModel"], "[IP]");
    let changes: Vec<Value> = (1..4).map(|i| props(i)["configChanges"].clone()).collect();
    assert_eq!(changes[0], r#"{"githubToken":"[CHANGED]"}"#);
    assert_eq!(changes[1], r#"{"logLevel":"debug"}"#);
    assert_eq!(changes[2], r#"{"logLevel":"[CHANGED]"}"#);
}
