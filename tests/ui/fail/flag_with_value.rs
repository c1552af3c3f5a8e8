use azsdk_telemetry::TelemetryArgs;

#[derive(TelemetryArgs)]
struct Args {
    #[telemetry(presence = true)]
    root: Option<String>,
}

fn main() {
    let _ = Args { root: None }.root;
}
