//! A tool call as the calling thread hands it to a sink: its texts in one allocation.
//!
//! A call's texts (name, category, arguments, dimensions, ...) are copied out of its
//! `tracing` event into one string of the exact size, with the span of each text beside
//! it. Reading the event costs the calling thread one allocation for
//! the texts and one for this record, whatever the number of texts, and a queued call
//! holds about half the memory of a [`ToolExecuted`] with a string per text. The record
//! becomes a [`ToolExecuted`] when [`PendingRecord::finish`](crate::PendingRecord::finish)
//! runs, on the exporter's worker.

use std::cell::Cell;
use std::fmt;
use std::time::Duration;

use tracing::field::{Field, Visit};

use super::fields::from_ms;
use super::tool::{tool_schema, ToolFields};
use super::ToolExecuted;

/// Where a text of a tool call sits in [`PackedTool::texts`]: start and length, or
/// [`ABSENT`].
type Span = (u32, u32);

const ABSENT: Span = (u32::MAX, 0);

thread_local! {
    /// The calling thread's text buffer for reading a tool call's fields.
    static SCRATCH: Cell<String> = const { Cell::new(String::new()) };
}

/// A scratch text larger than this (an event with a huge text) is not kept for the next.
const SCRATCH_MAX_CAPACITY: usize = 16 * 1024;

macro_rules! packed_tool {
    (
        texts { $($text:ident $text_key:literal $scrub:ident,)* }
        flags { $($flag:ident $flag_key:literal,)* }
    ) => {
        /// The texts of a tool call, by their place in [`PackedTool::spans`].
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy)]
        enum Text {
            tool_name,
            tool_category,
            $($text,)*
            /// The custom dimensions' JSON object, parsed when the record is finished.
            dimensions,
        }

        const TEXTS: usize = Text::dimensions as usize + 1;

        impl Text {
            /// The text a `tracing` field carries, by the field's name.
            fn of(field: &str) -> Option<Text> {
                Some(match field {
                    "toolName" => Text::tool_name,
                    "toolCategory" => Text::tool_category,
                    $($text_key => Text::$text,)*
                    "dimensions" => Text::dimensions,
                    _ => return None,
                })
            }
        }

        /// A tool call, read from its `tracing` event: what the calling thread queues.
        #[derive(Clone, Debug)]
        pub(crate) struct PackedTool {
            texts: String,
            spans: [Span; TEXTS],
            duration: Duration,
            success: bool,
            $($flag: Option<bool>,)*
        }

        impl PackedTool {
            /// A tool call's borrowed fields, packed (a tool call built in code, recorded
            /// through the handle).
            pub(crate) fn from_fields(f: &ToolFields<'_>, dimensions: Option<&str>) -> Self {
                let texts = [
                    Some(f.tool_name),
                    Some(f.tool_category),
                    $(f.$text,)*
                    dimensions,
                ];
                let mut packed = PackedTool::with_texts(String::with_capacity(
                    texts.iter().flatten().map(|t| t.len()).sum(),
                ));
                for (slot, text) in texts.into_iter().enumerate() {
                    if let Some(text) = text {
                        packed.put(slot, text);
                    }
                }
                packed.duration = f.duration;
                packed.success = f.success;
                $(packed.$flag = f.$flag;)*
                packed
            }

            /// The event, with a string of its own for each text.
            pub(crate) fn unpack(&self) -> ToolExecuted {
                let text = |slot: Text| self.text(slot as usize).map(str::to_owned);
                ToolExecuted {
                    tool_name: text(Text::tool_name).unwrap_or_default().into(),
                    tool_category: text(Text::tool_category).unwrap_or_default().into(),
                    duration: self.duration,
                    success: self.success,
                    $($text: text(Text::$text),)*
                    $($flag: self.$flag,)*
                    dimensions: self
                        .text(Text::dimensions as usize)
                        .and_then(|json| serde_json::from_str(json).ok())
                        .unwrap_or_default(),
                }
            }
        }

        impl PackedTool {
            fn with_texts(texts: String) -> Self {
                PackedTool {
                    texts,
                    spans: [ABSENT; TEXTS],
                    duration: Duration::ZERO,
                    success: false,
                    $($flag: None,)*
                }
            }
        }

        /// The second pass: copies each text.
        impl Visit for PackedTool {
            fn record_str(&mut self, field: &Field, value: &str) {
                if let Some(slot) = Text::of(field.name()) {
                    self.put(slot as usize, value);
                }
            }

            fn record_bool(&mut self, field: &Field, value: bool) {
                match field.name() {
                    "success" => self.success = value,
                    $($flag_key => self.$flag = Some(value),)*
                    _ => {}
                }
            }

            fn record_f64(&mut self, field: &Field, value: f64) {
                if field.name() == "durationMs" {
                    self.duration = from_ms(value);
                }
            }

            fn record_u64(&mut self, field: &Field, value: u64) {
                self.record_f64(field, value as f64);
            }

            fn record_i64(&mut self, field: &Field, value: i64) {
                self.record_f64(field, value as f64);
            }

            fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
                // `message`, and a text some other emitter recorded through Debug.
                if Text::of(field.name()).is_some() {
                    self.record_str(field, &format!("{value:?}"));
                }
            }
        }
    };
}
tool_schema!(packed_tool);

impl PackedTool {
    /// Reads a tool call's `tracing` event: one pass over its fields into the thread's
    /// scratch text (warm, and already large enough), then one allocation of the exact
    /// size. The scratch is taken out of its cell for the pass, so no borrow is held while
    /// a field's `Debug` runs.
    pub(crate) fn read(event: &tracing::Event<'_>) -> Self {
        let mut packed = PackedTool::with_texts(SCRATCH.take());
        event.record(&mut packed);
        let exact = String::from(packed.texts.as_str());
        let mut scratch = std::mem::replace(&mut packed.texts, exact);
        if scratch.capacity() <= SCRATCH_MAX_CAPACITY {
            scratch.clear();
            SCRATCH.set(scratch);
        }
        packed
    }

    /// Keeps the first value of a text; a text longer than 4 GiB is left out.
    fn put(&mut self, slot: usize, text: &str) {
        if self.spans[slot] != ABSENT {
            return;
        }
        let (Ok(start), Ok(len)) = (u32::try_from(self.texts.len()), u32::try_from(text.len()))
        else {
            return;
        };
        self.texts.push_str(text);
        self.spans[slot] = (start, len);
    }

    fn text(&self, slot: usize) -> Option<&str> {
        let (start, len) = self.spans[slot];
        if start == u32::MAX {
            return None;
        }
        self.texts
            .get(start as usize..start as usize + len as usize)
    }

    pub(crate) fn success(&self) -> bool {
        self.success
    }

    /// The memory the texts hold, as the allocator's block for them.
    pub(crate) fn text_capacity(&self) -> usize {
        self.texts.capacity()
    }
}
