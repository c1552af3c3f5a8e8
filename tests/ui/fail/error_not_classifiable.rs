use azsdk_telemetry::telemetry_tool;

/// Displays, but is not a `std::error::Error`: not guessed.
#[derive(Debug)]
struct Failure;

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("failure")
    }
}

#[telemetry_tool(category = "generating")]
fn generate() -> Result<(), Failure> {
    Err(Failure)
}

fn main() {
    let _ = generate();
}
