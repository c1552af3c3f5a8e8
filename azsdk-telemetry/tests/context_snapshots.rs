//! The process context records carry (`Record::context`): updates publish new snapshots,
//! strings from outside are scrubbed where they enter, and the MCP client names the platform.

use std::time::Duration;

use azsdk_telemetry::{
    AgentInfo, ClientInfo, ContextSnapshot, MemorySink, Platform, SystemStarted, TelemetryBuilder,
    TelemetryHandle, TelemetryLayer,
};

/// A handle whose records go to the returned sink, built by `configure` with nothing read
/// from the environment and no lifecycle events of its own.
fn layer(
    configure: impl FnOnce(TelemetryBuilder) -> TelemetryBuilder,
) -> (TelemetryHandle, MemorySink) {
    let sink = MemorySink::new();
    let builder = TelemetryLayer::builder()
        .ignore_environment()
        .lifecycle_events(false)
        .crash_reporting(false)
        .sink(sink.clone());
    let (_layer, handle) = configure(builder)
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    (handle, sink)
}

/// The snapshot the layer attaches now: that of a record made for the purpose.
fn current(handle: &TelemetryHandle, sink: &MemorySink) -> ContextSnapshot {
    handle.record(SystemStarted {
        startup_duration: Duration::ZERO,
    });
    sink.records().last().unwrap().context().clone()
}

#[test]
fn updates_publish_a_new_snapshot_and_leave_old_ones_alone() {
    let (shared, sink) = layer(|b| b);
    current(&shared, &sink);
    shared.set_client(ClientInfo::new("Claude Desktop", "0.8.2"));
    let after = current(&shared, &sink);
    let before = sink.records()[0].context().clone();
    assert_eq!(before.client, ClientInfo::default());
    assert_eq!(after.client.name.as_deref(), Some("Claude Desktop"));
}

#[test]
fn strings_from_outside_are_scrubbed_where_they_enter() {
    let (shared, sink) = layer(|b| b.platform(Platform::custom("ops@contoso.com")));
    assert_eq!(current(&shared, &sink).platform, "[EMAIL]");
    shared.set_client(ClientInfo::new(
        "jane@contoso.com",
        "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5",
    ));
    shared.set_agent(AgentInfo::new("/home/jane/agent").model("password=hunter2"));
    let ctx = current(&shared, &sink);
    assert_eq!(ctx.client.name.as_deref(), Some("[EMAIL]"));
    assert_eq!(ctx.client.version.as_deref(), Some("[REDACTED]"));
    assert_eq!(ctx.agent.name.as_deref(), Some("[PATH]"));
    assert_eq!(ctx.agent.model.as_deref(), Some("password=[REDACTED]"));
    shared.set_client(ClientInfo::new("Visual Studio Code", "1.100.1"));
    assert_eq!(
        current(&shared, &sink).client,
        ClientInfo::new("Visual Studio Code", "1.100.1")
    );
}

#[test]
fn the_client_names_the_platform_only_when_nothing_else_did() {
    let (open, sink) = layer(|b| b);
    open.set_client(ClientInfo::new("claude-ai", "0.1.0"));
    assert_eq!(current(&open, &sink).platform, "ClaudeDesktop");
    open.set_client(ClientInfo::new("Visual Studio Code - Insiders", "1.101.0"));
    assert_eq!(current(&open, &sink).platform, "VSCode");
    open.set_client(ClientInfo::new("ops@contoso.com", "1"));
    assert_eq!(current(&open, &sink).platform, "[EMAIL]");

    let (given, sink) = layer(|b| b.platform(Platform::JetBrains));
    given.set_client(ClientInfo::new("claude-ai", "0.1.0"));
    let ctx = current(&given, &sink);
    assert_eq!(ctx.platform, "JetBrains");
    assert_eq!(ctx.client.name.as_deref(), Some("claude-ai"));
}

#[test]
fn known_clients_map_to_their_platforms() {
    let cases = [
        ("Visual Studio Code", Platform::VsCode),
        ("claude-ai", Platform::ClaudeDesktop),
        ("Claude Desktop", Platform::ClaudeDesktop),
        ("JetBrains AI Assistant", Platform::JetBrains),
        ("IntelliJ IDEA", Platform::JetBrains),
        ("github-copilot-coding-agent", Platform::GitHub),
        ("claude-code", Platform::custom("claude-code")),
        ("  ", Platform::Cli),
    ];
    for (name, platform) in cases {
        assert_eq!(Platform::of_client(name), platform, "{name:?}");
    }
}

#[test]
fn os_version_is_never_empty() {
    assert!(!ContextSnapshot::default().os_version.is_empty());
}
