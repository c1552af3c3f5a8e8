use azsdk_telemetry::telemetry_tool;

#[derive(Debug)]
struct MyError;
impl From<std::num::ParseIntError> for MyError {
    fn from(_: std::num::ParseIntError) -> Self {
        MyError
    }
}

#[telemetry_tool(category = "testing")]
async fn run(text: &str) -> Result<u8, MyError> {
    let value: u8 = text.parse()?; // `?` converts into the declared error type
    Ok(value)
}

fn assert_send<T: Send>(_: T) {}

fn main() {
    assert_send(run("1"));
}
