//! Allowlisted tool arguments: the [`TelemetryArgs`] trait, the value
//! conversion [`ArgValue`] and the [`ArgsRecorder`] that builds `toolArgs`.
//!
//! Nothing is recorded unless an annotation allows it. `#[derive(TelemetryArgs)]`
//! turns field annotations into calls on the recorder, in declaration order:
//!
//! | annotation | what `toolArgs` gets |
//! | --- | --- |
//! | `allow` | the key and the value |
//! | `allow, dimension = "language"` | the same, and the value as a top-level dimension |
//! | `presence` | the key with `true`: that a value was given, never the value |
//! | `hash` | the key with the SHA-256 of the value, lower-case hex |
//! | `skip` or no annotation | nothing, not even the key |
//! | `flatten` | the fields of a nested `TelemetryArgs` value, at this level |
//!
//! An `Option` that is `None` leaves its key out whatever the annotation. A
//! field whose type implements `TelemetryArgs` itself and is marked `allow`
//! is written as a nested JSON object (its promoted dimensions still reach the
//! event); with `flatten` its keys join the parent's object.
//!
//! Values are scrubbed later, when the record is finished; the recorder only
//! bounds sizes so a huge argument never costs a huge allocation.

use std::borrow::Cow;
use std::fmt::Write as _;
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
/// assert_eq!(recorder.dimensions(), [("language".to_string(), ".NET".to_string())]);
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
/// Enums record through `Display` with no further work, or through
/// `#[derive(TelemetryArgs)]`, which writes the variant's name (camelCase
/// unless `rename_all`/`rename` say otherwise) and never reads its fields.
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
pub trait ArgValue {
    /// The value as JSON; `None` when absent (the key is then left out).
    fn arg_value(&self) -> Option<Value>;

    /// Whether a value is there (`false` for `None`), without reading it.
    fn is_present(&self) -> bool {
        true
    }
}

fn bounded_string(text: &str) -> Value {
    Value::String(sanitize::truncate_bytes(text, limits::TOOL_ARGS_MAX_BYTES).to_owned())
}

impl ArgValue for str {
    fn arg_value(&self) -> Option<Value> {
        Some(bounded_string(self))
    }
}
impl ArgValue for String {
    fn arg_value(&self) -> Option<Value> {
        Some(bounded_string(self))
    }
}
impl ArgValue for Cow<'_, str> {
    fn arg_value(&self) -> Option<Value> {
        Some(bounded_string(self))
    }
}
impl ArgValue for char {
    fn arg_value(&self) -> Option<Value> {
        Some(Value::String(self.to_string()))
    }
}
impl ArgValue for Path {
    fn arg_value(&self) -> Option<Value> {
        Some(bounded_string(&self.to_string_lossy()))
    }
}
impl ArgValue for PathBuf {
    fn arg_value(&self) -> Option<Value> {
        self.as_path().arg_value()
    }
}
impl ArgValue for bool {
    fn arg_value(&self) -> Option<Value> {
        Some(Value::Bool(*self))
    }
}

macro_rules! number_arg {
    ($($ty:ty),*) => {$(
        impl ArgValue for $ty {
            fn arg_value(&self) -> Option<Value> {
                Some(Value::from(*self))
            }
        }
    )*};
}
number_arg!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize, f32, f64);

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
}
impl<T: ArgValue> ArgValue for [T] {
    fn arg_value(&self) -> Option<Value> {
        Some(Value::Array(
            self.iter().filter_map(ArgValue::arg_value).collect(),
        ))
    }
}
impl<T: ArgValue> ArgValue for Vec<T> {
    fn arg_value(&self) -> Option<Value> {
        self.as_slice().arg_value()
    }
}
impl<T: ArgValue, const N: usize> ArgValue for [T; N] {
    fn arg_value(&self) -> Option<Value> {
        self.as_slice().arg_value()
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
        }
    )*};
}
forward_value!(&T, &mut T, Box<T>, Rc<T>, Arc<T>);

/// Builds the `toolArgs` JSON object, in the order values are recorded, and
/// collects the dimensions promoted from them.
///
/// The object never grows past
/// [`TOOL_ARGS_MAX_BYTES`](crate::sanitize::limits::TOOL_ARGS_MAX_BYTES): a
/// key that would not fit is left out and `"_truncated": true` is added.
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
    object: Map<String, Value>,
    size: usize,
    truncated: bool,
    /// Nesting level of this recorder's object (0: `toolArgs` itself).
    depth: usize,
    dimensions: Vec<(String, String)>,
}

/// The key added when arguments were left out to keep `toolArgs` within its limit.
const TRUNCATED_KEY: &str = "_truncated";

impl ArgsRecorder {
    /// An empty recorder.
    pub fn new() -> Self {
        ArgsRecorder {
            size: 2, // "{}"
            ..ArgsRecorder::default()
        }
    }

    /// Records `key` with the value (left out when the value is absent).
    pub fn allow<V: ArgValue + ?Sized>(&mut self, key: &str, value: &V) {
        if let Some(value) = value.arg_value() {
            self.insert(key, value);
        }
    }

    /// Records `key` with the value and promotes the value to the top-level
    /// dimension `dimension` (`language`, `serviceName`, `planeType`,
    /// `isCustomSdk`, or any other name).
    pub fn allow_dimension<V: ArgValue + ?Sized>(&mut self, key: &str, dimension: &str, value: &V) {
        if let Some(value) = value.arg_value() {
            if let Some(text) = dimension_text(&value) {
                self.dimension(dimension, text);
            }
            self.insert(key, value);
        }
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
        self.insert(key, Value::Bool(true));
    }

    /// Records `key` with the SHA-256 of the value, lower-case hex. A string
    /// hashes its UTF-8 bytes; any other value its JSON text.
    pub fn hash<V: ArgValue + ?Sized>(&mut self, key: &str, value: &V) {
        if let Some(value) = value.arg_value() {
            let digest = match &value {
                Value::String(text) => sha256_hex(text.as_bytes()),
                other => sha256_hex(other.to_string().as_bytes()),
            };
            self.insert(key, Value::String(digest));
        }
    }

    /// Records the allowed fields of `args` as a nested object under `key`
    /// (left out when nothing was allowed). Its dimensions are promoted.
    ///
    /// Beyond [`TOOL_ARGS_MAX_DEPTH`](crate::sanitize::limits::TOOL_ARGS_MAX_DEPTH) levels
    /// `args` is not read: the key is left out and `"_truncated": true` is added.
    pub fn nested<A: TelemetryArgs + ?Sized>(&mut self, key: &str, args: &A) {
        if self.depth >= limits::TOOL_ARGS_MAX_DEPTH {
            self.mark_truncated();
            return;
        }
        let mut inner = ArgsRecorder {
            depth: self.depth + 1,
            ..ArgsRecorder::new()
        };
        args.record_args(&mut inner);
        self.dimensions.append(&mut inner.dimensions);
        if !inner.object.is_empty() {
            self.insert(key, Value::Object(inner.object));
        }
    }

    /// Promotes a value to a top-level dimension without recording it in `toolArgs`.
    pub fn dimension(&mut self, name: &str, value: impl Into<String>) {
        self.dimensions.push((name.to_owned(), value.into()));
    }

    /// Adds `"_truncated": true` (room for it is always kept) and records on.
    fn mark_truncated(&mut self) {
        if !self.object.contains_key(TRUNCATED_KEY) {
            self.size += TRUNCATED_KEY.len() + 8;
            self.object
                .insert(TRUNCATED_KEY.to_owned(), Value::Bool(true));
        }
    }

    fn insert(&mut self, key: &str, value: Value) {
        if self.truncated {
            return;
        }
        // `"key":value,`, escapes aside: the exact size is checked at the end.
        let grows = key.len() + 4 + value_size(&value);
        if self.size + grows + TRUNCATED_KEY.len() + 8 > limits::TOOL_ARGS_MAX_BYTES {
            self.truncated = true;
            self.object
                .insert(TRUNCATED_KEY.to_owned(), Value::Bool(true));
            return;
        }
        self.size += grows;
        self.object.insert(key.to_owned(), value);
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.object.is_empty()
    }

    /// The `toolArgs` JSON object string.
    pub fn json(&self) -> String {
        object_json(&self.object, self.size)
    }

    /// The dimensions promoted so far, in order, as `(name, value)`.
    pub fn dimensions(&self) -> &[(String, String)] {
        &self.dimensions
    }

    /// The JSON object string and the promoted dimensions.
    pub fn into_parts(self) -> (String, Vec<(String, String)>) {
        (object_json(&self.object, self.size), self.dimensions)
    }
}

/// The object's JSON text, written in one go into a buffer of about its size (through
/// `Display`, serde_json writes token by token through `fmt::Write` and regrows the string).
fn object_json(object: &Map<String, Value>, size: usize) -> String {
    let mut out = Vec::with_capacity(size + 16);
    match serde_json::to_writer(&mut out, object) {
        // serde_json writes UTF-8 only.
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => String::from("{}"),
    }
}

/// The size of a value's JSON text, closely enough to bound the object.
fn value_size(value: &Value) -> usize {
    match value {
        Value::String(text) => text.len() + 2,
        Value::Array(items) => items.iter().map(|item| value_size(item) + 1).sum::<usize>() + 2,
        Value::Object(map) => map
            .iter()
            .map(|(key, item)| key.len() + 4 + value_size(item))
            .sum::<usize>()
            .max(2),
        other => other.to_string().len(),
    }
}

/// The text of a promoted dimension: strings as they are, lists joined with
/// commas (`.NET,Java`), other values as their JSON text; `null` promotes nothing.
fn dimension_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(dimension_text)
                .collect::<Vec<_>>()
                .join(","),
        ),
        other => Some(other.to_string()),
    }
}

/// SHA-256 of `bytes` as lower-case hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn records_in_order_and_leaves_none_out() {
        let mut recorder = ArgsRecorder::new();
        recorder.allow("b", "x");
        recorder.allow("a", &1u8);
        recorder.allow("none", &None::<String>);
        recorder.allow("flag", &Some(true));
        assert_eq!(recorder.json(), r#"{"b":"x","a":1,"flag":true}"#);
    }

    #[test]
    fn hash_matches_the_sha256_test_vector() {
        let mut recorder = ArgsRecorder::new();
        recorder.hash("k", "abc");
        recorder.hash("n", &None::<&str>);
        assert_eq!(
            recorder.json(),
            r#"{"k":"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}"#
        );
    }

    #[test]
    fn presence_never_records_the_value() {
        let mut recorder = ArgsRecorder::new();
        recorder.presence("root", &PathBuf::from("/secret/place"));
        recorder.presence("absent", &None::<PathBuf>);
        assert_eq!(recorder.json(), r#"{"root":true}"#);
    }

    #[test]
    fn dimensions_join_lists_and_skip_absent_values() {
        let mut recorder = ArgsRecorder::new();
        recorder.allow_dimension("languages", "languages", &vec![".NET", "Java"]);
        recorder.allow_dimension("custom", "isCustomSdk", &true);
        recorder.allow_dimension("none", "planeType", &None::<String>);
        assert_eq!(
            recorder.dimensions(),
            [
                ("languages".to_string(), ".NET,Java".to_string()),
                ("isCustomSdk".to_string(), "true".to_string())
            ]
        );
        assert_eq!(
            recorder.json(),
            r#"{"languages":[".NET","Java"],"custom":true}"#
        );
    }

    #[test]
    fn stays_within_the_limit_and_valid_json() {
        let mut recorder = ArgsRecorder::new();
        let big = "x".repeat(3000);
        for i in 0..10 {
            recorder.allow(&format!("k{i}"), big.as_str());
        }
        let json = recorder.json();
        assert!(json.len() <= limits::TOOL_ARGS_MAX_BYTES, "{}", json.len());
        let parsed: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(parsed["_truncated"], json!(true));
        assert_eq!(parsed["k0"], json!(big));
        assert!(parsed.get("k9").is_none());
    }

    #[test]
    fn a_single_huge_value_is_bounded_before_it_is_copied() {
        let huge = "y".repeat(limits::TOOL_ARGS_MAX_BYTES * 4);
        let value = huge.arg_value().unwrap();
        assert_eq!(value.as_str().unwrap().len(), limits::TOOL_ARGS_MAX_BYTES);
        let mut recorder = ArgsRecorder::new();
        recorder.allow("huge", huge.as_str());
        assert_eq!(recorder.json(), r#"{"_truncated":true}"#);
    }

    #[test]
    fn numbers_paths_and_vectors() {
        assert_eq!(u128::MAX.arg_value(), Some(json!(u128::MAX.to_string())));
        assert_eq!(7i128.arg_value(), Some(json!(7)));
        assert_eq!(1.5f64.arg_value(), Some(json!(1.5)));
        assert_eq!(f64::NAN.arg_value(), Some(Value::Null));
        assert_eq!(Path::new("a/b").arg_value(), Some(json!("a/b")));
        assert_eq!(
            vec![Some(1), None, Some(3)].arg_value(),
            Some(json!([1, 3]))
        );
    }

    struct Inner;
    impl TelemetryArgs for Inner {
        fn record_args(&self, recorder: &mut ArgsRecorder) {
            recorder.allow_dimension("lang", "language", "Go");
        }
    }

    #[test]
    fn nested_objects_promote_their_dimensions() {
        let mut recorder = ArgsRecorder::new();
        recorder.nested("inner", &Inner);
        recorder.nested("none", &None::<Inner>);
        assert_eq!(recorder.json(), r#"{"inner":{"lang":"Go"}}"#);
        assert_eq!(recorder.dimensions()[0].1, "Go");
    }
}
