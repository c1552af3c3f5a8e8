use azsdk_telemetry::TelemetryArgs;

struct Opaque;

#[derive(TelemetryArgs)]
struct Args {
    #[telemetry(allow(display))]
    opaque: Opaque,
}

fn main() {
    let _ = Args { opaque: Opaque }.opaque;
}
