use azsdk_telemetry::telemetry_tool;

struct Server(u8);

impl Server {
    #[telemetry_tool(category = "shapes")]
    fn by_ref(&self) -> u8 {
        self.0
    }
    #[telemetry_tool(category = "shapes")]
    fn by_mut(&mut self, #[telemetry(allow)] step: u8) -> u8 {
        self.0 += step;
        self.0
    }
    #[telemetry_tool(category = "shapes")]
    fn by_value(self) -> u8 {
        self.0
    }
    #[telemetry_tool(category = "shapes")]
    fn borrowed(&self) -> &u8 {
        &self.0
    }
    #[telemetry_tool(category = "shapes")]
    async fn async_by_mut(&mut self) -> u8 {
        self.0 += 1;
        self.0
    }
}

fn main() {
    let mut server = Server(1);
    server.by_ref();
    server.by_mut(1);
    server.borrowed();
    let _ = server.async_by_mut();
    server.by_value();
}
