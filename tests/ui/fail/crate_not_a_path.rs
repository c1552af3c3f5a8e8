use azsdk_telemetry::telemetry_tool;

#[telemetry_tool(category = "generating", crate = 5)]
fn generate() {}

fn main() {
    generate();
}
