use azsdk_telemetry::telemetry_tool;

#[telemetry_tool(name = "azsdk_generate_sdk")]
fn generate() {}

fn main() {
    generate();
}
