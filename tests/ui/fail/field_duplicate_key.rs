use azsdk_telemetry::TelemetryArgs;

#[derive(TelemetryArgs)]
struct Args {
    #[telemetry(allow)]
    #[telemetry(allow)]
    language: String,
}

fn main() {
    let _ = Args { language: String::new() }.language;
}
