use azsdk_telemetry::TelemetryError;

#[derive(Debug, thiserror::Error, TelemetryError)]
#[telemetry(transparent)]
enum Error {
    #[error(transparent)]
    Io(std::io::Error),
}

fn main() {
    let _ = Error::Io(std::io::Error::other("x")).error_type();
}
