//! # azsdk-telemetry-testkit
//!
//! What a tool author's tests use to prove their tools emit exactly the
//! telemetry the dashboards need, and nothing they must not:
//! [`capture()`] collects the events emitted during a test, isolated from
//! tests running in parallel; [`Capture::tool`] and the `assert_*` methods
//! check them the way the spec describes them, with readable diffs; and
//! [`IngestionServer`] is a loopback Application Insights ingestion endpoint
//! that records what it receives and can be scripted to fail.

mod assert;
mod capture;
mod manifest;
pub mod server;

pub use assert::{normalize, personal_data_in, ToolAssert, COMMON_PROPERTIES};
pub use capture::{capture, captured, Capture, CAPTURE_APP_VERSION, CAPTURE_SESSION_ID};
pub use manifest::{assert_manifest, check_manifest, ManifestMismatch, ENV_MANIFEST};
pub use server::{
    Auth, Fault, IngestionServer, Mode, RecordedRequest, ServerOptions, Validation,
    TEST_INSTRUMENTATION_KEY,
};
