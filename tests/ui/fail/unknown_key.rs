use azsdk_telemetry::telemetry_tool;

#[telemetry_tool(category = "generating", nmae = "typo")]
fn generate() {}

fn main() {
    generate();
}
