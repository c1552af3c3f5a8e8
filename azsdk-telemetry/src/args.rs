//! Allowlisted tool arguments: the [`TelemetryArgs`] trait, the value
//! conversion [`ArgValue`] and the [`ArgsRecorder`] that builds `toolArgs`.
//!
//! Nothing is recorded unless an annotation allows it. `#[derive(TelemetryArgs)]`
//! turns field annotations into calls on the recorder, in declaration order:
//!
//! | annotation | what `toolArgs` gets |
//! | --- | --- |
//! | `allow` | the key and the value ([`ArgValue`]; a [`TelemetryArgs`] type as a nested object) |
//! | `allow(display)` | the key and the value's `Display` text |
//! | `allow, dimension = "language"` | the same, and the value as a top-level dimension |
//! | `presence` | the key with `true`: that a value was given, never the value |
//! | `hash`, `hash(display)` | the key with the SHA-256 of the value (or of its `Display` text), lower-case hex |
//! | `skip` or no annotation | nothing, not even the key |
//! | `flatten` | the fields of a nested `TelemetryArgs` value, at this level |
//!
//! An `Option` that is `None` leaves its key out whatever the annotation. A
//! field whose type implements `TelemetryArgs` itself and is marked `allow`
//! is written as a nested JSON object (its promoted dimensions still reach the
//! event); with `flatten` its keys join the parent's object. Any other type
//! is a compile error at the field's type that lists the ways out: nothing is
//! recorded through `Display` unless `display` asks for it.
//!
//! Values are scrubbed later, when the record is finished; the recorder only
//! bounds sizes so a huge argument never costs a huge allocation.

use std::borrow::Cow;
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::sanitize::{self, limits};

/// A type whose annotated fields can be recorded as `toolArgs`.
///
/// Derive it: a tool parameter whose type implements `TelemetryArgs` is
/// recorded through its annotations with no marking on the parameter.
///
/// ```
/// use std::path::PathBuf;
/// use azsdk_telemetry::{ArgsRecorder, TelemetryArgs};
///
/// #[derive(TelemetryArgs)]
/// struct GenerateSdkArgs {
///     #[telemetry(allow, dimension = "language")]
///     language: String,
///     #[telemetry(allow)]
///     api_version: Option<String>,
///     #[telemetry(presence)]
///     typespec_project_root: PathBuf,
///     api_key: String, // not annotated: never recorded, not even its name
/// }
///
/// let args = GenerateSdkArgs {
///     language: ".NET".into(),
///     api_version: None,
///     typespec_project_root: "specification/storage".into(),
///     api_key: "secret".into(),
/// };
/// let mut recorder = ArgsRecorder::new();
/// args.record_args(&mut recorder);
/// assert_eq!(recorder.json(), r#"{"language":".NET","typespecProjectRoot":true}"#);
/// assert_eq!(recorder.dimensions().collect::<Vec<_>>(), [("language", ".NET")]);
/// ```
///
/// It can be implemented by hand with the recorder's methods:
///
/// ```
/// use azsdk_telemetry::{ArgsRecorder, TelemetryArgs};
///
/// struct Languages(Vec<String>);
///
/// impl TelemetryArgs for Languages {
///     fn record_args(&self, recorder: &mut ArgsRecorder) {
///         recorder.allow("languages", &self.0.join(","));
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no telemetry fields to record: it does not implement `TelemetryArgs`",
    label = "`{Self}` does not implement `TelemetryArgs`",
    note = "add `#[derive(TelemetryArgs)]` to `{Self}` and annotate the fields to record, or implement `TelemetryArgs` by hand",
    note = "a single value is recorded with `#[telemetry(allow)]` instead of `flatten`"
)]
pub trait TelemetryArgs {
    /// Records the allowed fields into `recorder`.
    fn record_args(&self, recorder: &mut ArgsRecorder);
}

macro_rules! forward_args {
    ($($ty:ty),*) => {$(
        impl<T: TelemetryArgs + ?Sized> TelemetryArgs for $ty {
            fn record_args(&self, recorder: &mut ArgsRecorder) {
                (**self).record_args(recorder)
            }
        }
    )*};
}
forward_args!(&T, &mut T, Box<T>, Rc<T>, Arc<T>);

/// `None` records nothing.
impl<T: TelemetryArgs> TelemetryArgs for Option<T> {
    fn record_args(&self, recorder: &mut ArgsRecorder) {
        if let Some(args) = self {
            args.record_args(recorder)
        }
    }
}

/// rmcp's `Parameters<T>` wrapper records its `T`.
#[cfg(feature = "rmcp")]
impl<T: TelemetryArgs> TelemetryArgs for rmcp::handler::server::wrapper::Parameters<T> {
    fn record_args(&self, recorder: &mut ArgsRecorder) {
        self.0.record_args(recorder)
    }
}

/// A value that can stand in `toolArgs`: strings, booleans, numbers, paths,
/// and `Option`s, slices and `Vec`s of those.
///
/// Enums derive it with `#[derive(TelemetryArgs)]`, which writes the
/// variant's name (camelCase unless `rename_all`/`rename` say otherwise) and
/// never reads its fields. A type that is neither an `ArgValue` nor a
/// [`TelemetryArgs`] is recorded through `Display` only when the field asks
/// for it: `#[telemetry(allow(display))]`.
///
/// ```
/// use azsdk_telemetry::{ArgValue, TelemetryArgs};
///
/// #[derive(TelemetryArgs)]
/// enum TestMode { Playback, Record }
///
/// assert_eq!(TestMode::Playback.arg_value(), Some(serde_json::json!("playback")));
/// assert_eq!(None::<u8>.arg_value(), None);
/// assert_eq!(vec![1, 2].arg_value(), Some(serde_json::json!([1, 2])));
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be recorded in `toolArgs`: it implements neither `ArgValue` nor `TelemetryArgs`",
    label = "`{Self}` cannot be recorded",
    note = "implement `azsdk_telemetry::ArgValue` for `{Self}` to record it as a value",
    note = "or add `#[derive(TelemetryArgs)]` to `{Self}`: a struct records its annotated fields as a nested object, an enum its variant's name",
    note = "or record its `Display` text: `#[telemetry(allow(display))]`",
    note = "or record less: `#[telemetry(presence)]` (only that it was given) or `#[telemetry(hash(display))]` (the SHA-256 of its `Display` text)"
)]
pub trait ArgValue {
    /// The value as JSON; `None` when absent (the key is then left out).
    fn arg_value(&self) -> Option<Value>;

    /// Whether a value is there (`false` for `None`), without reading it.
    fn is_present(&self) -> bool {
        true
    }

    /// Writes the value's JSON text (what [`arg_value`](ArgValue::arg_value) gives) to
    /// `out` and returns `true`, or writes nothing and returns `false` when absent.
    ///
    /// The recorder calls this one: the provided method goes through `arg_value`; the
    /// framework's own impls write straight into the `toolArgs` buffer.
    fn write_arg(&self, out: &mut ArgWriter<'_>) -> bool {
        match self.arg_value() {
            Some(value) => {
                out.value(&value);
                true
            }
            None => false,
        }
    }
}

/// Where [`ArgValue::write_arg`] writes one JSON value: the `toolArgs` text being built.
///
/// ```
/// use azsdk_telemetry::{ArgValue, ArgWriter, ArgsRecorder};
///
/// struct Port(u16);
/// impl ArgValue for Port {
///     fn arg_value(&self) -> Option<serde_json::Value> {
///         Some(self.0.into())
///     }
///     fn write_arg(&self, out: &mut ArgWriter<'_>) -> bool {
///         out.number(self.0);
///         true
///     }
/// }
///
/// let mut recorder = ArgsRecorder::new();
/// recorder.allow("port", &Port(8080));
/// assert_eq!(recorder.json(), r#"{"port":8080}"#);
/// ```
#[derive(Debug)]
pub struct ArgWriter<'a> {
    buf: &'a mut String,
}

impl ArgWriter<'_> {
    /// A JSON string, escaped; longer than
    /// `toolArgs`' limit (8192 bytes) it is cut
    /// first (it can never fit whole).
    pub fn string(&mut self, text: &str) {
        let text = sanitize::truncate_bytes(text, limits::TOOL_ARGS_MAX_BYTES);
        write_json_str(self.buf, text);
    }

    /// `true` or `false`.
    pub fn bool(&mut self, flag: bool) {
        self.buf.push_str(if flag { "true" } else { "false" });
    }

    /// An integer, in decimal.
    pub fn number<N: ArgInteger>(&mut self, number: N) {
        number.write_to(self.buf);
    }

    /// Any JSON value, compact.
    pub fn value(&mut self, value: &Value) {
        if let Ok(text) = serde_json::to_string(value) {
            self.buf.push_str(&text);
        }
    }

    fn len(&self) -> usize {
        self.buf.len()
    }
}

/// Appends `text` as a JSON string. Text with nothing to escape (the usual
/// identifiers and values) is copied as it is; anything else goes through
/// serde_json's escaping.
fn write_json_str(buf: &mut String, text: &str) {
    if !needs_escape(text.as_bytes()) {
        buf.reserve(text.len() + 2);
        buf.push('"');
        buf.push_str(text);
        buf.push('"');
    } else if let Ok(escaped) = serde_json::to_string(text) {
        buf.push_str(&escaped);
    }
}

/// Whether JSON needs an escape in `bytes` (a control character, `"` or `\\`), eight
/// bytes at a time.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // A byte of `word` below `n` (n <= 0x80) sets its high bit here, and no other does.
    let below = |word: u64, n: u8| word.wrapping_sub(ONES * u64::from(n)) & !word & HIGHS;
    let zero = |word: u64| below(word, 1);
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_ne_bytes(word);
        let quote = zero(word ^ (ONES * u64::from(b'"')));
        let backslash = zero(word ^ (ONES * u64::from(b'\\')));
        if below(word, 0x20) | quote | backslash != 0 {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&byte| byte < 0x20 || byte == b'"' || byte == b'\\')
}

/// Integer types [`ArgWriter::number`] writes (those that always fit a JSON number).
pub trait ArgInteger: Copy + sealed::Sealed {
    #[doc(hidden)]
    fn write_to(self, buf: &mut String);
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! integer {
    ($($ty:ty),*) => {$(
        impl sealed::Sealed for $ty {}
        impl ArgInteger for $ty {
            fn write_to(self, buf: &mut String) {
                // Decimal digits, most significant first, without `fmt`.
                let mut digits = ['0'; 20];
                let mut at = digits.len();
                let negative = (self as i128) < 0;
                let mut rest = (self as i128).unsigned_abs();
                loop {
                    at -= 1;
                    digits[at] = char::from(b'0' + (rest % 10) as u8);
                    rest /= 10;
                    if rest == 0 {
                        break;
                    }
                }
                if negative {
                    buf.push('-');
                }
                buf.extend(&digits[at..]);
            }
        }
        impl ArgValue for $ty {
            fn arg_value(&self) -> Option<Value> {
                Some(Value::from(*self))
            }
            fn write_arg(&self, out: &mut ArgWriter<'_>) -> bool {
                out.number(*self);
                true
            }
        }
    )*};
}
integer!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

fn bounded_string(text: &str) -> Value {
    Value::String(sanitize::truncate_bytes(text, limits::TOOL_ARGS_MAX_BYTES).to_owned())
}

macro_rules! string_arg {
    ($($ty:ty),*) => {$(
        impl ArgValue for $ty {
            fn arg_value(&self) -> Option<Value> {
                Some(bounded_string(self))
            }
            fn write_arg(&self, out: &mut ArgWriter<'_>) -> bool {
                out.string(self);
                true
            }
        }
    )*};
}
string_arg!(str, String, Cow<'_, str>);

impl ArgValue for char {
    fn arg_value(&self) -> Option<Value> {
        Some(Value::String(self.to_string()))
    }
    fn write_arg(&self, out: &mut ArgWriter<'_>) -> bool {
        out.string(self.encode_utf8(&mut [0; 4]));
        true
    }
}
impl ArgValue for Path {
    fn arg_value(&self) -> Option<Value> {
        Some(bounded_string(&self.to_string_lossy()))
    }
    fn write_arg(&self, out: &mut ArgWriter<'_>) -> bool {
        out.string(&self.to_string_lossy());
        true
    }
}
impl ArgValue for PathBuf {
    fn arg_value(&self) -> Option<Value> {
        self.as_path().arg_value()
    }
    fn write_arg(&self, out: &mut ArgWriter<'_>) -> bool {
        self.as_path().write_arg(out)
    }
}
impl ArgValue for bool {
    fn arg_value(&self) -> Option<Value> {
        Some(Value::Bool(*self))
    }
    fn write_arg(&self, out: &mut ArgWriter<'_>) -> bool {
        out.bool(*self);
        true
    }
}

macro_rules! float_arg {
    ($($ty:ty),*) => {$(
        impl ArgValue for $ty {
            fn arg_value(&self) -> Option<Value> {
                Some(Value::from(*self))
            }
        }
    )*};
}
float_arg!(f32, f64);

impl ArgValue for i128 {
    fn arg_value(&self) -> Option<Value> {
        Some(i64::try_from(*self).map_or_else(|_| Value::String(self.to_string()), Value::from))
    }
}
impl ArgValue for u128 {
    fn arg_value(&self) -> Option<Value> {
        Some(u64::try_from(*self).map_or_else(|_| Value::String(self.to_string()), Value::from))
    }
}

impl<T: ArgValue> ArgValue for Option<T> {
    fn arg_value(&self) -> Option<Value> {
        self.as_ref().and_then(ArgValue::arg_value)
    }
    fn is_present(&self) -> bool {
        self.as_ref().is_some_and(ArgValue::is_present)
    }
    fn write_arg(&self, out: &mut ArgWriter<'_>) -> bool {
        self.as_ref().is_some_and(|value| value.write_arg(out))
    }
}
impl<T: ArgValue> ArgValue for [T] {
    fn arg_value(&self) -> Option<Value> {
        Some(Value::Array(
            self.iter().filter_map(ArgValue::arg_value).collect(),
        ))
    }
    fn write_arg(&self, out: &mut ArgWriter<'_>) -> bool {
        out.buf.push('[');
        let mut first = true;
        for item in self {
            let mark = out.len();
            if !first {
                out.buf.push(',');
            }
            if item.write_arg(out) {
                first = false;
            } else {
                out.buf.truncate(mark);
            }
            if out.len() > limits::TOOL_ARGS_MAX_BYTES {
                // It cannot fit any more: stop reading.
                break;
            }
        }
        out.buf.push(']');
        true
    }
}
impl<T: ArgValue> ArgValue for Vec<T> {
    fn arg_value(&self) -> Option<Value> {
        self.as_slice().arg_value()
    }
    fn write_arg(&self, out: &mut ArgWriter<'_>) -> bool {
        self.as_slice().write_arg(out)
    }
}
impl<T: ArgValue, const N: usize> ArgValue for [T; N] {
    fn arg_value(&self) -> Option<Value> {
        self.as_slice().arg_value()
    }
    fn write_arg(&self, out: &mut ArgWriter<'_>) -> bool {
        self.as_slice().write_arg(out)
    }
}

macro_rules! forward_value {
    ($($ty:ty),*) => {$(
        impl<T: ArgValue + ?Sized> ArgValue for $ty {
            fn arg_value(&self) -> Option<Value> {
                (**self).arg_value()
            }
            fn is_present(&self) -> bool {
                (**self).is_present()
            }
            fn write_arg(&self, out: &mut ArgWriter<'_>) -> bool {
                (**self).write_arg(out)
            }
        }
    )*};
}
forward_value!(&T, &mut T, Box<T>, Rc<T>, Arc<T>);

/// Builds the `toolArgs` JSON object, in the order values are recorded, and
/// collects the dimensions promoted from them.
///
/// The object is written as JSON text straight into one buffer (no map, no
/// per-key allocation). It never grows past
/// `toolArgs`' limit of 8192 bytes: a
/// top-level key that would not fit is left out whole (with everything nested
/// in it), `"_truncated": true` is added and later keys are left out too. A key
/// recorded twice keeps its first position and its last value.
///
/// ```
/// use azsdk_telemetry::ArgsRecorder;
///
/// let mut recorder = ArgsRecorder::new();
/// recorder.allow("language", "Python");
/// recorder.presence("outputDirectory", &Some("/home/me/out"));
/// recorder.hash("tenantId", "abc");
/// recorder.allow("apiVersion", &None::<String>);
/// recorder.dimension("language", "Python");
/// assert_eq!(
///     recorder.json(),
///     r#"{"language":"Python","outputDirectory":true,"tenantId":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}"#
/// );
/// ```
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ArgsRecorder {
    /// The object's JSON text without its closing brace(s); empty until first written.
    buf: String,
    /// Nesting level of the object being written (0: `toolArgs` itself).
    depth: usize,
    /// A top-level key did not fit: the object takes no more keys.
    truncated: bool,
    /// A nested value outgrew the limit: nothing is kept until its top-level key is
    /// left out.
    overflow: bool,
    /// The object being written already has `_truncated`.
    marked: bool,
    /// Where the keys of the open objects start in `buf`, outermost first.
    keys: Offsets,
    /// The first of `keys` that belongs to the object being written.
    frame: usize,
    /// Some object got a key twice: the text is normalized when finished.
    duplicate: bool,
    dimensions: Promoted,
}

/// Promoted dimensions, in order, in one text: names and values back to back, with where
/// each ends. One allocation for all of them (at the first), none per value: the calling
/// thread reads them back as `&str` slices to emit the call.
#[derive(Debug, Default, Clone, PartialEq)]
struct Promoted {
    text: String,
    /// The end of each name and of each value in `text`, alternately.
    ends: Offsets,
}

impl Promoted {
    /// Adds a dimension; one that would take the text past 4 GiB is left out.
    fn push(&mut self, name: &str, value: &str) {
        let name_end = self.text.len() + name.len();
        let (Ok(name_end), Ok(value_end)) = (
            u32::try_from(name_end),
            u32::try_from(name_end + value.len()),
        ) else {
            return;
        };
        if self.text.is_empty() {
            self.text.reserve(64);
        }
        self.text.push_str(name);
        self.text.push_str(value);
        self.ends.push(name_end);
        self.ends.push(value_end);
    }

    /// The `(name, value)` pairs, in order.
    fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut start = 0;
        let mut index = 0;
        let mut text = move || {
            let end = (index < self.ends.len).then(|| self.ends.get(index))?;
            let slice = self.text.get(start..end)?;
            (start, index) = (end, index + 1);
            Some(slice)
        };
        std::iter::from_fn(move || Some((text()?, text()?)))
    }
}

/// The key added when arguments were left out to keep `toolArgs` within its limit.
const TRUNCATED_KEY: &str = "_truncated";
/// What the marker takes: `,"_truncated":true`.
const MARKER_ROOM: usize = TRUNCATED_KEY.len() + 8;
/// Capacity of a new recorder's buffer: a typical `toolArgs` fits without regrowing.
const INITIAL_CAPACITY: usize = 160;
/// A recorder whose buffer grew past this (a call with huge arguments) is not kept as the
/// thread's spare.
const SPARE_MAX_CAPACITY: usize = 16 * 1024;

thread_local! {
    /// The calling thread's recorder between instrumented calls: its buffers (`toolArgs`,
    /// dimensions) stay allocated, and warm, from one call to the next.
    static SPARE: Cell<Option<ArgsRecorder>> = const { Cell::new(None) };
}

/// A key just written: where its entry starts and whether the object had it already.
#[derive(Clone, Copy)]
struct Entry {
    start: usize,
    duplicate: bool,
}

/// Offsets of keys in the buffer: a few inline, more on the heap.
#[derive(Debug, Default, Clone, PartialEq)]
struct Offsets {
    inline: [u32; 8],
    len: usize,
    spill: Vec<u32>,
}

impl Offsets {
    fn push(&mut self, offset: u32) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = offset,
            None => self.spill.push(offset),
        }
        self.len += 1;
    }

    fn get(&self, index: usize) -> usize {
        let offset = match self.inline.get(index) {
            Some(offset) => *offset,
            None => self.spill[index - self.inline.len()],
        };
        offset as usize
    }

    fn truncate(&mut self, len: usize) {
        if len < self.len {
            self.len = len;
            self.spill.truncate(len.saturating_sub(self.inline.len()));
        }
    }
}

impl ArgsRecorder {
    /// An empty recorder.
    pub fn new() -> Self {
        let mut recorder = ArgsRecorder::default();
        recorder.open();
        recorder
    }

    /// A recorder for an instrumented call, on this thread's spare buffers (a tool called
    /// from inside another finds them taken, and starts with new ones).
    pub(crate) fn for_call() -> Self {
        let Some(spare) = SPARE.take() else {
            return ArgsRecorder::new();
        };
        let (mut buf, mut text) = (spare.buf, spare.dimensions.text);
        buf.clear();
        text.clear();
        let mut recorder = ArgsRecorder {
            buf,
            dimensions: Promoted {
                text,
                ..Promoted::default()
            },
            ..ArgsRecorder::default()
        };
        recorder.open();
        recorder
    }

    /// Keeps this recorder as the thread's spare for the next call, unless its buffers
    /// grew large.
    pub(crate) fn recycle(self) {
        if self.buf.capacity().max(self.dimensions.text.capacity()) <= SPARE_MAX_CAPACITY {
            SPARE.set(Some(self));
        }
    }

    /// Records `key` with the value (left out when the value is absent).
    pub fn allow<V: ArgValue + ?Sized>(&mut self, key: &str, value: &V) {
        if self.stopped() {
            return;
        }
        let entry = self.write_key(key);
        if value.write_arg(&mut ArgWriter { buf: &mut self.buf }) {
            self.keep(entry);
        } else {
            self.rollback(entry.start);
        }
    }

    /// Records `key` with the value and promotes the value to the top-level
    /// dimension `dimension` (`language`, `serviceName`, `planeType`,
    /// `isCustomSdk`, or any other name).
    pub fn allow_dimension<V: ArgValue + ?Sized>(
        &mut self,
        key: &str,
        dimension: &'static str,
        value: &V,
    ) {
        let entry = self.write_key(key);
        let value_at = self.buf.len();
        if !value.write_arg(&mut ArgWriter { buf: &mut self.buf }) {
            self.rollback(entry.start);
            return;
        }
        if let Some(text) = dimension_text(&self.buf[value_at..]) {
            self.dimensions.push(dimension, &text);
        }
        self.keep(entry);
    }

    /// Records that `key` was given (`true`), never its value; an `Option`
    /// that is `None` leaves the key out.
    pub fn presence<V: ArgValue + ?Sized>(&mut self, key: &str, value: &V) {
        if value.is_present() {
            self.given(key);
        }
    }

    /// Records that `key` was given: `"key": true`.
    pub fn given(&mut self, key: &str) {
        if self.stopped() {
            return;
        }
        let entry = self.write_key(key);
        self.buf.push_str("true");
        self.keep(entry);
    }

    /// Records `key` with the SHA-256 of the value, lower-case hex. A string
    /// hashes its UTF-8 bytes; any other value its JSON text.
    pub fn hash<V: ArgValue + ?Sized>(&mut self, key: &str, value: &V) {
        if self.stopped() {
            return;
        }
        self.open();
        let value_at = self.buf.len();
        if !value.write_arg(&mut ArgWriter { buf: &mut self.buf }) {
            self.buf.truncate(value_at);
            return;
        }
        let digest = {
            let text = &self.buf[value_at..];
            match text.as_bytes().first() {
                Some(b'"') => Sha256::digest(unescape(text).as_bytes()),
                _ => Sha256::digest(text.as_bytes()),
            }
        };
        self.buf.truncate(value_at);
        let entry = self.write_key(key);
        self.buf.push('"');
        for byte in digest {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            self.buf.push(char::from(HEX[usize::from(byte >> 4)]));
            self.buf.push(char::from(HEX[usize::from(byte & 0xf)]));
        }
        self.buf.push('"');
        self.keep(entry);
    }

    /// Records the allowed fields of `args` as a nested object under `key`
    /// (left out when nothing was allowed). Its dimensions are promoted.
    ///
    /// Beyond 32 levels
    /// `args` is not read: the key is left out and `"_truncated": true` is added.
    pub fn nested<A: TelemetryArgs + ?Sized>(&mut self, key: &str, args: &A) {
        if self.depth >= limits::TOOL_ARGS_MAX_DEPTH {
            self.mark_truncated();
            return;
        }
        let entry = self.write_key(key);
        self.buf.push('{');
        let inner_at = self.buf.len();
        let outer = (self.frame, self.marked);
        self.frame = self.keys.len;
        self.marked = false;
        self.depth += 1;
        args.record_args(self);
        self.depth -= 1;
        self.keys.truncate(self.frame);
        (self.frame, self.marked) = outer;
        if self.depth == 0 && std::mem::take(&mut self.overflow) {
            // Something inside did not fit: the whole top-level key is left out.
            self.rollback(entry.start);
            self.stop();
            return;
        }
        if self.buf.len() == inner_at {
            self.rollback(entry.start);
            return;
        }
        self.buf.push('}');
        self.keep(entry);
    }

    /// Promotes a value to a top-level dimension without recording it in `toolArgs`.
    pub fn dimension(&mut self, name: &str, value: &str) {
        self.dimensions.push(name, value);
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.buf.len() <= 1
    }

    /// The `toolArgs` JSON object string.
    pub fn json(&self) -> String {
        finish_json(self.buf.clone(), self.duplicate)
    }

    /// The dimensions promoted so far, in order, as `(name, value)`.
    pub fn dimensions(&self) -> impl Iterator<Item = (&str, &str)> {
        self.dimensions.iter()
    }

    /// The JSON object string and the promoted dimensions.
    pub fn into_parts(mut self) -> (String, Vec<(String, String)>) {
        let dimensions = self
            .dimensions
            .iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect();
        self.close();
        (self.buf, dimensions)
    }

    /// Closes the JSON object in place: [`closed_json`](ArgsRecorder::closed_json) and
    /// [`dimensions`](ArgsRecorder::dimensions) are then what the calling thread emits the
    /// call from, borrowed, without a copy. Nothing is recorded after it.
    pub(crate) fn close(&mut self) {
        self.buf = finish_json(std::mem::take(&mut self.buf), self.duplicate);
        self.duplicate = false;
    }

    /// The JSON object's text once [`close`](ArgsRecorder::close)d.
    pub(crate) fn closed_json(&self) -> &str {
        &self.buf
    }

    fn stopped(&self) -> bool {
        self.truncated || self.overflow
    }

    /// Starts the object's text (`{`) on first use.
    fn open(&mut self) {
        if self.buf.is_empty() {
            self.buf.reserve(INITIAL_CAPACITY);
            self.buf.push('{');
        }
    }

    /// Writes `"key":` (after a comma unless the object is empty).
    fn write_key(&mut self, key: &str) -> Entry {
        self.open();
        let start = self.buf.len();
        if self.buf.as_bytes().last() != Some(&b'{') {
            self.buf.push(',');
        }
        let key_at = self.buf.len();
        write_json_str(&mut self.buf, key);
        // JSON string escaping is prefix-free: an earlier key's text starts with this
        // key's quoted text exactly when it is the same key.
        let quoted = &self.buf.as_bytes()[key_at..];
        let duplicate = (self.frame..self.keys.len).any(|index| {
            let at = self.keys.get(index);
            self.buf.as_bytes().get(at..at + quoted.len()) == Some(quoted)
        });
        self.keys.push(u32::try_from(key_at).unwrap_or(u32::MAX));
        self.buf.push(':');
        Entry { start, duplicate }
    }

    /// Removes everything from `start` on, and the keys written there.
    fn rollback(&mut self, start: usize) {
        self.buf.truncate(start);
        while self.keys.len > self.frame && self.keys.get(self.keys.len - 1) >= start {
            self.keys.truncate(self.keys.len - 1);
        }
    }

    /// Keeps the entry just written if the object can still be closed within the limit
    /// with room for the marker; otherwise leaves it out.
    fn keep(&mut self, entry: Entry) {
        if self.stopped() {
            self.rollback(entry.start);
            return;
        }
        // One closing brace per open object.
        if self.buf.len() + self.depth + 1 + MARKER_ROOM > limits::TOOL_ARGS_MAX_BYTES {
            self.rollback(entry.start);
            if self.depth == 0 {
                self.stop();
            } else {
                self.overflow = true;
            }
            return;
        }
        self.duplicate |= entry.duplicate;
    }

    /// The top-level object takes no more keys; `_truncated` says so.
    fn stop(&mut self) {
        self.truncated = true;
        self.mark_truncated();
    }

    /// Adds `"_truncated": true` to the object being written (room for it is always
    /// kept) and records on.
    fn mark_truncated(&mut self) {
        if !std::mem::replace(&mut self.marked, true) {
            let entry = self.write_key(TRUNCATED_KEY);
            self.buf.push_str("true");
            self.duplicate |= entry.duplicate;
        }
    }
}

/// Closes the object's text; with a key recorded twice, the last value replaces the
/// first in its place (as a JSON map insert does).
fn finish_json(mut text: String, duplicate: bool) -> String {
    if text.is_empty() {
        return String::from("{}");
    }
    text.push('}');
    if !duplicate {
        return text;
    }
    serde_json::from_str::<Map<String, Value>>(&text)
        .and_then(|object| serde_json::to_string(&object))
        .unwrap_or(text)
}

/// The text of a JSON string token (quotes included), unescaped.
fn unescape(token: &str) -> Cow<'_, str> {
    if !token.contains('\\') {
        if let Some(inner) = token.get(1..token.len().saturating_sub(1)) {
            return Cow::Borrowed(inner);
        }
    }
    Cow::Owned(serde_json::from_str::<String>(token).unwrap_or_default())
}

/// The text of a promoted dimension, from the value's JSON text: strings as
/// they are, lists joined with commas (`.NET,Java`), other values as their JSON
/// text; `null` promotes nothing.
fn dimension_text(json: &str) -> Option<Cow<'_, str>> {
    match json.as_bytes().first() {
        Some(b'"') => Some(unescape(json)),
        Some(b'n') => None,
        Some(b'[') => serde_json::from_str::<Value>(json)
            .ok()
            .and_then(|value| value_dimension_text(&value))
            .map(Cow::Owned),
        _ => Some(Cow::Borrowed(json)),
    }
}

/// [`dimension_text`] of a parsed value.
fn value_dimension_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(value_dimension_text)
                .collect::<Vec<_>>()
                .join(","),
        ),
        other => Some(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written<V: ArgValue + ?Sized>(value: &V) -> Option<String> {
        let mut buf = String::new();
        value
            .write_arg(&mut ArgWriter { buf: &mut buf })
            .then_some(buf)
    }

    #[test]
    fn written_text_is_the_arg_value_text() {
        fn same<V: ArgValue + ?Sized>(value: &V) {
            assert_eq!(
                written(value),
                value.arg_value().map(|value| value.to_string())
            );
        }
        same("plain");
        same("quote \" backslash \\ newline \n tab \t nul \u{0} é \u{1F600}");
        same(&'"');
        same(&i64::MIN);
        same(&u64::MAX);
        same(&-1i8);
        same(&0u16);
        same(&isize::MAX);
        same(&1.5f64);
        same(&f32::INFINITY);
        same(&u128::MAX);
        same(&true);
        same(&vec![Some("a"), None, Some("b")]);
        same(&Vec::<String>::new());
        same(&[vec![1, 2], vec![]]);
        same(&None::<u8>);
        same(Path::new("a/\"b\""));
        same(&"z".repeat(limits::TOOL_ARGS_MAX_BYTES + 10));
    }

    #[test]
    fn a_key_recorded_twice_keeps_its_place_and_the_last_value() {
        let mut recorder = ArgsRecorder::new();
        recorder.allow("a", "1");
        recorder.allow("b", "2");
        recorder.allow("a", "3");
        recorder.allow("ab", "4");
        assert_eq!(recorder.json(), r#"{"a":"3","b":"2","ab":"4"}"#);
        let mut recorder = ArgsRecorder::new();
        recorder.allow("a", "1");
        recorder.allow("\"a", "2");
        assert_eq!(recorder.json(), r#"{"a":"1","\"a":"2"}"#);
        assert!(!recorder.duplicate);
    }

    #[test]
    fn needs_escape_finds_every_escaped_byte_at_every_position() {
        for len in 0..20 {
            assert!(!needs_escape("a".repeat(len).as_bytes()));
            assert!(!needs_escape("é€😀 ~\u{7f}".repeat(len).as_bytes()));
            for at in 0..len {
                for byte in [b'"', b'\\', 0u8, 0x1f, b'\n'] {
                    let mut text = vec![b'a'; len];
                    text[at] = byte;
                    assert!(needs_escape(&text), "{byte} at {at} of {len}");
                }
                let mut text = vec![0xffu8; len];
                text[at] = b' ';
                assert!(!needs_escape(&text));
            }
        }
    }
}
