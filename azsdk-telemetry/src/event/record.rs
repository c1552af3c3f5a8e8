//! Records: an event with its time, id and the process context.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use uuid::Uuid;

use super::Event;
use crate::context::{ContextSnapshot, SharedContext};
use crate::sanitize::{self, limits};

/// An event as the layer hands it to a [`Sink`](crate::export::Sink): typed,
/// enriched, but not yet scrubbed. The only way to read its data is
/// [`PendingRecord::finish`], so nothing unscrubbed can reach a sink's output.
#[derive(Debug)]
pub struct PendingRecord {
    time: SystemTime,
    /// Boxed: a `ToolExecuted` is ~300 bytes, and the record is moved several times on the
    /// calling thread (into the sink, into the queue's slot); a box moves as one pointer.
    event: Box<Event>,
    context: Arc<ContextSnapshot>,
}

impl PendingRecord {
    /// A record of `event` now, by the context's clock, with its current snapshot.
    pub(crate) fn new(event: Event, context: &SharedContext) -> Self {
        Self::boxed(Box::new(event), context)
    }

    /// [`PendingRecord::new`] for an event already in its box.
    pub(crate) fn boxed(event: Box<Event>, context: &SharedContext) -> Self {
        PendingRecord {
            time: context.now(),
            event,
            context: context.snapshot(),
        }
    }

    /// The event's name, for routing decisions that need no user data.
    pub fn name(&self) -> &'static str {
        self.event.name()
    }

    /// The event, for the framework's own queues (sinks read records through
    /// [`finish`](PendingRecord::finish)).
    pub(crate) fn event(&self) -> &Event {
        &self.event
    }

    #[cfg(test)]
    pub(crate) fn context_for_tests(&self) -> Arc<ContextSnapshot> {
        Arc::clone(&self.context)
    }

    #[cfg(test)]
    pub(crate) fn time_for_tests(&self) -> SystemTime {
        self.time
    }

    /// The record's parts, for a queue that keeps it in another form.
    pub(crate) fn into_parts(self) -> (SystemTime, Box<Event>, Arc<ContextSnapshot>) {
        (self.time, self.event, self.context)
    }

    /// A record put back together from [`into_parts`](PendingRecord::into_parts).
    pub(crate) fn from_parts(
        time: SystemTime,
        event: Box<Event>,
        context: Arc<ContextSnapshot>,
    ) -> Self {
        PendingRecord {
            time,
            event,
            context,
        }
    }

    /// Whether the event reports a failure (sampling keeps every failure).
    pub fn is_failure(&self) -> bool {
        !self.event.success()
    }

    /// Scrubs every user-provided value, applies the length limits and gives
    /// the event its id. This is the single gate between what a tool handed
    /// to the framework and anything that is stored or sent.
    pub fn finish(self) -> Record {
        let PendingRecord {
            time,
            event,
            context,
        } = self;
        let mut event = *event;
        scrub_event(&mut event);
        Record {
            time,
            event,
            event_id: Uuid::new_v4(),
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
    event: Event,
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
    /// Common properties come first, then client and agent, then the event's own.
    /// Absent optional values are left out.
    pub fn properties(&self) -> Vec<(String, String)> {
        self.property_list()
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value.into_owned()))
            .collect()
    }

    /// [`properties`](Record::properties), borrowed from the record where they can be.
    pub(crate) fn property_list(&self) -> Vec<(&str, Cow<'_, str>)> {
        let mut out = PropertyList(Vec::with_capacity(24));
        let ctx = &*self.context;
        out.put("version", &ctx.version);
        out.put("sessionId", &ctx.session_id);
        out.put_owned("eventId", self.event_id.to_string());
        out.put("macAddressHash", &ctx.mac_address_hash);
        out.put("devDeviceId", &ctx.dev_device_id);
        out.put("platform", &ctx.platform);
        out.put("isOptedIn", bool_str(ctx.is_opted_in));
        out.opt("clientName", ctx.client.name.as_deref());
        out.opt("clientVersion", ctx.client.version.as_deref());
        out.opt("agentName", ctx.agent.name.as_deref());
        out.opt("agentVersion", ctx.agent.version.as_deref());
        out.opt("agentModel", ctx.agent.model.as_deref());
        if let Some(event_type) = self.event.event_type() {
            out.put("eventType", event_type);
        }
        match &self.event {
            Event::ToolExecuted(tool) => {
                out.put("toolName", &tool.tool_name);
                out.put("toolCategory", &tool.tool_category);
                out.opt("toolArgs", tool.tool_args.as_deref());
                out.opt("toolResponse", tool.tool_response.as_deref());
                out.opt("language", tool.language.as_deref());
                out.opt("planeType", tool.plane_type.as_deref());
                out.opt("serviceName", tool.service_name.as_deref());
                out.opt("isCustomSdk", tool.is_custom_sdk.map(bool_str));
                out.opt("errorType", tool.error_type.as_deref());
                out.opt("errorMessage", tool.error_message.as_deref());
                let mode = tool.execution_mode.as_deref();
                out.opt("executionMode", mode.or(ctx.execution_mode.as_deref()));
                for (key, value) in &tool.dimensions {
                    out.put(key, value);
                }
            }
            Event::SystemInstalled(installed) => {
                out.opt("installMethod", installed.install_method.as_deref());
            }
            Event::SystemStarted(_) => {}
            Event::SystemStopped(stopped) => {
                let millis = stopped.session_duration.as_millis().to_string();
                out.put_owned("sessionDuration", millis);
                out.put_owned(
                    "toolCallsInSession",
                    stopped.tool_calls_in_session.to_string(),
                );
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
        out.0
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

    fn opt(&mut self, key: &'a str, value: Option<&'a str>) {
        if let Some(value) = value {
            self.put(key, value);
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
            scrub_json_opt(&mut tool.tool_args, limits::TOOL_ARGS_MAX_BYTES);
            scrub_opt(&mut tool.error_message, MESSAGE);
            for value in [
                &mut tool.tool_response,
                &mut tool.language,
                &mut tool.plane_type,
                &mut tool.service_name,
            ] {
                scrub_opt(value, usize::MAX);
            }
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
    /// The memory this record holds: itself, its event's box and every string the event
    /// owns, each counted as the allocator's block for it. What an exporter's queue budget
    /// is counted in (the context is shared, so it is not counted).
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + block(std::mem::size_of::<Event>()) + owned_bytes(&self.event)
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

fn owned_bytes(event: &Event) -> usize {
    let text = |s: &String| block(s.capacity());
    let opt = |s: &Option<String>| s.as_ref().map_or(0, text);
    let cow = |s: &Cow<'static, str>| match s {
        Cow::Borrowed(_) => 0,
        Cow::Owned(s) => text(s),
    };
    match event {
        Event::ToolExecuted(tool) => {
            // A B-tree node per entry is an over-estimate that stays cheap to compute.
            let dimensions: usize = tool
                .dimensions
                .iter()
                .map(|(key, value)| text(key) + text(value) + 64)
                .sum();
            cow(&tool.tool_name)
                + cow(&tool.tool_category)
                + tool.optional_strings().into_iter().map(opt).sum::<usize>()
                + dimensions
        }
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
    fn a_record_counts_its_box_and_every_string_it_owns() {
        let context = SharedContext::new(ContextSnapshot::default());
        let bare = PendingRecord::new(ToolExecuted::default().into(), &context).heap_bytes();
        assert!(bare >= std::mem::size_of::<Event>(), "{bare}");
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
