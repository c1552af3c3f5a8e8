//! Entra ID ingestion (feature `entra`) against the testkit's Entra mode, over real HTTP on
//! 127.0.0.1: bearer tokens on every request, the scope, the token cache, failing
//! credentials, and the 400/401/403 answers of a resource with local authentication off.

#[path = "common/credential.rs"]
mod credential;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use azsdk_telemetry::{telemetry_tool, TelemetryArgs, TelemetryHandle, TelemetryLayer};
use azsdk_telemetry_testkit::{Auth, IngestionServer};
use credential::{Behaviour, TestCredential};
use tracing_subscriber::layer::SubscriberExt;

const WAIT: Duration = Duration::from_secs(10);

#[derive(TelemetryArgs)]
struct ProbeArgs {
    #[telemetry(allow)]
    n: u64,
}

#[telemetry_tool(category = "testing", name = "azsdk_entra_probe")]
fn probe(args: ProbeArgs) -> Result<u64, std::io::Error> {
    Ok(args.n)
}

/// The production path: `#[telemetry_tool]` calls through a `TelemetryLayer` sending to
/// `connection_string`, with `credential` when given, the spool under `state`.
struct App {
    dispatch: tracing::Dispatch,
    handle: TelemetryHandle,
}

impl App {
    fn start(
        connection_string: &str,
        credential: Option<Arc<TestCredential>>,
        state: &Path,
    ) -> Self {
        let mut builder = TelemetryLayer::builder()
            .ignore_environment()
            .state_dir(state)
            .app_name("entra-tests")
            .lifecycle_events(false)
            .crash_reporting(false)
            .first_run_notice(false)
            .connection_string(connection_string)
            .configure_export(|mut c| {
                c.retry.base_backoff = Duration::from_millis(10);
                c.retry.max_backoff = Duration::from_millis(40);
                c.with_max_batch_age(Duration::from_millis(50))
                    .with_spool_retry_interval(Duration::from_millis(50))
            });
        if let Some(credential) = credential {
            builder = builder.credential(credential);
        }
        let (layer, handle) = builder.build().expect("the layer builds");
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        App { dispatch, handle }
    }

    /// Calls the tool for each `n`; the slowest call.
    fn call(&self, ns: std::ops::Range<u64>) -> Duration {
        tracing::dispatcher::with_default(&self.dispatch, || {
            ns.map(|n| {
                let t = Instant::now();
                probe(ProbeArgs { n }).expect("the tool succeeds");
                t.elapsed()
            })
            .max()
            .unwrap_or_default()
        })
    }
}

/// How often each `n` arrived (from the `toolArgs` of the tool's events).
fn arrivals(server: &IngestionServer) -> BTreeMap<u64, usize> {
    let mut m = BTreeMap::new();
    for e in server.received() {
        let args = e["data"]["baseData"]["properties"]["toolArgs"]
            .as_str()
            .unwrap_or("{}");
        let args: serde_json::Value = serde_json::from_str(args).expect("toolArgs is JSON");
        *m.entry(args["n"].as_u64().expect("n recorded"))
            .or_default() += 1;
    }
    m
}

fn assert_once(server: &IngestionServer, ns: std::ops::Range<u64>) {
    let expected: BTreeMap<u64, usize> = ns.map(|n| (n, 1)).collect();
    assert_eq!(arrivals(server), expected, "every call exactly once");
}

fn entra(token: &str) -> Auth {
    Auth::Entra {
        token: token.into(),
        forbidden: false,
    }
}

/// The `Authorization` header of every request.
fn authorizations(server: &IngestionServer) -> Vec<Option<String>> {
    let requests = server.requests();
    requests
        .iter()
        .map(|r| r.header("authorization").map(str::to_owned))
        .collect()
}

/// A resource taking only `token-A`, and an app whose credential does `behaviour`.
struct Rig {
    server: IngestionServer,
    credential: Arc<TestCredential>,
    app: App,
    _state: tempfile::TempDir,
}

fn rig(behaviour: Behaviour, extra: &str) -> Rig {
    let server = IngestionServer::start();
    server.set_auth(entra("token-A"));
    let credential = TestCredential::new(behaviour);
    let state = tempfile::tempdir().unwrap();
    let cs = format!("{}{extra}", server.connection_string());
    let app = App::start(&cs, Some(credential.clone()), state.path());
    Rig {
        server,
        credential,
        app,
        _state: state,
    }
}

const HOUR: Duration = Duration::from_secs(3600);

fn token(token: &str, life: Duration) -> Behaviour {
    Behaviour::Token(token.into(), life)
}

/// How long `f` took.
fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

#[test]
fn every_event_arrives_with_the_token_fetched_once_for_hundreds_of_calls() {
    let Rig {
        server,
        credential,
        app,
        ..
    } = rig(token("token-A", HOUR), "");
    for round in 0..6 {
        app.call(round * 50..(round + 1) * 50);
        assert!(app.handle.flush(WAIT), "round {round}");
    }
    assert_once(&server, 0..300);
    let auth = authorizations(&server);
    assert!(
        auth.len() >= 6,
        "one request per flush at least: {}",
        auth.len()
    );
    assert!(
        auth.iter().all(|a| a.as_deref() == Some("Bearer token-A")),
        "{auth:?}"
    );
    let requests = server.requests();
    assert!(requests
        .iter()
        .all(|r| r.path == "/v2.1/track" && r.status == 200));
    let ikey = azsdk_telemetry_testkit::TEST_INSTRUMENTATION_KEY;
    assert!(server.received().iter().all(|e| e["iKey"] == ikey));
    assert_eq!(credential.calls(), 1, "a one-hour token is fetched once");
    assert_eq!(credential.scopes(), ["https://monitor.azure.com//.default"]);
    assert!(app.handle.shutdown(WAIT));
}

#[test]
fn the_scope_follows_the_connection_strings_aad_audience() {
    let extra = ";AADAudience=https://monitor.azure.us/";
    let rig = rig(token("token-A", HOUR), extra);
    rig.app.call(0..3);
    assert!(rig.app.handle.shutdown(WAIT));
    assert_once(&rig.server, 0..3);
    assert_eq!(
        rig.credential.scopes(),
        ["https://monitor.azure.us//.default"]
    );
}

#[test]
fn an_expiring_token_is_refreshed_before_it_expires() {
    // Two seconds of life: refreshed at half of it.
    let rig = rig(token("token-A", Duration::from_secs(2)), "");
    rig.app.call(0..5);
    assert!(rig.app.handle.flush(WAIT));
    // The service now takes only the new token; the old one would get 401.
    rig.credential.set(token("token-B", HOUR));
    rig.server.set_auth(entra("token-B"));
    std::thread::sleep(Duration::from_millis(1_300));
    rig.app.call(5..10);
    assert!(rig.app.handle.flush(WAIT));
    assert_once(&rig.server, 0..10);
    let auth = authorizations(&rig.server);
    assert_eq!(
        auth.first().cloned().flatten().as_deref(),
        Some("Bearer token-A")
    );
    assert_eq!(
        auth.last().cloned().flatten().as_deref(),
        Some("Bearer token-B")
    );
    assert_eq!(rig.credential.calls(), 2);
    assert!(rig.app.handle.shutdown(WAIT));
}

#[test]
fn a_failing_credential_costs_calls_nothing_and_keeps_the_events_until_it_recovers() {
    let rig = rig(Behaviour::Fail("test credential: not signed in"), "");
    let slowest = rig.app.call(0..200);
    assert!(
        slowest < Duration::from_millis(50),
        "slowest call {slowest:?}"
    );
    let took = timed(|| assert!(rig.app.handle.flush(Duration::from_millis(500))));
    assert!(took < Duration::from_millis(700), "flush took {took:?}");
    let stats = rig.app.handle.stats().sink;
    assert_eq!(
        (stats.spooled, stats.dropped, stats.delivered),
        (200, 0, 0),
        "{stats:?}"
    );
    assert!(
        rig.server.requests().is_empty(),
        "nothing is sent without a token"
    );
    let failed = rig.credential.calls();
    assert!(
        (1..20).contains(&failed),
        "fetches back off: {failed} for 200 calls"
    );
    // Signed in again: the spool is delivered, each event once.
    rig.credential.set(token("token-A", HOUR));
    assert!(
        rig.server.wait_for(200, WAIT),
        "delivered once the credential recovered"
    );
    assert!(rig.app.handle.shutdown(WAIT));
    assert_once(&rig.server, 0..200);
}

#[test]
fn a_hanging_credential_leaves_flush_and_shutdown_their_deadlines() {
    let rig = rig(Behaviour::Hang(Duration::from_secs(20)), "");
    let slowest = rig.app.call(0..50);
    assert!(
        slowest < Duration::from_millis(50),
        "slowest call {slowest:?}"
    );
    let deadline = Duration::from_millis(300);
    let slack = Duration::from_millis(100);
    let flush = timed(|| assert!(rig.app.handle.flush(deadline), "spooled in time"));
    assert!(flush < deadline + slack, "flush took {flush:?}");
    let shutdown = timed(|| {
        rig.app.handle.shutdown(deadline);
    });
    assert!(shutdown < deadline + slack, "shutdown took {shutdown:?}");
    let stats = rig.app.handle.stats().sink;
    assert_eq!((stats.spooled, stats.delivered), (50, 0), "{stats:?}");
    assert_eq!(
        rig.credential.calls(),
        1,
        "one fetch under way, not one per attempt"
    );
}

#[test]
fn refused_answers_400_401_403_keep_the_events_for_a_later_start_that_delivers_them_once() {
    // (what the first process sends with, how the resource answers)
    let forbidden = Auth::Entra {
        token: "token-A".into(),
        forbidden: true,
    };
    let cases = [
        (None, 400, entra("token-A")),
        (Some("token-X"), 401, entra("token-A")),
        (Some("token-A"), 403, forbidden),
    ];
    for (token, code, auth) in cases {
        let server = IngestionServer::start();
        server.set_auth(auth);
        let state = tempfile::tempdir().unwrap();
        let cs = server.connection_string();
        let app = App::start(&cs, token.map(TestCredential::token), state.path());
        app.call(0..20);
        assert!(app.handle.shutdown(WAIT), "{code}");
        let statuses: Vec<u16> = server.requests().iter().map(|r| r.status).collect();
        assert_eq!(statuses, [code], "{code} is not retried at once");
        let stats = app.handle.stats().sink;
        assert_eq!((stats.spooled, stats.dropped), (20, 0), "{code}: {stats:?}");
        // Fixed: the right token (and role). The next start delivers the spool, once.
        server.set_auth(entra("token-A"));
        let app = App::start(&cs, Some(TestCredential::token("token-A")), state.path());
        assert!(
            server.wait_for(20, WAIT),
            "{code}: delivered by the next start"
        );
        assert!(app.handle.shutdown(WAIT));
        assert_once(&server, 0..20);
    }
}
