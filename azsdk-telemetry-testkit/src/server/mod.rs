//! A loopback Application Insights ingestion server for tests.
//!
//! [`IngestionServer`] speaks the `/v2.1/track` protocol over real HTTP/1.1 on
//! `127.0.0.1`, on its own thread and tokio runtime (so it serves sync and async tests
//! alike). It decodes gzip, reads JSON arrays and line-delimited JSON, checks every envelope
//! against the schema's required fields and limits, answers per item like the service, and
//! can be scripted to fail: one [`Fault`] per request in order, or a persistent [`Mode`].
//!
//! ```
//! use azsdk_telemetry_testkit::server::{Fault, IngestionServer};
//!
//! let server = IngestionServer::start();
//! server.push_fault(Fault::Status { code: 503, retry_after: Some("1".into()) });
//! assert!(server.connection_string().starts_with("InstrumentationKey="));
//! assert!(server.received().is_empty());
//! ```

mod validate;

pub use validate::{format_time, parse_time, validate_envelope};

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use flate2::read::GzDecoder;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

/// The instrumentation key in [`IngestionServer::connection_string`].
pub const TEST_INSTRUMENTATION_KEY: &str = "5c1e7e2a-0000-4000-8000-00000000abcd";

/// One scripted answer, used by the next request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer this status for the whole batch (every item listed in `errors` with it), with
    /// an optional `Retry-After` value (seconds or an HTTP date, sent verbatim).
    Status {
        /// HTTP status.
        code: u16,
        /// `Retry-After` header value.
        retry_after: Option<String>,
    },
    /// Answer 206 (or the first item's code if nothing is accepted), failing these
    /// `(index, statusCode)` items; the others are validated and accepted as usual.
    Partial {
        /// Items to fail and their codes.
        failing: Vec<(usize, u16)>,
    },
    /// Wait this long, then answer normally (nothing is recorded before the wait ends).
    Delay(Duration),
    /// Close the connection without an answer.
    DropConnection,
    /// Answer `307 Temporary Redirect` to this location.
    Redirect {
        /// `Location` header value.
        location: String,
    },
    /// Answer 206 with a body that is not JSON.
    InvalidBody,
}

/// Persistent behaviour, applied when no scripted fault is pending.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Mode {
    /// Validate and accept.
    #[default]
    Normal,
    /// Accept TCP connections and close them at once (like an endpoint that is down).
    Down,
    /// Every `n`th request (1-based count of requests in this mode) gets `fault`.
    FailEvery {
        /// Period.
        n: u64,
        /// What those requests get.
        fault: Fault,
    },
}

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, names lower-case.
    pub headers: Vec<(String, String)>,
    /// Decoded items (empty if the body could not be decoded).
    pub items: Vec<Value>,
    /// Status answered (0: connection dropped).
    pub status: u16,
    /// When the request arrived (monotonic).
    pub at: Instant,
    /// When the request arrived (wall clock, to compare with HTTP dates).
    pub wall: SystemTime,
}

impl RecordedRequest {
    /// First value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// How to run an [`IngestionServer`]: the defaults suit tests; the local
/// collector (`azsdk-telemetry-collector`) appends to a file and keeps
/// nothing in memory.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Append every accepted envelope to this file, one JSON document per line.
    pub jsonl: Option<PathBuf>,
    /// Keep accepted envelopes and requests in memory for [`IngestionServer::received`]
    /// and [`IngestionServer::requests`].
    pub retain: bool,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            port: 0,
            jsonl: None,
            retain: true,
        }
    }
}

#[derive(Default)]
struct Inner {
    received: Vec<Value>,
    accepted: usize,
    requests: Vec<RecordedRequest>,
    faults: VecDeque<Fault>,
    mode: Mode,
    mode_count: u64,
}

#[derive(Default)]
struct State {
    inner: Mutex<Inner>,
    changed: Condvar,
    retain: bool,
    jsonl: Option<Mutex<BufWriter<File>>>,
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The loopback ingestion server. Stops when dropped.
pub struct IngestionServer {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for IngestionServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestionServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl IngestionServer {
    /// Starts on a random port of 127.0.0.1.
    ///
    /// # Panics
    /// If no port can be bound or no thread started (a broken test machine).
    pub fn start() -> Self {
        match Self::try_start() {
            Ok(s) => s,
            Err(e) => panic!("could not start the loopback ingestion server: {e}"),
        }
    }

    /// Like [`start`](Self::start), returning the error.
    pub fn try_start() -> io::Result<Self> {
        Self::start_with(ServerOptions::default())
    }

    /// Starts with these options.
    ///
    /// ```
    /// use azsdk_telemetry_testkit::server::{IngestionServer, ServerOptions};
    /// # let dir = tempfile::tempdir().unwrap();
    /// let server = IngestionServer::start_with(ServerOptions {
    ///     jsonl: Some(dir.path().join("received.jsonl")),
    ///     retain: false,
    ///     ..ServerOptions::default()
    /// })?;
    /// assert!(server.endpoint().starts_with("http://127.0.0.1:"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Errors
    /// When the port cannot be bound, the file cannot be opened for
    /// appending, or the server's thread cannot start.
    pub fn start_with(options: ServerOptions) -> io::Result<Self> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", options.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let jsonl = match &options.jsonl {
            Some(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?;
                Some(Mutex::new(BufWriter::new(file)))
            }
            None => None,
        };
        let state = Arc::new(State {
            retain: options.retain,
            jsonl,
            ..State::default()
        });
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread_state = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("ingestion-server".into())
            .spawn(move || {
                runtime.block_on(serve(listener, thread_state, stop_rx));
                runtime.shutdown_background();
            })?;
        Ok(Self {
            addr,
            state,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v2.1/track`.
    pub fn track_url(&self) -> String {
        format!("{}/v2.1/track", self.endpoint())
    }

    /// `InstrumentationKey=<test key>;IngestionEndpoint=http://127.0.0.1:PORT/`.
    pub fn connection_string(&self) -> String {
        format!(
            "InstrumentationKey={TEST_INSTRUMENTATION_KEY};IngestionEndpoint={}/",
            self.endpoint()
        )
    }

    /// Every accepted envelope, in arrival order.
    pub fn received(&self) -> Vec<Value> {
        self.state.lock().received.clone()
    }

    /// Number of accepted envelopes (counted even when not retained).
    pub fn received_count(&self) -> usize {
        self.state.lock().accepted
    }

    /// Every request, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.lock().requests.clone()
    }

    /// Waits until at least `n` envelopes were accepted; false on timeout.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |i| i.accepted >= n)
    }

    /// Waits until at least `n` requests arrived; false on timeout.
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |i| i.requests.len() >= n)
    }

    fn wait_until(&self, timeout: Duration, done: impl Fn(&Inner) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut inner = self.state.lock();
        loop {
            if done(&inner) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            inner = match self.state.changed.wait_timeout(inner, left) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
    }

    /// Queues a fault for the next request without one.
    pub fn push_fault(&self, fault: Fault) {
        self.state.lock().faults.push_back(fault);
    }

    /// Sets the persistent mode (and restarts its request count).
    pub fn set_mode(&self, mode: Mode) {
        let mut i = self.state.lock();
        i.mode = mode;
        i.mode_count = 0;
    }
}

impl Drop for IngestionServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    state: Arc<State>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            a = listener.accept() => a,
        };
        let Ok((stream, _)) = accepted else { continue };
        if state.lock().mode == Mode::Down && !has_pending_fault(&state) {
            drop(stream);
            continue;
        }
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = service_fn(move |req| handle(Arc::clone(&state), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn has_pending_fault(state: &State) -> bool {
    !state.lock().faults.is_empty()
}

type Answer = Response<Full<Bytes>>;

fn respond(status: u16, body: Value, extra: Option<(&str, &str)>) -> Answer {
    let mut b = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if let Some((k, v)) = extra {
        b = b.header(k, v);
    }
    b.body(Full::new(Bytes::from(body.to_string())))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn decode(headers: &hyper::HeaderMap, body: &[u8]) -> Result<Vec<Value>, String> {
    let gz = headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let mut text = Vec::new();
    if gz {
        GzDecoder::new(body)
            .read_to_end(&mut text)
            .map_err(|e| format!("body is not valid gzip: {e}"))?;
    } else {
        text = body.to_vec();
    }
    let stream = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json-stream"));
    if stream {
        text.split(|&b| b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .map(|l| serde_json::from_slice(l).map_err(|e| format!("line is not JSON: {e}")))
            .collect()
    } else {
        match serde_json::from_slice(&text).map_err(|e| format!("body is not JSON: {e}"))? {
            Value::Array(items) => Ok(items),
            other => Ok(vec![other]),
        }
    }
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Answer, io::Error> {
    let at = Instant::now();
    let wall = SystemTime::now();
    let (parts, body) = req.into_parts();
    let bytes = body
        .collect()
        .await
        .map_err(|e| io::Error::other(e.to_string()))?
        .to_bytes();
    let fault = {
        let mut i = state.lock();
        match i.faults.pop_front() {
            Some(f) => Some(f),
            None => {
                i.mode_count += 1;
                match &i.mode {
                    Mode::Normal => None,
                    Mode::Down => Some(Fault::DropConnection),
                    Mode::FailEvery { n, fault } => {
                        (*n > 0 && i.mode_count.is_multiple_of(*n)).then(|| fault.clone())
                    }
                }
            }
        }
    };
    let decoded = decode(&parts.headers, &bytes);
    let items = decoded.clone().unwrap_or_default();
    let record = |status: u16, accepted: Vec<Value>| {
        if let Some(file) = &state.jsonl {
            let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
            let written: io::Result<()> = accepted
                .iter()
                .try_for_each(|envelope| writeln!(file, "{envelope}"))
                .and_then(|()| file.flush());
            if let Err(error) = written {
                eprintln!("ingestion server: could not append to the JSONL file: {error}");
            }
        }
        let mut i = state.lock();
        i.accepted += accepted.len();
        state.changed.notify_all();
        if !state.retain {
            return;
        }
        i.received.extend(accepted);
        i.requests.push(RecordedRequest {
            method: parts.method.to_string(),
            path: parts
                .uri
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
                .collect(),
            items: items.clone(),
            status,
            at,
            wall,
        });
        state.changed.notify_all();
    };
    let mut failing: Vec<(usize, u16)> = Vec::new();
    match fault {
        Some(Fault::DropConnection) => {
            record(0, Vec::new());
            return Err(io::Error::other("scripted connection drop"));
        }
        Some(Fault::Redirect { location }) => {
            record(307, Vec::new());
            return Ok(respond(307, json!({}), Some(("location", &location))));
        }
        Some(Fault::InvalidBody) => {
            record(206, Vec::new());
            return Ok(Response::builder()
                .status(206)
                .body(Full::new(Bytes::from_static(b"<html>not json")))
                .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))));
        }
        Some(Fault::Status { code, retry_after }) => {
            record(code, Vec::new());
            let errors: Vec<Value> = (0..items.len())
                .map(|i| json!({"index": i, "statusCode": code, "message": "scripted failure"}))
                .collect();
            let body = json!({"itemsReceived": items.len(), "itemsAccepted": 0, "errors": errors});
            return Ok(respond(
                code,
                body,
                retry_after.as_deref().map(|v| ("retry-after", v)),
            ));
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::Partial { failing: f }) => failing = f,
        None => {}
    }
    if parts.uri.path() != "/v2.1/track" && parts.uri.path() != "/v2/track" {
        record(404, Vec::new());
        return Ok(respond(404, json!({"error": "not found"}), None));
    }
    let items = match decoded {
        Ok(items) => items,
        Err(message) => {
            record(400, Vec::new());
            let body = json!({"itemsReceived": 0, "itemsAccepted": 0,
                "errors": [{"index": 0, "statusCode": 400, "message": message}]});
            return Ok(respond(400, body, None));
        }
    };
    let now = SystemTime::now();
    let mut errors = Vec::new();
    let mut accepted = Vec::new();
    for (index, item) in items.iter().enumerate() {
        if let Some(&(_, code)) = failing.iter().find(|(i, _)| *i == index) {
            errors.push(
                json!({"index": index, "statusCode": code, "message": "scripted item failure"}),
            );
            continue;
        }
        match validate_envelope(item, now) {
            Ok(()) => accepted.push(item.clone()),
            Err(message) => {
                errors.push(json!({"index": index, "statusCode": 400, "message": message}))
            }
        }
    }
    let status = if errors.is_empty() {
        200
    } else if !accepted.is_empty() {
        206
    } else {
        // Nothing accepted: the service answers the first item's code.
        errors
            .first()
            .and_then(|e| e.get("statusCode"))
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(400)
    };
    let body =
        json!({"itemsReceived": items.len(), "itemsAccepted": accepted.len(), "errors": errors});
    record(status, accepted);
    Ok(respond(status, body, None))
}
