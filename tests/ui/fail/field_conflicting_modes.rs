use azsdk_telemetry::TelemetryArgs;

#[derive(TelemetryArgs)]
struct Args {
    #[telemetry(allow, hash)]
    tenant: String,
}

fn main() {
    let _ = Args { tenant: String::new() }.tenant;
}
