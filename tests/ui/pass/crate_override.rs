// The runtime reached through another path: generated code uses `crate = path`.
mod reexport {
    pub use ::azsdk_telemetry as telemetry;
}

use reexport::telemetry::{telemetry_tool, TelemetryArgs, TelemetryError};

#[derive(TelemetryArgs)]
#[telemetry(crate = crate::reexport::telemetry)]
struct Args {
    #[telemetry(allow)]
    language: String,
}

#[derive(Debug, TelemetryError)]
#[telemetry(crate = "crate::reexport::telemetry")]
enum Error {
    Failed,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failed")
    }
}

#[telemetry_tool(category = "generating", crate = crate::reexport::telemetry)]
fn generate(args: Args) -> Result<(), Error> {
    let _ = args.language;
    Err(Error::Failed)
}

fn main() {
    let _ = generate(Args { language: String::new() });
}
