use azsdk_telemetry::TelemetryArgs;

#[derive(TelemetryArgs)]
#[telemetry(rename_all = "camelcase")]
struct Args {
    #[telemetry(allow)]
    language: String,
}

fn main() {
    let _ = Args { language: String::new() }.language;
}
