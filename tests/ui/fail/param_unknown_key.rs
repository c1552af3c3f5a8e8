use azsdk_telemetry::telemetry_tool;

#[telemetry_tool(category = "generating")]
fn generate(#[telemetry(alow)] language: &str) -> usize {
    language.len()
}

fn main() {
    generate("Go");
}
