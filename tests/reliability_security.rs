//! Security properties of the exporter and the layer: HTTPS off loopback, the instrumentation
//! key never in an error or a log line, private spool files, and opted out means nothing
//! written anywhere and nothing sent.
//!
//! Own test binary: it installs a global `tracing` subscriber (the exporter logs from its
//! worker thread) and changes the process environment (in one test only).

mod common;
#[path = "common/credential.rs"]
mod credential;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

use azsdk_telemetry::{
    telemetry_tool, BuildError, ConnectionString, ConnectionStringError, TelemetryLayer,
    ToolExecuted,
};
use azsdk_telemetry::{ExportConfig, ExportError};
use azsdk_telemetry_testkit::server::{Auth, Fault};
use azsdk_telemetry_testkit::{IngestionServer, Mode, TEST_INSTRUMENTATION_KEY};
use common::{config, start, try_start, TestItem};
use tracing_subscriber::prelude::*;

const KEY: &str = "0badc0de-5ec2-4e7a-9c1d-0123456789ab";

/// Every spelling of a key that would count as a leak.
fn leaks(text: &str, key: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    let key = key.to_ascii_lowercase();
    lower.contains(&key) || lower.contains(&key.replace('-', ""))
}

// ---------------------------------------------------------------------------------------------
// HTTPS off loopback.

#[test]
fn plain_http_is_refused_for_every_non_loopback_endpoint() {
    for endpoint in [
        "http://dc.services.visualstudio.com",
        "http://westus2-1.in.applicationinsights.azure.com/",
        "HTTP://EXAMPLE.COM",
        "http://10.0.0.1:8080",
        "http://192.168.1.10",
        "http://[fe80::1]",
        "http://[::ffff:7f00:1]",
        "http://localhost.evil.example",
        "http://127.0.0.1.nip.io",
        "http://0.0.0.0",
    ] {
        let cs = format!("InstrumentationKey={KEY};IngestionEndpoint={endpoint}");
        let error = ConnectionString::parse(&cs).unwrap_err();
        assert!(
            matches!(error, ConnectionStringError::InsecureEndpoint { .. }),
            "{endpoint}: {error:?}"
        );
        // Through the builder, the same error; no exporter, nothing sent.
        let built = TelemetryLayer::builder()
            .ignore_environment()
            .connection_string(cs)
            .build::<tracing_subscriber::Registry>();
        assert!(
            matches!(built, Err(BuildError::ConnectionString(_))),
            "{endpoint}"
        );
    }
    // Other schemes and credentials in the URL are refused too.
    for endpoint in [
        "ftp://dc.services.visualstudio.com",
        "file:///etc/passwd",
        "https://user:pass@dc.services.visualstudio.com",
        "https://127.0.0.1@evil.example",
        "//dc.services.visualstudio.com",
    ] {
        let cs = format!("InstrumentationKey={KEY};IngestionEndpoint={endpoint}");
        assert!(ConnectionString::parse(&cs).is_err(), "{endpoint}");
    }
    // Loopback http and any https are fine.
    for endpoint in [
        "http://127.0.0.1:1",
        "http://127.1.2.3",
        "http://[::1]:9",
        "http://localhost:8080",
        "https://example.com",
    ] {
        let cs = format!("InstrumentationKey={KEY};IngestionEndpoint={endpoint}");
        assert!(ConnectionString::parse(&cs).is_ok(), "{endpoint}");
    }
    // EndpointSuffix and Location always build https URLs.
    let cs = ConnectionString::parse(&format!(
        "InstrumentationKey={KEY};EndpointSuffix=applicationinsights.azure.cn;Location=chinaeast2"
    ))
    .unwrap();
    assert!(cs.ingestion_endpoint().starts_with("https://"));
}

#[test]
fn the_exporter_never_follows_a_redirect_to_plain_http_off_loopback() {
    let server = IngestionServer::start();
    for _ in 0..3 {
        server.push_fault(Fault::Redirect {
            location: "http://westus-0.in.applicationinsights.azure.com/v2.1/track".into(),
        });
    }
    let (sender, handle) = start(config(&server));
    sender.send(TestItem::ok(1));
    let report = handle.shutdown(Duration::from_secs(3));
    assert!(report.completed);
    // Three refused redirects used up the retries; only loopback requests were ever made.
    assert_eq!(
        report.stats.dropped.retries_exhausted, 1,
        "{:?}",
        report.stats
    );
    assert!(server.requests().iter().all(|r| r.status == 307));
}

// ---------------------------------------------------------------------------------------------
// The key in errors.

#[test]
fn the_key_is_in_no_error_message() {
    let inputs = [
        format!("InstrumentationKey={KEY};IngestionEndpoint=http://collector.contoso.com/"),
        format!("InstrumentationKey={KEY};IngestionEndpoint=https://{KEY}.example/"),
        format!("InstrumentationKey={KEY};IngestionEndpoint=https://x.example/{KEY}"),
        format!("InstrumentationKey={KEY};IngestionEndpoint=https://x.example/?k={KEY}"),
        format!("InstrumentationKey={KEY};IngestionEndpoint=https://{KEY}@x.example/"),
        format!("InstrumentationKey={KEY};IngestionEndpoint=not a url {KEY}"),
        format!(
            "InstrumentationKey={KEY};IngestionEndpoint=https://x.example/{}",
            KEY.to_uppercase()
        ),
        format!("InstrumentationKey={KEY};EndpointSuffix={KEY}.example;Location=?"),
        format!("InstrumentationKey={KEY};Location=a b;EndpointSuffix=c d"),
        format!("InstrumentationKey={KEY};Authorization=aad"),
        format!("InstrumentationKey={KEY};{KEY}"),
        format!("InstrumentationKey={KEY};=x"),
        format!("InstrumentationKey={KEY}x"),
        format!("InstrumentationKey={KEY};{}", "a=b;".repeat(2000)),
        format!("IngestionEndpoint=https://x.example;Instrumentationkey ={KEY} {KEY}"),
    ];
    let mut errors = 0;
    for input in &inputs {
        match ConnectionString::parse(input) {
            Err(e) => {
                errors += 1;
                for text in [e.to_string(), format!("{e:?}")] {
                    assert!(!leaks(&text, KEY), "{input}\n  -> {text}");
                }
                let built = TelemetryLayer::builder()
                    .ignore_environment()
                    .connection_string(input.clone())
                    .build::<tracing_subscriber::Registry>();
                let Err(e) = built else {
                    panic!("the builder refuses it too")
                };
                for text in [e.to_string(), format!("{e:?}")] {
                    assert!(!leaks(&text, KEY), "{input}\n  -> {text}");
                }
            }
            Ok(cs) => {
                for text in [cs.to_string(), format!("{cs:?}")] {
                    assert!(!leaks(&text, KEY), "{text}");
                }
            }
        }
    }
    assert!(errors >= 12, "most inputs are errors: {errors}");

    // ExportError: every variant reachable from the outside.
    let cs = ConnectionString::parse(&format!("InstrumentationKey={KEY}")).unwrap();
    let bad = ExportConfig::new(cs.clone()).with_queue_capacity(0);
    assert!(!leaks(&format!("{bad:?}"), KEY), "ExportConfig's Debug");
    let e = try_start(bad, |builder| builder)
        .err()
        .expect("an invalid config is an error");
    assert!(matches!(e, ExportError::InvalidConfig(_)), "{e:?}");
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(!leaks(&text, KEY), "{text}");
    }
    // A spool directory that cannot be created is no error any more (so no message to
    // check): the sink starts without a spool and says so in a warning, which
    // `the_key_is_in_no_log_line_of_faulty_runs` checks with the other log lines.
    // Nothing is sent here: this key's endpoint is the public one.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let (_sender, handle) = try_start(ExportConfig::new(cs.clone()).with_spool_dir(&file), |b| b)
        .unwrap_or_else(|e| panic!("starts without a spool: {e}"));
    assert!(handle.shutdown(Duration::from_secs(1)).completed);
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"x",
        "the file is left alone"
    );
    // The default spool directory is named by a hash of the key, never the key.
    let dir = ExportConfig::default_spool_dir(&cs);
    assert!(dir.is_none_or(|d| !leaks(&d.to_string_lossy(), KEY)));
}

// ---------------------------------------------------------------------------------------------
// The key in log lines.

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything any thread logs at TRACE, as text (installed once for this binary).
fn global_log() -> &'static Buffer {
    static LOG: OnceLock<Buffer> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let fmt = tracing_subscriber::fmt::layer()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_target(true)
            .with_thread_names(true);
        let subscriber = tracing_subscriber::registry()
            .with(fmt.with_filter(tracing_subscriber::filter::LevelFilter::TRACE));
        tracing::subscriber::set_global_default(subscriber).expect("first global subscriber");
        buffer
    })
}

/// A clock that says "before 1970" for the records `bad` lets through: their envelopes
/// cannot be written (what a panicking envelope was before one wire path).
fn clock_with_bad_records(bad: Arc<AtomicBool>) -> impl Fn() -> SystemTime + Send + Sync + 'static {
    move || match bad.swap(false, Ordering::Relaxed) {
        true => UNIX_EPOCH - Duration::from_secs(1),
        false => SystemTime::now(),
    }
}

#[test]
fn the_key_is_in_no_log_line_of_faulty_runs() {
    let log = global_log();
    let key = TEST_INSTRUMENTATION_KEY;
    let server = IngestionServer::start();
    let spool = tempfile::tempdir().unwrap();
    // Every kind of trouble the exporter logs about.
    for fault in [
        Fault::Status {
            code: 503,
            retry_after: Some("0".into()),
        },
        Fault::Partial {
            failing: vec![(0, 400), (1, 500), (2, 206)],
        },
        Fault::DropConnection,
        Fault::InvalidBody,
        Fault::Redirect {
            location: "https://evil.example/v2.1/track".into(),
        },
        Fault::Redirect {
            location: server.track_url(),
        },
        Fault::Status {
            code: 400,
            retry_after: None,
        },
        Fault::Status {
            code: 429,
            retry_after: Some("3600".into()),
        },
    ] {
        server.push_fault(fault);
    }
    // Two records whose envelopes cannot be written.
    let bad = Arc::new(AtomicBool::new(false));
    let clock = clock_with_bad_records(Arc::clone(&bad));
    let (sender, handle) = try_start(
        config(&server)
            .with_max_batch(5)
            .with_spool_dir(spool.path()),
        |builder| builder.clock(clock),
    )
    .unwrap();
    for i in 0..40u64 {
        bad.store(i % 20 == 0, Ordering::Relaxed);
        sender.send(TestItem::ok(i % 20));
    }
    let _ = handle.flush(Duration::from_secs(3));
    drop(handle);
    // A corrupt spool file, an unusable spool, a down endpoint without a spool.
    std::fs::write(
        spool.path().join(format!(
            "{:016}-0000000000000001.v1.aispool",
            now_ms() - 1000
        )),
        b"garbage",
    )
    .unwrap();
    server.set_mode(Mode::Down);
    let (sender, handle) = start(config(&server).with_spool_dir(spool.path()));
    let deadline = Instant::now() + Duration::from_secs(5);
    while handle.stats().spool.corrupt_files == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::fs::remove_dir_all(spool.path()).unwrap();
    std::fs::write(spool.path(), b"not a directory").unwrap();
    for i in 0..10 {
        sender.send(TestItem::ok(i));
    }
    let _ = handle.shutdown(Duration::from_secs(2));
    let (sender, handle) = start(config(&server));
    sender.send(TestItem::ok(1));
    let _ = handle.shutdown(Duration::from_secs(2));
    // The layer: a bad spool location (the sink falls back to none and says so), lifecycle.
    server.set_mode(Mode::Normal);
    let state = tempfile::tempdir().unwrap();
    std::fs::write(state.path().join("spool"), b"x").unwrap();
    let (layer, handle) = TelemetryLayer::builder()
        .ignore_environment()
        .state_dir(state.path())
        .first_run_notice(false)
        .connection_string(server.connection_string())
        .build()
        .unwrap();
    let guard = tracing_subscriber::registry().with(layer).set_default();
    ToolExecuted {
        tool_name: "azsdk_probe".into(),
        error_message: Some(format!("failed with key {key}")),
        ..ToolExecuted::default()
    }
    .emit();
    drop(guard);
    handle.shutdown(Duration::from_secs(2));
    let _ = std::fs::remove_file(spool.path());

    let text = log.text();
    let export_lines = text
        .lines()
        .filter(|l| l.contains("azsdk_telemetry::export"))
        .count();
    assert!(
        export_lines >= 8,
        "the faulty runs were logged ({export_lines} lines):\n{text}"
    );
    for needle in [
        "could not write the spool",
        "removing corrupt spool file",
        "refused",
        "could not be turned into an envelope",
        "spool directory cannot be used",
    ] {
        assert!(text.contains(needle), "a line about {needle:?}:\n{text}");
    }
    let leaked: Vec<&str> = text.lines().filter(|l| leaks(l, key)).collect();
    assert!(
        leaked.is_empty(),
        "log lines with the key:\n{}",
        leaked.join("\n")
    );
    println!(
        "checked {} log lines ({export_lines} from the exporter)",
        text.lines().count()
    );
}

// ---------------------------------------------------------------------------------------------
// File modes.

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn spool_files_are_0600_in_a_0700_directory_even_when_rewritten() {
    use std::os::unix::fs::PermissionsExt;
    let server = IngestionServer::start();
    server.set_mode(Mode::Down);
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("spool");
    // A pre-existing, world-readable directory is tightened.
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let (sender, handle) = start(config(&server).with_max_batch(10).with_spool_dir(&dir));
    assert_eq!(mode(&dir), 0o700);
    for i in 0..30 {
        sender.send(TestItem::ok(i));
    }
    handle.shutdown(Duration::from_secs(2));
    let files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    for f in &files {
        assert_eq!(mode(f), 0o600, "{f:?}");
    }
    // A partial resend rewrites a file in place: still 0600.
    server.set_mode(Mode::Normal);
    for _ in 0..3 {
        server.push_fault(Fault::Partial {
            failing: vec![(0, 503)],
        });
    }
    let (_sender, handle) = start(
        config(&server)
            .with_spool_dir(&dir)
            .with_spool_retry_interval(Duration::from_secs(60)),
    );
    assert!(server.wait_for_requests(1, Duration::from_secs(5)));
    std::thread::sleep(Duration::from_millis(200));
    for f in std::fs::read_dir(&dir).unwrap().flatten() {
        assert_eq!(mode(&f.path()), 0o600, "{:?}", f.path());
    }
    assert_eq!(mode(&dir), 0o700);
    drop(handle);
    // Through the layer: `<state dir>/spool`.
    server.set_mode(Mode::Down);
    let state = tempfile::tempdir().unwrap();
    let (layer, handle) = TelemetryLayer::builder()
        .ignore_environment()
        .state_dir(state.path())
        .first_run_notice(false)
        .connection_string(server.connection_string())
        .build()
        .unwrap();
    let guard = tracing_subscriber::registry().with(layer).set_default();
    ToolExecuted::default().emit();
    drop(guard);
    handle.shutdown(Duration::from_secs(2));
    let spool = state.path().join("spool");
    assert_eq!(mode(&spool), 0o700);
    let files: Vec<_> = std::fs::read_dir(&spool).unwrap().flatten().collect();
    assert!(!files.is_empty());
    for f in files {
        assert_eq!(mode(&f.path()), 0o600);
    }
}

/// A spool directory that cannot be created (a file in its place): the sink starts
/// without a spool, leaves the file alone, and counts what it cannot deliver as dropped.
#[test]
fn http_sink_without_a_usable_spool_still_starts() {
    let server = IngestionServer::start();
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("spool");
    std::fs::write(&file, b"x").unwrap();
    let (sender, handle) = start(config(&server).with_spool_dir(&file));
    sender.send(TestItem::ok(0));
    assert!(handle.flush(Duration::from_secs(3)).completed);
    assert_eq!(server.received().len(), 1, "it sends");
    server.set_mode(Mode::Down);
    for i in 1..=5 {
        sender.send(TestItem::ok(i));
    }
    let report = handle.shutdown(Duration::from_secs(3));
    let s = report.stats;
    assert!(report.completed, "{s:#?}");
    assert_eq!((s.sent, s.spooled), (1, 0), "{s:#?}");
    assert_eq!(s.dropped.retries_exhausted, 5, "{s:#?}");
    assert!(s.is_balanced(), "{s:#?}");
    assert_eq!(
        std::fs::read(&file).unwrap(),
        b"x",
        "the file is left alone"
    );
}

// ---------------------------------------------------------------------------------------------
// Opted out: nothing written, nothing sent.

#[derive(azsdk_telemetry::TelemetryArgs)]
struct ProbeArgs {
    #[telemetry(allow)]
    name: String,
}

#[telemetry_tool(category = "testing", name = "azsdk_opt_out_probe")]
fn probe(args: ProbeArgs) -> Result<usize, std::io::Error> {
    Ok(args.name.len())
}

/// Every path under `dir` with its size (files) — a snapshot to compare.
fn snapshot(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                pending.push(path.clone());
            }
            found.push((path, meta.len()));
        }
    }
    found.sort();
    found
}

#[test]
fn opted_out_writes_nothing_anywhere_and_sends_nothing() {
    let home = tempfile::tempdir().unwrap();
    let state = home.path().join("state");
    let server = IngestionServer::start();
    // Everything the library could touch lives under `home`: the state directory, the
    // per-user cache (default spool) and state directories.
    std::env::set_var("HOME", home.path());
    std::env::set_var("XDG_CACHE_HOME", home.path().join("cache"));
    std::env::set_var("XDG_STATE_HOME", home.path().join("xdg-state"));
    std::env::set_var("XDG_DATA_HOME", home.path().join("xdg-data"));
    std::env::set_var("AZSDK_TELEMETRY_DIR", &state);
    std::env::set_var(
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        server.connection_string(),
    );
    let clear = || {
        std::env::remove_var("AZSDK_TELEMETRY_ENABLED");
        std::env::remove_var("DO_NOT_TRACK");
    };
    let run = |route: &str, builder: azsdk_telemetry::TelemetryBuilder| {
        let before = snapshot(home.path());
        let (layer, handle) = builder
            .app_name("optout")
            .build()
            .unwrap_or_else(|e| panic!("{route}: an opted-out build never fails: {e}"));
        assert!(!handle.is_enabled(), "{route}");
        let guard = tracing_subscriber::registry().with(layer).set_default();
        for i in 0..5 {
            let _ = probe(ProbeArgs {
                name: format!("n{i}"),
            });
            ToolExecuted::default().emit();
        }
        drop(guard);
        assert!(handle.flush(Duration::from_secs(1)));
        assert_eq!(handle.stats().emitted, 0, "{route}");
        assert!(handle.export_stats().is_none(), "{route}: no exporter");
        drop(handle);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(snapshot(home.path()), before, "{route}: files changed");
        assert!(server.requests().is_empty(), "{route}: a request was sent");
    };

    // Control: with telemetry on, the same setup does send (so the checks can fail).
    clear();
    {
        let control = IngestionServer::start();
        std::env::set_var(
            "APPLICATIONINSIGHTS_CONNECTION_STRING",
            control.connection_string(),
        );
        let (layer, handle) = TelemetryLayer::builder()
            .app_name("control")
            .first_run_notice(false)
            .build()
            .unwrap();
        let guard = tracing_subscriber::registry().with(layer).set_default();
        let _ = probe(ProbeArgs { name: "x".into() });
        drop(guard);
        assert!(handle.shutdown(Duration::from_secs(3)));
        assert!(control.wait_for(1, Duration::from_secs(3)));
    }
    std::env::set_var(
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        server.connection_string(),
    );
    std::fs::remove_dir_all(home.path()).unwrap();
    std::fs::create_dir_all(home.path()).unwrap();

    for (name, value) in [
        ("AZSDK_TELEMETRY_ENABLED", "false"),
        ("AZSDK_TELEMETRY_ENABLED", "0"),
        ("AZSDK_TELEMETRY_ENABLED", "no"),
        ("AZSDK_TELEMETRY_ENABLED", "OFF"),
        ("AZSDK_TELEMETRY_ENABLED", "flase"),
        ("DO_NOT_TRACK", "1"),
        ("DO_NOT_TRACK", "true"),
    ] {
        clear();
        std::env::set_var(name, value);
        let route = format!("{name}={value}");
        run(&route, TelemetryLayer::builder());
        // Even when the code says enabled(true) and names a sink location.
        run(
            &route,
            TelemetryLayer::builder()
                .enabled(true)
                .state_dir(&state)
                .jsonl_path(home.path().join("events.jsonl")),
        );
    }
    clear();
    run(".enabled(false)", TelemetryLayer::builder().enabled(false));
    run(
        ".enabled(false) with a connection string",
        TelemetryLayer::builder()
            .enabled(false)
            .connection_string(server.connection_string()),
    );
    // The settings file as `azsdk config set telemetry.enabled false` writes it (before the
    // snapshot, so it is not a change).
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("config.json"), br#"{"telemetry.enabled":false}"#).unwrap();
    run(
        "settings telemetry.enabled=false",
        TelemetryLayer::builder(),
    );
    run(
        "settings telemetry.enabled=false, explicit state dir",
        TelemetryLayer::builder().state_dir(&state),
    );
    std::env::remove_var("APPLICATIONINSIGHTS_CONNECTION_STRING");
    std::env::remove_var("AZSDK_TELEMETRY_DIR");
}

// ---------------------------------------------------------------------------------------------
// Entra ID bearer tokens.

fn entra_app(
    server: &IngestionServer,
    state: &Path,
    credential: Arc<credential::TestCredential>,
) -> (azsdk_telemetry::TelemetryBuilder, String) {
    let builder = TelemetryLayer::builder()
        .ignore_environment()
        .state_dir(state)
        .lifecycle_events(false)
        .crash_reporting(false)
        .first_run_notice(false)
        .connection_string(server.connection_string())
        .credential(credential)
        .configure_export(|mut c| {
            c.retry.base_backoff = Duration::from_millis(10);
            c.with_max_batch_age(Duration::from_millis(50))
                .with_spool_retry_interval(Duration::from_millis(50))
        });
    let shown = format!("{builder:?}");
    (builder, shown)
}

#[test]
fn the_bearer_token_is_in_no_log_line_debug_or_status() {
    let log = global_log();
    const TOKEN: &str = "eyJ0eXAiOiJKV1QifQ.entra-bearer-secret";
    let server = IngestionServer::start();
    let auth = |forbidden| Auth::Entra {
        token: TOKEN.into(),
        forbidden,
    };
    server.set_auth(auth(false));
    let state = tempfile::tempdir().unwrap();
    let (builder, mut shown) = entra_app(
        &server,
        state.path(),
        credential::TestCredential::token(TOKEN),
    );
    let (_layer, handle) = builder.build::<tracing_subscriber::Registry>().unwrap();
    handle.record(ToolExecuted::default());
    assert!(handle.flush(Duration::from_secs(10)));
    assert_eq!(server.received_count(), 1);
    // Refused (403): the warning and the last send's status.
    server.set_auth(auth(true));
    handle.record(ToolExecuted::default());
    assert!(handle.flush(Duration::from_secs(10)));
    shown += &format!("{handle:?}{}", handle.status().to_json());
    assert!(handle.shutdown(Duration::from_secs(5)));
    let requests = server.requests();
    assert!(requests
        .iter()
        .all(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}"))));
    assert!(!shown.contains("entra-bearer-secret"), "{shown}");
    assert!(
        !log.text().contains("entra-bearer-secret"),
        "a log line shows the token"
    );
    assert!(log.text().contains("Monitoring Metrics Publisher role"));
}

#[test]
fn a_failing_credential_is_logged_once_with_its_cause() {
    let log = global_log();
    let server = IngestionServer::start();
    let failing = credential::Behaviour::Fail("azure-cli-not-signed-in-for-this-test");
    let credential = credential::TestCredential::new(failing);
    let state = tempfile::tempdir().unwrap();
    let (builder, _) = entra_app(&server, state.path(), credential.clone());
    let (_layer, handle) = builder.build::<tracing_subscriber::Registry>().unwrap();
    for _ in 0..50 {
        handle.record(ToolExecuted::default());
    }
    assert!(handle.flush(Duration::from_secs(5)));
    let until = Instant::now() + Duration::from_secs(5);
    while credential.calls() < 4 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(handle.shutdown(Duration::from_secs(5)));
    assert!(credential.calls() >= 4, "the spool retried the credential");
    let lines = log
        .text()
        .lines()
        .filter(|l| l.contains("azure-cli-not-signed-in-for-this-test"))
        .count();
    assert_eq!(
        lines,
        1,
        "one line for {} failed fetches",
        credential.calls()
    );
    assert!(server.requests().is_empty());
}
