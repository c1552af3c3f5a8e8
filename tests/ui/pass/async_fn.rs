use azsdk_telemetry::{telemetry_tool, TelemetryError};

// An error type is classified through `TelemetryError` or `std::error::Error`,
// never guessed: this one has no `Display`, so it records no message.
#[derive(Debug, TelemetryError)]
#[telemetry(skip_message)]
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
