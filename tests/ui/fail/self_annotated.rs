use azsdk_telemetry::telemetry_tool;

struct Server;

impl Server {
    #[telemetry_tool(category = "generating")]
    fn generate(#[telemetry(allow)] &self) {}
}

fn main() {
    Server.generate();
}
