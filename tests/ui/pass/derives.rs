use std::path::PathBuf;

use azsdk_telemetry::{TelemetryArgs, TelemetryError};

#[derive(TelemetryArgs)]
#[telemetry(rename_all = "kebab-case")]
struct Args<'a> {
    #[telemetry(allow, dimension = "serviceName")]
    service: &'a str,
    #[telemetry(presence)]
    root: Option<PathBuf>,
    #[telemetry(hash)]
    tenant: String,
    #[telemetry(skip)]
    skipped: String,
    #[telemetry(flatten)]
    nested: Nested,
    #[telemetry(allow(display), dimension = "address")]
    address: std::net::Ipv4Addr,
    #[telemetry(hash(display))]
    hashed_address: std::net::Ipv4Addr,
    unannotated: String,
}

#[derive(TelemetryArgs)]
struct Nested {
    #[telemetry(allow, rename = "lang")]
    language: Option<String>,
}

#[derive(TelemetryArgs)]
struct Tuple(#[telemetry(allow, rename = "first")] u8, String);

#[derive(TelemetryArgs)]
enum Mode {
    Playback,
    #[telemetry(rename = "live")]
    Record { secret: String },
}

#[derive(Debug, thiserror::Error, TelemetryError)]
#[telemetry(skip_message)]
enum Error {
    #[error("a")]
    #[telemetry(error_type = "ValidationError")]
    A,
    #[error("b")]
    #[telemetry(expected)]
    B { detail: String },
    #[error(transparent)]
    #[telemetry(transparent)]
    Io(#[from] std::io::Error),
}

#[derive(Debug, thiserror::Error, TelemetryError)]
#[error("struct error")]
#[telemetry(error_type = "StructError")]
struct StructError;

#[derive(Debug, TelemetryError)]
enum Empty {}

impl std::fmt::Display for Empty {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {}
    }
}

fn main() {
    let _ = (Args::record_args, Tuple::record_args, Nested::record_args);
    let _ = <Mode as azsdk_telemetry::ArgValue>::arg_value;
    let _ = (Error::error_type, StructError::error_type, Empty::is_failure);
    let _ = (Mode::Record { secret: String::new() }, Mode::Playback);
    let _ = Error::B { detail: String::new() };
    let _ = Args { service: "", root: None, tenant: String::new(), skipped: String::new(), nested: Nested { language: None }, address: std::net::Ipv4Addr::LOCALHOST, hashed_address: std::net::Ipv4Addr::LOCALHOST, unannotated: String::new() };
    let _ = Tuple(1, String::new());
}
