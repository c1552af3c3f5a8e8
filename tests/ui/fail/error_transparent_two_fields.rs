use azsdk_telemetry::TelemetryError;

#[derive(Debug, TelemetryError)]
enum Error {
    #[telemetry(transparent)]
    Pair(std::io::Error, String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("pair")
    }
}

fn main() {
    let _ = Error::Pair(std::io::Error::other("x"), String::new()).error_type();
}
