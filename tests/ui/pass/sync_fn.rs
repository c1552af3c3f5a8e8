use azsdk_telemetry::telemetry_tool;

/// Doc comments and other attributes stay.
#[telemetry_tool(category = "generating", name = "azsdk_generate_sdk")]
#[inline]
#[must_use]
pub fn generate(#[telemetry(allow)] language: &str) -> Result<String, std::io::Error> {
    let text = std::str::from_utf8(language.as_bytes()).map_err(std::io::Error::other)?;
    if text.is_empty() {
        return Err(std::io::Error::other("empty"));
    }
    Ok(text.to_owned())
}

fn main() {
    let _ = generate("Go");
}
