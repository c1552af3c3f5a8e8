use azsdk_telemetry::telemetry_tool;

#[telemetry_tool(category = "generating")]
const fn generate() -> u8 {
    1
}

fn main() {
    generate();
}
