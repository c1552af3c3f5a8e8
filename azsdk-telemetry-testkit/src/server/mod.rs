//! A loopback Application Insights ingestion server for tests.
//!
//! [`IngestionServer`] speaks the `/v2.1/track` protocol over real HTTP/1.1 on
//! `127.0.0.1`, on its own thread and tokio runtime (so it serves sync and async tests
//! alike). It decodes gzip, reads JSON arrays and line-delimited JSON, checks every envelope
//! against the schema's required fields and limits, answers per item like the service, and
//! can be scripted to fail: one [`Fault`] per request in order, or a persistent [`Mode`].
//! [`Auth::Entra`] makes it a resource with local authentication disabled.
//! For throughput measurements, [`Validation::Sample`] checks only every n-th envelope in
//! full and the others cheaply, so the server costs far less than the client it measures.
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

use validate::NOT_AN_OBJECT;

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use flate2::bufread::GzDecoder;
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

/// How the server authenticates requests to the track endpoints.
///
/// ```
/// use azsdk_telemetry_testkit::server::{Auth, IngestionServer};
///
/// let server = IngestionServer::start();
/// // Local authentication disabled: only `Authorization: Bearer token-1` is let in.
/// server.set_auth(Auth::Entra { token: "token-1".into(), forbidden: false });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Auth {
    /// The instrumentation key in the envelopes is enough (the default).
    #[default]
    Key,
    /// Entra ID only, as the service answers such a resource: 400 "Authentication not
    /// supported" to a request without `Authorization`, 401 to another token than
    /// `token`, and, when `forbidden` (the identity lacks the Monitoring Metrics
    /// Publisher role), 403 to `token` itself. Scripted faults come first.
    Entra {
        /// The bearer token accepted.
        token: String,
        /// Refuse even the right token with 403.
        forbidden: bool,
    },
}

impl Auth {
    /// The refusal (status and message) for a request with this `Authorization` header.
    fn refusal(&self, authorization: Option<&str>) -> Option<(u16, &'static str)> {
        let Auth::Entra { token, forbidden } = self else {
            return None;
        };
        let Some(value) = authorization else {
            return Some((400, "Authentication not supported"));
        };
        let given = value
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim());
        match given {
            Some(t) if t == token && *forbidden => {
                Some((403, "The identity is not authorized to send telemetry"))
            }
            Some(t) if t == token => None,
            _ => Some((401, "The provided credentials are invalid")),
        }
    }
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
    /// The body as sent, gunzipped when it was gzipped: the envelope lines
    /// byte for byte (empty if it could not be gunzipped).
    pub body: Vec<u8>,
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
    /// How much of each envelope is checked: all of it by default.
    pub validation: Validation,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            port: 0,
            jsonl: None,
            retain: true,
            validation: Validation::Every,
        }
    }
}

/// How thoroughly the server checks envelopes.
///
/// [`Every`](Validation::Every) parses every envelope and checks it against the schema,
/// like the service. [`Sample(n)`](Validation::Sample) is for throughput measurements,
/// where the server must cost much less than the client under test: the n-th, 2n-th, ...
/// envelope it checks (counted over the server's life) is parsed and validated exactly as
/// in `Every`; every other one is only checked to be valid UTF-8 that, trimmed, starts
/// with `{` and ends with `}`. Envelopes failing either check are refused with a per-item
/// 400, and the answer follows the same protocol as in `Every`. The differences: in
/// `Sample`, a line or array element that is not JSON is refused on its own instead of
/// failing the whole request, and an invalid envelope at an unsampled position is accepted.
///
/// `Sample` needs `retain: false` and `jsonl: None` (unsampled envelopes are never parsed,
/// so there is nothing to keep or write); [`IngestionServer::start_with`] refuses other
/// combinations, and `Sample(0)`, with [`io::ErrorKind::InvalidInput`].
///
/// ```
/// use azsdk_telemetry_testkit::server::{IngestionServer, ServerOptions, Validation};
///
/// let server = IngestionServer::start_with(ServerOptions {
///     retain: false,
///     validation: Validation::Sample(256),
///     ..ServerOptions::default()
/// })?;
/// assert_eq!(server.validated_count(), 0);
///
/// // Sampling with retained envelopes is refused.
/// let refused = IngestionServer::start_with(ServerOptions {
///     validation: Validation::Sample(256),
///     ..ServerOptions::default()
/// });
/// assert_eq!(refused.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Validation {
    /// Parse every envelope and check it against the schema.
    #[default]
    Every,
    /// Parse and check every n-th envelope (n > 0); check the others cheaply.
    Sample(u64),
}

#[derive(Default)]
struct Inner {
    received: Vec<Value>,
    accepted: usize,
    validated: usize,
    refused: usize,
    requests: Vec<RecordedRequest>,
    faults: VecDeque<Fault>,
    mode: Mode,
    mode_count: u64,
    auth: Auth,
}

#[derive(Default)]
struct State {
    inner: Mutex<Inner>,
    changed: Condvar,
    retain: bool,
    jsonl: Option<Mutex<BufWriter<File>>>,
    validation: Validation,
    /// Envelopes checked so far (the 1-based positions [`Validation::Sample`] counts).
    checked: AtomicU64,
    /// The decompressed body of the request being answered, reused between requests.
    buffer: Mutex<Vec<u8>>,
}

impl State {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether accepted envelopes must be kept as values (in memory or for the file).
    fn keeps_envelopes(&self) -> bool {
        self.retain || self.jsonl.is_some()
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
    /// appending, or the server's thread cannot start; and (`InvalidInput`) when
    /// [`Validation::Sample`] is asked for with `retain`, a `jsonl` file, or a period of 0.
    pub fn start_with(options: ServerOptions) -> io::Result<Self> {
        if let Validation::Sample(n) = options.validation {
            if n == 0 || options.retain || options.jsonl.is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "Validation::Sample(n) needs n > 0, retain: false and jsonl: None \
                     (unsampled envelopes are not parsed, so they cannot be kept or written)",
                ));
            }
        }
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
            validation: options.validation,
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

    /// Number of envelopes parsed and checked against the schema in full: all of them
    /// with [`Validation::Every`], the sampled ones with [`Validation::Sample`].
    /// Scripted failures are not checked, so not counted.
    ///
    /// ```
    /// let server = azsdk_telemetry_testkit::IngestionServer::start();
    /// assert_eq!(server.validated_count(), 0);
    /// ```
    pub fn validated_count(&self) -> usize {
        self.state.lock().validated
    }

    /// Number of envelopes refused one by one (a per-item 400) because a check failed.
    /// Scripted failures and requests refused as a whole (not gzip, not JSON) are not
    /// counted.
    ///
    /// ```
    /// let server = azsdk_telemetry_testkit::IngestionServer::start();
    /// assert_eq!(server.refused_count(), 0);
    /// ```
    pub fn refused_count(&self) -> usize {
        self.state.lock().refused
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

    /// Sets how requests are authenticated, from the next request on.
    pub fn set_auth(&self, auth: Auth) {
        self.state.lock().auth = auth;
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

/// A request body split into its items: parsed when every envelope is validated, as
/// trimmed raw text (found without parsing) when only a sample is.
enum Items<'a> {
    Parsed(Vec<Value>),
    Raw(Vec<&'a [u8]>),
}

impl Items<'_> {
    fn len(&self) -> usize {
        match self {
            Items::Parsed(values) => values.len(),
            Items::Raw(raw) => raw.len(),
        }
    }

    /// The parsed items, for a retained request (raw items are never retained).
    fn values(&self) -> Vec<Value> {
        match self {
            Items::Parsed(values) => values.clone(),
            Items::Raw(_) => Vec::new(),
        }
    }

    /// Checks item `index` (below [`len`](Self::len)): whether it was checked in full,
    /// and the verdict.
    fn check(&self, index: usize, state: &State, now: SystemTime) -> (bool, Result<(), String>) {
        match self {
            Items::Parsed(values) => (true, validate_envelope(&values[index], now)),
            Items::Raw(raw) => {
                let item = raw[index];
                let position = state.checked.fetch_add(1, Ordering::Relaxed) + 1;
                match state.validation {
                    Validation::Sample(n) if !position.is_multiple_of(n) => {
                        (false, looks_like_object(item))
                    }
                    _ => {
                        let verdict = serde_json::from_slice(item)
                            .map_err(|e| format!("item is not JSON: {e}"))
                            .and_then(|value| validate_envelope(&value, now));
                        (true, verdict)
                    }
                }
            }
        }
    }
}

/// The cheap check of an unsampled envelope: UTF-8 text shaped like a JSON object.
fn looks_like_object(item: &[u8]) -> Result<(), String> {
    if item.len() < 2 || item.first() != Some(&b'{') || item.last() != Some(&b'}') {
        return Err(NOT_AN_OBJECT.into());
    }
    std::str::from_utf8(item).map_err(|_| "the telemetry item is not valid UTF-8".to_owned())?;
    Ok(())
}

/// Splits a JSON body into its top-level items without parsing them: the elements of an
/// array, or the whole body. Strings are skipped (with their escapes) and brackets and
/// braces counted, so commas inside items do not split them.
fn split_items(text: &[u8]) -> Result<Vec<&[u8]>, String> {
    let text = text.trim_ascii();
    let Some(inner) = text.strip_prefix(b"[") else {
        if text.is_empty() {
            return Err("body is not JSON: it is empty".into());
        }
        return Ok(vec![text]);
    };
    let unbalanced =
        || "body is not JSON: the array's brackets or quotes do not balance".to_owned();
    let inner = inner.strip_suffix(b"]").ok_or_else(unbalanced)?;
    let mut items = Vec::new();
    let (mut depth, mut start, mut i) = (0usize, 0, 0);
    while let Some(&b) = inner.get(i) {
        i += 1;
        match b {
            b'"' => i = string_end(inner, i).ok_or_else(unbalanced)?,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.checked_sub(1).ok_or_else(unbalanced)?,
            b',' if depth == 0 => {
                items.push(inner[start..i - 1].trim_ascii());
                start = i;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(unbalanced());
    }
    let last = inner[start..].trim_ascii();
    if !last.is_empty() || !items.is_empty() {
        items.push(last);
    }
    Ok(items)
}

/// Where the JSON string whose text starts at `from` ends (just past its closing quote);
/// `None` if it does not.
fn string_end(text: &[u8], mut from: usize) -> Option<usize> {
    loop {
        let rest = text.get(from..)?;
        let at = memchr::memchr2(b'"', b'\\', rest)?;
        if rest[at] == b'"' {
            return Some(from + at + 1);
        }
        from += at + 2;
    }
}

/// The non-blank lines of `text`.
fn lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text)
        .chain(std::iter::once(text.len()))
        .map(move |end| {
            let line = &text[start..end];
            start = end + 1;
            line
        })
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
}

/// Gunzips `body` into `buffer` and returns the text. The buffer is only grown, never
/// cleared, so memory it already holds is not zeroed again for the next request.
/// `body` gunzipped when its `Content-Encoding` says gzip.
fn plain_body(headers: &hyper::HeaderMap, body: &[u8]) -> Vec<u8> {
    let gz = headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    if !gz {
        return body.to_vec();
    }
    let mut buffer = Vec::new();
    let len = gunzip(body, &mut buffer).map_or(0, <[u8]>::len);
    buffer.truncate(len);
    buffer
}

fn gunzip<'a>(body: &[u8], buffer: &'a mut Vec<u8>) -> io::Result<&'a [u8]> {
    let mut decoder = GzDecoder::new(body);
    let mut filled = 0;
    loop {
        if filled == buffer.len() {
            buffer.resize((2 * buffer.len()).max(64 * 1024), 0);
        }
        match decoder.read(&mut buffer[filled..]) {
            Ok(0) => return Ok(&buffer[..filled]),
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The request's items: the body gunzipped into `buffer` when it says gzip, then read as
/// line-delimited JSON (`x-json-stream`) or as one JSON value or array; parsed, or as raw
/// text when `raw`.
fn decode<'a>(
    headers: &hyper::HeaderMap,
    body: &'a [u8],
    buffer: &'a mut Vec<u8>,
    raw: bool,
) -> Result<Items<'a>, String> {
    let gz = headers
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let text = if gz {
        gunzip(body, buffer).map_err(|e| format!("body is not valid gzip: {e}"))?
    } else {
        body
    };
    let stream = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json-stream"));
    match (stream, raw) {
        (true, true) => Ok(Items::Raw(lines(text).map(<[u8]>::trim_ascii).collect())),
        (true, false) => lines(text)
            .map(|l| serde_json::from_slice(l).map_err(|e| format!("line is not JSON: {e}")))
            .collect::<Result<_, _>>()
            .map(Items::Parsed),
        (false, true) => split_items(text).map(Items::Raw),
        (false, false) => {
            match serde_json::from_slice(text).map_err(|e| format!("body is not JSON: {e}"))? {
                Value::Array(items) => Ok(Items::Parsed(items)),
                other => Ok(Items::Parsed(vec![other])),
            }
        }
    }
}

/// What a request added to the server's counts, and the accepted envelopes to keep.
#[derive(Default)]
struct Outcome {
    accepted: usize,
    validated: usize,
    refused: usize,
    kept: Vec<Value>,
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
    let fault = match fault {
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        other => other,
    };
    answer(&state, &parts, &bytes, fault, at, wall)
}

/// The body refusing all `items` of a request with `code`.
fn refused_whole(code: u16, items: usize, message: &str) -> Value {
    let errors: Vec<Value> = (0..items)
        .map(|i| json!({"index": i, "statusCode": code, "message": message}))
        .collect();
    json!({"itemsReceived": items, "itemsAccepted": 0, "errors": errors})
}

/// Answers a request (after any scripted delay) and records it.
fn answer(
    state: &State,
    parts: &hyper::http::request::Parts,
    bytes: &[u8],
    fault: Option<Fault>,
    at: Instant,
    wall: SystemTime,
) -> Result<Answer, io::Error> {
    let mut buffer = state.buffer.lock().unwrap_or_else(|p| p.into_inner());
    let raw = matches!(state.validation, Validation::Sample(_));
    let decoded = decode(&parts.headers, bytes, &mut buffer, raw);
    let items_len = decoded.as_ref().map_or(0, Items::len);
    let record = |status: u16, outcome: Outcome| {
        if let Some(file) = &state.jsonl {
            let mut file = file.lock().unwrap_or_else(|p| p.into_inner());
            let written: io::Result<()> = outcome
                .kept
                .iter()
                .try_for_each(|envelope| writeln!(file, "{envelope}"))
                .and_then(|()| file.flush());
            if let Err(error) = written {
                eprintln!("ingestion server: could not append to the JSONL file: {error}");
            }
        }
        let mut i = state.lock();
        i.accepted += outcome.accepted;
        i.validated += outcome.validated;
        i.refused += outcome.refused;
        state.changed.notify_all();
        if !state.retain {
            return;
        }
        i.received.extend(outcome.kept);
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
            items: decoded.as_ref().map(Items::values).unwrap_or_default(),
            body: plain_body(&parts.headers, bytes),
            status,
            at,
            wall,
        });
        state.changed.notify_all();
    };
    let mut failing: Vec<(usize, u16)> = Vec::new();
    match fault {
        Some(Fault::DropConnection) => {
            record(0, Outcome::default());
            return Err(io::Error::other("scripted connection drop"));
        }
        Some(Fault::Redirect { location }) => {
            record(307, Outcome::default());
            return Ok(respond(307, json!({}), Some(("location", &location))));
        }
        Some(Fault::InvalidBody) => {
            record(206, Outcome::default());
            return Ok(Response::builder()
                .status(206)
                .body(Full::new(Bytes::from_static(b"<html>not json")))
                .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))));
        }
        Some(Fault::Status { code, retry_after }) => {
            record(code, Outcome::default());
            return Ok(respond(
                code,
                refused_whole(code, items_len, "scripted failure"),
                retry_after.as_deref().map(|v| ("retry-after", v)),
            ));
        }
        Some(Fault::Partial { failing: f }) => failing = f,
        Some(Fault::Delay(_)) | None => {}
    }
    if parts.uri.path() != "/v2.1/track" && parts.uri.path() != "/v2/track" {
        record(404, Outcome::default());
        return Ok(respond(404, json!({"error": "not found"}), None));
    }
    let authorization = parts
        .headers
        .get("authorization")
        .map(|v| v.to_str().unwrap_or_default());
    let refusal = state.lock().auth.refusal(authorization);
    if let Some((code, message)) = refusal {
        record(code, Outcome::default());
        return Ok(respond(code, refused_whole(code, items_len, message), None));
    }
    let items = match &decoded {
        Ok(items) => items,
        Err(message) => {
            record(400, Outcome::default());
            let body = json!({"itemsReceived": 0, "itemsAccepted": 0,
                "errors": [{"index": 0, "statusCode": 400, "message": message}]});
            return Ok(respond(400, body, None));
        }
    };
    let now = SystemTime::now();
    let keep = state.keeps_envelopes();
    let mut errors = Vec::new();
    let mut outcome = Outcome::default();
    for index in 0..items.len() {
        if let Some(&(_, code)) = failing.iter().find(|(i, _)| *i == index) {
            errors.push(
                json!({"index": index, "statusCode": code, "message": "scripted item failure"}),
            );
            continue;
        }
        let (in_full, verdict) = items.check(index, state, now);
        outcome.validated += usize::from(in_full);
        match verdict {
            Ok(()) => {
                outcome.accepted += 1;
                if let (true, Items::Parsed(values)) = (keep, items) {
                    outcome.kept.push(values[index].clone());
                }
            }
            Err(message) => {
                outcome.refused += 1;
                errors.push(json!({"index": index, "statusCode": 400, "message": message}));
            }
        }
    }
    let status = if errors.is_empty() {
        200
    } else if outcome.accepted > 0 {
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
        json!({"itemsReceived": items.len(), "itemsAccepted": outcome.accepted, "errors": errors});
    record(status, outcome);
    Ok(respond(status, body, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_split_at_top_level_commas_only() {
        let items = split_items(br#" [ {"a": "x, \"]\" \\"}, [1, {"b": 2}] ,3,"" ] "#).unwrap();
        let items: Vec<&str> = items
            .iter()
            .map(|i| std::str::from_utf8(i).unwrap())
            .collect();
        assert_eq!(
            items,
            [r#"{"a": "x, \"]\" \\"}"#, r#"[1, {"b": 2}]"#, "3", r#""""#]
        );
        assert_eq!(split_items(b"[]").unwrap().len(), 0);
        assert_eq!(split_items(b"[1,]").unwrap(), [&b"1"[..], b""]);
        assert_eq!(split_items(b" {\"a\": 1} ").unwrap(), [&b"{\"a\": 1}"[..]]);
        for bad in [
            &b""[..],
            b"[",
            b"[{]",
            b"[}{]",
            b"[\"]",
            b"[\"\\\"]",
            b"[\"\\",
        ] {
            assert!(
                split_items(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn entra_refuses_as_the_service_does() {
        let auth = |forbidden| Auth::Entra {
            token: "t1".into(),
            forbidden,
        };
        let status = |auth: &Auth, header| auth.refusal(header).map(|(code, _)| code);
        assert_eq!(status(&auth(false), None), Some(400));
        assert_eq!(status(&auth(false), Some("bearer t1")), None);
        assert_eq!(status(&auth(false), Some("Bearer t2")), Some(401));
        assert_eq!(status(&auth(false), Some("Basic t1")), Some(401));
        assert_eq!(status(&auth(true), Some("Bearer t1")), Some(403));
        assert_eq!(status(&Auth::Key, None), None);
    }

    #[test]
    fn lines_skip_blank_ones() {
        let text = b"{\"a\":1}\n\n  \r\n{\"b\":2}\r\n{\"c\":3}";
        let found: Vec<&[u8]> = lines(text).collect();
        assert_eq!(found, [&b"{\"a\":1}"[..], b"{\"b\":2}\r", b"{\"c\":3}"]);
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"x\n").count(), 1);
    }

    #[test]
    fn gunzip_reuses_its_buffer() {
        let gzip = |text: &[u8]| {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(text).unwrap();
            gz.finish().unwrap()
        };
        let mut buffer = Vec::new();
        let long = vec![b'x'; 200_000];
        assert_eq!(gunzip(&gzip(&long), &mut buffer).unwrap(), &long[..]);
        let capacity = buffer.capacity();
        assert_eq!(gunzip(&gzip(b"short"), &mut buffer).unwrap(), b"short");
        assert_eq!(buffer.capacity(), capacity);
        assert!(gunzip(b"not gzip", &mut buffer).is_err());
    }
}
