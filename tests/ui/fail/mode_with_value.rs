use azsdk_telemetry::TelemetryArgs;

#[derive(TelemetryArgs)]
struct Args {
    #[telemetry(hash = "sha256")]
    tenant: String,
}

fn main() {
    let _ = Args { tenant: String::new() }.tenant;
}
