use azsdk_telemetry::TelemetryArgs;

#[derive(TelemetryArgs)]
struct Args {
    #[telemetry(hash, dimension = "language")]
    language: String,
}

fn main() {
    let _ = Args { language: String::new() }.language;
}
