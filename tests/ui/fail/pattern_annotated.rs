use azsdk_telemetry::telemetry_tool;

#[telemetry_tool(category = "generating")]
fn generate(#[telemetry(allow)] (a, b): (u8, u8)) -> u8 {
    a + b
}

fn main() {
    generate((1, 2));
}
