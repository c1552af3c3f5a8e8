//! Scrubbing of recorded values: secrets, personal paths, personal data, limits.
//! (Interim: truncation only; the scrubber lands with its rule set.)

use std::borrow::Cow;

/// Length limits of the ingestion schema and of the framework.
pub mod limits {
    /// `errorMessage`, `crashReason`: at most 1 KB.
    pub const ERROR_MESSAGE_MAX_BYTES: usize = 1024;
    /// Any property value: at most 8192 characters.
    pub const PROPERTY_VALUE_MAX_CHARS: usize = 8192;
    /// Any property key: at most 150 characters.
    pub const PROPERTY_KEY_MAX_CHARS: usize = 150;
    /// The whole `toolArgs` JSON object string.
    pub const TOOL_ARGS_MAX_BYTES: usize = 8192;
}

/// Scrubs a value.
pub fn scrub(input: &str) -> Cow<'_, str> {
    Cow::Borrowed(input)
}

/// Scrubs, then truncates to `max_bytes` on a character boundary.
pub fn scrub_limited(input: &str, max_bytes: usize) -> Cow<'_, str> {
    match scrub(input) {
        Cow::Borrowed(text) => Cow::Borrowed(truncate_bytes(text, max_bytes)),
        Cow::Owned(text) => Cow::Owned(truncate_bytes(&text, max_bytes).to_owned()),
    }
}

/// The longest prefix of `s` of at most `max_bytes` bytes that ends on a character boundary.
pub fn truncate_bytes(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let mut end = max_bytes;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The prefix of `s` of at most `max_chars` characters.
pub fn truncate_chars(s: &str, max_chars: usize) -> &str {
    match s.char_indices().nth(max_chars) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}
