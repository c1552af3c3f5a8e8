use azsdk_telemetry::TelemetryError;

#[derive(Debug, TelemetryError)]
enum Error {
    #[telemetry(errortype = "ValidationError")]
    Invalid,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid")
    }
}

fn main() {
    let _ = Error::Invalid.error_type();
}
