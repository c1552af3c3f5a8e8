//! The packed byte form of a tool call, for the time it waits in an exporter's queue.
//!
//! A `ToolExecuted` in its box takes ~300 bytes plus a heap block per string; packed, a
//! typical call takes ~110 bytes and no allocation of its own. Literal tool names and
//! categories (`Cow::Borrowed`) are not copied: they are interned per chunk in
//! [`Statics`] and written as an index.
//!
//! Layout: flags (`u16`, little-endian), tool name, category, duration (seconds and
//! nanoseconds as varints), the optional strings present by flag, then the count of
//! custom dimensions and their key/value pairs. A string is a varint length and its bytes.
//! The format lives only in memory, inside one process: it has no version.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{ToolExecuted, ToolFields};

const SUCCESS: u16 = 1;
const CUSTOM_SDK_SET: u16 = 1 << 1;
const CUSTOM_SDK: u16 = 1 << 2;
const NAME_STATIC: u16 = 1 << 3;
const CATEGORY_STATIC: u16 = 1 << 4;
/// First of the eight presence bits of [`ToolExecuted`]'s optional strings.
const FIRST_OPTIONAL: u32 = 5;

/// The literal strings of one chunk, written as their index. Looked up by address, so
/// a literal costs a short scan and no copy.
#[derive(Debug, Default)]
pub(crate) struct Statics(Vec<&'static str>);

impl Statics {
    /// Most literals a chunk interns; others are copied like owned strings.
    const MAX: usize = 1024;

    fn index(&mut self, text: &'static str) -> Option<usize> {
        let found = self
            .0
            .iter()
            .rposition(|s| std::ptr::eq(s.as_ptr(), text.as_ptr()) && s.len() == text.len());
        found.or_else(|| {
            (self.0.len() < Self::MAX).then(|| {
                self.0.push(text);
                self.0.len() - 1
            })
        })
    }

    /// Forgets every literal (the chunk is being reused).
    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }
}

/// Appends `value` as an unsigned LEB128 varint.
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads a varint written by [`put_varint`]; `None` when `input` ends early or the value
/// does not fit 64 bits.
pub(crate) fn get_varint(input: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = input.split_first()?;
        *input = rest;
        value |= u64::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn put_str(out: &mut Vec<u8>, text: &str) {
    put_varint(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}

fn get_str(input: &mut &[u8]) -> Option<String> {
    let len = usize::try_from(get_varint(input)?).ok()?;
    if input.len() < len {
        return None;
    }
    let (text, rest) = input.split_at(len);
    *input = rest;
    String::from_utf8(text.to_vec()).ok()
}

fn put_duration(out: &mut Vec<u8>, duration: Duration) {
    put_varint(out, duration.as_secs());
    put_varint(out, u64::from(duration.subsec_nanos()));
}

fn get_duration(input: &mut &[u8]) -> Option<Duration> {
    let secs = get_varint(input)?;
    let nanos = u32::try_from(get_varint(input)?).ok()?;
    (nanos < 1_000_000_000).then(|| Duration::new(secs, nanos))
}

/// Appends a wall-clock time. A time before 1970 (a badly set clock) is kept as 1970.
pub(crate) fn put_time(out: &mut Vec<u8>, time: SystemTime) {
    put_duration(out, time.duration_since(UNIX_EPOCH).unwrap_or_default());
}

/// Reads a time written by [`put_time`].
pub(crate) fn get_time(input: &mut &[u8]) -> Option<SystemTime> {
    UNIX_EPOCH.checked_add(get_duration(input)?)
}

/// Writes a name as a literal's index when it is one; returns whether it did.
#[allow(
    clippy::ptr_arg,
    reason = "whether the Cow borrows a literal is the point"
)]
fn put_name(out: &mut Vec<u8>, name: &Cow<'static, str>, statics: &mut Statics) -> bool {
    if let Cow::Borrowed(literal) = name {
        if let Some(index) = statics.index(literal) {
            put_varint(out, index as u64);
            return true;
        }
    }
    put_str(out, name);
    false
}

fn get_name(input: &mut &[u8], is_static: bool, statics: &Statics) -> Option<Cow<'static, str>> {
    if is_static {
        let index = usize::try_from(get_varint(input)?).ok()?;
        statics.0.get(index).map(|s| Cow::Borrowed(*s))
    } else {
        get_str(input).map(Cow::Owned)
    }
}

/// An upper bound of a queue entry's bytes besides its strings: its tag, indexes, time,
/// flags, duration and lengths.
pub(crate) const ENTRY_BOUND: usize = 64;

/// A tool call to pack: an owned event's parts, or a call's borrowed fields (the
/// calling thread then builds no owned event at all).
#[derive(Clone, Copy)]
pub(crate) struct ToolView<'a> {
    pub(crate) name: &'a Cow<'static, str>,
    pub(crate) category: &'a Cow<'static, str>,
    pub(crate) fields: ToolFields<'a>,
    pub(crate) dimensions: &'a BTreeMap<String, String>,
}

impl<'a> ToolView<'a> {
    /// The view of an owned event.
    pub(crate) fn of(tool: &'a ToolExecuted) -> Self {
        ToolView {
            name: &tool.tool_name,
            category: &tool.tool_category,
            fields: tool.fields(),
            dimensions: &tool.dimensions,
        }
    }

    /// An upper bound of the bytes [`pack_tool`] writes for it, with the entry's header.
    pub(crate) fn packed_bound(&self) -> usize {
        let strings: usize = self
            .fields
            .optional_strings()
            .into_iter()
            .flatten()
            .map(|s| s.len() + 10)
            .sum();
        let dimensions: usize = self
            .dimensions
            .iter()
            .map(|(k, v)| k.len() + v.len() + 20)
            .sum();
        ENTRY_BOUND + self.name.len() + self.category.len() + strings + dimensions
    }
}

/// Appends the packed form of `tool` to `out`.
pub(crate) fn pack_tool(tool: &ToolView<'_>, statics: &mut Statics, out: &mut Vec<u8>) {
    let flags_at = out.len();
    out.extend_from_slice(&[0, 0]);
    let mut flags = 0u16;
    if tool.fields.success {
        flags |= SUCCESS;
    }
    if let Some(custom) = tool.fields.is_custom_sdk {
        flags |= CUSTOM_SDK_SET | if custom { CUSTOM_SDK } else { 0 };
    }
    if put_name(out, tool.name, statics) {
        flags |= NAME_STATIC;
    }
    if put_name(out, tool.category, statics) {
        flags |= CATEGORY_STATIC;
    }
    put_duration(out, tool.fields.duration);
    for (i, value) in tool.fields.optional_strings().into_iter().enumerate() {
        if let Some(value) = value {
            flags |= 1 << (FIRST_OPTIONAL + i as u32);
            put_str(out, value);
        }
    }
    put_varint(out, tool.dimensions.len() as u64);
    for (key, value) in tool.dimensions {
        put_str(out, key);
        put_str(out, value);
    }
    out[flags_at..flags_at + 2].copy_from_slice(&flags.to_le_bytes());
}

/// Reads a tool call written by [`pack_tool`] with the same `statics`; `None` when the
/// bytes are not one.
pub(crate) fn unpack_tool(input: &mut &[u8], statics: &Statics) -> Option<ToolExecuted> {
    let (flags, rest) = input.split_first_chunk::<2>()?;
    let flags = u16::from_le_bytes(*flags);
    *input = rest;
    let mut tool = ToolExecuted {
        success: flags & SUCCESS != 0,
        is_custom_sdk: (flags & CUSTOM_SDK_SET != 0).then_some(flags & CUSTOM_SDK != 0),
        tool_name: get_name(input, flags & NAME_STATIC != 0, statics)?,
        tool_category: get_name(input, flags & CATEGORY_STATIC != 0, statics)?,
        duration: get_duration(input)?,
        ..ToolExecuted::default()
    };
    let present = |i: u32| flags & (1 << (FIRST_OPTIONAL + i)) != 0;
    let mut values = [const { None }; 8];
    for (i, value) in values.iter_mut().enumerate() {
        if present(i as u32) {
            *value = Some(get_str(input)?);
        }
    }
    let [args, response, language, plane, service, error_type, error_message, mode] = values;
    tool.tool_args = args;
    tool.tool_response = response;
    tool.language = language;
    tool.plane_type = plane;
    tool.service_name = service;
    tool.error_type = error_type;
    tool.error_message = error_message;
    tool.execution_mode = mode;
    for _ in 0..get_varint(input)? {
        let key = get_str(input)?;
        let value = get_str(input)?;
        tool.dimensions.insert(key, value);
    }
    Some(tool)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(tool: &ToolExecuted) -> (ToolExecuted, usize) {
        let mut statics = Statics::default();
        let mut bytes = Vec::new();
        pack_tool(&ToolView::of(tool), &mut statics, &mut bytes);
        let len = bytes.len();
        bytes.extend_from_slice(b"next");
        let mut input = &bytes[..];
        let back = unpack_tool(&mut input, &statics).expect("unpacks");
        assert_eq!(input, b"next", "reads exactly what was written");
        (back, len)
    }

    #[test]
    fn a_typical_call_round_trips_in_about_a_hundred_bytes() {
        let tool = ToolExecuted {
            tool_name: "azsdk_generate_sdk".into(),
            tool_category: "generating".into(),
            duration: Duration::new(3, 250_000_001),
            success: true,
            tool_args: Some(r#"{"service":"storage","language":"python"}"#.into()),
            language: Some("python".into()),
            service_name: Some("storage".into()),
            ..ToolExecuted::default()
        };
        let (back, len) = round_trip(&tool);
        assert_eq!(back, tool);
        assert!(
            matches!(back.tool_name, Cow::Borrowed(_)),
            "literals stay borrowed"
        );
        assert!(len < 80, "{len} bytes");
    }

    #[test]
    fn every_field_round_trips() {
        let mut tool = ToolExecuted {
            tool_name: Cow::Owned("dynamic_tool".to_owned()),
            tool_category: "testing".into(),
            duration: Duration::MAX,
            success: false,
            tool_args: Some(String::new()),
            tool_response: Some("response".into()),
            language: Some(".NET".into()),
            plane_type: Some("mgmt".into()),
            service_name: Some("storage".into()),
            is_custom_sdk: Some(false),
            error_type: Some("Io".into()),
            error_message: Some("ünïcode\n\"quoted\"".repeat(300)),
            execution_mode: Some("agent-invoked".into()),
            ..ToolExecuted::default()
        };
        tool.dimensions.insert("team".into(), "storage-sdk".into());
        tool.dimensions.insert("region".into(), String::new());
        let (back, _) = round_trip(&tool);
        assert_eq!(back, tool);
        assert!(matches!(back.tool_name, Cow::Owned(_)));
        tool.is_custom_sdk = Some(true);
        assert_eq!(round_trip(&tool).0, tool);
        assert_eq!(
            round_trip(&ToolExecuted::default()).0,
            ToolExecuted::default()
        );
    }

    #[test]
    fn truncated_or_corrupt_bytes_are_refused_without_panicking() {
        let tool = ToolExecuted {
            tool_name: "t".into(),
            tool_args: Some("{}".into()),
            ..ToolExecuted::default()
        };
        let mut statics = Statics::default();
        let mut bytes = Vec::new();
        pack_tool(&ToolView::of(&tool), &mut statics, &mut bytes);
        for cut in 0..bytes.len() {
            assert!(
                unpack_tool(&mut &bytes[..cut], &statics).is_none(),
                "cut at {cut}"
            );
        }
        // A literal index the chunk does not have.
        assert!(unpack_tool(&mut &bytes[..], &Statics::default()).is_none());
        assert_eq!(
            get_varint(&mut &[0xff; 11][..]),
            None,
            "longer than 64 bits"
        );
    }

    #[test]
    fn varints_and_times_round_trip() {
        for value in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut bytes = Vec::new();
            put_varint(&mut bytes, value);
            let mut input = &bytes[..];
            assert_eq!(get_varint(&mut input), Some(value));
            assert!(input.is_empty());
        }
        let now = SystemTime::now();
        let mut bytes = Vec::new();
        put_time(&mut bytes, now);
        put_time(&mut bytes, UNIX_EPOCH - Duration::from_secs(5));
        let mut input = &bytes[..];
        assert_eq!(get_time(&mut input), Some(now));
        assert_eq!(
            get_time(&mut input),
            Some(UNIX_EPOCH),
            "before 1970 is kept as 1970"
        );
    }

    #[test]
    fn literals_are_interned_once_per_chunk() {
        static SAME: &str = "same";
        let mut statics = Statics::default();
        let mut bytes = Vec::new();
        let tool = ToolExecuted {
            tool_name: SAME.into(),
            tool_category: SAME.into(),
            ..ToolExecuted::default()
        };
        for _ in 0..3 {
            pack_tool(&ToolView::of(&tool), &mut statics, &mut bytes);
        }
        assert_eq!(statics.0.len(), 1);
        statics.clear();
        assert!(statics.0.is_empty());
    }
}
