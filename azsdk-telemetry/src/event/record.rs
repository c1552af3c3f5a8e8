//! Records: an event with its time, id and the process context.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::SystemTime;

use uuid::Uuid;

use super::packed::PackedTool;
use super::tool::{tool_schema, ToolFields};
use super::{dimensions_json, Event, ToolExecuted};
use crate::context::{ContextSnapshot, SharedContext};
use crate::sanitize::{self, limits};

/// An event as the layer hands it to a [`Sink`](crate::sink::Sink): typed,
/// enriched, stamped with its time and id, but not yet scrubbed. The only way to read its
/// data is [`PendingRecord::finish`], so nothing unscrubbed can reach a sink's output.
/// Clones finish to the same record (same time, same id), so a sink that fans out to
/// others gives each the same bytes.
#[derive(Debug, Clone)]
pub struct PendingRecord {
    time: SystemTime,
    event_id: Uuid,
    body: Body,
    context: Arc<ContextSnapshot>,
}

/// A pending record's event, as an emitter hands it to the layer. Cheap to clone: each
/// telemetry layer of a subscriber (and each sink a fan-out feeds) gets the same event for
/// the cost of a count.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    /// A tool call (nearly every record): its texts in one shared block, the rest inline.
    Tool(PackedTool),
    /// A lifecycle event.
    Other(Arc<Event>),
}

impl Body {
    /// A tool call's borrowed fields, packed; `dimensions` is the custom dimensions' JSON.
    pub(crate) fn tool(fields: &ToolFields<'_>, dimensions: Option<&str>) -> Body {
        Body::Tool(PackedTool::from_fields(fields, dimensions))
    }
}

impl From<Event> for Body {
    fn from(event: Event) -> Body {
        match event {
            Event::ToolExecuted(tool) => {
                Body::tool(&tool.fields(), dimensions_json(&tool.dimensions).as_deref())
            }
            other => Body::Other(Arc::new(other)),
        }
    }
}

impl PendingRecord {
    /// A record of `event` now, by the context's clock, with its current snapshot.
    pub(crate) fn new(event: Event, context: &SharedContext) -> Self {
        Self::of(event.into(), context)
    }

    /// A record of `body` now, by the context's clock, with its current snapshot.
    pub(crate) fn of(body: Body, context: &SharedContext) -> Self {
        PendingRecord {
            time: context.now(),
            event_id: Uuid::new_v4(),
            body,
            context: context.snapshot(),
        }
    }

    /// The event's name, for routing decisions that need no user data.
    pub fn name(&self) -> &'static str {
        match &self.body {
            Body::Tool(_) => ToolExecuted::NAME,
            Body::Other(event) => event.name(),
        }
    }

    /// Whether the record is a tool call (the layer's counters ask on every call).
    pub(crate) fn is_tool(&self) -> bool {
        matches!(self.body, Body::Tool(_))
    }

    /// Whether the event reports a failure (sampling keeps every failure).
    pub fn is_failure(&self) -> bool {
        match &self.body {
            Body::Tool(tool) => !tool.success(),
            Body::Other(event) => !event.success(),
        }
    }

    /// Scrubs every user-provided value and applies the length limits. This is the single
    /// gate between what a tool handed to the framework and anything that is stored or
    /// sent.
    pub fn finish(self) -> Record {
        let PendingRecord {
            time,
            event_id,
            body,
            context,
        } = self;
        let mut event = match body {
            Body::Tool(tool) => Box::new(Event::ToolExecuted(tool.unpack())),
            Body::Other(event) => Box::new(Arc::unwrap_or_clone(event)),
        };
        scrub_event(&mut event);
        Record {
            time,
            event,
            event_id,
            context,
        }
    }
}

/// A finished, scrubbed event: what sinks store and envelopes are written from.
///
/// ```
/// # use azsdk_telemetry::{Record, Event};
/// fn tool_names(records: &[Record]) -> Vec<&str> {
///     records
///         .iter()
///         .filter_map(|record| record.event().as_tool())
///         .map(|tool| &*tool.tool_name)
///         .collect()
/// }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    time: SystemTime,
    event: Box<Event>,
    event_id: Uuid,
    context: Arc<ContextSnapshot>,
}

impl Record {
    /// When the event happened (wall clock).
    pub fn time(&self) -> SystemTime {
        self.time
    }

    /// The typed event.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The event's name, `ToolExecuted` or `System...`.
    pub fn name(&self) -> &'static str {
        self.event.name()
    }

    /// `eventId`: unique per event.
    pub fn event_id(&self) -> Uuid {
        self.event_id
    }

    /// The process context the layer attached: session, device, platform, client and agent.
    pub fn context(&self) -> &ContextSnapshot {
        &self.context
    }

    /// The spec's `customDimensions`, in a stable order, as the strings that go on the wire.
    ///
    /// The context's common properties come first, then client and agent, then `eventId`
    /// and the event's own. Absent optional values are left out; a key the event sets again
    /// (a promoted dimension named `platform`) keeps its first place and takes the event's
    /// value, so no key appears twice.
    pub fn properties(&self) -> Vec<(String, String)> {
        self.property_list()
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value.into_owned()))
            .collect()
    }

    /// [`properties`](Record::properties), borrowed from the record where they can be.
    pub(crate) fn property_list(&self) -> Vec<(&str, Cow<'_, str>)> {
        let mut out = PropertyList(Vec::with_capacity(24));
        context_properties(&self.context, |key, value| out.put(key, value));
        self.event_properties(|key, value| match value {
            PropertyValue::Str(value) => out.put(key, value),
            other => out.put_owned(key, other.to_string()),
        });
        out.0
    }

    /// The event's own properties, after the context's: `eventId`, `eventType`, then those
    /// of its kind, in wire order. Values are as stored (not yet cut to the property limit).
    pub(crate) fn event_properties<'a>(&'a self, put: impl FnMut(&'a str, PropertyValue<'a>)) {
        let mut out = Put(put, PhantomData);
        out.value("eventId", PropertyValue::Id(self.event_id));
        out.opt("eventType", self.event.event_type());
        match &*self.event {
            Event::ToolExecuted(tool) => {
                tool_properties(tool, &mut out);
                if tool.execution_mode.is_none() {
                    out.opt("executionMode", self.context.execution_mode.as_deref());
                }
                for (key, value) in &tool.dimensions {
                    out.put(key, value);
                }
            }
            Event::SystemInstalled(installed) => {
                out.opt("installMethod", installed.install_method.as_deref());
            }
            Event::SystemStarted(_) => {}
            Event::SystemStopped(stopped) => {
                let millis = stopped.session_duration.as_millis();
                out.value("sessionDuration", PropertyValue::Count(millis));
                let calls = u128::from(stopped.tool_calls_in_session);
                out.value("toolCallsInSession", PropertyValue::Count(calls));
            }
            Event::SystemCrashed(crashed) => {
                out.put("crashReason", &crashed.crash_reason);
                out.opt("errorMessage", crashed.error_message.as_deref());
                out.opt("stackTrace", crashed.stack_trace.as_deref());
            }
            Event::SystemConfigured(configured) => {
                out.put("configChanges", &configured.config_changes);
            }
            Event::SystemUpdated(updated) => {
                out.put("previousVersion", &updated.previous_version);
                out.opt("updateMethod", updated.update_method.as_deref());
            }
        }
    }
}

macro_rules! tool_stages {
    (
        texts { $($text:ident $text_key:literal $scrub:ident,)* }
        flags { $($flag:ident $flag_key:literal,)* }
    ) => {
        /// A tool call's own properties, in wire order.
        fn tool_properties<'a, F: FnMut(&'a str, PropertyValue<'a>)>(
            tool: &'a ToolExecuted,
            out: &mut Put<'a, F>,
        ) {
            out.put("toolName", &tool.tool_name);
            out.put("toolCategory", &tool.tool_category);
            $(out.opt($text_key, tool.$text.as_deref());)*
            $(out.opt($flag_key, tool.$flag.map(bool_str));)*
        }

        /// Scrubs a tool call's texts, each by its rule.
        fn scrub_tool(tool: &mut ToolExecuted) {
            $(scrub_rule!($scrub, &mut tool.$text);)*
        }
    };
}
tool_schema!(tool_stages);

/// How [`scrub_tool`] treats a text, by its rule in `tool_schema!`.
macro_rules! scrub_rule {
    (json, $value:expr) => {
        scrub_json_opt($value, limits::TOOL_ARGS_MAX_BYTES)
    };
    (message, $value:expr) => {
        scrub_opt($value, limits::ERROR_MESSAGE_MAX_BYTES)
    };
    (plain, $value:expr) => {
        scrub_opt($value, usize::MAX)
    };
    (kept, $value:expr) => {{
        let _ = $value;
    }};
}
use scrub_rule;

/// [`Record::event_properties`]'s callback with shorthands for text and optional text.
struct Put<'a, F>(F, PhantomData<&'a str>);

impl<'a, F: FnMut(&'a str, PropertyValue<'a>)> Put<'a, F> {
    fn value(&mut self, key: &'a str, value: PropertyValue<'a>) {
        (self.0)(key, value);
    }

    fn put(&mut self, key: &'a str, value: &'a str) {
        self.value(key, PropertyValue::Str(value));
    }

    fn opt(&mut self, key: &'a str, value: Option<&'a str>) {
        if let Some(value) = value {
            self.put(key, value);
        }
    }
}

/// The context's common properties, client and agent, in wire order: the same for every
/// event with this snapshot. Values are as stored (not yet cut to the property limit).
pub(crate) fn context_properties<'a>(
    ctx: &'a ContextSnapshot,
    mut put: impl FnMut(&'static str, &'a str),
) {
    put("version", &ctx.version);
    put("sessionId", &ctx.session_id);
    put("macAddressHash", &ctx.mac_address_hash);
    put("devDeviceId", &ctx.dev_device_id);
    put("platform", &ctx.platform);
    put("isOptedIn", bool_str(ctx.is_opted_in));
    let optional = [
        ("clientName", &ctx.client.name),
        ("clientVersion", &ctx.client.version),
        ("agentName", &ctx.agent.name),
        ("agentVersion", &ctx.agent.version),
        ("agentModel", &ctx.agent.model),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            put(key, value);
        }
    }
}

/// A property value as [`Record::event_properties`] gives it: text, or what becomes text
/// only when it is written.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PropertyValue<'a> {
    /// Text as stored.
    Str(&'a str),
    /// An id, hyphenated lower-case.
    Id(Uuid),
    /// A count, in decimal.
    Count(u128),
}

impl std::fmt::Display for PropertyValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PropertyValue::Str(text) => f.write_str(text),
            PropertyValue::Id(id) => id.hyphenated().fmt(f),
            PropertyValue::Count(count) => count.fmt(f),
        }
    }
}

fn bool_str(flag: bool) -> &'static str {
    if flag {
        "true"
    } else {
        "false"
    }
}

/// Properties in insertion order; a later key replaces an earlier one, so a
/// promoted dimension can never produce a duplicate key.
struct PropertyList<'a>(Vec<(&'a str, Cow<'a, str>)>);

impl<'a> PropertyList<'a> {
    fn put(&mut self, key: &'a str, value: &'a str) {
        let value = sanitize::truncate_chars(value, limits::PROPERTY_VALUE_MAX_CHARS);
        self.set(key, Cow::Borrowed(value));
    }

    fn put_owned(&mut self, key: &'a str, value: String) {
        let value = match sanitize::truncate_chars(&value, limits::PROPERTY_VALUE_MAX_CHARS) {
            cut if cut.len() == value.len() => value,
            cut => cut.to_owned(),
        };
        self.set(key, Cow::Owned(value));
    }

    fn set(&mut self, key: &'a str, value: Cow<'a, str>) {
        let key = sanitize::truncate_chars(key, limits::PROPERTY_KEY_MAX_CHARS);
        match self.0.iter_mut().find(|(existing, _)| *existing == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }
}

/// Scrubs the user-provided values of an event in place. Messages are cut to
/// 1 KB here; every other value is cut to the property limit (8192
/// characters) when the envelope is written.
fn scrub_event(event: &mut Event) {
    const MESSAGE: usize = limits::ERROR_MESSAGE_MAX_BYTES;
    match event {
        Event::ToolExecuted(tool) => {
            scrub_tool(tool);
            for value in tool.dimensions.values_mut() {
                scrub_in_place(value, usize::MAX);
            }
        }
        Event::SystemInstalled(_) | Event::SystemStarted(_) | Event::SystemStopped(_) => {}
        Event::SystemCrashed(crashed) => {
            scrub_in_place(&mut crashed.crash_reason, MESSAGE);
            scrub_opt(&mut crashed.error_message, MESSAGE);
            scrub_opt(&mut crashed.stack_trace, usize::MAX);
        }
        Event::SystemConfigured(configured) => {
            let mut changes = Some(std::mem::take(&mut configured.config_changes));
            scrub_json_opt(&mut changes, limits::PROPERTY_VALUE_MAX_CHARS);
            configured.config_changes = changes.unwrap_or_default();
        }
        Event::SystemUpdated(_) => {}
    }
}

/// Scrubs a value and cuts it to `max_bytes` on a character boundary.
fn scrub_in_place(value: &mut String, max_bytes: usize) {
    let replacement = match sanitize::scrub_limited(value, max_bytes) {
        Cow::Owned(scrubbed) => Some(scrubbed),
        // Borrowed: unchanged, or only cut short (rare).
        Cow::Borrowed(kept) => (kept.len() != value.len()).then(|| kept.to_owned()),
    };
    if let Some(replacement) = replacement {
        *value = replacement;
    }
}

fn scrub_opt(value: &mut Option<String>, max_bytes: usize) {
    if let Some(value) = value {
        scrub_in_place(value, max_bytes);
    }
}

/// Scrubs the string values inside a JSON document (keys are the framework's
/// own, from annotations). Text that is not JSON is scrubbed as plain text.
fn scrub_json_opt(value: &mut Option<String>, max_bytes: usize) {
    let Some(text) = value.as_mut() else { return };
    // Without escapes every string value stands verbatim in the text: when the
    // scrubber's pre-filter finds nothing anywhere in it, no value can change, and
    // a text within the limit is kept as it is without being parsed.
    if text.len() <= max_bytes && !text.contains('\\') && !sanitize::might_scrub(text) {
        return;
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut json) => {
            let mut changed = scrub_json_value(&mut json);
            if text.len() > max_bytes || changed {
                changed |= fit_json(&mut json, max_bytes);
            }
            if changed {
                *text = json.to_string();
            }
        }
        Err(_) => scrub_in_place(text, max_bytes),
    }
}

/// Returns whether anything changed.
fn scrub_json_value(value: &mut serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(text) => match sanitize::scrub(text) {
            Cow::Owned(scrubbed) => {
                *text = scrubbed;
                true
            }
            Cow::Borrowed(_) => false,
        },
        serde_json::Value::Array(items) => items
            .iter_mut()
            .fold(false, |changed, item| scrub_json_value(item) | changed),
        serde_json::Value::Object(map) => map
            .values_mut()
            .fold(false, |changed, item| scrub_json_value(item) | changed),
        _ => false,
    }
}

/// Keeps a JSON document within `max_bytes` while it stays valid JSON: an
/// object loses its last keys and gains `"_truncated": true`; anything else
/// that is too long becomes that marker object alone. Returns whether it changed.
fn fit_json(json: &mut serde_json::Value, max_bytes: usize) -> bool {
    const MARKER: &str = "_truncated";
    let size = |value: &serde_json::Value| value.to_string().len();
    if size(json) <= max_bytes {
        return false;
    }
    if let serde_json::Value::Object(map) = json {
        map.shift_remove(MARKER);
        map.insert(MARKER.to_owned(), serde_json::Value::Bool(true));
        loop {
            let last = map.keys().rev().find(|key| *key != MARKER).cloned();
            let Some(last) = last else { break };
            map.shift_remove(&last);
            if serde_json::to_string(&*map).map_or(0, |text| text.len()) <= max_bytes {
                return true;
            }
        }
    }
    *json = serde_json::json!({ MARKER: true });
    true
}

impl PendingRecord {
    /// The memory this record holds: itself, its event's shared block and every string the
    /// event owns, each counted as the allocator's block for it. What an exporter's queue budget
    /// is counted in (the context is shared, so it is not counted).
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + match &self.body {
                Body::Tool(tool) => block(ARC_COUNTS + tool.text_len()),
                Body::Other(event) => {
                    block(ARC_COUNTS + std::mem::size_of::<Event>()) + owned_bytes(event)
                }
            }
    }
}

/// The allocator's block for `n` bytes: a header, 16-byte granules, 32 bytes at least
/// (glibc's figures; close enough for a budget elsewhere).
fn block(n: usize) -> usize {
    if n == 0 {
        0
    } else {
        (n + 8).next_multiple_of(16).max(32)
    }
}

/// What an `Arc`'s block holds beside its value: the strong and weak counts.
const ARC_COUNTS: usize = 2 * std::mem::size_of::<usize>();

fn owned_bytes(event: &Event) -> usize {
    let text = |s: &String| block(s.capacity());
    let opt = |s: &Option<String>| s.as_ref().map_or(0, text);
    match event {
        // A tool call is packed (`Body::Tool`), never held as an event.
        Event::ToolExecuted(_) => 0,
        Event::SystemInstalled(installed) => opt(&installed.install_method),
        Event::SystemStarted(_) | Event::SystemStopped(_) => 0,
        Event::SystemCrashed(crashed) => {
            text(&crashed.crash_reason) + opt(&crashed.error_message) + opt(&crashed.stack_trace)
        }
        Event::SystemConfigured(configured) => text(&configured.config_changes),
        Event::SystemUpdated(updated) => {
            text(&updated.previous_version) + opt(&updated.update_method)
        }
    }
}

#[cfg(test)]
mod heap_bytes_tests {
    use super::*;
    use crate::context::{ContextSnapshot, SharedContext};
    use crate::event::ToolExecuted;

    #[test]
    fn a_record_counts_itself_and_its_texts() {
        let context = SharedContext::new(ContextSnapshot::default());
        let bare = PendingRecord::new(ToolExecuted::default().into(), &context).heap_bytes();
        assert!(bare >= std::mem::size_of::<PackedTool>(), "{bare}");
        assert!(
            bare < std::mem::size_of::<Event>(),
            "a packed call is smaller: {bare}"
        );
        let args = "x".repeat(1000);
        let full = ToolExecuted {
            tool_args: Some(args),
            language: Some("Python".into()),
            ..ToolExecuted::default()
        };
        let full = PendingRecord::new(full.into(), &context).heap_bytes();
        assert!(full >= bare + 1000 + 6, "{bare} -> {full}");
        assert!(full <= bare + 1000 + 6 + 64, "{bare} -> {full}");
    }
}
