use azsdk_telemetry::TelemetryArgs;

#[derive(TelemetryArgs)]
struct Args {
    #[telemetry(allow(debug))]
    language: String,
}

fn main() {
    let _ = Args { language: String::new() }.language;
}
