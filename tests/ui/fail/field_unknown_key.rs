use azsdk_telemetry::TelemetryArgs;

#[derive(TelemetryArgs)]
struct Args {
    #[telemetry(allowed)]
    language: String,
}

fn main() {
    let args = Args { language: String::new() };
    let _ = args.language;
    let mut recorder = azsdk_telemetry::ArgsRecorder::new();
    args.record_args(&mut recorder);
}
