use azsdk_telemetry::TelemetryError;

#[derive(Debug, TelemetryError)]
enum Error {
    #[telemetry(transparent, error_type = "IoError")]
    Io(std::io::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("io")
    }
}

fn main() {
    let _ = Error::Io(std::io::Error::other("x")).error_type();
}
