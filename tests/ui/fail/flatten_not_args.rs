use azsdk_telemetry::TelemetryArgs;

struct Opaque;

#[derive(TelemetryArgs)]
struct Args {
    #[telemetry(flatten)]
    opaque: Opaque,
}

fn main() {
    let _ = Args { opaque: Opaque }.opaque;
}
