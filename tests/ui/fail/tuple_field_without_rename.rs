use azsdk_telemetry::TelemetryArgs;

#[derive(TelemetryArgs)]
struct Args(#[telemetry(allow)] String);

fn main() {
    let _ = Args(String::new()).0;
}
