use azsdk_telemetry::telemetry_tool;

trait Tool {
    fn run(&self, input: u8) -> u8;
    async fn run_async(&self) -> u8;
}

struct Impl;

impl Tool for Impl {
    #[telemetry_tool(category = "shapes")]
    fn run(&self, #[telemetry(allow)] input: u8) -> u8 {
        input
    }
    #[telemetry_tool(category = "shapes")]
    async fn run_async(&self) -> u8 {
        1
    }
}

#[async_trait::async_trait]
trait AsyncTool {
    async fn call(&self, input: u8) -> Result<u8, std::io::Error>;
}

#[async_trait::async_trait]
impl AsyncTool for Impl {
    #[telemetry_tool(category = "shapes")]
    async fn call(&self, #[telemetry(allow)] input: u8) -> Result<u8, std::io::Error> {
        Ok(input)
    }
}

fn main() {
    Impl.run(1);
    let _ = Impl.run_async();
    let _ = Impl.call(1);
}
