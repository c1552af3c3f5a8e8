use azsdk_telemetry::telemetry_tool;

#[telemetry_tool(category = generating)]
fn generate() {}

fn main() {
    generate();
}
