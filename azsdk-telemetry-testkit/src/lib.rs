//! # azsdk-telemetry-testkit
//!
//! What a tool author's tests use to prove their tools emit exactly the
//! telemetry the dashboards need, and nothing they must not:
//! [`capture()`] collects the events emitted during a test, isolated from
//! tests running in parallel.

mod capture;

pub use capture::{capture, captured, Capture, CAPTURE_APP_VERSION, CAPTURE_SESSION_ID};
