use azsdk_telemetry::telemetry_tool;

#[telemetry_tool(category = "generating")]
struct Generate;

fn main() {}
