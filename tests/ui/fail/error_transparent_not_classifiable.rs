use azsdk_telemetry::TelemetryError;

#[derive(Debug)]
struct Inner;

#[derive(Debug, TelemetryError)]
enum Error {
    #[telemetry(transparent)]
    Wrapped(Inner),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("wrapped")
    }
}

fn main() {
    let _ = Error::Wrapped(Inner).error_type();
}
