use std::fmt::Display;

use azsdk_telemetry::{telemetry_tool, TelemetryArgs};

#[telemetry_tool(category = "shapes")]
fn generic<T: Display, A: TelemetryArgs>(value: T, args: A) -> String
where
    T: Clone,
{
    let _ = args;
    value.to_string()
}

#[telemetry_tool(category = "shapes")]
fn iter(count: usize) -> impl Iterator<Item = usize> {
    0..count
}

#[telemetry_tool(category = "shapes")]
async fn async_impl(count: usize) -> impl Display {
    count
}

#[telemetry_tool(category = "shapes")]
fn lifetimes<'a>(text: &'a str) -> &'a str {
    text
}

fn main() {
    let _ = generic(1, NoArgs);
    let _ = iter(2);
    let _ = async_impl(1);
    let _ = lifetimes("x");
}

struct NoArgs;

impl TelemetryArgs for NoArgs {
    fn record_args(&self, _: &mut azsdk_telemetry::ArgsRecorder) {}
}
