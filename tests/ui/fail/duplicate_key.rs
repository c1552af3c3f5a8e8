use azsdk_telemetry::telemetry_tool;

#[telemetry_tool(category = "generating", name = "a", name = "b")]
fn generate() {}

fn main() {
    generate();
}
